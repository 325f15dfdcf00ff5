// statement.hpp — helpers of executing a statement (Connection::execute in
// statement.cpp): the query test, parameters for driver-written SQL.
#pragma once

#include <ilana/driver.h>

#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

namespace ilana::drivers::postgres {

// Whether the statement is a query by its first keyword (SELECT, VALUES,
// TABLE, SHOW; comments and parentheses skipped): abandoning its unread rows
// may cancel it.
bool is_query_text(std::string_view sql) noexcept;

// ilana_value helpers for driver-written statements.
ilana_value text_param(const char *s); // NULL pointer → SQL NULL
ilana_value text_param(std::optional<std::string_view> s); // nullopt → SQL NULL
ilana_value int_param(int64_t v);

} // namespace ilana::drivers::postgres
