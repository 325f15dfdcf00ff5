// namespace.cpp — "ilana.namespace/1": tenants as PostgreSQL schemas, chosen
// per session through the `search_path` connect parameter.
#include "connection.hpp"
#include "handles.hpp"
#include "statement.hpp"

#include <ilana/sdk/driver_support.hpp>

#include <cstring>

namespace ilana::drivers::postgres {
namespace {

using ilana::sdk::DriverFailure;
using ilana::sdk::guarded;

// "CREATE SCHEMA IF NOT EXISTS " + quoted name: the name is an identifier,
// which cannot be a bound parameter, so libpq quotes it.
std::string with_identifier(Connection &c, const char *prefix, const char *name, const char *suffix) {
    if (name == nullptr || *name == '\0') throw DriverFailure(ILANA_ERR_INTERNAL, "namespace: name is empty");
    char *quoted = PQescapeIdentifier(c.pg(), name, std::strlen(name));
    if (quoted == nullptr)
        throw DriverFailure(ILANA_ERR_DATA, "namespace name is not valid UTF-8 for this connection");
    std::string sql = std::string(prefix) + quoted + suffix;
    PQfreemem(quoted);
    return sql;
}

// PostgreSQL's own schemas (pg_catalog, pg_toast, pg_temp_N, ...: the pg_
// prefix is reserved), information_schema, and public, the default schema
// that holds what is shared, never a tenant's.
int32_t is_system(const char *name) {
    if (name == nullptr) return 0;
    return std::strncmp(name, "pg_", 3) == 0 || std::strcmp(name, "information_schema") == 0 ||
           std::strcmp(name, "public") == 0;
}

void refuse_system(const char *name, const char *what) {
    if (name != nullptr && is_system(name) != 0)
        throw DriverFailure(ILANA_ERR_CONFIG, std::string("namespace: refusing to ") + what + " schema \"" + name +
                                                  "\": it is a system schema, never a tenant");
}

ilana_status create(ilana_conn *conn, const char *name, ilana_error *err) {
    return guarded(err, [&] {
        refuse_system(name, "create");
        Connection &c = conn_ref(conn);
        c.exec_simple(with_identifier(c, "CREATE SCHEMA IF NOT EXISTS ", name, "").c_str());
        return ILANA_OK;
    });
}

ilana_status drop(ilana_conn *conn, const char *name, ilana_error *err) {
    return guarded(err, [&] {
        refuse_system(name, "drop");
        Connection &c = conn_ref(conn);
        c.exec_simple(with_identifier(c, "DROP SCHEMA IF EXISTS ", name, " CASCADE").c_str());
        return ILANA_OK;
    });
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

ilana_status list(ilana_conn *conn, const char *prefix, ilana_result **out, ilana_error *err) {
    if (out != nullptr) *out = nullptr;
    return guarded(err, [&] {
        if (out == nullptr) throw DriverFailure(ILANA_ERR_INTERNAL, "namespace list: out is NULL");
        Connection &c = conn_ref(conn);
        const char *p = prefix != nullptr && *prefix != '\0' ? prefix : nullptr;
        std::unique_ptr<Result> r = execute_sql(c, kListSql, {text_param(p)}, ILANA_EXEC_READ_ONLY);
        *out = to_handle(r.release());
        return ILANA_OK;
    });
}

const ilana_namespace_api kNamespace = {
    sizeof(ilana_namespace_api), ILANA_NAMESPACE_SCHEMA, "search_path", create, drop, list, is_system,
};

} // namespace

const ilana_namespace_api *namespace_api() noexcept { return &kNamespace; }

} // namespace ilana::drivers::postgres
