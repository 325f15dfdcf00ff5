// Cloning a tenant from introspection: DDL built from what the driver's
// "ilana.introspect/1" reports, in the driver's identifier quoting, with no
// database-specific SQL. Pure parts are unit-tested
// (tests/unit/tenants_clone_test.cpp).
#pragma once

#include <ilana/tenants.hpp>
#include <ilana/value.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace ilana::detail {

struct TableDdl {
    std::string table;
    std::vector<std::string> columns;     // in ordinal order
    std::string create_table;             // CREATE TABLE with columns, primary key, implicit unique keys
    std::vector<std::string> create_indexes;
};

// `name` in `quote` characters, embedded quotes doubled.
std::string quote_ident(const std::string &name, char quote);

// A default as introspection reports it, as SQL for a DEFAULT clause.
// Drivers report either an SQL expression ('abc'::text, 0, now(),
// CURRENT_TIMESTAMP, (datetime('now'))) or, MySQL-style, the bare value
// (abc): numbers, quoted literals, NULL/TRUE/FALSE, CURRENT_* keywords,
// function calls, parenthesised expressions and casts pass as written;
// anything else is quoted as a string literal.
std::string default_sql(const std::string &value);

// One TableDdl per table (kind "table") of `schema`, ordered by name;
// views are appended to `skipped_views`. Throws Error for an index whose
// key the introspection cannot express.
std::vector<TableDdl> ddl_from_schema(const TenantSchema &schema, char quote, std::vector<std::string> &skipped_views);

// The replacement value of an anonymization rule for row `row_number`
// (1-based): NULL, a generated email / phone / name, or the literal.
Value anonymized_value(const std::optional<std::string> &rule, int64_t row_number);

} // namespace ilana::detail
