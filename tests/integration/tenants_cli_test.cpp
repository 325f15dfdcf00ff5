// The tenant commands of `ilana`, run as a user would (SQLite file
// isolation: no server needed; one PostgreSQL run for schema isolation).
// Output is not a terminal here, so progress comes as one line per tenant.
#include <catch2/catch.hpp>

#include <ilana/ilana.hpp>
#include <ilana/tenants.hpp>

#include "configs.hpp"
#include "test_helpers.hpp"

#include <unistd.h>

using ilana_test::contains;
using ilana_test::ilana_cli;
using ilana_test::run_command;
using ilana_test::TempDir;

namespace {

const char *kMigration = R"(-- migrate:up
CREATE TABLE users (id INTEGER NOT NULL PRIMARY KEY, email VARCHAR(100) NOT NULL, name VARCHAR(100), phone VARCHAR(30));
CREATE INDEX ix_users_name ON users (name);
-- migrate:down
DROP TABLE users;
)";

std::string cli(const std::string &config, const std::string &args) {
    return ilana_cli() + " --config '" + config + "' " + args;
}

} // namespace

TEST_CASE("ilana tenants:* and warmup on SQLite files", "[tenants][cli][sqlite]") {
    TempDir dir;
    dir.write("database/migrations/tenants/20260101000000_users.sql", kMigration);
    const std::string cfg = dir.write("ilana.config.json", R"({"connections": {
        "main": {"client": "sqlite", "connection": {"filename": "./tenants/{tenant}.sqlite"}}},
      "tenants": {"connection": "main", "isolation": "file", "maxPools": 2}})");
    std::string out;

    REQUIRE(run_command(cli(cfg, "tenants:create acme"), out) == 0);
    CHECK(contains(out, "created tenant acme"));
    CHECK(contains(out, "1 migration(s) applied"));
    REQUIRE(run_command(cli(cfg, "tenants:create globex"), out) == 0);
    REQUIRE(run_command(cli(cfg, "tenants:create initech --no-migrate"), out) == 0);

    REQUIRE(run_command(cli(cfg, "tenants:list"), out) == 0);
    CHECK(contains(out, "acme"));
    CHECK(contains(out, dir.file("tenants/globex.sqlite")));
    CHECK(contains(out, "3 tenant(s) (discovery: namespace, maxPools=2)"));
    REQUIRE(run_command(cli(cfg, "tenants:list --json"), out) == 0);
    CHECK(contains(out, "\"count\":3"));
    CHECK(contains(out, "{\"id\":\"acme\",\"namespace\":\"" + dir.file("tenants/acme.sqlite") + "\"}"));

    // The doctor compares the tenants found with maxPools.
    CHECK(run_command(cli(cfg, "doctor"), out) == 0);
    CHECK(contains(out, "tenants: 3 tenants found (discovery: namespace)"));
    CHECK(contains(out, "Consider increasing maxPools (current: 2, tenants: 3)"));
    CHECK(contains(out, "connection:main: tenant template (file isolation), not opened"));

    // Migrate every tenant: initech gets its migration now.
    REQUIRE(run_command(cli(cfg, "tenants:migrate --concurrency 2"), out) == 0);
    CHECK(contains(out, "initech: 1 applied"));
    CHECK(contains(out, "acme: up to date"));
    CHECK(contains(out, "Migrated 3 tenant(s): 3 succeeded, 0 failed, 1 migration(s) applied"));

    // Warmup: plain lines when not on a terminal, a summary, JSON.
    REQUIRE(run_command(cli(cfg, "warmup --concurrency 2"), out) == 0);
    CHECK(contains(out, "[3/3] "));
    CHECK(contains(out, "Warmed 3 pool(s)"));
    CHECK(contains(out, "3 tenant(s), 0 already warm, 0 failed"));
    REQUIRE(run_command(cli(cfg, "warmup --tenants acme,globex --json"), out) == 0);
    CHECK(contains(out, "\"total\":2,\"succeeded\":2,\"failed\":0,\"alreadyWarm\":0"));
    CHECK(run_command(cli(cfg, "warmup --tenants 'x\";DROP SCHEMA public; --'"), out) == 2);
    CHECK(contains(out, "tenant id \"x\\\";DROP SCHEMA public; --\" is not valid"));
    CHECK(run_command(cli(cfg, "warmup --tenants acme,nosuch/x"), out) == 2);

    // Seeding from an SQL file.
    const std::string seed = dir.write("seed.sql", "INSERT INTO users (id, email, name, phone) VALUES (1, 'ann@acme.test', "
                                                   "'Ann', '+44 1');\nINSERT INTO users (id, email, name, phone) VALUES "
                                                   "(2, 'bob@acme.test', 'Bob', '+44 2');\n");
    REQUIRE(run_command(cli(cfg, "tenants:seed --tenant acme '" + seed + "'"), out) == 0);
    CHECK(contains(out, "Seeded 1 tenant(s): 1 succeeded"));
    CHECK(run_command(cli(cfg, "tenants:seed --tenant acme --all '" + seed + "'"), out) == 2);
    // Seeding everything: acme fails (duplicate keys), the others go on.
    CHECK(run_command(cli(cfg, "tenants:seed --all '" + seed + "'"), out) == 1);
    CHECK(contains(out, "Seeded 3 tenant(s): 2 succeeded, 1 failed"));
    CHECK(contains(out, "acme: "));
    CHECK(contains(out, "seed.sql:1"));

    // Drift: none, then globex altered.
    REQUIRE(run_command(cli(cfg, "tenants:drift"), out) == 0);
    CHECK(contains(out, "3 tenant(s), 3 without drift, 0 with drift"));
    {
        ilana::Database db = ilana::Database::open(cfg, ilana::OpenOptions{"", {ILANA_TEST_PLUGIN_DIR}, {}});
        ilana::TenantManager(db).get("globex").execute("ALTER TABLE users ADD COLUMN nickname TEXT");
    }
    CHECK(run_command(cli(cfg, "tenants:drift"), out) == 1);
    CHECK(contains(out, "globex"));
    CHECK(contains(out, "column 'nickname' (text) is not in the reference"));
    CHECK(contains(out, "1 with drift"));
    CHECK(run_command(cli(cfg, "tenants:drift --json --reference globex"), out) == 1);
    CHECK(contains(out, "\"referenceTenant\":\"globex\""));
    CHECK(contains(out, "\"withDrift\":2"));

    // Clone with anonymized data, then no drift between the two.
    const std::string rules = dir.write("rules.json", R"({"users": {"email": "email", "phone": null, "name": "name"}})");
    REQUIRE(run_command(cli(cfg, "tenants:clone acme acme-copy --with-data --anonymize '" + rules + "'"), out) == 0);
    CHECK(contains(out, "cloned acme to acme-copy"));
    CHECK(contains(out, "3 row(s) (anonymized)")); // 2 users + 1 migration row
    REQUIRE(run_command(cli(cfg, "tenants:drift --reference acme --tenants acme,acme-copy"), out) == 0);
    {
        ilana::Database db = ilana::Database::open(cfg, ilana::OpenOptions{"", {ILANA_TEST_PLUGIN_DIR}, {}});
        ilana::Result r = ilana::TenantManager(db).get("acme-copy").query("SELECT email, name, phone FROM users ORDER BY id");
        REQUIRE(r.size() == 2);
        for (ilana::Row row : r) {
            CHECK(row["email"].as<std::string>().find("@acme.test") == std::string::npos);
            CHECK(row["name"].as<std::string>().rfind("Anonymous ", 0) == 0);
            CHECK(row["phone"].is_null());
        }
    }
    CHECK(run_command(cli(cfg, "tenants:clone acme acme-copy2 --anonymize '" + rules + "'"), out) == 2);
    CHECK(contains(out, "--anonymize needs --with-data"));

    // Drop: refused without --force.
    CHECK(run_command(cli(cfg, "tenants:drop acme-copy"), out) == 2);
    CHECK(contains(out, "refusing to drop tenant acme-copy"));
    REQUIRE(run_command(cli(cfg, "tenants:drop acme-copy --force"), out) == 0);
    CHECK(contains(out, "dropped tenant acme-copy"));
    REQUIRE(run_command(cli(cfg, "tenants:list --json"), out) == 0);
    CHECK(contains(out, "\"count\":3"));

    // One tenant failing its migration does not stop the others; exit 1.
    dir.write("database/migrations/tenants/20260102000000_orders.sql",
              "-- migrate:up\nCREATE TABLE orders (id INTEGER PRIMARY KEY);\n-- migrate:down\nDROP TABLE orders;\n");
    {
        ilana::Database db = ilana::Database::open(cfg, ilana::OpenOptions{"", {ILANA_TEST_PLUGIN_DIR}, {}});
        ilana::TenantManager(db).get("globex").execute("CREATE TABLE orders (id INTEGER)");
    }
    CHECK(run_command(cli(cfg, "tenants:migrate"), out) == 1);
    CHECK(contains(out, "Migrated 3 tenant(s): 2 succeeded, 1 failed"));
    CHECK(contains(out, "\u2717 globex: "));
    // The same through `ilana migrate --tenants`: acme and initech are done now.
    CHECK(run_command(cli(cfg, "migrate --tenants --concurrency 2"), out) == 1);
    CHECK(contains(out, "acme: up to date"));
    CHECK(contains(out, "Migrated 3 tenant(s): 2 succeeded, 1 failed, 0 migration(s) applied"));
    CHECK(run_command(cli(cfg, "migrate --tenants --all"), out) == 2);
    {
        ilana::Database db = ilana::Database::open(cfg, ilana::OpenOptions{"", {ILANA_TEST_PLUGIN_DIR}, {}});
        ilana::TenantManager(db).get("globex").execute("DROP TABLE orders");
    }
    REQUIRE(run_command(cli(cfg, "migrate --tenants"), out) == 0);
    CHECK(contains(out, "globex: 1 applied"));
    CHECK(contains(out, "Migrated 3 tenant(s): 3 succeeded, 0 failed, 1 migration(s) applied"));
}

TEST_CASE("ilana warmup and tenants:list on PostgreSQL schemas", "[tenants][cli][pg]") {
    ILANA_REQUIRE_PG();
    TempDir dir;
    const std::string prefix = "t" + std::to_string(getpid()) + "_cli_";
    dir.write("database/migrations/tenants/20260101000000_users.sql", kMigration);
    const std::string cfg = dir.write("ilana.config.json", R"({"connections": {"pg": {"client": "postgres", "connection": )" +
                                                               ilana_test::pg_connection_json() + R"(}},
      "tenants": {"connection": "pg", "isolation": "schema", "schemaPrefix": ")" + prefix +
                                                               R"(", "maxPools": 5, "pool": {"max": 1}}})");
    std::string out;
    struct Cleanup {
        std::string cfg;
        ~Cleanup() {
            std::string o;
            for (const char *id : {"a", "b", "c"}) run_command(cli(cfg, std::string("tenants:drop --force ") + id), o);
        }
    } cleanup{cfg};
    for (const char *id : {"a", "b", "c"}) REQUIRE(run_command(cli(cfg, std::string("tenants:create ") + id), out) == 0);
    REQUIRE(run_command(cli(cfg, "tenants:list"), out) == 0);
    CHECK(contains(out, prefix + "a"));
    CHECK(contains(out, "3 tenant(s) (discovery: namespace, maxPools=5)"));
    REQUIRE(run_command(cli(cfg, "warmup --all --concurrency 3"), out) == 0);
    CHECK(contains(out, "Warmed 3 pool(s)"));
    REQUIRE(run_command(cli(cfg, "tenants:drift"), out) == 0);
    CHECK(run_command(cli(cfg, "tenants:drop b"), out) == 2);
    REQUIRE(run_command(cli(cfg, "tenants:drop b --force"), out) == 0);
    REQUIRE(run_command(cli(cfg, "tenants:list --json"), out) == 0);
    CHECK(contains(out, "\"count\":2"));
}

namespace {

// `ilana tenants:clone` of users (generated ids) and orders (foreign key,
// CHECK, UNIQUE, index) with a view, as a user runs it; then the prefix
// rules through the CLI: an empty schemaPrefix exits 2 naming the JSON
// path, a system namespace is never dropped.
void cli_clone_and_system(const std::string &client, const std::string &connection, const std::string &isolation,
                          const std::string &seed, const std::string &system_prefix, const std::string &system_id,
                          const std::string &system_name) {
    TempDir dir;
    const std::string prefix = "t" + std::to_string(getpid()) + "_clone_";
    auto config = [&](const std::string &p) {
        return R"({"connections": {"main": {"client": ")" + client + R"(", "connection": )" + connection + R"(}},
          "tenants": {"connection": "main", "isolation": ")" + isolation + R"(", "schemaPrefix": ")" + p + R"("}})";
    };
    const std::string cfg = dir.write("ilana.config.json", config(prefix));
    std::string out;
    struct Cleanup {
        std::string cfg;
        ~Cleanup() {
            std::string o;
            for (const char *id : {"src", "copy", "bare"}) run_command(cli(cfg, std::string("tenants:drop --force ") + id), o);
        }
    } cleanup{cfg};
    REQUIRE(run_command(cli(cfg, "tenants:create src"), out) == 0);
    const std::string seed_file = dir.write("seed.sql", seed);
    REQUIRE(run_command(cli(cfg, "tenants:seed --tenant src '" + seed_file + "'"), out) == 0);
    const std::string rules = dir.write("rules.json", R"({"users": {"email": "email"}})");
    REQUIRE(run_command(cli(cfg, "tenants:clone src copy --with-data --anonymize '" + rules + "'"), out) == 0);
    CHECK(contains(out, "cloned src to copy"));
    CHECK(contains(out, "2 table(s), 1 view(s), 4 row(s) (anonymized)"));
    REQUIRE(run_command(cli(cfg, "tenants:clone src bare"), out) == 0);
    CHECK(contains(out, "2 table(s), 1 view(s) in"));
    {
        ilana::Database db = ilana::Database::open(cfg, ilana::OpenOptions{"", {ILANA_TEST_PLUGIN_DIR}, {}});
        ilana::TenantManager tm(db);
        ilana::Connection copy = tm.get("copy"), bare = tm.get("bare");
        CHECK(copy.query("SELECT email FROM users WHERE id = 1").front()["email"].as<std::string>() ==
              "anon1@example.invalid");
        copy.execute("INSERT INTO users (email) VALUES ('n@acme.test')");
        CHECK(copy.query("SELECT id FROM users WHERE email = 'n@acme.test'").front()["id"].as<int64_t>() == 4);
        CHECK_THROWS_AS(copy.execute("INSERT INTO orders (user_id, total) VALUES (99, 1)"), ilana::Error);
        CHECK(copy.query("SELECT COUNT(*) AS n FROM user_totals").front()["n"].as<int64_t>() == 2);
        bare.execute("INSERT INTO users (email) VALUES ('n@acme.test')");
        CHECK(bare.query("SELECT id FROM users").front()["id"].as<int64_t>() == 1);
    }

    const std::string empty = dir.write("empty.json", config(""));
    CHECK(run_command(cli(empty, "tenants:list"), out) == 2);
    CHECK(contains(out, "/tenants/schemaPrefix"));
    CHECK(contains(out, "would be a tenant"));
    const std::string sys = dir.write("system.json", config(system_prefix));
    CHECK(run_command(cli(sys, "tenants:drop " + system_id + " --force"), out) != 0);
    CHECK(contains(out, "names \"" + system_name + "\", a system"));
    CHECK(run_command(cli(sys, "tenants:clone " + system_id + " x"), out) != 0);
    CHECK(run_command(cli(sys, "tenants:migrate --tenants " + system_id), out) != 0);
    REQUIRE(run_command(cli(sys, "tenants:list"), out) == 0);
    CHECK_FALSE(contains(out, system_name));
}

} // namespace

TEST_CASE("ilana tenants:clone carries sequences, keys and views on PostgreSQL, system schemas refused",
          "[tenants][cli][pg][clone]") {
    ILANA_REQUIRE_PG();
    cli_clone_and_system("postgres", ilana_test::pg_connection_json(), "schema", R"(
CREATE TABLE users (id serial PRIMARY KEY, email varchar(100) NOT NULL UNIQUE);
CREATE TABLE orders (id bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY, user_id int NOT NULL REFERENCES users (id),
                     total numeric(10,2) NOT NULL CHECK (total >= 0));
CREATE INDEX ix_orders_user ON orders (user_id);
CREATE VIEW user_totals AS SELECT u.email, sum(o.total) AS total FROM users u JOIN orders o ON o.user_id = u.id GROUP BY u.email;
INSERT INTO users (email) VALUES ('a@acme.test'), ('b@acme.test'), ('c@acme.test');
DELETE FROM users WHERE id = 3;
INSERT INTO orders (user_id, total) VALUES (1, 5), (2, 7);
)",
                         "pu", "blic", "public");
}

TEST_CASE("ilana tenants:clone carries AUTO_INCREMENT, keys and views on MariaDB, system databases refused",
          "[tenants][cli][mysql][clone]") {
    ILANA_REQUIRE_MYSQL();
    cli_clone_and_system("mysql", ilana_test::mysql_connection_json(), "database", R"(
CREATE TABLE users (id INT AUTO_INCREMENT PRIMARY KEY, email VARCHAR(100) NOT NULL UNIQUE);
CREATE TABLE orders (id INT AUTO_INCREMENT PRIMARY KEY, user_id INT NOT NULL, total DECIMAL(10,2) NOT NULL CHECK (total >= 0),
                     CONSTRAINT fk_user FOREIGN KEY (user_id) REFERENCES users (id));
CREATE INDEX ix_orders_total ON orders (total);
CREATE VIEW user_totals AS SELECT u.email, SUM(o.total) AS total FROM users u JOIN orders o ON o.user_id = u.id GROUP BY u.email;
INSERT INTO users (email) VALUES ('a@acme.test'), ('b@acme.test'), ('c@acme.test');
DELETE FROM users WHERE id = 3;
INSERT INTO orders (user_id, total) VALUES (1, 5), (2, 7);
)",
                         "my", "sql", "mysql");
}

TEST_CASE("schema tenants over PgBouncer in transaction mode: Database::open and the CLI refuse the config",
          "[tenants][cli][pgbouncer]") {
    // Refused at load, before any connection: no server is needed.
    TempDir dir;
    const std::string cfg = dir.write("ilana.config.json", R"({"connections": {
        "app": {"client": "postgres", "pgbouncer": true, "connection": {"host": "127.0.0.1", "port": 6432,
                "user": "app", "password": "s3cret-pw", "database": "app"}}},
      "tenants": {"connection": "app", "isolation": "schema", "discovery": {"list": ["acme"]}}})");
    try {
        ilana::Database::open(cfg, ilana::OpenOptions{"", {ILANA_TEST_PLUGIN_DIR}, {}});
        FAIL("the config loaded");
    } catch (const ilana::ConfigError &e) {
        const std::string m = e.what();
        CHECK(contains(m, "/tenants/isolation"));
        CHECK(contains(m, "PgBouncer in transaction mode"));
        CHECK(contains(m, "'app'"));
    }
    std::string out;
    for (const char *command : {"tenants:list", "migrate:status", "doctor", "query --connection app 'SELECT 1'"}) {
        INFO(command);
        CHECK(run_command(cli(cfg, command), out) == 2);
        CHECK(contains(out, "ilana.config.json: /tenants/isolation: \"schema\" isolation does not work through PgBouncer"));
        CHECK(contains(out, "session mode"));
        CHECK(contains(out, "directly"));
        CHECK_FALSE(contains(out, "s3cret-pw"));
    }
}
