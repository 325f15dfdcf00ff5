#include "pool/server_budget.hpp"
#include "pool/pool.hpp"

#include <algorithm>

namespace ilana::detail {

namespace policy = pool_policy;

ServerBudget::ServerBudget(std::string server, int max_connections)
    : server_(std::move(server)), limit_(std::max(1, max_connections)) {}

std::shared_ptr<ServerBudget::Member> ServerBudget::join(std::string connection, int pool_max) {
    auto m = std::make_shared<Member>();
    m->connection = std::move(connection);
    m->pool_max = std::max(1, pool_max);
    std::lock_guard<std::mutex> lock(mu_);
    members_.push_back(m);
    return m;
}

void ServerBudget::set_limit(int max_connections) noexcept {
    std::vector<Grant> grants;
    {
        std::lock_guard<std::mutex> lock(mu_);
        limit_ = std::max(1, max_connections);
        try {
            assign_free_slots_locked(grants);
        } catch (...) { // no memory for the list: the next give_back hands the slots out
        }
    }
    deliver(grants);
}

void ServerBudget::resize(Member &m, int pool_max) noexcept {
    std::lock_guard<std::mutex> lock(mu_);
    m.pool_max = std::max(1, pool_max);
}

void ServerBudget::leave(Member &m) noexcept {
    std::vector<Grant> grants;
    {
        std::lock_guard<std::mutex> lock(mu_);
        line_.erase(std::remove(line_.begin(), line_.end(), &m), line_.end());
        waiting_changed_locked();
        m.queued = false;
        // A pool's sessions have all closed by now; anything still counted
        // (a close abandoned to its thread) is freed with the account.
        open_ -= m.held;
        m.held = 0;
        members_.erase(std::remove_if(members_.begin(), members_.end(),
                                      [&](const std::shared_ptr<Member> &p) { return p.get() == &m; }),
                       members_.end());
        assign_free_slots_locked(grants);
    }
    deliver(grants);
}

bool ServerBudget::try_take(Member &m, const std::weak_ptr<Pool> &pool) noexcept {
    std::lock_guard<std::mutex> lock(mu_);
    if (!policy::budget_allows_open(open_, limit_)) return false;
    if (m.pool.expired()) m.pool = pool; // evict_for asks it from now on
    ++open_;
    ++m.held;
    return true;
}

void ServerBudget::give_back(Member &m, int n) noexcept {
    if (n <= 0) return;
    std::vector<Grant> grants;
    {
        std::lock_guard<std::mutex> lock(mu_);
        n = std::min(n, m.held);
        m.held -= n;
        open_ -= n;
        assign_free_slots_locked(grants);
    }
    deliver(grants);
}

int ServerBudget::active_pools_locked() const noexcept {
    int active = 0;
    for (const auto &m : members_)
        if (m->held > 0 || m->queued) ++active;
    return active;
}

void ServerBudget::assign_free_slots_locked(std::vector<Grant> &out) {
    while (policy::budget_allows_open(open_, limit_) && !line_.empty()) {
        std::vector<policy::BudgetMember> facts;
        facts.reserve(line_.size());
        for (const Member *m : line_) facts.push_back({m->held, m->pool_max});
        const size_t next = policy::next_in_turn(facts, limit_, active_pools_locked());
        Member *m = line_[next];
        line_.erase(line_.begin() + static_cast<std::ptrdiff_t>(next));
        m->queued = false;
        auto pool = m->pool.lock();
        if (!pool) continue; // closing: it wants nothing any more
        std::shared_ptr<Member> member;
        for (const auto &p : members_)
            if (p.get() == m) member = p;
        if (!member) continue;
        ++m->held;
        ++open_;
        out.push_back({std::move(pool), std::move(member)});
    }
    waiting_changed_locked();
}

void ServerBudget::deliver(std::vector<Grant> &grants) noexcept {
    // A pool whose callers were served meanwhile (or timed out) hands the
    // slot on: to the next in line.
    for (auto &g : grants)
        if (!g.pool->accept_budget_slot()) give_back(*g.member);
    grants.clear();
}

void ServerBudget::want(Member &m, const std::weak_ptr<Pool> &pool, bool counted) noexcept {
    std::lock_guard<std::mutex> lock(mu_);
    if (counted) {
        try {
            ++waits_[m.connection];
        } catch (...) { // no memory for a new name: the count is lost, not the wait
        }
    }
    if (m.queued) return;
    m.pool = pool;
    m.queued = true;
    line_.push_back(&m);
    waiting_changed_locked();
}

void ServerBudget::unwant(Member &m) noexcept {
    std::lock_guard<std::mutex> lock(mu_);
    if (!m.queued) return;
    m.queued = false;
    line_.erase(std::remove(line_.begin(), line_.end(), &m), line_.end());
    waiting_changed_locked();
}

bool ServerBudget::should_yield(const Member &m, bool own_waiters) const noexcept {
    std::lock_guard<std::mutex> lock(mu_);
    int fewest = -1;
    for (const Member *w : line_)
        if (w != &m && (fewest < 0 || w->held < fewest)) fewest = w->held;
    return policy::yield_on_release({m.held, m.pool_max}, own_waiters, fewest, limit_, active_pools_locked());
}

bool ServerBudget::evict_for(const Member &m) noexcept {
    std::vector<std::shared_ptr<Pool>> candidates;
    try {
        std::lock_guard<std::mutex> lock(mu_);
        std::vector<policy::BudgetMember> facts;
        size_t asking = members_.size();
        for (size_t i = 0; i < members_.size(); ++i) {
            facts.push_back({members_[i]->held, members_[i]->pool_max});
            if (members_[i].get() == &m) asking = i;
        }
        for (size_t i : policy::eviction_order(facts, asking, limit_, active_pools_locked()))
            if (auto p = members_[i]->pool.lock()) candidates.push_back(std::move(p));
    } catch (...) {
        return false; // no memory for the list: the caller waits for a release instead
    }
    for (auto &p : candidates)
        if (p->close_idle_for_budget()) return true;
    return false;
}

ServerBudget::Snapshot ServerBudget::snapshot() const {
    Snapshot s;
    std::lock_guard<std::mutex> lock(mu_);
    s.open = open_;
    s.limit = limit_;
    s.waiting_pools = static_cast<int>(line_.size());
    s.waits.assign(waits_.begin(), waits_.end());
    return s;
}

} // namespace ilana::detail
