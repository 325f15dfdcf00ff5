// `ilana drivers` as a user runs it from a directory holding a planted
// *.so, and over a plugin directory with odd entries (issue 17, items 2-3).
#include <catch2/catch.hpp>

#include "temp_dir.hpp"

#include <boost/filesystem.hpp>

#include <sys/stat.h>

using ilana_test::ilana_cli;
using ilana_test::run_command;
using ilana_test::TempDir;
namespace bfs = boost::filesystem;

TEST_CASE("ilana drivers: a relative ILANA_PLUGIN_PATH is refused and its *.so never runs", "[cli][plugins]") {
    TempDir cwd;
    // A real driver planted in the working directory.
    bfs::copy_file(std::string(ILANA_TEST_BINARY_DIR) + "/plugins/ilana_sqlite.so", cwd.file("planted.so"));
    std::string out;
    for (const std::string value : {".", "./", "sub/.."}) {
        REQUIRE(run_command("cd '" + cwd.path() + "' && ILANA_PLUGIN_PATH='" + value + "' " + ilana_cli() +
                                " drivers --json",
                            out) == 0);
        INFO(out);
        CHECK(out.find("planted.so") == std::string::npos);
        CHECK(out.find("{\"path\":\"" + value + "\",\"reason\":\"relative plugin directory (from ILANA_PLUGIN_PATH) "
                       "refused") != std::string::npos);
    }
    REQUIRE(run_command("cd '" + cwd.path() + "' && ILANA_PLUGIN_PATH=. " + ilana_cli() + " drivers", out) == 0);
    CHECK(out.find("refused: .: relative plugin directory (from ILANA_PLUGIN_PATH) refused") != std::string::npos);
    CHECK(out.find("planted.so") == std::string::npos);
}

TEST_CASE("ilana drivers: odd *.so entries and a missing directory are listed with their reason", "[cli][plugins]") {
    TempDir dir;
    const std::string d = dir.path();
    bfs::create_directory(dir.file("dir.so"));
    bfs::create_symlink(dir.file("missing.so"), dir.file("dangling.so"));
    bfs::create_symlink(dir.file("loop2.so"), dir.file("loop1.so"));
    bfs::create_symlink(dir.file("loop1.so"), dir.file("loop2.so"));
    REQUIRE(::mkfifo(dir.file("fifo.so").c_str(), 0600) == 0);
    const std::string env = "ILANA_PLUGIN_PATH='" + d + ":" + d + "/no-such-dir' ";
    std::string out;
    REQUIRE(run_command(env + ilana_cli() + " drivers", out) == 0);
    INFO(out);
    CHECK(out.find("refused: " + d + "/dir.so: a directory, not a shared object") != std::string::npos);
    CHECK(out.find("refused: " + d + "/dangling.so: a symbolic link to a missing file") != std::string::npos);
    CHECK(out.find("refused: " + d + "/loop1.so: a symbolic link loop") != std::string::npos);
    CHECK(out.find("refused: " + d + "/loop2.so: a symbolic link loop") != std::string::npos);
    CHECK(out.find("refused: " + d + "/fifo.so: not a regular file") != std::string::npos);
    CHECK(out.find("refused: " + d + "/no-such-dir: plugin directory does not exist") != std::string::npos);
    // The drivers beside the binary still load.
    CHECK(out.find("sqlite") != std::string::npos);

    REQUIRE(run_command(env + ilana_cli() + " drivers --json", out) == 0);
    CHECK(out.find("{\"path\":\"" + d + "/dir.so\",\"reason\":\"a directory, not a shared object") != std::string::npos);
    CHECK(out.find("{\"path\":\"" + d + "/loop1.so\",\"reason\":\"a symbolic link loop") != std::string::npos);
}
