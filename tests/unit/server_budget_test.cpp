// The connection budget of a server (core/src/runtime/pool/server_budget.hpp):
// its decisions as pure functions (pool_policy.hpp, "server budget"), then
// real Pools sharing one budget, with a fake clock and sessions from the
// fixture plugin (`connects`: connects to nothing, closes at once) -- the
// waiters' order across pools, an idle session of another pool closed to
// make room, and the timeout that names the server's budget. The real
// server test is tests/integration/server_budget_pg_test.cpp.
#include <catch2/catch.hpp>

#include "plugins/native_connection.hpp"
#include "pool/pool.hpp"
#include "pool/server_budget.hpp"

#include <ilana/driver_registry.hpp>
#include <ilana/error.hpp>

#include <atomic>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

using namespace ilana;
using namespace ilana::detail;
using namespace std::chrono_literals;
namespace policy = ilana::detail::pool_policy;

TEST_CASE("budget policy: a fair share is the budget over the active pools, within 1..pool max", "[pool][budget]") {
    CHECK(policy::fair_share(40, 4, 20) == 10);
    CHECK(policy::fair_share(40, 4, 5) == 5);    // never above the pool's max
    CHECK(policy::fair_share(40, 200, 5) == 1);  // more pools than slots: one each, in turn
    CHECK(policy::fair_share(40, 0, 5) == 5);    // nobody active yet
    CHECK(policy::budget_allows_open(39, 40));
    CHECK_FALSE(policy::budget_allows_open(40, 40));
}

TEST_CASE("budget policy: the next slot goes to the first waiting pool below its share, else the first",
          "[pool][budget]") {
    // Line order: a pool that holds 3 (share 2), then one holding 0.
    std::vector<policy::BudgetMember> line{{3, 10}, {0, 10}};
    CHECK(policy::next_in_turn(line, 4, 2) == 1);
    // Everyone at or above share: first come (round-robin: a served pool rejoins at the back).
    line = {{2, 10}, {2, 10}};
    CHECK(policy::next_in_turn(line, 4, 2) == 0);
    line = {{0, 1}, {0, 1}};
    CHECK(policy::next_in_turn(line, 1, 2) == 0);
}

TEST_CASE("budget policy: a released session yields to a waiting pool", "[pool][budget]") {
    // Nobody else waits: kept.
    CHECK_FALSE(policy::yield_on_release({5, 5}, true, -1, 10, 2));
    CHECK_FALSE(policy::yield_on_release({5, 5}, false, -1, 10, 2));
    // Someone waits and nobody here does: it would sit idle, so it goes.
    CHECK(policy::yield_on_release({1, 5}, false, 3, 10, 2));
    // A busy pool keeps what it holds up to its share...
    CHECK_FALSE(policy::yield_on_release({4, 5}, true, 3, 10, 2)); // share 5, waiting pool holds 3
    // ...but not above it,
    CHECK(policy::yield_on_release({6, 10}, true, 4, 10, 2)); // share 5
    // and never while a waiting pool holds nothing (the hammering tenant).
    CHECK(policy::yield_on_release({1, 5}, true, 0, 40, 200));
    // Between pools that hold some, a difference of one is kept (no ping-pong).
    CHECK_FALSE(policy::yield_on_release({3, 5}, true, 2, 40, 10)); // share 4
    CHECK(policy::yield_on_release({3, 5}, true, 1, 40, 10));
}

TEST_CASE("budget policy: idle sessions are taken from the pool most above its share first", "[pool][budget]") {
    // Budget 12, 3 active pools: share 4 (pool max 10) or 2 (pool max 2).
    std::vector<policy::BudgetMember> members{{2, 10}, {7, 10}, {0, 10}, {3, 2}};
    // Asking: member 0. Excess: #1 +3, #3 +1 (share 2), #2 holds nothing (left out).
    CHECK(policy::eviction_order(members, 0, 12, 3) == std::vector<size_t>{1, 3});
    CHECK(policy::eviction_order(members, 1, 12, 3) == std::vector<size_t>{3, 0});
}

namespace {
class FakeClock : public PoolClock {
public:
    Clock::time_point now() const noexcept override { return Clock::time_point(Clock::duration(ns_.load())); }
    void sleep_until(Clock::time_point t) const override {
        if (t > now()) ns_.store(t.time_since_epoch().count());
    }

private:
    mutable std::atomic<Clock::rep> ns_{std::chrono::duration_cast<Clock::duration>(1000h).count()};
};

struct Fixture {
    DriverRegistry registry;
    std::shared_ptr<const ConnectTarget> target;
    FakeClock clock;
    std::atomic<int> connects{0};

    Fixture() {
        registry.load_directory(std::string(ILANA_FIXTURE_PLUGIN_DIR) + "/connects");
        REQUIRE(registry.find("fixture") != nullptr);
        auto t = std::make_shared<ConnectTarget>();
        t->name = "fake";
        t->driver = registry.find("fixture");
        t->redact = [](std::string s) { return s; };
        target = t;
    }

    std::shared_ptr<Pool> pool(const std::string &name, int max, std::shared_ptr<ServerBudget> budget) {
        PoolOptions o;
        o.min = 0;
        o.max = max;
        o.idle_timeout_ms = 0;
        o.create_retry_interval_ms = 0;
        o.destroy_timeout_ms = 0;
        o.acquire_timeout_ms = 60000; // by the fake clock: waiters are served, never time out
        RetryOptions retry;
        retry.max_attempts = 1;
        return std::make_shared<Pool>(
            name, o, retry,
            [this](int32_t timeout_ms) {
                ++connects;
                return NativeConnection::open(target, timeout_ms);
            },
            nullptr, nullptr, &clock, std::move(budget));
    }
};

template <class Predicate> void wait_for(Predicate p) {
    for (int i = 0; i < 5000 && !p(); ++i) std::this_thread::sleep_for(1ms);
    REQUIRE(p());
}
} // namespace

TEST_CASE("pool with a budget: a full budget makes a pool wait, and the timeout names the server's budget",
          "[pool][budget][clock]") {
    Fixture f;
    auto budget = std::make_shared<ServerBudget>("pg-main", 2);
    auto a = f.pool("a", 3, budget), b = f.pool("b", 3, budget);
    auto a1 = a->acquire(), a2 = a->acquire();
    CHECK(budget->snapshot().open == 2);
    try {
        (void)b->acquire(0ms);
        FAIL("acquire succeeded past the budget");
    } catch (const PoolTimeout &e) {
        CHECK_THAT(e.what(), Catch::Contains("[b]"));
        CHECK_THAT(e.what(), Catch::Contains("server 'pg-main' is at its connection budget"));
        CHECK_THAT(e.what(), Catch::Contains("servers.pg-main.maxConnections=2, open=2"));
    }
    CHECK(b->stats().timeouts == 1);
    CHECK(b->stats().waiting == 0);
    CHECK(budget->snapshot().waiting_pools == 0); // the timed-out pool left the line
    CHECK(budget->snapshot().waits == std::vector<std::pair<std::string, uint64_t>>{{"b", 1}});
    // Its own max still holds without the budget's say: a third for `a` fits the pool but not the budget.
    CHECK_THROWS_AS(a->acquire(0ms), PoolTimeout);
    a->release(std::move(a1));
    a->release(std::move(a2));
    CHECK(budget->snapshot().open == 2); // idle sessions keep their slots while nobody waits
}

TEST_CASE("pool with a budget: a waiting pool closes another pool's idle session and opens its own",
          "[pool][budget][clock]") {
    Fixture f;
    auto budget = std::make_shared<ServerBudget>("pg-main", 2);
    auto a = f.pool("a", 3, budget), b = f.pool("b", 3, budget);
    {
        auto a1 = a->acquire(), a2 = a->acquire();
        a->release(std::move(a1));
        a->release(std::move(a2));
    }
    CHECK(a->stats().idle == 2);
    auto b1 = b->acquire(0ms); // no wait: `a`'s least recently used idle session made room at once
    CHECK(b1 != nullptr);
    CHECK(a->stats().idle == 1);
    CHECK(a->stats().destroyed == 1);
    CHECK(b->stats().in_use == 1);
    CHECK(budget->snapshot().open == 2);
    CHECK(f.connects == 3);
    // The lease of an idle session needs no slot.
    auto a1 = a->acquire(0ms);
    CHECK(f.connects == 3);
    a->release(std::move(a1));
    b->release(std::move(b1));
}

TEST_CASE("pool with a budget: waiting pools are served in turn, not first come first served",
          "[pool][budget][clock][threads]") {
    Fixture f;
    auto budget = std::make_shared<ServerBudget>("pg-main", 1);
    auto a = f.pool("a", 2, budget), b = f.pool("b", 2, budget), c = f.pool("c", 2, budget);
    auto held = a->acquire(); // the only slot

    std::mutex mu;
    std::vector<std::string> served;
    auto client = [&](std::shared_ptr<Pool> p, std::string who) {
        return std::thread([&, p, who] {
            auto s = p->acquire();
            {
                std::lock_guard<std::mutex> lock(mu);
                served.push_back(who);
            }
            p->release(std::move(s));
        });
    };
    // Arrival: b1, b2, then c1.
    std::thread b1 = client(b, "b1");
    wait_for([&] { return b->stats().waiting == 1; });
    std::thread b2 = client(b, "b2");
    wait_for([&] { return b->stats().waiting == 2; });
    std::thread c1 = client(c, "c1");
    wait_for([&] { return c->stats().waiting == 1; });
    CHECK(budget->snapshot().waiting_pools == 2);

    a->release(std::move(held)); // `a` has nobody waiting: its session goes, its slot to the line
    b1.join();
    b2.join();
    c1.join();
    // b1 got the slot; on its release b still had b2 waiting but c held
    // nothing, so the slot went to c before b2.
    CHECK(served == std::vector<std::string>{"b1", "c1", "b2"});
    const auto snap = budget->snapshot();
    CHECK(snap.open <= 1);
    CHECK(snap.waits == std::vector<std::pair<std::string, uint64_t>>{{"b", 2}, {"c", 1}});
    CHECK(a->stats().idle + b->stats().idle + c->stats().idle == snap.open);
}
