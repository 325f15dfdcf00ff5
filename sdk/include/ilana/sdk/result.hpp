// ilana/sdk/result.hpp — results: columns, batches of rows, their lifetimes.
//
//   Result        base of every result a driver returns. Declare the columns
//                 (add_column) before execute returns; override fetch() to
//                 append rows to a Batch. The SDK keeps the column array
//                 alive until result_close and the cells alive until the
//                 next fetch, as driver.h promises the host.
//   Batch         what fetch() appends to: one call per cell, end_row() per
//                 row. Text and blobs are copied into the batch's arena
//                 (text_ref() skips the copy for bytes the driver keeps alive
//                 itself until the next fetch). Rows are checked against the
//                 columns, so a driver bug is an error, not a crash. A
//                 driver on a hot path writes whole rows in place instead
//                 (add_row(), put_bytes()): no per-cell checks.
//
// The zero-cost path (what the SQLite driver, the reference driver, uses):
// a result whose recycle() returns true is kept by its connection at
// result_close and handed back by Connection::reuse_result<R>() on the
// next execute, with its columns, columns_id, cell array and arena: a
// statement that repeats allocates nothing and rebuilds no description.
//   RowsResult    a result whose rows are all in memory (small results).
//   TablesResult, ColumnsResult, IndexesResult
//                 the exact row shapes of "ilana.introspect/1".
//
// Header-only; depends on <ilana/driver.h> and the C++17 standard library.
#ifndef ILANA_SDK_RESULT_HPP
#define ILANA_SDK_RESULT_HPP

#include <ilana/driver.h>
#include <ilana/sdk/arena.hpp>
#include <ilana/sdk/driver_support.hpp>
#include <ilana/sdk/values.hpp>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

// The per-row and per-cell calls of the zero-cost path: inlined into the
// driver's fetch loop (a call per text cell costs more than the copy).
#if defined(__GNUC__) || defined(__clang__)
#define ILANA_SDK_HOT_ inline __attribute__((always_inline))
#define ILANA_SDK_COLD_ __attribute__((noinline, cold))
#else
#define ILANA_SDK_HOT_ inline
#define ILANA_SDK_COLD_
#endif

namespace ilana::sdk {

class Connection;

namespace detail {
struct Access;
}

// One column of a result.
struct ColumnSpec {
    std::string name;
    // ILANA_TYPE_*: the type of every non-NULL cell, or ILANA_TYPE_ANY when
    // each cell carries its own (dynamic typing).
    ilana_type type = ILANA_TYPE_TEXT;
    std::string native_type; // the database's own name: "int4", "VARCHAR"
    int32_t nullable = -1;   // 1 yes, 0 no, -1 unknown
};

// The rows of one fetch.
class Batch {
public:
    // Rows the host asked for (at least 1); a driver may return fewer.
    uint32_t max_rows() const noexcept { return max_rows_; }
    uint32_t rows() const noexcept { return rows_; }
    // True once max_rows() rows were appended: return from fetch().
    bool full() const noexcept { return rows_ >= max_rows_; }
    uint32_t column_count() const noexcept { return column_count_; }
    // Bytes of text/blob copied into this batch so far (to end a batch of
    // huge values early).
    size_t arena_bytes() const noexcept { return arena_.used(); }

    // Cells of the current row, in column order.
    void null() { push(null_value()); }
    void boolean(bool b) { push(number(ILANA_TYPE_BOOL, b ? 1 : 0)); }
    void int64(int64_t v) { push(number(ILANA_TYPE_INT64, v)); }
    void uint64(uint64_t v) {
        ilana_value c{};
        c.type = ILANA_TYPE_UINT64;
        c.v.u64 = v;
        push(c);
    }
    void real(double v) {
        ilana_value c{};
        c.type = ILANA_TYPE_DOUBLE;
        c.v.f64 = v;
        push(c);
    }
    // DATE (days), TIME, TIMESTAMP, TIMESTAMPTZ (microseconds).
    void temporal(ilana_type t, int64_t v) { push(number(t, v)); }
    // Copied: `s` may die right after the call.
    void text(std::string_view s) { string(ILANA_TYPE_TEXT, s); }
    void blob(std::string_view s) { string(ILANA_TYPE_BLOB, s); }
    void string(ilana_type t, std::string_view s) {
        ilana_value c{};
        c.type = t;
        c.v.str.len = s.size();
        c.v.str.ptr = s.empty() ? empty_ : arena_.copy(s.data(), s.size());
        push(c);
    }

    // Direct writes, for a driver whose fetch is a hot path. add_row()
    // counts one row and returns its column_count() cells, to be written
    // completely (type, is_null, and the union) in place: no type check,
    // no per-cell call. The pointer is valid until the next add_row().
    // ILANA_ERR_INTERNAL when the batch is already full (a driver bug);
    // do not mix with the per-cell calls inside one row.
    ILANA_SDK_HOT_ ilana_value *add_row() {
        if (rows_ >= max_rows_ || in_row_ != 0) refuse_row();
        const size_t need = used_ + column_count_;
        if (need > cells_.size()) cells_.resize(std::max(need, cells_.size() * 2));
        ilana_value *row = cells_.data() + used_;
        used_ = need;
        ++rows_;
        return row;
    }
    // Makes `cell` (of the row add_row() returned) a text or blob cell
    // holding a copy of `len` bytes at `data` (which may die right after).
    ILANA_SDK_HOT_ void put_bytes(ilana_value &cell, ilana_type t, const void *data, size_t len) {
        cell.type = t;
        cell.is_null = 0;
        cell.v.str.len = len;
        cell.v.str.ptr = len == 0 ? empty_ : arena_.copy(data, len);
    }
    // The cells add_row() handed out in this batch so far: rows() rows of
    // column_count() cells, in row order; valid until the next add_row().
    // For a driver whose decoders write bytes into a buffer of its own that
    // may move while the batch fills (a growing arena): its string cells
    // hold offsets until the last row, then it points them into the buffer
    // in one pass here (the bytes are the driver's, alive until its next
    // fetch, as with text_ref()).
    ilana_value *cells() noexcept { return cells_.data(); }
    // Not copied: the driver guarantees `s` stays valid until its next
    // fetch or the close of the result (e.g. a buffer the result owns).
    void text_ref(std::string_view s, ilana_type t = ILANA_TYPE_TEXT) {
        ilana_value c{};
        c.type = t;
        c.v.str.ptr = s.empty() ? empty_ : s.data();
        c.v.str.len = s.size();
        push(c);
    }
    void cell(const Cell &v) {
        if (v.null) {
            push(null_value(v.type));
        } else if (is_string_type(v.type)) {
            string(v.type, v.bytes);
        } else if (v.type == ILANA_TYPE_UINT64) {
            uint64(v.u64);
        } else if (v.type == ILANA_TYPE_DOUBLE) {
            real(v.f64);
        } else {
            push(number(v.type, v.i64));
        }
    }
    // Ends the current row; ILANA_ERR_INTERNAL if it has the wrong number
    // of cells or the batch is already full.
    void end_row() {
        if (in_row_ != column_count_)
            throw DriverFailure(ILANA_ERR_INTERNAL, "driver bug: a row has " + std::to_string(in_row_) +
                                                        " cells, the result has " + std::to_string(column_count_) +
                                                        " columns");
        if (rows_ >= max_rows_)
            throw DriverFailure(ILANA_ERR_INTERNAL, "driver bug: more rows in a batch than max_rows (" +
                                                        std::to_string(max_rows_) + ")");
        in_row_ = 0;
        ++rows_;
    }

private:
    friend struct detail::Access;

    // add_row's driver bugs, out of its inlined path.
    [[noreturn]] ILANA_SDK_COLD_ void refuse_row() const {
        if (in_row_ != 0) throw DriverFailure(ILANA_ERR_INTERNAL, "driver bug: add_row inside a row (end_row missing)");
        throw DriverFailure(ILANA_ERR_INTERNAL,
                            "driver bug: more rows in a batch than max_rows (" + std::to_string(max_rows_) + ")");
    }
    static ilana_value number(ilana_type t, int64_t v) noexcept {
        ilana_value c{};
        c.type = t;
        c.v.i64 = v;
        return c;
    }
    static ilana_value null_value(ilana_type t = ILANA_TYPE_NULL) noexcept {
        ilana_value c{};
        c.type = t;
        c.is_null = 1;
        return c;
    }
    void push(const ilana_value &c) {
        if (in_row_ >= column_count_)
            throw DriverFailure(ILANA_ERR_INTERNAL, "driver bug: more cells in a row than the result's " +
                                                        std::to_string(column_count_) + " columns");
        const ilana_type want = (*types_)[in_row_];
        if (c.is_null == 0 && want != ILANA_TYPE_ANY && c.type != want)
            throw DriverFailure(ILANA_ERR_INTERNAL, std::string("driver bug: column ") + std::to_string(in_row_ + 1) +
                                                        " is " + type_name(want) + " but a cell is " +
                                                        type_name(c.type));
        slot() = c;
        ++in_row_;
    }
    // The next cell of the array, which keeps its size across batches (and
    // across the statements of a recycled result): a cell is written, not
    // constructed.
    ilana_value &slot() {
        if (used_ == cells_.size()) cells_.resize(cells_.empty() ? 64 : cells_.size() * 2);
        return cells_[used_++];
    }
    void reset(uint32_t max_rows, const std::vector<ilana_type> *types) {
        max_rows_ = max_rows == 0 ? 1024u : max_rows;
        types_ = types;
        column_count_ = static_cast<uint32_t>(types->size());
        rows_ = 0;
        in_row_ = 0;
        used_ = 0;
        arena_.reset();
    }
    void finish() {
        if (in_row_ != 0)
            throw DriverFailure(ILANA_ERR_INTERNAL, "driver bug: fetch returned inside a row (end_row missing)");
    }

    static constexpr const char *empty_ = "";
    uint32_t max_rows_ = 1024;
    uint32_t column_count_ = 0;
    uint32_t rows_ = 0;
    uint32_t in_row_ = 0;
    const std::vector<ilana_type> *types_ = nullptr;
    std::vector<ilana_value> cells_; // the first used_ are this batch's
    size_t used_ = 0;
    ByteArena arena_; // the bytes of string cells: they point here from the start
};

// Base of every result. A result without rows (DDL, INSERT) is a plain
// Result with no columns: `auto r = std::make_unique<sdk::Result>();
// r->set_affected_rows(n); return r;`.
//
// Thread rule: [conn-serialized], like its connection. The destructor runs
// on result_close (unread rows are discarded: release what the protocol
// needs there). Exceptions thrown by fetch() become the ABI error record.
class Result {
public:
    Result() = default;
    Result(const Result &) = delete;
    Result &operator=(const Result &) = delete;
    virtual ~Result() = default;

    // Declare every column before execute returns; the list is frozen when
    // the host first reads it (ILANA_ERR_INTERNAL after that).
    void add_column(std::string name, ilana_type type, std::string native_type = {}, int32_t nullable = -1) {
        add_column(ColumnSpec{std::move(name), type, std::move(native_type), nullable});
    }
    void add_column(ColumnSpec spec) {
        if (frozen_)
            throw DriverFailure(ILANA_ERR_INTERNAL, "driver bug: column '" + spec.name +
                                                        "' added after the host read the columns");
        specs_.push_back(std::move(spec));
    }
    const std::vector<ColumnSpec> &columns() const noexcept { return specs_; }
    size_t column_count() const noexcept { return specs_.size(); }
    // Forgets the columns (and the columns_id), to describe another
    // statement on a recycled result; until then a recycled result keeps
    // the description it had, already frozen: nothing to rebuild while the
    // statement repeats.
    void clear_columns() noexcept {
        specs_.clear();
        abi_columns_.clear();
        types_.clear();
        frozen_ = false;
        columns_id_ = 0;
    }

    // -1 unknown / not applicable (the default). May change until the last
    // fetch (INSERT ... RETURNING): the host reads them again after DONE.
    void set_affected_rows(int64_t n) noexcept { affected_rows_ = n; }
    void set_last_insert_id(int64_t id) noexcept { last_insert_id_ = id; }
    int64_t affected_rows() const noexcept { return affected_rows_; }
    int64_t last_insert_id() const noexcept { return last_insert_id_; }
    // ABI 1.1's ilana_result_info.columns_id: a nonzero id promises that
    // every later result of this connection reporting the same id has
    // exactly these columns (names, types, native types, nullability), so
    // the host keeps what it built from them. 0 (the default) promises
    // nothing. Take ids from Connection::next_columns_id() and keep one per
    // description you know is unchanged (a cached prepared statement not
    // re-prepared since). The conformance kit checks the promise
    // (results.columns_id).
    void set_columns_id(uint64_t id) noexcept { columns_id_ = id; }
    uint64_t columns_id() const noexcept { return columns_id_; }
    // Ends the SDK's own check of the statement timeout
    // (Statement::timeout_ms) before each fetch of this result, when there
    // is nothing left for it to stop: the statement has ended on the
    // database (a command done in execute, every row already in the
    // driver's memory), or the driver stops it on the server itself at the
    // deadline (<ilana/sdk/statement_deadline.hpp>), so that what the
    // server still sends is the host's. Either way a statement that
    // finished inside its timeout is not reported as timed out because the
    // host fetched its rows later. Reset for a recycled result's next
    // statement.
    void end_timeout() noexcept { timeout_ended_ = true; }

protected:
    // Appends up to out.max_rows() rows. Returns true when no row follows
    // (this batch is the last one; it may hold rows or none); it is not
    // called again after that. The default: no rows.
    virtual bool fetch(Batch &out) {
        (void)out;
        return true;
    }
    // At result_close: true keeps this result for the connection's next
    // execute (Connection::reuse_result<R>()) instead of deleting it. Let
    // go here of what the destructor would release (a statement, locks,
    // the server's unread rows): a kept result waits idle, and is deleted
    // later (a newer one is kept, or the connection closes) without a
    // further call. The default: false, deleted at close.
    virtual bool recycle() noexcept { return false; }
    // The connection is closing with this result still open (the host
    // broke driver.h's order): true keeps the result alive, detached, for
    // the host's later fetch (which should end it: return true, no rows)
    // and result_close (which frees it); let go here of what refers to the
    // connection. The default: false, deleted with the connection.
    virtual bool detach() noexcept { return false; }

private:
    friend struct detail::Access;

    void freeze() {
        if (!frozen_) build_columns();
    }
    // Once per description (a recycled result keeps it): out of the
    // inlined per-call path.
    ILANA_SDK_COLD_ void build_columns() {
        types_.reserve(specs_.size());
        abi_columns_.reserve(specs_.size());
        for (const auto &s : specs_) {
            types_.push_back(s.type);
            ilana_column c{};
            c.struct_size = sizeof(ilana_column);
            c.name = s.name.c_str();
            c.type = s.type;
            c.native_type = s.native_type.c_str();
            c.nullable = s.nullable;
            abi_columns_.push_back(c);
        }
        frozen_ = true;
    }

    std::vector<ColumnSpec> specs_;
    std::vector<ilana_column> abi_columns_;
    std::vector<ilana_type> types_;
    bool frozen_ = false;
    bool done_ = false;
    int64_t affected_rows_ = -1;
    int64_t last_insert_id_ = 0;
    uint64_t columns_id_ = 0;
    Batch batch_;
    Connection *owner_ = nullptr;
    // The statement timeout (Statement::timeout_ms) as a deadline, checked
    // before each fetch; 0 = none.
    int64_t timeout_ms_ = 0;
    std::chrono::steady_clock::time_point deadline_{};
    bool timeout_ended_ = false; // end_timeout()
};

// A result whose rows are built in memory before it is returned.
class RowsResult : public Result {
public:
    void add_row(std::vector<Cell> row) {
        if (row.size() != column_count())
            throw DriverFailure(ILANA_ERR_INTERNAL, "driver bug: a row has " + std::to_string(row.size()) +
                                                        " cells, the result has " + std::to_string(column_count()) +
                                                        " columns");
        rows_.push_back(std::move(row));
    }
    size_t row_count() const noexcept { return rows_.size(); }

protected:
    bool fetch(Batch &out) override {
        while (next_ < rows_.size() && !out.full()) {
            for (const Cell &c : rows_[next_]) out.cell(c);
            out.end_row();
            ++next_;
        }
        return next_ >= rows_.size();
    }

private:
    std::vector<std::vector<Cell>> rows_;
    size_t next_ = 0;
};

// "ilana.introspect/1" tables(): schema TEXT, name TEXT, kind TEXT.
class TablesResult : public RowsResult {
public:
    TablesResult() {
        add_column("schema", ILANA_TYPE_TEXT, "text", 1);
        add_column("name", ILANA_TYPE_TEXT, "text", 0);
        add_column("kind", ILANA_TYPE_TEXT, "text", 0);
    }
    // kind: "table" or "view". Add rows ordered by name.
    void add(std::optional<std::string> schema, std::string name, std::string kind = "table") {
        add_row({schema ? Cell::text(std::move(*schema)) : Cell::make_null(ILANA_TYPE_TEXT),
                 Cell::text(std::move(name)), Cell::text(std::move(kind))});
    }
};

// "ilana.introspect/1" columns(): table_name TEXT, name TEXT, ordinal INT64,
// data_type TEXT, nullable BOOL, default_value TEXT, primary_key BOOL.
class ColumnsResult : public RowsResult {
public:
    ColumnsResult() {
        add_column("table_name", ILANA_TYPE_TEXT, "text", 0);
        add_column("name", ILANA_TYPE_TEXT, "text", 0);
        add_column("ordinal", ILANA_TYPE_INT64, "int64", 0);
        add_column("data_type", ILANA_TYPE_TEXT, "text", 0);
        add_column("nullable", ILANA_TYPE_BOOL, "bool", 0);
        add_column("default_value", ILANA_TYPE_TEXT, "text", 1);
        add_column("primary_key", ILANA_TYPE_BOOL, "bool", 0);
    }
    // ordinal is 1-based; data_type the database's lower-case spelling.
    // Add rows ordered by table, then ordinal.
    void add(std::string table, std::string name, int64_t ordinal, std::string data_type, bool nullable,
             std::optional<std::string> default_value = std::nullopt, bool primary_key = false) {
        add_row({Cell::text(std::move(table)), Cell::text(std::move(name)), Cell::int64(ordinal),
                 Cell::text(std::move(data_type)), Cell::boolean(nullable),
                 default_value ? Cell::text(std::move(*default_value)) : Cell::make_null(ILANA_TYPE_TEXT),
                 Cell::boolean(primary_key)});
    }
};

// "ilana.introspect/1" indexes(): table_name TEXT, name TEXT, columns TEXT
// (comma-separated, in index order), is_unique BOOL, is_primary BOOL.
class IndexesResult : public RowsResult {
public:
    IndexesResult() {
        add_column("table_name", ILANA_TYPE_TEXT, "text", 0);
        add_column("name", ILANA_TYPE_TEXT, "text", 0);
        add_column("columns", ILANA_TYPE_TEXT, "text", 0);
        add_column("is_unique", ILANA_TYPE_BOOL, "bool", 0);
        add_column("is_primary", ILANA_TYPE_BOOL, "bool", 0);
    }
    // Add rows ordered by table, then name.
    void add(std::string table, std::string name, const std::vector<std::string> &columns, bool is_unique,
             bool is_primary) {
        std::string joined;
        for (const auto &c : columns) joined += (joined.empty() ? "" : ",") + c;
        add_row({Cell::text(std::move(table)), Cell::text(std::move(name)), Cell::text(std::move(joined)),
                 Cell::boolean(is_unique), Cell::boolean(is_primary)});
    }
};

} // namespace ilana::sdk

#undef ILANA_SDK_HOT_
#undef ILANA_SDK_COLD_

#endif // ILANA_SDK_RESULT_HPP
