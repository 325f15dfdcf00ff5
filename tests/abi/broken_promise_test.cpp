// broken_promise_test.cpp — a driver that breaks ABI 1.1's columns_id
// promise (one id for every description) and sends a batch wider than its
// description (broken_promise_driver.c): the host checks the column count
// before trusting the id, and fails the wide batch with an error naming the
// driver bug instead of reading it with the wrong stride.
#include <catch2/catch.hpp>

#include <ilana/ilana.hpp>

#include "temp_dir.hpp"

#include <string>

namespace {
ilana::Database open_liar(const ilana_test::TempDir &dir) {
    dir.write("ilana.config.json",
              R"({"connections": {"liar": {"client": "liar", "connection": {}, "pool": {"max": 1}}}})");
    return ilana::Database::open(dir.file("ilana.config.json"),
                                 ilana::OpenOptions{"", {ILANA_ABI_LIAR_PLUGIN_DIR}, {}});
}
} // namespace

TEST_CASE("a repeated columns_id with another column count is not trusted", "[abi]") {
    ilana_test::TempDir dir;
    ilana::Database db = open_liar(dir);
    auto liar = db.on("liar");
    for (int round = 0; round < 2; ++round) {
        ilana::Result one = liar.query("one");
        REQUIRE(one.columns().size() == 1);
        CHECK(one[0]["answer"].as<int64_t>() == 42);
        ilana::Result two = liar.query("two"); // same id 7, two columns now
        REQUIRE(two.columns().size() == 2);
        CHECK(two[0]["sql"].as<std::string>() == "two");
    }
}

TEST_CASE("a batch wider than its result's description is a clear error", "[abi]") {
    ilana_test::TempDir dir;
    ilana::Database db = open_liar(dir);
    auto liar = db.on("liar");
    CHECK_THROWS_WITH(liar.query("mismatch"), Catch::Contains("[liar] driver bug") &&
                                                  Catch::Contains("rows of 2 column(s)") &&
                                                  Catch::Contains("described with 1"));
    CHECK_THROWS_WITH(liar.stream("mismatch", {}, [](const ilana::Row &) {}),
                      Catch::Contains("driver bug"));
    // The session was handed back and works.
    CHECK(liar.query("one")[0]["answer"].as<int>() == 42);
}
