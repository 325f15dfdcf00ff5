// The `ilana` program, run as a user would: exit codes, one-line errors,
// table and JSON output, no secrets printed.
#include <catch2/catch.hpp>

#include "temp_dir.hpp"

using ilana_test::ilana_cli;
using ilana_test::run_command;
using ilana_test::TempDir;

namespace {
std::string sqlite_config(const TempDir &dir) {
    return dir.write("ilana.config.json", R"({
      "default": "primary",
      "connections": {
        "primary": {"client": "sqlite3", "connection": {"filename": "./app.sqlite"}},
        "mem": {"client": "sqlite3", "connection": {"filename": ":memory:"}}
      }
    })");
}
std::string cli(const std::string &config, const std::string &args) {
    return ilana_cli() + " --config '" + config + "' " + args;
}
} // namespace

TEST_CASE("ilana query on a file database and on :memory:", "[cli][sqlite]") {
    TempDir dir;
    auto cfg = sqlite_config(dir);
    std::string out;
    REQUIRE(run_command(cli(cfg, "query \"CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT)\""), out) == 0);
    REQUIRE(run_command(cli(cfg, "query \"INSERT INTO t (name) VALUES ('Ann'), ('Zoë')\""), out) == 0);
    CHECK(out.find("2 row(s) affected") != std::string::npos);

    REQUIRE(run_command(cli(cfg, "query \"SELECT id, name FROM t ORDER BY id\""), out) == 0);
    CHECK(out == "id  name\n--  ----\n1   Ann\n2   Zoë\n(2 rows)\n");

    REQUIRE(run_command(cli(cfg, "query --json \"SELECT id, name, NULL AS n, 1.5 AS f FROM t ORDER BY id\""), out) == 0);
    CHECK(out == "[{\"id\":1,\"name\":\"Ann\",\"n\":null,\"f\":1.5},{\"id\":2,\"name\":\"Zoë\",\"n\":null,\"f\":1.5}]\n");

    // Works from any working directory: plugins are found beside the binary
    // and the relative filename is resolved against the config's folder.
    REQUIRE(run_command("cd / && " + cli(cfg, "query --connection=primary \"SELECT COUNT(*) AS n FROM t\""), out) == 0);
    CHECK(out.find("2") != std::string::npos);

    REQUIRE(run_command(cli(cfg, "query --connection mem --json \"SELECT 40 + 2 AS answer\""), out) == 0);
    CHECK(out == "[{\"answer\":42}]\n");
}

TEST_CASE("a query error prints the SQLite message on one line and exits 1", "[cli][sqlite]") {
    TempDir dir;
    auto cfg = sqlite_config(dir);
    std::string out;
    CHECK(run_command(cli(cfg, "query \"SELECT * FROM no_such_table\""), out) == 1);
    CHECK(out.find("no such table: no_such_table") != std::string::npos);
    CHECK(out.find("[primary]") != std::string::npos);
    CHECK(std::count(out.begin(), out.end(), '\n') == 1);
}

TEST_CASE("bad usage and bad config exit 2 with one clear line", "[cli]") {
    TempDir dir;
    auto cfg = sqlite_config(dir);
    std::string out;
    CHECK(run_command(ilana_cli() + " frobnicate", out) == 2);
    CHECK(out.find("unknown command 'frobnicate'") != std::string::npos);

    CHECK(run_command(cli(cfg, "query"), out) == 2);
    CHECK(out.find("missing the SQL statement") != std::string::npos);

    CHECK(run_command(cli(cfg, "query --connection nope \"SELECT 1\""), out) == 2);
    CHECK(out.find("connection 'nope' is not defined") != std::string::npos);
    CHECK(out.find("primary, mem") != std::string::npos);

    CHECK(run_command(cli(dir.file("missing.json"), "query \"SELECT 1\""), out) == 2);
    CHECK(out.find("missing.json") != std::string::npos);

    auto bad = dir.write("bad.json", R"({"connections": {"x": {"client": "sqlite3", "pool": {"min": -1}}}})");
    CHECK(run_command(cli(bad, "query \"SELECT 1\""), out) == 2);
    CHECK(out.find("/connections/x/pool/min") != std::string::npos);
}

TEST_CASE("--help and --version work on every command", "[cli]") {
    std::string out;
    CHECK(run_command(ilana_cli() + " --help", out) == 0);
    CHECK(out.find("query") != std::string::npos);
    CHECK(out.find("drivers") != std::string::npos);
    CHECK(run_command(ilana_cli() + " --version", out) == 0);
    CHECK(out.find("ilana ") == 0);
    for (const char *cmd : {"query", "drivers"}) {
        CHECK(run_command(ilana_cli() + " " + cmd + " --help", out) == 0);
        CHECK(out.find(std::string("usage: ilana ") + cmd) != std::string::npos);
        CHECK(run_command(ilana_cli() + " " + cmd + " --version", out) == 0);
    }
}

TEST_CASE("ilana drivers lists the bundled drivers and refused files", "[cli]") {
    std::string out;
    REQUIRE(run_command("cd / && " + ilana_cli() + " drivers", out) == 0);
    CHECK(out.find("SQLite3") != std::string::npos);
    CHECK(out.find("sqlite3, sqlite") != std::string::npos);
    CHECK(out.find("PostgreSQL") != std::string::npos);
    CHECK(out.find("mysql2") != std::string::npos);

    TempDir dir;
    dir.write("plugins/broken.so", "not a library");
    REQUIRE(run_command("ILANA_PLUGIN_PATH='" + dir.file("plugins") + "' " + ilana_cli() + " drivers --json", out) == 0);
    CHECK(out.find("\"refused\":[{\"path\":\"" + dir.file("plugins/broken.so") + "\"") != std::string::npos);
    CHECK(out.find("not a shared object") != std::string::npos);
}

TEST_CASE("passwords never reach the terminal", "[cli]") {
    TempDir dir;
    auto cfg = dir.write("ilana.config.json", R"({
      "connections": {"pg": {"client": "pg", "connection": {
        "host": "127.0.0.1", "port": 1, "user": "app", "password": "hunter2-s3cret", "database": "x",
        "connect_timeout": 2}}}
    })");
    std::string out;
    CHECK(run_command(cli(cfg, "query \"SELECT 1\""), out) == 1);
    CHECK(out.find("hunter2-s3cret") == std::string::npos);
    CHECK(out.find("[pg]") != std::string::npos);
}

namespace {
// Two environments of one app: the top level (development) and "testing",
// each with its own SQLite file and migrations folder.
std::string environments_config(const TempDir &dir) {
    dir.write("migrations/dev/20240101000000_dev.sql",
              "-- migrate:up\nCREATE TABLE dev_only (id INTEGER);\n-- migrate:down\nDROP TABLE dev_only;\n");
    dir.write("migrations/test/20240101000000_test.sql",
              "-- migrate:up\nCREATE TABLE test_only (id INTEGER);\n-- migrate:down\nDROP TABLE test_only;\n");
    return dir.write("ilana.config.json", R"({
      "default": "primary",
      "connections": {
        "primary": {"client": "sqlite3", "connection": {"filename": "./dev.sqlite"},
                    "migrations": {"directory": "./migrations/dev"}}
      },
      "environments": {
        "testing": {"connections": {"primary": {"connection": {"filename": "./test.sqlite"},
                                                "migrations": {"directory": "./migrations/test"}}}}
      }
    })");
}
} // namespace

TEST_CASE("ilana --env acts on that environment's databases, an undefined one exits 2 naming it", "[cli][env]") {
    TempDir dir;
    auto cfg = environments_config(dir);
    const std::string seed = dir.write("seed.sql", "SELECT 1;\n");
    std::string out;

    // Every command that reads the config refuses an environment that is not defined.
    for (const std::string &args : std::vector<std::string>{"query \"SELECT 1\"", "migrate", "migrate:status", "migrate:rollback",
                             "migrate:repair", "migrate:make add_things", "health", "metrics", "doctor",
                             "serve --listen 127.0.0.1:0", "warmup", "drivers", "tenants:list", "tenants:create t1",
                             "tenants:drop t1 --force", "tenants:migrate", "tenants:drift", "tenants:seed --all " + seed,
                             "tenants:clone a b"}) {
        INFO(args);
        CHECK(run_command(ilana_cli() + " --env staging --config '" + cfg + "' " + args, out) == 2);
        CHECK(out.find("environment 'staging' is not defined") != std::string::npos);
        CHECK(out.find("testing") != std::string::npos); // names the ones there are
    }
    CHECK_FALSE(boost::filesystem::exists(dir.file("dev.sqlite")));
    CHECK_FALSE(boost::filesystem::exists(dir.file("test.sqlite")));

    // --env testing migrates and queries the testing database only.
    REQUIRE(run_command(ilana_cli() + " --env testing --config '" + cfg + "' migrate", out) == 0);
    REQUIRE(run_command(ilana_cli() + " -e testing --config '" + cfg +
                            "' query --json \"SELECT name FROM sqlite_master WHERE name LIKE '%_only'\"",
                        out) == 0);
    CHECK(out == "[{\"name\":\"test_only\"}]\n");
    REQUIRE(run_command(ilana_cli() + " --env testing --config '" + cfg + "' migrate:status --json", out) == 0);
    CHECK(out.find("20240101000000_test") != std::string::npos);
    CHECK(out.find("20240101000000_dev") == std::string::npos);
    CHECK_FALSE(boost::filesystem::exists(dir.file("dev.sqlite")));

    // ILANA_ENV chooses too; without either it is development.
    REQUIRE(run_command("ILANA_ENV=testing " + cli(cfg, "query --json \"SELECT COUNT(*) AS n FROM test_only\""), out) ==
            0);
    CHECK(out == "[{\"n\":0}]\n");
    REQUIRE(run_command(cli(cfg, "migrate"), out) == 0);
    REQUIRE(run_command(cli(cfg, "query --json \"SELECT name FROM sqlite_master WHERE name LIKE '%_only'\""), out) == 0);
    CHECK(out == "[{\"name\":\"dev_only\"}]\n");
}
