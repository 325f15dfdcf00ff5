// The connection budget of a server against a real PostgreSQL (issue 20,
// "Connection budget"): 200 tenant pools (schema isolation) over one
// server with "maxConnections": 40, 32 threads querying them -- 8 of them
// hammering one tenant, the others going round all 200. A separate thread
// samples pg_stat_activity throughout, counting only this test's sessions
// (by application_name): never more than 40. Every tenant makes progress:
// the other threads ask tenants s1..s199 in turn (one shared counter) for
// three rounds while the hammering goes on; each tenant's fair share is
// the queries of those tenants over their number, and each tenant
// (the hammered one included) completes at least half of it. No query
// fails (an acquire starved past acquireTimeoutMillis would). The run ends
// when the rounds are done (two minutes at most). The figures are printed
// ("[budget] ...").
#include <catch2/catch.hpp>

#include <ilana/ilana.hpp>
#include <ilana/tenants.hpp>

#include "configs.hpp"

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <thread>
#include <vector>

using namespace ilana;
using namespace std::chrono;
using ilana_test::TempDir;

TEST_CASE("server budget (PostgreSQL): 200 tenant pools, budget 40, 32 threads: never more than 40 sessions, "
          "every tenant progresses",
          "[budget][pg][threads][tenants]") {
    ILANA_REQUIRE_PG();
    constexpr int kTenants = 200, kBudget = 40, kThreads = 32, kHammers = 8;
    constexpr int kRounds = 3;
    constexpr auto kLimit = seconds(120); // plain: 7-14 s here; room for ThreadSanitizer
    TempDir dir;
    const std::string tag = "b" + std::to_string(getpid());
    const std::string app = "ilana_budget_" + tag; // this test's sessions in pg_stat_activity
    const std::string prefix = tag + "_t_";
    dir.write("ilana.config.json",
              R"({"default": "primary",
        "servers": {"pg-main": {"maxConnections": )" + std::to_string(kBudget) + R"(}},
        "connections": {
          "primary": {"client": "postgres", "server": "pg-main", "pool": {"max": 4},
                      "connection": )" + ilana_test::pg_connection_json(R"("application_name": ")" + app + R"(")") + R"(},
          "monitor": {"client": "postgres", "pool": {"max": 1}, "connection": )" +
                  ilana_test::pg_connection_json() + R"(}},
        "tenants": {"connection": "primary", "isolation": "schema", "schemaPrefix": ")" + prefix + R"(",
                    "maxPools": 250, "pool": {"min": 0, "max": 2, "acquireTimeoutMillis": 15000}}})");
    Database db = Database::open(dir.file("ilana.config.json"), OpenOptions{"", {ILANA_TEST_PLUGIN_DIR}, {}});
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
    for (const auto &id : ids) tm.create_tenant(id, CreateTenantOptions{false});
    REQUIRE(tm.discover().size() == static_cast<size_t>(kTenants));

    Connection monitor = db.on("monitor");
    auto count_sessions = [&] {
        return monitor.query("SELECT count(*) AS n FROM pg_stat_activity WHERE application_name = ?", {app})
            .front()["n"]
            .as<int64_t>();
    };
    std::atomic<bool> stop{false};
    std::atomic<int64_t> max_seen{0};
    std::atomic<int> samples{0}, sample_errors{0};
    std::thread sampler([&] {
        while (!stop) {
            try {
                const int64_t n = count_sessions();
                if (n > max_seen) max_seen = n;
                ++samples;
            } catch (const std::exception &e) {
                if (++sample_errors == 1) WARN("sampling failed: " << e.what());
            }
            std::this_thread::sleep_for(milliseconds(2));
        }
    });

    std::vector<std::atomic<int>> done(kTenants);
    std::atomic<int> errors{0}, wrong{0};
    std::atomic<int> next_ask{0}, cyclers_left{kThreads - kHammers};
    const auto started = steady_clock::now(), limit = started + kLimit;
    std::vector<std::thread> workers;
    for (int t = 0; t < kThreads; ++t)
        workers.emplace_back([&, t] {
            while (steady_clock::now() < limit) {
                // Threads 0..7 hammer tenant s0 until the others are done;
                // the others ask s1..s199 in turn, kRounds times.
                int k = 0;
                if (t < kHammers) {
                    if (cyclers_left == 0) break;
                } else {
                    const int ask = next_ask++;
                    if (ask >= kRounds * (kTenants - 1)) break;
                    k = 1 + ask % (kTenants - 1);
                }
                try {
                    Result r = tm.get(ids[k]).query("SELECT current_schema() AS s");
                    if (r.front()["s"].as<std::string>() != prefix + ids[k]) ++wrong;
                    ++done[k];
                } catch (const std::exception &e) {
                    if (++errors == 1) WARN("query failed: " << e.what());
                }
            }
            if (t >= kHammers) --cyclers_left;
        });
    for (auto &w : workers) w.join();
    const auto run_ms = duration_cast<milliseconds>(steady_clock::now() - started).count();
    stop = true;
    sampler.join();

    long total = 0, others = 0;
    int fewest = INT32_MAX;
    for (int k = 0; k < kTenants; ++k) {
        total += done[k];
        if (k > 0) others += done[k];
        fewest = std::min(fewest, done[k].load());
    }
    const double fair = static_cast<double>(others) / (kTenants - 1);
    const std::string metrics = db.prometheus_text();
    std::printf("[budget] %d tenant pools, budget %d, %d threads (%d on one tenant), %d rounds in %lld ms: %ld "
                "queries; the hammered tenant %d, the fewest %d (fair share %.1f); server sessions at most %lld in %d "
                "samples\n",
                kTenants, kBudget, kThreads, kHammers, kRounds, static_cast<long long>(run_ms), total, done[0].load(),
                fewest, fair, static_cast<long long>(max_seen.load()), samples.load());
    std::fflush(stdout);

    CHECK(next_ask >= kRounds * (kTenants - 1)); // every round was asked within the limit
    CHECK(errors == 0);
    CHECK(wrong == 0);
    CHECK(sample_errors == 0);
    CHECK(samples > 100);
    CHECK(max_seen > 0);
    CHECK(max_seen <= kBudget);
    CHECK(fewest >= fair / 2);
    CHECK_THAT(metrics, Catch::Contains("ilana_server_budget{server=\"pg-main\"} 40"));
    CHECK_THAT(metrics, Catch::Contains("ilana_server_connections{server=\"pg-main\"}"));
    CHECK_THAT(metrics, Catch::Contains("ilana_budget_waits_total{server=\"pg-main\",connection=\"primary@"));
    tm.close();
}
