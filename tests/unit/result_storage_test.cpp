// ilana::Result as the core fills it: cells and text bytes copied out of a
// driver's batches, views that stay valid across moves, and the per-thread
// reuse of a destroyed Result's storage (which must never leak one Result's
// rows, columns or bytes into the next).
#include <catch2/catch.hpp>

#include <ilana/result.hpp>

#include <cstring>
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

namespace {
// A cell of each kind a Result copies or keeps: an integer, a text (maybe
// empty), a blob with NUL bytes inside, a NULL text and a double, for row r.
std::string blob_of(int64_t r) { return std::string("\0b\0", 3) + std::to_string(r); }
std::string text_of(int64_t r) { return r % 7 == 0 ? std::string() : "name_" + std::to_string(r); }

struct MixedBatch {
    std::vector<ilana_value> cells;
    std::vector<std::string> owned; // the driver's bytes, scribbled after the append
    MixedBatch(int64_t first, size_t rows) {
        owned.reserve(rows * 2);
        for (size_t i = 0; i < rows; ++i) {
            const int64_t r = first + static_cast<int64_t>(i);
            owned.push_back(text_of(r));
            const std::string &t = owned.back();
            owned.push_back(blob_of(r));
            const std::string &b = owned.back();
            ilana_value c[5] = {};
            c[0].type = ILANA_TYPE_INT64;
            c[0].v.i64 = r;
            c[1].type = ILANA_TYPE_TEXT;
            c[1].v.str.ptr = t.data();
            c[1].v.str.len = t.size();
            c[2].type = ILANA_TYPE_BLOB;
            c[2].v.str.ptr = b.data();
            c[2].v.str.len = b.size();
            c[3].type = ILANA_TYPE_TEXT;
            c[3].is_null = 1;
            c[3].v.str.ptr = "not read: the cell is NULL"; // a NULL's bytes are not the Result's
            c[3].v.str.len = 26;
            c[4].type = ILANA_TYPE_DOUBLE;
            c[4].v.f64 = static_cast<double>(r) * 0.5;
            cells.insert(cells.end(), c, c + 5);
        }
    }
    void scribble() {
        for (auto &s : owned) s.assign(s.size(), '#');
    }
};

void check_mixed(const ilana::Result &r, int64_t first, size_t count) {
    REQUIRE(r.size() == count);
    for (size_t i = 0; i < count; ++i) {
        const int64_t id = first + static_cast<int64_t>(i);
        ilana::Row row = r[i];
        REQUIRE(row[0].as<int64_t>() == id);
        REQUIRE(row[1].as<std::string>() == text_of(id));
        REQUIRE(std::string(row[2].as<std::string_view>()) == blob_of(id));
        REQUIRE(row[3].is_null());
        REQUIRE(row[4].as<double>() == static_cast<double>(id) * 0.5);
    }
}
} // namespace

TEST_CASE("result: cells across chunk boundaries, batches of every size", "[result]") {
    auto set = columns({"id", "t", "b", "n", "d"});
    // 5 columns x 24 bytes: 512 rows a chunk. Batches of 1, 511, 2, 1024,
    // 1500 rows start and end inside, at and across chunk boundaries.
    ilana::Result r;
    r.set_columns(set);
    int64_t next = 0;
    for (size_t rows : {size_t{1}, size_t{511}, size_t{2}, size_t{1024}, size_t{1500}, size_t{0}, size_t{3}}) {
        MixedBatch batch(next, rows);
        r.append(batch.cells.data(), rows, sizeof(ilana_value));
        batch.scribble(); // the driver reuses its buffers
        next += static_cast<int64_t>(rows);
    }
    check_mixed(r, 0, static_cast<size_t>(next));
    // Views taken before a move still read the same rows afterwards.
    ilana::Row last = r[static_cast<size_t>(next) - 1];
    ilana::Result moved = std::move(r);
    CHECK(r.size() == 0);
    CHECK(last[1].as<std::string>() == text_of(next - 1));
    check_mixed(moved, 0, static_cast<size_t>(next));
    // Rows a range-for sees are the rows by index.
    size_t seen = 0;
    for (ilana::Row row : moved) CHECK(row[0].as<int64_t>() == static_cast<int64_t>(seen++));
    CHECK(seen == moved.size());
}

TEST_CASE("result: a driver with a larger value stride, across chunks", "[result]") {
    auto set = columns({"id", "t", "b", "n", "d"});
    MixedBatch batch(100, 1300);
    // The same cells 8 bytes apart more than this ilana's ilana_value.
    const size_t stride = sizeof(ilana_value) + 8;
    std::vector<char> wide(batch.cells.size() * stride, '\x55');
    for (size_t k = 0; k < batch.cells.size(); ++k) std::memcpy(&wide[k * stride], &batch.cells[k], sizeof(ilana_value));
    ilana::Result r;
    r.set_columns(set);
    r.append(reinterpret_cast<const ilana_value *>(wide.data()), 1300, stride);
    batch.scribble();
    check_mixed(r, 100, 1300);
}

TEST_CASE("result: many columns (a chunk of one row) and no rows", "[result]") {
    std::vector<std::string> names;
    for (int c = 0; c < 3000; ++c) names.push_back("c" + std::to_string(c)); // 72 KB a row
    auto wide = columns(names);
    std::vector<ilana_value> row(3000);
    std::vector<std::string> text(3000);
    ilana::Result r;
    r.set_columns(wide);
    for (int64_t k = 0; k < 3; ++k) {
        for (size_t c = 0; c < 3000; ++c) {
            text[c] = std::to_string(k) + ":" + std::to_string(c);
            row[c] = ilana_value{};
            row[c].type = ILANA_TYPE_TEXT;
            row[c].v.str.ptr = text[c].data();
            row[c].v.str.len = text[c].size();
        }
        r.append(row.data(), 1, sizeof(ilana_value));
        for (auto &t : text) t.assign(t.size(), '#');
    }
    REQUIRE(r.size() == 3);
    for (size_t k = 0; k < 3; ++k)
        for (size_t c : {size_t{0}, size_t{1499}, size_t{2999}})
            CHECK(r[k][c].as<std::string>() == std::to_string(k) + ":" + std::to_string(c));
    CHECK(r[2]["c2999"].as<std::string>() == "2:2999");

    ilana::Result empty;
    empty.set_columns(wide);
    CHECK(empty.empty());
    CHECK(empty.begin() == empty.end());
    CHECK(empty.columns().size() == 3000);
    CHECK_THROWS(empty.front());
}

TEST_CASE("result: a small result after a big one on the same thread", "[result]") {
    auto set = columns({"id", "t", "b", "n", "d"});
    {
        ilana::Result big;
        big.set_columns(set);
        MixedBatch batch(0, 5000);
        big.append(batch.cells.data(), 5000, sizeof(ilana_value));
        batch.scribble();
        check_mixed(big, 0, 5000);
    } // its storage: kept (first chunk only) or freed
    for (int64_t i = 0; i < 6; ++i) {
        ilana::Result small;
        small.set_columns(set);
        MixedBatch batch(i, 1);
        small.append(batch.cells.data(), 1, sizeof(ilana_value));
        batch.scribble();
        check_mixed(small, i, 1);
    }
}
