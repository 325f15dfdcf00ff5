// ilana-driver-conformance — runs the standard checks against a driver
// plugin through the raw C ABI.
//
//   ilana-driver-conformance --plugin PATH.so --connection CONFIG.json [--json]
//                            [--only CHECK[,CHECK...]] [--timeout SECONDS] [--list]
//
// Prints PASS / FAIL / SKIP per check and a summary. Exit 0 when nothing
// failed, 1 when a check failed (or the driver crashed or hung), 2 on bad
// usage or a bad connection JSON. The JSON format is in sdk/README.md.
#include "kit.hpp"

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <condition_variable>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <iostream>
#include <thread>
#include <unistd.h>

namespace {

const char *const kUsage =
    "usage: ilana-driver-conformance --plugin PATH.so --connection CONFIG.json [options]\n"
    "\n"
    "Runs the ilana driver conformance checks against one driver plugin, through\n"
    "the raw C ABI (no ilana core involved).\n"
    "\n"
    "  --plugin PATH        the driver's shared object\n"
    "  --connection FILE    connection JSON: params, probes, declared types\n"
    "                       (format: sdk/README.md, \"Conformance kit\")\n"
    "  --json               print the report as JSON on stdout\n"
    "  --only NAMES         run only these checks (comma-separated; \"types\"\n"
    "                       selects every types.* check)\n"
    "  --timeout SECONDS    fail and stop when one check runs longer (default 120)\n"
    "  --list               list the checks and exit\n"
    "  -h, --help           this help\n"
    "\n"
    "exit codes: 0 no check failed, 1 a check failed, 2 bad usage or bad JSON\n";

// The running check, for the watchdog and the crash handler.
char g_current[128] = "startup";
std::mutex g_mu;
std::condition_variable g_cv;
long g_generation = 0;
bool g_done = false;

void on_crash(int sig) {
    // Async-signal-safe: write(2) only, then die with the same signal.
    const char *prefix = "\nilana-driver-conformance: the driver crashed (signal) in check ";
    ssize_t ignored = ::write(STDERR_FILENO, prefix, std::strlen(prefix));
    ignored = ::write(STDERR_FILENO, g_current, std::strlen(g_current));
    ignored = ::write(STDERR_FILENO, "\nFAIL\n", 6);
    (void)ignored;
    std::signal(sig, SIG_DFL);
    std::raise(sig);
}

void set_current(const std::string &name) {
    std::lock_guard<std::mutex> lock(g_mu);
    std::snprintf(g_current, sizeof g_current, "%s", name.c_str());
    ++g_generation;
    g_cv.notify_all();
}

// Kills the run when one check takes longer than `seconds` (a hung driver
// would otherwise hang CI).
void watchdog(int seconds) {
    std::unique_lock<std::mutex> lock(g_mu);
    while (!g_done) {
        const long gen = g_generation;
        if (!g_cv.wait_for(lock, std::chrono::seconds(seconds), [&] { return g_done || g_generation != gen; })) {
            std::fprintf(stderr, "\nFAIL  %s: still running after %d s (--timeout); stopping\n", g_current, seconds);
            std::fflush(stderr);
            std::_Exit(1);
        }
    }
}

const char *status_word(kit::CheckResult::Status s) {
    switch (s) {
    case kit::CheckResult::Pass: return "PASS";
    case kit::CheckResult::Fail: return "FAIL";
    default: return "SKIP";
    }
}

} // namespace

int main(int argc, char **argv) {
    std::string plugin, connection;
    bool json = false, list = false;
    int timeout = 120;
    std::vector<std::string> only;
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        auto value = [&](const char *name) -> std::string {
            if (i + 1 >= argc) {
                std::cerr << "ilana-driver-conformance: " << name << " needs a value\n" << kUsage;
                std::exit(2);
            }
            return argv[++i];
        };
        if (a == "--plugin") plugin = value("--plugin");
        else if (a == "--connection") connection = value("--connection");
        else if (a == "--json") json = true;
        else if (a == "--list") list = true;
        else if (a == "--timeout") {
            const std::string v = value("--timeout");
            timeout = std::atoi(v.c_str());
            if (timeout <= 0) {
                std::cerr << "ilana-driver-conformance: --timeout needs a positive number of seconds\n";
                return 2;
            }
        } else if (a == "--only") {
            std::string v = value("--only");
            size_t start = 0;
            while (start <= v.size()) {
                const size_t comma = v.find(',', start);
                std::string part = v.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
                if (!part.empty()) only.push_back(part);
                if (comma == std::string::npos) break;
                start = comma + 1;
            }
        } else if (a == "-h" || a == "--help") {
            std::cout << kUsage;
            return 0;
        } else {
            std::cerr << "ilana-driver-conformance: unknown argument '" << a << "'\n" << kUsage;
            return 2;
        }
    }
    if (plugin.empty() || connection.empty()) {
        std::cerr << "ilana-driver-conformance: --plugin and --connection are required\n" << kUsage;
        return 2;
    }

    kit::Config cfg;
    try {
        cfg = kit::load_config(connection);
    } catch (const std::exception &e) {
        std::cerr << "ilana-driver-conformance: " << e.what() << "\n";
        return 2;
    }
    kit::Suite suite(plugin, cfg);
    if (list) {
        for (const auto &c : suite.list()) std::printf("%-24s %s\n", c.name.c_str(), c.what.c_str());
        return 0;
    }

    std::signal(SIGSEGV, on_crash);
    std::signal(SIGBUS, on_crash);
    std::signal(SIGFPE, on_crash);
    std::signal(SIGILL, on_crash);
    std::signal(SIGABRT, on_crash);
    std::thread dog(watchdog, timeout);

    if (!json) std::printf("ilana-driver-conformance: %s\n  with %s\n", plugin.c_str(), connection.c_str());
    std::vector<kit::CheckResult> results;
    bool header_printed = false;
    const auto t0 = std::chrono::steady_clock::now();
    suite.run(only, set_current, [&](const kit::CheckResult &r) {
        results.push_back(r);
        if (json) return;
        if (!header_printed && r.name != "load" && r.name != "entry" && r.name != "exports" && r.name != "init") {
            std::printf("  driver %s\n", suite.driver_line().c_str());
            header_printed = true;
        }
        std::printf("%s  %-22s %s (%.0f ms)\n", status_word(r.status), r.name.c_str(), r.message.c_str(), r.ms);
        std::fflush(stdout);
    });
    const double total_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
    {
        std::lock_guard<std::mutex> lock(g_mu);
        g_done = true;
        g_cv.notify_all();
    }
    dog.join();

    int passed = 0, failed = 0, skipped = 0;
    for (const auto &r : results) {
        if (r.status == kit::CheckResult::Pass) ++passed;
        else if (r.status == kit::CheckResult::Fail) ++failed;
        else ++skipped;
    }
    if (json) {
        rapidjson::StringBuffer buf;
        rapidjson::Writer<rapidjson::StringBuffer> w(buf);
        const auto f = suite.facts();
        w.StartObject();
        w.Key("plugin");
        w.String(plugin.c_str());
        w.Key("connection");
        w.String(connection.c_str());
        w.Key("driver");
        w.StartObject();
        w.Key("loaded");
        w.Bool(f.loaded);
        w.Key("id");
        w.String(f.id.c_str());
        w.Key("name");
        w.String(f.name.c_str());
        w.Key("version");
        w.String(f.version.c_str());
        w.Key("abi");
        w.String((std::to_string(f.abi_major) + "." + std::to_string(f.abi_minor)).c_str());
        w.Key("clients");
        w.StartArray();
        for (const auto &c : f.clients) w.String(c.c_str());
        w.EndArray();
        w.Key("capabilities");
        w.String(kit::capability_names(f.capabilities).c_str());
        w.EndObject();
        w.Key("checks");
        w.StartArray();
        for (const auto &r : results) {
            w.StartObject();
            w.Key("name");
            w.String(r.name.c_str());
            w.Key("status");
            w.String(r.status == kit::CheckResult::Pass ? "pass" : r.status == kit::CheckResult::Fail ? "fail" : "skip");
            w.Key("message");
            w.String(r.message.c_str());
            w.Key("ms");
            w.Double(r.ms);
            w.EndObject();
        }
        w.EndArray();
        w.Key("summary");
        w.StartObject();
        w.Key("passed");
        w.Int(passed);
        w.Key("failed");
        w.Int(failed);
        w.Key("skipped");
        w.Int(skipped);
        w.Key("ms");
        w.Double(total_ms);
        w.EndObject();
        w.EndObject();
        std::cout << buf.GetString() << "\n";
    } else {
        std::printf("summary: %d passed, %d failed, %d skipped (%.1f s)\n", passed, failed, skipped, total_ms / 1000);
    }
    return failed > 0 ? 1 : 0;
}
