// child_process.hpp — running a command without a shell, bounded in time
// and output: what a password command (README "Credentials") needs.
//
// posix_spawnp + poll, not Boost.Process: Boost 1.74's process library needs
// Boost.Asio for reading two pipes against a deadline (its wait_for alone
// cannot, and is unreliable in that release when SIGCHLD is handled
// elsewhere), and it cannot put the child in a process group of its own, so a
// script's grandchildren (a `sleep`, a `curl`) would outlive the kill.
#pragma once

#include <chrono>
#include <cstddef>
#include <string>
#include <vector>

namespace ilana::detail {

struct ChildOutcome {
    bool timed_out = false; // killed (with its process group) at the deadline
    int exit_status = -1;   // the exit status when it exited
    int signal = 0;         // the signal that ended it, else 0
    std::string out;        // stdout, at most `max_output` bytes
    std::string err;        // stderr, at most `max_output` bytes
    bool exited_zero() const noexcept { return !timed_out && signal == 0 && exit_status == 0; }
};

// Runs argv[0] (searched on PATH unless it holds a '/') with `argv`, stdin
// from /dev/null, the environment inherited, default signal dispositions,
// in a process group of its own. Collects stdout and stderr until both
// close and the child exits, or until `timeout`, when the whole group is
// killed (SIGKILL) and reaped. Output past `max_output` is read and dropped
// (the child never blocks on a full pipe). Throws std::system_error when the
// command cannot be started (ENOENT: not found, EACCES: not executable).
// Thread-safe (pipes are close-on-exec, so a concurrent spawn does not keep
// another's pipe open).
ChildOutcome run_child(const std::vector<std::string> &argv, std::chrono::milliseconds timeout,
                       std::size_t max_output);

} // namespace ilana::detail
