// tenants.cpp — tenants_warmup: placeholder until the TenantManager lands.
#include "harness.hpp"

namespace bench {

void add_tenant_workloads(std::vector<Workload> &out) {
    Workload w;
    w.name = "tenants_warmup";
    w.what = "1 000 SQLite file tenants + 200 PostgreSQL schema tenants, warmup concurrency 8";
    w.report = [](Context &) {
        Report r;
        r.skipped = "the TenantManager (ilana/tenants.hpp) is not part of this build yet";
        return r;
    };
    out.push_back(std::move(w));
}

} // namespace bench
