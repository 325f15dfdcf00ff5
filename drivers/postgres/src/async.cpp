// async.cpp — "ilana.async/1": the non-blocking connect and statements in
// libpq pipeline mode, driven by the host's event loop.
//
// Each statement goes out as [Parse] Bind/Execute Sync: its own Sync makes
// it succeed or fail alone (an error aborts the pipeline only up to the next
// Sync), so a pipeline means exactly what the same statements run one by
// one mean, only without a round trip each. What comes back for one
// statement, through PQgetResult:
//
//   [Parse: COMMAND_OK or an error, NULL]   the first run of a handle
//   the statement's result, NULL            TUPLES_OK / COMMAND_OK / an error
//                                           (PIPELINE_ABORTED after a failed Parse)
//   PIPELINE_SYNC                           the end: the transaction status is final
//
// A statement completes at its PIPELINE_SYNC, so an error's TXN_ABORTED
// flag reads the status the server reported with ReadyForQuery.
//
// Results are whole (no single-row mode): the rows arrive while the host
// polls, and fetch hands them out from the PGresult without I/O.
#include "connection.hpp"
#include "errors.hpp"
#include "result.hpp"
#include "statement.hpp"

#include <ilana/sdk/sql_text.hpp>

#include <cstring>
#include <poll.h>

namespace ilana::drivers::postgres {

using ilana::sdk::AsyncPoll;
using ilana::sdk::AsyncWait;
using ilana::sdk::DriverFailure;

namespace {

int64_t remaining_ms(std::chrono::steady_clock::time_point deadline) {
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now()).count();
    return left < 0 ? 0 : static_cast<int64_t>(left);
}

} // namespace

// ----------------------------------------------------------------------------
// Connecting

std::unique_ptr<Connection> Connection::connect_start(sdk::ConnectParams &params) {
    // Notices while connecting go through the connection's own log(): the
    // parameters live only for the connect_start call.
    return start_connect(params);
}

bool Connection::connect_step(AsyncWait &wait, bool socket_ready) {
    // Before the first PQconnectPoll libpq is "as if it returned
    // PGRES_POLLING_WRITING" (its docs): the socket must be writable first.
    if (socket_ready && connect_status_ != PGRES_POLLING_OK && connect_status_ != PGRES_POLLING_FAILED) {
        // PQconnectPoll only when the socket is ready for what it waits
        // for: the host may call early (its timer, a spurious wake-up), and
        // libpq takes a call as "ready" (a connect still in progress would
        // look established).
        pollfd p{PQsocket(pg_), static_cast<short>(connect_status_ == PGRES_POLLING_READING ? POLLIN : POLLOUT), 0};
        const bool ready = p.fd < 0 || ::poll(&p, 1, 0) > 0; // no socket: PQconnectPoll reports why
        if (ready) connect_status_ = PQconnectPoll(pg_);
        else if (cfg_.timeout_ms > 0 && std::chrono::steady_clock::now() >= connect_deadline_)
            throw connect_timeout_failure();
    }
    if (connect_status_ == PGRES_POLLING_FAILED) throw failure_from_connect(pg_, cfg_.password);
    if (connect_status_ == PGRES_POLLING_OK) {
        finish_connect();
        return true;
    }
    const int fd = PQsocket(pg_); // may change between hosts of a list
    if (fd < 0) throw failure_from_connect(pg_, cfg_.password);
    wait.fd = fd;
    wait.events = connect_status_ == PGRES_POLLING_READING ? ILANA_WAIT_READ : ILANA_WAIT_WRITE;
    wait.timeout_ms = cfg_.timeout_ms > 0 ? remaining_ms(connect_deadline_) : -1;
    return false;
}

// ----------------------------------------------------------------------------
// Statements

void Connection::async_submit(const sdk::Statement &st, Prepared *handle) {
    if (broken_ || PQstatus(pg_) == CONNECTION_BAD)
        throw DriverFailure(ILANA_ERR_CONNECTION,
                            "the PostgreSQL connection is broken (lost server or timed out): discard it", "", 0,
                            ILANA_ERRF_CONN_BROKEN);
    const std::string_view sql = handle != nullptr ? std::string_view(handle->sql) : st.sql;
    if (sql.find('\0') != std::string_view::npos)
        throw DriverFailure(ILANA_ERR_SYNTAX, "the SQL text contains a zero byte");
    if (st.params.size() > 65535)
        throw DriverFailure(ILANA_ERR_INTERNAL, "too many parameters: " + std::to_string(st.params.size()) +
                                                    " (PostgreSQL allows 65535 per statement)");
    bound.bind(st.params.data(), st.params.size(), st.params.stride());
    if (!pipeline_) {
        // Deallocations left by released handles wait for the next blocking
        // statement (flush_deallocations): each is a round trip of its own.
        switch (PQtransactionStatus(pg_)) {
        case PQTRANS_INTRANS: txn_ = TxnState::block; break;
        case PQTRANS_INERROR: txn_ = TxnState::aborted; break;
        default: txn_ = TxnState::idle; break;
        }
        if (PQsetnonblocking(pg_, 1) != 0 || PQenterPipelineMode(pg_) != 1) throw failure_from_conn(pg_);
        pipeline_ = true;
    }
    AsyncStatement item;
    item.handle = handle;
    item.rollback_to = sdk::LeadingKeyword(sql).is("rollback") && sdk::ContainsNoCase(sql, " to ");
    int sent = 0;
    // A statement prepared in this pipeline: its Parse goes out now, before
    // the Bind, under the same Sync (text results: not described). False
    // when libpq could not queue it.
    auto send_parse = [&](const char *prefix, const char *text, CachedStatement &cs) {
        cs.id = ++next_statement_id_;
        cs.name = prefix + std::to_string(cs.id);
        cs.result_format = 0; // text, which decodes every type
        cs.effect = session_effect(text);
        item.parse_pending = true;
        return PQsendPrepare(pg_, cs.name.c_str(), text, bound.count, bound.types.data()) == 1;
    };
    auto send_named = [&](const CachedStatement &cs) {
        note_effect(cs.effect);
        return PQsendQueryPrepared(pg_, cs.name.c_str(), bound.count, bound.values.data(), bound.lengths.data(),
                                   bound.formats.data(), cs.result_format);
    };
    if (handle != nullptr && statement_cache_enabled()) {
        // The handle's server statement: prepared at its first run, inside
        // this pipeline (Parse before the Bind, under the same Sync); reused
        // when the parameter types match the first run's. Other types run
        // unnamed rather than prepare a second statement.
        if (handle->stmt.name.empty()) {
            CachedStatement cs;
            if (!send_parse("ilana_h", handle->sql.c_str(), cs)) throw failure_from_conn(pg_);
            handle->stmt = std::move(cs);
            handle->signature = bound.signature;
        }
        if (handle->signature == bound.signature) {
            item.stmt = &handle->stmt;
            sent = send_named(handle->stmt);
        }
    }
    if (item.stmt == nullptr && handle == nullptr && (st.flags & ILANA_EXEC_CACHE) != 0 && statement_cache_enabled()) {
        // The blocking path's statement cache: a statement found there runs
        // by name (the server parses and plans it once); one not found is
        // prepared into it inside this pipeline (Parse before the Bind,
        // under the same Sync: no round trip of its own) while the cache
        // has room. A full cache is not evicted from here: the evicted
        // statement's DEALLOCATE would wait for a blocking statement, which
        // an async-only application may never run; those run unnamed.
        const std::string &key = cache_key(sql, bound);
        CachedStatement *entry = cache_.find(key);
        if (entry == nullptr && !cache_.full()) {
            CachedStatement cs;
            sql_buf.assign(sql.data(), sql.size());
            if (!send_parse("ilana_s", sql_buf.c_str(), cs)) {
                mark_broken();
                throw failure_from_conn(pg_, ILANA_ERRF_CONN_BROKEN);
            }
            std::string evicted; // none: the cache has room
            entry = &cache_.insert(key, std::move(cs), &evicted);
        }
        if (entry != nullptr) {
            item.cached_id = entry->id;
            sent = send_named(*entry);
        }
    }
    if (item.stmt == nullptr && item.cached_id == 0) {
        // Unnamed: nothing stays on the server (PgBouncer-safe).
        note_effect(session_effect(sql));
        sql_buf.assign(sql.data(), sql.size());
        sent = PQsendQueryParams(pg_, sql_buf.c_str(), bound.count, bound.types.data(), bound.values.data(),
                                 bound.lengths.data(), bound.formats.data(), 0);
    }
    if (sent != 1 || PQpipelineSync(pg_) != 1) {
        // Part of the statement may be in libpq's buffer: the protocol
        // state is unknown from here on.
        mark_broken();
        throw failure_from_conn(pg_, ILANA_ERRF_CONN_BROKEN);
    }
    async_.push_back(std::move(item));
}

void Connection::leave_pipeline() noexcept {
    if (!pipeline_) return;
    pipeline_ = false;
    failed_parses_.clear();
    if (broken_ || PQstatus(pg_) == CONNECTION_BAD) return;
    (void)PQexitPipelineMode(pg_);
    (void)PQsetnonblocking(pg_, 0);
    cancel_requested.store(false); // a cancel that found nothing running
}

void Connection::fail_async(const DriverFailure &f) {
    mark_broken();
    if (!async_broken_) async_broken_ = f;
    AsyncStatement item = std::move(async_.front());
    async_.pop_front();
    if (item.result != nullptr) PQclear(item.result);
    if (async_.empty()) leave_pipeline();
    throw f;
}

void Connection::follow_txn(const PGresult *res, bool rollback_to) noexcept {
    const ExecStatusType st = res != nullptr ? PQresultStatus(res) : PGRES_FATAL_ERROR;
    if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK && st != PGRES_EMPTY_QUERY) {
        if (txn_ != TxnState::idle) txn_ = TxnState::aborted;
        return;
    }
    const char *tag = PQcmdStatus(const_cast<PGresult *>(res));
    if (tag == nullptr) return;
    if (std::strcmp(tag, "BEGIN") == 0 || std::strcmp(tag, "START TRANSACTION") == 0) txn_ = TxnState::block;
    else if (std::strcmp(tag, "ROLLBACK") == 0 && rollback_to) txn_ = TxnState::block;
    else if (std::strcmp(tag, "COMMIT") == 0 || std::strcmp(tag, "ROLLBACK") == 0 ||
             std::strcmp(tag, "PREPARE TRANSACTION") == 0)
        txn_ = TxnState::idle;
}

AsyncPoll Connection::complete_async(std::unique_ptr<sdk::Result> &out) {
    AsyncStatement item = std::move(async_.front());
    async_.pop_front();
    PgResultPtr res(item.result);
    follow_txn(item.failure ? nullptr : res.get(), item.rollback_to);
    const bool aborted = txn_ == TxnState::aborted;
    // Read before leave_pipeline(), which forgets a cancel request: the
    // last statement in flight stopped by cancel() is CANCELED, not TIMEOUT.
    const bool canceled = cancel_requested.load();
    if (async_.empty()) leave_pipeline();
    if (item.failure) {
        if (aborted) throw DriverFailure(item.failure->error_class(), item.failure->what(), item.failure->sqlstate(),
                                         item.failure->native_code(), item.failure->flags() | ILANA_ERRF_TXN_ABORTED);
        throw *item.failure;
    }
    if (!res) throw DriverFailure(ILANA_ERR_INTERNAL, "PostgreSQL ended a pipelined statement without a result");
    const ExecStatusType st = PQresultStatus(res.get());
    if (st == PGRES_TUPLES_OK) {
        std::unique_ptr<Result> r = take_result({}, CancelOnClose::never);
        r->start_whole(res.release(), item.stmt);
        out = std::move(r);
        return AsyncPoll::ready;
    }
    if (st == PGRES_COMMAND_OK || st == PGRES_EMPTY_QUERY) {
        std::unique_ptr<Result> r = take_result({}, CancelOnClose::never);
        r->start_command(res.get());
        out = std::move(r);
        return AsyncPoll::ready;
    }
    const char *state = PQresultErrorField(res.get(), PG_DIAG_SQLSTATE);
    if (item.stmt != nullptr && item.handle != nullptr && state != nullptr &&
        (std::strcmp(state, "26000") == 0 || std::strcmp(state, "0A000") == 0) && &item.handle->stmt == item.stmt) {
        // The handle's statement vanished (DISCARD ALL) or its plan went
        // stale after DDL: its next run prepares again (the failure stays
        // this run's: the pipeline went on behind it).
        std::string name = std::move(item.handle->stmt.name);
        item.handle->stmt = CachedStatement{};
        if (std::strcmp(state, "0A000") == 0) release_statement(std::move(name));
    }
    if (item.cached_id != 0 && state != nullptr &&
        (std::strcmp(state, "26000") == 0 || std::strcmp(state, "0A000") == 0)) {
        // As for a handle: the cache's statement vanished or went stale; it
        // is prepared again at its next run.
        std::string name = cache_.erase_id(item.cached_id);
        if (std::strcmp(state, "0A000") == 0 && !name.empty()) release_statement(std::move(name));
        for (const auto &[id, parse_failure] : failed_parses_)
            if (id == item.cached_id && std::strcmp(state, "26000") == 0) throw parse_failure;
    }
    if (canceled && state != nullptr && std::strcmp(state, "57014") == 0) cancel_requested.store(false);
    DriverFailure f = failure_from_result(res.get(), pg_, ErrorContext{canceled});
    if (aborted && (f.flags() & ILANA_ERRF_TXN_ABORTED) == 0) {
        DriverFailure flagged(f.error_class(), f.what(), f.sqlstate(), f.native_code(), f.flags() | ILANA_ERRF_TXN_ABORTED);
        flagged.with_condition(f.condition(), f.constraint_name());
        throw flagged;
    }
    throw f;
}

namespace {
// `end` (PGRES_TUPLES_OK, no rows: its command tag) with the rows of
// `rows` (PGRES_SINGLE_TUPLE results), as one result; takes `end`.
PGresult *merge_single_rows(PGresult *end, const std::vector<PgResultPtr> &rows) {
    PgResultPtr tail(end);
    PGresult *merged = PQcopyResult(end, PG_COPYRES_ATTRS); // with the command tag
    if (merged == nullptr) throw DriverFailure(ILANA_ERR_INTERNAL, "out of memory merging a result's rows");
    const int columns = PQnfields(end);
    int row = 0;
    for (const PgResultPtr &one : rows) {
        for (int c = 0; c < columns; ++c) {
            const bool null = PQgetisnull(one.get(), 0, c) != 0;
            if (PQsetvalue(merged, row, c, null ? nullptr : PQgetvalue(one.get(), 0, c),
                           null ? -1 : PQgetlength(one.get(), 0, c)) == 0) {
                PQclear(merged);
                throw DriverFailure(ILANA_ERR_INTERNAL, "out of memory merging a result's rows");
            }
        }
        ++row;
    }
    return merged;
}
} // namespace

AsyncPoll Connection::async_poll(std::unique_ptr<sdk::Result> &out, AsyncWait &wait) {
    if (async_.empty()) {
        leave_pipeline();
        return AsyncPoll::idle;
    }
    if (async_broken_) fail_async(*async_broken_);
    const int flushed = PQflush(pg_); // 0 all sent, 1 some left, -1 failed
    if (flushed < 0 || PQconsumeInput(pg_) == 0) fail_async(failure_from_conn(pg_, ILANA_ERRF_CONN_BROKEN));
    while (PQisBusy(pg_) == 0) {
        if (PQstatus(pg_) == CONNECTION_BAD) fail_async(failure_from_conn(pg_, ILANA_ERRF_CONN_BROKEN));
        AsyncStatement &item = async_.front();
        PGresult *r = PQgetResult(pg_);
        if (r == nullptr) {
            // The end of the Parse's or the statement's results. A NULL
            // before either arrived belongs to the Sync before (robust to
            // libpq versions that report one there).
            if (item.parse_pending && item.parse_seen) item.parse_pending = false;
            else if (!item.parse_pending && item.result_seen) item.ended = true;
            continue;
        }
        const ExecStatusType st = PQresultStatus(r);
        if (st == PGRES_PIPELINE_SYNC) {
            PQclear(r);
            if (!item.result_seen) {
                // A Sync before the statement's result: the protocol is out
                // of step; nothing after it can be trusted.
                mark_broken();
                fail_async(DriverFailure(ILANA_ERR_INTERNAL, "PostgreSQL pipeline out of step (a Sync before the "
                                                             "statement's result); the connection is discarded",
                                         "", 0, ILANA_ERRF_CONN_BROKEN));
            }
            return complete_async(out);
        }
        if (item.parse_pending) {
            item.parse_seen = true;
            PgResultPtr parse(r);
            if (st != PGRES_COMMAND_OK && !item.failure) {
                item.failure = failure_from_result(r, pg_, ErrorContext{cancel_requested.load()});
                // Not prepared: the handle's (or the cache's) next run prepares again.
                if (item.handle != nullptr && item.stmt == &item.handle->stmt) item.handle->stmt = CachedStatement{};
                if (item.cached_id != 0) {
                    cache_.erase_id(item.cached_id);
                    failed_parses_.emplace_back(item.cached_id, *item.failure);
                }
            }
            continue;
        }
        if (st == PGRES_COPY_IN || st == PGRES_COPY_OUT || st == PGRES_COPY_BOTH) {
            PQclear(r);
            fail_async(DriverFailure(ILANA_ERR_INTERNAL, "COPY FROM STDIN / TO STDOUT is not supported through "
                                                         "ilana.async/1; the connection is discarded",
                                     "", 0, ILANA_ERRF_CONN_BROKEN));
        }
        if (st == PGRES_PIPELINE_ABORTED) {
            // After a failed Parse: the failure recorded then is the statement's.
            PQclear(r);
            item.result_seen = true;
            if (!item.failure)
                item.failure = DriverFailure(ILANA_ERR_INTERNAL, "the statement was skipped: an earlier part of its "
                                                                 "pipeline segment failed");
            continue;
        }
        if (st == PGRES_SINGLE_TUPLE) {
            item.single_rows.emplace_back(r);
            continue;
        }
        if (!item.single_rows.empty()) {
            // The end of rows that came one by one: one whole result with
            // the end's command tag ("SELECT n"). After an error the rows
            // so far are dropped: the statement failed.
            if (st == PGRES_TUPLES_OK) r = merge_single_rows(r, item.single_rows);
            item.single_rows.clear();
        }
        if (item.result != nullptr) PQclear(item.result); // one result per statement on this protocol
        item.result = r;
        item.result_seen = true;
    }
    if (PQstatus(pg_) == CONNECTION_BAD) fail_async(failure_from_conn(pg_, ILANA_ERRF_CONN_BROKEN));
    wait.fd = PQsocket(pg_);
    wait.events = ILANA_WAIT_READ | (flushed == 1 || PQflush(pg_) == 1 ? ILANA_WAIT_WRITE : 0u);
    wait.timeout_ms = -1; // statement timeouts are the host's on this path
    return AsyncPoll::pending;
}

} // namespace ilana::drivers::postgres
