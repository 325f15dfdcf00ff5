// ilana/database.hpp — the entry point of the C++ API.
//
//   auto db = ilana::Database::open("ilana.config.json");
//   ilana::Result users = db.query("SELECT * FROM users WHERE id = ?", {1});  // default connection
//   db.on("analytics").execute("INSERT INTO events(kind) VALUES (?)", {"login"});
//   db.on("analytics").transaction([&](ilana::Session &tx) {
//       tx.execute("UPDATE accounts SET balance = balance - ? WHERE id = ?", {10, 1});
//       tx.execute("UPDATE accounts SET balance = balance + ? WHERE id = ?", {10, 2});
//   }); // commits; an exception rolls back and propagates
//
// Parameters are written `?` in every dialect and always bound, never
// spliced into SQL (`??` is a literal question mark).
//
// Lifetimes: a Database is a cheap, copyable handle; copies share the same
// pools. Sessions opened from it keep what they need alive. Connections are
// opened lazily, on first use.
//
// Thread safety: Database and Connection may be used from any number of
// threads at once. A Session (a leased connection) and a Transaction belong
// to one thread at a time.
//
// Exceptions: every failure is an ilana::Error (ConfigError, PoolTimeout,
// ConversionError are subclasses) with the connection's name.
#pragma once

#include <ilana/config.hpp>
#include <ilana/driver_registry.hpp>
#include <ilana/error.hpp>
#include <ilana/health.hpp>
#include <ilana/hooks.hpp>
#include <ilana/result.hpp>
#include <ilana/row_mapping.hpp>
#include <ilana/schema.hpp>
#include <ilana/value.hpp>

#include <functional>
#include <initializer_list>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

namespace ilana {

class QueryBuilder; // ilana/query.hpp
class Statement;    // below
class Migrator;     // ilana/migrator.hpp

namespace detail {
struct DatabaseState;
struct ConnectionState;
struct PooledConnection;
struct PreparedState;
struct InternalAccess; // lets core areas reach the state behind the handles
} // namespace detail

// SQL facts of the server a connection reaches, for code that writes SQL
// (Connection::dialect, Session::dialect).
struct Dialect {
    bool dollar_placeholders = false; // $1 (PostgreSQL) vs ? — the API always takes ?
    char identifier_quote = '"';
    bool supports_returning = false;
    int upsert_form = 0;              // ILANA_UPSERT_*
    int limit_form = 0;               // ILANA_LIMIT_*
    uint32_t max_params = 0;
    bool transactional_ddl = false;
};

struct ExecResult {
    int64_t affected_rows = -1;
    int64_t last_insert_id = 0;
};

using Params = std::vector<Value>;

// Options of one statement call (the overloads taking it; the others use
// the connection's config).
struct StatementOptions {
    // The statement timeout of this call in milliseconds, instead of the
    // connection's "statementTimeoutMs"; 0 = none for this call. Past it the
    // server is asked to stop the statement and the call throws Error with
    // ErrorClass::timeout naming the connection and the timeout; the session
    // stays usable. A server that does not answer at all (frozen, cut off)
    // bounds the call at the timeout plus a grace of about a second: the
    // session is then discarded (Error::poisons_connection()). Throws Error
    // (config) for a driver built against ABI 1.1, which cannot enforce it.
    std::optional<int64_t> timeout_ms;
};

// A connection leased from a pool: every call runs on the same session, so
// session state (temporary tables, SET, transactions) holds between calls.
// Returned to the pool when destroyed; a session the driver reported broken
// is closed instead.
class Session {
public:
    Session(Session &&) noexcept;
    Session &operator=(Session &&) noexcept;
    ~Session();

    const std::string &connection_name() const noexcept;
    // The SQL dialect of the server this session reached: the one its driver
    // reports for the connection (a bridge to several kinds of database,
    // ABI 1.3 "ilana.conn_dialect/1"), else the driver's.
    Dialect dialect() const;

    Result query(std::string_view sql, std::initializer_list<Value> params = {});
    Result query(std::string_view sql, const Params &params);
    ExecResult execute(std::string_view sql, std::initializer_list<Value> params = {});
    ExecResult execute(std::string_view sql, const Params &params);
    // Calls `on_row` for each row as it arrives, without keeping the whole
    // result; returns the number of rows. The Row is valid during the call.
    size_t stream(std::string_view sql, const Params &params, const std::function<void(const Row &)> &on_row);
    // The same with per-call options (a statement timeout of its own).
    Result query(std::string_view sql, const Params &params, const StatementOptions &options);
    ExecResult execute(std::string_view sql, const Params &params, const StatementOptions &options);
    size_t stream(std::string_view sql, const Params &params, const std::function<void(const Row &)> &on_row,
                  const StatementOptions &options);
    // Runs one statement once per parameter row, as one batch: PostgreSQL
    // pipeline mode (one round trip), MariaDB bulk execution, SQLite one
    // prepared statement inside one transaction (the driver's
    // "ilana.batch/1"; a driver without it runs the rows one by one). All or
    // nothing: outside a transaction no row is applied when one fails;
    // inside one, PostgreSQL aborts the transaction (as any failed statement
    // does) and the others undo the batch's rows. Returns the summed
    // affected rows (last_insert_id 0). Throws Error naming the failing row
    // when the driver knows it; every row must have as many values as the
    // statement has `?`. `rows` is borrowed for the call.
    ExecResult execute_many(std::string_view sql, const std::vector<Params> &rows);
    // Prepares `sql` on this session now (a statement the database refuses
    // throws its error here) for its connection's whole pool (Statement).
    Statement prepare(std::string_view sql);

    // Asynchronous statements on this session (include <ilana/async.hpp>):
    // several may be in flight at once and complete in order; on a driver
    // that pipelines (PostgreSQL) they travel together. The Session must
    // outlive them, and no blocking call may run on it meanwhile (it fails
    // with Error, class internal). Completion: void(std::exception_ptr, T).
    template <class CompletionToken> auto async_query(std::string_view sql, Params params, CompletionToken &&token);
    template <class CompletionToken>
    auto async_query(std::string_view sql, Params params, const StatementOptions &options, CompletionToken &&token);
    template <class CompletionToken> auto async_execute(std::string_view sql, Params params, CompletionToken &&token);
    template <class CompletionToken>
    auto async_execute(std::string_view sql, Params params, const StatementOptions &options, CompletionToken &&token);

    void begin();
    void commit();
    void rollback();
    bool in_transaction() const noexcept;

    // Round trip to the server, bounded by timeout_ms.
    void ping(int timeout_ms = 5000);
    // [thread-safe] Asks the server to stop the statement running on this
    // session (from another thread); that call fails with ErrorClass::canceled.
    void cancel();

    struct ServerInfo {
        std::string product, version;
        int64_t version_number = 0, max_connections = -1;
    };
    ServerInfo server_info();

    // Introspection through the driver (ilana/schema.hpp). Throws Error
    // (class internal) when the driver has no "ilana.introspect/1".
    std::vector<TableInfo> tables(const std::string &schema = "");
    std::vector<ColumnInfo> columns(const std::string &table = "", const std::string &schema = "");
    std::vector<IndexInfo> indexes(const std::string &table = "", const std::string &schema = "");

private:
    friend class Connection;
    friend class Transaction;
    friend struct detail::InternalAccess;
    Session(std::shared_ptr<detail::ConnectionState> state, std::unique_ptr<detail::PooledConnection> pc);
    std::shared_ptr<detail::ConnectionState> state_;
    std::unique_ptr<detail::PooledConnection> pc_;
    bool in_tx_ = false;
};

// A statement prepared once for a connection's whole pool (Connection::
// prepare, Session::prepare): the SQL is checked and the statement prepared
// on the session at hand, then on every other session the first time it
// runs there, and found again by its handle, not by its text. Copies share
// one statement; usable from any number of threads at once (each call runs
// on its own session, or on the Session given, which belongs to one thread).
//
//   ilana::Statement by_id = db.on("cache").prepare("SELECT id, name, score FROM t WHERE id = ?");
//   ilana::Result r = by_id.query({42});                  // leases a session for the call
//   auto row = by_id.query_one<std::tuple<int64_t, std::string, double>>({42}); // std::optional
//   ilana::Session s = db.on("cache").acquire();
//   for (int64_t id : ids) by_id.for_each(s, {id}, [&](const ilana::Row &row) { ... });
//
// A session that is lost takes its prepared statement with it; the next
// call on a new session prepares it there. A call that fails (a schema
// change the database does not absorb reports the database's error, a
// constraint, a timeout) releases the statement on that session, and the
// next call prepares it again, which picks up the new schema. Calls per
// call (without a Session) are retried as Connection::query's are.
// Drivers without prepared statements by handle ("ilana.prepare/1") run the
// same calls through their statement cache.
class Statement {
public:
    Statement() = default; // empty: every call throws Error (class config)

    explicit operator bool() const noexcept { return static_cast<bool>(state_); }
    // The SQL as written (with ?), and the connection it belongs to.
    const std::string &sql() const;
    const std::string &connection_name() const;
    // How many ? parameters the statement takes.
    size_t param_count() const;

    // On a session leased for the call (retried as Connection::query).
    Result query(std::initializer_list<Value> params = {}) const;
    Result query(const Params &params) const;
    ExecResult execute(std::initializer_list<Value> params = {}) const;
    ExecResult execute(const Params &params) const;
    size_t stream(const Params &params, const std::function<void(const Row &)> &on_row) const;
    // On a held session (its transaction, its session state); `session`
    // must be one of this statement's connection (Error, class config,
    // otherwise).
    Result query(Session &session, std::initializer_list<Value> params = {}) const;
    Result query(Session &session, const Params &params) const;
    ExecResult execute(Session &session, std::initializer_list<Value> params = {}) const;
    ExecResult execute(Session &session, const Params &params) const;
    size_t stream(Session &session, const Params &params, const std::function<void(const Row &)> &on_row) const;
    // Per-call options (a statement timeout of its own), on either path.
    Result query(const Params &params, const StatementOptions &options) const;
    ExecResult execute(const Params &params, const StatementOptions &options) const;
    Result query(Session &session, const Params &params, const StatementOptions &options) const;
    ExecResult execute(Session &session, const Params &params, const StatementOptions &options) const;
    size_t stream(const Params &params, const std::function<void(const Row &)> &on_row,
                  const StatementOptions &options) const;
    size_t stream(Session &session, const Params &params, const std::function<void(const Row &)> &on_row,
                  const StatementOptions &options) const;
    // Asynchronously on a session leased for the call (include
    // <ilana/async.hpp>); prepared on that session first when it has not
    // run there. Completion: void(std::exception_ptr, T).
    template <class CompletionToken> auto async_query(Params params, CompletionToken &&token) const;
    template <class CompletionToken>
    auto async_query(Params params, const StatementOptions &options, CompletionToken &&token) const;
    template <class CompletionToken> auto async_execute(Params params, CompletionToken &&token) const;
    template <class CompletionToken>
    auto async_execute(Params params, const StatementOptions &options, CompletionToken &&token) const;

    // Typed reads, straight from the driver's rows into the caller's types,
    // without an owning Result. T is a std::tuple (columns by position), a
    // struct with a `fields` mapping (<ilana/row_mapping.hpp>: columns by
    // name), or one value type (the first column). Conversions are
    // Field::as<T>()'s, and throw ConversionError naming the column.
    //
    // The first row as T, or std::nullopt when there is none; rows after
    // the first are not read.
    template <class T> std::optional<T> query_one(std::initializer_list<Value> params = {}) const {
        return one<T>(nullptr, params.begin(), params.size());
    }
    template <class T> std::optional<T> query_one(const Params &params) const {
        return one<T>(nullptr, params.data(), params.size());
    }
    template <class T> std::optional<T> query_one(Session &session, std::initializer_list<Value> params = {}) const {
        return one<T>(&session, params.begin(), params.size());
    }
    template <class T> std::optional<T> query_one(Session &session, const Params &params) const {
        return one<T>(&session, params.data(), params.size());
    }
    template <class T> std::optional<T> query_one(const Params &params, const StatementOptions &options) const {
        return one<T>(nullptr, params.data(), params.size(), &options);
    }
    template <class T>
    std::optional<T> query_one(Session &session, const Params &params, const StatementOptions &options) const {
        return one<T>(&session, params.data(), params.size(), &options);
    }
    // Calls `fn` for each row, as the driver hands the rows over (nothing
    // kept): `fn(const Row &)` sees the row itself (valid during the call),
    // `fn(T)` gets it converted (T as for query_one). Returns the number of
    // rows.
    template <class Fn> size_t for_each(std::initializer_list<Value> params, Fn &&fn) const {
        return each(nullptr, params.begin(), params.size(), std::forward<Fn>(fn));
    }
    template <class Fn> size_t for_each(const Params &params, Fn &&fn) const {
        return each(nullptr, params.data(), params.size(), std::forward<Fn>(fn));
    }
    template <class Fn> size_t for_each(Session &session, std::initializer_list<Value> params, Fn &&fn) const {
        return each(&session, params.begin(), params.size(), std::forward<Fn>(fn));
    }
    template <class Fn> size_t for_each(Session &session, const Params &params, Fn &&fn) const {
        return each(&session, params.data(), params.size(), std::forward<Fn>(fn));
    }
    template <class Fn> size_t for_each(const Params &params, Fn &&fn, const StatementOptions &options) const {
        return each(nullptr, params.data(), params.size(), std::forward<Fn>(fn), &options);
    }
    template <class Fn>
    size_t for_each(Session &session, const Params &params, Fn &&fn, const StatementOptions &options) const {
        return each(&session, params.data(), params.size(), std::forward<Fn>(fn), &options);
    }

    // A row sink without std::function's allocation: `call(context, row)`
    // returns false to stop reading (the rows after it are not fetched).
    struct RowSink {
        void *context;
        bool (*call)(void *context, const Row &row);
    };
    // Runs the statement on `session` (nullptr: one leased for the call) and
    // passes its rows to `sink`; `first_only`: fetch one row at most;
    // `options` (nullptr: the connection's config) as for query. Returns the
    // rows passed. What query_one, for_each and stream are made of.
    size_t visit(Session *session, const Value *params, size_t count, RowSink sink, bool first_only,
                 const StatementOptions *options = nullptr) const;

private:
    friend struct detail::InternalAccess;
    explicit Statement(std::shared_ptr<detail::PreparedState> state) : state_(std::move(state)) {}

    template <class T>
    std::optional<T> one(Session *session, const Value *params, size_t count,
                         const StatementOptions *options = nullptr) const {
        std::optional<T> out;
        auto take = [](void *context, const Row &row) {
            static_cast<std::optional<T> *>(context)->emplace(detail::row_to<T>(row));
            return false;
        };
        visit(session, params, count, RowSink{&out, take}, true, options);
        return out;
    }
    template <class Fn>
    size_t each(Session *session, const Value *params, size_t count, Fn &&fn,
                const StatementOptions *options = nullptr) const {
        using F = std::remove_reference_t<Fn>;
        auto call = [](void *context, const Row &row) {
            F &f = *static_cast<F *>(context);
            if constexpr (std::is_invocable_v<F &, const Row &>) {
                f(row);
            } else {
                using T = std::decay_t<typename detail::single_argument<F>::type>;
                f(detail::row_to<T>(row));
            }
            return true;
        };
        return visit(session, params, count, RowSink{const_cast<void *>(static_cast<const void *>(&fn)), call}, false,
                     options);
    }

    std::shared_ptr<detail::PreparedState> state_;
};

// RAII transaction: rolls back on destruction unless committed.
class Transaction {
public:
    explicit Transaction(Session session);
    Transaction(Transaction &&) noexcept = default;
    ~Transaction();

    Result query(std::string_view sql, std::initializer_list<Value> params = {}) { return session_.query(sql, params); }
    Result query(std::string_view sql, const Params &params) { return session_.query(sql, params); }
    ExecResult execute(std::string_view sql, std::initializer_list<Value> params = {}) { return session_.execute(sql, params); }
    ExecResult execute(std::string_view sql, const Params &params) { return session_.execute(sql, params); }
    Result query(std::string_view sql, const Params &params, const StatementOptions &options) {
        return session_.query(sql, params, options);
    }
    ExecResult execute(std::string_view sql, const Params &params, const StatementOptions &options) {
        return session_.execute(sql, params, options);
    }
    void commit();
    void rollback();
    Session &session() noexcept { return session_; }

private:
    Session session_;
    bool done_ = false;
};

// A named connection of the config: a handle to its pool. Cheap to copy.
class Connection {
public:
    const std::string &name() const noexcept;
    const std::string &client() const noexcept;
    // The SQL dialect of the server this connection's pool reaches: the
    // driver's, or, for a driver that reports a dialect per connection
    // (ABI 1.3), the first session's — then the first call opens a session
    // when none was opened yet (it may throw what a lease throws).
    const Dialect &dialect() const;

    // Each call leases a session for its duration.
    Result query(std::string_view sql, std::initializer_list<Value> params = {}) const;
    Result query(std::string_view sql, const Params &params) const;
    ExecResult execute(std::string_view sql, std::initializer_list<Value> params = {}) const;
    ExecResult execute(std::string_view sql, const Params &params) const;
    size_t stream(std::string_view sql, const Params &params, const std::function<void(const Row &)> &on_row) const;
    // The same with per-call options (StatementOptions).
    Result query(std::string_view sql, const Params &params, const StatementOptions &options) const;
    ExecResult execute(std::string_view sql, const Params &params, const StatementOptions &options) const;
    size_t stream(std::string_view sql, const Params &params, const std::function<void(const Row &)> &on_row,
                  const StatementOptions &options) const;
    // Session::execute_many on a leased session; retried (as a whole) only
    // when nothing can have been applied.
    ExecResult execute_many(std::string_view sql, const std::vector<Params> &rows) const;
    // A statement prepared for this connection's whole pool (Statement):
    // checked now on a leased session (a statement the database refuses
    // throws its error here), prepared on the others when it first runs
    // there.
    Statement prepare(std::string_view sql) const;

    // Leases a session (waits up to acquireTimeoutMillis).
    Session acquire() const;

    // Asynchronous calls (include <ilana/async.hpp>, which describes them):
    // query and execute lease a session per call, as query() does; acquire
    // waits for a session without holding a thread. Completion:
    // void(std::exception_ptr, T) with T the blocking call's return type.
    template <class CompletionToken> auto async_query(std::string_view sql, Params params, CompletionToken &&token) const;
    template <class CompletionToken>
    auto async_query(std::string_view sql, Params params, const StatementOptions &options,
                     CompletionToken &&token) const;
    template <class CompletionToken>
    auto async_execute(std::string_view sql, Params params, CompletionToken &&token) const;
    template <class CompletionToken>
    auto async_execute(std::string_view sql, Params params, const StatementOptions &options,
                       CompletionToken &&token) const;
    template <class CompletionToken> auto async_acquire(CompletionToken &&token) const;
    Transaction begin() const;
    // Runs `fn(Session&)` in a transaction: commits when it returns, rolls
    // back and rethrows when it throws. Returns what `fn` returns.
    template <class Fn> auto transaction(Fn &&fn) const {
        Transaction tx = begin();
        if constexpr (std::is_void_v<decltype(fn(tx.session()))>) {
            fn(tx.session());
            tx.commit();
        } else {
            auto result = fn(tx.session());
            tx.commit();
            return result;
        }
    }

    struct PoolStatus {
        int idle = 0, in_use = 0, pending = 0, waiting = 0, max = 0, min = 0;
        uint64_t created = 0, destroyed = 0, timeouts = 0, acquires = 0, create_errors = 0;
        // Sessions given back with changed session state (SET, SET ROLE, a
        // temp table, ...) and reset before their next lease; those whose
        // reset failed were discarded instead (README, "Pools").
        uint64_t resets = 0, reset_failures = 0;
        // Connections evicted by reason (see PoolMetrics), and closes
        // abandoned after destroyTimeoutMillis.
        uint64_t evicted_idle = 0, evicted_lifetime = 0, evicted_broken = 0, destroy_timeouts = 0;
    };
    PoolStatus pool_status() const;

    // A query builder on `table` (include <ilana/query.hpp>). Throws Error
    // (syntax) for a table name that is not an identifier.
    QueryBuilder table(std::string_view table) const;
    // Where this connection's reads go: a healthy read replica ("read" in the
    // config) chosen by "readStrategy", or this connection itself when it has
    // no replicas, when all are down (the onError hook is told), or while
    // this thread's last write is younger than "stickyAfterWriteMs".
    Connection read() const;

private:
    friend class Database;
    friend struct detail::InternalAccess;
    explicit Connection(std::shared_ptr<detail::ConnectionState> state) : state_(std::move(state)) {}
    // A session for one call of this Connection (query, execute, stream):
    // it never outlives the call, so it borrows the state instead of
    // sharing its ownership.
    Session lease_for_call() const;
    // The same from `live`, the state live() returned for this call.
    Session lease_for_call(detail::ConnectionState &live) const;
    // Leases a pooled connection into a Session holding `state` (owning for
    // acquire(), borrowed for lease_for_call()) and counts the wait.
    Session lease(std::shared_ptr<detail::ConnectionState> state) const;
    std::shared_ptr<detail::ConnectionState> state_;
};

// What Database::reload did.
struct ReloadResult {
    // True when the config read is running now (a new generation).
    bool applied = false;
    // True when it is the running one already (same hash, nothing to do).
    bool unchanged = false;
    // Why it was rejected (applied and unchanged false): each with the file,
    // the JSON path and the connection it is about, as ConfigError says.
    // The running config, its pools and its handles are untouched.
    std::vector<std::string> errors;
    // The generation and hash running after the call (1 at open, +1 per
    // applied reload; Config::hash()).
    uint64_t generation = 0;
    std::string hash;
    // What changed, per connection (Config::diff), and whether "default"
    // now names another connection.
    std::vector<ConfigChange> changes;
    bool default_changed = false;
};

// The running config's generation and the reloads so far (metrics, status).
struct ConfigStatus {
    uint64_t generation = 0;
    std::string hash;
    std::string source;
    uint64_t reloads_applied = 0, reloads_rejected = 0, reloads_unchanged = 0;
    std::string last_error; // of the last rejected reload, "" when none
    bool watching = false;  // "reload": {"watch": true} is on
};

struct OpenOptions {
    std::string environment;               // overrides ILANA_ENV
    std::vector<std::string> plugin_paths; // searched before the config's; absolute only (ConfigError otherwise)
    Hooks hooks;
};

class Database {
public:
    // Loads the config, loads the driver plugins and checks every
    // connection's client. Opens no connection yet. Throws ConfigError.
    static Database open(const std::string &config_path, OpenOptions options = {});
    static Database open(Config config, OpenOptions options = {});

    // A named connection; throws ConfigError naming the connections there are.
    Connection on(std::string_view name) const;
    Connection default_connection() const;
    // The migrations of a named connection (include <ilana/migrator.hpp>);
    // same as Migrator(*this, name). Throws ConfigError for an unknown name.
    Migrator migrator(std::string_view name) const;
    std::vector<std::string> connection_names() const;

    // Shorthands on the default connection.
    Result query(std::string_view sql, std::initializer_list<Value> params = {}) const {
        return default_connection().query(sql, params);
    }
    ExecResult execute(std::string_view sql, std::initializer_list<Value> params = {}) const {
        return default_connection().execute(sql, params);
    }
    // A query builder on the default connection (include <ilana/query.hpp>).
    QueryBuilder table(std::string_view table) const;

    // Health of every pool (see ilana/health.hpp); never throws for a
    // failing connection (that is an "unhealthy" entry). Throws ConfigError
    // for an unknown name in options.connections, tenant_ids without a
    // "tenants" section, or the shared connection named with
    // include_shared false; Error (class config) for an invalid tenant id.
    // Naming a tenant opens its pool when it has none (pinned for the check).
    HealthReport health_check(const HealthOptions &options = {}) const;
    // A point-in-time copy of the pools' counters.
    MetricsSnapshot metrics() const;
    // Prometheus text exposition format 0.0.4, with HELP and TYPE for every
    // family. `include_runtime` adds process metrics (memory, fds, threads,
    // uptime). Health gauges come from a full health check no older than
    // the config's metrics.healthMaxAgeMs, run by this call when the last
    // one is older (see PrometheusOptions: bounded by the ping timeout).
    std::string prometheus_text(bool include_runtime = false) const;
    std::string prometheus_text(const PrometheusOptions &options) const;

    // The running config (the last one applied by reload()). Each config
    // stays alive as long as the Database: the reference stays valid.
    const Config &config() const noexcept;
    const DriverRegistry &drivers() const noexcept;

    // ---- hot reload (README "Hot reload") ---------------------------------
    // Reads the config again -- reload(): the file the Database was opened
    // from (Config::source()), with the same environment (OpenOptions::
    // environment, else the one that was selected) and the .env / ${VAR}
    // rules of Config::load_file; reload(path): another file the same way;
    // reload(Config): one loaded by the caller -- validates it fully (the
    // schema, every client against the loaded drivers, every connection's
    // parameters against its driver), and applies it as a diff
    // (Config::diff):
    //   - added connections get a pool (opened lazily, as at open);
    //   - removed ones drain: no new leases; idle sessions close now, leased
    //     ones when they are released (each close bounded by the old
    //     pool's destroyTimeoutMillis); a Connection or Statement handle to
    //     one then throws ConfigError naming it; Database::on throws as for
    //     any unknown name;
    //   - replaced ones (anything but pool.min / pool.max changed) get a new
    //     pool and the old one drains the same way; a held Connection or
    //     Statement follows the new pool on its next call (a Statement is
    //     prepared again there), a held Session or Transaction keeps its
    //     old pool until it is released: nothing in flight fails;
    //   - resized ones (pool.min / pool.max only) keep their pool and
    //     sessions; sessions above a smaller max close as they go idle.
    // Tenant pools are closed (reason "reload") and opened again on demand
    // when the tenants section or the template connection changed.
    // onPoolEvicted(name, "reload") fires once per pool retired,
    // onPoolCreated once per pool made for a change (right away when the
    // replaced pool was open, else on first use).
    // A config that fails to load or validate is rejected: the errors are
    // logged, counted (ilana_config_reloads_total{result="rejected"}) and
    // returned; nothing changes. Never throws for a bad config. Changing
    // plugins.paths needs a restart (rejected, saying so). One reload runs
    // at a time; calls on other threads meanwhile are not blocked.
    // Thread-safe.
    ReloadResult reload() const;
    ReloadResult reload(const std::string &config_path) const;
    ReloadResult reload(Config config) const;
    ConfigStatus config_status() const;
    // Closes every pool, tenant pools included (idle sessions now, leased
    // ones when returned); onPoolEvicted reports reason "shutdown".
    void close();

    explicit operator bool() const noexcept { return static_cast<bool>(state_); }

private:
    friend struct detail::InternalAccess;
    explicit Database(std::shared_ptr<detail::DatabaseState> s) : state_(std::move(s)) {}
    std::shared_ptr<detail::DatabaseState> state_;
};

} // namespace ilana
