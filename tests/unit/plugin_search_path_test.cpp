// Where plugins may come from (issue 17, items 2-3): never a relative
// directory, and every odd *.so entry is listed with its reason.
#include "../fixtures/config/config_test_helpers.hpp"

#include <ilana/config.hpp>
#include <ilana/database.hpp>
#include <ilana/driver_registry.hpp>

#include <sys/stat.h>
#include <unistd.h>

using namespace ilana_config_test;
using Catch::Matchers::Contains;
using ilana::DriverRegistry;

namespace {

const std::string kFixtures = ILANA_FIXTURE_PLUGIN_DIR;

// Runs `fn` with the working directory set to `dir`.
template <typename Fn> void in_directory(const std::string &dir, Fn fn) {
    const auto previous = fs::current_path();
    fs::current_path(dir);
    try {
        fn();
    } catch (...) {
        fs::current_path(previous);
        throw;
    }
    fs::current_path(previous);
}

std::string reason_for(const DriverRegistry &reg, const std::string &path) {
    for (const auto &r : reg.refused())
        if (r.path == path) return r.reason;
    return "(not refused)";
}

} // namespace

TEST_CASE("plugins: a relative ILANA_PLUGIN_PATH entry is refused, never loaded from the current directory",
          "[registry][plugins]") {
    TempDir cwd;
    fs::copy_file(kFixtures + "/valid/valid.so", cwd.path() / "planted.so");
    for (const char *value : {".", "./", "plugins-here", ".:" , "sub/../."}) {
        EnvGuard env{{"ILANA_PLUGIN_PATH", value}};
        in_directory(cwd.str(), [&] {
            DriverRegistry reg;
            reg.load_search_path();
            CHECK(reg.find("fixture") == nullptr); // the planted driver did not run
            bool refused = false;
            for (const auto &r : reg.refused())
                if (r.reason.find("relative plugin directory (from ILANA_PLUGIN_PATH) refused") != std::string::npos)
                    refused = true;
            CHECK(refused);
            for (const auto &d : reg.searched_directories()) CHECK(fs::path(d).is_absolute());
        });
    }
    // search_path() lists absolute directories only.
    EnvGuard env{{"ILANA_PLUGIN_PATH", ".:/opt/abs"}};
    for (const auto &d : DriverRegistry::search_path({"rel"})) CHECK(fs::path(d).is_absolute());
}

TEST_CASE("plugins: relative directories from the API and a file-less config are refused", "[registry][plugins]") {
    DriverRegistry reg;
    reg.load_search_path({"relative/dir"});
    CHECK_THAT(reason_for(reg, "relative/dir"), Contains("relative plugin directory") && Contains("absolute path"));
    CHECK_FALSE(reg.load_file("valid.so"));
    CHECK_THAT(reason_for(reg, "valid.so"), Contains("relative plugin path refused"));

    // OpenOptions::plugin_paths: an error at open.
    const auto cfg = parse(R"({"connections": {"db": {"client": "sqlite3", "connection": {"filename": ":memory:"}}}})");
    ilana::OpenOptions options;
    options.plugin_paths = {"."};
    CHECK_THROWS_WITH(ilana::Database::open(cfg, options),
                      Contains("OpenOptions::plugin_paths: relative plugin directory '.' refused"));

    // The config's plugins.paths: relative to the config file's folder when
    // there is one; refused with its JSON path when there is none.
    CHECK_THAT(parse_error(R"({"connections": {"db": {"client": "pg"}}, "plugins": {"paths": ["/abs", "."]}})"),
               Contains("test.json: /plugins/paths/1: relative plugin directory '.' refused"));
    TempDir dir;
    const auto with_file = parse(R"({"connections": {"db": {"client": "pg"}}, "plugins": {"paths": ["."]}})", {},
                                 dir.str());
    CHECK(with_file.plugin_paths() == std::vector<std::string>{dir.str()});
}

TEST_CASE("plugins: odd *.so entries and missing directories are refused with a reason", "[registry][plugins]") {
    TempDir dir;
    const std::string d = dir.str();
    fs::copy_file(kFixtures + "/valid/valid.so", dir.path() / "good.so");
    fs::create_directory(dir.path() / "dir.so");
    fs::create_symlink(dir.path() / "missing-target.so", dir.path() / "dangling.so");
    fs::create_symlink(dir.path() / "loop-b.so", dir.path() / "loop-a.so");
    fs::create_symlink(dir.path() / "loop-a.so", dir.path() / "loop-b.so");
    REQUIRE(::mkfifo((d + "/fifo.so").c_str(), 0600) == 0);
    dir.write("notes.txt", "not a plugin, not listed");

    DriverRegistry reg;
    reg.load_directory(d);
    REQUIRE(reg.drivers().size() == 1);
    CHECK_THAT(reason_for(reg, d + "/dir.so"), Contains("a directory, not a shared object"));
    CHECK_THAT(reason_for(reg, d + "/dangling.so"), Contains("a symbolic link to a missing file"));
    CHECK_THAT(reason_for(reg, d + "/loop-a.so"), Contains("a symbolic link loop"));
    CHECK_THAT(reason_for(reg, d + "/loop-b.so"), Contains("a symbolic link loop"));
    CHECK_THAT(reason_for(reg, d + "/fifo.so"), Contains("not a regular file"));
    CHECK(reason_for(reg, d + "/notes.txt") == "(not refused)");
    CHECK(reg.refused().size() == 5);

    // A directory the user named that does not exist, or is a file, is
    // reported; the defaults beside the binary (one usually missing) are not.
    EnvGuard env{{"ILANA_PLUGIN_PATH", (d + "/no-such-dir:" + d + "/notes.txt").c_str()}};
    DriverRegistry search;
    search.load_search_path({d + "/also-missing"});
    CHECK_THAT(reason_for(search, d + "/also-missing"), Contains("plugin directory does not exist"));
    CHECK_THAT(reason_for(search, d + "/no-such-dir"), Contains("plugin directory does not exist"));
    CHECK_THAT(reason_for(search, d + "/notes.txt"), Contains("is not a directory"));
    CHECK(search.refused().size() == 3);
}
