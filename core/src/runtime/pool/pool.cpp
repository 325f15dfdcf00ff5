#include "common/error_factory.hpp"
#include "pool/pool.hpp"
#include "log/call_hook.hpp"
#include "log/log_events.hpp"

#include <ilana/logging.hpp>
#include <ilana/retry.hpp>

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cmath>
#include <ctime>

namespace ilana::detail {

namespace {
// splitmix64: a cheap per-pool random source for jitter (no global lock).
uint64_t next_random(uint64_t &state) {
    uint64_t z = (state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

// CLOCK_MONOTONIC_COARSE is steady_clock's clock (CLOCK_MONOTONIC on
// Linux) read at tick resolution: never ahead of Clock::now(), at most a
// tick (1-4 ms) behind.
Clock::time_point coarse_now() noexcept {
#if defined(CLOCK_MONOTONIC_COARSE)
    timespec ts;
    if (clock_gettime(CLOCK_MONOTONIC_COARSE, &ts) == 0)
        return Clock::time_point(std::chrono::duration_cast<Clock::duration>(
            std::chrono::seconds(ts.tv_sec) + std::chrono::nanoseconds(ts.tv_nsec)));
#endif
    return Clock::now();
}

// The parking slot of the calling thread (the same index in every pool).
size_t my_slot(size_t slots) noexcept {
    thread_local const size_t hash = std::hash<std::thread::id>{}(std::this_thread::get_id());
    return hash % slots;
}

bool retryable_connect_error(const Error &e) {
    return e.error_class() == ErrorClass::connection || e.error_class() == ErrorClass::transient ||
           e.error_class() == ErrorClass::timeout;
}

const char *reason_name(CloseReason why) noexcept {
    switch (why) {
    case CloseReason::idle: return "idle";
    case CloseReason::lifetime: return "lifetime";
    case CloseReason::broken: return "broken";
    case CloseReason::shutdown: return "shutdown";
    }
    return "?";
}

// Closes `pc` on a thread of its own and waits at most `bound` for it.
// Returns false when the close outlived the bound: it is left to finish on
// its thread, which owns the session from then on. With no bound (or no
// thread to spare) the close runs here: a thread would only be waited for.
bool close_within(std::unique_ptr<PooledConnection> pc, std::chrono::milliseconds bound) noexcept {
    if (bound.count() <= 0) {
        pc.reset(); // the driver's close, as long as it takes
        return true;
    }
    struct Closing {
        std::mutex mu;
        std::condition_variable cv;
        bool done = false;
    };
    std::shared_ptr<Closing> closing;
    try {
        closing = std::make_shared<Closing>();
        std::thread([closing, pc = std::move(pc)]() mutable noexcept {
            pc.reset(); // the driver's close
            std::lock_guard<std::mutex> lock(closing->mu);
            closing->done = true;
            closing->cv.notify_all();
        }).detach();
    } catch (...) {
        pc.reset(); // no thread (or no memory): close here, unbounded
        return true;
    }
    std::unique_lock<std::mutex> lock(closing->mu);
    return closing->cv.wait_for(lock, bound, [&] { return closing->done; });
}
} // namespace

Pool::Pool(std::string name, PoolOptions options, RetryOptions retry, ConnectFn connect,
           std::shared_ptr<const Hooks> hooks, ConnectionMetrics *metrics)
    : name_(std::move(name)), options_(options), retry_(retry), connect_(std::move(connect)),
      hooks_(std::move(hooks)), metrics_(metrics),
      lock_free_(options_.validate_idle_after_ms <= 0 && options_.leak_detection_ms <= 0),
      rng_state_(static_cast<uint64_t>(Clock::now().time_since_epoch().count()) ^
                 reinterpret_cast<uintptr_t>(this)) {}

Pool::~Pool() { close(); }

Clock::time_point Pool::retire_time(Clock::time_point created) {
    if (options_.max_lifetime_ms <= 0) return Clock::time_point::max();
    // Up to 10% less than the lifetime, so sessions opened together do not
    // all retire in the same tick.
    int64_t life = options_.max_lifetime_ms;
    int64_t jitter = life / 10 > 0 ? static_cast<int64_t>(next_random(rng_state_) % static_cast<uint64_t>(life / 10)) : 0;
    return created + std::chrono::milliseconds(life - jitter);
}

void Pool::emit_error(const Error &e) noexcept {
    if (hooks_) detail::call_hook(hooks_->on_error, "onError", name_, e);
}

std::unique_ptr<PooledConnection> Pool::create_with_retry(Clock::time_point deadline) {
    const int attempts = std::max(1, retry_.max_attempts);
    for (int attempt = 1;; ++attempt) {
        auto now = Clock::now();
        auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - now).count();
        int64_t timeout = options_.create_timeout_ms > 0 ? options_.create_timeout_ms : 30000;
        if (left > 0) timeout = std::min<int64_t>(timeout, left);
        try {
            auto pc = std::make_unique<PooledConnection>();
            pc->conn = connect_(static_cast<int32_t>(std::max<int64_t>(1, timeout)));
            pc->created = pc->last_used = Clock::now();
            {
                std::lock_guard<std::mutex> lock(mu_);
                pc->retire_at = retire_time(pc->created);
                ++created_;
            }
            return pc;
        } catch (const Error &e) {
            {
                std::lock_guard<std::mutex> lock(mu_);
                ++create_errors_;
            }
            emit_error(e);
            bool can_retry = attempt < attempts && retryable_connect_error(e);
            if (!can_retry) throw;
            double r01;
            {
                std::lock_guard<std::mutex> lock(mu_);
                r01 = static_cast<double>(next_random(rng_state_) >> 11) / 9007199254740992.0;
            }
            const int64_t delay = backoff_delay(retry_, attempt + 1, r01).count();
            if (metrics_ != nullptr) metrics_->record_retry();
            auto wake = Clock::now() + std::chrono::milliseconds(delay);
            if (wake >= deadline) throw; // no time left for another attempt
            detail::log_connection_retry(name_, attempt + 1, attempts, delay, e.what());
            if (hooks_) detail::call_hook(hooks_->on_retry, "onRetry", name_, attempt + 1, e, std::chrono::milliseconds(delay));
            std::this_thread::sleep_until(wake);
        }
    }
}

std::unique_ptr<PooledConnection> Pool::validate_or_drop(std::unique_ptr<PooledConnection> pc) noexcept {
    if (options_.validate_idle_after_ms <= 0) return pc;
    auto idle_for = Clock::now() - pc->last_used;
    if (idle_for < std::chrono::milliseconds(options_.validate_idle_after_ms)) return pc;
    try {
        pc->conn->ping(static_cast<int32_t>(std::min<int64_t>(options_.create_timeout_ms, 5000)));
        return pc;
    } catch (const Error &e) {
        ilana::logger()->info("conn={} idle session failed validation and is discarded: {}", name_, e.what());
        destroy(std::move(pc), CloseReason::broken);
        return nullptr;
    }
}

void Pool::destroy(std::unique_ptr<PooledConnection> pc, CloseReason why) noexcept {
    if (!pc) return;
    if (why != CloseReason::shutdown)
        ilana::logger()->debug("conn={} CONNECTION_EVICTED reason={}", name_, reason_name(why));
    // The driver's close never fails, but it may block (a frozen server
    // that stops reading): destroyTimeoutMillis bounds the wait for it.
    const auto bound = std::chrono::milliseconds(std::max<int64_t>(0, options_.destroy_timeout_ms));
    const bool closed_in_time = close_within(std::move(pc), bound);
    if (!closed_in_time)
        ilana::logger()->warn("conn={} closing a session took longer than destroyTimeoutMillis={}: abandoned, it "
                              "finishes in the background (is the server frozen or unreachable?)",
                              name_, options_.destroy_timeout_ms);
    std::lock_guard<std::mutex> lock(mu_);
    ++destroyed_;
    if (!closed_in_time) ++destroy_timeouts_;
    switch (why) {
    case CloseReason::idle: ++evicted_idle_; break;
    case CloseReason::lifetime: ++evicted_lifetime_; break;
    case CloseReason::broken: ++evicted_broken_; break;
    case CloseReason::shutdown: break;
    }
}

std::optional<CloseReason> Pool::retire_reason(const PooledConnection &pc, bool reusable,
                                               Clock::time_point now) noexcept {
    if (!pc.conn || pc.conn->broken()) return CloseReason::broken;
    if (now >= pc.retire_at) return CloseReason::lifetime;
    if (!reusable) return CloseReason::broken; // released as not reusable (or its reset failed)
    return std::nullopt;
}

bool Pool::wait_create_pause(Clock::time_point deadline) {
    Clock::time_point resume;
    {
        std::lock_guard<std::mutex> lock(mu_);
        if (create_failed_at_ == Clock::time_point{} || options_.create_retry_interval_ms <= 0) return true;
        resume = create_failed_at_ + std::chrono::milliseconds(options_.create_retry_interval_ms);
    }
    if (resume <= Clock::now()) return true;
    if (resume > deadline) {
        std::this_thread::sleep_until(deadline);
        return false;
    }
    std::this_thread::sleep_until(resume);
    return true;
}

void Pool::capacity_freed_locked() {
    if (!waiters_.empty()) {
        Waiter *w = waiters_.front();
        waiters_.pop_front();
        waiters_changed_locked();
        w->may_create = true;
        ++pending_;
        w->cv.notify_one();
    }
}

void Pool::wake_first_locked() {
    Waiter *w = waiters_.front();
    if (w->woken) return;
    w->woken = true;
    w->cv.notify_one();
}

void Pool::remove_waiter_locked(Waiter *w) {
    auto it = std::find(waiters_.begin(), waiters_.end(), w);
    if (it != waiters_.end()) waiters_.erase(it);
    waiters_changed_locked();
    if (waiters_.empty()) {
        handoff_ = false;
    } else if (!idle_.empty()) {
        wake_first_locked(); // the session meant for us goes to the next one
    }
}

void Pool::throw_timeout(std::chrono::milliseconds waited, Clock::time_point since) {
    int in_use, waiting;
    std::string cause;
    {
        std::lock_guard<std::mutex> lock(mu_);
        ++timeouts_;
        in_use = in_use_;
        waiting = static_cast<int>(waiters_.size());
        // tarn's "possible timeout cause": a create failed while we waited.
        if (create_failed_at_ >= since && !create_failure_.empty()) cause = create_failure_;
    }
    std::string message = "[" + name_ + "] ";
    if (cause.empty()) {
        message += "connection pool exhausted: no connection available within acquireTimeoutMillis=" +
                   std::to_string(options_.acquire_timeout_ms) + " (max=" + std::to_string(options_.max) +
                   ", in use=" + std::to_string(in_use) + ", waiting=" + std::to_string(waiting) + ", waited " +
                   std::to_string(waited.count()) +
                   "ms); release leases sooner, raise pool.max, or raise acquireTimeoutMillis";
    } else {
        message += "no connection within acquireTimeoutMillis=" + std::to_string(options_.acquire_timeout_ms) +
                   " (waited " + std::to_string(waited.count()) +
                   "ms): opening a connection failed meanwhile (retried every createRetryIntervalMillis=" +
                   std::to_string(options_.create_retry_interval_ms) + "): " + cause;
    }
    PoolTimeout e(message, ErrorClass::timeout, name_);
    emit_error(e);
    throw e;
}

std::unique_ptr<PooledConnection> Pool::acquire() {
    std::chrono::microseconds waited;
    return acquire_measured(waited);
}

std::unique_ptr<PooledConnection> Pool::take_parked() noexcept {
    Slot &slot = slots_[my_slot(kSlots)];
    // A plain load first: an empty slot costs no cache-line write.
    if (slot.parked.load(std::memory_order_relaxed) == nullptr) return nullptr;
    PooledConnection *pc = slot.parked.exchange(nullptr, std::memory_order_acq_rel);
    if (pc == nullptr) return nullptr;
    // Not a locked add: the slot is (nearly always) this thread's alone, and
    // a count lost to a rare shared slot only blurs a statistic.
    slot.acquires.store(slot.acquires.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
    return std::unique_ptr<PooledConnection>(pc); // counted in in_use_ all along
}

bool Pool::park(std::unique_ptr<PooledConnection> &pc) noexcept {
    Slot &slot = slots_[my_slot(kSlots)];
    PooledConnection *expected = nullptr;
    if (!slot.parked.compare_exchange_strong(expected, pc.get(), std::memory_order_seq_cst)) return false;
    PooledConnection *mine = pc.release();
    // A waiter or close() may have looked at the slots just before: they
    // published their flag first (seq_cst), so one of us sees the other.
    // Take a session back (ours or one parked since) for the locked path.
    if (has_waiters_.load(std::memory_order_seq_cst) || closing_.load(std::memory_order_seq_cst)) {
        pc.reset(slot.parked.exchange(nullptr, std::memory_order_seq_cst));
        return pc == nullptr; // taken meanwhile by someone who will handle it
    }
    (void)mine;
    return true;
}

int Pool::unpark_all_locked() noexcept {
    int n = 0;
    Clock::time_point now{};
    for (Slot &slot : slots_) {
        // seq_cst (a plain load on x86): pairs with park()'s re-check.
        if (slot.parked.load(std::memory_order_seq_cst) == nullptr) continue;
        PooledConnection *pc = slot.parked.exchange(nullptr, std::memory_order_seq_cst);
        if (pc == nullptr) continue;
        if (n++ == 0) now = coarse_now();
        pc->last_used = now; // parked at most one reap interval ago
        --in_use_;
        idle_.emplace_back(pc);
    }
    return n;
}

std::unique_ptr<PooledConnection> Pool::try_idle() {
    std::unique_lock<std::mutex> lock(mu_);
    if (lock_free_ && idle_.empty() && !closed_) unpark_all_locked();
    if (closed_ || idle_.empty() || (handoff_ && !waiters_.empty())) return nullptr;
    ++acquires_;
    auto pc = std::move(idle_.back());
    idle_.pop_back();
    ++in_use_;
    lock.unlock();
    if (options_.validate_idle_after_ms > 0) {
        pc = validate_or_drop(std::move(pc));
        if (!pc) {
            std::lock_guard<std::mutex> relock(mu_);
            --in_use_;
            --acquires_; // the full path counts this acquire
            capacity_freed_locked();
            return nullptr;
        }
    }
    track_lease(*pc);
    return pc;
}

std::unique_ptr<PooledConnection> Pool::acquire_measured(std::chrono::microseconds &waited) {
    waited = std::chrono::microseconds(0);
    if (lock_free_ && !has_waiters_.load(std::memory_order_acquire) && !closing_.load(std::memory_order_acquire)) {
        if (auto pc = take_parked()) return pc;
    }
    if (auto pc = try_idle()) return pc;
    const auto start = Clock::now();
    auto pc = acquire(std::chrono::milliseconds(std::max<int64_t>(0, options_.acquire_timeout_ms)));
    waited = std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - start);
    return pc;
}

std::unique_ptr<PooledConnection> Pool::acquire(std::chrono::milliseconds timeout) {
    const auto start = Clock::now();
    const auto deadline = start + timeout;
    for (;;) {
        std::unique_lock<std::mutex> lock(mu_);
        if (closed_) detail::throw_error(Error("[" + name_ + "] the pool is closed", ErrorClass::connection, name_));
        ++acquires_;
        bool create = false;
        if (lock_free_ && idle_.empty()) unpark_all_locked();
        if (!idle_.empty() && (waiters_.empty() || !handoff_)) {
            auto pc = std::move(idle_.back());
            idle_.pop_back();
            ++in_use_;
            lock.unlock();
            pc = validate_or_drop(std::move(pc));
            if (!pc) {
                std::lock_guard<std::mutex> relock(mu_);
                --in_use_;
                capacity_freed_locked();
                continue;
            }
            track_lease(*pc);
            return pc;
        }
        if (waiters_.empty() && total_locked() < options_.max) {
            ++pending_;
            create = true;
        } else {
            Waiter w;
            if (waiters_.empty()) handoff_ = false; // a new queue starts in the fast mode
            waiters_.push_back(&w);
            waiters_changed_locked();
            // A session parked just before the flag went up: take it now
            // (park() sees the flag from here on and takes the locked path).
            if (lock_free_ && unpark_all_locked() > 0) w.woken = true;
            std::unique_ptr<PooledConnection> taken; // from idle, after a wake-up
            for (;;) {
                bool ready = w.cv.wait_until(lock, deadline,
                                             [&] { return w.handed || w.may_create || w.failed || w.woken; });
                if (!ready) {
                    remove_waiter_locked(&w);
                    lock.unlock();
                    throw_timeout(std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start), start);
                }
                if (w.failed)
                    detail::throw_error(
                        Error("[" + name_ + "] the pool was closed while waiting", ErrorClass::connection, name_));
                if (w.handed) {
                    // Still counted in in_use_: a hand-off never frees
                    // capacity. Back to the fast path once the queue is empty
                    // or nobody has waited long.
                    if (waiters_.empty() || Clock::now() - start < kHandoffAfter) handoff_ = false;
                    lock.unlock();
                    auto pc = std::move(w.handed);
                    track_lease(*pc);
                    return pc;
                }
                if (w.may_create) break; // pending_ was reserved for us
                w.woken = false;
                if (!idle_.empty()) {
                    taken = std::move(idle_.back());
                    idle_.pop_back();
                    ++in_use_;
                    remove_waiter_locked(&w);
                    break;
                }
                // A thread that did not wait took the session first. After
                // kHandoffAfter of that, releases go to the waiters in turn.
                if (Clock::now() - start >= kHandoffAfter) handoff_ = true;
            }
            if (taken) {
                lock.unlock();
                taken = validate_or_drop(std::move(taken));
                if (!taken) {
                    std::lock_guard<std::mutex> relock(mu_);
                    --in_use_;
                    capacity_freed_locked();
                    continue;
                }
                track_lease(*taken);
                return taken;
            }
            create = true; // may_create: pending_ was reserved for us
        }
        lock.unlock();
        if (create) {
            // After a failed create, the next one waits createRetryIntervalMillis.
            if (!wait_create_pause(deadline)) {
                {
                    std::lock_guard<std::mutex> relock(mu_);
                    --pending_;
                    capacity_freed_locked();
                }
                throw_timeout(std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start), start);
            }
            try {
                auto pc = create_with_retry(deadline);
                {
                    std::lock_guard<std::mutex> relock(mu_);
                    --pending_;
                    ++in_use_;
                    create_failed_at_ = {}; // the server answers again: no more pauses
                }
                track_lease(*pc);
                return pc;
            } catch (const Error &e) {
                std::lock_guard<std::mutex> relock(mu_);
                --pending_;
                create_failed_at_ = Clock::now();
                create_failure_ = e.what();
                capacity_freed_locked();
                throw;
            } catch (...) {
                std::lock_guard<std::mutex> relock(mu_);
                --pending_;
                capacity_freed_locked();
                throw;
            }
        }
    }
}

void Pool::release(std::unique_ptr<PooledConnection> pc, bool reusable) noexcept {
    if (!pc) return;
    // Before parking: the next lease, lock-free or not, gets a clean session.
    if (reusable && pc->conn && !pc->conn->broken() && pc->conn->session_dirty()) reusable = reset_session(*pc);
    if (lock_free_ && reusable && pc->conn && !pc->conn->broken() &&
        !has_waiters_.load(std::memory_order_seq_cst) && !closing_.load(std::memory_order_seq_cst) &&
        (options_.max_lifetime_ms <= 0 || coarse_now() < pc->retire_at)) {
        if (park(pc)) return;
        if (!pc) return;
    }
    // Idle time and lifetime are judged in hundreds of milliseconds: the
    // coarse clock (a few ms behind, a third of the cost) is exact enough.
    auto now = coarse_now();
    std::optional<CloseReason> why = retire_reason(*pc, reusable, now); // nullopt: kept
    std::unique_ptr<PooledConnection> doomed;
    {
        std::lock_guard<std::mutex> lock(mu_);
        if (options_.leak_detection_ms > 0) {
            if (!pc->leak_reported && now - pc->leased_at > std::chrono::milliseconds(options_.leak_detection_ms))
                ilana::logger()->warn("conn={} a lease was held for {}ms by thread {:x} (leakDetectionMillis={})",
                                      name_,
                                      std::chrono::duration_cast<std::chrono::milliseconds>(now - pc->leased_at).count(),
                                      pc->borrower, options_.leak_detection_ms);
            untrack_lease_locked(*pc);
        }
        if (why || closed_) {
            --in_use_;
            if (closed_) why = CloseReason::shutdown;
            doomed = std::move(pc);
            if (!closed_) capacity_freed_locked();
        } else {
            pc->last_used = now;
            if (handoff_ && !waiters_.empty()) {
                // Straight to the first waiter; it stays counted in in_use_
                // so no other thread sees free capacity in between.
                Waiter *w = waiters_.front();
                waiters_.pop_front();
                waiters_changed_locked();
                w->handed = std::move(pc);
                w->cv.notify_one();
            } else {
                --in_use_;
                idle_.push_back(std::move(pc));
                if (!waiters_.empty()) wake_first_locked();
            }
        }
    }
    if (doomed) destroy(std::move(doomed), *why);
}

bool Pool::reset_session(PooledConnection &pc) noexcept {
    if (closing_.load(std::memory_order_acquire)) return false; // closed on release anyway
    try {
        pc.conn->reset_session();
        resets_.fetch_add(1, std::memory_order_relaxed);
        return true;
    } catch (const Error &e) {
        reset_failures_.fetch_add(1, std::memory_order_relaxed);
        ilana::logger()->warn("conn={} a released session's state could not be reset; the session is discarded: {}",
                              name_, e.what());
        emit_error(e);
    } catch (...) { // out of memory building the error: still discard
        reset_failures_.fetch_add(1, std::memory_order_relaxed);
        ilana::logger()->warn("conn={} a released session's state could not be reset; the session is discarded",
                              name_);
    }
    return false;
}

void Pool::track_lease(PooledConnection &pc) {
    // The lease time serves leak detection only: no clock read without it.
    if (options_.leak_detection_ms <= 0) return;
    pc.leased_at = Clock::now();
    pc.borrower = std::hash<std::thread::id>{}(std::this_thread::get_id());
    pc.leak_reported = false;
    std::lock_guard<std::mutex> lock(mu_);
    pc.lease_prev = nullptr;
    pc.lease_next = leased_;
    if (leased_ != nullptr) leased_->lease_prev = &pc;
    leased_ = &pc;
}

void Pool::untrack_lease_locked(PooledConnection &pc) noexcept {
    if (pc.lease_prev != nullptr) pc.lease_prev->lease_next = pc.lease_next;
    else if (leased_ == &pc) leased_ = pc.lease_next;
    if (pc.lease_next != nullptr) pc.lease_next->lease_prev = pc.lease_prev;
    pc.lease_prev = pc.lease_next = nullptr;
}

// A lease held past leakDetectionMillis is reported once while still held
// (and again, with its final duration, when it comes back).
void Pool::report_leaks_locked(Clock::time_point now) noexcept {
    const auto limit = std::chrono::milliseconds(options_.leak_detection_ms);
    for (PooledConnection *p = leased_; p != nullptr; p = p->lease_next) {
        if (p->leak_reported || now - p->leased_at <= limit) continue;
        p->leak_reported = true;
        ilana::logger()->warn("conn={} possible connection leak: a lease held for {}ms by thread {:x} "
                              "(leakDetectionMillis={}); release leases (end the Session) when done",
                              name_, std::chrono::duration_cast<std::chrono::milliseconds>(now - p->leased_at).count(),
                              p->borrower, options_.leak_detection_ms);
    }
}

void Pool::maintain(Clock::time_point now) noexcept {
    std::vector<std::pair<std::unique_ptr<PooledConnection>, CloseReason>> doomed;
    int to_create = 0;
    {
        std::lock_guard<std::mutex> lock(mu_);
        if (closed_) return;
        // Parked sessions are idle ones: reaped and retired like them.
        if (lock_free_) unpark_all_locked();
        if (options_.leak_detection_ms > 0) report_leaks_locked(now);
        // Oldest-used first: idle_ is ordered by last use (front = oldest).
        const auto idle_limit = std::chrono::milliseconds(options_.idle_timeout_ms);
        for (auto it = idle_.begin(); it != idle_.end();) {
            bool expired = now >= (*it)->retire_at;
            bool too_idle = options_.idle_timeout_ms > 0 && now - (*it)->last_used >= idle_limit &&
                            total_locked() - static_cast<int>(doomed.size()) > options_.min;
            if (expired || too_idle) {
                doomed.emplace_back(std::move(*it), expired ? CloseReason::lifetime : CloseReason::idle);
                it = idle_.erase(it);
            } else {
                ++it;
            }
        }
        to_create = std::max(0, options_.min - total_locked());
        to_create = std::min(to_create, options_.max - total_locked());
        pending_ += to_create;
    }
    for (auto &d : doomed) destroy(std::move(d.first), d.second);
    doomed.clear();
    for (int i = 0; i < to_create; ++i) {
        std::unique_ptr<PooledConnection> pc;
        try {
            pc = create_with_retry(Clock::now() + std::chrono::milliseconds(options_.create_timeout_ms));
        } catch (const Error &e) {
            ilana::logger()->warn("conn={} could not open a session to keep pool.min={}: {}", name_, options_.min,
                                  e.what());
        }
        std::lock_guard<std::mutex> lock(mu_);
        --pending_;
        if (!pc) {
            capacity_freed_locked();
            continue;
        }
        if (closed_) {
            doomed.emplace_back(std::move(pc), CloseReason::shutdown);
        } else if (!waiters_.empty()) {
            Waiter *w = waiters_.front();
            waiters_.pop_front();
            waiters_changed_locked();
            ++in_use_; // handed over: in use from now on
            w->handed = std::move(pc);
            w->cv.notify_one();
        } else {
            idle_.insert(idle_.begin(), std::move(pc));
        }
    }
    for (auto &d : doomed) destroy(std::move(d.first), d.second);
}

void Pool::close() noexcept {
    std::vector<std::unique_ptr<PooledConnection>> doomed;
    closing_.store(true, std::memory_order_seq_cst); // park() now takes the locked path
    {
        std::lock_guard<std::mutex> lock(mu_);
        if (closed_) return;
        closed_ = true;
        unpark_all_locked();
        doomed.swap(idle_);
        for (Waiter *w : waiters_) {
            w->failed = true;
            w->cv.notify_one();
        }
        waiters_.clear();
        waiters_changed_locked();
    }
    for (auto &pc : doomed) destroy(std::move(pc), CloseReason::shutdown);
}

bool Pool::closed() const noexcept {
    std::lock_guard<std::mutex> lock(mu_);
    return closed_;
}

PoolStats Pool::stats() const {
    std::lock_guard<std::mutex> lock(mu_);
    PoolStats s;
    // Parked sessions are idle (counted in in_use_ while parked).
    int parked = 0;
    uint64_t lock_free_acquires = 0;
    for (const Slot &slot : slots_) {
        if (slot.parked.load(std::memory_order_acquire) != nullptr) ++parked;
        lock_free_acquires += slot.acquires.load(std::memory_order_relaxed);
    }
    s.idle = static_cast<int>(idle_.size()) + parked;
    s.in_use = in_use_ - parked;
    s.pending = pending_;
    s.waiting = static_cast<int>(waiters_.size());
    s.max = options_.max;
    s.min = options_.min;
    s.created = created_;
    s.destroyed = destroyed_;
    s.timeouts = timeouts_;
    s.acquires = acquires_ + lock_free_acquires;
    s.create_errors = create_errors_;
    s.resets = resets_.load(std::memory_order_relaxed);
    s.reset_failures = reset_failures_.load(std::memory_order_relaxed);
    s.evicted_idle = evicted_idle_;
    s.evicted_lifetime = evicted_lifetime_;
    s.evicted_broken = evicted_broken_;
    s.destroy_timeouts = destroy_timeouts_;
    return s;
}

// ---- Maintainer -----------------------------------------------------------

Maintainer &Maintainer::instance() {
    static Maintainer m;
    return m;
}

void Maintainer::add(const std::shared_ptr<Pool> &pool) {
    std::lock_guard<std::mutex> lock(mu_);
    pools_.push_back(pool);
    if (!started_) {
        started_ = true;
        thread_ = std::thread([this] { run(); });
    }
    cv_.notify_one();
}

Maintainer::~Maintainer() {
    {
        std::lock_guard<std::mutex> lock(mu_);
        stop_ = true;
    }
    cv_.notify_one();
    if (thread_.joinable()) thread_.join();
}

void Maintainer::run() {
    std::unique_lock<std::mutex> lock(mu_);
    while (!stop_) {
        // Tick at the smallest reap interval of the live pools (≥ 10 ms).
        int64_t interval = 1000;
        std::vector<std::shared_ptr<Pool>> live;
        for (auto it = pools_.begin(); it != pools_.end();) {
            if (auto p = it->lock()) {
                interval = std::min<int64_t>(interval, std::max<int64_t>(10, p->options().reap_interval_ms));
                live.push_back(std::move(p));
                ++it;
            } else {
                it = pools_.erase(it);
            }
        }
        lock.unlock();
        auto now = Clock::now();
        for (auto &p : live) p->maintain(now);
        live.clear(); // drop our references before sleeping
        lock.lock();
        cv_.wait_for(lock, std::chrono::milliseconds(interval), [this] { return stop_; });
    }
}

} // namespace ilana::detail
