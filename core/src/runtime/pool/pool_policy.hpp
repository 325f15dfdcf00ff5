// The pool's decisions, as pure functions of a plain snapshot and a time
// point: no lock, no thread, no I/O, no clock read. Pool (pool.cpp) takes
// the snapshot under its mutex, asks, and carries out the answer with the
// container (session_bag.hpp); the unit tests ask with a fake clock
// (tests/unit/pool_policy_test.cpp). This is HikariPool's part of the
// HikariCP split (ConcurrentBag is the container), or Boost.MySQL's
// sansio_connection_node: the node says what to do next, its caller does it.
#pragma once

#include <ilana/config.hpp>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <optional>
#include <vector>

namespace ilana::detail {

using Clock = std::chrono::steady_clock;

// Where a pooled session is. Each session has exactly one status, held in
// PooledConnection::status and changed only by SessionBag::move() (or
// relabel(), for the changes that keep the counts).
enum class SessionStatus : uint8_t {
    creating,   // its capacity is reserved and its connect runs
    idle,       // in the idle list, ready to lend
    validating, // taken from idle, pinged before it is lent (validateIdleAfterMillis)
    leased,     // lent to a caller (or handed to a waiter)
    parked,     // released into its thread's slot (the lock-free path)
    resetting,  // released dirty: its session state is being reset
    retiring,   // out of service, being closed; no longer counts against max
};

// Why a session leaves the pool.
enum class CloseReason { idle, lifetime, broken, shutdown, resized };

namespace pool_policy {

// Which status changes exist (SessionBag::move asserts them). A session
// is born creating and ends retiring; `leased -> leased` is a hand-off from
// a releasing caller to a waiter.
constexpr bool transition_allowed(SessionStatus from, SessionStatus to) noexcept {
    using S = SessionStatus;
    switch (from) {
    case S::creating: return to == S::leased || to == S::idle || to == S::retiring;
    case S::idle: return to == S::validating || to == S::leased || to == S::retiring;
    case S::validating: return to == S::leased || to == S::retiring;
    case S::leased:
        return to == S::leased || to == S::parked || to == S::resetting || to == S::idle || to == S::retiring;
    case S::parked: return to == S::leased || to == S::idle;
    case S::resetting: return to == S::leased || to == S::retiring;
    case S::retiring: return false;
    }
    return false;
}

// What a status counts as: capacity being opened, idle, or out with a
// caller. Changes inside one class (leased <-> parked, leased <-> resetting,
// validating -> leased) touch no count, so the owning thread makes them
// without the pool's mutex; a change of class needs it.
enum class Capacity : uint8_t { creating, idle, out, none };
constexpr Capacity capacity_of(SessionStatus s) noexcept {
    switch (s) {
    case SessionStatus::creating: return Capacity::creating;
    case SessionStatus::idle: return Capacity::idle;
    case SessionStatus::validating:
    case SessionStatus::leased:
    case SessionStatus::parked:
    case SessionStatus::resetting: return Capacity::out;
    case SessionStatus::retiring: return Capacity::none;
    }
    return Capacity::none;
}

// How many sessions are where: all the decisions need of the container.
struct Census {
    int idle = 0;
    int creating = 0;
    int out = 0; // validating, leased, parked or resetting
    int waiters = 0;
    int total() const noexcept { return idle + creating + out; }
};

// ---- acquire ---------------------------------------------------------------

enum class AcquireStep {
    fail_closed, // the pool is closed
    take_idle,   // lend the most recently used idle session
    create,      // reserve capacity and open a session for this caller
    wait,        // queue behind the waiters (first come, first served)
};

// An idle session goes to whoever asks unless released sessions are being
// handed to the waiters in turn; a new session is opened only when nobody
// waits (a waiter is owed any capacity first) and the pool is below max.
inline AcquireStep on_acquire(const Census &c, int max, bool handoff, bool closed) noexcept {
    if (closed) return AcquireStep::fail_closed;
    if (c.idle > 0 && (c.waiters == 0 || !handoff)) return AcquireStep::take_idle;
    if (c.waiters == 0 && c.total() < max) return AcquireStep::create;
    return AcquireStep::wait;
}

// How long the first waiter may lose races to newcomers (threads that
// take a session going idle before the woken waiter runs) before released
// sessions are handed to the waiters in turn.
constexpr std::chrono::milliseconds kHandoffAfter{1};

inline bool handoff_due(Clock::time_point waiting_since, Clock::time_point now) noexcept {
    return now - waiting_since >= kHandoffAfter;
}

// When an acquire gives up (PoolTimeout).
inline Clock::time_point acquire_deadline(Clock::time_point start, std::chrono::milliseconds timeout) noexcept {
    return start + std::max(std::chrono::milliseconds(0), timeout);
}

// An idle session is pinged before it is lent once it has been idle
// validateIdleAfterMillis (0: never).
inline bool needs_validation(Clock::time_point last_used, Clock::time_point now, int64_t validate_after_ms) noexcept {
    return validate_after_ms > 0 && now - last_used >= std::chrono::milliseconds(validate_after_ms);
}

// ---- release ---------------------------------------------------------------

enum class ReleaseStep {
    hand_to_waiter, // straight to the first waiter; stays leased (no capacity freed in between)
    idle_and_wake,  // goes idle, and the first waiter is told
    idle,           // goes idle
};

inline ReleaseStep on_release(const Census &c, bool handoff) noexcept {
    if (c.waiters == 0) return ReleaseStep::idle;
    return handoff ? ReleaseStep::hand_to_waiter : ReleaseStep::idle_and_wake;
}

// Why a released session leaves the pool rather than being lent again
// (nullopt: it is kept, unless the pool is closed).
inline std::optional<CloseReason> retire_on_release(bool broken, bool reusable, Clock::time_point retire_at,
                                                    Clock::time_point now) noexcept {
    if (broken) return CloseReason::broken;
    if (now >= retire_at) return CloseReason::lifetime;
    if (!reusable) return CloseReason::broken; // released as not reusable (or its reset failed)
    return std::nullopt;
}

// ---- creating --------------------------------------------------------------

// When a session opened at `created` retires: maxLifetimeMillis less up to
// 10% (`random` picks how much), so sessions opened together do not all
// retire in the same tick. max() without a lifetime.
inline Clock::time_point retire_time(Clock::time_point created, int64_t max_lifetime_ms, uint64_t random) noexcept {
    if (max_lifetime_ms <= 0) return Clock::time_point::max();
    const int64_t jitter = max_lifetime_ms / 10 > 0
                               ? static_cast<int64_t>(random % static_cast<uint64_t>(max_lifetime_ms / 10))
                               : 0;
    return created + std::chrono::milliseconds(max_lifetime_ms - jitter);
}

// The pause after a failed create (createRetryIntervalMillis): the next
// create, another caller's, starts no sooner than the interval after it.
enum class PauseStep { start, wait_then_start, time_out };
struct Pause {
    PauseStep step = PauseStep::start;
    Clock::time_point until{}; // wait_then_start: start then; time_out: give up then
};
inline Pause before_create(Clock::time_point failed_at, int64_t retry_interval_ms, Clock::time_point now,
                           Clock::time_point deadline) noexcept {
    if (failed_at == Clock::time_point{} || retry_interval_ms <= 0) return {};
    const auto resume = failed_at + std::chrono::milliseconds(retry_interval_ms);
    if (resume <= now) return {};
    if (resume > deadline) return {PauseStep::time_out, deadline};
    return {PauseStep::wait_then_start, resume};
}

// The timeout of one connect: createTimeoutMillis (30 s when unset), no
// longer than the caller has left, at least 1 ms.
inline int32_t connect_timeout_ms(int64_t create_timeout_ms, Clock::time_point now, Clock::time_point deadline) noexcept {
    int64_t timeout = create_timeout_ms > 0 ? create_timeout_ms : 30000;
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - now).count();
    if (left > 0) timeout = std::min<int64_t>(timeout, left);
    return static_cast<int32_t>(std::max<int64_t>(1, std::min<int64_t>(timeout, INT32_MAX)));
}

// Whether a failed connect is tried again: attempts left, an error class
// worth retrying (connection, transient, timeout), and the next attempt
// (at `wake`, after the backoff) before the caller's deadline.
inline bool retry_create(int attempt, int max_attempts, bool retryable, Clock::time_point wake,
                         Clock::time_point deadline) noexcept {
    return attempt < std::max(1, max_attempts) && retryable && wake < deadline;
}

// A PoolTimeout names the create error as its likely cause when a create
// failed for good while the caller waited (tarn's "possible timeout cause").
inline bool create_failure_explains_timeout(Clock::time_point failed_at, Clock::time_point waiting_since) noexcept {
    return failed_at != Clock::time_point{} && failed_at >= waiting_since;
}

// ---- maintenance -----------------------------------------------------------

// What retirement looks at in an idle session.
struct IdleFacts {
    Clock::time_point last_used, retire_at;
};
struct Retirement {
    size_t index; // into the idle list given
    CloseReason reason;
};

// Which idle sessions to retire at `now`, oldest-used first (`idle` is in
// that order): those past their lifetime (maxLifetimeMillis, even below
// min), then those idle idleTimeoutMillis while more than `min` sessions
// remain (`total` counts every session, idle or not).
inline std::vector<Retirement> retire_idle(const std::vector<IdleFacts> &idle, int total, const PoolOptions &o,
                                           Clock::time_point now) {
    std::vector<Retirement> out;
    const auto idle_limit = std::chrono::milliseconds(o.idle_timeout_ms);
    for (size_t i = 0; i < idle.size(); ++i) {
        const bool expired = now >= idle[i].retire_at;
        const bool too_idle = o.idle_timeout_ms > 0 && now - idle[i].last_used >= idle_limit &&
                              total - static_cast<int>(out.size()) > o.min;
        if (expired || too_idle) out.push_back({i, expired ? CloseReason::lifetime : CloseReason::idle});
    }
    return out;
}

// How many sessions maintenance opens now to keep `min`, never above max.
inline int sessions_to_create(const Census &c, int min, int max) noexcept {
    return std::max(0, std::min(min - c.total(), max - c.total()));
}

// The maintenance tick of a pool: reapIntervalMillis, between 10 ms and 1 s.
// The one Maintainer thread ticks at the smallest of its pools'.
inline std::chrono::milliseconds maintenance_interval(int64_t reap_interval_ms) noexcept {
    return std::chrono::milliseconds(std::min<int64_t>(1000, std::max<int64_t>(10, reap_interval_ms)));
}

// A lease held longer than leakDetectionMillis is reported (0: never).
inline bool lease_leaked(Clock::time_point leased_at, Clock::time_point now, int64_t leak_detection_ms) noexcept {
    return leak_detection_ms > 0 && now - leased_at > std::chrono::milliseconds(leak_detection_ms);
}

// ---- resizing (a reload that changes only pool.min / pool.max) ------------

// Whether the pool may open one more session: a freed capacity goes to the
// first waiter only while the pool is below `max` (after a shrink it is not
// until enough sessions have closed).
inline bool can_open(const Census &c, int max) noexcept { return c.total() < max; }

// How many idle sessions close now, oldest used first, so that the pool
// holds no more than `max`: sessions out on lease above it close when they
// come back (retire_on_release_over_max), never taken from their caller.
inline int idle_over_max(const Census &c, int max) noexcept {
    return std::max(0, std::min(c.idle, c.total() - std::max(0, max)));
}

// A released session closes instead of going idle while the pool holds
// more than `max` (shrunk while it was out); `total` counts it.
inline bool retire_on_release_over_max(const Census &c, int max) noexcept { return c.total() > max; }

// ---- closing ---------------------------------------------------------------

// How long a destroying thread waits for a session's close
// (destroyTimeoutMillis); zero: no bound, it closes the session itself.
inline std::chrono::milliseconds close_bound(int64_t destroy_timeout_ms) noexcept {
    return std::chrono::milliseconds(std::max<int64_t>(0, destroy_timeout_ms));
}

// The lock-free parking path needs no lease bookkeeping: it is off with
// validateIdleAfterMillis (a parked session is lent unvalidated) and with
// leakDetectionMillis (a parked lease would escape the scan).
inline bool lock_free_allowed(const PoolOptions &o) noexcept {
    return o.validate_idle_after_ms <= 0 && o.leak_detection_ms <= 0;
}

} // namespace pool_policy
} // namespace ilana::detail
