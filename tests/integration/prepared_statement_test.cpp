// Prepared statements (Connection::prepare, Session::prepare; ABI 1.4
// "ilana.prepare/1") on every bundled driver against the real servers:
// per call and on a held session, typed reads, a lost session, a schema
// change, many threads, and the mistakes a caller can make.
#include <catch2/catch.hpp>

#include <ilana/ilana.hpp>

#include "configs.hpp"

#include <atomic>
#include <chrono>
#include <functional>
#include <thread>
#include <tuple>
#include <vector>

using namespace ilana;
using ilana_test::TempDir;

namespace {

struct Target {
    const char *client;
    std::string connection; // JSON
    const char *timestamp_type;
};

Target target(const std::string &which, const TempDir &dir) {
    if (which == "pg") return {"pg", ilana_test::pg_connection_json(), "TIMESTAMP"};
    if (which == "mysql") return {"mysql", ilana_test::mysql_connection_json(), "DATETIME(6)"};
    return {"sqlite3", "{\"filename\": \"" + dir.file("t.sqlite") + "\"}", "DATETIME"};
}

Database open_db(const TempDir &dir, const Target &t, const std::string &pool = R"({"min": 0, "max": 4})") {
    dir.write("ilana.config.json", std::string(R"({"connections": {"db": {"client": ")") + t.client +
                                       R"(", "connection": )" + t.connection + R"(, "pool": )" + pool + "}}}");
    return Database::open(dir.file("ilana.config.json"), OpenOptions{"", {ILANA_TEST_PLUGIN_DIR}, {}});
}

// A table of `rows` rows: id, name 'n<id>', score id / 2, created 2026-12-07 00:00:<id % 60>.
void make_table(const Connection &c, const Target &t, const std::string &table, int rows) {
    c.execute("DROP TABLE IF EXISTS " + table);
    c.execute("CREATE TABLE " + table + " (id INTEGER PRIMARY KEY, name VARCHAR(40) NOT NULL, score DOUBLE PRECISION, created " +
              t.timestamp_type + ")");
    Statement insert = c.prepare("INSERT INTO " + table + " (id, name, score, created) VALUES (?, ?, ?, ?)");
    for (int i = 1; i <= rows; ++i)
        insert.execute({i, "n" + std::to_string(i), i / 2.0, Timestamp::from_parts(2026, 12, 7, 0, 0, i % 60)});
}

struct Item {
    int64_t id = 0;
    std::string name;
    double score = 0;
    static constexpr auto fields =
        std::make_tuple(ilana::field("id", &Item::id), ilana::field("name", &Item::name), ilana::field("score", &Item::score));
};

// The server `which` names, or skip the section (a macro: the REQUIRE
// macros return from the test when they skip).
#define REQUIRE_SERVER_OF(which)                    \
    do {                                            \
        if ((which) == "pg") ILANA_REQUIRE_PG();       \
        if ((which) == "mysql") ILANA_REQUIRE_MYSQL(); \
    } while (0)

// One database of `which` ("sqlite", "pg", "mysql") with connection "db"
// (pool `pool`) and `table` filled with `rows` rows (make_table).
struct Setup {
    Setup(const std::string &which, const std::string &table, int rows,
          const std::string &pool = R"({"min": 0, "max": 4})")
        : t(target(which, dir)), db(open_db(dir, t, pool)), c(db.on("db")) {
        make_table(c, t, table, rows);
    }
    TempDir dir;
    Target t;
    Database db;
    Connection c;
};

} // namespace

TEST_CASE("prepared statements: per call and on a held session, typed reads, counts", "[prepared]") {
    const std::string which = GENERATE(std::string("sqlite"), std::string("pg"), std::string("mysql"));
    SECTION(which) {
        REQUIRE_SERVER_OF(which);
        Setup fx(which, "ilana_prep_basic", 50);
        Database &db = fx.db;
        Connection &c = fx.c;

        Statement by_id = c.prepare("SELECT id, name, score, created FROM ilana_prep_basic WHERE id = ?");
        CHECK(by_id);
        CHECK(by_id.param_count() == 1);
        CHECK(by_id.connection_name() == "db");
        CHECK(by_id.sql() == "SELECT id, name, score, created FROM ilana_prep_basic WHERE id = ?");

        // Per call: a whole Result.
        Result r = by_id.query({7});
        REQUIRE(r.size() == 1);
        CHECK(r[0]["name"].as<std::string>() == "n7");
        CHECK(r[0]["created"].as<Timestamp>() == Timestamp::from_parts(2026, 12, 7, 0, 0, 7));

        // Typed reads: a tuple by position, a struct by its fields, one value.
        auto row = by_id.query_one<std::tuple<int64_t, std::string, double, Timestamp>>({9});
        REQUIRE(row);
        CHECK(std::get<0>(*row) == 9);
        CHECK(std::get<1>(*row) == "n9");
        CHECK(std::get<2>(*row) == 4.5);
        CHECK(std::get<3>(*row) == Timestamp::from_parts(2026, 12, 7, 0, 0, 9));
        std::optional<Item> item = by_id.query_one<Item>({10});
        REQUIRE(item);
        CHECK(item->id == 10);
        CHECK(item->name == "n10");
        CHECK(item->score == 5.0);
        CHECK(by_id.query_one<int64_t>({11}) == std::optional<int64_t>(11));
        CHECK_FALSE(by_id.query_one<Item>({999}).has_value()); // no row: nullopt

        // On a held session, inside a transaction: the statement sees it.
        Statement rename = c.prepare("UPDATE ilana_prep_basic SET name = ? WHERE id = ?");
        {
            Transaction tx = c.begin();
            ExecResult changed = rename.execute(tx.session(), {"renamed", 3});
            CHECK(changed.affected_rows == 1);
            CHECK(by_id.query_one<Item>(tx.session(), {3})->name == "renamed");
            tx.rollback();
        }
        CHECK(by_id.query_one<Item>({3})->name == "n3");

        // for_each: rows as the driver hands them over, as a Row or converted.
        Statement range = c.prepare("SELECT id, name, score FROM ilana_prep_basic WHERE id BETWEEN ? AND ? ORDER BY id");
        Session s = c.acquire();
        int64_t sum = 0;
        size_t n = range.for_each(s, {1, 20}, [&](const Row &rw) { sum += rw[0].as<int64_t>(); });
        CHECK(n == 20);
        CHECK(sum == 210);
        std::vector<Item> items;
        n = range.for_each({5, 8}, [&](Item it) { items.push_back(std::move(it)); });
        CHECK(n == 4);
        REQUIRE(items.size() == 4);
        CHECK(items[3].name == "n8");
        std::vector<std::tuple<int64_t, std::string>> pairs;
        range.for_each(s, {49, 60}, [&](std::tuple<int64_t, std::string> p) { pairs.push_back(std::move(p)); });
        REQUIRE(pairs.size() == 2);
        CHECK(std::get<1>(pairs[1]) == "n50");
        // stream: as Connection::stream.
        size_t streamed = range.stream({1, 50}, [&](const Row &) {});
        CHECK(streamed == 50);
        // A whole Result on the held session, many times (the handle is found, not prepared again).
        for (int i = 1; i <= 50; ++i) REQUIRE(by_id.query(s, {i})[0]["id"].as<int64_t>() == i);

        // Copies share the statement; metrics count every call.
        Statement copy = by_id;
        CHECK(copy.query({2}).size() == 1);
        const auto before = db.metrics();
        for (int i = 0; i < 10; ++i) copy.query_one<Item>({i + 1});
        const auto after = db.metrics();
        REQUIRE(after.pools.size() == 1);
        CHECK(after.pools[0].queries_ok - before.pools[0].queries_ok == 10);
    }
}

TEST_CASE("prepared statements: StatementOptions bound every kind of call, and the statement goes on", "[prepared]") {
    const std::string which = GENERATE(std::string("sqlite"), std::string("pg"), std::string("mysql"));
    SECTION(which) {
        REQUIRE_SERVER_OF(which);
        Setup fx(which, "ilana_prep_options", 1);
        // Seconds of work unless stopped, or none for a zero/small parameter.
        const char *slow = which == "pg"      ? "SELECT count(*) AS v FROM (SELECT pg_sleep(?)) AS s"
                           : which == "mysql" ? "SELECT SLEEP(?) AS v"
                                              : "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < ?) "
                                                "SELECT count(*) AS v FROM c";
        const Value long_run = which == "sqlite" ? Value(int64_t(300000000)) : Value(5.0);
        const Value short_run = which == "sqlite" ? Value(int64_t(10)) : Value(0.0);
        Statement st = fx.c.prepare(slow);
        StatementOptions bounded;
        bounded.timeout_ms = 200;
        Session held = fx.c.acquire();
        auto expect_timeout = [&](const char *call, const std::function<void()> &run) {
            INFO(call);
            const auto start = std::chrono::steady_clock::now();
            try {
                run();
                FAIL("the call outlived its 200 ms timeout");
            } catch (const Error &e) {
                INFO(e.what());
                CHECK(e.error_class() == ErrorClass::timeout);
                CHECK(std::string(e.what()).find("200 ms") != std::string::npos);
            }
            CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(4));
        };
        expect_timeout("query_one per call", [&] { st.query_one<int64_t>({long_run}, bounded); });
        expect_timeout("for_each per call", [&] { st.for_each({long_run}, [](const Row &) {}, bounded); });
        expect_timeout("stream per call", [&] { st.stream({long_run}, [](const Row &) {}, bounded); });
        expect_timeout("query_one on a held session", [&] { st.query_one<int64_t>(held, {long_run}, bounded); });
        expect_timeout("for_each on a held session",
                       [&] { st.for_each(held, {long_run}, [](int64_t) {}, bounded); });
        // The same statement and session go on, under the same bound.
        CHECK(st.query_one<int64_t>(held, {short_run}, bounded).has_value());
        size_t rows = st.for_each({short_run}, [](const Row &) {}, bounded);
        CHECK(rows == 1);
        // An out-of-range option is refused before anything runs.
        StatementOptions wrong;
        wrong.timeout_ms = -1;
        CHECK_THROWS_WITH(st.query_one<int64_t>({short_run}, wrong),
                          Catch::Contains("StatementOptions::timeout_ms must be milliseconds"));
    }
}

TEST_CASE("prepared statements: the mistakes a caller can make get clear errors", "[prepared]") {
    const std::string which = GENERATE(std::string("sqlite"), std::string("pg"), std::string("mysql"));
    SECTION(which) {
        REQUIRE_SERVER_OF(which);
        Setup fx(which, "ilana_prep_errors", 3);
        TempDir &dir = fx.dir;
        Connection &c = fx.c;

        // The database refuses the SQL at prepare, with its own error and the SQL.
        try {
            c.prepare("SELEC id FROM ilana_prep_errors WHERE id = ?");
            FAIL("a syntax error was accepted at prepare");
        } catch (const Error &e) {
            INFO(e.what());
            CHECK(e.error_class() == ErrorClass::syntax);
            CHECK(e.connection() == "db");
            CHECK(e.sql().find("SELEC id") != std::string::npos);
        }
        try {
            c.prepare("SELECT id FROM ilana_prep_no_such_table WHERE id = ?");
            FAIL("an unknown table was accepted at prepare");
        } catch (const Error &e) {
            INFO(e.what());
            CHECK(std::string(e.what()).find("ilana_prep_no_such_table") != std::string::npos);
        }

        // Errors show the SQL as the caller wrote it (?, not the driver's $1),
        // prepared or not.
        try {
            c.query("SELECT nme FROM ilana_prep_errors WHERE id = ?", {1});
            FAIL("an unknown column was accepted");
        } catch (const Error &e) {
            INFO(e.what());
            CHECK(e.sql() == "SELECT nme FROM ilana_prep_errors WHERE id = ?");
        }
        try {
            c.prepare("SELECT nme FROM ilana_prep_errors WHERE id = ?");
            FAIL("an unknown column was accepted at prepare");
        } catch (const Error &e) {
            INFO(e.what());
            CHECK(e.sql() == "SELECT nme FROM ilana_prep_errors WHERE id = ?");
        }

        Statement st = c.prepare("SELECT name FROM ilana_prep_errors WHERE id = ?");
        // Wrong parameter count: named, nothing sent.
        try {
            st.query({1, 2});
            FAIL("two parameters for one placeholder were accepted");
        } catch (const Error &e) {
            INFO(e.what());
            CHECK(std::string(e.what()).find("1 ? placeholder(s) but 2 parameter(s)") != std::string::npos);
        }
        // An empty statement says how to make one.
        Statement empty;
        CHECK_FALSE(empty);
        CHECK_THROWS_WITH(empty.query({1}), Catch::Contains("Connection::prepare"));
        // A session of another connection is refused by name.
        dir.write("two.json", std::string(R"({"default": "a", "connections": {"a": {"client": "sqlite3", "connection": {"filename": ")") +
                                  dir.file("a.sqlite") + R"("}}, "b": {"client": "sqlite3", "connection": {"filename": ")" +
                                  dir.file("b.sqlite") + R"("}}}})");
        Database two = Database::open(dir.file("two.json"), OpenOptions{"", {ILANA_TEST_PLUGIN_DIR}, {}});
        Statement on_a = two.on("a").prepare("SELECT 1");
        Session of_b = two.on("b").acquire();
        CHECK_THROWS_WITH(on_a.query(of_b), Catch::Contains("prepared on connection 'a'") && Catch::Contains("'b'"));
        // The statement still works after each mistake.
        CHECK(st.query_one<std::string>({2}) == std::optional<std::string>("n2"));
    }
}

TEST_CASE("prepared statements: a schema change reports the database's error at most once, then the new schema",
          "[prepared]") {
    const std::string which = GENERATE(std::string("sqlite"), std::string("pg"), std::string("mysql"));
    SECTION(which) {
        REQUIRE_SERVER_OF(which);
        Setup fx(which, "ilana_prep_schema", 3, R"({"min": 0, "max": 1})"); // one session: every call on the same one
        Connection &c = fx.c;
        Statement all = c.prepare("SELECT * FROM ilana_prep_schema WHERE id = ?");
        REQUIRE(all.query({1}).columns().size() == 4);

        c.execute("ALTER TABLE ilana_prep_schema ADD COLUMN extra INTEGER DEFAULT 7");
        int failures = 0;
        Result r;
        for (int attempt = 0; attempt < 2; ++attempt) {
            try {
                r = all.query({1});
                break;
            } catch (const Error &e) {
                INFO(e.what());
                ++failures; // PostgreSQL: "cached plan must not change result type"
                CHECK(e.sql().find("SELECT * FROM ilana_prep_schema") != std::string::npos);
            }
        }
        CHECK(failures <= 1);
        REQUIRE(r.size() == 1);
        REQUIRE(r.columns().size() == 5);
        CHECK(r[0]["extra"].as<int64_t>() == 7);

        // A table gone: every call fails with the database's error naming it...
        c.execute("DROP TABLE ilana_prep_schema");
        for (int i = 0; i < 2; ++i) {
            try {
                all.query({1});
                FAIL("a statement on a dropped table ran");
            } catch (const Error &e) {
                INFO(e.what());
                CHECK(std::string(e.what()).find("ilana_prep_schema") != std::string::npos);
            }
        }
        // ... until it is back, with other columns: prepared again, the new ones.
        c.execute("CREATE TABLE ilana_prep_schema (id INTEGER PRIMARY KEY, label VARCHAR(10))");
        c.execute("INSERT INTO ilana_prep_schema (id, label) VALUES (1, 'back')");
        Result back = all.query({1});
        REQUIRE(back.size() == 1);
        REQUIRE(back.columns().size() == 2);
        CHECK(back[0]["label"].as<std::string>() == "back");
    }
}

TEST_CASE("prepared statements: a lost session takes its statement along and the next one prepares it again",
          "[prepared]") {
    const std::string which = GENERATE(std::string("pg"), std::string("mysql"));
    SECTION(which) {
        REQUIRE_SERVER_OF(which);
        Setup fx(which, "ilana_prep_lost", 5, R"({"min": 0, "max": 1})");
        TempDir &dir = fx.dir;
        const Target &t = fx.t;
        Connection &c = fx.c;
        Statement by_id = c.prepare("SELECT name FROM ilana_prep_lost WHERE id = ?");
        const char *pid_sql = which == "pg" ? "SELECT pg_backend_pid()" : "SELECT CONNECTION_ID()";
        const int64_t pid = c.query(pid_sql)[0][0].as<int64_t>();
        CHECK(by_id.query_one<std::string>({1}) == std::optional<std::string>("n1"));

        // Killed from outside, as a server restart or a proxy would.
        Database other = open_db(dir, t);
        if (which == "pg") other.on("db").query("SELECT pg_terminate_backend(CAST(? AS INTEGER))", {pid});
        else other.on("db").execute("KILL " + std::to_string(pid));
        std::this_thread::sleep_for(std::chrono::milliseconds(200));

        // Per call: a read on a lost connection is retried on a new session,
        // where the statement is prepared again.
        CHECK(by_id.query_one<std::string>({2}) == std::optional<std::string>("n2"));
        CHECK(c.query(pid_sql)[0][0].as<int64_t>() != pid);
        CHECK(c.pool_status().created >= 2);
        for (int i = 1; i <= 5; ++i)
            CHECK(by_id.query_one<std::string>({i}) == std::optional<std::string>("n" + std::to_string(i)));
    }
}

TEST_CASE("prepared statements: one statement from many threads over a small pool", "[prepared][threads]") {
    const std::string which = GENERATE(std::string("sqlite"), std::string("pg"), std::string("mysql"));
    SECTION(which) {
        REQUIRE_SERVER_OF(which);
        Setup fx(which, "ilana_prep_threads", 100, R"({"min": 0, "max": 6})");
        Connection &c = fx.c;
        Statement by_id = c.prepare("SELECT id, name FROM ilana_prep_threads WHERE id = ?");
        std::atomic<int> wrong{0}, done{0};
        std::vector<std::thread> threads;
        for (int th = 0; th < 12; ++th) {
            threads.emplace_back([&, th] {
                // Four threads hold a session each; eight share the two
                // others, leasing one per call.
                std::optional<Session> held;
                if (th % 3 == 0) held.emplace(c.acquire());
                for (int i = 0; i < 200; ++i) {
                    const int id = 1 + (th * 37 + i) % 100;
                    auto row = held ? by_id.query_one<std::tuple<int64_t, std::string>>(*held, {id})
                                    : by_id.query_one<std::tuple<int64_t, std::string>>({id});
                    if (!row || std::get<0>(*row) != id || std::get<1>(*row) != "n" + std::to_string(id)) ++wrong;
                    ++done;
                }
            });
        }
        for (auto &th : threads) th.join();
        CHECK(wrong == 0);
        CHECK(done == 12 * 200);
        CHECK(c.pool_status().created <= 6);
    }
}
