// The SDK's one reading of connection URLs (what drivers connect with) and
// the core's masking of every reading of a URL's password (issue 17, item 1).
#include "../fixtures/config/config_test_helpers.hpp"

#include "common/redact.hpp"

#include <ilana/config.hpp>
#include <ilana/sdk/connection_url.hpp>

using namespace ilana_config_test;
using Catch::Matchers::Contains;
using ilana::sdk::ConnectionUrlError;
using ilana::sdk::parse_connection_url;

namespace {

std::string refusal(const std::string &url) {
    try {
        parse_connection_url(url);
    } catch (const ConnectionUrlError &e) {
        return e.what();
    }
    FAIL("accepted: " << url);
    return {};
}

} // namespace

TEST_CASE("connection URL: the parts, decoded", "[url]") {
    auto u = parse_connection_url("PostgreSQL://app:p%40ss%2Fw:rd@db.internal:5432/my%20db?sslmode=require&x");
    CHECK(u.scheme == "postgresql");
    CHECK(u.user == "app");
    CHECK(u.password == "p@ss/w:rd"); // ':' after the first is the password's
    CHECK(u.password_as_written == "p%40ss%2Fw:rd");
    REQUIRE(u.hosts.size() == 1);
    CHECK(u.hosts[0].host == "db.internal");
    CHECK(u.hosts[0].port == "5432");
    CHECK(u.database == "my db");
    REQUIRE(u.query.size() == 2);
    CHECK(u.query[0] == std::make_pair(std::string("sslmode"), std::optional<std::string>("require")));
    CHECK(u.query[1] == std::make_pair(std::string("x"), std::optional<std::string>()));

    u = parse_connection_url("postgresql://[::1]:5433,[fe80::1%25eth0],h3:7/db");
    CHECK(!u.user);
    REQUIRE(u.hosts.size() == 3);
    CHECK(u.hosts[0].host == "::1");
    CHECK(u.hosts[0].port == "5433");
    CHECK(u.hosts[1].host == "fe80::1%25eth0");
    CHECK(u.hosts[2].port == "7");

    u = parse_connection_url("mysql://u@h");
    CHECK(u.user == "u");
    CHECK(!u.password);
    CHECK(!u.database);
}

TEST_CASE("connection URL: ambiguous user info is refused, saying to percent-encode, quoting none of it", "[url]") {
    const std::string pw_parts[] = {"Kq7v", "Zp9w", "Lm3X"};
    for (const std::string url :
         {"postgresql://u:Kq7v@Zp9wLm3X@h/db", "postgresql://u:Kq7v/Zp9wLm3X@h/db", "postgresql://u:Kq7v?Zp9wLm3X@h/db",
          "postgresql://u:Kq7v#Zp9wLm3X@h/db", "mysql://u:Kq7v@Zp9w/Lm3X@[::1]:3306/db", "postgresql://u:Kq7v#@h"}) {
        const std::string msg = refusal(url);
        CHECK_THAT(msg, Contains("percent-encode"));
        for (const auto &part : pw_parts) CHECK_THAT(msg, !Contains(part));
    }
    CHECK_THAT(refusal("postgresql://u:Kq7v%zzZp9w@h/db"), Contains("the URL's password has a '%' that is not"));
    CHECK_THAT(refusal("postgresql://u:Kq7v%00Zp9w@h/db"), Contains("%00"));
    CHECK_THAT(refusal("postgresql://u:p@h:54x2/db"), Contains("the port of host 1 is not a number"));
    CHECK_THAT(refusal("postgresql://u:p@h:99999/db"), Contains("the port of host 1"));
    CHECK_THAT(refusal("postgresql://u:p@::1:5432/db"), Contains("write an IPv6 address in brackets"));
    CHECK_THAT(refusal("postgresql://u:p@[::1/db"), Contains("without ']'"));
    CHECK_THAT(refusal("host=x password=y"), Contains("must look like scheme://"));
}

TEST_CASE("redaction: every reading of a URL's password and its pieces are masked", "[url][secrets]") {
    const auto cfg = parse(R"({"connections": {"db": {"client": "pg",
        "connection": "postgresql://ilana:Kq7vW@Zp9w/Lm3X?Xr4t#tNyH@127.0.0.1:5432/app"}}})");
    // What libpq or another reading would echo as a host, port or database.
    for (const std::string echo : {"could not translate host name \"Zp9w\" to address",
                                   "invalid integer value \"Lm3X?Xr4t#tNyH\" for connection option \"port\"",
                                   "Kq7vW@Zp9w/Lm3X?Xr4t#tNyH", "database \"tNyH@127\" does not exist"}) {
        const std::string out = cfg.redact(echo);
        INFO(out);
        for (const std::string part : {"Kq7v", "Zp9w", "Lm3X", "Xr4t", "tNyH"}) CHECK_THAT(out, !Contains(part));
    }
    // A quoted run of pieces is masked as one; short pieces too when quoted.
    CHECK(cfg.redact("port \"Lm3X?Xr4t\" and 'Zp9w/Lm3X'") == "port \"***\" and '***'");
    const auto short_pieces = parse(R"({"connections": {"db": {"client": "pg",
        "connection": "postgresql://u:ab@cd/efgh@h/app"}}})");
    CHECK(short_pieces.redact("host \"ab@cd\"") == "host \"***\"");
    // A short candidate ("ab", what a reading that ends the user info at the
    // first '@' takes for the password) is masked where it stands alone, not
    // inside the words of the driver's refusal.
    CHECK(short_pieces.redact("unknown parameter 'tab' in absent table; pw ab, (ab)") ==
          "unknown parameter 'tab' in absent table; pw ***, (***)");
    // The user, the host and ordinary words stay readable; so does a user
    // name that begins the password (not a piece between delimiters).
    const auto dev = parse(R"({"connections": {"db": {"client": "pg",
        "connection": "postgresql://ilana:ilana_pw@127.0.0.1:5432/app"}}})");
    CHECK(dev.redact("password authentication failed for user \"ilana\" ('ilana')") ==
          "password authentication failed for user \"ilana\" ('ilana')");
    CHECK(dev.redact("echo \"ilana_pw\"") == "echo \"***\"");
    // The user, the host and ordinary words stay readable.
    CHECK(cfg.redact("password authentication failed for user \"ilana\" at 127.0.0.1") ==
          "password authentication failed for user \"ilana\" at 127.0.0.1");

    // Percent-encoded: the decoded form too.
    const auto enc = parse(R"({"connections": {"db": {"client": "pg",
        "connection": "postgresql://ilana:Kq7v%40Zp9w%2FLm3X@h/app"}}})");
    CHECK(enc.redact("pw Kq7v@Zp9w/Lm3X and Kq7v%40Zp9w%2FLm3X") == "pw *** and ***");

    // Keyword strings: libpq's reading ends at a blank; all of it is masked.
    const auto kw = parse(R"({"connections": {"db": {"client": "pg", "connection": {
        "connectionString": "host=h password=Kq7vZp Lm3Xr4 tNyHb6 dbname=app"}}}})");
    const std::string out = kw.redact("missing \"=\" after \"Lm3Xr4\" in connection info string; Kq7vZp tNyHb6");
    for (const std::string part : {"Kq7v", "Lm3X", "tNyH"}) CHECK_THAT(out, !Contains(part));
    CHECK_THAT(kw.redact("database \"app\" at host h"), Contains("\"app\""));
}
