// The seed's health check options and shape with real tenants: tenantIds,
// includeShared and the sharedDb entry, through the C++ API, `ilana health`,
// GET /health?... and `ilana doctor --json` (health.sharedDbLatencyMs).
#include <catch2/catch.hpp>

#include <ilana/ilana.hpp>
#include <ilana/metrics_server.hpp>
#include <ilana/tenants.hpp>

#include "configs.hpp"
#include "test_helpers.hpp"

using namespace ilana;
using ilana_test::contains;
using ilana_test::run_command;
using ilana_test::TempDir;

namespace {

// PostgreSQL schema tenants "a" and "b" under a prefix of their own, plus a
// SQLite connection that is not the tenants'.
struct TenantsSetup {
    TempDir dir;
    std::string prefix = "t" + ilana_test::unique_suffix() + "_h_";
    std::string cfg;
    std::optional<Database> db;
    std::optional<TenantManager> tm;
    TenantsSetup() {
        cfg = dir.write("ilana.config.json", R"({"default": "pg", "connections": {
            "pg": {"client": "postgres", "connection": )" + ilana_test::pg_connection_json() + R"(},
            "cache": {"client": "sqlite3", "connection": {"filename": ":memory:"}}},
          "tenants": {"connection": "pg", "isolation": "schema", "schemaPrefix": ")" +
                                                prefix + R"(", "pool": {"max": 2}},
          "metrics": {"listen": "127.0.0.1:0"}})");
        db.emplace(Database::open(cfg, OpenOptions{"", {ILANA_TEST_PLUGIN_DIR}, {}}));
        tm.emplace(*db);
        tm->create_tenant("a");
        tm->create_tenant("b");
    }
    ~TenantsSetup() {
        for (const char *id : {"a", "b"}) try {
                tm->drop_tenant(id);
            } catch (const std::exception &e) {
                WARN("cleanup of tenant " << id << " failed: " << e.what());
            }
    }
    std::string cli(const std::string &args) const { return ilana_test::ilana_cli() + " --config " + cfg + " " + args; }
};

} // namespace

TEST_CASE("health options: tenantIds, includeShared and sharedDb in the C++ API", "[observe][tenants][pg]") {
    ILANA_REQUIRE_PG();
    TenantsSetup t;
    t.tm->evict("a");
    t.tm->evict("b");
    t.tm->get("b").query("SELECT 1"); // b has an open pool, a has none

    // Everything: the connections, b's open pool; pg is the shared database.
    HealthReport all = t.db->health_check();
    CHECK(all.healthy);
    REQUIRE(all.shared_db);
    CHECK(all.shared_db->connection == "pg");
    CHECK(all.shared_db->status == "ok");
    CHECK(all.shared_db->response_time_ms);
    int tenants = 0;
    for (const auto &p : all.pools) {
        if (!p.tenant.empty()) ++tenants;
        else CHECK(p.connection != "pg"); // the shared one is sharedDb, not a pool
    }
    CHECK(tenants == 1);
    CHECK(contains(all.to_json(), "\"sharedDb\":{\"connection\":\"pg\",\"status\":\"ok\",\"responseTimeMs\":"));

    // tenantIds: only those tenants, opened when needed; nothing else.
    HealthOptions only_a;
    only_a.tenant_ids = {"a"};
    HealthReport a = t.db->health_check(only_a);
    REQUIRE(a.pools.size() == 1);
    CHECK(a.pools[0].tenant == "a");
    CHECK(a.pools[0].connection == "pg");
    CHECK(a.pools[0].status == "ok");
    CHECK(a.pools[0].response_time_ms);
    CHECK(a.shared_db);
    CHECK(t.tm->is_warm("a"));
    CHECK(contains(a.to_json(), "\"tenantId\":\"a\""));

    // includeShared=false: no sharedDb entry, the shared database is not pinged.
    only_a.include_shared = false;
    HealthReport no_shared = t.db->health_check(only_a);
    CHECK_FALSE(no_shared.shared_db);
    CHECK_FALSE(contains(no_shared.to_json(), "sharedDb"));
    CHECK(no_shared.total_pools == 1);

    // A tenant without its schema is unhealthy (PostgreSQL itself would
    // connect with a missing schema in search_path), and gets no pool.
    HealthOptions missing;
    missing.tenant_ids = {"a", "nosuch"};
    HealthReport m = t.db->health_check(missing);
    REQUIRE(m.pools.size() == 2);
    CHECK(m.pools[0].status == "ok");
    CHECK(m.pools[1].tenant == "nosuch");
    CHECK(m.pools[1].status == "unhealthy");
    CHECK(contains(m.pools[1].error, "no namespace " + t.prefix + "nosuch"));
    CHECK_FALSE(m.healthy);
    CHECK_FALSE(t.tm->is_warm("nosuch"));

    // Mistakes name what is wrong.
    HealthOptions bad;
    bad.tenant_ids = {"no such/tenant"};
    CHECK_THROWS_WITH(t.db->health_check(bad), Catch::Contains("no such/tenant"));
    HealthOptions contradiction;
    contradiction.connections = {"pg"};
    contradiction.include_shared = false;
    CHECK_THROWS_WITH(t.db->health_check(contradiction), Catch::Contains("shared connection"));
}

TEST_CASE("health options: ilana health --tenant/--include-shared, /health?tenantIds=..., doctor --json",
          "[observe][tenants][pg][cli]") {
    ILANA_REQUIRE_PG();
    TenantsSetup t;
    std::string out;
    REQUIRE(run_command(t.cli("health --tenant a,b --json"), out) == 0);
    CHECK(contains(out, "\"tenantId\":\"a\""));
    CHECK(contains(out, "\"tenantId\":\"b\""));
    CHECK(contains(out, "\"totalPools\":2"));
    CHECK(contains(out, "\"sharedDb\":{\"connection\":\"pg\",\"status\":\"ok\""));
    CHECK_FALSE(contains(out, "\"connection\":\"cache\""));
    REQUIRE(run_command(t.cli("health --tenant a --include-shared=false --json"), out) == 0);
    CHECK(contains(out, "\"totalPools\":1"));
    CHECK_FALSE(contains(out, "sharedDb"));
    REQUIRE(run_command(t.cli("health"), out) == 0);
    CHECK(contains(out, "shared db (pg): ok"));
    CHECK(run_command(t.cli("health --tenant 'bad;id'"), out) == 2);
    CHECK(contains(out, "bad;id"));
    CHECK(run_command(t.cli("health --include-shared=maybe"), out) == 2);

    // The endpoint takes the same options as query parameters.
    MetricsServer server(*t.db);
    server.start();
    const std::string base = "http://127.0.0.1:" + std::to_string(server.port()) + "/health";
    REQUIRE(run_command("curl -s -w ' %{http_code}' '" + base + "?tenantIds=a&includeShared=false'", out) == 0);
    CHECK(contains(out, "\"tenantId\":\"a\""));
    CHECK(contains(out, "\"totalPools\":1"));
    CHECK_FALSE(contains(out, "sharedDb"));
    CHECK(out.substr(out.size() - 4) == " 200");
    REQUIRE(run_command("curl -s -w ' %{http_code}' '" + base + "?tenantIds=a,b'", out) == 0);
    CHECK(contains(out, "\"totalPools\":2"));
    CHECK(contains(out, "\"sharedDb\":{\"connection\":\"pg\""));
    REQUIRE(run_command("curl -s -w ' %{http_code}' '" + base + "?tenantIds=bad%21id'", out) == 0);
    CHECK(out.substr(out.size() - 4) == " 400");
    CHECK(contains(out, "bad!id"));
    REQUIRE(run_command("curl -s -w ' %{http_code}' '" + base + "?tenant=a'", out) == 0);
    CHECK(out.substr(out.size() - 4) == " 400");
    CHECK(contains(out, "unknown parameter 'tenant'"));
    REQUIRE(run_command("curl -s -w ' %{http_code}' '" + base + "?includeShared=maybe'", out) == 0);
    CHECK(out.substr(out.size() - 4) == " 400");
    server.stop();

    // doctor --json: the seed's health.sharedDbLatencyMs.
    REQUIRE(run_command(t.cli("doctor --json"), out) == 0);
    CHECK(contains(out, "\"sharedDbLatencyMs\":"));
    CHECK(contains(out, "\"sharedDbStatus\":\"ok\""));
    REQUIRE(run_command(t.cli("doctor"), out) == 0);
    CHECK(contains(out, "Shared DB (pg): ok ("));
}
