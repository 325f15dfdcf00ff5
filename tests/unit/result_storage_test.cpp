// ilana::Result as the core fills it: cells and text bytes copied out of a
// driver's batches, views that stay valid across moves, and the per-thread
// reuse of a destroyed Result's storage (which must never leak one Result's
// rows, columns or bytes into the next).
#include <catch2/catch.hpp>

#include <ilana/result.hpp>

#include <memory>
#include <string>
#include <thread>
#include <vector>

namespace {

std::shared_ptr<const ilana::ColumnSet> columns(std::vector<std::string> names) {
    std::vector<ilana::Column> cols;
    for (auto &n : names) {
        ilana::Column c;
        c.name = n;
        cols.push_back(c);
    }
    return ilana::ColumnSet::make(std::move(cols));
}

// A driver-style batch of (int, text) rows whose text lives in `bytes`,
// which the caller overwrites afterwards (as a driver reuses its buffers).
struct Batch {
    std::vector<ilana_value> cells;
    std::string bytes;
    Batch(int64_t first, size_t rows, size_t text_len) {
        bytes.reserve(rows * text_len);
        for (size_t r = 0; r < rows; ++r) bytes += std::string(text_len, static_cast<char>('a' + (first + r) % 26));
        for (size_t r = 0; r < rows; ++r) {
            ilana_value id{};
            id.type = ILANA_TYPE_INT64;
            id.v.i64 = first + static_cast<int64_t>(r);
            ilana_value t{};
            t.type = ILANA_TYPE_TEXT;
            t.v.str.ptr = bytes.data() + r * text_len;
            t.v.str.len = text_len;
            cells.push_back(id);
            cells.push_back(t);
        }
    }
    void scribble() { bytes.assign(bytes.size(), '#'); }
};

ilana::Result make_result(const std::shared_ptr<const ilana::ColumnSet> &set, int64_t first, size_t batches,
                          size_t rows, size_t text_len) {
    ilana::Result r;
    r.set_counts(-1, 0);
    r.set_columns(set);
    for (size_t b = 0; b < batches; ++b) {
        Batch batch(first + static_cast<int64_t>(b * rows), rows, text_len);
        r.append(batch.cells.data(), rows, sizeof(ilana_value));
        batch.scribble(); // the Result must have its own copy
    }
    return r;
}

void check_rows(const ilana::Result &r, int64_t first, size_t count, size_t text_len) {
    REQUIRE(r.size() == count);
    for (size_t i = 0; i < count; ++i) {
        const int64_t id = first + static_cast<int64_t>(i);
        CHECK(r[i][0].as<int64_t>() == id);
        CHECK(r[i]["t"].as<std::string>() == std::string(text_len, static_cast<char>('a' + id % 26)));
    }
}

} // namespace

TEST_CASE("result: rows copied out of batches stay valid across moves", "[result]") {
    auto set = columns({"id", "t"});
    ilana::Result r = make_result(set, 0, 5, 300, 40); // several arena blocks
    check_rows(r, 0, 1500, 40);
    ilana::Row first = r.front();
    ilana::Result moved = std::move(r);
    CHECK(r.empty());
    CHECK(r.columns().empty());
    CHECK(first[1].as<std::string>() == std::string(40, 'a')); // the view survived the move
    check_rows(moved, 0, 1500, 40);
    ilana::Result assigned = make_result(set, 7, 1, 1, 3);
    assigned = std::move(moved);
    check_rows(assigned, 0, 1500, 40);
}

TEST_CASE("result: a reused storage carries nothing over", "[result]") {
    auto ab = columns({"id", "t"});
    auto other = columns({"n", "t"});
    // Small results in a loop reuse the storage of the one before.
    for (int64_t i = 0; i < 50; ++i) {
        ilana::Result r = make_result(i % 2 ? ab : other, i * 10, 1, 3, static_cast<size_t>(i % 5));
        REQUIRE(r.size() == 3);
        CHECK(r.columns()[0].name == (i % 2 ? "id" : "n"));
        CHECK(r[2][0].as<int64_t>() == i * 10 + 2);
        CHECK(r[2][1].as<std::string>() == std::string(static_cast<size_t>(i % 5), static_cast<char>('a' + (i * 10 + 2) % 26)));
    }
    // A result with columns and no rows after one with rows.
    { ilana::Result big = make_result(ab, 0, 1, 100, 10); }
    ilana::Result none = make_result(ab, 0, 0, 0, 0);
    CHECK(none.empty());
    CHECK(none.columns().size() == 2);
    CHECK(none.begin() == none.end());
    // Several alive at once, more than the spare list keeps, then a big one.
    {
        std::vector<ilana::Result> many;
        for (int64_t i = 0; i < 10; ++i) many.push_back(make_result(ab, i, 1, 2, 8));
        for (int64_t i = 0; i < 10; ++i) check_rows(many[static_cast<size_t>(i)], i, 2, 8);
    }
    ilana::Result huge = make_result(ab, 0, 3, 2000, 50); // not kept when destroyed
    check_rows(huge, 0, 6000, 50);
}

TEST_CASE("result: destroyed on another thread than the one that filled it", "[result][threads]") {
    auto set = columns({"id", "t"});
    std::vector<ilana::Result> made;
    for (int64_t i = 0; i < 8; ++i) made.push_back(make_result(set, i * 3, 1, 3, 5));
    std::thread other([&] {
        for (size_t i = 0; i < made.size(); ++i) check_rows(made[i], static_cast<int64_t>(i) * 3, 3, 5);
        made.clear(); // their storage goes to this thread's spare list, freed at its exit
        ilana::Result here = make_result(set, 100, 1, 2, 4);
        check_rows(here, 100, 2, 4);
    });
    other.join();
    ilana::Result after = make_result(set, 1, 1, 4, 6);
    check_rows(after, 1, 4, 6);
}
