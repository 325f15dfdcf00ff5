// destroyTimeoutMillis: closing a session whose close hangs (a frozen
// server) holds no thread longer than the bound. The session comes from a
// real plugin loaded through the registry (tests/plugins/fixture_driver.c,
// case slow_close: its close takes 1.5 s).
#include <catch2/catch.hpp>

#include <ilana/ilana.hpp>

#include "log_capture.hpp"
#include "temp_dir.hpp"
#include "test_helpers.hpp"

#include <chrono>
#include <thread>

using namespace ilana;
using namespace std::chrono;
using namespace std::chrono_literals;

namespace {
Database open_slow_close(const ilana_test::TempDir &dir, const std::string &pool_json) {
    dir.write("ilana.config.json",
              R"({"connections": {"slow": {"client": "fixture", "connection": {}, "pool": )" + pool_json + "}}}");
    return Database::open(dir.file("ilana.config.json"),
                          OpenOptions{"", {std::string(ILANA_FIXTURE_PLUGIN_DIR) + "/slow_close"}, {}});
}
} // namespace

TEST_CASE("destroyTimeoutMillis bounds closing a session: the close is abandoned, counted and logged", "[pool]") {
    ilana_test::LogCapture log;
    ilana_test::TempDir dir;
    Database db = open_slow_close(dir, R"({"max": 2, "destroyTimeoutMillis": 200, "idleTimeoutMillis": 100,
                                            "reapIntervalMillis": 20})");
    auto slow = db.on("slow");
    { Session s = slow.acquire(); }
    REQUIRE(slow.pool_status().idle == 1);

    // The maintenance thread reaps it: counted as an idle eviction after at
    // most the bound, not after the driver's 1.5 s close.
    auto t0 = steady_clock::now();
    ilana_test::eventually([&] { return slow.pool_status().evicted_idle != 0; }, 3s);
    auto took = duration_cast<milliseconds>(steady_clock::now() - t0).count();
    auto status = slow.pool_status();
    CHECK(status.evicted_idle == 1);
    CHECK(status.destroy_timeouts == 1);
    CHECK(status.destroyed == 1);
    CHECK(took < 1000); // idle 100 ms + reap tick + 200 ms bound
    CHECK(log.contains("conn=slow closing a session took longer than destroyTimeoutMillis=200: abandoned"));

    // Closing the pool closes two sessions: bounded each, not 2 x 1.5 s.
    {
        Session a = slow.acquire();
        Session b = slow.acquire();
    }
    t0 = steady_clock::now();
    db.close();
    took = duration_cast<milliseconds>(steady_clock::now() - t0).count();
    CHECK(took < 1200);
}

TEST_CASE("destroyTimeoutMillis longer than the close: the close completes and nothing is abandoned", "[pool]") {
    ilana_test::TempDir dir;
    Database db = open_slow_close(dir, R"({"max": 1, "destroyTimeoutMillis": 3000})");
    auto slow = db.on("slow");
    { Session s = slow.acquire(); }
    auto t0 = steady_clock::now();
    db.close(); // waits for the 1.5 s close, within the bound
    auto took = duration_cast<milliseconds>(steady_clock::now() - t0).count();
    CHECK(took >= 1400);
    CHECK(took < 3000);
}

TEST_CASE("destroyTimeoutMillis 0: no bound, the close is waited for and never abandoned", "[pool]") {
    ilana_test::TempDir dir;
    Database db = open_slow_close(dir, R"({"max": 1, "destroyTimeoutMillis": 0})");
    auto slow = db.on("slow");
    { Session s = slow.acquire(); }
    auto t0 = steady_clock::now();
    db.close(); // the whole 1.5 s close
    auto took = duration_cast<milliseconds>(steady_clock::now() - t0).count();
    CHECK(took >= 1400);
    CHECK(slow.pool_status().destroy_timeouts == 0);
    CHECK(slow.pool_status().destroyed == 1);
}
