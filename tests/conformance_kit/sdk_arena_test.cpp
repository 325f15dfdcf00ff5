// sdk_arena_test.cpp — <ilana/sdk/arena.hpp>: the bytes a batch's string
// cells point at stay where they are until the next reset, however many
// blocks a batch fills, and a reset reuses the memory.
#include <catch2/catch.hpp>

#include <ilana/sdk/arena.hpp>

#include <string>
#include <utility>
#include <vector>

using ilana::sdk::ByteArena;

namespace {
std::string value_of(size_t i, size_t len) {
    std::string s(len, '\0');
    for (size_t k = 0; k < len; ++k) s[k] = static_cast<char>('a' + (i + k) % 26);
    return s;
}
} // namespace

TEST_CASE("ByteArena: every value keeps its bytes and place until reset, across blocks", "[sdk]") {
    ByteArena arena;
    CHECK(arena.alloc(0) == nullptr);
    // Sizes that fill the small first block, then several full blocks,
    // with values larger than a block in between.
    const std::vector<size_t> sizes = {1, 7, 3000, 2000, 40000, 30000, ByteArena::kBlockSize + 5, 17, 65000, 1, 200000, 9};
    std::vector<std::pair<const char *, std::string>> written;
    size_t total = 0;
    for (int round = 0; round < 3; ++round) {
        for (size_t i = 0; i < sizes.size(); ++i) {
            const std::string v = value_of(i + round, sizes[i]);
            const char *p = arena.copy(v.data(), v.size());
            written.emplace_back(p, v);
            total += v.size();
        }
    }
    CHECK(arena.used() == total);
    for (const auto &[p, v] : written) REQUIRE(std::string(p, v.size()) == v);

    // A reset keeps the ordinary blocks: the next batch writes where the
    // first one started, with nothing allocated.
    const char *first = written.front().first;
    arena.reset();
    CHECK(arena.used() == 0);
    const char *again = arena.copy("x", 1);
    CHECK(again == first);
    // And values written after the reset are intact too.
    std::vector<std::pair<const char *, std::string>> second;
    for (size_t i = 0; i < 5000; ++i) {
        const std::string v = value_of(i, 1 + i % 97);
        second.emplace_back(arena.copy(v.data(), v.size()), v);
    }
    for (const auto &[p, v] : second) REQUIRE(std::string(p, v.size()) == v);
}
