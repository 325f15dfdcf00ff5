#include <ilana/logging.hpp>
#include <ilana/retry.hpp>

#include "log/log_events.hpp"

#include <algorithm>
#include <cmath>
#include <random>
#include <thread>

namespace ilana {

std::chrono::milliseconds backoff_delay(const RetryOptions &o, int next_attempt, double random01) noexcept {
    const int n = std::max(1, next_attempt - 1); // retries so far, counting this one
    double base = static_cast<double>(o.initial_delay_ms) * std::pow(o.backoff_multiplier, n - 1);
    base = std::min(base, static_cast<double>(o.max_delay_ms));
    if (base < 0) base = 0;
    if (o.jitter) base = base / 2 + base / 2 * std::clamp(random01, 0.0, 1.0);
    return std::chrono::milliseconds(static_cast<int64_t>(base));
}

namespace detail {

void retry_loop(const RetrySettings &s, const std::function<void()> &attempt) {
    thread_local std::mt19937_64 rng{std::random_device{}()};
    std::uniform_real_distribution<double> uniform(0.0, 1.0);
    const int attempts = std::max(1, s.options.max_attempts);
    for (int n = 1;; ++n) {
        try {
            attempt();
            return;
        } catch (const std::exception &e) {
            bool retryable;
            if (s.is_retryable) {
                retryable = s.is_retryable(e);
            } else {
                auto *ie = dynamic_cast<const Error *>(&e);
                retryable = ie != nullptr && ie->is_transient() && !ie->outcome_unknown();
            }
            if (!retryable || n >= attempts) throw;
            auto delay = backoff_delay(s.options, n + 1, uniform(rng));
            detail::log_connection_retry({}, n + 1, attempts, delay.count(), e.what(), LogLevel::debug);
            if (s.on_retry) s.on_retry(n + 1, e, delay);
            std::this_thread::sleep_for(delay);
        }
    }
}

} // namespace detail
} // namespace ilana
