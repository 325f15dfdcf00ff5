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
    auto n = parse_migration_file_name("20260101000000_create_users.sql");
    REQUIRE(n);
    CHECK(n->id == "20260101000000");
    CHECK(n->name == "create_users");
    CHECK(parse_migration_file_name("20260101000000_add-index.sql")->name == "add-index");
    CHECK_FALSE(parse_migration_file_name("2026010100000_short.sql"));   // 13 digits
    CHECK_FALSE(parse_migration_file_name("20260101000000create.sql"));  // no '_'
    CHECK_FALSE(parse_migration_file_name("20260101000000_.sql"));       // no name
    CHECK_FALSE(parse_migration_file_name("20260101000000_a b.sql"));    // space
    CHECK_FALSE(parse_migration_file_name("20260101000000_users.SQL"));
    CHECK_FALSE(parse_migration_file_name("2026010100000x_users.sql"));
    CHECK(parse_migration_id("20260101000000_sync_users")->name == "sync_users");
    CHECK_FALSE(parse_migration_id("sync_users"));
    CHECK(valid_migration_name("create_users-2"));
    CHECK_FALSE(valid_migration_name("../evil"));
    CHECK_FALSE(valid_migration_name(""));
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
