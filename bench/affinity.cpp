// affinity.cpp — see affinity.hpp.
#include "affinity.hpp"

#include <cerrno>
#include <cstring>
#include <fstream>

namespace bench {
namespace {

// The name the kernel shows for a task (thread names included), or "".
std::string task_name(pid_t tid) {
    std::ifstream f("/proc/" + std::to_string(tid) + "/comm");
    std::string name;
    std::getline(f, name);
    return name;
}

bool named_one_of(pid_t tid, const std::vector<std::string> &names) {
    const std::string n = task_name(tid);
    for (const auto &want : names)
        if (n == want) return true;
    return false;
}

} // namespace

bool is_loopback_url(const std::string &url) {
    const size_t scheme = url.find("://");
    if (scheme == std::string::npos) return false;
    std::string rest = url.substr(scheme + 3);
    const size_t end = rest.find_first_of("/?");
    std::string authority = rest.substr(0, end);
    const size_t at = authority.rfind('@');
    if (at != std::string::npos) authority = authority.substr(at + 1);
    // [::1]:5432 or host:port
    const std::string host = !authority.empty() && authority[0] == '['
                                 ? authority.substr(1, authority.find(']') - 1) // npos - 1: to the end
                                 : authority.substr(0, authority.find(':'));
    return host == "localhost" || host == "::1" || host.rfind("127.", 0) == 0;
}

RoundTripPinning::RoundTripPinning(const std::vector<ServerTask> &tasks) {
    cpu_set_t allowed;
    CPU_ZERO(&allowed);
    if (sched_getaffinity(0, sizeof allowed, &allowed) != 0) {
        not_done_ = std::string("sched_getaffinity: ") + std::strerror(errno);
        return;
    }
    for (int cpu = 0; cpu < CPU_SETSIZE && server_cpu_ < 0; ++cpu) {
        if (!CPU_ISSET(cpu, &allowed)) continue;
        if (client_cpu_ < 0)
            client_cpu_ = cpu;
        else
            server_cpu_ = cpu;
    }
    if (server_cpu_ < 0) {
        not_done_ = "fewer than two CPUs allowed";
        return;
    }
    cpu_set_t server;
    CPU_ZERO(&server);
    CPU_SET(server_cpu_, &server);
    for (const ServerTask &t : tasks) {
        Saved s{t.tid, {}, t.names};
        CPU_ZERO(&s.mask);
        // Checked right before each call: only a task with the server's
        // process name is ever touched.
        if (t.tid <= 0 || !named_one_of(t.tid, t.names)) {
            skipped_.push_back("task " + std::to_string(t.tid) + " is not a " +
                               (t.names.empty() ? std::string("?") : t.names.front()) + " task here");
            continue;
        }
        if (sched_getaffinity(t.tid, sizeof s.mask, &s.mask) != 0 ||
            sched_setaffinity(t.tid, sizeof server, &server) != 0) {
            skipped_.push_back("task " + std::to_string(t.tid) + ": " + std::strerror(errno));
            continue;
        }
        tasks_.push_back(s);
    }
    cpu_set_t client;
    CPU_ZERO(&client);
    CPU_SET(client_cpu_, &client);
    CPU_ZERO(&client_mask_);
    client_pinned_ = sched_getaffinity(0, sizeof client_mask_, &client_mask_) == 0 &&
                     sched_setaffinity(0, sizeof client, &client) == 0;
}

RoundTripPinning::~RoundTripPinning() {
    if (client_pinned_) sched_setaffinity(0, sizeof client_mask_, &client_mask_);
    for (const Saved &s : tasks_)
        if (named_one_of(s.tid, s.names)) sched_setaffinity(s.tid, sizeof s.mask, &s.mask);
}

std::string RoundTripPinning::summary() const {
    if (!not_done_.empty()) return "not pinned: " + not_done_;
    std::string out = client_pinned_ ? "client on CPU " + std::to_string(client_cpu_) : "client not pinned";
    out += ", " + std::to_string(tasks_.size()) + " server connection(s) on CPU " + std::to_string(server_cpu_);
    for (const auto &s : skipped_) out += "; not pinned: " + s;
    return out;
}

} // namespace bench
