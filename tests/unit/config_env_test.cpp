// ilana::Config: ${VAR} interpolation, the .env file, environment sections.
#include "../fixtures/config/config_test_helpers.hpp"

#include <ilana/config.hpp>

using namespace ilana_config_test;
using Catch::Matchers::Contains;
using Catch::Matchers::Equals;
using Catch::Matchers::StartsWith;
using ilana::Config;
using ilana::ConfigError;

namespace {

using Params = std::vector<std::pair<std::string, std::string>>;

Params params_of(const std::string &connection) { return parse(with_connection(connection)).find("db")->params; }

} // namespace

TEST_CASE("interpolation: ${VAR}, ${VAR:-default}, $$ and lone $", "[config][env]") {
    EnvGuard env{{"ILANA_T_HOST", "db.internal"}, {"ILANA_T_EMPTY", ""}, {"ILANA_T_UNSET", nullptr}};
    CHECK(params_of(R"({"host": "${ILANA_T_HOST}"})") == Params{{"host", "db.internal"}});
    CHECK(params_of(R"({"url": "pg://${ILANA_T_HOST}:5432/${ILANA_T_UNSET:-app}"})") ==
          Params{{"url", "pg://db.internal:5432/app"}});
    CHECK(params_of(R"({"a": "${ILANA_T_UNSET:-}"})") == Params{{"a", ""}});         // empty default
    CHECK(params_of(R"({"a": "${ILANA_T_EMPTY}"})") == Params{{"a", ""}});           // set but empty
    CHECK(params_of(R"({"a": "${ILANA_T_EMPTY:-fallback}"})") == Params{{"a", "fallback"}}); // as in sh
    CHECK(params_of(R"({"a": "${ILANA_T_HOST:-fallback}"})") == Params{{"a", "db.internal"}});
    CHECK(params_of(R"({"a": "$${ILANA_T_HOST}"})") == Params{{"a", "${ILANA_T_HOST}"}});
    CHECK(params_of(R"({"a": "pa$$word"})") == Params{{"a", "pa$word"}});
    CHECK(params_of(R"({"a": "pa$word $ 5$"})") == Params{{"a", "pa$word $ 5$"}});
    CHECK(params_of(R"({"a": "${ILANA_T_UNSET:-a:b-c}"})") == Params{{"a", "a:b-c"}});
    // Keys are not interpolated.
    CHECK(params_of(R"({"${ILANA_T_HOST}": "x"})") == Params{{"${ILANA_T_HOST}", "x"}});
}

TEST_CASE("interpolation: a missing variable names itself and the JSON path", "[config][env]") {
    EnvGuard env{{"DB_PASSWORD", nullptr}};
    const ConfigError e = config_error([] {
        parse(R"({"connections": {"primary": {"client": "pg", "connection": {"password": "${DB_PASSWORD}"}}}})");
    });
    CHECK(std::string(e.what()) ==
          "test.json: /connections/primary/connection/password: environment variable DB_PASSWORD is not set "
          "(set it, add it to .env, or write ${DB_PASSWORD:-default})");
    CHECK(e.json_path() == "/connections/primary/connection/password");

    // Strings in arrays and outside connections are interpolated too.
    EnvGuard more{{"ILANA_T_PLUGINS", nullptr}};
    CHECK(parse_error(R"({"connections": {"a": {"client": "pg"}}, "plugins": {"paths": ["x", "${ILANA_T_PLUGINS}"]}})") ==
          "test.json: /plugins/paths/1: environment variable ILANA_T_PLUGINS is not set "
          "(set it, add it to .env, or write ${ILANA_T_PLUGINS:-default})");
}

TEST_CASE("interpolation: malformed references are errors that do not echo the value", "[config][env]") {
    const std::string unterminated = parse_error(with_connection(R"({"password": "s3cret${X"})"));
    CHECK(unterminated == "test.json: /connections/db/connection/password: invalid ${...} reference at character 7: "
                          "missing '}' (write $$ for a literal $)");
    CHECK_THAT(parse_error(with_connection(R"({"a": "${}"})")), Contains("expected a variable name after '${'"));
    CHECK_THAT(parse_error(with_connection(R"({"a": "${1X}"})")), Contains("expected a variable name after '${'"));
    CHECK_THAT(parse_error(with_connection(R"({"a": "${X-y}"})")),
               Contains("expected '}' or ':-default}' after the variable name"));
    CHECK_THAT(parse_error(with_connection(R"({"a": "${X:-no end"})")), Contains("missing '}'"));
    CHECK_THAT(unterminated, !Contains("s3cret"));
}

TEST_CASE("interpolation happens before validation: numeric strings for ports and options", "[config][env]") {
    EnvGuard env{{"ILANA_T_PORT", nullptr}, {"ILANA_T_MIN", "3"}, {"ILANA_T_JITTER", "false"},
                 {"ILANA_T_MULT", "1.5"}};
    const Config cfg = parse(R"({"connections": {"db": {"client": "pg",
        "connection": {"host": "h", "port": "${ILANA_T_PORT:-5432}"},
        "pool": {"min": "${ILANA_T_MIN}", "max": "12"},
        "retry": {"jitter": "${ILANA_T_JITTER}", "backoffMultiplier": "${ILANA_T_MULT}", "maxAttempts": "4"},
        "pgbouncer": "true", "stickyAfterWriteMs": "100"}},
        "debug": {"slowQueryThreshold": "250", "enabled": "true"}})");
    const auto &c = *cfg.find("db");
    CHECK(c.params == Params{{"host", "h"}, {"port", "5432"}});
    CHECK(c.pool.min == 3);
    CHECK(c.pool.max == 12);
    REQUIRE(c.retry);
    CHECK(c.retry->jitter == false);
    CHECK(c.retry->backoff_multiplier == 1.5);
    CHECK(c.retry->max_attempts == 4);
    CHECK(c.pgbouncer);
    CHECK(c.sticky_after_write_ms == 100);
    CHECK(cfg.debug().slow_query_threshold_ms == 250);
    CHECK(cfg.debug().enabled);

    // Strings elsewhere in the connection object stay strings.
    CHECK(params_of(R"({"password": "007", "database": "12"})") == Params{{"password", "007"}, {"database", "12"}});
}

TEST_CASE("interpolation: converted values are still validated, with paths", "[config][env]") {
    EnvGuard env{{"ILANA_T_MIN", "two"}, {"ILANA_T_NEG", "-1"}, {"ILANA_T_PORT", "abc"}};
    auto pool_min = [](const std::string &value) {
        return parse_error(R"({"connections": {"db": {"client": "pg", "pool": {"min": )" + value + "}}}}");
    };
    CHECK(pool_min(R"("${ILANA_T_MIN}")") == "test.json: /connections/db/pool/min: must be an integer \u2265 0, got a string");
    CHECK(pool_min(R"("${ILANA_T_NEG}")") == "test.json: /connections/db/pool/min: must be an integer \u2265 0, got -1");
    CHECK(pool_min("\"1.5\"") == "test.json: /connections/db/pool/min: must be an integer \u2265 0, got a string");
    CHECK(pool_min("1.5") == "test.json: /connections/db/pool/min: must be an integer \u2265 0, got 1.5");
    CHECK(parse_error(with_connection(R"({"port": "${ILANA_T_PORT}"})")) ==
          "test.json: /connections/db/connection/port: must be a port number (1-65535), got 'abc'");
    CHECK(parse_error(with_connection(R"({"port": 70000})")) ==
          "test.json: /connections/db/connection/port: must be a port number (1-65535), got 70000");
    CHECK(parse_error(with_connection(R"({"port": true})")) ==
          "test.json: /connections/db/connection/port: must be a port number (1-65535), got true");
    CHECK_THAT(parse_error(R"({"connections": {"db": {"client": "pg", "retry": {"jitter": "yes"}}}})"),
               Contains("/connections/db/retry/jitter: must be true or false, got a string"));
}

TEST_CASE(".env beside the config: format, and the real environment wins", "[config][env]") {
    TempDir dir;
    dir.write(".env", "# comment line\n"
                      "\n"
                      "ILANA_T_A=plain value   # trailing comment\n"
                      "export ILANA_T_B=exported\n"
                      "ILANA_T_C='single $quoted # not a comment'\n"
                      "ILANA_T_D=\"line1\\nline2\\t\\\"q\\\"\"\n"
                      "  ILANA_T_E = spaced  \r\n"
                      "ILANA_T_F=\"multi\nline\"\n"
                      "ILANA_T_G=a#b\n"
                      "ILANA_T_WINS=from-dotenv\n"
                      "ILANA_T_EMPTY=\n");
    const std::string path = dir.write("ilana.config.json", R"({"connections": {"db": {"client": "pg", "connection": {
        "a": "${ILANA_T_A}", "b": "${ILANA_T_B}", "c": "${ILANA_T_C}", "d": "${ILANA_T_D}", "e": "${ILANA_T_E}",
        "f": "${ILANA_T_F}", "g": "${ILANA_T_G}", "wins": "${ILANA_T_WINS}", "empty": "${ILANA_T_EMPTY}"}}}})");
    EnvGuard env{{"ILANA_ENV", nullptr}, {"ILANA_T_A", nullptr}, {"ILANA_T_B", nullptr}, {"ILANA_T_C", nullptr},
                 {"ILANA_T_D", nullptr}, {"ILANA_T_E", nullptr}, {"ILANA_T_F", nullptr}, {"ILANA_T_G", nullptr},
                 {"ILANA_T_EMPTY", nullptr}, {"ILANA_T_WINS", "from-environment"}};
    const Config cfg = Config::load_file(path);
    CHECK(cfg.find("db")->params == Params{{"a", "plain value"},
                                           {"b", "exported"},
                                           {"c", "single $quoted # not a comment"},
                                           {"d", "line1\nline2\t\"q\""},
                                           {"e", "spaced"},
                                           {"f", "multi\nline"},
                                           {"g", "a#b"},
                                           {"wins", "from-environment"},
                                           {"empty", ""}});
    // .env never modifies the process environment.
    CHECK(std::getenv("ILANA_T_A") == nullptr);

    // Config::parse reads .env from base_dir, and none without one.
    EnvGuard no_a{{"ILANA_T_A", nullptr}};
    const std::string json = with_connection(R"({"a": "${ILANA_T_A:-none}"})");
    CHECK(*parse(json, {}, dir.str()).find("db")->param("a") == "plain value");
    CHECK(*parse(json).find("db")->param("a") == "none");
}

TEST_CASE(".env errors name the file and line, never the value", "[config][env]") {
    TempDir dir;
    const std::string env_path = dir.str() + "/.env";
    const std::string json = R"({"connections": {"db": {"client": "pg"}}})";

    dir.write(".env", "GOOD=1\n\nthis line is wrong\n");
    CHECK(config_error([&] { parse(json, {}, dir.str()); }).what() == env_path + ":3: expected KEY=VALUE");

    dir.write(".env", "A=1\nB=\"s3cret never closed\n");
    const std::string unterminated = config_error([&] { parse(json, {}, dir.str()); }).what();
    CHECK(unterminated == env_path + ":2: unterminated quoted value");

    dir.write(".env", "A='s3cret' trailing\n");
    const std::string trailing = config_error([&] { parse(json, {}, dir.str()); }).what();
    CHECK(trailing == env_path + ":1: unexpected text after the closing quote");
    CHECK_THAT(unterminated + trailing, !Contains("s3cret"));

    dir.write(".env", "1ABC=x\n");
    CHECK_THAT(config_error([&] { parse(json, {}, dir.str()); }).what(), Contains(":1: expected KEY=VALUE"));
}

namespace {

const char *kEnvironments = R"({
  "default": "main",
  "connections": {
    "main": {"client": "pg", "connection": {"host": "localhost", "database": "app", "ssl": {"mode": "disable"}},
             "pool": {"min": 1, "max": 4}, "read": ["replica"]},
    "replica": {"client": "pg", "connection": {"host": "localhost"}}
  },
  "debug": {"enabled": true, "logQueries": true},
  "environments": {
    "testing": {
      "connections": {"main": {"connection": {"database": "app_test"}}}
    },
    "production": {
      "connections": {
        "main": {"connection": {"host": "prod-db", "ssl": {"mode": "require", "ca": "/etc/ca.pem"}},
                 "pool": {"max": 20}, "read": ["replica", "replica2"]},
        "replica2": {"client": "pg", "connection": {"host": "prod-replica-2"}}
      },
      "debug": null,
      "retry": {"maxAttempts": 3}
    }
  }
})";

} // namespace

TEST_CASE("environments: the chosen section is deep-merged over the top level", "[config][env]") {
    const Config dev = parse(kEnvironments); // implicit "development": not defined, base only
    CHECK(dev.environment() == "development");
    CHECK(dev.find("main")->params ==
          Params{{"host", "localhost"}, {"database", "app"}, {"ssl.mode", "disable"}});
    CHECK(dev.debug().enabled);

    const Config testing = parse(kEnvironments, "testing");
    CHECK(testing.environment() == "testing");
    CHECK(testing.find("main")->params ==
          Params{{"host", "localhost"}, {"database", "app_test"}, {"ssl.mode", "disable"}});
    CHECK(testing.find("main")->pool.max == 4);

    const Config prod = parse(kEnvironments, "production");
    CHECK(prod.environment() == "production");
    const auto &main = *prod.find("main");
    // Objects merge key by key (order kept, new keys appended) ...
    CHECK(main.params ==
          Params{{"host", "prod-db"}, {"database", "app"}, {"ssl.mode", "require"}, {"ssl.ca", "/etc/ca.pem"}});
    CHECK(main.pool.min == 1);
    CHECK(main.pool.max == 20);
    // ... arrays replace, new connections are appended, null removes.
    CHECK(main.read_replicas == std::vector<std::string>{"replica", "replica2"});
    CHECK(prod.connection_names() == "main, replica, replica2");
    CHECK_FALSE(prod.debug().enabled);
    CHECK(prod.retry().max_attempts == 3);
    CHECK(main.json_path == "/connections/main");
    CHECK(prod.find("replica2")->json_path == "/environments/production/connections/replica2");
}

TEST_CASE("environments: chosen by argument, then ILANA_ENV, then development", "[config][env]") {
    {
        EnvGuard env{{"ILANA_ENV", "testing"}};
        CHECK(Config::parse(kEnvironments, "t.json", "").environment() == "testing");
        CHECK(*Config::parse(kEnvironments, "t.json", "").find("main")->param("database") == "app_test");
        // The argument wins over ILANA_ENV.
        CHECK(Config::parse(kEnvironments, "t.json", "", "production").environment() == "production");
    }
    {
        EnvGuard env{{"ILANA_ENV", ""}}; // empty counts as unset
        CHECK(Config::parse(kEnvironments, "t.json", "").environment() == "development");
    }
    {
        // ILANA_ENV may come from .env too.
        TempDir dir;
        dir.write(".env", "ILANA_ENV=testing\n");
        EnvGuard env{{"ILANA_ENV", nullptr}};
        CHECK(Config::parse(kEnvironments, "t.json", dir.str()).environment() == "testing");
    }
    // Without an "environments" object only "development" (the top level) exists.
    CHECK(parse(R"({"connections": {"a": {"client": "pg"}}})", "development").environment() == "development");
    CHECK_THAT(parse_error(R"({"connections": {"a": {"client": "pg"}}})", "staging"),
               Contains("/environments: environment 'staging' is not defined: this config has no "
                        "\"environments\" section"));
    EnvGuard env{{"ILANA_ENV", "staging"}};
    CHECK_THAT(config_error([] { Config::parse(R"({"connections": {"a": {"client": "pg"}}})", "t.json", ""); }).what(),
               Contains("environment 'staging' is not defined"));
}

TEST_CASE("environments: an explicitly chosen missing section is an error", "[config][env]") {
    const std::string expected = "test.json: /environments: environment 'staging' is not defined; environments: "
                                 "testing, production (choose one with ILANA_ENV or --env, or add a section)";
    CHECK(parse_error(kEnvironments, "staging") == expected);
    EnvGuard env{{"ILANA_ENV", "staging"}};
    CHECK_THAT(config_error([] { Config::parse(kEnvironments, "test.json", ""); }).what(), Equals(expected));
    // Explicit "development" that is not defined is an error too.
    CHECK_THAT(parse_error(kEnvironments, "development"), Contains("environment 'development' is not defined"));
}

TEST_CASE("environments: the seed style with every connection inside environments", "[config][env]") {
    const std::string path = fixture("seed_environments/ilana.config.json");
    EnvGuard env{{"ILANA_ENV", nullptr}, {"DB_HOST", nullptr}, {"DB_NAME", nullptr}, {"DB_USER", nullptr},
                 {"DB_PASSWORD", nullptr}, {"STAGING_DB_HOST", nullptr}};

    const Config dev = Config::load_file(path);
    CHECK(dev.environment() == "development");
    CHECK(dev.default_connection() == "sqlite");
    CHECK(dev.find("sqlite")->params == Params{{"filename", "./dev.sqlite"}});
    CHECK(dev.find("sqlite")->use_null_as_default);
    CHECK(dev.find("sqlite")->json_path == "/environments/development/connections/sqlite");

    CHECK(*Config::load_file(path, "testing").find("sqlite")->param("filename") == ":memory:");

    // production takes its variables from the fixture's .env.
    const Config prod = Config::load_file(path, "production");
    CHECK(prod.default_connection() == "postgres");
    const auto &pg = *prod.find("postgres");
    CHECK(pg.client == "pg");
    CHECK(pg.params == Params{{"host", "prod-db.internal"},
                              {"database", "app"},
                              {"user", "app_user"},
                              {"password", "pr0d-s3cret"},
                              {"ssl.rejectUnauthorized", "false"}});
    CHECK(pg.pool.min == 5);
    CHECK(pg.pool.max == 20);
    CHECK(prod.redact("password=pr0d-s3cret") == "password=***");

    // Variables of a section that is not chosen are not needed; of the chosen
    // one they are, and the message points into the section.
    const ConfigError staging = config_error([&] { Config::load_file(path, "staging"); });
    CHECK(std::string(staging.what()) ==
          path + ": /environments/staging/connections/postgres/connection/host: environment variable "
                 "STAGING_DB_HOST is not set (set it, add it to .env, or write ${STAGING_DB_HOST:-default})");
}

TEST_CASE("environments: messages point into the section that set a value", "[config][env]") {
    const char *text = R"({
      "connections": {"main": {"client": "pg"}},
      "environments": {"production": {"connections": {"main": {"pool": {"min": -2}}, "x y": {"client": "pg"}}}}
    })";
    CHECK(parse_error(text, "production") ==
          "test.json: /environments/production/connections/main/pool/min: must be an integer \u2265 0, got -2");
    // Values from the top level keep their path.
    CHECK(parse_error(R"({"connections": {"main": {"client": "pg", "pool": {"min": -1}}},
                          "environments": {"production": {"debug": {"enabled": true}}}})",
                      "production") == "test.json: /connections/main/pool/min: must be an integer \u2265 0, got -1");
}

TEST_CASE("environments: shape of the environments object and its sections", "[config][env]") {
    const std::string base = R"({"connections": {"a": {"client": "pg"}}, "environments": )";
    CHECK(parse_error(base + "[]}") ==
          "test.json: /environments: must be an object of per-environment sections, got an array");
    CHECK(parse_error(base + R"({"production": "x"}})") ==
          "test.json: /environments/production: must be an object (a partial config for this environment), got a string");
    // Every section is checked, not only the chosen one.
    const std::string typo = parse_error(base + R"({"production": {"conections": {}}}})");
    CHECK_THAT(typo, StartsWith("test.json: /environments/production: unknown key 'conections' "
                                "(did you mean 'connections'? allowed in an environment section: "));
    CHECK_THAT(typo, Contains("default, connections, plugins"));
    CHECK_THAT(parse_error(base + R"({"production": {"environments": {}}}})"), Contains("unknown key 'environments'"));
}

TEST_CASE("environments: no connections for the chosen environment says so", "[config][env]") {
    const std::string msg = parse_error(R"({"environments": {"testing": {"connections": {"a": {"client": "pg"}}},
                                                             "production": {"connections": {"a": {"client": "pg"}}}}})");
    CHECK(msg == "test.json: missing required key 'connections' (environment 'development' has no section in "
                 "\"environments\"; environments: testing, production; choose one with ILANA_ENV)");
}
