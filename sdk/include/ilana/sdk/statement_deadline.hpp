// ilana/sdk/statement_deadline.hpp — the statement timeout of ABI 1.2
// (ilana_statement.timeout_ms) for a driver whose client library blocks.
//
// A thread blocked in a client library (libpq's PQgetResult, libmariadb's
// reads) wakes up only when the server answers. The server's own timeout
// does not help when the server is frozen or cut off, so the deadline is
// enforced from outside that thread, the way JDBC drivers implement
// setQueryTimeout: one watchdog thread per driver library runs timers, and
// a statement arms two of them:
//   1. at timeout_ms: ask the server to stop the statement (PostgreSQL's
//      cancel request); the statement then fails with the server's error,
//      which StatementDeadline::classify reports as ILANA_ERR_TIMEOUT, and
//      the session stays usable;
//   2. at timeout_ms + grace: the server did not answer: shut the socket
//      down, so the blocked call fails at once; classify reports
//      ILANA_ERR_TIMEOUT with ILANA_ERRF_CONN_BROKEN.
// Only statements with a timeout arm anything (a mutex and a map insert);
// the others pay nothing.
//
// Header-only, depends on the C++17 standard library and driver_support.hpp.
#ifndef ILANA_SDK_STATEMENT_DEADLINE_HPP
#define ILANA_SDK_STATEMENT_DEADLINE_HPP

#include <ilana/sdk/driver_support.hpp>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <thread>

namespace ilana::sdk {

// How long a server may take to stop a statement after its timeout before
// the driver gives up on the session (the bundled drivers' "grace").
constexpr int64_t kStatementTimeoutGraceMs = 1000;

// Timers on one thread, started on the first arm. The thread and the
// object live until the process exits (never destroyed: a detached thread
// may still wait on them while static destructors run).
class Watchdog {
public:
    using Clock = std::chrono::steady_clock;
    using Id = uint64_t;

    static Watchdog &instance() {
        static Watchdog *w = new Watchdog();
        return *w;
    }

    // Runs `fire` on the watchdog's thread at `at`, with the watchdog's lock
    // held: it must be quick, must not block, and must not arm or disarm.
    Id arm(Clock::time_point at, std::function<void()> fire) {
        std::lock_guard<std::mutex> lock(mu_);
        if (!started_) {
            std::thread([this] { run(); }).detach();
            started_ = true;
        }
        const Id id = ++last_id_;
        timers_.emplace(id, Timer{at, std::move(fire)});
        cv_.notify_one();
        return id;
    }

    // After it returns, the timer's `fire` has run or never will.
    void disarm(Id id) noexcept {
        std::lock_guard<std::mutex> lock(mu_);
        timers_.erase(id);
    }

private:
    struct Timer {
        Clock::time_point at;
        std::function<void()> fire;
    };

    Watchdog() = default;

    void run() {
        std::unique_lock<std::mutex> lock(mu_);
        for (;;) {
            // Few timers at a time (one or two per statement in flight): a
            // scan is cheaper than keeping a second index.
            auto next = timers_.end();
            for (auto it = timers_.begin(); it != timers_.end(); ++it)
                if (next == timers_.end() || it->second.at < next->second.at) next = it;
            if (next == timers_.end()) {
                cv_.wait(lock);
            } else if (Clock::now() >= next->second.at) {
                std::function<void()> fire = std::move(next->second.fire);
                timers_.erase(next);
                try {
                    fire();
                } catch (...) { // a timer must never end the watchdog
                }
            } else {
                // A copy: wait_until reads its deadline again after waking,
                // and a disarm while the lock is released frees the timer.
                const Clock::time_point at = next->second.at;
                cv_.wait_until(lock, at);
            }
        }
    }

    std::mutex mu_;
    std::condition_variable cv_;
    std::map<Id, Timer> timers_;
    Id last_id_ = 0;
    bool started_ = false;
};

// The deadline of the statement running on one connection, from execute
// until its last row is read (or its result closed, or execute failed).
class StatementDeadline {
public:
    enum Stage : int { none = 0, timed_out = 1, unanswered = 2 };

    StatementDeadline() = default;
    StatementDeadline(const StatementDeadline &) = delete;
    StatementDeadline &operator=(const StatementDeadline &) = delete;
    ~StatementDeadline() { stop(); }

    // Arms both timers. `ask_server_to_stop` runs at the timeout (may be
    // empty when the server enforces the timeout itself);
    // `cut_connection` at the timeout plus the grace. Both run on the
    // watchdog's thread (see Watchdog::arm for what they may do).
    void start(int64_t timeout_ms, std::function<void()> ask_server_to_stop, std::function<void()> cut_connection) {
        stop();
        timeout_ms_ = timeout_ms;
        stage_.store(none, std::memory_order_relaxed);
        const auto now = Watchdog::Clock::now();
        Watchdog &w = Watchdog::instance();
        soft_ = w.arm(now + std::chrono::milliseconds(timeout_ms), [this, f = std::move(ask_server_to_stop)] {
            stage_.store(timed_out, std::memory_order_release);
            if (f) f();
        });
        hard_ = w.arm(now + std::chrono::milliseconds(timeout_ms + kStatementTimeoutGraceMs),
                      [this, f = std::move(cut_connection)] {
                          stage_.store(unanswered, std::memory_order_release);
                          if (f) f();
                      });
        active_ = true;
    }

    // Disarms the timers (the statement ended); stage() keeps what fired.
    void stop() noexcept {
        if (!active_) return;
        Watchdog &w = Watchdog::instance();
        w.disarm(soft_);
        w.disarm(hard_);
        active_ = false;
    }

    // stop(), and forgets what fired: a statement without a timeout starts.
    void clear() noexcept {
        stop();
        stage_.store(none, std::memory_order_relaxed);
    }

    bool active() const noexcept { return active_; }
    int64_t timeout_ms() const noexcept { return timeout_ms_; }
    Stage stage() const noexcept { return static_cast<Stage>(stage_.load(std::memory_order_acquire)); }

    // What a failure of the timed statement means: unchanged while no timer
    // fired (unless it is the server's own timeout error for an armed
    // deadline, which may beat the timer by a hair); otherwise
    // ILANA_ERR_TIMEOUT naming the timeout (with CONN_BROKEN once the grace
    // passed: the socket was shut down).
    DriverFailure classify(const DriverFailure &f) const {
        const Stage s = stage();
        if (s == none && !(active_ && f.error_class() == ILANA_ERR_TIMEOUT)) return f;
        std::string msg = "statement timeout of " + std::to_string(timeout_ms_) + " ms elapsed";
        uint32_t flags = f.flags();
        if (s == unanswered) {
            msg += " and the server did not stop the statement within " +
                   std::to_string(kStatementTimeoutGraceMs) + " ms more: the connection was cut and is discarded";
            flags |= ILANA_ERRF_CONN_BROKEN;
        }
        return DriverFailure(ILANA_ERR_TIMEOUT, msg + " (" + f.what() + ")", f.sqlstate(), f.native_code(),
                             flags);
    }

private:
    int64_t timeout_ms_ = 0;
    std::atomic<int> stage_{none};
    Watchdog::Id soft_ = 0, hard_ = 0;
    bool active_ = false;
};

} // namespace ilana::sdk

#endif // ILANA_SDK_STATEMENT_DEADLINE_HPP
