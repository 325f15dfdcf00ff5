// The parts of running one statement that Session's calls (database.cpp)
// and prepared statements' (prepared.cpp) share.
#pragma once

#include <ilana/database.hpp>

#include <cstdint>
#include <string_view>

namespace ilana::detail {

struct ConnectionState;
class NativeResult;

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

} // namespace ilana::detail
