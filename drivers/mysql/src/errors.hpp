// errors.hpp — how MySQL/MariaDB errors become ilana error records.
//
// errors.cpp holds THE one table from error number to ilana error class and
// flags; every failure of the driver goes through classify() so the host's
// retry and eviction decisions are made from one place.
#pragma once

#include <ilana/driver.h>
#include <ilana/sdk/driver_support.hpp>
#include <ilana/sdk/error_table.hpp>
#include <ilana/sdk/scrub.hpp>

#include <mysql.h>

#include <cstdint>
#include <string>
#include <string_view>

namespace ilana::drivers::mysql {

using ilana::sdk::DriverFailure;

using ilana::sdk::ErrorKind;

// Class and flags for a server or client error number; `sqlstate` (may be
// NULL or "HY000") is the fallback for numbers the table does not know.
ErrorKind classify(unsigned errnum, const char *sqlstate) noexcept;

// Where an error happened; it decides the message and a few flags.
enum class Phase {
    Connect,   // establishing a session: CONNECTION errors are also NOT_SENT
    Statement, // execute / fetch: the message carries a short SQL excerpt
    Session,   // ping, transactions, server_info, extensions
};

// A one-line excerpt of `sql` for error messages: whitespace collapsed,
// at most `max_bytes` bytes, cut on a UTF-8 boundary. Never parameter values.
std::string sql_excerpt(std::string_view sql, size_t max_bytes = 120);

// The failure for error `errnum` reported by libmariadb. `what` says what was
// being done ("cannot connect to 127.0.0.1:3306 as 'app'"); `sql` is the
// statement for Phase::Statement (excerpted), empty otherwise.
DriverFailure mysql_failure(unsigned errnum, const char *sqlstate, const char *message,
                            Phase phase, std::string_view what, std::string_view sql = {});

// Shorthands reading the error of a connection / statement handle.
DriverFailure conn_failure(MYSQL *m, Phase phase, std::string_view what,
                           std::string_view sql = {});
DriverFailure stmt_failure(MYSQL_STMT *s, Phase phase, std::string_view what,
                           std::string_view sql = {});

// Driver-side failures that are not server errors.
inline DriverFailure misuse(std::string message) {
    return DriverFailure(ILANA_ERR_INTERNAL, std::move(message), {}, 0, ILANA_ERRF_NOT_SENT);
}

} // namespace ilana::drivers::mysql
