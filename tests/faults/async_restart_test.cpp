// The drivers' "ilana.async/1" while the server restarts: one thread drives
// several connections, each with statements in flight, through a poll loop
// (tests/drivers/async_harness.hpp) while this checkout's own server is
// stopped and started again (scripts/test-servers.sh; ctest runs the fault
// tests alone). Only connection-class errors may surface, every connection
// comes back (closed and connected again, asynchronously), and no socket is
// left behind.
#include <catch2/catch.hpp>

#include "../drivers/async_harness.hpp"
#include "server_control.hpp"
#include "test_servers.hpp"

#include <dirent.h>

#include <chrono>
#include <string>
#include <thread>
#include <vector>

using namespace std::chrono;
using namespace std::chrono_literals;
using ilana_test::AsyncConn;
using ilana_test::AsyncOutcome;
using ilana_test::make_statement;
using ilana_test::Params;

namespace {

const ilana_host g_restart_host = {sizeof(ilana_host), ILANA_ABI_MAJOR, ILANA_ABI_MINOR, "ilana-test", "0",
                                   nullptr, nullptr, nullptr, nullptr};

int open_fds() {
    int n = 0;
    if (DIR *d = ::opendir("/proc/self/fd")) {
        while (::readdir(d) != nullptr) ++n;
        ::closedir(d);
    }
    return n;
}

struct Tally {
    int ok = 0, connection_errors = 0, reconnects = 0;
    std::vector<std::string> others;
    void error(const ilana_error &e, const char *where) {
        // The server going away (CONNECTION), or not accepting yet while it
        // starts (PostgreSQL 57P03, TRANSIENT).
        if (e.error_class == ILANA_ERR_CONNECTION || e.error_class == ILANA_ERR_TRANSIENT) ++connection_errors;
        else others.push_back(std::string(where) + ": class " + std::to_string(e.error_class) + ": " + e.message);
    }
};

void async_restart(const char *plugin, const Params &params, const std::string &target, const std::string &sql) {
    const ilana_test::LoadedDriver d = ilana_test::load_driver(plugin, g_restart_host);
    const auto *x = static_cast<const ilana_async_api *>(d.entry->get_extension(ILANA_EXT_ASYNC));
    REQUIRE(x != nullptr);
    const int fds_before = open_fds();
    constexpr int kConns = 4, kInFlight = 8;
    std::vector<AsyncConn> conns;
    std::vector<int> in_flight(kConns, 0);
    for (int k = 0; k < kConns; ++k) {
        conns.emplace_back(*d.entry->api, *x);
        ilana_error err = ilana_test::new_error();
        INFO(err.message);
        REQUIRE(conns.back().connect(params, err, 5000) == ILANA_OK);
    }
    Tally tally;
    const ilana_statement st = make_statement(sql);
    {
        ilana_test::ServerOutage outage(target, 1000ms, 400ms);
        const auto until = steady_clock::now() + 5s; // the outage and its aftermath
        while (steady_clock::now() < until) {
            for (int k = 0; k < kConns; ++k) {
                AsyncConn &c = conns[static_cast<size_t>(k)];
                if (c.get() == nullptr) {
                    // Connect again (the server may still be down).
                    ilana_error err = ilana_test::new_error();
                    ++tally.reconnects;
                    if (c.connect(params, err, 2000) != ILANA_OK) {
                        tally.error(err, "connect");
                        std::this_thread::sleep_for(50ms);
                        continue;
                    }
                    in_flight[static_cast<size_t>(k)] = 0;
                }
                while (in_flight[static_cast<size_t>(k)] < kInFlight) {
                    ilana_error err = ilana_test::new_error();
                    if (c.submit(st, err) != ILANA_OK) {
                        tally.error(err, "submit");
                        break;
                    }
                    ++in_flight[static_cast<size_t>(k)];
                }
                AsyncOutcome o;
                if (!c.next(o)) {
                    in_flight[static_cast<size_t>(k)] = 0;
                } else {
                    --in_flight[static_cast<size_t>(k)];
                    if (o.status == ILANA_OK) {
                        ++tally.ok;
                    } else {
                        tally.error(o.err, "statement");
                    }
                    if (o.status == ILANA_ERROR && o.has(ILANA_ERRF_CONN_BROKEN)) {
                        // Every statement still in flight fails the same way, then DONE.
                        for (const AsyncOutcome &rest : c.drain()) {
                            CHECK(rest.has(ILANA_ERRF_CONN_BROKEN));
                            tally.error(rest.err, "after a broken one");
                        }
                        c.close();
                    }
                }
            }
        }
        outage.wait_over();
    }
    INFO("ok " << tally.ok << ", connection-class errors " << tally.connection_errors << ", reconnects "
               << tally.reconnects);
    for (const auto &o : tally.others) INFO("unexpected: " << o);
    CHECK(tally.others.empty());
    CHECK(tally.connection_errors > 0); // the restart was seen
    CHECK(tally.ok > 0);

    // Full recovery: every connection (reconnected where needed) runs a
    // round of statements without an error.
    for (AsyncConn &c : conns) {
        ilana_error err = ilana_test::new_error();
        if (c.get() == nullptr) REQUIRE(c.connect(params, err, 5000) == ILANA_OK);
        for (const AsyncOutcome &o : c.drain()) (void)o; // what was in flight before
        for (int i = 0; i < kInFlight; ++i) c.submit_ok(st);
        const auto done = c.drain();
        CHECK(done.size() == static_cast<size_t>(kInFlight));
        for (const AsyncOutcome &o : done) {
            INFO(o.message());
            CHECK(o.status == ILANA_OK);
        }
    }
    conns.clear();
    CHECK(open_fds() == fds_before); // no socket left behind
}

} // namespace

TEST_CASE("PostgreSQL restarted under async pipelines: connection-class errors only, full recovery",
          "[faults][pg][async]") {
    ILANA_REQUIRE_PG();
    async_restart("ilana_postgres.so", ilana_test::server_params(ilana_test::pg()), "pg", "SELECT pg_sleep(0.005)");
}

TEST_CASE("MariaDB restarted under async queues: connection-class errors only, full recovery",
          "[faults][mysql][async]") {
    ILANA_REQUIRE_MYSQL();
    async_restart("ilana_mysql.so", ilana_test::server_params(ilana_test::mysql()), "mysql", "SELECT SLEEP(0.005)");
}
