// ilana/tenants.hpp — a pool per tenant over a template connection.
//
//   auto db = ilana::Database::open("ilana.config.json");
//   ilana::TenantManager tenants(db);              // the config's "tenants" section
//   tenants.get("acme").query("SELECT * FROM users");  // pool of tenant "acme", made on first use
//   ilana::Connection c = tenants.get_async("acme").get(); // pinged, retried
//   ilana::WarmupResult w = tenants.warmup({"acme", "globex"}, {8});
//   tenants.migrate_all();                          // tenant migrations, every tenant
//   ilana::SchemaDriftResult d = tenants.drift();   // compare every tenant with a reference
//   tenants.clone_tenant("acme", "acme-staging", {true});
//
// Isolation ("tenants": {"isolation"}), through the driver's
// "ilana.namespace/1" extension, which must agree with the config:
//   schema   (PostgreSQL)     the namespace is schemaPrefix + id, selected by
//                             the "search_path" connect parameter;
//   database (MySQL/MariaDB)  schemaPrefix + id, in "database";
//   file     (SQLite)         the template's "filename" with "{tenant}"
//                             replaced by the id.
// A tenant's pool is the template connection with that one parameter
// replaced, named "<template>@<id>" in hooks, logs, errors and metrics
// (label tenant="<id>"), sized by "tenants": {"pool"}.
//
// Tenant ids: 1 to 63 characters, letters, digits, '_' and '-'. Anything
// else is an ilana::Error (class config) naming the id, before any SQL.
//
// Pools: made lazily by get(). At most "maxPools" exist. A pool is *in use*
// while any Connection or Session obtained from it (or a Migrator, a seed
// function's Connection, ...) is alive; a pool in use is never closed under
// its users. When a new tenant needs a pool and maxPools are open, the least
// recently used pool that is not in use is closed (onPoolEvicted reason
// "lru"); when every pool is in use, get() waits for one to be released, at
// most the tenant pool's acquireTimeoutMillis, then throws PoolTimeout: the
// count of open pools never exceeds maxPools. A pool not in use for
// "poolTtlMs" (0: never) is closed by one background thread shared by every
// TenantManager of the process (reason "ttl_expired"). So hold tenant
// Connections per request, not for the life of the program: a Connection
// kept forever pins its pool.
//
// Lifetimes: a TenantManager is a cheap handle; every TenantManager made
// from the same Database shares one set of tenant pools, which lives as
// long as the Database (its metrics and health include the tenant pools).
// Connections from get() stay usable after the manager handle is gone.
//
// Thread safety: every member may be called from any number of threads at
// once. Callbacks (on_progress, seed functions) run on worker threads;
// on_progress calls are serialised.
//
// Exceptions: ConfigError when the config has no "tenants" section or its
// isolation does not match the driver; ilana::Error for a bad tenant id and
// for database failures. The batch operations (warmup, seed_*, migrate_all,
// drift) never throw for one tenant's failure: it is in their result.
#pragma once

#include <ilana/database.hpp>
#include <ilana/migrator.hpp>
#include <ilana/schema.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <future>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace ilana {

namespace detail {
struct TenantState;
}

// ---- warmup -------------------------------------------------------------------

struct WarmupOptions {
    int concurrency = 10;
    bool ping = true; // open a session and ping it (else only create the pool)
    // After each tenant: its id and status ("success", "already_warm", "failed").
    std::function<void(const std::string &tenant_id, const std::string &status)> on_progress;
};

struct TenantWarmupResult {
    std::string tenant_id;
    std::string status; // success | already_warm | failed
    int64_t duration_ms = 0;
    std::string error;  // "" unless failed
};

struct WarmupResult {
    int total = 0, succeeded = 0, failed = 0, already_warm = 0;
    int64_t duration_ms = 0;
    std::vector<TenantWarmupResult> details; // in the order of the ids given
    // {"total","succeeded","failed","alreadyWarm","durationMs","details":[{"tenantId","status","durationMs","error"}]}
    std::string to_json() const;
};

// ---- seeding ------------------------------------------------------------------

// Gets a Connection scoped to the tenant, and the tenant's id.
using SeedFn = std::function<void(Connection &tenant, const std::string &tenant_id)>;

struct SeedOptions {
    int concurrency = 10;
    std::function<void(const std::string &tenant_id, const std::string &status)> on_progress; // success | failed
};

struct TenantSeedResult {
    std::string tenant_id;
    std::string namespace_name;
    bool success = false;
    int64_t duration_ms = 0;
    std::string error;
};

struct SeedResult {
    int total = 0, succeeded = 0, failed = 0;
    int64_t duration_ms = 0;
    std::vector<TenantSeedResult> details;
    std::string to_json() const;
};

// ---- migrations -----------------------------------------------------------------

struct TenantMigrateResult {
    std::string tenant_id;
    bool success = false;
    std::vector<AppliedMigration> applied;
    int64_t duration_ms = 0;
    std::string error;
};

struct TenantsMigrateOptions {
    std::vector<std::string> tenant_ids; // empty: every discovered tenant
    int concurrency = 10;
    MigrateOptions migrate;              // on_applied is called from worker threads
    std::function<void(const TenantMigrateResult &)> on_progress;
};

struct TenantsMigrateResult {
    int total = 0, succeeded = 0, failed = 0;
    int64_t duration_ms = 0;
    std::vector<TenantMigrateResult> details;
    std::string to_json() const;
};

// ---- schema drift ---------------------------------------------------------------

// Everything introspection says about one tenant's namespace.
struct TenantSchema {
    std::string tenant_id;
    std::string namespace_name;
    std::vector<TableInfo> tables;
    std::vector<ColumnInfo> columns;
    std::vector<IndexInfo> indexes;
};

struct ColumnDrift {
    std::string column;
    std::string type; // missing | extra | type_mismatch | nullable_mismatch | default_mismatch | primary_key_mismatch
    std::string expected, actual; // reference's and tenant's ("" when not applicable)
    std::string description;
};

struct IndexDrift {
    std::string index;
    std::string type; // missing | extra | definition_mismatch
    std::string expected, actual;
    std::string description;
};

struct TableDrift {
    std::string table;
    std::string status; // ok | missing | extra | drifted
    std::vector<ColumnDrift> columns;
    std::vector<IndexDrift> indexes;
};

struct TenantSchemaDrift {
    std::string tenant_id;
    std::string namespace_name;
    bool has_drift = false;
    int issue_count = 0;
    std::vector<TableDrift> tables; // only tables with a difference
    std::string error;              // introspection failed ("" otherwise)
};

struct DriftOptions {
    std::string reference;               // "": the first discovered tenant
    std::vector<std::string> tenant_ids; // empty: every discovered tenant
    int concurrency = 4;
    bool include_indexes = true;
    bool include_defaults = true;
    // Left out of the comparison; default: the tenant migrations table.
    std::optional<std::vector<std::string>> exclude_tables;
};

struct SchemaDriftResult {
    std::string reference_tenant;
    int total = 0, no_drift = 0, with_drift = 0, error = 0;
    std::vector<TenantSchemaDrift> details; // the reference included (no drift)
    std::string timestamp;                  // ISO 8601 UTC
    int64_t duration_ms = 0;
    // camelCase keys like the seed: referenceTenant, noDrift, withDrift, ...
    std::string to_json() const;
};

// ---- cloning -------------------------------------------------------------------

struct AnonymizeOptions {
    bool enabled = false;
    // table -> column -> replacement: nullopt writes NULL; "email", "phone",
    // "name" write generated values (anon1@example.invalid, +1-555-0000001,
    // Anonymous 1); any other string is written as that literal.
    std::map<std::string, std::map<std::string, std::optional<std::string>>> rules;
    // {"enabled": true, "rules": {...}} or just the rules object; throws
    // Error (class config) naming what is wrong.
    static AnonymizeOptions from_json(const std::string &json_text);
    // from_json of a file's text; a file that is missing, not a regular file
    // or larger than 4 MiB is an Error (class config) naming it.
    static AnonymizeOptions from_file(const std::string &path);
};

struct CloneOptions {
    bool include_data = false;
    AnonymizeOptions anonymize;
    int batch_rows = 500; // rows per INSERT (fewer when the driver's max_params needs it)
};

struct CloneResult {
    std::string source, target;
    std::vector<std::string> tables; // created, in the order their rows were copied
    std::vector<std::string> views;  // created, in dependency order
    int64_t rows_copied = 0;
    int64_t duration_ms = 0;
};

// ---- pools ----------------------------------------------------------------------

struct TenantPoolStats {
    int open_pools = 0; // pools that exist now (closing ones included)
    int max_pools = 0;
    int in_use = 0;     // pools with a Connection or Session out
    uint64_t created = 0, evicted_lru = 0, evicted_ttl = 0, evicted_other = 0;
    uint64_t waits = 0, wait_timeouts = 0; // get() calls that had to wait for a free pool
};

struct CreateTenantOptions {
    bool migrate = true; // run the tenant migrations when the directory exists
};

class TenantManager {
public:
    // The tenant pools of `db` (made on first use, then shared). Throws
    // ConfigError when the config has no "tenants" section, when the
    // template connection's driver has no "ilana.namespace/1" or another
    // isolation, or when a file template lacks "{tenant}".
    explicit TenantManager(const Database &db);

    // A Connection scoped to the tenant. Cheap when the pool exists; may
    // wait for a free pool (see the header comment); throws Error for a bad
    // id, PoolTimeout when no pool frees up in time.
    Connection get(std::string_view tenant_id) const;
    // get() plus a ping on a leased session, retried with the template
    // connection's retry settings (the seed's getDbAsync, synchronously).
    Connection get_validated(std::string_view tenant_id) const;
    // get_validated on another thread.
    std::future<Connection> get_async(std::string tenant_id) const;
    // The template connection itself ("tenants": {"connection"}). With file
    // isolation its own filename holds "{tenant}": do not query it.
    Connection shared() const;
    std::future<Connection> shared_async() const;

    // Throws Error (class config) naming the id when it is not valid.
    static void validate_id(std::string_view tenant_id);
    // schemaPrefix + id (schema, database), or the file's path (file).
    // Throws Error (config) when that names one of the database's own
    // namespaces (pg_catalog, public, mysql, ...): never a tenant.
    std::string namespace_of(std::string_view tenant_id) const;

    // Tenants from "discovery": {"list"}, else "discovery": {"query"} (first
    // column of each row; invalid ids are left out with a warning), else the
    // namespaces that exist (the driver's list with schemaPrefix, or the
    // files matching the template). Sorted, unique.
    std::vector<std::string> discover() const;
    // Where discover() looks: "list", "query" or "namespace".
    std::string discovery_source() const;
    // Whether the tenant's namespace exists (schema, database or file).
    bool exists(std::string_view tenant_id) const;
    // Creates the namespace (nothing when it exists), then runs the tenant
    // migrations unless disabled or the directory is missing.
    MigrateReport create_tenant(std::string_view tenant_id, const CreateTenantOptions &options = {}) const;
    // Closes the tenant's pool and drops its namespace with all its data.
    // Throws Error when the pool is in use.
    void drop_tenant(std::string_view tenant_id) const;

    // Pools.
    bool is_warm(std::string_view tenant_id) const; // has an open pool
    std::vector<std::string> warm_tenants() const;  // sorted
    TenantPoolStats stats() const;
    // Closes the tenant's pool now (onPoolEvicted `reason`); false when it
    // has none. Throws Error when it is in use.
    bool evict(std::string_view tenant_id, const std::string &reason = "manual") const;
    // Closes every tenant pool (reason "shutdown"; sessions out on lease are
    // closed when returned). get() throws afterwards.
    void close() const;

    WarmupResult warmup(const std::vector<std::string> &tenant_ids, const WarmupOptions &options = {}) const;

    // Migrations of one tenant: "tenants": {"migrations": {"directory"}},
    // table ilana_migrations in the tenant's namespace.
    Migrator migrator(std::string_view tenant_id) const;
    TenantMigrateResult migrate_tenant(std::string_view tenant_id, const MigrateOptions &options = {}) const;
    TenantsMigrateResult migrate_all(const TenantsMigrateOptions &options = {}) const;

    // Seeding: `fn` runs with a Connection scoped to each tenant; an
    // exception from it fails that tenant only.
    TenantSeedResult seed_tenant(std::string_view tenant_id, const SeedFn &fn) const;
    SeedResult seed_tenants(const std::vector<std::string> &tenant_ids, const SeedFn &fn,
                            const SeedOptions &options = {}) const;
    SeedResult seed_all(const SeedFn &fn, const SeedOptions &options = {}) const;
    // Runs the statements of an SQL file (split like migration files, sent as
    // written) in one transaction per tenant where the database allows it.
    SeedResult seed_file(const std::vector<std::string> &tenant_ids, const std::string &sql_file,
                         const SeedOptions &options = {}) const;

    // Schema drift through the driver's introspection.
    TenantSchema introspect(std::string_view tenant_id) const;
    TenantSchemaDrift compare(std::string_view tenant_id, std::string_view reference_id,
                              const DriftOptions &options = {}) const;
    SchemaDriftResult drift(const DriftOptions &options = {}) const;

    // Creates `target` (which must not have tables) with every object of
    // `source`, from the statements the driver gives ("ilana.ddl/1"):
    // tables, sequences and identity / AUTO_INCREMENT columns, keys, unique
    // and check constraints, indexes, defaults, foreign keys, views in
    // dependency order. Copies the rows when include_data (in batches,
    // bound parameters, one transaction per table, anonymized columns
    // replaced), then the source's counters, so the next id continues the
    // source's; without data the ids start afresh. The migrations table's
    // rows are always copied, so the clone is at the same migration. What
    // the driver cannot recreate is an Error naming it; on failure the
    // target namespace is dropped again when this call created it. Throws
    // Error (config) for a driver without "ilana.ddl/1".
    CloneResult clone_tenant(std::string_view source_id, std::string_view target_id,
                             const CloneOptions &options = {}) const;

    const TenantsOptions &options() const noexcept;
    const Database &database() const noexcept { return db_; }

private:
    Database db_;
    std::shared_ptr<detail::TenantState> state_;
};

} // namespace ilana
