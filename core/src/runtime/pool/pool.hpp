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
// thread's slot (an atomic pointer, still counted as out) and its next
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
//
// The parts: each session has one status (SessionStatus, pool_policy.hpp);
// the container (SessionBag, session_bag.hpp) holds the sessions, the
// parking slots and the waiters and changes statuses; the decisions (what
// an acquire or a release does, what to retire, how many to open, the
// pause after a failed create) are pure functions in pool_policy.hpp. Pool
// takes a snapshot under its mutex, asks the policy, has the bag carry it
// out, and does the I/O outside the mutex. Time comes from a PoolClock.
//
// A pool whose connection names a server ("server": "pg-main") shares that
// server's budget (ServerBudget, server_budget.hpp) with the server's other
// pools: each session holds a slot from the reservation of its open until
// its close returns; a caller that needs a new session while the budget is
// full waits in the pool's queue while the pool waits in the budget's line,
// and a released session may be closed for another pool (pool_policy.hpp,
// "server budget"). Such a pool has no lock-free parking; the lease of an
// idle session still never touches the budget.
#pragma once

#include <ilana/config.hpp>
#include <ilana/hooks.hpp>

#include "instruments/connection_metrics.hpp"
#include "plugins/native_connection.hpp"
#include "pool/pool_policy.hpp"
#include "pool/server_budget.hpp"
#include "pool/session_bag.hpp"

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <exception>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>
#include <string>
#include <vector>

namespace ilana::detail {

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

// Where a pool reads the time. The default is steady_clock, and for the
// stamps of idle time and lifetime (judged in hundreds of milliseconds)
// CLOCK_MONOTONIC_COARSE: the same clock read at tick resolution, never
// ahead of steady_clock, at most a tick (1-4 ms) behind, a third of the
// cost. Tests pass a clock of their own, whose sleep_until (the pause
// after a failed create, the backoff between connect attempts) may just
// move the time on. A waiter's wait for its turn lasts the time this clock
// says is left, in real time (another thread has to release).
class PoolClock {
public:
    virtual ~PoolClock() = default;
    virtual Clock::time_point now() const noexcept = 0;
    virtual Clock::time_point coarse_now() const noexcept { return now(); }
    virtual void sleep_until(Clock::time_point t) const {
        const auto left = t - now();
        if (left > Clock::duration::zero()) std::this_thread::sleep_for(left);
    }
};

class Pool;

// Where an acquire that must not block its thread (Pool::acquire_async)
// runs its steps: the blocking ones (opening a session, pinging one idle
// past validateIdleAfterMillis, the pause after a failed create) on a
// worker thread, and the one after a grant soon on the event loop, never
// inside the pool's mutex. The db layer's async runtime provides it.
class AsyncStepRunner {
public:
    virtual ~AsyncStepRunner() = default;
    virtual void post(std::function<void()> step) = 0;
    virtual void run_blocking(std::function<void()> step) = 0;
};

// One acquire_async in progress: the caller keeps it to bound the wait
// (Pool::abandon_async) and the pool delivers the outcome through `done`
// exactly once.
struct AsyncAcquire : Waiter {
    using Done = std::function<void(std::unique_ptr<PooledConnection>, std::exception_ptr)>;
    AsyncAcquire(Clock::time_point since, Clock::time_point deadline, AsyncStepRunner &runner, Done done)
        : Waiter(since), deadline(deadline), runner(runner), done(std::move(done)) {}
    const Clock::time_point deadline;
    AsyncStepRunner &runner;
    Done done;
    std::weak_ptr<Pool> pool;
    std::weak_ptr<AsyncAcquire> self;
    bool queued = false;                // in the pool's waiter queue (under the pool's mutex)
    std::atomic<bool> finished{false}; // `done` was called
};

class Pool : public std::enable_shared_from_this<Pool> {
public:
    using ConnectFn = std::function<std::unique_ptr<NativeConnection>(int32_t timeout_ms)>;

    // `metrics` may be null. `clock` must outlive the pool (null:
    // steady_clock, see PoolClock). `budget`: the server budget the pool
    // shares (null: none); such a pool must be owned by a shared_ptr.
    Pool(std::string name, PoolOptions options, RetryOptions retry, ConnectFn connect,
         std::shared_ptr<const Hooks> hooks, std::shared_ptr<ConnectionMetrics> metrics = nullptr,
         const PoolClock *clock = nullptr, std::shared_ptr<ServerBudget> budget = nullptr);
    ~Pool();

    const std::string &name() const noexcept { return name_; }
    const PoolOptions &options() const noexcept { return options_; }
    // The pool's clock (maintain() is called with its now()).
    Clock::time_point now() const noexcept { return clock_ != nullptr ? clock_->now() : Clock::now(); }

    // Blocks until a session is available; throws PoolTimeout, or the
    // connect Error when opening failed for good.
    std::unique_ptr<PooledConnection> acquire();
    // Same, waiting at most `timeout` instead of acquireTimeoutMillis.
    std::unique_ptr<PooledConnection> acquire(std::chrono::milliseconds timeout);
    // acquire(), also telling how long the caller waited: zero, without
    // reading the clock, when an idle session was ready (the hot path).
    std::unique_ptr<PooledConnection> acquire_measured(std::chrono::microseconds &waited);
    // An acquire that never blocks the calling thread (the async API): the
    // same queue, order and rules as acquire(), the blocking steps on
    // `runner`'s workers. `done` gets the lease or the error acquire()
    // would throw, exactly once, possibly before this returns (an idle
    // session was ready). The pool must be owned by a shared_ptr. The
    // caller bounds the wait with abandon_async (its timer for
    // acquireTimeoutMillis, or a cancellation).
    std::shared_ptr<AsyncAcquire> acquire_async(AsyncStepRunner &runner, AsyncAcquire::Done done);
    // Ends `a`'s wait now when it still waits in the queue: `done` gets
    // PoolTimeout (`timed_out`) or Error (class canceled). False when it was
    // served already or is opening its session (bounded by its deadline).
    bool abandon_async(AsyncAcquire &a, bool timed_out) noexcept;
    // Returns a session. `reusable` false (or a broken session) destroys it.
    void release(std::unique_ptr<PooledConnection> pc, bool reusable = true) noexcept;

    // One maintenance pass (called by the Maintainer thread).
    void maintain(Clock::time_point now) noexcept;
    // Closes every idle session, fails waiters, and makes acquire throw.
    // Sessions out on lease are closed when they come back.
    void close() noexcept;
    bool closed() const noexcept;
    // Changes pool.min / pool.max in place (a reload that changes nothing
    // else): idle sessions above the new max close now, leased ones above
    // it when they come back (one parked by the lock-free release path at
    // the next maintenance pass or unpark; no new one opens meanwhile, the
    // pool being full), waiters get the room a larger max makes, and
    // maintenance opens sessions up to the new min. Sessions are kept.
    void resize(int min, int max) noexcept;

    PoolStats stats() const;
    // For a holder of long leases (the async API's pipelined lanes), in one
    // lock and cheaper than stats(): the pool's max now, how many callers
    // wait for a session (the holder gives its leases back as soon as it
    // can then), and whether the pool is closed (a reload retired it).
    struct LeaseOutlook {
        int max = 0;
        int waiters = 0;
        bool closed = false;
    };
    LeaseOutlook lease_outlook() const noexcept;

    // The server budget this pool shares (null: none).
    const ServerBudget *budget() const noexcept { return budget_.get(); }
    // The budget gives this pool a slot (already counted as the pool's):
    // its first waiter opens a session with it. False when nobody here
    // needs it any more; the budget then hands it on. Called holding no
    // pool's mutex.
    bool accept_budget_slot() noexcept;
    // Closes this pool's least recently used idle session so that a pool
    // waiting on the same budget can open one; false when none is idle.
    bool close_idle_for_budget() noexcept;

private:
    // acquire_measured() and release() are the lock-free path (small
    // enough to be inlined into Session); these are the rest.
    std::unique_ptr<PooledConnection> acquire_slow(std::chrono::microseconds &waited);
    void release_locked(std::unique_ptr<PooledConnection> pc, bool reusable) noexcept;
    Clock::time_point coarse_now() const noexcept;
    // Sleeps until the pool's clock reaches `t`.
    void sleep_until(Clock::time_point t) const;
    // The hot path: an idle session when one is ready and nobody waits,
    // else nullptr (the caller takes the full path).
    // `counted`: this acquire is counted in the statistics.
    std::unique_ptr<PooledConnection> try_idle(bool &counted);
    // The full path: idle, create, or wait; counts the acquire unless
    // `counted` already.
    std::unique_ptr<PooledConnection> acquire_full(std::chrono::milliseconds timeout, bool counted);
    // With mu_ held through `lock`: `pc`, just taken from idle, becomes a
    // lease, pinged first when validateIdleAfterMillis says so (outside the
    // mutex). One that fails validation is retired, its capacity goes to
    // the first waiter, and the result is nullptr. Returns with `lock`
    // released.
    std::unique_ptr<PooledConnection> lend_idle(std::unique_lock<std::mutex> &lock,
                                                std::unique_ptr<PooledConnection> pc);
    // With mu_ held: the most recently used idle session, leased, or
    // validating when it must be pinged before it is lent.
    std::unique_ptr<PooledConnection> take_idle_locked();
    // Queues the caller behind the waiters and waits for its grant; returns
    // the lease, or nullptr to go round again (an idle session taken after a
    // wake-up failed validation). With `lock` held on entry; throws
    // PoolTimeout, or Error when the pool closes.
    std::unique_ptr<PooledConnection> wait_turn(std::unique_lock<std::mutex> &lock, Clock::time_point start,
                                                Clock::time_point deadline);
    // Opens a session for a caller whose capacity is reserved (creating),
    // after the pause that follows a failed create. Outside mu_.
    std::unique_ptr<PooledConnection> create_for_caller(Clock::time_point start, Clock::time_point deadline);
    std::unique_ptr<PooledConnection> create_with_retry(Clock::time_point deadline);
    // Pings an idle session; false when it failed validation.
    bool validate(PooledConnection &pc) noexcept;
    // Resets a released session's state; false when it failed (or the pool
    // is closing) and the session must not be lent again.
    bool reset_session(PooledConnection &pc) noexcept;
    void destroy(std::unique_ptr<PooledConnection> pc, CloseReason why) noexcept;
    // With mu_ held: a session's capacity is free; the first waiter opens
    // one (with a budget: when the budget has a slot for it).
    void capacity_freed_locked() noexcept {
        if (budget_) budget_serve_locked(false);
        else if (pool_policy::can_open(bag_.census(), max_)) bag_.grant_capacity_to_first();
    }
    // With mu_ held: the idle sessions above max_, taken out to be closed.
    std::vector<std::pair<std::unique_ptr<PooledConnection>, CloseReason>> take_idle_over_max_locked();
    // With mu_ held, budgeted pools: waiters the pool has room for get
    // capacity while the budget has slots; if some still need one the pool
    // joins the budget's line (`counted`: one more caller waits), else it
    // leaves it. Returns whether the pool waits in line.
    bool budget_serve_locked(bool counted) noexcept;
    // A slot of this pool back to the budget (an abandoned open). Without mu_.
    void give_back_slot() noexcept {
        if (budget_) budget_->give_back(*budget_member_);
    }
    [[noreturn]] void throw_timeout(std::chrono::milliseconds waited, Clock::time_point since);
    // The PoolTimeout an acquire waiting since `since` ends with (counted
    // and reported to onError).
    PoolTimeout timeout_error(std::chrono::milliseconds waited, Clock::time_point since);
    // acquire_async's steps: look for a session (the acquire_full loop's
    // body), go on after a grant, lend an idle one, open one, deliver.
    void async_step(const std::shared_ptr<AsyncAcquire> &a) noexcept;
    void async_resume(const std::shared_ptr<AsyncAcquire> &a) noexcept;
    void async_enqueue_locked(std::unique_lock<std::mutex> &lock, const std::shared_ptr<AsyncAcquire> &a);
    void async_leave_locked(AsyncAcquire &a) noexcept;
    void async_lend(std::unique_lock<std::mutex> &lock, const std::shared_ptr<AsyncAcquire> &a,
                    std::unique_ptr<PooledConnection> pc) noexcept;
    void async_create(const std::shared_ptr<AsyncAcquire> &a) noexcept;
    static void async_finish(AsyncAcquire &a, std::unique_ptr<PooledConnection> pc, std::exception_ptr error) noexcept;
    static void async_granted(Waiter &w);
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
    const std::shared_ptr<ConnectionMetrics> metrics_;
    const PoolClock *const clock_;
    const std::shared_ptr<ServerBudget> budget_;
    const std::shared_ptr<ServerBudget::Member> budget_member_; // this pool's account in budget_

    mutable std::mutex mu_;
    SessionBag bag_; // the sessions and the waiters (guarded by mu_ but its lock-free part)
    PooledConnection *leased_ = nullptr; // head of the leak-detection list
    bool closed_ = false;
    // pool.min / pool.max: options_'s until resize() changes them.
    int min_, max_;
    bool handoff_ = false; // releases go straight to the waiters (see the top)

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
