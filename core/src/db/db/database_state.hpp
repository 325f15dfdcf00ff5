// Internal state behind Database and Connection handles, shared by the
// areas of the core (observe, query, migrate, tenants) that need more than
// the public API.
#pragma once

#include <ilana/database.hpp>
#include <ilana/logging.hpp>

#include "db/dialect.hpp"
#include "plugins/native_connection.hpp"
#include "pool/pool.hpp"

#include <spdlog/spdlog.h>

#include <chrono>
#include <functional>
#include <utility>
#include <map>
#include <optional>
#include <atomic>
#include <condition_variable>
#include <mutex>

namespace ilana {
namespace detail {

class ReplicaRouter; // core/src/replicas

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

    ConnectionMetrics metrics;
    std::once_flag pool_once;
    std::shared_ptr<Pool> pool_ptr;
    // pool_ptr.get() once it is made: the per-query path reads this one
    // atomic instead of going through call_once, and readers that must not
    // create the pool (metrics, close) ask has_pool() without racing it.
    std::atomic<Pool *> pool_made{nullptr};

    bool has_pool() const noexcept { return pool_made.load(std::memory_order_acquire) != nullptr; }

    Pool &pool() {
        if (Pool *made = pool_made.load(std::memory_order_acquire)) return *made;
        std::call_once(pool_once, [this] {
            RetryOptions retry = config.retry ? *config.retry : whole_config->retry();
            auto t = target;
            pool_ptr = std::make_shared<Pool>(
                name, config.pool, retry,
                [t, sd = server_dialect](int32_t timeout_ms) {
                    auto conn = NativeConnection::open(t, timeout_ms);
                    if (sd) sd->note(*conn);
                    return conn;
                },
                hooks, &metrics);
            Maintainer::instance().add(pool_ptr);
            if (hooks && hooks->on_pool_created) {
                try {
                    hooks->on_pool_created(name);
                } catch (...) {
                }
            }
            if (whole_config->debug().log_pool_events) log_pool_created();
            pool_made.store(pool_ptr.get(), std::memory_order_release);
        });
        return *pool_ptr;
    }

    // Read replicas ("read": [...]), resolved by Database::open. Weak:
    // connections may name each other. The router (core/src/replicas) is
    // made on the first read; declared last so it goes first.
    std::vector<std::weak_ptr<ConnectionState>> replicas;
    std::once_flag router_once;
    std::shared_ptr<ReplicaRouter> router;

    // Closes the pool (idempotent): onPoolEvicted(name, reason) and, with
    // debug.logPoolEvents, a POOL_EVICTED line.
    void close_pool(const char *reason) noexcept {
        if (!has_pool() || pool_ptr->closed()) return;
        pool_ptr->close();
        if (whole_config && whole_config->debug().log_pool_events) log_pool_evicted(reason);
        if (hooks && hooks->on_pool_evicted) {
            try {
                hooks->on_pool_evicted(name, reason);
            } catch (...) {
                ilana::logger()->error("hook onPoolEvicted threw (ignored)");
            }
        }
    }

    ~ConnectionState() { close_pool("shutdown"); }

private:
    // POOL_CREATED / POOL_EVICTED lines and records (debug.logPoolEvents).
    void log_pool_created() noexcept;
    void log_pool_evicted(const char *reason) noexcept;
};

// A pool that is not one of the config's connections (a tenant's), for
// metrics and health: TenantManager registers a source of them.
struct ExtraPool {
    std::string connection; // the template connection
    std::string tenant;
    std::shared_ptr<ConnectionState> state;
};

// The extra pools as the areas below tenants/ see them: TenantState
// implements it and registers itself in DatabaseState::extra_source on
// TenantManager's first use, one per Database.
struct ExtraPoolSource {
    virtual ~ExtraPoolSource() = default;
    // Listed for metrics and health (pinned while the caller holds them).
    virtual std::vector<ExtraPool> list_pools() = 0;
    // Closes them (Database::close), with the reason onPoolEvicted reports.
    virtual void close_all(const char *reason) = 0;
    // Whole pools closed so far, by reason: {LRU (maxPools), TTL (poolTtlMs)}.
    virtual std::pair<uint64_t, uint64_t> pools_evicted() const = 0;
};

struct DatabaseState {
    std::mutex extra_pools_mu;                    // guards extra_source
    std::shared_ptr<ExtraPoolSource> extra_source; // null until tenants are used
    // The last full health check (HealthOptions::is_full), for the scrape's
    // health gauges; health_running while a scrape runs one (others wait).
    std::mutex health_mu;                       // guards the four below
    std::optional<HealthReport> last_health;
    std::chrono::steady_clock::time_point last_health_at;
    bool health_running = false;
    std::condition_variable health_cv;
    std::chrono::steady_clock::time_point started = std::chrono::steady_clock::now();
    std::shared_ptr<const Config> config;
    DriverRegistry registry;
    std::shared_ptr<const Hooks> hooks;
    std::map<std::string, std::shared_ptr<ConnectionState>, std::less<>> connections;
};

// The registered ExtraPoolSource (null: none), to be called outside
// extra_pools_mu.
inline std::shared_ptr<ExtraPoolSource> extra_source(DatabaseState &state) {
    std::lock_guard<std::mutex> lock(state.extra_pools_mu);
    return state.extra_source;
}

// Tenant pools, pinned while the caller holds the list; none without tenants.
inline std::vector<ExtraPool> extra_pools(DatabaseState &state) {
    auto source = extra_source(state);
    return source ? source->list_pools() : std::vector<ExtraPool>{};
}

// Tenant pools evicted (LRU, TTL) so far; zeros without tenants.
inline std::pair<uint64_t, uint64_t> tenant_pools_evicted(DatabaseState &state) {
    auto source = extra_source(state);
    return source ? source->pools_evicted() : std::pair<uint64_t, uint64_t>{0, 0};
}

// The state of one pool of `cc` named `name` ("primary", or for a tenant
// pool "primary@tenant_a"), with connect parameters replaced or added by
// `overrides` (a tenant's schema / database / file).
std::shared_ptr<ConnectionState> make_connection_state(const DatabaseState &state, const ConnectionConfig &cc,
                                                       std::shared_ptr<LoadedDriver> driver, const std::string &name,
                                                       const std::vector<std::pair<std::string, std::string>> &overrides);

// The one door from a public handle to its internals, for the core's own
// areas (migrate, tenants, query, observe). Host code never sees this header.
struct InternalAccess {
    static DatabaseState &state(const Database &db) { return *db.state_; }
    static const std::shared_ptr<DatabaseState> &shared_state(const Database &db) { return db.state_; }
    static ConnectionState &state(const Connection &c) { return *c.state_; }
    static const std::shared_ptr<ConnectionState> &shared_state(const Connection &c) { return c.state_; }
    static ConnectionState &state(const Session &s) { return *s.state_; }
    static const std::shared_ptr<ConnectionState> &shared_state(const Session &s) { return s.state_; }
    static NativeConnection &native(Session &s) { return *s.pc_->conn; }
    static Connection make_connection(std::shared_ptr<ConnectionState> cs) { return Connection(std::move(cs)); }
    static Database make_database(std::shared_ptr<DatabaseState> ds) { return Database(std::move(ds)); }
};

} // namespace detail
} // namespace ilana
