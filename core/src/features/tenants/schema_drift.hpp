// Schema drift: one tenant's introspected schema against a reference
// tenant's. Pure (unit-tested in tests/unit/tenants_drift_test.cpp).
#pragma once

#include <ilana/tenants.hpp>

#include <string>
#include <vector>

namespace ilana::detail {

// Differences of `tenant` from `reference`: missing / extra tables,
// columns, type / nullability / default / primary-key differences, and
// (with include_indexes) missing / extra / different indexes. Tables in
// `exclude` are left out. Fills tables, has_drift and issue_count.
TenantSchemaDrift compare_schemas(const TenantSchema &reference, const TenantSchema &tenant,
                                  const std::vector<std::string> &exclude, bool include_indexes,
                                  bool include_defaults);

} // namespace ilana::detail
