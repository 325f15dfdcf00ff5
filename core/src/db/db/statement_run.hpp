// The parts of running one statement that Session's calls (database.cpp)
// and prepared statements' (prepared.cpp) share.
#pragma once

#include <ilana/database.hpp>

#include "db/database_state.hpp"
#include "db/statement_events.hpp"
#include "plugins/native_connection.hpp"

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace ilana::detail {


// Error (config) for a statement timeout asked of a driver built against
// ABI 1.1 or older, which would ignore it.
[[noreturn]] void throw_timeout_unsupported(const ConnectionState &cs);
// The statement timeout of a call: its own (options), or the connection's
// config. Throws Error (config) for one out of range.
int64_t timeout_of(const ConnectionState &cs, const StatementOptions *options);
// execute()'s counts of an open result (rows of a change read first).
ExecResult counts_of(NativeResult &r, std::string_view sql, int64_t timeout_ms);
// Read-your-writes: a write through a Connection pins this thread's reads
// of it to the primary for stickyAfterWriteMs. By the statement's text, or
// by what is known of it already (`writes`: a prepared statement's kind,
// read once at prepare).
void note_if_write(const ConnectionState &cs, std::string_view sql);
void note_if_write(const ConnectionState &cs, bool writes);

// Error (syntax) for a call whose parameters do not match the statement's
// ? placeholders.
[[noreturn]] void throw_parameter_count(const ConnectionState &cs, size_t placeholders, size_t given);

// The frame every statement on a leased session runs in, by SQL
// (database.cpp) or by handle (prepared.cpp): timed and counted
// (StatementTimer), a timeout refused when the driver cannot enforce one,
// and a failure tagged with the SQL as written and reported (onError)
// before it goes on to the caller.
template <class Body>
void in_statement_frame(ConnectionState &cs, NativeConnection &conn, std::string_view sql, int64_t timeout_ms,
                        Body &&body) {
    StatementTimer timer(cs, sql, "query");
    try {
        if (timeout_ms > 0 && !cs.driver_enforces_timeout) throw_timeout_unsupported(cs);
        body();
        timer.finish(true);
    } catch (Error &e) {
        timer.finish(false);
        conn.set_statement(e, sql); // failures after execute (rows) or before it (checks)
        report_error(cs, e);
        throw;
    }
}

} // namespace ilana::detail
