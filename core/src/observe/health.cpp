// Database::health_check and Database::metrics.
#include <ilana/database.hpp>

#include "db/database_state.hpp"
#include "observe/timestamps.hpp"

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <condition_variable>
#include <tuple>
#include <thread>

namespace ilana {

using detail::ConnectionState;

namespace {

struct PingOutcome {
    std::mutex mu;
    std::condition_variable cv;
    bool done = false;
    std::string error;
    double rtt_ms = 0;
};

// Pings one pool on a thread of its own, so a server that never answers
// costs the caller at most the timeout; the thread ends on its own later
// (the driver's ping is bounded too).
void ping_pool(const std::shared_ptr<ConnectionState> &cs, int timeout_ms, PoolHealth &out) {
    auto outcome = std::make_shared<PingOutcome>();
    std::thread([cs, outcome, timeout_ms] {
        std::string error;
        double rtt = 0;
        try {
            auto pc = cs->pool().acquire(std::chrono::milliseconds(timeout_ms));
            auto t0 = std::chrono::steady_clock::now();
            try {
                pc->conn->ping(timeout_ms);
            } catch (...) {
                cs->pool().release(std::move(pc));
                throw;
            }
            rtt = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
            cs->pool().release(std::move(pc));
        } catch (const std::exception &e) {
            error = e.what();
        }
        std::lock_guard<std::mutex> lock(outcome->mu);
        outcome->done = true;
        outcome->error = std::move(error);
        outcome->rtt_ms = rtt;
        outcome->cv.notify_one();
    }).detach();
    std::unique_lock<std::mutex> lock(outcome->mu);
    // A little slack over the driver's own timeout for thread start-up.
    if (!outcome->cv.wait_for(lock, std::chrono::milliseconds(timeout_ms + 50), [&] { return outcome->done; })) {
        out.status = "unhealthy";
        out.error = "[" + cs->name + "] no answer within pingTimeoutMs=" + std::to_string(timeout_ms);
        return;
    }
    if (!outcome->error.empty()) {
        out.status = "unhealthy";
        out.error = outcome->error;
    } else {
        out.response_time_ms = outcome->rtt_ms;
    }
}

// Tenant pools (core/src/tenants), pinned while the caller holds the list.
std::vector<detail::ExtraPool> extra_pools(detail::DatabaseState &state) {
    std::function<std::vector<detail::ExtraPool>()> source;
    {
        std::lock_guard<std::mutex> lock(state.extra_pools_mu);
        source = state.extra_pools;
    }
    return source ? source() : std::vector<detail::ExtraPool>{};
}

void fill_counts(ConnectionState &cs, PoolHealth &h) {
    auto s = cs.pool().stats();
    h.total_connections = s.idle + s.in_use;
    h.idle_connections = s.idle;
    h.in_use = s.in_use;
    h.waiting_requests = s.waiting;
    h.max = s.max;
}

} // namespace

HealthReport Database::health_check(const HealthOptions &options) const {
    const auto start = std::chrono::steady_clock::now();
    std::vector<std::shared_ptr<ConnectionState>> targets;
    std::vector<detail::ExtraPool> tenants;
    if (options.connections.empty()) {
        for (const auto &c : state_->config->connections())
            if (!state_->config->is_tenant_file_template(c.name)) targets.push_back(state_->connections.at(c.name));
        tenants = extra_pools(*state_);
        for (const auto &t : tenants) targets.push_back(t.state);
    } else {
        for (const auto &name : options.connections) {
            auto it = state_->connections.find(name);
            if (it == state_->connections.end())
                throw ConfigError("health check: connection '" + name + "' is not defined; connections: " +
                                      state_->config->connection_names(),
                                  state_->config->source(), "/connections");
            if (state_->config->is_tenant_file_template(name))
                throw ConfigError("health check: connection '" + name +
                                      "' is the tenants' file template (its filename holds {tenant}), not a "
                                      "database: check it without naming connections to see its tenant pools",
                                  state_->config->source(), "/tenants/connection");
            targets.push_back(it->second);
        }
    }

    HealthReport report;
    report.timestamp = detail::iso8601_now();
    report.pools.resize(targets.size());
    // Check the pools in parallel: the report takes as long as the slowest.
    std::vector<std::thread> workers;
    const size_t first_tenant = targets.size() - tenants.size();
    for (size_t i = 0; i < targets.size(); ++i) {
        report.pools[i].connection = targets[i]->name;
        if (i >= first_tenant) {
            report.pools[i].connection = tenants[i - first_tenant].connection;
            report.pools[i].tenant = tenants[i - first_tenant].tenant;
        }
        report.pools[i].status = "ok";
        if (options.ping)
            workers.emplace_back([&, i] { ping_pool(targets[i], options.ping_timeout_ms, report.pools[i]); });
    }
    for (auto &w : workers) w.join();
    for (size_t i = 0; i < targets.size(); ++i) {
        PoolHealth &h = report.pools[i];
        fill_counts(*targets[i], h);
        if (h.status == "ok" && (h.waiting_requests > 0 || (h.max > 0 && h.in_use * 10 > h.max * 8)))
            h.status = "degraded";
        if (h.status == "degraded") ++report.degraded_pools;
        if (h.status == "unhealthy") ++report.unhealthy_pools;
    }
    report.total_pools = static_cast<int>(report.pools.size());
    report.healthy = report.unhealthy_pools == 0;
    report.duration_ms =
        std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start).count();
    {
        std::lock_guard<std::mutex> lock(state_->health_mu);
        state_->last_health = report;
    }
    return report;
}

std::string HealthReport::to_json() const {
    rapidjson::StringBuffer buf;
    rapidjson::Writer<rapidjson::StringBuffer> w(buf);
    w.StartObject();
    w.Key("healthy");
    w.Bool(healthy);
    w.Key("pools");
    w.StartArray();
    for (const auto &p : pools) {
        w.StartObject();
        w.Key("connection");
        w.String(p.connection.c_str());
        if (!p.tenant.empty()) {
            w.Key("tenantId");
            w.String(p.tenant.c_str());
        }
        w.Key("status");
        w.String(p.status.c_str());
        w.Key("totalConnections");
        w.Int(p.total_connections);
        w.Key("idleConnections");
        w.Int(p.idle_connections);
        w.Key("inUse");
        w.Int(p.in_use);
        w.Key("waitingRequests");
        w.Int(p.waiting_requests);
        w.Key("responseTimeMs");
        if (p.response_time_ms) w.Double(*p.response_time_ms);
        else w.Null();
        w.Key("error");
        if (p.error.empty()) w.Null();
        else w.String(p.error.c_str());
        w.EndObject();
    }
    w.EndArray();
    w.Key("totalPools");
    w.Int(total_pools);
    w.Key("degradedPools");
    w.Int(degraded_pools);
    w.Key("unhealthyPools");
    w.Int(unhealthy_pools);
    w.Key("timestamp");
    w.String(timestamp.c_str());
    w.Key("durationMs");
    w.Int64(duration_ms);
    w.EndObject();
    return buf.GetString();
}

namespace {
// One pool's line of Database::metrics(): its pool counts (when the pool is
// made) and its query counters.
PoolMetrics pool_metrics(ConnectionState &cs, std::string connection, std::string tenant) {
    PoolMetrics m;
    m.connection = std::move(connection);
    m.tenant = std::move(tenant);
    m.client = cs.client;
    m.min = cs.config.pool.min;
    m.max = cs.config.pool.max;
    if (cs.has_pool()) {
        auto s = cs.pool_ptr->stats();
        m.idle = s.idle;
        m.in_use = s.in_use;
        m.waiting = s.waiting;
        m.pending = s.pending;
        m.created = s.created;
        m.destroyed = s.destroyed;
        m.timeouts = s.timeouts;
        m.evicted = s.evicted();
        m.evicted_idle = s.evicted_idle;
        m.evicted_lifetime = s.evicted_lifetime;
        m.evicted_broken = s.evicted_broken;
        m.destroy_timeouts = s.destroy_timeouts;
    }
    auto counters = cs.metrics.snapshot();
    m.queries_ok = counters.queries_ok;
    m.queries_error = counters.queries_error;
    m.retries = counters.retries;
    m.query_p50_ms = counters.query_duration.quantile(0.5) * 1000;
    m.query_p99_ms = counters.query_duration.quantile(0.99) * 1000;
    return m;
}
} // namespace

MetricsSnapshot Database::metrics() const {
    MetricsSnapshot snap;
    snap.timestamp = detail::iso8601_now();
    for (const auto &c : state_->config->connections()) {
        ConnectionState &cs = *state_->connections.at(c.name);
        if (cs.has_pool()) ++snap.pools_active;
        snap.pools.push_back(pool_metrics(cs, cs.name, {}));
    }
    // A listed tenant pool is open (the tenant table made it).
    for (const auto &t : extra_pools(*state_)) {
        snap.pools.push_back(pool_metrics(*t.state, t.connection, t.tenant));
        ++snap.pools_active;
    }
    std::tie(snap.tenant_pools_evicted_lru, snap.tenant_pools_evicted_ttl) = detail::tenant_pools_evicted(*state_);
    snap.pools_max = static_cast<int>(state_->config->connections().size()) +
                     (state_->config->tenants() ? state_->config->tenants()->max_pools : 0);
    return snap;
}

} // namespace ilana
