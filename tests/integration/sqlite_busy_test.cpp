// SQLite's busy_timeout bounds every wait on a lock, the one a new
// connection meets too (issue: "the connect waited 12.7 s instead of 1 s";
// only createTimeoutMillis bounded it). The lock is held by another process,
// as in production: a child that opens the file with libsqlite3 and holds
// an EXCLUSIVE transaction.
#include <catch2/catch.hpp>

#include <ilana/ilana.hpp>

#include "configs.hpp"

#include <sqlite3.h>

#include <chrono>
#include <csignal>
#include <sys/wait.h>
#include <unistd.h>

using namespace ilana;
using namespace std::chrono;
using ilana_test::TempDir;

namespace {

// A child process holding an EXCLUSIVE lock on `path` for `hold_ms` (then
// it commits and exits); the lock is held once the constructor returns.
// Destroying it ends the child (and so its lock) whatever happened.
class LockHolder {
public:
    LockHolder(const std::string &path, int hold_ms) {
        int ready[2];
        REQUIRE(::pipe(ready) == 0);
        pid_ = ::fork();
        REQUIRE(pid_ >= 0);
        if (pid_ == 0) { // the child: libsqlite3 only, then _exit
            ::close(ready[0]);
            sqlite3 *db = nullptr;
            char ok = 'x';
            if (sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE, nullptr) == SQLITE_OK &&
                sqlite3_exec(db, "BEGIN EXCLUSIVE", nullptr, nullptr, nullptr) == SQLITE_OK)
                ok = 'y';
            (void)!::write(ready[1], &ok, 1);
            if (ok == 'y') ::usleep(static_cast<useconds_t>(hold_ms) * 1000);
            sqlite3_exec(db, "COMMIT", nullptr, nullptr, nullptr);
            sqlite3_close(db);
            ::_exit(0);
        }
        ::close(ready[1]);
        char ok = 0;
        const ssize_t n = ::read(ready[0], &ok, 1);
        ::close(ready[0]);
        REQUIRE(n == 1);
        REQUIRE(ok == 'y');
    }
    ~LockHolder() {
        if (pid_ <= 0) return;
        ::kill(pid_, SIGKILL); // a lock outlives no process
        int status = 0;
        ::waitpid(pid_, &status, 0);
    }

private:
    pid_t pid_ = -1;
};

void create_database(const std::string &path) {
    sqlite3 *db = nullptr;
    REQUIRE(sqlite3_open(path.c_str(), &db) == SQLITE_OK);
    REQUIRE(sqlite3_exec(db, "CREATE TABLE t (x INTEGER)", nullptr, nullptr, nullptr) == SQLITE_OK);
    sqlite3_close(db);
}

Database open_db(const TempDir &dir, int busy_timeout_ms) {
    dir.write("ilana.config.json", R"({"connections": {"db": {"client": "sqlite3",
        "connection": {"filename": "locked.sqlite", "busy_timeout": )" +
                                       std::to_string(busy_timeout_ms) + R"(},
        "pool": {"createTimeoutMillis": 20000, "acquireTimeoutMillis": 30000}}}})");
    return Database::open(dir.file("ilana.config.json"), OpenOptions{"", {ILANA_TEST_PLUGIN_DIR}, {}});
}

} // namespace

TEST_CASE("a connect meeting a database locked by another process waits busy_timeout, not createTimeoutMillis",
          "[sqlite][busy]") {
    TempDir dir;
    create_database(dir.file("locked.sqlite"));
    Database db = open_db(dir, 1000);
    LockHolder holder(dir.file("locked.sqlite"), 60000);
    const auto start = steady_clock::now();
    try {
        db.on("db").query("SELECT count(*) FROM t");
        FAIL("the connect went through a database locked EXCLUSIVE by another process");
    } catch (const Error &e) {
        const auto took = duration_cast<milliseconds>(steady_clock::now() - start).count();
        INFO(e.what() << " after " << took << " ms");
        // SQLITE_BUSY: the busy (transient) class; names the file.
        CHECK((e.error_class() == ErrorClass::transient || e.error_class() == ErrorClass::timeout));
        CHECK(std::string(e.what()).find("locked.sqlite") != std::string::npos);
        CHECK(took >= 800);
        CHECK(took < 5000); // busy_timeout is 1 s; createTimeoutMillis (20 s) must not be what bounds it
    }
}

TEST_CASE("a lock released within busy_timeout is waited for", "[sqlite][busy]") {
    TempDir dir;
    create_database(dir.file("locked.sqlite"));
    Database db = open_db(dir, 5000);
    LockHolder holder(dir.file("locked.sqlite"), 300);
    const auto start = steady_clock::now();
    Result r = db.on("db").query("SELECT count(*) AS n FROM t");
    CHECK(r[0]["n"].as<int64_t>() == 0);
    CHECK(duration_cast<milliseconds>(steady_clock::now() - start).count() >= 200);
}

TEST_CASE("a statement timeout shorter than busy_timeout also ends a wait for a lock", "[sqlite][busy][timeout]") {
    TempDir dir;
    create_database(dir.file("locked.sqlite"));
    Database db = open_db(dir, 10000);
    Session s = db.on("db").acquire(); // connected before the lock is taken
    CHECK(s.query("SELECT count(*) AS n FROM t")[0]["n"].as<int64_t>() == 0);
    LockHolder holder(dir.file("locked.sqlite"), 60000);
    const auto start = steady_clock::now();
    try {
        s.query("SELECT count(*) FROM t", {}, StatementOptions{300});
        FAIL("the statement went through a database locked EXCLUSIVE by another process");
    } catch (const Error &e) {
        const auto took = duration_cast<milliseconds>(steady_clock::now() - start).count();
        INFO(e.what() << " after " << took << " ms");
        CHECK(e.error_class() == ErrorClass::timeout);
        CHECK(std::string(e.what()).find("300 ms") != std::string::npos);
        CHECK(took < 3000); // busy_timeout is 10 s
    }
}
