// What observe offers Database's API (features/facade/database_features.cpp
// forwards to these): health checks, metrics, the Prometheus text.
#pragma once

#include <ilana/database.hpp>
#include <ilana/health.hpp>

#include <string>

namespace ilana::detail {

HealthReport check_health(const Database &db, const HealthOptions &options);
MetricsSnapshot metrics_snapshot(const Database &db);
// With the config's metrics.healthMaxAgeMs and pingTimeoutMs.
std::string prometheus_text(const Database &db, bool include_runtime);
std::string prometheus_text(const Database &db, const PrometheusOptions &options);

} // namespace ilana::detail
