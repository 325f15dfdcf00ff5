// statement.cpp — Connection::execute: bind, send (prepared or unnamed),
// first result.
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
    return text_param(s != nullptr ? std::optional<std::string_view>(s) : std::nullopt);
}

ilana_value text_param(std::optional<std::string_view> s) {
    ilana_value v{};
    v.type = ILANA_TYPE_TEXT;
    if (!s) {
        v.is_null = 1;
    } else {
        v.v.str.ptr = s->data();
        v.v.str.len = s->size();
    }
    return v;
}

ilana_value int_param(int64_t i) {
    ilana_value v{};
    v.type = ILANA_TYPE_INT64;
    v.v.i64 = i;
    return v;
}

std::unique_ptr<Result> Connection::execute(const sdk::Statement &stmt) {
    try {
        return run(stmt);
    } catch (const DriverFailure &f) {
        throw deadline_failure(f); // a timeout, when the deadline explains it
    }
}

std::unique_ptr<Result> Connection::execute_sql(std::string_view sql, const std::vector<ilana_value> &params,
                                                uint32_t flags) {
    sdk::Statement st;
    st.sql = sql;
    st.params = sdk::Params(params.empty() ? nullptr : params.data(), static_cast<uint32_t>(params.size()),
                            sizeof(ilana_value));
    st.flags = flags;
    return execute(st);
}

std::unique_ptr<Result> Connection::take_result(std::string_view sql, CancelOnClose may_cancel) {
    std::unique_ptr<Result> r = reuse_result<Result>();
    if (!r) r = std::make_unique<Result>(*this);
    r->start(sql, may_cancel);
    return r;
}

std::unique_ptr<Result> Connection::execute(Prepared &prepared, const sdk::Statement &stmt) {
    try {
        return run(stmt, &prepared);
    } catch (const DriverFailure &f) {
        throw deadline_failure(f);
    }
}

std::unique_ptr<Prepared> Connection::prepare(std::string_view sql) {
    ensure_usable();
    flush_deallocations();
    if (sql.find('\0') != std::string_view::npos)
        throw DriverFailure(ILANA_ERR_SYNTAX, "the SQL text contains a zero byte", {}, 0, ILANA_ERRF_NOT_SENT);
    std::string text(sql);
    PGconn *pg = pg_;
    if (PQenterPipelineMode(pg) != 1) throw failure_from_conn(pg);
    const bool sent = PQsendPrepare(pg, "", text.c_str(), 0, nullptr) == 1 && PQsendDescribePrepared(pg, "") == 1 &&
                      PQpipelineSync(pg) == 1;
    // Parse's result, Describe's (PIPELINE_ABORTED after a failed Parse),
    // each followed by NULL, then the Sync.
    PgResultPtr parsed, described, synced;
    if (sent) {
        parsed.reset(PQgetResult(pg));
        if (parsed) (void)PQgetResult(pg);
        described.reset(PQgetResult(pg));
        if (described) (void)PQgetResult(pg);
        synced.reset(PQgetResult(pg));
    }
    const bool complete = sent && parsed && described && synced && PQresultStatus(synced.get()) == PGRES_PIPELINE_SYNC;
    if (PQexitPipelineMode(pg) != 1 || !complete) {
        mark_broken(); // the protocol state is unknown: never reused
        throw failure_from_conn(pg, ILANA_ERRF_CONN_BROKEN);
    }
    const ErrorContext ctx{cancel_requested.load()};
    if (PQresultStatus(parsed.get()) != PGRES_COMMAND_OK) throw failure_from_result(parsed.get(), pg, ctx);
    if (PQresultStatus(described.get()) != PGRES_COMMAND_OK) throw failure_from_result(described.get(), pg, ctx);
    const int params = PQnparams(described.get());
    return std::make_unique<Prepared>(*this, std::move(text), static_cast<uint32_t>(params));
}

Prepared::~Prepared() {
    if (!stmt.name.empty()) conn.release_statement(std::move(stmt.name));
}

void Connection::release_statement(std::string name) noexcept {
    try {
        pending_deallocate_.push_back(std::move(name));
    } catch (...) {
        // out of memory: the statement stays on the server until the session ends
    }
}

CachedStatement *Connection::statement_for(Prepared &handle, const BoundParams &params) {
    if (!handle.stmt.name.empty()) {
        if (handle.signature == params.signature) return &handle.stmt;
        return prepared(handle.sql, params); // other parameter types than the first run's
    }
    handle.stmt = prepare_named(handle.sql, params);
    handle.signature = params.signature;
    return &handle.stmt;
}

std::unique_ptr<Result> Connection::run(const sdk::Statement &st, Prepared *handle) {
    const uint32_t flags = st.flags;
    const std::string_view sql = handle != nullptr ? std::string_view(handle->sql) : st.sql;
    if (sql.find('\0') != std::string_view::npos)
        throw DriverFailure(ILANA_ERR_SYNTAX, "the SQL text contains a zero byte");
    if (st.params.size() > kMaxParams)
        throw DriverFailure(ILANA_ERR_INTERNAL, "too many parameters: " + std::to_string(st.params.size()) +
                                                    " (PostgreSQL allows 65535 per statement)");

    // First: a failure from here on is this statement's (and a deadline
    // left from the last one is forgotten).
    start_deadline(st.timeout_ms);
    ensure_usable();
    flush_deallocations();
    bound.bind(st.params.data(), st.params.size(), st.params.stride());
    if (handle == nullptr) sql_buf.assign(sql.data(), sql.size());
    const std::string &text = handle != nullptr ? handle->sql : sql_buf; // NUL-terminated

    PGconn *pg = pg_;
    const BoundParams &bp = bound;
    // libpq 15 refuses protocol messages over 30000 bytes of types it does
    // not expect to be long, and ParameterDescription (4 bytes a parameter)
    // is one of them: describing a prepared statement with more than ~7490
    // parameters "loses synchronization". Such statements (batched inserts)
    // take the unnamed path, which never asks for a ParameterDescription.
    constexpr uint32_t kMaxCachedParams = 7000;
    const bool use_cache = (handle != nullptr || (flags & ILANA_EXEC_CACHE) != 0) && statement_cache_enabled() &&
                           st.params.size() <= kMaxCachedParams;
    const CancelOnClose may_cancel = cancel_on_close(flags, PQtransactionStatus(pg));
    cancel_requested.store(false);

    for (int attempt = 0;; ++attempt) {
        int sent;
        CachedStatement *cs = nullptr;
        if (use_cache) {
            cs = handle != nullptr ? statement_for(*handle, bp) : prepared(text, bp);
            note_effect(cs->effect);
            sent = PQsendQueryPrepared(pg, cs->name.c_str(), bp.count, bp.values.data(), bp.lengths.data(),
                                       bp.formats.data(), cs->result_format);
        } else {
            if (attempt == 0) note_effect(session_effect(sql));
            // Unnamed statement: nothing stays on the server (PgBouncer-safe).
            sent = PQsendQueryParams(pg, text.c_str(), bp.count, bp.types.data(), bp.values.data(),
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
            std::unique_ptr<Result> result = take_result(sql, may_cancel);
            result->start_rows(first, cs);
            // The deadline stops the statement on the server (start_deadline);
            // rows it sent in time are the host's however late it fetches.
            result->end_timeout();
            return result;
        }
        case PGRES_COMMAND_OK:
        case PGRES_EMPTY_QUERY: {
            PgResultPtr holder(first);
            drain(pg);
            end_deadline(); // nothing more to wait for
            std::unique_ptr<Result> result = take_result(sql, CancelOnClose::never);
            result->start_command(first);
            result->end_timeout(); // done within its timeout
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
            const bool dealloc = std::strcmp(state, "0A000") == 0;
            if (handle != nullptr && cs == &handle->stmt) {
                std::string name = std::move(handle->stmt.name);
                handle->stmt = CachedStatement{};
                if (dealloc) deallocate(name);
            } else {
                forget_prepared(text, bp, dealloc);
            }
            if (attempt == 0 && PQstatus(pg) == CONNECTION_OK && PQtransactionStatus(pg) == PQTRANS_IDLE)
                continue;
        }
        throw failure_from_result(error.get(), pg, ErrorContext{cancel_requested.load()});
    }
}

} // namespace ilana::drivers::postgres
