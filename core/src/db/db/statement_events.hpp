// What every statement reports when it ends, for Session::query/execute/
// stream and execute_many alike: the query metrics, the debug query log, the
// slow-query warning and the onQuery hook; onError when it failed.
#pragma once

#include <ilana/error.hpp>

#include "instruments/statement_clock.hpp"

#include <chrono>
#include <string_view>

namespace ilana::detail {

struct ConnectionState;

// `kind` names the statement in log lines: "query" or "batch" (a batch
// counts as one statement: its SQL, its whole duration).
void record_statement(ConnectionState &cs, std::string_view sql, std::chrono::microseconds duration, bool ok,
                      const char *kind) noexcept;
// The onError hook; a hook that throws is logged and ignored.
void report_error(ConnectionState &cs, const Error &e) noexcept;

// Times one statement from construction to finish() (StatementClock: the
// time-stamp counter where the kernel trusts it).
class StatementTimer {
public:
    StatementTimer(ConnectionState &cs, std::string_view sql, const char *kind) noexcept
        : cs_(cs), sql_(sql), kind_(kind) {}
    void finish(bool ok) noexcept {
        record_statement(cs_, sql_, StatementClock::between(start_, StatementClock::now()), ok, kind_);
    }

private:
    ConnectionState &cs_;
    std::string_view sql_;
    const char *kind_;
    StatementClock::Ticks start_ = StatementClock::now();
};

} // namespace ilana::detail
