// Pieces of SQL text the query builder writes: identifier checks and
// quoting, the operator allow-list. Pure functions, unit-tested without a
// connection (tests/unit/query_sql_test.cpp).
#pragma once

#include <ilana/database.hpp>

#include <optional>
#include <string>
#include <string_view>

namespace ilana::detail {

// Why `id` is not an identifier the builder accepts, or "" when it is.
// Accepted: name, a.b, a.b.c (at most three parts), `*` and `a.*` when
// allow_star, and "<one of those> AS alias" when allow_alias.
std::string identifier_problem(std::string_view id, bool allow_alias, bool allow_star);

// Appends a checked identifier quoted with `quote`: users.id -> "users"."id",
// u.* -> "u".*, `name as n` -> "name" AS "n".
void append_identifier(std::string &out, std::string_view id, char quote);
std::string quote_identifier(std::string_view id, char quote);

// The canonical spelling of an allowed comparison operator ("=", "<>",
// "LIKE", "NOT LIKE", "ILIKE", "IS", "IS NOT", ...) or nullopt.
std::optional<std::string> canonical_operator(std::string_view op);
// The allowed operators, for messages.
const char *allowed_operators() noexcept;

// Dialect families, from the dialect facts (there is no ABI field for them):
// ILIKE exists in the PostgreSQL family ($n placeholders); DATETIME without a
// zone is the MySQL family (ON DUPLICATE KEY upserts).
bool dialect_has_ilike(const Dialect &d) noexcept;
bool dialect_has_zoned_timestamps(const Dialect &d) noexcept;

} // namespace ilana::detail
