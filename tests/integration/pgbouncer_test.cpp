// Scale-out through PgBouncer in transaction-pooling mode: with
// "pgbouncer": true the PostgreSQL driver keeps no session state (no named
// prepared statements), so 16 threads over a pool of 8 run statements and
// transactions through Debian's pgbouncer without a single failure.
#include <catch2/catch.hpp>

#include <ilana/ilana.hpp>

#include "configs.hpp"

#include <atomic>
#include <mutex>
#include <thread>

#include <unistd.h>

using namespace ilana;
using ilana_test::TempDir;

TEST_CASE("16 threads over a pool of 8 through PgBouncer in transaction mode", "[pgbouncer][pg][threads]") {
    ILANA_REQUIRE_PG();
    ILANA_REQUIRE_PGBOUNCER();
    const auto s = ilana_test::pgbouncer();
    TempDir dir;
    dir.write("ilana.config.json", R"({"default": "bouncer", "connections": {
        "bouncer": {"client": "postgres", "pgbouncer": true, "connection": )" + ilana_test::connection_json(s) +
                                       R"(, "pool": {"max": 8, "acquireTimeoutMillis": 20000}},
        "direct": {"client": "postgres", "connection": )" + ilana_test::pg_connection_json() + R"(}}})");
    Database db = Database::open(dir.file("ilana.config.json"), OpenOptions{"", {ILANA_TEST_PLUGIN_DIR}, {}});
    auto bouncer = db.on("bouncer");
    const std::string table = "bouncer_hits_" + std::to_string(::getpid());
    db.on("direct").execute("DROP TABLE IF EXISTS " + table);
    db.on("direct").execute("CREATE TABLE " + table + " (thread INT, n INT, note TEXT)");

    std::atomic<int> failures{0};
    std::mutex mu;
    std::vector<std::string> errors;
    std::vector<std::thread> threads;
    for (int t = 0; t < 16; ++t)
        threads.emplace_back([&, t] {
            for (int i = 0; i < 40; ++i) {
                try {
                    // The same parameterised statements again and again: with
                    // named prepared statements these would collide on the
                    // shared server connections.
                    int v = bouncer.query("SELECT ?::int + ?::int AS v", {t, i}).front()["v"].as<int>();
                    if (v != t + i) ++failures;
                    bouncer.transaction([&](Session &tx) {
                        tx.execute("INSERT INTO " + table + " (thread, n, note) VALUES (?, ?, ?)", {t, i, "ok"});
                        tx.execute("UPDATE " + table + " SET note = ? WHERE thread = ? AND n = ?", {"done", t, i});
                    });
                } catch (const Error &e) {
                    ++failures;
                    std::lock_guard<std::mutex> lock(mu);
                    errors.push_back(e.what());
                }
            }
        });
    for (auto &th : threads) th.join();
    for (const auto &e : errors) INFO(e);
    CHECK(failures == 0);
    CHECK(db.on("direct").query("SELECT COUNT(*) FROM " + table + " WHERE note = 'done'").front()[0].as<int>() == 640);
    CHECK(bouncer.pool_status().in_use == 0);
    CHECK(bouncer.pool_status().created <= 8);
    db.on("direct").execute("DROP TABLE " + table);
}
