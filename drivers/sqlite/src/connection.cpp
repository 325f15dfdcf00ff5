// connection.cpp — connect parameters, the session, transactions, cancel.
//
// The members Driver<> (driver_entry.cpp) exposes as the ABI's core calls.
// A connection is one sqlite3 handle opened with SQLITE_OPEN_NOMUTEX: the
// host serializes calls per connection ([conn-serialized]), so SQLite's own
// per-connection mutex would only cost time. sqlite3_interrupt is the one call
// made from another thread, and SQLite allows it on a NOMUTEX handle.
#include "sqlite_driver.hpp"

#include <algorithm>
#include <cctype>
#include <climits>
#include <filesystem>
#include <map>

namespace ilana::drivers::sqlite {
namespace {

constexpr const char *kDriverName = "the SQLite driver (org.ilana.sqlite)";

std::string lower(std::string s) {
    std::transform(s.begin(), s.end(), s.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return s;
}

DriverFailure config_error(const std::string &message) {
    return DriverFailure(ILANA_ERR_CONFIG, message);
}

// ":memory:" under a pool: every session of one pool must see one database,
// or each pooled session would be an empty database of its own (and one
// reaped for idleness would take its tables with it). The host names the
// pool ("ilana.pool_id", unique in the process), and the pool's sessions
// open the in-memory database "/ilana-memory-<id>" of SQLite's memdb VFS,
// which the connections of one process share by name. memdb locks like a
// file (SQLITE_BUSY, which busy_timeout waits out), unlike shared-cache
// mode's table locks (SQLITE_LOCKED_SHAREDCACHE, which no busy handler
// waits for). SQLite frees a memdb database with its last connection, so
// the driver keeps one more, an anchor, until the driver's last deinit:
// the data outlives idle sessions being reaped, and two pools (two
// connections, two Databases) never share a database.
class MemoryAnchors {
public:
    // The URI of pool `pool_id`'s database, opened (anchored) on first use.
    std::string uri(const std::string &pool_id) {
        for (char c : pool_id)
            if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_')
                throw DriverFailure(ILANA_ERR_CONFIG, "connection parameter 'ilana.pool_id' must be letters, "
                                                      "digits, '-' or '_' (it is set by the host)");
        std::string uri = "file:/ilana-memory-" + pool_id + "?vfs=memdb";
        std::lock_guard<std::mutex> lock(mu_);
        if (anchors_.count(pool_id) != 0) return uri;
        sqlite3 *db = nullptr;
        const int rc = sqlite3_open_v2(uri.c_str(), &db,
                                       SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_URI, nullptr);
        if (rc != SQLITE_OK) {
            DriverFailure f = sqlite_failure(db, rc, Stage::open, "cannot open the in-memory SQLite database");
            sqlite3_close_v2(db);
            throw f;
        }
        anchors_.emplace(pool_id, db);
        return uri;
    }
    void close_all() noexcept {
        std::lock_guard<std::mutex> lock(mu_);
        for (auto &kv : anchors_) sqlite3_close_v2(kv.second);
        anchors_.clear();
    }

private:
    std::mutex mu_;
    std::map<std::string, sqlite3 *> anchors_;
};
MemoryAnchors g_memory_anchors;

// A relative filename is relative to the config file's directory, so that a
// config works the same from whatever directory the program starts in.
std::string resolve_filename(const std::string &filename, const std::optional<std::string> &dir) {
    if (filename == ":memory:" || filename.rfind("file:", 0) == 0) return filename;
    std::filesystem::path p(filename);
    if (p.is_absolute() || !dir || dir->empty()) return filename;
    return (std::filesystem::path(*dir) / p).lexically_normal().string();
}

// open() checks values again (a host without the extension) against the
// bounds and allowed values SqliteDriver::params declares.
const ilana_param_decl &declared(const char *key) { return sdk::declared_param(SqliteDriver::params, key); }

} // namespace

void Connection::require_open() const {
    if (db_ == nullptr)
        throw DriverFailure(ILANA_ERR_CONNECTION, "the connection is closed", "08003", 0, ILANA_ERRF_CONN_BROKEN);
}

std::unique_ptr<Connection> Connection::open(sdk::ConnectParams &params) {
    const int32_t timeout_ms = params.timeout_ms();

    // Read every key we understand, then reject the rest (typos).
    sdk::ParamReader &reader = params;
    const auto filename = reader.get("filename");
    const auto mode = reader.get("mode");
    const auto readonly = reader.get_bool("readonly");
    const auto create = reader.get_bool("create");
    const auto busy_timeout = reader.get_int("busy_timeout");
    const auto foreign_keys = reader.get_bool("foreign_keys");
    const auto journal_mode = reader.get("journal_mode");
    const auto synchronous = reader.get("synchronous");
    // The ABI's generic key; seconds, as for libpq and MySQL whose key it is.
    const auto connect_timeout = reader.get_int("connect_timeout");
    const auto config_dir = reader.get("ilana.config_dir");
    const auto pool_id = reader.get("ilana.pool_id");
    params.finish(kDriverName);

    if (!filename || filename->empty())
        throw config_error("connection parameter 'filename' is required for SQLite: a file path, "
                           "or \":memory:\" for an in-memory database");

    // Open flags from mode / readonly / create; contradictions are errors.
    int flags = 0;
    const std::string m = mode ? lower(*mode) : std::string("rwc");
    if (m == "rwc")
        flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE;
    else if (m == "rw")
        flags = SQLITE_OPEN_READWRITE;
    else if (m == "ro")
        flags = SQLITE_OPEN_READONLY;
    else
        throw config_error("connection parameter 'mode' must be \"rwc\", \"rw\" or \"ro\", got '" +
                           *mode + "'");
    if (readonly) {
        if (*readonly && mode && m != "ro")
            throw config_error("connection parameters 'readonly' = true and 'mode' = '" + *mode +
                               "' contradict each other: drop one");
        if (!*readonly && m == "ro")
            throw config_error("connection parameters 'readonly' = false and 'mode' = 'ro' "
                               "contradict each other: drop one");
        if (*readonly) flags = SQLITE_OPEN_READONLY;
    }
    if (create) {
        if (*create && (flags & SQLITE_OPEN_READONLY) != 0)
            throw config_error("connection parameter 'create' = true needs a writable database "
                               "(not 'readonly' or mode 'ro')");
        if (*create)
            flags |= SQLITE_OPEN_CREATE;
        else
            flags &= ~SQLITE_OPEN_CREATE;
    }
    if (busy_timeout && !sdk::within_bounds(declared("busy_timeout"), static_cast<double>(*busy_timeout)))
        throw config_error("connection parameter 'busy_timeout' must be milliseconds >= 0, got " +
                           std::to_string(*busy_timeout));
    if (connect_timeout && !sdk::within_bounds(declared("connect_timeout"), static_cast<double>(*connect_timeout)))
        throw config_error("connection parameter 'connect_timeout' must be seconds >= 0, got " +
                           std::to_string(*connect_timeout));
    std::string journal;
    if (journal_mode) {
        journal = lower(*journal_mode);
        if (!sdk::is_allowed(declared("journal_mode"), journal))
            throw config_error("connection parameter 'journal_mode' must be one of " +
                               sdk::allowed_values_text(declared("journal_mode")) + "; got '" + *journal_mode + "'");
    }
    std::string sync;
    if (synchronous) {
        sync = lower(*synchronous);
        if (!sdk::is_allowed(declared("synchronous"), sync))
            throw config_error("connection parameter 'synchronous' must be one of off, normal, "
                               "full, extra; got '" +
                               *synchronous + "'");
    }

    std::unique_ptr<Connection> conn(new Connection());
    conn->connect_timeout_ms_ = timeout_ms;
    conn->connect_params_ = params.all();
    conn->path_ = *filename == ":memory:" && pool_id && !pool_id->empty() ? g_memory_anchors.uri(*pool_id)
                                                                          : resolve_filename(*filename, config_dir);
    conn->config_dir_ = config_dir.value_or(std::string());
    conn->busy_timeout_ms_ = busy_timeout ? static_cast<int>(*busy_timeout) : 5000;

    flags |= SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_URI;
#ifdef SQLITE_OPEN_EXRESCODE
    flags |= SQLITE_OPEN_EXRESCODE;
#endif
    const std::string where = "cannot open SQLite database '" + conn->path_ + "'";
    sqlite3 *db = nullptr;
    const int rc = sqlite3_open_v2(conn->path_.c_str(), &db, flags, nullptr);
    if (rc != SQLITE_OK) {
        DriverFailure f = sqlite_failure(db, rc, Stage::open, where);
        sqlite3_close_v2(db); // a handle is returned even on failure
        throw f;
    }
    conn->db_ = db; // from here on ~Connection closes it
    sqlite3_extended_result_codes(db, 1);

    // Setting up waits for locks (reading the schema needs a shared lock,
    // journal_mode = wal an exclusive one). busy_timeout bounds every wait
    // on a lock, this one too; a shorter connect timeout bounds it further.
    // (It used to be replaced by the connect timeout: a database locked by
    // another process held a connect for createTimeoutMillis, not for
    // busy_timeout.)
    int setup_wait = conn->busy_timeout_ms_;
    if (connect_timeout && *connect_timeout > 0)
        setup_wait = std::min(setup_wait, static_cast<int>(*connect_timeout) * 1000);
    else if (!connect_timeout && timeout_ms > 0)
        setup_wait = std::min(setup_wait, static_cast<int>(timeout_ms));
    try {
        BusyTimeoutScope wait(*conn, setup_wait);
        // SQLite opens lazily: reading the header is what finds a file that
        // is not a database, or that cannot be read.
        conn->run("PRAGMA schema_version", Stage::open, where);
        const bool fk = foreign_keys.value_or(true);
        conn->run(fk ? "PRAGMA foreign_keys = ON" : "PRAGMA foreign_keys = OFF", Stage::open,
                  "setting foreign_keys on '" + conn->path_ + "'");
        if (!journal.empty()) {
            const std::string got = conn->query_text(("PRAGMA journal_mode = " + journal).c_str(),
                                                     Stage::open,
                                                     "setting journal_mode on '" + conn->path_ + "'");
            if (lower(got) != journal)
                params.log(ILANA_LOG_WARN, "SQLite database '" + conn->path_ + "': journal_mode '" + journal +
                                               "' requested, SQLite kept '" + got +
                                               "' (e.g. in-memory databases cannot use wal)");
        }
        if (!sync.empty())
            conn->run(("PRAGMA synchronous = " + sync).c_str(), Stage::open,
                      "setting synchronous on '" + conn->path_ + "'");
    } catch (const DriverFailure &f) { // the busy timeout is back to busy_timeout here
        if ((f.native_code() & 0xff) != SQLITE_BUSY) throw;
        // Say how long it waited and what to do: the lock is another's.
        throw DriverFailure(f.error_class(),
                            std::string(f.what()) + ": another connection or process held a lock for the " +
                                std::to_string(setup_wait) +
                                " ms this connect waited (busy_timeout); raise busy_timeout or end what "
                                "holds the lock",
                            f.sqlstate(), f.native_code(), f.flags());
    }

    params.log(ILANA_LOG_DEBUG, "opened SQLite database '" + conn->path_ + "' (" +
                                    ((flags & SQLITE_OPEN_READONLY) != 0
                                         ? "read-only"
                                         : (flags & SQLITE_OPEN_CREATE) != 0 ? "read-write-create"
                                                                             : "read-write") +
                                    ", SQLite " + sqlite3_libversion() + ")");
    return conn;
}

void close_memory_databases() noexcept { g_memory_anchors.close_all(); }

Connection::~Connection() {
    cache_.clear();
    std::lock_guard<std::mutex> lock(interrupt_mu_);
    if (db_ != nullptr) {
        // close_v2 defers the close if a statement somehow survived.
        sqlite3_close_v2(db_);
        db_ = nullptr;
    }
}

void Connection::cancel() noexcept {
    // A no-op when nothing runs: SQLite ignores an interrupt that arrives
    // with no statement active.
    std::lock_guard<std::mutex> lock(interrupt_mu_);
    if (db_ != nullptr) sqlite3_interrupt(db_);
}

void Connection::require_no_open_result(const char *what) const {
    if (has_open_result())
        throw DriverFailure(ILANA_ERR_INTERNAL,
                            std::string(what) +
                                ": a result of this connection is still open; close it first "
                                "(one open result per connection)",
                            "", 0, ILANA_ERRF_NOT_SENT);
}

void Connection::run(const char *sql, Stage stage, std::string_view context) {
    sqlite3_stmt *stmt = nullptr;
    int rc = sqlite3_prepare_v2(db_, sql, -1, &stmt, nullptr);
    if (rc != SQLITE_OK) {
        sqlite3_finalize(stmt);
        throw_sqlite(db_, rc, stage, context, sql, ILANA_ERRF_NOT_SENT);
    }
    StatementLease lease(stmt, false);
    while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
    }
    if (rc != SQLITE_DONE) throw_sqlite(db_, rc, stage, context, sql);
}

std::string Connection::query_text(const char *sql, Stage stage, std::string_view context) {
    sqlite3_stmt *stmt = nullptr;
    int rc = sqlite3_prepare_v2(db_, sql, -1, &stmt, nullptr);
    if (rc != SQLITE_OK) {
        sqlite3_finalize(stmt);
        throw_sqlite(db_, rc, stage, context, sql, ILANA_ERRF_NOT_SENT);
    }
    StatementLease lease(stmt, false);
    std::string value;
    rc = sqlite3_step(stmt);
    if (rc == SQLITE_ROW) {
        const unsigned char *t = sqlite3_column_text(stmt, 0);
        if (t != nullptr) value.assign(reinterpret_cast<const char *>(t), static_cast<std::size_t>(sqlite3_column_bytes(stmt, 0)));
        while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
        }
    }
    if (rc != SQLITE_DONE) throw_sqlite(db_, rc, stage, context, sql);
    return value;
}

StatementLease Connection::lease_statement(std::string_view sql, bool cache) {
    if (sqlite3_stmt *cached = cache_.find(sql)) {
        // Every lease ends in StatementLease::release, which resets; the
        // check only makes sure (sqlite3_stmt_busy is a field read).
        if (sqlite3_stmt_busy(cached) != 0) sqlite3_reset(cached);
        return StatementLease(cached, true);
    }
    // Only statements that leave the session as it was are cached, so a
    // cache hit (the hot path) needs no look at the text.
    if (changes_session(sql)) {
        session_changed_ = true;
        cache = false;
    }
    sqlite3_stmt *stmt = compile(sql, cache ? SQLITE_PREPARE_PERSISTENT : 0u);
    if (stmt != nullptr && cache) {
        if (cache_.insert(std::string(sql), stmt)) return StatementLease(stmt, true);
    }
    return StatementLease(stmt, false);
}

sqlite3_stmt *Connection::compile(std::string_view sql, unsigned flags) {
    if (sql.size() > static_cast<std::size_t>(INT_MAX))
        throw DriverFailure(ILANA_ERR_DATA, "SQL text of " + std::to_string(sql.size()) +
                                                " bytes is too long for SQLite",
                            "54000", 0, ILANA_ERRF_NOT_SENT);
    sqlite3_stmt *stmt = nullptr;
    const char *tail = nullptr;
    const int rc = sqlite3_prepare_v3(db_, sql.data(), static_cast<int>(sql.size()), flags, &stmt, &tail);
    if (rc != SQLITE_OK) {
        sqlite3_finalize(stmt);
        throw_sqlite(db_, rc, Stage::prepare, {}, sql, ILANA_ERRF_NOT_SENT);
    }
    // One statement per execute: running only the first of several would
    // silently drop the rest (and is how injected SQL gets a second
    // statement in), so anything but blanks/comments after it is an error.
    if (tail != nullptr) {
        const std::string_view rest(tail, static_cast<std::size_t>(sql.data() + sql.size() - tail));
        if (!only_trivia(rest)) {
            sqlite3_finalize(stmt);
            throw DriverFailure(ILANA_ERR_SYNTAX,
                                "one statement per execute: more SQL follows the first statement, "
                                "near: " + sql_excerpt(rest),
                                "42601", 0, ILANA_ERRF_NOT_SENT);
        }
    }
    return stmt;
}

// Every 1000 virtual-machine instructions (a few microseconds): a clock
// read each time costs well under 1% of a statement's time.
constexpr int kProgressInstructions = 1000;

int Connection::progress_check(void *self) noexcept {
    auto *c = static_cast<Connection *>(self);
    if (std::chrono::steady_clock::now() < c->deadline_) return 0;
    c->deadline_fired_ = true;
    return 1; // SQLite interrupts the statement: SQLITE_INTERRUPT
}

void Connection::arm_deadline(int64_t timeout_ms) {
    deadline_timeout_ms_ = timeout_ms;
    deadline_fired_ = false;
    deadline_ = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
    if (!deadline_armed_) sqlite3_progress_handler(db_, kProgressInstructions, &Connection::progress_check, this);
    // The progress handler does not run while SQLite sleeps on a lock: the
    // wait for one is cut to the statement timeout too.
    if (timeout_ms < busy_timeout_ms_) sqlite3_busy_timeout(db_, static_cast<int>(timeout_ms));
    deadline_armed_ = true;
}

void Connection::disarm_deadline() noexcept {
    if (!deadline_armed_) return;
    sqlite3_progress_handler(db_, 0, nullptr, nullptr);
    if (deadline_timeout_ms_ < busy_timeout_ms_) sqlite3_busy_timeout(db_, busy_timeout_ms_);
    deadline_armed_ = false;
}

DriverFailure Connection::interrupt_failure(DriverFailure interrupted) const {
    if (!deadline_fired_) return interrupted;
    return DriverFailure(ILANA_ERR_TIMEOUT,
                         "statement timeout of " + std::to_string(deadline_timeout_ms_) +
                             " ms elapsed: SQLite interrupted the statement (" + interrupted.what() + ")",
                         "57014", interrupted.native_code(), interrupted.flags());
}

DriverFailure Connection::busy_failure(DriverFailure busy) const {
    if (!deadline_armed_ || deadline_timeout_ms_ >= busy_timeout_ms_ ||
        std::chrono::steady_clock::now() < deadline_)
        return busy; // busy_timeout ended the wait: the busy class
    return DriverFailure(ILANA_ERR_TIMEOUT,
                         "statement timeout of " + std::to_string(deadline_timeout_ms_) +
                             " ms elapsed while waiting for a lock another connection holds (" + busy.what() + ")",
                         "57014", busy.native_code(), busy.flags());
}

std::unique_ptr<Result> Connection::execute(const sdk::Statement &statement,
                                            const std::vector<FixedColumn> *fixed_columns) {
    require_open();
    return run(lease_statement(statement.sql, statement.cache_hint()), statement, fixed_columns);
}

std::unique_ptr<Prepared> Connection::prepare(std::string_view sql) {
    require_open();
    sqlite3_stmt *stmt = compile(sql, SQLITE_PREPARE_PERSISTENT);
    const int params = stmt != nullptr ? sqlite3_bind_parameter_count(stmt) : 0;
    try {
        return std::make_unique<Prepared>(*this, sql, stmt, static_cast<uint32_t>(params));
    } catch (...) {
        sqlite3_finalize(stmt);
        throw;
    }
}

std::unique_ptr<Result> Connection::execute(Prepared &prepared, const sdk::Statement &statement) {
    require_open();
    if (!prepared.current()) prepared.recompile();
    if (prepared.changes_session()) session_changed_ = true;
    // Lent as a kept statement: reset, not finalized, when the result ends.
    return run(StatementLease(prepared.stmt(), true), statement, nullptr);
}

Prepared::Prepared(Connection &conn, std::string_view sql, sqlite3_stmt *stmt, uint32_t param_count)
    : sdk::PreparedStatement(param_count), conn_(conn), sql_(sql), stmt_(stmt),
      db_generation_(conn.db_generation()), changes_session_(sqlite::changes_session(sql)) {}

Prepared::~Prepared() {
    sqlite3_finalize(stmt_);
    conn_.prepared_finalized();
}

bool Prepared::current() const noexcept { return db_generation_ == conn_.db_generation(); }

void Prepared::recompile() {
    sqlite3_stmt *fresh = conn_.compile(sql_, SQLITE_PREPARE_PERSISTENT);
    sqlite3_finalize(stmt_); // of the handle a reset replaced
    conn_.prepared_finalized();
    stmt_ = fresh;
    db_generation_ = conn_.db_generation();
}

std::unique_ptr<Result> Connection::run(StatementLease stmt, const sdk::Statement &statement,
                                        const std::vector<FixedColumn> *fixed_columns) {
    try {
        const sdk::Params &p = statement.params;
        stmt.set_holds_bytes(bind_parameters(db_, stmt.get(), p.data(), p.size(), p.stride()));
    } catch (...) {
        stmt.set_holds_bytes(true); // a failure part-way may have bound bytes already
        throw;
    }
    // The result the connection kept at the last close (a point select
    // allocates nothing), else a new one.
    std::unique_ptr<Result> result = reuse_result<Result>();
    if (result) result->reset(*this, std::move(stmt), fixed_columns);
    else result = std::make_unique<Result>(*this, std::move(stmt), fixed_columns);
    // From the first step on; a failing start closes the result, and with
    // it the deadline (result_closed).
    if (statement.timeout_ms > 0) arm_deadline(statement.timeout_ms);
    else deadline_fired_ = false; // an earlier statement's timeout is not this one's interrupt (a cancel)
    result->start();
    return result;
}

void Connection::ping(int32_t /*timeout_ms*/) {
    // No round trip to bound: SQLite is in-process. What can go wrong is the
    // file being deleted or replaced under an open connection.
    require_open();
    int moved = 0;
    if (sqlite3_file_control(db_, "main", SQLITE_FCNTL_HAS_MOVED, &moved) == SQLITE_OK && moved != 0)
        throw DriverFailure(ILANA_ERR_CONNECTION,
                            "SQLite database file '" + path_ + "' was moved or deleted after the connection was opened",
                            "08006", 0, ILANA_ERRF_CONN_BROKEN);
    run("SELECT 1", Stage::control, "ping");
}

void Connection::begin() {
    require_open();
    require_no_open_result("begin");
    run("BEGIN", Stage::control, "BEGIN");
}

// On SQLITE_BUSY the transaction stays open and COMMIT may be retried.
void Connection::commit() {
    require_open();
    require_no_open_result("commit");
    run("COMMIT", Stage::control, "COMMIT");
}

void Connection::rollback() {
    require_open();
    require_no_open_result("rollback");
    if (sqlite3_get_autocommit(db_) != 0) return;
    run("ROLLBACK", Stage::control, "ROLLBACK");
}

sdk::ServerInfo Connection::server_info() {
    require_open();
    // Embedded: no server, no connection limit.
    return sdk::ServerInfo{"SQLite", sqlite3_libversion(), sqlite3_libversion_number(), -1};
}

} // namespace ilana::drivers::sqlite
