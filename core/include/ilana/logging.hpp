// ilana/logging.hpp — where ilana's log lines go.
//
// ilana logs through one spdlog logger (default: named "ilana", to stderr,
// level "warn"; the config's "debug": {"enabled": true} lowers it to debug).
// A host replaces it with its own logger or sinks with set_logger(). Log
// lines never contain passwords or bound parameter values.
//
// The events a host may want to route or count (queries, slow queries,
// pool created / evicted, connection retries) also exist as a LogRecord
// with their fields apart, for a structured sink (JSON lines, a tracing
// system):
//
//   ilana::set_log_record_sink([](const ilana::LogRecord &r) {
//       std::lock_guard<std::mutex> lock(mu);
//       json_log << r.to_json() << '\n';      // {"level":"warn","type":"CONNECTION_RETRY",...}
//   });
//
// A record is delivered when the logger would log its line (same level
// test), after the line, on the thread where the event happened; the sink
// may be called from many threads at once and must not call back into
// ilana. A sink that throws is ignored. Records carry the same facts as the
// line and never a password or a bound value: `sql` is the start of the
// statement text only (at most 200 bytes, on one line).
//
// Thread safety: every function here may be called from any thread.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

namespace spdlog {
class logger;
}

namespace ilana {

std::shared_ptr<spdlog::logger> logger();
void set_logger(std::shared_ptr<spdlog::logger> logger);

enum class LogLevel { trace, debug, info, warn, error };
const char *to_string(LogLevel level) noexcept; // "trace" ... "error"

struct LogRecord {
    LogLevel level = LogLevel::info;
    // QUERY (debug.logQueries), SLOW_QUERY, POOL_CREATED, POOL_EVICTED,
    // CONNECTION_RETRY.
    std::string type;
    std::string connection;            // the config's connection name; "" when none
    std::string tenant;                // "" unless a tenant pool
    std::string schema;                // the tenant's namespace (schema, database or file)
    std::optional<double> duration_ms; // QUERY, SLOW_QUERY
    std::string sql;                   // QUERY, SLOW_QUERY: the statement's start
    bool ok = true;                    // QUERY: false when the statement failed
    std::string error;                 // CONNECTION_RETRY: the error retried (redacted)
    int attempt = 0, max_attempts = 0; // CONNECTION_RETRY: the attempt about to run
    int64_t delay_ms = 0;              // CONNECTION_RETRY
    std::string reason;                // POOL_EVICTED: lru | ttl_expired | shutdown | ...
    std::string client;                // POOL_CREATED
    int pool_min = 0, pool_max = 0;    // POOL_CREATED
    std::string message;               // the line as the text log shows it
    std::string timestamp;             // ISO 8601 UTC, milliseconds

    // One JSON object on one line; fields that do not apply to the type are
    // left out.
    std::string to_json() const;
};

using LogRecordSink = std::function<void(const LogRecord &)>;
// Replaces the sink (an empty function: none, the default).
void set_log_record_sink(LogRecordSink sink);

} // namespace ilana
