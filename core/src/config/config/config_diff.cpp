// Config::diff: what a reload does to each connection, decided from the two
// configs alone (no pool, no driver), so the unit tests ask it directly
// (tests/unit/config_diff_test.cpp). Database::reload carries the plan out.
//
// One rule: a connection's config is one value. Any difference other than
// pool.min / pool.max means a new pool (its sessions were opened with the
// old value, or its statements run with it); min / max alone are a resize
// of the running pool, which keeps its sessions.
#include <ilana/config.hpp>

#include <string>
#include <vector>

namespace ilana {

const char *to_string(ConfigChange::Kind kind) noexcept {
    switch (kind) {
    case ConfigChange::Kind::added: return "added";
    case ConfigChange::Kind::removed: return "removed";
    case ConfigChange::Kind::resized: return "resized";
    case ConfigChange::Kind::replaced: return "replaced";
    }
    return "?";
}

namespace {

bool same_retry(const RetryOptions &a, const RetryOptions &b) {
    return a.max_attempts == b.max_attempts && a.initial_delay_ms == b.initial_delay_ms &&
           a.max_delay_ms == b.max_delay_ms && a.backoff_multiplier == b.backoff_multiplier && a.jitter == b.jitter;
}

// Every pool option but min and max.
bool same_pool_but_size(const PoolOptions &a, const PoolOptions &b) {
    return a.acquire_timeout_ms == b.acquire_timeout_ms && a.create_timeout_ms == b.create_timeout_ms &&
           a.destroy_timeout_ms == b.destroy_timeout_ms && a.idle_timeout_ms == b.idle_timeout_ms &&
           a.reap_interval_ms == b.reap_interval_ms && a.create_retry_interval_ms == b.create_retry_interval_ms &&
           a.max_lifetime_ms == b.max_lifetime_ms && a.validate_idle_after_ms == b.validate_idle_after_ms &&
           a.leak_detection_ms == b.leak_detection_ms;
}

bool same_pool(const PoolOptions &a, const PoolOptions &b) {
    return a.min == b.min && a.max == b.max && same_pool_but_size(a, b);
}

bool same_tenants(const std::optional<TenantsOptions> &a, const std::optional<TenantsOptions> &b) {
    if (!a || !b) return !a && !b;
    return a->connection == b->connection && a->isolation == b->isolation && a->schema_prefix == b->schema_prefix &&
           a->max_pools == b->max_pools && a->pool_ttl_ms == b->pool_ttl_ms && same_pool(a->pool, b->pool) &&
           a->discovery_list == b->discovery_list && a->discovery_query == b->discovery_query &&
           a->discovery_connection == b->discovery_connection &&
           a->migrations_directory == b->migrations_directory;
}

bool uses_tenants(const Config &c, const std::string &name) {
    const auto &t = c.tenants();
    return t && (t->connection == name || t->discovery_connection == name);
}

bool same_debug(const DebugOptions &a, const DebugOptions &b) {
    return a.enabled == b.enabled && a.log_queries == b.log_queries && a.log_pool_events == b.log_pool_events &&
           a.slow_query_threshold_ms == b.slow_query_threshold_ms;
}

bool same_provider(const std::optional<PasswordProviderConfig> &a, const std::optional<PasswordProviderConfig> &b) {
    if (!a || !b) return !a && !b;
    return a->file == b->file && a->command == b->command && a->ttl_ms == b->ttl_ms && a->timeout_ms == b->timeout_ms;
}

// Why the connection needs a new pool ("" when it does not), without the
// replicas rule (below).
std::string replace_reason(const Config &from, const ConnectionConfig &a, const Config &to,
                           const ConnectionConfig &b) {
    if (a.client != b.client) return "client";
    if (a.params != b.params) return "connection parameters";
    if (!same_provider(a.password_provider, b.password_provider)) return "password provider";
    if (a.server != b.server) return "server";
    if (!same_pool_but_size(a.pool, b.pool)) return "pool options";
    const RetryOptions &ra = a.retry ? *a.retry : from.retry();
    const RetryOptions &rb = b.retry ? *b.retry : to.retry();
    if (!same_retry(ra, rb)) return "retry";
    if (a.migrations.directory != b.migrations.directory || a.migrations.table_name != b.migrations.table_name ||
        a.migrations.schema_name != b.migrations.schema_name)
        return "migrations";
    if (a.read_replicas != b.read_replicas || a.read_strategy != b.read_strategy) return "read replicas";
    if (a.sticky_after_write_ms != b.sticky_after_write_ms) return "stickyAfterWriteMs";
    if (a.statement_timeout_ms != b.statement_timeout_ms) return "statementTimeoutMs";
    if (a.use_null_as_default != b.use_null_as_default) return "useNullAsDefault";
    if (a.pgbouncer != b.pgbouncer) return "pgbouncer";
    if (!same_debug(from.debug(), to.debug())) return "debug";
    if ((uses_tenants(from, a.name) || uses_tenants(to, b.name)) && !same_tenants(from.tenants(), to.tenants()))
        return "tenants";
    if (from.base_dir() != to.base_dir()) return "config folder";
    return {};
}

std::string size_change(const PoolOptions &a, const PoolOptions &b) {
    std::string out;
    if (a.min != b.min) out = "pool.min " + std::to_string(a.min) + " -> " + std::to_string(b.min);
    if (a.max != b.max)
        out += (out.empty() ? "" : ", ") + std::string("pool.max ") + std::to_string(a.max) + " -> " +
               std::to_string(b.max);
    return out;
}

} // namespace

std::vector<ConfigChange> Config::diff(const Config &from, const Config &to) {
    using Kind = ConfigChange::Kind;
    std::vector<ConfigChange> out;
    for (const auto &b : to.connections()) {
        const ConnectionConfig *a = from.find(b.name);
        if (a == nullptr) {
            out.push_back({Kind::added, b.name, "new connection (client " + b.client + ")"});
            continue;
        }
        std::string why = replace_reason(from, *a, to, b);
        if (!why.empty()) out.push_back({Kind::replaced, b.name, why});
        else if (!same_pool(a->pool, b.pool)) out.push_back({Kind::resized, b.name, size_change(a->pool, b.pool)});
    }
    // A connection reads through its replicas' pools: when one of them is
    // replaced, the router it made over the old ones is made again.
    for (bool grew = true; grew;) {
        grew = false;
        for (const auto &b : to.connections()) {
            bool listed = false;
            for (auto &c : out)
                if (c.connection == b.name && (c.kind == Kind::replaced || c.kind == Kind::added)) listed = true;
            if (listed) continue;
            for (const auto &replica : b.read_replicas) {
                bool replaced = false;
                for (const auto &c : out)
                    if (c.connection == replica && c.kind == Kind::replaced) replaced = true;
                if (!replaced) continue;
                // A resize of b gives way to the replacement.
                for (auto it = out.begin(); it != out.end(); ++it)
                    if (it->connection == b.name) {
                        out.erase(it);
                        break;
                    }
                out.push_back({Kind::replaced, b.name, "read replica '" + replica + "' replaced"});
                grew = true;
                break;
            }
        }
    }
    for (const auto &a : from.connections())
        if (to.find(a.name) == nullptr) out.push_back({Kind::removed, a.name, "no longer in the config"});
    return out;
}

} // namespace ilana
