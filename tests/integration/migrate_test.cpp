// Migrations against the real databases, through the CLI (as a user runs
// them) and through the C++ API (code migrations): two connections with their
// own directories and tables, migrate / status / rollback / make / repeat,
// the seed's cross-connection data migration, checksums, a syntax error
// rolled back (PostgreSQL, SQLite), and MariaDB's failed mark + repair.
// Schemas, databases and tables get unique names per run and are dropped.
#include <catch2/catch.hpp>

#include <ilana/ilana.hpp>
#include <ilana/migrator.hpp>

#include "configs.hpp"
#include "temp_dir.hpp"
#include "migrate_support.hpp"
#include "test_helpers.hpp"
#include "test_servers.hpp"

#include <algorithm>
#include <fstream>
#include <functional>
#include <sstream>
#include <sys/stat.h>
#include <unistd.h>

using namespace ilana;
using ilana_test::contains;
using ilana_test::count;
using ilana_test::ilana_cli;
using ilana_test::run_command;
using ilana_test::Cleanup;
using ilana_test::count_of;
using ilana_test::drop_pg_schema_at_exit;
using ilana_test::mysql_connection_json_in;
using ilana_test::MysqlDatabase;
using ilana_test::open_db;
using ilana_test::pg_schema_config;
using ilana_test::read_file;
using ilana_test::TempDir;
using ilana_test::unique_suffix;

namespace {

int cli(const std::string &config, const std::string &args, std::string &out) {
    int rc = run_command(ilana_cli() + " --config '" + config + "' " + args, out);
    UNSCOPED_INFO("ilana " << args << " -> " << rc << "\n" << out);
    return rc;
}

// SHA-256 of a file by the system's sha256sum: an independent check of the
// recorded checksums.
std::string sha256sum(const std::string &path) {
    std::string out;
    REQUIRE(run_command("sha256sum '" + path + "'", out) == 0);
    return out.substr(0, 64);
}

// The path migrate:make printed (its first line that is an absolute path).
std::string made_path(const std::string &out) {
    std::istringstream in(out);
    std::string line;
    while (std::getline(in, line))
        if (!line.empty() && line[0] == '/') return line;
    return {};
}

// A database of its own on the MariaDB test server (dropped at scope exit).
} // namespace

// ---------------------------------------------------------------------------
// SQLite + PostgreSQL: two connections, each with its directory and table
// ---------------------------------------------------------------------------

TEST_CASE("two connections (SQLite primary, PostgreSQL analytics): migrate, status, make, rollback, repeat, code "
          "migration across connections",
          "[migrate][pg][sqlite]") {
    ILANA_REQUIRE_PG();
    TempDir dir;
    const std::string schema = "ilana_mig_" + unique_suffix();
    const std::string config = dir.write("ilana.config.json", R"({
      "default": "primary",
      "connections": {
        "primary": {"client": "sqlite3", "connection": {"filename": "./primary.sqlite"},
                    "migrations": {"directory": "./database/migrations/primary", "tableName": "migrations"}},
        "analytics": {"client": "postgres", "connection": )" +
                                                            ilana_test::pg_connection_json("\"search_path\": \"" + schema + "\"") + R"(,
                      "migrations": {"tableName": "analytics_migrations", "schemaName": ")" + schema + R"("}}
      }
    })");
    Database db = open_db(config);
    Cleanup drop_schema = drop_pg_schema_at_exit(db, "analytics", schema);
    auto primary = db.on("primary");
    auto analytics = db.on("analytics");

    const std::string pdir = dir.file("database/migrations/primary/");
    const std::string adir = dir.file("database/migrations/analytics/"); // the default directory
    dir.write("database/migrations/primary/20260101000000_create_users.sql", R"(-- Users of the application.
-- migrate:up
CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT NOT NULL, email TEXT, created_at TEXT);
INSERT INTO users (name, email, created_at) VALUES ('Ann', 'ann@example.com', '2026-01-01'),
  ('Ben; the second', 'ben@example.com', '2026-01-02');
CREATE TRIGGER users_default_date AFTER INSERT ON users WHEN new.created_at IS NULL
BEGIN
  UPDATE users SET created_at = '2026-01-03' WHERE id = new.id;
END;

-- migrate:down
DROP TABLE users;
)");
    dir.write("database/migrations/primary/20260102000000_add_role.sql",
              "-- migrate:up\nALTER TABLE users ADD COLUMN role TEXT DEFAULT 'member';\n"
              "-- migrate:down\nALTER TABLE users DROP COLUMN role;\n");
    dir.write("database/migrations/analytics/20260101000000_create_user_profiles.sql", R"(-- migrate:up
CREATE TABLE user_profiles (user_id INT PRIMARY KEY, name TEXT, email TEXT, registered_at TEXT,
                            synced_at TIMESTAMPTZ, data JSONB);
CREATE FUNCTION profiles_count() RETURNS bigint AS $$
BEGIN
  -- a ; inside a dollar-quoted body, and jsonb's ? operator
  RETURN (SELECT count(*) FROM user_profiles WHERE name <> ';' OR data ? 'k');
END;
$$ LANGUAGE plpgsql;
-- migrate:down
DROP FUNCTION profiles_count();
DROP TABLE user_profiles;
)");
    // Not possible inside a transaction: proves transaction:false.
    dir.write("database/migrations/analytics/20260102000000_index_profiles.sql",
              "-- migrate:up transaction:false\nCREATE INDEX CONCURRENTLY user_profiles_email ON user_profiles (email);\n"
              "-- migrate:down transaction:false\nDROP INDEX CONCURRENTLY user_profiles_email;\n");
    std::string out;

    // Status before anything: the default connection (primary), all pending.
    REQUIRE(cli(config, "migrate:status", out) == 0);
    CHECK(count_of(out, "pending") == 2);
    CHECK(contains(out, "create_users"));

    // Dry run prints the SQL and changes nothing.
    REQUIRE(cli(config, "migrate --connection=analytics --dry-run", out) == 0);
    CHECK(contains(out, "would apply 20260101000000_create_user_profiles in batch 1 (in a transaction)"));
    CHECK(contains(out, "would apply 20260102000000_index_profiles in batch 1 (no transaction)"));
    CHECK(contains(out, "RETURN (SELECT count(*) FROM user_profiles WHERE name <> ';' OR data ? 'k');"));
    CHECK(count(analytics, "SELECT count(*) FROM pg_namespace WHERE nspname = '" + schema + "'") == 0);

    // migrate --connection=analytics: only analytics.
    REQUIRE(cli(config, "migrate --connection=analytics", out) == 0);
    CHECK(contains(out, "[analytics] applied 20260101000000_create_user_profiles ("));
    CHECK(contains(out, "[analytics] applied 20260102000000_index_profiles ("));
    CHECK(contains(out, " ms)"));
    CHECK(contains(out, "[analytics] 2 migration(s) applied in batch 1"));
    {
        Result rows = analytics.query("SELECT id, name, batch, checksum, status, applied_at, failed_statement FROM \"" +
                                      schema + "\".analytics_migrations ORDER BY id");
        REQUIRE(rows.size() == 2);
        CHECK(rows[0]["name"].as<std::string>() == "create_user_profiles");
        CHECK(rows[0]["batch"].as<int64_t>() == 1);
        CHECK(rows[0]["status"].as<std::string>() == "applied");
        CHECK(rows[0]["failed_statement"].is_null());
        CHECK(rows[0]["checksum"].as<std::string>() == sha256sum(adir + "20260101000000_create_user_profiles.sql"));
        CHECK(rows[1]["checksum"].as<std::string>() == sha256sum(adir + "20260102000000_index_profiles.sql"));
        CHECK(rows[0]["applied_at"].as<std::string>().size() == 24);
    }
    CHECK(count(analytics, "SELECT count(*) FROM pg_indexes WHERE schemaname = '" + schema +
                               "' AND indexname = 'user_profiles_email'") == 1);
    CHECK(count(analytics, "SELECT profiles_count()") == 0);
    CHECK(count(primary, "SELECT count(*) FROM sqlite_master WHERE name IN ('migrations', 'users')") == 0);

    // migrate (the default connection, primary).
    REQUIRE(cli(config, "migrate", out) == 0);
    CHECK(contains(out, "[primary] applied 20260101000000_create_users ("));
    CHECK(contains(out, "[primary] applied 20260102000000_add_role ("));
    CHECK(count(primary, "SELECT count(*) FROM migrations WHERE batch = 1 AND status = 'applied'") == 2);
    CHECK(primary.query("SELECT name FROM users ORDER BY id")[1][0].as<std::string>() == "Ben; the second");
    primary.execute("INSERT INTO users (name) VALUES ('Cleo')"); // the trigger from the migration
    CHECK(primary.query("SELECT created_at, role FROM users WHERE name = 'Cleo'")[0][0].as<std::string>() == "2026-01-03");

    REQUIRE(cli(config, "migrate:status --connection=analytics --json", out) == 0);
    CHECK(count_of(out, "\"state\":\"applied\"") == 2);
    CHECK(contains(out, "\"connection\":\"analytics\""));
    CHECK(contains(out, "\"schema\":\"" + schema + "\""));

    // make: a new file with both sections, in analytics' directory.
    REQUIRE(cli(config, "migrate:make add_events --connection=analytics", out) == 0);
    const std::string made = made_path(out);
    CHECK(made.rfind(adir, 0) == 0);
    CHECK(made.size() == adir.size() + 14 + std::string("_add_events.sql").size());
    CHECK(read_file(made) == "-- migrate:up\n\n\n-- migrate:down\n\n");
    {
        std::ofstream(made, std::ios::binary) << "-- migrate:up\nCREATE TABLE events (id SERIAL PRIMARY KEY, kind TEXT);\n"
                                                 "INSERT INTO events (kind) VALUES ('created');\n"
                                                 "-- migrate:down\nDROP TABLE events;\n";
    }
    const std::string made_id = made.substr(adir.size(), 14);
    REQUIRE(cli(config, "migrate --connection=analytics", out) == 0);
    CHECK(contains(out, "applied " + made_id + "_add_events"));
    CHECK(contains(out, "in batch 2"));
    // Repeat: nothing left.
    REQUIRE(cli(config, "migrate --connection=analytics", out) == 0);
    CHECK(contains(out, "[analytics] nothing to migrate"));

    // Rollback of the last batch (analytics), of one step (primary).
    REQUIRE(cli(config, "migrate:rollback --connection=analytics", out) == 0);
    CHECK(contains(out, "[analytics] rolled back " + made_id + "_add_events ("));
    CHECK(count_of(out, "rolled back") == 1);
    CHECK(analytics.query("SELECT to_regclass('events') IS NULL").front()[0].as<bool>());
    REQUIRE(cli(config, "migrate:status --connection=analytics --json", out) == 0);
    CHECK(count_of(out, "\"state\":\"applied\"") == 2);
    CHECK(count_of(out, "\"state\":\"pending\"") == 1);
    REQUIRE(cli(config, "migrate:rollback --connection=primary --step 1", out) == 0);
    CHECK(contains(out, "[primary] rolled back 20260102000000_add_role ("));
    CHECK(count(primary, "SELECT count(*) FROM pragma_table_info('users') WHERE name = 'role'") == 0);
    CHECK(count(primary, "SELECT count(*) FROM users") == 3);

    // migrate --all: both connections, each its own batch numbering.
    REQUIRE(cli(config, "migrate --all", out) == 0);
    CHECK(contains(out, "[primary] applied 20260102000000_add_role ("));
    CHECK(contains(out, "[analytics] applied " + made_id + "_add_events ("));
    CHECK(count(primary, "SELECT max(batch) FROM migrations") == 2);
    CHECK(count(analytics, "SELECT max(batch) FROM analytics_migrations") == 2);

    // The seed's SyncUserDataToAnalytics as a code migration: reads primary
    // (SQLite), writes analytics (PostgreSQL), in the same timeline.
    Migrator m = db.migrator("analytics");
    m.add(
        "20260103000000_sync_user_data_to_analytics",
        [](Database &d) {
            Result users = d.on("primary").query("SELECT id, name, email, created_at FROM users ORDER BY id");
            d.on("analytics").transaction([&](Session &tx) {
                for (Row u : users)
                    tx.execute("INSERT INTO user_profiles (user_id, name, email, registered_at, synced_at) "
                               "VALUES (?, ?, ?, ?, now())",
                               {u["id"], u["name"], u["email"], u["created_at"]});
            });
        },
        [](Database &d) { d.on("analytics").execute("DELETE FROM user_profiles"); });
    std::vector<std::string> seen;
    MigrateOptions mo;
    mo.on_applied = [&](const AppliedMigration &a) { seen.push_back(a.id + "_" + a.name); };
    MigrateReport report = m.migrate(mo);
    REQUIRE(report.applied.size() == 1);
    CHECK(report.applied[0].id == "20260103000000");
    CHECK(report.batch == 3);
    CHECK(seen == std::vector<std::string>{"20260103000000_sync_user_data_to_analytics"});
    CHECK(count(analytics, "SELECT count(*) FROM user_profiles") == 3);
    CHECK(analytics.query("SELECT name FROM user_profiles WHERE user_id = 2").front()[0].as<std::string>() ==
          "Ben; the second");
    CHECK(count(analytics, "SELECT profiles_count()") == 3);
    {
        auto st = m.status();
        REQUIRE(st.size() == 4);
        auto sync = std::find_if(st.begin(), st.end(), [](const MigrationStatus &s) { return s.id == "20260103000000"; });
        REQUIRE(sync != st.end());
        CHECK(sync->name == "sync_user_data_to_analytics");
        CHECK(sync->state == MigrationState::applied);
        CHECK(sync->code);
        CHECK(sync->checksum == "code");
        CHECK(sync->batch == 3);
        CHECK(sync->file.empty());
        for (const auto &s : st) CHECK(s.state == MigrationState::applied);
        CHECK(std::is_sorted(st.begin(), st.end(), [](const MigrationStatus &x, const MigrationStatus &y) { return x.id < y.id; }));
    }
    // The CLI does not know the code migration: "missing (code)", and it
    // does not stop migrate.
    REQUIRE(cli(config, "migrate:status --connection=analytics", out) == 0);
    CHECK(contains(out, "missing (code)"));
    REQUIRE(cli(config, "migrate --connection=analytics", out) == 0);
    CHECK(contains(out, "nothing to migrate"));
    REQUIRE(cli(config, "migrate:rollback --connection=analytics", out) == 1);
    CHECK(contains(out, "cannot roll back migration 20260103000000_sync_user_data_to_analytics: it is a code migration "
                        "that is not registered here"));
    // The API rolls it back (the last batch).
    RollbackReport rb = m.rollback();
    REQUIRE(rb.rolled_back.size() == 1);
    CHECK(rb.rolled_back[0].name == "sync_user_data_to_analytics");
    CHECK(count(analytics, "SELECT count(*) FROM user_profiles") == 0);

    // Everything back down, newest first; the tables stay, empty.
    REQUIRE(cli(config, "migrate:rollback --connection=analytics --step 10", out) == 0);
    CHECK(count_of(out, "rolled back") == 3);
    CHECK(out.find("add_events") < out.find("index_profiles"));
    CHECK(out.find("index_profiles") < out.find("create_user_profiles"));
    CHECK(count(analytics, "SELECT count(*) FROM analytics_migrations") == 0);
    CHECK(analytics.query("SELECT to_regclass('user_profiles') IS NULL").front()[0].as<bool>());
    REQUIRE(cli(config, "migrate:rollback --connection=analytics", out) == 0);
    CHECK(contains(out, "nothing to roll back"));
}

TEST_CASE("bad usage of the migrate commands exits 2 with one line", "[migrate][sqlite]") {
    TempDir dir;
    const std::string config = dir.write("ilana.config.json",
                                         R"({"connections": {"main": {"client": "sqlite3", "connection": {"filename": ":memory:"}}}})");
    std::string out;
    CHECK(cli(config, "migrate:make", out) == 2);
    CHECK(contains(out, "missing the migration name"));
    CHECK(cli(config, "migrate --all --connection=main", out) == 2);
    CHECK(cli(config, "migrate:rollback --step 1 --batch", out) == 2);
    CHECK(cli(config, "migrate:rollback --step 0", out) == 2);
    CHECK(cli(config, "migrate --connection=nope", out) == 2);
    CHECK(contains(out, "connection 'nope' is not defined"));
    CHECK(count_of(out, "\n") == 1);
    CHECK(cli(config, "migrate:make 'bad name'", out) == 2);
    CHECK(contains(out, "'bad name' is not a migration name"));
    // A .sql file that is not named YYYYMMDDHHMMSS_name.sql is a config
    // error naming it (exit 2; see the next test).
    dir.write("database/migrations/main/create_users.sql", "-- migrate:up\nSELECT 1;\n");
    CHECK(cli(config, "migrate", out) == 2);
    CHECK(contains(out, "create_users.sql is not named YYYYMMDDHHMMSS_name.sql"));
}

TEST_CASE("files that are not migrations: warnings in migrate:status, near misses stop migrate with exit 2",
          "[migrate][sqlite][files]") {
    TempDir dir;
    const std::string config = dir.write("ilana.config.json",
                                         R"({"connections": {"main": {"client": "sqlite3", "connection": {"filename": "main.sqlite"}}}})");
    const std::string mdir = dir.file("database/migrations/main");
    auto migration = [](const std::string &table) {
        return "-- migrate:up\nCREATE TABLE " + table + " (id INTEGER);\n-- migrate:down\nDROP TABLE " + table + ";\n";
    };
    dir.write("database/migrations/main/20260101000000_create_a.sql", migration("a"));
    dir.write("database/migrations/main/README.md", "How we write migrations.\n");
    dir.write("database/migrations/main/.gitkeep", "");
    dir.write("database/migrations/main/old/20250101000000_x.sql", migration("x"));
    std::string out;

    // Other files: a warning each, and everything works.
    REQUIRE(cli(config, "migrate:status", out) == 0);
    CHECK(contains(out, "warning: " + mdir + "/.gitkeep: not a migration (not named YYYYMMDDHHMMSS_name.sql) (ignored)"));
    CHECK(contains(out, "warning: " + mdir + "/README.md: not a migration (not named YYYYMMDDHHMMSS_name.sql) (ignored)"));
    CHECK(contains(out, "warning: " + mdir + "/old: a directory: migrations are not read from subdirectories (ignored)"));
    CHECK(count_of(out, "warning: ") == 3);
    REQUIRE(cli(config, "migrate:status --json", out) == 0);
    CHECK(contains(out, R"("strayFiles":[{"file":")" + mdir + R"(/.gitkeep","severity":"warning","problem":"not a migration)"));
    CHECK(count_of(out, R"("severity":"warning")") == 3);
    REQUIRE(cli(config, "migrate", out) == 0);
    CHECK(contains(out, "1 migration(s) applied in batch 1"));

    // A timestamp that is not a date (month 13) was applied before: now a
    // near miss. migrate, rollback and make stop naming it; status still
    // shows the migrations and says it as an error.
    const std::string month13 = dir.write("database/migrations/main/20261301000000_create_b.sql", migration("b"));
    REQUIRE(cli(config, "migrate", out) == 2);
    CHECK(contains(out, "ilana: [main] migration file " + month13 +
                            " is not named YYYYMMDDHHMMSS_name.sql: its timestamp 20261301000000 is not a date and time: "
                            "month 13 is not 01-12; rename it YYYYMMDDHHMMSS_name.sql with a real UTC date and time"));
    CHECK(count_of(out, "\n") == 1);
    Database db = open_db(config);
    CHECK(count(db.on("main"), "SELECT count(*) FROM sqlite_master WHERE name = 'b'") == 0);
    CHECK(cli(config, "migrate --dry-run", out) == 2);
    CHECK(cli(config, "migrate:rollback", out) == 2);
    CHECK(contains(out, month13));
    CHECK(cli(config, "migrate:make create_c", out) == 2);
    CHECK(cli(config, "migrate:repair", out) == 2);
    REQUIRE(cli(config, "migrate:status", out) == 2);
    CHECK(contains(out, "20260101000000  create_a"));
    CHECK(contains(out, "error: " + month13 + ": its timestamp 20261301000000 is not a date and time: month 13"));
    REQUIRE(cli(config, "migrate:status --json", out) == 2);
    CHECK(contains(out, R"({"file":")" + month13 + R"(","severity":"error","problem":"its timestamp)"));
    CHECK(contains(out, R"("name":"create_a","state":"applied")"));

    // Wrong letter case of .sql and an extension after it: both named in one
    // message, each with the name to use.
    boost::filesystem::remove(month13);
    const std::string upper = dir.write("database/migrations/main/20260102000000_create_b.SQL", migration("b"));
    const std::string txt = dir.write("database/migrations/main/20260103000000_create_c.sql.txt", migration("c"));
    REQUIRE(cli(config, "migrate", out) == 2);
    CHECK(contains(out, upper + " is not named YYYYMMDDHHMMSS_name.sql: it ends in .SQL, not lower-case .sql; rename it to "
                                "20260102000000_create_b.sql or move it out of the directory; migration file " +
                            txt + " is not named YYYYMMDDHHMMSS_name.sql: it ends in .sql.txt, not .sql; rename it to "
                                  "20260103000000_create_c.sql"));
    boost::filesystem::rename(upper, mdir + "/20260102000000_create_b.sql");
    boost::filesystem::rename(txt, mdir + "/20260103000000_create_c.sql");
    REQUIRE(cli(config, "migrate", out) == 0);
    CHECK(contains(out, "2 migration(s) applied in batch 2"));

    // The C++ API: stray_files() lists them; migrate() throws ConfigError
    // naming the file; a code migration's id is checked the same way.
    const std::string hour25 = dir.write("database/migrations/main/20260104250000_create_d.sql", migration("d"));
    Migrator m(db, "main");
    std::vector<StrayFile> strays = m.stray_files();
    REQUIRE(strays.size() == 4);
    CHECK(strays[0].file == mdir + "/.gitkeep");
    CHECK_FALSE(strays[0].near_miss);
    CHECK(strays[1].file == hour25);
    CHECK(strays[1].near_miss);
    CHECK(contains(strays[1].problem, "hour 25 is not 00-23"));
    CHECK(m.status().size() == 3);
    try {
        m.migrate();
        FAIL("migrate() ran with a near miss in the directory");
    } catch (const ConfigError &e) {
        CHECK(e.file() == hour25);
        CHECK(contains(e.what(), "hour 25 is not 00-23"));
    }
    CHECK_THROWS_WITH(m.add("20260230000000_sync", [](Database &) {}),
                      Catch::Contains("is not YYYYMMDDHHMMSS_name") &&
                          Catch::Contains("day 30 is not a day of 2026-02 (01-28)"));
}

TEST_CASE("stray_files() and make() go by the directory's names and read no migration file", "[migrate][sqlite][files]") {
    TempDir dir;
    const std::string config = dir.write("ilana.config.json",
                                         R"({"connections": {"main": {"client": "sqlite3", "connection": {"filename": "main.sqlite"}}}})");
    const std::string mdir = dir.file("database/migrations/main");
    dir.write("database/migrations/main/README.md", "How we write migrations.\n");
    // Named as a migration but unreadable as one: reading it is an error,
    // so a call that reads it cannot succeed.
    const std::string fifo = dir.file("database/migrations/main/20260101000000_fifo.sql");
    REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
    Database db = open_db(config);
    Migrator m(db, "main");

    const std::vector<StrayFile> strays = m.stray_files();
    REQUIRE(strays.size() == 1);
    CHECK(strays[0].file == mdir + "/README.md");
    const std::string made = m.make("next");
    CHECK(made.rfind(mdir + "/", 0) == 0);
    CHECK_THROWS_WITH(m.status(), Catch::Contains("migration file " + fifo + " is a FIFO, not a regular file"));
}

// ---------------------------------------------------------------------------
// A syntax error rolls back its migration (PostgreSQL, SQLite)
// ---------------------------------------------------------------------------

namespace {

// Three migrations, the second with a bad last statement; `create` is the
// dialect's CREATE TABLE prefix.
void syntax_error_flow(const std::string &config, const std::string &conn, const TempDir &dir, const Connection &c,
                       const std::string &table_exists_sql) {
    const std::string base = "database/migrations/" + conn + "/";
    dir.write(base + "20260101000000_first.sql", "-- migrate:up\nCREATE TABLE first_t (id INT);\n-- migrate:down\nDROP TABLE first_t;\n");
    std::string columns;
    for (int i = 0; i < 40; ++i) columns += (i ? ", col_" : "col_") + std::to_string(i) + " INT";
    const std::string bad_statement = "CREATE TABLEX third_t (" + columns + ")";
    const std::string bad_file = dir.write(base + "20260102000000_broken.sql",
                                           "-- migrate:up\nCREATE TABLE second_t (id INT);\nINSERT INTO second_t VALUES (1);\n\n" +
                                               bad_statement + ";\n-- migrate:down\nDROP TABLE second_t;\n");
    dir.write(base + "20260103000000_last.sql", "-- migrate:up\nCREATE TABLE last_t (id INT);\n-- migrate:down\nDROP TABLE last_t;\n");

    std::string out;
    REQUIRE(cli(config, "migrate --connection=" + conn, out) == 1);
    CHECK(contains(out, "applied 20260101000000_first ("));
    // One error line naming the file, the line and the statement (cut at 200).
    CHECK(count_of(out, "ilana: ") == 1);
    const std::string err = out.substr(out.find("ilana: "));
    CHECK(count_of(err, "\n") == 1);
    CHECK(contains(err, "[" + conn + "] migration " + bad_file + " (up) failed at line 5: CREATE TABLEX third_t (col_0 INT"));
    CHECK(contains(err, bad_statement.substr(0, 200) + "...: "));
    CHECK(contains(err, "the migration was rolled back"));

    auto exists = [&](const std::string &t) { return count(c, table_exists_sql + "'" + t + "'") == 1; };
    CHECK(exists("first_t"));       // the migration before it stays applied
    CHECK_FALSE(exists("second_t")); // rolled back with its migration
    CHECK_FALSE(exists("last_t"));   // never reached
    REQUIRE(cli(config, "migrate:status --json --connection=" + conn, out) == 0);
    CHECK(count_of(out, "\"state\":\"applied\"") == 1);
    CHECK(count_of(out, "\"state\":\"pending\"") == 2);
    CHECK_FALSE(contains(out, "\"state\":\"failed\""));

    // Fixed, the next run applies it and the rest.
    std::ofstream(bad_file, std::ios::binary) << "-- migrate:up\nCREATE TABLE second_t (id INT);\n"
                                                 "INSERT INTO second_t VALUES (1);\n-- migrate:down\nDROP TABLE second_t;\n";
    REQUIRE(cli(config, "migrate --connection=" + conn, out) == 0);
    CHECK(count_of(out, "applied 2026010") == 2);
    CHECK(count(c, "SELECT count(*) FROM second_t") == 1);
    CHECK(exists("last_t"));
}

} // namespace

TEST_CASE("a syntax error rolls back that migration and exits 1 naming file and statement (SQLite)",
          "[migrate][sqlite]") {
    TempDir dir;
    const std::string config = dir.write(
        "ilana.config.json",
        R"({"connections": {"lite": {"client": "sqlite3", "connection": {"filename": "./lite.sqlite"}}}})");
    Database db = open_db(config);
    syntax_error_flow(config, "lite", dir, db.on("lite"), "SELECT count(*) FROM sqlite_master WHERE name = ");
    CHECK(count(db.on("lite"), "SELECT count(*) FROM ilana_migrations") == 3);
}

TEST_CASE("a syntax error rolls back that migration and exits 1 naming file and statement (PostgreSQL)",
          "[migrate][pg]") {
    ILANA_REQUIRE_PG();
    TempDir dir;
    const std::string schema = "ilana_mig_" + unique_suffix();
    const std::string config = dir.write("ilana.config.json", pg_schema_config(schema));
    Database db = open_db(config);
    Cleanup drop_schema = drop_pg_schema_at_exit(db, "pg", schema);
    syntax_error_flow(config, "pg", dir, db.on("pg"),
                      "SELECT count(*) FROM pg_tables WHERE schemaname = '" + schema + "' AND tablename = ");
    CHECK(count(db.on("pg"), "SELECT count(*) FROM ilana_migrations") == 3);
}

// ---------------------------------------------------------------------------
// Checksums of applied files, on all three databases
// ---------------------------------------------------------------------------

namespace {

void checksum_flow(const std::string &config, const std::string &conn, const TempDir &dir) {
    const std::string file = dir.write("database/migrations/" + conn + "/20260101000000_checked.sql",
                                       "-- migrate:up\nCREATE TABLE checked_t (id INT);\n-- migrate:down\nDROP TABLE checked_t;\n");
    dir.write("database/migrations/" + conn + "/20260102000000_other.sql",
              "-- migrate:up\nCREATE TABLE other_t (id INT);\n-- migrate:down\nDROP TABLE other_t;\n");
    std::string out;
    REQUIRE(cli(config, "migrate --connection=" + conn, out) == 0);
    const std::string original = sha256sum(file);

    // One byte more (a comment) is a change.
    std::ofstream(file, std::ios::binary | std::ios::app) << "-- edited later\n";
    dir.write("database/migrations/" + conn + "/20260103000000_new.sql",
              "-- migrate:up\nCREATE TABLE new_t (id INT);\n-- migrate:down\nDROP TABLE new_t;\n");
    REQUIRE(cli(config, "migrate --connection=" + conn, out) == 1);
    CHECK(count_of(out, "\n") == 1);
    CHECK(contains(out, "migration file " + file + " was changed after it was applied (checksum recorded " +
                            original.substr(0, 12)));
    CHECK(contains(out, "--allow-changed"));
    CHECK_FALSE(contains(out, "applied 20260103000000"));
    REQUIRE(cli(config, "migrate:status --connection=" + conn + " --json", out) == 0);
    CHECK(contains(out, "\"name\":\"checked\",\"state\":\"changed\""));
    CHECK(contains(out, "\"name\":\"new\",\"state\":\"pending\""));
    // The dry run stops the same way.
    REQUIRE(cli(config, "migrate --dry-run --connection=" + conn, out) == 1);
    CHECK(contains(out, "was changed after it was applied"));
    // Rollback of a changed file needs the flag too.
    REQUIRE(cli(config, "migrate:rollback --step 2 --connection=" + conn, out) == 1);
    CHECK(contains(out, "was changed after it was applied"));

    // --allow-changed goes on; the recorded checksum stays the old one.
    REQUIRE(cli(config, "migrate --allow-changed --connection=" + conn, out) == 0);
    CHECK(contains(out, "applied 20260103000000_new ("));
    REQUIRE(cli(config, "migrate:status --connection=" + conn, out) == 0);
    CHECK(contains(out, "changed"));
    // repair without the flag leaves checksums alone; with it, re-records.
    REQUIRE(cli(config, "migrate:repair --connection=" + conn, out) == 0);
    CHECK(contains(out, "nothing to repair"));
    REQUIRE(cli(config, "migrate --connection=" + conn, out) == 1);
    REQUIRE(cli(config, "migrate:repair --update-checksums --connection=" + conn, out) == 0);
    CHECK(contains(out, "20260101000000_checked: new checksum recorded"));
    REQUIRE(cli(config, "migrate --connection=" + conn, out) == 0);
    CHECK(contains(out, "nothing to migrate"));
    REQUIRE(cli(config, "migrate:status --connection=" + conn + " --json", out) == 0);
    CHECK(count_of(out, "\"state\":\"applied\"") == 3);
    CHECK(contains(out, "\"checksum\":\"" + sha256sum(file) + "\""));
}

} // namespace

TEST_CASE("a changed applied file stops migrate naming it (SQLite)", "[migrate][sqlite][checksum]") {
    TempDir dir;
    const std::string config = dir.write(
        "ilana.config.json",
        R"({"connections": {"lite": {"client": "sqlite3", "connection": {"filename": "./lite.sqlite"}}}})");
    checksum_flow(config, "lite", dir);
}

TEST_CASE("a changed applied file stops migrate naming it (PostgreSQL)", "[migrate][pg][checksum]") {
    ILANA_REQUIRE_PG();
    TempDir dir;
    const std::string schema = "ilana_mig_" + unique_suffix();
    const std::string config = dir.write("ilana.config.json", pg_schema_config(schema, R"("tableName": "checks")"));
    Database db = open_db(config);
    Cleanup drop_schema = drop_pg_schema_at_exit(db, "pg", schema);
    checksum_flow(config, "pg", dir);
}

TEST_CASE("a changed applied file stops migrate naming it (MariaDB)", "[migrate][mysql][checksum]") {
    ILANA_REQUIRE_MYSQL();
    MysqlDatabase app("ilana_mig_" + unique_suffix());
    TempDir dir;
    const std::string config = dir.write("ilana.config.json",
                                         R"({"connections": {"my": {"client": "mysql2", "connection": )" +
                                             mysql_connection_json_in(app.name) + R"(}}})");
    checksum_flow(config, "my", dir);
}

// ---------------------------------------------------------------------------
// MariaDB primary + SQLite analytics
// ---------------------------------------------------------------------------

TEST_CASE("two connections (MariaDB primary, SQLite analytics): migrate, status, make, rollback, repeat, code "
          "migration across connections",
          "[migrate][mysql][sqlite]") {
    ILANA_REQUIRE_MYSQL();
    MysqlDatabase app("ilana_mig_" + unique_suffix());
    // The migrations table lives in a database of its own (schemaName),
    // created by the first migrate.
    const std::string meta = app.name + "_meta";
    Cleanup drop_meta{[&] { open_db(app.config).on("boot").execute("DROP DATABASE IF EXISTS `" + meta + "`"); }};
    TempDir dir;
    const std::string config = dir.write("ilana.config.json", R"({
      "default": "primary",
      "connections": {
        "primary": {"client": "mysql2", "connection": )" + mysql_connection_json_in(app.name) + R"(,
                    "migrations": {"directory": "./db/primary", "tableName": "migrations", "schemaName": ")" + meta + R"("}},
        "analytics": {"client": "sqlite3", "connection": {"filename": "./analytics.sqlite"},
                      "migrations": {"directory": "./db/analytics", "tableName": "analytics_migrations"}}
      }
    })");
    Database db = open_db(config);
    auto primary = db.on("primary");
    auto analytics = db.on("analytics");

    // A procedure, a function and a trigger without DELIMITER.
    dir.write("db/primary/20260101000000_create_users.sql", R"(-- migrate:up
CREATE TABLE users (id INT AUTO_INCREMENT PRIMARY KEY, name VARCHAR(100) NOT NULL, email VARCHAR(200),
                    created_at DATETIME, name_length INT);
CREATE TRIGGER users_name_length BEFORE INSERT ON users FOR EACH ROW
BEGIN
  IF NEW.name_length IS NULL THEN
    SET NEW.name_length = CHAR_LENGTH(NEW.name);
  END IF;
END;
CREATE PROCEDURE add_users(IN n INT)
BEGIN
  DECLARE i INT DEFAULT 0;
  add_loop: LOOP
    SET i = i + 1;
    IF i > n THEN LEAVE add_loop; END IF;
    INSERT INTO users (name, email, created_at)
      VALUES (CASE i WHEN 1 THEN 'Ann' WHEN 2 THEN 'Ben; the \'second\'' ELSE CONCAT('user ', i) END,
              CONCAT('u', i, '@example.com'), '2026-01-02 03:04:05');
  END LOOP add_loop;
END;
CALL add_users(3);
-- migrate:down
DROP PROCEDURE add_users;
DROP TABLE users;
)");
    dir.write("db/primary/20260102000000_add_role.sql",
              "-- migrate:up\nALTER TABLE users ADD COLUMN role VARCHAR(20) DEFAULT 'member';\n"
              "-- migrate:down\nALTER TABLE users DROP COLUMN role;\n");
    dir.write("db/analytics/20260101000000_create_user_profiles.sql",
              "-- migrate:up\nCREATE TABLE user_profiles (user_id INTEGER PRIMARY KEY, name TEXT, email TEXT,\n"
              "  registered_at TEXT, synced_at TEXT);\n-- migrate:down\nDROP TABLE user_profiles;\n");
    std::string out;

    REQUIRE(cli(config, "migrate:status --connection=primary", out) == 0);
    CHECK(count_of(out, "pending") == 2);
    REQUIRE(cli(config, "migrate --all", out) == 0);
    CHECK(contains(out, "[primary] applied 20260101000000_create_users ("));
    CHECK(contains(out, "[primary] applied 20260102000000_add_role ("));
    CHECK(contains(out, "[analytics] applied 20260101000000_create_user_profiles ("));
    CHECK(count(primary, "SELECT count(*) FROM `" + meta + "`.migrations WHERE status = 'applied' AND batch = 1") == 2);
    CHECK(count(analytics, "SELECT count(*) FROM analytics_migrations") == 1);
    CHECK(count(primary, "SELECT count(*) FROM information_schema.tables WHERE table_schema = '" + app.name +
                             "' AND table_name = 'ilana_migrations'") == 0);
    {
        Result users = primary.query("SELECT name, name_length, role FROM users ORDER BY id");
        REQUIRE(users.size() == 3);
        CHECK(users[1][0].as<std::string>() == "Ben; the 'second'");
        CHECK(users[1][1].as<int64_t>() == 17);
        CHECK(users[2][2].as<std::string>() == "member");
    }

    // make + migrate + repeat on primary.
    REQUIRE(cli(config, "migrate:make add_index", out) == 0); // default connection: primary
    const std::string made = made_path(out);
    CHECK(made.rfind(dir.file("db/primary/"), 0) == 0);
    std::ofstream(made, std::ios::binary) << "-- migrate:up\nCREATE INDEX users_email ON users (email);\n"
                                             "-- migrate:down\nDROP INDEX users_email ON users;\n";
    REQUIRE(cli(config, "migrate", out) == 0);
    CHECK(contains(out, "_add_index ("));
    CHECK(contains(out, "in batch 2"));
    REQUIRE(cli(config, "migrate", out) == 0);
    CHECK(contains(out, "[primary] nothing to migrate"));
    CHECK(count(primary, "SELECT count(*) FROM information_schema.statistics WHERE table_schema = '" + app.name +
                             "' AND index_name = 'users_email'") == 1);

    // rollback: last batch, then one step.
    REQUIRE(cli(config, "migrate:rollback --batch", out) == 0);
    CHECK(count_of(out, "rolled back") == 1);
    CHECK(contains(out, "_add_index ("));
    CHECK(count(primary, "SELECT count(*) FROM information_schema.statistics WHERE table_schema = '" + app.name +
                             "' AND index_name = 'users_email'") == 0);
    REQUIRE(cli(config, "migrate:rollback --step 1", out) == 0);
    CHECK(contains(out, "rolled back 20260102000000_add_role ("));
    CHECK(count(primary, "SELECT count(*) FROM information_schema.columns WHERE table_schema = '" + app.name +
                             "' AND table_name = 'users' AND column_name = 'role'") == 0);
    REQUIRE(cli(config, "migrate:status --json", out) == 0);
    CHECK(count_of(out, "\"state\":\"pending\"") == 2);
    CHECK(count_of(out, "\"state\":\"applied\"") == 1);
    REQUIRE(cli(config, "migrate", out) == 0);
    CHECK(count_of(out, "applied 2026") == 2);

    // The seed's data migration, primary (MariaDB) -> analytics (SQLite). On
    // SQLite the lock is a transaction, released while the code runs so the
    // code can write the same database.
    Migrator m(db, "analytics");
    m.add(
        "20260102000000_sync_user_data_to_analytics",
        [](Database &d) {
            Result users = d.on("primary").query("SELECT id, name, email, created_at FROM users ORDER BY id");
            d.on("analytics").transaction([&](Session &tx) {
                for (Row u : users)
                    tx.execute("INSERT INTO user_profiles VALUES (?, ?, ?, ?, datetime('now'))",
                               {u["id"], u["name"], u["email"], u["created_at"]});
            });
        },
        [](Database &d) { d.on("analytics").execute("DELETE FROM user_profiles"); });
    MigrateReport r = m.migrate();
    REQUIRE(r.applied.size() == 1);
    CHECK(r.batch == 2);
    CHECK(count(analytics, "SELECT count(*) FROM user_profiles") == 3);
    CHECK(analytics.query("SELECT name FROM user_profiles WHERE user_id = 2").front()[0].as<std::string>() ==
          "Ben; the 'second'");
    Result rec = analytics.query("SELECT status, checksum, batch FROM analytics_migrations WHERE id = '20260102000000'");
    REQUIRE(rec.size() == 1);
    CHECK(rec[0][0].as<std::string>() == "applied");
    CHECK(rec[0][1].as<std::string>() == "code");
    CHECK(m.migrate().applied.empty()); // repeat
    CHECK(m.rollback().rolled_back.size() == 1);
    CHECK(count(analytics, "SELECT count(*) FROM user_profiles") == 0);
    CHECK(count(analytics, "SELECT count(*) FROM analytics_migrations") == 1);

    // A code migration that throws is recorded as failed (it ran outside a
    // transaction) and stops the next run until repaired.
    Migrator bad(db, "analytics");
    bad.add("20260104000000_explodes", [](Database &) { throw std::runtime_error("boom"); });
    try {
        bad.migrate();
        FAIL("no error");
    } catch (const MigrationError &e) {
        CHECK(contains(e.what(), "code migration 20260104000000_explodes (up) threw: boom"));
        CHECK(e.migration() == "20260104000000_explodes");
    }
    auto st = bad.status();
    REQUIRE(st.back().state == MigrationState::failed);
    CHECK(st.back().failed_statement == "code migration threw: boom");
    REQUIRE(cli(config, "migrate --connection=analytics", out) == 1);
    CHECK(contains(out, "migration 20260104000000_explodes failed at statement: code migration threw: boom"));
    RepairReport rep = bad.repair();
    CHECK(rep.cleared == std::vector<std::string>{"20260104000000_explodes"});
    REQUIRE(cli(config, "migrate --connection=analytics", out) == 0);
}

// ---------------------------------------------------------------------------
// MariaDB: a failure mid-migration is recorded; migrate refuses until repair
// ---------------------------------------------------------------------------

TEST_CASE("MariaDB: a failed migration is marked failed with its statement, migrate refuses until migrate:repair",
          "[migrate][mysql]") {
    ILANA_REQUIRE_MYSQL();
    MysqlDatabase app("ilana_mig_" + unique_suffix());
    TempDir dir;
    const std::string config = dir.write("ilana.config.json",
                                         R"({"connections": {"my": {"client": "mysql2", "connection": )" +
                                             mysql_connection_json_in(app.name) + R"(, "migrations": {"tableName": "schema_log"}}}})");
    Database db = open_db(config);
    auto my = db.on("my");
    dir.write("database/migrations/my/20260101000000_first.sql",
              "-- migrate:up\nCREATE TABLE first_t (id INT);\n-- migrate:down\nDROP TABLE first_t;\n");
    const std::string broken = dir.write("database/migrations/my/20260102000000_half.sql",
                                         "-- migrate:up\nCREATE TABLE half_a (id INT);\nINSERT INTO half_a VALUES (1);\n"
                                         "INSERT INTO no_such_table VALUES (1);\nCREATE TABLE half_b (id INT);\n"
                                         "-- migrate:down\nDROP TABLE half_b;\nDROP TABLE half_a;\n");
    dir.write("database/migrations/my/20260103000000_after.sql",
              "-- migrate:up\nCREATE TABLE after_t (id INT);\n-- migrate:down\nDROP TABLE after_t;\n");
    auto table_count = [&](const std::string &t) {
        return count(my, "SELECT count(*) FROM information_schema.tables WHERE table_schema = '" + app.name +
                             "' AND table_name = '" + t + "'");
    };
    std::string out;

    REQUIRE(cli(config, "migrate", out) == 1);
    CHECK(contains(out, "applied 20260101000000_first ("));
    CHECK(count_of(out, "ilana: ") == 1);
    CHECK(contains(out, "[my] migration " + broken + " (up) failed at line 4: INSERT INTO no_such_table VALUES (1): "));
    CHECK(contains(out, "statements before it in this migration took effect (no transactional DDL here); it is "
                        "recorded as failed: fix the database by hand, then run `ilana migrate:repair`"));
    // No transactional DDL: what ran before the failure stays.
    CHECK(table_count("half_a") == 1);
    CHECK(table_count("half_b") == 0);
    CHECK(table_count("after_t") == 0);
    {
        Result rows = my.query("SELECT id, status, failed_statement, batch FROM schema_log ORDER BY id");
        REQUIRE(rows.size() == 2);
        CHECK(rows[1][1].as<std::string>() == "failed");
        CHECK(rows[1][2].as<std::string>() == "INSERT INTO no_such_table VALUES (1)");
        CHECK(rows[1][3].as<int64_t>() == 1);
    }
    REQUIRE(cli(config, "migrate:status --json", out) == 0);
    CHECK(contains(out, "\"name\":\"half\",\"state\":\"failed\""));
    CHECK(contains(out, "\"failedStatement\":\"INSERT INTO no_such_table VALUES (1)\""));

    // The next migrate (and rollback) refuse, naming migration and statement.
    REQUIRE(cli(config, "migrate", out) == 1);
    CHECK(count_of(out, "\n") == 1);
    CHECK(contains(out, "migration " + broken + " failed at statement: INSERT INTO no_such_table VALUES (1); it may be "
                        "partly applied: fix the database by hand, then run `ilana migrate:repair`"));
    REQUIRE(cli(config, "migrate:rollback", out) == 1);
    CHECK(contains(out, "migrate:repair"));
    CHECK(table_count("after_t") == 0);

    // The manual fix: undo what ran, correct the file; repair; migrate.
    my.execute("DROP TABLE half_a");
    std::ofstream(broken, std::ios::binary) << "-- migrate:up\nCREATE TABLE half_a (id INT);\nINSERT INTO half_a VALUES (1);\n"
                                               "CREATE TABLE half_b (id INT);\n"
                                               "-- migrate:down\nDROP TABLE half_b;\nDROP TABLE half_a;\n";
    REQUIRE(cli(config, "migrate:repair", out) == 0);
    CHECK(contains(out, "[my] 20260102000000_half: failed mark cleared, pending again"));
    REQUIRE(cli(config, "migrate", out) == 0);
    CHECK(contains(out, "applied 20260102000000_half ("));
    CHECK(contains(out, "applied 20260103000000_after ("));
    CHECK(table_count("half_b") == 1);
    CHECK(count(my, "SELECT count(*) FROM half_a") == 1);
    CHECK(count(my, "SELECT count(*) FROM schema_log WHERE status = 'applied'") == 3);

    // A failing rollback is marked too ("[down]"); completing it by hand and
    // repair --mark-applied records the migration as applied again.
    my.execute("DROP TABLE after_t");
    REQUIRE(cli(config, "migrate:rollback --step 1", out) == 1);
    CHECK(contains(out, "(down) failed at line 4: DROP TABLE after_t: "));
    REQUIRE(cli(config, "migrate:status --json", out) == 0);
    CHECK(contains(out, "\"failedStatement\":\"[down] DROP TABLE after_t\""));
    my.execute("CREATE TABLE after_t (id INT)");
    REQUIRE(cli(config, "migrate:repair --mark-applied", out) == 0);
    CHECK(contains(out, "20260103000000_after: failed mark cleared, recorded as applied"));
    REQUIRE(cli(config, "migrate", out) == 0);
    CHECK(contains(out, "nothing to migrate"));

    // A runner that died mid-migration leaves "running": treated as failed.
    dir.write("database/migrations/my/20260104000000_died.sql", "-- migrate:up\nCREATE TABLE died_t (id INT);\n");
    my.execute("INSERT INTO schema_log VALUES ('20260104000000', 'died', 3, 'x', '2026-01-01T00:00:00.000Z', "
               "'running', NULL)");
    REQUIRE(cli(config, "migrate", out) == 1);
    CHECK(contains(out, "20260104000000_died.sql was left unfinished (status running"));
    REQUIRE(cli(config, "migrate:repair", out) == 0);
    REQUIRE(cli(config, "migrate", out) == 0);
    CHECK(contains(out, "applied 20260104000000_died ("));
}

// ---------------------------------------------------------------------------
// The API over any connection with explicit options (as tenants will use it)
// ---------------------------------------------------------------------------

TEST_CASE("Migrator over a connection with explicit options: dry run, transaction:false on SQLite, errors",
          "[migrate][sqlite]") {
    TempDir dir;
    const std::string config = dir.write(
        "ilana.config.json",
        R"({"connections": {"lite": {"client": "sqlite3", "connection": {"filename": "./lite.sqlite"}}}})");
    Database db = open_db(config);
    MigrationsOptions opts;
    opts.directory = dir.file("tenant_migrations");
    opts.table_name = "tenant_schema_log";
    Migrator m(db, db.on("lite"), opts);
    CHECK(m.connection_name() == "lite");
    CHECK(m.options().table_name == "tenant_schema_log");

    dir.write("tenant_migrations/20260101000000_items.sql",
              "-- migrate:up\nCREATE TABLE items (id INTEGER PRIMARY KEY, v TEXT);\nINSERT INTO items (v) VALUES ('x');\n"
              "-- migrate:down\nDROP TABLE items;\n");
    // VACUUM cannot run inside a transaction: the SQLite lock (a transaction)
    // is released around it.
    dir.write("tenant_migrations/20260102000000_vacuum.sql", "-- migrate:up transaction:false\nVACUUM;\n-- migrate:down\n");
    m.add("20260103000000_seed_items", [](Database &d) { d.on("lite").execute("INSERT INTO items (v) VALUES ('y')"); });

    MigrateOptions dry;
    dry.dry_run = true;
    MigrateReport plan = m.migrate(dry);
    CHECK(plan.applied.empty());
    CHECK(plan.batch == 1);
    REQUIRE(plan.planned.size() == 3);
    CHECK(plan.planned[0].statements ==
          std::vector<std::string>{"CREATE TABLE items (id INTEGER PRIMARY KEY, v TEXT)", "INSERT INTO items (v) VALUES ('x')"});
    CHECK(plan.planned[0].transaction);
    CHECK_FALSE(plan.planned[1].transaction);
    CHECK(plan.planned[2].code);
    CHECK(count(db.on("lite"), "SELECT count(*) FROM sqlite_master WHERE name = 'tenant_schema_log'") == 0);

    MigrateReport r = m.migrate();
    REQUIRE(r.applied.size() == 3);
    CHECK(count(db.on("lite"), "SELECT count(*) FROM items") == 2);
    CHECK(count(db.on("lite"), "SELECT count(*) FROM tenant_schema_log WHERE status = 'applied'") == 3);
    for (const auto &s : m.status()) CHECK(s.state == MigrationState::applied);

    // Rolling back needs a down section with statements, and a down function.
    RollbackOptions one;
    one.steps = 1;
    CHECK_THROWS_WITH(m.rollback(one), Catch::Contains("code migration 20260103000000_seed_items has no down function"));
    one.steps = 2;
    CHECK_THROWS_WITH(m.rollback(one), Catch::Contains("has no down function")); // checked before anything runs
    CHECK(count(db.on("lite"), "SELECT count(*) FROM tenant_schema_log") == 3);

    Migrator m2(db, db.on("lite"), opts); // without the code migration
    one.steps = 2;
    CHECK_THROWS_WITH(m2.rollback(one), Catch::Contains("it is a code migration that is not registered here"));

    // Ids: malformed, duplicated.
    CHECK_THROWS_AS(m2.add("sync_users", [](Database &) {}), MigrationError);
    m2.add("20260101000000_clash", [](Database &) {});
    CHECK_THROWS_WITH(m2.status(), Catch::Contains("code migration 20260101000000_clash has the same id as"));
    dir.write("tenant_migrations/20260102000000_twin.sql", "-- migrate:up\nSELECT 1;\n");
    Migrator m3(db, db.on("lite"), opts);
    CHECK_THROWS_WITH(m3.status(), Catch::Contains("two migrations have the id 20260102000000"));
    boost::filesystem::remove(dir.file("tenant_migrations/20260102000000_twin.sql"));
    // A malformed file is named with what is wrong, before anything runs.
    dir.write("tenant_migrations/20260104000000_no_marker.sql", "CREATE TABLE nope (id INT);\n");
    CHECK_THROWS_WITH(m3.migrate(), Catch::Contains("20260104000000_no_marker.sql: no `-- migrate:up` line"));
    dir.write("tenant_migrations/20260104000000_no_marker.sql", "-- migrate:up\nSELECT 'unterminated;\n");
    CHECK_THROWS_WITH(m3.migrate(), Catch::Contains("(up section): unterminated string literal ' starting at line 2"));
}
