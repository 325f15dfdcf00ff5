// The pool against real servers: exhaustion and its message, FIFO waiters,
// reaping, min refill, lifetime retirement, idle validation, leak detection,
// hooks and their order, debug log lines.
#include <catch2/catch.hpp>

#include <ilana/ilana.hpp>

#include "configs.hpp"
#include "log_capture.hpp"
#include "test_helpers.hpp"

#include <atomic>
#include <chrono>
#include <mutex>
#include <thread>

using namespace ilana;
using namespace std::chrono;
using namespace std::chrono_literals;
using ilana_test::eventually;
using ilana_test::TempDir;

namespace {
Database open_pg(const TempDir &dir, const std::string &pool_json, Hooks hooks = {}, const std::string &extra = "") {
    dir.write("ilana.config.json", R"({"connections": {"pg": {"client": "postgres", "connection": )" +
                                       ilana_test::pg_connection_json() + R"(, "pool": )" + pool_json + "}}" +
                                       extra + "}");
    return Database::open(dir.file("ilana.config.json"), OpenOptions{"", {ILANA_TEST_PLUGIN_DIR}, std::move(hooks)});
}

} // namespace

TEST_CASE("pool exhaustion: PoolTimeout after acquireTimeoutMillis with the seed's message", "[pool][pg]") {
    ILANA_REQUIRE_PG();
    TempDir dir;
    Database db = open_pg(dir, R"({"max": 2, "acquireTimeoutMillis": 500})");
    auto pg = db.on("pg");
    Session a = pg.acquire();
    Session b = pg.acquire();
    auto t0 = steady_clock::now();
    try {
        (void)pg.acquire();
        FAIL("acquire did not time out");
    } catch (const PoolTimeout &e) {
        auto waited = duration_cast<milliseconds>(steady_clock::now() - t0).count();
        CHECK(waited >= 400);
        CHECK(waited <= 600);
        std::string m = e.what();
        CHECK(m.find("[pg] connection pool exhausted") != std::string::npos);
        CHECK(m.find("acquireTimeoutMillis=500") != std::string::npos);
        CHECK(m.find("max=2") != std::string::npos);
        CHECK(m.find("in use=2") != std::string::npos);
        CHECK(m.find("waiting=0") != std::string::npos);
        CHECK(e.error_class() == ErrorClass::timeout);
        CHECK(e.connection() == "pg");
    }
    CHECK(pg.pool_status().timeouts == 1);

    // A release lets a waiter in.
    std::atomic<bool> got{false};
    std::thread waiter([&] {
        Session c = pg.acquire();
        got = true;
    });
    REQUIRE(eventually([&] { return pg.pool_status().waiting == 1; }));
    CHECK_FALSE(got);
    { Session drop = std::move(a); }
    waiter.join();
    CHECK(got);
}

TEST_CASE("waiters are served first come, first served", "[pool][pg][threads]") {
    ILANA_REQUIRE_PG();
    TempDir dir;
    Database db = open_pg(dir, R"({"max": 1, "acquireTimeoutMillis": 10000})");
    auto pg = db.on("pg");
    auto holder = std::make_unique<Session>(pg.acquire());
    std::mutex mu;
    std::vector<int> order;
    std::vector<std::thread> threads;
    for (int i = 0; i < 6; ++i) {
        threads.emplace_back([&, i] {
            Session s = pg.acquire();
            s.query("SELECT 1");
            std::lock_guard<std::mutex> lock(mu);
            order.push_back(i);
        });
        // Each waiter is queued before the next one starts.
        REQUIRE(eventually([&] { return pg.pool_status().waiting == i + 1; }));
    }
    holder.reset();
    for (auto &t : threads) t.join();
    CHECK(order == std::vector<int>{0, 1, 2, 3, 4, 5});
    CHECK(pg.pool_status().in_use == 0);
}

TEST_CASE("idle connections above min are reaped, min is refilled", "[pool][pg]") {
    ILANA_REQUIRE_PG();
    TempDir dir;
    Database db = open_pg(dir, R"({"min": 2, "max": 6, "idleTimeoutMillis": 300, "reapIntervalMillis": 50})");
    auto pg = db.on("pg");
    // min refill: the maintenance thread opens 2 without any query.
    (void)pg.pool_status(); // creates the pool (lazily) without leasing
    REQUIRE(eventually([&] { return pg.pool_status().idle == 2; }, 3000ms));
    {
        std::vector<Session> held;
        for (int i = 0; i < 5; ++i) held.push_back(pg.acquire());
        CHECK(pg.pool_status().in_use == 5);
    }
    CHECK(pg.pool_status().idle == 5);
    // Reaped down to min after idleTimeoutMillis, never below.
    REQUIRE(eventually([&] { return pg.pool_status().idle == 2; }, 3000ms));
    std::this_thread::sleep_for(500ms);
    CHECK(pg.pool_status().idle == 2);
    CHECK(pg.pool_status().destroyed == 3);
    // Counted as idle evictions, in the metrics and the exposition too.
    CHECK(pg.pool_status().evicted_idle == 3);
    CHECK(pg.pool_status().evicted_lifetime == 0);
    CHECK(pg.pool_status().evicted_broken == 0);
    PoolMetrics m = db.metrics().pools.front();
    CHECK(m.evicted == 3);
    CHECK(m.evicted_idle == 3);
    const std::string text = db.prometheus_text();
    CHECK(text.find("ilana_pool_events_total{connection=\"pg\",event=\"evicted\"} 3\n") != std::string::npos);
    CHECK(text.find("ilana_pool_evictions_total{connection=\"pg\",reason=\"idle\"} 3\n") != std::string::npos);
    CHECK(text.find("ilana_pool_evictions_total{connection=\"pg\",reason=\"lifetime\"} 0\n") != std::string::npos);
}

TEST_CASE("maxLifetimeMillis retires connections, with jitter, and refills", "[pool][pg]") {
    ILANA_REQUIRE_PG();
    TempDir dir;
    Database db = open_pg(dir, R"({"min": 1, "max": 2, "maxLifetimeMillis": 400, "reapIntervalMillis": 50})");
    auto pg = db.on("pg");
    int first_pid = pg.query("SELECT pg_backend_pid()").front()[0].as<int>();
    REQUIRE(eventually([&] { return pg.pool_status().destroyed >= 1; }, 3000ms));
    REQUIRE(eventually([&] { return pg.pool_status().idle >= 1; }, 3000ms));
    // The first session is retired within its lifetime (plus jitter and a
    // reap interval). min 1 may have opened a second one meanwhile, which
    // can retire first: the query may meet the first session once more
    // before its own turn comes.
    CHECK(eventually([&] { return pg.query("SELECT pg_backend_pid()").front()[0].as<int>() != first_pid; },
                     3000ms));
    // A connection in use past its lifetime is retired when it comes back.
    Session s = pg.acquire();
    int pid = s.query("SELECT pg_backend_pid()").front()[0].as<int>();
    std::this_thread::sleep_for(600ms);
    auto destroyed_before = pg.pool_status().destroyed;
    { Session drop = std::move(s); }
    CHECK(pg.pool_status().destroyed > destroyed_before);
    CHECK(pg.query("SELECT pg_backend_pid()").front()[0].as<int>() != pid);
    // Every retirement is a lifetime eviction.
    auto status = pg.pool_status();
    CHECK(status.evicted_lifetime >= 2);
    CHECK(status.evicted_lifetime == status.destroyed);
    CHECK(status.evicted_idle == 0);
    CHECK(db.metrics().pools.front().evicted == status.evicted_lifetime);
}

TEST_CASE("an idle connection is validated before it is lent", "[pool][pg]") {
    ILANA_REQUIRE_PG();
    TempDir dir;
    Database db = open_pg(dir, R"({"max": 1, "validateIdleAfterMillis": 100})");
    auto pg = db.on("pg");
    int pid = pg.query("SELECT pg_backend_pid()").front()[0].as<int>();
    // Kill the idle session from another connection.
    TempDir other_dir;
    Database other = open_pg(other_dir, R"({"max": 1})");
    other.on("pg").query("SELECT pg_terminate_backend(?::int)", {pid});
    std::this_thread::sleep_for(200ms);
    // Without validation this query would fail on the dead session.
    int new_pid = pg.query("SELECT pg_backend_pid()").front()[0].as<int>();
    CHECK(new_pid != pid);
    CHECK(pg.pool_status().destroyed == 1);
    CHECK(pg.pool_status().evicted_broken == 1); // failed validation
}

TEST_CASE("a broken connection is never lent again", "[pool][pg]") {
    ILANA_REQUIRE_PG();
    TempDir dir;
    Database db = open_pg(dir, R"({"max": 1})");
    auto pg = db.on("pg");
    int pid = pg.query("SELECT pg_backend_pid()").front()[0].as<int>();
    TempDir other_dir;
    open_pg(other_dir, R"({"max": 1})").on("pg").query("SELECT pg_terminate_backend(?::int)", {pid});
    std::this_thread::sleep_for(100ms);
    // Inside a session there is no retry: the caller sees the connection error.
    {
        Session s = pg.acquire();
        try {
            s.query("SELECT 1");
            FAIL("the dead session answered");
        } catch (const Error &e) {
            CHECK(e.error_class() == ErrorClass::connection);
            CHECK(e.poisons_connection());
        }
    }
    CHECK(pg.pool_status().destroyed == 1);
    CHECK(pg.pool_status().evicted_broken == 1);
    CHECK(db.prometheus_text().find("ilana_pool_evictions_total{connection=\"pg\",reason=\"broken\"} 1\n") !=
          std::string::npos);
    CHECK(pg.query("SELECT pg_backend_pid()").front()[0].as<int>() != pid);
}

TEST_CASE("leak detection logs a warning with the connection name", "[pool][pg]") {
    ILANA_REQUIRE_PG();
    ilana_test::LogCapture logs;
    TempDir dir;
    Database db = open_pg(dir, R"({"max": 1, "leakDetectionMillis": 100, "reapIntervalMillis": 50})");
    {
        Session s = db.on("pg").acquire();
        // Reported while still held, by the maintenance thread.
        CHECK(eventually([&] { return logs.contains("conn=pg possible connection leak: a lease held for"); }, 2000ms));
        CHECK(logs.contains("leakDetectionMillis=100"));
        CHECK(logs.contains("by thread"));
    }
    // A short lease is not reported.
    TempDir dir2;
    ilana_test::LogCapture quiet;
    Database db2 = open_pg(dir2, R"({"max": 1, "leakDetectionMillis": 1000, "reapIntervalMillis": 50})");
    db2.on("pg").query("SELECT 1");
    std::this_thread::sleep_for(200ms);
    CHECK_FALSE(quiet.contains("leak"));
}

TEST_CASE("hooks fire in order and a throwing hook breaks nothing", "[pool][pg]") {
    ILANA_REQUIRE_PG();
    std::mutex mu;
    std::vector<std::string> events;
    auto note = [&](std::string e) {
        std::lock_guard<std::mutex> lock(mu);
        events.push_back(std::move(e));
    };
    Hooks hooks;
    hooks.on_pool_created = [&](const std::string &name) { note("created:" + name); };
    hooks.on_query = [&](const std::string &name, const std::string &sql, microseconds) {
        note("query:" + name + ":" + sql);
        throw std::runtime_error("hook failure must be ignored");
    };
    hooks.on_error = [&](const std::string &name, const Error &e) { note("error:" + name + ":" + to_string(e.error_class())); };
    hooks.on_pool_evicted = [&](const std::string &name, const std::string &reason) { note("evicted:" + name + ":" + reason); };
    TempDir dir;
    {
        Database db = open_pg(dir, R"({"max": 1})", hooks);
        db.on("pg").query("SELECT 1");
        CHECK_THROWS_AS(db.on("pg").query("SELEC 1"), Error);
        db.close();
    }
    std::vector<std::string> expected = {"created:pg", "query:pg:SELECT 1", "query:pg:SELEC 1", "error:pg:syntax",
                                         "evicted:pg:shutdown"};
    CHECK(events == expected);
}

TEST_CASE("debug logging: queries with connection and duration, slow queries, pool events", "[pool][pg]") {
    ILANA_REQUIRE_PG();
    ilana_test::LogCapture logs;
    TempDir dir;
    Database db = open_pg(dir, R"({"max": 1})", {},
                          R"(, "debug": {"enabled": true, "logQueries": true, "logPoolEvents": true, "slowQueryThreshold": 150})");
    db.on("pg").query("SELECT ? AS secret_param", {"do-not-log-me"});
    db.on("pg").query("SELECT pg_sleep(0.2)");
    CHECK(logs.contains("conn=pg POOL_CREATED"));
    CHECK(logs.contains("conn=pg query=\"SELECT ? AS secret_param\" duration="));
    CHECK(logs.contains("conn=pg SLOW_QUERY duration="));
    CHECK(logs.contains("query=\"SELECT pg_sleep(0.2)\""));
    CHECK_FALSE(logs.contains("do-not-log-me"));
    CHECK_FALSE(logs.contains(ilana_test::pg().password));
}

TEST_CASE("createRetryIntervalMillis: with the server down, waiting callers' creates are spaced by the interval, "
          "a caller past acquireTimeoutMillis gets the create error as the cause",
          "[pool][pg]") {
    // Nothing listens on port 1: a server that is down.
    auto s = ilana_test::pg();
    std::mutex mu;
    std::vector<steady_clock::time_point> create_failures;
    Hooks hooks;
    hooks.on_error = [&](const std::string &, const Error &e) {
        if (std::string(e.what()).rfind("[db] connect", 0) != 0) return; // connect attempts only
        std::lock_guard<std::mutex> lock(mu);
        create_failures.push_back(steady_clock::now());
    };
    TempDir dir;
    dir.write("ilana.config.json", R"({"connections": {"db": {"client": "postgres", "connection": {"host": "127.0.0.1",
        "port": 1, "user": ")" + s.user + R"(", "password": "x", "database": "x"},
        "pool": {"max": 1, "acquireTimeoutMillis": 1000, "createRetryIntervalMillis": 300},
        "retry": {"maxAttempts": 1}}}})");
    Database db = Database::open(dir.file("ilana.config.json"), OpenOptions{"", {ILANA_TEST_PLUGIN_DIR}, hooks});
    auto conn = db.on("db");
    std::atomic<int> connect_errors{0}, timeouts{0};
    std::vector<std::string> timeout_messages;
    std::vector<std::thread> callers;
    for (int i = 0; i < 5; ++i)
        callers.emplace_back([&] {
            try {
                conn.query("SELECT 1");
            } catch (const PoolTimeout &e) {
                ++timeouts;
                std::lock_guard<std::mutex> lock(mu);
                timeout_messages.push_back(e.what());
            } catch (const Error &e) {
                CHECK(e.error_class() == ErrorClass::connection);
                ++connect_errors;
            }
        });
    for (auto &t : callers) t.join();
    std::lock_guard<std::mutex> lock(mu);
    // Attempts at about 0, 300, 600, 900 ms; the fifth would start at 1200,
    // past its caller's acquireTimeoutMillis.
    REQUIRE(create_failures.size() == 4);
    for (size_t i = 1; i < create_failures.size(); ++i)
        CHECK(duration_cast<milliseconds>(create_failures[i] - create_failures[i - 1]).count() >= 280);
    CHECK(conn.pool_status().create_errors == 4);
    CHECK(connect_errors == 4);
    REQUIRE(timeouts == 1);
    const std::string &m = timeout_messages.front();
    CHECK(m.find("[db] no connection within acquireTimeoutMillis=1000") == 0);
    CHECK(m.find("createRetryIntervalMillis=300") != std::string::npos);
    CHECK(m.find("[db] connect") != std::string::npos); // the create error, the likely cause
}
