// ilana serve [--listen HOST:PORT]: /metrics and /health until SIGINT/SIGTERM;
// SIGHUP reloads the config (Database::reload).
#include "command.hpp"

#include <ilana/logging.hpp>
#include <ilana/metrics_server.hpp>

#include <atomic>
#include <csignal>
#include <ctime>
#include <iostream>
#include <pthread.h>
#include <thread>

namespace ilana::cli {
namespace {

// SIGHUP is taken by one thread with sigtimedwait: blocked in every thread
// from the start of `serve` (threads inherit the mask, and none is made
// before), so the default action -- ending the process -- never runs and
// the reload runs on a plain thread, not in a signal handler.
class ReloadOnHangup {
public:
    ReloadOnHangup() {
        sigset_t hup;
        sigemptyset(&hup);
        sigaddset(&hup, SIGHUP);
        pthread_sigmask(SIG_BLOCK, &hup, &old_mask_);
    }
    ~ReloadOnHangup() {
        stop_ = true;
        if (thread_.joinable()) thread_.join();
        // A SIGHUP that arrived after the thread stopped is dropped, not
        // left to end the process when the mask is restored.
        sigset_t hup;
        sigemptyset(&hup);
        sigaddset(&hup, SIGHUP);
        const timespec none{0, 0};
        while (sigtimedwait(&hup, nullptr, &none) == SIGHUP) {
        }
        pthread_sigmask(SIG_SETMASK, &old_mask_, nullptr);
    }
    void start(const Globals &g, Database db) {
        thread_ = std::thread([this, &g, db] {
            sigset_t hup;
            sigemptyset(&hup);
            sigaddset(&hup, SIGHUP);
            const timespec tick{0, 200 * 1000 * 1000};
            while (!stop_) {
                if (sigtimedwait(&hup, nullptr, &tick) != SIGHUP) continue;
                report(g, db.reload());
            }
        });
    }

private:
    // The outcome on stderr (the reload logs it too); never exits.
    static void report(const Globals &g, const ReloadResult &r) {
        const std::string name = g.host->program_name + " serve";
        if (r.unchanged) {
            std::cerr << name << ": SIGHUP: config unchanged (generation " << r.generation << ", hash " << r.hash
                      << ")" << std::endl;
        } else if (!r.applied) {
            for (const auto &e : r.errors)
                std::cerr << name << ": SIGHUP: config rejected, generation " << r.generation
                          << " keeps running: " << e << std::endl;
        } else {
            std::cerr << name << ": SIGHUP: config reloaded: generation " << r.generation << ", hash " << r.hash;
            for (const auto &c : r.changes) std::cerr << "; " << c.connection << " " << to_string(c.kind) << " (" << c.what << ")";
            if (r.default_changed) std::cerr << "; default changed";
            std::cerr << std::endl;
        }
    }
    sigset_t old_mask_{};
    std::atomic<bool> stop_{false};
    std::thread thread_;
};

int run_serve(const Globals &g, const po::variables_map &vm) {
    ReloadOnHangup hangup; // before any thread exists (the database may start a watch thread)
    Database db = open_database(g);
    hangup.start(g, db);
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
                  << "); SIGHUP reloads the config; Ctrl-C to stop" << std::endl;
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
