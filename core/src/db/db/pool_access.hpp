// What the features above the db layer (query, migrate, replicas, tenants,
// observe) may know of a Database's pools: the db layer's one interface for
// them. A pool is named by its ConnectionState, opaque here (its layout is
// db/database_state.hpp, which only the db layer includes); features hold
// it by pointer and ask the functions below. DESIGN-NOTES.md, "Layers of
// the core".
#pragma once

#include <ilana/config.hpp>
#include <ilana/database.hpp>
#include <ilana/hooks.hpp>

#include "db/sticky.hpp" // read-your-writes: note_write, reads_pinned_to_primary
#include "instruments/connection_metrics.hpp"
#include "plugins/native_connection.hpp"
#include "pool/pool.hpp"

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace ilana::detail {

struct ConnectionState; // one pool of a Database (and its connection's facts)
struct DatabaseState;   // the Database behind its handles

// ---- handles --------------------------------------------------------------

// The pool a handle's calls go to: after a reload that replaced its
// connection the new one; ConfigError when a reload removed it.
ConnectionState &state_of(const Connection &c);
std::shared_ptr<ConnectionState> shared_state_of(const Connection &c);
// The pool a session was leased from (borrowed for the session's life when
// the session is one call's).
ConnectionState &state_of(const Session &s) noexcept;
// A handle to the pool `cs` (pins it while the handle lives).
Connection connection_of(std::shared_ptr<ConnectionState> cs);
// The Connection a session was leased from.
Connection connection_of(const Session &s);
const std::shared_ptr<DatabaseState> &shared_state_of(const Database &db) noexcept;
Database database_of(std::shared_ptr<DatabaseState> ds);
// The session's native connection (runtime/plugins), for SQL the features
// run outside the statement path (migrations, tenant namespaces).
NativeConnection &native(Session &s) noexcept;

// ---- a pool's facts -------------------------------------------------------

const std::string &name_of(const ConnectionState &cs) noexcept;
// The connection's config as its pool was made from it; pool.min / pool.max
// may have changed since by a reload (pool_size_of).
const ConnectionConfig &config_of(const ConnectionState &cs) noexcept;
// {pool.min, pool.max} now (after any resize by a reload).
std::pair<int, int> pool_size_of(const ConnectionState &cs);
const Dialect &dialect_of(const ConnectionState &cs) noexcept;
const std::string &client_of(const ConnectionState &cs) noexcept;
// The host's hooks (never null; empty functions are no hooks).
const Hooks &hooks_of(const ConnectionState &cs) noexcept;
// Where sessions of the pool connect (a probe may open one outside the pool).
const std::shared_ptr<const ConnectTarget> &target_of(const ConnectionState &cs) noexcept;
// Retry options of the connection: its own "retry", else the config's.
RetryOptions retry_options_of(const ConnectionState &cs);
// Read replicas ("read": [...]); weak: connections may name each other.
const std::vector<std::weak_ptr<ConnectionState>> &replicas_of(const ConnectionState &cs) noexcept;

// ---- a pool's figures and sessions ---------------------------------------

// The pool's counts, making the pool when it is not made yet.
PoolStats pool_stats(ConnectionState &cs);
// The counts of a made pool; nothing when no session was ever asked of it
// (metrics and scrapes must not open pools).
std::optional<PoolStats> pool_stats_if_made(const ConnectionState &cs);
// The server budgets ("servers") of a Database, in config order: their
// figures now (metrics, doctor).
struct ServerBudgetFigures {
    std::string server;
    ServerBudget::Snapshot figures;
};
std::vector<ServerBudgetFigures> server_budgets(const Database &db);
// Statement counters (queries, errors, retries, latencies).
MetricsSnapshotCounters statement_counters(const ConnectionState &cs);
// Leases a session within `timeout` (not the pool's acquireTimeoutMillis),
// pings it within `timeout_ms` and gives it back; returns the ping's round
// trip in milliseconds. Throws Error.
double ping_pool(ConnectionState &cs, std::chrono::milliseconds timeout, int timeout_ms);
// Closes the pool (idempotent): onPoolEvicted(name, reason), POOL_EVICTED.
void close_pool(ConnectionState &cs, const char *reason) noexcept;
// Reports `e` to the onError hook of the pool's connection.
void report_error(ConnectionState &cs, const Error &e) noexcept;

// ---- per-connection state of a feature -----------------------------------

// The read router of a connection with replicas (features/replicas), made
// once by `make` on first use and owned by the connection.
struct ReadRouting {
    virtual ~ReadRouting() = default;
};
ReadRouting *read_routing(ConnectionState &cs, const std::function<std::shared_ptr<ReadRouting>()> &make);

// ---- pools outside the config (tenants) ----------------------------------

// A pool that is not one of the config's connections (a tenant's), for
// metrics and health.
struct ExtraPool {
    std::string connection; // the template connection
    std::string tenant;
    std::shared_ptr<ConnectionState> state;
};

// The extra pools as the db layer and observe see them: TenantState
// implements it and registers itself with register_extra_source on its
// first use, one per Database.
struct ExtraPoolSource {
    virtual ~ExtraPoolSource() = default;
    // Listed for metrics and health (pinned while the caller holds them).
    virtual std::vector<ExtraPool> list_pools() = 0;
    // Closes them (Database::close), with the reason onPoolEvicted reports.
    virtual void close_all(const char *reason) = 0;
    // Whole pools closed so far, by reason: {LRU (maxPools), TTL (poolTtlMs)}.
    virtual std::pair<uint64_t, uint64_t> pools_evicted() const = 0;
};

// The Database's extra pool source: the registered one, else the one `make`
// returns (registered then; under the Database's lock, so one per Database).
std::shared_ptr<ExtraPoolSource> extra_source(const Database &db,
                                              const std::function<std::shared_ptr<ExtraPoolSource>()> &make);
// Tenant pools, pinned while the caller holds the list; none without tenants.
std::vector<ExtraPool> extra_pools(const Database &db);
// Tenant pools evicted (LRU, TTL) so far; zeros without tenants.
std::pair<uint64_t, uint64_t> tenant_pools_evicted(const Database &db);
// A pool of `cc` named `name` ("primary@tenant_a") with connect parameters
// replaced or added by `overrides`, its records naming `namespace_name`;
// the pool is made (onPoolCreated) before it is returned. Throws Error when
// the Database is gone.
std::shared_ptr<ConnectionState> open_extra_pool(const std::weak_ptr<DatabaseState> &db, const ConnectionConfig &cc,
                                                 std::shared_ptr<LoadedDriver> driver, const std::string &name,
                                                 const std::vector<std::pair<std::string, std::string>> &overrides,
                                                 const std::string &namespace_name);

// ---- per-Database state of a feature -------------------------------------

struct DatabaseExtension {
    virtual ~DatabaseExtension() = default;
};
// The feature state of `db` under `key` ("observe.health"), made once by
// `make` and owned by the Database.
std::shared_ptr<DatabaseExtension> database_extension(const Database &db, std::string_view key,
                                                      const std::function<std::shared_ptr<DatabaseExtension>()> &make);
// A config connection's pool by name (null: no such connection).
std::shared_ptr<ConnectionState> find_pool(const Database &db, std::string_view name);
// The Database's config, shared (for state that outlives a call).
const std::shared_ptr<const Config> &shared_config_of(const Database &db) noexcept;
// When the Database was opened (for the uptime gauge).
std::chrono::steady_clock::time_point opened_at(const Database &db) noexcept;

} // namespace ilana::detail
