#include "db/statement_events.hpp"

#include <ilana/logging.hpp>

#include "db/database_state.hpp"
#include "log/call_hook.hpp"
#include "log/log_events.hpp"

#include <spdlog/spdlog.h>

#include <string>

namespace ilana::detail {
namespace {

// The query log line (debug.logQueries) and the slow-query warning, each
// with its record.
void log_statement(ConnectionState &cs, std::string_view sql, std::chrono::microseconds duration, bool ok,
                   const char *kind, bool slow) noexcept {
    const auto ms = duration.count() / 1000;
    auto record = [&](LogLevel level, const char *type, std::string message) {
        LogRecord r = pool_record(level, type, cs.name);
        r.schema = cs.namespace_name;
        r.duration_ms = static_cast<double>(duration.count()) / 1000.0;
        r.sql = sql_start(sql);
        r.ok = ok;
        r.message = std::move(message);
        emit_log(std::move(r));
    };
    try {
        if (cs.log_queries)
            record(LogLevel::debug, "QUERY",
                   fmt::format("conn={} {}=\"{}\" duration={}ms{}", cs.name, kind, sql, ms, ok ? "" : " status=error"));
        if (slow)
            record(LogLevel::warn, "SLOW_QUERY",
                   fmt::format("conn={} SLOW_QUERY duration={}ms {}=\"{}\"", cs.name, ms, kind, sql));
    } catch (...) {
    }
}

} // namespace

void record_statement(ConnectionState &cs, std::string_view sql, std::chrono::microseconds duration, bool ok,
                      const char *kind) noexcept {
    cs.metrics.record_query(duration, ok);
    // The rest only when configured: the common case is the metrics alone.
    const auto ms = duration.count() / 1000;
    const bool slow = cs.slow_query_ms > 0 && ms >= cs.slow_query_ms;
    if (!cs.log_queries && !slow && !(cs.hooks && cs.hooks->on_query)) return;
    // spdlog reports its own failures to its error handler; it does not throw.
    if (cs.log_queries || slow) log_statement(cs, sql, duration, ok, kind, slow);
    if (cs.hooks && cs.hooks->on_query) call_hook(cs.hooks->on_query, "onQuery", cs.name, std::string(sql), duration);
}

void report_error(ConnectionState &cs, const Error &e) noexcept {
    if (cs.hooks) call_hook(cs.hooks->on_error, "onError", cs.name, e);
}

} // namespace ilana::detail
