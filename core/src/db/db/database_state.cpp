// ConnectionState and DatabaseState (db/database_state.hpp): making and
// closing a connection's pool with its hooks and log lines, and the state
// of one pool of a connection config.
#include "db/database_state.hpp"

#include <ilana/logging.hpp>

#include "log/call_hook.hpp"
#include "log/log_events.hpp"

#include <spdlog/spdlog.h>

#include <atomic>

namespace ilana::detail {

Pool &ConnectionState::make_pool() {
    std::call_once(pool_once, [this] {
        RetryOptions retry = config.retry ? *config.retry : whole_config->retry();
        auto t = target;
        pool_ptr = std::make_shared<Pool>(
            name, config.pool, retry,
            [t, sd = server_dialect](int32_t timeout_ms) {
                auto conn = NativeConnection::open(t, timeout_ms);
                if (sd) sd->note(*conn); // the pool's dialect: its first session's
                return conn;
            },
            hooks, &metrics, nullptr, budget);
        Maintainer::instance().add(pool_ptr);
        if (hooks) call_hook(hooks->on_pool_created, "onPoolCreated", name);
        if (whole_config->debug().log_pool_events) log_pool_created();
        pool_made.store(pool_ptr.get(), std::memory_order_release);
    });
    return *pool_ptr;
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

std::shared_ptr<ConnectionState> make_connection_state(const DatabaseState &state, const ConnectionConfig &cc,
                                                       std::shared_ptr<LoadedDriver> driver, const std::string &name,
                                                       const std::vector<std::pair<std::string, std::string>> &overrides) {
    const auto &config = state.config;
    auto cs = std::make_shared<ConnectionState>();
    cs->name = name;
    cs->client = cc.client;
    cs->config = cc;
    cs->whole_config = config;
    cs->hooks = state.hooks;
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
        auto budget = state.budgets.find(cc.server);
        if (budget == state.budgets.end())
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

std::shared_ptr<ExtraPoolSource> extra_source(DatabaseState &state) {
    std::lock_guard<std::mutex> lock(state.extra_pools_mu);
    return state.extra_source;
}

} // namespace ilana::detail
