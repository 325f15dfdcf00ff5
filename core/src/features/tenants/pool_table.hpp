// The bookkeeping of tenant pools, as a state machine without I/O: which
// tenant has a pool, which pools are in use (pinned), which one to evict.
// TenantState (tenant_state.hpp) guards it with its mutex and does the I/O
// (opening and closing pools) outside that mutex; the unit tests drive it
// alone (tests/unit/tenants_pool_table_test.cpp).
//
// Slots: at most `max_pools` pools exist, counting entries being created
// and pools being closed. checkout() of a tenant without a pool either
// takes a free slot, or takes over the slot of the least recently used
// entry that is ready and not pinned (the victim, which the caller closes
// *before* opening the new pool, so hooks never see more than max_pools),
// or says wait.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace ilana::detail {

template <class Payload> class TenantPoolTable {
public:
    using Clock = std::chrono::steady_clock;

    struct Entry {
        std::string id;
        std::shared_ptr<Payload> payload; // set by ready()
        int pins = 0;                     // users out (Connections, Sessions, ...)
        Clock::time_point last_used;
        bool ready = false;               // false while its pool is being made
    };
    using EntryPtr = std::shared_ptr<Entry>;

    enum class Action {
        use,    // `entry` is ready: pin it and hand it out
        create, // `entry` was inserted (not ready): close `victim` if any, make the pool, then ready()
        wait,   // nothing to do now: wait for a release, ready() or abandon(), then check out again
    };
    struct Decision {
        Action action = Action::wait;
        EntryPtr entry;
        EntryPtr victim; // with create: the evicted entry (already removed)
    };

    TenantPoolTable(int max_pools, std::chrono::milliseconds ttl) : max_(std::max(1, max_pools)), ttl_(ttl) {}

    Decision checkout(const std::string &id, Clock::time_point now) {
        Decision d;
        auto it = entries_.find(id);
        if (it != entries_.end()) {
            d.action = it->second->ready ? Action::use : Action::wait;
            d.entry = it->second;
            return d;
        }
        if (open() < max_) {
            d.action = Action::create;
            d.entry = insert(id, now);
            return d;
        }
        EntryPtr victim = lru_idle();
        if (!victim) return d; // every pool is in use or being made
        entries_.erase(victim->id);
        ++evicted_lru_;
        d.action = Action::create;
        d.victim = std::move(victim);
        d.entry = insert(id, now);
        return d;
    }

    // The pool of a `create` entry exists now.
    void ready(const EntryPtr &e, std::shared_ptr<Payload> payload) {
        e->payload = std::move(payload);
        e->ready = true;
        ++created_;
    }
    // Making the pool failed: the entry goes, its slot is free.
    void abandon(const EntryPtr &e) {
        auto it = entries_.find(e->id);
        if (it != entries_.end() && it->second == e) entries_.erase(it);
    }

    // `touch`: counts as use (a user), not an observer (metrics, health),
    // for LRU and TTL.
    void pin(Entry &e, Clock::time_point now, bool touch = true) {
        ++e.pins;
        if (touch) e.last_used = now;
    }
    void unpin(Entry &e, Clock::time_point now, bool touch) {
        if (e.pins > 0) --e.pins;
        if (touch) e.last_used = now;
    }

    // Removes and returns the ready, unpinned entries unused for the TTL;
    // they count as closing until closed(n). No TTL (0): nothing.
    std::vector<EntryPtr> sweep(Clock::time_point now) {
        std::vector<EntryPtr> out;
        if (ttl_.count() <= 0) return out;
        for (auto it = entries_.begin(); it != entries_.end();) {
            const Entry &e = *it->second;
            if (e.ready && e.pins == 0 && now - e.last_used >= ttl_) {
                out.push_back(it->second);
                it = entries_.erase(it);
            } else {
                ++it;
            }
        }
        evicted_ttl_ += out.size();
        closing_ += static_cast<int>(out.size());
        return out;
    }

    // Removes one entry to close it (counts as closing until closed(1));
    // nullptr when absent or not ready. A pinned entry is removed only with
    // `force` (shutdown); `pinned` tells the caller it was.
    EntryPtr remove(const std::string &id, bool force, bool *pinned = nullptr) {
        auto it = entries_.find(id);
        if (it == entries_.end() || !it->second->ready) return nullptr;
        if (pinned != nullptr) *pinned = it->second->pins > 0;
        if (it->second->pins > 0 && !force) return nullptr;
        EntryPtr e = it->second;
        entries_.erase(it);
        ++evicted_other_;
        ++closing_;
        return e;
    }
    // Every entry (ready or not), for shutdown; counted as closing.
    std::vector<EntryPtr> remove_all() {
        std::vector<EntryPtr> out;
        for (auto &kv : entries_)
            if (kv.second->ready) out.push_back(kv.second);
        entries_.clear();
        closing_ += static_cast<int>(out.size());
        return out;
    }
    // `n` entries returned by sweep/remove/remove_all are closed now.
    void closed(int n) { closing_ = std::max(0, closing_ - n); }

    EntryPtr find(const std::string &id) const {
        auto it = entries_.find(id);
        return it == entries_.end() ? nullptr : it->second;
    }
    const std::map<std::string, EntryPtr> &entries() const noexcept { return entries_; }

    int open() const noexcept { return static_cast<int>(entries_.size()) + closing_; }
    int max_pools() const noexcept { return max_; }
    std::chrono::milliseconds ttl() const noexcept { return ttl_; }
    int in_use() const noexcept {
        int n = 0;
        for (const auto &kv : entries_) n += kv.second->pins > 0 ? 1 : 0;
        return n;
    }
    uint64_t created() const noexcept { return created_; }
    uint64_t evicted_lru() const noexcept { return evicted_lru_; }
    uint64_t evicted_ttl() const noexcept { return evicted_ttl_; }
    uint64_t evicted_other() const noexcept { return evicted_other_; }

private:
    EntryPtr insert(const std::string &id, Clock::time_point now) {
        auto e = std::make_shared<Entry>();
        e->id = id;
        e->last_used = now;
        entries_.emplace(id, e);
        return e;
    }
    // Linear: maxPools is tens to a few hundred, and this runs only when a
    // new pool is needed while all slots are taken.
    EntryPtr lru_idle() const {
        EntryPtr best;
        for (const auto &kv : entries_) {
            const EntryPtr &e = kv.second;
            if (!e->ready || e->pins > 0) continue;
            if (!best || e->last_used < best->last_used) best = e;
        }
        return best;
    }

    const int max_;
    const std::chrono::milliseconds ttl_;
    std::map<std::string, EntryPtr> entries_;
    int closing_ = 0;
    uint64_t created_ = 0, evicted_lru_ = 0, evicted_ttl_ = 0, evicted_other_ = 0;
};

} // namespace ilana::detail
