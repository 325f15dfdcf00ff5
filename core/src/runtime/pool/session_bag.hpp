// SessionBag: the container of a pool's sessions (HikariCP's ConcurrentBag
// to pool_policy.hpp's HikariPool): the idle list, the per-thread parking
// slots of the lock-free path, the waiter queue, and the counts by status.
// It decides nothing; Pool asks pool_policy and tells the bag what to do.
//
// Locking: the parking slots and the two flags (has_waiters, closing) are
// atomics the lock-free path reads without a lock; everything else is
// guarded by the owning Pool's mutex, which the caller holds for the
// members marked "locked".
#pragma once

#include "plugins/native_connection.hpp"
#include "pool/pool_policy.hpp"

#include <atomic>
#include <cassert>
#include <condition_variable>
#include <deque>
#include <memory>
#include <utility>
#include <vector>

namespace ilana::detail {

struct PooledConnection {
    std::unique_ptr<NativeConnection> conn;
    SessionStatus status = SessionStatus::creating; // changed by SessionBag::move()/relabel() only
    Clock::time_point created;
    Clock::time_point last_used;
    Clock::time_point retire_at; // max() when no lifetime
    Clock::time_point leased_at;
    // Leak detection (only when leakDetectionMillis > 0): leased sessions
    // form an intrusive list the maintenance pass scans.
    PooledConnection *lease_prev = nullptr, *lease_next = nullptr;
    size_t borrower = 0;        // hash of the borrowing thread's id
    bool leak_reported = false;
    // The async API's state of this session (the db layer's AsyncSession),
    // made on its first async statement. Declared after `conn`, so it goes
    // first.
    std::shared_ptr<void> async_state;
};

// A caller queued in acquire(). What it was granted is one value; a
// waiter still in the queue has none or idle_ready.
struct Waiter {
    enum class Grant : uint8_t {
        none,       // keep waiting
        idle_ready, // a session went idle: try to take it (a newcomer may be first)
        session,    // `session` is ours, already leased (a hand-off)
        capacity,   // capacity was reserved for us (counted creating): open a session
        closed,     // the pool closed
    };
    explicit Waiter(Clock::time_point since) : since(since) {}
    const Clock::time_point since;
    Grant grant = Grant::none;
    std::unique_ptr<PooledConnection> session;
    std::condition_variable cv;
    // An asynchronous acquire (Pool::acquire_async) has no thread blocked on
    // `cv`: the bag calls this instead, with the pool's mutex held, so it
    // only schedules the waiter's next step.
    void (*on_grant)(Waiter &) = nullptr;
    void notify() {
        if (on_grant != nullptr) on_grant(*this);
        else cv.notify_one();
    }
};

class SessionBag {
public:
    explicit SessionBag(bool lock_free) : lock_free_(lock_free) {}
    SessionBag(const SessionBag &) = delete;
    SessionBag &operator=(const SessionBag &) = delete;

    // The one place a session's status changes (with relabel() below). A
    // change of capacity class (pool_policy::capacity_of) updates the counts
    // and needs the pool's mutex.
    void move(PooledConnection &pc, SessionStatus to) noexcept {
        assert(pool_policy::transition_allowed(pc.status, to));
        const auto from = pool_policy::capacity_of(pc.status), into = pool_policy::capacity_of(to);
        if (from != into) {
            count(from, -1);
            count(into, +1);
        }
        pc.status = to;
    }
    // move() for a change inside one capacity class, which needs no count
    // (the lock-free path's leased <-> parked, a reset, a validated session
    // lent): made by the thread that holds the session, without the mutex.
    static void relabel(PooledConnection &pc, SessionStatus to) noexcept {
        assert(pool_policy::transition_allowed(pc.status, to));
        assert(pool_policy::capacity_of(pc.status) == pool_policy::capacity_of(to));
        pc.status = to;
    }

    // ---- lock-free ---------------------------------------------------------

    bool lock_free() const noexcept { return lock_free_; }
    // Whether an acquire may try its thread's slot before the mutex.
    bool fast_path_open() const noexcept {
        return lock_free_ && !has_waiters_.load(std::memory_order_acquire) &&
               !closing_.load(std::memory_order_acquire);
    }
    // Whether a release may try to park (seq_cst: pairs with the waiter's
    // and close()'s publication, see park()).
    bool parking_open() const noexcept {
        return lock_free_ && !has_waiters_.load(std::memory_order_seq_cst) &&
               !closing_.load(std::memory_order_seq_cst);
    }
    // This thread's parked session (parked -> leased), or nullptr.
    std::unique_ptr<PooledConnection> take_parked() noexcept;
    // Parks `pc` in this thread's slot (leased -> parked). False when it
    // cannot: `pc` is then the session to release on the locked path (this
    // one, or one parked since), or null when someone else took ours.
    bool park(std::unique_ptr<PooledConnection> &pc) noexcept;
    // close() begins: park() takes the locked path from here on.
    void start_closing() noexcept { closing_.store(true, std::memory_order_seq_cst); }
    bool closing() const noexcept { return closing_.load(std::memory_order_acquire); }

    // ---- locked ------------------------------------------------------------

    pool_policy::Census census() const noexcept {
        return {static_cast<int>(idle_.size()), creating_, out_, waiting_};
    }
    bool has_idle() const noexcept { return !idle_.empty(); }
    // Parked sessions become idle ones (parked -> idle), stamped `now`
    // (parked at most one reap interval ago). Returns how many.
    int unpark_all(Clock::time_point now) noexcept;

    // The most recently used idle session (idle -> `to`: leased or validating).
    std::unique_ptr<PooledConnection> take_idle(SessionStatus to) noexcept;
    // `pc` goes idle as the most recently used (`oldest`: the least).
    void put_idle(std::unique_ptr<PooledConnection> pc, bool oldest = false);
    // The idle sessions, oldest-used first, as the policy sees them.
    std::vector<pool_policy::IdleFacts> idle_facts() const;
    // Takes the idle sessions `chosen` names out of service (idle -> retiring).
    std::vector<std::pair<std::unique_ptr<PooledConnection>, CloseReason>>
    retire_idle(const std::vector<pool_policy::Retirement> &chosen);
    // Takes every idle session out of service (idle -> retiring).
    std::vector<std::unique_ptr<PooledConnection>> retire_all_idle();

    // Capacity for `n` sessions to be opened (counted creating until
    // opened() or abandon_create()).
    void reserve_create(int n = 1) noexcept { creating_ += n; }
    // A reserved create failed: its capacity is free again.
    void abandon_create() noexcept { --creating_; }
    // A reserved create succeeded: `pc` (status creating) becomes `to`.
    void opened(PooledConnection &pc, SessionStatus to) noexcept { move(pc, to); }

    // ---- waiters (locked) --------------------------------------------------

    bool has_waiters() const noexcept { return waiting_ != 0; }
    void enqueue(Waiter *w);
    // `w` leaves the queue (served from idle, or timed out).
    void dequeue(Waiter *w) noexcept;
    // The first waiter gets `pc` (leased, or creating -> leased).
    void hand_to_first(std::unique_ptr<PooledConnection> pc) noexcept;
    // The first waiter, if any, gets freed capacity to open a session with
    // (counted creating from now on). False when nobody waits.
    bool grant_capacity_to_first() noexcept;
    // Tells the first waiter a session went idle (once until it looks).
    void wake_first() noexcept;
    // Every waiter is told the pool closed; the queue empties.
    void fail_all_waiters() noexcept;

    // ---- statistics --------------------------------------------------------

    int parked_count() const noexcept;
    uint64_t lock_free_acquires() const noexcept;

private:
    void count(pool_policy::Capacity c, int delta) noexcept {
        if (c == pool_policy::Capacity::creating) creating_ += delta;
        else if (c == pool_policy::Capacity::out) out_ += delta;
        // idle is idle_.size(); retiring sessions count nowhere
    }
    void waiters_changed() noexcept {
        waiting_ = static_cast<int>(waiters_.size());
        has_waiters_.store(waiting_ != 0, std::memory_order_seq_cst);
    }

    std::vector<std::unique_ptr<PooledConnection>> idle_; // back = most recently used
    std::deque<Waiter *> waiters_;                        // first come, first served
    int waiting_ = 0;                                     // waiters_.size(), read by every census
    int creating_ = 0;
    int out_ = 0;

    // Parking slots, one cache line each; a thread uses the slot its id
    // hashes to.
    static constexpr size_t kSlots = 16;
    struct alignas(64) Slot {
        std::atomic<PooledConnection *> parked{nullptr};
        std::atomic<uint64_t> acquires{0}; // lock-free acquires through this slot (approximate)
    };
    Slot slots_[kSlots];
    const bool lock_free_;
    std::atomic<bool> has_waiters_{false};
    std::atomic<bool> closing_{false};
};

} // namespace ilana::detail
