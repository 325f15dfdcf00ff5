// What a scrape and a structured log say about a server that is down,
// without anybody calling /health first: the scrape runs a health check
// when the last one is older than metrics.healthMaxAgeMs, bounded by the
// ping timeout; the retries of a connect to the stopped server reach a
// structured log sink as CONNECTION_RETRY records.
#include <catch2/catch.hpp>

#include <ilana/ilana.hpp>
#include <ilana/logging.hpp>
#include <ilana/metrics_server.hpp>

#include "configs.hpp"
#include "log_capture.hpp"
#include "server_control.hpp"
#include "test_helpers.hpp"

#include <chrono>
#include <mutex>
#include <thread>
#include <vector>

using namespace ilana;
using namespace std::chrono;
using namespace std::chrono_literals;
using ilana_test::contains;
using ilana_test::RecordCapture;
using ilana_test::RestartGuard;
using ilana_test::run_command;
using ilana_test::servers;
using ilana_test::TempDir;

TEST_CASE("a scrape of /metrics and ilana metrics --prometheus report a stopped server unhealthy without /health",
          "[faults][pg][observe]") {
    ILANA_REQUIRE_PG();
    TempDir dir;
    const int ping_timeout_ms = 1000;
    const std::string cfg = dir.write("ilana.config.json", R"({"default": "cache", "connections": {
        "analytics": {"client": "postgres", "connection": )" + ilana_test::pg_connection_json() + R"(},
        "cache": {"client": "sqlite3", "connection": {"filename": ":memory:"}}},
        "metrics": {"listen": "127.0.0.1:0", "healthMaxAgeMs": 300, "pingTimeoutMs": )" +
                                               std::to_string(ping_timeout_ms) + "}}");
    Database db = Database::open(cfg, OpenOptions{"", {ILANA_TEST_PLUGIN_DIR}, {}});
    MetricsServer server(db);
    server.start();
    const std::string metrics_url = "http://127.0.0.1:" + std::to_string(server.port()) + "/metrics";
    const std::string cli = ilana_test::ilana_cli() + " --config " + cfg + " ";
    std::string out;
    REQUIRE(run_command("curl -s -f " + metrics_url, out) == 0);
    CHECK(contains(out, "ilana_health_status 1\n"));
    CHECK(contains(out, "ilana_health_pools_unhealthy 0\n"));

    RestartGuard guard{"pg"};
    servers("stop pg");
    std::this_thread::sleep_for(400ms); // the check above is now older than healthMaxAgeMs
    // A scrape: no /health call anywhere, the scrape's own check sees it.
    auto t0 = steady_clock::now();
    REQUIRE(run_command("curl -s -f " + metrics_url, out) == 0);
    auto took = duration_cast<milliseconds>(steady_clock::now() - t0).count();
    CHECK(contains(out, "ilana_health_status 0\n"));
    CHECK(contains(out, "ilana_health_pools_unhealthy 1\n"));
    CHECK(took < ping_timeout_ms + 1500); // never more than the ping timeout (+ curl, a margin)
    // Several scrapes at once share one check and are all bounded.
    std::vector<std::thread> scrapers;
    std::vector<int64_t> times(4);
    std::vector<std::string> bodies(4);
    std::this_thread::sleep_for(400ms);
    for (size_t i = 0; i < 4; ++i)
        scrapers.emplace_back([&, i] {
            auto s0 = steady_clock::now();
            run_command("curl -s -f " + metrics_url, bodies[i]);
            times[i] = duration_cast<milliseconds>(steady_clock::now() - s0).count();
        });
    for (auto &t : scrapers) t.join();
    for (size_t i = 0; i < 4; ++i) {
        CHECK(contains(bodies[i], "ilana_health_status 0\n"));
        CHECK(times[i] < ping_timeout_ms + 1500);
    }
    // The CLI: a process of its own, no --health, no /health.
    t0 = steady_clock::now();
    CHECK(run_command(cli + "metrics --prometheus", out) == 0);
    took = duration_cast<milliseconds>(steady_clock::now() - t0).count();
    CHECK(contains(out, "ilana_health_status 0\n"));
    CHECK(contains(out, "ilana_health_pools_unhealthy 1\n"));
    CHECK(took < ping_timeout_ms + 4000); // + the process start and driver loading

    servers("start pg");
    guard.armed = false;
    // Back up: a later scrape says so (dead connections fail one ping, then reconnect).
    CHECK(ilana_test::eventually(
        [&] {
            run_command("curl -s -f " + metrics_url, out);
            return contains(out, "ilana_health_status 1\n");
        },
        30 * 350ms, 350ms));
}

TEST_CASE("CONNECTION_RETRY records for a connect to a stopped server", "[faults][pg][logging]") {
    ILANA_REQUIRE_PG();
    TempDir dir;
    const auto s = ilana_test::pg();
    const std::string cfg = dir.write("ilana.config.json", R"({"connections": {
        "analytics": {"client": "postgres", "connection": )" + ilana_test::pg_connection_json() + R"(,
                      "retry": {"maxAttempts": 3, "initialDelayMs": 20, "jitter": false}}}})");
    Database db = Database::open(cfg, OpenOptions{"", {ILANA_TEST_PLUGIN_DIR}, {}});
    RecordCapture capture;
    {
        RestartGuard guard{"pg"};
        servers("stop pg");
        CHECK_THROWS_AS(db.on("analytics").query("SELECT 1"), Error);
        servers("start pg");
        guard.armed = false;
    }
    auto retries = capture.of("CONNECTION_RETRY");
    REQUIRE(retries.size() == 2); // attempts 2 and 3
    CHECK(retries[0].level == LogLevel::warn);
    CHECK(retries[0].connection == "analytics");
    CHECK(retries[0].tenant.empty());
    CHECK(retries[0].attempt == 2);
    CHECK(retries[1].attempt == 3);
    CHECK(retries[0].max_attempts == 3);
    CHECK(retries[0].delay_ms == 20);
    CHECK(retries[1].delay_ms == 40);
    CHECK(contains(retries[0].error, "[analytics] connect"));
    CHECK(contains(retries[0].message, "conn=analytics CONNECTION_RETRY attempt=2/3 delay=20ms"));
    const std::string json = retries[0].to_json();
    CHECK(contains(json, "\"type\":\"CONNECTION_RETRY\""));
    CHECK(contains(json, "\"connection\":\"analytics\""));
    CHECK(contains(json, "\"attempt\":2,\"maxAttempts\":3,\"delayMs\":20"));
    CHECK(contains(json, "\"timestamp\":\""));
    CHECK_FALSE(contains(json, s.password));
}
