// The events of ilana's log that also go to the structured record sink
// (ilana/logging.hpp): each helper formats the text line the log has always
// had and builds the LogRecord with the same facts, so a call site states
// the event once.
#pragma once

#include <ilana/logging.hpp>

#include <cstdint>
#include <string>
#include <string_view>

namespace ilana::detail {

// Writes r.message to the logger at r.level, then gives `r` to the record
// sink, if the logger logs that level. Never throws.
void emit_log(LogRecord &&r) noexcept;

// A record of `type` for the pool named `pool_name` ("primary", or
// "primary@acme" for tenant acme's pool): connection and tenant filled in.
LogRecord pool_record(LogLevel level, const char *type, const std::string &pool_name);

// "conn=<pool> CONNECTION_RETRY attempt=a/m delay=dms error="..."" (without
// "conn=" when pool_name is empty: a with_retry of the host's own).
void log_connection_retry(const std::string &pool_name, int attempt, int max_attempts, int64_t delay_ms,
                          const std::string &error, LogLevel level = LogLevel::warn) noexcept;

// The start of a statement for a record: whitespace runs as one space, at
// most 200 bytes (cut at a UTF-8 character boundary, "..." appended).
std::string sql_start(std::string_view sql);

} // namespace ilana::detail
