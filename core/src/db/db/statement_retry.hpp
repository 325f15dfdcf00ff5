// Statement retry on auto-leased sessions: Connection::query, execute,
// stream and execute_many run their statement on a fresh lease again when
// that cannot apply anything twice. A Session or Transaction never retries
// (session state would be lost silently).
#pragma once

#include <ilana/database.hpp>
#include <ilana/error.hpp>
#include <ilana/retry.hpp>

#include "common/sql_kind.hpp"
#include "db/database_state.hpp"

#include <chrono>
#include <string_view>
#include <thread>

namespace ilana::detail {

// Safe to run `sql` again after `e`: the server refused it as a whole
// (transient: deadlock, serialization failure, busy — nothing was applied),
// or the connection was lost and the statement either never left (NOT_SENT)
// or only reads. Never a write whose outcome is unknown, never a pool timeout.
bool safe_to_retry(const Error &e, std::string_view sql);

// Counts the retry, logs CONNECTION_RETRY and calls onRetry; returns the
// delay before `next_attempt` (backoff with equal jitter).
std::chrono::milliseconds announce_retry(ConnectionState &cs, const RetryOptions &r, int next_attempt,
                                         const Error &e) noexcept;

// Always: nothing but the error decides (with_statement_retry's default).
struct NothingDelivered {
    bool operator()() const noexcept { return true; }
};

// Leases a session with `acquire()` and returns `body(session)`; on an error
// that safe_to_retry allows, waits and tries again on a fresh lease, up to the
// connection's retry.maxAttempts. Errors of the lease itself are not retried
// here: the pool already retried opening the connection. `nothing_delivered()`
// false after a failure stops the retry too: the caller already saw rows of
// the failed attempt (a stream), which a second run would repeat.
template <class Acquire, class Body, class Delivered = NothingDelivered>
auto with_statement_retry(ConnectionState &cs, std::string_view sql, Acquire &&acquire, Body &&body,
                          Delivered &&nothing_delivered = {}) {
    const RetryOptions &r = cs.config.retry ? *cs.config.retry : cs.whole_config->retry();
    for (int attempt = 1;; ++attempt) {
        Session session = acquire();
        try {
            return body(session);
        } catch (const Error &e) {
            if (attempt >= r.max_attempts || !nothing_delivered() || !safe_to_retry(e, sql)) throw;
            const std::chrono::milliseconds delay = announce_retry(cs, r, attempt + 1, e);
            { Session drop = std::move(session); } // back to the pool (or closed) before the wait
            std::this_thread::sleep_for(delay);
        }
    }
}

} // namespace ilana::detail
