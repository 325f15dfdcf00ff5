// ilana::Config: one schema, one clear line per mistake; secrets never shown.
#include "../fixtures/config/config_test_helpers.hpp"

#include <ilana/config.hpp>

using namespace ilana_config_test;
using Catch::Matchers::Contains;
using Catch::Matchers::StartsWith;
using ilana::Config;
using ilana::ConfigError;

namespace {

std::string connection_error(const std::string &body) {
    return parse_error(R"({"connections": {"primary": )" + body + "}}");
}

} // namespace

TEST_CASE("schema: unknown keys are named with the allowed ones", "[config][schema]") {
    const ConfigError e = config_error([] { parse(R"({"connections": {"primary": {"client": "pg", "pol": {}}}})"); });
    CHECK(std::string(e.what()) ==
          "test.json: /connections/primary: unknown key 'pol' (did you mean 'pool'? allowed: client, connection, "
          "pool, retry, migrations, read, readStrategy, stickyAfterWriteMs, statementTimeoutMs, useNullAsDefault, "
          "pgbouncer, server)");
    CHECK(e.json_path() == "/connections/primary");

    CHECK_THAT(connection_error(R"({"client": "pg", "pool": {"maxConnections": 3}})"),
               StartsWith("test.json: /connections/primary/pool: unknown key 'maxConnections' (allowed: min, max, "
                          "acquireTimeoutMillis,"));
    CHECK_THAT(connection_error(R"({"client": "pg", "pool": {"acquireTimeoutMilis": 3}})"),
               Contains("unknown key 'acquireTimeoutMilis' (did you mean 'acquireTimeoutMillis'?"));
    CHECK_THAT(connection_error(R"({"client": "pg", "migrations": {"dir": "x"}})"),
               Contains("/connections/primary/migrations: unknown key 'dir' (allowed: directory, tableName, schemaName)"));

    const std::string top = parse_error(R"({"connections": {"a": {"client": "pg"}}, "defualt": "a"})");
    CHECK_THAT(top, StartsWith("test.json: unknown key 'defualt' (did you mean 'default'? allowed: $schema, default, "
                               "connections, environments, plugins, retry, debug, metrics, reload, servers, tenants)"));
    CHECK_THAT(parse_error(R"({"connections": {"a": {"client": "pg"}}, "debug": {"slowQueryThresholdMs": 1}})"),
               Contains("/debug: unknown key 'slowQueryThresholdMs' (did you mean 'slowQueryThreshold'?"));
    CHECK_THAT(parse_error(R"({"connections": {"a": {"client": "pg"}}, "retry": {"attempts": 1}})"),
               Contains("/retry: unknown key 'attempts' (allowed: maxAttempts, initialDelayMs, maxDelayMs, "
                        "backoffMultiplier, jitter)"));
    // "$schema" is accepted and ignored.
    CHECK(parse(R"({"$schema": "./ilana.schema.json", "connections": {"a": {"client": "pg"}}})").connections().size() == 1);
}

TEST_CASE("schema: missing required keys", "[config][schema]") {
    CHECK(connection_error(R"({"connection": {"host": "h"}})") ==
          "test.json: /connections/primary: missing required key 'client'");
    CHECK(parse_error(R"({"default": "a"})") == "test.json: missing required key 'connections'");
    CHECK(parse_error(R"({"connections": {}})") == "test.json: /connections: must define at least one connection");
    CHECK(parse_error(R"({"connections": {"a": {"client": "pg"}}, "metrics": {"auth": {"username": "u"}}})") ==
          "test.json: /metrics/auth: missing required key 'password'");
}

TEST_CASE("schema: wrong values say what was expected and what was found", "[config][schema]") {
    CHECK(connection_error(R"({"client": "pg", "pool": {"min": -1}})") ==
          "test.json: /connections/primary/pool/min: must be an integer \u2265 0, got -1");
    CHECK(connection_error(R"({"client": "pg", "pool": {"max": 0}})") ==
          "test.json: /connections/primary/pool/max: must be an integer \u2265 1, got 0");
    CHECK(connection_error(R"({"client": "pg", "pool": {"max": "ten"}})") ==
          "test.json: /connections/primary/pool/max: must be an integer \u2265 1, got a string");
    CHECK(connection_error(R"({"client": "pg", "pool": {"max": 3000000000}})") ==
          "test.json: /connections/primary/pool/max: must be an integer \u2265 1 and \u2264 2147483647, got 3000000000");
    CHECK(connection_error(R"({"client": "pg", "pool": {"idleTimeoutMillis": -5}})") ==
          "test.json: /connections/primary/pool/idleTimeoutMillis: must be an integer \u2265 0, got -5");
    CHECK(connection_error(R"({"client": "pg", "pool": {"min": null}})") ==
          "test.json: /connections/primary/pool/min: must be an integer \u2265 0, got null");
    CHECK(connection_error(R"({"client": "pg", "pool": []})") ==
          "test.json: /connections/primary/pool: must be an object, got an array");
    CHECK(connection_error(R"({"client": "pg", "readStrategy": "fastest"})") ==
          "test.json: /connections/primary/readStrategy: must be one of round_robin, random, least_busy, got 'fastest'");
    CHECK(connection_error(R"({"client": "pg", "useNullAsDefault": "yes"})") ==
          "test.json: /connections/primary/useNullAsDefault: must be true or false, got a string");
    CHECK(connection_error(R"({"client": 5})") ==
          "test.json: /connections/primary/client: must be a driver client name (\"pg\", \"mysql2\", \"sqlite3\", "
          "...), got 5");
    CHECK(connection_error(R"({"client": ""})") == "test.json: /connections/primary/client: must not be empty");
    CHECK(connection_error(R"({"client": "pg", "connection": 42})") ==
          "test.json: /connections/primary/connection: must be an object of connection parameters or a URL string, "
          "got 42");
    CHECK(connection_error(R"({"client": "pg", "read": "replica"})") ==
          "test.json: /connections/primary/read: must be a list of replica connection names, got a string");
    CHECK(parse_error(R"({"connections": {"a": {"client": "pg"}}, "default": 1})") ==
          "test.json: /default: must be the name of a connection, got 1");
    CHECK(parse_error(R"({"connections": []})") ==
          "test.json: /connections: must be an object of named connections, got an array");
    CHECK(parse_error(R"({"connections": {"a": "pg"}})") == "test.json: /connections/a: must be an object, got a string");
    CHECK(parse_error(R"({"connections": {"a": {"client": "pg"}}, "plugins": {"paths": ["", "x"]}})") ==
          "test.json: /plugins/paths/0: must not be empty");
    CHECK(parse_error(R"({"connections": {"a": {"client": "pg"}}, "plugins": {"paths": "x"}})") ==
          "test.json: /plugins/paths: must be an array, got a string");
    // Keys with '/' and '~' are escaped in paths (RFC 6901).
    CHECK_THAT(parse_error(R"({"connections": {"a": {"client": "pg", "connection": {"a/b~c": [1]}}}})"),
               StartsWith("test.json: /connections/a/connection/a~1b~0c: "));
}

TEST_CASE("secrets: is_secret_key", "[config][secrets]") {
    for (const char *key : {"password", "PASSWORD", "db_password", "passwordFile", "ssl.password", "secret",
                            "clientSecret", "token", "accessToken", "key", "ssl.key", "sslkey", "SSLKey", "tls.key"})
        CHECK(Config::is_secret_key(key));
    for (const char *key : {"host", "user", "keyspace", "monkey", "ssl.cert", "keys", "database", "port"})
        CHECK_FALSE(Config::is_secret_key(key));
}

TEST_CASE("secrets: redact hides every secret value, longest first", "[config][secrets]") {
    EnvGuard env{{"ILANA_T_PW", "from-env-pw"}};
    const Config cfg = parse(R"({"default": "a", "connections": {
        "a": {"client": "pg", "connection": {"password": "${ILANA_T_PW}", "ssl": {"key": "KEYDATA", "cert": "CERT"},
              "apiToken": "tok-123", "clientSecret": "abc", "sslkey": "abcdef", "port": 5432}},
        "b": {"client": "pg", "connection": {"user": "bob", "password": 918273, "passwordless": ""}}},
        "metrics": {"auth": {"username": "prom", "password": "mpw"}}})");
    const std::string text = "pw=from-env-pw key=KEYDATA cert=CERT t=tok-123 s=abcdef/abc n=918273 m=mpw user=bob";
    CHECK(cfg.redact(text) == "pw=*** key=*** cert=CERT t=*** s=***/*** n=*** m=*** user=bob");
    // Not secret: the names of variables, other values.
    CHECK(cfg.redact("ILANA_T_PW 5432 bob") == "ILANA_T_PW 5432 bob");
}

// The guarantee: whatever the mistake, a ConfigError never contains a
// secret value, even when the secret is the offending value.
TEST_CASE("secrets: no error message contains a secret value", "[config][secrets]") {
    const std::string secret = "Hunter2-Secret";
    EnvGuard env{{"ILANA_T_SECRET", secret.c_str()}, {"DB_PASSWORD", secret.c_str()}};
    const std::vector<std::string> bad_configs = {
        // wrong type on a password field
        R"({"connections": {"a": {"client": "pg", "connection": {"password": ["Hunter2-Secret"]}}}})",
        R"({"connections": {"a": {"client": "pg"}}, "metrics": {"auth": {"username": "u", "password": {"v": "Hunter2-Secret"}}}})",
        R"({"connections": {"a": {"client": "pg"}}, "metrics": {"auth": {"username": "u", "password": 12345}}})",
        // the secret used where an enum, a number or a name is expected
        R"({"connections": {"a": {"client": "pg", "connection": {"password": "${DB_PASSWORD}"}, "readStrategy": "${DB_PASSWORD}"}}})",
        R"({"connections": {"a": {"client": "pg", "connection": {"password": "${DB_PASSWORD}"}, "pool": {"min": "${DB_PASSWORD}"}}}})",
        R"({"connections": {"a": {"client": "pg", "connection": {"password": "${DB_PASSWORD}", "port": "${DB_PASSWORD}"}}}})",
        R"({"default": "${DB_PASSWORD}", "connections": {"a": {"client": "pg", "connection": {"password": "${DB_PASSWORD}"}}}})",
        R"({"connections": {"a": {"client": "pg", "connection": {"password": "${DB_PASSWORD}"}, "read": ["${DB_PASSWORD}"]}}})",
        R"({"connections": {"a": {"client": "pg", "connection": {"password": "${DB_PASSWORD}"}}},
            "tenants": {"connection": "${DB_PASSWORD}", "isolation": "schema"}})",
        R"({"connections": {"a": {"client": "pg", "connection": {"password": "${DB_PASSWORD}"}}},
            "metrics": {"listen": "${DB_PASSWORD}"}})",
        // a URL password reused in a wrong place
        R"({"connections": {"a": {"client": "pg", "connection": "pg://u:Hunter2-Secret@h/db", "readStrategy": "Hunter2-Secret"}}})",
        // a malformed reference inside a password
        R"({"connections": {"a": {"client": "pg", "connection": {"password": "Hunter2-Secret${"}}}})",
        // bad JSON right after a secret
        R"({"connections": {"a": {"client": "pg", "connection": {"password": "Hunter2-Secret" "x"}}}})",
    };
    for (const auto &text : bad_configs) {
        INFO(text);
        const std::string message = parse_error(text);
        CHECK_THAT(message, !Contains(secret));
        CHECK_THAT(message, !Contains("12345"));
        CHECK_THAT(message, StartsWith("test.json"));
    }
    // The wording on a password field is the kind, not the value.
    CHECK(parse_error(bad_configs[2]) == "test.json: /metrics/auth/password: must be a string, got a number");
    CHECK(parse_error(bad_configs[4]) == "test.json: /connections/a/pool/min: must be an integer \u2265 0, got a string");
    CHECK_THAT(parse_error(bad_configs[6]), StartsWith("test.json: /default: default connection (value not shown) is not defined"));
    CHECK(parse_error(bad_configs[3]) == "test.json: /connections/a/readStrategy: must be one of round_robin, random, "
                                         "least_busy, got a string");
}

TEST_CASE("schema: long or control-character values are not echoed", "[config][schema]") {
    const std::string long_value(100, 'x');
    CHECK(connection_error(R"({"client": "pg", "readStrategy": ")" + long_value + "\"}") ==
          "test.json: /connections/primary/readStrategy: must be one of round_robin, random, least_busy, got a string");
    CHECK(connection_error(R"({"client": "pg", "readStrategy": "a\nb"})") ==
          "test.json: /connections/primary/readStrategy: must be one of round_robin, random, least_busy, got a string");
    CHECK(connection_error(R"({"client": "pg", "readStrategy": ""})") ==
          "test.json: /connections/primary/readStrategy: must be one of round_robin, random, least_busy, got an empty "
          "string");
}
