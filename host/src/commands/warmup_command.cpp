// ilana warmup: open (and ping) the pools of tenants, `concurrency` at a
// time, with a progress bar on a terminal and one line per tenant otherwise.
// In the CLI this checks that every tenant is reachable; in an application,
// TenantManager::warmup keeps the pools for the requests that follow.
#include "commands/tenants_common.hpp"

#include <ilana/database.hpp>
#include <ilana/tenants.hpp>

#include <iostream>

namespace ilana::cli {

namespace {

using namespace tenant_cli;

int run_warmup(const Globals &g, const po::variables_map &vm) {
    if (vm.count("tenants") && vm.count("all")) throw UsageError("--tenants and --all exclude each other");
    const int concurrency = vm["concurrency"].as<int>();
    if (concurrency < 1) throw UsageError("--concurrency needs a number >= 1");
    const bool json = vm.count("json") != 0;
    Database db = open_database(g);
    TenantManager tenants(db);
    // Without --tenants: every discovered tenant (--all says so explicitly).
    const std::vector<std::string> ids =
        vm.count("tenants") ? parse_tenant_list(vm["tenants"].as<std::string>()) : tenants.discover();
    WarmupOptions opts;
    opts.concurrency = concurrency;
    opts.ping = vm.count("no-ping") == 0;
    std::shared_ptr<ProgressDisplay> progress;
    if (!json) {
        progress = start_progress(ids.size(), "warming");
        opts.on_progress = [&](const std::string &id, const std::string &status) {
            step_progress(*progress, id, status, status == "failed");
        };
    }
    WarmupResult r = tenants.warmup(ids, opts);
    if (json) {
        std::cout << r.to_json() << "\n";
        return r.failed > 0 ? kExitFailed : kExitOk;
    }
    finish_progress(*progress);
    std::cout << "Warmed " << r.succeeded << " pool(s) in " << seconds(r.duration_ms) << ": " << r.total
              << " tenant(s), " << r.already_warm << " already warm, " << r.failed << " failed\n";
    for (const auto &d : r.details)
        if (d.status == "failed") std::cout << "  \u2717 " << d.tenant_id << ": " << d.error << "\n";
    return r.failed > 0 ? kExitFailed : kExitOk;
}

Command warmup_command() {
    return Command{"warmup", "open and ping the pools of tenants (progress bar on a terminal)",
                     "warmup [--tenants a,b | --all] [--concurrency N] [--no-ping] [--json]",
                     [](po::options_description &d, po::positional_options_description &) {
                         d.add_options()("tenants", po::value<std::string>(), "these tenants (comma-separated)")(
                             "all", "every discovered tenant (the default)")(
                             "concurrency", po::value<int>()->default_value(10), "pools opened at once")(
                             "no-ping", "create the pools without opening a connection")(
                             "json", "print the result as JSON (no progress display)");
                     },
                     run_warmup};
}

} // namespace

void add_warmup_commands(std::vector<Command> &commands) {
    commands.push_back(warmup_command());
}

} // namespace ilana::cli
