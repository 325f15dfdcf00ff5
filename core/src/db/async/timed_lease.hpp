// A session leased from a pool without blocking, its wait bounded by
// acquireTimeoutMillis: Pool::acquire_async plus the timer on the I/O
// executor that abandons the wait when the bound passes (the pool then
// fails it with PoolTimeout). The pool knows no executor, so the bound is
// its caller's; this is the one place the async calls and the lanes take
// it from.
#pragma once

#ifndef ILANA_CORE_LAYER_DB
#error "async/timed_lease.hpp is the db layer's own"
#endif

#include "async/async_runtime.hpp"

#include <boost/asio/steady_timer.hpp>

#include <cstdint>
#include <memory>
#include <mutex>

namespace ilana::detail {

class TimedLease : public std::enable_shared_from_this<TimedLease> {
public:
    explicit TimedLease(std::shared_ptr<Pool> pool) : pool_(std::move(pool)) {}
    TimedLease(const TimedLease &) = delete;
    TimedLease &operator=(const TimedLease &) = delete;

    // Starts the lease (once). `done` is called once, on the thread that
    // serves it (the I/O executor, or a worker that opened the session),
    // with the session or the error; it may run before start returns. The
    // timer goes only after `done` returned, so the executor keeps work
    // until what `done` posted is queued (a host's run() never returns
    // between the two).
    void start(AsyncRuntime &rt, int64_t timeout_ms, AsyncAcquire::Done done);

    // The caller stops waiting (a cancellation): `done` gets the pool's
    // canceled error. Before start, start ends the wait as soon as it began
    // (so a caller may keep the lease, then start it, and cancel any time).
    // Nothing when the lease was served already or its session is being
    // opened (bounded by the pool's deadline).
    void cancel() noexcept;

private:
    const std::shared_ptr<Pool> pool_;
    std::mutex mu_;
    bool served_ = false, canceled_ = false;
    std::shared_ptr<AsyncAcquire> acquire_;            // while it waits
    std::unique_ptr<boost::asio::steady_timer> timer_; // while it waits; dropped on the serving thread
};

} // namespace ilana::detail
