// Health checks (Database::health_check) and the pools' counters
// (Database::metrics), reached through db/pool_access.hpp.
#include <ilana/database.hpp>
#include <ilana/tenants.hpp>

#include "db/pool_access.hpp"
#include "observe/observe.hpp"
#include "observe/recent_health.hpp"
#include "log/timestamps.hpp"

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
void ping_into(const std::shared_ptr<ConnectionState> &cs, int timeout_ms, PoolHealth &out) {
    auto outcome = std::make_shared<PingOutcome>();
    std::thread([held = cs, outcome, timeout_ms]() mutable {
        std::string error;
        double rtt = 0;
        try {
            rtt = detail::ping_pool(*held, std::chrono::milliseconds(timeout_ms), timeout_ms);
        } catch (const std::exception &e) {
            error = e.what();
        }
        // The pool is let go before the answer is: once the caller has it,
        // the Database may close (a CLI command exits at once), and the last
        // reference to a pool, dropped on this thread after that, would close
        // its sessions and unload the driver under the exiting process
        // (`ilana health` on SQLite crashed at exit about one run in 30).
        held.reset();
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
        out.error = "[" + detail::name_of(*cs) + "] no answer within pingTimeoutMs=" + std::to_string(timeout_ms);
        return;
    }
    if (!outcome->error.empty()) {
        out.status = "unhealthy";
        out.error = outcome->error;
    } else {
        out.response_time_ms = outcome->rtt_ms;
    }
}

void fill_counts(ConnectionState &cs, PoolHealth &h) {
    auto s = detail::pool_stats(cs);
    h.total_connections = s.idle + s.in_use;
    h.idle_connections = s.idle;
    h.in_use = s.in_use;
    h.waiting_requests = s.waiting;
    h.max = s.max;
}

} // namespace

namespace {

// Ping outcome -> status; counts; "degraded" for waiters or > 80% in use.
void grade(PoolHealth &h) {
    if (h.status == "ok" && (h.waiting_requests > 0 || (h.max > 0 && h.in_use * 10 > h.max * 8)))
        h.status = "degraded";
}

// The tenants' shared connection (their template), or "" when the config
// has no tenants or their template is a file name pattern, not a database.
std::string shared_connection(const Config &config) {
    const auto &t = config.tenants();
    if (!t || config.is_tenant_file_template(t->connection)) return {};
    return t->connection;
}

// The last full health check (HealthOptions::is_full), for the scrape's
// health gauges; running while a scrape runs one (others wait). One per
// Database (pool_access.hpp, database_extension).
struct HealthCache final : detail::DatabaseExtension {
    std::mutex mu; // guards the four below
    std::optional<HealthReport> last;
    std::chrono::steady_clock::time_point last_at;
    bool running = false;
    std::condition_variable cv;
};

std::shared_ptr<HealthCache> health_cache(const Database &db) {
    return std::static_pointer_cast<HealthCache>(
        detail::database_extension(db, "observe.health", [] { return std::make_shared<HealthCache>(); }));
}

} // namespace

HealthReport detail::check_health(const Database &db, const HealthOptions &options) {
    const auto start = std::chrono::steady_clock::now();
    const Config &config = db.config();
    const std::string shared = shared_connection(config);
    // What is checked: pools (connections, then tenant pools) and the shared one.
    std::vector<std::shared_ptr<ConnectionState>> targets;
    std::vector<std::pair<std::string, std::string>> labels; // connection, tenant
    std::shared_ptr<ConnectionState> shared_target;
    std::vector<detail::ExtraPool> tenants;   // open tenant pools (pinned while listed)
    std::vector<Connection> opened;           // tenant pools opened for this check (pinned)
    std::vector<std::string> preset_errors;   // per target: unhealthy before any ping (no pool)
    const bool everything = options.connections.empty() && options.tenant_ids.empty();
    if (everything) {
        for (const auto &c : config.connections()) {
            if (config.is_tenant_file_template(c.name)) continue;
            if (c.name == shared) continue;
            auto pool = detail::find_pool(db, c.name);
            if (!pool) continue; // a reload removed it meanwhile
            targets.push_back(std::move(pool));
            labels.emplace_back(c.name, "");
        }
        tenants = detail::extra_pools(db);
        for (const auto &t : tenants) {
            targets.push_back(t.state);
            labels.emplace_back(t.connection, t.tenant);
        }
    } else {
        for (const auto &name : options.connections) {
            auto pool = detail::find_pool(db, name);
            if (!pool)
                throw ConfigError("health check: connection '" + name + "' is not defined; connections: " +
                                      config.connection_names(),
                                  config.source(), "/connections");
            if (config.is_tenant_file_template(name))
                throw ConfigError("health check: connection '" + name +
                                      "' is the tenants' file template (its filename holds {tenant}), not a "
                                      "database: check it without naming connections to see its tenant pools",
                                  config.source(), "/tenants/connection");
            if (name == shared) {
                if (!options.include_shared)
                    throw ConfigError("health check: connection '" + name +
                                          "' is the tenants' shared connection and includeShared is false: name it "
                                          "or leave it out, not both",
                                      config.source(), "/tenants/connection");
                continue; // reported as sharedDb
            }
            targets.push_back(std::move(pool));
            labels.emplace_back(name, "");
        }
        if (!options.tenant_ids.empty()) {
            if (!config.tenants())
                throw ConfigError("health check: tenants given (" + options.tenant_ids.front() +
                                      ", ...) but the config has no \"tenants\" section",
                                  config.source(), "/tenants");
            TenantManager manager(db);
            for (const auto &id : options.tenant_ids) {
                TenantManager::validate_id(id); // before any pool is opened
            }
            for (const auto &id : options.tenant_ids) {
                labels.emplace_back(config.tenants()->connection, id);
                // A missing namespace is not healthy, though PostgreSQL
                // would connect with it in search_path: say so, open nothing.
                std::string missing;
                try {
                    if (options.ping && !manager.exists(id))
                        missing = "tenant '" + id + "' has no namespace " + manager.namespace_of(id) +
                                  " (ilana tenants:create " + id + ")";
                } catch (const std::exception &e) {
                    missing = e.what();
                }
                if (!missing.empty()) {
                    targets.push_back(nullptr);
                    preset_errors.resize(targets.size());
                    preset_errors.back() = std::move(missing);
                    continue;
                }
                opened.push_back(manager.get(id));
                targets.push_back(detail::shared_state_of(opened.back()));
            }
        }
    }
    if (!shared.empty() && options.include_shared) shared_target = detail::find_pool(db, shared);

    HealthReport report;
    report.timestamp = detail::iso8601_now();
    report.pools.resize(targets.size());
    PoolHealth shared_health;
    // Check the pools in parallel: the report takes as long as the slowest.
    std::vector<std::thread> workers;
    for (size_t i = 0; i < targets.size(); ++i) {
        report.pools[i].connection = labels[i].first;
        report.pools[i].tenant = labels[i].second;
        report.pools[i].status = "ok";
        if (!targets[i]) {
            report.pools[i].status = "unhealthy";
            report.pools[i].error = preset_errors[i];
            continue;
        }
        if (options.ping)
            workers.emplace_back([&, i] { ping_into(targets[i], options.ping_timeout_ms, report.pools[i]); });
    }
    if (shared_target) {
        shared_health.connection = shared;
        shared_health.status = "ok";
        if (options.ping)
            workers.emplace_back([&] { ping_into(shared_target, options.ping_timeout_ms, shared_health); });
    }
    for (auto &w : workers) w.join();
    for (size_t i = 0; i < targets.size(); ++i) {
        PoolHealth &h = report.pools[i];
        if (targets[i]) fill_counts(*targets[i], h);
        grade(h);
        if (h.status == "degraded") ++report.degraded_pools;
        if (h.status == "unhealthy") ++report.unhealthy_pools;
    }
    if (shared_target) {
        fill_counts(*shared_target, shared_health);
        grade(shared_health);
        report.shared_db = SharedDbHealth{shared, shared_health.status, shared_health.response_time_ms,
                                          shared_health.error};
    }
    report.total_pools = static_cast<int>(report.pools.size());
    report.healthy = report.unhealthy_pools == 0 && !(report.shared_db && report.shared_db->status == "unhealthy");
    report.duration_ms =
        std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start).count();
    // Only a check of everything may stand for the scrape's health gauges.
    if (options.is_full()) {
        auto cache = health_cache(db);
        std::lock_guard<std::mutex> lock(cache->mu);
        cache->last = report;
        cache->last_at = std::chrono::steady_clock::now();
    }
    return report;
}

HealthReport detail::recent_health(const Database &db, int64_t max_age_ms, int ping_timeout_ms) {
    auto cache = health_cache(db);
    HealthCache &state = *cache;
    const auto asked = std::chrono::steady_clock::now();
    // A check that ends after this one was asked for is as fresh as one of
    // its own (two scrapes at once share one check, even with max age 0).
    const auto fresh = [&] {
        return state.last && state.last_at + std::chrono::milliseconds(max_age_ms) >= asked;
    };
    {
        std::unique_lock<std::mutex> lock(state.mu);
        // A check is bounded by the ping timeout (plus thread start-up):
        // wait for another scraper's check no longer than that.
        const auto give_up = asked + std::chrono::milliseconds(ping_timeout_ms + 250);
        while (!fresh() && state.running)
            if (state.cv.wait_until(lock, give_up) == std::cv_status::timeout) break;
        if (fresh()) return *state.last;
        if (state.running) {
            // The other check overran: report the last known state, or
            // unhealthy when there is none.
            if (state.last) return *state.last;
            HealthReport unknown;
            unknown.healthy = false;
            return unknown;
        }
        state.running = true;
    }
    struct Done {
        HealthCache &state;
        ~Done() {
            std::lock_guard<std::mutex> lock(state.mu);
            state.running = false;
            state.cv.notify_all();
        }
    } done{state};
    HealthOptions options;
    options.ping_timeout_ms = ping_timeout_ms;
    return check_health(db, options);
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
    if (shared_db) {
        w.Key("sharedDb");
        w.StartObject();
        w.Key("connection");
        w.String(shared_db->connection.c_str());
        w.Key("status");
        w.String(shared_db->status.c_str());
        w.Key("responseTimeMs");
        if (shared_db->response_time_ms) w.Double(*shared_db->response_time_ms);
        else w.Null();
        w.Key("error");
        if (shared_db->error.empty()) w.Null();
        else w.String(shared_db->error.c_str());
        w.EndObject();
    }
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
PoolMetrics pool_metrics(const ConnectionState &cs, std::string connection, std::string tenant) {
    PoolMetrics m;
    m.connection = std::move(connection);
    m.tenant = std::move(tenant);
    m.client = detail::client_of(cs);
    std::tie(m.min, m.max) = detail::pool_size_of(cs);
    if (auto made = detail::pool_stats_if_made(cs)) {
        const auto &s = *made;
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
    auto counters = detail::statement_counters(cs);
    m.queries_ok = counters.queries_ok;
    m.queries_error = counters.queries_error;
    m.retries = counters.retries;
    m.query_p50_ms = counters.query_duration.quantile(0.5) * 1000;
    m.query_p99_ms = counters.query_duration.quantile(0.99) * 1000;
    return m;
}
} // namespace

MetricsSnapshot detail::metrics_snapshot(const Database &db) {
    MetricsSnapshot snap;
    snap.timestamp = detail::iso8601_now();
    for (const auto &c : db.config().connections()) {
        const auto cs = detail::find_pool(db, c.name);
        if (!cs) continue; // a reload removed it meanwhile
        if (detail::pool_stats_if_made(*cs)) ++snap.pools_active;
        snap.pools.push_back(pool_metrics(*cs, c.name, {}));
    }
    // A listed tenant pool is open (the tenant table made it).
    for (const auto &t : detail::extra_pools(db)) {
        snap.pools.push_back(pool_metrics(*t.state, t.connection, t.tenant));
        ++snap.pools_active;
    }
    std::tie(snap.tenant_pools_evicted_lru, snap.tenant_pools_evicted_ttl) = detail::tenant_pools_evicted(db);
    snap.pools_max = static_cast<int>(db.config().connections().size()) +
                     (db.config().tenants() ? db.config().tenants()->max_pools : 0);
    return snap;
}

} // namespace ilana
