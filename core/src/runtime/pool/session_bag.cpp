#include "pool/session_bag.hpp"

#include <algorithm>
#include <functional>
#include <thread>

namespace ilana::detail {

namespace {
// The parking slot of the calling thread (the same index in every pool).
size_t my_slot(size_t slots) noexcept {
    thread_local const size_t hash = std::hash<std::thread::id>{}(std::this_thread::get_id());
    return hash % slots;
}
} // namespace

std::unique_ptr<PooledConnection> SessionBag::take_parked() noexcept {
    Slot &slot = slots_[my_slot(kSlots)];
    // A plain load first: an empty slot costs no cache-line write.
    if (slot.parked.load(std::memory_order_relaxed) == nullptr) return nullptr;
    PooledConnection *pc = slot.parked.exchange(nullptr, std::memory_order_acq_rel);
    if (pc == nullptr) return nullptr;
    // Not a locked add: the slot is (nearly always) this thread's alone, and
    // a count lost to a rare shared slot only blurs a statistic.
    slot.acquires.store(slot.acquires.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
    relabel(*pc, SessionStatus::leased);
    return std::unique_ptr<PooledConnection>(pc);
}

bool SessionBag::park(std::unique_ptr<PooledConnection> &pc) noexcept {
    Slot &slot = slots_[my_slot(kSlots)];
    relabel(*pc, SessionStatus::parked); // before publishing: whoever takes it sees parked
    PooledConnection *expected = nullptr;
    if (!slot.parked.compare_exchange_strong(expected, pc.get(), std::memory_order_seq_cst)) {
        relabel(*pc, SessionStatus::leased);
        return false;
    }
    (void)pc.release();
    // A waiter or close() may have looked at the slots just before: they
    // published their flag first (seq_cst), so one of us sees the other.
    // Take a session back (ours or one parked since) for the locked path.
    if (has_waiters_.load(std::memory_order_seq_cst) || closing_.load(std::memory_order_seq_cst)) {
        pc.reset(slot.parked.exchange(nullptr, std::memory_order_seq_cst));
        if (pc == nullptr) return true; // taken meanwhile by someone who will handle it
        relabel(*pc, SessionStatus::leased);
        return false;
    }
    return true;
}

int SessionBag::unpark_all(Clock::time_point now) noexcept {
    int n = 0;
    for (Slot &slot : slots_) {
        // seq_cst (a plain load on x86): pairs with park()'s re-check.
        if (slot.parked.load(std::memory_order_seq_cst) == nullptr) continue;
        PooledConnection *pc = slot.parked.exchange(nullptr, std::memory_order_seq_cst);
        if (pc == nullptr) continue;
        ++n;
        pc->last_used = now;
        move(*pc, SessionStatus::idle);
        idle_.emplace_back(pc);
    }
    return n;
}

std::unique_ptr<PooledConnection> SessionBag::take_idle(SessionStatus to) noexcept {
    auto pc = std::move(idle_.back());
    idle_.pop_back();
    move(*pc, to);
    return pc;
}

void SessionBag::put_idle(std::unique_ptr<PooledConnection> pc, bool oldest) {
    move(*pc, SessionStatus::idle);
    if (oldest) idle_.insert(idle_.begin(), std::move(pc));
    else idle_.push_back(std::move(pc));
}

std::vector<pool_policy::IdleFacts> SessionBag::idle_facts() const {
    std::vector<pool_policy::IdleFacts> facts;
    facts.reserve(idle_.size());
    for (const auto &pc : idle_) facts.push_back({pc->last_used, pc->retire_at});
    return facts;
}

std::vector<std::pair<std::unique_ptr<PooledConnection>, CloseReason>>
SessionBag::retire_idle(const std::vector<pool_policy::Retirement> &chosen) {
    std::vector<std::pair<std::unique_ptr<PooledConnection>, CloseReason>> out;
    if (chosen.empty()) return out;
    out.reserve(chosen.size());
    for (const auto &r : chosen) {
        move(*idle_[r.index], SessionStatus::retiring);
        out.emplace_back(std::move(idle_[r.index]), r.reason);
    }
    idle_.erase(std::remove(idle_.begin(), idle_.end(), nullptr), idle_.end());
    return out;
}

std::vector<std::unique_ptr<PooledConnection>> SessionBag::retire_all_idle() {
    std::vector<std::unique_ptr<PooledConnection>> out;
    out.swap(idle_);
    for (auto &pc : out) move(*pc, SessionStatus::retiring);
    return out;
}

void SessionBag::enqueue(Waiter *w) {
    waiters_.push_back(w);
    waiters_changed();
}

void SessionBag::dequeue(Waiter *w) noexcept {
    auto it = std::find(waiters_.begin(), waiters_.end(), w);
    if (it != waiters_.end()) waiters_.erase(it);
    waiters_changed();
}

void SessionBag::hand_to_first(std::unique_ptr<PooledConnection> pc) noexcept {
    Waiter *w = waiters_.front();
    waiters_.pop_front();
    waiters_changed();
    move(*pc, SessionStatus::leased);
    w->session = std::move(pc);
    w->grant = Waiter::Grant::session;
    w->notify();
}

bool SessionBag::grant_capacity_to_first() noexcept {
    if (waiters_.empty()) return false;
    Waiter *w = waiters_.front();
    waiters_.pop_front();
    waiters_changed();
    reserve_create();
    w->grant = Waiter::Grant::capacity;
    w->notify();
    return true;
}

void SessionBag::wake_first() noexcept {
    Waiter *w = waiters_.front();
    if (w->grant != Waiter::Grant::none) return;
    w->grant = Waiter::Grant::idle_ready;
    w->notify();
}

void SessionBag::fail_all_waiters() noexcept {
    for (Waiter *w : waiters_) {
        w->grant = Waiter::Grant::closed;
        w->notify();
    }
    waiters_.clear();
    waiters_changed();
}

int SessionBag::parked_count() const noexcept {
    int parked = 0;
    for (const Slot &slot : slots_)
        if (slot.parked.load(std::memory_order_acquire) != nullptr) ++parked;
    return parked;
}

uint64_t SessionBag::lock_free_acquires() const noexcept {
    uint64_t n = 0;
    for (const Slot &slot : slots_) n += slot.acquires.load(std::memory_order_relaxed);
    return n;
}

} // namespace ilana::detail
