// tenants.cpp — tenants_warmup: TenantManager::warmup of 1 000 SQLite file
// tenants and 200 PostgreSQL schema tenants with concurrency 8 (seconds),
// and the resident memory each idle warm tenant pool costs.
//
// There is no raw twin (a hand-written pool per tenant is what ilana is
// for), so this workload reports figures instead of a ratio:
//  - seconds: median over --repeat cold warmups, each on a fresh Database
//    (every pool opened and its session pinged anew);
//  - KiB per pool: growth of the heap in use (mallinfo2) and of the
//    resident set while a fresh Database warms as many tenants as stay warm
//    (all 1 000 SQLite ones, 50 PostgreSQL ones), divided by that count.
//    Each warm pool holds one idle session. The heap figure is what
//    the pools hold; the resident one also moves with memory malloc kept
//    from earlier workloads (it can even shrink).
// SQLite: maxPools 1 000, so every tenant stays warm. PostgreSQL: the
// default maxPools of 50 (200 warm sessions would take the test server's
// whole max_connections from everyone else), so the warmup also pays for
// 150 LRU evictions.
#include "harness.hpp"

#if __has_include(<ilana/tenants.hpp>)
#include <ilana/tenants.hpp>
#define ILANA_BENCH_HAVE_TENANTS 1
#endif

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>

#include <unistd.h>

namespace bench {

#ifdef ILANA_BENCH_HAVE_TENANTS
namespace {

struct WarmFigures {
    int tenants = 0, warm_pools = 0;
    double create_s = 0, warmup_s = 0; // warmup_s: median
    double heap_kib_per_pool = 0; // heap in use, per warm pool
    double rss_kib_per_pool = 0;  // resident set growth, per warm pool
};

double seconds_since(std::chrono::steady_clock::time_point t0) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

// Writes `config` into `dir` and measures: tenant creation once, then
// `repeat` cold warmups (a fresh Database each, so nothing is warm).
WarmFigures measure(Context &ctx, const std::string &dir, const std::string &config, int tenants, int max_pools,
                    bool drop_after) {
    std::filesystem::create_directories(dir);
    const std::string path = dir + "/ilana.config.json";
    {
        std::ofstream f(path);
        f << config;
    }
    WarmFigures out;
    out.tenants = tenants;
    std::vector<std::string> ids;
    for (int i = 0; i < tenants; ++i) {
        char id[16];
        std::snprintf(id, sizeof id, "t%04d", i);
        ids.emplace_back(id);
    }
    {
        ilana::Database db = ilana::Database::open(path);
        ilana::TenantManager tm(db);
        auto t0 = std::chrono::steady_clock::now();
        for (const auto &id : ids) tm.create_tenant(id, ilana::CreateTenantOptions{false});
        out.create_s = seconds_since(t0);
        check_equal("tenants created", static_cast<int64_t>(tm.discover().size()), tenants);
        tm.close();
        db.close();
    }
    std::vector<double> warm;
    for (int round = 0; round < std::max(1, ctx.options().repeat); ++round) {
        ilana::Database db = ilana::Database::open(path);
        ilana::TenantManager tm(db);
        ilana::WarmupOptions wo;
        wo.concurrency = 8;
        auto t0 = std::chrono::steady_clock::now();
        ilana::WarmupResult w = tm.warmup(ids, wo);
        warm.push_back(seconds_since(t0));
        check_equal("tenants warmed", w.succeeded, tenants);
        check_equal("tenant warmups failed", w.failed, 0);
        out.warm_pools = tm.stats().open_pools;
        check_equal("warm pools", out.warm_pools, std::min(tenants, max_pools));
        tm.close();
        db.close();
    }
    std::sort(warm.begin(), warm.end());
    out.warmup_s = warm[warm.size() / 2];
    {
        // Memory: warm only as many tenants as stay warm (no evictions whose
        // freed memory would blur the figure), on a fresh Database.
        const std::vector<std::string> some(ids.begin(), ids.begin() + std::min(tenants, max_pools));
        ilana::Database db = ilana::Database::open(path);
        ilana::TenantManager tm(db);
        ilana::WarmupOptions wo;
        wo.concurrency = 8;
        const long rss0 = rss_kib();
        const double heap0 = heap_kib();
        ilana::WarmupResult w = tm.warmup(some, wo);
        const long rss1 = rss_kib();
        const double heap1 = heap_kib();
        check_equal("tenants warmed for the memory figure", w.succeeded, static_cast<int64_t>(some.size()));
        out.heap_kib_per_pool = (heap1 - heap0) / static_cast<double>(some.size());
        out.rss_kib_per_pool = static_cast<double>(rss1 - rss0) / static_cast<double>(some.size());
        tm.close();
        if (drop_after) {
            ilana::TenantManager cleanup(db);
            for (const auto &id : cleanup.discover()) cleanup.drop_tenant(id);
        }
        db.close();
    }
    return out;
}

Report tenants(Context &ctx) {
    Report r;
    char text[512];
    const int lite_n = static_cast<int>(ctx.scale(1000));
    const std::string lite_dir = ctx.temp_dir() + "/tenants-lite";
    std::filesystem::create_directories(lite_dir + "/files");
    const std::string lite_cfg = R"({"connections": {"tpl": {"client": "sqlite3",
          "connection": {"filename": "./files/{tenant}.sqlite"}}},
        "tenants": {"connection": "tpl", "isolation": "file", "maxPools": )" +
                                 std::to_string(lite_n) + R"(, "poolTtlMs": 0, "pool": {"min": 0, "max": 1}}})";
    WarmFigures lite = measure(ctx, lite_dir, lite_cfg, lite_n, lite_n, false);
    r.figures = {{"sqlite_tenants", static_cast<double>(lite.tenants)},
                 {"sqlite_warmup_s", lite.warmup_s},
                 {"sqlite_heap_kib_per_pool", lite.heap_kib_per_pool},
                 {"sqlite_rss_kib_per_pool", lite.rss_kib_per_pool}};
    std::snprintf(text, sizeof text,
                  "SQLite: %d file tenants warmed in %.3f s (%.0f/s), %.1f KiB heap (%.1f KiB resident) per warm pool",
                  lite.tenants, lite.warmup_s, lite.tenants / lite.warmup_s, lite.heap_kib_per_pool,
                  lite.rss_kib_per_pool);
    r.text = text;

    if (ctx.pg_url().empty()) {
        r.text += "; PostgreSQL skipped (ILANA_BENCH_PG_URL is not set)";
        return r;
    }
    const int pg_n = static_cast<int>(ctx.scale(200));
    const int pg_max_pools = 50;
    const std::string prefix = "bench" + std::to_string(static_cast<long>(::getpid())) + "_";
    const std::string &url = ctx.pg_url();
    const std::string pg_cfg = R"({"connections": {"tpl": {"client": "pg", "connection": ")" + url + R"("}},
        "tenants": {"connection": "tpl", "isolation": "schema", "schemaPrefix": ")" +
                               prefix + R"(", "maxPools": )" + std::to_string(pg_max_pools) +
                               R"(, "poolTtlMs": 0, "pool": {"min": 0, "max": 1}}})";
    WarmFigures pg = measure(ctx, ctx.temp_dir() + "/tenants-pg", pg_cfg, pg_n, pg_max_pools, true);
    r.figures.push_back({"pg_tenants", static_cast<double>(pg.tenants)});
    r.figures.push_back({"pg_warmup_s", pg.warmup_s});
    r.figures.push_back({"pg_heap_kib_per_pool", pg.heap_kib_per_pool});
    r.figures.push_back({"pg_rss_kib_per_pool", pg.rss_kib_per_pool});
    r.figures.push_back({"pg_max_pools", static_cast<double>(pg_max_pools)});
    std::snprintf(text, sizeof text,
                  "; PostgreSQL: %d schema tenants warmed in %.3f s (%.0f/s; maxPools %d, %d stay warm), "
                  "%.1f KiB heap (%.1f KiB resident) per warm pool",
                  pg.tenants, pg.warmup_s, pg.tenants / pg.warmup_s, pg_max_pools, pg.warm_pools,
                  pg.heap_kib_per_pool, pg.rss_kib_per_pool);
    r.text += text;
    return r;
}

} // namespace
#endif

void add_tenant_workloads(std::vector<Workload> &out) {
    Workload w;
    w.name = "tenants_warmup";
    w.what = "1 000 SQLite file tenants + 200 PostgreSQL schema tenants, warmup concurrency 8 (figures, no raw twin)";
#ifdef ILANA_BENCH_HAVE_TENANTS
    w.report = tenants;
#else
    w.report = [](Context &) {
        Report r;
        r.skipped = "the TenantManager (ilana/tenants.hpp) is not part of this build";
        return r;
    };
#endif
    out.push_back(std::move(w));
}

} // namespace bench
