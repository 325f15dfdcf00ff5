// Counters and histograms of one pool, written on the query hot path.
//
// Writers never take a lock and rarely share a cache line. The first
// kOwnedShards (8) threads to record (in the whole process) each own one shard
// index for as long as they live: in every ConnectionMetrics that shard has
// that one writer, which adds with a plain load and store (no locked
// instruction: three or four of them per query were a visible share of a
// sub-microsecond SQLite query). Later threads, while all are taken, add
// with fetch_add to the shared shards. A scrape sums the shards with
// relaxed loads, so totals are eventually consistent, which is all
// Prometheus needs; no increment is ever lost.
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>

namespace ilana::detail {

// Upper bounds, in seconds, of the latency histogram buckets (+Inf implied).
inline constexpr std::array<double, 14> kLatencyBuckets = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
                                                           0.1,    0.25,  0.5,    1,     2.5,  5,     10};
// The same bounds in microseconds: observing a duration compares integers
// (a double division per statement was a visible share of an SQLite query).
inline constexpr std::array<int64_t, 14> kLatencyBucketsMicros = {500,    1000,    2500,    5000,    10000,
                                                                  25000,  50000,   100000,  250000,  500000,
                                                                  1000000, 2500000, 5000000, 10000000};

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

// This thread's metrics shard claim (connection_metrics.cpp): -1 not tried
// yet, -2 none (all were taken, or the thread is exiting), else the index
// it owns. Trivially destructible, so it stays readable at thread exit.
inline thread_local int t_metrics_shard = -1;

class ConnectionMetrics {
public:
    void record_query(std::chrono::microseconds d, bool ok) noexcept {
        const Writer w = writer();
        Shard &s = shards_[w.shard];
        add(ok ? s.queries_ok : s.queries_error, 1, w.owned);
        observe(s.query, d, w.owned);
    }
    void record_acquire(std::chrono::microseconds d) noexcept {
        const Writer w = writer();
        observe(shards_[w.shard].acquire, d, w.owned);
    }
    void record_retry() noexcept {
        const Writer w = writer();
        add(shards_[w.shard].retries, 1, w.owned);
    }

    MetricsSnapshotCounters snapshot() const noexcept;

    // Shards 0..kOwnedShards-1 are owned by one thread each; the rest are
    // shared by every other thread.
    static constexpr int kShards = 12;
    static constexpr int kOwnedShards = 8;
    struct Writer {
        size_t shard;
        bool owned; // this thread is the shard's only writer
    };
    // This thread's shard (claims an owned one on first use while any is free).
    static Writer writer() noexcept {
        const int owned = t_metrics_shard;
        if (owned >= 0) return Writer{static_cast<size_t>(owned), true};
        return writer_slow();
    }

private:
    static Writer writer_slow() noexcept;
    struct Histogram {
        std::atomic<uint64_t> buckets[kLatencyBuckets.size() + 1] = {};
        std::atomic<uint64_t> sum_us{0};
    };
    struct alignas(64) Shard {
        std::atomic<uint64_t> queries_ok{0}, queries_error{0}, retries{0};
        Histogram query, acquire;
    };
    static void add(std::atomic<uint64_t> &counter, uint64_t n, bool owned) noexcept {
        if (owned)
            counter.store(counter.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
        else
            counter.fetch_add(n, std::memory_order_relaxed);
    }
    static void observe(Histogram &h, std::chrono::microseconds d, bool owned) noexcept {
        const int64_t us = d.count();
        size_t i = 0;
        while (i < kLatencyBucketsMicros.size() && us > kLatencyBucketsMicros[i]) ++i;
        add(h.buckets[i], 1, owned);
        // Adding zero (every lease served without waiting) is work for
        // nothing on the acquire hot path.
        if (d.count() > 0) add(h.sum_us, static_cast<uint64_t>(d.count()), owned);
    }
    static void add(const Histogram &h, HistogramSnapshot &out) noexcept;

    Shard shards_[kShards];
};

} // namespace ilana::detail
