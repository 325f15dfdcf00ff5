// StatementClock, the clock statements are timed with (the time-stamp
// counter where the kernel trusts it, else steady_clock): its durations must
// agree with steady_clock's, from the first query on (provisional rate) and
// after the rate is fixed (50 ms after the first use).
#include <catch2/catch.hpp>

#include "instruments/statement_clock.hpp"

#include <chrono>
#include <thread>

using ilana::detail::StatementClock;
using namespace std::chrono_literals;

namespace {
// The clock's and steady_clock's measure of one sleep of `d`.
std::pair<std::chrono::microseconds, std::chrono::microseconds> measure(std::chrono::microseconds d) {
    const auto s0 = std::chrono::steady_clock::now();
    const StatementClock::Ticks t0 = StatementClock::now();
    std::this_thread::sleep_for(d);
    const StatementClock::Ticks t1 = StatementClock::now();
    const auto s1 = std::chrono::steady_clock::now();
    return {StatementClock::between(t0, t1), std::chrono::duration_cast<std::chrono::microseconds>(s1 - s0)};
}
} // namespace

TEST_CASE("statement clock: durations agree with steady_clock", "[clock]") {
    INFO("uses the time-stamp counter: " << StatementClock::uses_tsc());
    // The first measurements run on the provisional rate, later ones on the
    // fixed one (more than 50 ms after the first use).
    for (auto d : {2000us, 20000us, 60000us, 5000us, 1000us}) {
        const auto [clock, steady] = measure(d);
        INFO("slept " << d.count() << " us: clock " << clock.count() << " us, steady_clock " << steady.count()
                      << " us");
        CHECK(clock.count() >= d.count() * 95 / 100);
        // The clock's reads sit inside steady_clock's: never much longer.
        CHECK(clock.count() <= steady.count() + steady.count() / 50 + 20);
    }
}

TEST_CASE("statement clock: an interval that runs backwards is zero", "[clock]") {
    const StatementClock::Ticks t = StatementClock::now();
    CHECK(StatementClock::between(t, t).count() == 0);
    CHECK(StatementClock::between(t + 1000000, t).count() == 0);
    CHECK(StatementClock::between(t, StatementClock::now() + 1).count() >= 0);
}
