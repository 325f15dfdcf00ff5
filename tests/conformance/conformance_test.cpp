// One conformance suite, run through the C++ API against every bundled
// driver: SQLite (always), PostgreSQL and MariaDB (the real test servers).
// Each CONFORMANCE_CASE below becomes three test cases, one per driver.
#include <catch2/catch.hpp>

#include <ilana/ilana.hpp>

#include "configs.hpp"

#include <atomic>
#include <chrono>
#include <limits>
#include <random>
#include <thread>

using namespace ilana;
using namespace std::chrono_literals;
using ilana_test::TempDir;

namespace {

struct Target {
    std::string name;    // "sqlite", "postgres", "mysql"
    std::string client;  // as a user writes it in the config
    bool server;         // needs a test server
    // Column types per logical type.
    std::string t_int, t_double, t_text, t_blob, t_bool, t_date, t_timestamp, t_decimal;
    std::string sleep_sql;       // a statement that sleeps ~10 s
    std::string set_timeout_sql; // makes statements time out after ~200 ms
};

const Target kSqlite{"sqlite", "sqlite3", false, "INTEGER", "REAL", "TEXT", "BLOB", "INTEGER", "TEXT", "TEXT", "TEXT",
                     // a CPU-bound statement for cancel
                     "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 500000000) "
                     "SELECT SUM(x) FROM c",
                     ""};
const Target kPostgres{"postgres", "postgres", true, "BIGINT", "DOUBLE PRECISION", "TEXT", "BYTEA", "BOOLEAN", "DATE",
                       "TIMESTAMP", "NUMERIC(30,4)", "SELECT pg_sleep(10)", "SET statement_timeout = 200"};
const Target kMysql{"mysql", "mysql2", true, "BIGINT", "DOUBLE", "TEXT", "LONGBLOB", "BOOLEAN", "DATE", "DATETIME(6)",
                    "DECIMAL(30,4)", "SELECT SLEEP(10)", "SET SESSION max_statement_time = 0.2"};

std::string unique_name(const std::string &prefix) {
    static std::atomic<int> counter{0};
    static const auto seed = std::random_device{}();
    return prefix + "_" + std::to_string(seed % 100000) + "_" + std::to_string(++counter);
}

// Opens the target's database from a config file in `dir`.
Database open_target(const TempDir &dir, const Target &t, const std::string &extra_connection = "") {
    std::string conn;
    if (t.name == "sqlite") conn = R"({"filename": "./conformance.sqlite"})";
    else if (t.name == "postgres") conn = ilana_test::pg_connection_json(extra_connection);
    else conn = ilana_test::mysql_connection_json(extra_connection);
    dir.write("ilana.config.json", R"({"connections": {"db": {"client": ")" + t.client + R"(", "connection": )" + conn +
                                       R"(, "pool": {"max": 4}}}})");
    return Database::open(dir.file("ilana.config.json"), OpenOptions{"", {ILANA_TEST_PLUGIN_DIR}, {}});
}

struct Table {
    Connection conn;
    std::string name;
    ~Table() {
        try {
            conn.execute("DROP TABLE IF EXISTS " + name);
        } catch (...) {
        }
    }
};

#define CONFORMANCE_CASE(title, fn)                                                                  \
    TEST_CASE(title " [sqlite]", "[conformance][sqlite]") { fn(kSqlite); }                           \
    TEST_CASE(title " [postgres]", "[conformance][pg]") {                                            \
        ILANA_REQUIRE_PG();                                                                          \
        fn(kPostgres);                                                                               \
    }                                                                                                \
    TEST_CASE(title " [mysql]", "[conformance][mysql]") {                                            \
        ILANA_REQUIRE_MYSQL();                                                                       \
        fn(kMysql);                                                                                  \
    }

// ---------------------------------------------------------------------------

void round_trip_every_type(const Target &t) {
    TempDir dir;
    Database db = open_target(dir, t);
    auto conn = db.on("db");
    Table table{conn, unique_name("types")};
    conn.execute("CREATE TABLE " + table.name + " (k INTEGER PRIMARY KEY, i " + t.t_int + ", d " + t.t_double +
                 ", s " + t.t_text + ", b " + t.t_blob + ", f " + t.t_bool + ", dt " + t.t_date + ", ts " +
                 t.t_timestamp + ", n " + t.t_decimal + ")");
    const std::string insert = "INSERT INTO " + table.name + " (k, i, d, s, b, f, dt, ts, n) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)";
    const std::string binary("\0\x01\xff\x00zero\0", 10);
    const Timestamp ts = Timestamp::from_parts(2026, 11, 23, 13, 45, 7, 123456);
    const Date date = Date::from_ymd(1999, 12, 31);
    conn.execute(insert, {1, std::numeric_limits<int64_t>::max(), 1.5e300, "héllo wörld ✓ 🚀", Blob{binary}, true, date,
                          ts, Value::decimal("12345678901234.5678")});
    conn.execute(insert, {2, std::numeric_limits<int64_t>::min(), -0.0001, "", Blob{""}, false, Date::from_ymd(1970, 1, 1),
                          Timestamp::from_parts(1970, 1, 1), Value::decimal("-0.0001")});
    conn.execute(insert, {3, nullptr, nullptr, nullptr, nullptr, nullptr, nullptr, nullptr, nullptr});

    Result r = conn.query("SELECT k, i, d, s, b, f, dt, ts, n FROM " + table.name + " ORDER BY k");
    REQUIRE(r.size() == 3);
    Row a = r[0];
    CHECK(a["i"].as<int64_t>() == std::numeric_limits<int64_t>::max());
    CHECK(a["d"].as<double>() == 1.5e300);
    CHECK(a["s"].as<std::string>() == "héllo wörld ✓ 🚀");
    CHECK(a["b"].as<Blob>().bytes == binary);
    CHECK(a["f"].as<bool>() == true);
    CHECK(a["dt"].as<Date>() == date);
    CHECK(a["ts"].as<Timestamp>() == ts);
    CHECK(a["n"].as<std::string>() == "12345678901234.5678");
    Row b = r[1];
    CHECK(b["i"].as<int64_t>() == std::numeric_limits<int64_t>::min());
    CHECK(b["d"].as<double>() == -0.0001);
    CHECK(b["s"].as<std::string>() == "");
    CHECK(b["b"].as<Blob>().bytes.empty());
    CHECK(b["f"].as<bool>() == false);
    CHECK(b["dt"].as<Date>().days_since_epoch == 0);
    CHECK(b["ts"].as<Timestamp>().micros_since_epoch == 0);
    CHECK(b["n"].as<double>() == -0.0001);
    Row c = r[2];
    for (const char *col : {"i", "d", "s", "b", "f", "dt", "ts", "n"}) {
        INFO("column " << col);
        CHECK(c[col].is_null());
    }
    CHECK(c["i"].as<std::optional<int64_t>>() == std::nullopt);
}
CONFORMANCE_CASE("round trip of every type, NULLs, extremes, unicode, zero bytes", round_trip_every_type)

void binding_prevents_injection(const Target &t) {
    TempDir dir;
    Database db = open_target(dir, t);
    auto conn = db.on("db");
    Table table{conn, unique_name("inj")};
    conn.execute("CREATE TABLE " + table.name + " (v " + t.t_text + ")");
    const std::string evil = "'); DROP TABLE " + table.name + "; --";
    const std::string quotes = "\" ` ' \\ ?? $1 ?";
    conn.execute("INSERT INTO " + table.name + " (v) VALUES (?)", {evil});
    conn.execute("INSERT INTO " + table.name + " (v) VALUES (?)", {quotes});
    Result r = conn.query("SELECT v FROM " + table.name + " WHERE v = ? OR v = ?", {evil, quotes});
    REQUIRE(r.size() == 2);
    CHECK(conn.query("SELECT COUNT(*) FROM " + table.name + " WHERE v = ?", {evil}).front()[0].as<int>() == 1);
    CHECK(conn.query("SELECT COUNT(*) FROM " + table.name + " WHERE v = ?", {quotes}).front()[0].as<int>() == 1);
}
CONFORMANCE_CASE("bound parameters make injection impossible", binding_prevents_injection)

void streams_many_rows(const Target &t) {
    TempDir dir;
    Database db = open_target(dir, t);
    auto conn = db.on("db");
    const int n = 100000;
    std::string sql = t.name == "postgres"
                          ? "SELECT g AS x, 'row ' || g AS label FROM generate_series(1, ?::int) AS g"
                          : "WITH RECURSIVE s(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM s WHERE x < ?) "
                            "SELECT x, CONCAT('row ', x) AS label FROM s";
    if (t.name == "sqlite") sql = "WITH RECURSIVE s(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM s WHERE x < ?) "
                                  "SELECT x, 'row ' || x AS label FROM s";
    int64_t sum = 0;
    size_t rows = 0;
    std::string last;
    Session s = conn.acquire();
    if (t.name == "mysql") s.execute("SET SESSION max_recursive_iterations = 200000");
    rows = s.stream(sql, {n}, [&](const Row &row) {
        sum += row[0].as<int64_t>();
        last = row[1].as<std::string>();
    });
    CHECK(rows == static_cast<size_t>(n));
    CHECK(sum == int64_t(n) * (n + 1) / 2);
    CHECK(last == "row 100000");
    // The session is usable after a long stream.
    CHECK(s.query("SELECT 1").front()[0].as<int>() == 1);
}
CONFORMANCE_CASE("100k rows stream in batches", streams_many_rows)

void transactions_commit_and_rollback(const Target &t) {
    TempDir dir;
    Database db = open_target(dir, t);
    auto conn = db.on("db");
    Table table{conn, unique_name("tx")};
    conn.execute("CREATE TABLE " + table.name + " (v INTEGER)");
    conn.transaction([&](Session &s) { s.execute("INSERT INTO " + table.name + " VALUES (1)"); });
    {
        Transaction tx = conn.begin();
        tx.execute("INSERT INTO " + table.name + " VALUES (2)");
        tx.rollback();
    }
    try {
        conn.transaction([&](Session &s) {
            s.execute("INSERT INTO " + table.name + " VALUES (3)");
            s.execute("INSERT INTO no_such_table_xyz VALUES (1)");
        });
        FAIL("no error");
    } catch (const Error &e) {
        CHECK(e.error_class() == ErrorClass::syntax);
    }
    Result r = conn.query("SELECT v FROM " + table.name + " ORDER BY v");
    REQUIRE(r.size() == 1);
    CHECK(r[0][0].as<int>() == 1);
    CHECK(conn.pool_status().in_use == 0);
}
CONFORMANCE_CASE("transactions commit and roll back", transactions_commit_and_rollback)

void error_classes(const Target &t) {
    TempDir dir;
    Database db = open_target(dir, t);
    auto conn = db.on("db");
    Table table{conn, unique_name("err")};
    conn.execute("CREATE TABLE " + table.name + " (id INTEGER PRIMARY KEY)");
    conn.execute("INSERT INTO " + table.name + " VALUES (1)");
    try {
        conn.query("SELEKT 1");
        FAIL("bad SQL accepted");
    } catch (const Error &e) {
        CHECK(e.error_class() == ErrorClass::syntax);
        CHECK_FALSE(e.sqlstate().empty());
    }
    try {
        conn.execute("INSERT INTO " + table.name + " VALUES (1)");
        FAIL("duplicate accepted");
    } catch (const Error &e) {
        CHECK(e.error_class() == ErrorClass::constraint);
        CHECK(e.sqlstate().substr(0, 2) == "23");
    }
    if (!t.set_timeout_sql.empty()) {
        Session s = conn.acquire();
        s.execute(t.set_timeout_sql);
        try {
            s.query(t.sleep_sql);
            FAIL("the statement did not time out");
        } catch (const Error &e) {
            CHECK(e.error_class() == ErrorClass::timeout);
        }
    }
}
CONFORMANCE_CASE("error classes: bad SQL, unique violation, statement timeout", error_classes)

void server_errors(const Target &t) {
    if (!t.server) return; // an embedded database has no password or port
    {
        TempDir dir;
        auto s = t.name == "postgres" ? ilana_test::pg() : ilana_test::mysql();
        s.password = "wrong-password";
        dir.write("ilana.config.json", R"({"connections": {"db": {"client": ")" + t.client +
                                           R"(", "connection": )" + ilana_test::connection_json(s) + "}}}");
        Database db = Database::open(dir.file("ilana.config.json"), OpenOptions{"", {ILANA_TEST_PLUGIN_DIR}, {}});
        try {
            db.on("db").query("SELECT 1");
            FAIL("a wrong password was accepted");
        } catch (const Error &e) {
            CHECK(e.error_class() == ErrorClass::auth);
            CHECK(std::string(e.what()).find("wrong-password") == std::string::npos);
        }
    }
    {
        TempDir dir;
        auto s = t.name == "postgres" ? ilana_test::pg() : ilana_test::mysql();
        s.port = "1";
        dir.write("ilana.config.json", R"({"connections": {"db": {"client": ")" + t.client +
                                           R"(", "connection": )" + ilana_test::connection_json(s) + "}}}");
        Database db = Database::open(dir.file("ilana.config.json"), OpenOptions{"", {ILANA_TEST_PLUGIN_DIR}, {}});
        try {
            db.on("db").query("SELECT 1");
            FAIL("connected to a port where nothing listens");
        } catch (const Error &e) {
            CHECK(e.error_class() == ErrorClass::connection);
            CHECK(e.not_sent());
        }
    }
}
CONFORMANCE_CASE("error classes: wrong password, server not listening", server_errors)

void cancel_from_another_thread(const Target &t) {
    TempDir dir;
    Database db = open_target(dir, t);
    Session s = db.on("db").acquire();
    std::atomic<bool> started{false};
    std::thread canceller([&] {
        while (!started) std::this_thread::sleep_for(5ms);
        std::this_thread::sleep_for(300ms);
        s.cancel();
    });
    auto t0 = std::chrono::steady_clock::now();
    started = true;
    try {
        s.query(t.sleep_sql);
        FAIL("the statement was not canceled");
    } catch (const Error &e) {
        CHECK(e.error_class() == ErrorClass::canceled);
    }
    canceller.join();
    CHECK(std::chrono::steady_clock::now() - t0 < 5s);
    CHECK(s.query("SELECT 2").front()[0].as<int>() == 2); // still usable
}
CONFORMANCE_CASE("cancel stops a running statement", cancel_from_another_thread)

void introspection(const Target &t) {
    TempDir dir;
    Database db = open_target(dir, t);
    auto conn = db.on("db");
    Table table{conn, unique_name("intro")};
    conn.execute("CREATE TABLE " + table.name + " (id INTEGER NOT NULL PRIMARY KEY, email VARCHAR(100) NOT NULL, " +
                 "nick VARCHAR(50), score INTEGER DEFAULT 7)");
    conn.execute("CREATE INDEX " + table.name + "_email_score ON " + table.name + " (email, score)");
    Session s = conn.acquire();
    bool found = false;
    for (const auto &ti : s.tables())
        if (ti.name == table.name) {
            found = true;
            CHECK(ti.kind == "table");
        }
    CHECK(found);
    auto cols = s.columns(table.name);
    REQUIRE(cols.size() == 4);
    CHECK(cols[0].name == "id");
    CHECK(cols[0].primary_key);
    CHECK_FALSE(cols[0].nullable);
    CHECK(cols[1].name == "email");
    CHECK_FALSE(cols[1].nullable);
    CHECK_FALSE(cols[1].primary_key);
    CHECK(cols[2].name == "nick");
    CHECK(cols[2].nullable);
    CHECK_FALSE(cols[2].default_value.has_value());
    CHECK(cols[3].name == "score");
    REQUIRE(cols[3].default_value.has_value());
    CHECK(cols[3].default_value->find('7') != std::string::npos);
    for (size_t i = 0; i < cols.size(); ++i) CHECK(cols[i].ordinal == int(i + 1));
    bool index_found = false;
    for (const auto &ix : s.indexes(table.name))
        if (ix.name == table.name + "_email_score") {
            index_found = true;
            CHECK(ix.columns == std::vector<std::string>{"email", "score"});
            CHECK_FALSE(ix.unique);
            CHECK_FALSE(ix.primary);
        }
    CHECK(index_found);
}
CONFORMANCE_CASE("introspection of a table with a primary key, a nullable column, a default and an index",
                 introspection)

void threads_on_separate_sessions(const Target &t) {
    TempDir dir;
    Database db = open_target(dir, t);
    auto conn = db.on("db");
    std::atomic<int> ok{0};
    std::vector<std::thread> threads;
    for (int i = 0; i < 8; ++i)
        threads.emplace_back([&, i] {
            for (int k = 0; k < 20; ++k)
                if (conn.query("SELECT ? + ?", {i, k}).front()[0].as<int>() == i + k) ++ok;
        });
    for (auto &th : threads) th.join();
    CHECK(ok == 160);
    CHECK(conn.pool_status().in_use == 0);
}
CONFORMANCE_CASE("eight threads share a pool of four", threads_on_separate_sessions)

} // namespace
