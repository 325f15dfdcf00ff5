// The SQL dialect of a connection: the driver's (its descriptor), or the one
// each session reports for the server it reached (ABI 1.3,
// "ilana.conn_dialect/1": a bridge to many databases).
#pragma once

#include <ilana/database.hpp>
#include <ilana/driver.h>

#include <atomic>
#include <mutex>

namespace ilana::detail {

class LoadedDriver;
class NativeConnection;

// The C++ view of an ABI dialect of `driver` (transactional DDL is a
// capability of the driver's descriptor, not a dialect fact).
Dialect dialect_from(const ilana_dialect &dialect, const LoadedDriver &driver);

// The dialect of the server a pool's sessions reach, for a driver that
// reports one per connection. Every session of a pool is made from one set
// of connection parameters, so the first session opened decides it (noted
// by the pool's connect function); Connection::dialect() reads it.
class PoolDialect {
public:
    // The first session's dialect; nullptr before any session was opened.
    const Dialect *get() const noexcept { return known_.load(std::memory_order_acquire) ? &dialect_ : nullptr; }
    // Records `conn`'s dialect unless one is recorded. [thread-safe]
    void note(const NativeConnection &conn);

private:
    std::mutex mu_; // serialises note()
    std::atomic<bool> known_{false};
    Dialect dialect_;
};

} // namespace ilana::detail
