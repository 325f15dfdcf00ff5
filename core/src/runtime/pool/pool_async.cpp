// Pool::acquire_async: the acquire of the async API. It follows acquire()'s
// decisions step for step (pool_policy::on_acquire, the same waiter queue,
// hand-offs, the server budget) but never blocks the thread that calls it:
// where acquire() sleeps on its condition variable, an async waiter is told
// of its grant through Waiter::on_grant and its next step is posted to the
// event loop; where acquire() opens or pings a session, the async one does
// it on a worker thread (AsyncStepRunner). The wait's deadline is the
// caller's timer (abandon_async), which takes the waiter out of the queue
// exactly as acquire()'s timed-out wait leaves it.
#include "common/error_factory.hpp"
#include "pool/pool.hpp"

#include <ilana/logging.hpp>

#include <spdlog/spdlog.h>

namespace ilana::detail {

namespace policy = pool_policy;

std::shared_ptr<AsyncAcquire> Pool::acquire_async(AsyncStepRunner &runner, AsyncAcquire::Done done) {
    const auto start = now();
    const auto deadline =
        policy::acquire_deadline(start, std::chrono::milliseconds(std::max<int64_t>(0, options_.acquire_timeout_ms)));
    auto a = std::make_shared<AsyncAcquire>(start, deadline, runner, std::move(done));
    a->pool = weak_from_this();
    a->self = a;
    a->on_grant = &Pool::async_granted;
    {
        std::lock_guard<std::mutex> lock(mu_);
        if (!closed_) ++acquires_;
    }
    async_step(a);
    return a;
}

// With the pool's mutex held (SessionBag grants): the waiter's next step
// runs soon on the event loop.
void Pool::async_granted(Waiter &w) {
    auto &a = static_cast<AsyncAcquire &>(w);
    std::shared_ptr<AsyncAcquire> self = a.self.lock();
    std::shared_ptr<Pool> pool = a.pool.lock();
    if (!self || !pool) return;
    a.runner.post([pool = std::move(pool), self = std::move(self)] { pool->async_resume(self); });
}

void Pool::async_finish(AsyncAcquire &a, std::unique_ptr<PooledConnection> pc, std::exception_ptr error) noexcept {
    if (a.finished.exchange(true, std::memory_order_acq_rel)) return;
    AsyncAcquire::Done done = std::move(a.done);
    a.self.reset();
    try {
        done(std::move(pc), std::move(error));
    } catch (...) {
        // The completions are the db layer's and do not throw; one that did
        // has taken the lease with it (it is closed when dropped).
        ilana::logger()->error("an async acquire's completion threw");
    }
}

void Pool::async_step(const std::shared_ptr<AsyncAcquire> &a) noexcept {
    try {
        std::unique_lock<std::mutex> lock(mu_);
        if (bag_.lock_free() && !bag_.has_idle() && !closed_) bag_.unpark_all(coarse_now());
        switch (policy::on_acquire(bag_.census(), max_, handoff_, closed_)) {
        case policy::AcquireStep::fail_closed:
            lock.unlock();
            async_finish(*a, nullptr,
                         make_error_ptr(Error("[" + name_ + "] the pool is closed", ErrorClass::connection, name_)));
            return;
        case policy::AcquireStep::take_idle: async_lend(lock, a, take_idle_locked()); return;
        case policy::AcquireStep::create:
            if (budget_ && !budget_->try_take(*budget_member_, weak_from_this())) {
                async_enqueue_locked(lock, a); // the budget is full: wait in turn
                return;
            }
            bag_.reserve_create();
            lock.unlock();
            async_create(a);
            return;
        case policy::AcquireStep::wait: async_enqueue_locked(lock, a); return;
        }
    } catch (...) {
        async_finish(*a, nullptr, std::current_exception());
    }
}

// wait_turn()'s entry, for an async waiter.
void Pool::async_enqueue_locked(std::unique_lock<std::mutex> &lock, const std::shared_ptr<AsyncAcquire> &a) {
    if (!bag_.has_waiters()) handoff_ = false; // a new queue starts in the fast mode
    bag_.enqueue(a.get());
    a->queued = true;
    if (bag_.lock_free() && bag_.unpark_all(coarse_now()) > 0) {
        a->grant = Waiter::Grant::idle_ready;
        async_granted(*a);
    }
    if (budget_ && budget_serve_locked(/*counted=*/true) && a->grant == Waiter::Grant::none) {
        lock.unlock();
        budget_->evict_for(*budget_member_);
    }
}

// wait_turn()'s `leave`, for an async waiter. With mu_ held.
void Pool::async_leave_locked(AsyncAcquire &a) noexcept {
    if (!a.queued) return;
    a.queued = false;
    bag_.dequeue(&a);
    if (!bag_.has_waiters()) handoff_ = false;
    else if (bag_.has_idle()) bag_.wake_first();
    if (budget_) budget_serve_locked(false);
}

void Pool::async_resume(const std::shared_ptr<AsyncAcquire> &a) noexcept {
    using Grant = Waiter::Grant;
    try {
        std::unique_lock<std::mutex> lock(mu_);
        switch (a->grant) {
        case Grant::closed:
            a->queued = false;
            lock.unlock();
            async_finish(*a, nullptr,
                         make_error_ptr(Error("[" + name_ + "] the pool was closed while waiting",
                                              ErrorClass::connection, name_)));
            return;
        case Grant::session: {
            a->queued = false; // hand_to_first took it out of the queue
            if (!bag_.has_waiters() || !policy::handoff_due(a->since, now())) handoff_ = false;
            lock.unlock();
            auto pc = std::move(a->session);
            track_lease(*pc);
            async_finish(*a, std::move(pc), nullptr);
            return;
        }
        case Grant::capacity: // counted creating for us
            a->queued = false;
            lock.unlock();
            async_create(a);
            return;
        case Grant::idle_ready:
        case Grant::none:
            if (a->finished.load(std::memory_order_acquire) || !a->queued) return; // abandoned meanwhile
            a->grant = Grant::none;
            if (bag_.has_idle()) {
                auto pc = take_idle_locked();
                async_leave_locked(*a);
                async_lend(lock, a, std::move(pc));
                return;
            }
            // A caller that did not wait took the session first (see wait_turn).
            if (policy::handoff_due(a->since, now())) handoff_ = true;
            return;
        }
    } catch (...) {
        async_finish(*a, nullptr, std::current_exception());
    }
}

// lend_idle(), for an async waiter: a session to validate is pinged on a
// worker; one that fails is retired and the acquire looks again.
void Pool::async_lend(std::unique_lock<std::mutex> &lock, const std::shared_ptr<AsyncAcquire> &a,
                      std::unique_ptr<PooledConnection> pc) noexcept {
    lock.unlock();
    if (pc->status != SessionStatus::validating) {
        track_lease(*pc);
        async_finish(*a, std::move(pc), nullptr);
        return;
    }
    auto pool = shared_from_this();
    auto shared_pc = std::make_shared<std::unique_ptr<PooledConnection>>(std::move(pc));
    a->runner.run_blocking([pool, a, shared_pc] {
        std::unique_ptr<PooledConnection> pc = std::move(*shared_pc);
        if (!pool->validate(*pc)) {
            {
                std::lock_guard<std::mutex> relock(pool->mu_);
                pool->bag_.move(*pc, SessionStatus::retiring);
                pool->capacity_freed_locked();
            }
            pool->destroy(std::move(pc), CloseReason::broken);
            pool->async_step(a);
            return;
        }
        SessionBag::relabel(*pc, SessionStatus::leased);
        pool->track_lease(*pc);
        async_finish(*a, std::move(pc), nullptr);
    });
}

// create_for_caller() on a worker thread (its pause, connect and retries
// block), bounded by the acquire's deadline.
void Pool::async_create(const std::shared_ptr<AsyncAcquire> &a) noexcept {
    auto pool = shared_from_this();
    try {
        a->runner.run_blocking([pool, a] {
            try {
                auto pc = pool->create_for_caller(a->since, a->deadline);
                async_finish(*a, std::move(pc), nullptr);
            } catch (...) {
                async_finish(*a, nullptr, std::current_exception());
            }
        });
    } catch (...) {
        {
            std::lock_guard<std::mutex> lock(mu_);
            bag_.abandon_create();
            capacity_freed_locked();
        }
        give_back_slot();
        async_finish(*a, nullptr, std::current_exception());
    }
}

bool Pool::abandon_async(AsyncAcquire &a, bool timed_out) noexcept {
    {
        std::lock_guard<std::mutex> lock(mu_);
        if (!a.queued || a.finished.load(std::memory_order_acquire)) return false;
        if (a.grant == Waiter::Grant::session || a.grant == Waiter::Grant::capacity ||
            a.grant == Waiter::Grant::closed)
            return false; // served: its next step is on its way
        async_leave_locked(a);
    }
    try {
        if (timed_out) {
            const auto waited = std::chrono::duration_cast<std::chrono::milliseconds>(now() - a.since);
            async_finish(a, nullptr, std::make_exception_ptr(timeout_error(waited, a.since)));
        } else {
            async_finish(a, nullptr,
                         make_error_ptr(Error("[" + name_ + "] the acquire was canceled while waiting for a session",
                                              ErrorClass::canceled, name_)));
        }
    } catch (...) {
        async_finish(a, nullptr, std::current_exception());
    }
    return true;
}

} // namespace ilana::detail
