// Session::execute_many / Connection::execute_many (declared in
// db/db/database.cpp): one statement with many parameter rows, through the
// driver's "ilana.batch/1" extension (PostgreSQL: libpq pipeline mode;
// MariaDB: bulk execution; SQLite: one prepared statement per row in one
// transaction), which the plugin adapter (NativeConnection::execute_many)
// calls.
//
// A driver without the extension gets the same contract the slow way: each
// row executed in turn inside one transaction (or a SAVEPOINT inside the
// caller's), so a batch is all or nothing on every driver.
#include "db/pipeline.hpp"

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

namespace ilana::detail {
namespace {

// Per-thread scratch: the rewritten SQL, so a warm batch allocates nothing here.
thread_local std::string t_batch_sql;

// The same contract without the extension: a transaction (or a savepoint
// inside the caller's) around one execution per row.
int64_t run_loop(NativeConnection &conn, bool in_tx, std::string_view sql, const std::vector<Params> &rows,
                 size_t width) {
    if (in_tx) conn.execute("SAVEPOINT ilana_batch", nullptr, 0, 0);
    else conn.begin();
    int64_t total = 0;
    size_t row = 0;
    const size_t row_count = rows.size();
    try {
        for (; row < row_count; ++row) {
            auto res = conn.execute_values(sql, rows[row].data(), width, ILANA_EXEC_CACHE);
            if (res.counts().column_count > 0) res.drain();
            const int64_t n = res.counts().affected_rows;
            if (n > 0) total += n;
        }
    } catch (Error &e) {
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
        // The same object, so the error keeps its type (a UniqueViolation stays one).
        e.add_context("batch row " + std::to_string(row + 1) + " of " + std::to_string(row_count) + ": ");
        throw;
    }
    if (in_tx) conn.execute("RELEASE SAVEPOINT ilana_batch", nullptr, 0, 0);
    else conn.commit();
    return total;
}

} // namespace

ExecResult run_batch(ConnectionState &cs, NativeConnection &conn, bool in_tx, std::string_view sql,
                     const std::vector<Params> &rows) {
    StatementTimer timer(cs, sql, "batch");
    try {
        const size_t width = rewrite_placeholders(sql, conn.placeholder_style(), t_batch_sql);
        for (size_t r = 0; r < rows.size(); ++r)
            if (rows[r].size() != width)
                throw Error("[" + cs.name + "] batch row " + std::to_string(r + 1) + " has " +
                                std::to_string(rows[r].size()) + " parameter(s) but the statement has " +
                                std::to_string(width) + " ? placeholder(s)",
                            ErrorClass::syntax, cs.name);
        ExecResult out;
        out.affected_rows = 0;
        if (!rows.empty())
            out.affected_rows = conn.runs_batches() ? conn.execute_many(t_batch_sql, rows, width)
                                                    : run_loop(conn, in_tx, t_batch_sql, rows, width);
        timer.finish(true);
        return out;
    } catch (Error &e) {
        timer.finish(false);
        conn.set_statement(e, sql);
        report_error(cs, e);
        throw;
    }
}

} // namespace ilana::detail
