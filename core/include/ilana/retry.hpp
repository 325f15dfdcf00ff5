// ilana/retry.hpp — retry with exponential backoff and jitter.
//
//   auto users = ilana::with_retry([&] { return db.on("primary").query("SELECT * FROM users"); },
//                                  {ilana::RetryOptions{5, 200}});
//   ilana::Retrier retrier({ilana::RetryOptions{3}});
//   auto data = retrier([&] { return fetch_data(); });
//   ilana::with_retry(custom_operation, {ilana::RetryOptions{3},
//       /*is_retryable*/ [](const std::exception &e) { return is_custom(e); }});
//
// The delay before attempt n+1 is min(maxDelayMs, initialDelayMs *
// backoffMultiplier^(n-1)); with jitter, a uniformly random value between half
// of it and all of it. Default options: 3 attempts (the seed's default),
// 100 ms, doubling, at most 5 s. By default only ilana::Error with
// is_transient() (connection, transient, timeout classes) is retried, and
// never one whose outcome_unknown() (a write sent before the connection was
// lost: running it again could apply it twice): syntax, auth, permission,
// constraint errors fail at once.
//
// Thread safety: with_retry and a const Retrier may be used from many
// threads at once. The callable runs on the calling thread; the wait is a
// sleep on that thread.
#pragma once

#include <ilana/config.hpp>
#include <ilana/error.hpp>

#include <chrono>
#include <exception>
#include <optional>
#include <functional>
#include <type_traits>
#include <utility>

namespace ilana {

struct RetrySettings {
    RetryOptions options;
    // Which failures to retry; default: ilana::Error::is_transient() and not
    // outcome_unknown().
    std::function<bool(const std::exception &)> is_retryable;
    // Called before each wait: attempt about to run (2, 3, ...), the error, the delay.
    std::function<void(int attempt, const std::exception &error, std::chrono::milliseconds delay)> on_retry;
};

// The delay before attempt `next_attempt` (2 for the first retry).
// `random01` is in [0, 1) and only used with jitter.
std::chrono::milliseconds backoff_delay(const RetryOptions &options, int next_attempt, double random01) noexcept;

namespace detail {
// Runs `attempt` until it succeeds, the error is not retryable, or the
// attempts are used up (then rethrows the last error).
void retry_loop(const RetrySettings &settings, const std::function<void()> &attempt);
} // namespace detail

template <class Fn> auto with_retry(Fn &&fn, const RetrySettings &settings = {}) {
    using R = std::invoke_result_t<Fn &>;
    if constexpr (std::is_void_v<R>) {
        detail::retry_loop(settings, [&] { fn(); });
    } else {
        std::optional<R> out;
        detail::retry_loop(settings, [&] { out.emplace(fn()); });
        return std::move(*out);
    }
}

class Retrier {
public:
    explicit Retrier(RetrySettings settings) : settings_(std::move(settings)) {}
    template <class Fn> auto operator()(Fn &&fn) const { return with_retry(std::forward<Fn>(fn), settings_); }
    const RetrySettings &settings() const noexcept { return settings_; }

private:
    RetrySettings settings_;
};

} // namespace ilana
