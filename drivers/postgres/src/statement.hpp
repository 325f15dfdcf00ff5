// statement.hpp — executing one statement (the ABI's execute), also used by
// the extensions for their catalog queries.
#pragma once

#include <ilana/driver.h>

#include <memory>
#include <string_view>
#include <vector>

namespace ilana::drivers::postgres {

class Connection;
class Result;

// Runs `stmt`; the returned result is registered as the connection's open
// result. Throws DriverFailure.
std::unique_ptr<Result> execute(Connection &conn, const ilana_statement &stmt);

// Convenience for driver-written SQL: parameters as a vector.
std::unique_ptr<Result> execute_sql(Connection &conn, std::string_view sql,
                                    const std::vector<ilana_value> &params, uint32_t flags);

// Whether the statement is a query by its first keyword (SELECT, VALUES,
// TABLE, SHOW; comments and parentheses skipped): abandoning its unread rows
// may cancel it.
bool is_query_text(std::string_view sql) noexcept;

// ilana_value helpers for driver-written statements.
ilana_value text_param(const char *s); // NULL pointer → SQL NULL
ilana_value int_param(int64_t v);

} // namespace ilana::drivers::postgres
