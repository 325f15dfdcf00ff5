// The db layer's interface for the features (db/pool_access.hpp).
#include "db/pool_access.hpp"

#include "common/error_factory.hpp"
#include "db/database_state.hpp"
#include "db/statement_events.hpp"

namespace ilana::detail {

// ---- handles --------------------------------------------------------------

ConnectionState &state_of(const Connection &c) { return InternalAccess::state(c).live(); }
std::shared_ptr<ConnectionState> shared_state_of(const Connection &c) {
    return ConnectionState::live_shared(InternalAccess::shared_state(c));
}
ConnectionState &state_of(const Session &s) noexcept { return InternalAccess::state(s); }
Connection connection_of(std::shared_ptr<ConnectionState> cs) { return InternalAccess::make_connection(std::move(cs)); }
Connection connection_of(const Session &s) { return InternalAccess::make_connection(InternalAccess::shared_state(s)); }
const std::shared_ptr<DatabaseState> &shared_state_of(const Database &db) noexcept {
    return InternalAccess::shared_state(db);
}
Database database_of(std::shared_ptr<DatabaseState> ds) { return InternalAccess::make_database(std::move(ds)); }
NativeConnection &native(Session &s) noexcept { return InternalAccess::native(s); }

// ---- a pool's facts -------------------------------------------------------

const std::string &name_of(const ConnectionState &cs) noexcept { return cs.name; }
const ConnectionConfig &config_of(const ConnectionState &cs) noexcept { return cs.config; }
std::pair<int, int> pool_size_of(const ConnectionState &cs) { return cs.pool_size(); }
const Dialect &dialect_of(const ConnectionState &cs) noexcept { return cs.dialect; }
const std::string &client_of(const ConnectionState &cs) noexcept { return cs.client; }
const Hooks &hooks_of(const ConnectionState &cs) noexcept {
    static const Hooks none;
    return cs.hooks ? *cs.hooks : none;
}
const std::shared_ptr<const ConnectTarget> &target_of(const ConnectionState &cs) noexcept { return cs.target; }
RetryOptions retry_options_of(const ConnectionState &cs) {
    return cs.config.retry ? *cs.config.retry : cs.whole_config->retry();
}
const std::vector<std::weak_ptr<ConnectionState>> &replicas_of(const ConnectionState &cs) noexcept {
    return cs.replicas;
}

// ---- a pool's figures and sessions ---------------------------------------

PoolStats pool_stats(ConnectionState &cs) { return cs.live().pool().stats(); }

std::optional<PoolStats> pool_stats_if_made(const ConnectionState &cs) {
    if (!cs.has_pool()) return std::nullopt;
    return cs.pool_ptr->stats();
}

MetricsSnapshotCounters statement_counters(const ConnectionState &cs) { return cs.metrics.snapshot(); }

std::vector<ServerBudgetFigures> server_budgets(const Database &db) {
    const DatabaseState &ds = *shared_state_of(db);
    std::vector<ServerBudgetFigures> out;
    const Generation &g = ds.current();
    for (const auto &server : g.config->servers())
        if (auto it = g.budgets.find(server.name); it != g.budgets.end())
            out.push_back({server.name, it->second->snapshot()});
    return out;
}

double ping_pool(ConnectionState &cs, std::chrono::milliseconds timeout, int timeout_ms) {
    auto pc = cs.pool().acquire(timeout);
    const auto t0 = std::chrono::steady_clock::now();
    try {
        pc->conn->ping(timeout_ms);
    } catch (...) {
        cs.pool().release(std::move(pc));
        throw;
    }
    const double rtt = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
    cs.pool().release(std::move(pc));
    return rtt;
}

void close_pool(ConnectionState &cs, const char *reason) noexcept { cs.close_pool(reason); }

// ---- per-connection state of a feature -----------------------------------

ReadRouting *read_routing(ConnectionState &cs, const std::function<std::shared_ptr<ReadRouting>()> &make) {
    std::call_once(cs.router_once, [&] { cs.router = make(); });
    return cs.router.get();
}

// ---- pools outside the config (tenants) ----------------------------------

std::shared_ptr<ExtraPoolSource> extra_source(const Database &db,
                                              const std::function<std::shared_ptr<ExtraPoolSource>()> &make) {
    DatabaseState &ds = InternalAccess::state(db);
    std::lock_guard<std::mutex> lock(ds.extra_pools_mu);
    if (!ds.extra_source) ds.extra_source = make();
    return ds.extra_source;
}

std::vector<ExtraPool> extra_pools(const Database &db) {
    auto source = extra_source(InternalAccess::state(db));
    return source ? source->list_pools() : std::vector<ExtraPool>{};
}

std::pair<uint64_t, uint64_t> tenant_pools_evicted(const Database &db) {
    auto source = extra_source(InternalAccess::state(db));
    return source ? source->pools_evicted() : std::pair<uint64_t, uint64_t>{0, 0};
}

std::shared_ptr<ConnectionState> open_extra_pool(const std::weak_ptr<DatabaseState> &db, const ConnectionConfig &cc,
                                                 std::shared_ptr<LoadedDriver> driver, const std::string &name,
                                                 const std::vector<std::pair<std::string, std::string>> &overrides,
                                                 const std::string &namespace_name) {
    auto ds = db.lock();
    if (!ds) detail::throw_error(Error("tenants: the Database is closed", ErrorClass::connection, name));
    auto cs = make_connection_state(*ds, ds->current(), cc, std::move(driver), name, overrides);
    cs->namespace_name = namespace_name; // for log records, POOL_CREATED first
    cs->pool();                          // the pool exists from now on: onPoolCreated
    return cs;
}

// ---- per-Database state of a feature -------------------------------------

std::shared_ptr<DatabaseExtension> database_extension(const Database &db, std::string_view key,
                                                      const std::function<std::shared_ptr<DatabaseExtension>()> &make) {
    DatabaseState &ds = InternalAccess::state(db);
    std::lock_guard<std::mutex> lock(ds.extra_pools_mu);
    auto it = ds.extensions.find(key);
    if (it == ds.extensions.end()) it = ds.extensions.emplace(std::string(key), make()).first;
    return it->second;
}

std::shared_ptr<ConnectionState> find_pool(const Database &db, std::string_view name) {
    const Generation &g = InternalAccess::state(db).current();
    auto it = g.connections.find(name);
    return it == g.connections.end() ? nullptr : it->second;
}

const std::shared_ptr<const Config> &shared_config_of(const Database &db) noexcept {
    return InternalAccess::state(db).current().config;
}

std::chrono::steady_clock::time_point opened_at(const Database &db) noexcept { return InternalAccess::state(db).started; }

} // namespace ilana::detail
