// result.cpp — one executed statement: stepping, batches, the arena.
//
// Rows are streamed: each fetch steps the statement up to max_rows times and
// copies the row's text/blob bytes into an arena owned by the result, because
// the pointers sqlite3_column_text/blob return die on the next step. The
// cells, the arena and its fix-up list are vectors kept across fetches, so a
// long scan allocates only while the first batches warm them up.
//
// The statement is always stepped one row ahead: after the last row of a
// batch we already know whether another follows, so the last batch comes
// back as ILANA_DONE and the host needs no extra empty fetch.
#include "sqlite_driver.hpp"

#include <algorithm>
#include <cstring>

namespace ilana::drivers::sqlite {
namespace {

// Default when the host passes max_rows = 0 (the ABI calls it a hint).
constexpr uint32_t kDefaultBatchRows = 1024;
// A batch ends early once this many bytes of text/blob are in the arena (at
// least one row is always returned): 1024 rows of 1 MiB blobs would
// otherwise need a gigabyte at once.
constexpr std::size_t kBatchByteBudget = 8u << 20;

// Zero-length text/blob cells point here rather than at NULL.
const char kEmpty[1] = {'\0'};

const char *native_name(ilana_type t) {
    switch (t) {
    case ILANA_TYPE_BOOL: return "BOOLEAN";
    case ILANA_TYPE_INT64: return "INTEGER";
    case ILANA_TYPE_DOUBLE: return "REAL";
    case ILANA_TYPE_BLOB: return "BLOB";
    default: return "TEXT";
    }
}

} // namespace

Result::Result(Connection &conn, StatementLease stmt, const std::vector<ColumnSpec> *fixed_columns)
    : conn_(&conn), stmt_(std::move(stmt)), fixed_columns_(fixed_columns) {}

// Called after the first step: a statement SQLite re-prepared on that step
// (the schema changed since it was cached, and `SELECT *` now has another
// column) only then reports its final columns.
void Result::describe_columns() {
    sqlite3_stmt *s = stmt_.get();
    // The same cached statement as last time on this (recycled) result, not
    // re-prepared since (a schema change) and not finalized and replaced by
    // another at the same address: the columns are still right.
    const int reprepares = sqlite3_stmt_status(s, SQLITE_STMTSTATUS_REPREPARE, 0);
    const uint64_t finalized = conn_->cached_statements_finalized();
    if (stmt_.cached() && s == described_.stmt && fixed_columns_ == described_.fixed &&
        reprepares == described_.reprepares && finalized == described_.cache_finalized)
        return;
    described_ = Described{};
    columns_id_ = conn_->next_columns_id();
    const int n = sqlite3_column_count(s);
    const auto count = static_cast<std::size_t>(n);
    const std::vector<ColumnSpec> *fixed = fixed_columns_;
    if (fixed != nullptr && fixed->size() != count)
        throw DriverFailure(ILANA_ERR_INTERNAL, "driver bug: fixed result has " +
                                                    std::to_string(fixed->size()) +
                                                    " columns, the statement " + std::to_string(n));
    // Assigned in place: a recycled result reuses its strings' storage.
    names_.resize(count);
    native_types_.resize(count);
    fixed_types_.clear();
    for (int i = 0; i < n; ++i) {
        const auto u = static_cast<std::size_t>(i);
        if (fixed != nullptr) {
            const ColumnSpec &spec = (*fixed)[u];
            names_[u].assign(spec.name);
            native_types_[u].assign(native_name(spec.type));
            fixed_types_.push_back(spec.type);
        } else {
            const char *name = sqlite3_column_name(s, i);
            const char *decl = sqlite3_column_decltype(s, i); // NULL for expressions
            if (name == nullptr) name = "";
            if (decl == nullptr) decl = "";
            // The same statement again (the usual case) finds them equal.
            if (std::strcmp(names_[u].c_str(), name) != 0) names_[u].assign(name);
            if (std::strcmp(native_types_[u].c_str(), decl) != 0) native_types_[u].assign(decl);
        }
    }
    // Pointers into the strings only once the vectors stop growing.
    columns_.resize(count);
    for (std::size_t i = 0; i < count; ++i) {
        ilana_column &c = columns_[i];
        c.struct_size = sizeof(ilana_column);
        c.name = names_[i].c_str();
        c.native_type = native_types_[i].c_str();
        if (fixed != nullptr) {
            c.type = (*fixed)[i].type;
            c.nullable = (*fixed)[i].nullable;
        } else {
            // SQLite's dynamic typing: each cell says its own type.
            c.type = ILANA_TYPE_ANY;
            c.nullable = -1;
        }
    }
    if (stmt_.cached()) described_ = Described{s, fixed_columns_, reprepares, finalized};
}

Result::~Result() { finish(); }

void Result::finish() noexcept {
    if (conn_ != nullptr) {
        if (!done_) settle_rowid();
        conn_->result_closed(this);
    }
    // stmt_ goes back to the cache (reset, bindings cleared) or is finalized;
    // unread rows are simply discarded, SQLite has nothing to drain.
    stmt_.release();
    conn_ = nullptr;
}

void Result::reset(Connection &conn, StatementLease stmt, const std::vector<ColumnSpec> *fixed_columns) {
    conn_ = &conn;
    stmt_ = std::move(stmt);
    fixed_columns_ = fixed_columns;
    readonly_ = true;
    was_in_txn_ = false;
    row_pending_ = false;
    done_ = false;
    rowid_pending_ = false;
    prev_rowid_ = 0;
    total_changes_before_ = 0;
    affected_rows_ = -1;
    last_insert_id_ = 0;
    deferred_.reset();
    // names_, native_types_, columns_ keep their contents: describe_columns
    // (or start, for an empty statement) replaces them.
}

void Result::start() {
    sqlite3_stmt *s = stmt_.get();
    if (s == nullptr) { // empty SQL or only comments: nothing to run
        columns_.clear();
        fixed_types_.clear();
        described_ = Described{};
        columns_id_ = 0;
        done_ = true;
        return;
    }
    sqlite3 *db = conn_->db();
    readonly_ = sqlite3_stmt_readonly(s) != 0;
    was_in_txn_ = sqlite3_get_autocommit(db) == 0;
    total_changes_before_ = sqlite3_total_changes64(db);
    if (!readonly_) {
        // Zeroed so that a non-zero rowid afterwards is this statement's
        // insert, not an older one (UPDATE leaves the rowid untouched); the
        // old value is put back when this statement inserts nothing.
        prev_rowid_ = sqlite3_last_insert_rowid(db);
        sqlite3_set_last_insert_rowid(db, 0);
        rowid_pending_ = true;
    }
    advance();
    describe_columns();
}

void Result::advance() {
    sqlite3 *db = conn_->db();
    sqlite3_stmt *s = stmt_.get();
    const int rc = sqlite3_step(s);
    if (rc == SQLITE_ROW) {
        row_pending_ = true;
        return;
    }
    row_pending_ = false;
    done_ = true;
    if (rc == SQLITE_DONE) {
        on_done();
        return;
    }
    uint32_t flags = 0;
    const bool in_txn_now = sqlite3_get_autocommit(db) == 0;
    // SQLite rolls a transaction back by itself after some errors (IOERR,
    // FULL, NOMEM, an interrupted write, ON CONFLICT ROLLBACK).
    if (was_in_txn_ && !in_txn_now) flags |= ILANA_ERRF_TXN_ABORTED;
    // Outside a transaction a busy statement changed nothing: safe to re-run.
    const int primary = rc & 0xff;
    if (!was_in_txn_ && !in_txn_now && (primary == SQLITE_BUSY || primary == SQLITE_LOCKED))
        flags |= ILANA_ERRF_NOT_SENT;
    DriverFailure failure = sqlite_failure(db, rc, Stage::step, {}, sqlite3_sql(s), flags);
    if (primary == SQLITE_INTERRUPT) failure = conn_->interrupt_failure(std::move(failure));
    if (primary == SQLITE_BUSY) failure = conn_->busy_failure(std::move(failure));
    settle_rowid();
    sqlite3_reset(s); // release the locks the statement held, now
    throw failure;
}

void Result::on_done() {
    sqlite3 *db = conn_->db();
    if (readonly_ && sqlite3_column_count(stmt_.get()) > 0) {
        affected_rows_ = -1; // a query
    } else {
        // sqlite3_changes64 keeps the count of the last INSERT/UPDATE/DELETE
        // even across DDL; the total-changes delta says whether this
        // statement changed anything at all.
        const int64_t delta = sqlite3_total_changes64(db) - total_changes_before_;
        affected_rows_ = delta == 0 ? 0 : sqlite3_changes64(db);
    }
    if (rowid_pending_) {
        const int64_t id = sqlite3_last_insert_rowid(db);
        if (id != 0 && affected_rows_ > 0)
            last_insert_id_ = id;
        else
            sqlite3_set_last_insert_rowid(db, prev_rowid_);
        rowid_pending_ = false;
    }
}

void Result::settle_rowid() noexcept {
    if (!rowid_pending_ || conn_ == nullptr) return;
    sqlite3 *db = conn_->db();
    if (sqlite3_last_insert_rowid(db) == 0) sqlite3_set_last_insert_rowid(db, prev_rowid_);
    rowid_pending_ = false;
}

void Result::detach() noexcept {
    settle_rowid();
    stmt_.release();
    conn_ = nullptr;
    done_ = true;
    row_pending_ = false;
}

void Result::describe(ilana_result_info *out) const noexcept {
    if (out == nullptr) return;
    const uint32_t size = out->struct_size;
    if (ILANA_COVERS(size, ilana_result_info, column_count))
        out->column_count = static_cast<uint32_t>(columns_.size());
    if (ILANA_COVERS(size, ilana_result_info, columns))
        out->columns = columns_.empty() ? nullptr : columns_.data();
    if (ILANA_COVERS(size, ilana_result_info, column_size))
        out->column_size = sizeof(ilana_column);
    // For INSERT/UPDATE/DELETE ... RETURNING both are known only once the
    // last row has been fetched (SQLite counts when the statement ends).
    if (ILANA_COVERS(size, ilana_result_info, affected_rows))
        out->affected_rows = affected_rows_;
    if (ILANA_COVERS(size, ilana_result_info, last_insert_id))
        out->last_insert_id = last_insert_id_;
    if (ILANA_COVERS(size, ilana_result_info, columns_id)) out->columns_id = columns_id_;
}

void Result::put_bytes(std::size_t cell, const void *data, std::size_t len, ilana_type type) {
    ilana_value &v = cells_[cell];
    v.type = type;
    v.v.str.len = len;
    if (len == 0) {
        v.v.str.ptr = kEmpty;
        return;
    }
    // The arena may move while the batch fills: the cell keeps the offset
    // until fetch points it into the finished arena.
    if (len > arena_cap_ - arena_used_) {
        const std::size_t cap = std::max(arena_cap_ * 2, std::max<std::size_t>(arena_used_ + len, 4096));
        std::unique_ptr<char[]> bigger(new char[cap]);
        if (arena_used_ > 0) std::memcpy(bigger.get(), arena_.get(), arena_used_);
        arena_ = std::move(bigger);
        arena_cap_ = cap;
    }
    std::memcpy(arena_.get() + arena_used_, data, len);
    v.v.str.ptr = reinterpret_cast<const char *>(static_cast<uintptr_t>(arena_used_));
    arena_used_ += len;
}

void Result::read_row(std::size_t first) {
    sqlite3_stmt *s = stmt_.get();
    const std::size_t n = columns_.size();
    if (fixed_types_.empty()) {
        // The common case (no fixed column types): each cell takes its
        // storage class, every field written once.
        for (std::size_t c = 0; c < n; ++c) {
            const std::size_t cell = first + c;
            ilana_value &v = cells_[cell];
            // Unprotected value: fine on a NOMUTEX connection used by one
            // thread at a time (driver.h's [conn-serialized]).
            sqlite3_value *val = sqlite3_column_value(s, static_cast<int>(c));
            switch (sqlite3_value_type(val)) {
            case SQLITE_NULL:
                v.type = ILANA_TYPE_NULL;
                v.is_null = 1;
                v.v.str.ptr = nullptr;
                v.v.str.len = 0;
                break;
            case SQLITE_INTEGER:
                v.type = ILANA_TYPE_INT64;
                v.is_null = 0;
                v.v.i64 = sqlite3_value_int64(val);
                break;
            case SQLITE_FLOAT:
                v.type = ILANA_TYPE_DOUBLE;
                v.is_null = 0;
                v.v.f64 = sqlite3_value_double(val);
                break;
            case SQLITE_BLOB: {
                const void *p = sqlite3_value_blob(val); // NULL for a zero-length blob
                const auto len = static_cast<std::size_t>(sqlite3_value_bytes(val));
                if (p == nullptr && len != 0) throw std::bad_alloc();
                v.is_null = 0;
                put_bytes(cell, p, len, ILANA_TYPE_BLOB);
                break;
            }
            default: { // SQLITE_TEXT
                const unsigned char *p = sqlite3_value_text(val);
                const auto len = static_cast<std::size_t>(sqlite3_value_bytes(val));
                if (p == nullptr && sqlite3_errcode(conn_->db()) == SQLITE_NOMEM) throw std::bad_alloc();
                v.is_null = 0;
                put_bytes(cell, p, p == nullptr ? 0 : len, ILANA_TYPE_TEXT);
                break;
            }
            }
        }
        return;
    }
    for (std::size_t c = 0; c < n; ++c) {
        const int col = static_cast<int>(c);
        const std::size_t cell = first + c;
        ilana_value &v = cells_[cell];
        v.is_null = 0;
        v.v.str.ptr = nullptr;
        v.v.str.len = 0;
        const ilana_type want = fixed_types_.empty() ? ILANA_TYPE_ANY : fixed_types_[c];
        // One sqlite3_column_* call per cell (each one takes the statement
        // checks and error bookkeeping), then the value's own accessors.
        // The value is "unprotected": fine here, the connection is NOMUTEX
        // and used by one thread at a time (driver.h's [conn-serialized]).
        sqlite3_value *val = sqlite3_column_value(s, col);
        const int storage = sqlite3_value_type(val);
        if (storage == SQLITE_NULL) {
            v.type = want == ILANA_TYPE_ANY ? ILANA_TYPE_NULL : want;
            v.is_null = 1;
            continue;
        }
        int as = storage;
        if (want == ILANA_TYPE_BOOL || want == ILANA_TYPE_INT64)
            as = SQLITE_INTEGER;
        else if (want == ILANA_TYPE_DOUBLE)
            as = SQLITE_FLOAT;
        else if (want != ILANA_TYPE_ANY)
            as = want == ILANA_TYPE_BLOB ? SQLITE_BLOB : SQLITE_TEXT;
        switch (as) {
        case SQLITE_INTEGER: {
            const sqlite3_int64 i = sqlite3_value_int64(val);
            if (want == ILANA_TYPE_BOOL) {
                v.type = ILANA_TYPE_BOOL;
                v.v.i64 = i != 0 ? 1 : 0;
            } else {
                v.type = ILANA_TYPE_INT64;
                v.v.i64 = i;
            }
            break;
        }
        case SQLITE_FLOAT:
            v.type = ILANA_TYPE_DOUBLE;
            v.v.f64 = sqlite3_value_double(val);
            break;
        case SQLITE_BLOB: {
            const void *p = sqlite3_value_blob(val); // NULL for a zero-length blob
            const auto len = static_cast<std::size_t>(sqlite3_value_bytes(val));
            if (p == nullptr && len != 0) throw std::bad_alloc();
            put_bytes(cell, p, len, ILANA_TYPE_BLOB);
            break;
        }
        default: { // SQLITE_TEXT
            const unsigned char *p = sqlite3_value_text(val);
            const auto len = static_cast<std::size_t>(sqlite3_value_bytes(val));
            if (p == nullptr && sqlite3_errcode(conn_->db()) == SQLITE_NOMEM) throw std::bad_alloc();
            put_bytes(cell, p, p == nullptr ? 0 : len, ILANA_TYPE_TEXT);
            break;
        }
        }
    }
}

ilana_status Result::fetch(ilana_batch *batch) {
    if (batch == nullptr) throw DriverFailure(ILANA_ERR_INTERNAL, "fetch: batch is NULL");
    if (!ILANA_COVERS(batch->struct_size, ilana_batch, cells))
        throw DriverFailure(ILANA_ERR_INTERNAL, "fetch: ilana_batch.struct_size " +
                                                    std::to_string(batch->struct_size) +
                                                    " is too small");
    const std::size_t ncols = columns_.size();
    batch->row_count = 0;
    batch->column_count = static_cast<uint32_t>(ncols);
    batch->value_size = sizeof(ilana_value);
    batch->cells = nullptr;

    if (deferred_) {
        // The error met while stepping ahead after the previous batch.
        DriverFailure failure = std::move(*deferred_);
        deferred_.reset();
        throw failure;
    }
    if (conn_ == nullptr && !done_)
        throw DriverFailure(ILANA_ERR_INTERNAL, "fetch: the connection of this result was closed");

    const uint32_t max_rows = batch->max_rows != 0 ? batch->max_rows : kDefaultBatchRows;
    arena_used_ = 0;
    uint32_t rows = 0;
    while (rows < max_rows && row_pending_) {
        const std::size_t first = static_cast<std::size_t>(rows) * ncols;
        if (cells_.size() < first + ncols) cells_.resize(first + ncols);
        read_row(first);
        ++rows;
        row_pending_ = false;
        try {
            advance();
        } catch (const DriverFailure &f) {
            // Hand out the rows already read; the error comes with the next fetch.
            deferred_.emplace(f);
            break;
        }
        if (arena_used_ >= kBatchByteBudget) break;
    }
    // Offsets to pointers: the cells put_bytes filled (bytes, not empty).
    if (arena_used_ > 0) {
        const char *base = arena_.get();
        for (std::size_t k = 0, n = static_cast<std::size_t>(rows) * ncols; k < n; ++k) {
            ilana_value &v = cells_[k];
            if ((v.type == ILANA_TYPE_TEXT || v.type == ILANA_TYPE_BLOB) && v.is_null == 0 && v.v.str.len > 0)
                v.v.str.ptr = base + reinterpret_cast<uintptr_t>(v.v.str.ptr);
        }
    }

    batch->row_count = rows;
    batch->cells = rows != 0 ? cells_.data() : nullptr;
    return row_pending_ || deferred_ ? ILANA_OK : ILANA_DONE;
}

// ------------------------------------------------------------ ABI functions

void api_result_info(ilana_result *h, ilana_result_info *out) {
    if (h == nullptr) return;
    result_from_handle(h)->describe(out);
}

ilana_status api_fetch(ilana_result *h, ilana_batch *batch, ilana_error *err) {
    return sdk::guarded(err, [&] {
        if (h == nullptr) throw DriverFailure(ILANA_ERR_INTERNAL, "fetch: NULL result handle");
        return result_from_handle(h)->fetch(batch);
    });
}

void api_result_close(ilana_result *h) { Connection::release_result(result_from_handle(h)); }

} // namespace ilana::drivers::sqlite
