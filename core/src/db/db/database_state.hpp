// Internal state behind Database and Connection handles: the db layer's
// own. Features above it reach the pools through db/pool_access.hpp, which
// keeps ConnectionState opaque.
#pragma once

#ifndef ILANA_CORE_LAYER_DB
#error "db/database_state.hpp is the db layer's own; a feature reaches the pools through db/pool_access.hpp"
#endif

#include <ilana/database.hpp>

#include "db/pool_access.hpp"
#include "db/dialect.hpp"
#include "credentials/password_provider.hpp"
#include "plugins/native_connection.hpp"
#include "pool/pool.hpp"

#include <atomic>
#include <chrono>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <vector>
#include <string>
#include <utility>

namespace ilana {
namespace detail {

class AsyncRuntime; // db/async/async_runtime.hpp
class AsyncLanes;   // db/async/async_lanes.hpp

struct ConnectionState {
    std::string name;
    std::string client;
    ConnectionConfig config;
    std::shared_ptr<const Config> whole_config;
    std::shared_ptr<const ConnectTarget> target;
    std::shared_ptr<const Hooks> hooks;
    // The descriptor's dialect. When the driver has "ilana.conn_dialect/1"
    // each session reports its server's instead, and server_dialect holds
    // the pool's (Connection::dialect()); null for other drivers.
    Dialect dialect;
    std::shared_ptr<PoolDialect> server_dialect;
    // For log records: the tenant's namespace (schema, database or file) of
    // a tenant pool (set by TenantState::open_pool), "" for a connection of the config.
    std::string namespace_name;
    bool log_queries = false;
    int64_t slow_query_ms = 0;
    // The driver reads ilana_statement.timeout_ms (ABI >= 1.2).
    bool driver_enforces_timeout = false;

    // Shared with the pool, which may outlive this state (a lane being
    // opened holds the pool after the last handle and call went).
    const std::shared_ptr<ConnectionMetrics> shared_metrics = std::make_shared<ConnectionMetrics>();
    ConnectionMetrics &metrics = *shared_metrics;
    // The Database's async machinery (the async API's executor and
    // workers), shared by all its connections and tenant pools.
    std::shared_ptr<AsyncRuntime> async_runtime;
    // The sessions this connection's pipelined async statements share
    // (AsyncLanes::of, made on the first one).
    std::once_flag lanes_once;
    std::shared_ptr<AsyncLanes> async_lanes;
    // The budget of the connection's server ("server"), null without one.
    std::shared_ptr<ServerBudget> budget;
    std::once_flag pool_once;
    std::shared_ptr<Pool> pool_ptr;
    // pool_ptr.get() once it is made: the per-query path reads this one
    // atomic instead of going through call_once, and readers that must not
    // create the pool (metrics, close) ask has_pool() without racing it.
    std::atomic<Pool *> pool_made{nullptr};

    bool has_pool() const noexcept { return pool_made.load(std::memory_order_acquire) != nullptr; }

    Pool &pool() {
        if (Pool *made = pool_made.load(std::memory_order_acquire)) return *made;
        return make_pool();
    }

    // ---- reload (Database::reload; DESIGN-NOTES "Hot reload") -------------
    // A handle (Connection, Statement, a router's replica) holds the state
    // it was made from. When a reload replaces this connection, `successor`
    // is the new state and `forward` points to it; when it removes it,
    // `forward` points to this state itself. Both are written once,
    // successor before forward (release): a call reads the one atomic
    // (live()) and only after a reload changed its connection walks the
    // chain. The old state keeps its successor alive, so a handle needs
    // nothing but the state it holds.
    std::atomic<ConnectionState *> forward{nullptr};
    std::shared_ptr<ConnectionState> successor;
    uint64_t removed_in_generation = 0; // written before forward

    // The state calls of a handle to this one run on: this one, or the
    // current one of its connection after a reload. Throws ConfigError
    // naming the connection when a reload removed it.
    ConnectionState &live() {
        if (forward.load(std::memory_order_acquire) == nullptr) return *this;
        return *follow(this);
    }
    // live()'s client, without throwing (a removed connection's own).
    const std::string &live_client() const noexcept {
        const ConnectionState *cs = this;
        for (const ConnectionState *n; (n = cs->forward.load(std::memory_order_acquire)) != nullptr && n != cs;) cs = n;
        return cs->client;
    }
    // live(), owned (for handles that keep what they lease from).
    static std::shared_ptr<ConnectionState> live_shared(const std::shared_ptr<ConnectionState> &cs);
    // Marks this state replaced by `next` (or removed when null) and closes
    // its pool to new leases: idle sessions close now, leased ones when they
    // come back; onPoolEvicted(name, "reload") when a pool had been made.
    void retire(std::shared_ptr<ConnectionState> next, uint64_t generation) noexcept;
    // pool.min / pool.max in place: the made pool's, else the pool made later.
    void resize(int min, int max) noexcept;
    // {pool.min, pool.max} now: config's, or the last resize's.
    std::pair<int, int> pool_size() const;

    // Read replicas ("read": [...]), resolved by Database::open. Weak:
    // connections may name each other. The router (features/replicas) is
    // made on the first read; declared last so it goes first.
    std::vector<std::weak_ptr<ConnectionState>> replicas;
    std::once_flag router_once;
    std::shared_ptr<ReadRouting> router;

    // Prepared statements of this pool (Statement, db/prepared.cpp): each
    // live one holds a slot, the index of its handle in every session's
    // table (NativeConnection::prepared); a freed slot is reused, and the
    // statement id tells a session's old handle in it from the new one's.
    uint32_t take_prepared_slot();
    void give_back_prepared_slot(uint32_t slot) noexcept;

    // Closes the pool (idempotent): onPoolEvicted(name, reason) and, with
    // debug.logPoolEvents, a POOL_EVICTED line.
    void close_pool(const char *reason) noexcept;

    ~ConnectionState() { close_pool("shutdown"); }

private:
    static ConnectionState *follow(ConnectionState *from);
    // Guards the sizes below and the moment the pool is made, so a resize
    // reaches either the made pool or the one being made.
    mutable std::mutex size_mu_;
    std::optional<std::pair<int, int>> resized_; // {min, max} from a reload
    std::mutex prepared_slots_mu_;
    std::vector<uint32_t> free_prepared_slots_;
    uint32_t prepared_slot_count_ = 0;
    // Makes the pool once (onPoolCreated, POOL_CREATED) and returns it.
    Pool &make_pool();
    // POOL_CREATED / POOL_EVICTED lines and records (debug.logPoolEvents).
    void log_pool_created() noexcept;
    void log_pool_evicted(const char *reason) noexcept;
};

// One loaded config and the pools of its connections: what Database::on,
// config() and the features read. Immutable once published; Database::
// reload publishes a new one (an atomic pointer: the readers take no lock)
// and keeps the old ones for the Database's life, so a reference a caller
// took from one (config(), a lookup in progress) stays valid.
struct Generation {
    uint64_t number = 1;
    std::shared_ptr<const Config> config;
    std::map<std::string, std::shared_ptr<ConnectionState>, std::less<>> connections;
    // The password provider of each connection that has one, by connection
    // name: its pool, its tenant pools and its replica probes share it, so
    // a command's answer is cached once for all of them. A reload keeps the
    // provider of a connection it keeps (its cache with it) and makes one
    // for a connection it adds or replaces.
    std::map<std::string, std::shared_ptr<PasswordProvider>, std::less<>> password_providers;
    // The server budgets ("servers"), by server name: one object per
    // server for as long as it is in the config (Database::reload keeps it
    // and changes its limit in place).
    std::map<std::string, std::shared_ptr<ServerBudget>, std::less<>> budgets;
};

struct ReloadWatcher; // database.cpp / config_watch.cpp

struct DatabaseState {
    ~DatabaseState();
    std::mutex extra_pools_mu;                    // guards extra_source and extensions
    std::shared_ptr<ExtraPoolSource> extra_source; // null until tenants are used
    // Per-Database state of the features (pool_access.hpp, database_extension).
    std::map<std::string, std::shared_ptr<DatabaseExtension>, std::less<>> extensions;
    std::chrono::steady_clock::time_point started = std::chrono::steady_clock::now();
    DriverRegistry registry;
    std::shared_ptr<const Hooks> hooks;
    std::string environment; // OpenOptions::environment, for reloads
    // The async API's executor and workers (made at open; its threads start
    // at the first async call).
    std::shared_ptr<AsyncRuntime> async_runtime;

    const Generation &current() const noexcept { return *current_.load(std::memory_order_acquire); }
    // Publishes `next` (under reload_mu).
    void publish(std::unique_ptr<Generation> next);

    std::mutex reload_mu; // one reload at a time; guards the fields below
    uint64_t reloads_applied = 0, reloads_rejected = 0, reloads_unchanged = 0;
    std::string last_reload_error;
    std::unique_ptr<ReloadWatcher> watcher; // "reload": {"watch": true}

private:
    std::atomic<const Generation *> current_{nullptr};
    std::vector<std::unique_ptr<const Generation>> generations_;
    std::map<std::string, std::shared_ptr<ConnectionState>, std::less<>> connections;
};

// The registered ExtraPoolSource (null: none), to be called outside
// extra_pools_mu.
std::shared_ptr<ExtraPoolSource> extra_source(DatabaseState &state);

// The state of one pool of `cc` named `name` ("primary", or for a tenant
// pool "primary@tenant_a"), with connect parameters replaced or added by
// `overrides` (a tenant's schema / database / file), in `generation` (its
// config and password providers).
std::shared_ptr<ConnectionState> make_connection_state(const DatabaseState &state, const Generation &generation,
                                                       const ConnectionConfig &cc,
                                                       std::shared_ptr<LoadedDriver> driver, const std::string &name,
                                                       const std::vector<std::pair<std::string, std::string>> &overrides);

// The one door from a public handle to its internals, for the db layer's
// own files (pool_access.cpp hands features what they may use). Host code
// never sees this header.
struct InternalAccess {
    static DatabaseState &state(const Database &db) { return *db.state_; }
    static const std::shared_ptr<DatabaseState> &shared_state(const Database &db) { return db.state_; }
    static ConnectionState &state(const Connection &c) { return *c.state_; }
    static const std::shared_ptr<ConnectionState> &shared_state(const Connection &c) { return c.state_; }
    static ConnectionState &state(const Session &s) { return *s.state_; }
    static const std::shared_ptr<ConnectionState> &shared_state(const Session &s) { return s.state_; }
    static NativeConnection &native(Session &s) { return *s.pc_->conn; }
    static PooledConnection *pooled(Session &s) { return s.pc_.get(); }
    static Session make_session(std::shared_ptr<ConnectionState> cs, std::unique_ptr<PooledConnection> pc) {
        return Session(std::move(cs), std::move(pc));
    }
    static Connection make_connection(std::shared_ptr<ConnectionState> cs) { return Connection(std::move(cs)); }
    static Session lease_for_call(const Connection &c) { return c.lease_for_call(); }
    static Session lease_for_call(const Connection &c, ConnectionState &live) { return c.lease_for_call(live); }
    static Statement make_statement(std::shared_ptr<PreparedState> ps) { return Statement(std::move(ps)); }
    static const std::shared_ptr<PreparedState> &shared_state(const Statement &st) { return st.state_; }
    static Database make_database(std::shared_ptr<DatabaseState> ds) { return Database(std::move(ds)); }
};

} // namespace detail
} // namespace ilana
