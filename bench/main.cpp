// ilana-bench — ilana against the raw client libraries, side by side.
//
//   ilana-bench [--quick] [--json] [--workload NAME ...] [--repeat N] [--list]
//
// (--memory-child WORKLOAD SIDE, not for users: one side of a multi-side
// workload run in a process of its own, its resident memory printed;
// memory.cpp.)
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

#include <sys/resource.h>

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
                 "  --side S       run only the raw or the ilana side (for profiling); in the\n"
                 "                 TechEmpower workloads (*_te_*) every side whose key is S or\n"
                 "                 starts with S_ (raw_libpq, raw_pipeline, raw_mariadb(_stmt), ilana_sync)\n"
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
            // raw, ilana, or one side of a multi-side workload (checked
            // when that workload runs: its sides are known then).
            if (o.side.empty() || o.side.find_first_not_of("abcdefghijklmnopqrstuvwxyz_") != std::string::npos) {
                std::fprintf(stderr, "ilana-bench: --side wants raw, ilana or a side's key (raw_libpq, ...), got '%s'\n",
                             o.side.c_str());
                return false;
            }
        } else if (a == "--memory-child" && i + 2 < argc) {
            o.memory_child = {argv[i + 1], argv[i + 2]};
            i += 2;
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

// User + system CPU seconds of this process so far (all threads).
double process_cpu_s() {
    rusage ru{};
    ::getrusage(RUSAGE_SELF, &ru);
    return static_cast<double>(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
           static_cast<double>(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

// One timed run of a side: its operations, their rate, the CPU it took.
struct Timed {
    uint64_t ops = 0;
    double ops_per_s = 0, cpu_s = 0;
};

Timed timed(const bench::RunFn &fn) {
    Timed t;
    const double cpu0 = process_cpu_s();
    auto t0 = std::chrono::steady_clock::now();
    t.ops = fn();
    auto t1 = std::chrono::steady_clock::now();
    t.cpu_s = process_cpu_s() - cpu0;
    const double secs = std::chrono::duration<double>(t1 - t0).count();
    t.ops_per_s = secs > 0 ? static_cast<double>(t.ops) / secs : 0;
    return t;
}

double ops_per_s(const bench::RunFn &fn) { return timed(fn).ops_per_s; }

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

// A multi-side workload (Workload::sides): every selected side's median
// ops/s, its resident memory measured in a child process (memory.cpp),
// and the workload's ratios between sides that ran.
void run_sides(const Options &o, bench::Context &ctx, const bench::Workload &w, std::vector<std::string> &notes) {
    bench::SideSet set = w.sides(ctx);
    std::vector<bench::Side> sides;
    std::string keys;
    for (auto &s : set.sides) {
        keys += (keys.empty() ? "" : ", ") + s.key;
        if (o.side.empty() || s.key == o.side || s.key.rfind(o.side + "_", 0) == 0) sides.push_back(s);
    }
    if (sides.empty())
        throw std::runtime_error("--side " + o.side + " names no side of " + w.name + " (its sides: " + keys + ")");
    std::vector<bench::RunFn> runs;
    for (auto &s : sides) runs.push_back(s.open());
    for (auto &run : runs) run(); // warm-up and the first result check, untimed
    std::vector<std::vector<double>> rounds(sides.size());
    // The client's CPU time (user + system, every thread of the process)
    // per operation: with the servers on the same two vCPUs, requests/s is
    // bound by the servers as much as by the client, and a side's own cost
    // shows only here.
    std::vector<double> cpu_s(sides.size(), 0), done(sides.size(), 0);
    // Each side in turn, round after round, as the two-side workloads do.
    for (int i = 0; i < o.repeat; ++i)
        for (size_t k = 0; k < runs.size(); ++k) {
            const Timed t = timed(runs[k]);
            cpu_s[k] += t.cpu_s;
            done[k] += static_cast<double>(t.ops);
            rounds[k].push_back(t.ops_per_s);
        }
    if (std::getenv("ILANA_BENCH_ROUNDS") != nullptr)
        for (size_t k = 0; k < sides.size(); ++k)
            for (size_t r = 0; r < rounds[k].size(); ++r)
                std::fprintf(stderr, "  %s round %zu: %s %.0f\n", w.name.c_str(), r, sides[k].key.c_str(), rounds[k][r]);
    std::vector<double> ops, cpu_us;
    std::vector<bench::SideMemory> mem;
    for (size_t k = 0; k < sides.size(); ++k) {
        ops.push_back(median(rounds[k]));
        cpu_us.push_back(done[k] > 0 ? cpu_s[k] * 1e6 / done[k] : 0);
        mem.push_back(bench::measure_side_memory(o, w.name, sides[k].key));
        if (!mem.back().error.empty())
            throw std::runtime_error("resident memory of side " + sides[k].key + ": " + mem.back().error);
    }
    auto index_of = [&](const std::string &key) -> int {
        for (size_t k = 0; k < sides.size(); ++k)
            if (sides[k].key == key) return static_cast<int>(k);
        return -1;
    };
    struct Shown {
        const bench::SideRatio *r;
        double value;
    };
    std::vector<Shown> shown;
    for (const auto &r : set.ratios) {
        const int a = index_of(r.of), b = index_of(r.to);
        if (a < 0 || b < 0) continue;
        const double num = r.memory ? mem[static_cast<size_t>(a)].anon_growth_mib() : ops[static_cast<size_t>(a)];
        const double den = r.memory ? mem[static_cast<size_t>(b)].anon_growth_mib() : ops[static_cast<size_t>(b)];
        shown.push_back({&r, den > 0 ? num / den : 0});
    }
    if (o.json) {
        std::printf("{\"workload\": \"%s\", \"unit\": \"%s\", \"sides\": {", w.name.c_str(), set.unit.c_str());
        for (size_t k = 0; k < sides.size(); ++k)
            std::printf("%s\"%s\": {\"ops_per_s\": %.1f, \"client_cpu_us_per_op\": %.2f, \"rss_start_mib\": %.2f, "
                        "\"rss_peak_mib\": %.2f, \"rss_growth_mib\": %.2f, \"anon_growth_mib\": %.2f}",
                        k == 0 ? "" : ", ", sides[k].key.c_str(), ops[k], cpu_us[k], mem[k].start_mib,
                        mem[k].peak_mib, mem[k].growth_mib(), mem[k].anon_growth_mib());
        std::printf("}, \"ratios\": [");
        for (size_t k = 0; k < shown.size(); ++k)
            std::printf("%s{\"of\": \"%s\", \"to\": \"%s\", \"figure\": \"%s\", \"ratio\": %.4f, \"target\": %.2f}",
                        k == 0 ? "" : ", ", shown[k].r->of.c_str(), shown[k].r->to.c_str(),
                        shown[k].r->memory ? "anon_growth" : "ops_per_s", shown[k].value, shown[k].r->target);
        std::printf("], \"repeat\": %d}\n", o.repeat);
        return;
    }
    // The two-side table's columns do not fit: a header of its own.
    int key_width = 16, what_width = 44;
    auto what_of = [](const bench::SideRatio &r) {
        return r.of + " / " + r.to + (r.memory ? " (anonymous memory)" : "");
    };
    for (const auto &s : sides) key_width = std::max(key_width, static_cast<int>(s.key.size()));
    for (const auto &s : shown) what_width = std::max(what_width, static_cast<int>(what_of(*s.r).size()));
    std::printf("%-22s %-*s %11s  %-10s  %-35s %s\n", w.name.c_str(), key_width, "side", set.unit.c_str(),
                "CPU us/op", "RSS MiB: start + peak growth (anon)", "what the side is");
    for (size_t k = 0; k < sides.size(); ++k)
        std::printf("%-22s %-*s %11s  %10.1f  %5.1f + %4.1f (%5.2f)%15s %s\n", "", key_width, sides[k].key.c_str(),
                    with_commas(ops[k]).c_str(), cpu_us[k], mem[k].start_mib, mem[k].growth_mib(),
                    mem[k].anon_growth_mib(), "", sides[k].label.c_str());
    for (const auto &s : shown) {
        const std::string what = what_of(*s.r);
        char target[40] = "";
        if (s.r->target > 0) {
            const bool met = s.r->memory ? s.value <= s.r->target : s.value >= s.r->target;
            std::snprintf(target, sizeof target, "%s %.2f %s", s.r->memory ? "<=" : ">=", s.r->target,
                          met ? "met" : "NOT met");
        }
        std::printf("%-22s %-*s %7.3f  %s\n", "", what_width, what.c_str(), s.value, target);
    }
    if (!set.note.empty()) notes.push_back(w.name + ": " + set.note);
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
    if (!opts.memory_child.first.empty())
        return bench::memory_child_main(opts, opts.memory_child.first, opts.memory_child.second);
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
            std::string missing;
            if (w.needs == "pg" && ctx.pg_url().empty())
                missing = "ILANA_BENCH_PG_URL is not set (no PostgreSQL server given)";
            if (w.needs == "mysql" && ctx.mysql_url().empty())
                missing = "ILANA_BENCH_MYSQL_URL is not set (no MariaDB/MySQL server given)";
            if (!missing.empty()) {
                // As every test against real servers: with the servers
                // required (scripts/run-tests.sh), a missing one fails.
                const char *required = std::getenv("ILANA_TEST_SERVERS_REQUIRED");
                if (required != nullptr && std::string(required) == "1") {
                    ++failures;
                    if (opts.json)
                        std::printf("{\"workload\": \"%s\", \"error\": \"%s\"}\n", w.name.c_str(),
                                    json_escape(missing + " and ILANA_TEST_SERVERS_REQUIRED=1").c_str());
                    else
                        std::printf("%-22s FAILED: %s and ILANA_TEST_SERVERS_REQUIRED=1\n", w.name.c_str(),
                                    missing.c_str());
                    std::fflush(stdout);
                } else {
                    print_skip(opts, w.name, missing);
                }
                continue;
            }
            try {
                if (w.sides) {
                    run_sides(opts, ctx, w, notes);
                    std::fflush(stdout);
                    continue;
                }
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
                if (!opts.side.empty() && opts.side != "raw" && opts.side != "ilana")
                    throw std::runtime_error("--side " + opts.side + " names no side of " + w.name +
                                             " (its sides: raw, ilana)");
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
