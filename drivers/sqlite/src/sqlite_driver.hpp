// sqlite_driver.hpp — internal declarations of the SQLite driver.
//
// Nothing here crosses the ABI: the host only ever sees the opaque handles
// ilana_conn / ilana_result, which are our Connection / Result objects.
#ifndef ILANA_SQLITE_DRIVER_HPP
#define ILANA_SQLITE_DRIVER_HPP

#include <ilana/driver.h>
#include <ilana/sdk/driver_support.hpp>

#include <sqlite3.h>

#include <cstddef>
#include <cstdint>
#include <list>
#include <chrono>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

namespace ilana::drivers::sqlite {

using sdk::DriverFailure;

// The host's log, attached on the first init and detached on the last deinit.
extern sdk::HostLog host_log;

// ---------------------------------------------------------------- errors.cpp
// Where an error came from: the same SQLite code means different things when
// opening, preparing, running a statement or running BEGIN/COMMIT/ROLLBACK.
enum class Stage { open, prepare, step, control };

// Builds the classified failure for result code `rc` (primary or extended) on
// `db` (may be NULL). `context` prefixes the message; `sql` is quoted in the
// message for errors about the SQL text itself (syntax, unknown table).
DriverFailure sqlite_failure(sqlite3 *db, int rc, Stage stage, std::string_view context = {},
                             std::string_view sql = {}, uint32_t extra_flags = 0);

[[noreturn]] inline void throw_sqlite(sqlite3 *db, int rc, Stage stage,
                                      std::string_view context = {}, std::string_view sql = {},
                                      uint32_t extra_flags = 0) {
    throw sqlite_failure(db, rc, stage, context, sql, extra_flags);
}

// The first ~200 characters of `sql` on one line, for messages.
std::string sql_excerpt(std::string_view sql);

// --------------------------------------------------------- statement_cache.cpp
// LRU of prepared statements keyed by SQL text. Owns (finalizes) them.
class StatementCache {
public:
    explicit StatementCache(std::size_t capacity) : capacity_(capacity) {}
    StatementCache(const StatementCache &) = delete;
    StatementCache &operator=(const StatementCache &) = delete;
    ~StatementCache() { clear(); }

    // The cached statement for `sql` (now most recently used), or nullptr.
    sqlite3_stmt *find(std::string_view sql);
    // Takes ownership of `stmt` and returns true, evicting (finalizing) the
    // least recently used; returns false (ownership stays) if not kept.
    bool insert(std::string sql, sqlite3_stmt *stmt);
    void clear() noexcept;
    std::size_t size() const noexcept { return lru_.size(); }
    // Counts the statements this cache finalized: while it is unchanged, a
    // cached statement pointer seen earlier still names the same statement.
    uint64_t finalized() const noexcept { return finalized_; }

private:
    using Entry = std::pair<std::string, sqlite3_stmt *>;
    std::size_t capacity_;
    std::list<Entry> lru_; // front = most recently used; nodes never move
    std::unordered_map<std::string_view, std::list<Entry>::iterator> index_;
    uint64_t finalized_ = 0;
};

// ------------------------------------------------------------ connection.cpp
class Result;

// A prepared statement lent to one Result: returned to the cache (reset, with
// bindings cleared) or finalized when the lease ends.
class StatementLease {
public:
    StatementLease() = default;
    StatementLease(sqlite3_stmt *stmt, bool cached) : stmt_(stmt), cached_(cached) {}
    StatementLease(StatementLease &&o) noexcept
        : stmt_(o.stmt_), cached_(o.cached_), holds_bytes_(o.holds_bytes_) {
        o.stmt_ = nullptr;
    }
    StatementLease &operator=(StatementLease &&o) noexcept {
        if (this != &o) {
            release();
            stmt_ = o.stmt_;
            cached_ = o.cached_;
            holds_bytes_ = o.holds_bytes_;
            o.stmt_ = nullptr;
        }
        return *this;
    }
    StatementLease(const StatementLease &) = delete;
    StatementLease &operator=(const StatementLease &) = delete;
    ~StatementLease() { release(); }

    sqlite3_stmt *get() const noexcept { return stmt_; }
    bool cached() const noexcept { return cached_; }
    // bind_parameters bound text or blob bytes (SQLite's own copies): a
    // cached statement gives them back when the lease ends instead of
    // keeping, say, a large blob until it next runs.
    void set_holds_bytes(bool v) noexcept { holds_bytes_ = v; }
    void release() noexcept {
        if (stmt_ == nullptr) return;
        if (cached_) {
            sqlite3_reset(stmt_);
            // Numbers need no clearing: the next execute binds every
            // placeholder or refuses to run (bind_parameters).
            if (holds_bytes_) sqlite3_clear_bindings(stmt_);
        } else {
            sqlite3_finalize(stmt_);
        }
        stmt_ = nullptr;
    }

private:
    sqlite3_stmt *stmt_ = nullptr;
    bool cached_ = false;
    bool holds_bytes_ = false;
};

// Column of a result whose names and types are fixed by the ABI
// (introspection): cells are converted to `type` instead of per value.
struct ColumnSpec {
    const char *name;
    ilana_type type;
    int32_t nullable;
};

// Closes the in-memory databases kept for pools (":memory:" with
// "ilana.pool_id"); at the driver's last deinit.
void close_memory_databases() noexcept;

class Connection {
public:
    // Opens the database described by the connect parameters; throws
    // DriverFailure (CONFIG for bad parameters, CONNECTION when it cannot open).
    static std::unique_ptr<Connection> open(const ilana_connect_params &params);
    ~Connection();
    Connection(const Connection &) = delete;
    Connection &operator=(const Connection &) = delete;

    sqlite3 *db() const noexcept { return db_; }
    void *host_context() const noexcept { return host_context_; }
    const std::string &path() const noexcept { return path_; }
    const std::string &config_dir() const noexcept { return config_dir_; }
    int busy_timeout_ms() const noexcept { return busy_timeout_ms_; }
    uint64_t cached_statements_finalized() const noexcept { return cache_.finalized(); }
    // A fresh ilana_result_info.columns_id: one per column description made
    // on this connection, never reused.
    uint64_t next_columns_id() noexcept { return ++columns_ids_; }

    // Prepares (or takes from the cache), binds and starts one statement;
    // the returned result is registered as this connection's open result.
    // `timeout_ms` > 0: the statement timeout (ilana_statement.timeout_ms),
    // enforced until the result is closed (see arm_deadline).
    std::unique_ptr<Result> execute(std::string_view sql, const ilana_value *params,
                                    uint32_t param_count, uint32_t value_size, uint32_t flags,
                                    const std::vector<ColumnSpec> *fixed_columns = nullptr,
                                    int64_t timeout_ms = 0);

    // Runs SQL without a result set (BEGIN, COMMIT, PRAGMA x = y) to the end.
    void run(const char *sql, Stage stage, std::string_view context = {});
    // Runs SQL that returns one text value (PRAGMA journal_mode = wal).
    std::string query_text(const char *sql, Stage stage, std::string_view context = {});

    // ILANA_ERR_INTERNAL when a result of this connection is still open.
    void require_no_open_result(const char *what) const;
    Result *open_result() const noexcept { return open_result_; }
    void result_closed(Result *r) noexcept {
        if (open_result_ == r) open_result_ = nullptr;
        disarm_deadline();
    }
    // The statement timeout: a progress handler, called every few thousand
    // virtual-machine instructions while the statement steps, interrupts it
    // (SQLITE_INTERRUPT) once the deadline has passed. Installed only for a
    // statement with a timeout, so the others pay nothing.
    void arm_deadline(int64_t timeout_ms);
    void disarm_deadline() noexcept;
    // The failure for a step that returned SQLITE_INTERRUPT: TIMEOUT when
    // the deadline interrupted it, otherwise `interrupted` (a cancel).
    DriverFailure interrupt_failure(DriverFailure interrupted) const;
    // The failure for a step that returned SQLITE_BUSY: TIMEOUT when the
    // statement timeout (shorter than busy_timeout) ended the lock wait.
    DriverFailure busy_failure(DriverFailure busy) const;
    // result_close: keeps the finished result for the next execute (its
    // vectors keep their capacity, so a point select allocates nothing),
    // or deletes it.
    static void release_result(Result *r) noexcept;

    // [thread-safe] sqlite3_interrupt, guarded against a concurrent close.
    void interrupt() noexcept;

    // Session state ("ilana.session/1", session.cpp). note_statement marks
    // the connection when `sql` may change it (PRAGMA, ATTACH, DETACH,
    // CREATE TEMP ...); is_dirty also counts an open transaction;
    // reset_session opens the database file again, with the same
    // parameters, in place of this handle.
    void note_statement(std::string_view sql) noexcept;
    bool is_dirty() const noexcept;
    void reset_session();

    void log(ilana_log_level level, std::string_view message) const noexcept {
        host_log(level, host_context_, message);
    }

private:
    Connection() = default;
    StatementLease prepare(std::string_view sql, bool cache);
    // An in-memory database lives in its handle: opening it again would
    // empty it, so such a connection is never reset.
    bool in_memory() const noexcept;

    sqlite3 *db_ = nullptr;
    void *host_context_ = nullptr;
    std::string path_;       // the resolved filename, for messages
    std::string config_dir_; // "ilana.config_dir", to resolve namespace files
    int busy_timeout_ms_ = 5000;
    Result *open_result_ = nullptr;
    std::unique_ptr<Result> spare_result_; // finished, ready for reuse
    StatementCache cache_{64};
    uint64_t columns_ids_ = 0;
    std::mutex interrupt_mu_; // cancel() vs close(): never interrupt a freed db
    // Statement timeout (arm_deadline): whether the handler is installed,
    // the deadline it checks, the timeout for messages, and whether it fired.
    bool deadline_armed_ = false;
    std::chrono::steady_clock::time_point deadline_{};
    int64_t deadline_timeout_ms_ = 0;
    bool deadline_fired_ = false;
    static int progress_check(void *self) noexcept;
    bool session_changed_ = false;
    // What open() was given, to open the same database again on reset.
    std::vector<std::pair<std::string, std::string>> connect_params_;
    int32_t connect_timeout_ms_ = 0;
};

// Whether `sql` may change the state of the connection beyond the database
// file: PRAGMA, ATTACH, DETACH, CREATE TEMP ... (session.cpp).
bool changes_session(std::string_view sql) noexcept;

inline Connection *from_handle(ilana_conn *h) noexcept { return reinterpret_cast<Connection *>(h); }
inline ilana_conn *to_handle(Connection *c) noexcept { return reinterpret_cast<ilana_conn *>(c); }

// Non-null connection or ILANA_ERR_INTERNAL.
Connection &require_conn(ilana_conn *h);

// True when `s` holds only blanks, ';' and SQL comments (an unterminated
// block comment runs to the end, as in SQLite): no second statement follows
// the first one prepare_v2/v3 read. Used by execute and execute_many.
inline bool only_trivia(std::string_view s) {
    std::size_t i = 0;
    while (i < s.size()) {
        const char c = s[i];
        if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v' || c == ';') {
            ++i;
        } else if (c == '-' && i + 1 < s.size() && s[i + 1] == '-') {
            const std::size_t nl = s.find('\n', i);
            i = nl == std::string_view::npos ? s.size() : nl + 1;
        } else if (c == '/' && i + 1 < s.size() && s[i + 1] == '*') {
            const std::size_t end = s.find("*/", i + 2);
            i = end == std::string_view::npos ? s.size() : end + 2; // SQLite: unterminated = to the end
        } else {
            return false;
        }
    }
    return true;
}

// Temporarily replaces the connection's busy timeout (lock waits, connect).
class BusyTimeoutScope {
public:
    BusyTimeoutScope(Connection &c, int ms) : c_(c) { sqlite3_busy_timeout(c_.db(), ms); }
    ~BusyTimeoutScope() { sqlite3_busy_timeout(c_.db(), c_.busy_timeout_ms()); }
    BusyTimeoutScope(const BusyTimeoutScope &) = delete;
    BusyTimeoutScope &operator=(const BusyTimeoutScope &) = delete;

private:
    Connection &c_;
};

// ------------------------------------------------------------------ bind.cpp
// Binds `count` values (strided by value_size) to `stmt`; throws DriverFailure.
// Returns true when any of them was bound as text or blob bytes.
bool bind_parameters(sqlite3 *db, sqlite3_stmt *stmt, const ilana_value *params, uint32_t count,
                     uint32_t value_size);

// Text forms of the temporal types (documented in README.md).
std::string format_date(int64_t days);
std::string format_time(int64_t micros);             // HH:MM:SS[.ffffff]
std::string format_timestamp(int64_t micros);        // YYYY-MM-DD HH:MM:SS[.ffffff]
std::string format_timestamptz(int64_t micros);      // YYYY-MM-DDTHH:MM:SS.ffffffZ

// ---------------------------------------------------------------- result.cpp
class Result {
public:
    Result(Connection &conn, StatementLease stmt, const std::vector<ColumnSpec> *fixed_columns);
    ~Result();
    // Re-arms a finished (recycled) result for a new statement.
    void reset(Connection &conn, StatementLease stmt, const std::vector<ColumnSpec> *fixed_columns);
    // What closing does: the statement goes back, the connection forgets us.
    void finish() noexcept;
    Connection *connection() const noexcept { return conn_; }
    Result(const Result &) = delete;
    Result &operator=(const Result &) = delete;

    // Runs the statement up to its first row (or to the end for DML).
    void start();
    void describe(ilana_result_info *out) const noexcept;
    // ILANA_OK or ILANA_DONE; throws DriverFailure.
    ilana_status fetch(ilana_batch *batch);
    // The connection is closing under an open result (host contract
    // violation): drop the statement, keep the handle safe to close later.
    void detach() noexcept;

private:
    void describe_columns();
    void advance();
    void on_done();
    void settle_rowid() noexcept;
    void read_row(std::size_t first_cell);
    void put_bytes(std::size_t cell, const void *data, std::size_t len, ilana_type type);

    Connection *conn_;
    StatementLease stmt_;
    std::vector<std::string> names_;
    std::vector<std::string> native_types_;
    std::vector<ilana_column> columns_;
    const std::vector<ColumnSpec> *fixed_columns_; // static tables (introspect) or NULL
    std::vector<ilana_type> fixed_types_; // empty: per-value typing (ILANA_TYPE_ANY)
    // What the columns above describe: a cached statement run again, not
    // re-prepared since and not finalized (cache count unchanged), has the
    // same columns, so describe_columns has nothing to do.
    struct Described {
        sqlite3_stmt *stmt = nullptr; // only ever a cached statement
        const std::vector<ColumnSpec> *fixed = nullptr;
        int reprepares = -1;
        uint64_t cache_finalized = 0;
    } described_;
    // Changes with every description made (0 while nothing is described):
    // what result_info reports as columns_id.
    uint64_t columns_id_ = 0;

    bool readonly_ = true;
    bool was_in_txn_ = false;
    bool row_pending_ = false;  // sqlite3_step returned a row not yet copied out
    bool done_ = false;
    bool rowid_pending_ = false; // last_insert_rowid was zeroed by start()
    int64_t prev_rowid_ = 0;
    int64_t total_changes_before_ = 0;
    int64_t affected_rows_ = -1;
    int64_t last_insert_id_ = 0;

    // Reused across fetches: no allocation per row once warmed up.
    std::vector<ilana_value> cells_;
    // The batch's text/blob bytes. While a batch fills, its cells hold
    // offsets into it (it may move as it grows); fetch turns them into
    // pointers at the end.
    std::unique_ptr<char[]> arena_;
    std::size_t arena_used_ = 0, arena_cap_ = 0;
    std::optional<DriverFailure> deferred_; // an error after rows already in a batch
};

inline Result *result_from_handle(ilana_result *h) noexcept { return reinterpret_cast<Result *>(h); }
inline ilana_result *to_handle(Result *r) noexcept { return reinterpret_cast<ilana_result *>(r); }

// ------------------------------------------------------- the ABI functions
// connection.cpp
ilana_status api_connect(const ilana_connect_params *params, ilana_conn **out, ilana_error *err);
void api_close(ilana_conn *conn);
ilana_status api_ping(ilana_conn *conn, int32_t timeout_ms, ilana_error *err);
ilana_status api_execute(ilana_conn *conn, const ilana_statement *stmt, ilana_result **out,
                         ilana_error *err);
ilana_status api_begin(ilana_conn *conn, ilana_error *err);
ilana_status api_commit(ilana_conn *conn, ilana_error *err);
ilana_status api_rollback(ilana_conn *conn, ilana_error *err);
ilana_status api_cancel(ilana_conn *conn, ilana_error *err);
ilana_status api_server_info(ilana_conn *conn, ilana_server_info *out, ilana_error *err);
// result.cpp
void api_result_info(ilana_result *result, ilana_result_info *out);
ilana_status api_fetch(ilana_result *result, ilana_batch *batch, ilana_error *err);
void api_result_close(ilana_result *result);
// extension tables
extern const ilana_introspect_api introspect_api;
extern const ilana_lock_api lock_api;
extern const ilana_namespace_api namespace_api;
extern const ilana_params_api params_api; // "ilana.params/1" (connection.cpp)
extern const ilana_ddl_api ddl_api;
extern const ilana_session_api session_api; // session.cpp

} // namespace ilana::drivers::sqlite

#endif // ILANA_SQLITE_DRIVER_HPP
