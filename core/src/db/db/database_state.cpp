// ConnectionState and DatabaseState (db/database_state.hpp): making and
// closing a connection's pool with its hooks and log lines, and the state
// of one pool of a connection config.
#include "db/database_state.hpp"
#include "db/config_watch.hpp"

#include <ilana/logging.hpp>

#include "log/call_hook.hpp"
#include "log/log_events.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <atomic>
#include <tuple>

namespace ilana::detail {

Pool &ConnectionState::make_pool() {
    std::call_once(pool_once, [this] {
        RetryOptions retry = config.retry ? *config.retry : whole_config->retry();
        auto t = target;
        std::lock_guard<std::mutex> size_lock(size_mu_);
        PoolOptions options = config.pool;
        if (resized_) std::tie(options.min, options.max) = *resized_;
        pool_ptr = std::make_shared<Pool>(
            name, options, retry,
            [t, sd = server_dialect](int32_t timeout_ms) {
                auto conn = NativeConnection::open(t, timeout_ms);
                if (sd) sd->note(*conn); // the pool's dialect: its first session's
                return conn;
            },
            hooks, shared_metrics, nullptr, budget);
        Maintainer::instance().add(pool_ptr);
        if (hooks) call_hook(hooks->on_pool_created, "onPoolCreated", name);
        if (whole_config->debug().log_pool_events) log_pool_created();
        pool_made.store(pool_ptr.get(), std::memory_order_release);
    });
    // retire() ran the once with no pool: a reload replaced or removed this
    // connection before it was ever used. The caller follows `forward`.
    if (!pool_ptr)
        throw Error("[" + name + "] this connection's pool was retired by a config reload before it was opened",
                    ErrorClass::connection, name);
    return *pool_ptr;
}

ConnectionState *ConnectionState::follow(ConnectionState *cs) {
    for (;;) {
        ConnectionState *next = cs->forward.load(std::memory_order_acquire);
        if (next == nullptr) return cs;
        if (next == cs) {
            const std::string source = cs->whole_config ? cs->whole_config->source() : std::string();
            throw ConfigError("connection '" + cs->name + "' was removed from " + source +
                                  " by a config reload (generation " + std::to_string(cs->removed_in_generation) +
                                  "): get a connection the config defines (Database::on) or add it back",
                              source, "/connections/" + cs->name);
        }
        cs = next;
    }
}

std::shared_ptr<ConnectionState> ConnectionState::live_shared(const std::shared_ptr<ConnectionState> &cs) {
    const std::shared_ptr<ConnectionState> *at = &cs;
    while ((*at)->forward.load(std::memory_order_acquire) != nullptr) {
        follow(at->get()); // throws for a removed connection
        at = &(*at)->successor;
    }
    return *at;
}

void ConnectionState::retire(std::shared_ptr<ConnectionState> next, uint64_t generation) noexcept {
    ConnectionState *target_state = next ? next.get() : this;
    successor = std::move(next);
    removed_in_generation = generation;
    forward.store(target_state, std::memory_order_release);
    // No pool is made on this state from now on (make_pool sees the once
    // done); one being made is waited for, then closed below.
    std::call_once(pool_once, [] {});
    close_pool("reload");
}

std::pair<int, int> ConnectionState::pool_size() const {
    std::lock_guard<std::mutex> lock(size_mu_);
    return resized_ ? *resized_ : std::make_pair(config.pool.min, config.pool.max);
}

void ConnectionState::resize(int min, int max) noexcept {
    std::lock_guard<std::mutex> lock(size_mu_);
    resized_ = std::make_pair(min, max);
    if (pool_ptr) pool_ptr->resize(min, max);
}

void ConnectionState::close_pool(const char *reason) noexcept {
    if (!has_pool() || pool_ptr->closed()) return;
    pool_ptr->close();
    if (whole_config && whole_config->debug().log_pool_events) log_pool_evicted(reason);
    if (hooks) call_hook(hooks->on_pool_evicted, "onPoolEvicted", name, reason);
}

void ConnectionState::log_pool_created() noexcept {
    try {
        LogRecord r = pool_record(LogLevel::info, "POOL_CREATED", name);
        r.schema = namespace_name;
        r.client = client;
        r.pool_min = config.pool.min;
        r.pool_max = config.pool.max;
        r.message = fmt::format("conn={} POOL_CREATED client={} min={} max={}", name, client, config.pool.min,
                                config.pool.max);
        emit_log(std::move(r));
    } catch (...) {
    }
}

void ConnectionState::log_pool_evicted(const char *reason) noexcept {
    try {
        LogRecord r = pool_record(LogLevel::info, "POOL_EVICTED", name);
        r.schema = namespace_name;
        r.reason = reason;
        r.message = fmt::format("conn={} POOL_EVICTED reason={}", name, reason);
        emit_log(std::move(r));
    } catch (...) {
    }
}

std::shared_ptr<ConnectionState> make_connection_state(const DatabaseState &state, const Generation &generation,
                                                       const ConnectionConfig &cc,
                                                       std::shared_ptr<LoadedDriver> driver, const std::string &name,
                                                       const std::vector<std::pair<std::string, std::string>> &overrides) {
    (void)state;
    const std::shared_ptr<const Config> &config = generation.config;
    auto cs = std::make_shared<ConnectionState>();
    cs->name = name;
    cs->client = cc.client;
    cs->config = cc;
    cs->whole_config = config;
    cs->hooks = state.hooks;
    cs->async_runtime = state.async_runtime;
    cs->log_queries = config->debug().enabled && config->debug().log_queries;
    cs->slow_query_ms = config->debug().slow_query_threshold_ms;
    auto target = std::make_shared<ConnectTarget>();
    target->name = name;
    target->driver = driver;
    target->params = cc.params;
    // Overrides replace a parameter of the same key (or are added).
    for (const auto &kv : overrides) {
        bool replaced = false;
        for (auto &p : target->params)
            if (p.first == kv.first) {
                p.second = kv.second;
                replaced = true;
            }
        if (!replaced) target->params.push_back(kv);
    }
    // The provider gives "password" at each open, unless an override (a
    // tenant's own credentials) replaced it.
    if (cc.password_provider &&
        std::none_of(target->params.begin(), target->params.end(), [](const auto &p) { return p.first == "password"; }))
        if (auto it = generation.password_providers.find(cc.name); it != generation.password_providers.end())
            target->password = it->second;
    if (cc.pgbouncer) target->params.emplace_back("pgbouncer", "true");
    target->params.emplace_back("ilana.config_dir", config->base_dir());
    target->params.emplace_back("ilana.connection", name);
    // Names this pool, unique in the process: a driver whose database lives
    // in the process (SQLite ":memory:") gives every session of the pool the
    // same one, and no other pool that one.
    static std::atomic<uint64_t> next_pool_id{1};
    target->params.emplace_back("ilana.pool_id", std::to_string(next_pool_id.fetch_add(1)));
    target->redact = [config](std::string s) { return config->redact(std::move(s)); };
    cs->target = target;
    if (!cc.server.empty()) {
        auto budget = generation.budgets.find(cc.server);
        if (budget == generation.budgets.end())
            throw ConfigError(config->source() + ": " + cc.json_path + "/server: server '" + cc.server +
                                  "' is not defined in \"servers\"",
                              config->source(), cc.json_path + "/server");
        cs->budget = budget->second;
    }
    cs->dialect = dialect_from(driver->dialect(), *driver);
    if (driver->reports_connection_dialect()) cs->server_dialect = std::make_shared<PoolDialect>();
    cs->driver_enforces_timeout = driver->enforces_statement_timeout();
    // Refused at open rather than ignored at the first statement.
    if (cc.statement_timeout_ms > 0 && !cs->driver_enforces_timeout)
        throw ConfigError(config->source() + ": " + cc.json_path + "/statementTimeoutMs: the driver " +
                              driver->path() + " (ABI 1." + std::to_string(driver->entry().abi_minor) +
                              ") cannot enforce a statement timeout (ABI 1.2 can); rebuild the driver "
                              "against this ilana or remove statementTimeoutMs",
                          config->source(), cc.json_path + "/statementTimeoutMs");
    return cs;
}

void DatabaseState::publish(std::unique_ptr<Generation> next) {
    current_.store(next.get(), std::memory_order_release);
    generations_.push_back(std::move(next));
}

DatabaseState::~DatabaseState() = default; // the watcher (stopped by Database::close) is joined here

std::shared_ptr<ExtraPoolSource> extra_source(DatabaseState &state) {
    std::lock_guard<std::mutex> lock(state.extra_pools_mu);
    return state.extra_source;
}

} // namespace ilana::detail
