// ConfigLoader: ilana.config.json -> ilana::Config.
//
// Order matters and is the contract of <ilana/config.hpp>:
//   parse (comments, trailing commas) -> refuse deep nesting, duplicate keys
//   -> choose and merge the environment section -> interpolate ${VAR}
//   -> collect secrets -> coerce numeric strings -> validate against the
//   schema -> semantic checks (references between connections) -> structs.
#include <ilana/config.hpp>

#include "common/text_file.hpp"
#include "config/config_schema.hpp"
#include "config/dotenv.hpp"
#include "config/env_interpolation.hpp"
#include "config/environments.hpp"
#include "config/json_util.hpp"
#include "config/schema_errors.hpp"
#include "config/secrets.hpp"

#include <rapidjson/error/en.h>

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <set>

namespace ilana {

namespace fs = std::filesystem;
using namespace config_detail;

namespace {

// Iterative: no recursion however deep the input. Not kParseFullPrecisionFlag:
// RapidJSON 1.1.0's full-precision path calls clz(0) on inputs such as "0e87"
// (found by tests/fuzz); the default path is exact for the numbers configs hold.
constexpr unsigned kParseFlags = rapidjson::kParseCommentsFlag | rapidjson::kParseTrailingCommasFlag |
                                 rapidjson::kParseIterativeFlag | rapidjson::kParseValidateEncodingFlag;

std::string lower(std::string s) {
    for (char &c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return s;
}

bool valid_connection_name(std::string_view name) {
    auto alpha = [](char c) { return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_'; };
    if (name.empty() || !alpha(name[0])) return false;
    return std::all_of(name.begin(), name.end(),
                       [&](char c) { return alpha(c) || (c >= '0' && c <= '9') || c == '-'; });
}

// 1-based line and column (in characters) of a byte offset.
std::pair<std::size_t, std::size_t> line_and_column(const std::string &text, std::size_t offset) {
    offset = std::min(offset, text.size());
    std::size_t line = 1, column = 1;
    for (std::size_t i = 0; i < offset; ++i) {
        const auto c = static_cast<unsigned char>(text[i]);
        if (c == '\n') {
            ++line;
            column = 1;
        } else if ((c & 0xC0) != 0x80) { // not a UTF-8 continuation byte
            ++column;
        }
    }
    return {line, column};
}

std::string join(const std::vector<std::string> &items) {
    std::string out;
    for (const auto &item : items) out += (out.empty() ? "" : ", ") + item;
    return out;
}

int64_t get_int(const Value &object, const char *key, int64_t fallback) {
    const Value *v = member(object, key);
    return (v != nullptr && v->IsInt64()) ? v->GetInt64() : fallback;
}
bool get_bool(const Value &object, const char *key, bool fallback) {
    const Value *v = member(object, key);
    return (v != nullptr && v->IsBool()) ? v->GetBool() : fallback;
}
std::string get_string(const Value &object, const char *key, const std::string &fallback = {}) {
    const Value *v = member(object, key);
    return (v != nullptr && v->IsString()) ? str(*v) : fallback;
}

} // namespace

// Config::hash(): FNV-1a 64 over the config's text and the .env's text.
// Not cryptographic: it tells "changed" from "same"
// for the file watch and the metrics, nothing more.
std::string source_hash(const std::string &text, const std::string &dotenv_text) {
    uint64_t h = 14695981039346656037ull;
    auto add = [&h](const std::string &part) {
        for (unsigned char c : part) {
            h ^= c;
            h *= 1099511628211ull;
        }
        h ^= 0xff; // a separator no UTF-8 text contains
        h *= 1099511628211ull;
    };
    add(text);
    add(dotenv_text);
    static const char digits[] = "0123456789abcdef";
    std::string out(16, '0');
    for (int i = 15; i >= 0; --i, h >>= 4) out[static_cast<size_t>(i)] = digits[h & 0xf];
    return out;
}

class ConfigLoader {
public:
    // The config file's absolute path and text; ConfigError when it cannot
    // be read.
    static std::pair<fs::path, std::string> read_config_file(const std::string &path) {
        std::error_code ec;
        fs::path absolute = fs::absolute(fs::path(path), ec);
        if (ec) absolute = fs::path(path);
        absolute = absolute.lexically_normal();
        const std::string shown = absolute.string();
        if (!fs::exists(absolute, ec))
            throw ConfigError("config file not found: " + shown +
                                  " (use --config FILE or create ilana.config.json)",
                              shown);
        if (fs::is_directory(absolute, ec))
            throw ConfigError("config path is a directory, not a file: " + shown +
                                  " (use --config FILE)",
                              shown);
        std::string text;
        try {
            text = detail::read_text_file(shown, detail::kConfigFileLimit, "config file");
        } catch (const detail::TextFileError &e) {
            throw ConfigError(e.what(), shown);
        }
        return {absolute, std::move(text)};
    }

    static Config load_file(const std::string &path, const std::string &environment) {
        auto [absolute, text] = read_config_file(path);
        return ConfigLoader(path, absolute.parent_path().string()).run(std::move(text), environment, true);
    }

    static std::string hash_of_file(const std::string &path) {
        auto [absolute, text] = read_config_file(path);
        return source_hash(text, read_dotenv_text(absolute.parent_path().string()));
    }

    static Config parse(const std::string &text, const std::string &source_name, const std::string &base_dir,
                        const std::string &environment) {
        return ConfigLoader(source_name, base_dir).run(text, environment, !base_dir.empty());
    }

private:
    ConfigLoader(const std::string &source, const std::string &base_dir) : has_base_dir_(!base_dir.empty()) {
        config_.source_ = source;
        std::error_code ec;
        fs::path base = base_dir.empty() ? fs::current_path(ec) : fs::absolute(fs::path(base_dir), ec);
        if (ec) base = base_dir.empty() ? fs::path("/") : fs::path(base_dir);
        config_.base_dir_ = strip_trailing_separator(base.lexically_normal().string());
    }

    static std::string strip_trailing_separator(std::string p) {
        while (p.size() > 1 && p.back() == '/') p.pop_back();
        return p;
    }

    // --- errors -----------------------------------------------------------

    // `path` is a path of the parsed file.
    [[noreturn]] void fail_at(const std::string &path, const std::string &message) const {
        throw ConfigError(message, config_.source_, path);
    }
    // `path` is a path of the merged config: reported where the user wrote it.
    [[noreturn]] void fail(const std::string &path, const std::string &message) const {
        fail_at(effective_.source_path(path), message);
    }

    // --- pipeline ---------------------------------------------------------

    Config run(std::string text, const std::string &environment, bool read_env_file) {
        const std::string dotenv_text = read_env_file ? read_dotenv_text(config_.base_dir_) : std::string();
        config_.hash_ = source_hash(text, dotenv_text);
        if (text.compare(0, 3, "\xEF\xBB\xBF") == 0) text.erase(0, 3); // UTF-8 BOM

        Document root;
        root.Parse<kParseFlags>(text.data(), text.size());
        if (root.HasParseError()) {
            const auto [line, column] = line_and_column(text, root.GetErrorOffset());
            throw ConfigError(":" + std::to_string(line) + ":" + std::to_string(column) +
                                  ": invalid JSON: " + rapidjson::GetParseError_En(root.GetParseError()),
                              config_.source_);
        }
        if (!root.IsObject())
            throw ConfigError(std::string("the config must be a JSON object, got ") + kind_of(root),
                              config_.source_);
        if (nesting_depth(root) > kMaxDepth)
            throw ConfigError("nesting deeper than " + std::to_string(kMaxDepth) + " levels", config_.source_);
        check_duplicate_keys(root, "");

        const VariableSource vars(read_env_file ? parse_dotenv(dotenv_text, dotenv_path(config_.base_dir_)) : DotEnv{});
        std::string env_name = environment;
        bool explicit_name = !env_name.empty();
        if (!explicit_name) {
            const auto from_env = vars.get("ILANA_ENV");
            if (from_env && !from_env->empty()) {
                env_name = *from_env;
                explicit_name = true;
            } else {
                env_name = "development";
            }
        }
        config_.environment_ = env_name;

        std::vector<std::string> top_level_keys;
        if (const Value *props = member(config_schema_json(), "properties"))
            for (auto it = props->MemberBegin(); it != props->MemberEnd(); ++it)
                if (view(it->name) != "environments") top_level_keys.push_back(str(it->name));
        build_effective_config(root, env_name, explicit_name, config_.source_, top_level_keys, effective_);

        Document &doc = effective_.doc;
        interpolate_tree(doc, "", vars, doc.GetAllocator(),
                         [this](const std::string &path, const std::string &message) { fail(path, message); });

        collect_secrets(doc, config_.secrets_);
        normalize_secrets(config_.secrets_);

        coerce_to_schema(doc, doc.GetAllocator());
        validate(doc);

        build(doc);
        return std::move(config_);
    }

    void check_duplicate_keys(const Value &value, const std::string &path) const {
        if (value.IsObject()) {
            std::set<std::string_view> seen;
            for (auto it = value.MemberBegin(); it != value.MemberEnd(); ++it) {
                if (!seen.insert(view(it->name)).second)
                    fail_at(path, "duplicate key '" + str(it->name) + "' (the later one would be lost)");
                check_duplicate_keys(it->value, join_path(path, view(it->name)));
            }
        } else if (value.IsArray()) {
            for (rapidjson::SizeType i = 0; i < value.Size(); ++i) check_duplicate_keys(value[i], join_index(path, i));
        }
    }

    void validate(const Document &doc) const {
        rapidjson::SchemaValidator validator(config_schema());
        if (doc.Accept(validator)) return;
        SchemaErrorReport report = describe_schema_error(validator, doc, config_.secrets_);
        if (report.path.empty() && report.message == "missing required key 'connections'" &&
            effective_.has_environments && !effective_.section_found)
            report.message += " (environment '" + effective_.environment +
                              "' has no section in \"environments\"; environments: " + join(effective_.available) +
                              "; choose one with ILANA_ENV)";
        fail(report.path, report.message);
    }

    // --- structs ------------------------------------------------------------

    std::string resolve_path(const std::string &dir) const {
        fs::path p(dir);
        if (!p.is_absolute()) p = fs::path(config_.base_dir_) / p;
        return strip_trailing_separator(p.lexically_normal().string());
    }

    void read_pool(const Value &object, const std::string &path, PoolOptions &pool) const {
        pool.min = static_cast<int>(get_int(object, "min", pool.min));
        pool.max = static_cast<int>(get_int(object, "max", pool.max));
        pool.acquire_timeout_ms = get_int(object, "acquireTimeoutMillis", pool.acquire_timeout_ms);
        pool.create_timeout_ms = get_int(object, "createTimeoutMillis", pool.create_timeout_ms);
        pool.destroy_timeout_ms = get_int(object, "destroyTimeoutMillis", pool.destroy_timeout_ms);
        pool.idle_timeout_ms = get_int(object, "idleTimeoutMillis", pool.idle_timeout_ms);
        pool.reap_interval_ms = get_int(object, "reapIntervalMillis", pool.reap_interval_ms);
        pool.create_retry_interval_ms = get_int(object, "createRetryIntervalMillis", pool.create_retry_interval_ms);
        pool.max_lifetime_ms = get_int(object, "maxLifetimeMillis", pool.max_lifetime_ms);
        pool.validate_idle_after_ms = get_int(object, "validateIdleAfterMillis", pool.validate_idle_after_ms);
        pool.leak_detection_ms = get_int(object, "leakDetectionMillis", pool.leak_detection_ms);
        if (pool.min > pool.max)
            fail(path, "min (" + std::to_string(pool.min) + ") must not exceed max (" + std::to_string(pool.max) + ")");
    }

    static RetryOptions read_retry(const Value &object, RetryOptions retry) {
        retry.max_attempts = static_cast<int>(get_int(object, "maxAttempts", retry.max_attempts));
        retry.initial_delay_ms = get_int(object, "initialDelayMs", retry.initial_delay_ms);
        retry.max_delay_ms = get_int(object, "maxDelayMs", retry.max_delay_ms);
        if (const Value *m = member(object, "backoffMultiplier"); m != nullptr && m->IsNumber())
            retry.backoff_multiplier = m->GetDouble();
        retry.jitter = get_bool(object, "jitter", retry.jitter);
        return retry;
    }

    void flatten(const Value &object, const std::string &prefix, const std::string &path,
                 std::vector<std::pair<std::string, std::string>> &params, std::vector<ParamOrigin> &origins) const {
        for (auto it = object.MemberBegin(); it != object.MemberEnd(); ++it) {
            const std::string key = prefix.empty() ? str(it->name) : prefix + "." + str(it->name);
            const std::string child = join_path(path, view(it->name));
            const Value &v = it->value;
            if (v.IsNull()) continue;
            // The provider object, read by read_password_provider.
            if (prefix.empty() && v.IsObject() && view(it->name) == "password") continue;
            if (v.IsObject()) {
                flatten(v, key, child, params, origins);
                continue;
            }
            if (v.IsArray())
                fail(child, "arrays are not allowed in connection parameters (use a comma-separated string)");
            else if (v.IsString())
                params.emplace_back(key, str(v));
            else if (v.IsBool())
                params.emplace_back(key, v.IsTrue() ? "true" : "false");
            else
                params.emplace_back(key, number_text(v));
            const char *type = v.IsString() ? "string" : v.IsBool() ? "boolean" : (v.IsInt64() || v.IsUint64()) ? "integer" : "number";
            origins.push_back({effective_.source_path(child), type});
        }
    }

    // "password": {"passwordFile": ...} | {"passwordCommand": [...], "ttlMs", "timeoutMs"}.
    // The schema checked the keys and types; here the combinations.
    PasswordProviderConfig read_password_provider(const Value &object, const std::string &path,
                                                  const ConnectionConfig &c) const {
        const Value *file = member(object, "passwordFile");
        const Value *command = member(object, "passwordCommand");
        if (file != nullptr && command != nullptr)
            fail(path, "give either \"passwordFile\" or \"passwordCommand\", not both");
        if (file == nullptr && command == nullptr)
            fail(path, "a password object needs \"passwordFile\" (a file holding the password) or "
                       "\"passwordCommand\" (a command printing it); for a literal password write a string");
        PasswordProviderConfig p;
        p.json_path = effective_.source_path(path);
        if (file != nullptr) {
            for (const char *key : {"ttlMs", "timeoutMs"})
                if (member(object, key) != nullptr)
                    fail(join_path(path, key), std::string("\"") + key +
                                                   "\" applies to \"passwordCommand\" only: \"passwordFile\" is "
                                                   "read again for every new connection; remove it");
            p.file = resolve_path(str(*file));
        } else {
            for (auto it = command->Begin(); it != command->End(); ++it) p.command.push_back(str(*it));
            // argv[0] with a '/' is a path (relative: from the config's
            // folder, like passwordFile); a bare name is looked up on PATH.
            if (p.command[0].find('/') != std::string::npos) p.command[0] = resolve_path(p.command[0]);
            p.ttl_ms = get_int(object, "ttlMs", p.ttl_ms);
            p.timeout_ms = get_int(object, "timeoutMs", p.timeout_ms);
        }
        // Two passwords for one connection: the drivers would take the
        // explicit key and silently ignore the other; refused instead.
        for (std::size_t i = 0; i < c.params.size(); ++i)
            if (carries_password(c.params[i].second))
                fail_at(c.param_origins[i].json_path,
                        "this parameter carries a password, and " + p.json_path +
                            " gives one from a provider: remove the password from it (keep the provider) or "
                            "remove the provider");
        return p;
    }

    ConnectionConfig read_connection(const std::string &name, const Value &object, const std::string &path) const {
        if (!valid_connection_name(name))
            fail(path, "invalid connection name '" + name +
                           "' (use letters, digits, '_' and '-', starting with a letter or '_')");
        ConnectionConfig c;
        c.name = name;
        c.json_path = effective_.source_path(path);
        c.client = lower(get_string(object, "client"));
        if (const Value *conn = member(object, "connection")) {
            const std::string conn_path = join_path(path, "connection");
            if (conn->IsString()) {
                c.params.emplace_back("url", str(*conn));
                c.param_origins.push_back({effective_.source_path(conn_path), "url"});
            } else if (conn->IsObject()) {
                flatten(*conn, "", conn_path, c.params, c.param_origins);
                if (const Value *password = member(*conn, "password"); password != nullptr && password->IsObject())
                    c.password_provider = read_password_provider(*password, join_path(conn_path, "password"), c);
            }
        }
        if (const Value *pool = member(object, "pool")) read_pool(*pool, join_path(path, "pool"), c.pool);
        if (const Value *retry = member(object, "retry")) c.retry = read_retry(*retry, config_.retry_);
        const Value *migrations = member(object, "migrations");
        const std::string directory = migrations ? get_string(*migrations, "directory") : std::string();
        c.migrations.directory = directory.empty() ? resolve_path("database/migrations/" + name) : resolve_path(directory);
        if (migrations) {
            c.migrations.table_name = get_string(*migrations, "tableName", c.migrations.table_name);
            c.migrations.schema_name = get_string(*migrations, "schemaName");
        }
        if (const Value *read = member(object, "read"))
            for (auto it = read->Begin(); it != read->End(); ++it) c.read_replicas.push_back(str(*it));
        c.read_strategy = get_string(object, "readStrategy", c.read_strategy);
        c.sticky_after_write_ms = get_int(object, "stickyAfterWriteMs", 0);
        c.statement_timeout_ms = get_int(object, "statementTimeoutMs", 0);
        c.use_null_as_default = get_bool(object, "useNullAsDefault", false);
        c.pgbouncer = get_bool(object, "pgbouncer", false);
        c.server = get_string(object, "server");
        return c;
    }

    void build(const Document &doc) {
        Config &cfg = config_;
        // Top-level retry first: connections inherit it for omitted fields.
        if (const Value *retry = member(doc, "retry")) cfg.retry_ = read_retry(*retry, cfg.retry_);

        const Value &connections = *member(doc, "connections");
        for (auto it = connections.MemberBegin(); it != connections.MemberEnd(); ++it) {
            const std::string name = str(it->name);
            cfg.connections_.push_back(read_connection(name, it->value, join_path("/connections", name)));
        }

        // Replicas name other, existing connections.
        for (const auto &c : cfg.connections_) {
            for (std::size_t i = 0; i < c.read_replicas.size(); ++i) {
                const std::string &replica = c.read_replicas[i];
                const std::string path = join_index(join_path(join_path("/connections", c.name), "read"), i);
                if (replica == c.name) fail(path, "a connection cannot be its own read replica ('" + replica + "')");
                if (cfg.find(replica) == nullptr)
                    fail(path, "read replica " + shown(replica) +
                                   " is not a defined connection; connections: " + cfg.connection_names());
            }
        }

        if (const Value *def = member(doc, "default")) {
            cfg.default_ = str(*def);
            if (cfg.find(cfg.default_) == nullptr) {
                const std::string suggestion = closest_name(cfg.default_, names());
                fail("/default", "default connection " + shown(cfg.default_) +
                                     " is not defined; " +
                                     (suggestion.empty() ? std::string() : "did you mean '" + suggestion + "'? ") +
                                     "connections: " + cfg.connection_names());
            }
        } else if (cfg.connections_.size() == 1) {
            cfg.default_ = cfg.connections_.front().name;
        } else {
            fail("/default", "missing: with several connections, \"default\" must name one of: " +
                                 cfg.connection_names());
        }

        if (const Value *plugins = member(doc, "plugins"))
            if (const Value *paths = member(*plugins, "paths"))
                for (rapidjson::SizeType i = 0; i < paths->Size(); ++i) {
                    // Relative to the config file's folder, a place the user
                    // chose; without a file that would be the current
                    // directory, from which plugins never load (rule 11).
                    const std::string dir = str((*paths)[i]);
                    if (!fs::path(dir).is_absolute() && !has_base_dir_)
                        fail(join_index("/plugins/paths", i),
                             "relative plugin directory '" + dir + "' refused: this config has no file whose folder "
                             "it could be relative to, and plugins never load from the current directory; give an "
                             "absolute path");
                    cfg.plugin_paths_.push_back(resolve_path(dir));
                }

        if (const Value *debug = member(doc, "debug")) {
            cfg.debug_.enabled = get_bool(*debug, "enabled", false);
            cfg.debug_.log_queries = get_bool(*debug, "logQueries", false);
            cfg.debug_.log_pool_events = get_bool(*debug, "logPoolEvents", false);
            cfg.debug_.slow_query_threshold_ms = get_int(*debug, "slowQueryThreshold", 0);
        }

        if (const Value *metrics = member(doc, "metrics")) read_metrics(*metrics);
        if (const Value *tenants = member(doc, "tenants")) read_tenants(*tenants);
        if (const Value *reload = member(doc, "reload")) {
            cfg.reload_.watch = get_bool(*reload, "watch", false);
            cfg.reload_.interval_ms = get_int(*reload, "intervalMs", cfg.reload_.interval_ms);
        }
        if (const Value *servers = member(doc, "servers")) read_servers(*servers);
        check_server_references();
    }

    void read_servers(const Value &servers) {
        for (auto it = servers.MemberBegin(); it != servers.MemberEnd(); ++it) {
            ServerConfig s;
            s.name = str(it->name);
            const std::string path = join_path("/servers", s.name);
            if (!valid_connection_name(s.name))
                fail(path, "invalid server name " + shown(s.name) +
                               " (use letters, digits, '_' and '-', starting with a letter or '_')");
            s.json_path = effective_.source_path(path);
            s.max_connections = static_cast<int>(get_int(it->value, "maxConnections", 0));
            config_.servers_.push_back(std::move(s));
        }
    }

    // Every "server" names an entry of "servers", and the warm connections
    // (pool.min) of a server's pools fit in its budget: a min that cannot be
    // kept is a mistake in the file, refused rather than clamped (the pools
    // would fight over the budget forever to keep it).
    void check_server_references() const {
        std::vector<std::string> server_names;
        for (const auto &s : config_.servers_) server_names.push_back(s.name);
        for (const auto &c : config_.connections_) {
            if (c.server.empty() || config_.find_server(c.server) != nullptr) continue;
            const std::string suggestion = closest_name(c.server, server_names);
            fail(join_path(join_path("/connections", c.name), "server"),
                 "server " + shown(c.server) + " is not defined in \"servers\"; " +
                     (suggestion.empty() ? std::string() : "did you mean '" + suggestion + "'? ") +
                     (server_names.empty() ? std::string("add \"servers\": {\"" + c.server +
                                                         "\": {\"maxConnections\": N}} at the top level")
                                           : "servers: " + join(server_names)));
        }
        for (const auto &s : config_.servers_) {
            const std::string path = join_path(join_path("/servers", s.name), "maxConnections");
            int mins = 0;
            std::string parts;
            for (const auto &c : config_.connections_) {
                if (c.server != s.name || c.pool.min == 0) continue;
                mins += c.pool.min;
                parts += (parts.empty() ? "" : ", ") + c.name + " " + std::to_string(c.pool.min);
            }
            if (mins > s.max_connections)
                fail(path, "maxConnections=" + std::to_string(s.max_connections) +
                               " cannot keep the pool.min of the connections of server '" + s.name + "' (" + parts +
                               ": " + std::to_string(mins) + " in all); lower their pool.min or raise maxConnections");
            const auto &t = config_.tenants_;
            if (t && t->pool.min > s.max_connections && config_.find(t->connection)->server == s.name)
                fail("/tenants/pool/min", "min (" + std::to_string(t->pool.min) +
                                              ") exceeds the connection budget of server '" + s.name +
                                              "' (maxConnections=" + std::to_string(s.max_connections) +
                                              "), which every tenant pool of '" + t->connection +
                                              "' shares; lower tenants.pool.min or raise maxConnections");
        }
    }

    // A user-written name for a message: quoted, or hidden when it could be
    // a secret (or is unprintable).
    std::string shown(const std::string &name) const {
        std::string q = quote_for_message(name, config_.secrets_);
        return q.front() == '\'' ? q : std::string("(value not shown)");
    }

    std::vector<std::string> names() const {
        std::vector<std::string> out;
        for (const auto &c : config_.connections_) out.push_back(c.name);
        return out;
    }

    void read_metrics(const Value &metrics) {
        MetricsOptions &m = config_.metrics_;
        m.listen = get_string(metrics, "listen", m.listen);
        const auto colon = m.listen.rfind(':');
        const std::string port = colon == std::string::npos ? std::string() : m.listen.substr(colon + 1);
        long number = 0;
        for (char ch : port) number = (ch >= '0' && ch <= '9' && number < 100000) ? number * 10 + (ch - '0') : 100000;
        // Port 0 asks the system for a free port (MetricsServer::port() tells which).
        if (port.empty() || number < 0 || number > 65535)
            fail("/metrics/listen", "the port must be between 0 and 65535 (\"host:port\", e.g. \"127.0.0.1:9464\")");
        m.include_runtime = get_bool(metrics, "includeRuntime", false);
        m.health_max_age_ms = get_int(metrics, "healthMaxAgeMs", m.health_max_age_ms);
        m.ping_timeout_ms = static_cast<int>(get_int(metrics, "pingTimeoutMs", m.ping_timeout_ms));
        if (const Value *auth = member(metrics, "auth")) {
            m.auth = MetricsAuth{get_string(*auth, "username"), get_string(*auth, "password")};
            if (!m.auth->password.empty()) {
                config_.secrets_.push_back(m.auth->password);
                normalize_secrets(config_.secrets_);
            }
        }
    }

    void read_tenants(const Value &object) {
        TenantsOptions t;
        t.pool.min = 0;
        t.pool.max = 5;
        t.connection = get_string(object, "connection");
        if (config_.find(t.connection) == nullptr)
            fail("/tenants/connection", "tenant template connection " +
                                            shown(t.connection) +
                                            " is not defined; connections: " + config_.connection_names());
        t.isolation = get_string(object, "isolation");
        // Schema isolation is the search_path of each tenant pool's
        // sessions. PgBouncer in transaction mode ("pgbouncer": true) drops
        // the startup 'options' that carry it and hands each transaction to
        // any server connection, so tenant queries would run in whatever
        // schema that connection has: another tenant's data, silently.
        if (t.isolation == "schema" && config_.find(t.connection)->pgbouncer)
            fail("/tenants/isolation",
                 "\"schema\" isolation does not work through PgBouncer in transaction mode: the template "
                 "connection " + shown(t.connection) +
                     " has \"pgbouncer\": true, and transaction pooling drops each tenant's search_path, so "
                     "queries would silently run in another tenant's schema. Point \"tenants.connection\" at a "
                     "connection that reaches PostgreSQL directly, or at a PgBouncer pool in session mode "
                     "(pool_mode = session, without \"pgbouncer\": true), or give each tenant a database of its "
                     "own instead of a schema");
        t.schema_prefix = get_string(object, "schemaPrefix", t.schema_prefix);
        // With an empty prefix every schema / database of the server would
        // be a tenant (listed, migrated, dropped with --force): refused here.
        // File isolation names tenants by its filename template instead.
        if (t.schema_prefix.empty() && t.isolation != "file")
            fail("/tenants/schemaPrefix",
                 "\"schemaPrefix\" is empty: every " + std::string(t.isolation == "database" ? "database" : "schema") +
                     " on the server would be a tenant; give the prefix that marks tenant namespaces (e.g. "
                     "\"tenant_\")");
        t.max_pools = static_cast<int>(get_int(object, "maxPools", t.max_pools));
        t.pool_ttl_ms = get_int(object, "poolTtlMs", t.pool_ttl_ms);
        if (const Value *pool = member(object, "pool")) read_pool(*pool, "/tenants/pool", t.pool);
        t.discovery_connection = t.connection;
        if (const Value *discovery = member(object, "discovery")) {
            const Value *query = member(*discovery, "query");
            const Value *list = member(*discovery, "list");
            const Value *conn = member(*discovery, "connection");
            if (query != nullptr && list != nullptr)
                fail("/tenants/discovery", "give either \"query\" or \"list\", not both");
            if (query == nullptr && list == nullptr)
                fail("/tenants/discovery", "needs \"query\" (tenant ids from SQL) or \"list\" (fixed tenant ids)");
            if (list != nullptr && conn != nullptr)
                fail("/tenants/discovery/connection", "only used with \"query\"; remove it or use \"query\"");
            if (query != nullptr) t.discovery_query = str(*query);
            if (list != nullptr)
                for (auto it = list->Begin(); it != list->End(); ++it) t.discovery_list.push_back(str(*it));
            if (conn != nullptr) {
                t.discovery_connection = str(*conn);
                if (config_.find(t.discovery_connection) == nullptr)
                    fail("/tenants/discovery/connection",
                         "connection " + shown(t.discovery_connection) +
                             " is not defined; connections: " + config_.connection_names());
            }
        }
        const Value *migrations = member(object, "migrations");
        const std::string directory = migrations ? get_string(*migrations, "directory") : std::string();
        t.migrations_directory = resolve_path(directory.empty() ? std::string("database/migrations/tenants") : directory);
        config_.tenants_ = std::move(t);
    }

    bool has_base_dir_ = false; // a folder to resolve relative paths against was given
    Config config_;
    EffectiveConfig effective_;
};

Config Config::load_file(const std::string &path, const std::string &environment) {
    return ConfigLoader::load_file(path, environment);
}

std::string Config::hash_of_file(const std::string &path) { return ConfigLoader::hash_of_file(path); }


Config Config::parse(const std::string &json_text, const std::string &source_name, const std::string &base_dir,
                     const std::string &environment) {
    return ConfigLoader::parse(json_text, source_name, base_dir, environment);
}

const std::string *ConnectionConfig::param(const std::string &key) const {
    for (const auto &[k, v] : params)
        if (k == key) return &v;
    return nullptr;
}

const ConnectionConfig *Config::find(const std::string &name) const noexcept {
    for (const auto &c : connections_)
        if (c.name == name) return &c;
    return nullptr;
}

const ServerConfig *Config::find_server(const std::string &name) const noexcept {
    for (const auto &s : servers_)
        if (s.name == name) return &s;
    return nullptr;
}

std::string Config::connection_names() const {
    std::string out;
    for (const auto &c : connections_) out += (out.empty() ? "" : ", ") + c.name;
    return out;
}

} // namespace ilana
