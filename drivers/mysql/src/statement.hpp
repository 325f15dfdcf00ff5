// statement.hpp — executing statements on a Connection.
#pragma once

#include "result.hpp"

#include <ilana/driver.h>

#include <initializer_list>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace ilana::drivers::mysql {

class Connection;

// Runs one statement and returns its result (registered as the connection's
// open result while rows stream). `params` is strided by `value_size`.
// Throws DriverFailure; a CONN_BROKEN failure also marks the connection.
std::unique_ptr<Result> execute(Connection &conn, std::string_view sql, const ilana_value *params,
                                uint32_t param_count, uint32_t value_size, uint32_t flags,
                                int64_t timeout_ms = 0);

// MYSQL_BINDs for `count` values strided by `stride`, for
// mysql_stmt_bind_param: valid on this thread until the next call, and only
// read while the execute that follows builds its packet (mysql_stmt_execute,
// or the first step of mysql_stmt_execute_start). Throws DriverFailure for
// a value of an unknown type, naming its position.
MYSQL_BIND *bind_values(const ilana_value *params, uint32_t count, uint32_t stride);

// Runs a statement of the driver's own (introspection, locks, namespaces)
// and returns all its rows as owned cells. `cache`: prepare once per session.
std::vector<std::vector<OwnedCell>> query_rows(Connection &conn, std::string_view sql,
                                               const std::vector<ilana_value> &params, bool cache = true);
inline std::vector<std::vector<OwnedCell>> query_rows(Connection &conn, std::string_view sql,
                                                      std::initializer_list<ilana_value> params,
                                                      bool cache = true) {
    return query_rows(conn, sql, std::vector<ilana_value>(params), cache);
}

// `name` as a backquoted identifier (a backquote inside doubled), for the
// names the driver's own statements cannot bind (databases, tables, views).
inline std::string quote_identifier(std::string_view name) {
    std::string out = "`";
    for (char ch : name) {
        if (ch == '`') out += '`';
        out += ch;
    }
    return out + "`";
}

// ilana_value helpers for the driver's own parameters.
ilana_value text_value(const char *s);   // NULL pointer -> SQL NULL
ilana_value int_value(int64_t v);

} // namespace ilana::drivers::mysql
