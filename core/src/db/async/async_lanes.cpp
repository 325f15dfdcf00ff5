#include "async/async_lanes.hpp"

#include "async/timed_lease.hpp"

#include "common/error_factory.hpp"
#include "db/database_state.hpp"
#include "plugins/loaded_driver.hpp"

#include <boost/asio/post.hpp>

#include <algorithm>
#include <utility>

namespace ilana::detail {

namespace asio = boost::asio;

std::shared_ptr<AsyncLanes> AsyncLanes::of(ConnectionState &cs) {
    std::call_once(cs.lanes_once, [&cs] {
        const ilana_async_api *api = cs.target->driver->async_api();
        const bool pipelines = api != nullptr && (api->flags & ILANA_ASYNC_PIPELINE) != 0;
        cs.async_lanes = std::make_shared<AsyncLanes>(cs.pool().shared_from_this(), cs.async_runtime,
                                                      cs.config.pool.acquire_timeout_ms,
                                                      pipelines ? lane_policy::max_depth : 1);
    });
    return cs.async_lanes;
}

lane_policy::Placement AsyncLanes::place_locked(bool alone) {
    loads_.clear();
    for (const auto &lane : open_) loads_.push_back(lane->alone ? depth_ : lane->in_flight);
    return lane_policy::place(loads_, opening_, pool_max_, depth_, alone);
}

void AsyncLanes::assign(Assigned assigned, bool alone) {
    std::unique_lock<std::mutex> lock(mu_);
    if (!waiting_.empty()) { // in turn behind those that wait already
        waiting_.push_back(Waiting{std::move(assigned), alone});
        Ready ready;
        const int to_open = serve_waiting_locked(ready);
        lock.unlock();
        run(ready, to_open);
        return;
    }
    const lane_policy::Placement p = place_locked(alone);
    if (p.open) ++opening_;
    if (p.lane < 0) {
        waiting_.push_back(Waiting{std::move(assigned), alone});
        lock.unlock();
        if (p.open) open_lane();
        return;
    }
    std::shared_ptr<Lane> lane = open_[static_cast<size_t>(p.lane)];
    ++lane->in_flight;
    lane->alone = alone;
    lock.unlock();
    if (p.open) open_lane();
    assigned(lane, nullptr);
}

int AsyncLanes::serve_waiting_locked(Ready &ready) {
    int to_open = 0;
    while (!waiting_.empty()) {
        const bool alone = waiting_.front().alone;
        const lane_policy::Placement p = place_locked(alone);
        if (p.open) {
            ++opening_;
            ++to_open;
        }
        if (p.lane < 0) break;
        std::shared_ptr<Lane> lane = open_[static_cast<size_t>(p.lane)];
        ++lane->in_flight;
        lane->alone = alone;
        ready.emplace_back(std::move(waiting_.front().assigned), std::move(lane));
        waiting_.pop_front();
    }
    return to_open;
}

void AsyncLanes::run(Ready &ready, int to_open) {
    for (int i = 0; i < to_open; ++i) open_lane();
    for (auto &[assigned, lane] : ready) assigned(lane, nullptr);
}

// A lane is leased like any session (the pool's FIFO, its budget, a
// connect on a worker), bounded by acquireTimeoutMillis. TimedLease drops
// its timer only after opened() returned, so the lane's work is posted
// before the executor's last work goes (a host's run() never returns with
// the lane leased and its release check never run).
void AsyncLanes::open_lane() {
    auto self = shared_from_this();
    try {
        std::make_shared<TimedLease>(pool_)->start(
            *rt_, acquire_timeout_ms_, [self](std::unique_ptr<PooledConnection> pc, std::exception_ptr error) {
                self->opened(std::move(pc), std::move(error));
            });
    } catch (...) {
        opened(nullptr, std::current_exception());
    }
}

void AsyncLanes::opened(std::unique_ptr<PooledConnection> pc, std::exception_ptr error) {
    std::unique_lock<std::mutex> lock(mu_);
    --opening_;
    if (error) {
        // The statements waiting for a lane fail with the lease's error
        // (each call retries or reports it) when no other lane will serve
        // them.
        if (!open_.empty() || opening_ > 0) return;
        std::deque<Waiting> failed;
        failed.swap(waiting_);
        lock.unlock();
        for (auto &w : failed) w.assigned(nullptr, copy_error(error));
        return;
    }
    auto lane = std::make_shared<Lane>();
    lane->session = AsyncSession::of(*pc, *rt_);
    lane->pc = std::move(pc);
    open_.push_back(lane);
    Ready ready;
    const int to_open = serve_waiting_locked(ready);
    if (lane->in_flight == 0) post_release_check_locked(lane); // leased for nothing: back soon
    lock.unlock();
    run(ready, to_open);
}

void AsyncLanes::completed(const std::shared_ptr<Lane> &lane) {
    // The lane goes back when its session broke (the pool discards it), the
    // pool closed (a reload retired it), or others wait for a session
    // (beyond this lanes' own leases being opened).
    const Pool::LeaseOutlook pool = pool_->lease_outlook();
    const bool give_back = lane->session->conn().broken() || pool.closed;
    Ready ready;
    int to_open = 0;
    {
        std::lock_guard<std::mutex> lock(mu_);
        pool_max_ = pool.max;
        --lane->in_flight;
        lane->alone = false;
        if (!lane->closing && (give_back || pool.waiters > opening_)) take_out_locked(lane);
        if (!waiting_.empty()) to_open = serve_waiting_locked(ready);
        if (lane->in_flight == 0) post_release_check_locked(lane);
    }
    run(ready, to_open);
}

// After the completions of the moment were delivered (their handlers were
// posted first and may have given the lane new statements): an idle lane
// is not held.
void AsyncLanes::post_release_check_locked(const std::shared_ptr<Lane> &lane) {
    if (lane->release_posted) return;
    lane->release_posted = true;
    asio::post(lane->session->strand(), [self = shared_from_this(), lane] { self->release_if_idle(lane); });
}

void AsyncLanes::release_if_idle(const std::shared_ptr<Lane> &lane) {
    {
        std::lock_guard<std::mutex> lock(mu_);
        lane->release_posted = false;
        if (lane->in_flight > 0 || !lane->pc) return;
        if (!lane->closing) take_out_locked(lane);
    }
    // Out of the open lanes with nothing in flight: nobody else reaches it.
    lane->session->quiesce();
    std::unique_ptr<PooledConnection> pc = std::move(lane->pc);
    pc->async_state.reset();
    pool_->release(std::move(pc));
}

void AsyncLanes::take_out_locked(const std::shared_ptr<Lane> &lane) {
    lane->closing = true;
    open_.erase(std::remove(open_.begin(), open_.end(), lane), open_.end());
}

} // namespace ilana::detail
