// Counters and histograms of one pool, written on the query hot path.
//
// Writers never take a lock and rarely share a cache line: each thread adds
// to one of kShards shards (picked once per thread), with relaxed atomics.
// A scrape sums the shards. Totals are therefore eventually consistent,
// which is all Prometheus needs.
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>

namespace ilana::detail {

// Upper bounds, in seconds, of the latency histogram buckets (+Inf implied).
inline constexpr std::array<double, 14> kLatencyBuckets = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
                                                           0.1,    0.25,  0.5,    1,     2.5,  5,     10};

struct HistogramSnapshot {
    std::array<uint64_t, kLatencyBuckets.size() + 1> counts{}; // per bucket (not cumulative); last = +Inf
    uint64_t count = 0;
    double sum_seconds = 0;
    // Approximate quantile (0..1) from the buckets, in seconds.
    double quantile(double q) const;
};

struct MetricsSnapshotCounters {
    uint64_t queries_ok = 0, queries_error = 0, retries = 0;
    HistogramSnapshot query_duration, acquire_duration;
};

class ConnectionMetrics {
public:
    void record_query(std::chrono::microseconds d, bool ok) noexcept {
        Shard &s = shard();
        (ok ? s.queries_ok : s.queries_error).fetch_add(1, std::memory_order_relaxed);
        observe(s.query, d);
    }
    void record_acquire(std::chrono::microseconds d) noexcept { observe(shard().acquire, d); }
    void record_retry() noexcept { shard().retries.fetch_add(1, std::memory_order_relaxed); }

    MetricsSnapshotCounters snapshot() const noexcept;

private:
    static constexpr int kShards = 8;
    struct Histogram {
        std::atomic<uint64_t> buckets[kLatencyBuckets.size() + 1] = {};
        std::atomic<uint64_t> sum_us{0};
    };
    struct alignas(64) Shard {
        std::atomic<uint64_t> queries_ok{0}, queries_error{0}, retries{0};
        Histogram query, acquire;
    };
    static void observe(Histogram &h, std::chrono::microseconds d) noexcept {
        const double secs = static_cast<double>(d.count()) / 1e6;
        size_t i = 0;
        while (i < kLatencyBuckets.size() && secs > kLatencyBuckets[i]) ++i;
        h.buckets[i].fetch_add(1, std::memory_order_relaxed);
        // Adding zero (every lease served without waiting) is a locked
        // instruction for nothing on the acquire hot path.
        if (d.count() > 0) h.sum_us.fetch_add(static_cast<uint64_t>(d.count()), std::memory_order_relaxed);
    }
    Shard &shard() noexcept;
    static void add(const Histogram &h, HistogramSnapshot &out) noexcept;

    Shard shards_[kShards];
};

} // namespace ilana::detail
