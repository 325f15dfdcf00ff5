// TenantManager: the handle over TenantState; pools, warmup, migrations and
// seeding across tenants. Schema drift is in schema_drift.cpp, cloning in
// tenant_clone.cpp.
#include <ilana/tenants.hpp>

#include <ilana/logging.hpp>
#include <ilana/retry.hpp>

#include "common/text_file.hpp"
#include "migrate/sql_splitter.hpp"
#include "tenants/parallel.hpp"
#include "tenants/tenant_id.hpp"
#include "tenants/tenant_state.hpp"
#include "log/call_hook.hpp"
#include "log/log_events.hpp"

#include <spdlog/spdlog.h>

#include <filesystem>
#include <fstream>
#include <sstream>

namespace ilana {

using detail::TenantState;

namespace {

using Clock = std::chrono::steady_clock;

int64_t ms_since(Clock::time_point t0) {
    return std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - t0).count();
}

// Progress callbacks run on worker threads, one at a time (under `mu`); one
// that throws is logged and ignored.
template <class Fn, class... Args> void notify(std::mutex &mu, const Fn &fn, Args &&...args) {
    if (!fn) return;
    std::lock_guard<std::mutex> lock(mu);
    detail::call_hook(fn, "on_progress", std::forward<Args>(args)...);
}

detail::SqlDialect split_dialect(const Dialect &d) {
    if (d.dollar_placeholders) return detail::SqlDialect::postgres;
    if (d.identifier_quote == '`') return detail::SqlDialect::mysql;
    return detail::SqlDialect::generic;
}

} // namespace

TenantManager::TenantManager(const Database &db) : db_(db), state_(TenantState::of(db)) {}

const TenantsOptions &TenantManager::options() const noexcept { return state_->options; }

void TenantManager::validate_id(std::string_view tenant_id) { detail::validate_tenant_id(tenant_id); }

std::string TenantManager::namespace_of(std::string_view tenant_id) const {
    return state_->namespace_of(std::string(tenant_id));
}

Connection TenantManager::get(std::string_view tenant_id) const { return state_->get(std::string(tenant_id)); }

Connection TenantManager::get_validated(std::string_view tenant_id) const {
    const std::string id(tenant_id);
    detail::validate_tenant_id(id);
    const detail::ConnectionState &tcs = detail::state_of(state_->template_conn);
    const std::string name = state_->pool_name(id);
    RetrySettings settings;
    settings.options = detail::retry_options_of(tcs);
    const Hooks &hooks = detail::hooks_of(tcs);
    settings.on_retry = [&](int attempt, const std::exception &e, std::chrono::milliseconds delay) {
        detail::log_connection_retry(name, attempt, settings.options.max_attempts, delay.count(), e.what());
        const auto *err = dynamic_cast<const Error *>(&e);
        if (err != nullptr) detail::call_hook(hooks.on_retry, "onRetry", name, attempt, *err, delay);
    };
    return with_retry(
        [&] {
            Connection c = state_->get(id);
            {
                Session s = c.acquire();
                s.ping(static_cast<int>(std::min<int64_t>(std::max<int64_t>(1, state_->options.pool.create_timeout_ms), 5000)));
            }
            return c;
        },
        settings);
}

std::future<Connection> TenantManager::get_async(std::string tenant_id) const {
    TenantManager self = *this;
    return std::async(std::launch::async, [self, id = std::move(tenant_id)] { return self.get_validated(id); });
}

Connection TenantManager::shared() const { return state_->template_conn; }

std::future<Connection> TenantManager::shared_async() const {
    Connection c = state_->template_conn;
    return std::async(std::launch::async, [c] {
        RetrySettings settings;
        settings.options = detail::retry_options_of(detail::state_of(c));
        with_retry([&] { c.acquire().ping(5000); }, settings);
        return c;
    });
}

std::vector<std::string> TenantManager::discover() const { return state_->discover(); }

std::string TenantManager::discovery_source() const {
    if (!state_->options.discovery_list.empty()) return "list";
    if (!state_->options.discovery_query.empty()) return "query";
    return "namespace";
}

bool TenantManager::exists(std::string_view tenant_id) const {
    return state_->namespace_exists(std::string(tenant_id));
}

MigrateReport TenantManager::create_tenant(std::string_view tenant_id, const CreateTenantOptions &options) const {
    const std::string id(tenant_id);
    state_->create_namespace(id);
    ilana::logger()->info("tenants: created namespace {} for tenant {}", state_->namespace_of(id), id);
    std::error_code ec;
    if (!options.migrate || !std::filesystem::is_directory(state_->options.migrations_directory, ec)) return {};
    return migrator(id).migrate();
}

void TenantManager::drop_tenant(std::string_view tenant_id) const {
    const std::string id(tenant_id);
    state_->evict(id, "dropped");
    state_->drop_namespace(id);
    ilana::logger()->info("tenants: dropped namespace {} of tenant {}", state_->namespace_of(id), id);
}

bool TenantManager::is_warm(std::string_view tenant_id) const { return state_->is_warm(std::string(tenant_id)); }
std::vector<std::string> TenantManager::warm_tenants() const { return state_->warm_tenants(); }
TenantPoolStats TenantManager::stats() const { return state_->stats(); }
bool TenantManager::evict(std::string_view tenant_id, const std::string &reason) const {
    return state_->evict(std::string(tenant_id), reason);
}
void TenantManager::close() const { state_->close_all("shutdown"); }

// ---- warmup -----------------------------------------------------------------

WarmupResult TenantManager::warmup(const std::vector<std::string> &tenant_ids, const WarmupOptions &options) const {
    const auto start = Clock::now();
    WarmupResult result;
    result.total = static_cast<int>(tenant_ids.size());
    result.details.resize(tenant_ids.size());
    if (result.total > state_->options.max_pools)
        ilana::logger()->warn("tenants: warming {} tenants with maxPools={}: the least recently used pools are "
                              "evicted again, only {} stay warm",
                              result.total, state_->options.max_pools, state_->options.max_pools);
    std::mutex progress_mu;
    detail::run_parallel(tenant_ids.size(), options.concurrency, [&](size_t i) {
        TenantWarmupResult &d = result.details[i];
        d.tenant_id = tenant_ids[i];
        const auto t0 = Clock::now();
        try {
            detail::validate_tenant_id(d.tenant_id);
            const bool warm = state_->is_warm(d.tenant_id);
            Connection c = state_->get(d.tenant_id);
            if (options.ping) c.acquire().ping(5000);
            d.status = warm ? "already_warm" : "success";
        } catch (const std::exception &e) {
            d.status = "failed";
            d.error = e.what();
        }
        d.duration_ms = ms_since(t0);
        notify(progress_mu, options.on_progress, d.tenant_id, d.status);
    });
    for (const auto &d : result.details) {
        if (d.status == "success") ++result.succeeded;
        else if (d.status == "already_warm") ++result.already_warm;
        else ++result.failed;
    }
    result.duration_ms = ms_since(start);
    return result;
}

// ---- migrations ---------------------------------------------------------------

Migrator TenantManager::migrator(std::string_view tenant_id) const {
    const std::string id(tenant_id);
    MigrationsOptions mo;
    mo.directory = state_->options.migrations_directory;
    // The table lives in the tenant's namespace. Naming the schema (database)
    // explicitly also gives every tenant its own migration lock, so tenants
    // migrate in parallel; a file is its own lock anyway.
    if (state_->isolation != ILANA_NAMESPACE_FILE) mo.schema_name = state_->namespace_of(id);
    return Migrator(db_, state_->get(id), mo);
}

TenantMigrateResult TenantManager::migrate_tenant(std::string_view tenant_id, const MigrateOptions &options) const {
    TenantMigrateResult r;
    r.tenant_id = std::string(tenant_id);
    const auto t0 = Clock::now();
    try {
        MigrateReport report = migrator(r.tenant_id).migrate(options);
        r.applied = std::move(report.applied);
        r.success = true;
    } catch (const std::exception &e) {
        r.error = e.what();
    }
    r.duration_ms = ms_since(t0);
    return r;
}

TenantsMigrateResult TenantManager::migrate_all(const TenantsMigrateOptions &options) const {
    const auto start = Clock::now();
    const std::vector<std::string> ids = options.tenant_ids.empty() ? discover() : options.tenant_ids;
    TenantsMigrateResult result;
    result.total = static_cast<int>(ids.size());
    result.details.resize(ids.size());
    std::mutex progress_mu;
    // More workers than pools would only wait for each other's pools.
    const int concurrency = std::min(options.concurrency, state_->options.max_pools);
    detail::run_parallel(ids.size(), concurrency, [&](size_t i) {
        result.details[i] = migrate_tenant(ids[i], options.migrate);
        notify(progress_mu, options.on_progress, result.details[i]);
    });
    for (const auto &d : result.details) (d.success ? result.succeeded : result.failed) += 1;
    result.duration_ms = ms_since(start);
    return result;
}

// ---- seeding --------------------------------------------------------------------

TenantSeedResult TenantManager::seed_tenant(std::string_view tenant_id, const SeedFn &fn) const {
    TenantSeedResult r;
    r.tenant_id = std::string(tenant_id);
    const auto t0 = Clock::now();
    try {
        r.namespace_name = state_->namespace_of(r.tenant_id);
        Connection c = state_->get(r.tenant_id);
        fn(c, r.tenant_id);
        r.success = true;
    } catch (const std::exception &e) {
        r.error = e.what();
    } catch (...) {
        r.error = "the seed function threw a non-exception";
    }
    r.duration_ms = ms_since(t0);
    return r;
}

SeedResult TenantManager::seed_tenants(const std::vector<std::string> &tenant_ids, const SeedFn &fn,
                                       const SeedOptions &options) const {
    const auto start = Clock::now();
    SeedResult result;
    result.total = static_cast<int>(tenant_ids.size());
    result.details.resize(tenant_ids.size());
    std::mutex progress_mu;
    const int concurrency = std::min(options.concurrency, state_->options.max_pools);
    detail::run_parallel(tenant_ids.size(), concurrency, [&](size_t i) {
        result.details[i] = seed_tenant(tenant_ids[i], fn);
        notify(progress_mu, options.on_progress, result.details[i].tenant_id,
               std::string(result.details[i].success ? "success" : "failed"));
    });
    for (const auto &d : result.details) (d.success ? result.succeeded : result.failed) += 1;
    result.duration_ms = ms_since(start);
    return result;
}

SeedResult TenantManager::seed_all(const SeedFn &fn, const SeedOptions &options) const {
    return seed_tenants(discover(), fn, options);
}

SeedResult TenantManager::seed_file(const std::vector<std::string> &tenant_ids, const std::string &sql_file,
                                    const SeedOptions &options) const {
    std::string text;
    try {
        text = detail::read_text_file(sql_file, detail::kSqlFileLimit, "seed file");
    } catch (const detail::TextFileError &e) {
        throw Error(std::string("tenants: ") + e.what(), ErrorClass::config);
    }
    std::vector<detail::SqlStatement> statements;
    try {
        statements = detail::split_sql(text, split_dialect(state_->template_conn.dialect()));
    } catch (const detail::SqlSplitError &e) {
        throw Error("tenants: " + sql_file + ":" + std::to_string(e.line) + ": " + e.what(), ErrorClass::syntax);
    }
    return seed_tenants(
        tenant_ids,
        [&](Connection &c, const std::string &) {
            Session s = c.acquire();
            s.begin();
            for (const auto &st : statements) {
                try {
                    // Sent as written, like a migration: no ? rewriting.
                    detail::NativeResult r = detail::native(s).execute(st.text, nullptr, 0, 0);
                    r.close();
                } catch (Error &e) {
                    e.add_context({}, " (" + sql_file + ":" + std::to_string(st.line) + ")");
                    throw; // keeps its type
                }
            }
            s.commit();
        },
        options);
}

} // namespace ilana
