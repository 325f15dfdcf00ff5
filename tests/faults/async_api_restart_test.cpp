// The async API (<ilana/async.hpp>) across a server restart: 256 callers
// in a closed loop on two threads keep the pool busy while the server is
// stopped and started again. Every failure must be of the connection class
// (or a timeout while the server was away), the pool must serve every
// caller again afterwards, and nothing may leak (leases, waiters, server
// sessions). ctest runs the fault tests alone (they stop the shared servers).
#include <catch2/catch.hpp>

#include <ilana/async.hpp>
#include <ilana/ilana.hpp>

#include "configs.hpp"
#include "server_control.hpp"
#include "test_helpers.hpp"

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>

#include <atomic>
#include <chrono>
#include <functional>
#include <mutex>
#include <thread>

using namespace ilana;
using namespace std::chrono_literals;
using ilana_test::ServerOutage;
using ilana_test::TempDir;
namespace asio = boost::asio;

namespace {

void async_restart_under_load(const std::string &client, const std::string &target,
                              const std::string &connection_json, const std::string &count_sql) {
    TempDir dir;
    dir.write("ilana.config.json",
              R"({"connections": {"db": {"client": ")" + client + R"(", "connection": )" + connection_json +
                  R"(, "pool": {"max": 16, "acquireTimeoutMillis": 15000},
                     "retry": {"maxAttempts": 3, "initialDelayMs": 100, "maxDelayMs": 500}}}})");
    Database db = Database::open(dir.file("ilana.config.json"), OpenOptions{"", {ILANA_TEST_PLUGIN_DIR}, {}});
    asio::io_context io;
    auto work = asio::make_work_guard(io);
    use_executor(db, io.get_executor());
    std::thread a([&] { io.run(); }), b([&] { io.run(); });
    Connection c = db.on("db");

    std::atomic<bool> stop{false};
    std::atomic<int> ok{0}, connection_class{0}, other{0}, running{0};
    std::mutex mu;
    std::string other_what;
    // One caller: a query, then the next one when it completes, until stop.
    std::function<void(int)> next = [&](int n) {
        if (stop) {
            --running;
            return;
        }
        c.async_query("SELECT ? + 0", {n}, [&, n](std::exception_ptr e, Result r) {
            if (!e) {
                if (r[0][0].as<int64_t>() == n) ++ok;
                else ++other;
            } else {
                try {
                    std::rethrow_exception(e);
                } catch (const Error &x) {
                    if (x.error_class() == ErrorClass::connection || x.error_class() == ErrorClass::timeout) {
                        ++connection_class;
                    } else {
                        std::lock_guard<std::mutex> lock(mu);
                        other_what = x.what();
                        ++other;
                    }
                }
            }
            next(n + 1);
        });
    };
    for (int i = 0; i < 256; ++i) {
        ++running;
        next(i * 100000);
    }
    std::this_thread::sleep_for(300ms);
    const int before = ok;
    {
        ServerOutage outage{target, 1500ms};
        outage.wait_over();
    }
    // Full service again: the callers go on succeeding.
    const int at_restart = ok;
    ilana_test::eventually([&] { return ok > at_restart + 2000; }, 20s);
    stop = true;
    ilana_test::eventually([&] { return running == 0; }, 20s);
    work.reset();
    a.join();
    b.join();

    INFO(other_what);
    CHECK(before > 0);
    CHECK(other == 0);
    CHECK(ok > at_restart + 2000);
    const Connection::PoolStatus st = c.pool_status();
    CHECK(st.in_use == 0);
    CHECK(st.waiting == 0);
    CHECK(st.idle <= 16);
    // No leaked server session: the server sees at most the pool's.
    CHECK(c.query(count_sql)[0][0].as<int64_t>() <= 16);
    WARN("async restart " << target << ": " << ok << " ok, " << connection_class
                          << " connection-class failures while the server was down");
}

} // namespace

TEST_CASE("async API: PostgreSQL restarted under 256 async callers: connection-class errors only, full recovery",
          "[faults][pg][async]") {
    ILANA_REQUIRE_PG();
    async_restart_under_load(
        "postgres", "pg", ilana_test::pg_connection_json(R"("application_name": "ilana_async_restart")"),
        "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'ilana_async_restart'");
}

TEST_CASE("async API: MariaDB restarted under 256 async callers: connection-class errors only, full recovery",
          "[faults][mysql][async]") {
    ILANA_REQUIRE_MYSQL();
    async_restart_under_load("mysql", "mysql", ilana_test::mysql_connection_json(),
                             "SELECT count(*) FROM information_schema.PROCESSLIST WHERE COMMAND <> 'Daemon'");
}
