// ilana/result.hpp — rows returned by a query.
//
// A Result owns its rows: cells are stored in chunks of whole rows (each
// row's cells contiguous) and the bytes of text/blob cells in an arena;
// neither ever moves once written, so Row and Field views stay valid for
// the life of the Result (and only that long).
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

namespace detail {
struct ResultStorage; // cells, bytes and the column set; result.cpp
}

class Result {
public:
    Result() = default;
    Result(Result &&o) noexcept { steal(o); }
    Result &operator=(Result &&o) noexcept {
        if (this != &o) {
            release();
            steal(o);
        }
        return *this;
    }
    Result(const Result &) = delete; // views point into it: move, don't copy
    Result &operator=(const Result &) = delete;
    // Hands its storage (cell array, a small arena block, the column set)
    // to a per-thread spare list, so the next Result on this thread
    // allocates nothing and, for the same columns, shares them without
    // touching a reference count.
    ~Result() { release(); }

    size_t size() const noexcept { return rows_; }
    bool empty() const noexcept { return rows_ == 0; }
    const std::vector<Column> &columns() const noexcept;
    int64_t affected_rows() const noexcept { return affected_rows_; }
    int64_t last_insert_id() const noexcept { return last_insert_id_; }

    Row operator[](size_t i) const noexcept {
        return Row(chunks_[i >> shift_] + (i & ((size_t{1} << shift_) - 1)) * ncols_, &set_->columns, &set_->names);
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
    void set_columns(const std::shared_ptr<const ColumnSet> &columns);
    void set_counts(int64_t affected_rows, int64_t last_insert_id) noexcept {
        affected_rows_ = affected_rows;
        last_insert_id_ = last_insert_id;
    }
    // Copies `rows` rows of cells (value_size bytes apart) and their bytes.
    // set_columns first.
    void append(const ilana_value *cells, size_t rows, size_t value_size);

private:
    void steal(Result &o) noexcept {
        store_ = o.store_;
        set_ = o.set_;
        chunks_ = o.chunks_;
        shift_ = o.shift_;
        ncols_ = o.ncols_;
        rows_ = o.rows_;
        affected_rows_ = o.affected_rows_;
        last_insert_id_ = o.last_insert_id_;
        o.store_ = nullptr;
        o.set_ = nullptr;
        o.chunks_ = nullptr;
        o.ncols_ = o.rows_ = 0;
    }
    void release() noexcept;

    detail::ResultStorage *store_ = nullptr; // owned; null until set_columns
    const ColumnSet *set_ = nullptr;         // the storage's column set
    // The storage's chunk table: chunk k holds rows [k << shift_, (k + 1) <<
    // shift_), each chunk a fixed power of two rows (about 64 KiB of cells),
    // so finding a row is a shift and a mask, and a big result grows by new
    // chunks instead of reallocating and copying every cell it has.
    const ilana_value *const *chunks_ = nullptr;
    unsigned shift_ = 0;
    size_t ncols_ = 0, rows_ = 0;
    int64_t affected_rows_ = -1;
    int64_t last_insert_id_ = 0;
};

} // namespace ilana
