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

// Why a session leaves the pool. `resized`: above a max a reload lowered;
// `budget`: closed so that another pool of its server can open one
// (server_budget.hpp).
enum class CloseReason { idle, lifetime, broken, shutdown, resized, budget };

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

// ---- server budget -----------------------------------------------------------
//
// A server's budget ("servers": {"pg-main": {"maxConnections": 40}}) is
// shared by every pool whose connection names it (ServerBudget,
// server_budget.hpp). A pool holds one slot per session from the moment
// its open is reserved until its close returns, so opens in progress
// count. The rule (DESIGN-NOTES "Connection budget"):
//  - a pool opens a session when the budget has a free slot;
//  - otherwise it waits for one, and waiting pools are served in turn
//    (round-robin over pools, first come first served inside a pool),
//    a pool below its fair share before the others;
//  - while a pool waits, a session released by another pool is closed
//    instead of kept when that pool has nobody waiting for it, holds more
//    than its share, or the waiting pool holds nothing (or two fewer): its
//    slot goes to the waiting pools;
//  - a pool that starts waiting closes an idle session of another pool,
//    the one most above its share first.

// What the budget's decisions know of one pool.
struct BudgetMember {
    int held = 0;       // slots: sessions open or being opened
    int pool_max = 1;   // the pool's max
};

// A pool's fair share: the budget divided among the pools holding or
// wanting a slot, never more than the pool's max, at least one.
inline int fair_share(int budget, int active_pools, int pool_max) noexcept {
    const int even = budget / std::max(1, active_pools);
    return std::max(1, std::min(pool_max, even));
}

// Whether a pool may open a session now (a slot is free).
inline bool budget_allows_open(int open, int budget) noexcept { return open < budget; }

// Which waiting pool gets a freed slot: `queue` lists the waiting pools in
// the order they (re)joined the line; the first below its fair share, else
// the first. A served pool that still waits joins the back of the line.
inline size_t next_in_turn(const std::vector<BudgetMember> &queue, int budget, int active_pools) noexcept {
    for (size_t i = 0; i < queue.size(); ++i)
        if (queue[i].held < fair_share(budget, active_pools, queue[i].pool_max)) return i;
    return 0;
}

// Whether a session released by `self` is closed (its slot freed for the
// waiting pools) rather than kept. `fewest_waiting` is the fewest slots a
// waiting pool other than `self` holds (-1: none waits).
inline bool yield_on_release(const BudgetMember &self, bool own_waiters, int fewest_waiting, int budget,
                             int active_pools) noexcept {
    if (fewest_waiting < 0) return false;
    if (!own_waiters) return true; // it would only sit idle while another pool waits
    // A pool with nothing is never kept waiting by a busy one; between
    // pools that hold some, a difference of one is kept (no ping-pong).
    return fewest_waiting == 0 || self.held > fair_share(budget, active_pools, self.pool_max) ||
           self.held > fewest_waiting + 1;
}

// In which order the pools other than `asking` are asked to close an idle
// session for a waiting pool: the most above its fair share first (then
// the one holding most); pools holding nothing are left out.
inline std::vector<size_t> eviction_order(const std::vector<BudgetMember> &members, size_t asking, int budget,
                                          int active_pools) {
    std::vector<size_t> order;
    for (size_t i = 0; i < members.size(); ++i)
        if (i != asking && members[i].held > 0) order.push_back(i);
    auto excess = [&](size_t i) {
        return members[i].held - fair_share(budget, active_pools, members[i].pool_max);
    };
    std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
        if (excess(a) != excess(b)) return excess(a) > excess(b);
        return members[a].held > members[b].held;
    });
    return order;
}

} // namespace pool_policy
} // namespace ilana::detail
