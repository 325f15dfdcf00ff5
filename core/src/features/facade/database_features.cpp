// The members of Database and Connection that the features layer provides,
// in one place: each forwards to its area (query builder, migrations,
// replicas, observe). The db layer's members are in db/db/database.cpp.
#include <ilana/database.hpp>
#include <ilana/health.hpp>
#include <ilana/migrator.hpp>
#include <ilana/query.hpp>

#include "observe/observe.hpp"
#include "replicas/replica_router.hpp"

namespace ilana {

// ---- Connection -----------------------------------------------------------

QueryBuilder Connection::table(std::string_view table) const { return QueryBuilder(*this, table); }
Connection Connection::read() const { return detail::read_connection(*this); }

// ---- Database -------------------------------------------------------------

QueryBuilder Database::table(std::string_view table) const { return default_connection().table(table); }
Migrator Database::migrator(std::string_view name) const { return Migrator(*this, name); }

HealthReport Database::health_check(const HealthOptions &options) const { return detail::check_health(*this, options); }
MetricsSnapshot Database::metrics() const { return detail::metrics_snapshot(*this); }
std::string Database::prometheus_text(bool include_runtime) const {
    return detail::prometheus_text(*this, include_runtime);
}
std::string Database::prometheus_text(const PrometheusOptions &options) const {
    return detail::prometheus_text(*this, options);
}

} // namespace ilana
