// The statement timeout ("statementTimeoutMs" per connection,
// StatementOptions::timeout_ms per call; ABI 1.2 ilana_statement.timeout_ms)
// on every bundled driver, against the real servers: a statement past it
// fails with ErrorClass::timeout naming the connection and the timeout, and
// the same session answers the next statement.
#include <catch2/catch.hpp>

#include <ilana/ilana.hpp>

#include "configs.hpp"

#include <chrono>

using namespace ilana;
using namespace std::chrono;
using ilana_test::TempDir;

namespace {

struct Target {
    const char *client;
    std::string connection; // JSON
    const char *slow_sql;   // runs for seconds unless stopped
    const char *short_sql;  // runs for about a second
};

// A long statement on each driver: the servers sleep; SQLite counts (a CPU
// bound statement, which its progress handler interrupts).
Target target(const std::string &which, const TempDir &dir) {
    if (which == "pg") return {"pg", ilana_test::pg_connection_json(), "SELECT pg_sleep(5)", "SELECT pg_sleep(1)"};
    if (which == "mysql")
        return {"mysql", ilana_test::mysql_connection_json(), "SELECT SLEEP(5)", "SELECT SLEEP(1)"};
    return {"sqlite3", "{\"filename\": \"" + dir.file("t.sqlite") + "\"}",
            "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 300000000) "
            "SELECT count(*) FROM c",
            "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 1000000) "
            "SELECT count(*) FROM c"};
}

Database open_db(const TempDir &dir, const Target &t, const std::string &extra) {
    dir.write("ilana.config.json", std::string(R"({"connections": {"db": {"client": ")") + t.client +
                                       R"(", "connection": )" + t.connection + extra + "}}}");
    return Database::open(dir.file("ilana.config.json"), OpenOptions{"", {ILANA_TEST_PLUGIN_DIR}, {}});
}

} // namespace

TEST_CASE("statementTimeoutMs stops a long statement with the timeout class and the session goes on",
          "[timeout]") {
    const std::string which = GENERATE(std::string("sqlite"), std::string("pg"), std::string("mysql"));
    SECTION(which) {
        if (which == "pg") ILANA_REQUIRE_PG();
        if (which == "mysql") ILANA_REQUIRE_MYSQL();
        TempDir dir;
        const Target t = target(which, dir);
        Database db = open_db(dir, t, R"(, "statementTimeoutMs": 500)");
        Session s = db.on("db").acquire();
        const auto start = steady_clock::now();
        try {
            s.query(t.slow_sql);
            FAIL("the statement outlived its timeout");
        } catch (const Error &e) {
            const auto took = duration_cast<milliseconds>(steady_clock::now() - start).count();
            INFO(e.what());
            CHECK(e.error_class() == ErrorClass::timeout);
            CHECK(e.connection() == "db");
            CHECK(std::string(e.what()).find("[db]") != std::string::npos);
            CHECK(std::string(e.what()).find("500 ms") != std::string::npos);
            CHECK_FALSE(e.poisons_connection());
            CHECK(took >= 400);
            CHECK(took < 4000); // generous: the statement alone would take 5 s or more
        }
        // The same session answers the next statement.
        Result r = s.query("SELECT 1 AS one");
        REQUIRE(r.size() == 1);
        CHECK(r[0]["one"].as<int64_t>() == 1);
        // A statement within the timeout is untouched.
        Result again = s.query("SELECT 2 AS two");
        CHECK(again[0]["two"].as<int64_t>() == 2);
    }
}

TEST_CASE("StatementOptions::timeout_ms bounds one call and overrides the config", "[timeout]") {
    const std::string which = GENERATE(std::string("sqlite"), std::string("pg"), std::string("mysql"));
    SECTION(which) {
        if (which == "pg") ILANA_REQUIRE_PG();
        if (which == "mysql") ILANA_REQUIRE_MYSQL();
        TempDir dir;
        const Target t = target(which, dir);
        {
            // No timeout in the config: the call's own.
            Database db = open_db(dir, t, "");
            const auto start = steady_clock::now();
            try {
                db.on("db").query(t.slow_sql, {}, StatementOptions{300});
                FAIL("the statement outlived its per-call timeout");
            } catch (const Error &e) {
                INFO(e.what());
                CHECK(e.error_class() == ErrorClass::timeout);
                CHECK(std::string(e.what()).find("300 ms") != std::string::npos);
                CHECK(duration_cast<milliseconds>(steady_clock::now() - start).count() < 4000);
            }
            // Calls without options keep the config's (none): a statement of
            // about a second runs to its end.
            CHECK(db.on("db").query(t.short_sql).size() == 1);
            // stream and execute take the option too.
            size_t rows = 0;
            CHECK_THROWS_MATCHES(db.on("db").stream(t.slow_sql, {}, [&](const Row &) { ++rows; },
                                                    StatementOptions{300}),
                                 Error, Catch::Predicate<Error>([](const Error &e) {
                                     return e.error_class() == ErrorClass::timeout;
                                 }));
            CHECK_THROWS_MATCHES(db.on("db").execute(t.slow_sql, {}, StatementOptions{300}), Error,
                                 Catch::Predicate<Error>([](const Error &e) {
                                     return e.error_class() == ErrorClass::timeout;
                                 }));
        }
        {
            // A config timeout the call lifts (0 = none for this call).
            Database db = open_db(dir, t, R"(, "statementTimeoutMs": 200)");
            CHECK(db.on("db").query(t.short_sql, {}, StatementOptions{0}).size() == 1);
            CHECK_THROWS_MATCHES(db.on("db").query(t.slow_sql), Error, Catch::Predicate<Error>([](const Error &e) {
                                     return e.error_class() == ErrorClass::timeout &&
                                            std::string(e.what()).find("200 ms") != std::string::npos;
                                 }));
            CHECK_THROWS_MATCHES(db.on("db").query("SELECT 1", {}, StatementOptions{-5}), Error,
                                 Catch::Predicate<Error>([](const Error &e) {
                                     return e.error_class() == ErrorClass::config &&
                                            std::string(e.what()).find("timeout_ms") != std::string::npos;
                                 }));
        }
    }
}

TEST_CASE("statementTimeoutMs must be milliseconds >= 0", "[timeout][config]") {
    TempDir dir;
    dir.write("ilana.config.json", R"({"connections": {"db": {"client": "sqlite3",
        "connection": {"filename": ":memory:"}, "statementTimeoutMs": -1}}})");
    try {
        Config::load_file(dir.file("ilana.config.json"));
        FAIL("a negative statementTimeoutMs was accepted");
    } catch (const ConfigError &e) {
        CHECK(std::string(e.what()).find("/connections/db/statementTimeoutMs") != std::string::npos);
    }
    dir.write("ilana.config.json", R"({"connections": {"db": {"client": "sqlite3",
        "connection": {"filename": ":memory:"}, "statementTimeoutMs": "${T:-250}"}}})");
    CHECK(Config::load_file(dir.file("ilana.config.json")).find("db")->statement_timeout_ms == 250);
}
