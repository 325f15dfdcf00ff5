// introspect.cpp — "ilana.introspect/1": tables, columns and indexes from
// pg_catalog (information_schema hides what the role may not use and is
// slower; the catalog is exact).
//
// Column names and types are fixed by the ABI; every expression is cast so
// the result types are exactly TEXT / INT64 / BOOL.
#include "connection.hpp"
#include "statement.hpp"

namespace ilana::drivers::postgres {
namespace {

// Relations that hold or show rows: tables, partitioned tables, foreign
// tables ("table"); views and materialized views ("view").
constexpr const char *kTablesSql = R"SQL(
SELECT n.nspname::text AS "schema",
       c.relname::text AS "name",
       CASE WHEN c.relkind IN ('v', 'm') THEN 'view' ELSE 'table' END::text AS "kind"
FROM pg_catalog.pg_class c
JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = COALESCE($1::text, current_schema())
  AND c.relkind IN ('r', 'p', 'f', 'v', 'm')
ORDER BY c.relname)SQL";

// ordinal: position among the live columns (1-based, no gaps where columns
// were dropped, unlike attnum). data_type: format_type, the server's own
// lower-case spelling ("character varying(20)"). default_value: the
// expression as PostgreSQL prints it; NULL for generated columns.
constexpr const char *kColumnsSql = R"SQL(
SELECT c.relname::text AS "table_name",
       a.attname::text AS "name",
       row_number() OVER (PARTITION BY c.oid ORDER BY a.attnum)::int8 AS "ordinal",
       pg_catalog.format_type(a.atttypid, a.atttypmod)::text AS "data_type",
       (NOT a.attnotnull)::bool AS "nullable",
       (CASE WHEN a.attgenerated = '' THEN pg_catalog.pg_get_expr(d.adbin, d.adrelid) END)::text
           AS "default_value",
       EXISTS (SELECT 1 FROM pg_catalog.pg_index i
               WHERE i.indrelid = c.oid AND i.indisprimary AND a.attnum = ANY (i.indkey))::bool
           AS "primary_key"
FROM pg_catalog.pg_class c
JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
JOIN pg_catalog.pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
LEFT JOIN pg_catalog.pg_attrdef d ON d.adrelid = c.oid AND d.adnum = a.attnum
WHERE n.nspname = COALESCE($1::text, current_schema())
  AND c.relkind IN ('r', 'p', 'f', 'v', 'm')
  AND ($2::text IS NULL OR c.relname = $2::text)
ORDER BY c.relname, a.attnum)SQL";

// columns: key columns in index order (INCLUDE columns are not keys);
// plain columns by name, expressions as pg_get_indexdef prints them.
constexpr const char *kIndexesSql = R"SQL(
SELECT t.relname::text AS "table_name",
       ic.relname::text AS "name",
       (SELECT string_agg(CASE WHEN x.indkey[k.i] = 0
                               THEN pg_catalog.pg_get_indexdef(x.indexrelid, k.i + 1, true)
                               ELSE (SELECT a.attname::text FROM pg_catalog.pg_attribute a
                                     WHERE a.attrelid = x.indrelid AND a.attnum = x.indkey[k.i])
                          END, ',' ORDER BY k.i)
        FROM generate_series(0, x.indnkeyatts - 1) AS k(i))::text AS "columns",
       x.indisunique::bool AS "is_unique",
       x.indisprimary::bool AS "is_primary"
FROM pg_catalog.pg_index x
JOIN pg_catalog.pg_class ic ON ic.oid = x.indexrelid
JOIN pg_catalog.pg_class t ON t.oid = x.indrelid
JOIN pg_catalog.pg_namespace n ON n.oid = t.relnamespace
WHERE n.nspname = COALESCE($1::text, current_schema())
  AND ($2::text IS NULL OR t.relname = $2::text)
ORDER BY t.relname, ic.relname)SQL";

} // namespace

std::unique_ptr<Result> Connection::tables(std::optional<std::string_view> schema) {
    return execute_sql(kTablesSql, {text_param(schema)}, ILANA_EXEC_CACHE | ILANA_EXEC_READ_ONLY);
}

std::unique_ptr<Result> Connection::columns(std::optional<std::string_view> schema,
                                            std::optional<std::string_view> table) {
    return execute_sql(kColumnsSql, {text_param(schema), text_param(table)}, ILANA_EXEC_CACHE | ILANA_EXEC_READ_ONLY);
}

std::unique_ptr<Result> Connection::indexes(std::optional<std::string_view> schema,
                                            std::optional<std::string_view> table) {
    return execute_sql(kIndexesSql, {text_param(schema), text_param(table)}, ILANA_EXEC_CACHE | ILANA_EXEC_READ_ONLY);
}

} // namespace ilana::drivers::postgres
