// result.cpp — columns, batches and streaming of result rows.
//
// Rows are streamed, never buffered whole: prepared statements are fetched
// with mysql_stmt_fetch() without mysql_stmt_store_result() (no cursor, the
// server pushes rows and TCP flow control holds it back), and text-protocol
// results with mysql_use_result(). Each batch decodes into reusable cell
// vectors and one arena that is reset per batch: no per-row allocation.
#include "result.hpp"

#include "connection.hpp"
#include "runtime.hpp"

#include <ilana/sdk/sql_text.hpp>

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstring>

namespace ilana::drivers::mysql {
namespace {

// A long value grows its column's bind buffer up to this size, so a column
// of medium texts costs one copy per value, not a second round through
// mysql_stmt_fetch_column. Longer values are always fetched in two steps.
constexpr size_t kMaxBindBuffer = 256 * 1024;

size_t next_pow2(size_t n) {
    size_t p = 1024;
    while (p < n) p <<= 1;
    return p;
}

} // namespace

// ---------------------------------------------------------------------------
// Result

void Result::set_columns(const MYSQL_FIELD *fields, unsigned n) {
    // A description built afresh (new result, another statement or shape,
    // changed metadata, a re-prepared statement, the text protocol): a new
    // id.
    clear_columns();
    set_columns_id(conn_ != nullptr ? conn_->next_columns_id() : 0);
    specs_.resize(n);
    for (unsigned i = 0; i < n; ++i) {
        specs_[i] = describe(fields[i]);
        add_column(std::string(fields[i].name != nullptr ? fields[i].name : "", fields[i].name_length),
                   specs_[i].type, specs_[i].native_type, (fields[i].flags & NOT_NULL_FLAG) ? 0 : 1);
    }
}

bool Result::same_columns(const MYSQL_FIELD *fields, unsigned n) const {
    const auto &columns = this->columns();
    if (n != columns.size() || n != specs_.size()) return false;
    for (unsigned i = 0; i < n; ++i) {
        const MYSQL_FIELD &f = fields[i];
        const int32_t nullable = (f.flags & NOT_NULL_FLAG) ? 0 : 1;
        if (columns[i].nullable != nullable) return false;
        const std::string &name = columns[i].name;
        if (f.name_length != name.size()) return false;
        if (f.name_length != 0 && (f.name == nullptr || std::memcmp(f.name, name.data(), name.size()) != 0))
            return false;
        // describe() reads type, flags, charset, length (BIT) and the
        // extended format; comparing its answer covers all of them.
        // native_type is a static string: the same answer, the same pointer.
        const ColumnSpec now = describe(f);
        const ColumnSpec &had = specs_[i];
        if (now.type != had.type || now.decode != had.decode || now.native_type != had.native_type ||
            now.is_unsigned != had.is_unsigned)
            return false;
    }
    return true;
}

bool Result::fetch(sdk::Batch &out) {
    ensure_thread();
    RowSink sink(out);
    read_batch(sink, std::min(out.max_rows(), kMaxBatchRows));
    return done_;
}

bool Result::read_into(std::vector<ilana_value> &cells, uint32_t max_rows) {
    RowSink sink(cells, specs_.size());
    read_batch(sink, max_rows);
    return done_;
}

uint32_t Result::read_batch(RowSink &sink, uint32_t max_rows) {
    if (closed_) throw misuse("fetch: the result is closed");
    if (failure_) throw *failure_;
    arena_.reset();
    uint32_t rows = 0;
    if (!done_) {
        const auto start = conn_ != nullptr ? conn_->op_clock() : std::chrono::steady_clock::time_point{};
        try {
            rows = read_rows(sink, max_rows);
            if (op_open_ && conn_ != nullptr && conn_->op_killed())
                throw DriverFailure(ILANA_ERR_CANCELED,
                                    "canceled: the statement was interrupted by cancel() (KILL QUERY) "
                                    "[error 1317, SQLSTATE 70100]",
                                    "70100", 1317, 0);
        } catch (const DriverFailure &raw) {
            // Explained before finish_op ends the op and its deadline.
            const DriverFailure f =
                conn_ != nullptr ? conn_->deadline_explained(conn_->timeout_aware(raw, start)) : raw;
            failure_ = f;
            finish_op();
            if (conn_ != nullptr) conn_->fail(f);
            throw f;
        }
    }
    rows_read_ += rows;
    if (done_) {
        finish_op();
        if (counts_rows_) set_affected_rows(static_cast<int64_t>(rows_read_));
    }
    return rows;
}

bool Result::returns_changed_rows(std::string_view sql) {
    // MySQL also has `# ...` comments.
    return ilana::sdk::LeadingKeyword(sql, true).is_any({"insert", "replace", "delete", "update"});
}

void Result::finish_op() noexcept {
    if (op_open_ && conn_ != nullptr) conn_->op_end();
    op_open_ = false;
}

void Result::close() noexcept {
    if (closed_) return;
    closed_ = true;
    if (conn_ == nullptr) return;
    ensure_thread();
    release();
    finish_op();
}

bool Result::detach() noexcept {
    close();
    conn_ = nullptr;
    return true;
}

// ---------------------------------------------------------------------------
// StatusResult

void Result::rearm_base(Connection *conn) {
    conn_ = conn;
    op_open_ = false;
    rows_read_ = 0;
    done_ = false;
    closed_ = false;
    failure_.reset();
    arena_.reset();
}

StatusResult::StatusResult(Connection *conn, int64_t affected_rows, int64_t last_insert_id)
    : Result(conn) {
    set_affected_rows(affected_rows);
    set_last_insert_id(last_insert_id);
    done_ = true;
}

void StatusResult::rearm(Connection *conn, int64_t affected_rows, int64_t last_insert_id) {
    rearm_base(conn);
    set_affected_rows(affected_rows);
    set_last_insert_id(last_insert_id);
    done_ = true;
}

bool StatusResult::recycle() noexcept {
    close();
    return conn_ != nullptr && !conn_->broken() && !conn_->row_result_kept();
}

// ---------------------------------------------------------------------------
// StmtResult: binary protocol

StmtResult::StmtResult(Connection *conn, MYSQL_STMT *stmt, std::string_view sql)
    : Result(conn), stmt_(stmt) {
    counts_rows_ = returns_changed_rows(sql);
    setup_columns();
    op_open_ = true;
}

void StmtResult::rearm(Connection *conn, MYSQL_STMT *stmt, std::string_view sql) {
    rearm_base(conn);
    // The statement bound last time, not re-prepared since (same server id),
    // was prepared from the same SQL: what it returns is known.
    if (stmt != bound_stmt_ || stmt->stmt_id != bound_id_) counts_rows_ = returns_changed_rows(sql);
    stmt_ = stmt;
    try {
        setup_columns();
    } catch (...) {
        stmt_ = nullptr; // still the caller's
        closed_ = true;
        throw;
    }
    op_open_ = true;
}

StmtResult::~StmtResult() { close(); }

bool StmtResult::recycle() noexcept {
    close();
    if (conn_ == nullptr || conn_->broken()) return false;
    conn_->set_row_result_kept(true);
    return true;
}

// A cached statement executed again usually has the same result columns:
// then the description (specs_ and the SDK's columns) and the bind buffers of
// the previous execution are kept, and when libmariadb still holds binds_ as
// this statement's result bindings, mysql_stmt_bind_result is skipped too.
// Anything else (another statement, a changed table, a parameter changing a
// column's type as in SELECT ?, a CALL whose result sets reset the
// bindings) describes and binds again.
//
// Fast path: libmariadb replaces a statement's field array only together
// with its result bindings (a new array comes with zeroed MYSQL_BINDs, see
// mysql_stmt_execute / mysql_stmt_next_result), and between executions it
// updates only the type, length, flags, decimals and charset of the fields in
// place. So while still_bound() holds and the array is the one described
// last time, its names and extended metadata are the ones described, and
// comparing the in-place members (keys_) is enough.
void StmtResult::setup_columns() {
    // stmt->fields carries MariaDB's extended metadata (format "json"),
    // which the copies made by mysql_stmt_result_metadata() may not.
    const MYSQL_FIELD *fields = stmt_->fields;
    const unsigned n = mysql_stmt_field_count(stmt_);
    if (fields == keyed_fields_ && n == keys_.size() && still_bound()) {
        bool same = true;
        for (unsigned i = 0; i < n && same; ++i) {
            const FieldKey &k = keys_[i];
            const MYSQL_FIELD &f = fields[i];
            same = k.type == f.type && k.flags == f.flags && k.charsetnr == f.charsetnr && k.length == f.length;
        }
        if (same) return;
    }
    keyed_fields_ = nullptr;
    if (!same_columns(fields, n)) {
        bound_stmt_ = nullptr;
        rebind_ = false;
        set_columns(fields, n);
        bind_columns(fields);
    } else if (!still_bound()) {
        bound_stmt_ = nullptr;
        if (n > 0 && mysql_stmt_bind_result(stmt_, binds_.data()) != 0)
            throw stmt_failure(stmt_, Phase::Statement);
        rebind_ = false;
    }
    // (A buffer that grew during the previous execution and still waits for
    // its rebind_ fails still_bound(): its MYSQL_BIND moved to the new one.)
    bound_stmt_ = stmt_;
    bound_id_ = stmt_->stmt_id;
    keys_.resize(n);
    for (unsigned i = 0; i < n; ++i) keys_[i] = {fields[i].type, fields[i].flags, fields[i].charsetnr, fields[i].length};
    keyed_fields_ = fields;
}

bool StmtResult::still_bound() const {
    const MYSQL_STMT *s = stmt_;
    if (s != bound_stmt_ || s->stmt_id != bound_id_ || !s->bind_result_done || s->bind == nullptr ||
        s->field_count != binds_.size())
        return false;
    // libmariadb keeps a copy of the MYSQL_BINDs; it frees or zeroes it when
    // a statement's result sets change (CALL, mysql_stmt_next_result), and
    // a pending rebind_ has moved a buffer.
    for (size_t i = 0; i < binds_.size(); ++i) {
        const MYSQL_BIND &have = s->bind[i];
        const MYSQL_BIND &want = binds_[i];
        if (have.buffer != want.buffer || have.is_null != want.is_null || have.length != want.length ||
            have.error != want.error || have.buffer_type != want.buffer_type)
            return false;
    }
    return true;
}

void StmtResult::bind_columns(const MYSQL_FIELD *fields) {
    const size_t n = specs_.size();
    out_.resize(n);
    binds_.assign(n, MYSQL_BIND{});
    for (size_t i = 0; i < n; ++i) {
        OutColumn &o = out_[i];
        MYSQL_BIND &b = binds_[i];
        std::memset(&o.num, 0, sizeof o.num);
        b.length = &o.length;
        b.is_null = &o.is_null;
        b.error = &o.error;
        switch (specs_[i].decode) {
        case Decode::Null:
            b.buffer_type = MYSQL_TYPE_NULL;
            break;
        case Decode::Int:
        case Decode::UInt:
            // Every integer type converts to a 64-bit buffer; the unsigned
            // flag keeps BIGINT UNSIGNED values above INT64_MAX intact.
            b.buffer_type = MYSQL_TYPE_LONGLONG;
            b.buffer = &o.num.i64;
            b.buffer_length = sizeof o.num.i64;
            b.is_unsigned = specs_[i].is_unsigned ? 1 : 0;
            break;
        case Decode::Float:
            b.buffer_type = MYSQL_TYPE_FLOAT;
            b.buffer = &o.num.f32;
            b.buffer_length = sizeof o.num.f32;
            break;
        case Decode::Double:
            b.buffer_type = MYSQL_TYPE_DOUBLE;
            b.buffer = &o.num.f64;
            b.buffer_length = sizeof o.num.f64;
            break;
        case Decode::Date:
        case Decode::DateTime:
        case Decode::Time:
            b.buffer_type = specs_[i].decode == Decode::Date   ? MYSQL_TYPE_DATE
                            : specs_[i].decode == Decode::Time ? MYSQL_TYPE_TIME
                                                               : MYSQL_TYPE_DATETIME;
            b.buffer = &o.num.tm;
            b.buffer_length = sizeof o.num.tm;
            break;
        case Decode::Bit:
            o.buf.assign(8, 0);
            b.buffer_type = MYSQL_TYPE_BLOB;
            b.buffer = o.buf.data();
            b.buffer_length = o.buf.size();
            break;
        case Decode::Decimal:
        case Decode::Text:
        case Decode::Blob:
        case Decode::Json: {
            const unsigned long declared = fields[i].length;
            o.buf.assign(std::clamp<unsigned long>(declared, 16, 1024), 0);
            b.buffer_type = specs_[i].decode == Decode::Blob ? MYSQL_TYPE_BLOB : MYSQL_TYPE_STRING;
            b.buffer = o.buf.data();
            b.buffer_length = o.buf.size();
            break;
        }
        }
    }
    if (n > 0 && mysql_stmt_bind_result(stmt_, binds_.data()) != 0)
        throw stmt_failure(stmt_, Phase::Statement);
}

uint32_t StmtResult::read_rows(RowSink &sink, uint32_t max_rows) {
    uint32_t n = 0;
    while (n < max_rows) {
        if (rebind_) {
            if (mysql_stmt_bind_result(stmt_, binds_.data()) != 0)
                throw stmt_failure(stmt_, Phase::Statement);
            rebind_ = false;
        }
        const int rc = mysql_stmt_fetch(stmt_);
        if (rc == MYSQL_NO_DATA) {
            done_ = true;
            break;
        }
        if (rc == 1) throw stmt_failure(stmt_, Phase::Statement);
        // MYSQL_DATA_TRUNCATED is off (see connection.cpp); lengths tell.
        decode_row(sink.add_row());
        ++n;
        if (batch_full()) break;
    }
    return n;
}

void StmtResult::decode_row(ilana_value *row) {
    for (size_t c = 0; c < out_.size(); ++c) {
        ilana_value &v = row[c];
        OutColumn &o = out_[c];
        const ColumnSpec &s = specs_[c];
        v.type = s.type;
        v.is_null = 0;
        v.v.str.ptr = nullptr;
        v.v.str.len = 0;
        if (o.is_null || s.decode == Decode::Null) {
            v.is_null = 1;
            continue;
        }
        switch (s.decode) {
        case Decode::Null:
            break;
        case Decode::Int:
            v.v.i64 = o.num.i64;
            break;
        case Decode::UInt:
            v.v.u64 = static_cast<uint64_t>(o.num.i64);
            break;
        case Decode::Float:
            v.v.f64 = float_to_double(o.num.f32);
            break;
        case Decode::Double:
            v.v.f64 = o.num.f64;
            break;
        case Decode::Date:
        case Decode::DateTime:
        case Decode::Time:
            if (!time_to_cell(o.num.tm, s.decode, v.v.i64)) v.is_null = 1;
            break;
        case Decode::Bit:
            bit_to_cell(reinterpret_cast<const unsigned char *>(o.buf.data()),
                        std::min<size_t>(o.length, o.buf.size()), v);
            break;
        case Decode::Decimal:
        case Decode::Text:
        case Decode::Blob:
        case Decode::Json: {
            const size_t len = o.length;
            const size_t have = o.buf.size();
            if (len <= have) {
                v.v.str.ptr = arena_.copy(o.buf.data(), len);
                v.v.str.len = len;
                break;
            }
            // Truncated: the bind buffer holds the first `have` bytes; fetch
            // the rest straight into the arena.
            char *dst = arena_.alloc(len);
            std::memcpy(dst, o.buf.data(), have);
            MYSQL_BIND rest{};
            unsigned long rest_len = 0;
            my_bool rest_null = 0, rest_error = 0;
            rest.buffer_type = binds_[c].buffer_type;
            rest.buffer = dst + have;
            rest.buffer_length = static_cast<unsigned long>(len - have);
            rest.length = &rest_len;
            rest.is_null = &rest_null;
            rest.error = &rest_error;
            if (mysql_stmt_fetch_column(stmt_, &rest, static_cast<unsigned>(c),
                                        static_cast<unsigned long>(have)) != 0)
                throw stmt_failure(stmt_, Phase::Statement);
            v.v.str.ptr = dst;
            v.v.str.len = len;
            if (len <= kMaxBindBuffer) {
                o.buf.assign(next_pow2(len), 0);
                binds_[c].buffer = o.buf.data();
                binds_[c].buffer_length = static_cast<unsigned long>(o.buf.size());
                rebind_ = true;
            }
            break;
        }
        }
    }
}

void StmtResult::release() noexcept {
    if (stmt_ == nullptr) return;
    if (!conn_->broken()) {
        // Reads and drops unread rows: the session must be in sync again
        // before anything else is sent on it.
        mysql_stmt_free_result(stmt_);
        // CALL may leave more result sets and a final status.
        while (mysql_stmt_more_results(stmt_)) {
            if (mysql_stmt_next_result(stmt_) != 0) break;
            mysql_stmt_free_result(stmt_);
        }
    }
    conn_->give_back(stmt_, true);
    stmt_ = nullptr;
}

// ---------------------------------------------------------------------------
// TextResult: text protocol

TextResult::TextResult(Connection *conn, MYSQL_RES *res, std::string_view sql)
    : Result(conn), res_(res) {
    counts_rows_ = returns_changed_rows(sql);
    op_open_ = true;
    set_columns(mysql_fetch_fields(res), mysql_num_fields(res));
}

TextResult::~TextResult() { close(); }

uint32_t TextResult::read_rows(RowSink &sink, uint32_t max_rows) {
    MYSQL *m = conn_->handle();
    const size_t ncol = specs_.size();
    uint32_t n = 0;
    while (n < max_rows) {
        MYSQL_ROW row = mysql_fetch_row(res_);
        if (row == nullptr) {
            if (mysql_errno(m) != 0) throw conn_failure(m, Phase::Statement);
            done_ = true;
            break;
        }
        const unsigned long *lengths = mysql_fetch_lengths(res_);
        ilana_value *cells = sink.add_row();
        for (size_t c = 0; c < ncol; ++c) {
            ilana_value &v = cells[c];
            v.type = specs_[c].type;
            v.is_null = 0;
            v.v.str.ptr = nullptr;
            v.v.str.len = 0;
            if (row[c] == nullptr) {
                v.is_null = 1;
                continue;
            }
            if (!text_to_cell(specs_[c].decode, row[c], lengths[c], v, arena_))
                throw DriverFailure(ILANA_ERR_DATA,
                                    "column '" + columns()[c].name + "': the server sent a value that is not a valid " +
                                        specs_[c].native_type);
        }
        ++n;
        if (batch_full()) break;
    }
    return n;
}

void TextResult::release() noexcept {
    MYSQL *m = conn_->handle();
    if (res_ != nullptr) {
        mysql_free_result(res_); // reads and drops unread rows
        res_ = nullptr;
    }
    if (conn_->broken()) return;
    while (mysql_more_results(m)) {
        if (mysql_next_result(m) != 0) break;
        if (MYSQL_RES *r = mysql_use_result(m)) mysql_free_result(r);
    }
}

// ---------------------------------------------------------------------------
// RowsResult

RowsResult::RowsResult(std::vector<ColumnDef> columns, std::vector<std::vector<OwnedCell>> rows)
    : rows_(std::move(rows)) {
    for (const auto &c : columns) add_column(c.name, c.type, c.native_type, c.nullable);
}

bool RowsResult::fetch(sdk::Batch &out) {
    const size_t ncol = column_count();
    while (!out.full() && next_ < rows_.size()) {
        const auto &row = rows_[next_++];
        ilana_value *cells = out.add_row();
        for (size_t c = 0; c < ncol; ++c) {
            ilana_value &v = cells[c];
            const OwnedCell &o = row[c];
            v.type = o.type;
            v.is_null = o.is_null ? 1 : 0;
            switch (o.type) {
            case ILANA_TYPE_DOUBLE:
                v.v.f64 = o.f64;
                break;
            case ILANA_TYPE_TEXT:
            case ILANA_TYPE_BLOB:
            case ILANA_TYPE_DECIMAL:
            case ILANA_TYPE_UUID:
            case ILANA_TYPE_JSON:
                v.v.str.ptr = o.str.empty() ? nullptr : o.str.data();
                v.v.str.len = o.str.size();
                break;
            default:
                v.v.i64 = o.i64;
                break;
            }
        }
    }
    return next_ >= rows_.size();
}

} // namespace ilana::drivers::mysql
