// Read replicas: reads through the builder go to a healthy replica, writes
// and transactions to the primary, a dead replica is skipped and reads fall
// back to the primary without a failed call.
//   - SQLite: the routing logic with two replica files (strategies, sticky
//     reads, a replica file made unreadable and restored, all down);
//   - PostgreSQL: a real streaming replica (scripts/test-servers.sh), stopped
//     and started again during the test.
#include <catch2/catch.hpp>

#include <ilana/ilana.hpp>

#include "configs.hpp"
#include "temp_dir.hpp"
#include "test_helpers.hpp"
#include "test_servers.hpp"

#include <chrono>
#include <fstream>
#include <mutex>
#include <set>
#include <thread>

using namespace ilana;
using Catch::Contains;
using ilana_test::eventually;
using ilana_test::read_file;
using ilana_test::TempDir;

namespace {

struct ErrorLog {
    std::mutex mu;
    std::vector<std::pair<std::string, std::string>> errors; // connection, message
    void add(const std::string &conn, const Error &e) {
        std::lock_guard<std::mutex> lock(mu);
        errors.emplace_back(conn, e.what());
    }
    size_t count(const std::string &conn) {
        std::lock_guard<std::mutex> lock(mu);
        size_t n = 0;
        for (const auto &e : errors) n += e.first == conn ? 1 : 0;
        return n;
    }
    std::string last(const std::string &conn) {
        std::lock_guard<std::mutex> lock(mu);
        for (auto it = errors.rbegin(); it != errors.rend(); ++it)
            if (it->first == conn) return it->second;
        return {};
    }
};

Hooks error_hooks(const std::shared_ptr<ErrorLog> &log) {
    Hooks h;
    h.on_error = [log](const std::string &conn, const Error &e) { log->add(conn, e); };
    return h;
}

// Rewrites a file in place (same inode, so open SQLite handles see it).
void overwrite(const std::string &path, const std::string &bytes) {
    std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
    REQUIRE(f.is_open());
    f.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

// Three SQLite files, each with a table saying which one it is.
Database open_sqlite_replicas(TempDir &dir, const std::string &strategy, int64_t sticky_ms,
                              const std::shared_ptr<ErrorLog> &log,
                              const std::string &replica_pool = R"({"max": 4})") {
    dir.write("ilana.config.json", R"({
      "default": "primary",
      "connections": {
        "primary": {"client": "sqlite3", "connection": {"filename": "./primary.sqlite"},
                    "read": ["r1", "r2"], "readStrategy": ")" + strategy +
                                        R"(", "stickyAfterWriteMs": )" + std::to_string(sticky_ms) + R"(},
        "r1": {"client": "sqlite3", "connection": {"filename": "./r1.sqlite"}, "pool": )" + replica_pool + R"(},
        "r2": {"client": "sqlite3", "connection": {"filename": "./r2.sqlite"}, "pool": )" + replica_pool + R"(}
      }
    })");
    Database db = Database::open(dir.file("ilana.config.json"), OpenOptions{"", {ILANA_TEST_PLUGIN_DIR}, error_hooks(log)});
    for (const char *name : {"primary", "r1", "r2"}) {
        Connection c = db.on(name);
        c.execute("DROP TABLE IF EXISTS whoami");
        c.execute("CREATE TABLE whoami (id INTEGER PRIMARY KEY, name TEXT)");
        c.execute("INSERT INTO whoami (name) VALUES (?)", {name});
    }
    return db;
}

// Where a builder read on `primary` ran.
std::string who(const Database &db) {
    auto r = db.on("primary").table("whoami").orderBy("id").first();
    REQUIRE(r);
    return r->get<std::string>("name");
}

} // namespace

TEST_CASE("replicas (SQLite): reads spread round robin, writes and transactions on the primary",
          "[replica][sqlite]") {
    TempDir dir;
    auto errors = std::make_shared<ErrorLog>();
    Database db = open_sqlite_replicas(dir, "round_robin", 0, errors);
    Connection primary = db.on("primary");

    std::vector<std::string> seen;
    for (int i = 0; i < 6; ++i) seen.push_back(who(db));
    for (size_t i = 0; i < seen.size(); ++i) {
        CHECK(seen[i] != "primary");
        if (i > 0) CHECK(seen[i] != seen[i - 1]); // alternates
    }
    // Every read terminal goes the same way.
    CHECK(primary.table("whoami").count() == 1);
    CHECK(primary.table("whoami").exists());
    CHECK(primary.table("whoami").paginate(1, 10).total == 1);
    CHECK(primary.table("whoami").get().size() == 1);
    const std::string via_read = primary.read().name();
    CHECK((via_read == "r1" || via_read == "r2"));

    // Writes go to the primary only.
    Record created = primary.table("whoami").create({{"name", "written"}});
    CHECK(created.get<std::string>("name") == "written");
    CHECK(primary.table("whoami").insert({{"name", "inserted"}}) == 1);
    CHECK(primary.table("whoami").where("name", "written").update({{"name", "updated"}}) == 1);
    CHECK(db.on("primary").query("SELECT COUNT(*) AS n FROM whoami").front()["n"].as<int>() == 3);
    CHECK(db.on("r1").query("SELECT COUNT(*) AS n FROM whoami").front()["n"].as<int>() == 1);
    CHECK(db.on("r2").query("SELECT COUNT(*) AS n FROM whoami").front()["n"].as<int>() == 1);
    // ... and reads still go to the replicas (no stickiness configured).
    CHECK(primary.table("whoami").count() == 1);

    // Inside a transaction everything runs on the primary's session.
    primary.transaction([&](Session &tx) {
        CHECK(ilana::table(tx, "whoami").orderBy("id").first()->get<std::string>("name") == "primary");
        CHECK(ilana::table(tx, "whoami").count() == 3);
        ilana::table(tx, "whoami").where("name", "inserted").del();
    });
    CHECK(db.on("primary").query("SELECT COUNT(*) AS n FROM whoami").front()["n"].as<int>() == 2);
    CHECK(errors->count("primary") == 0);
}

TEST_CASE("replicas (SQLite): least_busy and random strategies", "[replica][sqlite]") {
    TempDir dir;
    auto errors = std::make_shared<ErrorLog>();
    {
        Database db = open_sqlite_replicas(dir, "least_busy", 0, errors);
        Session busy = db.on("r1").acquire(); // r1 has a session in use
        for (int i = 0; i < 4; ++i) CHECK(who(db) == "r2");
        CHECK(db.on("primary").read().name() == "r2");
        {
            Session busy2 = db.on("r2").acquire();
            Session busy3 = db.on("r2").acquire(); // now r2 is busier
            for (int i = 0; i < 3; ++i) CHECK(who(db) == "r1");
        }
    }
    {
        Database db = open_sqlite_replicas(dir, "random", 0, errors);
        std::set<std::string> names;
        for (int i = 0; i < 60; ++i) names.insert(who(db));
        CHECK(names == std::set<std::string>{"r1", "r2"});
    }
}

TEST_CASE("replicas (SQLite): stickyAfterWriteMs keeps this thread's reads on the primary", "[replica][sqlite]") {
    TempDir dir;
    auto errors = std::make_shared<ErrorLog>();
    Database db = open_sqlite_replicas(dir, "round_robin", 400, errors);
    // The setup's INSERT on the primary pinned this thread's reads already.
    CHECK(who(db) == "primary");
    std::this_thread::sleep_for(std::chrono::milliseconds(450));
    CHECK(who(db) != "primary");
    db.on("primary").table("whoami").insert({{"name", "mine"}});
    const auto wrote = std::chrono::steady_clock::now();
    CHECK(who(db) == "primary"); // read-your-writes
    CHECK(db.on("primary").table("whoami").where("name", "mine").exists());
    CHECK(db.on("primary").read().name() == "primary");
    // Another thread did not write: its reads go to the replicas.
    std::string other;
    std::thread([&] { other = who(db); }).join();
    CHECK(other != "primary");
    // A raw write through the Connection pins reads too.
    std::this_thread::sleep_until(wrote + std::chrono::milliseconds(450));
    CHECK(who(db) != "primary");
    db.on("primary").execute("UPDATE whoami SET name = name WHERE id = 1");
    CHECK(who(db) == "primary");
    std::this_thread::sleep_for(std::chrono::milliseconds(450));
    CHECK(who(db) != "primary");
}

TEST_CASE("replicas (SQLite): a failing replica is skipped, all down falls back to the primary",
          "[replica][sqlite]") {
    TempDir dir;
    auto errors = std::make_shared<ErrorLog>();
    Database db = open_sqlite_replicas(dir, "round_robin", 0, errors);
    // Warm both replicas' pools, then make r1's file unreadable in place.
    CHECK(who(db) != who(db));
    const std::string r1_bytes = read_file(dir.file("r1.sqlite"));
    const std::string r2_bytes = read_file(dir.file("r2.sqlite"));
    overwrite(dir.file("r1.sqlite"), std::string(r1_bytes.size(), 'x'));

    // No failed call: r1 fails, is marked down, the read is retried on r2.
    for (int i = 0; i < 6; ++i) CHECK(who(db) == "r2");
    CHECK(errors->count("r1") >= 1);
    CHECK(errors->count("primary") == 0);
    CHECK(db.on("primary").read().name() == "r2");

    // Both down: reads go to the primary, onError tells it once.
    overwrite(dir.file("r2.sqlite"), std::string(r2_bytes.size(), 'x'));
    for (int i = 0; i < 5; ++i) CHECK(who(db) == "primary");
    CHECK(db.on("primary").table("whoami").count() == 1);
    CHECK(db.on("primary").read().name() == "primary");
    CHECK(errors->count("primary") == 1);
    CHECK_THAT(errors->last("primary"), Contains("no read replica is available") && Contains("r2"));

    // r1 answers again: the background re-check puts it back within ~1 s.
    overwrite(dir.file("r1.sqlite"), r1_bytes);
    CHECK(eventually([&] { return who(db) == "r1"; }, std::chrono::seconds(5), std::chrono::milliseconds(50)));
    CHECK(who(db) == "r1"); // r2 is still down
    overwrite(dir.file("r2.sqlite"), r2_bytes);
    CHECK(eventually([&] { return who(db) == "r2"; }, std::chrono::seconds(5), std::chrono::milliseconds(50)));
    // A new outage is announced again.
    overwrite(dir.file("r1.sqlite"), std::string(r1_bytes.size(), 'x'));
    overwrite(dir.file("r2.sqlite"), std::string(r2_bytes.size(), 'x'));
    std::set<std::string> after;
    for (int i = 0; i < 4; ++i) after.insert(who(db));
    CHECK(after.count("primary") == 1);
    CHECK(errors->count("primary") == 2);
}

TEST_CASE("replicas (SQLite): a busy replica is passed over, not marked down", "[replica][sqlite]") {
    TempDir dir;
    auto errors = std::make_shared<ErrorLog>();
    Database db = open_sqlite_replicas(dir, "round_robin", 0, errors, R"({"max": 1, "acquireTimeoutMillis": 100})");
    {
        Session busy = db.on("r1").acquire(); // r1's only session
        for (int i = 0; i < 4; ++i) CHECK(who(db) == "r2"); // r1 times out (PoolTimeout): next one
    }
    std::set<std::string> names;
    for (int i = 0; i < 4; ++i) names.insert(who(db));
    CHECK(names == std::set<std::string>{"r1", "r2"}); // r1 was never taken out
    CHECK(errors->count("primary") == 0);
    {
        Session b1 = db.on("r1").acquire();
        Session b2 = db.on("r2").acquire();
        CHECK(who(db) == "primary"); // both busy: the primary answers, no outage announced
    }
    CHECK(errors->count("primary") == 0);
}

// ---- PostgreSQL streaming replica ----------------------------------------------

namespace {

struct ReplicaRestarter {
    std::string script;
    bool stopped = false;
    void stop() {
        std::string out;
        int rc = ilana_test::run_command("\"" + script + "\" stop replica", out);
        INFO(out);
        REQUIRE(rc == 0);
        stopped = true;
    }
    void start() {
        std::string out;
        int rc = ilana_test::run_command("\"" + script + "\" start replica", out);
        INFO(out);
        stopped = false;
        CHECK(rc == 0);
    }
    ~ReplicaRestarter() {
        if (stopped) {
            std::string out;
            ilana_test::run_command("\"" + script + "\" start replica", out);
        }
    }
};

bool standby_read(const Connection &primary) {
    auto r = primary.table("qr_items").selectRaw("pg_is_in_recovery() AS standby").first();
    REQUIRE(r);
    return r->get<bool>("standby");
}

} // namespace

TEST_CASE("replicas (PostgreSQL): reads on the streaming replica, fallback while it is stopped",
          "[replica][postgres]") {
    ILANA_REQUIRE_PG();
    const std::string replica_port = ilana_test::env_or("ILANA_TEST_PG_REPLICA_PORT");
    const std::string script = ilana_test::env_or("ILANA_TEST_SERVERS_SCRIPT");
    ILANA_REQUIRE_SERVER_(!replica_port.empty() && !script.empty(), "PostgreSQL replica");

    auto pg = ilana_test::pg();
    auto replica = pg;
    replica.port = replica_port;
    TempDir dir;
    dir.write("ilana.config.json", R"({
      "default": "primary",
      "connections": {
        "primary": {"client": "pg", "connection": )" + ilana_test::connection_json(pg) +
                                      R"(, "read": ["replica"], "readStrategy": "round_robin"},
        "replica": {"client": "pg", "connection": )" + ilana_test::connection_json(replica, "\"connect_timeout\": 2") +
                                      R"(}
      }
    })");
    auto errors = std::make_shared<ErrorLog>();
    Database db = Database::open(dir.file("ilana.config.json"), OpenOptions{"", {ILANA_TEST_PLUGIN_DIR}, error_hooks(errors)});
    Connection primary = db.on("primary");
    primary.execute("DROP TABLE IF EXISTS qr_items");
    primary.execute("CREATE TABLE qr_items (id BIGSERIAL PRIMARY KEY, name TEXT)");
    struct Drop {
        Connection c;
        ~Drop() {
            try {
                c.execute("DROP TABLE IF EXISTS qr_items");
            } catch (...) {
            }
        }
    } drop{primary};

    // A write through the builder: the primary (the standby would refuse it).
    Record one = primary.table("qr_items").create({{"name", "one"}});
    CHECK(one.get<int64_t>("id") == 1);
    REQUIRE(eventually(
        [&] {
            try {
                return db.on("replica").table("qr_items").count() == 1;
            } catch (const Error &) {
                return false; // the table is not replicated yet
            }
        },
        std::chrono::seconds(15)));

    // Reads through the builder land on the replica.
    CHECK(standby_read(primary));
    CHECK(primary.table("qr_items").where("name", "one").count() == 1);
    CHECK(primary.read().name() == "replica");
    // Writes and transactions on the primary.
    CHECK(primary.table("qr_items").insert({{"name", "two"}}) == 1);
    CHECK(primary.table("qr_items").where("name", "two").update({{"name", "deux"}}) == 1);
    primary.transaction([&](Session &tx) {
        auto r = ilana::table(tx, "qr_items").selectRaw("pg_is_in_recovery() AS standby").first();
        CHECK_FALSE(r->get<bool>("standby"));
        CHECK(ilana::table(tx, "qr_items").where("name", "deux").exists());
    });
    CHECK(errors->count("primary") == 0);

    // Stop the replica: reads fall back to the primary, no call fails.
    ReplicaRestarter servers{script};
    servers.stop();
    for (int i = 0; i < 5; ++i) {
        bool standby = true;
        CHECK_NOTHROW(standby = standby_read(primary));
        CHECK_FALSE(standby);
    }
    CHECK(primary.table("qr_items").count() == 2);
    CHECK(primary.read().name() == "primary");
    CHECK(errors->count("primary") == 1);
    CHECK_THAT(errors->last("primary"), Contains("no read replica is available"));

    // Start it again: reads go back to it once it answers.
    servers.start();
    CHECK(eventually(
        [&] {
            bool standby = false;
            CHECK_NOTHROW(standby = standby_read(primary));
            return standby;
        },
        std::chrono::seconds(30)));
    CHECK(primary.read().name() == "replica");
}
