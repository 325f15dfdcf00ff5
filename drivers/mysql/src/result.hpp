// result.hpp — one executed statement's result, on the SDK's Result.
//
// Result is the common part (the arena, the running op, closing); the
// subclasses are the ways rows arrive:
//   StatusResult  statements without a row set (affected rows, insert id)
//   StmtResult    prepared statement, binary protocol, streamed unbuffered
//   TextResult    parameterless statement, text protocol, streamed unbuffered
//   RowsResult    rows the driver built itself (introspection, namespaces)
// Rows go to the host on the SDK's zero-cost path: a StmtResult (or a
// StatusResult) is recycled at result_close and comes back for the next
// statement (Connection::reuse_result), and rows are written in place
// (Batch::add_row) with cells pointing into the arena and bind buffers.
#pragma once

#include "errors.hpp"
#include "types.hpp"

#include <ilana/driver.h>
#include <ilana/sdk/arena.hpp>
#include <ilana/sdk/result.hpp>

#include <mysql.h>

#include <algorithm>
#include <optional>
#include <string>
#include <vector>

namespace ilana::drivers::mysql {

class Connection;

namespace sdk = ilana::sdk;

// Where a result's rows go: the SDK's batch for the host (each row written
// in place, Batch::add_row: its cells point into the result's arena and bind
// buffers, as driver.h lets them until the next fetch), or a vector of the
// driver's own statements (query_rows).
class RowSink {
public:
    explicit RowSink(sdk::Batch &batch) noexcept : batch_(&batch) {}
    RowSink(std::vector<ilana_value> &cells, size_t column_count) noexcept
        : cells_(&cells), column_count_(column_count) {}
    // The cells of the next row, valid until the next call.
    ilana_value *add_row() {
        if (batch_ != nullptr) return batch_->add_row();
        cells_->resize(cells_->size() + column_count_);
        return cells_->data() + (cells_->size() - column_count_);
    }

private:
    sdk::Batch *batch_ = nullptr;
    std::vector<ilana_value> *cells_ = nullptr;
    size_t column_count_ = 0;
};

// The rows of a statement on the session (status, binary or text
// protocol). The SDK's Result holds the columns, the counts and the batch;
// this part holds the protocol state the cells point into.
class Result : public sdk::Result {
public:
    ~Result() override = default;

    // Discards unread rows so the session is usable again; never throws.
    void close() noexcept;
    // The connection, or nullptr once detached.
    Connection *connection() const { return conn_; }
    // For the driver's own statements: appends up to max_rows rows' cells to
    // `cells` (valid until the next call); true when the rows are done.
    bool read_into(std::vector<ilana_value> &cells, uint32_t max_rows);

protected:
    explicit Result(Connection *conn) : conn_(conn) {}
    // A closed result made ready for a new statement of `conn`: vectors and
    // arena keep their capacity.
    void rearm_base(Connection *conn);

    bool fetch(sdk::Batch &out) override;
    // The connection closes with this result open (the host broke
    // driver.h's order): release now; later fetches fail and result_close
    // only frees it.
    bool detach() noexcept override;

    // Reads up to max_rows rows into `sink`, sets done_ at the end of the
    // rows; throws DriverFailure.
    virtual uint32_t read_rows(RowSink &sink, uint32_t max_rows) = 0;
    // Drains and frees library objects; never throws.
    virtual void release() noexcept {}

    void set_columns(const MYSQL_FIELD *fields, unsigned n);
    // True when set_columns(fields, n) would describe exactly the columns
    // the result has now (same count, names, nullability and ColumnSpecs):
    // a cached statement's next execution can keep its description.
    bool same_columns(const MYSQL_FIELD *fields, unsigned n) const;
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
    // How each column decodes, next to the SDK's description of it
    // (columns()). set_columns, the only place both are filled, takes a new
    // columns_id from the connection; kept while a recycled StmtResult keeps
    // its description (same_columns or the unchanged field array).
    std::vector<ColumnSpec> specs_;
    sdk::ByteArena arena_;
    bool done_ = false;
    bool closed_ = false;
    std::optional<DriverFailure> failure_;

private:
    // fetch and read_into: one batch of rows, the failures explained.
    uint32_t read_batch(RowSink &sink, uint32_t max_rows);
};

class StatusResult final : public Result {
public:
    StatusResult(Connection *conn, int64_t affected_rows, int64_t last_insert_id);
    void rearm(Connection *conn, int64_t affected_rows, int64_t last_insert_id);

protected:
    uint32_t read_rows(RowSink &, uint32_t) override { return 0; }
    // Kept for the next statement unless a StmtResult is kept: the SDK
    // keeps one result per connection, and a row result's description and
    // bindings cost more to build again than a status result.
    bool recycle() noexcept override;
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
    uint32_t read_rows(RowSink &sink, uint32_t max_rows) override;
    void release() noexcept override;
    // Kept (closed) for the connection's next prepared statement with rows:
    // its description and bindings stay while the statement repeats.
    bool recycle() noexcept override;

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
    uint32_t read_rows(RowSink &sink, uint32_t max_rows) override;
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

// Rows the driver built itself (introspection, namespaces, clones): the
// cells point into the result's own strings.
class RowsResult final : public sdk::Result {
public:
    RowsResult(std::vector<ColumnDef> columns, std::vector<std::vector<OwnedCell>> rows);

protected:
    bool fetch(sdk::Batch &out) override;

private:
    std::vector<std::vector<OwnedCell>> rows_;
    size_t next_ = 0;
};

} // namespace ilana::drivers::mysql
