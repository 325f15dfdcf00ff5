#include "credentials/child_process.hpp"

#include <cerrno>
#include <csignal>
#include <fcntl.h>
#include <poll.h>
#include <spawn.h>
#include <sys/wait.h>
#include <system_error>
#include <thread>
#include <unistd.h>

extern char **environ;

namespace ilana::detail {

namespace {

using Clock = std::chrono::steady_clock;

struct Fd {
    int fd = -1;
    ~Fd() { reset(); }
    void reset() noexcept {
        if (fd >= 0) ::close(fd);
        fd = -1;
    }
};

struct SpawnSetup {
    posix_spawn_file_actions_t actions;
    posix_spawnattr_t attr;
    SpawnSetup() {
        posix_spawn_file_actions_init(&actions);
        posix_spawnattr_init(&attr);
    }
    ~SpawnSetup() {
        posix_spawn_file_actions_destroy(&actions);
        posix_spawnattr_destroy(&attr);
    }
};

void make_pipe(Fd &read_end, Fd &write_end) {
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) != 0) throw std::system_error(errno, std::generic_category(), "pipe");
    read_end.fd = fds[0];
    write_end.fd = fds[1];
}

// Reads what is there into `into` (up to `max`, the rest dropped); false at EOF.
bool drain(int fd, std::string &into, std::size_t max) {
    char buf[4096];
    for (;;) {
        const ssize_t n = ::read(fd, buf, sizeof buf);
        if (n > 0) {
            if (into.size() < max) into.append(buf, std::min<std::size_t>(static_cast<std::size_t>(n), max - into.size()));
            continue;
        }
        if (n == 0) return false;
        if (errno == EINTR) continue;
        return errno == EAGAIN || errno == EWOULDBLOCK; // else an error: treat as closed
    }
}

void record_status(int status, ChildOutcome &outcome) {
    if (WIFEXITED(status)) outcome.exit_status = WEXITSTATUS(status);
    else if (WIFSIGNALED(status)) outcome.signal = WTERMSIG(status);
}

} // namespace

ChildOutcome run_child(const std::vector<std::string> &argv, std::chrono::milliseconds timeout,
                       std::size_t max_output) {
    if (argv.empty()) throw std::system_error(EINVAL, std::generic_category(), "empty command");
    Fd out_read, out_write, err_read, err_write;
    make_pipe(out_read, out_write);
    make_pipe(err_read, err_write);

    SpawnSetup setup;
    posix_spawn_file_actions_addopen(&setup.actions, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_adddup2(&setup.actions, out_write.fd, 1);
    posix_spawn_file_actions_adddup2(&setup.actions, err_write.fd, 2);
    // A group of its own: the kill at the deadline reaches what it started.
    // Default dispositions and an empty mask: a host that ignores SIGPIPE
    // (ignored signals survive exec) must not pass that on.
    sigset_t all, none;
    sigfillset(&all);
    sigemptyset(&none);
    posix_spawnattr_setpgroup(&setup.attr, 0);
    posix_spawnattr_setsigdefault(&setup.attr, &all);
    posix_spawnattr_setsigmask(&setup.attr, &none);
    posix_spawnattr_setflags(&setup.attr, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK);

    std::vector<char *> args;
    args.reserve(argv.size() + 1);
    for (const auto &a : argv) args.push_back(const_cast<char *>(a.c_str()));
    args.push_back(nullptr);
    pid_t pid = -1;
    const int rc = ::posix_spawnp(&pid, args[0], &setup.actions, &setup.attr, args.data(), environ);
    if (rc != 0) throw std::system_error(rc, std::generic_category(), "spawn");
    out_write.reset();
    err_write.reset();
    ::fcntl(out_read.fd, F_SETFL, O_NONBLOCK);
    ::fcntl(err_read.fd, F_SETFL, O_NONBLOCK);

    ChildOutcome outcome;
    const auto deadline = Clock::now() + timeout;
    auto remaining_ms = [&] {
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
        return left < 0 ? 0 : static_cast<int>(std::min<long long>(left, 1 << 30));
    };
    bool reaped = false;
    while (out_read.fd >= 0 || err_read.fd >= 0) {
        pollfd fds[2];
        nfds_t n = 0;
        if (out_read.fd >= 0) fds[n++] = {out_read.fd, POLLIN, 0};
        if (err_read.fd >= 0) fds[n++] = {err_read.fd, POLLIN, 0};
        const int left = remaining_ms();
        if (left == 0) {
            outcome.timed_out = true;
            break;
        }
        const int ready = ::poll(fds, n, left);
        if (ready < 0 && errno != EINTR) break;
        for (nfds_t i = 0; i < n && ready > 0; ++i) {
            if (fds[i].revents == 0) continue;
            Fd &fd = fds[i].fd == out_read.fd ? out_read : err_read;
            if (!drain(fd.fd, fd.fd == out_read.fd ? outcome.out : outcome.err, max_output)) fd.reset();
        }
    }
    // Both pipes closed (or the deadline): wait for the exit, polling so
    // that a child which closed its output and stays is still bounded.
    while (!outcome.timed_out) {
        int status = 0;
        const pid_t r = ::waitpid(pid, &status, WNOHANG);
        if (r == pid) {
            record_status(status, outcome);
            reaped = true;
            break;
        }
        if (r < 0 && errno != EINTR) {
            reaped = true; // not ours to wait for any more (reaped elsewhere)
            break;
        }
        if (remaining_ms() == 0) {
            outcome.timed_out = true;
            break;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
    if (outcome.timed_out) ::kill(-pid, SIGKILL);
    if (!reaped) {
        int status = 0;
        while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
        }
        if (!outcome.timed_out) record_status(status, outcome);
    }
    return outcome;
}

} // namespace ilana::detail
