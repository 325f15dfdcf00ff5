// runtime.cpp — per-thread init, non-blocking I/O waits.
#include "runtime.hpp"

#include <cerrno>
#include <poll.h>
#include <sys/socket.h>

namespace ilana::drivers::mysql {

namespace {
struct ThreadInit {
    ThreadInit() { mysql_thread_init(); }
    ~ThreadInit() { mysql_thread_end(); }
};
} // namespace

void ensure_thread() {
    thread_local ThreadInit guard;
    (void)guard;
}

int Deadline::remaining_ms() const {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(at_ - std::chrono::steady_clock::now());
    if (left.count() <= 0) return 0;
    // Round a sub-millisecond remainder up so poll() does not spin.
    return static_cast<int>(left.count()) + 1;
}

namespace detail {

int wait_events(MYSQL *m, int status, const Deadline &deadline) {
    for (;;) {
        int timeout = deadline.remaining_ms();
        if (timeout == 0) return -1;
        bool lib_timeout = false;
        if (status & MYSQL_WAIT_TIMEOUT) {
            int lib = static_cast<int>(mysql_get_timeout_value_ms(m));
            if (lib < timeout) {
                timeout = lib;
                lib_timeout = true;
            }
        }
        pollfd p{};
        p.fd = mysql_get_socket(m);
        if (status & MYSQL_WAIT_READ) p.events |= POLLIN;
        if (status & MYSQL_WAIT_WRITE) p.events |= POLLOUT;
        if (status & MYSQL_WAIT_EXCEPT) p.events |= POLLPRI;
        int r = ::poll(&p, p.fd >= 0 ? 1 : 0, timeout);
        if (r < 0) {
            if (errno == EINTR) continue;
            // Let the library see the failure on its next I/O.
            return status & (MYSQL_WAIT_READ | MYSQL_WAIT_WRITE);
        }
        if (r == 0) {
            if (lib_timeout) return MYSQL_WAIT_TIMEOUT;
            if (deadline.expired()) return -1;
            continue;
        }
        int ready = 0;
        if (p.revents & POLLIN) ready |= MYSQL_WAIT_READ;
        if (p.revents & POLLOUT) ready |= MYSQL_WAIT_WRITE;
        if (p.revents & POLLPRI) ready |= MYSQL_WAIT_EXCEPT;
        if (p.revents & (POLLERR | POLLHUP | POLLNVAL))
            ready |= status & (MYSQL_WAIT_READ | MYSQL_WAIT_WRITE);
        return ready;
    }
}

void abort_socket(MYSQL *m) {
    int fd = mysql_get_socket(m);
    if (fd >= 0) ::shutdown(fd, SHUT_RDWR);
}

} // namespace detail
} // namespace ilana::drivers::mysql
