// sqlite_driver.hpp — internal declarations of the SQLite driver.
//
// The driver is written on the SDK's Driver<> (<ilana/sdk/driver.hpp>), as
// the reference a third-party driver copies: driver_entry.cpp declares the
// driver class, Connection and Result below are the SDK's base classes
// with SQLite behind them.
#ifndef ILANA_SQLITE_DRIVER_HPP
#define ILANA_SQLITE_DRIVER_HPP

#include <ilana/driver.h>
#include <ilana/sdk/driver.hpp>

#include <sqlite3.h>

#include <climits>
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
class Connection;

// A statement prepared by handle ("ilana.prepare/1"): compiled once and run
// by Connection::execute(Prepared&, ...) without the cache's lookup by text.
// It outlives a session reset: the reset opens a new sqlite3 handle, and the
// next execute compiles the statement again on it (db_generation).
class Prepared : public sdk::PreparedStatement {
public:
    Prepared(Connection &conn, std::string_view sql, sqlite3_stmt *stmt, uint32_t param_count);
    ~Prepared() override;
    sqlite3_stmt *stmt() const noexcept { return stmt_; }
    // Compiled for the connection's current handle (else recompile first).
    bool current() const noexcept;
    // Compiles the statement again on the connection's current handle.
    void recompile();
    // Running it may change the session (PRAGMA, ATTACH, CREATE TEMP ...).
    bool changes_session() const noexcept { return changes_session_; }

private:
    Connection &conn_;
    std::string sql_;
    sqlite3_stmt *stmt_;
    uint64_t db_generation_;
    bool changes_session_;
};

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
// (introspection, DDL): cells are converted to `type` instead of per value.
struct FixedColumn {
    const char *name;
    ilana_type type;
    int32_t nullable;
};

// Closes the in-memory databases kept for pools (":memory:" with
// "ilana.pool_id"); at the driver's last deinit.
void close_memory_databases() noexcept;

// One sqlite3 handle. The SDK's Driver<> (driver_entry.cpp) turns its
// members into the ABI's functions and extensions: execute, ping,
// begin/commit/rollback, cancel, server_info (the core API);
// tables/columns/indexes ("ilana.introspect/1", introspect.cpp);
// lock_acquire/lock_release ("ilana.lock/1", lock.cpp); execute_many
// ("ilana.batch/1", pipeline.cpp); clone_namespace ("ilana.ddl/1",
// ddl.cpp); is_dirty/reset_session ("ilana.session/1", session.cpp).
class Connection : public sdk::Connection {
public:
    // Opens the database described by the connect parameters; throws
    // DriverFailure (CONFIG for bad parameters, CONNECTION when it cannot open).
    static std::unique_ptr<Connection> open(sdk::ConnectParams &params);
    ~Connection() override;

    sqlite3 *db() const noexcept { return db_; }
    const std::string &path() const noexcept { return path_; }
    const std::string &config_dir() const noexcept { return config_dir_; }
    int busy_timeout_ms() const noexcept { return busy_timeout_ms_; }
    // Counts the kept statements (cached or prepared by handle) finalized:
    // while it is unchanged, a kept statement pointer seen earlier still
    // names the same statement.
    uint64_t kept_statements_finalized() const noexcept { return cache_.finalized() + prepared_finalized_; }
    // Counts the sqlite3 handles this connection had (a reset opens a new one).
    uint64_t db_generation() const noexcept { return db_generation_; }

    // ---- the members Driver<> exposes
    // Prepares (or takes from the cache), binds and starts one statement,
    // in the result the connection kept at the last close when there is
    // one. A statement timeout (Statement::timeout_ms) is enforced until the
    // result is closed (see arm_deadline). `fixed_columns`: the ABI's column
    // names and types (introspection, DDL) instead of SQLite's.
    std::unique_ptr<Result> execute(const sdk::Statement &stmt,
                                    const std::vector<FixedColumn> *fixed_columns = nullptr);
    // "ilana.prepare/1": compiles `sql` once (the checks of execute: one
    // statement, its length) and runs it by handle.
    std::unique_ptr<Prepared> prepare(std::string_view sql);
    std::unique_ptr<Result> execute(Prepared &prepared, const sdk::Statement &stmt);
    void ping(int32_t timeout_ms);
    void begin();
    void commit();
    // SQLite may already have rolled back by itself (an error flagged
    // ILANA_ERRF_TXN_ABORTED): then there is nothing left to undo.
    void rollback();
    // [thread-safe] sqlite3_interrupt, guarded against a concurrent close.
    void cancel() noexcept;
    sdk::ServerInfo server_info();
    std::unique_ptr<Result> tables(std::optional<std::string_view> schema);
    std::unique_ptr<Result> columns(std::optional<std::string_view> schema, std::optional<std::string_view> table);
    std::unique_ptr<Result> indexes(std::optional<std::string_view> schema, std::optional<std::string_view> table);
    void lock_acquire(std::string_view name, int32_t timeout_ms);
    void lock_release(std::string_view name);
    int64_t execute_many(const sdk::BatchStatement &batch);
    std::unique_ptr<Result> clone_namespace(std::string_view source, std::string_view target);
    // Session state ("ilana.session/1", session.cpp). note_statement marks
    // the connection when `sql` may change it (PRAGMA, ATTACH, DETACH,
    // CREATE TEMP ...); is_dirty also counts an open transaction;
    // reset_session opens the database file again, with the same
    // parameters, in place of this handle.
    bool is_dirty() const noexcept;
    void reset_session();
    void note_statement(std::string_view sql) noexcept;

    // Runs SQL without a result set (BEGIN, COMMIT, PRAGMA x = y) to the end.
    void run(const char *sql, Stage stage, std::string_view context = {});
    // Runs SQL that returns one text value (PRAGMA journal_mode = wal).
    std::string query_text(const char *sql, Stage stage, std::string_view context = {});

    // ILANA_ERR_CONNECTION when the handle is gone (a failed reset).
    void require_open() const;
    // ILANA_ERR_INTERNAL when a result of this connection is still open
    // (the calls Driver<> does not refuse itself: transactions, locks).
    void require_no_open_result(const char *what) const;
    // A result let go of its statement (closed, recycled or detached).
    void result_closed() noexcept { disarm_deadline(); }
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

    // Compiles one statement of `sql` (SQLITE_PREPARE_* `flags`); throws
    // for a syntax error, a second statement after it, or a text too long.
    // NULL for empty SQL (only comments).
    sqlite3_stmt *compile(std::string_view sql, unsigned flags);
    // A Prepared was finalized (kept_statements_finalized).
    void prepared_finalized() noexcept { ++prepared_finalized_; }

private:
    Connection() = default;
    // The statement for `sql`: from the cache, or compiled (and cached when `cache`).
    StatementLease lease_statement(std::string_view sql, bool cache);
    // Binds the statement's parameters and starts it in a result (execute's
    // common part).
    std::unique_ptr<Result> run(StatementLease stmt, const sdk::Statement &statement,
                                const std::vector<FixedColumn> *fixed_columns);
    // An in-memory database lives in its handle: opening it again would
    // empty it, so such a connection is never reset.
    bool in_memory() const noexcept;

    sqlite3 *db_ = nullptr;
    std::string path_;       // the resolved filename, for messages
    std::string config_dir_; // "ilana.config_dir", to resolve namespace files
    int busy_timeout_ms_ = 5000;
    StatementCache cache_{64};
    uint64_t prepared_finalized_ = 0;
    uint64_t db_generation_ = 1;
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
// How text and blob parameters reach SQLite: `copy` (SQLite keeps its own
// copy: the parameters are borrowed for the execute call only, and a
// result's rows are stepped after it returns) or `borrow` (SQLite points at
// the caller's bytes, SQLITE_STATIC: only where every step of the statement
// happens while they live and the statement is finalized, or rebound, before
// they go, as in execute_many).
enum class ParamBytes { copy, borrow };

// Binds `count` values (strided by value_size) to `stmt`; throws DriverFailure.
// Returns true when any of them was bound as text or blob bytes.
bool bind_parameters(sqlite3 *db, sqlite3_stmt *stmt, const ilana_value *params, uint32_t count,
                     uint32_t value_size, ParamBytes bytes = ParamBytes::copy);

// Text forms of the temporal types (documented in README.md).
std::string format_date(int64_t days);
std::string format_time(int64_t micros);             // HH:MM:SS[.ffffff]
std::string format_timestamp(int64_t micros);        // YYYY-MM-DD HH:MM:SS[.ffffff]
std::string format_timestamptz(int64_t micros);      // YYYY-MM-DDTHH:MM:SS.ffffffZ

// ---------------------------------------------------------------- result.cpp
// One executed statement. Driver<>'s zero-cost path: the connection keeps
// a closed result (recycle) for its next execute, with its description
// while the cached statement is unchanged (the same columns_id), and fetch
// writes rows straight into the batch.
class Result : public sdk::Result {
public:
    Result(Connection &conn, StatementLease stmt, const std::vector<FixedColumn> *fixed_columns);
    ~Result() override;
    // Re-arms a finished (recycled) result for a new statement.
    void reset(Connection &conn, StatementLease stmt, const std::vector<FixedColumn> *fixed_columns);
    // What closing does: the statement goes back, the connection forgets us.
    void finish() noexcept;

    // Runs the statement up to its first row (or to the end for DML).
    void start();

protected:
    bool fetch(sdk::Batch &out) override;
    bool recycle() noexcept override;
    // The connection is closing under this open result (host contract
    // violation): drop the statement, keep the handle safe to close later.
    bool detach() noexcept override;

private:
    void describe_columns();
    void advance();
    void on_done();
    void settle_rowid() noexcept;
    void read_row(ilana_value *row, sdk::Batch &out);

    Connection *conn_;
    StatementLease stmt_;
    const std::vector<FixedColumn> *fixed_columns_; // static tables (introspect, ddl) or NULL
    std::vector<ilana_type> fixed_types_; // empty: per-value typing (ILANA_TYPE_ANY)
    // What the columns describe: a cached statement run again, not
    // re-prepared since and not finalized (cache count unchanged), has the
    // same columns, so describe_columns has nothing to do and the SDK keeps
    // the frozen description and its columns_id.
    struct Described {
        sqlite3_stmt *stmt = nullptr; // only ever a cached statement
        const std::vector<FixedColumn> *fixed = nullptr;
        int reprepares = -1;
        uint64_t cache_finalized = 0;
    } described_;

    bool readonly_ = true;
    bool was_in_txn_ = false;
    bool row_pending_ = false;  // sqlite3_step returned a row not yet copied out
    bool done_ = false;
    bool rowid_pending_ = false; // last_insert_rowid was zeroed by start()
    int64_t prev_rowid_ = 0;
    int64_t total_changes_before_ = 0;
    std::optional<DriverFailure> deferred_; // an error after rows already in a batch
};

// ---------------------------------------------------------- driver_entry.cpp
// Every key Connection::open reads, for "ilana.params/1": the host checks
// types, enums and bounds at load; open() still checks what a table cannot
// say (contradictions between mode, readonly and create).
inline constexpr const char *kModes[] = {"rwc", "rw", "ro", nullptr};
inline constexpr const char *kJournalModes[] = {"delete", "truncate", "persist", "memory", "wal", "off", nullptr};
inline constexpr const char *kSynchronous[] = {"off", "normal", "full", "extra", "0", "1", "2", "3", nullptr};

// The driver class: what Driver<> builds the descriptor, the function table
// and the extension tables from (see <ilana/sdk/driver.hpp>).
struct SqliteDriver : sdk::Driver<SqliteDriver, Connection, Result> {
    static constexpr const char *id = "org.ilana.sqlite";
    static constexpr const char *name = "SQLite3";
    static constexpr const char *version = "1.0.0";
    static constexpr const char *description =
        "SQLite3 embedded database through libsqlite3: one file (or :memory:) per connection";
    static constexpr const char *clients[] = {"sqlite3", "sqlite"};
    static constexpr uint64_t capabilities = ILANA_CAP_TRANSACTIONS | ILANA_CAP_CANCEL | ILANA_CAP_LAST_INSERT_ID |
                                             ILANA_CAP_STREAMING | ILANA_CAP_PREPARED_CACHE |
                                             ILANA_CAP_TRANSACTIONAL_DDL;
    // Completed at init from the SQLite library actually loaded (a newer or
    // older libsqlite3 than the headers may be in use); read-only afterwards.
    static inline ilana_dialect dialect = {
        sizeof(ilana_dialect),
        ILANA_PLACEHOLDER_QUESTION,
        '"',
        {0, 0, 0},
        ILANA_LIMIT_LIMIT_OFFSET,
        ILANA_UPSERT_ON_CONFLICT, // SQLite >= 3.24
        1,                        // RETURNING: SQLite >= 3.35, checked at init
        32766,                    // SQLITE_MAX_VARIABLE_NUMBER's default, replaced at init
    };
    static constexpr ilana_param_decl params[] = {
        sdk::required(sdk::param_string("filename", "the database file (relative to the config file's directory), "
                                                    "\":memory:\" or a file: URI")),
        sdk::case_insensitive(sdk::param_enum("mode", "open mode: rwc (read/write, create), rw, ro", kModes, "rwc")),
        sdk::param_bool("readonly", "open read-only (same as mode ro)", "false"),
        sdk::param_bool("create", "create the file when missing", "true"),
        sdk::param_int("busy_timeout", "wait this long for a locked database (milliseconds)", 0, INT_MAX, "5000"),
        sdk::param_bool("foreign_keys", "PRAGMA foreign_keys"),
        sdk::case_insensitive(sdk::param_enum("journal_mode", "PRAGMA journal_mode", kJournalModes)),
        sdk::case_insensitive(sdk::param_enum("synchronous", "PRAGMA synchronous", kSynchronous)),
        sdk::param_int("connect_timeout", "bound on opening and setting up the connection (seconds)", 0,
                       INT_MAX / 1000),
    };
    // "ilana.lock/1": the lock is a BEGIN IMMEDIATE transaction (lock.cpp).
    static constexpr uint32_t lock_flags = ILANA_LOCK_IS_TRANSACTION;
    // "ilana.batch/1": one prepared statement stepped per row (pipeline.cpp).
    static constexpr int32_t batch_method = ILANA_BATCH_LOOP;
    // "ilana.namespace/1": a namespace is a database file (namespace.cpp).
    static constexpr int32_t namespace_isolation = ILANA_NAMESPACE_FILE;
    static constexpr const char *namespace_param_key = "filename";

    static std::unique_ptr<Connection> connect(sdk::ConnectParams &settings) { return Connection::open(settings); }
    static void on_init(const ilana_host &host);
    static void on_deinit();
    static void namespace_create(Connection *conn, std::string_view ns);
    static void namespace_drop(Connection *conn, std::string_view ns);
};

} // namespace ilana::drivers::sqlite

#endif // ILANA_SQLITE_DRIVER_HPP
