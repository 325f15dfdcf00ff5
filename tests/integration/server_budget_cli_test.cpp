// Connection budgets ("servers", "server") through the real CLI, as a new
// user meets them: the mistakes in the config (exit 2, the JSON path and
// what to do), a per-environment budget, and `ilana doctor`'s warnings
// against a real PostgreSQL (the sum of pool.max over the budget, a budget
// over the server's own max_connections).
#include <catch2/catch.hpp>

#include "configs.hpp"

using ilana_test::ilana_cli;
using ilana_test::run_command;
using ilana_test::TempDir;

namespace {
// Two PostgreSQL connections on server "pg-main"; `servers`, `primary` and
// `tenants` are spliced in as given.
std::string budget_config(const std::string &servers, const std::string &primary_extra,
                          const std::string &rest = "") {
    return R"({"default": "primary", )" + servers + R"(,
      "connections": {
        "primary": {"client": "postgres", "server": "pg-main", )" + primary_extra + R"(
                    "connection": )" + ilana_test::pg_connection_json() + R"(},
        "analytics": {"client": "postgres", "server": "pg-main", "pool": {"max": 20},
                      "connection": )" + ilana_test::pg_connection_json() + R"(}}
      )" + rest + "}";
}
std::string doctor(const TempDir &dir, const std::string &args = "") {
    std::string out;
    const int rc = run_command(ilana_cli() + " --config '" + dir.file("ilana.config.json") + "' " + args + " doctor", out);
    return std::to_string(rc) + "|" + out;
}
} // namespace

TEST_CASE("ilana doctor: mistakes in the connection budgets exit 2 naming the JSON path", "[cli][budget]") {
    TempDir dir;
    SECTION("a connection names a server that is not defined") {
        std::string text = budget_config(R"("servers": {"pg-main": {"maxConnections": 40}})", R"("pool": {"max": 10},)");
        text.replace(text.find(R"("server": "pg-main")"), 19, R"("server": "pg-mian")");
        dir.write("ilana.config.json", text);
        const std::string out = doctor(dir);
        CHECK(out.rfind("2|", 0) == 0);
        CHECK_THAT(out, Catch::Contains("/connections/primary/server: server 'pg-mian' is not defined in \"servers\"; "
                                        "did you mean 'pg-main'? servers: pg-main"));
        CHECK_THAT(out, !Catch::Contains(ilana_test::pg().password));
    }
    SECTION("no \"servers\" at all") {
        std::string text = budget_config(R"("plugins": {})", R"("pool": {"max": 10},)");
        dir.write("ilana.config.json", text);
        const std::string out = doctor(dir);
        CHECK(out.rfind("2|", 0) == 0);
        CHECK_THAT(out, Catch::Contains("/connections/primary/server: server 'pg-main' is not defined in \"servers\"; "
                                        "add \"servers\": {\"pg-main\": {\"maxConnections\": N}} at the top level"));
    }
    SECTION("a budget below 1") {
        dir.write("ilana.config.json", budget_config(R"("servers": {"pg-main": {"maxConnections": 0}})", ""));
        const std::string out = doctor(dir);
        CHECK(out.rfind("2|", 0) == 0);
        CHECK_THAT(out, Catch::Contains("/servers/pg-main/maxConnections: must be a connection budget of 1 or more"));
    }
    SECTION("a misspelt key, a missing budget") {
        dir.write("ilana.config.json", budget_config(R"("servers": {"pg-main": {"maxConections": 10}})", ""));
        std::string out = doctor(dir);
        CHECK(out.rfind("2|", 0) == 0);
        CHECK_THAT(out, Catch::Contains("/servers/pg-main"));
        CHECK_THAT(out, Catch::Contains("maxConnections"));
    }
    SECTION("the pool.min of the server's connections do not fit its budget") {
        std::string text = budget_config(R"("servers": {"pg-main": {"maxConnections": 10}})", R"("pool": {"min": 8, "max": 10},)");
        text.replace(text.find(R"("pool": {"max": 20})"), 19, R"("pool": {"min": 3, "max": 20})");
        dir.write("ilana.config.json", text);
        const std::string out = doctor(dir);
        CHECK(out.rfind("2|", 0) == 0);
        CHECK_THAT(out, Catch::Contains("/servers/pg-main/maxConnections: maxConnections=10 cannot keep the pool.min of "
                                        "the connections of server 'pg-main' (primary 8, analytics 3: 11 in all)"));
    }
    SECTION("a tenant pool's min over the budget") {
        dir.write("ilana.config.json",
                  budget_config(R"("servers": {"pg-main": {"maxConnections": 4}})", "",
                                R"(, "tenants": {"connection": "primary", "isolation": "schema",
                                   "pool": {"min": 5, "max": 6}})"));
        const std::string out = doctor(dir);
        CHECK(out.rfind("2|", 0) == 0);
        CHECK_THAT(out, Catch::Contains("/tenants/pool/min: min (5) exceeds the connection budget of server 'pg-main' "
                                        "(maxConnections=4)"));
    }
    SECTION("budgets per environment, like the rest of the config") {
        dir.write("ilana.config.json",
                  budget_config(R"("servers": {"pg-main": {"maxConnections": 40}})", R"("pool": {"min": 2, "max": 10},)",
                                R"(, "environments": {"ci": {"servers": {"pg-main": {"maxConnections": 1}}}})"));
        CHECK(doctor(dir).rfind("0|", 0) == 0);
        const std::string out = doctor(dir, "--env ci");
        CHECK(out.rfind("2|", 0) == 0);
        CHECK_THAT(out, Catch::Contains("maxConnections=1 cannot keep the pool.min"));
    }
}

TEST_CASE("ilana doctor warns when a budget is below the pools' max or above the server's max_connections",
          "[cli][budget][pg]") {
    ILANA_REQUIRE_PG();
    TempDir dir;
    // primary 10 + analytics 20 = 30 > 25.
    dir.write("ilana.config.json",
              budget_config(R"("servers": {"pg-main": {"maxConnections": 25}})", R"("pool": {"max": 10},)"));
    std::string out = doctor(dir);
    CHECK(out.rfind("0|", 0) == 0); // warnings, not failures
    CHECK_THAT(out, Catch::Contains("server:pg-main: maxConnections=25 is less than the sum of pool.max of its pools "
                                    "(primary 10, analytics 20: 30)"));
    CHECK_THAT(out, Catch::Contains("Raise servers.pg-main.maxConnections or lower pool.max"));

    // More than any server allows (PostgreSQL says max_connections through the driver).
    dir.write("ilana.config.json",
              budget_config(R"("servers": {"pg-main": {"maxConnections": 100000}})", R"("pool": {"max": 10},)"));
    out = doctor(dir);
    CHECK(out.rfind("0|", 0) == 0);
    CHECK_THAT(out, Catch::Contains("server:pg-main: maxConnections=100000 exceeds the server's own max_connections="));

    // Within both: ok, with the figures.
    dir.write("ilana.config.json",
              budget_config(R"("servers": {"pg-main": {"maxConnections": 30}})", R"("pool": {"max": 10},)"));
    out = doctor(dir);
    CHECK_THAT(out, Catch::Contains("server:pg-main: maxConnections=30 (pools: primary 10, analytics 20: 30); server "
                                    "max_connections="));
}
