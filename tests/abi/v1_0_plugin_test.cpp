// v1_0_plugin_test.cpp — a plugin built against the v1.0 headers loads and
// works in the current host (ilana::DriverRegistry, then a query through
// the C++ API). The refusal of ABI major 2 is tests/unit/driver_registry_test.cpp's.
#include <catch2/catch.hpp>

#include <ilana/ilana.hpp>

#include "temp_dir.hpp"

#include <string>

namespace {
const std::string kV10Dir = ILANA_ABI_V1_0_PLUGIN_DIR;
}

TEST_CASE("a driver built against the v1.0 header loads in the current registry", "[abi]") {
    ilana::DriverRegistry reg;
    reg.load_directory(kV10Dir);
    for (const auto &r : reg.refused()) INFO(r.path << ": " << r.reason);
    REQUIRE(reg.refused().empty());
    REQUIRE(reg.drivers().size() == 1);
    const ilana::DriverInfo &d = reg.drivers()[0];
    CHECK(d.id == "org.ilana.test.abi-v1-0");
    CHECK(d.abi_major == 1);
    CHECK(d.abi_minor == 0);
    CHECK(d.clients == std::vector<std::string>{"abi-v1-0"});
    CHECK(reg.find("abi-v1-0") != nullptr);
}

TEST_CASE("a driver built against the v1.0 header runs queries in the current host", "[abi]") {
    ilana_test::TempDir dir;
    dir.write("ilana.config.json",
              R"({"connections": {"old": {"client": "abi-v1-0", "connection": {}, "pool": {"max": 2}}}})");
    auto db = ilana::Database::open(dir.file("ilana.config.json"), ilana::OpenOptions{"", {kV10Dir}, {}});
    ilana::Result r = db.on("old").query("SELECT whatever");
    REQUIRE(r.size() == 1);
    CHECK(r[0]["answer"].as<int64_t>() == 42);
    CHECK(r[0]["sql"].as<std::string>() == "SELECT whatever");
    // Twice through the pool: result handles are closed and connections reused.
    CHECK(db.on("old").query("SELECT again")[0]["answer"].as<int>() == 42);
}

// ABI 1.2's ilana_statement.timeout_ms is beyond a v1.0/1.1 driver's view:
// it would run every statement without the timeout, so the host refuses the
// timeout instead of ignoring it.
TEST_CASE("a statement timeout is refused for a driver older than ABI 1.2", "[abi][timeout]") {
    ilana_test::TempDir dir;
    dir.write("ilana.config.json",
              R"({"connections": {"old": {"client": "abi-v1-0", "connection": {}, "statementTimeoutMs": 500}}})");
    try {
        ilana::Database::open(dir.file("ilana.config.json"), ilana::OpenOptions{"", {kV10Dir}, {}});
        FAIL("statementTimeoutMs was accepted for a v1.0 driver");
    } catch (const ilana::ConfigError &e) {
        const std::string msg = e.what();
        CHECK(msg.find("/connections/old/statementTimeoutMs") != std::string::npos);
        CHECK(msg.find("abi_v1_0") != std::string::npos); // the driver's file
        CHECK(msg.find("ABI 1.0") != std::string::npos);
    }
    // Per call: the same refusal, as an Error of class config.
    dir.write("ilana.config.json", R"({"connections": {"old": {"client": "abi-v1-0", "connection": {}}}})");
    auto db = ilana::Database::open(dir.file("ilana.config.json"), ilana::OpenOptions{"", {kV10Dir}, {}});
    try {
        db.on("old").query("SELECT whatever", {}, ilana::StatementOptions{500});
        FAIL("a per-call timeout was accepted for a v1.0 driver");
    } catch (const ilana::Error &e) {
        CHECK(e.error_class() == ilana::ErrorClass::config);
        CHECK(std::string(e.what()).find("[old]") != std::string::npos);
    }
    // Without a timeout it still works.
    CHECK(db.on("old").query("SELECT whatever")[0]["answer"].as<int64_t>() == 42);
}
