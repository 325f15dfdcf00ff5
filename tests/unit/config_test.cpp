// ilana::Config: loading, structs, flattening, paths, semantic checks.
// (Interpolation, .env and environments: config_env_test.cpp; schema
// messages and secrets: config_schema_test.cpp.)
#include "../fixtures/config/config_test_helpers.hpp"

#include <ilana/config.hpp>
#include <ilana/error.hpp>

using namespace ilana_config_test;
using Catch::Matchers::Contains;
using Catch::Matchers::StartsWith;
using ilana::Config;
using ilana::ConfigError;

namespace {

using Params = std::vector<std::pair<std::string, std::string>>;

const char *kOneConnection = R"({
  "connections": {
    "main": { "client": "SQLite3", "connection": { "filename": "./app.sqlite" } }
  }
})";

} // namespace

TEST_CASE("config: a single connection becomes the default, with documented defaults", "[config]") {
    TempDir dir;
    const Config cfg = parse(kOneConnection, {}, dir.str());
    REQUIRE(cfg.connections().size() == 1);
    CHECK(cfg.default_connection() == "main");
    CHECK(cfg.environment() == "development");
    CHECK(cfg.source() == "test.json");
    CHECK(cfg.base_dir() == dir.str());

    const ilana::ConnectionConfig &c = cfg.connections().front();
    CHECK(c.name == "main");
    CHECK(c.client == "sqlite3"); // lower-cased
    CHECK(c.params == Params{{"filename", "./app.sqlite"}});
    CHECK(c.json_path == "/connections/main");
    CHECK(c.migrations.directory == dir.str() + "/database/migrations/main");
    CHECK(c.migrations.table_name == "ilana_migrations");
    CHECK(c.migrations.schema_name.empty());
    CHECK(c.read_strategy == "round_robin");
    CHECK_FALSE(c.retry.has_value());
    CHECK_FALSE(c.use_null_as_default);
    CHECK_FALSE(c.pgbouncer);

    const ilana::PoolOptions defaults;
    CHECK(c.pool.min == 0);
    CHECK(c.pool.max == 10);
    CHECK(c.pool.acquire_timeout_ms == defaults.acquire_timeout_ms);
    CHECK(c.pool.create_retry_interval_ms == defaults.create_retry_interval_ms);

    CHECK(cfg.retry().max_attempts == 3); // the seed's default
    CHECK(cfg.debug().enabled == false);
    CHECK(cfg.metrics().listen == "127.0.0.1:9464");
    CHECK_FALSE(cfg.metrics().auth.has_value());
    CHECK_FALSE(cfg.tenants().has_value());
    CHECK(cfg.plugin_paths().empty());
    CHECK(cfg.find("main") == &c);
    CHECK(cfg.find("other") == nullptr);
    CHECK(c.param("filename") != nullptr);
    CHECK(*c.param("filename") == "./app.sqlite");
    CHECK(c.param("host") == nullptr);
}

TEST_CASE("config: the seed's multi-database config loads from a file", "[config]") {
    EnvGuard env{{"ILANA_ENV", nullptr}};
    const std::string path = fixture("seed_connections/ilana.config.json");
    const Config cfg = Config::load_file(path);
    const std::string dir = fs::path(path).parent_path().lexically_normal().string();

    CHECK(cfg.source() == path);
    CHECK(cfg.base_dir() == dir);
    CHECK(cfg.default_connection() == "primary");
    CHECK(cfg.connection_names() == "primary, analytics, reporting, cache");

    const auto *primary = cfg.find("primary");
    REQUIRE(primary != nullptr);
    CHECK(primary->client == "mysql2");
    CHECK(primary->params == Params{{"host", "primary-db.company.com"},
                                    {"port", "3306"},
                                    {"user", "app_user"},
                                    {"password", "app_password"},
                                    {"database", "main_app"},
                                    {"timezone", "UTC"}});
    CHECK(primary->migrations.directory == dir + "/database/migrations/primary");
    CHECK(primary->migrations.table_name == "migrations");

    const auto *analytics = cfg.find("analytics");
    REQUIRE(analytics != nullptr);
    CHECK(analytics->migrations.schema_name == "analytics");
    CHECK(analytics->migrations.table_name == "analytics_migrations");

    const auto *reporting = cfg.find("reporting");
    REQUIRE(reporting != nullptr);
    CHECK(reporting->migrations.directory == dir + "/database/migrations/reporting");

    const auto *cache = cfg.find("cache");
    REQUIRE(cache != nullptr);
    CHECK(cache->use_null_as_default);
    CHECK(*cache->param("filename") == "./cache.sqlite");

    // Every password of the file is a secret.
    CHECK(cfg.redact("a=app_password b=analytics_password c=readonly_password") == "a=*** b=*** c=***");
}

TEST_CASE("config: the connection object is flattened in file order", "[config]") {
    const Config cfg = parse(R"({
      "connections": { "pg": { "client": "pg", "connection": {
        "host": "db", "port": 5432, "ratio": 1.5, "tiny": 0.25, "big": 12345678901234,
        "negative": -3, "ssl": { "rejectUnauthorized": false, "ca": { "file": "ca.pem" } },
        "keepAlive": true, "skipped": null, "last": "z"
      } } }
    })");
    CHECK(cfg.find("pg")->params == Params{{"host", "db"},
                                           {"port", "5432"},
                                           {"ratio", "1.5"},
                                           {"tiny", "0.25"},
                                           {"big", "12345678901234"},
                                           {"negative", "-3"},
                                           {"ssl.rejectUnauthorized", "false"},
                                           {"ssl.ca.file", "ca.pem"},
                                           {"keepAlive", "true"},
                                           {"last", "z"}});
}

TEST_CASE("config: numbers that tripped RapidJSON's full-precision parser (fuzz regression)", "[config]") {
    CHECK(parse_error("0e87") == "test.json: the config must be a JSON object, got a number");
    const Config cfg = parse(R"({"connections": {"a": {"client": "pg", "connection": {"z": 0e87, "w": 0.0e-400}}}})");
    CHECK(cfg.find("a")->params == Params{{"z", "0.0"}, {"w", "0.0"}});
}

TEST_CASE("config: arrays are refused in connection parameters, with their path", "[config]") {
    const std::string msg = parse_error(R"({"connections": {"main": {"client": "pg",
        "connection": {"ssl": {"hosts": ["a", "b"]}}}}})");
    CHECK_THAT(msg, StartsWith("test.json: /connections/main/connection/ssl/hosts: "));
    CHECK_THAT(msg, Contains("must be a string, number, boolean or object, got an array"));
}

TEST_CASE("config: a URL string connection becomes the url parameter", "[config]") {
    const Config cfg = parse(R"({"connections": {"db": {"client": "postgresql",
        "connection": "postgres://app:p%40ss-w0rd@db.internal:5432/app?sslmode=require"}}})");
    const auto &c = *cfg.find("db");
    CHECK(c.client == "postgresql");
    CHECK(c.params == Params{{"url", "postgres://app:p%40ss-w0rd@db.internal:5432/app?sslmode=require"}});
    // The URL's password (as written and decoded) is a secret.
    CHECK(cfg.redact(c.params[0].second) == "postgres://app:***@db.internal:5432/app?sslmode=require");
    CHECK(cfg.redact("auth failed for p@ss-w0rd") == "auth failed for ***");
    CHECK(cfg.redact("no secret here") == "no secret here");
}

TEST_CASE("config: an empty URL string is refused", "[config]") {
    const std::string msg = parse_error(R"({"connections": {"db": {"client": "pg", "connection": ""}}})");
    CHECK_THAT(msg, Contains("/connections/db/connection: must not be empty"));
}

TEST_CASE("config: relative directories resolve against the config's directory", "[config]") {
    TempDir dir;
    const Config cfg = parse(R"({
      "default": "a",
      "connections": {
        "a": { "client": "pg", "migrations": { "directory": "./db/migrations/a/" } },
        "b": { "client": "pg", "migrations": { "directory": "/srv/migrations/b" } },
        "c": { "client": "pg", "migrations": { "directory": "../shared/../common/c" } }
      },
      "plugins": { "paths": ["plugins", "/usr/lib/ilana/plugins", "./x/../y"] },
      "tenants": { "connection": "a", "isolation": "schema", "migrations": { "directory": "tenant-migrations" } }
    })", {}, dir.str());
    CHECK(cfg.find("a")->migrations.directory == dir.str() + "/db/migrations/a");
    CHECK(cfg.find("b")->migrations.directory == "/srv/migrations/b");
    CHECK(cfg.find("c")->migrations.directory ==
          (dir.path().parent_path() / "common" / "c").string());
    CHECK(cfg.plugin_paths() ==
          std::vector<std::string>{dir.str() + "/plugins", "/usr/lib/ilana/plugins", dir.str() + "/y"});
    REQUIRE(cfg.tenants());
    CHECK(cfg.tenants()->migrations_directory == dir.str() + "/tenant-migrations");
}

TEST_CASE("config: without a base dir, relative paths resolve against the working directory", "[config]") {
    const Config cfg = parse(kOneConnection);
    const std::string cwd = fs::current_path().lexically_normal().string();
    CHECK(cfg.base_dir() == cwd);
    CHECK(cfg.connections()[0].migrations.directory == cwd + "/database/migrations/main");
}

TEST_CASE("config: load_file reports a missing file with its absolute path", "[config]") {
    TempDir dir;
    const std::string missing = dir.str() + "/nope/ilana.config.json";
    const ConfigError e = config_error([&] { Config::load_file(missing); });
    CHECK(std::string(e.what()) ==
          "config file not found: " + missing + " (use --config FILE or create ilana.config.json)");
    CHECK(e.file() == missing);
    CHECK(e.error_class() == ilana::ErrorClass::config);

    // A relative path is shown absolute.
    const ConfigError rel = config_error([&] { Config::load_file("definitely-missing-ilana.json"); });
    CHECK_THAT(rel.what(), Contains((fs::current_path() / "definitely-missing-ilana.json").string()));

    const ConfigError is_dir = config_error([&] { Config::load_file(dir.str()); });
    CHECK_THAT(is_dir.what(), Contains("is a directory"));
}

TEST_CASE("config: invalid JSON names file, line and column", "[config]") {
    TempDir dir;
    const std::string path = dir.write("ilana.config.json", "{\n  \"connections\": {\n    \"a\": {,\n  }\n}\n");
    const ConfigError e = config_error([&] { Config::load_file(path); });
    CHECK_THAT(e.what(), StartsWith(path + ":3:11: invalid JSON: "));
    CHECK_THAT(e.what(), Contains("Missing a name for object member"));
    CHECK(e.file() == path);

    // Columns count characters, not bytes.
    const std::string msg = parse_error("{\"é\": 1 x}");
    CHECK_THAT(msg, StartsWith("test.json:1:9: invalid JSON: "));

    CHECK_THAT(parse_error(""), StartsWith("test.json:1:1: invalid JSON: The document is empty."));
    CHECK_THAT(parse_error("{} {}"), Contains("invalid JSON: The document root must not be followed by other values."));
    CHECK_THAT(parse_error("{\"a\": \"\xff\"}"), Contains("invalid JSON: Invalid encoding in string."));
}

TEST_CASE("config: comments, trailing commas and a BOM are accepted", "[config]") {
    const Config cfg = parse("\xEF\xBB\xBF// ilana.config.json\n{\n  /* block */ \"connections\": {\n"
                             "    \"a\": {\"client\": \"pg\",}, // trailing\n  },\n}\n");
    CHECK(cfg.default_connection() == "a");
}

TEST_CASE("config: the top level must be an object, not too deep, without duplicate keys", "[config]") {
    CHECK(parse_error("[1, 2]") == "test.json: the config must be a JSON object, got an array");
    CHECK(parse_error("\"x\"") == "test.json: the config must be a JSON object, got a string");

    std::string deep = "{\"connections\": {\"a\": {\"client\": \"pg\", \"connection\": {\"x\": ";
    for (int i = 0; i < 40; ++i) deep += "{\"x\": ";
    deep += "1";
    for (int i = 0; i < 40; ++i) deep += "}";
    deep += "}}}}";
    CHECK_THAT(parse_error(deep), Contains("nesting deeper than 32 levels"));

    const std::string dup = parse_error(R"({"connections": {"a": {"client": "pg"}, "a": {"client": "mysql"}}})");
    CHECK(dup == "test.json: /connections: duplicate key 'a' (the later one would be lost)");
}

TEST_CASE("config: pool options are read and min must not exceed max", "[config]") {
    const Config cfg = parse(R"({"connections": {"mysql": {"client": "mysql2", "pool": {
        "min": 2, "max": 10, "acquireTimeoutMillis": 30001, "createTimeoutMillis": 30002,
        "destroyTimeoutMillis": 5003, "idleTimeoutMillis": 30004, "reapIntervalMillis": 1005,
        "createRetryIntervalMillis": 106, "maxLifetimeMillis": 1800007, "validateIdleAfterMillis": 5008,
        "leakDetectionMillis": 60009 }}}})");
    const ilana::PoolOptions &p = cfg.find("mysql")->pool;
    CHECK(p.min == 2);
    CHECK(p.max == 10);
    CHECK(p.acquire_timeout_ms == 30001);
    CHECK(p.create_timeout_ms == 30002);
    CHECK(p.destroy_timeout_ms == 5003);
    CHECK(p.idle_timeout_ms == 30004);
    CHECK(p.reap_interval_ms == 1005);
    CHECK(p.create_retry_interval_ms == 106);
    CHECK(p.max_lifetime_ms == 1800007);
    CHECK(p.validate_idle_after_ms == 5008);
    CHECK(p.leak_detection_ms == 60009);

    CHECK(parse_error(R"({"connections": {"x": {"client": "pg", "pool": {"min": 5, "max": 2}}}})") ==
          "test.json: /connections/x/pool: min (5) must not exceed max (2)");
    // Only min given: compared with the default max (10).
    CHECK(parse_error(R"({"connections": {"x": {"client": "pg", "pool": {"min": 11}}}})") ==
          "test.json: /connections/x/pool: min (11) must not exceed max (10)");
}

TEST_CASE("config: default must name a defined connection", "[config]") {
    const char *three = R"({"default": %s, "connections": {
        "primary": {"client": "mysql2"}, "analytics": {"client": "pg"}, "cache": {"client": "sqlite3"}}})";
    auto with_default = [&](const std::string &value) {
        std::string text = three;
        text.replace(text.find("%s"), 2, value);
        return text;
    };
    CHECK(parse(with_default("\"analytics\"")).default_connection() == "analytics");

    const ConfigError e = config_error([&] { parse(with_default("\"primry\"")); });
    CHECK(std::string(e.what()) == "test.json: /default: default connection 'primry' is not defined; "
                                   "did you mean 'primary'? connections: primary, analytics, cache");
    CHECK(e.json_path() == "/default");
    CHECK(e.file() == "test.json");

    CHECK_THAT(parse_error(with_default("\"zzz\"")),
               Contains("default connection 'zzz' is not defined; connections: primary, analytics, cache"));

    std::string no_default = with_default("\"x\"");
    no_default.erase(no_default.find("\"default\": \"x\","), std::string("\"default\": \"x\",").size());
    CHECK(parse_error(no_default) ==
          "test.json: /default: missing: with several connections, \"default\" must name one of: "
          "primary, analytics, cache");
}

TEST_CASE("config: read replicas name other defined connections", "[config]") {
    const Config cfg = parse(R"({"default": "write", "connections": {
        "write": {"client": "mysql2", "read": ["read_1", "read-2"], "readStrategy": "least_busy",
                  "stickyAfterWriteMs": 2000},
        "read_1": {"client": "mysql2"}, "read-2": {"client": "mysql2"}}})");
    const auto &w = *cfg.find("write");
    CHECK(w.read_replicas == std::vector<std::string>{"read_1", "read-2"});
    CHECK(w.read_strategy == "least_busy");
    CHECK(w.sticky_after_write_ms == 2000);

    CHECK(parse_error(R"({"default": "w", "connections": {"w": {"client": "pg", "read": ["r", "ghost"]},
                                                        "r": {"client": "pg"}}})") ==
          "test.json: /connections/w/read/1: read replica 'ghost' is not a defined connection; connections: w, r");
    CHECK(parse_error(R"({"connections": {"w": {"client": "pg", "read": ["w"]}}})") ==
          "test.json: /connections/w/read/0: a connection cannot be its own read replica ('w')");
    CHECK_THAT(parse_error(R"({"default": "w", "connections": {"w": {"client": "pg", "read": ["r", "r"]},
                                                              "r": {"client": "pg"}}})"),
               Contains("/connections/w/read: must not contain duplicates ('r' appears twice)"));
}

TEST_CASE("config: connection names are identifiers", "[config]") {
    CHECK(parse_error(R"({"connections": {"bad name": {"client": "pg"}}})") ==
          "test.json: /connections/bad name: invalid connection name 'bad name' "
          "(use letters, digits, '_' and '-', starting with a letter or '_')");
    CHECK_THAT(parse_error(R"({"connections": {"1st": {"client": "pg"}}})"), Contains("invalid connection name '1st'"));
    CHECK_THAT(parse_error(R"({"connections": {"": {"client": "pg"}}})"), Contains("invalid connection name ''"));
    CHECK(parse(R"({"connections": {"_a-B_9": {"client": "pg"}}})").default_connection() == "_a-B_9");
}

TEST_CASE("config: retry, debug and metrics sections", "[config]") {
    const Config cfg = parse(R"({
      "default": "a",
      "connections": {
        "a": {"client": "pg", "retry": {"maxAttempts": 5}},
        "b": {"client": "pg", "pgbouncer": true}
      },
      "retry": {"maxAttempts": 3, "initialDelayMs": 50, "maxDelayMs": 2000, "backoffMultiplier": 1.5, "jitter": false},
      "debug": {"enabled": true, "logQueries": true, "logPoolEvents": true, "slowQueryThreshold": 250},
      "metrics": {"listen": "0.0.0.0:9100", "includeRuntime": true, "auth": {"username": "prom", "password": "m3trics-pw"}}
    })");
    CHECK(cfg.retry().max_attempts == 3);
    CHECK(cfg.retry().initial_delay_ms == 50);
    CHECK(cfg.retry().max_delay_ms == 2000);
    CHECK(cfg.retry().backoff_multiplier == 1.5);
    CHECK(cfg.retry().jitter == false);
    // A connection's retry overrides fields and inherits the rest.
    REQUIRE(cfg.find("a")->retry);
    CHECK(cfg.find("a")->retry->max_attempts == 5);
    CHECK(cfg.find("a")->retry->initial_delay_ms == 50);
    CHECK(cfg.find("a")->retry->jitter == false);
    CHECK_FALSE(cfg.find("b")->retry);
    CHECK(cfg.find("b")->pgbouncer);

    CHECK(cfg.debug().enabled);
    CHECK(cfg.debug().log_queries);
    CHECK(cfg.debug().log_pool_events);
    CHECK(cfg.debug().slow_query_threshold_ms == 250);

    CHECK(cfg.metrics().listen == "0.0.0.0:9100");
    CHECK(cfg.metrics().include_runtime);
    REQUIRE(cfg.metrics().auth);
    CHECK(cfg.metrics().auth->username == "prom");
    CHECK(cfg.metrics().auth->password == "m3trics-pw");
    CHECK(cfg.redact("Authorization failed: m3trics-pw") == "Authorization failed: ***");
    // The scrape's health freshness and ping bound: defaults, values, mistakes.
    CHECK(cfg.metrics().health_max_age_ms == 10000);
    CHECK(cfg.metrics().ping_timeout_ms == 3000);
    const Config fresh = parse(R"({"connections": {"a": {"client": "pg"}},
        "metrics": {"healthMaxAgeMs": 0, "pingTimeoutMs": 750}})");
    CHECK(fresh.metrics().health_max_age_ms == 0);
    CHECK(fresh.metrics().ping_timeout_ms == 750);
    CHECK_THAT(parse_error(R"({"connections": {"a": {"client": "pg"}}, "metrics": {"healthMaxAgeMs": -1}})"),
               Contains("/metrics/healthMaxAgeMs"));
    CHECK_THAT(parse_error(R"({"connections": {"a": {"client": "pg"}}, "metrics": {"pingTimeoutMs": 0}})"),
               Contains("/metrics/pingTimeoutMs"));

    CHECK_THAT(parse_error(R"({"connections": {"a": {"client": "pg"}}, "retry": {"backoffMultiplier": 0.5}})"),
               Contains("/retry/backoffMultiplier: must be a number \u2265 1, got 0.5"));
    CHECK_THAT(parse_error(R"({"connections": {"a": {"client": "pg"}}, "retry": {"maxAttempts": 0}})"),
               Contains("/retry/maxAttempts: must be an integer \u2265 1, got 0"));
    CHECK_THAT(parse_error(R"({"connections": {"a": {"client": "pg"}}, "metrics": {"listen": "9464"}})"),
               Contains("/metrics/listen: must be \"host:port\" (e.g. \"127.0.0.1:9464\"), got '9464'"));
    CHECK_THAT(parse_error(R"({"connections": {"a": {"client": "pg"}}, "metrics": {"listen": "localhost:70000"}})"),
               Contains("/metrics/listen: the port must be between 0 and 65535"));
}

TEST_CASE("config: IPv6 listen addresses are accepted", "[config]") {
    const Config cfg = parse(R"({"connections": {"a": {"client": "pg"}}, "metrics": {"listen": "[::1]:9464"}})");
    CHECK(cfg.metrics().listen == "[::1]:9464");
}

TEST_CASE("config: tenants section", "[config]") {
    TempDir dir;
    const Config cfg = parse(R"({"default": "app", "connections": {"app": {"client": "pg"}, "control": {"client": "pg"}},
        "tenants": {"connection": "app", "isolation": "schema", "discovery": {"query": "SELECT id FROM tenants",
                    "connection": "control"}}})",
                             {}, dir.str());
    REQUIRE(cfg.tenants());
    const ilana::TenantsOptions &t = *cfg.tenants();
    CHECK(t.connection == "app");
    CHECK(t.isolation == "schema");
    CHECK(t.schema_prefix == "tenant_");
    CHECK(t.max_pools == 50);
    CHECK(t.pool_ttl_ms == 3600000);
    CHECK(t.pool.min == 0); // tenant pools default to min 0, max 5
    CHECK(t.pool.max == 5);
    CHECK(t.discovery_query == "SELECT id FROM tenants");
    CHECK(t.discovery_connection == "control");
    CHECK(t.discovery_list.empty());
    CHECK(t.migrations_directory == dir.str() + "/database/migrations/tenants");

    const Config listed = parse(R"({"connections": {"app": {"client": "sqlite3"}},
        "tenants": {"connection": "app", "isolation": "file", "schemaPrefix": "t_", "maxPools": 3, "poolTtlMs": 60000,
                    "pool": {"max": 2, "idleTimeoutMillis": 1000}, "discovery": {"list": ["acme", "globex"]}}})");
    const ilana::TenantsOptions &l = *listed.tenants();
    CHECK(l.discovery_list == std::vector<std::string>{"acme", "globex"});
    CHECK(l.discovery_connection == "app"); // defaults to the template connection
    CHECK(l.schema_prefix == "t_");
    CHECK(l.max_pools == 3);
    CHECK(l.pool_ttl_ms == 60000);
    CHECK(l.pool.min == 0);
    CHECK(l.pool.max == 2);
    CHECK(l.pool.idle_timeout_ms == 1000);

    const std::string base = R"({"connections": {"app": {"client": "pg"}}, "tenants": %s})";
    auto with = [&](const std::string &t) {
        std::string s = base;
        return s.replace(s.find("%s"), 2, t);
    };
    CHECK(parse_error(with(R"({"connection": "ap", "isolation": "schema"})")) ==
          "test.json: /tenants/connection: tenant template connection 'ap' is not defined; connections: app");
    CHECK(parse_error(with(R"({"connection": "app", "isolation": "rows"})")) ==
          "test.json: /tenants/isolation: must be one of schema, database, file, got 'rows'");
    CHECK(parse_error(with(R"({"connection": "app"})")) == "test.json: /tenants: missing required key 'isolation'");
    CHECK(parse_error(with(R"({"connection": "app", "isolation": "schema", "discovery": {"query": "q", "list": ["a"]}})")) ==
          "test.json: /tenants/discovery: give either \"query\" or \"list\", not both");
    CHECK_THAT(parse_error(with(R"({"connection": "app", "isolation": "schema", "discovery": {}})")),
               Contains("/tenants/discovery: needs \"query\""));
    CHECK_THAT(parse_error(with(R"({"connection": "app", "isolation": "schema", "discovery": {"query": "q", "connection": "x"}})")),
               Contains("/tenants/discovery/connection: connection 'x' is not defined; connections: app"));
    CHECK_THAT(parse_error(with(R"({"connection": "app", "isolation": "schema", "maxPools": 0})")),
               Contains("/tenants/maxPools: must be an integer \u2265 1, got 0"));
    CHECK(parse_error(with(R"({"connection": "app", "isolation": "schema", "pool": {"min": 6}})")) ==
          "test.json: /tenants/pool: min (6) must not exceed max (5)");
}

TEST_CASE("schema tenants through PgBouncer in transaction mode are refused at load, naming the fixes",
          "[config][tenants][pgbouncer]") {
    const std::string bouncer = R"({"connections": {"direct": {"client": "pg"}, "bouncer": {"client": "pg",
        "pgbouncer": true}}, "default": "direct", "tenants": {"connection": "bouncer", "isolation": "schema"}})";
    const std::string e = parse_error(bouncer);
    CHECK_THAT(e, StartsWith("test.json: /tenants/isolation: \"schema\" isolation does not work through PgBouncer "
                             "in transaction mode: the template connection 'bouncer' has \"pgbouncer\": true"));
    CHECK_THAT(e, Contains("search_path"));
    CHECK_THAT(e, Contains("reaches PostgreSQL directly"));
    CHECK_THAT(e, Contains("session mode"));
    CHECK_THAT(e, Contains("a database of its own"));
    // The same tenants over the direct connection load.
    std::string direct = bouncer;
    direct.replace(direct.find(R"("connection": "bouncer")"), 23, R"("connection": "direct")");
    CHECK(parse(direct).tenants()->connection == "direct");
}

TEST_CASE("ilana::Error: classes, flags and messages", "[config][error]") {
    CHECK(std::string(ilana::to_string(ilana::ErrorClass::connection)) == "connection");
    CHECK(std::string(ilana::to_string(ilana::ErrorClass::canceled)) == "canceled");
    CHECK(std::string(ilana::to_string(ilana::ErrorClass::config)) == "config");
    CHECK(std::string(ilana::to_string(ilana::ErrorClass::none)) == "none");
    CHECK(std::string(ilana::to_string(static_cast<ilana::ErrorClass>(99))) == "unknown");

    const ilana::Error e("boom", ilana::ErrorClass::timeout, "primary", "57014", 7, 0x1 | 0x4);
    CHECK(std::string(e.what()) == "boom");
    CHECK(e.error_class() == ilana::ErrorClass::timeout);
    CHECK(e.connection() == "primary");
    CHECK(e.sqlstate() == "57014");
    CHECK(e.native_code() == 7);
    CHECK(e.poisons_connection());
    CHECK_FALSE(e.aborted_transaction());
    CHECK(e.not_sent());
    CHECK(e.is_transient());
    CHECK(ilana::Error("x", ilana::ErrorClass::transient).is_transient());
    CHECK(ilana::Error("x", ilana::ErrorClass::connection).is_transient());
    CHECK_FALSE(ilana::Error("x", ilana::ErrorClass::syntax).is_transient());
    CHECK_FALSE(ilana::Error("x").is_transient());
    CHECK(ilana::Error("x").error_class() == ilana::ErrorClass::internal);
    CHECK(ilana::Error("x", ilana::ErrorClass::data, {}, {}, 0, 0x2).aborted_transaction());
    CHECK(ilana::PoolTimeout("t", ilana::ErrorClass::timeout).is_transient());

    const ConfigError c("must be an integer", "a.json", "/connections/x/pool/min");
    CHECK(std::string(c.what()) == "a.json: /connections/x/pool/min: must be an integer");
    CHECK(c.error_class() == ilana::ErrorClass::config);
    CHECK(c.file() == "a.json");
    CHECK(c.json_path() == "/connections/x/pool/min");
    CHECK_FALSE(c.is_transient());
    CHECK(std::string(ConfigError("plain").what()) == "plain");
    CHECK(std::string(ConfigError("at root", "a.json").what()) == "a.json: at root");
    CHECK(std::string(ConfigError(":3:4: invalid JSON: x", "a.json").what()) == "a.json:3:4: invalid JSON: x");
    // A message that names the file as a word gets no second prefix; a mere
    // substring does not count.
    CHECK(std::string(ConfigError("config file not found: /x/a.json (hint)", "/x/a.json").what()) ==
          "config file not found: /x/a.json (hint)");
    CHECK(std::string(ConfigError("missing required key 'a'", "a", "/connections/x").what()) ==
          "a: /connections/x: missing required key 'a'");
}
