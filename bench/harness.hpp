// harness.hpp — what every ilana-bench workload shares: options, the
// interleaved timing loop, the ilana config written at run time, checks.
//
// A workload prepares its data once, then hands back two closures that do
// the same work: `raw` straight on the client library in its fastest
// ordinary form, `ilana` through the public C++ API (config, registry, pool,
// driver plugin over the C ABI, typed rows). The harness runs them
// interleaved, raw then ilana, `repeat` times in one process, and compares
// medians: client and server share two vCPUs here, so only a ratio measured
// side by side means anything.
#pragma once

#include "affinity.hpp"

#include <ilana/database.hpp>

#include <algorithm>
#include <cstdint>
#include <functional>
#include <memory>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace bench {

struct Options {
    bool quick = false;           // a tenth of every size (CI)
    bool json = false;            // one JSON object per line
    int repeat = 5;               // interleaved rounds per workload
    std::vector<std::string> only; // --workload NAME ... (empty: all)
    bool list = false;
    // For profiling one side alone (perf record ... --side ilana): runs
    // only that side; the ratio is then meaningless and not printed.
    std::string side;
    // Round-trip workloads pin the client and their server connections to
    // two CPUs (affinity.hpp); --no-pin measures the kernel's placement.
    bool pin = true;
    // --memory-child WORKLOAD SIDE (memory.cpp): this process is the child
    // measuring one side's resident memory.
    std::pair<std::string, std::string> memory_child;
};

// A wrong result: the workload fails (and the process exits non-zero).
struct CheckFailure : std::runtime_error {
    using std::runtime_error::runtime_error;
};

// Throws CheckFailure naming the workload side and both values.
void check_equal(const char *what, int64_t got, int64_t want);

// One side of a workload: does the whole work once and returns the number of
// operations done (queries, rows, acquire/release cycles). Throws on a
// wrong result.
using RunFn = std::function<uint64_t()>;

struct Sides {
    RunFn raw;
    RunFn ilana;
    std::string note; // printed under the table (what exactly each side does)
    // Round-trip workloads on a loopback server: the server tasks behind
    // both sides' connections, asked after the warm-up (affinity.hpp).
    std::function<std::vector<ServerTask>()> server_tasks;
};

class Context;

// Workloads with more than two sides (the TechEmpower shapes of issue 21,
// te.hpp): every side runs the same requests; the harness runs the sides
// interleaved (each in turn, `repeat` rounds after one untimed warm-up),
// prints each side's median and the ratios the workload names, and measures
// each side's resident memory in a child process of its own (memory.cpp).
struct Side {
    std::string key;   // --side KEY and the JSON key: "raw_libpq", "ilana_sync", ...
    std::string label; // one line in the table: what the side is
    // Opens what the side holds (connections, threads' pools) untimed and
    // returns its run (requests answered). Called once per process; in a
    // memory child only for the side measured there.
    std::function<RunFn()> open;
};

// ratio = figure(of) / figure(to), printed when both sides ran. Throughput
// ratios want >= target; memory ratios (growth of anonymous resident
// memory, SideMemory) want <= target. target 0: printed without a target.
struct SideRatio {
    std::string of, to;
    double target = 0;
    bool memory = false;
};

struct SideSet {
    std::vector<Side> sides;
    std::vector<SideRatio> ratios;
    std::string unit = "req/s";
    std::string note; // printed under the table
};

// Resident memory of one side, measured in a child process of ilana-bench
// (`--memory-child WORKLOAD SIDE`, hidden) that prepares the workload, then
// opens and runs that side alone twice: VmRSS before the side opened and
// VmHWM after (/proc/self/status), and the anonymous part (RssAnon) before
// and at its highest (sampled every millisecond while the side runs). The
// growth is what the side itself needs: the process image, the workload's
// ids and the run's bookkeeping are in the start figure of every side
// alike. The anonymous growth (heap, thread stacks, malloc arenas, the
// client libraries' buffers) is what the side's design costs; the rest of
// the peak is the libraries' code and data pages touched for the first
// time (libpq's first connection pages in ~3 MiB of libpq, OpenSSL and
// Kerberos), shared with every process that uses them.
struct SideMemory {
    double start_mib = 0, peak_mib = 0;
    double anon_start_mib = 0, anon_peak_mib = 0;
    std::string error; // non-empty: not measured, and why
    double growth_mib() const noexcept { return peak_mib - start_mib; }
    double anon_growth_mib() const noexcept { return anon_peak_mib - anon_start_mib; }
};
SideMemory measure_side_memory(const Options &o, const std::string &workload, const std::string &side);
// The child's half: prints one line "ilana-bench-memory START HWM
// ANON_START ANON_PEAK" (KiB) on stdout; returns the exit status.
int memory_child_main(const Options &o, const std::string &workload, const std::string &side);
// VmRSS / VmHWM of this process in KiB (/proc/self/status); -1 if absent.
long status_kib(const char *field);

// Extra figures some workloads report besides ops/s (tenants_warmup).
struct Report {
    std::vector<std::pair<std::string, double>> figures; // key, value (JSON numbers)
    std::string text;                                     // human form
    std::string skipped;                                  // non-empty: skipped, and why
};

struct Workload {
    std::string name;
    std::string needs; // "pg", "mysql", or "" (SQLite / none)
    std::string what;  // one line for --list
    double target = 0; // ilana/raw ops ratio aimed at; 0 = none
    // Prepares data and returns the two sides. Called once per process run.
    std::function<Sides(Context &)> prepare;
    // Workloads without a raw twin (tenants_warmup) report instead.
    std::function<Report(Context &)> report;
    // Workloads with more than two sides (instead of prepare).
    std::function<SideSet(Context &)> sides = {};
};

// Shared state of one run: options, server URLs, the temp dir with the
// generated ilana.config.json, the Database opened from it.
class Context {
public:
    explicit Context(Options o);
    ~Context();

    const Options &options() const noexcept { return opts_; }
    // `full` at full size, a tenth (at least 1) with --quick.
    size_t scale(size_t full) const noexcept { return opts_.quick ? std::max<size_t>(1, full / 10) : full; }

    const std::string &pg_url() const noexcept { return pg_url_; }
    const std::string &mysql_url() const noexcept { return mysql_url_; }
    const std::string &temp_dir() const noexcept { return dir_; }
    // Names of server-side objects of this process (tables), unique per run
    // so two benches (or a bench and CI) never drop each other's tables. A
    // memory child (--memory-child) inherits its parent's run
    // (ILANA_BENCH_RUN_ID), so it names the parent's tables.
    std::string unique(const std::string &base) const;
    // False in a memory child: the tables are its parent's, made and
    // dropped by the parent.
    bool owns_run() const noexcept { return owns_run_; }
    const std::string &run_id() const noexcept { return run_id_; }

    // The ilana Database for every workload, opened on first use from an
    // ilana.config.json written into the temp dir (see context.cpp for the
    // connections it declares).
    ilana::Database &db();

    // Runs `fn` when the run ends (dropping this run's tables); errors ignored.
    void at_exit(std::function<void()> fn) { cleanups_.push_back(std::move(fn)); }

private:
    std::vector<std::function<void()>> cleanups_;
    Options opts_;
    std::string pg_url_, mysql_url_;
    std::string dir_;
    std::string run_id_;
    bool owns_run_ = true;
    std::unique_ptr<ilana::Database> db_;
};

// The workloads, in the order they run (main.cpp calls these in turn).
std::vector<Workload> &workloads();
void add_pg_workloads(std::vector<Workload> &out);       // pg.cpp
void add_mysql_workloads(std::vector<Workload> &out);    // mysql.cpp
void add_sqlite_workloads(std::vector<Workload> &out);   // sqlite.cpp
void add_pool_workloads(std::vector<Workload> &out);     // pool.cpp
void add_pipeline_workloads(std::vector<Workload> &out); // pipeline.cpp
void add_tenant_workloads(std::vector<Workload> &out);   // tenants.cpp
void add_conversion_workloads(std::vector<Workload> &out); // conversions.cpp
void add_te_workloads(std::vector<Workload> &out);       // te_pg.cpp, te_mysql.cpp (te.hpp)

// The fields every point/fetch workload reads, as a user's struct.
struct Item {
    int64_t id = 0;
    std::string name;
    double score = 0;
    int64_t created_us = 0; // microseconds since the Unix epoch
};

// Sums a run accumulates over the items it read, compared with what the
// generated data must give: ids, name lengths, scores and timestamps all
// decoded right.
struct Checksum {
    int64_t rows = 0, ids = 0, name_bytes = 0, score2 = 0, created_s = 0;
    void add(const Item &it) noexcept {
        ++rows;
        ids += it.id;
        name_bytes += static_cast<int64_t>(it.name.size());
        score2 += static_cast<int64_t>(it.score * 2);
        created_s += (it.created_us - kCreatedBaseUs) / 1000000;
    }
    // Every table holds rows id = 1..n with name 'name_<id>', score id * 0.5
    // and created = kCreatedBase + id seconds.
    static constexpr int64_t kCreatedBaseUs = 1704067200LL * 1000000; // 2024-01-01 00:00:00 UTC
    static Checksum expected_for(const std::vector<int64_t> &ids);
    static Checksum expected_range(int64_t n); // ids 1..n
    void check(const char *what, const Checksum &want) const;
};

// Deterministic random ids in 1..n (the same sequence for both sides).
std::vector<int64_t> random_ids(size_t count, int64_t n, uint64_t seed = 42);

// Machine facts for the report header.
std::string cpu_model();
unsigned cpu_count();
// Resident set size of this process in KiB (/proc/self/statm).
long rss_kib();
// Heap bytes in use (malloc'd and not freed, mmap'd blocks included), in
// KiB: what objects hold, without the allocator's retained free memory.
double heap_kib();

// Thread-count helper for the pooled workloads: runs fn(thread_index) on n
// threads, all released together, and joins. Rethrows the first exception.
void run_threads(int n, const std::function<void(int)> &fn);

} // namespace bench
