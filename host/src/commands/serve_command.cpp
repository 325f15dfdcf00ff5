// ilana serve [--listen HOST:PORT]: /metrics and /health until SIGINT/SIGTERM.
#include "command.hpp"

#include <ilana/metrics_server.hpp>

#include <iostream>

namespace ilana::cli {
namespace {

int run_serve(const Globals &g, const po::variables_map &vm) {
    Database db = open_database(g);
    MetricsServerOptions opts = MetricsServerOptions::from_config(db.config());
    if (vm.count("listen")) opts.listen = vm["listen"].as<std::string>();
    if (vm.count("runtime")) opts.include_runtime = true;
    MetricsServer server(db, opts);
    // Announced only once SIGINT/SIGTERM are caught: a supervisor (or a
    // test) that stops the server as soon as it reads this line gets a
    // clean stop, not a process killed by the default signal action.
    server.run_until_signal([&] {
        std::cerr << g.host->program_name << " serve: listening on " << opts.listen.substr(0, opts.listen.rfind(':')) << ":"
                  << server.port() << " (GET /metrics, GET /health" << (opts.basic_auth ? ", basic auth" : "")
                  << "); Ctrl-C to stop" << std::endl;
    });
    std::cerr << g.host->program_name << " serve: stopped" << std::endl;
    return kExitOk;
}

Command serve_command() {
    return Command{"serve", "serve /metrics (Prometheus) and /health (JSON) over HTTP",
                     "serve [--listen HOST:PORT] [--runtime]",
                     [](po::options_description &d, po::positional_options_description &) {
                         d.add_options()("listen", po::value<std::string>(),
                                         "address to listen on (default: the config's metrics.listen, 127.0.0.1:9464)")(
                             "runtime", "include process metrics");
                     },
                     run_serve};
}

} // namespace

void add_serve_commands(std::vector<Command> &commands) {
    commands.push_back(serve_command());
}

} // namespace ilana::cli
