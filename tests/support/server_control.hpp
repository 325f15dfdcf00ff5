// Stopping and starting the test servers (scripts/test-servers.sh) from a
// test, for the fault tests (which ctest runs alone).
#pragma once

#include <catch2/catch.hpp>

#include "temp_dir.hpp"
#include "test_servers.hpp"

#include <chrono>
#include <string>
#include <thread>

namespace ilana_test {

// Runs the project's server script ("stop pg", "start mysql", ...).
inline void servers(const std::string &args) {
    std::string script = env_or("ILANA_TEST_SERVERS_SCRIPT");
    REQUIRE_FALSE(script.empty());
    std::string out;
    int rc = run_command("bash '" + script + "' " + args + " >/dev/null", out);
    INFO(out);
    REQUIRE(rc == 0);
}

// Starts the server again however the test ends.
struct RestartGuard {
    std::string target;
    bool armed = true;
    ~RestartGuard() {
        if (armed) {
            std::string out;
            run_command("bash '" + env_or("ILANA_TEST_SERVERS_SCRIPT") + "' start " + target + " >/dev/null", out);
        }
    }
};

// `target` down for `down_for` while the test works, from a thread of its
// own: stopped `after` from now, or before the constructor returns when
// `after` is zero (the test's next call then meets a stopped server).
// wait_over() joins the thread once the server is started again; however
// the test ends, the thread is joined and the server started.
class ServerOutage {
public:
    ServerOutage(const std::string &target, std::chrono::milliseconds down_for,
                 std::chrono::milliseconds after = std::chrono::milliseconds(0))
        : guard_{target} {
        if (after.count() == 0) servers("stop " + target);
        thread_ = std::thread([target, down_for, after] {
            if (after.count() > 0) {
                std::this_thread::sleep_for(after);
                servers("stop " + target);
            }
            std::this_thread::sleep_for(down_for);
            servers("start " + target);
        });
    }
    ~ServerOutage() {
        if (thread_.joinable()) thread_.join();
    }
    ServerOutage(const ServerOutage &) = delete;
    ServerOutage &operator=(const ServerOutage &) = delete;
    void wait_over() {
        thread_.join();
        guard_.armed = false;
    }

private:
    RestartGuard guard_;
    std::thread thread_;
};

} // namespace ilana_test
