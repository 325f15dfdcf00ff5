// memory.cpp — the resident memory of one side of a multi-side workload,
// each side measured in a child process of its own (harness.hpp,
// SideMemory): in one process the sides' heaps, threads and libraries
// would mix, and malloc keeps what one side freed for the next.
#include "harness.hpp"

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <sys/wait.h>
#include <unistd.h>

namespace bench {

namespace {

constexpr const char *kChildTag = "ilana-bench-memory";

} // namespace

long status_kib(const char *field) {
    std::ifstream f("/proc/self/status");
    std::string line;
    const size_t n = std::strlen(field);
    while (std::getline(f, line))
        if (line.compare(0, n, field) == 0 && line.size() > n && line[n] == ':') return std::atol(line.c_str() + n + 1);
    return -1;
}

int memory_child_main(const Options &o, const std::string &workload, const std::string &side) {
    try {
        const auto &all = workloads();
        const Workload *w = nullptr;
        for (const auto &x : all)
            if (x.name == workload && x.sides) w = &x;
        if (w == nullptr) {
            std::fprintf(stderr, "ilana-bench --memory-child: no multi-side workload '%s'\n", workload.c_str());
            return 2;
        }
        Context ctx(o);
        SideSet set = w->sides(ctx);
        for (Side &s : set.sides) {
            if (s.key != side) continue;
            // The anonymous peak, sampled: the kernel keeps a peak only of
            // the whole resident set. The sampler runs (its stack and
            // buffers resident) before the start figures are taken.
            std::atomic<bool> stop{false}, sampling{false};
            std::atomic<long> anon_peak{0};
            std::thread sampler([&] {
                while (!stop.load(std::memory_order_relaxed)) {
                    const long now = status_kib("RssAnon");
                    if (now > anon_peak.load(std::memory_order_relaxed)) anon_peak.store(now);
                    sampling = true;
                    std::this_thread::sleep_for(std::chrono::milliseconds(1));
                }
            });
            while (!sampling) std::this_thread::sleep_for(std::chrono::milliseconds(1));
            // The peak from here on: "5" resets VmHWM to the current
            // VmRSS (proc(5), clear_refs), so the workload's own setup
            // above is not the peak.
            {
                std::ofstream reset("/proc/self/clear_refs");
                reset << "5";
            }
            const long start = status_kib("VmRSS"), anon_start = status_kib("RssAnon");
            anon_peak = anon_start;
            auto stop_sampler = [&] {
                stop = true;
                sampler.join();
                const long now = status_kib("RssAnon");
                if (now > anon_peak.load()) anon_peak.store(now);
            };
            try {
                RunFn run = s.open();
                run(); // the warm-up round of the parent's run
                run(); // and one measured round
            } catch (...) {
                stop_sampler();
                throw;
            }
            stop_sampler();
            std::printf("%s %ld %ld %ld %ld\n", kChildTag, start, status_kib("VmHWM"), anon_start, anon_peak.load());
            std::fflush(stdout);
            return 0;
        }
        std::fprintf(stderr, "ilana-bench --memory-child: workload '%s' has no side '%s'\n", workload.c_str(),
                     side.c_str());
        return 2;
    } catch (const std::exception &e) {
        std::fprintf(stderr, "ilana-bench --memory-child %s %s: %s\n", workload.c_str(), side.c_str(), e.what());
        return 1;
    }
}

SideMemory measure_side_memory(const Options &o, const std::string &workload, const std::string &side) {
    SideMemory m;
    int out[2];
    if (::pipe(out) != 0) {
        m.error = std::string("pipe: ") + std::strerror(errno);
        return m;
    }
    // This program's path, resolved before the exec: under valgrind
    // /proc/self/exe is valgrind's tool, while readlink answers for the
    // program (so `valgrind ilana-bench` runs its memory children natively).
    char self[4096];
    const ssize_t self_len = ::readlink("/proc/self/exe", self, sizeof self - 1);
    if (self_len <= 0) {
        m.error = std::string("readlink /proc/self/exe: ") + std::strerror(errno);
        ::close(out[0]);
        ::close(out[1]);
        return m;
    }
    self[self_len] = '\0';
    std::vector<std::string> args = {"ilana-bench", "--memory-child", workload, side};
    if (o.quick) args.emplace_back("--quick");
    std::vector<char *> argv;
    for (auto &a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    // The child names this run's tables (Context::unique). Its environment
    // is built here: between fork and exec only async-signal-safe calls.
    std::vector<std::string> env_strings;
    for (char **e = environ; *e != nullptr; ++e)
        if (std::strncmp(*e, "ILANA_BENCH_RUN_ID=", 19) != 0) env_strings.emplace_back(*e);
    env_strings.push_back("ILANA_BENCH_RUN_ID=" + std::to_string(static_cast<long>(::getpid())));
    std::vector<char *> envp;
    for (auto &e : env_strings) envp.push_back(e.data());
    envp.push_back(nullptr);
    static const char kExecFailed[] = "ilana-bench: cannot run itself for a memory child\n";
    std::fflush(stdout);
    std::fflush(stderr);
    const pid_t pid = ::fork();
    if (pid < 0) {
        m.error = std::string("fork: ") + std::strerror(errno);
        ::close(out[0]);
        ::close(out[1]);
        return m;
    }
    if (pid == 0) {
        ::dup2(out[1], STDOUT_FILENO);
        ::close(out[0]);
        ::close(out[1]);
        ::execve(self, argv.data(), envp.data());
        const ssize_t ignored = ::write(STDERR_FILENO, kExecFailed, sizeof kExecFailed - 1);
        (void)ignored;
        ::_exit(127);
    }
    ::close(out[1]);
    std::string text;
    char buf[512];
    for (;;) {
        const ssize_t n = ::read(out[0], buf, sizeof buf);
        if (n > 0) {
            text.append(buf, static_cast<size_t>(n));
        } else if (n < 0 && errno == EINTR) {
            continue;
        } else {
            break;
        }
    }
    ::close(out[0]);
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        m.error = WIFEXITED(status) ? "the memory child exited with status " + std::to_string(WEXITSTATUS(status))
                                    : "the memory child died of signal " + std::to_string(WTERMSIG(status));
        return m;
    }
    std::istringstream in(text);
    std::string tag;
    long start = -1, hwm = -1, anon_start = -1, anon_peak = -1;
    in >> tag >> start >> hwm >> anon_start >> anon_peak;
    if (tag != kChildTag || start < 0 || hwm < 0 || anon_start < 0 || anon_peak < 0) {
        m.error = "the memory child printed no figures ('" + text.substr(0, 80) + "')";
        return m;
    }
    m.start_mib = static_cast<double>(start) / 1024.0;
    m.peak_mib = static_cast<double>(hwm) / 1024.0;
    m.anon_start_mib = static_cast<double>(anon_start) / 1024.0;
    m.anon_peak_mib = static_cast<double>(anon_peak) / 1024.0;
    return m;
}

} // namespace bench
