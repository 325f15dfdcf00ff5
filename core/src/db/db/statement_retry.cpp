#include "db/statement_retry.hpp"
#include "log/call_hook.hpp"
#include "log/log_events.hpp"

#include <ilana/logging.hpp>

#include <spdlog/spdlog.h>

#include <cctype>
#include <cstring>
#include <random>
#include <string>

namespace ilana::detail {

namespace {
thread_local std::mt19937_64 t_retry_rng{std::random_device{}()};
} // namespace


bool safe_to_retry(const Error &e, std::string_view sql) {
    if (dynamic_cast<const PoolTimeout *>(&e) != nullptr) return false;
    if (e.outcome_unknown()) return false;
    if (e.error_class() == ErrorClass::transient) return true;
    if (e.error_class() == ErrorClass::connection) return e.not_sent() || is_read_only(sql);
    return false;
}

std::chrono::milliseconds announce_retry(ConnectionState &cs, const RetryOptions &r, int next_attempt,
                                         const Error &e) noexcept {
    const auto delay = backoff_delay(r, next_attempt, std::uniform_real_distribution<double>(0, 1)(t_retry_rng));
    cs.metrics.record_retry();
    log_connection_retry(cs.name, next_attempt, r.max_attempts, delay.count(), e.what());
    if (cs.hooks) call_hook(cs.hooks->on_retry, "onRetry", cs.name, next_attempt, e, delay);
    return delay;
}

} // namespace ilana::detail
