// ilana health [--connection X]... [--tenant ID]... [--include-shared=BOOL]
//              [--json] [--timeout MS]: exit 0 healthy, 1 not.
#include "command.hpp"
#include "commands/tenants_common.hpp"
#include "output/table.hpp"

#include <ilana/database.hpp>

#include <iostream>

namespace ilana::cli {
namespace {

std::string latency(const std::optional<double> &ms) { return ms ? fixed(*ms, 1) + "ms" : ""; }

int run_health(const Globals &g, const po::variables_map &vm) {
    HealthOptions opts;
    if (vm.count("connection")) opts.connections = vm["connection"].as<std::vector<std::string>>();
    if (vm.count("tenant"))
        for (const auto &csv : vm["tenant"].as<std::vector<std::string>>())
            for (auto &id : tenant_cli::parse_tenant_list(csv)) opts.tenant_ids.push_back(std::move(id));
    opts.include_shared = vm["include-shared"].as<bool>();
    opts.ping_timeout_ms = vm["timeout"].as<int>();
    if (opts.ping_timeout_ms < 1) throw UsageError("--timeout must be at least 1 millisecond");
    Database db = open_database(g);
    HealthReport r = db.health_check(opts);
    if (vm.count("json")) {
        std::cout << r.to_json() << "\n";
    } else {
        TextTable t({"connection", "tenant", "status", "latency", "total", "idle", "in use", "waiting", "error"});
        for (const auto &p : r.pools)
            t.add({p.connection, p.tenant, p.status, latency(p.response_time_ms), std::to_string(p.total_connections),
                   std::to_string(p.idle_connections), std::to_string(p.in_use), std::to_string(p.waiting_requests),
                   single_line(p.error)});
        t.print(std::cout);
        if (r.shared_db)
            std::cout << "shared db (" << r.shared_db->connection << "): " << r.shared_db->status
                      << (r.shared_db->response_time_ms ? ", " + latency(r.shared_db->response_time_ms) : "")
                      << (r.shared_db->error.empty() ? "" : ": " + single_line(r.shared_db->error)) << "\n";
        std::cout << (r.healthy ? "healthy" : "NOT healthy") << ": " << r.total_pools << " pool(s), "
                  << r.degraded_pools << " degraded, " << r.unhealthy_pools << " unhealthy (" << r.duration_ms
                  << "ms)\n";
    }
    return r.healthy ? kExitOk : kExitFailed;
}

Command health_command() {
    return Command{
    "health", "ping every connection; exit 0 when all are healthy, 1 otherwise",
    "health [--connection NAME]... [--tenant ID[,ID...]]... [--include-shared=true|false] [--json] "
    "[--timeout MS]",
    [](po::options_description &d, po::positional_options_description &) {
        d.add_options()("connection", po::value<std::vector<std::string>>(), "check only this connection (repeatable)")(
            "tenant", po::value<std::vector<std::string>>(),
            "check this tenant's pool, opened if needed (repeatable, or comma-separated)")(
            "include-shared", po::value<bool>()->default_value(true),
            "check the tenants' shared (template) connection, reported as sharedDb")(
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
