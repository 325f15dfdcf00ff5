// ServerBudget: the connection budget of one server ("servers": {"pg-main":
// {"maxConnections": 40}}), shared by every Pool whose connection names
// the server (tenant pools and replicas included). It counts slots -- one
// per session from the moment its open is reserved until its close
// returns -- and hands freed slots to the waiting pools in turn. The
// decisions (who is next, who yields, whose idle session is closed) are
// pure functions in pool_policy.hpp ("server budget"); this is their
// container, like SessionBag is a pool's.
//
// A pool without a budget never reaches this file: its lease path is
// unchanged. A pool with one keeps no lock-free parking (a session must be
// seen when it goes idle, to be closed if another pool waits).
//
// Locking: mu_ guards the accounts and the line of waiting pools. A Pool
// may call in while holding its own mutex (pool -> budget), but the budget
// never calls a Pool while holding mu_: a granted slot or an eviction is
// carried out after mu_ is released, by a caller that holds no pool's
// mutex (give_back, evict_for).
#pragma once

#include "pool/pool_policy.hpp"

#include <atomic>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace ilana::detail {

class Pool;

class ServerBudget {
public:
    // One pool's account (guarded by the budget's mutex).
    struct Member {
        std::string connection; // the pool's name ("primary", "primary@tenant_a")
        int pool_max = 1;
        int held = 0;           // slots: sessions open or opening
        bool queued = false;    // in the line of waiting pools
        std::weak_ptr<Pool> pool;
    };

    ServerBudget(std::string server, int max_connections);
    ServerBudget(const ServerBudget &) = delete;
    ServerBudget &operator=(const ServerBudget &) = delete;

    const std::string &server() const noexcept { return server_; }
    int limit() const noexcept {
        std::lock_guard<std::mutex> lock(mu_);
        return limit_;
    }
    // A new maxConnections (a reload): sessions above a lower one are not
    // closed, the budget only opens none until it is below; a higher one
    // goes to the waiting pools at once. Call holding no pool's mutex.
    void set_limit(int max_connections) noexcept;

    std::shared_ptr<Member> join(std::string connection, int pool_max);
    // The pool is gone (its sessions closed): its account and place in line.
    void leave(Member &m) noexcept;
    // The pool's max changed (a reload resized it in place).
    void resize(Member &m, int pool_max) noexcept;

    // A slot for `m` (of `pool`) when one is free; never waits.
    bool try_take(Member &m, const std::weak_ptr<Pool> &pool) noexcept;
    // `n` slots of `m` come back (sessions closed, opens abandoned); they
    // go to the waiting pools in turn. Call holding no pool's mutex.
    void give_back(Member &m, int n = 1) noexcept;
    // `m`'s pool has callers that need a slot: it joins the back of the
    // line (once); `counted`: one more caller waited (the metric).
    void want(Member &m, const std::weak_ptr<Pool> &pool, bool counted) noexcept;
    // `m`'s pool needs no slot any more: it leaves the line.
    void unwant(Member &m) noexcept;
    // Whether a session `m` releases is closed for a waiting pool
    // (pool_policy::yield_on_release).
    bool should_yield(const Member &m, bool own_waiters) const noexcept;
    // Whether any pool waits (one load: the release path of a budgeted pool).
    bool anyone_waiting() const noexcept { return waiting_.load(std::memory_order_acquire) != 0; }
    // Asks the other pools, most above their share first, to close one
    // idle session each until one does; its slot then goes to the line.
    // Call holding no pool's mutex. Returns whether one was closed.
    bool evict_for(const Member &m) noexcept;

    struct Snapshot {
        int open = 0, limit = 0, waiting_pools = 0;
        std::vector<std::pair<std::string, uint64_t>> waits; // per connection (pool name) that ever waited
    };
    Snapshot snapshot() const;

private:
    struct Grant {
        std::shared_ptr<Pool> pool;
        std::shared_ptr<Member> member;
    };
    // With mu_ held: free slots to the pools in line, in turn.
    void assign_free_slots_locked(std::vector<Grant> &out);
    // Without any lock: each pool gets its slot or gives it back.
    void deliver(std::vector<Grant> &grants) noexcept;
    int active_pools_locked() const noexcept;
    void waiting_changed_locked() noexcept { waiting_.store(static_cast<int>(line_.size()), std::memory_order_release); }

    const std::string server_;
    int limit_; // guarded by mu_
    mutable std::mutex mu_;
    int open_ = 0;
    std::vector<std::shared_ptr<Member>> members_;
    std::deque<Member *> line_; // waiting pools, in turn
    // Callers that waited for a slot, by pool name: kept when a pool goes
    // (a tenant pool evicted and made again counts on), as a counter must.
    std::map<std::string, uint64_t, std::less<>> waits_;
    std::atomic<int> waiting_{0};
};

} // namespace ilana::detail
