// namespace.cpp — "ilana.namespace/1": tenants as PostgreSQL schemas, chosen
// per session through the `search_path` connect parameter.
#include "connection.hpp"
#include "postgres_driver.hpp"
#include "statement.hpp"

#include <ilana/sdk/driver_support.hpp>

#include <cstring>

namespace ilana::drivers::postgres {
namespace {

using ilana::sdk::DriverFailure;

// "CREATE SCHEMA IF NOT EXISTS " + quoted name: the name is an identifier,
// which cannot be a bound parameter, so libpq quotes it.
std::string with_identifier(Connection &c, const char *prefix, std::string_view name, const char *suffix) {
    if (name.empty()) throw DriverFailure(ILANA_ERR_INTERNAL, "namespace: name is empty");
    char *quoted = PQescapeIdentifier(c.pg(), name.data(), name.size());
    if (quoted == nullptr)
        throw DriverFailure(ILANA_ERR_DATA, "namespace name is not valid UTF-8 for this connection");
    std::string sql = std::string(prefix) + quoted + suffix;
    PQfreemem(quoted);
    return sql;
}

void refuse_system(std::string_view name, const char *what) {
    if (PostgresDriver::is_system_namespace(name))
        throw DriverFailure(ILANA_ERR_CONFIG, std::string("namespace: refusing to ") + what + " schema \"" +
                                                  std::string(name) + "\": it is a system schema, never a tenant");
}

// System schemas (pg_*, information_schema) are left out here; public is
// listed (it exists) and the host leaves it out by is_system.
// ORDER BY on the `name` type sorts bytewise (collation "C").
constexpr const char *kListSql = R"SQL(
SELECT n.nspname::text AS "name"
FROM pg_catalog.pg_namespace n
WHERE ($1::text IS NULL OR left(n.nspname::text, length($1::text)) = $1::text)
  AND n.nspname NOT LIKE 'pg\_%'
  AND n.nspname <> 'information_schema'
ORDER BY n.nspname)SQL";

} // namespace

// PostgreSQL's own schemas (pg_catalog, pg_toast, pg_temp_N, ...: the pg_
// prefix is reserved), information_schema, and public, the default schema
// that holds what is shared, never a tenant's.
bool PostgresDriver::is_system_namespace(std::string_view ns) noexcept {
    return ns.substr(0, 3) == "pg_" || ns == "information_schema" || ns == "public";
}

// Driver<> refuses a system schema before drop; create refuses it here.
void PostgresDriver::namespace_create(Connection *conn, std::string_view ns) {
    refuse_system(ns, "create");
    conn->exec_simple(with_identifier(*conn, "CREATE SCHEMA IF NOT EXISTS ", ns, "").c_str());
}

void PostgresDriver::namespace_drop(Connection *conn, std::string_view ns) {
    refuse_system(ns, "drop");
    conn->exec_simple(with_identifier(*conn, "DROP SCHEMA IF EXISTS ", ns, " CASCADE").c_str());
}

std::unique_ptr<Result> Connection::namespace_list(std::optional<std::string_view> prefix) {
    if (prefix && prefix->empty()) prefix.reset();
    return execute_sql(kListSql, {text_param(prefix)}, ILANA_EXEC_READ_ONLY);
}

} // namespace ilana::drivers::postgres
