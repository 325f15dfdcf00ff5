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

namespace policy = pool_policy;

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
Clock::time_point steady_coarse_now() noexcept {
#if defined(CLOCK_MONOTONIC_COARSE)
    timespec ts;
    if (clock_gettime(CLOCK_MONOTONIC_COARSE, &ts) == 0)
        return Clock::time_point(std::chrono::duration_cast<Clock::duration>(
            std::chrono::seconds(ts.tv_sec) + std::chrono::nanoseconds(ts.tv_nsec)));
#endif
    return Clock::now();
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
    case CloseReason::resized: return "resized";
    case CloseReason::budget: return "budget";
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
           std::shared_ptr<const Hooks> hooks, std::shared_ptr<ConnectionMetrics> metrics, const PoolClock *clock,
           std::shared_ptr<ServerBudget> budget)
    : name_(std::move(name)), options_(options), retry_(retry), connect_(std::move(connect)),
      hooks_(std::move(hooks)), metrics_(std::move(metrics)), clock_(clock), budget_(std::move(budget)),
      budget_member_(budget_ ? budget_->join(name_, options_.max) : nullptr),
      // A budgeted pool must see each release (is another pool waiting?):
      // no parking.
      bag_(policy::lock_free_allowed(options_) && !budget_), min_(options.min), max_(options.max),
      rng_state_(static_cast<uint64_t>(Clock::now().time_since_epoch().count()) ^
                 reinterpret_cast<uintptr_t>(this)) {}

Pool::~Pool() {
    close();
    if (budget_) budget_->leave(*budget_member_);
}

bool Pool::budget_serve_locked(bool counted) noexcept {
    while (!closed_ && bag_.has_waiters() && policy::can_open(bag_.census(), max_)) {
        if (!budget_->try_take(*budget_member_, weak_from_this())) {
            budget_->want(*budget_member_, weak_from_this(), counted);
            return true;
        }
        bag_.grant_capacity_to_first();
    }
    budget_->unwant(*budget_member_);
    return false;
}

bool Pool::accept_budget_slot() noexcept {
    std::lock_guard<std::mutex> lock(mu_);
    if (closed_ || !bag_.has_waiters() || !policy::can_open(bag_.census(), max_)) return false;
    bag_.grant_capacity_to_first();
    budget_serve_locked(false); // still waiting: back in line, behind the other pools
    return true;
}

bool Pool::close_idle_for_budget() noexcept {
    std::vector<std::pair<std::unique_ptr<PooledConnection>, CloseReason>> doomed;
    try {
        std::lock_guard<std::mutex> lock(mu_);
        if (closed_ || !bag_.has_idle()) return false;
        doomed = bag_.retire_idle({policy::Retirement{0, CloseReason::budget}}); // the least recently used
        capacity_freed_locked();
    } catch (...) {
        return false;
    }
    for (auto &d : doomed) destroy(std::move(d.first), d.second);
    return true;
}

Clock::time_point Pool::coarse_now() const noexcept {
    return clock_ != nullptr ? clock_->coarse_now() : steady_coarse_now();
}

void Pool::sleep_until(Clock::time_point t) const {
    if (clock_ != nullptr) clock_->sleep_until(t);
    else std::this_thread::sleep_until(t);
}

void Pool::emit_error(const Error &e) noexcept {
    if (hooks_) detail::call_hook(hooks_->on_error, "onError", name_, e);
}

std::unique_ptr<PooledConnection> Pool::create_with_retry(Clock::time_point deadline) {
    const int attempts = std::max(1, retry_.max_attempts);
    for (int attempt = 1;; ++attempt) {
        const int32_t timeout = policy::connect_timeout_ms(options_.create_timeout_ms, now(), deadline);
        try {
            auto pc = std::make_unique<PooledConnection>(); // status creating
            pc->conn = connect_(timeout);
            pc->created = pc->last_used = now();
            {
                std::lock_guard<std::mutex> lock(mu_);
                pc->retire_at = policy::retire_time(pc->created, options_.max_lifetime_ms, next_random(rng_state_));
                ++created_;
            }
            return pc;
        } catch (const Error &e) {
            double r01;
            {
                std::lock_guard<std::mutex> lock(mu_);
                ++create_errors_;
                r01 = static_cast<double>(next_random(rng_state_) >> 11) / 9007199254740992.0;
            }
            emit_error(e);
            if (attempt >= attempts || !retryable_connect_error(e)) throw;
            const int64_t delay = backoff_delay(retry_, attempt + 1, r01).count();
            if (metrics_ != nullptr) metrics_->record_retry();
            const auto wake = now() + std::chrono::milliseconds(delay);
            if (!policy::retry_create(attempt, attempts, true, wake, deadline)) throw; // no time left
            detail::log_connection_retry(name_, attempt + 1, attempts, delay, e.what());
            if (hooks_) detail::call_hook(hooks_->on_retry, "onRetry", name_, attempt + 1, e, std::chrono::milliseconds(delay));
            sleep_until(wake);
        }
    }
}

bool Pool::validate(PooledConnection &pc) noexcept {
    try {
        pc.conn->ping(static_cast<int32_t>(std::min<int64_t>(options_.create_timeout_ms, 5000)));
        return true;
    } catch (const Error &e) {
        ilana::logger()->info("conn={} idle session failed validation and is discarded: {}", name_, e.what());
    } catch (...) {
        ilana::logger()->info("conn={} idle session failed validation and is discarded", name_);
    }
    return false;
}

void Pool::destroy(std::unique_ptr<PooledConnection> pc, CloseReason why) noexcept {
    if (!pc) return;
    if (why != CloseReason::shutdown)
        ilana::logger()->debug("conn={} CONNECTION_EVICTED reason={}", name_, reason_name(why));
    // The driver's close never fails, but it may block (a frozen server
    // that stops reading): destroyTimeoutMillis bounds the wait for it.
    const bool closed_in_time = close_within(std::move(pc), policy::close_bound(options_.destroy_timeout_ms));
    if (!closed_in_time)
        ilana::logger()->warn("conn={} closing a session took longer than destroyTimeoutMillis={}: abandoned, it "
                              "finishes in the background (is the server frozen or unreachable?)",
                              name_, options_.destroy_timeout_ms);
    {
        std::lock_guard<std::mutex> lock(mu_);
        ++destroyed_;
        if (!closed_in_time) ++destroy_timeouts_;
        switch (why) {
        case CloseReason::idle: ++evicted_idle_; break;
        case CloseReason::lifetime: ++evicted_lifetime_; break;
        case CloseReason::broken: ++evicted_broken_; break;
        case CloseReason::shutdown:
        case CloseReason::resized:
        case CloseReason::budget: break;
        }
    }
    // Its slot is free once the close returned (or was abandoned to its
    // thread): the server counts a session until it is gone.
    give_back_slot();
}

void Pool::throw_timeout(std::chrono::milliseconds waited, Clock::time_point since) {
    throw timeout_error(waited, since);
}

PoolTimeout Pool::timeout_error(std::chrono::milliseconds waited, Clock::time_point since) {
    int in_use, waiting, max;
    bool budget_full = false; // the pool had room, the server's budget had none
    ServerBudget::Snapshot budget;
    std::string cause;
    {
        std::lock_guard<std::mutex> lock(mu_);
        ++timeouts_;
        max = max_;
        const auto census = bag_.census();
        in_use = census.out;
        waiting = census.waiters;
        if (budget_ && census.total() < max_) {
            budget_full = true;
            budget = budget_->snapshot();
        }
        if (policy::create_failure_explains_timeout(create_failed_at_, since) && !create_failure_.empty())
            cause = create_failure_;
    }
    std::string message = "[" + name_ + "] ";
    if (cause.empty() && budget_full) {
        message += "no connection within acquireTimeoutMillis=" + std::to_string(options_.acquire_timeout_ms) +
                   " (waited " + std::to_string(waited.count()) + "ms): server '" + budget_->server() +
                   "' is at its connection budget (servers." + budget_->server() +
                   ".maxConnections=" + std::to_string(budget.limit) + ", open=" + std::to_string(budget.open) +
                   ", pools waiting=" + std::to_string(budget.waiting_pools) + "; this pool: max=" +
                   std::to_string(max) + ", in use=" + std::to_string(in_use) +
                   "); release leases sooner, raise maxConnections, or lower pool.max of the server's connections";
    } else if (cause.empty()) {
        message += "connection pool exhausted: no connection available within acquireTimeoutMillis=" +
                   std::to_string(options_.acquire_timeout_ms) + " (max=" + std::to_string(max) +
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
    return e;
}

std::unique_ptr<PooledConnection> Pool::acquire() {
    std::chrono::microseconds waited;
    return acquire_measured(waited);
}

std::unique_ptr<PooledConnection> Pool::take_idle_locked() {
    // Only a pool that validates looks at the clock here.
    if (options_.validate_idle_after_ms <= 0) return bag_.take_idle(SessionStatus::leased);
    auto pc = bag_.take_idle(SessionStatus::validating);
    if (!policy::needs_validation(pc->last_used, now(), options_.validate_idle_after_ms))
        SessionBag::relabel(*pc, SessionStatus::leased);
    return pc;
}

std::unique_ptr<PooledConnection> Pool::lend_idle(std::unique_lock<std::mutex> &lock,
                                                  std::unique_ptr<PooledConnection> pc) {
    lock.unlock();
    if (pc->status == SessionStatus::validating) {
        if (!validate(*pc)) {
            {
                std::lock_guard<std::mutex> relock(mu_);
                bag_.move(*pc, SessionStatus::retiring);
                capacity_freed_locked();
            }
            destroy(std::move(pc), CloseReason::broken);
            return nullptr;
        }
        SessionBag::relabel(*pc, SessionStatus::leased);
    }
    track_lease(*pc);
    return pc;
}

std::unique_ptr<PooledConnection> Pool::try_idle(bool &counted) {
    std::unique_lock<std::mutex> lock(mu_);
    if (bag_.lock_free() && !bag_.has_idle() && !closed_) bag_.unpark_all(coarse_now());
    if (policy::on_acquire(bag_.census(), max_, handoff_, closed_) != policy::AcquireStep::take_idle)
        return nullptr;
    ++acquires_;
    counted = true; // a session failing validation sends this acquire down the full path, counted
    return lend_idle(lock, take_idle_locked());
}

std::unique_ptr<PooledConnection> Pool::acquire_measured(std::chrono::microseconds &waited) {
    waited = std::chrono::microseconds(0);
    if (bag_.fast_path_open()) {
        if (auto pc = bag_.take_parked()) return pc;
    }
    return acquire_slow(waited);
}

std::unique_ptr<PooledConnection> Pool::acquire_slow(std::chrono::microseconds &waited) {
    bool counted = false;
    if (auto pc = try_idle(counted)) return pc;
    const auto start = now();
    auto pc = acquire_full(std::chrono::milliseconds(std::max<int64_t>(0, options_.acquire_timeout_ms)), counted);
    waited = std::chrono::duration_cast<std::chrono::microseconds>(now() - start);
    return pc;
}

std::unique_ptr<PooledConnection> Pool::acquire(std::chrono::milliseconds timeout) {
    return acquire_full(timeout, false);
}

std::unique_ptr<PooledConnection> Pool::acquire_full(std::chrono::milliseconds timeout, bool counted) {
    const auto start = now();
    const auto deadline = policy::acquire_deadline(start, timeout);
    std::unique_lock<std::mutex> lock(mu_);
    if (!counted && !closed_) ++acquires_;
    for (;;) {
        if (!lock.owns_lock()) lock.lock();
        if (bag_.lock_free() && !bag_.has_idle() && !closed_) bag_.unpark_all(coarse_now());
        switch (policy::on_acquire(bag_.census(), max_, handoff_, closed_)) {
        case policy::AcquireStep::fail_closed:
            detail::throw_error(Error("[" + name_ + "] the pool is closed", ErrorClass::connection, name_));
        case policy::AcquireStep::take_idle:
            if (auto pc = lend_idle(lock, take_idle_locked())) return pc;
            continue; // it failed validation: look again
        case policy::AcquireStep::create:
            if (budget_ && !budget_->try_take(*budget_member_, weak_from_this())) {
                // The server's budget is full: wait in turn (wait_turn
                // puts the pool in the budget's line).
                if (auto pc = wait_turn(lock, start, deadline)) return pc;
                continue;
            }
            bag_.reserve_create();
            lock.unlock();
            return create_for_caller(start, deadline);
        case policy::AcquireStep::wait:
            if (auto pc = wait_turn(lock, start, deadline)) return pc;
            continue;
        }
    }
}

std::unique_ptr<PooledConnection> Pool::wait_turn(std::unique_lock<std::mutex> &lock, Clock::time_point start,
                                                  Clock::time_point deadline) {
    using Grant = Waiter::Grant;
    Waiter w(start);
    if (!bag_.has_waiters()) handoff_ = false; // a new queue starts in the fast mode
    bag_.enqueue(&w);
    // A session parked just before the flag went up: take it now (park()
    // sees the flag from here on and takes the locked path).
    if (bag_.lock_free() && bag_.unpark_all(coarse_now()) > 0) w.grant = Grant::idle_ready;
    // With a server budget: capacity for us if the budget has a slot, else
    // the pool waits in the budget's line, and an idle session of another
    // pool is closed for it (its slot goes to the line, in turn).
    if (budget_ && budget_serve_locked(/*counted=*/true) && w.grant == Grant::none) {
        lock.unlock();
        budget_->evict_for(*budget_member_);
        lock.lock();
    }
    // `w` leaves the queue (timed out, or served from idle).
    auto leave = [&] {
        bag_.dequeue(&w);
        if (!bag_.has_waiters()) handoff_ = false;
        else if (bag_.has_idle()) bag_.wake_first(); // the session meant for us goes to the next one
        if (budget_) budget_serve_locked(false);     // out of the budget's line when nobody needs a slot
    };
    for (;;) {
        while (w.grant == Grant::none) {
            const auto left = deadline - now();
            if (left <= Clock::duration::zero()) {
                leave();
                lock.unlock();
                throw_timeout(std::chrono::duration_cast<std::chrono::milliseconds>(now() - start), start);
            }
            if (clock_ == nullptr) w.cv.wait_until(lock, deadline);
            else w.cv.wait_for(lock, left);
        }
        switch (w.grant) {
        case Grant::closed:
            detail::throw_error(Error("[" + name_ + "] the pool was closed while waiting", ErrorClass::connection, name_));
        case Grant::session: {
            // Still counted out: a hand-off never frees capacity. Back to the
            // fast path once the queue is empty or nobody has waited long.
            if (!bag_.has_waiters() || !policy::handoff_due(start, now())) handoff_ = false;
            lock.unlock();
            auto pc = std::move(w.session);
            track_lease(*pc);
            return pc;
        }
        case Grant::capacity: // counted creating for us
            lock.unlock();
            return create_for_caller(start, deadline);
        case Grant::idle_ready:
        case Grant::none:
            w.grant = Grant::none;
            if (bag_.has_idle()) {
                auto pc = take_idle_locked();
                leave();
                return lend_idle(lock, std::move(pc)); // nullptr: it failed validation, the caller looks again
            }
            // A thread that did not wait took the session first. After
            // kHandoffAfter of that, releases go to the waiters in turn.
            if (policy::handoff_due(start, now())) handoff_ = true;
            break;
        }
    }
}

std::unique_ptr<PooledConnection> Pool::create_for_caller(Clock::time_point start, Clock::time_point deadline) {
    // After a failed create, the next one waits createRetryIntervalMillis.
    policy::Pause pause;
    {
        std::lock_guard<std::mutex> lock(mu_);
        pause = policy::before_create(create_failed_at_, options_.create_retry_interval_ms, now(), deadline);
    }
    if (pause.step != policy::PauseStep::start) sleep_until(pause.until);
    if (pause.step == policy::PauseStep::time_out) {
        {
            std::lock_guard<std::mutex> lock(mu_);
            bag_.abandon_create();
            capacity_freed_locked();
        }
        give_back_slot();
        throw_timeout(std::chrono::duration_cast<std::chrono::milliseconds>(now() - start), start);
    }
    try {
        auto pc = create_with_retry(deadline);
        {
            std::lock_guard<std::mutex> lock(mu_);
            bag_.opened(*pc, SessionStatus::leased);
            create_failed_at_ = {}; // the server answers again: no more pauses
        }
        track_lease(*pc);
        return pc;
    } catch (const Error &e) {
        {
            std::lock_guard<std::mutex> lock(mu_);
            bag_.abandon_create();
            create_failed_at_ = now();
            create_failure_ = e.what();
            capacity_freed_locked();
        }
        give_back_slot();
        throw;
    } catch (...) {
        {
            std::lock_guard<std::mutex> lock(mu_);
            bag_.abandon_create();
            capacity_freed_locked();
        }
        give_back_slot();
        throw;
    }
}

void Pool::release(std::unique_ptr<PooledConnection> pc, bool reusable) noexcept {
    if (!pc) return;
    // Before parking: the next lease, lock-free or not, gets a clean session.
    if (reusable && pc->conn && !pc->conn->broken() && pc->conn->session_dirty()) reusable = reset_session(*pc);
    if (reusable && bag_.parking_open() && pc->conn && !pc->conn->broken() &&
        (options_.max_lifetime_ms <= 0 || coarse_now() < pc->retire_at)) {
        if (bag_.park(pc)) return;
        if (!pc) return;
    }
    release_locked(std::move(pc), reusable);
}

void Pool::release_locked(std::unique_ptr<PooledConnection> pc, bool reusable) noexcept {
    // Idle time and lifetime are judged in hundreds of milliseconds: the
    // coarse clock (a few ms behind, a third of the cost) is exact enough.
    const auto now = coarse_now();
    std::optional<CloseReason> why =
        policy::retire_on_release(!pc->conn || pc->conn->broken(), reusable, pc->retire_at, now); // nullopt: kept
    std::unique_ptr<PooledConnection> doomed;
    {
        std::lock_guard<std::mutex> lock(mu_);
        if (options_.leak_detection_ms > 0) {
            if (!pc->leak_reported && policy::lease_leaked(pc->leased_at, now, options_.leak_detection_ms))
                ilana::logger()->warn("conn={} a lease was held for {}ms by thread {:x} (leakDetectionMillis={})",
                                      name_,
                                      std::chrono::duration_cast<std::chrono::milliseconds>(now - pc->leased_at).count(),
                                      pc->borrower, options_.leak_detection_ms);
            untrack_lease_locked(*pc);
        }
        if (!why && !closed_ && policy::retire_on_release_over_max(bag_.census(), max_)) why = CloseReason::resized;
        // Another pool of the server waits for a slot: this session may
        // have to make room (pool_policy::yield_on_release).
        if (!why && !closed_ && budget_ && budget_->anyone_waiting() &&
            budget_->should_yield(*budget_member_, bag_.has_waiters()))
            why = CloseReason::budget;
        if (why || closed_) {
            if (closed_) why = CloseReason::shutdown;
            bag_.move(*pc, SessionStatus::retiring);
            doomed = std::move(pc);
            if (!closed_) capacity_freed_locked();
        } else {
            pc->last_used = now;
            switch (policy::on_release(bag_.census(), handoff_)) {
            case policy::ReleaseStep::hand_to_waiter: bag_.hand_to_first(std::move(pc)); break;
            case policy::ReleaseStep::idle_and_wake:
                bag_.put_idle(std::move(pc));
                bag_.wake_first();
                break;
            case policy::ReleaseStep::idle: bag_.put_idle(std::move(pc)); break;
            }
        }
    }
    if (doomed) destroy(std::move(doomed), *why);
}

bool Pool::reset_session(PooledConnection &pc) noexcept {
    if (bag_.closing()) return false; // closed on release anyway
    SessionBag::relabel(pc, SessionStatus::resetting);
    try {
        pc.conn->reset_session();
        resets_.fetch_add(1, std::memory_order_relaxed);
        SessionBag::relabel(pc, SessionStatus::leased);
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
    SessionBag::relabel(pc, SessionStatus::leased); // released as not reusable: retired as broken
    return false;
}

void Pool::track_lease(PooledConnection &pc) {
    // The lease time serves leak detection only: no clock read without it.
    if (options_.leak_detection_ms <= 0) return;
    pc.leased_at = now();
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
    for (PooledConnection *p = leased_; p != nullptr; p = p->lease_next) {
        if (p->leak_reported || !policy::lease_leaked(p->leased_at, now, options_.leak_detection_ms)) continue;
        p->leak_reported = true;
        ilana::logger()->warn("conn={} possible connection leak: a lease held for {}ms by thread {:x} "
                              "(leakDetectionMillis={}); release leases (end the Session) when done",
                              name_, std::chrono::duration_cast<std::chrono::milliseconds>(now - p->leased_at).count(),
                              p->borrower, options_.leak_detection_ms);
    }
}

void Pool::maintain(Clock::time_point now) noexcept {
    std::vector<std::pair<std::unique_ptr<PooledConnection>, CloseReason>> doomed;
    int to_create = 0, min = 0;
    try {
        std::lock_guard<std::mutex> lock(mu_);
        if (closed_) return;
        // Parked sessions are idle ones: reaped and retired like them.
        if (bag_.lock_free()) bag_.unpark_all(coarse_now());
        if (options_.leak_detection_ms > 0) report_leaks_locked(now);
        PoolOptions sized = options_;
        sized.min = min_;
        doomed = bag_.retire_idle(policy::retire_idle(bag_.idle_facts(), bag_.census().total(), sized, now));
        for (auto &d : take_idle_over_max_locked()) doomed.push_back(std::move(d));
        to_create = policy::sessions_to_create(bag_.census(), min_, max_);
        min = min_;
        // With a budget, min is kept with free slots only: keeping it never
        // waits for, nor closes, another pool's session.
        if (budget_) {
            int slots = 0;
            while (slots < to_create && budget_->try_take(*budget_member_, weak_from_this())) ++slots;
            to_create = slots;
        }
        bag_.reserve_create(to_create);
    } catch (const std::bad_alloc &) {
        return; // no memory for the lists: the next tick tries again
    }
    for (auto &d : doomed) destroy(std::move(d.first), d.second);
    doomed.clear();
    for (int i = 0; i < to_create; ++i) {
        std::unique_ptr<PooledConnection> pc;
        try {
            pc = create_with_retry(this->now() + std::chrono::milliseconds(options_.create_timeout_ms));
        } catch (const Error &e) {
            ilana::logger()->warn("conn={} could not open a session to keep pool.min={}: {}", name_, min,
                                  e.what());
        } catch (...) {
        }
        std::unique_lock<std::mutex> lock(mu_);
        if (!pc) {
            bag_.abandon_create();
            capacity_freed_locked();
            lock.unlock();
            give_back_slot();
            continue;
        }
        if (closed_) {
            bag_.opened(*pc, SessionStatus::retiring);
            doomed.emplace_back(std::move(pc), CloseReason::shutdown);
        } else if (bag_.has_waiters()) {
            bag_.hand_to_first(std::move(pc)); // creating -> leased: in use from now on
        } else {
            bag_.put_idle(std::move(pc), /*oldest=*/true); // creating -> idle
        }
    }
    for (auto &d : doomed) destroy(std::move(d.first), d.second);
}

void Pool::close() noexcept {
    std::vector<std::unique_ptr<PooledConnection>> doomed;
    bag_.start_closing(); // park() now takes the locked path
    {
        std::lock_guard<std::mutex> lock(mu_);
        if (closed_) return;
        closed_ = true;
        bag_.unpark_all(coarse_now());
        doomed = bag_.retire_all_idle();
        bag_.fail_all_waiters();
        if (budget_) budget_->unwant(*budget_member_);
    }
    for (auto &pc : doomed) destroy(std::move(pc), CloseReason::shutdown);
}

std::vector<std::pair<std::unique_ptr<PooledConnection>, CloseReason>> Pool::take_idle_over_max_locked() {
    const int excess = policy::idle_over_max(bag_.census(), max_);
    std::vector<policy::Retirement> chosen;
    for (int i = 0; i < excess; ++i) chosen.push_back({static_cast<size_t>(i), CloseReason::resized});
    return bag_.retire_idle(chosen); // the idle list is oldest used first
}

void Pool::resize(int min, int max) noexcept {
    std::vector<std::pair<std::unique_ptr<PooledConnection>, CloseReason>> doomed;
    try {
        std::lock_guard<std::mutex> lock(mu_);
        if (closed_) return;
        min_ = min;
        max_ = max;
        if (bag_.lock_free()) bag_.unpark_all(coarse_now()); // parked sessions are idle ones
        doomed = take_idle_over_max_locked();
        // A larger max is room for the waiters now, not at the next release
        // (with a budget: as its slots allow, and its fair share follows).
        if (budget_) {
            budget_->resize(*budget_member_, max_);
            budget_serve_locked(false);
        } else {
            while (policy::can_open(bag_.census(), max_) && bag_.grant_capacity_to_first()) {
            }
        }
    } catch (const std::bad_alloc &) {
        // the list of sessions to close: the next maintenance tick closes them
    }
    for (auto &d : doomed) destroy(std::move(d.first), d.second);
}

bool Pool::closed() const noexcept {
    std::lock_guard<std::mutex> lock(mu_);
    return closed_;
}

Pool::LeaseOutlook Pool::lease_outlook() const noexcept {
    std::lock_guard<std::mutex> lock(mu_);
    return LeaseOutlook{max_, bag_.census().waiters, closed_};
}

PoolStats Pool::stats() const {
    std::lock_guard<std::mutex> lock(mu_);
    PoolStats s;
    const auto census = bag_.census();
    // Parked sessions are idle (counted out while parked).
    const int parked = bag_.parked_count();
    s.idle = census.idle + parked;
    s.in_use = census.out - parked;
    s.pending = census.creating;
    s.waiting = census.waiters;
    s.max = max_;
    s.min = min_;
    s.created = created_;
    s.destroyed = destroyed_;
    s.timeouts = timeouts_;
    s.acquires = acquires_ + bag_.lock_free_acquires();
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
        auto interval = std::chrono::milliseconds(1000);
        std::vector<std::shared_ptr<Pool>> live;
        for (auto it = pools_.begin(); it != pools_.end();) {
            if (auto p = it->lock()) {
                interval = std::min(interval, policy::maintenance_interval(p->options().reap_interval_ms));
                live.push_back(std::move(p));
                ++it;
            } else {
                it = pools_.erase(it);
            }
        }
        lock.unlock();
        for (auto &p : live) p->maintain(p->now());
        live.clear(); // drop our references before sleeping
        lock.lock();
        cv_.wait_for(lock, interval, [this] { return stop_; });
    }
}

} // namespace ilana::detail
