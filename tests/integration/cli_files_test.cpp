// Files the CLI reads whole, when they are not files or never end
// (issue 17, item 4): an error naming the file, never a hang or a crash.
#include <catch2/catch.hpp>

#include "temp_dir.hpp"

#include <boost/filesystem.hpp>

#include <sys/stat.h>

using ilana_test::ilana_cli;
using ilana_test::run_command;
using ilana_test::TempDir;

TEST_CASE("ilana --config /dev/zero, a FIFO or a directory: exit 2 naming it, at once", "[cli][limits]") {
    TempDir dir;
    std::string out;
    CHECK(run_command("timeout 20 " + ilana_cli() + " --config /dev/zero drivers", out) == 2);
    CHECK(out.find("config file /dev/zero is a device, not a regular file (name a file)") != std::string::npos);

    const std::string fifo = dir.file("fifo.json");
    REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
    CHECK(run_command("timeout 20 " + ilana_cli() + " --config '" + fifo + "' drivers", out) == 2);
    CHECK(out.find(fifo + " is a FIFO, not a regular file") != std::string::npos);
}

TEST_CASE("ilana migrate: a migration that is a FIFO or a link to /dev/zero is an error naming it", "[cli][limits]") {
    TempDir dir;
    const std::string cfg = dir.write("ilana.config.json", R"({"connections": {"main": {"client": "sqlite3",
        "connection": {"filename": "./app.sqlite"}, "migrations": {"directory": "./migrations"}}}})");
    dir.write("migrations/20260101000000_ok.sql", "-- migrate:up\nCREATE TABLE t (id INTEGER);\n-- migrate:down\nDROP TABLE t;\n");
    const std::string fifo = dir.file("migrations/20260102000000_fifo.sql");
    REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
    std::string out;
    CHECK(run_command("timeout 20 " + ilana_cli() + " --config '" + cfg + "' migrate", out) != 0);
    CHECK(out.find("migration file " + fifo + " is a FIFO, not a regular file") != std::string::npos);

    boost::filesystem::remove(fifo);
    const std::string zero = dir.file("migrations/20260102000000_zero.sql");
    boost::filesystem::create_symlink("/dev/zero", zero);
    CHECK(run_command("timeout 20 " + ilana_cli() + " --config '" + cfg + "' migrate", out) != 0);
    CHECK(out.find("migration file " + zero + " is a device") != std::string::npos);
}
