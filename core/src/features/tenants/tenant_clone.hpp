// Cloning a tenant: the driver's "ilana.ddl/1" gives the statements that
// recreate the source namespace; the core runs them around a generic copy
// of the rows (bound parameters, anonymization). The core writes no DDL of
// its own. Pure parts are unit-tested (tests/unit/tenants_drift_clone_test.cpp).
#pragma once

#include <ilana/tenants.hpp>
#include <ilana/value.hpp>

#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace ilana::detail {

// One row of ilana_ddl_api.clone_namespace's result.
struct DdlStatement {
    int64_t step = 0;          // ILANA_DDL_*
    std::string kind;          // "table", "sequence", "view", ...
    std::string name;
    std::optional<std::string> table;
    std::string sql;
};

// The statements of `step` to run, in order. ILANA_DDL_DATA_STATE ones
// follow the rows: only those of a table in `copied`, and those of no table
// only `with_data`, so a schema-only clone (which copies the migration
// history alone) starts its other counters afresh.
std::vector<const DdlStatement *> statements_of_step(const std::vector<DdlStatement> &all, int64_t step,
                                                     const std::set<std::string> &copied, bool with_data);

// The tables whose rows are copied, in the order the driver creates them
// (step ILANA_DDL_BEFORE_DATA, kind "table").
std::vector<std::string> tables_in_copy_order(const std::vector<DdlStatement> &all);

// The replacement value of an anonymization rule for row `row_number`
// (1-based): NULL, a generated email / phone / name, or the literal.
Value anonymized_value(const std::optional<std::string> &rule, int64_t row_number);

} // namespace ilana::detail
