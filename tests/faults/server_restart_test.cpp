// Faults against the real servers: a server restarted under a busy pool, and
// a server that is down when the application starts. These tests stop and
// start the shared test servers (scripts/test-servers.sh), so ctest runs
// them alone (RUN_SERIAL).
#include <catch2/catch.hpp>

#include <ilana/ilana.hpp>
#include <ilana/metrics_server.hpp>
#include <ilana/retry.hpp>

#include "configs.hpp"
#include "server_control.hpp"
#include "test_helpers.hpp"

#include <atomic>
#include <chrono>
#include <mutex>
#include <thread>

using namespace ilana;
using namespace std::chrono;
using namespace std::chrono_literals;
using ilana_test::RestartGuard;
using ilana_test::servers;
using ilana_test::ServerOutage;
using ilana_test::TempDir;

namespace {

Database open_server(const TempDir &dir, const std::string &client, const std::string &connection_json,
                     const std::string &pool_json, const std::string &retry_json, Hooks hooks = {}) {
    dir.write("ilana.config.json", R"({"connections": {"db": {"client": ")" + client + R"(", "connection": )" +
                                       connection_json + R"(, "pool": )" + pool_json + R"(, "retry": )" +
                                       retry_json + "}}}");
    return Database::open(dir.file("ilana.config.json"), OpenOptions{"", {ILANA_TEST_PLUGIN_DIR}, std::move(hooks)});
}

struct Tally {
    std::atomic<int> ok{0}, connection_errors{0}, other_errors{0};
    std::mutex mu;
    std::vector<std::string> others;
};

// Several threads keep the pool busy while the server is stopped and
// started again; then the pool must be back to full service.
void restart_under_load(const std::string &client, const std::string &target, const std::string &connection_json,
                        const std::string &sleep_sql) {
    TempDir dir;
    Database db = open_server(dir, client, connection_json,
                              R"({"max": 4, "acquireTimeoutMillis": 15000, "validateIdleAfterMillis": 50})",
                              R"({"maxAttempts": 4, "initialDelayMs": 100, "maxDelayMs": 500})");
    auto conn = db.on("db");
    conn.query("SELECT 1");

    Tally tally;
    std::atomic<bool> stop{false};
    std::vector<std::thread> workers;
    for (int t = 0; t < 6; ++t)
        workers.emplace_back([&] {
            while (!stop) {
                try {
                    conn.query(sleep_sql);
                    ++tally.ok;
                } catch (const Error &e) {
                    // Allowed: the connection went away (or the server was
                    // still starting up, which PostgreSQL reports as 57P03).
                    if (e.error_class() == ErrorClass::connection || e.error_class() == ErrorClass::transient) {
                        ++tally.connection_errors;
                    } else {
                        ++tally.other_errors;
                        std::lock_guard<std::mutex> lock(tally.mu);
                        tally.others.push_back(e.what());
                    }
                    std::this_thread::sleep_for(20ms);
                }
            }
        });
    std::this_thread::sleep_for(300ms);
    {
        RestartGuard guard{target};
        servers("stop " + target);
        std::this_thread::sleep_for(800ms);
        servers("start " + target);
        guard.armed = false;
    }
    auto restarted = steady_clock::now();
    // Back to service: a query succeeds within a few seconds of the restart.
    bool back = false;
    while (steady_clock::now() - restarted < 10s && !back) {
        try {
            conn.query("SELECT 1");
            back = true;
        } catch (const Error &) {
            std::this_thread::sleep_for(100ms);
        }
    }
    auto recovery_ms = duration_cast<milliseconds>(steady_clock::now() - restarted).count();
    stop = true;
    for (auto &w : workers) w.join();
    INFO("recovered in " << recovery_ms << "ms; ok=" << tally.ok << " connection errors=" << tally.connection_errors);
    for (const auto &o : tally.others) INFO("unexpected error: " << o);
    CHECK(back);
    CHECK(recovery_ms < 5000);
    CHECK(tally.other_errors == 0);
    CHECK(tally.ok > 0);

    // After the restart no dead connection is lent: every query succeeds.
    std::atomic<int> failures{0};
    std::vector<std::thread> after;
    for (int t = 0; t < 6; ++t)
        after.emplace_back([&] {
            for (int i = 0; i < 30; ++i) {
                try {
                    Session s = conn.acquire(); // no statement retry inside a session
                    s.query("SELECT 1");
                } catch (const Error &) {
                    ++failures;
                }
            }
        });
    for (auto &t : after) t.join();
    CHECK(failures == 0);
    auto status = conn.pool_status();
    CHECK(status.in_use == 0);
    CHECK(status.idle <= 4);
    // The sessions the restart broke were evicted as broken, and counted.
    CHECK(status.evicted_broken >= 1);
    CHECK(db.metrics().pools.front().evicted >= status.evicted_broken);
}

} // namespace

TEST_CASE("PostgreSQL restarted under a busy pool: clean errors, no leak, quick recovery", "[faults][pg]") {
    ILANA_REQUIRE_PG();
    restart_under_load("postgres", "pg", ilana_test::pg_connection_json(), "SELECT pg_sleep(0.02)");
}

TEST_CASE("MariaDB restarted under a busy pool: clean errors, no leak, quick recovery", "[faults][mysql]") {
    ILANA_REQUIRE_MYSQL();
    restart_under_load("mysql2", "mysql", ilana_test::mysql_connection_json(), "SELECT SLEEP(0.02)");
}

TEST_CASE("server down at start: connecting retries with the configured backoff and succeeds in time",
          "[faults][pg]") {
    ILANA_REQUIRE_PG();
    std::mutex mu;
    std::vector<int64_t> delays;
    std::vector<int> attempts;
    Hooks hooks;
    hooks.on_retry = [&](const std::string &, int attempt, const Error &e, milliseconds delay) {
        std::lock_guard<std::mutex> lock(mu);
        CHECK(e.error_class() == ErrorClass::connection);
        attempts.push_back(attempt);
        delays.push_back(delay.count());
    };
    TempDir dir;
    Database db = open_server(dir, "postgres", ilana_test::pg_connection_json(), R"({"max": 2})",
                              R"({"maxAttempts": 10, "initialDelayMs": 100, "maxDelayMs": 1000,
                                  "backoffMultiplier": 2, "jitter": false})",
                              hooks);
    ServerOutage outage{"pg", 900ms};
    auto t0 = steady_clock::now();
    Result r = db.on("db").query("SELECT 42");
    auto took = duration_cast<milliseconds>(steady_clock::now() - t0).count();
    outage.wait_over();
    CHECK(r.front()[0].as<int>() == 42);
    std::lock_guard<std::mutex> lock(mu);
    REQUIRE(delays.size() >= 3);
    // Exponential backoff without jitter: 100, 200, 400, 800, 1000 (capped).
    const int64_t expected[] = {100, 200, 400, 800, 1000, 1000, 1000, 1000, 1000};
    for (size_t i = 0; i < delays.size(); ++i) CHECK(delays[i] == expected[i]);
    CHECK(attempts.front() == 2);
    CHECK(took >= 700);
    CHECK(took < 5000);
}

TEST_CASE("server down at start: when the attempts run out the acquire fails at once with the last error",
          "[faults][pg]") {
    ILANA_REQUIRE_PG();
    // Nothing listens on this port: every attempt is refused.
    TempDir dir;
    auto s = ilana_test::pg();
    std::string conn = R"({"host": "127.0.0.1", "port": 1, "user": ")" + s.user + R"(", "password": ")" +
                       s.password + R"(", "database": "x"})";
    std::atomic<int> retries{0};
    Hooks hooks;
    hooks.on_retry = [&](const std::string &, int, const Error &, milliseconds) { ++retries; };
    Database db = open_server(dir, "postgres", conn, R"({"max": 2, "acquireTimeoutMillis": 20000})",
                              R"({"maxAttempts": 3, "initialDelayMs": 50, "jitter": false})", hooks);
    auto t0 = steady_clock::now();
    try {
        db.on("db").query("SELECT 1");
        FAIL("connected to a closed port");
    } catch (const PoolTimeout &) {
        FAIL("waited for acquireTimeoutMillis instead of failing with the connect error");
    } catch (const Error &e) {
        CHECK(e.error_class() == ErrorClass::connection);
        CHECK(e.connection() == "db");
        CHECK(std::string(e.what()).find("[db] connect") == 0);
        CHECK(std::string(e.what()).find(s.password) == std::string::npos);
    }
    auto took = duration_cast<milliseconds>(steady_clock::now() - t0).count();
    CHECK(retries == 2);
    CHECK(took < 2000); // 50 + 100 ms of backoff, not the 20 s acquire timeout
}

TEST_CASE("a stopped server is unhealthy in ilana health and /health while the others stay ok", "[faults][pg][mysql]") {
    ILANA_REQUIRE_PG();
    ILANA_REQUIRE_MYSQL();
    TempDir dir;
    dir.write("ilana.config.json", R"({"default": "primary", "connections": {
        "primary": {"client": "mysql2", "connection": )" + ilana_test::mysql_connection_json() + R"(},
        "analytics": {"client": "postgres", "connection": )" + ilana_test::pg_connection_json() + R"(},
        "cache": {"client": "sqlite3", "connection": {"filename": ":memory:"}}},
        "metrics": {"listen": "127.0.0.1:0"}})");
    Database db = Database::open(dir.file("ilana.config.json"), OpenOptions{"", {ILANA_TEST_PLUGIN_DIR}, {}});
    MetricsServer server(db, [] {
        MetricsServerOptions o;
        o.listen = "127.0.0.1:0";
        o.ping_timeout_ms = 1000;
        return o;
    }());
    server.start();
    const std::string health_url = "http://127.0.0.1:" + std::to_string(server.port()) + "/health";
    const std::string cli = ilana_test::ilana_cli() + " --config " + dir.file("ilana.config.json") + " ";
    std::string out;
    REQUIRE(ilana_test::run_command("curl -s -o /dev/null -w '%{http_code}' " + health_url, out) == 0);
    CHECK(out == "200");

    RestartGuard guard{"pg"};
    servers("stop pg");
    auto t0 = steady_clock::now();
    CHECK(ilana_test::run_command(cli + "health --json --timeout 1000", out) == 1);
    CHECK(duration_cast<milliseconds>(steady_clock::now() - t0).count() < 3000);
    CHECK(out.find("\"connection\":\"analytics\",\"status\":\"unhealthy\"") != std::string::npos);
    CHECK(out.find("\"connection\":\"primary\",\"status\":\"ok\"") != std::string::npos);
    CHECK(out.find("\"connection\":\"cache\",\"status\":\"ok\"") != std::string::npos);
    t0 = steady_clock::now();
    REQUIRE(ilana_test::run_command("curl -s -w ' %{http_code}' " + health_url, out) == 0);
    CHECK(duration_cast<milliseconds>(steady_clock::now() - t0).count() < 2500);
    CHECK(out.substr(out.size() - 3) == "503");
    CHECK(out.find("\"connection\":\"analytics\",\"status\":\"unhealthy\"") != std::string::npos);

    servers("start pg");
    guard.armed = false;
    // Back to ok (the pool drops the dead connections on the first failed pings).
    CHECK(ilana_test::eventually(
        [&] {
            ilana_test::run_command("curl -s -o /dev/null -w '%{http_code}' " + health_url, out);
            return out == "200";
        },
        30 * 200ms, 200ms));
    CHECK(ilana_test::run_command(cli + "health", out) == 0);
}

TEST_CASE("with_retry across a PostgreSQL restart: a read succeeds, a sent write is never re-run, an unsent one is",
          "[faults][pg][retry]") {
    ILANA_REQUIRE_PG();
    TempDir dir;
    // The connection itself does not retry: what is retried here is with_retry's doing.
    // Idle sessions are pinged before they are lent, so a session the stop
    // killed is dropped instead of taking the write (which would then be
    // sent on a dead socket: an unknown outcome).
    Database db = open_server(dir, "postgres", ilana_test::pg_connection_json(),
                              R"({"max": 2, "validateIdleAfterMillis": 1})", R"({"maxAttempts": 1})");
    auto conn = db.on("db");
    conn.execute("DROP TABLE IF EXISTS ilana_retry_probe");
    conn.execute("CREATE TABLE ilana_retry_probe (id int)");
    // Commits its row, then sleeps: a connection lost during the sleep
    // leaves the caller not knowing whether the write happened.
    conn.execute("CREATE OR REPLACE PROCEDURE ilana_retry_write() LANGUAGE plpgsql AS $$ "
                 "BEGIN INSERT INTO ilana_retry_probe VALUES (1); COMMIT; PERFORM pg_sleep(3); END $$");
    auto rows = [&] {
        return with_retry([&] { return conn.query("SELECT count(*) FROM ilana_retry_probe").front()[0].as<int64_t>(); },
                          RetrySettings{RetryOptions{50, 100, 300, 2.0, true}, nullptr, nullptr});
    };
    std::atomic<int> retries{0};
    RetrySettings patient{RetryOptions{50, 100, 300}, {},
                          [&](int, const std::exception &, milliseconds) { ++retries; }};

    SECTION("a read succeeds after retries while the server restarts") {
        ServerOutage outage{"pg", 800ms};
        Retrier retrier(patient);
        Result r = retrier([&] { return conn.query("SELECT 41 + 1"); });
        outage.wait_over();
        CHECK(r.front()[0].as<int>() == 42);
        CHECK(retries >= 1);
    }
    SECTION("a write sent before the connection was lost is not re-run") {
        // Stopped once the row is committed, while the procedure sleeps.
        ServerOutage outage{"pg", 300ms, 700ms};
        try {
            with_retry([&] { conn.execute("CALL ilana_retry_write()"); }, patient);
            FAIL("the call survived the server's stop");
        } catch (const Error &e) {
            CHECK(e.error_class() == ErrorClass::connection);
            CHECK(e.outcome_unknown());
            CHECK(dynamic_cast<const OutcomeUnknown *>(&e) != nullptr); // thrown as its kind
            CHECK(dynamic_cast<const ConnectionError *>(&e) == nullptr);
        }
        outage.wait_over();
        CHECK(retries == 0);
        CHECK(rows() == 1); // applied once, never twice
    }
    SECTION("a write that never left (the server was down) is run once it is back") {
        ServerOutage outage{"pg", 800ms};
        with_retry([&] { conn.execute("INSERT INTO ilana_retry_probe VALUES (2)"); }, patient);
        outage.wait_over();
        CHECK(retries >= 1);
        CHECK(rows() == 1);
        CHECK(conn.query("SELECT id FROM ilana_retry_probe").front()[0].as<int>() == 2);
    }
}
