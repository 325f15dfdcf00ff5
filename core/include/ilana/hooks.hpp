// ilana/hooks.hpp — lifecycle hooks a host registers in C++.
//
// Hooks run on the thread where the event happens (an acquiring thread, the
// maintenance thread). They must be quick; a hook that throws is logged and
// ignored: it never breaks a pool or a query.
#pragma once

#include <ilana/error.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>

namespace ilana {

struct Hooks {
    // A pool for `connection` was created (for tenant pools: "name@tenant").
    std::function<void(const std::string &connection)> on_pool_created;
    // A pool was closed: reason "lru", "ttl_expired", "shutdown", ...
    std::function<void(const std::string &connection, const std::string &reason)> on_pool_evicted;
    // Any error a pool or a query on `connection` raised.
    std::function<void(const std::string &connection, const Error &error)> on_error;
    // A retry is about to wait `delay` before attempt `attempt` (2, 3, ...).
    std::function<void(const std::string &connection, int attempt, const Error &error,
                       std::chrono::milliseconds delay)>
        on_retry;
    // A statement finished (successfully or not). `sql` is the text the user
    // wrote, never the bound values.
    std::function<void(const std::string &connection, const std::string &sql,
                       std::chrono::microseconds duration)>
        on_query;
};

} // namespace ilana
