// Password providers (issue 20, "Credentials"; README "Credentials"):
// "password": {"passwordFile": ...} and {"passwordCommand": [...]} against
// the real PostgreSQL server, as a role the test creates and drops. A
// rotated password (ALTER ROLE + the file or the command's answer) takes
// effect for new connections under load without a failed query; a
// command's answer is cached for ttlMs; a hanging command is killed; a
// failing one reports its stderr but never the secret; the secret never
// shows in a connect or query error.
#include <catch2/catch.hpp>

#include "log_capture.hpp"
#include "temp_dir.hpp"
#include "test_helpers.hpp"
#include "test_servers.hpp"

#include <ilana/config.hpp>
#include <ilana/database.hpp>
#include <ilana/error.hpp>
#include <ilana/tenants.hpp>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <functional>
#include <mutex>
#include <string>
#include <sys/stat.h>
#include <thread>
#include <vector>

using ilana::Config;
using ilana::Database;
using ilana::Error;
using ilana::ErrorClass;
using ilana_test::TempDir;

namespace {

// A login role of the test's own (not the servers' superuser), dropped at
// the end.
struct TestRole {
    std::string name = "ilana_cred_" + ilana_test::unique_suffix();
    Database admin;
    explicit TestRole(const std::string &password)
        : admin(Database::open(Config::parse(admin_config(), "admin.json", ""))) {
        admin.on("admin").execute("CREATE ROLE " + name + " LOGIN PASSWORD '" + password + "'");
    }
    ~TestRole() {
        try {
            // Its sessions first (pools of the test may still hold some).
            admin.on("admin").query("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = '" +
                                    name + "'");
            admin.on("admin").execute("DROP ROLE IF EXISTS " + name);
        } catch (...) {
        }
    }
    void set_password(const std::string &password) {
        admin.on("admin").execute("ALTER ROLE " + name + " PASSWORD '" + password + "'");
    }
    static std::string admin_config() {
        const auto s = ilana_test::pg();
        return R"({"connections": {"admin": {"client": "pg", "connection": {"host": ")" + s.host +
               R"(", "port": )" + s.port + R"(, "user": ")" + s.user + R"(", "password": ")" + s.password +
               R"(", "database": ")" + s.database + R"("}, "pool": {"min": 0, "max": 1}}}})";
    }
};

// A MariaDB user of the test's own, dropped at the end.
struct TestMariaUser {
    std::string name = "ilana_cred_" + ilana_test::unique_suffix();
    Database admin;
    explicit TestMariaUser(const std::string &password)
        : admin(Database::open(Config::parse(admin_config(), "admin.json", ""))) {
        admin.on("admin").execute("CREATE USER '" + name + "'@'127.0.0.1' IDENTIFIED BY '" + password + "'");
        admin.on("admin").execute("GRANT SELECT ON " + ilana_test::mysql().database + ".* TO '" + name +
                                  "'@'127.0.0.1'");
    }
    ~TestMariaUser() {
        try {
            admin.on("admin").execute("DROP USER IF EXISTS '" + name + "'@'127.0.0.1'");
        } catch (...) {
        }
    }
    void set_password(const std::string &password) {
        admin.on("admin").execute("ALTER USER '" + name + "'@'127.0.0.1' IDENTIFIED BY '" + password + "'");
    }
    static std::string admin_config() {
        const auto s = ilana_test::mysql();
        return R"({"connections": {"admin": {"client": "mysql2", "connection": {"host": ")" + s.host +
               R"(", "port": )" + s.port + R"(, "user": ")" + s.user + R"(", "password": ")" + s.password +
               R"(", "database": ")" + s.database + R"("}, "pool": {"min": 0, "max": 1}}}})";
    }
};

// Replaces `path` whole at once (as a secret manager does): a reader sees
// the old content or the new, never a half-written file.
void write_atomically(const std::string &path, const std::string &content) {
    const std::string tmp = path + ".tmp";
    std::ofstream(tmp, std::ios::binary) << content;
    REQUIRE(std::rename(tmp.c_str(), path.c_str()) == 0);
}

std::string write_script(const TempDir &dir, const std::string &name, const std::string &body) {
    const std::string path = dir.write(name, "#!/bin/sh\n" + body);
    ::chmod(path.c_str(), 0755);
    return path;
}

// A connection of `role` whose "password" is `provider` (a JSON object),
// with a pool that opens new sessions often (short lifetime, idle reaping).
std::string provider_config(const std::string &role, const std::string &provider, const std::string &pool = "",
                            const ilana_test::ServerSettings &s = ilana_test::pg(), const std::string &client = "pg") {
    return R"({"connections": {"app": {"client": ")" + client + R"(", "connection": {"host": ")" + s.host + R"(", "port": )" +
           s.port + R"(, "user": ")" + role + R"(", "password": )" + provider + R"(, "database": ")" + s.database +
           R"("}, "pool": )" +
           (pool.empty() ? R"({"min": 0, "max": 4, "acquireTimeoutMillis": 10000, "createTimeoutMillis": 5000})"
                         : pool) +
           R"(, "retry": {"maxAttempts": 1}}}})";
}

int lines_of(const std::string &path) {
    std::ifstream in(path);
    std::string line;
    int n = 0;
    while (std::getline(in, line)) ++n;
    return n;
}

// Queries from `threads` threads until told to stop, counting failures
// (and keeping the first message).
struct Load {
    std::atomic<bool> stop{false};
    std::atomic<int> queries{0}, failures{0};
    std::string first_failure;
    std::mutex mu;
    std::vector<std::thread> threads;
    Load(Database &db, int n) {
        for (int i = 0; i < n; ++i)
            threads.emplace_back([this, &db] {
                while (!stop.load()) {
                    try {
                        db.on("app").query("SELECT 1 AS one");
                        ++queries;
                    } catch (const std::exception &e) {
                        std::lock_guard<std::mutex> lock(mu);
                        if (failures++ == 0) first_failure = e.what();
                    }
                }
            });
    }
    void finish() {
        stop = true;
        for (auto &t : threads) t.join();
        threads.clear();
    }
    ~Load() {
        if (!threads.empty()) finish();
    }
};

// Pools whose sessions live ~150 ms and are reaped when idle: under load a
// stream of new connections, each asking the provider.
const char *const kChurningPool = R"({"min": 0, "max": 4, "maxLifetimeMillis": 150, "idleTimeoutMillis": 100,
    "reapIntervalMillis": 20, "acquireTimeoutMillis": 10000, "createTimeoutMillis": 5000})";

// Rotates the role's password `rounds` times under load; `publish` makes the
// new password the provider's answer. Returns the log lines written
// meanwhile and the number of sessions opened.
template <class Account>
std::pair<std::string, uint64_t> rotate_under_load(Database &db, Account &role, int rounds,
                       const std::function<void(const std::string &)> &publish) {
    ilana_test::LogCapture logs;
    Load load(db, 6);
    // A round each second: a connect and its one retry fit in a round even
    // on a slow (sanitized) build, where a SCRAM handshake alone takes a
    // good part of 100 ms; rotations closer than a connect's duration
    // would refuse the retry's fresh password too.
    for (int round = 1; round <= rounds; ++round) {
        std::this_thread::sleep_for(std::chrono::milliseconds(1000));
        const std::string password = "rotated-" + std::to_string(round) + "-" + ilana_test::unique_suffix();
        // The database first, then the secret: a session opened between the
        // two is refused with the old value, and its one retry reads the new.
        role.set_password(password);
        publish(password);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(400));
    load.finish();
    INFO("first failure: " << load.first_failure);
    INFO("log: " << logs.text());
    CHECK(load.failures == 0);
    CHECK(load.queries > 100);
    // New sessions were opened throughout, each with the then current password.
    const auto m = db.metrics();
    uint64_t created = 0;
    for (const auto &pool : m.pools) created += pool.created;
    CHECK(created > static_cast<uint64_t>(rounds * 2));
    return {logs.text(), created};
}

} // namespace

TEST_CASE("credentials: a passwordFile follows a rotated PostgreSQL password under load", "[credentials][pg]") {
    ILANA_REQUIRE_PG();
    TempDir dir;
    TestRole role("first-" + ilana_test::unique_suffix());
    const std::string secret = dir.file("db-password");
    // Docker and Kubernetes secret files end in a newline: stripped.
    role.set_password("start-pw-1234");
    write_atomically(secret, "start-pw-1234\n");
    Database db = Database::open(
        Config::parse(provider_config(role.name, R"({"passwordFile": ")" + secret + "\"}", kChurningPool),
                      "creds.json", dir.path()));
    db.on("app").query("SELECT 1");
    rotate_under_load(db, role, 3, [&](const std::string &pw) { write_atomically(secret, pw + "\n"); });
}

TEST_CASE("credentials: a passwordFile follows a rotated MariaDB password under load", "[credentials][mysql]") {
    ILANA_REQUIRE_MYSQL();
    TempDir dir;
    TestMariaUser user("maria-start-2468");
    const std::string secret = dir.file("db-password");
    write_atomically(secret, "maria-start-2468\n");
    Database db = Database::open(Config::parse(
        provider_config(user.name, R"({"passwordFile": ")" + secret + "\"}", kChurningPool, ilana_test::mysql(),
                        "mysql2"),
        "creds.json", dir.path()));
    db.on("app").query("SELECT 1");
    rotate_under_load(db, user, 3, [&](const std::string &pw) { write_atomically(secret, pw + "\n"); });
}

TEST_CASE("credentials: a passwordCommand follows a rotated PostgreSQL password under load, re-run on the auth "
          "failure",
          "[credentials][pg]") {
    ILANA_REQUIRE_PG();
    TempDir dir;
    TestRole role("cmd-start-5678");
    const std::string current = dir.write("current", "cmd-start-5678");
    const std::string runs = dir.file("runs");
    // Prints the current password; appends a line per run.
    const std::string script = write_script(dir, "get-token", "echo run >> '" + runs + "'\ncat '" + current + "'\necho\n");
    // A long ttl: only the auth failure after each rotation re-runs it.
    Database db = Database::open(Config::parse(
        provider_config(role.name, R"({"passwordCommand": [")" + script + R"(", "app"], "ttlMs": 600000})",
                        kChurningPool),
        "creds.json", dir.path()));
    db.on("app").query("SELECT 1");
    CHECK(lines_of(runs) == 1);
    const auto [log, sessions] =
        rotate_under_load(db, role, 3, [&](const std::string &pw) { write_atomically(current, pw); });
    // One run at start and about one per rotation (sessions refused
    // together share the re-run), far fewer than the sessions opened.
    CHECK(lines_of(runs) >= 4);
    CHECK(static_cast<uint64_t>(lines_of(runs)) < sessions / 2);
    CHECK_THAT(log, Catch::Contains("refused the password from the password command"));
}

TEST_CASE("credentials: a command's answer is cached for ttlMs, and ttlMs 0 runs it for every new connection",
          "[credentials][pg]") {
    ILANA_REQUIRE_PG();
    TempDir dir;
    TestRole role("ttl-pw-9012");
    const std::string runs = dir.file("runs");
    const std::string script = write_script(dir, "get-token", "echo run >> '" + runs + "'\necho ttl-pw-9012\n");
    // Each session is retired before the next lease (maxLifetime 5 ms,
    // reaped when idle 10 ms): every lease opens a new connection.
    const std::string pool =
        R"({"min": 0, "max": 1, "maxLifetimeMillis": 5, "idleTimeoutMillis": 10, "reapIntervalMillis": 5})";
    auto sessions = [&](const std::string &ttl) {
        std::remove(runs.c_str());
        Database db = Database::open(Config::parse(
            provider_config(role.name, R"({"passwordCommand": [")" + script + R"("], "ttlMs": )" + ttl + "}", pool),
            "creds.json", dir.path()));
        for (int i = 0; i < 6; ++i) {
            db.on("app").query("SELECT 1");
            std::this_thread::sleep_for(std::chrono::milliseconds(150));
        }
        uint64_t created = 0;
        for (const auto &p : db.metrics().pools) created += p.created;
        return std::make_pair(lines_of(runs), created);
    };
    const auto [cached_runs, cached_created] = sessions("600000");
    CHECK(cached_created >= 3);
    CHECK(cached_runs == 1);
    const auto [fresh_runs, fresh_created] = sessions("0");
    CHECK(fresh_created >= 3);
    CHECK(fresh_runs == static_cast<int>(fresh_created));
}

TEST_CASE("credentials: a hanging command is killed at timeoutMs", "[credentials][pg]") {
    ILANA_REQUIRE_PG();
    TempDir dir;
    // A grandchild holds the pipe too: the whole process group is killed.
    const std::string script = write_script(dir, "hang", "sleep 30 &\nsleep 30\n");
    Database db = Database::open(Config::parse(
        provider_config("nobody", R"({"passwordCommand": [")" + script + R"("], "timeoutMs": 300})"), "creds.json",
        dir.path()));
    const auto start = std::chrono::steady_clock::now();
    try {
        db.on("app").query("SELECT 1");
        FAIL("connected");
    } catch (const Error &e) {
        CHECK_THAT(e.what(), Catch::Contains("[app]"));
        CHECK_THAT(e.what(), Catch::Contains("password command '" + script + "'"));
        CHECK_THAT(e.what(), Catch::Contains("timeoutMs=300 and was killed"));
        CHECK(e.error_class() == ErrorClass::auth);
    }
    CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(5));
}

TEST_CASE("credentials: a failing command's stderr is reported, the secret and stdout are not",
          "[credentials][pg]") {
    ILANA_REQUIRE_PG();
    TempDir dir;
    const std::string script =
        write_script(dir, "broken", "echo 'Sup3r-Secret-Token'\necho 'vault: permission denied; token Sup3r-Secret-Token "
                                    "expired' >&2\nexit 3\n");
    Database db = Database::open(Config::parse(
        provider_config("nobody", R"({"passwordCommand": [")" + script + R"(", "primary"]})"), "creds.json",
        dir.path()));
    ilana_test::LogCapture logs;
    try {
        db.on("app").query("SELECT 1");
        FAIL("connected");
    } catch (const Error &e) {
        const std::string what = e.what();
        CHECK_THAT(what, Catch::Contains("exited with status 3"));
        CHECK_THAT(what, Catch::Contains("vault: permission denied; token *** expired"));
        CHECK_THAT(what, Catch::Contains("/connections/app/connection/password"));
        CHECK_THAT(what, !Catch::Contains("Sup3r"));
        CHECK_THAT(what, !Catch::Contains("primary")); // only argv[0] is named
    }
    CHECK_FALSE(logs.contains("Sup3r"));
}

TEST_CASE("credentials: a missing, unreadable or empty source names the connection and the file or command",
          "[credentials][pg]") {
    ILANA_REQUIRE_PG();
    TempDir dir;
    auto connect_error = [&](const std::string &provider) {
        Database db = Database::open(Config::parse(provider_config("nobody", provider), "creds.json", dir.path()));
        try {
            db.on("app").query("SELECT 1");
        } catch (const Error &e) {
            CHECK(e.error_class() == ErrorClass::auth);
            return std::string(e.what());
        }
        FAIL("connected with " << provider);
        return std::string();
    };
    const std::string missing = connect_error(R"({"passwordFile": "secrets/nope"})");
    CHECK_THAT(missing, Catch::Contains("[app]"));
    CHECK_THAT(missing, Catch::Contains("password file not found: " + dir.file("secrets/nope")));
    CHECK_THAT(missing, Catch::Contains("create it"));

    const std::string directory = connect_error(R"({"passwordFile": ")" + dir.path() + "\"}");
    CHECK_THAT(directory, Catch::Contains("password file " + dir.path() + " is a directory"));

    dir.write("empty", "\n");
    const std::string empty = connect_error(R"({"passwordFile": "empty"})");
    CHECK_THAT(empty, Catch::Contains("password file " + dir.file("empty") + " gave an empty password"));

    const std::string not_found = connect_error(R"({"passwordCommand": ["no-such-get-token-command", "x"]})");
    CHECK_THAT(not_found, Catch::Contains("password command 'no-such-get-token-command' could not be started"));
    CHECK_THAT(not_found, Catch::Contains("PATH"));

    const std::string silent = connect_error(R"({"passwordCommand": ["true"]})");
    CHECK_THAT(silent, Catch::Contains("password command 'true' gave an empty password"));
}

TEST_CASE("credentials: a provider's password never shows in a connect error, a query error or a log line",
          "[credentials][pg]") {
    ILANA_REQUIRE_PG();
    TempDir dir;
    const std::string password = "Leak-Me-Not-4242";
    TestRole role(password);
    const std::string secret = dir.write("pw", password + "\n");
    ilana_test::LogCapture logs;
    Database db = Database::open(
        Config::parse(provider_config(role.name, R"({"passwordFile": "pw"})"), "creds.json", dir.path()));
    try {
        db.on("app").query("SELECT nosuch FROM nosuch WHERE note = '" + password + "'");
        FAIL("query ran");
    } catch (const Error &e) {
        CHECK(e.error_class() == ErrorClass::syntax);
        CHECK_THAT(e.what(), Catch::Contains("***"));
        CHECK_THAT(e.what(), !Catch::Contains("Leak-Me"));
        CHECK_THAT(e.sql(), !Catch::Contains("Leak-Me"));
    }
    // A user whose name is the password: the server's refusal quotes it.
    Database wrong = Database::open(Config::parse(
        provider_config(password, R"({"passwordFile": "pw"})"), "creds.json", dir.path()));
    try {
        wrong.on("app").query("SELECT 1");
        FAIL("connected");
    } catch (const Error &e) {
        CHECK(e.error_class() == ErrorClass::auth);
        CHECK_THAT(e.what(), !Catch::Contains("Leak-Me"));
    }
    CHECK(db.config().redact("x " + password + " y") == "x *** y");
    CHECK_FALSE(logs.contains("Leak-Me"));
}

TEST_CASE("credentials: tenant pools over a connection use its password provider", "[credentials][pg]") {
    ILANA_REQUIRE_PG();
    TempDir dir;
    TestRole role("tenant-pw-3456");
    role.admin.on("admin").execute("ALTER ROLE " + role.name + " CREATEDB");
    role.admin.on("admin").execute("GRANT CREATE ON DATABASE " + ilana_test::pg().database + " TO " + role.name);
    dir.write("pw", "tenant-pw-3456\n");
    const auto s = ilana_test::pg();
    const std::string prefix = "credt_" + ilana_test::unique_suffix() + "_";
    const std::string json = R"({"connections": {"app": {"client": "pg", "connection": {"host": ")" + s.host +
                             R"(", "port": )" + s.port + R"(, "user": ")" + role.name +
                             R"(", "password": {"passwordFile": "pw"}, "database": ")" + s.database +
                             R"("}}}, "tenants": {"connection": "app", "isolation": "schema", "schemaPrefix": ")" +
                             prefix + R"("}})";
    {
        Database db = Database::open(Config::parse(json, "creds.json", dir.path()));
        ilana::TenantManager tm(db);
        tm.create_tenant("acme");
        CHECK(tm.get("acme").query("SELECT current_user AS u").front()[0].as<std::string>() == role.name);
        tm.drop_tenant("acme");
    }
    role.admin.on("admin").execute("REVOKE CREATE ON DATABASE " + ilana_test::pg().database + " FROM " + role.name);
}

TEST_CASE("credentials: a provider for a driver without a password parameter is refused at open",
          "[credentials][sqlite]") {
    TempDir dir;
    const std::string json = R"({"connections": {"cache": {"client": "sqlite3", "connection": {"filename": "c.db",
        "password": {"passwordFile": "pw"}}}}})";
    try {
        Database::open(Config::parse(json, "creds.json", dir.path()));
        FAIL("opened");
    } catch (const ilana::ConfigError &e) {
        CHECK_THAT(e.what(), Catch::Contains("/connections/cache/connection/password"));
        CHECK_THAT(e.what(), Catch::Contains("takes no \"password\" parameter"));
    }
}
