#include "instruments/statement_clock.hpp"

#include <atomic>
#include <fstream>
#include <string>

namespace ilana::detail {
#if ILANA_STATEMENT_CLOCK_TSC
namespace {

// Where the rate is measured from: a (counter, steady_clock) pair taken when
// the clock decided to use the counter, i.e. at the first now(). Written
// once inside uses_tsc()'s static initialization, which every reader passed.
uint64_t g_origin_ticks = 0;
std::chrono::steady_clock::time_point g_origin_steady;

// Microseconds per tick as a 32.32 fixed-point number once fixed; 0 while
// still provisional. Integer arithmetic: a double multiply and division per
// statement showed in the profile of a sub-microsecond query.
std::atomic<uint64_t> g_fixed_mult{0};

constexpr auto kFixAfter = std::chrono::milliseconds(50);

uint64_t tsc_mult() noexcept {
    const uint64_t fixed = g_fixed_mult.load(std::memory_order_relaxed);
    if (fixed != 0) return fixed;
    const uint64_t ticks = StatementClock::now();
    const auto elapsed = std::chrono::steady_clock::now() - g_origin_steady;
    if (ticks <= g_origin_ticks) return 0; // not a tick yet: no rate to give
    const double micros = static_cast<double>(std::chrono::duration_cast<std::chrono::nanoseconds>(elapsed).count()) / 1e3;
    const double per_tick = micros / static_cast<double>(ticks - g_origin_ticks);
    const auto mult = static_cast<uint64_t>(per_tick * 4294967296.0);
    if (elapsed >= kFixAfter && mult != 0) g_fixed_mult.store(mult, std::memory_order_relaxed);
    return mult;
}

} // namespace
#endif

bool StatementClock::decide_tsc() noexcept {
#if ILANA_STATEMENT_CLOCK_TSC
    std::ifstream in("/sys/devices/system/clocksource/clocksource0/current_clocksource");
    std::string source;
    if (!in || !(in >> source) || source != "tsc") return false;
    g_origin_ticks = __rdtsc();
    g_origin_steady = std::chrono::steady_clock::now();
    return true;
#else
    return false;
#endif
}

std::chrono::microseconds StatementClock::between(Ticks from, Ticks to) noexcept {
    if (to <= from) return std::chrono::microseconds(0);
#if ILANA_STATEMENT_CLOCK_TSC
    if (uses_tsc()) {
        const auto micros = (static_cast<unsigned __int128>(to - from) * tsc_mult()) >> 32;
        return std::chrono::microseconds(static_cast<int64_t>(micros));
    }
#endif
    return std::chrono::microseconds(static_cast<int64_t>((to - from) / 1000)); // steady_clock nanoseconds
}

} // namespace ilana::detail
