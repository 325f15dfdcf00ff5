// Two (here: four) `ilana migrate` processes started at the same moment on
// each database: all exit 0 (the others wait for the lock, then find nothing
// left), and every migration is applied exactly once: one row each in the
// migrations table, one batch, and each side effect (an INSERT) done once.
#include <catch2/catch.hpp>

#include <ilana/ilana.hpp>

#include "configs.hpp"
#include "temp_dir.hpp"
#include "migrate_support.hpp"
#include "test_helpers.hpp"
#include "test_servers.hpp"

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <functional>
#include <sstream>

using namespace ilana;
using ilana_test::count;
using ilana_test::ilana_cli;
using ilana_test::open_db;
using ilana_test::TempDir;

namespace {

constexpr int kRunners = 4;

// Forks kRunners `ilana --config CONFIG migrate` processes that all block on
// one pipe, then closes it so they start together. Returns their outputs
// (stdout + stderr); every exit code must be 0.
std::vector<std::string> race(const TempDir &dir, const std::string &config, int round) {
    const std::string cli = ilana_cli();
    int gate[2];
    REQUIRE(pipe(gate) == 0);
    std::vector<pid_t> pids;
    std::vector<std::string> outputs;
    for (int i = 0; i < kRunners; ++i) outputs.push_back(dir.file("runner_" + std::to_string(round) + "_" + std::to_string(i) + ".out"));
    for (int i = 0; i < kRunners; ++i) {
        const char *argv[] = {cli.c_str(), "--config", config.c_str(), "migrate", nullptr};
        const std::string &out = outputs[static_cast<size_t>(i)];
        pid_t pid = fork();
        REQUIRE(pid >= 0);
        if (pid == 0) {
            // Only async-signal-safe calls between fork and exec.
            close(gate[1]);
            char c;
            while (read(gate[0], &c, 1) > 0) {
            }
            close(gate[0]);
            int fd = open(out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
            if (fd < 0) _exit(120);
            dup2(fd, 1);
            dup2(fd, 2);
            close(fd);
            execv(argv[0], const_cast<char *const *>(argv));
            _exit(121);
        }
        pids.push_back(pid);
    }
    close(gate[0]);
    close(gate[1]); // the barrier: every runner's read() returns now
    std::vector<std::string> texts;
    for (size_t i = 0; i < pids.size(); ++i) {
        int status = 0;
        REQUIRE(waitpid(pids[i], &status, 0) == pids[i]);
        texts.push_back(ilana_test::read_file(outputs[i]));
        INFO("runner " << i << " output:\n" << texts.back());
        REQUIRE(WIFEXITED(status));
        CHECK(WEXITSTATUS(status) == 0);
    }
    return texts;
}

// The migrations for `conn`: a table of side effects, then migrations that
// each insert one row into it (one of them slow, to widen the race).
void write_round(const TempDir &dir, const std::string &conn, int round, const std::string &create_table,
                 const std::string &slow) {
    const std::string base = "database/migrations/" + conn + "/";
    if (round == 1) {
        dir.write(base + "20260101000000_side_effects.sql", "-- migrate:up\n" + create_table + ";\n-- migrate:down\nDROP TABLE side_effects;\n");
        dir.write(base + "20260101000001_effect_a.sql",
                  "-- migrate:up\nINSERT INTO side_effects (migration) VALUES ('a');\n" + slow +
                      ";\n-- migrate:down\nDELETE FROM side_effects WHERE migration = 'a';\n");
        dir.write(base + "20260101000002_effect_b.sql",
                  "-- migrate:up\nINSERT INTO side_effects (migration) VALUES ('b');\n"
                  "-- migrate:down\nDELETE FROM side_effects WHERE migration = 'b';\n");
    } else {
        dir.write(base + "20260102000000_effect_c.sql",
                  "-- migrate:up\n" + slow + ";\nINSERT INTO side_effects (migration) VALUES ('c');\n"
                  "-- migrate:down\nDELETE FROM side_effects WHERE migration = 'c';\n");
        dir.write(base + "20260102000001_effect_d.sql",
                  "-- migrate:up\nINSERT INTO side_effects (migration) VALUES ('d');\n"
                  "-- migrate:down\nDELETE FROM side_effects WHERE migration = 'd';\n");
    }
}

void race_flow(const TempDir &dir, const std::string &config, const std::string &conn, const Connection &c,
               const std::string &table, const std::string &create_table, const std::string &slow) {
    for (int round = 1; round <= 2; ++round) {
        INFO("round " << round);
        write_round(dir, conn, round, create_table, slow);
        std::vector<std::string> outs = race(dir, config, round);
        const std::vector<std::string> ids =
            round == 1 ? std::vector<std::string>{"20260101000000_side_effects", "20260101000001_effect_a", "20260101000002_effect_b"}
                       : std::vector<std::string>{"20260102000000_effect_c", "20260102000001_effect_d"};
        // Exactly one runner applied each migration; the others had nothing to do.
        size_t appliers = 0, idle = 0;
        for (const auto &o : outs) {
            if (ilana_test::count_of(o, "applied 2026") > 0) ++appliers;
            if (ilana_test::count_of(o, "nothing to migrate") == 1) ++idle;
        }
        CHECK(appliers == 1);
        CHECK(idle == kRunners - 1);
        for (const auto &id : ids) {
            size_t n = 0;
            for (const auto &o : outs) n += ilana_test::count_of(o, "applied " + id + " (");
            CHECK(n == 1);
        }
        // The table: one row per migration, all applied, one batch per round.
        CHECK(count(c, "SELECT count(*) FROM " + table) == (round == 1 ? 3 : 5));
        CHECK(count(c, "SELECT count(*) FROM " + table + " WHERE status = 'applied' AND batch = " +
                           std::to_string(round)) == (round == 1 ? 3 : 2));
        // The side effects: each insert happened once.
        Result effects = c.query("SELECT migration, count(*) AS n FROM side_effects GROUP BY migration ORDER BY migration");
        REQUIRE(effects.size() == (round == 1 ? 2u : 4u));
        for (Row r : effects) {
            INFO("migration " << r[0].as<std::string>());
            CHECK(r[1].as<int64_t>() == 1);
        }
    }
}

} // namespace

TEST_CASE("racing migrate processes apply each migration once (SQLite)", "[migrate][race][sqlite]") {
    TempDir dir;
    const std::string config = dir.write(
        "ilana.config.json",
        R"({"connections": {"lite": {"client": "sqlite3", "connection": {"filename": "./race.sqlite"},
                                      "migrations": {"tableName": "race_migrations"}}}})");
    Database db = open_db(config);
    race_flow(dir, config, "lite", db.on("lite"), "race_migrations", "CREATE TABLE side_effects (migration TEXT)",
              "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 200000) SELECT count(*) FROM c");
}

TEST_CASE("racing migrate processes apply each migration once (PostgreSQL)", "[migrate][race][pg]") {
    ILANA_REQUIRE_PG();
    TempDir dir;
    const std::string schema = "ilana_race_" + ilana_test::unique_suffix();
    const std::string config =
        dir.write("ilana.config.json", ilana_test::pg_schema_config(schema, R"("tableName": "race_migrations")"));
    Database db = open_db(config);
    ilana_test::Cleanup drop = ilana_test::drop_pg_schema_at_exit(db, "pg", schema);
    race_flow(dir, config, "pg", db.on("pg"), "race_migrations", "CREATE TABLE side_effects (migration TEXT)",
              "SELECT pg_sleep(0.2)");
}

TEST_CASE("racing migrate processes apply each migration once (MariaDB)", "[migrate][race][mysql]") {
    ILANA_REQUIRE_MYSQL();
    ilana_test::MysqlDatabase scratch("ilana_race_" + ilana_test::unique_suffix());
    TempDir dir;
    const std::string config = dir.write("ilana.config.json",
                                         R"({"connections": {"my": {"client": "mysql2", "connection": )" +
                                             ilana_test::mysql_connection_json_in(scratch.name) +
                                             R"(, "migrations": {"tableName": "race_migrations"}}}})");
    Database db = open_db(config);
    race_flow(dir, config, "my", db.on("my"), "race_migrations", "CREATE TABLE side_effects (migration VARCHAR(10))",
              "DO SLEEP(0.2)");
}
