// The C++ API end to end on the SQLite driver (no server needed): config,
// registry, pool, driver plugin, typed rows, transactions, errors.
#include <catch2/catch.hpp>

#include <ilana/ilana.hpp>

#include "temp_dir.hpp"

#include <atomic>
#include <chrono>
#include <thread>

using namespace ilana;
using ilana_test::TempDir;

namespace {
Database open_two_sqlite(const TempDir &dir) {
    dir.write("ilana.config.json", R"({
      "default": "primary",
      "connections": {
        "primary": {"client": "sqlite3", "connection": {"filename": "./primary.sqlite"}, "pool": {"max": 3}},
        "cache":   {"client": "sqlite",  "connection": {"filename": ":memory:"}, "pool": {"max": 1}}
      }
    })");
    return Database::open(dir.file("ilana.config.json"), OpenOptions{"", {ILANA_TEST_PLUGIN_DIR}, {}});
}
} // namespace

TEST_CASE("open a config, use the default and a named connection", "[database][sqlite]") {
    TempDir dir;
    Database db = open_two_sqlite(dir);
    CHECK(db.connection_names() == std::vector<std::string>{"primary", "cache"});
    // Lazy: nothing is opened before first use.
    CHECK(db.on("primary").pool_status().created == 0);
    CHECK_FALSE(boost::filesystem::exists(dir.file("primary.sqlite")));

    db.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT, score REAL, data BLOB)");
    auto ins = db.execute("INSERT INTO t (name, score, data) VALUES (?, ?, ?)",
                          {"Ann", 9.5, Blob{std::string("\0x", 2)}});
    CHECK(ins.affected_rows == 1);
    CHECK(ins.last_insert_id == 1);
    // The relative filename is resolved against the config's directory.
    CHECK(boost::filesystem::exists(dir.file("primary.sqlite")));

    Result r = db.query("SELECT id, name, score, data, NULL AS empty_col FROM t WHERE name = ?", {"Ann"});
    REQUIRE(r.size() == 1);
    Row row = r[0];
    CHECK(row["id"].as<int64_t>() == 1);
    CHECK(row.get<std::string>("name") == "Ann");
    CHECK(row[2].as<double>() == 9.5);
    CHECK(row["data"].as<Blob>().bytes == std::string("\0x", 2));
    CHECK(row["empty_col"].is_null());
    CHECK(row["empty_col"].as<std::optional<int>>() == std::nullopt);
    CHECK_THROWS_WITH(row["empty_col"].as<int>(), Catch::Contains("column 'empty_col'") && Catch::Contains("NULL"));
    CHECK_THROWS_WITH(row["missing"], Catch::Contains("no column named 'missing'") &&
                                          Catch::Contains("id, name, score, data, empty_col"));

    // The other connection is another database.
    auto cache = db.on("cache");
    CHECK_THROWS_AS(cache.query("SELECT * FROM t"), Error);
    CHECK(cache.query("SELECT 1 + ? AS two", {1}).front()["two"].as<int>() == 2);
}

TEST_CASE("an unknown connection names the connections there are", "[database]") {
    TempDir dir;
    Database db = open_two_sqlite(dir);
    CHECK_THROWS_WITH(db.on("analytics"), Catch::Contains("connection 'analytics' is not defined") &&
                                              Catch::Contains("connections: primary, cache"));
}

TEST_CASE("an unknown client fails at open, listing clients and directories", "[database]") {
    TempDir dir;
    dir.write("ilana.config.json", R"({"connections": {"main": {"client": "oracle", "connection": {}}}})");
    try {
        Database::open(dir.file("ilana.config.json"), OpenOptions{"", {ILANA_TEST_PLUGIN_DIR}, {}});
        FAIL("open did not throw");
    } catch (const ConfigError &e) {
        std::string m = e.what();
        CHECK(m.find("unknown client 'oracle'") != std::string::npos);
        CHECK(m.find("sqlite3") != std::string::npos);
        CHECK(m.find("postgres") != std::string::npos);
        CHECK(m.find(ILANA_TEST_PLUGIN_DIR) != std::string::npos);
        CHECK(m.find("/connections/main/client") != std::string::npos);
    }
}

TEST_CASE("transactions: RAII rolls back, the callable commits or rolls back", "[database][sqlite]") {
    TempDir dir;
    Database db = open_two_sqlite(dir);
    auto primary = db.on("primary");
    primary.execute("CREATE TABLE acct (id INTEGER PRIMARY KEY, balance INTEGER NOT NULL)");
    primary.execute("INSERT INTO acct VALUES (1, 100), (2, 0)");

    {
        Transaction tx = primary.begin();
        tx.execute("UPDATE acct SET balance = 0 WHERE id = 1");
        // no commit: rolled back at scope exit
    }
    CHECK(primary.query("SELECT balance FROM acct WHERE id = 1").front()[0].as<int>() == 100);

    primary.transaction([](Session &tx) {
        tx.execute("UPDATE acct SET balance = balance - ? WHERE id = ?", {30, 1});
        tx.execute("UPDATE acct SET balance = balance + ? WHERE id = ?", {30, 2});
    });
    CHECK(primary.query("SELECT balance FROM acct WHERE id = 2").front()[0].as<int>() == 30);

    CHECK_THROWS_WITH(primary.transaction([](Session &tx) {
        tx.execute("UPDATE acct SET balance = 999 WHERE id = 1");
        throw std::runtime_error("business rule failed");
    }),
                      "business rule failed");
    CHECK(primary.query("SELECT balance FROM acct WHERE id = 1").front()[0].as<int>() == 70);

    int n = primary.transaction([](Session &tx) { return tx.query("SELECT COUNT(*) FROM acct").front()[0].as<int>(); });
    CHECK(n == 2);
    // Every lease went back.
    CHECK(primary.pool_status().in_use == 0);
}

TEST_CASE("errors carry class, SQLSTATE and the connection name", "[database][sqlite]") {
    TempDir dir;
    Database db = open_two_sqlite(dir);
    auto primary = db.on("primary");
    primary.execute("CREATE TABLE u (email TEXT UNIQUE)");
    primary.execute("INSERT INTO u VALUES (?)", {"a@example.com"});
    try {
        primary.execute("INSERT INTO u VALUES (?)", {"a@example.com"});
        FAIL("no constraint error");
    } catch (const Error &e) {
        CHECK(e.error_class() == ErrorClass::constraint);
        CHECK(e.sqlstate() == "23505");
        CHECK(e.connection() == "primary");
        CHECK(std::string(e.what()).find("[primary]") == 0);
        CHECK_FALSE(e.is_transient());
    }
    try {
        primary.query("SELEC nothing");
        FAIL("no syntax error");
    } catch (const Error &e) {
        CHECK(e.error_class() == ErrorClass::syntax);
        CHECK(std::string(e.what()).find("SELEC") != std::string::npos);
    }
    CHECK_THROWS_WITH(primary.query("SELECT ?, ?", {1}),
                      Catch::Contains("2 placeholder(s) but 1 parameter(s)"));
}

TEST_CASE("streaming hands rows one at a time without keeping the result", "[database][sqlite]") {
    TempDir dir;
    Database db = open_two_sqlite(dir);
    int64_t sum = 0;
    size_t n = db.on("cache").stream(
        "WITH RECURSIVE s(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM s WHERE x < ?) SELECT x FROM s", {50000},
        [&](const Row &row) { sum += row[0].as<int64_t>(); });
    CHECK(n == 50000);
    CHECK(sum == 50000LL * 50001 / 2);
}

TEST_CASE("a statement run again follows a changed table's columns", "[database][sqlite]") {
    // The host keeps the column set of a connection's previous result while
    // the driver reports the same columns_id; a schema change must still
    // show, and a Result already handed out keeps its own columns.
    TempDir dir;
    Database db = open_two_sqlite(dir);
    auto primary = db.on("primary");
    primary.execute("CREATE TABLE s (a INTEGER)");
    primary.execute("INSERT INTO s VALUES (1)");
    Result before = primary.query("SELECT * FROM s");
    Result same = primary.query("SELECT * FROM s");
    REQUIRE(same.columns().size() == 1);
    CHECK(&same.columns() == &before.columns()); // one shared set
    primary.execute("ALTER TABLE s ADD COLUMN b TEXT DEFAULT 'bee'");
    Result after = primary.query("SELECT * FROM s");
    REQUIRE(after.columns().size() == 2);
    CHECK(after.columns()[1].name == "b");
    CHECK(after[0]["b"].as<std::string>() == "bee");
    REQUIRE(before.columns().size() == 1);
    CHECK(before.columns()[0].name == "a");
    CHECK(before[0]["a"].as<int>() == 1);
    size_t seen = 0;
    primary.stream("SELECT * FROM s", {}, [&](const Row &row) {
        REQUIRE(row.size() == 2);
        CHECK(row.columns()[1].name == "b");
        ++seen;
    });
    CHECK(seen == 1);
    primary.execute("DROP TABLE s");
    primary.execute("CREATE TABLE s (z TEXT)");
    primary.execute("INSERT INTO s VALUES ('zed')");
    Result recreated = primary.query("SELECT * FROM s");
    REQUIRE(recreated.columns().size() == 1);
    CHECK(recreated.columns()[0].name == "z");
    CHECK(recreated[0]["z"].as<std::string>() == "zed");
}

TEST_CASE("a pool of three serves eight threads", "[database][sqlite][threads]") {
    TempDir dir;
    Database db = open_two_sqlite(dir);
    auto primary = db.on("primary");
    primary.execute("CREATE TABLE hits (n INTEGER)");
    std::vector<std::thread> threads;
    std::atomic<int> errors{0};
    for (int t = 0; t < 8; ++t)
        threads.emplace_back([&] {
            for (int i = 0; i < 25; ++i) {
                try {
                    primary.execute("INSERT INTO hits VALUES (?)", {i});
                } catch (const Error &) {
                    ++errors;
                }
            }
        });
    for (auto &t : threads) t.join();
    CHECK(errors == 0);
    CHECK(primary.query("SELECT COUNT(*) FROM hits").front()[0].as<int>() == 200);
    auto s = primary.pool_status();
    CHECK(s.in_use == 0);
    INFO("created " << s.created << " destroyed " << s.destroyed << " idle " << s.idle);
    CHECK(s.created - s.destroyed <= 3);
    CHECK(s.idle <= 3);
}

TEST_CASE("query() of a statement with RETURNING reports its counts after its rows", "[database][sqlite]") {
    // SQLite counts a statement's changes only when it ends, i.e. after its
    // last row: the Result's counts must be read then, not when it starts.
    TempDir dir;
    Database db = open_two_sqlite(dir);
    db.execute("CREATE TABLE r (id INTEGER PRIMARY KEY, name TEXT)");
    Result ins = db.query("INSERT INTO r (name) VALUES ('a'), ('b'), ('c') RETURNING id, name");
    REQUIRE(ins.size() == 3);
    CHECK(ins[2]["name"].as<std::string>() == "c");
    CHECK(ins.affected_rows() == 3);
    CHECK(ins.last_insert_id() == 3);
    Result del = db.query("DELETE FROM r WHERE id < 3 RETURNING id");
    CHECK(del.size() == 2);
    CHECK(del.affected_rows() == 2);
    Result sel = db.query("SELECT id FROM r");
    CHECK(sel.affected_rows() == -1);
    // execute() reads and drops the rows of such a statement to count it.
    ExecResult more = db.execute("INSERT INTO r (name) VALUES ('d'), ('e') RETURNING id");
    CHECK(more.affected_rows == 2);
    CHECK(more.last_insert_id == 5);
    CHECK(db.query("SELECT count(*) AS n FROM r").front()["n"].as<int>() == 3);
}

TEST_CASE("OpenOptions::environment chooses the databases Database::open acts on", "[database][sqlite][env]") {
    TempDir dir;
    const std::string path = dir.write("ilana.config.json", R"({
      "connections": {"primary": {"client": "sqlite3", "connection": {"filename": "./dev.sqlite"}}},
      "environments": {"testing": {"connections": {"primary": {"connection": {"filename": "./test.sqlite"}}}}}
    })");
    {
        Database db = Database::open(path, OpenOptions{"testing", {ILANA_TEST_PLUGIN_DIR}, {}});
        CHECK(db.config().environment() == "testing");
        db.execute("CREATE TABLE marker (id INTEGER)");
    }
    CHECK(boost::filesystem::exists(dir.file("test.sqlite")));
    CHECK_FALSE(boost::filesystem::exists(dir.file("dev.sqlite")));
    try {
        Database::open(path, OpenOptions{"staging", {ILANA_TEST_PLUGIN_DIR}, {}});
        FAIL("an undefined environment was accepted");
    } catch (const ConfigError &e) {
        CHECK(std::string(e.what()).find("environment 'staging' is not defined; environments: testing") !=
              std::string::npos);
    }
}

TEST_CASE("SQLite :memory: with a pool: one database per connection, shared by its sessions and threads, "
          "surviving idle reaping",
          "[database][sqlite][memory]") {
    // The seed's test setup: two connections on :memory:.
    TempDir dir;
    dir.write("ilana.config.json", R"({"default": "primary", "connections": {
        "primary":   {"client": "sqlite3", "connection": {"filename": ":memory:"}, "useNullAsDefault": true,
                      "pool": {"max": 4, "idleTimeoutMillis": 50, "reapIntervalMillis": 10}},
        "analytics": {"client": "sqlite3", "connection": {"filename": ":memory:"}, "useNullAsDefault": true,
                      "pool": {"max": 4, "idleTimeoutMillis": 50, "reapIntervalMillis": 10}}}})");
    Database db = Database::open(dir.file("ilana.config.json"), OpenOptions{"", {ILANA_TEST_PLUGIN_DIR}, {}});
    auto primary = db.on("primary");
    auto analytics = db.on("analytics");

    // A table made in one call is there for the next call, from another thread.
    primary.execute("CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT)");
    std::thread([&] { primary.execute("INSERT INTO users (name) VALUES ('Ann')"); }).join();
    CHECK(primary.query("SELECT count(*) FROM users").front()[0].as<int64_t>() == 1);

    // Several sessions at once (the pool opens more than one) see one database.
    {
        Session a = primary.acquire();
        Session b = primary.acquire();
        a.execute("INSERT INTO users (name) VALUES ('Bob')");
        CHECK(b.query("SELECT count(*) FROM users").front()[0].as<int64_t>() == 2);
    }
    CHECK(primary.pool_status().created >= 2);

    // Concurrent writers on 4 threads: no spurious lock errors.
    std::atomic<int> failures{0};
    std::vector<std::thread> writers;
    for (int t = 0; t < 4; ++t)
        writers.emplace_back([&, t] {
            for (int i = 0; i < 25; ++i) {
                try {
                    primary.execute("INSERT INTO users (name) VALUES (?)", {"w" + std::to_string(t)});
                } catch (const Error &e) {
                    ++failures;
                    WARN(e.what());
                }
            }
        });
    for (auto &w : writers) w.join();
    CHECK(failures == 0);
    CHECK(primary.query("SELECT count(*) FROM users").front()[0].as<int64_t>() == 102);

    // The other connection is another database.
    CHECK_THROWS_AS(analytics.query("SELECT count(*) FROM users"), Error);
    analytics.execute("CREATE TABLE events (id INTEGER)");
    CHECK_THROWS_AS(primary.query("SELECT count(*) FROM events"), Error);

    // Every idle session reaped: the data stays. A session being retired is
    // neither idle nor in use until its close completes and counts it
    // destroyed, so wait for that too.
    auto t0 = std::chrono::steady_clock::now();
    auto settled = [&] {
        const auto s = primary.pool_status();
        return s.idle + s.in_use == 0 && s.destroyed == s.created;
    };
    while (!settled() && std::chrono::steady_clock::now() - t0 < std::chrono::seconds(3))
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    REQUIRE(primary.pool_status().idle == 0);
    // At least one left by idle reaping (others may have gone with their
    // writer thread's parked slot first, depending on the scheduler).
    INFO("created " << primary.pool_status().created << ", destroyed " << primary.pool_status().destroyed);
    CHECK(primary.pool_status().evicted_idle >= 1);
    CHECK(primary.pool_status().destroyed == primary.pool_status().created);
    CHECK(primary.query("SELECT count(*) FROM users").front()[0].as<int64_t>() == 102);

    // A second Database on the same config has databases of its own.
    Database other = Database::open(dir.file("ilana.config.json"), OpenOptions{"", {ILANA_TEST_PLUGIN_DIR}, {}});
    CHECK_THROWS_AS(other.on("primary").query("SELECT count(*) FROM users"), Error);
}
