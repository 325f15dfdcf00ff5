// Schema drift comparison and the clone DDL built from introspection, on
// hand-made schemas shaped like each driver reports them; anonymization
// values and rules.
#include <catch2/catch.hpp>

#include "tenants/schema_drift.hpp"
#include "tenants/tenant_clone.hpp"

#include <ilana/driver.h>

#include <ilana/tenants.hpp>

using namespace ilana;

namespace {

TenantSchema users_schema(const std::string &id) {
    TenantSchema s;
    s.tenant_id = id;
    s.namespace_name = "tenant_" + id;
    s.tables = {{"", "users", "table"}, {"", "ilana_migrations", "table"}};
    s.columns = {
        {"users", "id", 1, "integer", false, std::nullopt, true},
        {"users", "email", 2, "character varying(100)", false, std::nullopt, false},
        {"users", "name", 3, "character varying(100)", true, std::string("'x'::character varying"), false},
        {"ilana_migrations", "id", 1, "character varying(32)", false, std::nullopt, true},
    };
    s.indexes = {
        {"users", "users_pkey", {"id"}, true, true},
        {"users", "ux_users_email", {"email"}, true, false},
        {"users", "ix_users_name", {"name"}, false, false},
    };
    return s;
}

const TableDrift *table(const TenantSchemaDrift &d, const std::string &name) {
    for (const auto &t : d.tables)
        if (t.table == name) return &t;
    return nullptr;
}

} // namespace

TEST_CASE("drift: identical schemas have none", "[tenants][unit]") {
    auto d = detail::compare_schemas(users_schema("a"), users_schema("b"), {}, true, true);
    CHECK_FALSE(d.has_drift);
    CHECK(d.issue_count == 0);
    CHECK(d.tables.empty());
    CHECK(d.tenant_id == "b");
    CHECK(d.namespace_name == "tenant_b");
}

TEST_CASE("drift: missing and extra tables, columns and indexes, type, nullability, default", "[tenants][unit]") {
    TenantSchema ref = users_schema("a");
    TenantSchema t = users_schema("b");
    t.columns[1].data_type = "text";                         // email type
    t.columns[2].nullable = false;                           // name NOT NULL
    t.columns[2].default_value = std::nullopt;               // name default gone
    t.columns.push_back({"users", "nickname", 4, "text", true, std::nullopt, false}); // extra column
    t.indexes.erase(t.indexes.begin() + 2);                  // ix_users_name missing
    t.indexes[1].unique = false;                             // ux_users_email no longer unique
    t.tables.push_back({"", "audit", "table"});              // extra table
    ref.tables.push_back({"", "orders", "table"});           // missing table
    auto d = detail::compare_schemas(ref, t, {}, true, true);
    REQUIRE(d.has_drift);
    const TableDrift *users = table(d, "users");
    REQUIRE(users != nullptr);
    CHECK(users->status == "drifted");
    auto has_col = [&](const std::string &col, const std::string &type) {
        for (const auto &c : users->columns)
            if (c.column == col && c.type == type) return true;
        return false;
    };
    CHECK(has_col("email", "type_mismatch"));
    CHECK(has_col("name", "nullable_mismatch"));
    CHECK(has_col("name", "default_mismatch"));
    CHECK(has_col("nickname", "extra"));
    REQUIRE(users->indexes.size() == 2);
    CHECK(users->indexes[0].index == "ix_users_name");
    CHECK(users->indexes[0].type == "missing");
    CHECK(users->indexes[1].index == "ux_users_email");
    CHECK(users->indexes[1].type == "definition_mismatch");
    CHECK(users->indexes[1].expected == "UNIQUE (email)");
    CHECK(users->indexes[1].actual == "(email)");
    REQUIRE(table(d, "audit") != nullptr);
    CHECK(table(d, "audit")->status == "extra");
    REQUIRE(table(d, "orders") != nullptr);
    CHECK(table(d, "orders")->status == "missing");
    CHECK(d.issue_count == 4 + 2 + 2);
    for (const auto &c : users->columns) CHECK_FALSE(c.description.empty());

    // Options: without indexes and defaults those differences vanish.
    auto d2 = detail::compare_schemas(ref, t, {}, false, false);
    CHECK(d2.issue_count == 3 + 2);
    // Excluded tables are not compared.
    auto d3 = detail::compare_schemas(ref, t, {"users", "audit", "orders"}, true, true);
    CHECK_FALSE(d3.has_drift);
}

TEST_CASE("drift result JSON uses the seed's camelCase keys", "[tenants][unit]") {
    SchemaDriftResult r;
    r.reference_tenant = "a";
    r.total = 2;
    r.no_drift = 1;
    r.with_drift = 1;
    r.timestamp = "2026-01-01T00:00:00.000Z";
    r.duration_ms = 12;
    TenantSchema ref = users_schema("a"), t = users_schema("b");
    t.columns.pop_back();
    r.details.push_back(detail::compare_schemas(ref, ref, {}, true, true));
    r.details.push_back(detail::compare_schemas(ref, t, {}, true, true));
    const std::string j = r.to_json();
    for (const char *key : {"\"referenceTenant\":\"a\"", "\"total\":2", "\"noDrift\":1", "\"withDrift\":1",
                            "\"error\":0", "\"details\":[", "\"tenantId\":\"b\"", "\"hasDrift\":true", "\"issueCount\"",
                            "\"timestamp\":\"2026-01-01T00:00:00.000Z\"", "\"durationMs\":12", "\"schemaName\""})
        CHECK(j.find(key) != std::string::npos);
}

TEST_CASE("clone: which ilana.ddl/1 statements run in which step", "[tenants][unit]") {
    using detail::DdlStatement;
    const std::vector<DdlStatement> all = {
        {ILANA_DDL_BEFORE_DATA, "sequence", "users_id_seq", std::nullopt, "CREATE SEQUENCE s"},
        {ILANA_DDL_BEFORE_DATA, "table", "users", std::string("users"), "CREATE TABLE users"},
        {ILANA_DDL_BEFORE_DATA, "table", "ilana_migrations", std::string("ilana_migrations"), "CREATE TABLE m"},
        {ILANA_DDL_AFTER_DATA, "foreign_key", "fk", std::string("users"), "ALTER TABLE users ADD fk"},
        {ILANA_DDL_AFTER_DATA, "view", "v", std::nullopt, "CREATE VIEW v"},
        {ILANA_DDL_DATA_STATE, "sequence_value", "users_id_seq", std::string("users"), "SELECT setval(1)"},
        {ILANA_DDL_DATA_STATE, "sequence_value", "m_seq", std::string("ilana_migrations"), "SELECT setval(2)"},
        {ILANA_DDL_DATA_STATE, "sequence_value", "free_seq", std::nullopt, "SELECT setval(3)"},
    };
    auto sqls = [](const std::vector<const DdlStatement *> &v) {
        std::vector<std::string> out;
        for (const auto *d : v) out.push_back(d->sql);
        return out;
    };
    CHECK(detail::tables_in_copy_order(all) == std::vector<std::string>{"users", "ilana_migrations"});
    CHECK(sqls(detail::statements_of_step(all, ILANA_DDL_BEFORE_DATA, {}, false)) ==
          std::vector<std::string>{"CREATE SEQUENCE s", "CREATE TABLE users", "CREATE TABLE m"});
    CHECK(sqls(detail::statements_of_step(all, ILANA_DDL_AFTER_DATA, {}, false)) ==
          std::vector<std::string>{"ALTER TABLE users ADD fk", "CREATE VIEW v"});
    // Counters follow the rows: a schema-only clone (only the migration
    // history copied) carries only the history's counter.
    CHECK(sqls(detail::statements_of_step(all, ILANA_DDL_DATA_STATE, {"ilana_migrations"}, false)) ==
          std::vector<std::string>{"SELECT setval(2)"});
    CHECK(sqls(detail::statements_of_step(all, ILANA_DDL_DATA_STATE, {}, false)).empty());
    CHECK(sqls(detail::statements_of_step(all, ILANA_DDL_DATA_STATE, {"users", "ilana_migrations"}, true)).size() == 3);
}

TEST_CASE("anonymization values and rules", "[tenants][unit]") {
    CHECK(detail::anonymized_value(std::nullopt, 1).is_null());
    CHECK(detail::anonymized_value(std::string("email"), 7).as<std::string>() == "anon7@example.invalid");
    CHECK(detail::anonymized_value(std::string("phone"), 7).as<std::string>() == "+1-555-0000007");
    CHECK(detail::anonymized_value(std::string("name"), 7).as<std::string>() == "Anonymous 7");
    CHECK(detail::anonymized_value(std::string("REDACTED"), 7).as<std::string>() == "REDACTED");

    auto a = AnonymizeOptions::from_json(R"({"users": {"email": "email", "phone": null}})");
    CHECK(a.enabled);
    REQUIRE(a.rules.count("users"));
    CHECK(a.rules["users"]["email"] == std::optional<std::string>("email"));
    CHECK_FALSE(a.rules["users"]["phone"].has_value());
    auto b = AnonymizeOptions::from_json(R"({"enabled": false, "rules": {"t": {"c": "x"}}})");
    CHECK_FALSE(b.enabled);
    CHECK(b.rules["t"]["c"] == std::optional<std::string>("x"));
    CHECK_THROWS_WITH(AnonymizeOptions::from_json("{"), Catch::Contains("invalid JSON"));
    CHECK_THROWS_WITH(AnonymizeOptions::from_json(R"({"users": {"email": 5}})"), Catch::Contains("/users/email"));
    CHECK_THROWS_WITH(AnonymizeOptions::from_json(R"({"rules": {}, "enable": true})"), Catch::Contains("/enable"));
}

TEST_CASE("warmup and seed results as JSON", "[tenants][unit]") {
    WarmupResult w;
    w.total = 2;
    w.succeeded = 1;
    w.failed = 1;
    w.details = {{"a", "success", 3, ""}, {"b", "failed", 4, "boom"}};
    const std::string j = w.to_json();
    CHECK(j.find("\"alreadyWarm\":0") != std::string::npos);
    CHECK(j.find("{\"tenantId\":\"a\",\"status\":\"success\",\"durationMs\":3,\"error\":null}") != std::string::npos);
    CHECK(j.find("\"error\":\"boom\"") != std::string::npos);
}
