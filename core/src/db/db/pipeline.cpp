// Session::execute_many / Connection::execute_many: one statement with many
// parameter rows, over the driver's "ilana.batch/1" extension (PostgreSQL:
// libpq pipeline mode; MariaDB: bulk execution; SQLite: one prepared
// statement per row in one transaction).
//
// A driver without the extension gets the same contract the slow way: each
// row executed in turn inside one transaction (or a SAVEPOINT inside the
// caller's), so a batch is all or nothing on every driver.
#include <ilana/database.hpp>
#include <ilana/logging.hpp>
#include <ilana/retry.hpp>

#include "db/database_state.hpp"
#include "db/placeholders.hpp"
#include "db/statement_events.hpp"
#include "db/statement_retry.hpp"
#include "plugins/native_connection.hpp"
#include "pool/pool.hpp"
#include "db/sticky.hpp"

#include <spdlog/spdlog.h>

#include <chrono>
#include <cstring>

namespace ilana {
namespace detail {
namespace {

// Per-thread scratch: the rewritten SQL and the flattened parameter rows
// (row-major ilana_values), so a warm batch allocates nothing here.
thread_local std::string t_batch_sql;
thread_local std::vector<ilana_value> t_batch_params;

// Runs `sql` (driver placeholder style) with `row_count` rows of `width`
// parameters through the driver's batch extension. Returns affected rows.
int64_t run_extension(NativeConnection &conn, const ilana_batch_api &api, std::string_view sql,
                      const ilana_value *params, size_t width, size_t row_count) {
    ilana_batch_statement st{};
    st.struct_size = sizeof st;
    st.sql = sql.data();
    st.sql_len = sql.size();
    st.params = params;
    st.param_count = static_cast<uint32_t>(width);
    st.value_size = sizeof(ilana_value);
    st.row_count = row_count;
    st.flags = ILANA_EXEC_CACHE;
    ilana_batch_outcome out{};
    out.struct_size = sizeof out;
    out.affected_rows = -1;
    out.failed_row = -1;
    ilana_error err = detail::fresh_error();
    if (api.execute_many(conn.handle(), &st, &out, &err) != ILANA_OK) {
        if (err.error_class == ILANA_ERR_NONE) {
            err.error_class = ILANA_ERR_INTERNAL;
            std::strcpy(err.message, "execute_many failed without an error record");
        }
        conn.fail(err, "batch failed");
    }
    return out.affected_rows;
}

// The same contract without the extension: a transaction (or a savepoint
// inside the caller's) around one execution per row.
int64_t run_loop(NativeConnection &conn, bool in_tx, std::string_view sql, const ilana_value *params, size_t width,
                 size_t row_count) {
    if (in_tx) conn.execute("SAVEPOINT ilana_batch", nullptr, 0, 0);
    else conn.begin();
    int64_t total = 0;
    size_t row = 0;
    try {
        for (; row < row_count; ++row) {
            auto res = conn.execute(sql, params + row * width, width, ILANA_EXEC_CACHE);
            ilana_batch b{};
            if (res.info().column_count > 0)
                while (res.fetch(b, 1024)) {
                }
            const int64_t n = res.info().affected_rows;
            if (n > 0) total += n;
        }
    } catch (const Error &e) {
        try {
            if (in_tx) {
                conn.execute("ROLLBACK TO SAVEPOINT ilana_batch", nullptr, 0, 0);
                conn.execute("RELEASE SAVEPOINT ilana_batch", nullptr, 0, 0);
            } else {
                conn.rollback();
            }
        } catch (...) {
            if (!in_tx) conn.mark_broken(); // never back to the pool mid-transaction
        }
        throw Error("batch row " + std::to_string(row + 1) + " of " + std::to_string(row_count) + ": " +
                        std::string(e.what()),
                    e.error_class(), e.connection(), e.sqlstate(), e.native_code(), e.flags());
    }
    if (in_tx) conn.execute("RELEASE SAVEPOINT ilana_batch", nullptr, 0, 0);
    else conn.commit();
    return total;
}

} // namespace
} // namespace detail

ExecResult Session::execute_many(std::string_view sql, const std::vector<Params> &rows) {
    detail::ConnectionState &cs = *state_;
    detail::StatementTimer timer(cs, sql, "batch");
    try {
        const size_t width = detail::rewrite_placeholders(sql, pc_->conn->placeholder_style(), detail::t_batch_sql);
        for (size_t r = 0; r < rows.size(); ++r)
            if (rows[r].size() != width)
                throw Error("[" + cs.name + "] batch row " + std::to_string(r + 1) + " has " +
                                std::to_string(rows[r].size()) + " parameter(s) but the statement has " +
                                std::to_string(width) + " ? placeholder(s): " + std::string(sql.substr(0, 200)),
                            ErrorClass::syntax, cs.name);
        ExecResult out;
        out.affected_rows = 0;
        if (!rows.empty()) {
            auto &flat = detail::t_batch_params;
            flat.resize(rows.size() * width);
            ilana_value *dst = flat.data();
            for (const Params &row : rows)
                for (const Value &v : row) *dst++ = v.abi();
            detail::NativeConnection &conn = *pc_->conn;
            const auto *api = conn.driver().extension<ilana_batch_api>(ILANA_EXT_BATCH);
            const bool usable = api != nullptr && api->struct_size >= offsetof(ilana_batch_api, execute_many) +
                                                                        sizeof api->execute_many &&
                                api->execute_many != nullptr;
            out.affected_rows = usable ? detail::run_extension(conn, *api, detail::t_batch_sql, flat.data(), width,
                                                               rows.size())
                                       : detail::run_loop(conn, in_tx_, detail::t_batch_sql, flat.data(), width,
                                                          rows.size());
            // A huge batch should not pin its memory to this thread forever.
            if (flat.capacity() > (1u << 20)) std::vector<ilana_value>().swap(flat);
        }
        timer.finish(true);
        return out;
    } catch (const Error &e) {
        timer.finish(false);
        detail::report_error(cs, e);
        throw;
    }
}

// Retried as any statement on an auto-leased session (db/statement_retry):
// the batch is atomic, so a transient refusal applied none of its rows, and
// after a lost connection only a batch that never left is sent again.
ExecResult Connection::execute_many(std::string_view sql, const std::vector<Params> &rows) const {
    detail::ConnectionState &cs = *state_;
    detail::note_write(cs);
    return detail::with_statement_retry(cs, sql, [this] { return lease_for_call(); },
                                        [&](Session &s) { return s.execute_many(sql, rows); });
}

} // namespace ilana
