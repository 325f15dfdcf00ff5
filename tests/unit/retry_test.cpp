// with_retry and Retrier without a server: the default options (the seed's
// 3 attempts), which errors are retried, and the hooks.
#include <catch2/catch.hpp>

#include <ilana/retry.hpp>

#include <chrono>
#include <stdexcept>

using namespace ilana;

namespace {
// Fails `failures` times with `error`, then returns 42.
struct Flaky {
    int failures;
    Error error;
    int calls = 0;
    int operator()() {
        if (++calls <= failures) throw error;
        return 42;
    }
};
Error lost_connection() { return Error("[db] query failed: server closed the connection", ErrorClass::connection, "db"); }
} // namespace

TEST_CASE("with_retry with default options makes the seed's 3 attempts", "[retry]") {
    CHECK(RetryOptions{}.max_attempts == 3);
    Flaky twice{2, lost_connection()};
    CHECK(with_retry([&] { return twice(); }) == 42);
    CHECK(twice.calls == 3);

    Flaky thrice{3, lost_connection()};
    CHECK_THROWS_AS(with_retry([&] { return thrice(); }), Error);
    CHECK(thrice.calls == 3);
}

TEST_CASE("with_retry retries transient errors only, never a write whose outcome is unknown", "[retry]") {
    RetrySettings fast{RetryOptions{5, 1, 1}, {}, {}};
    Flaky syntax{1, Error("[db] query failed: syntax error", ErrorClass::syntax, "db")};
    CHECK_THROWS_AS(with_retry([&] { return syntax(); }, fast), Error);
    CHECK(syntax.calls == 1);

    Error unknown = lost_connection();
    unknown.set_outcome_unknown();
    Flaky write{1, unknown};
    CHECK_THROWS_AS(with_retry([&] { return write(); }, fast), Error);
    CHECK(write.calls == 1);

    Flaky busy{2, Error("[db] query failed: deadlock detected", ErrorClass::transient, "db")};
    CHECK(with_retry([&] { return busy(); }, fast) == 42);
    CHECK(busy.calls == 3);

    int plain = 0; // not an ilana::Error: not retried by default
    CHECK_THROWS_AS(with_retry([&] { ++plain; throw std::runtime_error("x"); }, fast), std::runtime_error);
    CHECK(plain == 1);
}

TEST_CASE("Retrier: its own settings, a custom is_retryable and on_retry", "[retry]") {
    std::vector<int> attempts;
    std::vector<int64_t> delays;
    Retrier retrier({RetryOptions{4, 10, 1000, 2.0, false},
                     [](const std::exception &e) { return std::string(e.what()) == "CUSTOM_ERROR"; },
                     [&](int attempt, const std::exception &, std::chrono::milliseconds d) {
                         attempts.push_back(attempt);
                         delays.push_back(d.count());
                     }});
    int calls = 0;
    CHECK(retrier([&] {
              if (++calls < 4) throw std::runtime_error("CUSTOM_ERROR");
              return calls;
          }) == 4);
    CHECK(attempts == std::vector<int>{2, 3, 4});
    CHECK(delays == std::vector<int64_t>{10, 20, 40});
    // The custom predicate replaces the default: a lost connection is not retried.
    calls = 0;
    CHECK_THROWS_AS(retrier([&] {
                        ++calls;
                        throw lost_connection();
                    }),
                    Error);
    CHECK(calls == 1);
}
