// The health gauges of a /metrics scrape (prometheus.cpp), from the health
// check cache each Database keeps (health.cpp).
#pragma once

#include <ilana/database.hpp>
#include <ilana/health.hpp>

#include <cstdint>

namespace ilana::detail {

// The last full health check if it is no older than max_age_ms, else a
// new one (shared with a scrape already running one).
HealthReport recent_health(const Database &db, int64_t max_age_ms, int ping_timeout_ms);

} // namespace ilana::detail
