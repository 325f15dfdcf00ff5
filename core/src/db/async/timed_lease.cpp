#include "async/timed_lease.hpp"

#include <algorithm>
#include <chrono>

namespace ilana::detail {

void TimedLease::start(AsyncRuntime &rt, int64_t timeout_ms, AsyncAcquire::Done done) {
    // Made before the wait starts: what may throw (the executor, its own
    // I/O thread started on first use) throws before the pool has a waiter.
    auto timer = std::make_unique<boost::asio::steady_timer>(rt.io());
    std::shared_ptr<AsyncAcquire> a = pool_->acquire_async(
        rt, [self = shared_from_this(), done = std::move(done)](std::unique_ptr<PooledConnection> pc,
                                                                std::exception_ptr error) {
            {
                std::lock_guard<std::mutex> lock(self->mu_);
                self->served_ = true;
                self->acquire_.reset();
            }
            done(std::move(pc), std::move(error));
            // The timer goes here, on the serving thread, right after: a
            // worker that opened the session may outlive the host's
            // io_context, so nothing of the timer waits for a later turn.
            std::unique_ptr<boost::asio::steady_timer> gone;
            std::lock_guard<std::mutex> lock(self->mu_);
            gone = std::move(self->timer_);
        });
    std::unique_lock<std::mutex> lock(mu_);
    if (served_) return;
    acquire_ = a;
    if (canceled_) {
        lock.unlock();
        pool_->abandon_async(*a, /*timed_out=*/false);
        return;
    }
    timer_ = std::move(timer);
    timer_->expires_after(std::chrono::milliseconds(std::max<int64_t>(0, timeout_ms)));
    timer_->async_wait([a, pool = pool_](const boost::system::error_code &ec) {
        if (!ec) pool->abandon_async(*a, /*timed_out=*/true);
    });
}

void TimedLease::cancel() noexcept {
    std::shared_ptr<AsyncAcquire> a;
    {
        std::lock_guard<std::mutex> lock(mu_);
        canceled_ = true;
        a = acquire_;
    }
    if (a) pool_->abandon_async(*a, /*timed_out=*/false);
}

} // namespace ilana::detail
