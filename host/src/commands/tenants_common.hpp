// Pieces shared by the tenant commands (tenants_command.cpp,
// warmup_command.cpp, `migrate --tenants`, `health --tenant`), defined in
// tenants_common.cpp.
#pragma once

#include "command.hpp"

#include <ilana/migrator.hpp>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace ilana::cli::tenant_cli {

// Progress over many tenants: a bar on a terminal, one line per tenant
// otherwise.
struct ProgressDisplay;
std::shared_ptr<ProgressDisplay> start_progress(size_t total, const std::string &verb);
void step_progress(ProgressDisplay &p, const std::string &tenant, const std::string &status, bool failed);
void finish_progress(ProgressDisplay &p);

// "a,b,c" -> ids, each validated (a bad id is a usage error naming it).
std::vector<std::string> parse_tenant_list(const std::string &csv);
// A single id from the command line, validated.
std::string tenant_arg(const std::string &id);
// "850 ms", "12.3 s".
std::string seconds(int64_t ms);

// `migrate --tenants` and `tenants:migrate`: every tenant (or `only`),
// `concurrency` at a time, a progress display and a summary; exit 1 when any
// tenant failed.
int migrate_tenants(const Globals &g, const std::vector<std::string> &only, int concurrency, const MigrateOptions &mo);

} // namespace ilana::cli::tenant_cli
