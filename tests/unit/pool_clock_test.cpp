// Pool with an injected clock: the timing behaviour (idle reaping and min,
// lifetime, the pause after a failed create, acquire timeouts) carried out
// by the real Pool, with time moved by hand instead of slept. Sessions come
// from a real plugin loaded through the registry (tests/plugins/
// fixture_driver.c, case `connects`: connects to nothing, closes at once);
// a down server is a connect function that throws what a driver would.
#include <catch2/catch.hpp>

#include "plugins/native_connection.hpp"
#include "pool/pool.hpp"

#include <ilana/driver_registry.hpp>
#include <ilana/error.hpp>

#include <atomic>
#include <thread>
#include <string>
#include <vector>

using namespace ilana;
using namespace ilana::detail;
using namespace std::chrono_literals;

namespace {
// Time stands still until the test (or the pool's sleep_until) moves it.
class FakeClock : public PoolClock {
public:
    Clock::time_point now() const noexcept override { return Clock::time_point(Clock::duration(ns_.load())); }
    void sleep_until(Clock::time_point t) const override {
        if (t > now()) ns_.store(t.time_since_epoch().count());
    }
    void advance(Clock::duration d) { ns_.fetch_add(d.count()); }

private:
    mutable std::atomic<Clock::rep> ns_{std::chrono::duration_cast<Clock::duration>(1000h).count()};
};

struct Fixture {
    DriverRegistry registry;
    std::shared_ptr<const ConnectTarget> target;
    FakeClock clock;
    bool server_down = false;
    std::vector<Clock::time_point> connects; // when each connect was tried, by the fake clock

    Fixture() {
        registry.load_directory(std::string(ILANA_FIXTURE_PLUGIN_DIR) + "/connects");
        REQUIRE(registry.find("fixture") != nullptr);
        auto t = std::make_shared<ConnectTarget>();
        t->name = "fake";
        t->driver = registry.find("fixture");
        t->redact = [](std::string s) { return s; };
        target = t;
    }

    std::shared_ptr<Pool> pool(PoolOptions o) {
        RetryOptions retry;
        retry.max_attempts = 1;
        return std::make_shared<Pool>(
            "fake", o, retry,
            [this](int32_t timeout_ms) {
                connects.push_back(clock.now());
                if (server_down) throw Error("[fake] connection refused", ErrorClass::connection, "fake");
                return NativeConnection::open(target, timeout_ms);
            },
            nullptr, nullptr, &clock);
    }
};

PoolOptions options(int min, int max) {
    PoolOptions o;
    o.min = min;
    o.max = max;
    o.idle_timeout_ms = 0;
    o.max_lifetime_ms = 0;
    o.create_retry_interval_ms = 0;
    o.destroy_timeout_ms = 0; // closes at once anyway; no thread per close
    return o;
}
} // namespace

TEST_CASE("pool, fake clock: idle sessions above min are reaped after idleTimeoutMillis, min is refilled",
          "[pool][clock]") {
    Fixture f;
    auto o = options(1, 3);
    o.idle_timeout_ms = 1000;
    auto pool = f.pool(o);
    {
        auto a = pool->acquire(), b = pool->acquire(), c = pool->acquire();
        pool->release(std::move(a));
        pool->release(std::move(b));
        pool->release(std::move(c));
    }
    CHECK(pool->stats().idle == 3);
    f.clock.advance(999ms);
    pool->maintain(f.clock.now());
    CHECK(pool->stats().idle == 3);
    f.clock.advance(1ms);
    pool->maintain(f.clock.now());
    auto s = pool->stats();
    CHECK(s.idle == 1); // min kept however long it idles
    CHECK(s.evicted_idle == 2);
    CHECK(s.destroyed == 2);
    f.clock.advance(1h);
    pool->maintain(f.clock.now());
    CHECK(pool->stats().idle == 1);

    // The last one goes (a lifetime would do it too): maintenance opens one for min.
    {
        auto a = pool->acquire();
        pool->release(std::move(a), /*reusable=*/false);
    }
    CHECK(pool->stats().idle == 0);
    pool->maintain(f.clock.now());
    s = pool->stats();
    CHECK(s.idle == 1);
    CHECK(s.created == 4);
    CHECK(s.evicted_broken == 1);
}

TEST_CASE("pool, fake clock: maxLifetimeMillis retires a session on release and when idle", "[pool][clock]") {
    Fixture f;
    auto o = options(0, 2);
    o.max_lifetime_ms = 1000;
    auto pool = f.pool(o);
    auto a = pool->acquire();
    auto b = pool->acquire();
    pool->release(std::move(b)); // idle, opened at t0
    f.clock.advance(899ms);      // jitter takes at most 10% off the lifetime
    pool->maintain(f.clock.now());
    CHECK(pool->stats().idle == 1);
    f.clock.advance(101ms);
    pool->release(std::move(a)); // past its lifetime: not lent again
    auto s = pool->stats();
    CHECK(s.evicted_lifetime == 1);
    CHECK(s.idle == 1);
    pool->maintain(f.clock.now());
    s = pool->stats();
    CHECK(s.evicted_lifetime == 2);
    CHECK(s.idle == 0);
}

TEST_CASE("pool, fake clock: after a failed create the next starts createRetryIntervalMillis later",
          "[pool][clock]") {
    Fixture f;
    auto o = options(0, 2);
    o.create_retry_interval_ms = 500;
    o.acquire_timeout_ms = 2000;
    auto pool = f.pool(o);
    f.server_down = true;
    const auto t0 = f.clock.now();
    CHECK_THROWS_WITH(pool->acquire(), Catch::Contains("connection refused"));
    f.clock.advance(100ms);
    f.server_down = false;
    auto pc = pool->acquire(); // waits out the pause: by the fake clock, not the wall
    REQUIRE(f.connects.size() == 2);
    CHECK(f.connects[0] == t0);
    CHECK(f.connects[1] == t0 + 500ms);
    // Success ends the pauses.
    auto pc2 = pool->acquire();
    CHECK(f.connects.back() == t0 + 500ms);
    pool->release(std::move(pc));
    pool->release(std::move(pc2));

    SECTION("a caller whose deadline comes before the pause ends times out at its deadline") {
        auto o2 = o;
        o2.acquire_timeout_ms = 300;
        auto p2 = f.pool(o2);
        f.server_down = true;
        const auto t1 = f.clock.now();
        CHECK_THROWS_AS(p2->acquire(), Error);
        f.clock.advance(100ms);
        try {
            (void)p2->acquire();
            FAIL("acquire succeeded");
        } catch (const PoolTimeout &e) {
            // The failure came before this caller: not named as the cause
            // (only a create failing while a caller waits is).
            CHECK_THAT(e.what(), Catch::Contains("acquireTimeoutMillis=300"));
        }
        CHECK(f.clock.now() == t1 + 400ms); // slept to its deadline, no further
        CHECK(f.connects.back() == t1);     // and never tried to connect
        CHECK(p2->stats().timeouts == 1);
        CHECK(p2->stats().pending == 0);
    }
}

TEST_CASE("pool, fake clock: an exhausted pool times out after acquireTimeoutMillis", "[pool][clock]") {
    Fixture f;
    auto pool = f.pool(options(0, 1));
    auto held = pool->acquire();
    try {
        (void)pool->acquire(0ms); // the deadline is now: no wait
        FAIL("acquire succeeded");
    } catch (const PoolTimeout &e) {
        CHECK_THAT(e.what(), Catch::Contains("connection pool exhausted"));
        CHECK_THAT(e.what(), Catch::Contains("in use=1"));
    }
    auto s = pool->stats();
    CHECK(s.timeouts == 1);
    CHECK(s.waiting == 0);
    pool->release(std::move(held));
    auto again = pool->acquire(0ms); // the session is idle again
    CHECK(again != nullptr);
    pool->release(std::move(again));
}

// A reload that changes only pool.min / pool.max resizes the running pool
// (Pool::resize): sessions are kept, idle ones above a smaller max close at
// once, leased ones above it when they come back, a larger max lets a waiter
// open one right away, and maintenance refills to the new min.
TEST_CASE("pool, fake clock: resize in place keeps sessions, shrinks idle and returning ones, grows for waiters",
          "[pool][clock][reload]") {
    Fixture f;
    auto pool = f.pool(options(0, 4));
    std::vector<std::unique_ptr<PooledConnection>> held;
    for (int i = 0; i < 4; ++i) held.push_back(pool->acquire());
    REQUIRE(f.connects.size() == 4);
    // Two go back idle; then max 4 -> 2: the pool holds 4 (2 idle, 2 out).
    pool->release(std::move(held[3]));
    pool->release(std::move(held[2]));
    held.resize(2);
    pool->maintain(f.clock.now()); // parked sessions become idle ones
    REQUIRE(pool->stats().idle == 2);

    pool->resize(0, 2);
    auto s = pool->stats();
    CHECK(s.max == 2);
    CHECK(s.idle == 0);   // the two idle ones closed now
    CHECK(s.in_use == 2); // the leased ones are not taken from their callers
    CHECK(s.destroyed == 2);

    // max 2 -> 1: one lease above it closes when it comes back (a release
    // on the lock-free path parks it; the next maintenance pass, or the next
    // acquire that unparks, closes it), the other is kept.
    pool->resize(0, 1);
    pool->release(std::move(held[1]));
    pool->maintain(f.clock.now());
    s = pool->stats();
    CHECK(s.destroyed == 3);
    CHECK(s.idle + s.in_use == 1);
    pool->release(std::move(held[0]));
    pool->maintain(f.clock.now());
    s = pool->stats();
    CHECK(s.idle == 1);
    CHECK(s.destroyed == 3);
    const size_t connects_before = f.connects.size();

    // Full at max 1: a waiter gets room the moment max grows, not at the
    // next release.
    auto only = pool->acquire();
    std::atomic<bool> got{false};
    std::thread waiter([&] {
        auto pc = pool->acquire(5000ms);
        got = pc != nullptr;
        pool->release(std::move(pc));
    });
    while (pool->stats().waiting == 0) std::this_thread::yield();
    pool->resize(0, 2);
    waiter.join();
    CHECK(got);
    CHECK(f.connects.size() == connects_before + 1);
    pool->release(std::move(only));

    // min grows: maintenance opens up to it; sessions opened before are kept.
    pool->resize(3, 3);
    pool->maintain(f.clock.now());
    s = pool->stats();
    CHECK(s.min == 3);
    CHECK(s.idle == 3);
    CHECK(f.connects.size() == connects_before + 2);
}
