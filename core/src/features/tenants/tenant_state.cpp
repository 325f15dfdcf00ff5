// TenantState: validation of the "tenants" section against the driver,
// lazy tenant pools with pinning, LRU and TTL eviction, and the one sweeper
// thread of the process.
#include "common/error_factory.hpp"
#include "tenants/tenant_state.hpp"

#include <ilana/logging.hpp>

#include "log/call_hook.hpp"
#include "tenants/tenant_id.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cstddef>
#include <thread>

namespace ilana::detail {

namespace {

const char *isolation_name(int kind) {
    switch (kind) {
    case ILANA_NAMESPACE_SCHEMA: return "schema";
    case ILANA_NAMESPACE_DATABASE: return "database";
    case ILANA_NAMESPACE_FILE: return "file";
    default: return "unknown";
    }
}

int isolation_kind(const std::string &name) {
    if (name == "schema") return ILANA_NAMESPACE_SCHEMA;
    if (name == "database") return ILANA_NAMESPACE_DATABASE;
    if (name == "file") return ILANA_NAMESPACE_FILE;
    return 0;
}

// Keeps a tenant's pool pinned while any copy of the Connection (or a
// Session, Transaction, Migrator made from it) lives: the aliasing
// shared_ptr handed to Connection shares this object's count.
struct TenantPin {
    std::weak_ptr<TenantState> owner;
    TenantState::Table::EntryPtr entry;
    bool touch = true;
    ~TenantPin() {
        if (auto o = owner.lock()) o->release(*entry, touch);
    }
};

// The one thread that closes expired tenant pools of every TenantState of
// the process (like the pool Maintainer: never a thread per pool).
class TenantSweeper {
public:
    static TenantSweeper &instance() {
        static TenantSweeper s;
        return s;
    }
    void add(const std::shared_ptr<TenantState> &s) {
        std::lock_guard<std::mutex> lock(mu_);
        states_.push_back(s);
        if (!started_) {
            started_ = true;
            thread_ = std::thread([this] { run(); });
        }
        cv_.notify_one();
    }
    ~TenantSweeper() {
        {
            std::lock_guard<std::mutex> lock(mu_);
            stop_ = true;
        }
        cv_.notify_one();
        if (thread_.joinable()) thread_.join();
    }

private:
    TenantSweeper() = default;
    void run() {
        std::unique_lock<std::mutex> lock(mu_);
        while (!stop_) {
            // A quarter of the shortest TTL, between 10 ms and 1 s: an
            // expired pool closes at most that much late.
            int64_t interval = 1000;
            std::vector<std::shared_ptr<TenantState>> live;
            for (auto it = states_.begin(); it != states_.end();) {
                if (auto s = it->lock()) {
                    if (s->options.pool_ttl_ms > 0)
                        interval = std::min<int64_t>(interval, std::max<int64_t>(10, s->options.pool_ttl_ms / 4));
                    live.push_back(std::move(s));
                    ++it;
                } else {
                    it = states_.erase(it);
                }
            }
            lock.unlock();
            const auto now = TenantState::Clock::now();
            for (auto &s : live) s->sweep(now);
            live.clear(); // the last reference may go here: outside our mutex
            lock.lock();
            cv_.wait_for(lock, std::chrono::milliseconds(interval), [this] { return stop_; });
        }
    }

    std::mutex mu_;
    std::condition_variable cv_;
    std::vector<std::weak_ptr<TenantState>> states_;
    std::thread thread_;
    bool stop_ = false;
    bool started_ = false;
};

} // namespace

TenantState::TenantState(const Database &database, Connection template_connection)
    : template_conn(std::move(template_connection)), table_(database.config().tenants()->max_pools,
                                                            std::chrono::milliseconds(database.config().tenants()->pool_ttl_ms)) {}

std::shared_ptr<TenantState> TenantState::of(const Database &database) {
    // Only TenantState registers as the extra pool source; made (and
    // validated) under the Database's lock, once. The Database owns it: it
    // lives as long as the Database.
    return std::static_pointer_cast<TenantState>(
        extra_source(database, [&database]() -> std::shared_ptr<ExtraPoolSource> { return make(database); }));
}

std::shared_ptr<TenantState> TenantState::make(const Database &database) {
    const Config &config = database.config();
    if (!config.tenants())
        throw ConfigError("tenants: " + config.source() +
                              " has no \"tenants\" section; add one with \"connection\" (the template) and "
                              "\"isolation\" (schema, database or file)",
                          config.source(), "/tenants");
    const TenantsOptions &t = *config.tenants();
    std::shared_ptr<TenantState> s(new TenantState(database, database.on(t.connection)));
    s->db = shared_state_of(database);
    s->config = shared_config_of(database);
    s->options = t;
    const ConnectionState &tcs = state_of(s->template_conn);
    s->tenant_cc = config_of(tcs);
    s->tenant_cc.pool = t.pool;
    s->driver = target_of(tcs)->driver;

    const std::string where = "connection '" + t.connection + "' (client " + client_of(tcs) + ", driver " +
                              s->driver->id() + ")";
    // A 1.0 / 1.1 driver's table ends before is_system (read only when covered).
    s->ns = static_cast<const ilana_namespace_api *>(s->driver->extension(
        ILANA_EXT_NAMESPACE, static_cast<uint32_t>(offsetof(ilana_namespace_api, list) + sizeof(void *))));
    if (s->ns == nullptr || s->ns->param_key == nullptr || s->ns->create == nullptr || s->ns->drop == nullptr)
        throw ConfigError("tenants: the template " + where + " does not support tenants (its driver has no " +
                              ILANA_EXT_NAMESPACE + "); use a connection whose database supports isolation",
                          config.source(), "/tenants/connection");
    s->isolation = s->ns->isolation;
    s->param_key = s->ns->param_key;
    if (isolation_kind(t.isolation) != s->isolation)
        throw ConfigError("tenants: \"isolation\": \"" + t.isolation + "\" does not match the template " + where +
                              ", which isolates tenants by " + isolation_name(s->isolation) + " (parameter '" +
                              s->param_key + "'); set \"isolation\": \"" + isolation_name(s->isolation) + "\"",
                          config.source(), "/tenants/isolation");
    if (s->isolation == ILANA_NAMESPACE_FILE) {
        const std::string *value = config_of(tcs).param(s->param_key);
        if (value == nullptr || value->find("{tenant}") == std::string::npos)
            throw ConfigError("tenants: with \"isolation\": \"file\" the template connection '" + t.connection +
                                  "' needs a \"" + s->param_key + "\" containing {tenant} (e.g. \"./tenants/{tenant}.sqlite\")" +
                                  (value == nullptr ? std::string() : "; it is \"" + *value + "\""),
                              config.source(), config_of(tcs).json_path + "/connection/" + s->param_key);
        s->file_template = *value;
    } else if (t.schema_prefix.size() >= kMaxTenantIdLength) {
        throw ConfigError("tenants: \"schemaPrefix\" is too long (" + std::to_string(t.schema_prefix.size()) +
                              " characters): namespace names have at most 63",
                          config.source(), "/tenants/schemaPrefix");
    }

    TenantSweeper::instance().add(s);
    return s;
}

TenantState::~TenantState() { close_all("shutdown"); }

std::vector<std::pair<std::string, std::string>> TenantState::overrides(const std::string &id) const {
    if (isolation == ILANA_NAMESPACE_FILE) return {{param_key, fill_tenant_template(file_template, id)}};
    return {{param_key, namespace_of(id)}}; // refuses a system namespace
}

std::shared_ptr<ConnectionState> TenantState::open_pool(const std::string &id) {
    const auto params = overrides(id);
    // Its records name the tenant's namespace; its pool exists from now on.
    return open_extra_pool(db, tenant_cc, driver, pool_name(id), params, params.front().second);
}

std::shared_ptr<ConnectionState> TenantState::pin_locked(const Table::EntryPtr &e, bool touch) {
    table_.pin(*e, Clock::now(), touch);
    auto pin = std::make_shared<TenantPin>();
    pin->owner = weak_from_this();
    pin->entry = e;
    pin->touch = touch;
    return std::shared_ptr<ConnectionState>(std::move(pin), e->payload.get());
}

void TenantState::release(Table::Entry &entry, bool touch) noexcept {
    std::lock_guard<std::mutex> lock(mu_);
    table_.unpin(entry, Clock::now(), touch);
    if (waiters_ > 0 && entry.pins == 0) cv_.notify_all();
}

Connection TenantState::get(const std::string &id) {
    validate_tenant_id(id);
    const auto timeout = std::chrono::milliseconds(std::max<int64_t>(0, options.pool.acquire_timeout_ms));
    const auto start = Clock::now();
    const auto deadline = start + timeout;
    bool waited = false;
    std::unique_lock<std::mutex> lock(mu_);
    for (;;) {
        if (closed_)
            detail::throw_error(
                Error("[" + pool_name(id) + "] the tenant pools are closed", ErrorClass::connection, pool_name(id)));
        Table::Decision d = table_.checkout(id, Clock::now());
        if (d.action == Table::Action::use) return connection_of(pin_locked(d.entry, true));
        if (d.action == Table::Action::create) {
            lock.unlock();
            std::shared_ptr<ConnectionState> cs;
            try {
                // The victim goes first, so hooks and metrics never count
                // more than maxPools pools.
                if (d.victim) close_pool(*d.victim->payload, "lru");
                d.victim.reset();
                cs = open_pool(id);
            } catch (...) {
                lock.lock();
                table_.abandon(d.entry);
                cv_.notify_all();
                throw;
            }
            lock.lock();
            table_.ready(d.entry, cs);
            cv_.notify_all();
            if (closed_) { // close_all() ran meanwhile: this pool goes too
                lock.unlock();
                close_pool(*cs, "shutdown");
                detail::throw_error(Error("[" + pool_name(id) + "] the tenant pools are closed",
                                          ErrorClass::connection, pool_name(id)));
            }
            return connection_of(pin_locked(d.entry, true));
        }
        // Wait: every pool is in use (or this tenant's is being made).
        if (Clock::now() >= deadline) {
            ++wait_timeouts_;
            const auto waited_ms = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start).count();
            PoolTimeout e("[" + pool_name(id) + "] tenant pools exhausted: all maxPools=" +
                              std::to_string(table_.max_pools()) + " pools are in use or being opened (open=" +
                              std::to_string(table_.open()) + ", in use=" + std::to_string(table_.in_use()) +
                              ", waited " + std::to_string(waited_ms) + "ms, tenants.pool.acquireTimeoutMillis=" +
                              std::to_string(options.pool.acquire_timeout_ms) +
                              "); release tenant Connections sooner or raise tenants.maxPools",
                          ErrorClass::timeout, pool_name(id));
            lock.unlock();
            call_hook(hooks_of(state_of(template_conn)).on_error, "onError", pool_name(id), e);
            throw e;
        }
        if (!waited && !d.entry) ++waits_;
        waited = true;
        ++waiters_;
        cv_.wait_until(lock, deadline);
        --waiters_;
    }
}

std::vector<ExtraPool> TenantState::list_pools() {
    std::vector<ExtraPool> out;
    std::lock_guard<std::mutex> lock(mu_);
    out.reserve(table_.entries().size());
    for (const auto &kv : table_.entries())
        if (kv.second->ready) out.push_back(ExtraPool{template_conn.name(), kv.first, pin_locked(kv.second, false)});
    return out;
}

void TenantState::sweep(Clock::time_point now) {
    std::vector<Table::EntryPtr> doomed;
    {
        std::lock_guard<std::mutex> lock(mu_);
        if (closed_) return;
        doomed = table_.sweep(now);
    }
    if (doomed.empty()) return;
    for (auto &e : doomed) close_pool(*e->payload, "ttl_expired");
    std::lock_guard<std::mutex> lock(mu_);
    table_.closed(static_cast<int>(doomed.size()));
    if (waiters_ > 0) cv_.notify_all();
}

bool TenantState::evict(const std::string &id, const std::string &reason) {
    validate_tenant_id(id);
    Table::EntryPtr e;
    {
        std::lock_guard<std::mutex> lock(mu_);
        bool pinned = false;
        e = table_.remove(id, false, &pinned);
        if (!e && pinned)
            detail::throw_error(Error("[" + pool_name(id) + "] the tenant's pool is in use (a Connection or Session of "
                                                        "it is alive); release it first",
                                      ErrorClass::connection, pool_name(id)));
    }
    if (!e) return false;
    close_pool(*e->payload, reason.c_str());
    std::lock_guard<std::mutex> lock(mu_);
    table_.closed(1);
    if (waiters_ > 0) cv_.notify_all();
    return true;
}

void TenantState::close_all(const char *reason) {
    std::vector<Table::EntryPtr> doomed;
    {
        std::lock_guard<std::mutex> lock(mu_);
        closed_ = true;
        doomed = table_.remove_all();
        cv_.notify_all();
    }
    for (auto &e : doomed) close_pool(*e->payload, reason);
    std::lock_guard<std::mutex> lock(mu_);
    table_.closed(static_cast<int>(doomed.size()));
}

std::pair<uint64_t, uint64_t> TenantState::pools_evicted() const {
    std::lock_guard<std::mutex> lock(mu_);
    return {table_.evicted_lru(), table_.evicted_ttl()};
}

TenantPoolStats TenantState::stats() const {
    std::lock_guard<std::mutex> lock(mu_);
    TenantPoolStats s;
    s.open_pools = table_.open();
    s.max_pools = table_.max_pools();
    s.in_use = table_.in_use();
    s.created = table_.created();
    s.evicted_lru = table_.evicted_lru();
    s.evicted_ttl = table_.evicted_ttl();
    s.evicted_other = table_.evicted_other();
    s.waits = waits_;
    s.wait_timeouts = wait_timeouts_;
    return s;
}

bool TenantState::is_warm(const std::string &id) const {
    std::lock_guard<std::mutex> lock(mu_);
    auto e = table_.find(id);
    return e && e->ready;
}

std::vector<std::string> TenantState::warm_tenants() const {
    std::vector<std::string> out;
    std::lock_guard<std::mutex> lock(mu_);
    for (const auto &kv : table_.entries())
        if (kv.second->ready) out.push_back(kv.first);
    return out; // std::map: sorted
}

} // namespace ilana::detail
