// What the migration tests (tests/integration/migrate*_test.cpp,
// cli_embed_test.cpp) share: opening a config with the build's plugins,
// reading a count, and scratch server objects (a PostgreSQL schema, a
// MariaDB database) made per run and dropped after.
#pragma once

#include "configs.hpp"
#include "temp_dir.hpp"
#include "test_helpers.hpp"
#include "test_servers.hpp"

#include <ilana/ilana.hpp>

#include <cstdint>
#include <string>
#include <utility>

namespace ilana_test {

inline ilana::Database open_db(const std::string &config) {
    return ilana::Database::open(config, ilana::OpenOptions{"", {ILANA_TEST_PLUGIN_DIR}, {}});
}

// The first column of the first row of `sql` (a count) as an integer.
inline int64_t count(const ilana::Connection &c, const std::string &sql) {
    return c.query(sql).front()[0].as<int64_t>();
}

// A config with one PostgreSQL connection "pg" working in `schema` (its
// search_path and the migrations table's schemaName); `migrations_extra`:
// further keys of its "migrations" object.
inline std::string pg_schema_config(const std::string &schema, const std::string &migrations_extra = "") {
    return R"({"connections": {"pg": {"client": "postgres", "connection": )" +
           pg_connection_json("\"search_path\": \"" + schema + "\"") + R"(, "migrations": {"schemaName": ")" +
           schema + "\"" + (migrations_extra.empty() ? "" : ", " + migrations_extra) + "}}}}";
}

// Drops `schema` (on `connection` of `db`) at scope exit.
inline Cleanup drop_pg_schema_at_exit(ilana::Database &db, const std::string &connection, const std::string &schema) {
    return Cleanup{[&db, connection, schema] {
        db.on(connection).execute("DROP SCHEMA IF EXISTS \"" + schema + "\" CASCADE");
    }};
}

// The test server's connection object, on database `database`.
inline std::string mysql_connection_json_in(const std::string &database) {
    auto s = mysql();
    s.database = database;
    return connection_json(s);
}

// A MariaDB database made for one test and dropped when it ends; `config`
// has a connection "boot" to the server's own test database.
struct MysqlDatabase {
    std::string name;
    TempDir dir;
    std::string config;
    Cleanup drop;
    explicit MysqlDatabase(std::string n) : name(std::move(n)) {
        config = dir.write("boot.json", R"({"connections": {"boot": {"client": "mysql2", "connection": )" +
                                            ilana_test::mysql_connection_json() + "}}}");
        open_db(config).on("boot").execute("CREATE DATABASE `" + name + "`");
        drop.fn = [this] { open_db(config).on("boot").execute("DROP DATABASE IF EXISTS `" + name + "`"); };
    }
};

} // namespace ilana_test
