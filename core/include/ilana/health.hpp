// ilana/health.hpp — pool health and metrics, for load balancers and
// Prometheus.
//
//   ilana::HealthReport h = db.health_check({{}, true, 3000});
//   response.status(h.healthy ? 200 : 503).body(h.to_json());
//   std::string text = db.prometheus_text();   // exposition format 0.0.4
//
// Status of one pool: "unhealthy" when the ping fails or does not answer
// within pingTimeoutMs (a server that accepts TCP and never answers cannot
// hang the check: each pool is checked on its own thread and abandoned at
// the deadline); "degraded" when requests are waiting for a connection or
// more than 80% of `max` is in use; "ok" otherwise.
//
// Thread safety: every call may run concurrently with queries and with each
// other. Reading metrics takes no lock that queries take.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace ilana {

// What a check covers. With neither `connections` nor `tenant_ids`, every
// connection and every open tenant pool; naming either checks only what is
// named (the seed's healthCheck({tenantIds}) checks those tenants).
// A tenant named in `tenant_ids` whose pool is not open gets one opened
// (the ping needs a session anyway), so `ilana health --tenant acme` works
// from a fresh process. With ping, each named tenant's namespace is first
// looked up on the shared connection (one round trip each, before the
// pings, bounded by that pool's acquireTimeoutMillis rather than the ping
// timeout): a tenant without one is "unhealthy" and gets no pool, since
// PostgreSQL would happily connect with a missing schema in search_path.
// The tenants' template connection ("tenants": {"connection"}) is the
// seed's shared database: it is reported in HealthReport::shared_db, not in
// `pools`, and checked whenever `include_shared` is true (unless the
// isolation is "file": its template is not a database and there is none).
struct HealthOptions {
    HealthOptions() = default;
    // The original three options: {{"primary"}, true, 3000} keeps compiling
    // (without -Wmissing-field-initializers noise for the newer ones).
    HealthOptions(std::vector<std::string> connections_, bool ping_ = true, int ping_timeout_ms_ = 3000)
        : connections(std::move(connections_)), ping(ping_), ping_timeout_ms(ping_timeout_ms_) {}

    std::vector<std::string> connections; // config connections to check
    bool ping = true;                     // round trip to the server
    int ping_timeout_ms = 3000;
    std::vector<std::string> tenant_ids;  // tenant pools to check
    bool include_shared = true;           // check the tenants' shared connection

    // Whether this check covers everything a scrape reports (so it may
    // stand for the health gauges of /metrics).
    bool is_full() const { return connections.empty() && tenant_ids.empty() && include_shared && ping; }
};

struct PoolHealth {
    std::string connection;
    std::string tenant;                   // "" for a connection's own pool
    std::string status;                   // ok | degraded | unhealthy
    int total_connections = 0, idle_connections = 0, in_use = 0, waiting_requests = 0, max = 0;
    std::optional<double> response_time_ms; // the ping's round trip, when pinged
    std::string error;                    // why unhealthy ("" otherwise)
};

// The tenants' shared connection (the seed's "sharedDb").
struct SharedDbHealth {
    std::string connection;
    std::string status;                     // ok | degraded | unhealthy
    std::optional<double> response_time_ms;
    std::string error;
};

struct HealthReport {
    bool healthy = true;                  // no pool and no shared db unhealthy
    std::vector<PoolHealth> pools;
    std::optional<SharedDbHealth> shared_db; // checked, with a tenants section
    int total_pools = 0, degraded_pools = 0, unhealthy_pools = 0;
    std::string timestamp;                // ISO 8601 UTC
    int64_t duration_ms = 0;
    // {"healthy":..,"pools":[{"connection",...}],
    //  "sharedDb":{"connection","status","responseTimeMs","error"} (when checked),
    //  "totalPools",..,"timestamp","durationMs"}
    std::string to_json() const;
};

// Database::prometheus_text's options (prometheus_text(bool) takes the
// config's "metrics": healthMaxAgeMs, pingTimeoutMs).
// The health gauges come from a full health check no older than
// health_max_age_ms: a scrape that finds the last one older runs one (or
// waits for the one another scrape is running), so it takes at most about
// ping_timeout_ms longer; a check that does not finish within that leaves
// the gauges at the previous check's values.
struct PrometheusOptions {
    bool include_runtime = false;
    int64_t health_max_age_ms = 10000;
    int ping_timeout_ms = 3000;
};

struct PoolMetrics {
    std::string connection;
    std::string tenant;
    std::string client;
    int idle = 0, in_use = 0, waiting = 0, pending = 0, min = 0, max = 0;
    uint64_t created = 0, destroyed = 0, timeouts = 0;
    // Connections taken out of service before the pool closed: evicted is
    // the sum of the reasons (idleTimeoutMillis, maxLifetimeMillis, broken
    // or failed validation). destroy_timeouts: closes abandoned after
    // destroyTimeoutMillis.
    uint64_t evicted = 0, evicted_idle = 0, evicted_lifetime = 0, evicted_broken = 0, destroy_timeouts = 0;
    uint64_t queries_ok = 0, queries_error = 0, retries = 0;
    double query_p50_ms = 0, query_p99_ms = 0;
};

struct MetricsSnapshot {
    std::vector<PoolMetrics> pools;
    int pools_active = 0; // pools that exist now (tenant pools included)
    int pools_max = 0;    // connections + tenants.maxPools
    // Whole tenant pools closed by the tenant manager (TenantPoolStats):
    // least recently used at maxPools, idle past poolTtlMs.
    uint64_t tenant_pools_evicted_lru = 0, tenant_pools_evicted_ttl = 0;
    std::string timestamp;
};

} // namespace ilana
