#include "observe/statement_clock.hpp"

#include <atomic>
#include <fstream>
#include <string>

namespace ilana::detail {
namespace {

// Where the rate is measured from: a (counter, steady_clock) pair taken when
// the clock decided to use the counter, i.e. at the first now(). Written
// once inside uses_tsc()'s static initialization, which every reader passed.
uint64_t g_origin_ticks = 0;
std::chrono::steady_clock::time_point g_origin_steady;

// Nanoseconds per tick once fixed; 0 while still provisional.
std::atomic<double> g_fixed_rate{0};

constexpr auto kFixAfter = std::chrono::milliseconds(50);

double tsc_rate() noexcept {
    const double fixed = g_fixed_rate.load(std::memory_order_relaxed);
    if (fixed != 0) return fixed;
    const uint64_t ticks = StatementClock::now();
    const auto elapsed = std::chrono::steady_clock::now() - g_origin_steady;
    if (ticks <= g_origin_ticks) return 0; // not a tick yet: no rate to give
    const double rate = static_cast<double>(std::chrono::duration_cast<std::chrono::nanoseconds>(elapsed).count()) /
                        static_cast<double>(ticks - g_origin_ticks);
    if (elapsed >= kFixAfter) g_fixed_rate.store(rate, std::memory_order_relaxed);
    return rate;
}

} // namespace

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
    if (!uses_tsc()) return std::chrono::microseconds(static_cast<int64_t>((to - from) / 1000));
    const double ns = static_cast<double>(to - from) * tsc_rate();
    return std::chrono::microseconds(static_cast<int64_t>(ns / 1000));
}

} // namespace ilana::detail
