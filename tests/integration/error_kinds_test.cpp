// Errors a caller catches by kind (<ilana/error.hpp>), on every bundled
// driver against the real servers: constraint violations by kind with the
// constraint's name, deadlocks and serialization failures, statement
// timeouts, cancels, lost connections and writes whose outcome is unknown.
// Every statement error shows the start of its SQL once, from the core, and
// never a bound value.
#include <catch2/catch.hpp>

#include <ilana/ilana.hpp>
#include <ilana/retry.hpp>

#include "configs.hpp"

#include <atomic>
#include <chrono>
#include <functional>
#include <string>
#include <thread>

using namespace ilana;
using namespace std::chrono;
using ilana_test::TempDir;

namespace {

Database open_db(const TempDir &dir, const std::string &which) {
    std::string conn;
    if (which == "pg") conn = R"("client": "pg", "connection": )" + ilana_test::pg_connection_json();
    else if (which == "mysql") conn = R"("client": "mysql", "connection": )" + ilana_test::mysql_connection_json();
    else conn = R"("client": "sqlite3", "connection": {"filename": ")" + dir.file("t.sqlite") + R"("})";
    dir.write("ilana.config.json", R"({"connections": {"db": {)" + conn + R"(, "pool": {"max": 4}}}})");
    return Database::open(dir.file("ilana.config.json"), OpenOptions{"", {ILANA_TEST_PLUGIN_DIR}, {}});
}

void require_server(const std::string &which) {
    if (which == "pg") ILANA_REQUIRE_PG();
    if (which == "mysql") ILANA_REQUIRE_MYSQL();
}

// Runs `body`, which must throw E (or a subclass), and hands the caught
// error (its dynamic type intact) to `check`.
template <class E>
void expect_throw(const std::function<void()> &body, const std::function<void(const E &)> &check) {
    try {
        body();
    } catch (const E &e) {
        INFO(e.what());
        check(e);
        return;
    } catch (const Error &e) {
        FAIL("another kind of error: " << e.what() << " (class " << to_string(e.error_class()) << ")");
    }
    FAIL("nothing was thrown");
}

size_t count_of(const std::string &text, const std::string &part) {
    size_t n = 0;
    for (size_t p = text.find(part); p != std::string::npos; p = text.find(part, p + 1)) ++n;
    return n;
}

} // namespace

TEST_CASE("constraint violations are caught by kind, with the constraint's name and the SQL's start",
          "[errors][pg][mysql]") {
    const std::string which = GENERATE(std::string("sqlite"), std::string("pg"), std::string("mysql"));
    SECTION(which) {
        require_server(which);
        TempDir dir;
        Database db = open_db(dir, which);
        Session s = db.on("db").acquire();
        s.execute("DROP TABLE IF EXISTS ek_child");
        s.execute("DROP TABLE IF EXISTS ek_parent");
        s.execute("CREATE TABLE ek_parent (id INT PRIMARY KEY)");
        s.execute("CREATE TABLE ek_child (id INT PRIMARY KEY, parent_id INT, qty INT NOT NULL, code VARCHAR(40), "
                  "CONSTRAINT ek_child_parent_fk FOREIGN KEY (parent_id) REFERENCES ek_parent (id), "
                  "CONSTRAINT ek_child_code_uq UNIQUE (code), "
                  "CONSTRAINT ek_child_qty_positive CHECK (qty > 0))");
        s.execute("INSERT INTO ek_parent (id) VALUES (?)", {1});
        s.execute("INSERT INTO ek_child (id, parent_id, qty, code) VALUES (?, ?, ?, ?)", {1, 1, 5, "code-a"});

        // A bound value that must never show: the duplicate code itself.
        const std::string secret = "code-a";
        const std::string insert = "INSERT INTO ek_child (id, parent_id, qty, code) VALUES (?, ?, ?, ?)";

        expect_throw<UniqueViolation>([&] { s.execute(insert, {2, 1, 5, secret}); }, [&](const UniqueViolation &e) {
            CHECK(e.error_class() == ErrorClass::constraint);
            CHECK(e.sql().rfind("INSERT INTO ek_child (id, parent_id, qty, code) VALUES (", 0) == 0);
            CHECK(count_of(e.what(), "INSERT INTO ek_child") == 1); // once: the driver no longer adds it
            CHECK(count_of(e.what(), " [SQL: ") == 1);
            CHECK(std::string(e.what()).find(secret) == std::string::npos);
            // SQLite names the columns of a UNIQUE constraint, not the constraint.
            CHECK(e.constraint_name() == (which == "sqlite" ? "" : "ek_child_code_uq"));
        });
        expect_throw<ForeignKeyViolation>([&] { s.execute(insert, {3, 99, 5, "code-b"}); },
                                          [&](const ForeignKeyViolation &e) {
                                              CHECK(e.constraint_name() == (which == "sqlite" ? "" : "ek_child_parent_fk"));
                                              CHECK_FALSE(e.sql().empty());
                                          });
        expect_throw<CheckViolation>([&] { s.execute(insert, {4, 1, -7, "code-c"}); }, [&](const CheckViolation &e) {
            CHECK(e.constraint_name() == "ek_child_qty_positive"); // SQLite names a named CHECK too
        });
        expect_throw<NotNullViolation>([&] { s.execute(insert, {5, 1, Value(), "code-d"}); },
                                       [&](const NotNullViolation &e) {
                                           CHECK(e.error_class() == ErrorClass::constraint);
                                           CHECK(dynamic_cast<const UniqueViolation *>(&e) == nullptr);
                                       });

        // Any of them is a ConstraintViolation, and an Error.
        CHECK_THROWS_AS(s.execute(insert, {6, 1, 5, secret}), ConstraintViolation);
        CHECK_THROWS_AS(s.execute(insert, {6, 1, 5, secret}), Error);
        // A batch row keeps its kind and says which row.
        try {
            s.execute_many(insert, {{7, 1, 5, "code-e"}, {8, 1, 5, secret}});
            FAIL("the batch inserted a duplicate");
        } catch (const UniqueViolation &e) {
            INFO(e.what());
            CHECK(e.sql().rfind("INSERT INTO ek_child", 0) == 0);
            CHECK(std::string(e.what()).find(secret) == std::string::npos);
        }
        // The same through Connection (statement retry passes them through).
        CHECK_THROWS_AS(db.on("db").execute(insert, {9, 1, 5, secret}), UniqueViolation);
        s.execute("DROP TABLE ek_child");
        s.execute("DROP TABLE ek_parent");
    }
}

TEST_CASE("a statement timeout is a TimeoutError and a cancel a StatementCanceled", "[errors][pg][mysql]") {
    const std::string which = GENERATE(std::string("sqlite"), std::string("pg"), std::string("mysql"));
    SECTION(which) {
        require_server(which);
        TempDir dir;
        Database db = open_db(dir, which);
        const std::string slow = which == "pg"      ? "SELECT pg_sleep(5)"
                                 : which == "mysql" ? "SELECT SLEEP(5)"
                                                    : "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c "
                                                      "WHERE x < 300000000) SELECT count(*) FROM c";
        Session s = db.on("db").acquire();
        StatementOptions limited;
        limited.timeout_ms = 300;
        expect_throw<TimeoutError>([&] { s.query(slow, {}, limited); }, [&](const TimeoutError &e) {
            CHECK(e.error_class() == ErrorClass::timeout);
            CHECK(e.sql().compare(0, 40, slow, 0, 40) == 0); // its start (SQLite's is cut at 120 bytes)
            CHECK(dynamic_cast<const PoolTimeout *>(&e) == nullptr);
        });

        std::atomic<bool> stop{false};
        std::thread canceller([&] {
            std::this_thread::sleep_for(milliseconds(400));
            while (!stop) {
                try {
                    s.cancel();
                } catch (...) {
                }
                std::this_thread::sleep_for(milliseconds(200));
            }
        });
        try {
            expect_throw<StatementCanceled>([&] { s.query(slow); }, [&](const StatementCanceled &e) {
                CHECK(e.error_class() == ErrorClass::canceled);
                CHECK_FALSE(e.sql().empty());
            });
        } catch (...) {
            stop = true;
            canceller.join();
            throw;
        }
        stop = true;
        canceller.join();
        CHECK(s.query("SELECT 1").size() == 1); // the session goes on
    }
}

TEST_CASE("a pool timeout is a TimeoutError and stays a PoolTimeout", "[errors]") {
    TempDir dir;
    dir.write("ilana.config.json", R"({"connections": {"db": {"client": "sqlite3", "connection": {"filename": ")" +
                                       dir.file("t.sqlite") +
                                       R"("}, "pool": {"max": 1, "acquireTimeoutMillis": 100}}}})");
    Database db = Database::open(dir.file("ilana.config.json"), OpenOptions{"", {ILANA_TEST_PLUGIN_DIR}, {}});
    Session held = db.on("db").acquire();
    try {
        db.on("db").acquire();
        FAIL("a second lease from a pool of one");
    } catch (const TimeoutError &e) {
        CHECK(dynamic_cast<const PoolTimeout *>(&e) != nullptr);
        CHECK(e.error_class() == ErrorClass::timeout);
        CHECK(e.sql().empty()); // not a statement's failure
    }
}

TEST_CASE("PostgreSQL: deadlock and serialization failure by kind, both SerializationFailure", "[errors][pg]") {
    ILANA_REQUIRE_PG();
    TempDir dir;
    Database db = open_db(dir, "pg");
    Connection conn = db.on("db");
    conn.execute("DROP TABLE IF EXISTS ek_rows");
    conn.execute("CREATE TABLE ek_rows (id int PRIMARY KEY, v int)");
    conn.execute("INSERT INTO ek_rows VALUES (1, 0), (2, 0)");

    SECTION("serialization failure (40001) under REPEATABLE READ") {
        Session a = conn.acquire(), b = conn.acquire();
        a.begin();
        a.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ");
        a.query("SELECT v FROM ek_rows WHERE id = 1"); // takes the snapshot
        b.execute("UPDATE ek_rows SET v = v + 1 WHERE id = 1");
        expect_throw<SerializationFailure>([&] { a.execute("UPDATE ek_rows SET v = v + 10 WHERE id = 1"); },
                                           [&](const SerializationFailure &e) {
                                               CHECK(e.sqlstate() == "40001");
                                               CHECK(dynamic_cast<const DeadlockDetected *>(&e) == nullptr);
                                               CHECK(e.is_transient());
                                               CHECK(e.sql() == "UPDATE ek_rows SET v = v + 10 WHERE id = 1");
                                           });
        a.rollback();
    }
    SECTION("deadlock (40P01) between two sessions") {
        Session a = conn.acquire(), b = conn.acquire();
        a.begin();
        b.begin();
        a.execute("UPDATE ek_rows SET v = 1 WHERE id = 1");
        b.execute("UPDATE ek_rows SET v = 2 WHERE id = 2");
        std::atomic<int> deadlocks{0};
        std::string other_error;
        std::thread t([&] {
            try {
                b.execute("UPDATE ek_rows SET v = 2 WHERE id = 1"); // waits for a
            } catch (const DeadlockDetected &) {
                ++deadlocks;
            } catch (const std::exception &e) {
                other_error = e.what();
            }
        });
        std::this_thread::sleep_for(milliseconds(200));
        try {
            a.execute("UPDATE ek_rows SET v = 1 WHERE id = 2"); // closes the cycle
        } catch (const DeadlockDetected &e) {
            ++deadlocks;
            CHECK(e.sqlstate() == "40P01");
            const SerializationFailure &as_conflict = e; // the same remedy: run the transaction again
            CHECK(as_conflict.is_transient());
        }
        t.join();
        CHECK(other_error.empty());
        CHECK(deadlocks == 1); // the server rolled back exactly one of them
        a.rollback();
        b.rollback();
    }
    conn.execute("DROP TABLE ek_rows");
}

TEST_CASE("MariaDB: a deadlock is DeadlockDetected (1213, SQLSTATE 40001)", "[errors][mysql]") {
    ILANA_REQUIRE_MYSQL();
    TempDir dir;
    Database db = open_db(dir, "mysql");
    Connection conn = db.on("db");
    conn.execute("DROP TABLE IF EXISTS ek_rows");
    conn.execute("CREATE TABLE ek_rows (id int PRIMARY KEY, v int) ENGINE=InnoDB");
    conn.execute("INSERT INTO ek_rows VALUES (1, 0), (2, 0)");
    Session a = conn.acquire(), b = conn.acquire();
    a.begin();
    b.begin();
    a.execute("UPDATE ek_rows SET v = 1 WHERE id = 1");
    b.execute("UPDATE ek_rows SET v = 2 WHERE id = 2");
    std::atomic<int> deadlocks{0};
    std::string other_error;
    std::thread t([&] {
        try {
            b.execute("UPDATE ek_rows SET v = 2 WHERE id = 1");
        } catch (const DeadlockDetected &) {
            ++deadlocks;
        } catch (const std::exception &e) {
            other_error = e.what();
        }
    });
    std::this_thread::sleep_for(milliseconds(300));
    try {
        a.execute("UPDATE ek_rows SET v = 1 WHERE id = 2");
    } catch (const DeadlockDetected &e) {
        ++deadlocks;
        CHECK(e.native_code() == 1213);
    }
    t.join();
    CHECK(other_error.empty());
    CHECK(deadlocks == 1);
    a.rollback();
    b.rollback();
    conn.execute("DROP TABLE ek_rows");
}

TEST_CASE("a lost connection is a ConnectionError, a write lost in flight an OutcomeUnknown", "[errors][pg][mysql]") {
    const std::string which = GENERATE(std::string("pg"), std::string("mysql"));
    SECTION(which) {
        require_server(which);
        TempDir dir;
        Database db = open_db(dir, which);
        Connection conn = db.on("db");
        conn.execute("DROP TABLE IF EXISTS ek_writes");
        conn.execute("CREATE TABLE ek_writes (id int)");
        const bool pg = which == "pg";
        const std::string id_sql = pg ? "SELECT pg_backend_pid()" : "SELECT CONNECTION_ID()";
        const std::string kill = pg ? "SELECT pg_terminate_backend(" : "KILL CONNECTION ";
        // Kills the session `victim` from another one while it runs its statement.
        auto killed_while = [&](const std::string &sql) {
            Session victim = conn.acquire();
            const int64_t id = victim.query(id_sql).front()[0].as<int64_t>();
            std::thread killer([&] {
                std::this_thread::sleep_for(milliseconds(500));
                Session other = conn.acquire();
                if (pg) other.query(kill + std::to_string(id) + ")");
                else other.execute(kill + std::to_string(id));
            });
            try {
                victim.execute(sql);
            } catch (...) {
                killer.join();
                throw;
            }
            killer.join();
        };
        // A read: the connection is gone, nothing was written.
        const std::string read = pg ? "SELECT pg_sleep(3)" : "SELECT SLEEP(3)";
        expect_throw<ConnectionError>([&] { killed_while(read); }, [&](const ConnectionError &e) {
            CHECK(e.error_class() == ErrorClass::connection);
            CHECK_FALSE(e.outcome_unknown());
            CHECK(e.sql() == read);
        });
        // A write: sent, then the connection went: it may have been applied.
        const std::string write = pg ? "INSERT INTO ek_writes SELECT 1 FROM pg_sleep(3)"
                                     : "INSERT INTO ek_writes SELECT SLEEP(3)";
        expect_throw<OutcomeUnknown>([&] { killed_while(write); }, [&](const OutcomeUnknown &e) {
            CHECK(e.outcome_unknown());
            CHECK(e.error_class() == ErrorClass::connection);
            CHECK(dynamic_cast<const ConnectionError *>(&e) == nullptr); // never retried as one
            CHECK(e.sql() == write);
        });
        // with_retry leaves it alone: run once, not again.
        int runs = 0;
        CHECK_THROWS_AS(with_retry([&] {
                            ++runs;
                            killed_while(write);
                        }),
                        OutcomeUnknown);
        CHECK(runs == 1);
        conn.execute("DROP TABLE ek_writes");
    }
}
