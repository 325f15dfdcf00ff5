// affinity.hpp — the round-trip workloads run with the client on one CPU
// and its server connections on another.
//
// Why: on a small VM a loopback round trip costs ~12 µs when the client and
// the server's connection process share a CPU and ~90 µs when they do not
// (the wake-up crosses vCPUs), and the kernel keeps either placement for
// seconds. Each side has its own server connection (its own PostgreSQL
// backend, its own MariaDB thread), so unpinned, two *identical* libpq
// connections measured in turn differ by 0.12x to 7.5x round after round
// (bench/RESULTS.md). With the client on CPU A and both sides' server
// connections on CPU B, every round trip crosses CPUs the same way and the
// two sides compare like with like (identical connections then agree within
// ±4% per round).
//
// Only tasks that are provably the benchmark's own connections on this
// machine are touched: the server URL must be loopback, and the task id
// (PQbackendPID / pg_backend_pid(), PROCESSLIST.TID) must name a process
// whose name is the server's. Every mask changed is put back at the end of
// the workload (a MariaDB thread goes back to its thread cache afterwards).
#pragma once

#include <sched.h>
#include <sys/types.h>

#include <string>
#include <vector>

namespace bench {

// A server-side task serving one of the benchmark's connections.
struct ServerTask {
    pid_t tid = 0;
    std::vector<std::string> names; // accepted /proc/<tid>/comm values
};

// True when `url` (postgresql://..., mysql://...) names this machine over
// loopback: 127.0.0.0/8, localhost or ::1.
bool is_loopback_url(const std::string &url);

// For its lifetime: the calling thread on one allowed CPU, the given server
// tasks on another. Does nothing (and says why in summary()) when fewer
// than two CPUs are allowed. A task that cannot be pinned (gone, another
// process name, no permission) is left alone and counted in summary().
class RoundTripPinning {
public:
    explicit RoundTripPinning(const std::vector<ServerTask> &tasks);
    ~RoundTripPinning();
    RoundTripPinning(const RoundTripPinning &) = delete;
    RoundTripPinning &operator=(const RoundTripPinning &) = delete;

    // All tasks and the client pinned.
    bool complete() const noexcept { return client_pinned_ && skipped_.empty() && !tasks_.empty(); }
    // "client on CPU 0, 2 server connections on CPU 1", or what was not done.
    std::string summary() const;

private:
    struct Saved {
        pid_t tid;
        cpu_set_t mask;
        std::vector<std::string> names;
    };
    int client_cpu_ = -1, server_cpu_ = -1;
    bool client_pinned_ = false;
    cpu_set_t client_mask_{};
    std::vector<Saved> tasks_;
    std::vector<std::string> skipped_; // why each skipped task was skipped
    std::string not_done_;             // why nothing was pinned
};

} // namespace bench
