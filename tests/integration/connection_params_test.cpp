// Connection parameters are checked against the driver's declarations
// ("ilana.params/1") when the config is opened, before anything connects:
// a wrong type, a value outside the enum or the bounds, a missing required
// key or a mistyped key is a ConfigError with the file and the JSON path
// (exit 2 in the CLI), for every bundled driver and for a third-party
// driver built with the SDK.
#include <catch2/catch.hpp>

#include <ilana/ilana.hpp>

#include "configs.hpp"
#include "temp_dir.hpp"
#include "test_servers.hpp"

using namespace ilana;
using ilana_test::ilana_cli;
using ilana_test::run_command;
using ilana_test::TempDir;

namespace {

const std::string kSdkMemoryDir = ILANA_TEST_BINARY_DIR "/test-plugins/sdk_memory";

// One connection named `name` of `client` with the given "connection" JSON.
std::string write_config(const TempDir &dir, const std::string &name, const std::string &client,
                         const std::string &connection) {
    return dir.write("ilana.config.json", R"({"connections": {")" + name + R"(": {"client": ")" + client +
                                              R"(", "connection": )" + connection + "}}}");
}

std::string open_error(const std::string &config_path, std::vector<std::string> plugin_dirs = {}) {
    plugin_dirs.push_back(ILANA_TEST_PLUGIN_DIR);
    try {
        Database::open(config_path, OpenOptions{"", plugin_dirs, {}});
    } catch (const ConfigError &e) {
        return e.what();
    }
    return "(no ConfigError)";
}

// Runs the CLI on `config_path`; returns the exit code, `out` its output.
int cli_query(const std::string &config_path, std::string &out, const std::string &env = "") {
    return run_command(env + ilana_cli() + " --config '" + config_path + "' query \"SELECT 1\"", out);
}

} // namespace

TEST_CASE("SQLite: a number as filename fails at open with the JSON path and the expected type",
          "[params][sqlite]") {
    TempDir dir;
    const auto cfg = write_config(dir, "cache", "sqlite3", R"({"filename": 42})");
    const std::string message = open_error(cfg);
    CHECK_THAT(message, Catch::Contains(cfg + ": /connections/cache/connection/filename: expected a string, got number 42"));
    // Nothing was created: the check ran before any connect.
    CHECK_FALSE(boost::filesystem::exists(dir.file("42")));

    std::string out;
    CHECK(cli_query(cfg, out) == 2);
    CHECK_THAT(out, Catch::Contains("/connections/cache/connection/filename: expected a string, got number 42"));
    CHECK_FALSE(boost::filesystem::exists(dir.file("42")));
}

TEST_CASE("SQLite: a mistyped key fails at open with 'did you mean'", "[params][sqlite]") {
    TempDir dir;
    const auto cfg = write_config(dir, "cache", "sqlite3", R"({"fielname": "./cache.sqlite"})");
    const std::string message = open_error(cfg);
    CHECK_THAT(message, Catch::Contains("/connections/cache/connection: unknown key 'fielname' for client 'sqlite3'") &&
                            Catch::Contains("did you mean 'filename'?") && Catch::Contains("allowed: filename, mode"));

    std::string out;
    CHECK(cli_query(cfg, out) == 2);
    CHECK_THAT(out, Catch::Contains("/connections/cache/connection: unknown key 'fielname'") &&
                        Catch::Contains("did you mean 'filename'?"));
}

TEST_CASE("SQLite: enums, bounds, booleans and required keys are checked at open", "[params][sqlite]") {
    TempDir dir;
    CHECK_THAT(open_error(write_config(dir, "db", "sqlite", R"({"filename": ":memory:", "journal_mode": "fast"})")),
               Catch::Contains("/connections/db/connection/journal_mode: expected one of delete, truncate, persist, "
                               "memory, wal, off, got 'fast'"));
    CHECK_THAT(open_error(write_config(dir, "db", "sqlite", R"({"filename": ":memory:", "busy_timeout": -5})")),
               Catch::Contains("/connections/db/connection/busy_timeout: expected an integer between 0 and "
                               "2147483647, got number -5"));
    CHECK_THAT(open_error(write_config(dir, "db", "sqlite", R"({"filename": ":memory:", "readonly": "maybe"})")),
               Catch::Contains("/connections/db/connection/readonly: expected true or false, got 'maybe'"));
    CHECK_THAT(open_error(write_config(dir, "db", "sqlite", R"({"mode": "rw"})")),
               Catch::Contains("/connections/db/connection: missing required key 'filename' for client 'sqlite'"));
    CHECK_THAT(open_error(write_config(dir, "db", "sqlite", R"("sqlite:///tmp/x.db")")),
               Catch::Contains("/connections/db/connection: a URL string is not accepted by client 'sqlite'"));

    // What users write stays valid: mixed case enums, numbers from ${VAR}
    // (strings), the seed's boolean spellings.
    dir.write(".env", "BUSY=250\n");
    const auto ok = write_config(dir, "db", "sqlite",
                                 R"({"filename": ":memory:", "journal_mode": "WAL", "busy_timeout": "${BUSY}",
                                     "foreign_keys": "on", "synchronous": 1, "readonly": false})");
    Database db = Database::open(ok, OpenOptions{"", {ILANA_TEST_PLUGIN_DIR}, {}});
    CHECK(db.on("db").query("SELECT 1 AS one").front()["one"].as<int>() == 1);
}

TEST_CASE("a mistake inside an environment section is reported where it was written", "[params][sqlite][env]") {
    TempDir dir;
    const auto cfg = dir.write("ilana.config.json", R"({
      "connections": {"db": {"client": "sqlite3", "connection": {"filename": "./dev.sqlite"}}},
      "environments": {"testing": {"connections": {"db": {"connection": {"busy_timeout": "soon"}}}}}
    })");
    try {
        Database::open(cfg, OpenOptions{"testing", {ILANA_TEST_PLUGIN_DIR}, {}});
        FAIL("no ConfigError");
    } catch (const ConfigError &e) {
        CHECK_THAT(e.what(), Catch::Contains("/environments/testing/connections/db/connection/busy_timeout: "
                                             "expected an integer"));
    }
}

TEST_CASE("PostgreSQL: an unknown sslmode fails at open, exit 2, before any connect", "[params][pg]") {
    ILANA_REQUIRE_PG();
    TempDir dir;
    const auto cfg = write_config(dir, "analytics", "pg", ilana_test::pg_connection_json(R"("sslmode": "maybe")"));
    CHECK_THAT(open_error(cfg), Catch::Contains("/connections/analytics/connection/sslmode: expected one of disable, "
                                                "allow, prefer, require, verify-ca, verify-full, got 'maybe'"));
    std::string out;
    CHECK(cli_query(cfg, out) == 2);
    CHECK_THAT(out, Catch::Contains("/connections/analytics/connection/sslmode"));
    CHECK(out.find(ilana_test::pg().password) == std::string::npos);

    // The same connection without the mistake reaches the real server.
    const auto good = write_config(dir, "analytics", "pg", ilana_test::pg_connection_json(R"("sslmode": "disable")"));
    CHECK(cli_query(good, out) == 0);
}

TEST_CASE("PostgreSQL: a string for an integer parameter names the type, a password is never shown",
          "[params][pg]") {
    ILANA_REQUIRE_PG();
    TempDir dir;
    auto cfg = write_config(dir, "pg", "postgres", ilana_test::pg_connection_json(R"("connect_timeout": "soon")"));
    CHECK_THAT(open_error(cfg), Catch::Contains("/connections/pg/connection/connect_timeout: expected an integer "
                                                "between 0 and 86400, got 'soon'"));
    cfg = write_config(dir, "pg", "postgres", R"({"host": "127.0.0.1", "password": 123456789})");
    const std::string message = open_error(cfg);
    CHECK_THAT(message, Catch::Contains("/connections/pg/connection/password: expected a string, got a number"));
    CHECK(message.find("123456789") == std::string::npos);
}

TEST_CASE("MariaDB: a mistyped key fails at open with 'did you mean', exit 2", "[params][mysql]") {
    ILANA_REQUIRE_MYSQL();
    TempDir dir;
    const auto s = ilana_test::mysql();
    const auto cfg = write_config(dir, "primary", "mysql2",
                                  "{\"host\": \"" + s.host + "\", \"port\": " + s.port + ", \"user\": \"" + s.user +
                                      "\", \"password\": \"" + s.password + "\", \"databse\": \"" + s.database +
                                      "\"}");
    CHECK_THAT(open_error(cfg), Catch::Contains("/connections/primary/connection: unknown key 'databse' for client "
                                                "'mysql2'") &&
                                    Catch::Contains("did you mean 'database'?"));
    std::string out;
    CHECK(cli_query(cfg, out) == 2);
    CHECK_THAT(out, Catch::Contains("did you mean 'database'?"));
    CHECK(out.find(s.password) == std::string::npos);

    // A nested key is checked at its own level.
    const auto nested = write_config(dir, "primary", "mariadb",
                                     ilana_test::mysql_connection_json(R"("ssl": {"rejectUnauthorised": false})"));
    CHECK_THAT(open_error(nested), Catch::Contains("/connections/primary/connection/ssl: unknown key "
                                                   "'rejectUnauthorised'") &&
                                       Catch::Contains("did you mean 'rejectUnauthorized'?"));

    const auto good = write_config(dir, "primary", "mysql2", ilana_test::mysql_connection_json());
    CHECK(cli_query(good, out) == 0);
}

TEST_CASE("a third-party driver's declarations are checked the same way, its secrets never shown",
          "[params][sdk]") {
    TempDir dir;
    auto cfg = write_config(dir, "mem", "sdk-memory", R"({"tier": "bronze"})");
    CHECK_THAT(open_error(cfg, {kSdkMemoryDir}),
               Catch::Contains("/connections/mem/connection/tier: expected one of gold, silver, got 'bronze'"));
    cfg = write_config(dir, "mem", "sdk-memory", R"({"capacity": 5000})");
    CHECK_THAT(open_error(cfg, {kSdkMemoryDir}),
               Catch::Contains("/connections/mem/connection/capacity: expected an integer between 1 and 1000"));
    cfg = write_config(dir, "mem", "sdk-memory", R"({"tiers": "gold"})");
    CHECK_THAT(open_error(cfg, {kSdkMemoryDir}), Catch::Contains("did you mean 'tier'?"));

    // Declared secret: neither in the host's messages nor in the driver's.
    cfg = write_config(dir, "mem", "sdk-memory", R"({"accessCode": 777123})");
    std::string message = open_error(cfg, {kSdkMemoryDir});
    CHECK_THAT(message, Catch::Contains("/connections/mem/connection/accessCode: expected a string, got a number"));
    CHECK(message.find("777123") == std::string::npos);

    cfg = write_config(dir, "mem", "sdk-memory", R"({"accessCode": "open-sesame-42", "fail": true, "tier": "gold"})");
    Database db = Database::open(cfg, OpenOptions{"", {kSdkMemoryDir, ILANA_TEST_PLUGIN_DIR}, {}});
    CHECK(db.config().redact("code open-sesame-42 here") == "code *** here");
    std::string out;
    CHECK(cli_query(cfg, out, "ILANA_PLUGIN_PATH='" + kSdkMemoryDir + "' ") == 1); // the driver refuses (fail)
    CHECK_THAT(out, Catch::Contains("refused as asked"));
    CHECK(out.find("open-sesame-42") == std::string::npos);
}
