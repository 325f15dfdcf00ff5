// Config::diff: which change of a connection leads to which reload action
// (Database::reload carries it out), and the "reload" section of the config.
#include <catch2/catch.hpp>

#include <ilana/config.hpp>

#include <string>

using namespace ilana;
using Kind = ConfigChange::Kind;

namespace {
Config parse(const std::string &json) { return Config::parse(json, "test.json", ""); }

// Two connections (a primary and its read replica) and a cache; `primary`
// and `extra` are spliced into the primary's entry and the top level.
std::string config(const std::string &primary = R"("pool": {"min": 0, "max": 10})", const std::string &extra = "") {
    return R"({"default": "primary", )" + extra + R"("connections": {
        "primary": {"client": "pg", "connection": {"host": "db1", "password": "pw1"}, "read": ["replica"], )" +
           primary + R"(},
        "replica": {"client": "pg", "connection": {"host": "db2"}},
        "cache": {"client": "sqlite3", "connection": {"filename": ":memory:"}}}})";
}

std::string describe(const std::vector<ConfigChange> &changes) {
    std::string out;
    for (const auto &c : changes) out += c.connection + ":" + to_string(c.kind) + "(" + c.what + ") ";
    return out;
}
} // namespace

TEST_CASE("config diff: the same config is no change", "[config][reload]") {
    CHECK(Config::diff(parse(config()), parse(config())).empty());
}

TEST_CASE("config diff: pool.min / pool.max alone resize, anything else replaces", "[config][reload]") {
    const Config base = parse(config());
    SECTION("size only") {
        auto d = Config::diff(base, parse(config(R"("pool": {"min": 2, "max": 4})")));
        INFO(describe(d));
        REQUIRE(d.size() == 1);
        CHECK(d[0].kind == Kind::resized);
        CHECK(d[0].connection == "primary");
        CHECK(d[0].what == "pool.min 0 -> 2, pool.max 10 -> 4");
    }
    SECTION("another pool option") {
        auto d = Config::diff(base, parse(config(R"("pool": {"min": 0, "max": 10, "idleTimeoutMillis": 5})")));
        REQUIRE(d.size() == 1);
        CHECK(d[0].kind == Kind::replaced);
        CHECK(d[0].what == "pool options");
    }
    SECTION("credentials: a changed password replaces, and the message never shows it") {
        auto d = Config::diff(base, parse(R"({"default": "primary", "connections": {
            "primary": {"client": "pg", "connection": {"host": "db1", "password": "pw2"}, "read": ["replica"]},
            "replica": {"client": "pg", "connection": {"host": "db2"}},
            "cache": {"client": "sqlite3", "connection": {"filename": ":memory:"}}}})"));
        REQUIRE(d.size() == 1);
        CHECK(d[0].kind == Kind::replaced);
        CHECK(d[0].what == "connection parameters");
        CHECK(describe(d).find("pw") == std::string::npos);
    }
    SECTION("retry: the connection's own, or the config's for a connection without one") {
        auto own = Config::diff(base, parse(config(R"("pool": {"min": 0, "max": 10}, "retry": {"maxAttempts": 5})")));
        REQUIRE(own.size() == 1);
        CHECK(own[0].what == "retry");
        auto global = Config::diff(base, parse(config(R"("pool": {"min": 0, "max": 10})", R"("retry": {"maxAttempts": 7}, )")));
        CHECK(global.size() == 3); // every connection falls back to it
        for (const auto &c : global) CHECK(c.kind == Kind::replaced);
    }
    SECTION("a replaced read replica replaces the connections reading from it") {
        auto d = Config::diff(base, parse(R"({"default": "primary", "connections": {
            "primary": {"client": "pg", "connection": {"host": "db1", "password": "pw1"}, "read": ["replica"], "pool": {"max": 3}},
            "replica": {"client": "pg", "connection": {"host": "db3"}},
            "cache": {"client": "sqlite3", "connection": {"filename": ":memory:"}}}})"));
        INFO(describe(d));
        REQUIRE(d.size() == 2);
        CHECK(d[0].connection == "replica");
        CHECK(d[0].kind == Kind::replaced);
        CHECK(d[1].connection == "primary");
        CHECK(d[1].kind == Kind::replaced); // not resized: its router is made again
        CHECK(d[1].what == "read replica 'replica' replaced");
    }
    SECTION("tenants settings replace the template connection only") {
        auto with = [](int max_pools) {
            return R"("tenants": {"connection": "cache", "isolation": "file", "maxPools": )" +
                   std::to_string(max_pools) + "}, ";
        };
        std::string file_template = R"({"default": "primary", %T "connections": {
            "primary": {"client": "pg", "connection": {"host": "db1"}},
            "cache": {"client": "sqlite3", "connection": {"filename": "t_{tenant}.db"}}}})";
        auto make = [&](int max_pools) {
            std::string s = file_template;
            s.replace(s.find("%T"), 2, with(max_pools));
            return parse(s);
        };
        auto d = Config::diff(make(5), make(6));
        REQUIRE(d.size() == 1);
        CHECK(d[0].connection == "cache");
        CHECK(d[0].what == "tenants");
    }
}

TEST_CASE("config diff: added and removed connections, and default alone is no connection change", "[config][reload]") {
    const Config base = parse(config());
    const Config next = parse(R"({"default": "cache", "connections": {
        "cache": {"client": "sqlite3", "connection": {"filename": ":memory:"}},
        "events": {"client": "sqlite3", "connection": {"filename": ":memory:"}}}})");
    auto d = Config::diff(base, next);
    INFO(describe(d));
    REQUIRE(d.size() == 3);
    CHECK(d[0].connection == "events");
    CHECK(d[0].kind == Kind::added);
    CHECK(d[1].connection == "primary");
    CHECK(d[1].kind == Kind::removed);
    CHECK(d[2].connection == "replica");
    CHECK(d[2].kind == Kind::removed);
}

TEST_CASE("config: the reload section is validated like every other", "[config][reload]") {
    const Config c = parse(config(R"("pool": {"max": 1})", R"("reload": {"watch": true, "intervalMs": 250}, )"));
    CHECK(c.reload().watch);
    CHECK(c.reload().interval_ms == 250);
    CHECK_FALSE(parse(config()).reload().watch);
    try {
        parse(config(R"("pool": {"max": 1})", R"("reload": {"watch": true, "every": 5}, )"));
        FAIL("an unknown key under reload was accepted");
    } catch (const ConfigError &e) {
        CHECK(e.json_path() == "/reload");
        CHECK_THAT(e.what(), Catch::Contains("unknown key 'every'") && Catch::Contains("allowed: watch, intervalMs"));
    }
    try {
        parse(config(R"("pool": {"max": 1})", R"("reload": {"intervalMs": 5}, )"));
        FAIL("intervalMs 5 was accepted");
    } catch (const ConfigError &e) {
        CHECK(e.json_path() == "/reload/intervalMs");
    }
}

TEST_CASE("config: the hash follows the text read, not the object", "[config][reload]") {
    CHECK(parse(config()).hash() == parse(config()).hash());
    CHECK(parse(config()).hash().size() == 16);
    CHECK(parse(config()).hash() != parse(config(R"("pool": {"min": 0, "max": 11})")).hash());
}
