// A server frozen with SIGSTOP while statements run (issue: "statements in
// flight blocked the whole 10 s"): the statement timeout plus the drivers'
// grace bounds the call, which fails with ErrorClass::timeout and discards
// the session; once the server resumes (SIGCONT) the pool serves the next
// statement. Freezes only this checkout's own test servers (their pids from
// $ILANA_TEST_STATE_DIR), and always resumes them, also when a check fails.
#include <catch2/catch.hpp>

#include <ilana/ilana.hpp>

#include "configs.hpp"

#include <chrono>
#include <fstream>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>
#include <thread>
#include <vector>

using namespace ilana;
using namespace std::chrono;
using ilana_test::TempDir;

namespace {

// The first line of a pid file, or 0.
pid_t pid_from(const std::string &file) {
    std::ifstream in(file);
    long pid = 0;
    in >> pid;
    return static_cast<pid_t>(pid);
}

// Stops `pids` now; sends SIGCONT when destroyed, or after `at_most`,
// whichever comes first (so a driver that does not bound the call makes the
// test fail on time instead of hanging it). The timer is a child process,
// not a thread: if this process dies mid-test (a sanitizer abort, a crash),
// the child still resumes the servers at once (the pipe it waits on closes)
// instead of leaving them stopped for every test after this one.
class Freeze {
public:
    Freeze(std::vector<pid_t> pids, milliseconds at_most) : pids_(std::move(pids)) {
        int fds[2];
        REQUIRE(::pipe(fds) == 0);
        for (pid_t p : pids_) REQUIRE(::kill(p, SIGSTOP) == 0);
        resumer_ = ::fork();
        if (resumer_ == 0) { // only async-signal-safe calls from here on
            ::close(fds[1]);
            pollfd pfd{fds[0], POLLIN, 0};
            ::poll(&pfd, 1, static_cast<int>(at_most.count())); // EOF: the test resumed or died
            for (pid_t p : pids_) ::kill(p, SIGCONT);
            ::_exit(0);
        }
        ::close(fds[0]);
        keepalive_ = fds[1];
        if (resumer_ < 0) {
            resume();
            FAIL("fork failed");
        }
    }
    ~Freeze() { resume(); }
    void resume() {
        for (pid_t p : pids_) ::kill(p, SIGCONT);
        if (keepalive_ >= 0) ::close(keepalive_);
        keepalive_ = -1;
        if (resumer_ > 0) ::waitpid(resumer_, nullptr, 0);
        resumer_ = -1;
    }

private:
    std::vector<pid_t> pids_;
    pid_t resumer_ = -1;
    int keepalive_ = -1;
};

Database open_db(const TempDir &dir, const std::string &client, const std::string &connection) {
    dir.write("ilana.config.json", R"({"connections": {"db": {"client": ")" + client + R"(", "connection": )" +
                                       connection +
                                       R"(, "statementTimeoutMs": 500, "pool": {"max": 2, "createTimeoutMillis": 5000}}}})");
    return Database::open(dir.file("ilana.config.json"), OpenOptions{"", {ILANA_TEST_PLUGIN_DIR}, {}});
}

// The statement on a frozen server fails with the timeout class, within
// the timeout plus the grace (asserted loosely), and discards the session.
void expect_bounded_timeout(Session &s, const char *sql) {
    const auto start = steady_clock::now();
    try {
        s.query(sql);
        FAIL("a statement on a frozen server succeeded");
    } catch (const Error &e) {
        const auto took = duration_cast<milliseconds>(steady_clock::now() - start).count();
        INFO(e.what() << " after " << took << " ms");
        CHECK(e.error_class() == ErrorClass::timeout);
        CHECK(e.poisons_connection());
        CHECK(std::string(e.what()).find("500 ms") != std::string::npos);
        CHECK(took < 5000); // 500 ms + 1 s grace, with room for a loaded machine
    }
}

} // namespace

TEST_CASE("PostgreSQL frozen by SIGSTOP: the statement timeout bounds the call and the pool recovers",
          "[faults][timeout]") {
    ILANA_REQUIRE_PG();
    const std::string state = ilana_test::env_or("ILANA_TEST_STATE_DIR");
    REQUIRE_FALSE(state.empty());
    const pid_t postmaster = pid_from(state + "/pg/postmaster.pid");
    REQUIRE(postmaster > 0);
    TempDir dir;
    Database db = open_db(dir, "pg", ilana_test::pg_connection_json());
    {
        Session s = db.on("db").acquire();
        const pid_t backend = static_cast<pid_t>(s.query("SELECT pg_backend_pid() AS pid")[0]["pid"].as<int64_t>());
        REQUIRE(backend > 0);
        // The whole server: the session's backend and the postmaster (which
        // would answer the cancel request).
        Freeze freeze({backend, postmaster}, seconds(10));
        expect_bounded_timeout(s, "SELECT 1");
        freeze.resume();
    } // the broken session is closed here, not lent again
    // Resumed: the next statement gets a fresh session.
    Result r = db.on("db").query("SELECT 2 AS two");
    CHECK(r[0]["two"].as<int64_t>() == 2);
}

TEST_CASE("MariaDB frozen by SIGSTOP: the statement timeout bounds the call and the pool recovers",
          "[faults][timeout]") {
    ILANA_REQUIRE_MYSQL();
    const std::string state = ilana_test::env_or("ILANA_TEST_STATE_DIR");
    REQUIRE_FALSE(state.empty());
    const pid_t server = pid_from(state + "/run/mysql.pid");
    REQUIRE(server > 0);
    TempDir dir;
    Database db = open_db(dir, "mysql", ilana_test::mysql_connection_json());
    {
        Session s = db.on("db").acquire();
        CHECK(s.query("SELECT 1 AS one").size() == 1);
        Freeze freeze({server}, seconds(10));
        expect_bounded_timeout(s, "SELECT 1");
        freeze.resume();
    }
    Result r = db.on("db").query("SELECT 2 AS two");
    CHECK(r[0]["two"].as<int64_t>() == 2);
}
