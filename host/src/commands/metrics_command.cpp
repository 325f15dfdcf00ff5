// ilana metrics [--prometheus] [--health] [--runtime]: this process's view
// (pools it opens itself, a fresh health check).
// ilana metrics --url URL | --watch [--interval MS]: a running application's
// view, read from its /metrics endpoint (`ilana serve` or an embedded
// MetricsServer), with per-second rates between two scrapes. A fresh CLI
// process runs no queries, so watching itself would only ever show zeros.
#include "command.hpp"
#include "output/table.hpp"
#include "scrape/exposition.hpp"
#include "scrape/http_get.hpp"

#include <ilana/database.hpp>

#include <boost/filesystem.hpp>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cmath>
#include <csignal>
#include <iostream>
#include <map>
#include <sstream>
#include <thread>

namespace ilana::cli {
namespace {

std::atomic<bool> g_stop{false};
void on_signal(int) { g_stop = true; }

std::string ms(double v) { return fixed(v, 2) + "ms"; }

void print_table(const Database &db, bool health, std::ostream &out) {
    std::optional<HealthReport> report;
    if (health) report = db.health_check();
    MetricsSnapshot m = db.metrics();
    TextTable t({"pool", "client", "total", "idle", "in use", "waiting", "max", "queries", "errors", "retries",
                 "p50", "p99"});
    for (const auto &p : m.pools)
        t.add({p.tenant.empty() ? p.connection : p.connection + "@" + p.tenant, p.client,
               std::to_string(p.idle + p.in_use), std::to_string(p.idle), std::to_string(p.in_use),
               std::to_string(p.waiting), std::to_string(p.max), std::to_string(p.queries_ok + p.queries_error),
               std::to_string(p.queries_error), std::to_string(p.retries), ms(p.query_p50_ms), ms(p.query_p99_ms)});
    t.print(out);
    if (report)
        out << "health: " << (report->healthy ? "healthy" : "NOT healthy") << " (" << report->degraded_pools
            << " degraded, " << report->unhealthy_pools << " unhealthy)\n";
    out << "pools active: " << m.pools_active << " / max " << m.pools_max << "   at " << m.timestamp << "\n";
}

// ---- a running application's endpoint ----------------------------------------

// One pool's counters in a scrape.
struct PoolCounters {
    double idle = 0, in_use = 0, waiting = 0, max = 0;
    double queries = 0, errors = 0, retries = 0, timeouts = 0;
    double duration_sum = 0, duration_count = 0;
};

struct Scrape {
    std::chrono::steady_clock::time_point at;
    std::map<std::string, PoolCounters> pools; // "connection" or "connection@tenant"
    std::optional<double> healthy, pools_active, pools_max, unhealthy;
};

Scrape read_scrape(const std::string &text) {
    Scrape s;
    s.at = std::chrono::steady_clock::now();
    for (const Sample &x : parse_exposition(text)) {
        if (x.name == "ilana_health_status") s.healthy = x.value;
        else if (x.name == "ilana_pools_active") s.pools_active = x.value;
        else if (x.name == "ilana_pools_max") s.pools_max = x.value;
        else if (x.name == "ilana_health_pools_unhealthy") s.unhealthy = x.value;
        auto conn = x.labels.find("connection");
        if (conn == x.labels.end() || x.name.compare(0, 6, "ilana_") != 0) continue;
        auto tenant = x.labels.find("tenant");
        PoolCounters &p = s.pools[conn->second + (tenant == x.labels.end() ? "" : "@" + tenant->second)];
        auto label = [&](const char *k) {
            auto it = x.labels.find(k);
            return it == x.labels.end() ? std::string() : it->second;
        };
        if (x.name == "ilana_pool_connections") (label("state") == "idle" ? p.idle : p.in_use) = x.value;
        else if (x.name == "ilana_pool_waiting") p.waiting = x.value;
        else if (x.name == "ilana_pool_max") p.max = x.value;
        else if (x.name == "ilana_queries_total") {
            p.queries += x.value;
            if (label("status") == "error") p.errors += x.value;
        } else if (x.name == "ilana_retries_total") p.retries = x.value;
        else if (x.name == "ilana_pool_events_total" && label("event") == "timeout") p.timeouts = x.value;
        else if (x.name == "ilana_query_duration_seconds_sum") p.duration_sum = x.value;
        else if (x.name == "ilana_query_duration_seconds_count") p.duration_count = x.value;
    }
    return s;
}

// The table of one scrape; with `before`, rates per second and the mean
// query time over the interval between the two.
std::string render_scrape(const HttpUrl &url, const Scrape &now, const Scrape *before) {
    const double seconds = before ? std::chrono::duration<double>(now.at - before->at).count() : 0;
    // A counter that went down was reset (the application restarted).
    auto delta = [](double now_v, double before_v) { return now_v >= before_v ? now_v - before_v : now_v; };
    auto rate = [&](double now_v, const double *before_v) {
        if (!before_v || seconds <= 0) return std::string("-");
        return fixed(delta(now_v, *before_v) / seconds, 1);
    };
    TextTable t({"pool", "idle", "in use", "waiting", "max", "queries", "q/s", "errors", "err/s", "retries",
                 "timeouts", "avg"});
    for (const auto &[name, p] : now.pools) {
        const PoolCounters *b = nullptr;
        if (before) {
            auto it = before->pools.find(name);
            if (it != before->pools.end()) b = &it->second;
        }
        double count = p.duration_count, sum = p.duration_sum;
        if (b) {
            count = delta(p.duration_count, b->duration_count);
            sum = p.duration_count >= b->duration_count ? p.duration_sum - b->duration_sum : p.duration_sum;
        }
        t.add({name, fixed(p.idle, 0), fixed(p.in_use, 0), fixed(p.waiting, 0), fixed(p.max, 0), fixed(p.queries, 0),
               rate(p.queries, b ? &b->queries : nullptr), fixed(p.errors, 0), rate(p.errors, b ? &b->errors : nullptr),
               fixed(p.retries, 0), fixed(p.timeouts, 0), count > 0 ? ms(sum / count * 1000) : "-"});
    }
    std::ostringstream out;
    out << "ilana metrics from " << url.text;
    if (now.healthy) out << "   health: " << (*now.healthy == 1 ? "healthy" : "NOT healthy");
    if (now.unhealthy && *now.unhealthy > 0) out << " (" << fixed(*now.unhealthy, 0) << " unhealthy)";
    out << "\n";
    t.print(out);
    if (now.pools_active)
        out << "pools active: " << fixed(*now.pools_active, 0) << " / max " << fixed(now.pools_max.value_or(0), 0);
    if (before) out << "   rates over " << fixed(seconds, 1) << "s";
    out << "\n";
    return out.str();
}

// The endpoint to read: --url, else the config's metrics.listen (what
// `ilana serve` with that config listens on).
HttpUrl endpoint(const Globals &g, const po::variables_map &vm, const std::optional<Config> &config) {
    if (vm.count("url")) return parse_http_url(vm["url"].as<std::string>());
    std::string listen = config ? config->metrics().listen : MetricsOptions().listen;
    const auto colon = listen.rfind(':');
    std::string host = listen.substr(0, colon);
    if (host.empty() || host == "0.0.0.0") host = "127.0.0.1";
    if (host == "::" || host == "[::]") host = "[::1]";
    if (listen.substr(colon + 1) == "0")
        throw UsageError("the config's metrics.listen (" + listen + ", in " + g.config_path +
                         ") has port 0, chosen when the server starts: pass --url with the port it printed");
    return parse_http_url("http://" + host + listen.substr(colon) + "/metrics");
}

std::string fetch_metrics(const Globals &g, const HttpUrl &url, const std::optional<Config> &config, int timeout_ms) {
    std::optional<std::pair<std::string, std::string>> auth;
    if (config && config->metrics().auth) auth = std::make_pair(config->metrics().auth->username,
                                                                config->metrics().auth->password);
    HttpReply r;
    try {
        r = http_get(url, auth, std::chrono::milliseconds(timeout_ms));
    } catch (const std::exception &e) {
        throw Error(std::string(e.what()) + " (is `" + g.host->program_name +
                        " serve` or the application's MetricsServer running there?)",
                    ErrorClass::connection);
    }
    if (r.status == 401)
        throw Error("GET " + url.text + ": 401 unauthorized: " +
                        (auth ? "the config's metrics.auth (user '" + auth->first + "') was refused"
                              : std::string("the endpoint wants basic auth; set metrics.auth in the config")),
                    ErrorClass::auth);
    if (r.status != 200)
        throw Error("GET " + url.text + ": HTTP " + std::to_string(r.status) + " (expected 200 and Prometheus text)",
                    ErrorClass::connection);
    return r.body;
}

int watch_endpoint(const Globals &g, const po::variables_map &vm) {
    std::optional<Config> config;
    // The config gives the basic auth (and the default address); with --url
    // and no config file, the endpoint is read without auth.
    if (!vm.count("url") || boost::filesystem::exists(g.config_path))
        config = Config::load_file(g.config_path, g.environment);
    const HttpUrl url = endpoint(g, vm, config);
    const int interval = vm["interval"].as<int>();
    if (interval < 100) throw UsageError("--interval must be at least 100 milliseconds");
    // A scrape may run a health check (bounded by the ping timeout).
    const int timeout_ms = (config ? config->metrics().ping_timeout_ms : 3000) + 5000;
    if (!vm.count("watch")) {
        const std::string text = fetch_metrics(g, url, config, timeout_ms);
        if (vm.count("prometheus")) std::cout << text;
        else std::cout << render_scrape(url, read_scrape(text), nullptr);
        return kExitOk;
    }
    if (vm.count("prometheus")) throw UsageError("--watch shows a table; use --prometheus without --watch");
    std::signal(SIGINT, on_signal);
    std::signal(SIGTERM, on_signal);
    const bool tty = isatty(STDOUT_FILENO) != 0;
    std::optional<Scrape> before;
    bool first = true;
    while (!g_stop) {
        Scrape now = read_scrape(fetch_metrics(g, url, config, timeout_ms));
        std::string frame = render_scrape(url, now, before ? &*before : nullptr);
        if (tty) {
            // Redraw in place: home, each line cleared to its end, then the
            // rest of the screen cleared (no flicker of a full clear).
            std::string drawn = first ? "\033[2J\033[H" : "\033[H";
            for (size_t start = 0; start < frame.size();) {
                size_t end = frame.find('\n', start);
                if (end == std::string::npos) end = frame.size();
                drawn += frame.substr(start, end - start) + "\033[K\n";
                start = end + 1;
            }
            std::cout << drawn << "\033[J" << std::flush;
        } else {
            // Logs and pipes get successive frames.
            std::cout << (first ? "" : "\n") << frame << std::flush;
        }
        first = false;
        before = std::move(now);
        for (int waited = 0; waited < interval && !g_stop; waited += 20)
            std::this_thread::sleep_for(std::chrono::milliseconds(std::min(20, interval - waited)));
    }
    return kExitOk;
}

int run_metrics(const Globals &g, const po::variables_map &vm) {
    if (vm.count("url") || vm.count("watch")) {
        if (vm.count("health") || vm.count("runtime"))
            throw UsageError("--health and --runtime describe this process; with --url or --watch the endpoint's "
                             "own health gauges are shown");
        return watch_endpoint(g, vm);
    }
    Database db = open_database(g);
    if (vm.count("prometheus")) {
        PrometheusOptions p;
        p.include_runtime = vm.count("runtime") > 0;
        p.ping_timeout_ms = db.config().metrics().ping_timeout_ms;
        // --health: a check of its own even if one is fresh (the scrape
        // runs one anyway in a new process: none is fresh yet).
        p.health_max_age_ms = vm.count("health") ? 0 : db.config().metrics().health_max_age_ms;
        std::cout << db.prometheus_text(p);
    } else {
        print_table(db, vm.count("health") > 0, std::cout);
    }
    return kExitOk;
}

Command metrics_command() {
    return Command{
    "metrics", "show pool metrics as a table or in Prometheus text format, or watch a running application's",
    "metrics [--prometheus] [--health] [--runtime]\nmetrics [--url URL] [--watch [--interval MS]] "
    "[--prometheus]",
    [](po::options_description &d, po::positional_options_description &) {
        d.add_options()("prometheus", "Prometheus text exposition format")(
            "url", po::value<std::string>(),
            "read a running application's endpoint (http://HOST:PORT[/metrics]), with the config's metrics.auth")(
            "watch", "redraw the endpoint's metrics (--url, default the config's metrics.listen) with rates per "
                     "second until Ctrl-C")("interval", po::value<int>()->default_value(5000),
                                             "refresh interval with --watch, milliseconds")(
            "health", "run a health check first (fills the health gauges)")(
            "runtime", "include process metrics (memory, fds, threads, uptime)");
    },
    run_metrics};
}

} // namespace

void add_metrics_commands(std::vector<Command> &commands) {
    commands.push_back(metrics_command());
}

} // namespace ilana::cli
