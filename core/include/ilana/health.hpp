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
#include <vector>

namespace ilana {

struct HealthOptions {
    std::vector<std::string> connections; // empty: every connection
    bool ping = true;                     // round trip to the server
    int ping_timeout_ms = 3000;
};

struct PoolHealth {
    std::string connection;
    std::string tenant;                   // "" for a connection's own pool
    std::string status;                   // ok | degraded | unhealthy
    int total_connections = 0, idle_connections = 0, in_use = 0, waiting_requests = 0, max = 0;
    std::optional<double> response_time_ms; // the ping's round trip, when pinged
    std::string error;                    // why unhealthy ("" otherwise)
};

struct HealthReport {
    bool healthy = true;
    std::vector<PoolHealth> pools;
    int total_pools = 0, degraded_pools = 0, unhealthy_pools = 0;
    std::string timestamp;                // ISO 8601 UTC
    int64_t duration_ms = 0;
    // {"healthy":..,"pools":[{"connection",...}],"totalPools",..,"timestamp","durationMs"}
    std::string to_json() const;
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
