// errors.hpp — turning libpq failures into ilana error records.
//
// The SQLSTATE → error-class mapping is ONE table in errors.cpp; everything
// else here only gathers the inputs (server fields, connection state, whether
// we asked for a cancel) and builds a one-line message.
#pragma once

#include <ilana/driver.h>
#include <ilana/sdk/driver_support.hpp>
#include <ilana/sdk/error_table.hpp>
#include <ilana/sdk/scrub.hpp>

#include <libpq-fe.h>

#include <string>
#include <string_view>

namespace ilana::drivers::postgres {

using ilana::sdk::DriverFailure;

using ErrorClass = ilana::sdk::ErrorKind;
// The SDK's scrubbing rule (<ilana/sdk/scrub.hpp>): no password, no bound
// value in a message.
using ilana::sdk::is_sqlstate;
using ilana::sdk::mask_key_values;
using ilana::sdk::mask_quoted;
using ilana::sdk::mask_secret;

// The table lookup: exact five-character codes first, then the two-character
// SQLSTATE class; unknown codes are ILANA_ERR_INTERNAL. 57014 maps to
// ILANA_ERR_TIMEOUT here; callers that asked for a cancel turn it into
// ILANA_ERR_CANCELED (see classify_server_error).
ErrorClass classify_sqlstate(std::string_view sqlstate) noexcept;

// What a failing call knew when it failed.
struct ErrorContext {
    bool cancel_requested = false; // ilana cancel() was called for this statement
};

// A failed PGresult (PGRES_FATAL_ERROR): class from the SQLSTATE table,
// adjusted by the connection state (CONNECTION_BAD → CONNECTION + CONN_BROKEN,
// an aborted transaction → TXN_ABORTED). Message: primary, detail, hint (the
// host adds the statement's start); values the server echoes (keys, rejected
// input) are masked so that bound parameter values never reach the record.
// The constraint the server names (PG_DIAG_CONSTRAINT_NAME) goes to the
// record's constraint_name; the SQLSTATE says which kind it is.
DriverFailure failure_from_result(const PGresult *res, PGconn *conn, const ErrorContext &ctx);

// A failure reported by libpq without a result (PQsend* returned 0, the
// connection dropped, ...): the connection's error message.
DriverFailure failure_from_conn(PGconn *conn, uint32_t extra_flags = 0);

// A failure while connecting: the verbose libpq message is parsed for the
// server's SQLSTATE (28P01 → AUTH, 3D000 → CONFIG, ...); without one it is a
// CONNECTION error. `password` (may be empty) is masked out of the message.
DriverFailure failure_from_connect(PGconn *conn, std::string_view password);


// Flattens a multi-line libpq message into one line, trimming whitespace.
std::string one_line(std::string_view message);

} // namespace ilana::drivers::postgres
