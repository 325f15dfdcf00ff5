// ilana/result.hpp — rows returned by a query.
//
// A Result owns its rows: cells are stored in one contiguous array and the
// bytes of text/blob cells in an arena that never moves, so Row and Field
// views stay valid for the life of the Result (and only that long).
//
//   ilana::Result r = db.on("analytics").query("SELECT id, name FROM t");
//   for (ilana::Row row : r) {
//       int64_t id = row["id"].as<int64_t>();
//       std::optional<std::string> name = row.get<std::optional<std::string>>(1);
//   }
//
// Thread safety: a Result is a value; concurrent reads are safe.
#pragma once

#include <ilana/value.hpp>

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace ilana {

struct Column {
    std::string name;
    Type type = Type::any;      // Type::any: each cell carries its own type
    std::string native_type;    // the server's spelling: "int4", "VARCHAR"
    int nullable = -1;          // 1, 0, or -1 unknown
};

class Result;

// A view of one row. Cheap to copy; valid while its Result (or streaming
// batch) lives.
class Row {
public:
    Row(const ilana_value *cells, const std::vector<Column> *columns,
        const std::vector<const char *> *names) noexcept
        : cells_(cells), columns_(columns), names_(names) {}

    size_t size() const noexcept { return columns_->size(); }
    // By position; throws std::out_of_range naming the position and width.
    Field operator[](size_t index) const {
        // names_ has one entry per column (a cheaper size than columns_').
        if (index >= names_->size()) out_of_range(index);
        return Field(cells_ + index, (*names_)[index]);
    }
    // By column name (exact match); throws Error naming the columns there are.
    Field operator[](std::string_view name) const;
    Field operator[](const char *name) const { return (*this)[std::string_view(name)]; }
    // (int overload: row[0] would otherwise be ambiguous with const char*.)
    Field operator[](int index) const { return (*this)[static_cast<size_t>(index)]; }
    template <class T> T get(size_t index) const { return (*this)[index].template as<T>(); }
    template <class T> T get(std::string_view name) const { return (*this)[name].template as<T>(); }
    const std::vector<Column> &columns() const noexcept { return *columns_; }
    // Column position of `name`, or -1.
    int index_of(std::string_view name) const noexcept;

private:
    [[noreturn]] void out_of_range(size_t index) const;

    const ilana_value *cells_;
    const std::vector<Column> *columns_;
    const std::vector<const char *> *names_;
};

// The column descriptions of one result shape. Immutable once built and
// shared: every Result of the same statement shape points at one set, so a
// query that returns the columns it returned last time builds no strings.
struct ColumnSet {
    std::vector<Column> columns;
    std::vector<const char *> names; // columns[i].name.c_str(), for Field

    static std::shared_ptr<const ColumnSet> make(std::vector<Column> columns);
    ColumnSet() = default;
    ColumnSet(const ColumnSet &) = delete; // names point into columns
    ColumnSet &operator=(const ColumnSet &) = delete;
};

class Result {
public:
    Result() = default;
    Result(Result &&) noexcept = default;
    Result &operator=(Result &&) noexcept = default;
    Result(const Result &) = delete; // views point into it: move, don't copy
    Result &operator=(const Result &) = delete;
    // Hands its cell array and a small arena block to a per-thread spare
    // list, so the next Result on this thread allocates nothing.
    ~Result();

    size_t size() const noexcept { return ncols_ == 0 ? 0 : cells_.size() / ncols_; }
    bool empty() const noexcept { return size() == 0; }
    const std::vector<Column> &columns() const noexcept;
    int64_t affected_rows() const noexcept { return affected_rows_; }
    int64_t last_insert_id() const noexcept { return last_insert_id_; }

    Row operator[](size_t i) const noexcept {
        return Row(cells_.data() + i * ncols_, &columns_->columns, &columns_->names);
    }
    Row at(size_t i) const; // range-checked
    Row front() const;

    class iterator {
    public:
        using value_type = Row;
        using difference_type = std::ptrdiff_t;
        using iterator_category = std::forward_iterator_tag;
        using pointer = void;
        using reference = Row;
        iterator(const Result *r, size_t i) : r_(r), i_(i) {}
        Row operator*() const { return (*r_)[i_]; }
        iterator &operator++() { ++i_; return *this; }
        iterator operator++(int) { auto t = *this; ++i_; return t; }
        bool operator==(const iterator &o) const { return i_ == o.i_; }
        bool operator!=(const iterator &o) const { return i_ != o.i_; }
    private:
        const Result *r_;
        size_t i_;
    };
    iterator begin() const { return iterator(this, 0); }
    iterator end() const { return iterator(this, size()); }

    // Filling a Result (the core does this; applications only read).
    void set_columns(std::shared_ptr<const ColumnSet> columns);
    void set_counts(int64_t affected_rows, int64_t last_insert_id) noexcept {
        affected_rows_ = affected_rows;
        last_insert_id_ = last_insert_id;
    }
    // Copies `rows` rows of cells (value_size bytes apart) and their bytes.
    void append(const ilana_value *cells, size_t rows, size_t value_size);

private:
    void new_arena_block(size_t need);

    std::shared_ptr<const ColumnSet> columns_;
    size_t ncols_ = 0;
    std::vector<ilana_value> cells_;
    std::vector<std::unique_ptr<char[]>> arena_;
    size_t arena_used_ = 0, arena_cap_ = 0;
    int64_t affected_rows_ = -1;
    int64_t last_insert_id_ = 0;
};

} // namespace ilana
