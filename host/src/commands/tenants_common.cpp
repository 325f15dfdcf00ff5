// Pieces shared by the tenant commands (declared in tenants_common.hpp): a
// progress display (a bar on a terminal, one line per tenant otherwise),
// tenant id lists, the tenant migrations run.
#include "commands/tenants_common.hpp"

#include <ilana/database.hpp>
#include <ilana/tenants.hpp>

#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <iostream>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace ilana::cli::tenant_cli {

struct ProgressDisplay {
    size_t total = 0, done = 0, failed = 0;
    std::string verb;
    bool tty = false;
    std::mutex mu;
};

std::shared_ptr<ProgressDisplay> start_progress(size_t total, const std::string &verb) {
    auto p = std::make_shared<ProgressDisplay>();
    p->total = total;
    p->verb = verb;
    p->tty = isatty(STDOUT_FILENO) != 0;
    return p;
}

void step_progress(ProgressDisplay &p, const std::string &tenant, const std::string &status, bool failed) {
    std::lock_guard<std::mutex> lock(p.mu);
    ++p.done;
    if (failed) ++p.failed;
    if (!p.tty) {
        std::cout << "[" << p.done << "/" << p.total << "] " << tenant << ": " << status << std::endl;
        return;
    }
    constexpr size_t kWidth = 30;
    const size_t filled = p.total == 0 ? kWidth : p.done * kWidth / p.total;
    std::string bar(filled, '#');
    bar.resize(kWidth, '-');
    std::string name = tenant.size() > 24 ? tenant.substr(0, 21) + "..." : tenant;
    std::cout << "\r\x1b[K" << p.verb << " [" << bar << "] " << p.done << "/" << p.total;
    if (p.failed > 0) std::cout << " (" << p.failed << " failed)";
    std::cout << " " << name << std::flush;
}

void finish_progress(ProgressDisplay &p) {
    std::lock_guard<std::mutex> lock(p.mu);
    if (p.tty && p.total > 0) std::cout << "\n";
}

// "a,b,c" -> ids, each validated (a bad id is a usage error naming it).
std::vector<std::string> parse_tenant_list(const std::string &csv) {
    std::vector<std::string> out;
    size_t start = 0;
    while (start <= csv.size()) {
        size_t comma = csv.find(',', start);
        std::string id = csv.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
        id.erase(0, id.find_first_not_of(" \t"));
        id.erase(id.find_last_not_of(" \t") + 1);
        if (!id.empty()) {
            try {
                TenantManager::validate_id(id);
            } catch (const Error &e) {
                throw UsageError(e.what());
            }
            if (std::find(out.begin(), out.end(), id) == out.end()) out.push_back(id);
        }
        if (comma == std::string::npos) break;
        start = comma + 1;
    }
    if (out.empty()) throw UsageError("no tenant ids given");
    return out;
}

// A single id from the command line, validated.
std::string tenant_arg(const std::string &id) {
    try {
        TenantManager::validate_id(id);
    } catch (const Error &e) {
        throw UsageError(e.what());
    }
    return id;
}

std::string seconds(int64_t ms) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.1f s", static_cast<double>(ms) / 1000.0);
    return ms < 1000 ? std::to_string(ms) + " ms" : std::string(buf);
}

// `ilana migrate --tenants` and `ilana tenants:migrate`: every tenant (or
// `only`), `concurrency` at a time, a progress display and a summary; exit 1
// when any tenant failed. One tenant failing does not stop the others.
int migrate_tenants(const Globals &g, const std::vector<std::string> &only, int concurrency, const MigrateOptions &mo) {
    if (concurrency < 1) throw UsageError("--concurrency needs a number >= 1");
    Database db = open_database(g);
    TenantManager tenants(db);
    TenantsMigrateOptions opts;
    opts.tenant_ids = only.empty() ? tenants.discover() : only;
    opts.concurrency = concurrency;
    opts.migrate = mo;
    opts.migrate.on_applied = nullptr; // the per-tenant summary says it
    if (opts.tenant_ids.empty()) {
        std::cout << "no tenants found (discovery: " << tenants.discovery_source() << ")\n";
        return kExitOk;
    }
    auto progress = start_progress(opts.tenant_ids.size(), "migrating");
    opts.on_progress = [&](const TenantMigrateResult &r) {
        step_progress(*progress, r.tenant_id,
                      r.success ? (r.applied.empty() ? "up to date" : std::to_string(r.applied.size()) + " applied")
                                : "FAILED",
                      !r.success);
    };
    TenantsMigrateResult r = tenants.migrate_all(opts);
    finish_progress(*progress);
    size_t applied = 0;
    for (const auto &d : r.details) applied += d.applied.size();
    std::cout << "Migrated " << r.total << " tenant(s): " << r.succeeded << " succeeded, " << r.failed << " failed, "
              << applied << " migration(s) applied in " << seconds(r.duration_ms) << "\n";
    for (const auto &d : r.details)
        if (!d.success) std::cout << "  \u2717 " << d.tenant_id << ": " << d.error << "\n";
    return r.failed > 0 ? kExitFailed : kExitOk;
}

} // namespace ilana::cli::tenant_cli
