#include "instruments/connection_metrics.hpp"

#include <functional>
#include <thread>

namespace ilana::detail {

namespace {

// kLatencyBucketsMicros must say what kLatencyBuckets says.
constexpr bool bucket_bounds_agree() {
    for (size_t i = 0; i < kLatencyBuckets.size(); ++i)
        if (kLatencyBucketsMicros[i] != static_cast<int64_t>(kLatencyBuckets[i] * 1e6 + 0.5)) return false;
    return true;
}
static_assert(bucket_bounds_agree(), "kLatencyBucketsMicros differs from kLatencyBuckets");

// Which owned shard indexes are taken, one bit each, process-wide.
std::atomic<uint32_t> g_owned_shards{0};

// Gives the index back when the thread ends; the next claimer's
// acquire-CAS sees this thread's last plain stores (release).
struct ClaimRelease {
    bool armed = false;
    ~ClaimRelease() {
        if (t_metrics_shard >= 0) g_owned_shards.fetch_and(~(1u << t_metrics_shard), std::memory_order_release);
        t_metrics_shard = -2;
    }
};
thread_local ClaimRelease t_claim_release;

int claim_owned_shard() noexcept {
    uint32_t taken = g_owned_shards.load(std::memory_order_relaxed);
    for (;;) {
        int free_index = -1;
        for (int i = 0; i < ConnectionMetrics::kOwnedShards; ++i)
            if ((taken & (1u << i)) == 0) {
                free_index = i;
                break;
            }
        if (free_index < 0) return -2;
        if (g_owned_shards.compare_exchange_weak(taken, taken | (1u << free_index), std::memory_order_acquire,
                                                 std::memory_order_relaxed)) {
            t_claim_release.armed = true; // constructed now: it releases the claim at thread exit
            return free_index;
        }
    }
}

} // namespace

ConnectionMetrics::Writer ConnectionMetrics::writer_slow() noexcept {
    if (t_metrics_shard == -1) t_metrics_shard = claim_owned_shard();
    if (t_metrics_shard >= 0) return Writer{static_cast<size_t>(t_metrics_shard), true};
    // Threads beyond the owners spread over the shared shards, chosen once.
    thread_local const size_t shared =
        kOwnedShards + std::hash<std::thread::id>{}(std::this_thread::get_id()) % (kShards - kOwnedShards);
    return Writer{shared, false};
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
