// ilana health [--connection X] [--json] [--timeout MS]: exit 0 healthy, 1 not.
#include "command.hpp"
#include "output/table.hpp"

#include <ilana/database.hpp>

#include <iomanip>
#include <iostream>
#include <sstream>

namespace ilana::cli {
namespace {

int run_health(const Globals &g, const po::variables_map &vm) {
    Database db = open_database(g);
    HealthOptions opts;
    if (vm.count("connection")) opts.connections = vm["connection"].as<std::vector<std::string>>();
    opts.ping_timeout_ms = vm["timeout"].as<int>();
    HealthReport r = db.health_check(opts);
    if (vm.count("json")) {
        std::cout << r.to_json() << "\n";
    } else {
        TextTable t({"connection", "status", "latency", "total", "idle", "in use", "waiting", "error"});
        for (const auto &p : r.pools) {
            std::ostringstream lat;
            if (p.response_time_ms) lat << std::fixed << std::setprecision(1) << *p.response_time_ms << "ms";
            t.add({p.connection, p.status, lat.str(), std::to_string(p.total_connections),
                   std::to_string(p.idle_connections), std::to_string(p.in_use), std::to_string(p.waiting_requests),
                   single_line(p.error)});
        }
        t.print(std::cout);
        std::cout << (r.healthy ? "healthy" : "NOT healthy") << ": " << r.total_pools << " pool(s), "
                  << r.degraded_pools << " degraded, " << r.unhealthy_pools << " unhealthy (" << r.duration_ms
                  << "ms)\n";
    }
    return r.healthy ? kExitOk : kExitFailed;
}

Command health_command() {
    return Command{
    "health", "ping every connection; exit 0 when all are healthy, 1 otherwise",
    "health [--connection NAME]... [--json] [--timeout MS]",
    [](po::options_description &d, po::positional_options_description &) {
        d.add_options()("connection", po::value<std::vector<std::string>>(), "check only this connection (repeatable)")(
            "json", "print the report as JSON")("timeout", po::value<int>()->default_value(3000),
                                                 "ping timeout in milliseconds");
    },
    run_health};
}

} // namespace

void add_health_commands(std::vector<Command> &commands) {
    commands.push_back(health_command());
}

} // namespace ilana::cli
