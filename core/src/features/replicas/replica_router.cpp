// Read replicas: the router, Connection::read(), and the read path of the
// query builder (see replica_router.hpp).
#include "replicas/replica_router.hpp"


#include <ilana/logging.hpp>

#include <spdlog/spdlog.h>

#include <algorithm>
#include <random>

namespace ilana {
namespace detail {

namespace {

constexpr auto kRecheckInterval = std::chrono::seconds(1);
constexpr int32_t kProbeTimeoutMs = 2000;

thread_local std::mt19937_64 t_replica_rng{std::random_device{}()};

} // namespace

bool is_replica_down_error(const Error &e) noexcept {
    // PoolTimeout means busy, not down; every other connection-class error
    // (refused, lost, broken session, pool closed) takes the replica out.
    return e.error_class() == ErrorClass::connection && dynamic_cast<const PoolTimeout *>(&e) == nullptr;
}

bool is_replica_busy_error(const Error &e) noexcept {
    // Pool exhausted, or the server refused the statement as a whole
    // (e.g. a hot standby canceling it for a conflict with recovery).
    return dynamic_cast<const PoolTimeout *>(&e) != nullptr || e.error_class() == ErrorClass::transient;
}

ReplicaRouter::ReplicaRouter(ConnectionState &primary) : primary_(primary) {
    const auto &replicas = replicas_of(primary);
    const auto &names = config_of(primary).read_replicas;
    for (size_t i = 0; i < replicas.size(); ++i) {
        Replica r;
        r.state = replicas[i];
        r.name = i < names.size() ? names[i] : std::string("?");
        replicas_.push_back(std::move(r));
    }
}

ReplicaRouter::~ReplicaRouter() {
    {
        std::lock_guard<std::mutex> lock(mu_);
        stop_ = true;
    }
    cv_.notify_all();
    if (checker_.joinable()) checker_.join();
}

bool ReplicaRouter::healthy(const std::string &replica_name) const {
    std::lock_guard<std::mutex> lock(mu_);
    for (const auto &r : replicas_)
        if (r.name == replica_name) return r.healthy;
    return false;
}

std::vector<std::shared_ptr<ConnectionState>> ReplicaRouter::candidates() {
    std::vector<std::shared_ptr<ConnectionState>> out;
    {
        std::lock_guard<std::mutex> lock(mu_);
        for (const auto &r : replicas_)
            if (r.healthy)
                if (auto s = r.state.lock()) out.push_back(std::move(s));
    }
    const size_t n = out.size();
    if (n <= 1) return out;
    const std::string &strategy = config_of(primary_).read_strategy;
    size_t start = 0;
    if (strategy == "random")
        start = static_cast<size_t>(t_replica_rng() % n);
    else
        start = static_cast<size_t>(next_.fetch_add(1, std::memory_order_relaxed) % n);
    std::rotate(out.begin(), out.begin() + static_cast<std::ptrdiff_t>(start), out.end());
    if (strategy == "least_busy") {
        // Fewest sessions in use first; ties keep the rotation, so equally
        // idle replicas still share the load.
        std::vector<std::pair<int, std::shared_ptr<ConnectionState>>> busy;
        busy.reserve(n);
        for (auto &s : out) busy.emplace_back(pool_stats(*s).in_use, std::move(s));
        std::stable_sort(busy.begin(), busy.end(), [](const auto &a, const auto &b) { return a.first < b.first; });
        for (size_t i = 0; i < n; ++i) out[i] = std::move(busy[i].second);
    }
    return out;
}

void ReplicaRouter::mark_down(const ConnectionState &replica, const Error &error) {
    std::lock_guard<std::mutex> lock(mu_);
    for (auto &r : replicas_) {
        auto s = r.state.lock();
        if (s.get() != &replica) continue;
        if (r.healthy) {
            r.healthy = false;
            ilana::logger()->warn("conn={} REPLICA_DOWN replica={} error=\"{}\" (re-checked every {}s)", name_of(primary_),
                                  r.name, error.what(), kRecheckInterval.count());
        }
    }
    if (!checker_.joinable() && !stop_) checker_ = std::thread([this] { check_loop(); });
}

void ReplicaRouter::announce_fallback(const std::string &why) {
    {
        std::lock_guard<std::mutex> lock(mu_);
        if (fallback_announced_) return;
        fallback_announced_ = true;
    }
    Error e("[" + name_of(primary_) + "] no read replica is available (" + why + "); reads go to the primary '" +
                name_of(primary_) + "' until one answers again",
            ErrorClass::connection, name_of(primary_));
    ilana::logger()->warn("conn={} READ_FALLBACK {}", name_of(primary_), e.what());
    report_error(primary_, e);
}

bool ReplicaRouter::probe(const std::shared_ptr<ConnectionState> &replica) {
    try {
        // A fresh session outside the pool: the pool's hooks and counters are
        // for the application's own use, not for the health checker.
        auto conn = NativeConnection::open(target_of(*replica), kProbeTimeoutMs);
        conn->ping(kProbeTimeoutMs);
        return true;
    } catch (const std::exception &e) {
        ilana::logger()->debug("conn={} replica={} still down: {}", name_of(primary_), name_of(*replica), e.what());
        return false;
    }
}

void ReplicaRouter::check_loop() {
    std::unique_lock<std::mutex> lock(mu_);
    while (!stop_) {
        cv_.wait_for(lock, kRecheckInterval, [this] { return stop_; });
        if (stop_) break;
        std::vector<std::pair<size_t, std::shared_ptr<ConnectionState>>> down;
        for (size_t i = 0; i < replicas_.size(); ++i)
            if (!replicas_[i].healthy)
                if (auto s = replicas_[i].state.lock()) down.emplace_back(i, std::move(s));
        if (down.empty()) continue;
        lock.unlock();
        std::vector<size_t> up;
        for (auto &d : down)
            if (probe(d.second)) up.push_back(d.first);
        down.clear(); // release the replicas' states outside the lock
        lock.lock();
        for (size_t i : up) {
            if (stop_) break;
            replicas_[i].healthy = true;
            fallback_announced_ = false;
            ilana::logger()->info("conn={} REPLICA_UP replica={}", name_of(primary_), replicas_[i].name);
        }
    }
}

Result ReplicaRouter::read(const Connection &primary, const std::function<Result(const Connection &)> &run) {
    std::string failures;
    bool busy = false;
    for (auto &replica : candidates()) {
        try {
            return run(connection_of(replica));
        } catch (const Error &e) {
            if (is_replica_down_error(e)) {
                mark_down(*replica, e);
                if (!failures.empty()) failures += "; ";
                failures += name_of(*replica) + ": " + e.what();
            } else if (is_replica_busy_error(e)) {
                // Busy, not down: try the next one (or the primary), keep it in.
                busy = true;
                ilana::logger()->debug("conn={} replica={} busy, reading elsewhere: {}", name_of(primary_),
                                       name_of(*replica), e.what());
            } else {
                throw; // the statement itself failed: it would fail anywhere
            }
        }
    }
    if (!busy || !failures.empty())
        announce_fallback(failures.empty() ? std::string("all replicas are marked down") : failures);
    return run(primary);
}

ReplicaRouter *router_of(ConnectionState &primary) {
    // Only ReplicaRouters are made here, so the routing is one.
    return static_cast<ReplicaRouter *>(read_routing(primary, [&primary]() -> std::shared_ptr<ReadRouting> {
        if (replicas_of(primary).empty()) return nullptr;
        return std::make_shared<ReplicaRouter>(primary);
    }));
}

Result routed_read(const Connection &primary, const std::function<Result(const Connection &)> &run) {
    ConnectionState &cs = state_of(primary);
    if (replicas_of(cs).empty() || reads_pinned_to_primary(cs)) return run(primary);
    ReplicaRouter *router = router_of(cs);
    if (router == nullptr) return run(primary);
    return router->read(primary, run);
}

Connection read_connection(const Connection &primary) {
    ConnectionState &cs = state_of(primary);
    if (replicas_of(cs).empty() || reads_pinned_to_primary(cs)) return primary;
    ReplicaRouter *router = router_of(cs);
    if (router == nullptr) return primary;
    auto healthy = router->candidates();
    if (healthy.empty()) {
        router->announce_fallback("all replicas are marked down");
        return primary;
    }
    return connection_of(std::move(healthy.front()));
}

} // namespace detail
} // namespace ilana
