// A password in a connection URL or keyword string never shows, in part or
// whole, in the exception, any log line or the CLI's output (issue 17,
// item 1): whatever character it holds, against the real PostgreSQL and
// MariaDB servers. Ambiguous user info is refused with a message that says
// to percent-encode; percent-encoded passwords connect.
#include <catch2/catch.hpp>

#include "configs.hpp"
#include "log_capture.hpp"

#include <ilana/config.hpp>
#include <ilana/database.hpp>
#include <ilana/error.hpp>

#include <string>
#include <vector>

using ilana_test::ilana_cli;
using ilana_test::run_command;
using ilana_test::TempDir;

namespace {

// Every 4-character piece of `password` that occurs in `text`.
std::vector<std::string> leaked_parts(const std::string &text, const std::string &password) {
    std::vector<std::string> out;
    for (size_t i = 0; i + 4 <= password.size(); ++i)
        if (text.find(password.substr(i, 4)) != std::string::npos) out.push_back(password.substr(i, 4));
    return out;
}

std::string json_escape(const std::string &s) {
    std::string out;
    for (char c : s) {
        if (c == '"' || c == '\\') out += '\\';
        out += c;
    }
    return out;
}

std::string config_json(const std::string &client, const std::string &key, const std::string &value) {
    return R"({"connections": {"db": {"client": ")" + client + R"(", "connection": {")" + key + R"(": ")" +
           json_escape(value) + R"("}, "pool": {"min": 0, "acquireTimeoutMillis": 3000, "createTimeoutMillis": 2000}}}})";
}

struct Outcome {
    std::string text; // exception + every log line + CLI output
    bool connected = false;
};

// Opens the config, runs a query through the C++ API (capturing every log
// line), then the same through the CLI.
Outcome run_everywhere(const std::string &json) {
    Outcome o;
    TempDir dir;
    {
        ilana_test::LogCapture logs;
        try {
            ilana::Database db = ilana::Database::open(ilana::Config::parse(json, "secrets.json", dir.path()));
            db.on("db").query("SELECT 1");
            o.connected = true;
        } catch (const std::exception &e) {
            o.text += std::string("exception: ") + e.what() + "\n";
        }
        o.text += logs.text();
    }
    const std::string path = dir.write("ilana.config.json", json);
    std::string out;
    run_command(ilana_cli() + " --config '" + path + "' query \"SELECT 1\"", out);
    o.text += "cli: " + out;
    return o;
}

struct Case {
    std::string password; // what the user meant
    std::string written;  // how it appears in the URL
};

// Passwords holding each character that client libraries read as a URL
// delimiter, unescaped (refused) — and '%' that is not an escape.
std::vector<Case> hostile_passwords() {
    std::vector<Case> cases;
    for (const char c : std::string("@/?#")) {
        const std::string pw = std::string("Kq7vW") + c + "Zp9wLm3" + c + "Xr4tNy";
        cases.push_back({pw, pw});
    }
    cases.push_back({"Kq7vW@Zp9w/Lm3?Xr4#tNy:Hb6", "Kq7vW@Zp9w/Lm3?Xr4#tNy:Hb6"});
    cases.push_back({"Kq7vW%zzZp9wLm3", "Kq7vW%zzZp9wLm3"});
    cases.push_back({"Kq7vW%00Zp9wLm3", "Kq7vW%00Zp9wLm3"});
    return cases;
}

void check_no_leak(const Outcome &o, const std::string &password) {
    INFO(o.text);
    CHECK(leaked_parts(o.text, password).empty());
}

void check_urls(const std::string &client, const std::string &scheme, const ilana_test::ServerSettings &s) {
    for (const auto &c : hostile_passwords()) {
        for (const std::string &host : {s.host + ":" + s.port, "[::1]:" + s.port}) {
            const std::string url = scheme + "://" + s.user + ":" + c.written + "@" + host + "/" + s.database;
            const Outcome o = run_everywhere(config_json(client, "url", url));
            CHECK_FALSE(o.connected);
            CHECK((o.text.find("percent-encode") != std::string::npos || o.text.find("contains %00") != std::string::npos));
            check_no_leak(o, c.password);
        }
    }
    // ':' is allowed in a password (the first ':' ends the user name); a
    // wrong password with every special character percent-encoded reaches
    // the server, which says no, without the password.
    for (const std::string pw : {"Kq7vW:Zp9wLm3:Xr4tNy", "Kq7vW%40Zp9w%2FLm3%3FXr4%23tNy%25Hb6"}) {
        const std::string url = scheme + "://" + s.user + ":" + pw + "@" + s.host + ":" + s.port + "/" + s.database;
        const Outcome o = run_everywhere(config_json(client, "url", url));
        CHECK_FALSE(o.connected);
        check_no_leak(o, pw);
        check_no_leak(o, "Kq7vW@Zp9w/Lm3?Xr4#tNy%Hb6");
    }
    // The right password, every character percent-encoded, connects: the
    // driver decodes what the masking decodes.
    std::string encoded;
    for (unsigned char ch : s.password) {
        char buf[4];
        std::snprintf(buf, sizeof buf, "%%%02X", ch);
        encoded += buf;
    }
    const Outcome ok = run_everywhere(
        config_json(client, "url", scheme + "://" + s.user + ":" + encoded + "@" + s.host + ":" + s.port + "/" + s.database));
    INFO(ok.text);
    CHECK(ok.connected);
}

} // namespace

TEST_CASE("url secrets: PostgreSQL URLs with '@', '/', '?', '#', ':' or '%' in the password leak nothing",
          "[secrets][pg]") {
    ILANA_REQUIRE_PG();
    check_urls("pg", "postgresql", ilana_test::pg());
}

TEST_CASE("url secrets: MariaDB URLs with '@', '/', '?', '#', ':' or '%' in the password leak nothing",
          "[secrets][mysql]") {
    ILANA_REQUIRE_MYSQL();
    check_urls("mysql", "mysql", ilana_test::mysql());
}

TEST_CASE("url secrets: libpq keyword strings whose password libpq misreads leak nothing", "[secrets][pg]") {
    ILANA_REQUIRE_PG();
    const auto s = ilana_test::pg();
    const std::string base = "host=" + s.host + " port=" + s.port + " user=" + s.user + " dbname=" + s.database;
    // Unquoted blanks: libpq reads "Kq7vWZp" and then quotes the rest as a
    // keyword it cannot parse. An unterminated quote: libpq quotes nothing
    // but the masking must still hold.
    for (const std::string pw : {"Kq7vWZp Lm3Xr4 tNyHb6", "Kq7vWZp9wLm3 Xr4tNy=Hb6"}) {
        const Outcome o = run_everywhere(config_json("pg", "connectionString", base + " password=" + pw));
        CHECK_FALSE(o.connected);
        check_no_leak(o, pw);
    }
    const Outcome q = run_everywhere(config_json("pg", "connectionString", base + " password='Kq7vW Zp9wLm3"));
    CHECK_FALSE(q.connected);
    check_no_leak(q, "Kq7vW Zp9wLm3");
    // libpq echoes a host it cannot resolve: a password piece there is masked.
    const Outcome h = run_everywhere(config_json(
        "pg", "connectionString",
        "host=Kq7vWZp9wLm3.invalid port=" + s.port + " user=" + s.user + " password=Kq7vWZp9wLm3.invalid"));
    CHECK_FALSE(h.connected);
    check_no_leak(h, "Kq7vWZp9wLm3.invalid");
}
