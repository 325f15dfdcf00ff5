// connection.hpp — one libpq session and what the driver keeps beside it.
#pragma once

#include "params/conninfo.hpp"
#include "result.hpp"
#include "types.hpp"

#include <ilana/driver.h>
#include <ilana/sdk/driver.hpp>
#include <ilana/sdk/statement_deadline.hpp>

#include <libpq-fe.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <cstdint>
#include <list>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace ilana::drivers::postgres {

// What running a statement may leave in the session for the next user of
// the connection (session.cpp): nothing, some state a reset clears, or a
// prepared statement of the user's own (the reset must DEALLOCATE).
enum class SessionEffect : uint8_t { none, changes, prepares };
SessionEffect session_effect(std::string_view sql) noexcept;

// A server-side prepared statement this connection created.
struct CachedStatement {
    std::string name;      // "ilana_s<N>"
    uint64_t id = 0;       // N: never reused on the connection
    // Rows its last run returned when read to the end; -1 unknown. Decides
    // whether a whole-result read skips single-row mode (Result).
    int64_t last_rows = -1;
    int result_format = 0; // 1 when every result column is binary-decodable
    SessionEffect effect = SessionEffect::none; // classified once, at prepare
};

// LRU of prepared statements keyed by SQL text + parameter type signature
// (the same SQL bound with other ilana types needs other parameter OIDs).
class StatementCache {
public:
    explicit StatementCache(size_t capacity) : capacity_(capacity) {}
    // Marks the entry most recently used; nullptr when absent.
    CachedStatement *find(std::string_view key);
    // Inserts (the key must be absent); returns the evicted statement's name
    // in `evicted` (empty when nothing was evicted).
    CachedStatement &insert(std::string key, CachedStatement stmt, std::string *evicted);
    // Removes the entry; returns its statement name (empty when absent).
    std::string erase(std::string_view key);
    // Forgets every entry (the server deallocated them all); sends nothing.
    void clear() noexcept {
        index_.clear();
        lru_.clear();
    }
    size_t size() const noexcept { return index_.size(); }
    bool full() const noexcept { return index_.size() >= capacity_; }
    // Removes the entry of statement `id` (a failure path: a walk of the
    // list); returns its name (empty when absent).
    std::string erase_id(uint64_t id);

private:
    using Entry = std::pair<std::string, CachedStatement>;
    size_t capacity_;
    std::list<Entry> lru_; // front = most recently used; nodes never move
    std::unordered_map<std::string_view, std::list<Entry>::iterator> index_;
};

class Connection;

// A statement prepared by handle ("ilana.prepare/1", statement.cpp). Its
// server statement ("ilana_h<N>") is prepared at the first execute, with
// that execute's parameter types (PostgreSQL types parameters at prepare);
// an execute binding other types goes through the statement cache instead.
class Prepared : public sdk::PreparedStatement {
public:
    Prepared(Connection &owner, std::string text, uint32_t param_count)
        : sdk::PreparedStatement(param_count), conn(owner), sql(std::move(text)) {}
    ~Prepared() override;
    Connection &conn;
    const std::string sql;  // NUL-terminated for libpq
    CachedStatement stmt;   // name empty until the first execute prepares it
    std::string signature;  // BoundParams::signature it was prepared for
};

// One libpq session. The SDK's Driver<> (postgres_driver.hpp) turns its
// members into the ABI's functions and extensions: execute, ping,
// begin/commit/rollback, cancel, server_info (the core API);
// tables/columns/indexes ("ilana.introspect/1", introspect.cpp);
// lock_acquire/lock_release ("ilana.lock/1", lock.cpp); execute_many
// ("ilana.batch/1" in libpq pipeline mode, pipeline.cpp); namespace_list
// ("ilana.namespace/1", namespace.cpp); clone_namespace ("ilana.ddl/1",
// ddl.cpp); is_dirty/reset_session ("ilana.session/1", session.cpp).
class Connection : public sdk::Connection {
public:
    static constexpr size_t kStatementCacheCapacity = 256;
    static constexpr int kDefaultPingTimeoutMs = 5000;

    // Connects (PQconnectStartParams + PQconnectPoll + poll(2) under the
    // deadline). Throws DriverFailure: CONFIG, AUTH, CONNECTION, TIMEOUT.
    static std::unique_ptr<Connection> open(sdk::ConnectParams &params);
    ~Connection() override;

    // ---- "ilana.async/1" (async.cpp): the non-blocking connect (the same
    // PQconnectStartParams as open(), then PQconnectPoll as the host's
    // socket becomes ready), and statements in libpq pipeline mode, each
    // followed by its own Sync so that it succeeds or fails alone, exactly
    // as run one by one. The connection is in pipeline + non-blocking mode
    // only while statements are in flight; the blocking members find it
    // as they always do.
    static std::unique_ptr<Connection> connect_start(sdk::ConnectParams &params);
    bool connect_step(sdk::AsyncWait &wait, bool socket_ready);
    void async_submit(const sdk::Statement &stmt, Prepared *prepared);
    sdk::AsyncPoll async_poll(std::unique_ptr<sdk::Result> &out, sdk::AsyncWait &wait);

    PGconn *pg() const noexcept { return pg_; }
    bool pgbouncer() const noexcept { return cfg_.pgbouncer; }
    bool statement_cache_enabled() const noexcept { return cfg_.statement_cache; }

    // ---- the members Driver<> exposes
    // Runs one statement (statement.cpp): bind, send (prepared with
    // ILANA_EXEC_CACHE, else unnamed), first result, in the result the
    // connection kept at the last close when there is one. A failure is
    // classified against the statement timeout (deadline_failure).
    std::unique_ptr<Result> execute(const sdk::Statement &stmt);
    // "ilana.prepare/1": checks `sql` and counts its parameters in one round
    // trip (Parse and Describe of the unnamed statement under one Sync, so
    // a PgBouncer in transaction mode sends both to one server), and runs
    // it by handle (statement.cpp).
    std::unique_ptr<Prepared> prepare(std::string_view sql);
    std::unique_ptr<Result> execute(Prepared &prepared, const sdk::Statement &stmt);
    // A server statement no longer needed: deallocated before the next
    // statement (flush_deallocations), never in a round trip of its own.
    void release_statement(std::string name) noexcept;
    void ping(int32_t timeout_ms);
    void begin();
    void commit();
    void rollback();
    // [thread-safe] ilana's cancel(): flags the running statement as
    // canceled by us, then sends the cancel request.
    void cancel();
    sdk::ServerInfo server_info();
    std::unique_ptr<Result> tables(std::optional<std::string_view> schema);
    std::unique_ptr<Result> columns(std::optional<std::string_view> schema, std::optional<std::string_view> table);
    std::unique_ptr<Result> indexes(std::optional<std::string_view> schema, std::optional<std::string_view> table);
    void lock_acquire(std::string_view name, int32_t timeout_ms);
    void lock_release(std::string_view name);
    int64_t execute_many(const sdk::BatchStatement &batch);
    std::unique_ptr<Result> namespace_list(std::optional<std::string_view> prefix);
    std::unique_ptr<Result> clone_namespace(std::string_view source, std::string_view target);
    // Session state (session.cpp, "ilana.session/1"). note_effect records
    // what a statement about to run may leave behind; is_dirty also counts
    // an open transaction; reset_session clears it all in one round trip.
    bool is_dirty() const noexcept;
    void reset_session();
    void note_effect(SessionEffect e) noexcept {
        if (e == SessionEffect::none) return;
        session_changed_ = true;
        if (e == SessionEffect::prepares) user_prepared_ = true;
    }

    // Driver-written SQL (catalog queries, locks): parameters as a vector.
    std::unique_ptr<Result> execute_sql(std::string_view sql, const std::vector<ilana_value> &params, uint32_t flags);

    // Throws CONNECTION + CONN_BROKEN + NOT_SENT when the session is known
    // dead (lost server, a ping that timed out), INTERNAL when a result is
    // still open (the calls Driver<> does not refuse itself: transactions,
    // locks).
    void ensure_usable() const;
    void mark_broken() noexcept { broken_ = true; }

    // A parameterless statement through the simple protocol (BEGIN, SHOW,
    // DEALLOCATE ...). Throws on failure; returns the final PGresult.
    PgResultPtr exec_simple(const char *sql);

    // Cancel request without the flag (result_close abandoning rows).
    void cancel_quietly() noexcept;
    std::atomic<bool> cancel_requested{false};

    // The statement timeout (Statement::timeout_ms, ABI 1.2), from
    // execute until the result's rows are read, it is closed, or execute
    // fails. At the timeout a cancel request is sent (from a thread of its
    // own: PQcancel blocks while the postmaster does not answer); a grace
    // later the socket is shut down, which wakes the blocked libpq call.
    // timeout_ms <= 0: no deadline.
    void start_deadline(int64_t timeout_ms);
    // The statement ended: disarms; a cut socket marks the session broken.
    void end_deadline() noexcept;
    // A failure of the timed statement as the deadline explains it
    // (StatementDeadline::classify); ends the deadline first.
    sdk::DriverFailure deadline_failure(const sdk::DriverFailure &f);

    // Prepared statements (never used in pgbouncer mode).
    CachedStatement *prepared(const std::string &sql, const BoundParams &params);
    void forget_prepared(const std::string &sql, const BoundParams &params, bool deallocate);
    // Sends the DEALLOCATEs that had to wait for a usable transaction state.
    void flush_deallocations() noexcept;

    BoundParams bound;   // reused by every execute
    std::string sql_buf; // NUL-terminated copy of the statement text

private:
    Connection(PGconn *pg, ConnectConfig cfg);
    // open() and connect_start(): the config, PQconnectStartParams and the
    // connect deadline; finish_connect(): what follows PGRES_POLLING_OK.
    static std::unique_ptr<Connection> start_connect(sdk::ConnectParams &params);
    void finish_connect();
    sdk::DriverFailure connect_timeout_failure() const;

    // One statement in flight on the async path (async.cpp).
    struct AsyncStatement {
        Prepared *handle = nullptr;       // the handle it runs, when one
        CachedStatement *stmt = nullptr;  // its server statement (a handle's), or null: unnamed
        // Or the id of its statement in the cache (0: none). By id, not by
        // pointer: the entry may be evicted while the statement is in flight.
        uint64_t cached_id = 0;
        bool parse_pending = false;       // a Parse of its statement (handle's or cache's) precedes it
        bool parse_seen = false;          // ... and its result arrived
        bool result_seen = false;         // the statement's result (or error) arrived
        bool ended = false;               // the NULL after it: the Sync is next
        bool rollback_to = false;         // ROLLBACK TO SAVEPOINT (its tag is "ROLLBACK" too)
        PGresult *result = nullptr;       // success or error, owned until completion
        // Rows that came one by one (PGRES_SINGLE_TUPLE): libpq keeps the
        // blocking path's single-row mode for the first command of a
        // pipeline; merged into one whole result at the statement's end.
        std::vector<PgResultPtr> single_rows;
        std::optional<sdk::DriverFailure> failure; // a failed Parse, a refused COPY
    };
    // The oldest statement is complete (its Sync arrived): its result, or
    // its failure thrown.
    sdk::AsyncPoll complete_async(std::unique_ptr<sdk::Result> &out);
    // The connection broke with statements in flight: each fails with `f`.
    [[noreturn]] void fail_async(const sdk::DriverFailure &f);
    void leave_pipeline() noexcept;
    // The transaction state behind the pipeline. libpq reports the
    // server's (PQtransactionStatus) only when nothing is queued, so while
    // statements are in flight the driver follows it from what completes:
    // the state at entry, then command tags (BEGIN, COMMIT, ROLLBACK [TO],
    // PREPARE TRANSACTION) and failures (one inside a block aborts it), for
    // the TXN_ABORTED flag of a failure in the middle of a pipeline.
    enum class TxnState : uint8_t { idle, block, aborted };
    void follow_txn(const PGresult *res, bool rollback_to) noexcept;
    TxnState txn_ = TxnState::idle;
    std::deque<AsyncStatement> async_;
    bool pipeline_ = false; // in pipeline + non-blocking mode (async_ not empty)
    std::optional<sdk::DriverFailure> async_broken_; // what every statement left in flight fails with
    // Cache entries whose pipelined Parse failed, with that failure: the
    // statements sent behind it under the same name fail with it too, not
    // with "prepared statement does not exist". Cleared with the pipeline.
    std::vector<std::pair<uint64_t, sdk::DriverFailure>> failed_parses_;
    std::chrono::steady_clock::time_point connect_deadline_{};
    PostgresPollingStatusType connect_status_ = PGRES_POLLING_WRITING;
    void after_connect();
    // The statement itself (execute without the deadline's classification),
    // by handle when `handle` is given.
    std::unique_ptr<Result> run(const sdk::Statement &stmt, Prepared *handle = nullptr);
    // Prepares `sql` under a new name for `params`' types and describes it.
    CachedStatement prepare_named(const std::string &sql, const BoundParams &params);
    // The server statement a handle runs with `params`' types.
    CachedStatement *statement_for(Prepared &handle, const BoundParams &params);
    // A result for the next statement: the one kept at the last close, or new.
    std::unique_ptr<Result> take_result(std::string_view sql, CancelOnClose may_cancel);
    void deallocate(const std::string &name) noexcept;
    const std::string &cache_key(std::string_view sql, const BoundParams &params);
    static void notice_receiver(void *arg, const PGresult *res);

    PGconn *pg_;
    ConnectConfig cfg_;
    // While open() runs: notices go to the host through it (the
    // connection's own log() works once connect has returned).
    const sdk::ConnectParams *connecting_ = nullptr;
    bool broken_ = false;

    std::mutex cancel_mu_;
    PGcancel *cancel_ = nullptr;
    // The cancel object of the timeout's cancel thread, shared so that a
    // thread still waiting for the postmaster outlives the connection.
    std::shared_ptr<PGcancel> timeout_cancel_;
    // The timeout's cancel request of the running statement: sent (by the
    // watchdog's timer) and answered by the postmaster (done).
    struct CancelFlight {
        std::mutex mu;
        std::condition_variable cv;
        bool sent = false, done = false;
    };
    std::shared_ptr<CancelFlight> cancel_flight_;
    sdk::StatementDeadline deadline_;

    StatementCache cache_{kStatementCacheCapacity};
    uint64_t next_statement_id_ = 0;
    std::string key_buf_;
    std::vector<std::string> pending_deallocate_;

    bool session_changed_ = false; // a statement may have changed session state
    bool user_prepared_ = false;   // ... among them a PREPARE of the user's
    bool set_date_style_ = false;  // after_connect set DateStyle: a reset does too

    std::string server_version_;
};

} // namespace ilana::drivers::postgres
