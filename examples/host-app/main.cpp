// host-app — the embedding story: one config, several named connections,
// each a pool; the application talks to them through ilana's C++ API and
// never names a database library. Built against an installed ilana only
// (CMakeLists.txt: find_package(Ilana)).
//
//   orders  SQLite file, the application's data (written in transactions)
//   audit   SQLite file, an append-only log kept apart from the data
//   cache   SQLite :memory: (a pool of one), a summary recomputed on start
//
//   host-app [path/to/ilana.config.json]     (default: ./ilana.config.json)
#include <ilana/ilana.hpp>

#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <string>
#include <sys/stat.h>
#include <thread>
#include <vector>

#ifndef HOST_APP_PLUGIN_DIR
#define HOST_APP_PLUGIN_DIR ""
#endif

int main(int argc, char **argv) {
    const std::string config_path = argc > 1 ? argv[1] : "ilana.config.json";
    try {
        ilana::OpenOptions options;
        if (*HOST_APP_PLUGIN_DIR != '\0') options.plugin_paths.push_back(HOST_APP_PLUGIN_DIR);
        ilana::Database db = ilana::Database::open(config_path, options);
        // SQLite creates database files, not their folder.
        const std::string data_dir = db.config().base_dir() + "/data";
        ::mkdir(data_dir.c_str(), 0755);

        std::cout << "connections:";
        for (const auto &name : db.connection_names()) std::cout << " " << name << " (" << db.on(name).client() << ")";
        std::cout << "\n";

        ilana::Connection orders = db.on("orders");
        ilana::Connection audit = db.on("audit");
        ilana::Connection cache = db.on("cache");

        orders.execute("CREATE TABLE IF NOT EXISTS orders (id INTEGER PRIMARY KEY, customer TEXT NOT NULL,"
                       " amount_cents INTEGER NOT NULL, placed_at TEXT NOT NULL)");
        audit.execute("CREATE TABLE IF NOT EXISTS events (id INTEGER PRIMARY KEY, kind TEXT NOT NULL,"
                      " detail TEXT NOT NULL, at TEXT NOT NULL)");
        cache.execute("CREATE TABLE IF NOT EXISTS totals (customer TEXT PRIMARY KEY, orders INTEGER, cents INTEGER)");

        // Four threads place orders at once: each call leases a session from
        // the pool; each order and its audit event commit together per database.
        const std::vector<std::string> customers = {"ann", "ben", "chloe", "dmitri"};
        std::vector<std::thread> workers;
        for (size_t w = 0; w < customers.size(); ++w)
            workers.emplace_back([&, w] {
                for (int i = 1; i <= 5; ++i) {
                    const int64_t cents = static_cast<int64_t>(w + 1) * 1000 + i;
                    int64_t id = orders.transaction([&](ilana::Session &tx) {
                        return tx.execute("INSERT INTO orders (customer, amount_cents, placed_at) VALUES (?, ?, ?)",
                                          {customers[w], cents, ilana::TimestampTz::now()})
                            .last_insert_id;
                    });
                    audit.execute("INSERT INTO events (kind, detail, at) VALUES (?, ?, ?)",
                                  {"order.placed", "order " + std::to_string(id), ilana::TimestampTz::now()});
                }
            });
        for (auto &t : workers) t.join();

        // A rolled-back transaction leaves nothing behind.
        try {
            orders.transaction([&](ilana::Session &tx) {
                tx.execute("INSERT INTO orders (customer, amount_cents, placed_at) VALUES (?, ?, ?)",
                           {"mallory", int64_t{-1}, ilana::TimestampTz::now()});
                throw std::runtime_error("refund policy says no");
            });
        } catch (const std::runtime_error &) {
        }
        const int64_t mallory =
            orders.query("SELECT COUNT(*) FROM orders WHERE customer = ?", {"mallory"}).front()[0].as<int64_t>();

        // The cache: recomputed from orders, written to another database.
        ilana::Result sums = orders.query(
            "SELECT customer, COUNT(*) AS n, SUM(amount_cents) AS cents FROM orders GROUP BY customer ORDER BY customer");
        cache.transaction([&](ilana::Session &tx) {
            tx.execute("DELETE FROM totals");
            for (ilana::Row row : sums)
                tx.execute("INSERT INTO totals (customer, orders, cents) VALUES (?, ?, ?)",
                           {row["customer"], row["n"], row["cents"]});
        });
        std::cout << "totals (cache):\n";
        for (ilana::Row row : cache.query("SELECT customer, orders, cents FROM totals ORDER BY customer"))
            std::cout << "  " << row["customer"].as<std::string>() << ": " << row["orders"].as<int64_t>()
                      << " orders, " << row["cents"].as<int64_t>() << " cents\n";

        // Introspection through the driver, the same call for every database.
        ilana::Session s = orders.acquire();
        std::cout << "orders tables:";
        for (const auto &t : s.tables()) std::cout << " " << t.name;
        std::cout << "\norders.orders columns:";
        for (const auto &c : s.columns("orders")) std::cout << " " << c.name << ":" << c.data_type;
        std::cout << "\n";

        const ilana::HealthReport health = db.health_check();
        std::cout << "health: " << (health.healthy ? "healthy" : "UNHEALTHY") << " (" << health.total_pools
                  << " pools)\n";

        const int64_t n_orders = orders.query("SELECT COUNT(*) FROM orders").front()[0].as<int64_t>();
        const int64_t n_events = audit.query("SELECT COUNT(*) FROM events").front()[0].as<int64_t>();
        const int64_t n_totals = cache.query("SELECT COUNT(*) FROM totals").front()[0].as<int64_t>();
        std::cout << "pools: orders max " << orders.pool_status().max << ", audit max " << audit.pool_status().max
                  << ", cache max " << cache.pool_status().max << "\n";
        if (mallory != 0 || n_totals != static_cast<int64_t>(customers.size()) || n_events < 20 || n_orders < 20 ||
            !health.healthy) {
            std::cerr << "host-app: unexpected state (orders " << n_orders << ", events " << n_events << ", totals "
                      << n_totals << ", rolled back rows " << mallory << ")\n";
            return 1;
        }
        std::cout << "ok: " << n_orders << " orders, " << n_events << " audit events, " << n_totals
                  << " cached totals, rollback left nothing\n";
        return 0;
    } catch (const ilana::Error &e) {
        std::cerr << "host-app: " << e.what() << "\n";
        return 1;
    }
}
