// connection.hpp — one MySQL/MariaDB session: the driver's connection class
// on the SDK (every member the SDK's Driver<> looks for is here).
#pragma once

#include "errors.hpp"
#include "params.hpp"

#include <ilana/driver.h>
#include <ilana/sdk/driver.hpp>
#include <ilana/sdk/statement_deadline.hpp>

#include <mysql.h>

#include <chrono>
#include <cstdint>
#include <list>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

namespace ilana::drivers::mysql {

class Result;
class Connection;

// A statement prepared by handle ("ilana.prepare/1", statement.cpp): one
// MYSQL_STMT of its own, outside the LRU cache, prepared again after a
// session reset (which forgets server statements) or after a run that
// left it unusable (new metadata, a lost handle on the server).
class Prepared : public ilana::sdk::PreparedStatement {
public:
    Prepared(Connection &owner, std::string text, MYSQL_STMT *prepared, uint32_t param_count, bool text_only);
    ~Prepared() override;
    Connection &conn;
    const std::string sql;
    MYSQL_STMT *stmt;       // nullptr: prepare again before the next run
    uint64_t generation;    // Connection::statement_generation() it was prepared in
    const bool text_only;   // the server cannot prepare it (ER_UNSUPPORTED_PS): the text protocol
    const bool changes_session;
};

class Connection : public ilana::sdk::Connection {
public:
    // Opens a session; throws DriverFailure (CONFIG, AUTH, CONNECTION, TIMEOUT).
    static std::unique_ptr<Connection> open(ilana::sdk::ConnectParams &params);
    ~Connection() override;

    // ---- "ilana.async/1" (async.cpp): libmariadb's non-blocking API
    // (MYSQL_OPT_NONBLOCK, mysql_*_start/_cont) stepped by the host's event
    // loop. The protocol answers one command at a time, so statements queue
    // in the driver and go to the server one after another (no
    // ILANA_ASYNC_PIPELINE); rows are stored whole (mysql_store_result,
    // mysql_stmt_store_result) before a statement completes, then read
    // through the same results as the blocking path's.
    static std::unique_ptr<Connection> connect_start(ilana::sdk::ConnectParams &params);
    bool connect_step(ilana::sdk::AsyncWait &wait, bool socket_ready);
    void async_submit(const ilana::sdk::Statement &stmt, Prepared *prepared);
    ilana::sdk::AsyncPoll async_poll(std::unique_ptr<ilana::sdk::Result> &out, ilana::sdk::AsyncWait &wait);

    // --- What Driver<> calls (driver.h's functions, one member each) ---
    // One statement (statement.cpp).
    std::unique_ptr<Result> execute(const ilana::sdk::Statement &stmt);
    // "ilana.prepare/1" (statement.cpp): prepares `sql` once (its errors
    // now) and runs it by handle.
    std::unique_ptr<Prepared> prepare(std::string_view sql);
    std::unique_ptr<Result> execute(Prepared &prepared, const ilana::sdk::Statement &stmt);
    // The MYSQL_STMT a handle runs now (prepared again when stale), lent
    // until give_back, which keeps it (or, not reusable, closes it: the
    // handle prepares again on its next run).
    MYSQL_STMT *handle_stmt(Prepared &prepared);
    // A handle is being freed: it is lent out no more.
    void handle_gone(const Prepared *prepared) noexcept {
        if (lent_handle_ == prepared) lent_handle_ = nullptr;
    }
    // Counts session resets: statements prepared before one are gone on the server.
    uint64_t statement_generation() const noexcept { return statement_generation_; }
    void ping(int32_t timeout_ms);
    void begin();
    void commit();
    void rollback();
    // [thread-safe] KILL QUERY through a side connection (see connection.cpp).
    void cancel();
    ilana::sdk::ServerInfo server_info();
    // "ilana.introspect/1" (introspect.cpp)
    std::unique_ptr<ilana::sdk::Result> tables(std::optional<std::string_view> schema);
    std::unique_ptr<ilana::sdk::Result> columns(std::optional<std::string_view> schema,
                                                std::optional<std::string_view> table);
    std::unique_ptr<ilana::sdk::Result> indexes(std::optional<std::string_view> schema,
                                                std::optional<std::string_view> table);
    // "ilana.lock/1" (lock.cpp)
    void lock_acquire(std::string_view name, int32_t timeout_ms);
    void lock_release(std::string_view name);
    // "ilana.batch/1" (pipeline.cpp)
    int64_t execute_many(const ilana::sdk::BatchStatement &batch);
    // "ilana.namespace/1"'s list (namespace.cpp)
    std::unique_ptr<ilana::sdk::Result> namespace_list(std::optional<std::string_view> prefix);
    // "ilana.ddl/1" (ddl.cpp)
    std::unique_ptr<ilana::sdk::Result> clone_namespace(std::string_view source, std::string_view target);
    // "ilana.session/1" (session.cpp): whether the session may carry state
    // a statement left behind (what note_statement and note_server_status
    // recorded), and the reset to a fresh session.
    bool is_dirty() const noexcept;
    void reset_session();

    MYSQL *handle() const { return m_; }
    const Config &config() const { return cfg_; }
    bool is_mariadb() const { return mariadb_; }
    bool broken() const { return broken_; }

    // Entry checks: the session is usable and no result is open. Both throw
    // with ILANA_ERRF_NOT_SENT, so the host may retry elsewhere. Every
    // command starts here: ensure_ready also takes in what the previous
    // command's status said about session state (note_server_status).
    void ensure_ready();
    void ensure_alive() const;

    // Records what a failure means for the session (CONN_BROKEN: the socket
    // is shut down so no later call can hang on it) and throws it.
    [[noreturn]] void fail(const DriverFailure &f);
    // `f` as the running op's statement timeout explains it (TIMEOUT naming
    // the timeout), or `f` itself; only while the op's deadline is armed, so
    // a failure is explained once.
    DriverFailure deadline_explained(const DriverFailure &f) const {
        return deadline_.active() ? deadline_.classify(f) : f;
    }
    // A connection lost after readTimeout seconds of waiting is that timeout
    // firing: reported as TIMEOUT (still CONN_BROKEN), not as a crash.
    DriverFailure timeout_aware(const DriverFailure &f, std::chrono::steady_clock::time_point start) const;
    // The `start` for timeout_aware: the clock is only read when a
    // readTimeout is set (without one, timeout_aware never looks at it).
    std::chrono::steady_clock::time_point op_clock() const {
        return cfg_.read_timeout_s > 0 ? std::chrono::steady_clock::now() : std::chrono::steady_clock::time_point{};
    }
    void mark_broken() noexcept;

    // A statement is running on the server from execute until its rows are
    // read or its result closed; cancel() only kills while one is, and the
    // lock makes sure KILL QUERY can never hit the next statement.
    // op_begin arms the statement timeout set for the statement
    // (ilana_statement.timeout_ms; 0 = none): at the timeout plus the grace
    // the socket is shut down, so no call waits longer on a server that
    // does not answer; op_end disarms it. fail() reports a failure the
    // deadline explains as ILANA_ERR_TIMEOUT (StatementDeadline::classify).
    void set_statement_timeout(int64_t timeout_ms) noexcept { statement_timeout_ms_ = timeout_ms; }
    void op_begin();
    void op_end() noexcept;
    // cancel() delivered KILL QUERY to the running op. Rows streamed after a
    // kill cannot be trusted (MariaDB lets SLEEP() and friends return early
    // and finishes the statement without an error), so the result reports
    // CANCELED instead of carrying on.
    bool op_killed();

    // Prepared statements. take_stmt() returns a prepared handle for `sql`,
    // from the LRU cache when `cache` is set; give_back() returns it after
    // use (reusable = false closes it, e.g. after CR_NEW_STMT_METADATA).
    MYSQL_STMT *take_stmt(std::string_view sql, bool cache);
    // A new MYSQL_STMT with `sql` prepared (take_stmt's, and a handle's);
    // throws the server's error.
    MYSQL_STMT *prepare_stmt(std::string_view sql);
    void give_back(MYSQL_STMT *stmt, bool reusable) noexcept;
    // SQL texts the server refused to prepare (ER_UNSUPPORTED_PS).
    bool unpreparable(std::string_view sql) const;
    void remember_unpreparable(std::string_view sql);

    // Session state (session.cpp). note_statement records that `sql`,
    // about to run, may leave state behind (by its text);
    // note_server_status takes in the server's own word
    // (SERVER_SESSION_STATE_CHANGED, with session_track_state_change on)
    // from the last command's status, before the next command replaces it.
    void note_statement(std::string_view sql) noexcept;
    void note_server_status() noexcept;

    // Results are reused from one statement to the next (the SDK keeps a
    // recycled one at result_close, Connection::reuse_result), so a point
    // select allocates nothing for its result.
    std::unique_ptr<Result> make_stmt_result(MYSQL_STMT *stmt, std::string_view sql);
    std::unique_ptr<Result> make_status_result(int64_t affected_rows, int64_t last_insert_id);
    // Whether the result the SDK keeps for this connection is a StmtResult
    // (StatusResult::recycle leaves it alone then).
    bool row_result_kept() const noexcept { return row_result_kept_; }
    void set_row_result_kept(bool kept) noexcept { row_result_kept_ = kept; }

    // Runs a statement without parameters or rows (transactions, SET ...).
    void simple_query(std::string_view sql, Phase phase, std::string_view what);

private:
    Connection() = default;
    // open() and connect_start(): the parameters read into cfg_; and what
    // follows a connected session (server facts, the fresh-state mark, the
    // debug line through `params` while connecting, else the connection).
    static std::unique_ptr<Connection> configured(ilana::sdk::ConnectParams &params);
    void adopt_session(const ilana::sdk::ConnectParams *params);
    // The async path's state (async.cpp); none until connect_start or the
    // first submit.
    struct AsyncState;
    struct AsyncStateDeleter {
        void operator()(AsyncState *s) const noexcept;
    };
    std::unique_ptr<AsyncState, AsyncStateDeleter> async_;
    // At close: a call still suspended is cut short (the socket shut down,
    // the call driven to its failed end) and what it held is freed.
    void abandon_async() noexcept;

    Config cfg_;
    MYSQL *m_ = nullptr;
    unsigned long thread_id_ = 0; // immutable after open: read by cancel()
    bool mariadb_ = false;
    bool broken_ = false;
    bool abandoned_ = false; // the handle is stuck in a non-blocking call
    bool session_changed_ = false; // a statement may have changed session state
    bool tracks_state_ = false;    // session_track_state_change is on (connect)

    int64_t statement_timeout_ms_ = 0;
    ilana::sdk::StatementDeadline deadline_;

    std::mutex op_mu_;
    uint64_t op_gen_ = 0;
    uint64_t killed_gen_ = 0;
    bool op_active_ = false;

    struct Cached {
        std::string sql;
        MYSQL_STMT *stmt;
        bool changes_session; // classified once, when prepared
    };
    // Frees every cached statement (after a reset invalidated them: freed
    // without a word to the server).
    void drop_statement_cache() noexcept;
    // Puts a statement prepared from `sql` at the front of the LRU (the
    // least recently used beyond maxPreparedStatements is closed).
    void cache_statement(std::string_view sql, MYSQL_STMT *s, bool changes);
    std::list<Cached> lru_; // front = most recently used
    std::unordered_map<std::string_view, std::list<Cached>::iterator> cache_index_;
    MYSQL_STMT *borrowed_cached_ = nullptr;
    std::unordered_set<std::string> unpreparable_;
    uint64_t statement_generation_ = 1;
    Prepared *lent_handle_ = nullptr; // the handle whose statement is lent out (handle_stmt)

    bool row_result_kept_ = false;

    std::string version_;
    int64_t version_number_ = 0;
    int64_t max_connections_ = -1;
    bool max_connections_known_ = false;
};

// Opens a raw session with `cfg` within `timeout_ms` (connect, TLS, auth and
// the session setup statements). `setup`: run SET time_zone / SET NAMES; the
// cancel side connection skips them and selects no database.
// `tracks_state` (may be NULL) tells whether session state tracking is on.
MYSQL *open_session(const Config &cfg, int timeout_ms, bool setup, bool *tracks_state = nullptr);
// open_session's steps, for the async connect (async.cpp): a handle with
// the config's options; mysql_real_connect_start with the config's
// arguments; and the failures of each step, worded as open_session's.
MYSQL *new_session_handle(const Config &cfg, int timeout_ms);
int start_real_connect(MYSQL *m, MYSQL **ret, const Config &cfg, bool setup);
DriverFailure connect_failure(MYSQL *m, const Config &cfg);
DriverFailure connect_timeout(const Config &cfg, int timeout_ms, bool in_setup);
DriverFailure setup_failure(MYSQL *m, const Config &cfg, const char *key);

// Whether `sql` may leave session state behind, by its text (session.cpp).
bool changes_session(std::string_view sql) noexcept;

// The statements that set a session up as the config asks (SET time_zone,
// SET NAMES ... COLLATE), each with the config key it comes from: run after
// connect, and again after a reset put the session variables back to the
// server's defaults.
std::vector<std::pair<std::string, const char *>> session_setup(const Config &cfg);
// Turns on the server's session state tracking so that statements report
// SERVER_SESSION_STATE_CHANGED. The server's refusal (a MySQL before 5.7)
// is ignored: the text checks still hold.
inline constexpr const char kTrackStateChange[] = "SET SESSION session_track_state_change = ON";

} // namespace ilana::drivers::mysql
