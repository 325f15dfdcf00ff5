// Runs fn(0..n-1) on at most `concurrency` threads (the caller's included).
// fn must not throw: batch operations record each item's failure instead.
#pragma once

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <thread>
#include <vector>

namespace ilana::detail {

template <class Fn> void run_parallel(size_t n, int concurrency, Fn &&fn) {
    if (n == 0) return;
    const size_t workers = std::min(n, static_cast<size_t>(std::max(1, concurrency)));
    std::atomic<size_t> next{0};
    auto work = [&] {
        for (size_t i; (i = next.fetch_add(1)) < n;) fn(i);
    };
    std::vector<std::thread> threads;
    threads.reserve(workers - 1);
    for (size_t w = 1; w < workers; ++w) threads.emplace_back(work);
    work();
    for (auto &t : threads) t.join();
}

} // namespace ilana::detail
