// The clock that times statements: two reads per query, so its cost shows
// on sub-microsecond work (an SQLite point select). steady_clock::now() goes
// through the vDSO and costs ~23 ns per read on the benchmark VM; the CPU's
// time-stamp counter read directly costs ~10 ns.
//
// The counter is used only where the kernel itself trusts it: x86-64 with
// the current clocksource "tsc" (the kernel switches away from a counter it
// finds unsynchronized between CPUs or not constant-rate). Everywhere else
// ticks are steady_clock nanoseconds. Ticks become microseconds with a rate
// measured against steady_clock from the first use on: provisional from
// the interval elapsed so far until that interval reaches 50 ms, then fixed.
// A duration is exact to well under 1% once the rate is fixed, which is far
// finer than the latency histogram's buckets.
#pragma once

#include <chrono>
#include <cstdint>

#if defined(__x86_64__) || defined(_M_X64)
#include <x86intrin.h>
#define ILANA_STATEMENT_CLOCK_TSC 1
#else
#define ILANA_STATEMENT_CLOCK_TSC 0
#endif

namespace ilana::detail {

class StatementClock {
public:
    using Ticks = uint64_t;

    // An opaque timestamp; only differences of two mean anything.
    static Ticks now() noexcept {
#if ILANA_STATEMENT_CLOCK_TSC
        if (uses_tsc()) return __rdtsc();
#endif
        return steady_nanos();
    }
    // The time from `from` to `to` (both from now()); zero if `to` is
    // earlier (a thread moved between CPUs whose counters differ slightly).
    static std::chrono::microseconds between(Ticks from, Ticks to) noexcept;

    // True when now() reads the time-stamp counter (decided once).
    static bool uses_tsc() noexcept {
        static const bool use = decide_tsc();
        return use;
    }

private:
    static bool decide_tsc() noexcept;
    static Ticks steady_nanos() noexcept {
        return static_cast<Ticks>(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                      std::chrono::steady_clock::now().time_since_epoch())
                                      .count());
    }
};

} // namespace ilana::detail
