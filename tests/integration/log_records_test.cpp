// Structured log records (ilana/logging.hpp): what a JSON sink receives for
// queries, slow queries and tenant pools being created and evicted, with
// the fields apart and never a bound value. (CONNECTION_RETRY against a
// stopped server: tests/faults/scrape_health_test.cpp.)
#include <catch2/catch.hpp>

#include <algorithm>

#include <ilana/ilana.hpp>
#include <ilana/logging.hpp>
#include <ilana/tenants.hpp>

#include "configs.hpp"
#include "log_capture.hpp"
#include "test_helpers.hpp"

#include <rapidjson/document.h>

#include <chrono>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

using namespace ilana;
using namespace std::chrono;
using namespace std::chrono_literals;
using ilana_test::contains;
using ilana_test::TempDir;

namespace {

// The JSON lines a sink made of LogRecord::to_json would write.
struct JsonSink {
    ilana_test::RecordCapture records;
    std::vector<std::string> lines() {
        std::lock_guard<std::mutex> lock(records.mu);
        std::vector<std::string> out;
        for (const auto &r : records.records) out.push_back(r.to_json());
        return out;
    }
    // The parsed records of `type`.
    std::vector<rapidjson::Document> of(const std::string &type) {
        std::vector<rapidjson::Document> out;
        for (const auto &line : lines()) {
            rapidjson::Document d;
            d.Parse(line.c_str());
            REQUIRE_FALSE(d.HasParseError());
            if (d.HasMember("type") && type == d["type"].GetString()) out.push_back(std::move(d));
        }
        return out;
    }
    std::string all() {
        std::string s;
        for (const auto &l : lines()) s += l + "\n";
        return s;
    }
};

std::string str(const rapidjson::Document &d, const char *key) {
    return d.HasMember(key) && d[key].IsString() ? d[key].GetString() : "";
}

} // namespace

TEST_CASE("log records: queries and slow queries carry the SQL start, never a bound value", "[logging][sqlite]") {
    TempDir dir;
    dir.write("ilana.config.json", R"({"connections": {"cache": {"client": "sqlite3", "connection": {"filename": ":memory:"}}},
        "debug": {"enabled": true, "logQueries": true, "slowQueryThreshold": 1}})");
    Database db = Database::open(dir.file("ilana.config.json"), OpenOptions{"", {ILANA_TEST_PLUGIN_DIR}, {}});
    ilana_test::LogCapture text; // the text log keeps its lines
    JsonSink sink;
    db.on("cache").query("SELECT ? AS card_number", {std::string("4111-secret-bound-value")});
    // Slow: a recursive count long enough for slowQueryThreshold=1ms.
    const std::string slow_sql =
        "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 300000)\n   SELECT count(*) FROM c WHERE x > ?";
    db.on("cache").query(slow_sql, {int64_t(0)});
    const std::string long_sql = "SELECT 1 AS a" + std::string(300, ' ') + ", " + std::string(400, '2') + " AS b";
    db.on("cache").query(long_sql);

    auto queries = sink.of("QUERY");
    REQUIRE(queries.size() == 3);
    CHECK(str(queries[0], "level") == "debug");
    CHECK(str(queries[0], "connection") == "cache");
    CHECK(str(queries[0], "sql") == "SELECT ? AS card_number");
    CHECK(queries[0]["ok"].GetBool());
    CHECK(queries[0]["durationMs"].IsNumber());
    CHECK(contains(str(queries[0], "message"), "conn=cache query=\"SELECT ? AS card_number\""));
    // The start of a long statement, whitespace folded.
    CHECK(str(queries[2], "sql").size() == 200 + 3);
    CHECK(str(queries[2], "sql").compare(0, 16, "SELECT 1 AS a , ") == 0);
    // The recursive count is slow; on a loaded machine another of these
    // statements may pass the 1 ms threshold too.
    auto slow = sink.of("SLOW_QUERY");
    slow.erase(std::remove_if(slow.begin(), slow.end(),
                              [](const rapidjson::Document &d) { return str(d, "sql").rfind("WITH RECURSIVE", 0) != 0; }),
               slow.end());
    REQUIRE(slow.size() == 1);
    CHECK(str(slow[0], "level") == "warn");
    CHECK(str(slow[0], "sql") == "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 300000) "
                                 "SELECT count(*) FROM c WHERE x > ?");
    CHECK(slow[0]["durationMs"].GetDouble() >= 1.0);
    CHECK_FALSE(contains(sink.all(), "4111-secret-bound-value"));
    CHECK_FALSE(contains(text.text(), "4111-secret-bound-value"));
    CHECK(contains(text.text(), "SLOW_QUERY"));

    // A failed statement is a QUERY record with ok=false.
    CHECK_THROWS(db.on("cache").query("SELECT * FROM no_such_table"));
    queries = sink.of("QUERY");
    REQUIRE(queries.size() == 4);
    CHECK_FALSE(queries[3]["ok"].GetBool());
}

TEST_CASE("log records: a tenant pool's POOL_CREATED and POOL_EVICTED name the tenant and its schema",
          "[logging][tenants][pg]") {
    ILANA_REQUIRE_PG();
    TempDir dir;
    const std::string prefix = "t" + ilana_test::unique_suffix() + "_log_";
    dir.write("ilana.config.json", R"({"connections": {"pg": {"client": "postgres", "connection": )" +
                                       ilana_test::pg_connection_json() + R"(}},
        "tenants": {"connection": "pg", "isolation": "schema", "schemaPrefix": ")" +
                                       prefix + R"(", "poolTtlMs": 200},
        "debug": {"logPoolEvents": true}})");
    Database db = Database::open(dir.file("ilana.config.json"), OpenOptions{"", {ILANA_TEST_PLUGIN_DIR}, {}});
    TenantManager tm(db);
    ilana_test::Cleanup cleanup{[&] { tm.drop_tenant("acme"); }};
    tm.create_tenant("acme");
    tm.evict("acme"); // made by create_tenant; start from no pool
    ilana_test::LogCapture text;
    JsonSink sink;
    tm.get("acme").query("SELECT 1");
    // Unused for poolTtlMs: closed by the TTL sweep.
    ilana_test::eventually([&] { return !sink.of("POOL_EVICTED").empty(); }, 5s, 20ms);

    auto created = sink.of("POOL_CREATED");
    REQUIRE(created.size() == 1);
    CHECK(str(created[0], "connection") == "pg");
    CHECK(str(created[0], "tenant") == "acme");
    CHECK(str(created[0], "schema") == prefix + "acme");
    CHECK(str(created[0], "client") == "postgres");
    auto evicted = sink.of("POOL_EVICTED");
    REQUIRE(evicted.size() == 1);
    CHECK(str(evicted[0], "level") == "info");
    CHECK(str(evicted[0], "connection") == "pg");
    CHECK(str(evicted[0], "tenant") == "acme");
    CHECK(str(evicted[0], "schema") == prefix + "acme");
    CHECK(str(evicted[0], "reason") == "ttl_expired");
    CHECK(contains(text.text(), "conn=pg@acme POOL_EVICTED reason=ttl_expired"));
    CHECK_FALSE(contains(sink.all(), ilana_test::pg().password));
}

TEST_CASE("log records: only at the levels the logger logs, and a throwing sink is ignored", "[logging][sqlite]") {
    TempDir dir;
    dir.write("ilana.config.json", R"({"connections": {"cache": {"client": "sqlite3", "connection": {"filename": ":memory:"}}},
        "debug": {"enabled": true, "logQueries": true, "slowQueryThreshold": 100000}})");
    Database db = Database::open(dir.file("ilana.config.json"), OpenOptions{"", {ILANA_TEST_PLUGIN_DIR}, {}});
    ilana_test::LogCapture text;
    logger()->set_level(spdlog::level::info); // QUERY lines are debug
    {
        JsonSink sink;
        db.on("cache").query("SELECT 1");
        CHECK(sink.of("QUERY").empty());
    }
    logger()->set_level(spdlog::level::debug);
    set_log_record_sink([](const LogRecord &) { throw std::runtime_error("sink down"); });
    CHECK_NOTHROW(db.on("cache").query("SELECT 2"));
    set_log_record_sink({});
    CHECK(contains(text.text(), "query=\"SELECT 2\""));
}

TEST_CASE("hooks: one that throws is logged with its name and what it threw, and breaks nothing", "[logging][sqlite]") {
    TempDir dir;
    dir.write("ilana.config.json",
              R"({"connections": {"cache": {"client": "sqlite3", "connection": {"filename": ":memory:"}}}})");
    Hooks hooks;
    hooks.on_pool_created = [](const std::string &) { throw std::runtime_error("created-boom"); };
    hooks.on_query = [](const std::string &, const std::string &, microseconds) { throw std::runtime_error("query-boom"); };
    hooks.on_error = [](const std::string &, const Error &) { throw std::runtime_error("error-boom"); };
    hooks.on_pool_evicted = [](const std::string &, const std::string &) { throw 42; };
    ilana_test::LogCapture text;
    {
        Database db = Database::open(dir.file("ilana.config.json"), OpenOptions{"", {ILANA_TEST_PLUGIN_DIR}, hooks});
        CHECK(db.on("cache").query("SELECT 1 AS one").size() == 1);
        CHECK_THROWS_AS(db.on("cache").query("SELECT * FROM no_such_table"), Error);
        CHECK_NOTHROW(db.close());
    }
    CHECK(contains(text.text(), "hook onPoolCreated threw: created-boom (ignored)"));
    CHECK(contains(text.text(), "hook onQuery threw: query-boom (ignored)"));
    CHECK(contains(text.text(), "hook onError threw: error-boom (ignored)"));
    CHECK(contains(text.text(), "hook onPoolEvicted threw a non-exception (ignored)"));
}

// Every Database loads its drivers and calls their init; a driver built
// with the SDK keeps the services table of its first init. That table must
// outlive the Database that gave it (found by ASan: a server notice logged
// through the table of a Database dropped before, in async_api_test).
TEST_CASE("a driver's notices are logged with its id after the Database that loaded it first is gone",
          "[log][pg]") {
    ILANA_REQUIRE_PG();
    TempDir dir;
    const std::string path = dir.write(
        "ilana.config.json",
        R"({"connections": {"pg": {"client": "postgres", "connection": )" + ilana_test::pg_connection_json() + "}}}");
    const OpenOptions opts{"", {ILANA_TEST_PLUGIN_DIR}, {}};
    std::optional<Database> first = Database::open(path, opts);
    first->on("pg").query("SELECT 1");
    Database second = Database::open(path, opts);
    second.on("pg").query("SELECT 1");
    first.reset(); // the first init's Database, its pools and its LoadedDriver
    ilana_test::LogCapture logs;
    second.on("pg").execute("DO $$ BEGIN RAISE NOTICE 'notice after the first Database, %', 42; END $$");
    const std::string text = logs.text();
    INFO(text);
    CHECK(contains(text, "driver=org.ilana.postgres conn=pg"));
    CHECK(contains(text, "notice after the first Database, 42"));
}
