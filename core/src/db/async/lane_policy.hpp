// Where a pipelined async statement goes among its connection's lanes
// (async_lanes.hpp): a pure decision, tested apart from sessions, threads
// and servers (tests/unit/lane_policy_test.cpp).
#pragma once

#include <algorithm>
#include <vector>

namespace ilana::detail::lane_policy {

// How deep one lane's pipeline may get before statements wait for room:
// past it a slow statement would hold up too many behind it.
inline constexpr int max_depth = 64;

struct Placement {
    int lane = -1;     // index of the lane to run on now; -1: wait for one
    bool open = false; // lease one more lane
};

// `loads`: the statements in flight on each open lane (a lane running a
// statement alone counts as full); `opening`: lanes being leased;
// `max_lanes`: the pool's max (at least one lane); `alone`: the statement
// may be canceled on the server, so it runs with nothing else in flight on
// its lane (a cancel request stops whatever the server runs there).
//  - An idle lane first: without load to share, a statement runs alone,
//    as on a lease of its own.
//  - Else one more lane while the pool allows (load spreads over sessions
//    before it piles up on one), and meanwhile the least loaded lane with
//    room (a lease may take a connect, a pipeline slot is free now); a
//    statement to run alone waits for its lane instead.
//  - Every lane full and no more allowed: wait (-1, no open).
inline Placement place(const std::vector<int> &loads, int opening, int max_lanes, int depth = max_depth,
                       bool alone = false) noexcept {
    Placement p;
    int best = -1;
    for (int i = 0; i < static_cast<int>(loads.size()); ++i) {
        if (loads[i] == 0) {
            p.lane = i;
            return p;
        }
        if (loads[i] < depth && (best < 0 || loads[i] < loads[best])) best = i;
    }
    p.open = static_cast<int>(loads.size()) + opening < std::max(1, max_lanes);
    p.lane = alone ? -1 : best;
    return p;
}

} // namespace ilana::detail::lane_policy
