// Database, Connection, Session, Transaction: the C++ API over pools and
// native connections. Every member the db layer provides is defined here
// (batches in pipeline.cpp and introspection in introspect.cpp are called
// from here); the features' members (table, read, migrator, health_check,
// metrics, prometheus_text) are in features/facade/database_features.cpp.
#include <ilana/database.hpp>
#include <ilana/logging.hpp>
#include <ilana/retry.hpp>

#include "async/async_runtime.hpp"
#include "db/config_watch.hpp"
#include "db/database_state.hpp"
#include "db/introspect.hpp"
#include "db/pipeline.hpp"
#include "db/placeholders.hpp"
#include "db/statement_events.hpp"
#include "db/statement_retry.hpp"
#include "db/statement_run.hpp"
#include "config/secrets.hpp"
#include "plugins/connection_params.hpp"
#include "log/log_events.hpp"
#include "plugins/native_connection.hpp"
#include "pool/pool.hpp"
#include "db/sticky.hpp"

#include <spdlog/spdlog.h>

#include <atomic>
#include <cctype>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <cstring>
#include <map>
#include <mutex>
#include <optional>

namespace ilana {
namespace detail {

namespace {

// Per-thread scratch buffers: no allocation per query once warm (the
// parameters' are the plugin adapter's, NativeConnection::execute_values).
thread_local std::string t_sql;
// What t_sql was rewritten from: the same statement again (the usual case
// in a loop) skips the placeholder lexer.
thread_local std::string t_sql_source;
thread_local int t_sql_style = -1;
thread_local size_t t_sql_count = 0;

} // namespace

// Error (config) for a statement timeout asked of a driver built against
// ABI 1.1 or older, which would ignore it (a config's statementTimeoutMs is
// refused at open): names the connection, the driver's file and the fix.
[[noreturn]] void throw_timeout_unsupported(const ConnectionState &cs) {
    const auto &driver = cs.target->driver;
    throw Error("[" + cs.name + "] a statement timeout was asked, but the driver " + driver->path() + " (ABI 1." +
                    std::to_string(driver->entry().abi_minor) +
                    ") cannot enforce one (ABI 1.2 can): rebuild the driver against this ilana or call "
                    "without StatementOptions::timeout_ms",
                ErrorClass::config, cs.name);
}

// The statement timeout of a call: its own, or the connection's config.
int64_t timeout_of(const ConnectionState &cs, const StatementOptions *options) {
    if (options == nullptr || !options->timeout_ms) return cs.config.statement_timeout_ms;
    if (*options->timeout_ms < 0 || *options->timeout_ms > INT32_MAX)
        throw Error("[" + cs.name + "] StatementOptions::timeout_ms must be milliseconds from 0 (none) to " +
                        std::to_string(INT32_MAX) + ", got " + std::to_string(*options->timeout_ms),
                    ErrorClass::config, cs.name);
    return *options->timeout_ms;
}

// Read-your-writes (stickyAfterWriteMs): a write pins this thread's reads
// of this connection to it for a while (db/sticky).
void note_if_write(const ConnectionState &cs, bool writes) {
    if (writes && cs.config.sticky_after_write_ms > 0) note_write(cs);
}
void note_if_write(const ConnectionState &cs, std::string_view sql) {
    // The SQL is read only when the connection is sticky at all.
    if (cs.config.sticky_after_write_ms > 0) note_if_write(cs, !is_read_only(sql));
}

[[noreturn]] void throw_parameter_count(const ConnectionState &cs, size_t placeholders, size_t given) {
    throw Error("[" + cs.name + "] the statement has " + std::to_string(placeholders) + " ? placeholder(s) but " +
                    std::to_string(given) + " parameter(s) were given",
                ErrorClass::syntax, cs.name);
}

namespace {

// Runs one statement on a leased native connection and hands the open
// result to `consume`. `flags` adds ILANA_EXEC_* flags to ILANA_EXEC_CACHE;
// `timeout_ms` > 0 is the statement timeout the driver enforces.
template <class Consume>
void run_statement(ConnectionState &cs, NativeConnection &conn, std::string_view sql, const Value *params, size_t n,
                   uint32_t flags, int64_t timeout_ms, Consume &&consume) {
    in_statement_frame(cs, conn, sql, timeout_ms, [&] {
        std::string_view text = sql;
        const int style = conn.placeholder_style(); // the session's server's (ABI 1.3)
        if (!placeholders_passthrough(sql, style)) {
            if (t_sql_style != style || t_sql_source != sql) {
                t_sql_style = -1; // stays invalid if the rewrite throws
                t_sql_count = rewrite_placeholders(sql, style, t_sql);
                t_sql_source.assign(sql.data(), sql.size());
                t_sql_style = style;
            }
            text = t_sql;
            if (t_sql_count != n) throw_parameter_count(cs, t_sql_count, n);
        }
        auto res = conn.execute_values(text, params, n, ILANA_EXEC_CACHE | flags, timeout_ms, sql);
        consume(res);
    });
}

} // namespace
} // namespace detail

using detail::ConnectionState;
using detail::DatabaseState;

// ---- Session --------------------------------------------------------------

Session::Session(std::shared_ptr<ConnectionState> state, std::unique_ptr<detail::PooledConnection> pc)
    : state_(std::move(state)), pc_(std::move(pc)) {}
Session::Session(Session &&) noexcept = default;
Session &Session::operator=(Session &&o) noexcept {
    if (this != &o) {
        if (pc_) {
            if (in_tx_) {
                try {
                    pc_->conn->rollback();
                } catch (...) {
                    pc_->conn->mark_broken();
                }
            }
            pc_->async_state.reset(); // its Asio objects (async calls on it) stay with the host's executor
            state_->pool().release(std::move(pc_));
        }
        state_ = std::move(o.state_);
        pc_ = std::move(o.pc_);
        in_tx_ = o.in_tx_;
    }
    return *this;
}

Session::~Session() {
    if (!pc_) return;
    if (in_tx_) {
        // A session never goes back to the pool inside a transaction.
        try {
            pc_->conn->rollback();
        } catch (...) {
            pc_->conn->mark_broken();
        }
    }
    // The async calls' state of this session (its strand and socket wait,
    // objects of the host's io_context) ends with the Session, so a pooled
    // session never outlives the executor it was used on.
    pc_->async_state.reset();
    state_->pool().release(std::move(pc_));
}

const std::string &Session::connection_name() const noexcept { return state_->name; }

namespace detail {
// execute(): the counts of a statement. One that returns rows from a change
// (INSERT ... RETURNING) is counted only after its last row, so its rows
// are read and dropped first; a plain query's rows are not read at all,
// unless the statement has a timeout: a server may report it after the
// first rows (MariaDB), and execute must not succeed for a statement that
// was stopped.
ExecResult counts_of(NativeResult &r, std::string_view sql, int64_t timeout_ms) {
    NativeResult::Counts counts = r.counts();
    if (counts.column_count == 0) return ExecResult{counts.affected_rows, counts.last_insert_id};
    const bool change = !is_read_only(sql);
    if (change || timeout_ms > 0) r.drain();
    if (change) counts = r.counts(); // a query's counts stay what they were before its rows
    return ExecResult{counts.affected_rows, counts.last_insert_id};
}

namespace {
Result query_on(ConnectionState &cs, NativeConnection &conn, std::string_view sql, const Value *params, size_t n,
                int64_t timeout_ms) {
    Result out;
    run_statement(cs, conn, sql, params, n, ILANA_EXEC_WHOLE_RESULT, timeout_ms,
                  [&](NativeResult &r) { r.read_all(out); });
    return out;
}

ExecResult execute_on(ConnectionState &cs, NativeConnection &conn, std::string_view sql, const Value *params,
                      size_t n, int64_t timeout_ms) {
    ExecResult out;
    run_statement(cs, conn, sql, params, n, 0, timeout_ms,
                  [&](NativeResult &r) { out = counts_of(r, sql, timeout_ms); });
    return out;
}

size_t stream_on(ConnectionState &cs, NativeConnection &conn, std::string_view sql, const Params &params,
                 const std::function<void(const Row &)> &on_row, int64_t timeout_ms) {
    size_t rows = 0;
    run_statement(cs, conn, sql, params.data(), params.size(), 0, timeout_ms,
                  [&](NativeResult &r) { rows = r.for_each_row(on_row); });
    return rows;
}
} // namespace
} // namespace detail

Result Session::query(std::string_view sql, std::initializer_list<Value> params) {
    return detail::query_on(*state_, *pc_->conn, sql, params.begin(), params.size(),
                            state_->config.statement_timeout_ms);
}
Result Session::query(std::string_view sql, const Params &params) {
    return detail::query_on(*state_, *pc_->conn, sql, params.data(), params.size(),
                            state_->config.statement_timeout_ms);
}
Result Session::query(std::string_view sql, const Params &params, const StatementOptions &options) {
    return detail::query_on(*state_, *pc_->conn, sql, params.data(), params.size(),
                            detail::timeout_of(*state_, &options));
}
ExecResult Session::execute(std::string_view sql, std::initializer_list<Value> params) {
    return detail::execute_on(*state_, *pc_->conn, sql, params.begin(), params.size(),
                              state_->config.statement_timeout_ms);
}
ExecResult Session::execute(std::string_view sql, const Params &params) {
    return detail::execute_on(*state_, *pc_->conn, sql, params.data(), params.size(),
                              state_->config.statement_timeout_ms);
}
ExecResult Session::execute(std::string_view sql, const Params &params, const StatementOptions &options) {
    return detail::execute_on(*state_, *pc_->conn, sql, params.data(), params.size(),
                              detail::timeout_of(*state_, &options));
}
size_t Session::stream(std::string_view sql, const Params &params, const std::function<void(const Row &)> &on_row) {
    return detail::stream_on(*state_, *pc_->conn, sql, params, on_row, state_->config.statement_timeout_ms);
}
size_t Session::stream(std::string_view sql, const Params &params, const std::function<void(const Row &)> &on_row,
                       const StatementOptions &options) {
    return detail::stream_on(*state_, *pc_->conn, sql, params, on_row, detail::timeout_of(*state_, &options));
}

void Session::begin() {
    pc_->conn->begin();
    in_tx_ = true;
}
void Session::commit() {
    in_tx_ = false;
    pc_->conn->commit();
}
void Session::rollback() {
    in_tx_ = false;
    pc_->conn->rollback();
}
bool Session::in_transaction() const noexcept { return in_tx_; }
void Session::ping(int timeout_ms) { pc_->conn->ping(timeout_ms); }
void Session::cancel() { pc_->conn->cancel(); }
Session::ServerInfo Session::server_info() {
    auto si = pc_->conn->server_info();
    return ServerInfo{si.product, si.version, si.version_number, si.max_connections};
}

ExecResult Session::execute_many(std::string_view sql, const std::vector<Params> &rows) {
    return detail::run_batch(*state_, *pc_->conn, in_tx_, sql, rows);
}

std::vector<TableInfo> Session::tables(const std::string &schema) { return detail::list_tables(*pc_->conn, schema); }
std::vector<ColumnInfo> Session::columns(const std::string &table, const std::string &schema) {
    return detail::list_columns(*pc_->conn, table, schema);
}
std::vector<IndexInfo> Session::indexes(const std::string &table, const std::string &schema) {
    return detail::list_indexes(*pc_->conn, table, schema);
}

// ---- Transaction ----------------------------------------------------------

Transaction::Transaction(Session session) : session_(std::move(session)) { session_.begin(); }
Transaction::~Transaction() {
    if (!done_ && session_.in_transaction()) {
        try {
            session_.rollback();
        } catch (const std::exception &e) {
            ilana::logger()->warn("conn={} rollback on scope exit failed: {}", session_.connection_name(), e.what());
        }
    }
}
void Transaction::commit() {
    done_ = true;
    session_.commit();
}
void Transaction::rollback() {
    done_ = true;
    session_.rollback();
}

// ---- Connection -----------------------------------------------------------
//
// Every call starts from live(): the handle's state, or after a reload that
// replaced its connection the current one (one acquire load when nothing
// changed; DESIGN-NOTES "Hot reload").

const std::string &Connection::name() const noexcept { return state_->name; }
const std::string &Connection::client() const noexcept { return state_->live_client(); }

Session Connection::lease(std::shared_ptr<ConnectionState> state) const {
    ConnectionState &cs = *state;
    const bool owning = state.use_count() != 0; // lease_for_call's borrow has no owner
    try {
        std::chrono::microseconds waited;
        Session s(std::move(state), cs.pool().acquire_measured(waited));
        cs.metrics.record_acquire(waited);
        return s;
    } catch (const Error &) {
        // A reload retired this pool between live() and the lease (or
        // while this caller waited in it): the lease goes to the new pool
        // (ConfigError when the connection was removed). Any other failure
        // is the caller's. Off the hot path: the shape above is the one
        // before reloads existed, instruction for instruction.
        if (cs.forward.load(std::memory_order_acquire) == nullptr) throw;
        return lease(owning ? ConnectionState::live_shared(state_)
                            : std::shared_ptr<ConnectionState>(std::shared_ptr<ConnectionState>(), &cs.live()));
    }
}

Session Connection::acquire() const { return lease(ConnectionState::live_shared(state_)); }

// A non-owning shared_ptr (the aliasing constructor with an empty owner):
// copying and destroying it touches no reference count, two atomic
// read-modify-writes fewer per Connection call than sharing ownership. The
// handle's state_ keeps the live state alive (through its successors).
Session Connection::lease_for_call(ConnectionState &live) const {
    return lease(std::shared_ptr<ConnectionState>(std::shared_ptr<ConnectionState>(), &live));
}
Session Connection::lease_for_call() const { return lease_for_call(state_->live()); }

Transaction Connection::begin() const { return Transaction(acquire()); }

using detail::note_if_write;

namespace detail {
// Runs `body` on a session leased per call from the handle's live state,
// retried as db/statement_retry says.
template <class Body>
auto run_on_connection(const Connection &c, ConnectionState &cs, std::string_view sql, Body &&body) {
    return with_statement_retry(cs, sql, [&] { return InternalAccess::lease_for_call(c, cs); }, body);
}
} // namespace detail

Result Connection::query(std::string_view sql, std::initializer_list<Value> params) const {
    ConnectionState &cs = state_->live();
    note_if_write(cs, sql);
    return detail::run_on_connection(*this, cs, sql, [&](Session &s) { return s.query(sql, params); });
}
Result Connection::query(std::string_view sql, const Params &params) const {
    ConnectionState &cs = state_->live();
    note_if_write(cs, sql);
    return detail::run_on_connection(*this, cs, sql, [&](Session &s) { return s.query(sql, params); });
}
ExecResult Connection::execute(std::string_view sql, std::initializer_list<Value> params) const {
    ConnectionState &cs = state_->live();
    note_if_write(cs, sql);
    return detail::run_on_connection(*this, cs, sql, [&](Session &s) { return s.execute(sql, params); });
}
ExecResult Connection::execute(std::string_view sql, const Params &params) const {
    ConnectionState &cs = state_->live();
    note_if_write(cs, sql);
    return detail::run_on_connection(*this, cs, sql, [&](Session &s) { return s.execute(sql, params); });
}
Result Connection::query(std::string_view sql, const Params &params, const StatementOptions &options) const {
    ConnectionState &cs = state_->live();
    note_if_write(cs, sql);
    return detail::run_on_connection(*this, cs, sql, [&](Session &s) { return s.query(sql, params, options); });
}
ExecResult Connection::execute(std::string_view sql, const Params &params, const StatementOptions &options) const {
    ConnectionState &cs = state_->live();
    note_if_write(cs, sql);
    return detail::run_on_connection(*this, cs, sql, [&](Session &s) { return s.execute(sql, params, options); });
}
size_t Connection::stream(std::string_view sql, const Params &params,
                          const std::function<void(const Row &)> &on_row) const {
    return lease_for_call().stream(sql, params, on_row);
}
size_t Connection::stream(std::string_view sql, const Params &params, const std::function<void(const Row &)> &on_row,
                          const StatementOptions &options) const {
    return lease_for_call().stream(sql, params, on_row, options);
}
// Retried as any statement on an auto-leased session (db/statement_retry):
// the batch is atomic, so a transient refusal applied none of its rows, and
// after a lost connection only a batch that never left is sent again.
ExecResult Connection::execute_many(std::string_view sql, const std::vector<Params> &rows) const {
    ConnectionState &cs = state_->live();
    detail::note_write(cs);
    return detail::run_on_connection(*this, cs, sql, [&](Session &s) { return s.execute_many(sql, rows); });
}

Connection::PoolStatus Connection::pool_status() const {
    auto s = state_->live().pool().stats();
    PoolStatus p;
    p.idle = s.idle;
    p.in_use = s.in_use;
    p.pending = s.pending;
    p.waiting = s.waiting;
    p.max = s.max;
    p.min = s.min;
    p.created = s.created;
    p.destroyed = s.destroyed;
    p.timeouts = s.timeouts;
    p.acquires = s.acquires;
    p.create_errors = s.create_errors;
    p.resets = s.resets;
    p.reset_failures = s.reset_failures;
    p.evicted_idle = s.evicted_idle;
    p.evicted_lifetime = s.evicted_lifetime;
    p.evicted_broken = s.evicted_broken;
    p.destroy_timeouts = s.destroy_timeouts;
    return p;
}

// ---- Database -------------------------------------------------------------

namespace detail {
namespace {

// What open and reload check before a config runs: every connection's
// client among the loaded drivers and its parameters against the driver's
// declarations; values declared secret join the redaction list before any
// message can carry them. Throws ConfigError.
void check_against_drivers(DriverRegistry &registry, Config &config, std::vector<std::string> &secrets) {
    for (const auto &cc : config.connections()) {
        const std::string where = config.source() + ": " + cc.json_path + "/client";
        registry.require(cc.client, where);
        check_connection_params(config, cc, *registry.info(cc.client), secrets);
    }
    config_detail::normalize_secrets(secrets);
}

// Read replicas ("read": [...]) of the states made for `config`, resolved
// in `connections` (weak: connections may name each other).
void link_replicas(const Config &config, const std::vector<std::string> &made,
                   const std::map<std::string, std::shared_ptr<ConnectionState>, std::less<>> &connections) {
    for (const auto &name : made) {
        const ConnectionConfig *cc = config.find(name);
        for (const auto &replica : cc->read_replicas)
            connections.at(name)->replicas.push_back(connections.at(replica));
    }
}

std::string describe(const std::vector<ConfigChange> &changes, bool default_changed, const Config &next) {
    std::string out;
    for (const auto &c : changes)
        out += (out.empty() ? "" : "; ") + c.connection + " " + to_string(c.kind) + " (" + c.what + ")";
    if (default_changed) out += (out.empty() ? "" : "; ") + std::string("default -> ") + next.default_connection();
    return out.empty() ? "no connection changed" : out;
}

} // namespace

// Starts, retunes or stops the file watch after `config` became the running
// one. With reload_mu held.
void configure_watch(const std::shared_ptr<DatabaseState> &state, const Config &config) {
    const ReloadOptions &r = config.reload();
    if (r.watch) {
        std::error_code ec;
        std::string path = std::filesystem::absolute(config.source(), ec).lexically_normal().string();
        if (ec) path = config.source();
        if (state->watcher && !state->watcher->stopping() && state->watcher->path() == path) {
            state->watcher->set_interval(std::chrono::milliseconds(r.interval_ms));
            return;
        }
        state->watcher.reset(); // a stopped one (joined: reload never runs on a stopped watcher's thread)
        state->watcher = std::make_unique<ReloadWatcher>(state, path, config.hash(),
                                                         std::chrono::milliseconds(r.interval_ms));
    } else if (state->watcher) {
        state->watcher->request_stop(); // joined at close (this may be its own thread)
    }
}

} // namespace detail

Database Database::open(const std::string &config_path, OpenOptions options) {
    // Load first: in one expression the by-value `options` could be moved
    // from before its `environment` is read (argument evaluation order is
    // unspecified), and every open would then run in "development".
    Config config = Config::load_file(config_path, options.environment);
    return open(std::move(config), std::move(options));
}

Database Database::open(Config config_in, OpenOptions options) {
    auto state = std::make_shared<DatabaseState>();
    state->async_runtime = std::make_shared<detail::AsyncRuntime>();
    if (config_in.debug().enabled) ilana::logger()->set_level(spdlog::level::debug);

    // Rule 11: plugins load from absolute paths only; a relative directory
    // would depend on (and run any *.so in) the current directory.
    for (const auto &dir : options.plugin_paths)
        if (!std::filesystem::path(dir).is_absolute())
            throw ConfigError("OpenOptions::plugin_paths: relative plugin directory '" + dir +
                                  "' refused: plugins never load from the current directory; give an absolute path",
                              config_in.source());
    std::vector<std::string> paths = options.plugin_paths;
    paths.insert(paths.end(), config_in.plugin_paths().begin(), config_in.plugin_paths().end());
    state->registry.load_search_path(paths);
    detail::check_against_drivers(state->registry, config_in, config_in.secrets_);

    // A reload reads the file with the environment this open selected.
    state->environment = options.environment.empty() ? config_in.environment() : options.environment;
    auto generation = std::make_unique<detail::Generation>();
    generation->config = std::make_shared<const Config>(std::move(config_in));
    const Config &config = *generation->config;
    state->hooks = std::make_shared<const Hooks>(std::move(options.hooks));
    // One budget per server, shared by the pools of every connection (and
    // tenant pool) that names it.
    for (const auto &server : config.servers())
        generation->budgets.emplace(server.name,
                                    std::make_shared<detail::ServerBudget>(server.name, server.max_connections));

    std::vector<std::string> made;
    for (const auto &cc : config.connections())
        if (cc.password_provider)
            generation->password_providers.emplace(
                cc.name, std::make_shared<detail::PasswordProvider>(*cc.password_provider, cc.name, generation->config));
    for (const auto &cc : config.connections()) {
        auto driver = state->registry.require(cc.client, config.source() + ": " + cc.json_path + "/client");
        generation->connections.emplace(
            cc.name, detail::make_connection_state(*state, *generation, cc, driver, cc.name, {}));
        made.push_back(cc.name);
    }
    detail::link_replicas(config, made, generation->connections);
    {
        std::lock_guard<std::mutex> lock(state->reload_mu);
        state->publish(std::move(generation));
        if (config.reload().watch) detail::configure_watch(state, config);
    }
    return Database(std::move(state));
}

ReloadResult Database::reload() const { return reload(state_->current().config->source()); }

ReloadResult Database::reload(const std::string &config_path) const {
    std::optional<Config> next;
    try {
        next.emplace(Config::load_file(config_path, state_->environment));
    } catch (const Error &e) {
        std::lock_guard<std::mutex> lock(state_->reload_mu);
        ReloadResult r;
        r.errors.push_back(e.what());
        ++state_->reloads_rejected;
        state_->last_reload_error = e.what();
        r.generation = state_->current().number;
        r.hash = state_->current().config->hash();
        ilana::logger()->error("CONFIG_RELOAD_REJECTED {}: {} (generation {} keeps running)", config_path, e.what(),
                               r.generation);
        return r;
    }
    return reload(std::move(*next));
}

ReloadResult Database::reload(Config next_in) const {
    DatabaseState &state = *state_;
    std::lock_guard<std::mutex> lock(state.reload_mu);
    const detail::Generation &cur = state.current();
    const Config &running = *cur.config;
    ReloadResult r;
    r.generation = cur.number;
    r.hash = running.hash();
    const std::string source = next_in.source();
    auto reject = [&](const std::string &why) {
        r.errors.push_back(why);
        ++state.reloads_rejected;
        state.last_reload_error = why;
        ilana::logger()->error("CONFIG_RELOAD_REJECTED {}: {} (generation {} keeps running)", source, why,
                               r.generation);
        return r;
    };

    std::vector<std::string> made;
    auto next = std::make_unique<detail::Generation>();
    std::vector<std::pair<std::shared_ptr<ConnectionState>, std::shared_ptr<ConnectionState>>> replaced;
    std::vector<std::pair<std::shared_ptr<ConnectionState>, const ConfigChange *>> resized;
    try {
        if (next_in.plugin_paths() != running.plugin_paths())
            throw ConfigError("plugins.paths changed: drivers are loaded once, at open; restart the process to load "
                                  "plugins from other folders (or put the old paths back)",
                              next_in.source(), "/plugins/paths");
        detail::check_against_drivers(state.registry, next_in, next_in.secrets_);
        r.changes = Config::diff(running, next_in);
        r.default_changed = next_in.default_connection() != running.default_connection();
        if (r.changes.empty() && !r.default_changed && next_in.hash() == running.hash() && !next_in.hash().empty()) {
            r.unchanged = true;
            ++state.reloads_unchanged;
            ilana::logger()->info("CONFIG_RELOAD_UNCHANGED {} hash={} generation={}", next_in.source(), r.hash,
                                  r.generation);
            return r;
        }
        next->number = cur.number + 1;
        // What the providers learned stays a secret after the reload: the
        // new config redacts through the same list (kept connections'
        // providers go on adding to it).
        next_in.learned_secrets_ = running.learned_secrets_;
        next->config = std::make_shared<const Config>(std::move(next_in));
        const Config &config = *next->config;
        // A server's budget is one object for as long as the server is in
        // the config: the pools the reload keeps go on sharing it with the
        // new ones, and a new maxConnections applies to all of them
        // (ServerBudget::set_limit, below, once the reload is applied).
        for (const auto &server : config.servers()) {
            auto kept = cur.budgets.find(server.name);
            next->budgets.emplace(server.name, kept != cur.budgets.end()
                                                   ? kept->second
                                                   : std::make_shared<detail::ServerBudget>(server.name,
                                                                                            server.max_connections));
        }
        // Every new state is made before anything changes: a refusal here
        // (a statementTimeoutMs the driver cannot enforce) leaves all as it is.
        auto kind_of = [&](const std::string &name) -> const ConfigChange * {
            for (const auto &c : r.changes)
                if (c.connection == name) return &c;
            return nullptr;
        };
        for (const auto &cc : config.connections()) {
            const ConfigChange *change = kind_of(cc.name);
            auto old = cur.connections.find(cc.name);
            if (change == nullptr || change->kind == ConfigChange::Kind::resized) {
                next->connections.emplace(cc.name, old->second);
                if (auto p = cur.password_providers.find(cc.name); p != cur.password_providers.end())
                    next->password_providers.emplace(cc.name, p->second);
                if (change != nullptr) resized.emplace_back(old->second, change);
                continue;
            }
            if (cc.password_provider)
                next->password_providers.emplace(
                    cc.name, std::make_shared<detail::PasswordProvider>(*cc.password_provider, cc.name, next->config));
            auto driver = state.registry.require(cc.client, config.source() + ": " + cc.json_path + "/client");
            auto cs = detail::make_connection_state(state, *next, cc, driver, cc.name, {});
            if (change->kind == ConfigChange::Kind::replaced) replaced.emplace_back(old->second, cs);
            next->connections.emplace(cc.name, std::move(cs));
            made.push_back(cc.name);
        }
        detail::link_replicas(config, made, next->connections);
    } catch (const Error &e) {
        return reject(e.what());
    } catch (const std::exception &e) {
        return reject(e.what());
    }

    // Apply: publish, then retire what the new generation no longer uses.
    const Config &config = *next->config;
    const uint64_t number = next->number;
    std::vector<std::shared_ptr<ConnectionState>> removed;
    for (const auto &c : r.changes)
        if (c.kind == ConfigChange::Kind::removed) removed.push_back(cur.connections.at(c.connection));
    bool tenants_changed = false;
    for (const auto &c : r.changes) {
        const auto &t = running.tenants();
        if (c.kind != ConfigChange::Kind::resized && c.kind != ConfigChange::Kind::added && t &&
            (t->connection == c.connection || t->discovery_connection == c.connection))
            tenants_changed = true;
    }
    if (running.tenants().has_value() != config.tenants().has_value()) tenants_changed = true;
    state.publish(std::move(next));

    for (const auto &server : config.servers())
        state.current().budgets.at(server.name)->set_limit(server.max_connections);
    for (auto &[old, change] : resized) old->resize(config.find(old->name)->pool.min, config.find(old->name)->pool.max);
    for (auto &[old, cs] : replaced) {
        const bool was_open = old->has_pool();
        old->retire(cs, number); // onPoolEvicted(name, "reload")
        if (was_open) {
            try {
                cs->pool(); // onPoolCreated now: the replaced pool was in use
            } catch (const Error &e) {
                ilana::logger()->warn("conn={} the new pool could not be made: {}", cs->name, e.what());
            }
        }
    }
    for (auto &old : removed) old->retire(nullptr, number);
    if (tenants_changed) {
        // Tenant pools lean on the template: closed, and made again from
        // the new config on their next use.
        std::shared_ptr<detail::ExtraPoolSource> tenants;
        {
            std::lock_guard<std::mutex> extra_lock(state.extra_pools_mu);
            tenants = std::move(state.extra_source);
            state.extra_source.reset();
        }
        if (tenants) tenants->close_all("reload");
    }
    detail::configure_watch(state_, config);

    r.applied = true;
    r.generation = number;
    r.hash = config.hash();
    ++state.reloads_applied;
    ilana::logger()->info("CONFIG_RELOADED {} generation={} hash={}: {}", config.source(), number, r.hash,
                          detail::describe(r.changes, r.default_changed, config));
    return r;
}

ConfigStatus Database::config_status() const {
    std::lock_guard<std::mutex> lock(state_->reload_mu);
    const detail::Generation &g = state_->current();
    ConfigStatus s;
    s.generation = g.number;
    s.hash = g.config->hash();
    s.source = g.config->source();
    s.reloads_applied = state_->reloads_applied;
    s.reloads_rejected = state_->reloads_rejected;
    s.reloads_unchanged = state_->reloads_unchanged;
    s.last_error = state_->last_reload_error;
    s.watching = state_->watcher && !state_->watcher->stopping();
    return s;
}

Connection Database::on(std::string_view name) const {
    const detail::Generation &g = state_->current();
    auto it = g.connections.find(name);
    if (it == g.connections.end())
        throw ConfigError("connection '" + std::string(name) + "' is not defined in " + g.config->source() +
                              "; connections: " + g.config->connection_names(),
                          g.config->source(), "/connections");
    return Connection(it->second);
}

Connection Database::default_connection() const { return on(state_->current().config->default_connection()); }

std::vector<std::string> Database::connection_names() const {
    std::vector<std::string> out;
    for (const auto &c : state_->current().config->connections()) out.push_back(c.name);
    return out;
}

const Config &Database::config() const noexcept { return *state_->current().config; }
const DriverRegistry &Database::drivers() const noexcept { return state_->registry; }

void Database::close() {
    {
        std::lock_guard<std::mutex> lock(state_->reload_mu);
        if (state_->watcher) state_->watcher->request_stop();
    }
    // Tenant pools first: they lean on the template.
    if (auto tenants = detail::extra_source(*state_)) tenants->close_all("shutdown");
    for (auto &kv : state_->current().connections) kv.second->close_pool("shutdown");
}

} // namespace ilana
