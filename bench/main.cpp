// ilana-bench — ilana against the raw client libraries, side by side.
//
//   ilana-bench [--quick] [--json] [--workload NAME ...] [--repeat N] [--list]
//
// Servers: ILANA_BENCH_PG_URL, ILANA_BENCH_MYSQL_URL (eval "$(scripts/
// test-servers.sh env)" exports both); a workload whose server is not given
// is skipped with a line saying so. SQLite needs nothing.
//
// Each workload runs its raw and its ilana side once untimed (warm-up and
// result check), then interleaved raw, ilana, raw, ilana ... `repeat` times,
// and prints the median ops/s of each and ilana/raw (>= 1: ilana is as fast).
// Every run checks its result (a sum of ids, a row count): a wrong result or
// a crash fails the process; slow figures never do.
#include "harness.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <memory>
#include <string>
#include <vector>

namespace {

using bench::Options;

void usage(FILE *out) {
    std::fprintf(out,
                 "usage: ilana-bench [--quick] [--json] [--workload NAME ...] [--repeat N] [--list]\n"
                 "  --quick        every workload at a tenth of its size (CI)\n"
                 "  --json         one JSON object per workload and line\n"
                 "  --workload     run only these workloads (repeatable; several names may follow)\n"
                 "  --repeat N     interleaved rounds per workload (default 5)\n"
                 "  --list         list the workloads and exit\n"
                 "  --side S       run only the raw or the ilana side (for profiling)\n"
                 "  --no-pin       round-trip workloads: leave client and server connections\n"
                 "                 where the kernel puts them (default: client on one CPU, the\n"
                 "                 loopback server's connections of both sides on another)\n"
                 "servers: ILANA_BENCH_PG_URL, ILANA_BENCH_MYSQL_URL "
                 "(eval \"$(scripts/test-servers.sh env)\")\n");
}

bool parse(int argc, char **argv, Options &o) {
    for (int i = 1; i < argc; ++i) {
        std::string a = argv[i];
        if (a == "--quick") {
            o.quick = true;
        } else if (a == "--json") {
            o.json = true;
        } else if (a == "--side" && i + 1 < argc) {
            o.side = argv[++i];
            if (o.side != "raw" && o.side != "ilana") {
                std::fprintf(stderr, "ilana-bench: --side wants raw or ilana\n");
                return false;
            }
        } else if (a == "--no-pin") {
            o.pin = false;
        } else if (a == "--list") {
            o.list = true;
        } else if (a == "--repeat" && i + 1 < argc) {
            char *end = nullptr;
            long n = std::strtol(argv[++i], &end, 10);
            if (end == argv[i] || *end != '\0' || n < 1 || n > 1000) {
                std::fprintf(stderr, "ilana-bench: --repeat wants a number from 1 to 1000, got '%s'\n", argv[i]);
                return false;
            }
            o.repeat = static_cast<int>(n);
        } else if (a == "--workload" && i + 1 < argc) {
            while (i + 1 < argc && argv[i + 1][0] != '-') o.only.emplace_back(argv[++i]);
        } else if (a == "--help" || a == "-h") {
            usage(stdout);
            std::exit(0);
        } else {
            std::fprintf(stderr, "ilana-bench: unknown argument '%s'\n", a.c_str());
            usage(stderr);
            return false;
        }
    }
    return true;
}

double median(std::vector<double> v) {
    std::sort(v.begin(), v.end());
    const size_t n = v.size();
    return n % 2 == 1 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

double ops_per_s(const bench::RunFn &fn) {
    auto t0 = std::chrono::steady_clock::now();
    uint64_t ops = fn();
    auto t1 = std::chrono::steady_clock::now();
    double secs = std::chrono::duration<double>(t1 - t0).count();
    return secs > 0 ? static_cast<double>(ops) / secs : 0;
}

std::string json_escape(const std::string &s) {
    std::string out;
    for (char c : s) {
        if (c == '"' || c == '\\') {
            out += '\\';
            out += c;
        } else if (static_cast<unsigned char>(c) < 0x20) {
            char buf[8];
            std::snprintf(buf, sizeof buf, "\\u%04x", c);
            out += buf;
        } else {
            out += c;
        }
    }
    return out;
}

std::string with_commas(double v) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.0f", v);
    std::string s = buf, out;
    int n = 0;
    for (auto it = s.rbegin(); it != s.rend(); ++it) {
        if (n > 0 && n % 3 == 0 && *it != '-') out.insert(out.begin(), ',');
        out.insert(out.begin(), *it);
        ++n;
    }
    return out;
}

void print_skip(const Options &o, const std::string &name, const std::string &why) {
    if (o.json)
        std::printf("{\"workload\": \"%s\", \"skipped\": \"%s\"}\n", name.c_str(), json_escape(why).c_str());
    else
        std::printf("%-22s skipped: %s\n", name.c_str(), why.c_str());
    std::fflush(stdout);
}

} // namespace

int main(int argc, char **argv) {
    Options opts;
    if (!parse(argc, argv, opts)) return 2;
    auto &all = bench::workloads();
    if (opts.list) {
        for (const auto &w : all)
            std::printf("%-22s %s%s\n", w.name.c_str(), w.what.c_str(),
                        w.needs.empty() ? "" : (" [needs " + w.needs + "]").c_str());
        return 0;
    }
    for (const auto &name : opts.only) {
        bool known = std::any_of(all.begin(), all.end(), [&](const bench::Workload &w) { return w.name == name; });
        if (!known) {
            std::fprintf(stderr, "ilana-bench: unknown workload '%s' (--list shows them)\n", name.c_str());
            return 2;
        }
    }

    int failures = 0;
    try {
        bench::Context ctx(opts);
        if (!opts.json) {
            std::printf("ilana-bench: %s, %u vCPUs; %s size; median of %d interleaved round(s)\n",
                        bench::cpu_model().c_str(), bench::cpu_count(), opts.quick ? "quick (1/10)" : "full",
                        opts.repeat);
            std::printf("%-22s %14s %14s %7s  %s\n", "workload", "raw ops/s", "ilana ops/s", "ratio", "target");
            std::fflush(stdout);
        }
        std::vector<std::string> notes;
        for (const auto &w : all) {
            if (!opts.only.empty() && std::find(opts.only.begin(), opts.only.end(), w.name) == opts.only.end())
                continue;
            if (w.needs == "pg" && ctx.pg_url().empty()) {
                print_skip(opts, w.name, "ILANA_BENCH_PG_URL is not set (no PostgreSQL server given)");
                continue;
            }
            if (w.needs == "mysql" && ctx.mysql_url().empty()) {
                print_skip(opts, w.name, "ILANA_BENCH_MYSQL_URL is not set (no MariaDB/MySQL server given)");
                continue;
            }
            try {
                if (w.report) {
                    bench::Report r = w.report(ctx);
                    if (!r.skipped.empty()) {
                        print_skip(opts, w.name, r.skipped);
                        continue;
                    }
                    if (opts.json) {
                        std::printf("{\"workload\": \"%s\"", w.name.c_str());
                        for (const auto &f : r.figures) std::printf(", \"%s\": %.6g", f.first.c_str(), f.second);
                        std::printf(", \"repeat\": %d}\n", opts.repeat);
                    } else {
                        std::printf("%-22s %s\n", w.name.c_str(), r.text.c_str());
                    }
                    std::fflush(stdout);
                    continue;
                }
                bench::Sides sides = w.prepare(ctx);
                const bool run_raw = opts.side != "ilana", run_ilana = opts.side != "raw";
                // Warm-up (connections, prepared statements, caches) and the
                // first result check, untimed.
                if (run_raw) sides.raw();
                if (run_ilana) sides.ilana();
                std::unique_ptr<bench::RoundTripPinning> pinning;
                if (opts.pin && sides.server_tasks) {
                    // Finding the server tasks is best effort (MySQL, unlike
                    // MariaDB, has no PROCESSLIST.TID): the workload then
                    // runs unpinned and its note says why.
                    try {
                        pinning = std::make_unique<bench::RoundTripPinning>(sides.server_tasks());
                    } catch (const std::exception &e) {
                        notes.push_back(w.name + ": not pinned: the server connections' task ids: " + e.what());
                    }
                }
                std::vector<double> raw, ilana;
                // Strictly alternating (raw, ilana, raw, ...): every run follows
                // one of the other side. Running a side twice in a row
                // (raw, ilana, ilana, raw, ...) was tried: on this VM the run
                // that follows its own side is 5-15% slower on round-trip
                // work, which only adds noise.
                for (int i = 0; i < opts.repeat; ++i) {
                    raw.push_back(run_raw ? ops_per_s(sides.raw) : 0);
                    ilana.push_back(run_ilana ? ops_per_s(sides.ilana) : 0);
                }
                // ILANA_BENCH_ROUNDS=1: every round's figures on stderr (the
                // spread behind the medians).
                if (std::getenv("ILANA_BENCH_ROUNDS") != nullptr)
                    for (size_t k = 0; k < raw.size(); ++k)
                        std::fprintf(stderr, "  %s round %zu: raw %.0f ilana %.0f\n", w.name.c_str(), k, raw[k], ilana[k]);
                const bool pinned = pinning && pinning->complete();
                if (pinning) notes.push_back(w.name + ": " + pinning->summary());
                pinning.reset(); // masks restored before the next workload
                const double mr = median(raw), mi = median(ilana);
                const double ratio = mr > 0 ? mi / mr : 0;
                if (opts.json) {
                    std::printf("{\"workload\": \"%s\", \"raw_ops_per_s\": %.1f, \"ilana_ops_per_s\": %.1f, "
                                "\"ratio\": %.4f, \"repeat\": %d, \"pinned\": %s}\n",
                                w.name.c_str(), mr, mi, ratio, opts.repeat, pinned ? "true" : "false");
                } else {
                    char target[32] = "";
                    if (w.target > 0)
                        std::snprintf(target, sizeof target, ">= %.2f %s", w.target,
                                      ratio >= w.target ? "met" : "NOT met");
                    std::printf("%-22s %14s %14s %7.3f  %s\n", w.name.c_str(), with_commas(mr).c_str(),
                                with_commas(mi).c_str(), ratio, target);
                    if (!sides.note.empty()) notes.push_back(w.name + ": " + sides.note);
                }
                std::fflush(stdout);
            } catch (const std::exception &e) {
                ++failures;
                if (opts.json)
                    std::printf("{\"workload\": \"%s\", \"error\": \"%s\"}\n", w.name.c_str(),
                                json_escape(e.what()).c_str());
                else
                    std::printf("%-22s FAILED: %s\n", w.name.c_str(), e.what());
                std::fflush(stdout);
            }
        }
        if (!opts.json && !notes.empty()) {
            std::printf("\n");
            for (const auto &n : notes) std::printf("  %s\n", n.c_str());
        }
    } catch (const std::exception &e) {
        std::fprintf(stderr, "ilana-bench: %s\n", e.what());
        return 1;
    }
    return failures == 0 ? 0 : 1;
}
