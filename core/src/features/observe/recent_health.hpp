// The health gauges of a /metrics scrape (prometheus.cpp), from the health
// check cache DatabaseState keeps per Database (health.cpp).
#pragma once

#include <ilana/database.hpp>

#include <cstdint>

namespace ilana::detail {

struct DatabaseState;

// The last full health check if it is no older than max_age_ms, else a
// new one (shared with a scrape already running one).
HealthReport recent_health(const Database &db, DatabaseState &state, int64_t max_age_ms, int ping_timeout_ms);

} // namespace ilana::detail
