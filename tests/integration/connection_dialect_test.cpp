// A connection may speak the dialect of the server it reached, not its
// driver's (ABI 1.3, "ilana.conn_dialect/1": a bridge to several kinds of
// database). The SDK-built test driver sdk-bridge
// (tests/conformance_kit/sdk_bridge_driver.cpp) forwards to SQLite and
// reports the dialect its `speaks` parameter chooses — PostgreSQL's ($1,
// "x", ON CONFLICT, RETURNING) or MySQL's (?, `x`, no upsert, no RETURNING)
// — and refuses statements written in another, as such a server would. The
// query builder, raw statements, batches and the migrator must write each
// connection's own.
#include <catch2/catch.hpp>

#include <ilana/ilana.hpp>
#include <ilana/migrator.hpp>
#include <ilana/query.hpp>

#include "temp_dir.hpp"

using namespace ilana;
using ilana_test::ilana_cli;
using ilana_test::run_command;
using ilana_test::TempDir;

namespace {

const std::string kBridgeDir = ILANA_TEST_BINARY_DIR "/test-plugins/sdk_bridge";

// Connections "pg" (speaks PostgreSQL), "my" (speaks MySQL), "plain" (the
// driver's own dialect) and "lite" (the bundled SQLite driver), each on
// its own file.
std::string write_config(const TempDir &dir) {
    return dir.write("ilana.config.json", R"({
  "plugins": {"paths": [")" + kBridgeDir + R"("]},
  "default": "pg",
  "connections": {
    "pg": {"client": "sdk-bridge", "connection": {"filename": "pg.sqlite", "speaks": "postgres"}},
    "my": {"client": "sdk-bridge", "connection": {"filename": "my.sqlite", "speaks": "mysql"},
           "pool": {"max": 1, "acquireTimeoutMillis": 2000}},
    "plain": {"client": "sdk-bridge", "connection": {"filename": "plain.sqlite"}},
    "lite": {"client": "sqlite3", "connection": {"filename": "lite.sqlite"}}
  }
})");
}

bool contains(const std::string &s, const std::string &part) { return s.find(part) != std::string::npos; }

} // namespace

TEST_CASE("Connection::dialect and Session::dialect are the dialect of the server reached", "[dialect]") {
    TempDir dir;
    Database db = Database::open(write_config(dir));

    // The bundled driver reports no dialect per connection: known without connecting.
    const Dialect &lite = db.on("lite").dialect();
    CHECK_FALSE(lite.dollar_placeholders);
    CHECK(lite.identifier_quote == '"');
    CHECK(db.on("lite").pool_status().created == 0);

    // A bridge's connection dialect is learnt from its first session, once per pool.
    const Dialect &pg = db.on("pg").dialect();
    CHECK(db.on("pg").pool_status().created == 1);
    CHECK(pg.dollar_placeholders);
    CHECK(pg.identifier_quote == '"');
    CHECK(pg.supports_returning);
    CHECK(pg.upsert_form == ILANA_UPSERT_ON_CONFLICT);
    CHECK(pg.transactional_ddl); // a capability: the descriptor's
    CHECK(&db.on("pg").dialect() == &pg);
    CHECK(db.on("pg").pool_status().created == 1);

    const Dialect &my = db.on("my").dialect();
    CHECK_FALSE(my.dollar_placeholders);
    CHECK(my.identifier_quote == '`');
    CHECK_FALSE(my.supports_returning);
    CHECK(my.upsert_form == ILANA_UPSERT_NONE);

    // NULL from dialect_of: the descriptor's.
    const Dialect &plain = db.on("plain").dialect();
    CHECK_FALSE(plain.dollar_placeholders);
    CHECK(plain.identifier_quote == '"');
    CHECK(plain.upsert_form == ILANA_UPSERT_ON_CONFLICT);

    Session s = db.on("my").acquire();
    CHECK(s.dialect().identifier_quote == '`');
    CHECK_FALSE(s.dialect().supports_returning);
}

TEST_CASE("a pool's dialect is known from any session it opened, also while that one is leased", "[dialect]") {
    TempDir dir;
    Database db = Database::open(write_config(dir));
    // "my" has one session at most: asking the connection's dialect must not
    // wait for a second one while the only one is held.
    Session held = db.on("my").acquire();
    const auto start = std::chrono::steady_clock::now();
    CHECK(db.on("my").dialect().identifier_quote == '`');
    CHECK(db.on("my").table("users").toSql().sql == "SELECT * FROM `users`");
    CHECK(std::chrono::steady_clock::now() - start < std::chrono::milliseconds(1000));
}

TEST_CASE("raw statements and batches are rewritten to the connection's placeholders", "[dialect]") {
    TempDir dir;
    Database db = Database::open(write_config(dir));
    for (const char *name : {"pg", "my", "plain"}) {
        INFO(name);
        Connection c = db.on(name);
        c.execute("CREATE TABLE t (k INTEGER PRIMARY KEY, v TEXT)");
        // `?` in the API; `$1` on the wire for "pg", `?` for the others.
        CHECK(c.execute("INSERT INTO t (k, v) VALUES (?, ?)", {1, "one"}).affected_rows == 1);
        CHECK(c.execute_many("INSERT INTO t (k, v) VALUES (?, ?)", {{2, "two"}, {3, "three"}}).affected_rows == 2);
        Session s = c.acquire();
        CHECK(s.query("SELECT v FROM t WHERE k = ?", {3})[0]["v"].as<std::string>() == "three");
    }
    // The driver holds a connection to its dialect, as its server would.
    CHECK_THROWS_WITH(db.on("pg").query("SELECT `k` FROM t"),
                      Catch::Contains("identifiers are quoted with \" here, not `"));
    CHECK_THROWS_WITH(db.on("my").query("SELECT \"k\" FROM t"),
                      Catch::Contains("identifiers are quoted with ` here, not \""));
}

TEST_CASE("the query builder writes the connection's dialect", "[dialect][query]") {
    TempDir dir;
    Database db = Database::open(write_config(dir));
    for (const char *name : {"pg", "my"}) db.on(name).execute("CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT)");

    CHECK(db.on("pg").table("users").where("name", "=", "ann").toSql().sql ==
          "SELECT * FROM \"users\" WHERE \"name\" = ?");
    CHECK(db.on("my").table("users").where("name", "=", "ann").toSql().sql ==
          "SELECT * FROM `users` WHERE `name` = ?");

    for (const char *name : {"pg", "my"}) {
        INFO(name);
        Connection c = db.on(name);
        CHECK(c.table("users").insert({{"name", "ann"}, {"id", 1}}) == 1);
        // create(): INSERT ... RETURNING * on "pg"; insert + SELECT by id on "my".
        Record ben = c.table("users").create({{"name", "ben"}});
        CHECK(ben["name"].as<std::string>() == "ben");
        CHECK(ben["id"].as<int64_t>() == 2);
        CHECK(c.table("users").where("name", "=", "ann").update({{"name", "anna"}}) == 1);
        CHECK((*c.table("users").orderBy("id").limit(1).first())["name"].as<std::string>() == "anna");
        // A builder on a session takes the session's dialect.
        Session s = c.acquire();
        CHECK(QueryBuilder(s, "users").count() == 2);
    }
    // Upsert: the "pg" connection's ON CONFLICT; "my" states no upsert form.
    CHECK(db.on("pg").table("users").upsert({{{"id", 1}, {"name", "ann"}}}, {"id"}, {"name"}) == 1);
    CHECK((*db.on("pg").table("users").where("id", "=", 1).first())["name"].as<std::string>() == "ann");
    CHECK_THROWS_WITH(db.on("my").table("users").upsert({{{"id", 1}, {"name", "ann"}}}, {"id"}, {"name"}),
                      Catch::Contains("states no upsert form"));
}

TEST_CASE("the migrator's table and statements follow the connection's dialect", "[dialect][migrate]") {
    TempDir dir;
    const std::string config = write_config(dir);
    for (const char *name : {"pg", "my"})
        dir.write(std::string("database/migrations/") + name + "/20260101000000_create_items.sql",
                  "-- migrate:up\nCREATE TABLE items (id INTEGER PRIMARY KEY, name TEXT);\n"
                  "-- migrate:down\nDROP TABLE items;\n");
    Database db = Database::open(config);
    for (const char *name : {"pg", "my"}) {
        INFO(name);
        Migrator m = db.migrator(name);
        MigrateReport r = m.migrate();
        REQUIRE(r.applied.size() == 1);
        REQUIRE(m.status().size() == 1);
        CHECK(m.status()[0].state == MigrationState::applied);
    }
    // SQLite keeps each CREATE TABLE as it was written (less IF NOT EXISTS).
    auto ledger_ddl = [&](const char *name) {
        return db.on(name).query("SELECT sql FROM sqlite_master WHERE name = 'ilana_migrations'")[0][0].as<std::string>();
    };
    CHECK_THAT(ledger_ddl("pg"), Catch::StartsWith("CREATE TABLE \"ilana_migrations\" (id VARCHAR(32)"));
    CHECK_THAT(ledger_ddl("my"), Catch::StartsWith("CREATE TABLE `ilana_migrations` (id VARCHAR(32)"));

    // Rolling back deletes the ledger row with the connection's placeholders.
    for (const char *name : {"pg", "my"}) {
        INFO(name);
        Migrator m = db.migrator(name);
        CHECK(m.rollback().rolled_back.size() == 1);
        CHECK(m.status()[0].state == MigrationState::pending);
    }

    // The CLI, as a user runs it.
    std::string out;
    CHECK(run_command(ilana_cli() + " --config '" + config + "' migrate --connection my", out) == 0);
    INFO(out);
    CHECK(contains(out, "1 migration(s) applied"));
}

TEST_CASE("a connection dialect the host cannot use refuses the connection", "[dialect]") {
    TempDir dir;
    const std::string config = dir.write("ilana.config.json", R"({
  "plugins": {"paths": [")" + kBridgeDir + R"("]},
  "connections": {"bad": {"client": "sdk-bridge", "connection": {"filename": "bad.sqlite", "speaks": "broken"}}}
})");
    Database db = Database::open(config);
    try {
        db.on("bad").query("SELECT 1");
        FAIL("a connection with a dialect of struct_size 8 was used");
    } catch (const Error &e) {
        CHECK(e.error_class() == ErrorClass::internal);
        CHECK(contains(e.what(), "[bad] the driver "));
        CHECK(contains(e.what(), "reported a connection dialect (ilana.conn_dialect/1) the host cannot use: dialect "
                                 "struct_size 8 is smaller than ABI v1.0's"));
    }
}
