// The CLI as a library (ilana/cli.hpp): examples/cli-embed builds `myapp`,
// whose `myapp db ...` is ilana::cli::main with a code migration registered
// for the "analytics" connection. These tests run that binary against
// SQLite and PostgreSQL and compare it with `ilana` on the same config.
#include <catch2/catch.hpp>

#include "migrate_support.hpp"

#include <regex>

using namespace ilana;
using ilana_test::Cleanup;
using ilana_test::contains;
using ilana_test::count;
using ilana_test::count_of;
using ilana_test::drop_pg_schema_at_exit;
using ilana_test::ilana_cli;
using ilana_test::open_db;
using ilana_test::run_command;
using ilana_test::TempDir;
using ilana_test::unique_suffix;

namespace {

std::string myapp() { return std::string(ILANA_TEST_BINARY_DIR) + "/bin/myapp"; }

// The example's migration files (a file migration per connection).
std::string example_migrations(const std::string &connection) {
    return std::string(ILANA_TEST_SOURCE_DIR) + "/examples/cli-embed/database/migrations/" + connection;
}

int run(const std::string &program, const std::string &config, const std::string &args, std::string &out) {
    int rc = run_command(program + " --config '" + config + "' " + args, out);
    UNSCOPED_INFO(program << " " << args << " -> " << rc << "\n" << out);
    return rc;
}
int db(const std::string &config, const std::string &args, std::string &out) { return run(myapp() + " db", config, args, out); }
int ilana_run(const std::string &config, const std::string &args, std::string &out) { return run(ilana_cli(), config, args, out); }

void replace_all(std::string &s, const std::string &from, const std::string &to) {
    for (size_t at = s.find(from); at != std::string::npos; at = s.find(from, at + to.size())) s.replace(at, from.size(), to);
}

// Durations and times differ from run to run, and each program works in a
// folder of its own; the program's name where it names itself is the one
// difference between `ilana ARGS` and `myapp db ARGS`.
std::string comparable(std::string out, const std::string &program, const std::string &dir) {
    out = std::regex_replace(out, std::regex(R"(\(\d+ ms\))"), "(N ms)");
    out = std::regex_replace(out, std::regex(R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z)"), "TIME");
    replace_all(out, dir, "DIR");
    for (const char *before : {"\n", "usage: ", "run '"}) replace_all(out, before + program, before + std::string("PROGRAM"));
    if (out.rfind(program, 0) == 0) out.replace(0, program.size(), "PROGRAM");
    return out;
}

// app: SQLite; analytics: `analytics_connection` (its "client" and
// "connection"). Both read their migrations from the example.
std::string config_json(const std::string &analytics_connection, const std::string &analytics_migrations_extra = "") {
    return R"({"default": "app", "connections": {
      "app": {"client": "sqlite3", "connection": {"filename": "app.sqlite"},
              "migrations": {"directory": ")" + example_migrations("app") + R"("}},
      "analytics": )" + analytics_connection.substr(0, analytics_connection.size() - 1) +
           R"(, "migrations": {"directory": ")" + example_migrations("analytics") + "\"" +
           analytics_migrations_extra + "}}}}";
}

// migrate, status, rollback of the analytics connection through `myapp db`:
// the example's file migration and its code migration in one timeline.
void migrate_status_rollback(const std::string &config, Database &database) {
    std::string out;
    REQUIRE(db(config, "migrate:status --connection=analytics", out) == 0);
    CHECK(count_of(out, "pending") == 2);
    CHECK(contains(out, "create_event_kinds"));
    CHECK(contains(out, "seed_event_kinds"));

    REQUIRE(db(config, "migrate --connection=analytics", out) == 0);
    CHECK(contains(out, "[analytics] applied 20260101000000_create_event_kinds ("));
    CHECK(contains(out, "[analytics] applied 20260102000000_seed_event_kinds ("));
    CHECK(out.find("create_event_kinds") < out.find("seed_event_kinds")); // id order
    CHECK(contains(out, "[analytics] 2 migration(s) applied in batch 1"));
    Connection analytics = database.on("analytics");
    CHECK(count(analytics, "SELECT count(*) FROM event_kinds") == 3);
    // --connection=analytics touched analytics only: app's migration is pending.
    REQUIRE(db(config, "migrate:status --json", out) == 0);
    CHECK(contains(out, R"("connection":"app")"));
    CHECK(contains(out, R"("name":"create_users","state":"pending")"));

    REQUIRE(db(config, "migrate:status --connection=analytics --json", out) == 0);
    CHECK(contains(out, R"("name":"create_event_kinds","state":"applied","batch":1)"));
    CHECK(contains(out, R"("name":"seed_event_kinds","state":"applied","batch":1)"));
    CHECK(contains(out, R"("checksum":"code","file":null,"code":true)"));

    REQUIRE(db(config, "migrate:rollback --connection=analytics --step 1", out) == 0);
    CHECK(contains(out, "[analytics] rolled back 20260102000000_seed_event_kinds ("));
    CHECK_FALSE(contains(out, "create_event_kinds"));
    CHECK(count(analytics, "SELECT count(*) FROM event_kinds") == 0);
    REQUIRE(db(config, "migrate:status --connection=analytics --json", out) == 0);
    CHECK(contains(out, R"("name":"create_event_kinds","state":"applied")"));
    CHECK(contains(out, R"("name":"seed_event_kinds","state":"pending")"));

    // Applied again, then the whole batch undone (code first, then the file).
    REQUIRE(db(config, "migrate --connection=analytics", out) == 0);
    CHECK(contains(out, "1 migration(s) applied in batch 2"));
    CHECK(count(analytics, "SELECT count(*) FROM event_kinds") == 3);
    REQUIRE(db(config, "migrate:rollback --connection=analytics --step 2", out) == 0);
    CHECK(out.find("seed_event_kinds") < out.find("create_event_kinds"));
    REQUIRE(db(config, "migrate:status --connection=analytics", out) == 0);
    CHECK(count_of(out, "pending") == 2);
}

} // namespace

TEST_CASE("myapp db (ilana::cli::main): code and file migrations on SQLite", "[cli][embed][migrate][sqlite]") {
    TempDir dir;
    const std::string config =
        dir.write("ilana.config.json", config_json(R"({"client": "sqlite3", "connection": {"filename": "analytics.sqlite"}})"));
    Database database = open_db(config);
    migrate_status_rollback(config, database);

    // `ilana` on the same config knows the files only: the code migration,
    // once applied by myapp, is "missing (code)" there and cannot be undone.
    std::string out;
    REQUIRE(db(config, "migrate --connection=analytics", out) == 0);
    REQUIRE(ilana_run(config, "migrate:status --connection=analytics", out) == 0);
    CHECK(contains(out, "missing (code)"));
    REQUIRE(ilana_run(config, "migrate:rollback --connection=analytics", out) == 1);
    CHECK(contains(out, "it is a code migration that is not registered here"));
    REQUIRE(db(config, "migrate:rollback --connection=analytics", out) == 0);
    CHECK(count_of(out, "rolled back") == 2);
}

TEST_CASE("myapp db (ilana::cli::main): code and file migrations on PostgreSQL", "[cli][embed][migrate][pg]") {
    ILANA_REQUIRE_PG();
    TempDir dir;
    const std::string schema = "ilana_embed_" + unique_suffix();
    const std::string config = dir.write(
        "ilana.config.json",
        config_json(R"({"client": "postgres", "connection": )" +
                        ilana_test::pg_connection_json("\"search_path\": \"" + schema + "\"") + "}",
                    R"(, "schemaName": ")" + schema + "\""));
    Database database = open_db(config);
    Cleanup drop_schema = drop_pg_schema_at_exit(database, "analytics", schema);
    migrate_status_rollback(config, database);

    // --all: app's file migration (SQLite) and analytics' two (PostgreSQL).
    std::string out;
    REQUIRE(db(config, "migrate --all", out) == 0);
    CHECK(contains(out, "[app] applied 20260101000000_create_users ("));
    CHECK(contains(out, "[analytics] applied 20260102000000_seed_event_kinds ("));
    CHECK(count(database.on("analytics"), "SELECT count(*) FROM event_kinds") == 3);
    CHECK(count(database.on("analytics"), "SELECT count(*) FROM \"" + schema + "\".ilana_migrations") == 2);
}

TEST_CASE("myapp db behaves like ilana: same output and exit codes for the same config", "[cli][embed][sqlite]") {
    // Two identical folders, one driven by each program.
    TempDir a, b;
    const std::string json = config_json(R"({"client": "sqlite3", "connection": {"filename": "analytics.sqlite"}})");
    const std::string ca = a.write("ilana.config.json", json), cb = b.write("ilana.config.json", json);
    const std::vector<std::string> cases = {
        "migrate:status",
        "migrate --dry-run",
        "migrate",
        "migrate:status --json",
        "migrate",
        "migrate:rollback",
        "migrate:rollback",
        "migrate --connection=nope",
        "migrate --all --connection=app",
        "migrate:rollback --step 0",
        "migrate:make",
        "migrate --no-such-option",
        "no-such-command",
        "query --connection=app \"SELECT count(*) AS n FROM sqlite_master\"",
    };
    for (const auto &args : cases) {
        std::string with_ilana, with_myapp;
        const int rc_ilana = ilana_run(ca, args, with_ilana), rc_myapp = db(cb, args, with_myapp);
        INFO(args);
        CHECK(rc_myapp == rc_ilana);
        CHECK(comparable(with_myapp, "myapp db", b.path()) == comparable(with_ilana, "ilana", a.path()));
        CHECK_FALSE(with_ilana.empty());
    }
    // The help texts name the embedding program.
    std::string out;
    REQUIRE(run_command(myapp() + " db --help", out) == 0);
    CHECK(contains(out, "usage: myapp db [--config FILE] [--env NAME] COMMAND [options]"));
    CHECK(contains(out, "migrate:rollback"));
    REQUIRE(run_command(myapp() + " db migrate --help", out) == 0);
    CHECK(contains(out, "usage: myapp db migrate [--connection NAME"));
    CHECK(run_command(myapp() + " db migrate --all --connection=app --config '" + cb + "'", out) == 2);
    CHECK(contains(out, "myapp db migrate: --all and --connection exclude each other; usage: myapp db migrate ["));
    // A command with two forms names the program before each.
    CHECK(run_command(myapp() + " db metrics --bogus --config '" + cb + "'", out) == 2);
    CHECK(contains(out, "usage: myapp db metrics [--prometheus] [--health] [--runtime] | myapp db metrics [--url URL]"));
    REQUIRE(run_command(myapp() + " db metrics --help", out) == 0);
    CHECK(contains(out, "usage: myapp db metrics [--prometheus] [--health] [--runtime]\n       myapp db metrics [--url"));
}

TEST_CASE("myapp db: code migrations for a connection the config lacks are a config error", "[cli][embed][sqlite]") {
    TempDir dir;
    const std::string config = dir.write(
        "ilana.config.json", R"({"connections": {"app": {"client": "sqlite3", "connection": {"filename": "app.sqlite"}}}})");
    std::string out;
    CHECK(db(config, "migrate", out) == 2);
    CHECK(contains(out, "myapp db: code migrations are registered for connection 'analytics', which " + config +
                            " does not have (connections: app): add it to the config or fix the name in the program"));
    CHECK(count_of(out, "\n") == 1);
    // ilana itself registers nothing: the same config is fine there.
    CHECK(ilana_run(config, "migrate", out) == 0);
}

TEST_CASE("myapp db doctor and metrics: their hints name the embedding program", "[cli][embed][sqlite]") {
    TempDir dir;
    const std::string config = dir.write("ilana.config.json", R"({"connections": {"analytics": {"client": "sqlite3",
        "connection": {"filename": "analytics.sqlite"}, "migrations": {"directory": "./no-migrations-yet"}}}})");
    std::string with_myapp, with_ilana;
    CHECK(db(config, "doctor", with_myapp) == ilana_run(config, "doctor", with_ilana));
    CHECK(contains(with_myapp, "no-migrations-yet does not exist (myapp db migrate:make creates it)"));
    CHECK(contains(with_ilana, "no-migrations-yet does not exist (ilana migrate:make creates it)"));
    // Nothing listens on port 1: the hint names the program's own serve.
    CHECK(db(config, "metrics --url http://127.0.0.1:1", with_myapp) == 1);
    CHECK(contains(with_myapp, "(is `myapp db serve` or the application's MetricsServer running there?)"));
}
