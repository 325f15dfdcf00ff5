// The per-pool metrics shards: the first threads own a shard each and add
// without locked instructions, later ones share the rest; every increment
// must still be counted, also when owners exit and new threads take over
// their shards. Run under ThreadSanitizer in CI (tag [threads]).
#include <catch2/catch.hpp>

#include "instruments/connection_metrics.hpp"

#include <chrono>
#include <thread>
#include <vector>

using ilana::detail::ConnectionMetrics;
using namespace std::chrono_literals;

namespace {
// `threads` threads at once, each recording `per_thread` queries (every
// third one failed, each lasting 2 ms) and leases (1 µs waits).
void record_from_threads(ConnectionMetrics &m, int threads, int per_thread) {
    std::vector<std::thread> pool;
    for (int t = 0; t < threads; ++t)
        pool.emplace_back([&m, per_thread] {
            for (int i = 0; i < per_thread; ++i) {
                m.record_query(2ms, i % 3 != 0);
                m.record_acquire(1us);
                if (i % 100 == 0) m.record_retry();
            }
        });
    for (auto &th : pool) th.join();
}
} // namespace

TEST_CASE("metrics shards: owned and shared writers lose no increment", "[metrics][threads]") {
    static_assert(ConnectionMetrics::kOwnedShards < ConnectionMetrics::kShards, "some shards must stay shared");
    ConnectionMetrics m;
    const int per_thread = 20000;
    uint64_t expected_threads = 0;
    // Three waves, each more threads than there are owned shards: owners
    // exit between waves and the next wave's threads claim their shards.
    for (int wave = 0; wave < 3; ++wave) {
        const int threads = ConnectionMetrics::kOwnedShards + 4;
        // Meanwhile a reader scrapes, as /metrics would.
        std::thread scraper([&m] {
            for (int i = 0; i < 200; ++i) (void)m.snapshot();
        });
        record_from_threads(m, threads, per_thread);
        scraper.join();
        expected_threads += static_cast<uint64_t>(threads);
    }
    const auto snap = m.snapshot();
    const uint64_t total = expected_threads * per_thread;
    const uint64_t failed = expected_threads * ((per_thread + 2) / 3); // i % 3 == 0
    CHECK(snap.queries_ok + snap.queries_error == total);
    CHECK(snap.queries_error == failed);
    CHECK(snap.retries == expected_threads * (per_thread / 100));
    CHECK(snap.query_duration.count == total);
    CHECK(snap.query_duration.counts[2] == total); // 2 ms: the (1 ms, 2.5 ms] bucket
    CHECK(snap.query_duration.sum_seconds == Approx(static_cast<double>(total) * 0.002));
    CHECK(snap.acquire_duration.count == total);
    CHECK(snap.acquire_duration.counts[0] == total);
    CHECK(snap.acquire_duration.sum_seconds == Approx(static_cast<double>(total) * 1e-6));
}

TEST_CASE("metrics shards: a thread's shard is the same in every pool's metrics", "[metrics]") {
    const ConnectionMetrics::Writer first = ConnectionMetrics::writer();
    ConnectionMetrics a, b;
    a.record_query(1ms, true);
    b.record_query(1ms, false);
    const ConnectionMetrics::Writer again = ConnectionMetrics::writer();
    CHECK(again.shard == first.shard);
    CHECK(again.owned == first.owned);
    CHECK(first.shard < static_cast<size_t>(ConnectionMetrics::kShards));
    CHECK(a.snapshot().queries_ok == 1);
    CHECK(b.snapshot().queries_error == 1);
}
