// The shared state behind TenantManager handles: the template, the tenant
// pools (a TenantPoolTable guarded by one mutex), pinning, eviction, and the
// namespace extension. One per Database: it is the Database's extra pool
// source (db/pool_access.hpp, through which metrics, health and
// Database::close reach the pools), so every TenantManager made from one
// Database shares it.
#pragma once

#include <ilana/tenants.hpp>

#include "db/pool_access.hpp"
#include "tenants/pool_table.hpp"

#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

namespace ilana::detail {

struct TenantState final : ExtraPoolSource, std::enable_shared_from_this<TenantState> {
    using Table = TenantPoolTable<ConnectionState>;
    using Clock = Table::Clock;

    // The one state of `db`, made (and validated) on first use.
    static std::shared_ptr<TenantState> of(const Database &db);
    ~TenantState();

    // ---- fixed at construction ----
    std::weak_ptr<DatabaseState> db;   // weak: the Database owns us
    std::shared_ptr<const Config> config;
    TenantsOptions options;
    Connection template_conn;          // "tenants": {"connection"}
    ConnectionConfig tenant_cc;        // the template's config with the tenant pool options
    std::shared_ptr<LoadedDriver> driver;
    const ilana_namespace_api *ns = nullptr;
    int isolation = 0;                 // ILANA_NAMESPACE_*
    std::string param_key;             // the connect parameter the namespace goes into
    std::string file_template;         // file isolation: the template's value of param_key

    // ---- pools ----
    // Waits for a free pool at most the tenant pool's acquireTimeoutMillis.
    Connection get(const std::string &id);
    // Pools for metrics and health (pinned while the caller holds them, without
    // counting as use for LRU and TTL).
    std::vector<ExtraPool> list_pools() override;
    // Closes pools unused for poolTtlMs (called by the sweeper thread).
    void sweep(Clock::time_point now);
    // Closes one tenant's pool (false: it has none); throws Error when in use.
    bool evict(const std::string &id, const std::string &reason);
    void close_all(const char *reason) override;
    std::pair<uint64_t, uint64_t> pools_evicted() const override; // {LRU, TTL}
    TenantPoolStats stats() const;
    bool is_warm(const std::string &id) const;
    std::vector<std::string> warm_tenants() const;
    // Called when the last holder of a pin lets go.
    void release(Table::Entry &entry, bool touch) noexcept;

    // ---- namespaces (tenant_namespaces.cpp) ----
    // Whether the driver says `name` is one of the database's own
    // namespaces (ilana_namespace_api.is_system, ABI 1.2).
    bool is_system_namespace(const std::string &name) const;
    // schemaPrefix + id, or the file path (relative paths resolved against
    // the config's folder). Validates the id and refuses a system namespace
    // (every tenant operation starts here).
    std::string namespace_of(const std::string &id) const;
    std::vector<std::string> list_namespaces_tenants() const;
    bool namespace_exists(const std::string &id) const;
    void create_namespace(const std::string &id) const;
    void drop_namespace(const std::string &id) const;
    std::vector<std::string> discover() const;

    std::string pool_name(const std::string &id) const { return template_conn.name() + "@" + id; }

private:
    TenantState(const Database &db, Connection template_connection);
    // A new state for `db`, its tenants section checked against the template's driver.
    static std::shared_ptr<TenantState> make(const Database &db);
    std::shared_ptr<ConnectionState> pin_locked(const Table::EntryPtr &e, bool touch);
    std::shared_ptr<ConnectionState> open_pool(const std::string &id);
    std::vector<std::pair<std::string, std::string>> overrides(const std::string &id) const;

    mutable std::mutex mu_;
    std::condition_variable cv_;
    int waiters_ = 0;
    bool closed_ = false;
    Table table_;
    uint64_t waits_ = 0, wait_timeouts_ = 0;
};

} // namespace ilana::detail
