// result.hpp — the ilana_result handle: one executed statement's result.
//
// Result is the common part (columns, batches, the arena, closing); the
// subclasses are the ways rows arrive:
//   StatusResult  statements without a row set (affected rows, insert id)
//   StmtResult    prepared statement, binary protocol, streamed unbuffered
//   TextResult    parameterless statement, text protocol, streamed unbuffered
//   RowsResult    rows the driver built itself (introspection, namespaces)
#pragma once

#include "arena.hpp"
#include "errors.hpp"
#include "types.hpp"

#include <ilana/driver.h>

#include <mysql.h>

#include <algorithm>
#include <optional>
#include <string>
#include <vector>

namespace ilana::drivers::mysql {

class Connection;

class Result {
public:
    virtual ~Result() = default;
    Result(const Result &) = delete;
    Result &operator=(const Result &) = delete;

    void info(ilana_result_info *out) const;
    // Fills the batch; throws DriverFailure. Cells live until the next fetch.
    ilana_status fetch(ilana_batch *batch);
    // Discards unread rows so the session is usable again; never throws.
    void close() noexcept;
    // The connection is going away under an open result: release now; later
    // fetches fail and result_close only frees the handle.
    void detach() noexcept;

    uint32_t column_count() const { return static_cast<uint32_t>(columns_.size()); }
    const ilana_column &column(uint32_t i) const { return columns_[i]; }
    // The connection, or nullptr once detached.
    Connection *connection() const { return conn_; }

protected:
    explicit Result(Connection *conn) : conn_(conn) {}
    // A closed result made ready for a new statement of `conn`: vectors and
    // arena keep their capacity.
    void rearm_base(Connection *conn);

    // Reads up to max_rows rows into cells_ (row-major), sets done_ at the
    // end of the rows; throws DriverFailure.
    virtual uint32_t read_rows(uint32_t max_rows) = 0;
    // Drains and frees library objects; never throws.
    virtual void release() noexcept {}

    void set_columns(const MYSQL_FIELD *fields, unsigned n);
    // True when set_columns(fields, n) would describe exactly the columns
    // the result has now (same count, names, nullability and ColumnSpecs):
    // a cached statement's next execution can keep its description.
    bool same_columns(const MYSQL_FIELD *fields, unsigned n) const;
    // The cells of row `n` of the batch being read, growing cells_ as rows
    // arrive (a point select must not allocate max_rows rows of cells).
    ilana_value *row_cells(uint32_t n) {
        const size_t ncol = columns_.size();
        const size_t need = (static_cast<size_t>(n) + 1) * ncol;
        if (cells_.size() < need) cells_.resize(std::max(need, cells_.size() * 2));
        return cells_.data() + static_cast<size_t>(n) * ncol;
    }
    // Stop filling a batch past this many arena bytes (at least one row).
    bool batch_full() const { return arena_.used() >= kBatchBytes; }
    // The statement has stopped running on the server (for cancel).
    void finish_op() noexcept;

    static constexpr size_t kBatchBytes = 16u * 1024 * 1024;
    static constexpr uint32_t kMaxBatchRows = 16384;

    // MariaDB sends no count for rows that come from a change (INSERT /
    // DELETE / REPLACE ... RETURNING): such a result counts the rows it
    // returned, reported once the last one is read.
    static bool returns_changed_rows(std::string_view sql);

    Connection *conn_;
    bool op_open_ = false; // this result holds the connection's running op
    bool counts_rows_ = false; // see returns_changed_rows
    uint64_t rows_read_ = 0;
    std::vector<ColumnSpec> specs_;
    std::vector<std::string> names_;
    std::vector<ilana_column> columns_;
    std::vector<ilana_value> cells_;
    Arena arena_;
    int64_t affected_rows_ = -1;
    int64_t last_insert_id_ = 0;
    // What info() reports as columns_id (ABI 1.1). set_columns, the only
    // place columns_ is filled, takes a new one from the connection; kept
    // while a recycled StmtResult keeps its description (same_columns or
    // the unchanged field array); 0 without a row set and for results the
    // driver builds itself (RowsResult, no connection to number them).
    uint64_t columns_id_ = 0;
    bool done_ = false;
    bool closed_ = false;
    std::optional<DriverFailure> failure_;

};

class StatusResult final : public Result {
public:
    StatusResult(Connection *conn, int64_t affected_rows, int64_t last_insert_id);
    void rearm(Connection *conn, int64_t affected_rows, int64_t last_insert_id);

protected:
    uint32_t read_rows(uint32_t) override { return 0; }
};

class StmtResult final : public Result {
public:
    // Takes over `stmt` (given back to the connection at close) and the
    // connection's running op.
    StmtResult(Connection *conn, MYSQL_STMT *stmt, std::string_view sql);
    ~StmtResult() override;
    // Same as the constructor, on a closed (recycled) result. On failure
    // `stmt` stays the caller's and the result stays closed.
    void rearm(Connection *conn, MYSQL_STMT *stmt, std::string_view sql);

protected:
    uint32_t read_rows(uint32_t max_rows) override;
    void release() noexcept override;

private:
    struct OutColumn {
        union {
            long long i64;
            double f64;
            float f32;
            MYSQL_TIME tm;
        } num;
        std::vector<char> buf; // strings; grows for long values
        unsigned long length = 0;
        my_bool is_null = 0;
        my_bool error = 0;
    };
    // Describes and binds the result columns of stmt_ for this execution,
    // reusing the previous execution's description and bindings when the
    // metadata did not change (see result.cpp).
    void setup_columns();
    void bind_columns(const MYSQL_FIELD *fields);
    // binds_ are what libmariadb holds as stmt_'s result bindings.
    bool still_bound() const;
    void decode_row(ilana_value *row);

    MYSQL_STMT *stmt_;
    std::vector<OutColumn> out_;
    std::vector<MYSQL_BIND> binds_;
    bool rebind_ = false;
    // The statement binds_ were last given to (mysql_stmt_bind_result), and
    // its server-side id: a handle freed and reallocated at the same address
    // is a new statement.
    MYSQL_STMT *bound_stmt_ = nullptr;
    unsigned long bound_id_ = 0;
    // What describe() and set_columns() read of each MYSQL_FIELD that
    // libmariadb may update in place between executions (the rest of a
    // field only changes with the whole array), as of the last setup, and
    // the array it was read from.
    struct FieldKey {
        enum_field_types type;
        unsigned int flags;
        unsigned int charsetnr;
        unsigned long length;
    };
    std::vector<FieldKey> keys_;
    const MYSQL_FIELD *keyed_fields_ = nullptr;
};

class TextResult final : public Result {
public:
    // Takes over `res` (mysql_use_result) and the connection's running op.
    TextResult(Connection *conn, MYSQL_RES *res, std::string_view sql);
    ~TextResult() override;

protected:
    uint32_t read_rows(uint32_t max_rows) override;
    void release() noexcept override;

private:
    MYSQL_RES *res_;
};

// A value the driver owns (RowsResult cells, internal queries).
struct OwnedCell {
    bool is_null = true;
    ilana_type type = ILANA_TYPE_TEXT;
    int64_t i64 = 0;
    double f64 = 0;
    std::string str;

    static OwnedCell null(ilana_type t) {
        OwnedCell c;
        c.type = t;
        return c;
    }
    static OwnedCell text(std::string s) {
        OwnedCell c;
        c.is_null = false;
        c.str = std::move(s);
        return c;
    }
    static OwnedCell integer(ilana_type t, int64_t v) {
        OwnedCell c;
        c.is_null = false;
        c.type = t;
        c.i64 = v;
        return c;
    }
};

struct ColumnDef {
    const char *name;
    ilana_type type;
    const char *native_type;
    int32_t nullable;
};

class RowsResult final : public Result {
public:
    RowsResult(std::vector<ColumnDef> columns, std::vector<std::vector<OwnedCell>> rows);

protected:
    uint32_t read_rows(uint32_t max_rows) override;

private:
    std::vector<std::vector<OwnedCell>> rows_;
    size_t next_ = 0;
};

// Driver handles are these objects.
inline ilana_result *to_handle(Result *r) { return reinterpret_cast<ilana_result *>(r); }
inline Result *from_handle(ilana_result *r) { return reinterpret_cast<Result *>(r); }

} // namespace ilana::drivers::mysql
