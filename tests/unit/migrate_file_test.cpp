// Migration files: names, section markers, checksums (SHA-256).
#include <catch2/catch.hpp>

#include "migrate/migration_file.hpp"
#include "migrate/sha256.hpp"

#include <string>

using namespace ilana::detail;

TEST_CASE("SHA-256 matches the FIPS 180-4 vectors and block boundaries", "[migrate][sha256]") {
    CHECK(sha256_hex("") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    CHECK(sha256_hex("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    CHECK(sha256_hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq") ==
          "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
    CHECK(sha256_hex(std::string(1000000, 'a')) == "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
    // Lengths around the padding boundary (55/56 bytes) and block edges.
    CHECK(sha256_hex(std::string(55, 'x')) == "d5e285683cd4efc02d021a5c62014694958901005d6f71e89e0989fac77e4072");
    CHECK(sha256_hex(std::string(56, 'x')) == "04c26261370ee7541549d16dee320c723e3fd14671e66a099afe0a377c16888e");
    CHECK(sha256_hex(std::string(63, 'x')) == "75220b47218278e656f2013bb8f0c455a25eaf01e86c64924e9d48d89776d6f2");
    CHECK(sha256_hex(std::string(64, 'x')) == "7ce100971f64e7001e8fe5a51973ecdfe1ced42befe7ee8d5fd6219506b5393c");
    CHECK(sha256_hex(std::string(65, 'x')) == "9537c5fdf120482f7d58d25e9ed583f52c02b4e304ea814db1633ad565aed7e9");
    CHECK(sha256_hex(std::string(119, 'x')) == "000b48d4edf0fa7bee3c6236ecd2785baa5db4eeb8bb54341b029e0d9fa5fb0c");
    CHECK(sha256_hex(std::string(120, 'x')) == "13f05a0b594787f5ecd315edc96141bd3243203d1b7d4f0836f37308b276ba98");
}

TEST_CASE("migration file names and code migration ids", "[migrate][file]") {
    auto is_migration = [](const char *n) { return classify_migration_file_name(n).kind == FileNameKind::migration; };
    const ClassifiedFileName n = classify_migration_file_name("20260101000000_create_users.sql");
    REQUIRE(n.kind == FileNameKind::migration);
    CHECK(n.migration.id == "20260101000000");
    CHECK(n.migration.name == "create_users");
    CHECK(classify_migration_file_name("20260101000000_add-index.sql").migration.name == "add-index");
    CHECK_FALSE(is_migration("2026010100000_short.sql"));   // 13 digits
    CHECK_FALSE(is_migration("20260101000000create.sql"));  // no '_'
    CHECK_FALSE(is_migration("20260101000000_.sql"));       // no name
    CHECK_FALSE(is_migration("20260101000000_a b.sql"));    // space
    CHECK_FALSE(is_migration("20260101000000_users.SQL"));
    CHECK_FALSE(is_migration("2026010100000x_users.sql"));
    CHECK_FALSE(is_migration("20261301000000_users.sql")); // month 13
    CHECK(parse_migration_id("20260101000000_sync_users")->name == "sync_users");
    CHECK_FALSE(parse_migration_id("sync_users"));
    CHECK(valid_migration_name("create_users-2"));
    CHECK_FALSE(valid_migration_name("../evil"));
    CHECK_FALSE(valid_migration_name(""));
}

TEST_CASE("the whole timestamp of a migration id is a UTC date and time", "[migrate][file]") {
    CHECK(parse_migration_id("20240229235959_leap_day"));   // 2024 is a leap year
    CHECK(parse_migration_id("20001231000000_y2k"));
    CHECK(parse_migration_id("20260131000000_january_31"));
    CHECK(migration_id_problem("20260101000000_ok").empty());
    CHECK(migration_id_problem("20261301000000_x") == "its timestamp 20261301000000 is not a date and time: month 13 is not 01-12");
    CHECK(migration_id_problem("20260001000000_x") == "its timestamp 20260001000000 is not a date and time: month 00 is not 01-12");
    CHECK(migration_id_problem("20260132000000_x") ==
          "its timestamp 20260132000000 is not a date and time: day 32 is not a day of 2026-01 (01-31)");
    CHECK(migration_id_problem("20260100000000_x") ==
          "its timestamp 20260100000000 is not a date and time: day 00 is not a day of 2026-01 (01-31)");
    CHECK(migration_id_problem("20250229000000_x") ==
          "its timestamp 20250229000000 is not a date and time: day 29 is not a day of 2025-02 (01-28)");
    CHECK(migration_id_problem("19000229000000_x") ==
          "its timestamp 19000229000000 is not a date and time: day 29 is not a day of 1900-02 (01-28)");
    CHECK(migration_id_problem("20260431000000_x") ==
          "its timestamp 20260431000000 is not a date and time: day 31 is not a day of 2026-04 (01-30)");
    CHECK(migration_id_problem("20260101250000_x") == "its timestamp 20260101250000 is not a date and time: hour 25 is not 00-23");
    CHECK(migration_id_problem("20260101006000_x") == "its timestamp 20260101006000 is not a date and time: minute 60 is not 00-59");
    CHECK(migration_id_problem("20260101000060_x") == "its timestamp 20260101000060 is not a date and time: second 60 is not 00-59");
    CHECK(migration_id_problem("2026010100000_x") == "its timestamp has 13 digits, not 14 (YYYYMMDDHHMMSS)");
    CHECK(migration_id_problem("202601010000000_x") == "its timestamp has 15 digits, not 14 (YYYYMMDDHHMMSS)");
    CHECK(migration_id_problem("20260101000000") == "it has no _name after the timestamp");
    CHECK(migration_id_problem("20260101000000-x") == "it has no '_' between the timestamp and the name");
    CHECK(migration_id_problem("20260101000000_") == "it has no name after the '_'");
    CHECK(migration_id_problem("sync_users") == "it does not start with a timestamp YYYYMMDDHHMMSS");
    CHECK_FALSE(parse_migration_id("20261301000000_x"));
    CHECK(classify_migration_file_name("20260101250000_x.sql").kind != FileNameKind::migration);
}

TEST_CASE("names in a migrations directory: migration, near miss (error), other (warning)", "[migrate][file]") {
    auto kind = [](const char *n) { return classify_migration_file_name(n).kind; };
    auto problem = [](const char *n) { return classify_migration_file_name(n).problem; };
    CHECK(kind("20260101000000_create_users.sql") == FileNameKind::migration);
    CHECK(classify_migration_file_name("20260101000000_create_users.sql").migration.name == "create_users");

    // Near misses: meant as a migration, would be skipped silently.
    CHECK(kind("20260101000000_users.SQL") == FileNameKind::near_miss);
    CHECK(problem("20260101000000_users.SQL") ==
          "it ends in .SQL, not lower-case .sql; rename it to 20260101000000_users.sql or move it out of the directory");
    CHECK(kind("20260101000000_users.Sql") == FileNameKind::near_miss);
    CHECK(kind("20260101000000_users.sql.txt") == FileNameKind::near_miss);
    CHECK(problem("20260101000000_users.sql.txt") ==
          "it ends in .sql.txt, not .sql; rename it to 20260101000000_users.sql or move it out of the directory");
    CHECK(kind("20260101000000_users.SQL.bak") == FileNameKind::near_miss);
    CHECK(kind("20260101000000_users.txt") == FileNameKind::near_miss);
    CHECK(problem("20260101000000_users.txt") ==
          "it does not end in .sql; rename it to 20260101000000_users.sql or move it out of the directory");
    CHECK(kind("20260101000000_users") == FileNameKind::near_miss);
    for (const char *n : {"20261301000000_x.sql", "20260132000000_x.sql", "20260101250000_x.sql",
                          "2026010100000_short.sql", "20260101000000.sql", "20260101000000_.sql", "20260101000000_a b.sql",
                          "20260101000000create.sql", "create_users.sql", "2026010100000x_users.sql"}) {
        INFO(n);
        CHECK(kind(n) == FileNameKind::near_miss);
        CHECK(problem(n).find("rename it YYYYMMDDHHMMSS_name.sql with a real UTC date and time") != std::string::npos);
    }
    CHECK(problem("20261301000000_x.sql").rfind("its timestamp 20261301000000 is not a date and time: month 13 is not 01-12; ", 0) == 0);
    CHECK(problem("20260101000000.sql").rfind("it has no _name after the timestamp; ", 0) == 0);
    // Both wrong: both said.
    CHECK(problem("20261301000000_x.SQL").rfind("its timestamp 20261301000000 is not a date and time: month 13 is not 01-12; "
                                                "it ends in .SQL, not lower-case .sql; rename it YYYYMMDDHHMMSS",
                                                0) == 0);

    // Other files: not meant as migrations.
    for (const char *n : {"README.md", ".gitkeep", ".20260101000000_x.sql.swp", "notes.txt", "2026_plan.md", "schema.dump",
                          "sql", ".sql"}) {
        INFO(n);
        CHECK(kind(n) == FileNameKind::other);
    }
}

TEST_CASE("sections: up and down, their lines, options", "[migrate][file]") {
    const std::string text = "-- Creates users.\n"
                             "/* a block comment before the markers is fine */\n"
                             "-- migrate:up\n"
                             "CREATE TABLE users (id INT);\n"
                             "\n"
                             "-- migrate:down\n"
                             "DROP TABLE users;\n";
    MigrationText t = parse_migration_text(text, SqlDialect::postgres);
    CHECK(t.up.present);
    CHECK(t.up.transaction);
    CHECK(t.up.first_line == 4);
    CHECK(t.up.sql == "CREATE TABLE users (id INT);\n\n");
    CHECK(t.down.present);
    CHECK(t.down.first_line == 7);
    CHECK(t.down.sql == "DROP TABLE users;\n");

    MigrationText u = parse_migration_text("--  MIGRATE:UP   transaction:false\r\nCREATE INDEX CONCURRENTLY i ON t (a);\r\n",
                                           SqlDialect::postgres);
    CHECK(u.up.present);
    CHECK_FALSE(u.up.transaction);
    CHECK_FALSE(u.down.present);
    CHECK(u.up.sql == "CREATE INDEX CONCURRENTLY i ON t (a);\r\n");

    // Down first is allowed; "-- migrate:upgrade" is not a marker.
    MigrationText d = parse_migration_text("-- migrate:down\nDROP TABLE t;\n-- migrate:up\nCREATE TABLE t (a INT);\n-- migrate:upgrade notes\n",
                                           SqlDialect::generic);
    CHECK(d.up.sql == "CREATE TABLE t (a INT);\n-- migrate:upgrade notes\n");
    CHECK(d.down.sql == "DROP TABLE t;\n");
}

TEST_CASE("malformed migration files are errors that say what is wrong", "[migrate][file]") {
    auto message = [](const std::string &text) {
        try {
            parse_migration_text(text, SqlDialect::generic);
        } catch (const MigrationFileError &e) {
            return std::string(e.what());
        }
        return std::string("no error");
    };
    CHECK(message("CREATE TABLE t (a INT);\n").find("no `-- migrate:up` line") != std::string::npos);
    CHECK(message("CREATE TABLE t (a INT);\n-- migrate:up\nSELECT 1;\n").find("SQL before the first section marker (line 1)") !=
          std::string::npos);
    CHECK(message("-- migrate:up\nSELECT 1;\n-- migrate:down\n-- migrate:up\n").find("a second `-- migrate:up` marker at line 4") !=
          std::string::npos);
    CHECK(message("-- migrate:up transaction:maybe\n").find("unknown option 'transaction:maybe'") != std::string::npos);
}
