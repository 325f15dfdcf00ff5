// Hot reload (Database::reload, reload.watch, `ilana serve` SIGHUP) through
// the real API and CLI: the diff applied to running pools, handles that
// follow, removed connections that fail naming themselves, mistakes that
// change nothing, and 50 reloads under 16 threads on PostgreSQL, MariaDB
// and SQLite with no failed query and no leaked server connection.
#include <catch2/catch.hpp>

#include <ilana/ilana.hpp>

#include "configs.hpp"
#include "log_capture.hpp"
#include "test_helpers.hpp"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <csignal>
#include <map>
#include <mutex>
#include <thread>

#include <sys/types.h>
#include <unistd.h>

using namespace ilana;
using namespace std::chrono_literals;
using ilana_test::eventually;
using ilana_test::LogCapture;
using ilana_test::TempDir;

namespace {

// Counts onPoolCreated / onPoolEvicted per connection (and reason).
struct HookCounts {
    std::mutex mu;
    std::map<std::string, int> created;
    std::map<std::string, int> evicted; // "name/reason"
    Hooks hooks() {
        Hooks h;
        h.on_pool_created = [this](const std::string &c) {
            std::lock_guard<std::mutex> lock(mu);
            ++created[c];
        };
        h.on_pool_evicted = [this](const std::string &c, const std::string &reason) {
            std::lock_guard<std::mutex> lock(mu);
            ++evicted[c + "/" + reason];
        };
        return h;
    }
    int created_of(const std::string &c) {
        std::lock_guard<std::mutex> lock(mu);
        return created[c];
    }
    int evicted_of(const std::string &c, const std::string &reason = "reload") {
        std::lock_guard<std::mutex> lock(mu);
        return evicted[c + "/" + reason];
    }
};

// SQLite connections on files of `dir` (their data outlives a pool).
std::string sqlite_conn(const TempDir &dir, const std::string &file, const std::string &pool = R"({"max": 4})",
                        const std::string &extra = "") {
    return R"({"client": "sqlite3", "connection": {"filename": ")" + dir.file(file) + R"("}, "pool": )" + pool +
           extra + "}";
}

std::string config_of(const std::string &default_name, const std::string &connections, const std::string &top = "") {
    return R"({"default": ")" + default_name + R"(", )" + top + R"("connections": {)" + connections + "}}";
}

OpenOptions options(Hooks hooks = {}) { return OpenOptions{"", {ILANA_TEST_PLUGIN_DIR}, std::move(hooks)}; }

int64_t count(const Connection &c, const std::string &sql) { return c.query(sql)[0][0].as<int64_t>(); }

} // namespace

TEST_CASE("reload: added, removed, replaced and resized connections: handles follow, removed ones fail naming it",
          "[reload][sqlite]") {
    TempDir dir;
    HookCounts hooks;
    const std::string path = dir.write(
        "ilana.config.json",
        config_of("main", "\"main\": " + sqlite_conn(dir, "main.db") + ", \"old\": " + sqlite_conn(dir, "old.db") +
                              ", \"sized\": " + sqlite_conn(dir, "sized.db", R"({"min": 0, "max": 4})")));
    Database db = Database::open(path, options(hooks.hooks()));
    Connection main = db.on("main");
    Connection old = db.on("old");
    Connection sized = db.on("sized");
    main.execute("CREATE TABLE t (x INTEGER)");
    main.execute("INSERT INTO t VALUES (1)");
    Statement by_x = main.prepare("SELECT x FROM t WHERE x = ?");
    CHECK(old.query("SELECT 1")[0][0].as<int64_t>() == 1);
    CHECK(count(sized, "SELECT 2") == 2);
    Session held = main.acquire(); // keeps the old pool until released
    CHECK(db.config_status().generation == 1);
    const std::string first_hash = db.config().hash();

    // main: a changed pool option (replaced); old: removed; sized: max only
    // (resized); events: added.
    dir.write("ilana.config.json",
              config_of("main", "\"main\": " + sqlite_conn(dir, "main.db", R"({"max": 4, "idleTimeoutMillis": 60000})") +
                                    ", \"sized\": " + sqlite_conn(dir, "sized.db", R"({"min": 0, "max": 2})") +
                                    ", \"events\": " + sqlite_conn(dir, "events.db")));
    ReloadResult r = db.reload();
    INFO((r.errors.empty() ? std::string() : r.errors.front()));
    REQUIRE(r.applied);
    CHECK_FALSE(r.unchanged);
    CHECK(r.generation == 2);
    CHECK(r.hash == db.config().hash());
    CHECK(r.hash != first_hash);
    std::map<std::string, ConfigChange::Kind> kinds;
    for (const auto &c : r.changes) kinds[c.connection] = c.kind;
    CHECK(kinds == std::map<std::string, ConfigChange::Kind>{{"events", ConfigChange::Kind::added},
                                                              {"main", ConfigChange::Kind::replaced},
                                                              {"old", ConfigChange::Kind::removed},
                                                              {"sized", ConfigChange::Kind::resized}});

    // Exactly once per pool retired or made for the change.
    CHECK(hooks.evicted_of("main") == 1);
    CHECK(hooks.evicted_of("old") == 1);
    CHECK(hooks.evicted_of("sized") == 0);
    CHECK(hooks.created_of("main") == 2); // the first, and the new one made at once (the old was in use)
    CHECK(hooks.created_of("sized") == 1);

    // The handle taken before follows the new pool; so does the statement,
    // prepared again there.
    CHECK(count(main, "SELECT count(*) FROM t") == 1);
    CHECK(by_x.query({1}).size() == 1);
    CHECK(sized.pool_status().max == 2);
    CHECK(db.on("events").query("SELECT 3")[0][0].as<int64_t>() == 3);

    // The held session still runs on the old pool until released.
    CHECK(held.query("SELECT count(*) FROM t")[0][0].as<int64_t>() == 1);
    CHECK(by_x.query(held, {1}).size() == 1);
    { Session done = std::move(held); }

    // A removed connection: a clear, catchable error naming it.
    try {
        old.query("SELECT 1");
        FAIL("a removed connection's handle ran a query");
    } catch (const ConfigError &e) {
        CHECK_THAT(e.what(), Catch::Contains("connection 'old' was removed from " + path) &&
                                 Catch::Contains("by a config reload (generation 2)"));
        CHECK(e.json_path() == "/connections/old");
    }
    CHECK_THROWS_AS(db.on("old"), ConfigError);

    // The same file again: unchanged, nothing happens.
    ReloadResult same = db.reload();
    CHECK(same.unchanged);
    CHECK_FALSE(same.applied);
    CHECK(same.generation == 2);
    const ConfigStatus status = db.config_status();
    CHECK(status.reloads_applied == 1);
    CHECK(status.reloads_unchanged == 1);

    const std::string text = db.prometheus_text();
    CHECK_THAT(text, Catch::Contains("ilana_config_reloads_total{result=\"applied\"} 1") &&
                         Catch::Contains("ilana_config_reloads_total{result=\"unchanged\"} 1") &&
                         Catch::Contains("ilana_config_generation 2") &&
                         Catch::Contains("hash=\"" + r.hash + "\"} 1"));

    // Adding "old" back: a new pool; the old handle stays a handle to the
    // removed one (a new one comes from Database::on).
    dir.write("ilana.config.json",
              config_of("old", "\"main\": " + sqlite_conn(dir, "main.db", R"({"max": 4, "idleTimeoutMillis": 60000})") +
                                   ", \"sized\": " + sqlite_conn(dir, "sized.db", R"({"min": 0, "max": 2})") +
                                   ", \"old\": " + sqlite_conn(dir, "old.db")));
    ReloadResult back = db.reload();
    REQUIRE(back.applied);
    CHECK(back.default_changed); // "default" now names "old"
    CHECK(db.default_connection().name() == "old");
    CHECK(count(db.on("old"), "SELECT 4") == 4);
    CHECK_THROWS_AS(old.query("SELECT 1"), ConfigError);
    db.close();
}

TEST_CASE("reload mistakes: invalid JSON, an unknown client, the default removed: errors name them, nothing changes",
          "[reload][sqlite]") {
    TempDir dir;
    LogCapture log;
    HookCounts hooks;
    const std::string good = config_of("main", "\"main\": " + sqlite_conn(dir, "main.db") + ", \"aux\": " +
                                                   sqlite_conn(dir, "aux.db"));
    const std::string path = dir.write("ilana.config.json", good);
    Database db = Database::open(path, options(hooks.hooks()));
    Connection main = db.on("main");
    CHECK(count(main, "SELECT 1") == 1);
    const std::string hash = db.config().hash();

    auto rejected = [&](const std::string &text) {
        dir.write("ilana.config.json", text);
        ReloadResult r = db.reload();
        CHECK_FALSE(r.applied);
        CHECK_FALSE(r.unchanged);
        CHECK(r.generation == 1);
        CHECK(r.hash == hash);
        REQUIRE(r.errors.size() == 1);
        // Nothing changed: the same config, pools and handles.
        CHECK(db.config().hash() == hash);
        CHECK(count(main, "SELECT 1") == 1);
        CHECK(count(db.on("aux"), "SELECT 1") == 1);
        return r.errors.front();
    };
    SECTION("invalid JSON") {
        const std::string e = rejected(R"({"default": "main", "connections": {)");
        CHECK_THAT(e, Catch::StartsWith(path + ":1:") && Catch::Contains("invalid JSON"));
    }
    SECTION("an unknown client") {
        const std::string e = rejected(
            config_of("main", "\"main\": " + sqlite_conn(dir, "main.db") +
                                  R"(, "aux": {"client": "oracle", "connection": {"host": "x"}})"));
        CHECK_THAT(e, Catch::Contains("/connections/aux/client") && Catch::Contains("oracle"));
    }
    SECTION("the default connection removed") {
        const std::string e = rejected(R"({"default": "main", "connections": {"aux": )" + sqlite_conn(dir, "aux.db") + "}}");
        CHECK_THAT(e, Catch::Contains("/default") && Catch::Contains("'main' is not defined"));
    }
    SECTION("plugins.paths changed (drivers load once)") {
        const std::string e = rejected(config_of("main", "\"main\": " + sqlite_conn(dir, "main.db") + ", \"aux\": " +
                                                             sqlite_conn(dir, "aux.db"),
                                                 R"("plugins": {"paths": ["/nonexistent"]}, )"));
        CHECK_THAT(e, Catch::Contains("/plugins/paths") && Catch::Contains("restart"));
    }
    CHECK(db.config_status().reloads_rejected == 1);
    CHECK(log.contains("CONFIG_RELOAD_REJECTED"));
    CHECK_THAT(db.prometheus_text(), Catch::Contains("ilana_config_reloads_total{result=\"rejected\"} 1"));
    CHECK(hooks.evicted_of("main") == 0);
    CHECK(hooks.evicted_of("aux") == 0);
}

TEST_CASE("reload.watch: an edit of the file or of its .env is applied by the watch thread", "[reload][sqlite][threads]") {
    TempDir dir;
    auto write = [&](int max) {
        dir.write("ilana.config.json",
                  config_of("main", R"("main": {"client": "sqlite3", "connection": {"filename": "${DB_FILE}"},
                                        "pool": {"max": )" + std::to_string(max) + "}}",
                            R"("reload": {"watch": true, "intervalMs": 100}, )"));
    };
    dir.write(".env", "DB_FILE=" + dir.file("a.db") + "\n");
    write(3);
    Database db = Database::open(dir.file("ilana.config.json"), options());
    CHECK(db.config_status().watching);
    Connection main = db.on("main");
    CHECK(main.pool_status().max == 3);
    write(5);
    CHECK(eventually([&] { return main.pool_status().max == 5; }, 5s));
    CHECK(db.config_status().generation == 2);
    // The .env is part of what is watched: a new file means a new pool.
    dir.write(".env", "DB_FILE=" + dir.file("b.db") + "\n");
    CHECK(eventually([&] { return db.config_status().generation == 3; }, 5s));
    main.execute("CREATE TABLE only_in_b (x INTEGER)");
    CHECK(boost::filesystem::exists(dir.file("b.db")));
    // An invalid edit is reported once and changes nothing; the watch goes on.
    dir.write("ilana.config.json", "{ not json");
    CHECK(eventually([&] { return db.config_status().reloads_rejected == 1; }, 5s));
    std::this_thread::sleep_for(300ms);
    CHECK(db.config_status().reloads_rejected == 1);
    CHECK(db.config_status().generation == 3);
    write(2);
    CHECK(eventually([&] { return main.pool_status().max == 2; }, 5s));
    db.close();
    CHECK_FALSE(db.config_status().watching);
}

TEST_CASE("ilana serve: SIGHUP reloads the config, logs an invalid one and keeps running", "[reload][cli][sqlite]") {
    TempDir dir;
    const std::string path =
        dir.write("ilana.config.json", config_of("main", "\"main\": " + sqlite_conn(dir, "main.db")));
    const std::string log = dir.file("serve.log");
    std::string out;
    REQUIRE(ilana_test::run_command(ilana_test::ilana_cli() + " --config '" + path +
                                        "' serve --listen 127.0.0.1:0 > '" + log + "' 2>&1 & echo $!",
                                    out) == 0);
    const pid_t pid = static_cast<pid_t>(std::stol(out));
    struct Stop {
        pid_t pid;
        ~Stop() { ::kill(pid, SIGTERM); }
    } stop{pid};
    auto log_has = [&](const std::string &s) { return ilana_test::read_file(log).find(s) != std::string::npos; };
    REQUIRE(eventually([&] { return log_has("SIGHUP reloads the config"); }, 10s));
    const std::string listening = ilana_test::read_file(log);
    const auto at = listening.find("listening on 127.0.0.1:");
    REQUIRE(at != std::string::npos);
    const std::string port = listening.substr(at + 23, listening.find(' ', at + 23) - (at + 23));

    dir.write("ilana.config.json", config_of("main", "\"main\": " + sqlite_conn(dir, "main.db") + ", \"extra\": " +
                                                        sqlite_conn(dir, "extra.db")));
    REQUIRE(::kill(pid, SIGHUP) == 0);
    CHECK(eventually([&] { return log_has("SIGHUP: config reloaded: generation 2") && log_has("extra added"); }, 10s));

    dir.write("ilana.config.json", R"({"connections": {"main": {"client": "nosuch"}}})");
    REQUIRE(::kill(pid, SIGHUP) == 0);
    CHECK(eventually([&] { return log_has("SIGHUP: config rejected, generation 2 keeps running"); }, 10s));
    CHECK(log_has("/connections/main/client"));
    CHECK(::kill(pid, 0) == 0); // still running

    REQUIRE(ilana_test::run_command("curl -s http://127.0.0.1:" + port + "/metrics", out) == 0);
    CHECK_THAT(out, Catch::Contains("ilana_config_generation 2") &&
                        Catch::Contains("ilana_config_reloads_total{result=\"rejected\"} 1") &&
                        Catch::Contains("connection=\"extra\""));
    ::kill(pid, SIGTERM);
    CHECK(eventually([&] { return log_has("serve: stopped"); }, 10s));
}

// The issue's test: 50 reloads while 16 threads query PostgreSQL, MariaDB and
// SQLite through held Connection handles, a prepared Statement, held
// Sessions and fresh Database::on lookups. Reloads alternate pool sizes
// (resized), replace the PostgreSQL and MariaDB pools now and then, add and
// remove a connection, and one in the middle is invalid. No query may fail
// (but those on the connection removed meanwhile, with ConfigError), hooks
// fire once per change, and after the drain the servers see exactly the
// sessions the live pools hold, none once the Database is closed.
TEST_CASE("reload under load: 50 reloads, 16 threads, PostgreSQL + MariaDB + SQLite: no failed query, no leak",
          "[reload][pg][mysql][sqlite][threads]") {
    ILANA_REQUIRE_PG();
    ILANA_REQUIRE_MYSQL();
    TempDir dir;
    // A MariaDB user of its own, so other tests' sessions do not count.
    const ilana_test::ServerSettings my = ilana_test::mysql();
    {
        dir.write("probe.json", R"({"connections": {"my": {"client": "mysql", "connection": )" +
                                    ilana_test::mysql_connection_json() + "}}}");
        Database probe = Database::open(dir.file("probe.json"), options());
        probe.on("my").execute("CREATE USER IF NOT EXISTS 'ilana_reload'@'" + my.host +
                               "' IDENTIFIED BY 'reload_pw'");
        probe.on("my").execute("GRANT ALL ON " + my.database + ".* TO 'ilana_reload'@'" + my.host + "'");
    }
    dir.write("probe.json", R"({"default": "pg", "connections": {"pg": {"client": "postgres", "connection": )" +
                                ilana_test::pg_connection_json() + R"(}, "my": {"client": "mysql", "connection": )" +
                                ilana_test::mysql_connection_json() + "}}}");
    Database probe = Database::open(dir.file("probe.json"), options());
    auto server_sessions = [&] {
        return std::make_pair(
            count(probe.on("pg"), "SELECT count(*) FROM pg_stat_activity WHERE application_name LIKE 'ilana_reload%'"),
            count(probe.on("my"), "SELECT count(*) FROM information_schema.PROCESSLIST WHERE USER = 'ilana_reload'"));
    };
    REQUIRE(server_sessions() == std::make_pair(int64_t{0}, int64_t{0}));

    const std::string my_conn = "{\"host\": \"" + my.host + "\", \"port\": " + my.port +
                                R"(, "user": "ilana_reload", "password": "reload_pw", "database": ")" + my.database +
                                "\"}";
    // Round i's config: sizes alternate; pg replaced every 7th round and my
    // every 5th (idleTimeoutMillis); "extra" present in odd rounds.
    auto config = [&](int i) {
        const std::string pool = R"({"min": )" + std::to_string(i % 2) + R"(, "max": )" + std::to_string(4 + 2 * (i % 2));
        const std::string pg_pool = pool + R"(, "idleTimeoutMillis": )" + std::to_string(60000 + (i / 7)) + "}";
        const std::string my_pool = pool + R"(, "idleTimeoutMillis": )" + std::to_string(60000 + (i / 5)) + "}";
        std::string c = R"("pg": {"client": "postgres", "connection": )" +
                        ilana_test::pg_connection_json(R"("application_name": "ilana_reload_pg")") +
                        R"(, "pool": )" + pg_pool + R"(}, "my": {"client": "mysql", "connection": )" + my_conn +
                        R"(, "pool": )" + my_pool + R"(}, "lite": )" + sqlite_conn(dir, "lite.db", pool + "}");
        if (i % 2 == 1)
            c += R"(, "extra": {"client": "postgres", "connection": )" +
                 ilana_test::pg_connection_json(R"("application_name": "ilana_reload_extra")") +
                 R"(, "pool": {"max": 2}})";
        return config_of("pg", c);
    };
    HookCounts hooks;
    const std::string path = dir.write("ilana.config.json", config(0));
    Database db = Database::open(path, options(hooks.hooks()));
    const std::vector<std::string> names{"pg", "my", "lite"};
    std::vector<Connection> handles;
    for (const auto &n : names) handles.push_back(db.on(n));
    Statement pg_stmt = handles[0].prepare("SELECT ?::int + 1");

    std::atomic<bool> stop{false};
    std::atomic<int64_t> ok{0}, extra_absent{0};
    std::mutex failures_mu;
    std::vector<std::string> failures;
    auto failed = [&](const std::string &what) {
        std::lock_guard<std::mutex> lock(failures_mu);
        if (failures.size() < 20) failures.push_back(what);
    };
    std::vector<std::thread> threads;
    for (int t = 0; t < 16; ++t)
        threads.emplace_back([&, t] {
            for (int n = 0; !stop; ++n) {
                const size_t which = static_cast<size_t>(t + n) % names.size();
                try {
                    switch (n % 5) {
                    case 0: count(handles[which], "SELECT 1"); break;         // a handle held all along
                    case 1: count(db.on(names[which]), "SELECT 1"); break;     // a fresh lookup
                    case 2: pg_stmt.query({n}); break;                           // a prepared statement
                    case 3: {                                                    // a held session, several calls
                        Session s = handles[which].acquire();
                        for (int k = 0; k < 3; ++k) s.query("SELECT 1");
                        break;
                    }
                    case 4:
                        try {
                            count(db.on("extra"), "SELECT 1");
                        } catch (const ConfigError &) {
                            ++extra_absent; // removed (or not yet added) meanwhile: the documented error
                            continue;
                        }
                        break;
                    }
                    ++ok;
                } catch (const std::exception &e) {
                    failed(names[which] + " (case " + std::to_string(n % 5) + "): " + e.what());
                }
            }
        });

    std::map<std::string, int> expect_created{{"pg", 1}, {"my", 1}, {"lite", 1}}, expect_evicted;
    const int rounds = 50;
    int applied = 0;
    for (int i = 1; i <= rounds; ++i) {
        if (i == 25) { // a mistake in the middle changes nothing
            dir.write("ilana.config.json", config(i).replace(config(i).find("\"pool\""), 6, "\"pol\""));
            const ReloadResult bad = db.reload();
            CHECK_FALSE(bad.applied);
            CHECK(bad.generation == static_cast<uint64_t>(applied + 1));
            CHECK_THAT(bad.errors.front(), Catch::Contains("unknown key 'pol'"));
        }
        dir.write("ilana.config.json", config(i));
        const ReloadResult r = db.reload();
        INFO("round " << i << ": " << (r.errors.empty() ? std::string() : r.errors.front()));
        REQUIRE(r.applied);
        ++applied;
        for (const auto &c : r.changes) {
            if (c.kind == ConfigChange::Kind::replaced || c.kind == ConfigChange::Kind::removed)
                ++expect_evicted[c.connection];
            if (c.kind == ConfigChange::Kind::replaced || c.kind == ConfigChange::Kind::added)
                ++expect_created[c.connection];
        }
        // Every pool of the round is used, so each change made and retired one.
        for (const auto &n : db.connection_names()) count(db.on(n), "SELECT 1");
        std::this_thread::sleep_for(40ms);
    }
    stop = true;
    for (auto &t : threads) t.join();

    INFO("ok " << ok << ", extra absent " << extra_absent);
    for (const auto &f : failures) FAIL_CHECK(f);
    CHECK(failures.empty());
    CHECK(ok > 1000);
    CHECK(db.config_status().generation == static_cast<uint64_t>(rounds + 1));
    CHECK(db.config_status().reloads_rejected == 1);
    for (const auto &n : std::vector<std::string>{"pg", "my", "lite", "extra"}) {
        INFO(n);
        CHECK(hooks.created_of(n) == expect_created[n]);
        CHECK(hooks.evicted_of(n) == expect_evicted[n]);
    }
    CHECK(expect_evicted["extra"] == rounds / 2);

    // Drained: the servers hold exactly what the live pools hold.
    auto live = [&](const std::string &n) {
        const auto names_now = db.connection_names();
        if (std::find(names_now.begin(), names_now.end(), n) == names_now.end()) return int64_t{0};
        auto s = db.on(n).pool_status();
        return static_cast<int64_t>(s.idle + s.in_use);
    };
    CHECK(eventually([&] {
        return server_sessions() == std::make_pair(live("pg") + live("extra"), live("my"));
    }, 10s));
    db.close();
    CHECK(eventually([&] { return server_sessions() == std::make_pair(int64_t{0}, int64_t{0}); }, 10s));
}
