// The quick-start job: two SQLite connections from one config file.
// `primary` holds users, `cache` holds a derived summary. Everything goes
// through ilana: config, driver plugins loaded from plugins/, pools,
// transactions, bound parameters, typed rows.
//
//   build/bin/ilana-example [path/to/ilana.config.json]
#include <ilana/ilana.hpp>

#include <boost/filesystem.hpp>

#include <iostream>

int main(int argc, char **argv) {
    const std::string config_path = argc > 1 ? argv[1] : "examples/quickstart/ilana.config.json";
    try {
        auto db = ilana::Database::open(config_path);
        // SQLite creates the files, not their folder.
        boost::filesystem::create_directories(boost::filesystem::path(db.config().base_dir()) / "data");

        std::cout << "drivers loaded from plugins/:\n";
        for (const auto &d : db.drivers().drivers())
            std::cout << "  " << d.name << " " << d.version << "  " << d.path << "\n";

        // primary: the application's data.
        auto primary = db.on("primary");
        primary.execute("CREATE TABLE IF NOT EXISTS users ("
                        " id INTEGER PRIMARY KEY, name TEXT NOT NULL, email TEXT NOT NULL UNIQUE,"
                        " role TEXT NOT NULL DEFAULT 'member', created_at TEXT NOT NULL)");
        primary.transaction([&](ilana::Session &tx) {
            const char *people[][3] = {{"Ann", "ann@example.com", "admin"},
                                       {"Ben", "ben@example.com", "member"},
                                       {"Chloé", "chloe@example.com", "member"}};
            for (auto &p : people)
                tx.execute("INSERT INTO users (name, email, role, created_at) VALUES (?, ?, ?, ?)"
                           " ON CONFLICT (email) DO NOTHING",
                           {p[0], p[1], p[2], ilana::TimestampTz::now()});
        });

        std::cout << "\nprimary: users\n";
        for (ilana::Row row : primary.query("SELECT id, name, email, role FROM users ORDER BY id"))
            std::cout << "  #" << row["id"].as<int64_t>() << " " << row["name"].as<std::string>() << " <"
                      << row["email"].as<std::string>() << "> " << row["role"].as<std::string>() << "\n";

        // cache: a summary computed from primary, written to another database.
        auto cache = db.on("cache");
        cache.execute("CREATE TABLE IF NOT EXISTS role_counts (role TEXT PRIMARY KEY, total INTEGER NOT NULL,"
                      " refreshed_at TEXT NOT NULL)");
        auto counts = primary.query("SELECT role, COUNT(*) AS total FROM users GROUP BY role ORDER BY role");
        cache.transaction([&](ilana::Session &tx) {
            for (ilana::Row row : counts)
                tx.execute("INSERT INTO role_counts (role, total, refreshed_at) VALUES (?, ?, ?)"
                           " ON CONFLICT (role) DO UPDATE SET total = excluded.total,"
                           " refreshed_at = excluded.refreshed_at",
                           {row["role"], row["total"], ilana::TimestampTz::now()});
        });

        std::cout << "\ncache: role_counts\n";
        for (ilana::Row row : cache.query("SELECT role, total FROM role_counts ORDER BY role"))
            std::cout << "  " << row["role"].as<std::string>() << ": " << row["total"].as<int>() << "\n";

        auto total = primary.query("SELECT COUNT(*) AS n FROM users").front()["n"].as<int64_t>();
        std::cout << "\nok: " << total << " users in primary, "
                  << cache.query("SELECT COUNT(*) FROM role_counts").front()[0].as<int64_t>()
                  << " role counts in cache\n";
        return 0;
    } catch (const ilana::Error &e) {
        std::cerr << "ilana-example: " << e.what() << "\n";
        return 1;
    }
}
