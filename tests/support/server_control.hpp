// Stopping and starting the test servers (scripts/test-servers.sh) from a
// test, for the fault tests (which ctest runs alone).
#pragma once

#include <catch2/catch.hpp>

#include "temp_dir.hpp"
#include "test_servers.hpp"

#include <string>

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

} // namespace ilana_test
