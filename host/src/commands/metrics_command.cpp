// ilana metrics [--prometheus] [--watch --interval=MS] [--health]
#include "command.hpp"
#include "output/table.hpp"

#include <ilana/database.hpp>

#include <unistd.h>

#include <atomic>
#include <chrono>
#include <csignal>
#include <iomanip>
#include <iostream>
#include <sstream>
#include <thread>

namespace ilana::cli {
namespace {

std::atomic<bool> g_stop{false};
void on_signal(int) { g_stop = true; }

std::string ms(double v) {
    std::ostringstream o;
    o << std::fixed << std::setprecision(2) << v << "ms";
    return o.str();
}

void print_table(const Database &db, bool health, std::ostream &out) {
    if (health) db.health_check();
    MetricsSnapshot m = db.metrics();
    TextTable t({"pool", "client", "total", "idle", "in use", "waiting", "max", "queries", "errors", "retries",
                 "p50", "p99"});
    for (const auto &p : m.pools)
        t.add({p.tenant.empty() ? p.connection : p.connection + "@" + p.tenant, p.client,
               std::to_string(p.idle + p.in_use), std::to_string(p.idle), std::to_string(p.in_use),
               std::to_string(p.waiting), std::to_string(p.max), std::to_string(p.queries_ok + p.queries_error),
               std::to_string(p.queries_error), std::to_string(p.retries), ms(p.query_p50_ms), ms(p.query_p99_ms)});
    t.print(out);
    out << "pools active: " << m.pools_active << " / max " << m.pools_max << "   at " << m.timestamp << "\n";
}

int run_metrics(const Globals &g, const po::variables_map &vm) {
    Database db = open_database(g);
    const bool prometheus = vm.count("prometheus") > 0;
    const bool health = vm.count("health") > 0;
    auto render = [&]() -> std::string {
        std::ostringstream out;
        if (prometheus) {
            if (health) db.health_check();
            out << db.prometheus_text(vm.count("runtime") > 0);
        } else {
            print_table(db, health, out);
        }
        return out.str();
    };
    if (!vm.count("watch")) {
        std::cout << render();
        return kExitOk;
    }
    const int interval = vm["interval"].as<int>();
    if (interval < 100) throw UsageError("--interval must be at least 100 milliseconds");
    std::signal(SIGINT, on_signal);
    std::signal(SIGTERM, on_signal);
    const bool tty = isatty(STDOUT_FILENO) != 0;
    while (!g_stop) {
        std::string frame = render();
        // Redraw in place on a terminal; plain frames otherwise (logs, pipes).
        if (tty) std::cout << "\033[H\033[2J";
        std::cout << frame << std::flush;
        for (int waited = 0; waited < interval && !g_stop; waited += 50)
            std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return kExitOk;
}

Command metrics_command() {
    return Command{
    "metrics", "show pool metrics as a table or in Prometheus text format",
    "metrics [--prometheus] [--watch [--interval MS]] [--health] [--runtime]",
    [](po::options_description &d, po::positional_options_description &) {
        d.add_options()("prometheus", "Prometheus text exposition format")(
            "watch", "refresh until Ctrl-C")("interval", po::value<int>()->default_value(5000),
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
