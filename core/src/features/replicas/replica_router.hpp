// ReplicaRouter: where the reads of a connection with read replicas go.
//
// One per connection that names replicas ("read": [...]), created on its
// first read. It keeps a health flag per replica:
//   - pick(): a healthy replica by the strategy (round_robin, random,
//     least_busy = fewest sessions in use), then the other healthy ones as
//     fallbacks in turn;
//   - a read that fails on a replica with a connection-class error marks
//     that replica down and moves on to the next; when none is left the read
//     runs on the primary, and the onError hook of the primary is called
//     once per outage (not per read) with an Error saying so;
//   - a busy replica (PoolTimeout, a transient error such as a hot standby's
//     conflict with recovery) is passed over for this read only; any other
//     error is the statement's own and is thrown as it is;
//   - a replica marked down is re-checked in the background (a fresh
//     connection and a ping, outside its pool) about once a second, and
//     used again as soon as it answers.
// The checker thread starts with the first replica marked down and ends with
// the router (with the primary's ConnectionState).
#pragma once

#include <ilana/database.hpp>

#include "db/pool_access.hpp"

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace ilana::detail {

class ReplicaRouter final : public ReadRouting {
public:
    // `primary` owns this router and outlives it.
    explicit ReplicaRouter(ConnectionState &primary);
    ~ReplicaRouter() override;
    ReplicaRouter(const ReplicaRouter &) = delete;
    ReplicaRouter &operator=(const ReplicaRouter &) = delete;

    // Healthy replicas in the order to try them (strategy's choice first).
    std::vector<std::shared_ptr<ConnectionState>> candidates();
    // Runs `run` on a replica, failing over as described above (to
    // `primary`, this router's connection, last).
    Result read(const Connection &primary, const std::function<Result(const Connection &)> &run);
    // Marks `replica` down after `error` (starts the checker).
    void mark_down(const ConnectionState &replica, const Error &error);
    // Reports that reads go to the primary (once per outage).
    void announce_fallback(const std::string &why);

    bool healthy(const std::string &replica_name) const;

private:
    struct Replica {
        std::weak_ptr<ConnectionState> state;
        std::string name;
        bool healthy = true; // guarded by mu_
    };
    void check_loop();
    bool probe(const std::shared_ptr<ConnectionState> &replica);

    ConnectionState &primary_;
    mutable std::mutex mu_;
    std::vector<Replica> replicas_;
    std::atomic<uint64_t> next_{0};
    bool fallback_announced_ = false; // guarded by mu_
    std::condition_variable cv_;
    bool stop_ = false;   // guarded by mu_
    std::thread checker_; // started on the first mark_down
};

// The router of `primary`, or nullptr when it names no replicas.
ReplicaRouter *router_of(ConnectionState &primary);

// A read through the replicas of `primary` (or on `primary` itself when it
// has none, or while reads-after-write are pinned to it).
Result routed_read(const Connection &primary, const std::function<Result(const Connection &)> &run);

// An error after which a replica is treated as down (connection class).
bool is_replica_down_error(const Error &e) noexcept;
// An error after which the read is tried elsewhere but the replica stays in
// (PoolTimeout, transient: conflict with recovery, serialization, busy).
bool is_replica_busy_error(const Error &e) noexcept;

// Connection::read(): a healthy replica of `primary` by its strategy, or
// `primary` itself (see Connection::read in <ilana/database.hpp>).
Connection read_connection(const Connection &primary);

} // namespace ilana::detail
