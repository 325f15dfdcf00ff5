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

// Where an error happened; it decides a few flags.
enum class Phase {
    Connect,   // establishing a session: CONNECTION errors are also NOT_SENT
    Statement, // execute / fetch (the host shows the statement's start itself)
    Session,   // ping, transactions, server_info, extensions
};

// The failure for error `errnum` reported by libmariadb. `what` says what was
// being done ("cannot connect to 127.0.0.1:3306 as 'app'"). Integrity and
// deadlock errors also carry their condition (ILANA_COND_*, since MySQL's
// SQLSTATE 23000 does not say which) and the constraint or key the server
// names; a duplicate key's value is masked.
DriverFailure mysql_failure(unsigned errnum, const char *sqlstate, const char *message,
                            Phase phase, std::string_view what);

// Shorthands reading the error of a connection / statement handle.
DriverFailure conn_failure(MYSQL *m, Phase phase, std::string_view what = {});
DriverFailure stmt_failure(MYSQL_STMT *s, Phase phase, std::string_view what = {});

// Driver-side failures that are not server errors.
inline DriverFailure misuse(std::string message) {
    return DriverFailure(ILANA_ERR_INTERNAL, std::move(message), {}, 0, ILANA_ERRF_NOT_SENT);
}

} // namespace ilana::drivers::mysql
