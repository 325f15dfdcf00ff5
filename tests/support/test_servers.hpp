// test_servers.hpp — where the integration tests find the real servers.
//
// scripts/test-servers.sh start prints (and `eval "$(scripts/test-servers.sh
// env)"` exports) ILANA_TEST_* variables. A test that needs a server calls
// ILANA_REQUIRE_PG() / ILANA_REQUIRE_MYSQL() / ILANA_REQUIRE_PGBOUNCER() first:
//   - settings present: the test runs;
//   - absent and ILANA_TEST_SERVERS_REQUIRED=1 (CI): the test FAILS loudly;
//   - absent otherwise: the test ends with a visible "SKIPPED" warning.
#pragma once

#include <catch2/catch.hpp>

#include <cstdlib>
#include <string>

namespace ilana_test {

inline std::string env_or(const char *name, const char *fallback = "") {
    const char *v = std::getenv(name);
    return v != nullptr && *v != '\0' ? std::string(v) : std::string(fallback);
}

inline bool servers_required() { return env_or("ILANA_TEST_SERVERS_REQUIRED") == "1"; }

struct ServerSettings {
    std::string host, port, user, password, database;
};

// PostgreSQL primary (password auth over TCP as the test user).
inline ServerSettings pg() {
    return {env_or("ILANA_TEST_PG_HOST", "127.0.0.1"), env_or("ILANA_TEST_PG_PORT"),
            env_or("ILANA_TEST_PG_USER"), env_or("ILANA_TEST_PG_PASSWORD"),
            env_or("ILANA_TEST_PG_DATABASE")};
}

// MariaDB (password auth over TCP as the test user).
inline ServerSettings mysql() {
    return {env_or("ILANA_TEST_MYSQL_HOST", "127.0.0.1"), env_or("ILANA_TEST_MYSQL_PORT"),
            env_or("ILANA_TEST_MYSQL_USER"), env_or("ILANA_TEST_MYSQL_PASSWORD"),
            env_or("ILANA_TEST_MYSQL_DATABASE")};
}

// PgBouncer in front of the PostgreSQL primary (transaction pooling; the
// primary's user, password and database).
inline ServerSettings pgbouncer() {
    ServerSettings s = pg();
    s.port = env_or("ILANA_TEST_PGBOUNCER_PORT");
    return s;
}

inline bool have_pg() { return !pg().port.empty(); }
inline bool have_mysql() { return !mysql().port.empty(); }
inline bool have_pgbouncer() { return have_pg() && !pgbouncer().port.empty(); }

} // namespace ilana_test

#define ILANA_REQUIRE_SERVER_(have, what)                                                        \
    do {                                                                                         \
        if (!(have)) {                                                                           \
            if (ilana_test::servers_required())                                                  \
                FAIL(what " test server settings missing (ILANA_TEST_SERVERS_REQUIRED=1): run "  \
                          "scripts/test-servers.sh start");                                      \
            WARN("SKIPPED: no " what " test server; run `eval \"$(scripts/test-servers.sh "     \
                 "start)\"` to enable");                                                         \
            return;                                                                              \
        }                                                                                        \
    } while (0)

#define ILANA_REQUIRE_PG() ILANA_REQUIRE_SERVER_(ilana_test::have_pg(), "PostgreSQL")
#define ILANA_REQUIRE_MYSQL() ILANA_REQUIRE_SERVER_(ilana_test::have_mysql(), "MariaDB")
#define ILANA_REQUIRE_PGBOUNCER() ILANA_REQUIRE_SERVER_(ilana_test::have_pgbouncer(), "PgBouncer")
