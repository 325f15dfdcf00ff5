// context.cpp — the run's shared state: server URLs from the environment,
// a temp dir with the ilana.config.json written at run time, machine facts.
#include "harness.hpp"

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <random>
#include <sstream>
#include <thread>
#include <exception>

#include <malloc.h>
#include <unistd.h>

namespace bench {

namespace {

std::string env(const char *name) {
    const char *v = std::getenv(name);
    return v != nullptr ? std::string(v) : std::string();
}

std::string json_string(const std::string &s) {
    std::string out = "\"";
    for (char c : s) {
        if (c == '"' || c == '\\') out += '\\';
        out += c;
    }
    return out + "\"";
}

} // namespace

void check_equal(const char *what, int64_t got, int64_t want) {
    if (got != want)
        throw CheckFailure(std::string(what) + ": wrong result " + std::to_string(got) + ", expected " +
                           std::to_string(want));
}

std::vector<Workload> &workloads() {
    static std::vector<Workload> all = [] {
        std::vector<Workload> w;
        add_pg_workloads(w);
        add_mysql_workloads(w);
        add_sqlite_workloads(w);
        add_conversion_workloads(w);
        add_pool_workloads(w);
        add_pipeline_workloads(w);
        add_tenant_workloads(w);
        add_te_workloads(w);
        return w;
    }();
    return all;
}

Checksum Checksum::expected_for(const std::vector<int64_t> &ids) {
    Checksum c;
    for (int64_t id : ids) {
        Item it;
        it.id = id;
        it.name = "name_" + std::to_string(id);
        it.score = static_cast<double>(id) * 0.5;
        it.created_us = kCreatedBaseUs + id * 1000000;
        c.add(it);
    }
    return c;
}

Checksum Checksum::expected_range(int64_t n) {
    std::vector<int64_t> ids(static_cast<size_t>(n));
    for (int64_t i = 0; i < n; ++i) ids[static_cast<size_t>(i)] = i + 1;
    return expected_for(ids);
}

void Checksum::check(const char *what, const Checksum &want) const {
    const std::string w = what;
    check_equal((w + " rows").c_str(), rows, want.rows);
    check_equal((w + " sum of ids").c_str(), ids, want.ids);
    check_equal((w + " name bytes").c_str(), name_bytes, want.name_bytes);
    check_equal((w + " sum of 2*score").c_str(), score2, want.score2);
    check_equal((w + " sum of created seconds").c_str(), created_s, want.created_s);
}

std::vector<int64_t> random_ids(size_t count, int64_t n, uint64_t seed) {
    std::mt19937_64 rng(seed);
    std::uniform_int_distribution<int64_t> dist(1, n);
    std::vector<int64_t> ids(count);
    for (auto &id : ids) id = dist(rng);
    return ids;
}

Context::Context(Options o) : opts_(std::move(o)) {
    pg_url_ = env("ILANA_BENCH_PG_URL");
    mysql_url_ = env("ILANA_BENCH_MYSQL_URL");
    std::string base = env("TMPDIR");
    if (base.empty()) base = "/tmp";
    std::string templ = base + "/ilana-bench-XXXXXX";
    std::vector<char> buf(templ.begin(), templ.end());
    buf.push_back('\0');
    if (::mkdtemp(buf.data()) == nullptr) throw std::runtime_error("cannot create a temp dir under " + base);
    dir_ = buf.data();
    // A memory child (and only one: a variable left in a user's shell must
    // not make a run skip its tables) names its parent's run.
    owns_run_ = opts_.memory_child.first.empty();
    run_id_ = owns_run_ ? std::to_string(static_cast<long>(::getpid())) : env("ILANA_BENCH_RUN_ID");
    if (run_id_.empty()) throw std::runtime_error("--memory-child needs ILANA_BENCH_RUN_ID (its parent's run)");
}

Context::~Context() {
    for (auto it = cleanups_.rbegin(); it != cleanups_.rend(); ++it) {
        try {
            (*it)();
        } catch (...) {
        }
    }
    if (db_) db_->close();
    db_.reset();
    // The config and tenant files are ours alone: remove the whole dir.
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
}

std::string Context::unique(const std::string &base) const {
    return base + "_" + run_id_;
}

// The connections every workload may use. Server connections exist only
// when their URL is given; SQLite needs nothing.
//   pg, my           one session at a time (round-trip workloads), max 4
//   pg_pool4         pool_query: 8 threads over 4 sessions
//   pg_te, my_te     the TechEmpower shapes' ilana sync side: 16 threads
//                    over a pool of max 16 (te.hpp)
//   lite             :memory: database with data: min = max = 1 and no idle
//                    timeout, so the one session (and its data) stays
//   lite_pool4       pool_cycle: acquire/release only, max 4
ilana::Database &Context::db() {
    if (db_) return *db_;
    std::ostringstream cfg;
    cfg << "{\n  \"default\": \"lite\",\n  \"connections\": {\n";
    cfg << "    \"lite\": {\"client\": \"sqlite3\", \"connection\": {\"filename\": \":memory:\"},"
           " \"pool\": {\"min\": 1, \"max\": 1, \"idleTimeoutMillis\": 0}},\n";
    cfg << "    \"lite_pool4\": {\"client\": \"sqlite3\", \"connection\": {\"filename\": \":memory:\"},"
           " \"pool\": {\"min\": 0, \"max\": 4, \"idleTimeoutMillis\": 0}}";
    if (!pg_url_.empty()) {
        cfg << ",\n    \"pg\": {\"client\": \"pg\", \"connection\": " << json_string(pg_url_)
            << ", \"pool\": {\"min\": 0, \"max\": 4}}";
        cfg << ",\n    \"pg_pool4\": {\"client\": \"pg\", \"connection\": " << json_string(pg_url_)
            << ", \"pool\": {\"min\": 0, \"max\": 4}}";
        cfg << ",\n    \"pg_te\": {\"client\": \"pg\", \"connection\": " << json_string(pg_url_)
            << ", \"pool\": {\"min\": 0, \"max\": 16}}";
    }
    if (!mysql_url_.empty()) {
        cfg << ",\n    \"my\": {\"client\": \"mysql\", \"connection\": " << json_string(mysql_url_)
            << ", \"pool\": {\"min\": 0, \"max\": 4}}";
        cfg << ",\n    \"my_te\": {\"client\": \"mysql\", \"connection\": " << json_string(mysql_url_)
            << ", \"pool\": {\"min\": 0, \"max\": 16}}";
    }
    cfg << "\n  }\n}\n";
    const std::string path = dir_ + "/ilana.config.json";
    {
        std::ofstream f(path);
        f << cfg.str();
        if (!f) throw std::runtime_error("cannot write " + path);
    }
    db_ = std::make_unique<ilana::Database>(ilana::Database::open(path));
    return *db_;
}

std::string cpu_model() {
    std::ifstream f("/proc/cpuinfo");
    std::string line;
    while (std::getline(f, line)) {
        if (line.rfind("model name", 0) == 0) {
            auto colon = line.find(':');
            if (colon != std::string::npos) {
                std::string m = line.substr(colon + 1);
                m.erase(0, m.find_first_not_of(" \t"));
                return m;
            }
        }
    }
    return "unknown CPU";
}

unsigned cpu_count() {
    unsigned n = std::thread::hardware_concurrency();
    return n == 0 ? 1 : n;
}

long rss_kib() {
    std::ifstream f("/proc/self/statm");
    long size = 0, resident = 0;
    f >> size >> resident;
    return resident * (::sysconf(_SC_PAGESIZE) / 1024);
}

double heap_kib() {
    struct mallinfo2 mi = mallinfo2();
    return static_cast<double>(mi.uordblks + mi.hblkhd) / 1024.0;
}

void run_threads(int n, const std::function<void(int)> &fn) {
    std::mutex mu;
    std::exception_ptr first;
    std::vector<std::thread> threads;
    threads.reserve(static_cast<size_t>(n));
    for (int i = 0; i < n; ++i)
        threads.emplace_back([&, i] {
            try {
                fn(i);
            } catch (...) {
                std::lock_guard<std::mutex> lock(mu);
                if (!first) first = std::current_exception();
            }
        });
    for (auto &t : threads) t.join();
    if (first) std::rethrow_exception(first);
}

} // namespace bench
