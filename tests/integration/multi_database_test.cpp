// The seed's multi-database setup end to end from one config file:
// primary on MariaDB (client "mysql2"), analytics on PostgreSQL (client
// "postgres"), cache on SQLite — examples/multi-database/ilana.config.json,
// through the C++ API and through the CLI.
#include <catch2/catch.hpp>

#include <ilana/ilana.hpp>

#include "configs.hpp"

#include <cstdlib>

using namespace ilana;
using ilana_test::TempDir;

namespace {
const std::string kConfig = std::string(ILANA_TEST_SOURCE_DIR) + "/examples/multi-database/ilana.config.json";

// The example reads its servers from the environment, as a deployment would.
std::string env_prefix(const TempDir &dir) {
    auto my = ilana_test::mysql();
    auto pg = ilana_test::pg();
    return "PRIMARY_DB_PORT=" + my.port + " PRIMARY_DB_USER=" + my.user + " PRIMARY_DB_PASSWORD=" + my.password +
           " PRIMARY_DB_NAME=" + my.database + " ANALYTICS_DB_PORT=" + pg.port + " ANALYTICS_DB_USER=" + pg.user +
           " ANALYTICS_DB_PASSWORD=" + pg.password + " ANALYTICS_DB_NAME=" + pg.database + " CACHE_DB_FILE=" +
           dir.file("cache.sqlite") + " ";
}
void export_env(const TempDir &dir) {
    auto my = ilana_test::mysql();
    auto pg = ilana_test::pg();
    setenv("PRIMARY_DB_PORT", my.port.c_str(), 1);
    setenv("PRIMARY_DB_USER", my.user.c_str(), 1);
    setenv("PRIMARY_DB_PASSWORD", my.password.c_str(), 1);
    setenv("PRIMARY_DB_NAME", my.database.c_str(), 1);
    setenv("ANALYTICS_DB_PORT", pg.port.c_str(), 1);
    setenv("ANALYTICS_DB_USER", pg.user.c_str(), 1);
    setenv("ANALYTICS_DB_PASSWORD", pg.password.c_str(), 1);
    setenv("ANALYTICS_DB_NAME", pg.database.c_str(), 1);
    setenv("CACHE_DB_FILE", dir.file("cache.sqlite").c_str(), 1);
}
} // namespace

TEST_CASE("the seed's three databases from one config: MariaDB, PostgreSQL, SQLite", "[multi][pg][mysql]") {
    ILANA_REQUIRE_PG();
    ILANA_REQUIRE_MYSQL();
    TempDir dir;
    export_env(dir);
    Database db = Database::open(kConfig, OpenOptions{"", {ILANA_TEST_PLUGIN_DIR}, {}});
    CHECK(db.config().default_connection() == "primary");
    CHECK(db.on("primary").client() == "mysql2");

    // Users live in primary (MariaDB) ...
    auto primary = db.on("primary");
    primary.execute("DROP TABLE IF EXISTS seed_users");
    primary.execute("CREATE TABLE seed_users (id INT AUTO_INCREMENT PRIMARY KEY, name VARCHAR(50), email VARCHAR(100),"
                    " created_at DATETIME(6))");
    for (const char *n : {"Ann", "Ben", "Chloé"})
        primary.execute("INSERT INTO seed_users (name, email, created_at) VALUES (?, ?, ?)",
                        {n, std::string(n) + "@example.com", Timestamp::from_parts(2026, 1, 2, 3, 4, 5)});

    // ... are synced into analytics (PostgreSQL), as the seed's migration does ...
    auto analytics = db.on("analytics");
    analytics.execute("DROP TABLE IF EXISTS seed_user_profiles");
    analytics.execute("CREATE TABLE seed_user_profiles (user_id INT PRIMARY KEY, name TEXT, email TEXT,"
                      " registered_at TIMESTAMP, synced_at TIMESTAMPTZ)");
    analytics.transaction([&](Session &tx) {
        for (Row u : primary.query("SELECT id, name, email, created_at FROM seed_users ORDER BY id"))
            tx.execute("INSERT INTO seed_user_profiles VALUES (?, ?, ?, ?, ?)",
                       {u["id"], u["name"], u["email"], u["created_at"], TimestampTz::now()});
    });
    Result profiles = analytics.query("SELECT user_id, name, registered_at FROM seed_user_profiles ORDER BY user_id");
    REQUIRE(profiles.size() == 3);
    CHECK(profiles[2]["name"].as<std::string>() == "Chloé");
    CHECK(profiles[0]["registered_at"].as<Timestamp>() == Timestamp::from_parts(2026, 1, 2, 3, 4, 5));

    // ... and a summary is cached in SQLite.
    auto cache = db.on("cache");
    cache.execute("CREATE TABLE IF NOT EXISTS stats (k TEXT PRIMARY KEY, v INTEGER)");
    cache.execute("INSERT INTO stats VALUES ('users', ?) ON CONFLICT (k) DO UPDATE SET v = excluded.v",
                  {analytics.query("SELECT COUNT(*) FROM seed_user_profiles").front()[0]});
    CHECK(cache.query("SELECT v FROM stats WHERE k = 'users'").front()[0].as<int>() == 3);

    // The CLI on the same config.
    std::string out;
    const std::string cli = env_prefix(dir) + ilana_test::ilana_cli() + " --config " + kConfig + " ";
    REQUIRE(ilana_test::run_command(cli + "query --connection=analytics \"SELECT name FROM seed_user_profiles ORDER BY user_id\"", out) == 0);
    CHECK(out == "name\n-----\nAnn\nBen\nChloé\n(3 rows)\n");
    REQUIRE(ilana_test::run_command(cli + "query --json \"SELECT COUNT(*) AS n FROM seed_users\"", out) == 0);
    CHECK(out == "[{\"n\":3}]\n");
    REQUIRE(ilana_test::run_command(cli + "query --connection cache --json \"SELECT v FROM stats\"", out) == 0);
    CHECK(out == "[{\"v\":3}]\n");
    REQUIRE(ilana_test::run_command(cli + "health --json", out) == 0);
    CHECK(out.find("\"healthy\":true") != std::string::npos);
    REQUIRE(ilana_test::run_command(cli + "doctor", out) == 0);
    CHECK(out.find("MariaDB") != std::string::npos);
    CHECK(out.find("PostgreSQL 15") != std::string::npos);
    CHECK(out.find("SQLite") != std::string::npos);
    CHECK(out.find(ilana_test::pg().password) == std::string::npos);

    primary.execute("DROP TABLE seed_users");
    analytics.execute("DROP TABLE seed_user_profiles");
}

TEST_CASE("statements with RETURNING report their counts on MariaDB and PostgreSQL too", "[multi][pg][mysql]") {
    // The counts of rows that come from a change are final only after the
    // last row (driver.h): query() reads them then, execute() reads and
    // drops the rows first.
    ILANA_REQUIRE_PG();
    ILANA_REQUIRE_MYSQL();
    TempDir dir;
    export_env(dir);
    Database db = Database::open(kConfig, OpenOptions{"", {ILANA_TEST_PLUGIN_DIR}, {}});
    for (const char *name : {"primary", "analytics"}) {
        INFO("connection " << name);
        auto c = db.on(name);
        const bool maria = std::string(name) == "primary";
        c.execute("DROP TABLE IF EXISTS seed_returning");
        c.execute(maria ? "CREATE TABLE seed_returning (id INT AUTO_INCREMENT PRIMARY KEY, name VARCHAR(10))"
                        : "CREATE TABLE seed_returning (id SERIAL PRIMARY KEY, name TEXT)");
        Result ins = c.query("INSERT INTO seed_returning (name) VALUES ('a'), ('b'), ('c') RETURNING id, name");
        REQUIRE(ins.size() == 3);
        CHECK(ins[2]["name"].as<std::string>() == "c");
        CHECK(ins.affected_rows() == 3);
        Result del = c.query("DELETE FROM seed_returning WHERE id < 3 RETURNING id");
        CHECK(del.size() == 2);
        CHECK(del.affected_rows() == 2);
        ExecResult more = c.execute("INSERT INTO seed_returning (name) VALUES ('d'), ('e') RETURNING id");
        CHECK(more.affected_rows == 2);
        CHECK(c.query("SELECT count(*) AS n FROM seed_returning").front()["n"].as<int>() == 3);
        // A plain query: -1 on MariaDB; PostgreSQL reports its "SELECT n"
        // command tag (drivers/postgres/README.md).
        CHECK(c.query("SELECT id FROM seed_returning").affected_rows() == (maria ? -1 : 3));
        c.execute("DROP TABLE seed_returning");
    }
}
