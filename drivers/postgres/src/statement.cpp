// statement.cpp — execute: bind, send (prepared or unnamed), first result.
//
// Result format choice (libpq takes ONE resultFormat for all columns):
//  - Cached statements (ILANA_EXEC_CACHE, not pgbouncer) are prepared and
//    described once; when every result column is binary-decodable (ints,
//    floats, bool, numeric, text types, bytea, date/time/timestamp(tz), uuid,
//    json/jsonb) executions ask for binary, which skips number and date
//    parsing; one column outside that set (arrays, interval, enums, ...) makes
//    the statement text format, so "everything else is TEXT" keeps the
//    server's own spelling.
//  - Uncached statements are text format: their column types are unknown
//    until the first row arrives, and a Describe round trip per execution
//    would cost more than parsing text (the decoders in types.cpp parse
//    integers, floats and ISO dates without allocating).
#include "statement.hpp"

#include "connection.hpp"
#include "errors.hpp"
#include "result.hpp"

#include <ilana/sdk/driver_support.hpp>
#include <ilana/sdk/sql_text.hpp>

#include <cstring>

namespace ilana::drivers::postgres {

using ilana::sdk::DriverFailure;

namespace {

constexpr uint32_t kMaxParams = 65535; // the protocol's Int16 parameter count
// Up to this many rows last time, a whole-result read skips single-row mode
// (measured: 200 000 rows in one PGresult read 20% slower than row by row).
constexpr int64_t kWholeResultRows = 1000;

// Whether result_close may cancel instead of reading leftover rows: only for
// reads, and only outside a transaction block (a cancel there would abort
// the caller's transaction). The keyword test waits until a result is
// really abandoned (Result::finish): most are read to the end.
CancelOnClose cancel_on_close(uint32_t flags, PGTransactionStatusType txn) {
    if (txn != PQTRANS_IDLE) return CancelOnClose::never;
    if ((flags & ILANA_EXEC_READ_ONLY) != 0) return CancelOnClose::yes;
    return CancelOnClose::if_query;
}

void drain(PGconn *pg) noexcept {
    while (PGresult *r = PQgetResult(pg)) PQclear(r);
}

// COPY through execute has no data channel in this ABI: end it cleanly.
void abort_copy(PGconn *pg, ExecStatusType st) noexcept {
    if (st == PGRES_COPY_IN) {
        (void)PQputCopyEnd(pg, "COPY FROM STDIN is not supported through ilana execute");
    } else if (st == PGRES_COPY_OUT) {
        char *buf = nullptr;
        while (PQgetCopyData(pg, &buf, 0) > 0) PQfreemem(buf);
    }
    drain(pg);
}

} // namespace

bool is_query_text(std::string_view sql) noexcept {
    return ilana::sdk::LeadingKeyword(sql).is_any({"select", "values", "table", "show"});
}

ilana_value text_param(const char *s) {
    ilana_value v{};
    v.type = ILANA_TYPE_TEXT;
    if (s == nullptr) {
        v.is_null = 1;
    } else {
        v.v.str.ptr = s;
        v.v.str.len = std::strlen(s);
    }
    return v;
}

ilana_value int_param(int64_t i) {
    ilana_value v{};
    v.type = ILANA_TYPE_INT64;
    v.v.i64 = i;
    return v;
}

std::unique_ptr<Result> execute(Connection &conn, const ilana_statement &st) {
    if (!ILANA_COVERS(st.struct_size, ilana_statement, value_size))
        throw DriverFailure(ILANA_ERR_INTERNAL, "execute: ilana_statement.struct_size is too small");
    const uint32_t flags =
        ILANA_COVERS(st.struct_size, ilana_statement, flags) ? st.flags : 0u;
    if (st.sql == nullptr && st.sql_len > 0) throw DriverFailure(ILANA_ERR_INTERNAL, "execute: sql is NULL");
    const std::string_view sql(st.sql == nullptr ? "" : st.sql, static_cast<size_t>(st.sql_len));
    if (sql.find('\0') != std::string_view::npos)
        throw DriverFailure(ILANA_ERR_SYNTAX, "the SQL text contains a zero byte");
    if (st.param_count > kMaxParams)
        throw DriverFailure(ILANA_ERR_INTERNAL, "too many parameters: " + std::to_string(st.param_count) +
                                                    " (PostgreSQL allows 65535 per statement)");
    if (st.param_count > 0 && (st.params == nullptr || st.value_size < sizeof(ilana_value)))
        throw DriverFailure(ILANA_ERR_INTERNAL, "execute: params is NULL or value_size is too small");

    const int64_t timeout_ms = ilana::sdk::statement_timeout_ms(st);
    // First: a failure from here on is this statement's (and a deadline
    // left from the last one is forgotten).
    conn.start_deadline(timeout_ms);
    conn.ensure_usable();
    conn.flush_deallocations();
    conn.bound.bind(st.params, st.param_count, st.value_size);
    conn.sql_buf.assign(sql.data(), sql.size());

    PGconn *pg = conn.pg();
    const BoundParams &bp = conn.bound;
    // libpq 15 refuses protocol messages over 30000 bytes of types it does
    // not expect to be long, and ParameterDescription (4 bytes a parameter)
    // is one of them: describing a prepared statement with more than ~7490
    // parameters "loses synchronization". Such statements (batched inserts)
    // take the unnamed path, which never asks for a ParameterDescription.
    constexpr uint32_t kMaxCachedParams = 7000;
    const bool use_cache = (flags & ILANA_EXEC_CACHE) != 0 && conn.statement_cache_enabled() &&
                           st.param_count <= kMaxCachedParams;
    const CancelOnClose may_cancel = cancel_on_close(flags, PQtransactionStatus(pg));
    conn.cancel_requested.store(false);

    for (int attempt = 0;; ++attempt) {
        int sent;
        CachedStatement *cs = nullptr;
        if (use_cache) {
            cs = conn.prepared(conn.sql_buf, bp);
            conn.note_effect(cs->effect);
            sent = PQsendQueryPrepared(pg, cs->name.c_str(), bp.count, bp.values.data(), bp.lengths.data(),
                                       bp.formats.data(), cs->result_format);
        } else {
            if (attempt == 0) conn.note_effect(session_effect(sql));
            // Unnamed statement: nothing stays on the server (PgBouncer-safe).
            sent = PQsendQueryParams(pg, conn.sql_buf.c_str(), bp.count, bp.types.data(), bp.values.data(),
                                     bp.lengths.data(), bp.formats.data(), 0);
        }
        if (sent == 0) throw failure_from_conn(pg);
        // Single-row mode (a PGresult per row) keeps a big result's memory
        // bounded and its working set in cache. A result the host reads
        // whole anyway, of a statement that returned few rows last time,
        // comes in one PGresult instead: one allocation and copy of the row
        // description rather than two per row (a point select's cost).
        const bool whole = (flags & ILANA_EXEC_WHOLE_RESULT) != 0 && cs != nullptr && cs->last_rows >= 0 &&
                           cs->last_rows <= kWholeResultRows;
        if (!whole) (void)PQsetSingleRowMode(pg);

        PGresult *first = PQgetResult(pg);
        if (first == nullptr) throw failure_from_conn(pg);
        const ExecStatusType status = PQresultStatus(first);
        switch (status) {
        case PGRES_SINGLE_TUPLE:
        case PGRES_TUPLES_OK: {
            std::unique_ptr<Result> result = conn.take_result(sql, may_cancel);
            result->start_rows(first, cs);
            conn.open_result = result.get();
            return result;
        }
        case PGRES_COMMAND_OK:
        case PGRES_EMPTY_QUERY: {
            PgResultPtr holder(first);
            drain(pg);
            conn.end_deadline(); // nothing more to wait for
            std::unique_ptr<Result> result = conn.take_result(sql, CancelOnClose::never);
            result->start_command(first);
            conn.open_result = result.get();
            return result;
        }
        case PGRES_COPY_IN:
        case PGRES_COPY_OUT:
        case PGRES_COPY_BOTH: {
            PQclear(first);
            abort_copy(pg, status);
            throw DriverFailure(ILANA_ERR_INTERNAL, "COPY FROM STDIN / TO STDOUT is not supported through execute");
        }
        default: break;
        }

        PgResultPtr error(first);
        drain(pg); // transaction status is final only after ReadyForQuery
        const char *state = PQresultErrorField(error.get(), PG_DIAG_SQLSTATE);
        const bool stale_plan =
            use_cache && state != nullptr && (std::strcmp(state, "26000") == 0 || std::strcmp(state, "0A000") == 0);
        if (stale_plan) {
            // 26000: the statement vanished (DEALLOCATE ALL, DISCARD ALL);
            // 0A000: "cached plan must not change result type" after DDL.
            // Forget it; re-prepare once when no transaction was aborted by
            // the failure (in autocommit the failed run changed nothing).
            conn.forget_prepared(conn.sql_buf, bp, std::strcmp(state, "0A000") == 0);
            if (attempt == 0 && PQstatus(pg) == CONNECTION_OK && PQtransactionStatus(pg) == PQTRANS_IDLE)
                continue;
        }
        throw failure_from_result(error.get(), pg, ErrorContext{conn.cancel_requested.load()});
    }
}

std::unique_ptr<Result> execute_sql(Connection &conn, std::string_view sql,
                                    const std::vector<ilana_value> &params, uint32_t flags) {
    ilana_statement st{};
    st.struct_size = sizeof st;
    st.sql = sql.data();
    st.sql_len = sql.size();
    st.params = params.empty() ? nullptr : params.data();
    st.param_count = static_cast<uint32_t>(params.size());
    st.value_size = sizeof(ilana_value);
    st.flags = flags;
    return execute(conn, st);
}

} // namespace ilana::drivers::postgres
