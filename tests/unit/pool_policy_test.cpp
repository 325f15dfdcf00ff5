// The pool's decisions (core/src/runtime/pool/pool_policy.hpp) and its
// container (session_bag.hpp), without threads, sockets or sleeps: time is
// a time point the test moves by hand. The same decisions run in Pool; the
// real-time tests in tests/integration/pool_test.cpp and
// tests/unit/pool_clock_test.cpp check that Pool carries them out.
#include <catch2/catch.hpp>

#include "pool/pool_policy.hpp"
#include "pool/session_bag.hpp"

#include <memory>

using namespace ilana::detail;
using namespace std::chrono_literals;
namespace policy = ilana::detail::pool_policy;
using S = SessionStatus;

namespace {
const Clock::time_point t0 = Clock::time_point{} + 1000h; // a fake clock's "now"

policy::Census census(int idle, int creating, int out, int waiters) {
    policy::Census c;
    c.idle = idle;
    c.creating = creating;
    c.out = out;
    c.waiters = waiters;
    return c;
}

ilana::PoolOptions options(int min, int max) {
    ilana::PoolOptions o;
    o.min = min;
    o.max = max;
    o.idle_timeout_ms = 0;
    o.max_lifetime_ms = 0;
    return o;
}
} // namespace

TEST_CASE("pool policy: a session's status changes only along the state machine", "[pool][policy]") {
    CHECK(policy::transition_allowed(S::creating, S::leased));
    CHECK(policy::transition_allowed(S::creating, S::idle));
    CHECK(policy::transition_allowed(S::idle, S::validating));
    CHECK(policy::transition_allowed(S::validating, S::retiring)); // failed validation
    CHECK(policy::transition_allowed(S::leased, S::parked));
    CHECK(policy::transition_allowed(S::parked, S::idle)); // unparked for a waiter or maintenance
    CHECK(policy::transition_allowed(S::leased, S::leased)); // a hand-off
    CHECK(policy::transition_allowed(S::resetting, S::leased));
    CHECK_FALSE(policy::transition_allowed(S::idle, S::parked)); // only a lease is parked
    CHECK_FALSE(policy::transition_allowed(S::parked, S::retiring)); // unparked first
    CHECK_FALSE(policy::transition_allowed(S::idle, S::idle));
    CHECK_FALSE(policy::transition_allowed(S::creating, S::validating));
    for (S to : {S::creating, S::idle, S::validating, S::leased, S::parked, S::resetting, S::retiring})
        CHECK_FALSE(policy::transition_allowed(S::retiring, to)); // the end
    // Moves the lock-free path makes stay inside one capacity class.
    CHECK(policy::capacity_of(S::leased) == policy::capacity_of(S::parked));
    CHECK(policy::capacity_of(S::leased) == policy::capacity_of(S::resetting));
    CHECK(policy::capacity_of(S::leased) == policy::capacity_of(S::validating));
    CHECK(policy::capacity_of(S::retiring) == policy::Capacity::none);
}

TEST_CASE("pool policy: acquire lends idle, opens below max when nobody waits, else waits", "[pool][policy]") {
    using A = policy::AcquireStep;
    CHECK(policy::on_acquire(census(1, 0, 1, 0), 2, false, false) == A::take_idle);
    CHECK(policy::on_acquire(census(0, 0, 1, 0), 2, false, false) == A::create);
    CHECK(policy::on_acquire(census(0, 1, 1, 0), 2, false, false) == A::wait); // a create counts against max
    CHECK(policy::on_acquire(census(0, 0, 2, 0), 2, false, false) == A::wait);
    // Capacity is owed to the waiters first: a newcomer queues.
    CHECK(policy::on_acquire(census(0, 0, 1, 1), 4, false, false) == A::wait);
    // A newcomer may take an idle session ahead of a woken waiter, unless
    // releases are being handed to the waiters in turn.
    CHECK(policy::on_acquire(census(1, 0, 1, 1), 2, false, false) == A::take_idle);
    CHECK(policy::on_acquire(census(1, 0, 1, 1), 2, true, false) == A::wait);
    CHECK(policy::on_acquire(census(1, 0, 0, 0), 2, true, false) == A::take_idle); // no queue, no hand-off
    CHECK(policy::on_acquire(census(1, 0, 0, 0), 2, false, true) == A::fail_closed);
}

TEST_CASE("pool policy: hand-off to the waiters starts after the first waiter lost a race for 1 ms",
          "[pool][policy]") {
    CHECK_FALSE(policy::handoff_due(t0, t0));
    CHECK_FALSE(policy::handoff_due(t0, t0 + 999us));
    CHECK(policy::handoff_due(t0, t0 + 1ms));
    using R = policy::ReleaseStep;
    CHECK(policy::on_release(census(0, 0, 2, 0), false) == R::idle);
    CHECK(policy::on_release(census(0, 0, 2, 0), true) == R::idle);
    CHECK(policy::on_release(census(0, 0, 2, 3), false) == R::idle_and_wake);
    CHECK(policy::on_release(census(0, 0, 2, 3), true) == R::hand_to_waiter);
}

TEST_CASE("pool policy: acquire timeout", "[pool][policy]") {
    CHECK(policy::acquire_deadline(t0, 250ms) == t0 + 250ms);
    CHECK(policy::acquire_deadline(t0, -5ms) == t0); // a negative timeout does not wait
    CHECK(policy::acquire_deadline(t0, 0ms) == t0);
}

TEST_CASE("pool policy: a released session retires when broken, past its lifetime, or not reusable",
          "[pool][policy]") {
    const auto retire_at = t0 + 10s;
    CHECK(policy::retire_on_release(true, true, retire_at, t0) == CloseReason::broken);
    CHECK(policy::retire_on_release(false, true, retire_at, t0 + 10s) == CloseReason::lifetime);
    CHECK(policy::retire_on_release(false, false, retire_at, t0) == CloseReason::broken);
    CHECK_FALSE(policy::retire_on_release(false, true, retire_at, t0 + 9999ms).has_value());
    CHECK_FALSE(policy::retire_on_release(false, true, Clock::time_point::max(), t0 + 1000h).has_value());
}

TEST_CASE("pool policy: maxLifetimeMillis with up to 10% jitter", "[pool][policy]") {
    CHECK(policy::retire_time(t0, 0, 12345) == Clock::time_point::max());
    CHECK(policy::retire_time(t0, 1000, 0) == t0 + 1000ms);
    CHECK(policy::retire_time(t0, 1000, 99) == t0 + 901ms);
    CHECK(policy::retire_time(t0, 1000, 100) == t0 + 1000ms); // random % 100
    CHECK(policy::retire_time(t0, 5, 3) == t0 + 5ms);         // too short to jitter
    for (uint64_t r = 0; r < 1000; r += 7) {
        const auto at = policy::retire_time(t0, 60000, r * 2654435761u);
        CHECK(at > t0 + 54000ms);
        CHECK(at <= t0 + 60000ms);
    }
}

TEST_CASE("pool policy: idle retirement keeps min, lifetime retirement does not", "[pool][policy]") {
    auto o = options(1, 4);
    o.idle_timeout_ms = 1000;
    // Oldest-used first, as the idle list is ordered.
    std::vector<policy::IdleFacts> idle = {
        {t0, Clock::time_point::max()},
        {t0 + 100ms, Clock::time_point::max()},
        {t0 + 200ms, Clock::time_point::max()},
    };
    SECTION("nothing before idleTimeoutMillis") {
        CHECK(policy::retire_idle(idle, 3, o, t0 + 999ms).empty());
    }
    SECTION("the oldest ones, down to min") {
        auto r = policy::retire_idle(idle, 3, o, t0 + 5s);
        REQUIRE(r.size() == 2);
        CHECK(r[0].index == 0);
        CHECK(r[1].index == 1);
        CHECK(r[0].reason == CloseReason::idle);
    }
    SECTION("leased sessions count towards min") {
        CHECK(policy::retire_idle(idle, 5, o, t0 + 5s).size() == 3);
    }
    SECTION("only those idle long enough") {
        auto r = policy::retire_idle(idle, 3, o, t0 + 1100ms);
        REQUIRE(r.size() == 2);
        CHECK(r[1].index == 1);
        CHECK(policy::retire_idle(idle, 3, o, t0 + 1050ms).size() == 1);
    }
    SECTION("idleTimeoutMillis 0: never for idleness") {
        o.idle_timeout_ms = 0;
        CHECK(policy::retire_idle(idle, 3, o, t0 + 1000h).empty());
    }
    SECTION("past maxLifetimeMillis: retired even below min") {
        o.min = 3;
        idle[2].retire_at = t0 + 2s;
        auto r = policy::retire_idle(idle, 3, o, t0 + 2s);
        REQUIRE(r.size() == 1);
        CHECK(r[0].index == 2);
        CHECK(r[0].reason == CloseReason::lifetime);
        CHECK(policy::retire_idle(idle, 3, o, t0 + 1999ms).empty());
    }
}

TEST_CASE("pool policy: maintenance opens sessions up to min, never above max", "[pool][policy]") {
    CHECK(policy::sessions_to_create(census(0, 0, 0, 0), 2, 4) == 2);
    CHECK(policy::sessions_to_create(census(1, 0, 0, 0), 2, 4) == 1);
    CHECK(policy::sessions_to_create(census(0, 1, 1, 0), 2, 4) == 0); // one being opened counts
    CHECK(policy::sessions_to_create(census(3, 0, 0, 0), 2, 4) == 0);
    CHECK(policy::sessions_to_create(census(0, 0, 0, 0), 5, 3) == 3); // min above max: max
    CHECK(policy::maintenance_interval(1000) == 1000ms);
    CHECK(policy::maintenance_interval(50) == 50ms);
    CHECK(policy::maintenance_interval(1) == 10ms);
    CHECK(policy::maintenance_interval(60000) == 1000ms);
}

TEST_CASE("pool policy: createRetryIntervalMillis spaces the create after a failed one", "[pool][policy]") {
    using P = policy::PauseStep;
    const auto deadline = t0 + 5s;
    // No failure yet, or no interval: start at once.
    CHECK(policy::before_create(Clock::time_point{}, 500, t0, deadline).step == P::start);
    CHECK(policy::before_create(t0, 0, t0, deadline).step == P::start);
    // 100 ms after a failure with a 500 ms interval: wait 400 ms more.
    auto p = policy::before_create(t0, 500, t0 + 100ms, deadline);
    CHECK(p.step == P::wait_then_start);
    CHECK(p.until == t0 + 500ms);
    CHECK(policy::before_create(t0, 500, t0 + 500ms, deadline).step == P::start);
    // The caller's deadline comes first: it waits until then and times out.
    p = policy::before_create(t0, 500, t0 + 100ms, t0 + 300ms);
    CHECK(p.step == P::time_out);
    CHECK(p.until == t0 + 300ms);
    // ...and its PoolTimeout names the create error only when it failed
    // while the caller waited.
    CHECK(policy::create_failure_explains_timeout(t0, t0 - 1ms));
    CHECK_FALSE(policy::create_failure_explains_timeout(t0, t0 + 1ms));
    CHECK_FALSE(policy::create_failure_explains_timeout(Clock::time_point{}, Clock::time_point{}));
}

TEST_CASE("pool policy: connect timeouts and retries fit the caller's deadline", "[pool][policy]") {
    CHECK(policy::connect_timeout_ms(5000, t0, t0 + 10s) == 5000);
    CHECK(policy::connect_timeout_ms(5000, t0, t0 + 2s) == 2000);
    CHECK(policy::connect_timeout_ms(0, t0, t0 + 60s) == 30000); // unset: 30 s
    CHECK(policy::connect_timeout_ms(5000, t0, t0) == 5000);     // no time left: one full attempt
    CHECK(policy::connect_timeout_ms(5000, t0, t0 + 300us) == 5000);
    CHECK(policy::retry_create(1, 3, true, t0 + 100ms, t0 + 1s));
    CHECK_FALSE(policy::retry_create(3, 3, true, t0 + 100ms, t0 + 1s)); // attempts used up
    CHECK_FALSE(policy::retry_create(1, 3, false, t0 + 100ms, t0 + 1s)); // e.g. bad password
    CHECK_FALSE(policy::retry_create(1, 3, true, t0 + 1s, t0 + 1s));     // the backoff outlives the caller
}

TEST_CASE("pool policy: validation, leak detection and the destroy timeout", "[pool][policy]") {
    CHECK_FALSE(policy::needs_validation(t0, t0 + 1h, 0));
    CHECK_FALSE(policy::needs_validation(t0, t0 + 499ms, 500));
    CHECK(policy::needs_validation(t0, t0 + 500ms, 500));
    CHECK_FALSE(policy::lease_leaked(t0, t0 + 1h, 0));
    CHECK_FALSE(policy::lease_leaked(t0, t0 + 200ms, 200));
    CHECK(policy::lease_leaked(t0, t0 + 201ms, 200));
    CHECK(policy::close_bound(0) == 0ms); // no bound: closed by the destroying thread
    CHECK(policy::close_bound(-1) == 0ms);
    CHECK(policy::close_bound(200) == 200ms);
    ilana::PoolOptions o;
    CHECK(policy::lock_free_allowed(o));
    o.validate_idle_after_ms = 1;
    CHECK_FALSE(policy::lock_free_allowed(o));
    o.validate_idle_after_ms = 0;
    o.leak_detection_ms = 1;
    CHECK_FALSE(policy::lock_free_allowed(o));
}

TEST_CASE("session bag: counts follow the statuses, waiters are served first come, first served",
          "[pool][policy]") {
    SessionBag bag(false);
    // Two sessions opened: one lent, one idle.
    bag.reserve_create(2);
    CHECK(bag.census().creating == 2);
    auto a = std::make_unique<PooledConnection>();
    auto b = std::make_unique<PooledConnection>();
    bag.opened(*a, S::leased);
    bag.put_idle(std::move(b));
    auto c = bag.census();
    CHECK(c.creating == 0);
    CHECK(c.out == 1);
    CHECK(c.idle == 1);
    CHECK(c.total() == 2);

    // Three waiters, in this order.
    Waiter first(t0), second(t0 + 1ms), third(t0 + 2ms);
    bag.enqueue(&first);
    bag.enqueue(&second);
    bag.enqueue(&third);
    CHECK(bag.census().waiters == 3);

    bag.wake_first(); // a session went idle
    CHECK(first.grant == Waiter::Grant::idle_ready);
    CHECK(second.grant == Waiter::Grant::none);
    bag.wake_first(); // once until it looks
    CHECK(first.grant == Waiter::Grant::idle_ready);
    // The first takes the idle session itself and leaves the queue.
    auto taken = bag.take_idle(S::leased);
    CHECK(taken->status == S::leased);
    bag.dequeue(&first);
    CHECK(bag.census().out == 2);

    // A release under hand-off goes to the next in line, still leased.
    bag.hand_to_first(std::move(a));
    CHECK(second.grant == Waiter::Grant::session);
    REQUIRE(second.session);
    CHECK(second.session->status == S::leased);
    CHECK(bag.census().out == 2);

    // A broken session retires: its capacity goes to the next in line.
    bag.move(*taken, S::retiring);
    CHECK(bag.census().out == 1);
    CHECK(bag.grant_capacity_to_first());
    CHECK(third.grant == Waiter::Grant::capacity);
    CHECK(bag.census().creating == 1); // counted against max from now on
    CHECK_FALSE(bag.has_waiters());
    CHECK_FALSE(bag.grant_capacity_to_first());

    // Its create failed: the capacity is free again.
    bag.abandon_create();
    CHECK(bag.census().total() == 1);
}

TEST_CASE("session bag: closing fails every waiter and retires the idle sessions", "[pool][policy]") {
    SessionBag bag(false);
    bag.reserve_create(2);
    for (int i = 0; i < 2; ++i) {
        auto pc = std::make_unique<PooledConnection>();
        bag.put_idle(std::move(pc)); // creating -> idle
    }
    Waiter w(t0);
    bag.enqueue(&w);
    auto retired = bag.retire_all_idle();
    REQUIRE(retired.size() == 2);
    CHECK(retired[0]->status == S::retiring);
    bag.fail_all_waiters();
    CHECK(w.grant == Waiter::Grant::closed);
    CHECK(bag.census().total() == 0);
    CHECK(bag.census().waiters == 0);
}

TEST_CASE("session bag: maintenance retires the idle sessions the policy picks", "[pool][policy]") {
    SessionBag bag(false);
    auto o = options(1, 4);
    o.idle_timeout_ms = 1000;
    bag.reserve_create(3);
    for (int i = 0; i < 3; ++i) {
        auto pc = std::make_unique<PooledConnection>();
        pc->last_used = t0 + std::chrono::milliseconds(100 * i);
        pc->retire_at = Clock::time_point::max();
        bag.put_idle(std::move(pc));
    }
    auto now = t0 + 1150ms; // the first two have been idle 1 s
    auto chosen = policy::retire_idle(bag.idle_facts(), bag.census().total(), o, now);
    auto retired = bag.retire_idle(chosen);
    REQUIRE(retired.size() == 2);
    CHECK(retired[0].first->last_used == t0);
    CHECK(retired[1].first->last_used == t0 + 100ms);
    CHECK(retired[0].second == CloseReason::idle);
    CHECK(bag.census().idle == 1);
    // The one left is min: kept however long it idles.
    CHECK(policy::retire_idle(bag.idle_facts(), bag.census().total(), o, now + 1h).empty());
    CHECK(policy::sessions_to_create(bag.census(), o.min, o.max) == 0);
}

TEST_CASE("pool policy: a resize closes idle sessions above the new max, never leased ones", "[pool][policy][reload]") {
    // 3 idle + 2 out, max 10 -> 2: three must go, all of them idle ones.
    CHECK(policy::idle_over_max(census(3, 0, 2, 0), 2) == 3);
    // 1 idle + 4 out, max 2: only the idle one now; the leased ones as they return.
    CHECK(policy::idle_over_max(census(1, 0, 4, 0), 2) == 1);
    CHECK(policy::retire_on_release_over_max(census(0, 0, 4, 0), 2));
    CHECK_FALSE(policy::retire_on_release_over_max(census(0, 0, 2, 0), 2));
    // Under the max: nothing closes, and capacity is open to waiters.
    CHECK(policy::idle_over_max(census(2, 0, 1, 0), 5) == 0);
    CHECK(policy::can_open(census(2, 0, 1, 3), 5));
    // A freed capacity goes to a waiter only when the pool is below max
    // (after a shrink it may still be above).
    CHECK_FALSE(policy::can_open(census(0, 1, 3, 1), 4));
    CHECK_FALSE(policy::can_open(census(0, 0, 5, 1), 4));
}
