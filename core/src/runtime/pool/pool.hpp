// Pool: the connections of one named connection (or one tenant).
//
// tarn.js semantics: at most `max` sessions; `acquire` lends an idle one,
// else opens a new one when below `max`, else waits first-come first-served
// until one is released or acquireTimeoutMillis passes (PoolTimeout). A
// session whose last call broke it (ILANA_ERRF_CONN_BROKEN) is destroyed on
// release, never lent again. Opening a session is retried with backoff for
// connection/transient/timeout errors only (the `retry` backoff); when the
// attempts are used up the waiting acquire fails right then with the last
// error (tarn's propagateCreateError, its default). The next create after a
// failed one -- another waiter's -- starts createRetryIntervalMillis later
// (tarn's pause between failed creates), so a down server is not hammered
// by every queued caller at once; a waiter whose acquireTimeoutMillis runs
// out meanwhile gets a PoolTimeout naming the create error as the likely
// cause.
//
// Closing a session (driver close) runs on a thread of its own; the
// destroying thread waits at most destroyTimeoutMillis for it. A close that
// takes longer is abandoned to that thread (counted, logged): a frozen
// server never holds the maintenance thread or a caller. With
// destroyTimeoutMillis 0 (no bound) the destroying thread closes it itself.
//
// Every session taken out of service before the pool closes is an eviction,
// counted by reason: idle (idleTimeoutMillis), lifetime (maxLifetimeMillis),
// broken (its last call broke it, or it failed validation).
//
// Waiters are served in arrival order. A released session goes idle and
// wakes the first waiter; a thread that arrives meanwhile may take it first
// (no context switch per lease while the pool is busy, as in Go's
// sync.Mutex). Once the first waiter has waited kHandoffAfter and lost such
// a race, released sessions are handed straight to the waiters in turn until
// the queue is empty, so no waiter waits behind newcomers for long.
//
// The hot path takes no lock: a thread's released session is parked in the
// thread's slot (an atomic pointer, still counted as in use) and its next
// acquire takes it back with one atomic exchange. Parked sessions are moved
// to the idle list, under the mutex, whenever someone needs them: an
// acquire finding its slot empty, a waiter, maintain(), close(). The lock-
// free path is off while threads wait, and with validateIdleAfterMillis or
// leakDetectionMillis (which need the lease bookkeeping).
//
// A session whose lease changed session state (the driver says so through
// "ilana.session/1", without I/O) is reset on release, before it is parked
// or goes idle; a failed reset discards it. A clean session costs one call
// into the driver that reads a flag: no round trip, no lock.
//
// I/O (connect, ping, reset, close) always runs outside the pool's mutex. The one
// Maintainer thread of the process calls maintain() on every pool: reaping
// idle sessions above `min`, retiring those past maxLifetimeMillis, and
// refilling to `min`.
#pragma once

#include <ilana/config.hpp>
#include <ilana/hooks.hpp>

#include "instruments/connection_metrics.hpp"
#include "plugins/native_connection.hpp"

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>
#include <string>
#include <vector>

namespace ilana::detail {

using Clock = std::chrono::steady_clock;

struct PooledConnection {
    std::unique_ptr<NativeConnection> conn;
    Clock::time_point created;
    Clock::time_point last_used;
    Clock::time_point retire_at; // max() when no lifetime
    Clock::time_point leased_at;
    // Leak detection (only when leakDetectionMillis > 0): leased sessions
    // form an intrusive list the maintenance pass scans.
    PooledConnection *lease_prev = nullptr, *lease_next = nullptr;
    size_t borrower = 0;        // hash of the borrowing thread's id
    bool leak_reported = false;
};

struct PoolStats {
    int idle = 0, in_use = 0, pending = 0, waiting = 0, max = 0, min = 0;
    uint64_t created = 0, destroyed = 0, timeouts = 0, acquires = 0, create_errors = 0;
    uint64_t resets = 0, reset_failures = 0;
    // Sessions evicted, by reason (see the top); destroyed counts these and
    // the ones closed with the pool.
    uint64_t evicted_idle = 0, evicted_lifetime = 0, evicted_broken = 0;
    // Closes that outlived destroyTimeoutMillis and were abandoned.
    uint64_t destroy_timeouts = 0;
    uint64_t evicted() const noexcept { return evicted_idle + evicted_lifetime + evicted_broken; }
};

// Why a session leaves the pool.
enum class CloseReason { idle, lifetime, broken, shutdown };

class Pool : public std::enable_shared_from_this<Pool> {
public:
    using ConnectFn = std::function<std::unique_ptr<NativeConnection>(int32_t timeout_ms)>;

    // `metrics` (may be null) must outlive the pool.
    Pool(std::string name, PoolOptions options, RetryOptions retry, ConnectFn connect,
         std::shared_ptr<const Hooks> hooks, ConnectionMetrics *metrics = nullptr);
    ~Pool();

    const std::string &name() const noexcept { return name_; }
    const PoolOptions &options() const noexcept { return options_; }

    // Blocks until a session is available; throws PoolTimeout, or the
    // connect Error when opening failed for good.
    std::unique_ptr<PooledConnection> acquire();
    // Same, waiting at most `timeout` instead of acquireTimeoutMillis.
    std::unique_ptr<PooledConnection> acquire(std::chrono::milliseconds timeout);
    // acquire(), also telling how long the caller waited: zero, without
    // reading the clock, when an idle session was ready (the hot path).
    std::unique_ptr<PooledConnection> acquire_measured(std::chrono::microseconds &waited);
    // Returns a session. `reusable` false (or a broken session) destroys it.
    void release(std::unique_ptr<PooledConnection> pc, bool reusable = true) noexcept;

    // One maintenance pass (called by the Maintainer thread).
    void maintain(Clock::time_point now) noexcept;
    // Closes every idle session, fails waiters, and makes acquire throw.
    // Sessions out on lease are closed when they come back.
    void close() noexcept;
    bool closed() const noexcept;

    PoolStats stats() const;

private:
    struct Waiter {
        std::condition_variable cv;
        std::unique_ptr<PooledConnection> handed; // a session given to us
        bool may_create = false;                  // capacity reserved for us
        bool failed = false;                      // pool closed
        bool woken = false;                       // a session went idle: try to take it
    };
    // How long the first waiter may lose races to newcomers before released
    // sessions are handed to the waiters in turn.
    static constexpr std::chrono::milliseconds kHandoffAfter{1};

    // The hot path: an idle session when one is ready and nobody waits,
    // else nullptr (the caller takes the full path).
    std::unique_ptr<PooledConnection> try_idle();
    // The lock-free path: this thread's parked session, or nullptr.
    std::unique_ptr<PooledConnection> take_parked() noexcept;
    // Parks `pc` in this thread's slot; false (pc untouched) when it cannot.
    bool park(std::unique_ptr<PooledConnection> &pc) noexcept;
    // With mu_ held: parked sessions become idle ones. Returns how many.
    int unpark_all_locked() noexcept;
    // With mu_ held: keeps has_waiters_ in step with waiters_.
    void waiters_changed_locked() noexcept { has_waiters_.store(!waiters_.empty(), std::memory_order_seq_cst); }
    std::unique_ptr<PooledConnection> create_with_retry(Clock::time_point deadline);
    std::unique_ptr<PooledConnection> validate_or_drop(std::unique_ptr<PooledConnection> pc) noexcept;
    // Resets a released session's state; false when it failed (or the pool
    // is closing) and the session must not be lent again.
    bool reset_session(PooledConnection &pc) noexcept;
    void destroy(std::unique_ptr<PooledConnection> pc, CloseReason why) noexcept;
    // Why a released session leaves the pool rather than being lent again
    // (nullopt: it is kept, unless the pool is closed).
    static std::optional<CloseReason> retire_reason(const PooledConnection &pc, bool reusable,
                                                    Clock::time_point now) noexcept;
    // Outside mu_: waits out the pause after a failed create (false: the
    // deadline comes first).
    bool wait_create_pause(Clock::time_point deadline);
    // With mu_ held: a session's capacity is free; let the first waiter use it.
    void capacity_freed_locked();
    // With mu_ held: tells the first waiter a session is idle.
    void wake_first_locked();
    // With mu_ held: `w` leaves the queue (served from idle, or timed out).
    void remove_waiter_locked(Waiter *w);
    int total_locked() const { return static_cast<int>(idle_.size()) + in_use_ + pending_; }
    Clock::time_point retire_time(Clock::time_point created);
    [[noreturn]] void throw_timeout(std::chrono::milliseconds waited, Clock::time_point since);
    void emit_error(const Error &e) noexcept;
    // Stamps a lease; with leak detection on, links it into leased_.
    void track_lease(PooledConnection &pc);
    void untrack_lease_locked(PooledConnection &pc) noexcept;
    void report_leaks_locked(Clock::time_point now) noexcept;

    const std::string name_;
    const PoolOptions options_;
    const RetryOptions retry_;
    const ConnectFn connect_;
    const std::shared_ptr<const Hooks> hooks_;
    ConnectionMetrics *const metrics_;

    mutable std::mutex mu_;
    std::vector<std::unique_ptr<PooledConnection>> idle_; // back = most recently used
    std::deque<Waiter *> waiters_;
    PooledConnection *leased_ = nullptr; // head of the leak-detection list
    int in_use_ = 0;
    int pending_ = 0; // sessions being opened
    bool closed_ = false;
    bool handoff_ = false; // releases go straight to the waiters (see the top)

    // Parking slots (see the top), one cache line each; a thread uses the
    // slot its id hashes to.
    static constexpr size_t kSlots = 16;
    struct alignas(64) Slot {
        std::atomic<PooledConnection *> parked{nullptr};
        std::atomic<uint64_t> acquires{0}; // lock-free acquires through this slot (approximate)
    };
    Slot slots_[kSlots];
    const bool lock_free_; // the options allow the parking path
    std::atomic<bool> has_waiters_{false};
    std::atomic<bool> closing_{false};
    std::atomic<uint64_t> resets_{0}, reset_failures_{0}; // written on the dirty path only
    uint64_t rng_state_;
    uint64_t created_ = 0, destroyed_ = 0, timeouts_ = 0, acquires_ = 0, create_errors_ = 0;
    uint64_t evicted_idle_ = 0, evicted_lifetime_ = 0, evicted_broken_ = 0, destroy_timeouts_ = 0;
    // The last create that failed for good: the next one starts no sooner
    // than createRetryIntervalMillis after it; its message explains timeouts.
    Clock::time_point create_failed_at_{};
    std::string create_failure_;
};

// The one background thread that maintains every pool of the process.
class Maintainer {
public:
    static Maintainer &instance();
    void add(const std::shared_ptr<Pool> &pool);
    ~Maintainer();

private:
    Maintainer() = default;
    void run();
    std::mutex mu_;
    std::condition_variable cv_;
    std::vector<std::weak_ptr<Pool>> pools_;
    std::thread thread_;
    bool stop_ = false;
    bool started_ = false;
};

} // namespace ilana::detail
