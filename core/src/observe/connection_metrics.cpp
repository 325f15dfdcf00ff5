#include "observe/connection_metrics.hpp"

#include <functional>
#include <thread>

namespace ilana::detail {

ConnectionMetrics::Shard &ConnectionMetrics::shard() noexcept {
    // One shard per thread, chosen once: threads of a busy pool spread over
    // the shards instead of bouncing one cache line between cores.
    thread_local const size_t index = std::hash<std::thread::id>{}(std::this_thread::get_id()) % kShards;
    return shards_[index];
}

void ConnectionMetrics::add(const Histogram &h, HistogramSnapshot &out) noexcept {
    for (size_t i = 0; i < out.counts.size(); ++i) {
        uint64_t n = h.buckets[i].load(std::memory_order_relaxed);
        out.counts[i] += n;
        out.count += n;
    }
    out.sum_seconds += static_cast<double>(h.sum_us.load(std::memory_order_relaxed)) / 1e6;
}

MetricsSnapshotCounters ConnectionMetrics::snapshot() const noexcept {
    MetricsSnapshotCounters out;
    for (const Shard &s : shards_) {
        out.queries_ok += s.queries_ok.load(std::memory_order_relaxed);
        out.queries_error += s.queries_error.load(std::memory_order_relaxed);
        out.retries += s.retries.load(std::memory_order_relaxed);
        add(s.query, out.query_duration);
        add(s.acquire, out.acquire_duration);
    }
    return out;
}

double HistogramSnapshot::quantile(double q) const {
    if (count == 0) return 0;
    const double target = q * static_cast<double>(count);
    uint64_t seen = 0;
    for (size_t i = 0; i < counts.size(); ++i) {
        uint64_t before = seen;
        seen += counts[i];
        if (static_cast<double>(seen) >= target && counts[i] > 0) {
            double lo = i == 0 ? 0 : kLatencyBuckets[i - 1];
            double hi = i < kLatencyBuckets.size() ? kLatencyBuckets[i] : kLatencyBuckets.back() * 2;
            double frac = (target - static_cast<double>(before)) / static_cast<double>(counts[i]);
            return lo + (hi - lo) * frac; // linear inside the bucket, as Prometheus does
        }
    }
    return kLatencyBuckets.back();
}

} // namespace ilana::detail
