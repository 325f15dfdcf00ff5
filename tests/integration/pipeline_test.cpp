// The batch API (Session/Connection::execute_many over "ilana.batch/1") on
// all three databases: PostgreSQL pipeline mode, MariaDB bulk execution,
// SQLite one statement per row in a transaction. Rows land with the right
// values, affected counts add up, and a failing row applies nothing.
#include <catch2/catch.hpp>

#include <ilana/ilana.hpp>

#include "configs.hpp"
#include "temp_dir.hpp"
#include "test_servers.hpp"

#include <unistd.h>

using namespace ilana;
using ilana_test::TempDir;

namespace {

struct Target {
    std::string name;       // connection name in the config
    std::string table;      // this test process's table
    bool pg = false;        // PostgreSQL: a failure aborts the caller's transaction
    bool names_row = true;  // the error names the failing row (MariaDB's bulk cannot)
};

Database open_db(const TempDir &dir, const std::string &connection_json) {
    dir.write("ilana.config.json", R"({"default": "x", "connections": {"x": )" + connection_json + "}}");
    return Database::open(dir.file("ilana.config.json"), OpenOptions{"", {ILANA_TEST_PLUGIN_DIR}, {}});
}

std::string table_name(const char *base) { return std::string(base) + "_" + std::to_string(::getpid()); }

// Connection "x" on a server (`client`, its "connection" object), pool of 2.
Database open_server_db(const TempDir &dir, const std::string &client, const std::string &connection_json) {
    return open_db(dir, R"({"client": ")" + client + R"(", "connection": )" + connection_json +
                            R"(, "pool": {"max": 2}})");
}

// Creates `table` afresh (dropping a leftover of an earlier run).
void recreate_table(Connection &c, const std::string &table, const std::string &columns) {
    c.execute("DROP TABLE IF EXISTS " + table);
    c.execute("CREATE TABLE " + table + " " + columns);
}

// Drops a server table at scope exit, whatever the test did.
struct DropTableAtExit {
    Connection c;
    std::string table;
    ~DropTableAtExit() {
        try {
            c.execute("DROP TABLE IF EXISTS " + table);
        } catch (...) {
        }
    }
};

int64_t count(const Connection &c, const std::string &table) {
    return c.query("SELECT count(*) FROM " + table).front().get<int64_t>(0);
}

std::vector<Params> rows_from(int first, int n) {
    std::vector<Params> rows;
    for (int i = first; i < first + n; ++i)
        rows.push_back({i, "name_" + std::to_string(i), i * 0.5});
    return rows;
}

void batch_contract(const Connection &c, const Target &t) {
    const std::string ins = "INSERT INTO " + t.table + " (id, name, score) VALUES (?, ?, ?)";

    SECTION("rows land with their values; affected rows add up") {
        std::vector<Params> rows = rows_from(1, 1000);
        rows[10][1] = Value();                       // a NULL among texts
        rows[11][1] = std::string("it's \"quoted\" ü");
        rows[12][2] = Value();                       // a NULL among doubles
        ExecResult r = c.execute_many(ins, rows);
        CHECK(r.affected_rows == 1000);
        CHECK(count(c, t.table) == 1000);
        CHECK(c.query("SELECT sum(id) FROM " + t.table).front().get<int64_t>(0) == 500500);
        Result row = c.query("SELECT name, score FROM " + t.table + " WHERE id = ?", {11});
        CHECK(row.front()[0].is_null());
        CHECK(row.front()[1].as<double>() == 5.5);
        CHECK(c.query("SELECT name FROM " + t.table + " WHERE id = ?", {12}).front().get<std::string>(0) ==
              "it's \"quoted\" ü");
        CHECK(c.query("SELECT score FROM " + t.table + " WHERE id = ?", {13}).front()[0].is_null());
        CHECK(c.query("SELECT name FROM " + t.table + " WHERE id = ?", {999}).front().get<std::string>(0) ==
              "name_999");
    }

    SECTION("an empty batch does nothing") {
        CHECK(c.execute_many(ins, {}).affected_rows == 0);
        CHECK(count(c, t.table) == 0);
    }

    SECTION("UPDATE rows add up their own counts") {
        c.execute_many(ins, rows_from(1, 10));
        std::vector<Params> upd;
        for (int i = 1; i <= 10; ++i) upd.push_back({i * 2.0, i <= 5 ? i : 1000 + i});
        ExecResult r = c.execute_many("UPDATE " + t.table + " SET score = ? WHERE id = ?", upd);
        CHECK(r.affected_rows == 5);
        CHECK(c.query("SELECT score FROM " + t.table + " WHERE id = 3").front().get<double>(0) == 6.0);
    }

    SECTION("a failing row applies nothing and names the row") {
        std::vector<Params> rows = rows_from(1, 50);
        rows[37][0] = 5; // duplicate primary key
        try {
            c.execute_many(ins, rows);
            FAIL("a duplicate key must fail the batch");
        } catch (const Error &e) {
            CHECK(e.error_class() == ErrorClass::constraint);
            if (t.names_row) CHECK(std::string(e.what()).find("batch row 38") != std::string::npos);
        }
        CHECK(count(c, t.table) == 0);
        // The connection is fine afterwards.
        CHECK(c.execute_many(ins, rows_from(1, 3)).affected_rows == 3);
        CHECK(count(c, t.table) == 3);
    }

    SECTION("inside a transaction: committed with it, or rolled back with it") {
        {
            Session s = c.acquire();
            s.begin();
            s.execute(ins, {1000, "before", 1.0});
            CHECK(s.execute_many(ins, rows_from(1, 20)).affected_rows == 20);
            s.rollback();
        }
        CHECK(count(c, t.table) == 0);
        {
            Session s = c.acquire();
            s.begin();
            CHECK(s.execute_many(ins, rows_from(1, 20)).affected_rows == 20);
            s.commit();
        }
        CHECK(count(c, t.table) == 20);
    }

    SECTION("a failure inside the caller's transaction") {
        Session s = c.acquire();
        s.begin();
        s.execute(ins, {1000, "before", 1.0});
        std::vector<Params> rows = rows_from(1, 10);
        rows[6][0] = 1;
        bool aborted = false;
        try {
            s.execute_many(ins, rows);
            FAIL("a duplicate key must fail the batch");
        } catch (const Error &e) {
            CHECK(e.error_class() == ErrorClass::constraint);
            aborted = e.aborted_transaction();
        }
        if (t.pg) {
            // PostgreSQL: the transaction is aborted, as by any failed statement.
            CHECK(aborted);
            s.rollback();
            CHECK(count(c, t.table) == 0);
        } else {
            // The batch's rows are undone; the transaction goes on.
            CHECK_FALSE(aborted);
            s.execute(ins, {1001, "after", 2.0});
            s.commit();
            CHECK(count(c, t.table) == 2);
            CHECK(c.query("SELECT count(*) FROM " + t.table + " WHERE id < 1000").front().get<int64_t>(0) == 0);
        }
    }

    SECTION("every row must match the placeholders") {
        std::vector<Params> rows = rows_from(1, 3);
        rows[1].pop_back();
        CHECK_THROWS_WITH(c.execute_many(ins, rows), Catch::Contains("batch row 2") && Catch::Contains("2 parameter"));
        CHECK(count(c, t.table) == 0);
    }

    SECTION("many rows with long values (several packets / chunks)") {
        std::vector<Params> rows;
        const std::string big(1500, 'x');
        for (int i = 1; i <= 6000; ++i) rows.push_back({i, big + std::to_string(i), i * 1.0});
        CHECK(c.execute_many(ins, rows).affected_rows == 6000);
        CHECK(count(c, t.table) == 6000);
        CHECK(c.query("SELECT sum(id) FROM " + t.table).front().get<int64_t>(0) == 6000LL * 6001 / 2);
    }

    SECTION("a column whose values change type between rows") {
        std::vector<Params> rows = rows_from(1, 4);
        rows[2][2] = 7; // an integer among doubles
        CHECK(c.execute_many(ins, rows).affected_rows == 4);
        CHECK(c.query("SELECT score FROM " + t.table + " WHERE id = 3").front().get<double>(0) == 7.0);
    }
}

} // namespace

TEST_CASE("execute_many on SQLite", "[pipeline][sqlite]") {
    TempDir dir;
    Database db = open_db(dir, R"({"client": "sqlite3", "connection": {"filename": "./batch.sqlite"}, "pool": {"max": 2}})");
    Connection c = db.on("x");
    Target t{"x", "batch_items", false, true};
    c.execute("CREATE TABLE batch_items (id INTEGER PRIMARY KEY, name TEXT, score REAL)");
    batch_contract(c, t);
}

TEST_CASE("execute_many on PostgreSQL (pipeline mode)", "[pipeline][pg]") {
    ILANA_REQUIRE_PG();
    TempDir dir;
    Database db = open_server_db(dir, "pg", ilana_test::pg_connection_json());
    Connection c = db.on("x");
    Target t{"x", table_name("batch_items"), true, true};
    recreate_table(c, t.table, "(id int PRIMARY KEY, name text, score float8)");
    DropTableAtExit drop{c, t.table};
    batch_contract(c, t);

    SECTION("INSERT ... RETURNING counts its rows; rows are read and dropped") {
        std::vector<Params> rows = rows_from(1, 100);
        CHECK(c.execute_many("INSERT INTO " + t.table + " (id, name, score) VALUES (?, ?, ?) RETURNING id", rows)
                  .affected_rows == 100);
        CHECK(count(c, t.table) == 100);
    }

    SECTION("prepared statements the server forgot are prepared again") {
        Session s = c.acquire();
        CHECK(s.execute_many("INSERT INTO " + t.table + " (id, name, score) VALUES (?, ?, ?)", rows_from(1, 5))
                  .affected_rows == 5);
        s.execute("DEALLOCATE ALL");
        CHECK(s.execute_many("INSERT INTO " + t.table + " (id, name, score) VALUES (?, ?, ?)", rows_from(6, 5))
                  .affected_rows == 5);
        CHECK(count(c, t.table) == 10);
    }

    SECTION("a server error in the middle of many rows: none applied, session usable") {
        std::vector<Params> rows = rows_from(1, 5000);
        rows[4321][2] = std::string("not a number"); // text for float8: 22P02 at row 4322
        CHECK_THROWS_AS(c.execute_many("INSERT INTO " + t.table + " (id, name, score) VALUES (?, ?, ?)", rows),
                        Error);
        CHECK(count(c, t.table) == 0);
        CHECK(c.query("SELECT 1").front().get<int>(0) == 1);
    }
}

TEST_CASE("execute_many on MariaDB (bulk execution)", "[pipeline][mysql]") {
    ILANA_REQUIRE_MYSQL();
    TempDir dir;
    Database db = open_server_db(dir, "mysql", ilana_test::mysql_connection_json());
    Connection c = db.on("x");
    Target t{"x", table_name("batch_items"), false, false};
    recreate_table(c, t.table, "(id INT PRIMARY KEY, name TEXT, score DOUBLE) ENGINE=InnoDB");
    DropTableAtExit drop{c, t.table};
    batch_contract(c, t);
}
