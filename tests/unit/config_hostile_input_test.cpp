// ilana::Config under hostile input: files that are not files or never end,
// nested ${...} defaults, NUL and control characters (issue 17, items 4-5).
#include "../fixtures/config/config_test_helpers.hpp"

#include <ilana/config.hpp>
#include <ilana/tenants.hpp>

#include <sys/stat.h>

using namespace ilana_config_test;
using Catch::Matchers::Contains;
using ilana::Config;
using ilana::ConfigError;

namespace {

const std::string kMinimal = R"({"connections": {"db": {"client": "pg"}}})";

std::string param_a(const std::string &connection) { return *parse(with_connection(connection)).find("db")->param("a"); }

} // namespace

// ---- item 4: what is read whole is bounded ---------------------------------

TEST_CASE("config file: /dev/zero, a FIFO and a directory are refused without reading", "[config][limits]") {
    const std::string zero = config_error([] { Config::load_file("/dev/zero"); }).what();
    CHECK_THAT(zero, Contains("/dev/zero") && Contains("is a device, not a regular file"));

    TempDir dir;
    const std::string fifo = dir.str() + "/fifo.json";
    REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
    // Without a writer, a blocking open would hang here.
    CHECK_THAT(config_error([&] { Config::load_file(fifo); }).what(), Contains(fifo + " is a FIFO"));

    CHECK_THAT(config_error([&] { Config::load_file(dir.str()); }).what(), Contains("is a directory"));
    // A link to the device is the device.
    const std::string link = dir.str() + "/link.json";
    REQUIRE(::symlink("/dev/zero", link.c_str()) == 0);
    CHECK_THAT(config_error([&] { Config::load_file(link); }).what(), Contains("is a device"));
}

TEST_CASE("config file: more than 4 MiB is refused naming the file and the limit", "[config][limits]") {
    TempDir dir;
    std::string big = "{\"connections\": {\"db\": {\"client\": \"pg\"}}}";
    big.append((4u << 20) + 1 - big.size(), ' ');
    const std::string path = dir.write("big.json", big);
    const ConfigError e = config_error([&] { Config::load_file(path); });
    CHECK(std::string(e.what()) ==
          "config file " + path + " is larger than 4 MiB, the most ilana reads (split it or shrink it)");
    CHECK(e.file() == path);
    // At the limit it is read.
    big.pop_back();
    dir.write("big.json", big);
    CHECK(Config::load_file(path).connections().size() == 1);
}

TEST_CASE(".env: a directory, a device or more than 1 MiB is an error naming it", "[config][limits][env]") {
    TempDir dir;
    const std::string cfg = dir.write("ilana.config.json", kMinimal);
    const std::string env = dir.str() + "/.env";

    fs::create_directory(env);
    CHECK_THAT(config_error([&] { Config::load_file(cfg); }).what(), Contains(env + " is a directory"));
    fs::remove(env);

    REQUIRE(::symlink("/dev/zero", env.c_str()) == 0);
    CHECK_THAT(config_error([&] { Config::load_file(cfg); }).what(), Contains(env + " is a device"));
    fs::remove(env);

    dir.write(".env", "A=" + std::string(1u << 20, 'x') + "\n");
    CHECK_THAT(config_error([&] { Config::load_file(cfg); }).what(),
               Contains(".env file " + env + " is larger than 1 MiB"));
}

TEST_CASE("anonymization rules: a device or a missing file is an error naming it", "[config][limits]") {
    CHECK_THROWS_WITH(ilana::AnonymizeOptions::from_file("/dev/zero"), Contains("/dev/zero is a device"));
    CHECK_THROWS_WITH(ilana::AnonymizeOptions::from_file("/nonexistent/rules.json"),
                      Contains("anonymization rules file not found: /nonexistent/rules.json"));
}

// ---- item 5: ${...} nesting, NUL and control characters ---------------------

TEST_CASE("interpolation: defaults nest, and an unused default is not evaluated", "[config][env]") {
    EnvGuard env{{"ILANA_T_A", nullptr}, {"ILANA_T_B", nullptr}, {"ILANA_T_SET", "set-value"}};
    CHECK(param_a(R"({"a": "${ILANA_T_A:-${ILANA_T_B:-x}}"})") == "x");
    CHECK(param_a(R"({"a": "${ILANA_T_A:-${ILANA_T_SET:-x}}/tail"})") == "set-value/tail");
    CHECK(param_a(R"({"a": "${ILANA_T_SET:-${ILANA_T_B}}"})") == "set-value"); // B unset but not needed
    CHECK(param_a(R"({"a": "${ILANA_T_A:-pre-${ILANA_T_B:-in}-post}!"})") == "pre-in-post!");
    CHECK(param_a(R"({"a": "${ILANA_T_A:-$$}"})") == "$");
    CHECK(param_a(R"({"a": "${ILANA_T_A:-a}b}"})") == "ab}");

    // Still wrong when used, with the path.
    CHECK_THAT(parse_error(with_connection(R"({"a": "${ILANA_T_A:-${ILANA_T_B}}"})")),
               Contains("/connections/db/connection/a: environment variable ILANA_T_B is not set"));
    // Syntax errors count even in an unused default.
    CHECK_THAT(parse_error(with_connection(R"({"a": "${ILANA_T_SET:-${1}}"})")),
               Contains("/connections/db/connection/a: invalid ${...} reference at character 16"));
    CHECK_THAT(parse_error(with_connection(R"({"a": "${ILANA_T_A:-${ILANA_T_B:-x}"})")),
               Contains("/connections/db/connection/a: invalid ${...} reference at character 1: missing '}'"));
    // Depth is bounded.
    std::string deep = "x";
    for (int i = 0; i < 9; ++i) deep = "${ILANA_T_A:-" + deep + "}";
    CHECK_THAT(parse_error(with_connection(R"({"a": ")" + deep + "\"}")),
               Contains("defaults nested deeper than 8 levels"));
    deep = deep.substr(13, deep.size() - 14); // 8 levels
    CHECK(param_a(R"({"a": ")" + deep + "\"}") == "x");
}

TEST_CASE("interpolation: '$' edge cases", "[config][env]") {
    EnvGuard env{{"ILANA_T_A", nullptr}};
    for (const char *bad : {"${", "${}", "${ILANA_T_A", "${ILANA_T_A:-", "${ILANA_T_A:-x", "${ILANA_T_A-x}",
                            "${ILANA_T_A:x}", "${-x}", "${ ILANA_T_A}"})
        CHECK_THAT(parse_error(with_connection(std::string(R"({"a": ")") + bad + "\"}")),
                   Contains("/connections/db/connection/a: invalid ${...} reference at character 1"));
    CHECK(param_a(R"({"a": "$"})") == "$");
    CHECK(param_a(R"({"a": "$$$"})") == "$$");
    CHECK(param_a(R"({"a": "}${ILANA_T_A:-}}"})") == "}}");
}

TEST_CASE("NUL and control characters in config values and keys are refused with the path", "[config][env]") {
    const std::string nul = parse_error(with_connection(R"({"password": "s3cr\u0000et-tail"})"));
    CHECK(nul == "test.json: /connections/db/connection/password: a NUL character (U+0000) at character 5 "
                 "(after ${...} interpolation): remove it");
    CHECK_THAT(nul, !Contains("s3cr") && !Contains("tail"));
    CHECK_THAT(parse_error(with_connection(R"({"host": "db\u001b[2Jx"})")),
               Contains("/connections/db/connection/host: a control character U+001B at character 3"));
    CHECK_THAT(parse_error(with_connection(R"({"host": "db\u007f"})")), Contains("U+007F"));
    CHECK_THAT(parse_error(R"({"connections": {"d\u0000b": {"client": "pg"}}})"),
               Contains("test.json: /connections: a key contains a NUL character (U+0000) at character 2"));
    // Tab, CR and LF are text.
    CHECK(param_a(R"({"a": "x\ty\r\nz"})") == "x\ty\r\nz");

    // A raw NUL byte in the file is not JSON.
    const std::string raw = std::string(R"({"connections": {"db": {"client": "pg", "connection": {"a": "x)") + '\0' +
                            R"(y"}}}})";
    CHECK_THAT(parse_error(raw), Contains("invalid JSON"));

    // Environment values used: control characters are refused there too.
    EnvGuard env{{"ILANA_T_CTRL", "pa\x01ss"}};
    CHECK_THAT(parse_error(with_connection(R"({"password": "${ILANA_T_CTRL}"})")),
               Contains("/connections/db/connection/password: a control character U+0001 at character 3"));
}

TEST_CASE(".env: a NUL byte or a control character is refused naming the line", "[config][env]") {
    TempDir dir;
    const std::string env = dir.str() + "/.env";
    dir.write(".env", std::string("A=1\n# comment\nDB_PASSWORD=s3cr") + '\0' + "et\n");
    const std::string msg = config_error([&] { parse(kMinimal, {}, dir.str()); }).what();
    CHECK(msg == env + ":3: a NUL byte, which would cut the value short: remove it");
    CHECK_THAT(msg, !Contains("s3cr"));

    dir.write(".env", "A=\"x\ny\x07\"\n");
    CHECK(std::string(config_error([&] { parse(kMinimal, {}, dir.str()); }).what()) ==
          env + ":2: a control character U+0007: remove it (write \\n or \\t inside double quotes)");

    dir.write(".env", "A=tab\tand CRLF\r\nB=2\n");
    EnvGuard guard{{"A", nullptr}};
    CHECK(*parse(with_connection(R"({"a": "${A}"})"), {}, dir.str()).find("db")->param("a") == "tab\tand CRLF");
}
