// "password": {"passwordFile": ...} / {"passwordCommand": [...]} in the
// config (README "Credentials"): what loads, what is refused with its JSON
// path, and that the provider's path and command are no secret while its
// answer, once learned, is.
#include "../fixtures/config/config_test_helpers.hpp"

#include "credentials/child_process.hpp"

#include <chrono>
#include <system_error>

using Catch::Matchers::Contains;
using Catch::Matchers::StartsWith;
using ilana::Config;
using namespace ilana_config_test;

TEST_CASE("config: a passwordFile provider loads, relative to the config's folder, and is not a param",
          "[config][credentials]") {
    TempDir dir;
    const Config cfg = parse(with_connection(R"({"host": "db", "user": "app",
        "password": {"passwordFile": "secrets/db"}})"), {}, dir.str());
    const auto &c = *cfg.find("db");
    REQUIRE(c.password_provider);
    CHECK(c.password_provider->file == dir.str() + "/secrets/db");
    CHECK(c.password_provider->command.empty());
    CHECK(c.password_provider->json_path == "/connections/db/connection/password");
    CHECK(c.param("password") == nullptr);
    CHECK(c.param("password.passwordFile") == nullptr);
    CHECK(c.params.size() == c.param_origins.size());
    // The path is not the secret: messages may name it.
    CHECK(cfg.redact("cannot read " + dir.str() + "/secrets/db") == "cannot read " + dir.str() + "/secrets/db");
    // The value, once learned, is masked in every copy of the config.
    const Config copy = cfg;
    cfg.learn_secret("rotated-Pa55:word");
    CHECK(copy.redact("auth rotated-Pa55:word x") == "auth *** x");
    CHECK(copy.redact("piece rotated-Pa55 x") == "piece *** x");
}

TEST_CASE("config: a passwordCommand provider loads with its defaults and its options", "[config][credentials]") {
    TempDir dir;
    const Config cfg = parse(R"({"default": "a", "connections": {
        "a": {"client": "pg", "connection": {"password": {"passwordCommand": ["/usr/local/bin/get-token", "primary"]}}},
        "b": {"client": "pg", "connection": {"password": {"passwordCommand": ["get-token"], "ttlMs": 0, "timeoutMs": "250"}}},
        "c": {"client": "pg", "connection": {"password": {"passwordCommand": ["./bin/get-token"]}}}}})",
                             {}, dir.str());
    const auto &a = *cfg.find("a")->password_provider;
    CHECK(a.command == std::vector<std::string>{"/usr/local/bin/get-token", "primary"});
    CHECK(a.file.empty());
    CHECK(a.ttl_ms == 300000);
    CHECK(a.timeout_ms == 10000);
    const auto &b = *cfg.find("b")->password_provider;
    CHECK(b.command == std::vector<std::string>{"get-token"}); // on PATH
    CHECK(b.ttl_ms == 0);
    CHECK(b.timeout_ms == 250);
    CHECK(cfg.find("c")->password_provider->command.front() == dir.str() + "/bin/get-token");
    // The command is not the secret either.
    CHECK(cfg.redact("/usr/local/bin/get-token primary") == "/usr/local/bin/get-token primary");
}

TEST_CASE("config: mistakes in a password provider are refused with their JSON path", "[config][credentials]") {
    auto error_of = [](const std::string &password) { return parse_error(with_connection(R"({"password": )" + password + "}")); };
    const std::string path = "test.json: /connections/db/connection/password";

    const std::string both = error_of(R"({"passwordFile": "/run/secrets/db", "passwordCommand": ["x"]})");
    CHECK_THAT(both, StartsWith(path + ": "));
    CHECK_THAT(both, Contains("either \"passwordFile\" or \"passwordCommand\", not both"));

    const std::string neither = error_of(R"({})");
    CHECK_THAT(neither, StartsWith(path + ": "));
    CHECK_THAT(neither, Contains("needs \"passwordFile\""));

    const std::string ttl = error_of(R"({"passwordFile": "/run/secrets/db", "ttlMs": 1000})");
    CHECK_THAT(ttl, StartsWith(path + "/ttlMs: "));
    CHECK_THAT(ttl, Contains("applies to \"passwordCommand\" only"));

    const std::string unknown = error_of(R"({"passwordFiel": "/run/secrets/db"})");
    CHECK_THAT(unknown, StartsWith(path + ": "));
    CHECK_THAT(unknown, Contains("unknown key 'passwordFiel' (did you mean 'passwordFile'?"));

    const std::string shell = error_of(R"({"passwordCommand": "get-token primary"})");
    CHECK_THAT(shell, StartsWith(path + "/passwordCommand: "));
    CHECK_THAT(shell, Contains("list of arguments"));

    const std::string empty_argv = error_of(R"({"passwordCommand": []})");
    CHECK_THAT(empty_argv, StartsWith(path + "/passwordCommand: "));

    const std::string empty_arg = error_of(R"({"passwordCommand": [""]})");
    CHECK_THAT(empty_arg, StartsWith(path + "/passwordCommand/0: "));

    const std::string timeout = error_of(R"({"passwordCommand": ["x"], "timeoutMs": 0})");
    CHECK_THAT(timeout, StartsWith(path + "/timeoutMs: "));

    const std::string ttl_type = error_of(R"({"passwordCommand": ["x"], "ttlMs": "soon"})");
    CHECK_THAT(ttl_type, StartsWith(path + "/ttlMs: "));

    const std::string file_type = error_of(R"({"passwordFile": 5})");
    CHECK_THAT(file_type, StartsWith(path + "/passwordFile: "));

    const std::string password_type = error_of(R"(["a"])");
    CHECK_THAT(password_type, StartsWith(path + ": "));
    CHECK_THAT(password_type, Contains("provider object"));
}

TEST_CASE("config: a URL or keyword string carrying a password beside a provider is refused", "[config][credentials]") {
    const std::string url = parse_error(with_connection(R"({"url": "postgres://app:Hunter2-Pw@db/app",
        "password": {"passwordFile": "/run/secrets/db"}})"));
    CHECK_THAT(url, StartsWith("test.json: /connections/db/connection/url: "));
    CHECK_THAT(url, Contains("carries a password"));
    CHECK_THAT(url, Contains("/connections/db/connection/password"));
    CHECK_THAT(url, !Contains("Hunter2"));

    const std::string dsn = parse_error(with_connection(R"({"connectionString": "host=db password=Hunter2-Pw",
        "password": {"passwordCommand": ["get-token"]}})"));
    CHECK_THAT(dsn, StartsWith("test.json: /connections/db/connection/connectionString: "));
    CHECK_THAT(dsn, !Contains("Hunter2"));

    // A URL without a password goes with a provider.
    const Config ok = parse(with_connection(R"({"url": "postgres://app@db/app",
        "password": {"passwordFile": "/run/secrets/db"}})"));
    CHECK(ok.find("db")->password_provider);
}

TEST_CASE("child process: output, exit status, and a kill at the deadline", "[credentials]") {
    using ilana::detail::run_child;
    using namespace std::chrono_literals;
    const auto ok = run_child({"/bin/sh", "-c", "printf 'tok\\n'; echo oops >&2"}, 5s, 1024);
    CHECK(ok.exited_zero());
    CHECK(ok.out == "tok\n");
    CHECK(ok.err == "oops\n");

    const auto failed = run_child({"sh", "-c", "exit 7"}, 5s, 1024);
    CHECK_FALSE(failed.exited_zero());
    CHECK(failed.exit_status == 7);

    // Output past the limit is dropped, and the child is not blocked by it.
    const auto big = run_child({"sh", "-c", "head -c 200000 /dev/zero"}, 5s, 1000);
    CHECK(big.exited_zero());
    CHECK(big.out.size() == 1000);

    const auto start = std::chrono::steady_clock::now();
    const auto hung = run_child({"sh", "-c", "sleep 30 & sleep 30"}, 200ms, 1024);
    CHECK(hung.timed_out);
    CHECK(std::chrono::steady_clock::now() - start < 3s);

    try {
        run_child({"no-such-command-for-ilana"}, 1s, 10);
        FAIL("started");
    } catch (const std::system_error &e) {
        CHECK(e.code().value() == ENOENT);
    }
}
