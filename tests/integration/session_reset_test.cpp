// Session state does not leak from one lease of a pooled session to the
// next ("ilana.session/1"): with a pool of one, what lease 1 set (SET ROLE,
// search_path / a session variable, a temp table, a user variable, the
// user's own PREPARE, a session lock, USE, an open transaction) is gone in
// lease 2 on the same server session; a clean lease costs no extra round
// trip, seen from the server (pg_stat_activity's last statement of the
// backend; MariaDB's per-session Questions counter, which a reset also
// zeroes); the driver's cached statements still run after a reset.
#include <catch2/catch.hpp>

#include <ilana/ilana.hpp>

#include "configs.hpp"

#include <string>

using namespace ilana;
using ilana_test::TempDir;

namespace {

Database open_single(const TempDir &dir, const std::string &client, const std::string &connection_json,
                     const std::string &extra_connections = "") {
    dir.write("ilana.config.json", R"({"default": "pooled", "connections": {"pooled": {"client": ")" + client +
                                       R"(", "connection": )" + connection_json +
                                       R"(, "pool": {"min": 0, "max": 1, "acquireTimeoutMillis": 5000}})" +
                                       extra_connections + "}}");
    return Database::open(dir.file("ilana.config.json"), OpenOptions{"", {ILANA_TEST_PLUGIN_DIR}, {}});
}

std::string text_of(Session &s, const std::string &sql) {
    Result r = s.query(sql);
    REQUIRE(r.size() == 1);
    return r.front()[0].is_null() ? std::string("<null>") : r.front()[0].as<std::string>();
}

int64_t int_of(Session &s, const std::string &sql) {
    Result r = s.query(sql);
    REQUIRE(r.size() == 1);
    return r.front()[0].as<int64_t>();
}

} // namespace

// ---------------------------------------------------------------- PostgreSQL

TEST_CASE("PostgreSQL: session state of one lease is gone in the next", "[session][pg]") {
    ILANA_REQUIRE_PG();
    TempDir dir;
    Database db = open_single(dir, "postgres", ilana_test::pg_connection_json());
    auto pg = db.on("pooled");
    pg.execute("DO $$ BEGIN CREATE ROLE ilana_reset_probe NOLOGIN; "
               "EXCEPTION WHEN duplicate_object THEN NULL; END $$");
    const uint64_t resets = pg.pool_status().resets; // DO counts as a change: it may run anything

    int64_t pid = 0;
    std::string search_path;
    {
        Session s = pg.acquire();
        pid = int_of(s, "SELECT pg_backend_pid()");
        search_path = text_of(s, "SHOW search_path");
        s.execute("SET search_path TO pg_catalog");
        s.execute("SET statement_timeout = 4321");
        s.query("SELECT set_config('ilana.probe', 'leaked', false)");
        s.execute("CREATE TEMP TABLE reset_probe (a int)");
        s.execute("PREPARE reset_probe_stmt AS SELECT 1");
        s.execute("LISTEN reset_probe_channel");
        s.query("SELECT pg_advisory_lock(424242)");
        s.execute("SET ROLE ilana_reset_probe");
        CHECK(text_of(s, "SELECT current_user") == "ilana_reset_probe");
        s.execute("BEGIN"); // left open by the user: the reset rolls it back
        s.query("SELECT txid_current()"); // the transaction now has an id
    }
    CHECK(pg.pool_status().resets == resets + 1);
    CHECK(pg.pool_status().reset_failures == 0);
    {
        Session s = pg.acquire();
        REQUIRE(int_of(s, "SELECT pg_backend_pid()") == pid); // the same server session
        CHECK(text_of(s, "SELECT current_user") == text_of(s, "SELECT session_user"));
        CHECK(text_of(s, "SHOW search_path") == search_path);
        CHECK(text_of(s, "SHOW statement_timeout") == "0");
        CHECK(text_of(s, "SELECT coalesce(current_setting('ilana.probe', true), '')").empty());
        CHECK(text_of(s, "SELECT coalesce(to_regclass('pg_temp.reset_probe')::text, 'gone')") == "gone");
        CHECK(int_of(s, "SELECT count(*) FROM pg_prepared_statements WHERE name = 'reset_probe_stmt'") == 0);
        CHECK(int_of(s, "SELECT count(*) FROM pg_listening_channels()") == 0);
        CHECK(int_of(s, "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid()") == 0);
        // No transaction left open: this statement's own has no id yet.
        CHECK(text_of(s, "SELECT coalesce(txid_current_if_assigned()::text, 'none')") == "none");
    }
    CHECK(pg.pool_status().resets == resets + 1); // lease 2 changed nothing
    CHECK(pg.pool_status().created == 1);
}

TEST_CASE("PostgreSQL: a clean lease is not reset (no round trip), a dirty one is", "[session][pg]") {
    ILANA_REQUIRE_PG();
    TempDir dir;
    Database db = open_single(dir, "postgres", ilana_test::pg_connection_json(),
                              R"(, "observer": {"client": "postgres", "connection": )" +
                                  ilana_test::pg_connection_json() + "}");
    auto pg = db.on("pooled");
    auto observer = db.on("observer");
    // The server's record of the last statement a backend ran: a reset on
    // release would show there instead of the lease's own last statement.
    auto last_statement = [&](int64_t pid) {
        return observer.query("SELECT query FROM pg_stat_activity WHERE pid = ?", {pid}).front()[0].as<std::string>();
    };
    int64_t pid = pg.query("SELECT pg_backend_pid()").front()[0].as<int64_t>();
    for (int i = 0; i < 3; ++i) pg.query("SELECT ? AS clean_lease_marker", {i});
    pg.transaction([](Session &tx) { tx.query("SELECT 1 AS in_a_transaction"); });
    {
        Session s = pg.acquire();
        s.query("SELECT 2 AS clean_lease_marker");
    }
    CHECK(last_statement(pid).find("clean_lease_marker") != std::string::npos);
    CHECK(pg.pool_status().resets == 0);

    pg.execute("SET application_name = 'dirty_lease'");
    CHECK(pg.pool_status().resets == 1);
    CHECK(last_statement(pid).find("RESET ALL") != std::string::npos); // the observation can see a reset
    CHECK(pg.query("SELECT current_setting('application_name')").front()[0].as<std::string>() != "dirty_lease");
}

TEST_CASE("PostgreSQL: the driver's cached statements run after a reset", "[session][pg]") {
    ILANA_REQUIRE_PG();
    TempDir dir;
    Database db = open_single(dir, "postgres", ilana_test::pg_connection_json());
    auto pg = db.on("pooled");
    const std::string cached = "SELECT ?::int + 1 AS v";
    {
        Session s = pg.acquire();
        CHECK(s.query(cached, {1}).front()["v"].as<int>() == 2);
        s.execute("SET search_path TO pg_catalog");
    }
    REQUIRE(pg.pool_status().resets == 1);
    {
        Session s = pg.acquire();
        // The narrow reset keeps the driver's prepared statements.
        Result kept = s.query("SELECT count(*) FROM pg_prepared_statements WHERE statement = ?",
                              {"SELECT $1::int + 1 AS v"});
        CHECK(kept.front()[0].as<int64_t>() == 1);
        CHECK(s.query(cached, {2}).front()["v"].as<int>() == 3);
        s.execute("PREPARE users_own AS SELECT 1"); // the reset must DEALLOCATE it, and the cache goes too
    }
    REQUIRE(pg.pool_status().resets == 2);
    {
        Session s = pg.acquire();
        CHECK(int_of(s, "SELECT count(*) FROM pg_prepared_statements WHERE name = 'users_own'") == 0);
        CHECK(s.query(cached, {3}).front()["v"].as<int>() == 4);
    }
    CHECK(pg.pool_status().reset_failures == 0);
    CHECK(pg.pool_status().created == 1);
}

TEST_CASE("PostgreSQL through PgBouncer (transaction mode): a reset neither fails nor leaks", "[session][pg][pgbouncer]") {
    ILANA_REQUIRE_PG();
    ILANA_REQUIRE_PGBOUNCER();
    const auto s = ilana_test::pgbouncer();
    TempDir dir;
    dir.write("ilana.config.json", R"({"connections": {"bouncer": {"client": "postgres", "pgbouncer": true,
        "connection": )" + ilana_test::connection_json(s) + R"(, "pool": {"max": 1}}}})");
    Database db = Database::open(dir.file("ilana.config.json"), OpenOptions{"", {ILANA_TEST_PLUGIN_DIR}, {}});
    auto bouncer = db.on("bouncer");
    // PgBouncer keeps application_name per client and sets it again on
    // whichever server connection serves that client next: without a
    // reset the next lease of the same client connection would inherit it.
    bouncer.execute("SET application_name = 'leaked_through_bouncer'");
    CHECK(bouncer.pool_status().resets == 1);
    CHECK(bouncer.pool_status().reset_failures == 0);
    CHECK(bouncer.query("SELECT current_setting('application_name')").front()[0].as<std::string>() !=
          "leaked_through_bouncer");
    CHECK(bouncer.query("SELECT ?::int * 2 AS v", {21}).front()["v"].as<int>() == 42);
    bouncer.transaction([](Session &tx) { tx.query("SELECT 1"); });
    CHECK(bouncer.pool_status().resets == 1);
    CHECK(bouncer.pool_status().created == 1);
}

// ---------------------------------------------------------------- MariaDB

TEST_CASE("MariaDB: session state of one lease is gone in the next", "[session][mysql]") {
    ILANA_REQUIRE_MYSQL();
    TempDir dir;
    Database db = open_single(dir, "mysql", ilana_test::mysql_connection_json());
    auto my = db.on("pooled");
    my.execute("CREATE ROLE IF NOT EXISTS ilana_reset_probe");
    my.execute("GRANT ilana_reset_probe TO CURRENT_USER");
    const std::string database = ilana_test::mysql().database;
    const uint64_t resets = my.pool_status().resets;

    int64_t id = 0;
    {
        Session s = my.acquire();
        id = int_of(s, "SELECT CONNECTION_ID()");
        s.execute("SET ROLE ilana_reset_probe");
        CHECK(text_of(s, "SELECT CURRENT_ROLE()") == "ilana_reset_probe");
        s.execute("SET @reset_probe = 42");
        s.execute("SET SESSION wait_timeout = 4321");
        s.execute("CREATE TEMPORARY TABLE reset_probe (a INT)");
        s.execute("PREPARE reset_probe_stmt FROM 'SELECT 1'");
        CHECK(int_of(s, "SELECT GET_LOCK('ilana_reset_probe', 0)") == 1);
        s.execute("USE information_schema");
        s.execute("START TRANSACTION"); // left open by the user
    }
    CHECK(my.pool_status().resets == resets + 1);
    CHECK(my.pool_status().reset_failures == 0);
    {
        Session s = my.acquire();
        REQUIRE(int_of(s, "SELECT CONNECTION_ID()") == id); // the same server session
        CHECK(text_of(s, "SELECT CURRENT_ROLE()") == "<null>");
        CHECK(text_of(s, "SELECT @reset_probe") == "<null>");
        CHECK(int_of(s, "SELECT @@SESSION.wait_timeout = @@GLOBAL.wait_timeout") == 1);
        CHECK(text_of(s, "SELECT DATABASE()") == database);
        CHECK_THROWS_AS(s.query("SELECT COUNT(*) FROM reset_probe"), Error);
        CHECK_THROWS_AS(s.execute("EXECUTE reset_probe_stmt"), Error);
        CHECK(text_of(s, "SELECT IS_USED_LOCK('ilana_reset_probe')") == "<null>");
        CHECK(int_of(s, "SELECT @@in_transaction") == 0);
    }
    // Lease 2 ran failing statements and reads only: still clean.
    CHECK(my.pool_status().resets == resets + 1);
    CHECK(my.pool_status().created == 1);
}

TEST_CASE("MariaDB: a clean lease is not reset (no round trip), a dirty one is", "[session][mysql]") {
    ILANA_REQUIRE_MYSQL();
    TempDir dir;
    Database db = open_single(dir, "mysql", ilana_test::mysql_connection_json());
    auto my = db.on("pooled");
    // Questions counts this session's statements; a reset zeroes it.
    auto questions = [&] {
        return std::stoll(my.query("SHOW SESSION STATUS LIKE 'Questions'").front()[1].as<std::string>());
    };
    const int64_t q1 = questions();
    for (int i = 0; i < 3; ++i) my.query("SELECT ? AS clean_lease_marker", {i});
    my.transaction([](Session &tx) { tx.query("SELECT 1 AS in_a_transaction"); });
    const int64_t q2 = questions();
    // 3 selects, START TRANSACTION, the select, COMMIT, the SHOW: nothing else.
    CHECK(q2 == q1 + 7);
    CHECK(my.pool_status().resets == 0);

    my.execute("SET @dirty_lease = 1");
    CHECK(my.pool_status().resets == 1);
    CHECK(questions() < q2); // the observation can see a reset
}

TEST_CASE("MariaDB: the driver's cached statements run after a reset", "[session][mysql]") {
    ILANA_REQUIRE_MYSQL();
    TempDir dir;
    Database db = open_single(dir, "mysql", ilana_test::mysql_connection_json());
    auto my = db.on("pooled");
    const std::string cached = "SELECT ? + 1 AS v";
    {
        Session s = my.acquire();
        CHECK(s.query(cached, {1}).front()["v"].as<int>() == 2);
        s.execute("SET @x = 1");
    }
    REQUIRE(my.pool_status().resets == 1);
    {
        Session s = my.acquire();
        // The reset closed the server's statements; the driver prepares again.
        CHECK(s.query(cached, {2}).front()["v"].as<int>() == 3);
        CHECK(s.query(cached, {3}).front()["v"].as<int>() == 4);
    }
    CHECK(my.pool_status().reset_failures == 0);
    CHECK(my.pool_status().created == 1);
}

// ---------------------------------------------------------------- SQLite

TEST_CASE("SQLite: PRAGMAs, temp tables, ATTACH and a transaction of one lease are gone in the next",
          "[session][sqlite]") {
    TempDir dir;
    Database db = open_single(dir, "sqlite", R"({"filename": "reset.db"})");
    auto lite = db.on("pooled");
    lite.execute("CREATE TABLE kept (a INTEGER)");
    lite.execute("INSERT INTO kept VALUES (1)");
    const std::string cached = "SELECT a + ? AS v FROM kept";
    CHECK(lite.query(cached, {1}).front()["v"].as<int>() == 2);
    CHECK(lite.pool_status().resets == 0); // DDL and DML are no session state
    {
        Session s = lite.acquire();
        s.execute("PRAGMA foreign_keys = OFF");
        s.execute("PRAGMA case_sensitive_like = ON");
        s.execute("CREATE TEMP TABLE reset_probe (a INTEGER)");
        s.execute("ATTACH DATABASE '" + dir.file("other.db") + "' AS other");
        s.execute("BEGIN");
        s.execute("INSERT INTO kept VALUES (2)"); // never committed
        CHECK(int_of(s, "SELECT 'a' LIKE 'A'") == 0);
    }
    CHECK(lite.pool_status().resets == 1);
    {
        Session s = lite.acquire();
        CHECK(int_of(s, "SELECT foreign_keys FROM pragma_foreign_keys") == 1); // as the driver opens it
        CHECK(int_of(s, "SELECT 'a' LIKE 'A'") == 1);
        CHECK(int_of(s, "SELECT count(*) FROM temp.sqlite_master") == 0);
        CHECK(int_of(s, "SELECT count(*) FROM pragma_database_list WHERE name = 'other'") == 0);
        CHECK(int_of(s, "SELECT count(*) FROM kept") == 1);
        CHECK(s.query(cached, {2}).front()["v"].as<int>() == 3);
    }
    CHECK(lite.pool_status().resets == 1);
    CHECK(lite.pool_status().reset_failures == 0);
}

TEST_CASE("SQLite: an in-memory database is never reset (that would empty it)", "[session][sqlite]") {
    TempDir dir;
    Database db = open_single(dir, "sqlite", R"({"filename": ":memory:"})");
    auto lite = db.on("pooled");
    lite.execute("CREATE TABLE kept (a INTEGER)");
    lite.execute("PRAGMA foreign_keys = OFF");
    lite.execute("INSERT INTO kept VALUES (1)");
    CHECK(lite.pool_status().resets == 0);
    CHECK(lite.query("SELECT count(*) FROM kept").front()[0].as<int>() == 1);
    // A transaction left open is still rolled back.
    {
        Session s = lite.acquire();
        s.execute("BEGIN");
        s.execute("INSERT INTO kept VALUES (2)");
    }
    CHECK(lite.pool_status().resets == 1);
    CHECK(lite.query("SELECT count(*) FROM kept").front()[0].as<int>() == 1);
    lite.execute("INSERT INTO kept VALUES (3)"); // autocommits: no transaction was left behind
    CHECK(lite.pool_status().resets == 1);
}
