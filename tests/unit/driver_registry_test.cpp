// The registry refuses every kind of broken plugin with one line naming the
// file and the fix, and goes on with the others (DESIGN.md ABI rule 11).
#include <catch2/catch.hpp>

#include <ilana/driver.h>
#include <ilana/driver_registry.hpp>
#include <ilana/error.hpp>

#include <string>

using ilana::DriverRegistry;

namespace {
const std::string kFixtures = ILANA_FIXTURE_PLUGIN_DIR;

// Loads one fixture case and returns the refusal reason ("" if loaded).
std::string refusal_of(const std::string &which) {
    DriverRegistry reg;
    reg.load_directory(kFixtures + "/" + which);
    if (reg.refused().empty()) return "";
    REQUIRE(reg.refused().size() == 1);
    REQUIRE(reg.refused()[0].path.find(kFixtures + "/" + which + "/") == 0);
    REQUIRE(reg.drivers().empty());
    return reg.refused()[0].reason;
}
} // namespace

TEST_CASE("a valid plain-C driver loads and serves its client", "[registry]") {
    DriverRegistry reg;
    reg.load_directory(kFixtures + "/valid");
    REQUIRE(reg.refused().empty());
    REQUIRE(reg.drivers().size() == 1);
    const auto &d = reg.drivers()[0];
    CHECK(d.id == "org.ilana.test.fixture");
    CHECK(d.clients == std::vector<std::string>{"fixture"});
    CHECK(d.abi_major == 1);
    CHECK(d.path == kFixtures + "/valid/valid.so");
    CHECK(reg.find("fixture") != nullptr);
    CHECK(reg.find("FIXTURE") != nullptr); // client names are case-insensitive
    CHECK(reg.find("other") == nullptr);
}

TEST_CASE("registry refusals name the problem and the fix", "[registry]") {
    SECTION("not a shared object") {
        auto r = refusal_of("not_elf");
        CHECK(r.find("not a shared object") != std::string::npos);
        CHECK(r.find("remove it") != std::string::npos);
    }
    SECTION("no entry symbol") {
        auto r = refusal_of("no_entry");
        CHECK(r.find("no 'ilana_entry' symbol") != std::string::npos);
        CHECK(r.find("ILANA_DRIVER_EXPORT") != std::string::npos);
    }
    SECTION("wrong magic") {
        auto r = refusal_of("wrong_magic");
        CHECK(r.find("wrong magic") != std::string::npos);
    }
    SECTION("ABI major it does not speak") {
        auto r = refusal_of("abi_v2");
        // (The fixture keeps the current minor version.)
        CHECK(r.find("built for driver ABI v2." + std::to_string(ILANA_ABI_MINOR) + ", this ilana speaks v1") !=
              std::string::npos);
        CHECK(r.find("rebuild the driver") != std::string::npos);
    }
    SECTION("struct_size too small") {
        auto r = refusal_of("small_descriptor");
        CHECK(r.find("descriptor struct_size 8 is smaller than ABI v1.0's") != std::string::npos);
    }
    SECTION("init fails") {
        auto r = refusal_of("init_fails");
        CHECK(r.find("init failed: fixture init refuses to start") != std::string::npos);
    }
    SECTION("descriptor missing a mandatory field") {
        auto r = refusal_of("no_clients");
        CHECK(r.find("declares no client names") != std::string::npos);
    }
    SECTION("missing mandatory function") {
        auto r = refusal_of("no_execute");
        CHECK(r.find("api function 'execute' is NULL; it is mandatory") != std::string::npos);
    }
    SECTION("a malformed ilana.params/1 table") {
        auto r = refusal_of("bad_params");
        CHECK(r.find("its ilana.params/1 table, entry 1 ('mode'): an enum without allowed values") !=
              std::string::npos);
        CHECK(r.find("fix the driver's declarations") != std::string::npos);
    }
}

TEST_CASE("one bad plugin does not stop the others", "[registry]") {
    DriverRegistry reg;
    for (const char *dir : {"not_elf", "wrong_magic", "valid", "abi_v2"}) reg.load_directory(kFixtures + "/" + dir);
    CHECK(reg.drivers().size() == 1);
    CHECK(reg.refused().size() == 3);
    CHECK(reg.find("fixture") != nullptr);
}

TEST_CASE("two plugins claiming one client: the first in search order wins", "[registry]") {
    DriverRegistry reg;
    reg.load_directory(ILANA_TEST_PLUGIN_DIR);           // the real SQLite driver serves "sqlite"
    reg.load_directory(kFixtures + "/claims_sqlite");   // claims "sqlite" too
    auto real = reg.find("sqlite");
    REQUIRE(real != nullptr);
    bool found = false;
    for (const auto &d : reg.drivers())
        if (d.id == "org.ilana.sqlite") {
            CHECK(d.path.find(ILANA_TEST_PLUGIN_DIR) == 0);
            found = true;
        }
    CHECK(found);
    REQUIRE(!reg.conflicts().empty());
    const std::string &c = reg.conflicts().back();
    CHECK(c.find("client 'sqlite' of " + kFixtures + "/claims_sqlite/claims_sqlite.so is already served by") !=
          std::string::npos);
    CHECK(c.find("the first one wins") != std::string::npos);
}

TEST_CASE("an unknown client lists the clients available and the directories searched", "[registry]") {
    DriverRegistry reg;
    reg.load_directory(kFixtures + "/valid");
    try {
        reg.require("oracle", "ilana.config.json: /connections/main/client");
        FAIL("require did not throw");
    } catch (const ilana::ConfigError &e) {
        std::string m = e.what();
        CHECK(m.find("unknown client 'oracle'") != std::string::npos);
        CHECK(m.find("available clients: fixture") != std::string::npos);
        CHECK(m.find("plugin directories searched: " + kFixtures + "/valid") != std::string::npos);
        CHECK(m.find("/connections/main/client") != std::string::npos);
    }
}

TEST_CASE("the search path puts config paths first, then ILANA_PLUGIN_PATH, then beside the binary", "[registry]") {
    setenv("ILANA_PLUGIN_PATH", "/tmp/ilana-a:/tmp/ilana-b", 1);
    auto dirs = DriverRegistry::search_path({"/opt/from-config"});
    unsetenv("ILANA_PLUGIN_PATH");
    REQUIRE(dirs.size() >= 4);
    CHECK(dirs[0] == "/opt/from-config");
    CHECK(dirs[1] == "/tmp/ilana-a");
    CHECK(dirs[2] == "/tmp/ilana-b");
    CHECK(dirs[3].size() > std::string("/plugins").size());
    CHECK(dirs[3].substr(dirs[3].size() - 8) == "/plugins");
}
