// The sessions a connection's async statements share (README "Asynchronous
// API", DESIGN-NOTES "Asynchronous API: the core side").
//
// A per-call statement leasing a session for itself costs, on the event
// loop, a pool lease and release, a socket registration and removal and
// several handler hops, per statement. So Connection::async_query /
// async_execute statements that leave nothing behind on their session
// (may_share_session) run on a "lane" instead: a session the connection's
// AsyncLanes has leased from the pool and keeps while statements come, its
// socket registered once. On a driver that pipelines (ILANA_ASYNC_PIPELINE)
// up to lane_policy::max_depth of them are in flight on one lane; on one
// that does not, one at a time, the others waiting here in order for the
// first lane to come free. One that may be canceled on the server runs
// alone on its lane (a cancel request stops whatever the server runs). A lane goes back
// to the pool when it is idle (nothing in flight once the completions of
// the moment were delivered), when its session broke or its pool closed,
// and as soon as others wait for the pool (a blocking caller or a Session
// waits at most for the statements already on the lanes).
#pragma once

#ifndef ILANA_CORE_LAYER_DB
#error "async/async_lanes.hpp is the db layer's own"
#endif

#include "async/async_runtime.hpp"
#include "async/lane_policy.hpp"

#include <deque>
#include <exception>
#include <functional>
#include <memory>
#include <mutex>
#include <utility>
#include <vector>

namespace ilana::detail {

struct ConnectionState;

class AsyncLanes : public std::enable_shared_from_this<AsyncLanes> {
public:
    struct Lane {
        std::unique_ptr<PooledConnection> pc;
        std::shared_ptr<AsyncSession> session;
        int in_flight = 0;    // assigned and not yet completed (the lanes' mutex)
        bool alone = false;   // its one statement in flight may be canceled on the server
        bool closing = false; // out of the open lanes: released once idle
        bool release_posted = false;
    };
    // Called once with the lane the statement was given (its slot counted
    // in in_flight: submit on the lane's strand, then completed()) or the
    // error of leasing one. Never called under the lanes' mutex.
    using Assigned = std::function<void(const std::shared_ptr<Lane> &, std::exception_ptr)>;

    // `acquire_timeout_ms` bounds the lease of a lane (a statement waiting
    // for its first lane fails with the pool's timeout after it). `depth`:
    // statements in flight on one lane at most (lane_policy::max_depth on
    // a driver that pipelines; 1 on one that does not, where a statement
    // behind another on one session would wait for it while another
    // session may come free first).
    AsyncLanes(std::shared_ptr<Pool> pool, std::shared_ptr<AsyncRuntime> rt, int64_t acquire_timeout_ms, int depth)
        : pool_(std::move(pool)), rt_(std::move(rt)), acquire_timeout_ms_(acquire_timeout_ms), depth_(depth),
          pool_max_(pool_->lease_outlook().max) {}

    // The lanes of `cs` (made on its first pipelined statement; they live
    // as long as `cs` and the lanes and statements in flight).
    static std::shared_ptr<AsyncLanes> of(ConnectionState &cs);

    // `alone`: the statement may be canceled on the server (a timeout, a
    // cancellation slot): it gets an idle lane and nothing else goes on it
    // while it runs.
    void assign(Assigned assigned, bool alone);
    // A statement of `lane` completed. On the lane's strand, after its
    // result was read and closed.
    void completed(const std::shared_ptr<Lane> &lane);

private:
    using Ready = std::vector<std::pair<Assigned, std::shared_ptr<Lane>>>;
    struct Waiting {
        Assigned assigned;
        bool alone;
    };
    // lane_policy::place for the open lanes now. With mu_ held.
    lane_policy::Placement place_locked(bool alone);
    // Hands waiting statements to open lanes while they have room (into
    // `ready`, to be told outside the mutex) and counts the lanes to open
    // for those left; returns how many. With mu_ held.
    int serve_waiting_locked(Ready &ready);
    // Outside the mutex: opens `to_open` lanes, tells `ready` their lanes.
    void run(Ready &ready, int to_open);
    void open_lane(); // counted in opening_ already
    void opened(std::unique_ptr<PooledConnection> pc, std::exception_ptr error);
    void post_release_check_locked(const std::shared_ptr<Lane> &lane);
    void release_if_idle(const std::shared_ptr<Lane> &lane);
    void take_out_locked(const std::shared_ptr<Lane> &lane);

    const std::shared_ptr<Pool> pool_;
    const std::shared_ptr<AsyncRuntime> rt_;
    const int64_t acquire_timeout_ms_;
    const int depth_;
    std::mutex mu_;
    std::vector<std::shared_ptr<Lane>> open_; // taking statements
    int opening_ = 0;                         // lanes being leased
    std::deque<Waiting> waiting_;             // statements no lane had room for, in order
    std::vector<int> loads_;                  // lane_policy::place's input, reused
    // The pool's max as of the last completion (a resize shows at the next
    // one): placing a statement takes no pool lock.
    int pool_max_;
};

} // namespace ilana::detail
