// The Prometheus text (Database::prometheus_text): the text exposition format 0.0.4.
// Every family gets HELP and TYPE; label values are escaped (\\, \", \n).
#include <ilana/database.hpp>

#include "db/pool_access.hpp"
#include "observe/observe.hpp"
#include "observe/recent_health.hpp"

#include <dirent.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <sstream>

#ifndef ILANA_VERSION
#define ILANA_VERSION "0.0.0"
#endif

namespace ilana {

using detail::ConnectionState;

namespace {

std::string escape_label(const std::string &v) {
    std::string out;
    out.reserve(v.size());
    for (char c : v) {
        if (c == '\\') out += "\\\\";
        else if (c == '"') out += "\\\"";
        else if (c == '\n') out += "\\n";
        else out += c;
    }
    return out;
}

std::string number(double v) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.17g", v);
    return buf;
}

class Exposition {
public:
    void family(const char *name, const char *type, const char *help) {
        out_ << "# HELP " << name << ' ' << help << "\n# TYPE " << name << ' ' << type << '\n';
    }
    // labels: "connection=\"x\",state=\"idle\"" already escaped, or "".
    void sample(const std::string &name, const std::string &labels, double value) {
        out_ << name;
        if (!labels.empty()) out_ << '{' << labels << '}';
        out_ << ' ' << number(value) << '\n';
    }
    void histogram(const std::string &name, const std::string &labels, const detail::HistogramSnapshot &h) {
        uint64_t cumulative = 0;
        const std::string sep = labels.empty() ? "" : ",";
        for (size_t i = 0; i < detail::kLatencyBuckets.size(); ++i) {
            cumulative += h.counts[i];
            sample(name + "_bucket", labels + sep + "le=\"" + number(detail::kLatencyBuckets[i]) + "\"",
                   static_cast<double>(cumulative));
        }
        sample(name + "_bucket", labels + sep + "le=\"+Inf\"", static_cast<double>(h.count));
        sample(name + "_sum", labels, h.sum_seconds);
        sample(name + "_count", labels, static_cast<double>(h.count));
    }
    std::string str() const { return out_.str(); }

private:
    std::ostringstream out_;
};

struct PoolView {
    std::string labels; // connection="x"[,tenant="t"]
    detail::PoolStats stats;
    bool has_pool;
    detail::MetricsSnapshotCounters counters;
};

void runtime_metrics(Exposition &e, std::chrono::steady_clock::time_point started) {
    long rss_pages = 0, threads = 0;
    {
        std::ifstream statm("/proc/self/statm");
        long size = 0;
        statm >> size >> rss_pages;
    }
    {
        std::ifstream status("/proc/self/status");
        std::string key;
        while (status >> key) {
            if (key == "Threads:") {
                status >> threads;
                break;
            }
            std::string rest;
            std::getline(status, rest);
        }
    }
    long fds = 0;
    if (DIR *d = opendir("/proc/self/fd")) {
        while (readdir(d) != nullptr) ++fds;
        closedir(d);
        fds -= 3; // ".", ".." and the directory's own descriptor
    }
    e.family("process_resident_memory_bytes", "gauge", "Resident memory size in bytes.");
    e.sample("process_resident_memory_bytes", "", static_cast<double>(rss_pages) * static_cast<double>(sysconf(_SC_PAGESIZE)));
    e.family("process_open_fds", "gauge", "Number of open file descriptors.");
    e.sample("process_open_fds", "", static_cast<double>(fds));
    e.family("process_threads", "gauge", "Number of OS threads in the process.");
    e.sample("process_threads", "", static_cast<double>(threads));
    e.family("ilana_uptime_seconds", "gauge", "Seconds since the Database was opened.");
    e.sample("ilana_uptime_seconds", "",
             std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());
}

// One pool's figures: its counts when it is made (else only its max).
PoolView pool_view(std::string labels, const ConnectionState &cs) {
    PoolView v{std::move(labels), {}, false, detail::statement_counters(cs)};
    if (auto made = detail::pool_stats_if_made(cs)) {
        v.stats = *made;
        v.has_pool = true;
    } else {
        v.stats.max = detail::pool_size_of(cs).second;
    }
    return v;
}

} // namespace

std::string detail::prometheus_text(const Database &db, bool include_runtime) {
    PrometheusOptions options;
    options.include_runtime = include_runtime;
    options.health_max_age_ms = db.config().metrics().health_max_age_ms;
    options.ping_timeout_ms = db.config().metrics().ping_timeout_ms;
    return prometheus_text(db, options);
}

std::string detail::prometheus_text(const Database &db, const PrometheusOptions &options) {
    // First, so the pool counts below include what the check opened.
    const HealthReport health = detail::recent_health(db, options.health_max_age_ms, options.ping_timeout_ms);
    std::vector<PoolView> pools;
    for (const auto &c : db.config().connections())
        if (auto cs = detail::find_pool(db, c.name)) // none: a reload removed it meanwhile
            pools.push_back(pool_view("connection=\"" + escape_label(c.name) + "\"", *cs));
    // Tenant pools (core/src/tenants), labelled with their tenant; the list
    // pins them until the text is written.
    const std::vector<detail::ExtraPool> extras = detail::extra_pools(db);
    for (const auto &t : extras)
        pools.push_back(pool_view("connection=\"" + escape_label(t.connection) + "\",tenant=\"" +
                                      escape_label(t.tenant) + "\"",
                                  *t.state));
    int active = 0;
    for (const auto &p : pools) active += p.has_pool ? 1 : 0;

    Exposition e;
    e.family("ilana_build_info", "gauge", "ilana build information (always 1).");
    e.sample("ilana_build_info", "version=\"" ILANA_VERSION "\"", 1);
    const ConfigStatus config = db.config_status();
    e.family("ilana_config_reloads_total", "counter",
             "Config reloads (Database::reload, SIGHUP, reload.watch) by result: applied (a new generation runs), "
             "rejected (invalid; the running config stayed), unchanged (the same config).");
    e.sample("ilana_config_reloads_total", "result=\"applied\"", static_cast<double>(config.reloads_applied));
    e.sample("ilana_config_reloads_total", "result=\"rejected\"", static_cast<double>(config.reloads_rejected));
    e.sample("ilana_config_reloads_total", "result=\"unchanged\"", static_cast<double>(config.reloads_unchanged));
    e.family("ilana_config_generation", "gauge", "The running config's generation: 1 at open, +1 per applied reload.");
    e.sample("ilana_config_generation", "", static_cast<double>(config.generation));
    e.family("ilana_config_info", "gauge", "The running config's file and content hash (always 1).");
    e.sample("ilana_config_info", "source=\"" + escape_label(config.source) + "\",hash=\"" + escape_label(config.hash) + "\"", 1);
    e.family("ilana_pools_active", "gauge", "Pools that exist now (tenant pools included).");
    e.sample("ilana_pools_active", "", active);
    e.family("ilana_pools_max", "gauge", "Configured connections plus tenants.maxPools.");
    e.sample("ilana_pools_max", "",
             static_cast<double>(db.config().connections().size()) +
                 (db.config().tenants() ? db.config().tenants()->max_pools : 0));

    e.family("ilana_pool_connections", "gauge", "Connections of a pool by state.");
    for (const auto &p : pools) {
        e.sample("ilana_pool_connections", p.labels + ",state=\"idle\"", p.stats.idle);
        e.sample("ilana_pool_connections", p.labels + ",state=\"in_use\"", p.stats.in_use);
    }
    e.family("ilana_pool_waiting", "gauge", "Requests waiting for a connection.");
    for (const auto &p : pools) e.sample("ilana_pool_waiting", p.labels, p.stats.waiting);
    e.family("ilana_pool_max", "gauge", "The pool's max connections.");
    for (const auto &p : pools) e.sample("ilana_pool_max", p.labels, p.stats.max);
    e.family("ilana_pool_acquire_seconds", "histogram", "Time to acquire a connection from the pool.");
    for (const auto &p : pools) e.histogram("ilana_pool_acquire_seconds", p.labels, p.counters.acquire_duration);
    e.family("ilana_queries_total", "counter", "Statements run, by outcome.");
    for (const auto &p : pools) {
        e.sample("ilana_queries_total", p.labels + ",status=\"ok\"", static_cast<double>(p.counters.queries_ok));
        e.sample("ilana_queries_total", p.labels + ",status=\"error\"", static_cast<double>(p.counters.queries_error));
    }
    e.family("ilana_query_duration_seconds", "histogram", "Statement duration, from send to last row.");
    for (const auto &p : pools) e.histogram("ilana_query_duration_seconds", p.labels, p.counters.query_duration);
    e.family("ilana_retries_total", "counter", "Retries of connects and statements.");
    for (const auto &p : pools) e.sample("ilana_retries_total", p.labels, static_cast<double>(p.counters.retries));
    e.family("ilana_pool_events_total", "counter", "Pool events: connections created, destroyed, evicted; acquire timeouts.");
    for (const auto &p : pools) {
        e.sample("ilana_pool_events_total", p.labels + ",event=\"created\"", static_cast<double>(p.stats.created));
        e.sample("ilana_pool_events_total", p.labels + ",event=\"destroyed\"", static_cast<double>(p.stats.destroyed));
        e.sample("ilana_pool_events_total", p.labels + ",event=\"evicted\"", static_cast<double>(p.stats.evicted()));
        e.sample("ilana_pool_events_total", p.labels + ",event=\"timeout\"", static_cast<double>(p.stats.timeouts));
    }
    // event="evicted" above is the sum of these.
    e.family("ilana_pool_evictions_total", "counter",
             "Connections taken out of service, by reason: idle (idleTimeoutMillis), lifetime (maxLifetimeMillis), "
             "broken (a lost connection or failed validation).");
    for (const auto &p : pools) {
        e.sample("ilana_pool_evictions_total", p.labels + ",reason=\"idle\"", static_cast<double>(p.stats.evicted_idle));
        e.sample("ilana_pool_evictions_total", p.labels + ",reason=\"lifetime\"",
                 static_cast<double>(p.stats.evicted_lifetime));
        e.sample("ilana_pool_evictions_total", p.labels + ",reason=\"broken\"",
                 static_cast<double>(p.stats.evicted_broken));
    }
    e.family("ilana_pool_destroy_timeouts_total", "counter",
             "Connection closes abandoned after destroyTimeoutMillis.");
    for (const auto &p : pools)
        e.sample("ilana_pool_destroy_timeouts_total", p.labels, static_cast<double>(p.stats.destroy_timeouts));
    if (!db.config().servers().empty()) {
        const auto budgets = detail::server_budgets(db);
        e.family("ilana_server_connections", "gauge",
                 "Connections open or being opened to a server by all its pools (servers.<name>).");
        for (const auto &b : budgets)
            e.sample("ilana_server_connections", "server=\"" + escape_label(b.server) + "\"", b.figures.open);
        e.family("ilana_server_budget", "gauge", "A server's connection budget (servers.<name>.maxConnections).");
        for (const auto &b : budgets)
            e.sample("ilana_server_budget", "server=\"" + escape_label(b.server) + "\"", b.figures.limit);
        e.family("ilana_budget_waits_total", "counter",
                 "Acquires that waited for a slot of their server's connection budget, by pool.");
        for (const auto &b : budgets)
            for (const auto &[pool, waits] : b.figures.waits)
                e.sample("ilana_budget_waits_total",
                         "server=\"" + escape_label(b.server) + "\",connection=\"" + escape_label(pool) + "\"",
                         static_cast<double>(waits));
    }
    if (db.config().tenants()) {
        const auto evicted = detail::tenant_pools_evicted(db);
        e.family("ilana_tenant_pools_evicted_total", "counter",
                 "Tenant pools closed by the tenant manager: lru (at maxPools), ttl (idle past poolTtlMs).");
        e.sample("ilana_tenant_pools_evicted_total", "reason=\"lru\"", static_cast<double>(evicted.first));
        e.sample("ilana_tenant_pools_evicted_total", "reason=\"ttl\"", static_cast<double>(evicted.second));
    }

    e.family("ilana_health_status", "gauge",
             "Overall health of a check no older than metrics.healthMaxAgeMs (1 healthy, 0 not).");
    e.sample("ilana_health_status", "", health.healthy ? 1 : 0);
    e.family("ilana_health_pools_degraded", "gauge", "Degraded pools in the last health check.");
    e.sample("ilana_health_pools_degraded", "", health.degraded_pools);
    e.family("ilana_health_pools_unhealthy", "gauge", "Unhealthy pools in the last health check.");
    e.sample("ilana_health_pools_unhealthy", "", health.unhealthy_pools);
    // (The seed calls it ..._response_time_ms; promtool wants base units.)
    e.family("ilana_health_response_time_seconds", "gauge", "Duration of the last health check in seconds.");
    e.sample("ilana_health_response_time_seconds", "", static_cast<double>(health.duration_ms) / 1000.0);

    if (options.include_runtime) runtime_metrics(e, detail::opened_at(db));
    return e.str();
}

} // namespace ilana
