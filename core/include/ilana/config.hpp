// ilana/config.hpp — ilana.config.json, loaded and validated.
//
// Config::load_file() reads the JSON file, interpolates ${VAR} and
// ${VAR:-default} from the environment (and a .env file beside the config;
// the real environment wins), applies the section of "environments" chosen
// by ILANA_ENV (default "development"), validates everything against one
// JSON schema, and returns plain structs. Every mistake is a ConfigError
// naming the file and the JSON path ("/connections/primary/pool/min") and
// what was expected. Secrets are never part of a message.
//
// Thread safety: a Config is an immutable value once loaded; load_file and
// parse are reentrant.
#pragma once

#include <ilana/error.hpp>

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace ilana {

namespace detail {
class LearnedSecrets;
}

// Pool options: tarn.js names and semantics, plus HikariCP-style extras.
// All durations in milliseconds; 0 disables the *Millis extras.
struct PoolOptions {
    int min = 0;                              // connections kept open
    int max = 10;                             // connections at most
    int64_t acquire_timeout_ms = 30000;       // acquireTimeoutMillis
    int64_t create_timeout_ms = 30000;        // createTimeoutMillis
    int64_t destroy_timeout_ms = 5000;        // destroyTimeoutMillis
    int64_t idle_timeout_ms = 30000;          // idleTimeoutMillis
    int64_t reap_interval_ms = 1000;          // reapIntervalMillis
    int64_t create_retry_interval_ms = 200;   // createRetryIntervalMillis
    int64_t max_lifetime_ms = 0;              // maxLifetimeMillis (0 = forever)
    int64_t validate_idle_after_ms = 0;       // validateIdleAfterMillis (0 = never)
    int64_t leak_detection_ms = 0;            // leakDetectionMillis (0 = off)
};

// Retry with exponential backoff ("retry": {...}).
struct RetryOptions {
    int max_attempts = 3;          // the seed's default; 1 = no retry
    int64_t initial_delay_ms = 100;
    int64_t max_delay_ms = 5000;
    double backoff_multiplier = 2.0;
    bool jitter = true;
};

struct MigrationsOptions {
    std::string directory;   // absolute; default <config dir>/database/migrations/<connection>
    std::string table_name = "ilana_migrations";
    std::string schema_name; // "" = the connection's default schema
};

struct DebugOptions {
    bool enabled = false;
    bool log_queries = false;
    bool log_pool_events = false;
    int64_t slow_query_threshold_ms = 0; // 0 = off
};

struct MetricsAuth {
    std::string username;
    std::string password; // secret
};

struct MetricsOptions {
    std::string listen = "127.0.0.1:9464";
    bool include_runtime = false;
    // A scrape reports a health check no older than this; older, the scrape
    // runs one first (0: every scrape checks).
    int64_t health_max_age_ms = 10000;
    // Bound on each pool's ping in the checks of /health and of a scrape.
    int ping_timeout_ms = 3000;
    std::optional<MetricsAuth> auth;
};

struct TenantsOptions {
    std::string connection;        // the template connection
    std::string isolation;         // "schema" | "database" | "file"
    std::string schema_prefix = "tenant_";
    int max_pools = 50;
    int64_t pool_ttl_ms = 3600000;
    PoolOptions pool;              // per tenant pool (defaults min 0, max 5)
    std::vector<std::string> discovery_list;   // "discovery": {"list": [...]}
    std::string discovery_query;               // "discovery": {"query": ...}
    std::string discovery_connection;          // defaults to `connection`
    std::string migrations_directory;          // absolute
};

// "reload": {"watch": true, "intervalMs": 1000}: a Database opened from
// this file reloads it (Database::reload) when the content hash of the file
// (and of the .env beside it, when one was read) changes, checked every
// intervalMs by one background thread per Database.
struct ReloadOptions {
    bool watch = false;
    int64_t interval_ms = 1000;
};

// One connection's part of the difference between two configs
// (Config::diff), and what a reload does about it.
struct ConfigChange {
    enum class Kind {
        added,    // a new connection: it gets a pool (opened lazily)
        removed,  // gone: its pool drains, handles to it fail naming it
        resized,  // only pool.min / pool.max changed: resized in place
        replaced, // anything else changed: a new pool, the old one drains
    };
    Kind kind;
    std::string connection;
    // What changed, for logs and ReloadResult ("pool.max 10 -> 4",
    // "connection parameters", "retry"); never a value of a parameter.
    std::string what;
};
const char *to_string(ConfigChange::Kind kind) noexcept;

// Where one connection parameter came from: its JSON path in the config
// file (after environments are merged, the place the user wrote it) and the
// JSON type it had there, which flattening to text loses. The host checks
// the type against the driver's declaration ("ilana.params/1").
struct ParamOrigin {
    std::string json_path;  // "/connections/cache/connection/filename"
    std::string json_type;  // "string", "integer", "number", "boolean", or
                            // "url" for a "connection" given as a string
};

// Where a connection's password comes from when the config does not hold it
// ("password": {"passwordFile": ...} or {"passwordCommand": [...]}, README
// "Credentials"). Exactly one of `file` and `command` is set. The path and
// the command are not secret (errors name them); the value they give is,
// and joins the redaction as soon as it is read (Config::learn_secret).
struct PasswordProviderConfig {
    // "passwordFile": absolute (a relative path is taken from the config
    // file's folder); read again for every new connection, one trailing
    // newline (\n or \r\n) stripped.
    std::string file;
    // "passwordCommand": argv, run without a shell (argv[0] found on PATH
    // unless it holds a '/'; a relative one with '/' is taken from the
    // config file's folder); its stdout, one trailing newline stripped, is
    // the password.
    std::vector<std::string> command;
    int64_t ttl_ms = 300000;    // "ttlMs": the command's answer is reused this long (0: every connect)
    int64_t timeout_ms = 10000; // "timeoutMs": the command is killed after this long
    std::string json_path;      // "/connections/primary/connection/password"
};

// One entry of "servers": a connection budget shared by every pool whose
// connection names this server ("server": "pg-main"), tenant pools and
// replicas included. README "Connection budget".
struct ServerConfig {
    std::string name;         // key in "servers"
    int max_connections = 0;  // "maxConnections": open (and opening) sessions at most
    std::string json_path;    // "/servers/<name>"
};

// One entry of "connections".
struct ConnectionConfig {
    std::string name;    // key in "connections"
    std::string client;  // lower-cased "client" ("mysql2", "pg", "sqlite3", ...)
    // The "connection" object flattened to string key/values, in file order:
    // nested objects joined with '.' ("ssl.rejectUnauthorized"), numbers and
    // booleans as their JSON text ("5432", "true"). A string "connection"
    // value (a URL) becomes {"url", value}.
    std::vector<std::pair<std::string, std::string>> params;
    // params[i] came from param_origins[i] (same length when loaded from a
    // file; empty for a ConnectionConfig built by hand, whose params are
    // then left to the driver).
    std::vector<ParamOrigin> param_origins;
    PoolOptions pool;
    std::optional<RetryOptions> retry;           // falls back to Config::retry
    MigrationsOptions migrations;
    std::vector<std::string> read_replicas;      // "read": ["replica_1", ...]
    std::string read_strategy = "round_robin";   // round_robin | random | least_busy
    int64_t sticky_after_write_ms = 0;
    // "statementTimeoutMs": every statement of this connection may run this
    // long (0 = no limit); a call may override it (StatementOptions).
    int64_t statement_timeout_ms = 0;
    bool use_null_as_default = false;            // accepted from the seed
    bool pgbouncer = false;
    // "password" given as a provider object; the password is then not one
    // of `params` (the connect path adds it, NativeConnection::open).
    std::optional<PasswordProviderConfig> password_provider;
    std::string server;                          // "server": a key of "servers" ("" = no budget)
    std::string json_path;                       // "/connections/<name>"

    // The value of a param, or nullptr.
    const std::string *param(const std::string &key) const;
};

class Config {
public:
    // Reads and validates a config file. `environment` overrides ILANA_ENV
    // when non-empty. Throws ConfigError (file missing, bad JSON with line and
    // column, schema violations with their JSON path, missing variables).
    static Config load_file(const std::string &path, const std::string &environment = {});

    // Same from text; `source_name` is used in messages, `base_dir` resolves
    // relative paths and locates `.env` (none read when empty).
    static Config parse(const std::string &json_text, const std::string &source_name,
                        const std::string &base_dir, const std::string &environment = {});

    const std::string &source() const noexcept { return source_; }     // file path
    const std::string &base_dir() const noexcept { return base_dir_; } // its directory
    const std::string &environment() const noexcept { return environment_; }
    const std::string &default_connection() const noexcept { return default_; }
    const std::vector<ConnectionConfig> &connections() const noexcept { return connections_; }
    // nullptr when absent.
    const ConnectionConfig *find(const std::string &name) const noexcept;
    // Comma-separated names, for messages ("primary, analytics, cache").
    std::string connection_names() const;

    const std::vector<std::string> &plugin_paths() const noexcept { return plugin_paths_; }
    const RetryOptions &retry() const noexcept { return retry_; }
    const DebugOptions &debug() const noexcept { return debug_; }
    const MetricsOptions &metrics() const noexcept { return metrics_; }
    const std::optional<TenantsOptions> &tenants() const noexcept { return tenants_; }
    const ReloadOptions &reload() const noexcept { return reload_; }
    // A hash of what this config was read from: the file's bytes and the
    // .env beside it when one was read (16 hex digits, FNV-1a 64; not the
    // process environment). Two loads of unchanged files have the same
    // hash; the file watch compares it ("reload": {"watch": true}).
    const std::string &hash() const noexcept { return hash_; }
    // The hash load_file(path).hash() would have now, without parsing or
    // validating; throws ConfigError when the file cannot be read.
    static std::string hash_of_file(const std::string &path);

    // What changes from `from` to `to`, per connection, in `to`'s order
    // (removed ones after): a pure function, the plan of Database::reload.
    // A connection is "replaced" when anything of it other than pool.min /
    // pool.max changed: its client, parameters, other pool options, retry
    // (its own or, without one, the config's), migrations, replicas,
    // statementTimeoutMs, the debug settings, the tenants section when it
    // is the tenants' template or discovery connection, or a read replica
    // of it is replaced. Changing only "default" gives no change here
    // (Database::reload reports it).
    static std::vector<ConfigChange> diff(const Config &from, const Config &to);
    // "servers": the connection budgets, in file order.
    const std::vector<ServerConfig> &servers() const noexcept { return servers_; }
    // nullptr when absent.
    const ServerConfig *find_server(const std::string &name) const noexcept;
    // True for the tenants' template connection under "isolation": "file":
    // its filename holds "{tenant}", so it is no database of its own and
    // must not be opened (that would create a file by that literal name).
    bool is_tenant_file_template(const std::string &connection) const noexcept {
        return tenants_ && tenants_->isolation == "file" && tenants_->connection == connection;
    }

    // True for parameter keys whose values are secrets ("password",
    // "ssl.key", anything containing "password", "secret" or "token").
    static bool is_secret_key(const std::string &key);
    // The text with every secret value of this config replaced by "***":
    // used on every message that may echo user input.
    std::string redact(std::string text) const;
    // Adds a secret known only after load (a password provider's answer,
    // and a rotated one): redact() masks it from now on, in this Config and
    // every copy of it. Thread-safe.
    void learn_secret(const std::string &secret) const;

private:
    std::string source_;
    std::string base_dir_;
    std::string environment_;
    std::string default_;
    std::vector<ConnectionConfig> connections_;
    std::vector<std::string> plugin_paths_;
    RetryOptions retry_;
    DebugOptions debug_;
    MetricsOptions metrics_;
    std::optional<TenantsOptions> tenants_;
    ReloadOptions reload_;
    std::string hash_;
    std::vector<ServerConfig> servers_;
    std::vector<std::string> secrets_; // values to redact
    // Secrets learned after load; shared by the copies of this Config.
    std::shared_ptr<detail::LearnedSecrets> learned_secrets_ = make_learned_secrets();
    static std::shared_ptr<detail::LearnedSecrets> make_learned_secrets();

    friend class ConfigLoader;
    friend class Database; // adds the values of parameters a driver declares secret
};

} // namespace ilana
