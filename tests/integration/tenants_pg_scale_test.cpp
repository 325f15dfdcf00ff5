// 200 tenant schemas on PostgreSQL: tenant migrations with concurrency 8,
// warmup with concurrency 8 (200 succeeded), then 16 threads querying
// random tenants with maxPools 50 — the open pools, counted from the
// onPoolCreated / onPoolEvicted hooks and sampled by a watcher thread, never
// exceed 50, and the LRU evictions are counted. Each tenant pool has one
// connection at most, so the test holds at most ~60 server connections
// (the shared server allows 200 in all).
//
// Prints one line of figures ("[tenants-scale] ...") for the record.
#include <catch2/catch.hpp>

#include <ilana/ilana.hpp>
#include <ilana/tenants.hpp>

#include "configs.hpp"

#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <random>
#include <thread>

using namespace ilana;
using namespace std::chrono;
using ilana_test::TempDir;

TEST_CASE("tenants (PostgreSQL): 200 schemas, warmup, maxPools 50 under 16 threads", "[tenants][pg][threads][scale]") {
    ILANA_REQUIRE_PG();
    constexpr int kTenants = 200, kMaxPools = 50, kThreads = 16, kQueriesPerThread = 60;
    TempDir dir;
    const std::string prefix = "t" + std::to_string(getpid()) + "_s_";
    dir.write("migrations/20260101000000_items.sql",
              "-- migrate:up\nCREATE TABLE items (id INTEGER NOT NULL PRIMARY KEY, tenant VARCHAR(63) NOT NULL);\n"
              "-- migrate:down\nDROP TABLE items;\n");
    dir.write("ilana.config.json", R"({"connections": {"primary": {"client": "postgres", "connection": )" +
                                       ilana_test::pg_connection_json() + R"(, "pool": {"max": 4}}},
        "tenants": {"connection": "primary", "isolation": "schema", "schemaPrefix": ")" +
                                       prefix + R"(", "maxPools": 50, "poolTtlMs": 600000,
                    "pool": {"min": 0, "max": 1, "acquireTimeoutMillis": 20000},
                    "migrations": {"directory": "./migrations"}}})");

    std::atomic<int> open{0}, max_open{0}, created{0}, lru{0};
    Hooks hooks;
    hooks.on_pool_created = [&](const std::string &name) {
        if (name.find('@') == std::string::npos) return;
        ++created;
        int now = ++open, seen = max_open.load();
        while (now > seen && !max_open.compare_exchange_weak(seen, now)) {
        }
    };
    hooks.on_pool_evicted = [&](const std::string &name, const std::string &reason) {
        if (name.find('@') == std::string::npos) return;
        --open;
        if (reason == "lru") ++lru;
    };
    Database db = Database::open(dir.file("ilana.config.json"), OpenOptions{"", {ILANA_TEST_PLUGIN_DIR}, hooks});
    TenantManager tm(db);

    std::vector<std::string> ids;
    for (int i = 0; i < kTenants; ++i) ids.push_back("s" + std::to_string(i));
    struct Cleanup {
        TenantManager &tm;
        ~Cleanup() {
            try {
                for (const auto &id : tm.discover()) tm.drop_tenant(id);
            } catch (const std::exception &e) {
                WARN("cleanup failed: " << e.what());
            }
        }
    } cleanup{tm};

    auto t0 = steady_clock::now();
    for (const auto &id : ids) tm.create_tenant(id, CreateTenantOptions{false});
    const auto create_ms = duration_cast<milliseconds>(steady_clock::now() - t0).count();
    REQUIRE(tm.discover().size() == static_cast<size_t>(kTenants));

    TenantsMigrateOptions mo;
    mo.concurrency = 8;
    TenantsMigrateResult migrated = tm.migrate_all(mo);
    REQUIRE(migrated.succeeded == kTenants);
    CHECK(migrated.failed == 0);
    CHECK(max_open <= kMaxPools);
    // Every tenant knows who it is: a pool on the wrong schema would show.
    tm.seed_tenants(ids, [](Connection &c, const std::string &id) {
        c.execute("INSERT INTO items (id, tenant) VALUES (?, ?)", {1, id});
    });

    WarmupOptions wo;
    wo.concurrency = 8;
    WarmupResult warm = tm.warmup(ids, wo);
    CHECK(warm.total == kTenants);
    CHECK(warm.failed == 0);
    CHECK(warm.succeeded + warm.already_warm == kTenants);
    // The seeding left the last 50 warm; the other 150 were opened anew.
    CHECK(warm.succeeded >= kTenants - kMaxPools);
    for (const auto &d : warm.details) CHECK(d.error.empty());
    CHECK(tm.stats().open_pools == kMaxPools);
    // Warming what is warm reports it so.
    WarmupResult again = tm.warmup(tm.warm_tenants(), wo);
    CHECK(again.already_warm == kMaxPools);
    CHECK(again.succeeded == 0);

    // A fresh start for the load: every pool closed, counters from here.
    tm.close(); // (also checks that close evicts everything)
    CHECK(open == 0);
    Database db2 = Database::open(dir.file("ilana.config.json"), OpenOptions{"", {ILANA_TEST_PLUGIN_DIR}, hooks});
    TenantManager tm2(db2);
    WarmupResult cold = tm2.warmup(ids, wo);
    CHECK(cold.succeeded == kTenants); // all 200 opened anew with concurrency 8
    CHECK(cold.failed == 0);
    const int lru_before = lru;
    const uint64_t evicted_before = tm2.stats().evicted_lru;

    std::atomic<bool> stop{false};
    std::atomic<int> max_sampled{0}, errors{0}, wrong{0};
    std::thread watcher([&] {
        while (!stop) {
            int n = tm2.stats().open_pools;
            if (n > max_sampled) max_sampled = n;
            int h = open;
            if (h > max_sampled) max_sampled = h;
            std::this_thread::sleep_for(microseconds(500));
        }
    });
    t0 = steady_clock::now();
    std::vector<std::thread> workers;
    for (int t = 0; t < kThreads; ++t)
        workers.emplace_back([&, t] {
            std::mt19937 rng(static_cast<unsigned>(t) * 104729u + 7u);
            for (int q = 0; q < kQueriesPerThread; ++q) {
                const std::string &id = ids[rng() % ids.size()];
                try {
                    Result r = tm2.get(id).query("SELECT tenant FROM items WHERE id = ?", {1});
                    if (r.size() != 1 || r.front()["tenant"].as<std::string>() != id) ++wrong;
                } catch (const std::exception &e) {
                    if (++errors == 1) WARN("query failed: " << e.what());
                }
            }
        });
    for (auto &w : workers) w.join();
    const auto load_ms = duration_cast<milliseconds>(steady_clock::now() - t0).count();
    stop = true;
    watcher.join();

    const TenantPoolStats s = tm2.stats();
    CHECK(errors == 0);
    CHECK(wrong == 0);
    CHECK(max_open <= kMaxPools);
    CHECK(max_sampled <= kMaxPools);
    CHECK(s.open_pools <= kMaxPools);
    CHECK(s.max_pools == kMaxPools);
    CHECK(s.evicted_lru > evicted_before);
    CHECK(static_cast<uint64_t>(lru - lru_before) == s.evicted_lru - evicted_before);
    CHECK(s.wait_timeouts == 0);

    std::printf("[tenants-scale] create %d schemas %lld ms; migrate (concurrency 8) %lld ms; warmup of %d cold "
                "(concurrency 8) %lld ms; load %d threads x %d queries %lld ms; pools max observed %d (hooks %d), "
                "maxPools %d; LRU evictions under load %llu (all, warmups included, %d); waits for a free pool %llu\n",
                kTenants, static_cast<long long>(create_ms), static_cast<long long>(migrated.duration_ms), kTenants,
                static_cast<long long>(cold.duration_ms), kThreads, kQueriesPerThread, static_cast<long long>(load_ms),
                max_sampled.load(), max_open.load(), kMaxPools, static_cast<unsigned long long>(s.evicted_lru - evicted_before),
                lru.load(), static_cast<unsigned long long>(s.waits));
    std::fflush(stdout);
    tm2.close();
}
