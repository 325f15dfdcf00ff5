// runtime.hpp — process-wide state of the driver: per-thread libmariadb
// initialisation, and the non-blocking I/O helper.
#pragma once

#include <ilana/sdk/driver_support.hpp>

#include <mysql.h>

#include <chrono>
#include <string_view>

namespace ilana::drivers::mysql {

// Connections move between threads, so every entry point that touches
// libmariadb calls this first: mysql_thread_init() runs once per thread
// (thread_local guard) and mysql_thread_end() when the thread exits.
// libmariadb keeps no per-thread state today, but the client API asks for it
// and libmysqlclient-compatible builds need it.
void ensure_thread();

class Deadline {
public:
    explicit Deadline(int timeout_ms)
        : at_(std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms)) {}
    // Milliseconds left, 0 when passed.
    int remaining_ms() const;
    bool expired() const { return remaining_ms() == 0; }

private:
    std::chrono::steady_clock::time_point at_;
};

// Drives one call of libmariadb's non-blocking API (mysql_*_start/_cont) to
// completion, polling the connection's socket, and never past `deadline`.
// Finished: the call ended by itself (its own result says whether it
// succeeded). TimedOut: the deadline passed; the socket was shut down and the
// call driven to its (failed) end, so the handle is fit only for
// mysql_close(). Stuck: the call would not end even then; the handle must be
// abandoned (never closed), which costs a leak but not a crash. Used for connect and ping, where the ABI
// promises a bound even against a server that accepts TCP and never answers;
// statements use blocking calls bounded by readTimeout/writeTimeout.
enum class IoOutcome { Finished, TimedOut, Stuck };
template <class Start, class Cont>
IoOutcome run_nonblocking(MYSQL *m, const Deadline &deadline, Start &&start, Cont &&cont);

namespace detail {
// Waits for the events in `status` (MYSQL_WAIT_*); returns the events that
// happened, or -1 when the deadline passed first.
int wait_events(MYSQL *m, int status, const Deadline &deadline);
// Shuts the socket down so the suspended call fails on its next I/O.
void abort_socket(MYSQL *m);
} // namespace detail

template <class Start, class Cont>
IoOutcome run_nonblocking(MYSQL *m, const Deadline &deadline, Start &&start, Cont &&cont) {
    int status = start();
    bool timed_out = false;
    // After an abort the call fails within a step or two (a suspended read
    // or connect treats MYSQL_WAIT_TIMEOUT as failure; the socket is shut
    // down); the cap only guards against a library that keeps waiting.
    int after_abort = 0;
    while (status != 0) {
        int ready = timed_out ? -1 : detail::wait_events(m, status, deadline);
        if (ready < 0) {
            if (!timed_out) detail::abort_socket(m);
            timed_out = true;
            if (++after_abort > 64) return IoOutcome::Stuck;
            ready = status | MYSQL_WAIT_TIMEOUT;
        }
        status = cont(ready);
    }
    return timed_out ? IoOutcome::TimedOut : IoOutcome::Finished;
}

} // namespace ilana::drivers::mysql
