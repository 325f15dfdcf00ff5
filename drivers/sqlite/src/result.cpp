// result.cpp — one executed statement: stepping, batches, the arena.
//
// Rows are streamed: each fetch steps the statement up to max_rows times and
// writes each row straight into the SDK's batch (Batch::add_row), copying
// text/blob bytes into the batch's arena (Batch::put_bytes), because the
// pointers sqlite3_column_text/blob return die on the next step. The batch
// keeps its cells and arena across fetches, and the connection keeps the
// closed result for its next statement (recycle), so a point select
// allocates nothing and a long scan only while the first batches warm up.
//
// The statement is always stepped one row ahead: after the last row of a
// batch we already know whether another follows, so the last batch comes
// back as ILANA_DONE and the host needs no extra empty fetch.
#include "sqlite_driver.hpp"

#include <algorithm>
#include <cstring>

namespace ilana::drivers::sqlite {
namespace {

// A batch ends early once this many bytes of text/blob are in the arena (at
// least one row is always returned): 1024 rows of 1 MiB blobs would
// otherwise need a gigabyte at once.
constexpr std::size_t kBatchByteBudget = 8u << 20;


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

Result::Result(Connection &conn, StatementLease stmt, const std::vector<FixedColumn> *fixed_columns)
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
    const uint64_t finalized = conn_->kept_statements_finalized();
    if (stmt_.cached() && s == described_.stmt && fixed_columns_ == described_.fixed &&
        reprepares == described_.reprepares && finalized == described_.cache_finalized)
        return;
    described_ = Described{};
    clear_columns();
    const int n = sqlite3_column_count(s);
    const auto count = static_cast<std::size_t>(n);
    const std::vector<FixedColumn> *fixed = fixed_columns_;
    if (fixed != nullptr && fixed->size() != count)
        throw DriverFailure(ILANA_ERR_INTERNAL, "driver bug: fixed result has " +
                                                    std::to_string(fixed->size()) +
                                                    " columns, the statement " + std::to_string(n));
    fixed_types_.clear();
    for (int i = 0; i < n; ++i) {
        if (fixed != nullptr) {
            const FixedColumn &spec = (*fixed)[static_cast<std::size_t>(i)];
            add_column(spec.name, spec.type, native_name(spec.type), spec.nullable);
            fixed_types_.push_back(spec.type);
        } else {
            const char *name = sqlite3_column_name(s, i);
            const char *decl = sqlite3_column_decltype(s, i); // NULL for expressions
            // SQLite's dynamic typing: each cell says its own type.
            add_column(name != nullptr ? name : "", ILANA_TYPE_ANY, decl != nullptr ? decl : "", -1);
        }
    }
    // A new description: a new id (the host rebuilds what it derived).
    set_columns_id(conn_->next_columns_id());
    if (stmt_.cached()) described_ = Described{s, fixed_columns_, reprepares, finalized};
}

Result::~Result() { finish(); }

void Result::finish() noexcept {
    if (conn_ != nullptr) {
        if (!done_) settle_rowid();
        conn_->result_closed();
    }
    // stmt_ goes back to the cache (reset, bindings cleared) or is finalized;
    // unread rows are simply discarded, SQLite has nothing to drain.
    stmt_.release();
    conn_ = nullptr;
}

bool Result::recycle() noexcept {
    const bool open = conn_ != nullptr;
    finish();
    return open; // a detached result has no connection to wait on
}

void Result::reset(Connection &conn, StatementLease stmt, const std::vector<FixedColumn> *fixed_columns) {
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
    deferred_.reset();
    // The columns stay (frozen, with their columns_id) until
    // describe_columns (or start, for an empty statement) replaces them;
    // the SDK reset affected rows and last insert id (reuse_result).
}

void Result::start() {
    sqlite3_stmt *s = stmt_.get();
    if (s == nullptr) { // empty SQL or only comments: nothing to run
        clear_columns();
        fixed_types_.clear();
        described_ = Described{};
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
        set_affected_rows(-1); // a query
    } else {
        // sqlite3_changes64 keeps the count of the last INSERT/UPDATE/DELETE
        // even across DDL; the total-changes delta says whether this
        // statement changed anything at all.
        const int64_t delta = sqlite3_total_changes64(db) - total_changes_before_;
        set_affected_rows(delta == 0 ? 0 : sqlite3_changes64(db));
    }
    if (rowid_pending_) {
        const int64_t id = sqlite3_last_insert_rowid(db);
        if (id != 0 && affected_rows() > 0)
            set_last_insert_id(id);
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

bool Result::detach() noexcept {
    if (conn_ != nullptr)
        conn_->log(ILANA_LOG_WARN, "SQLite connection to '" + conn_->path() +
                                       "' closed with a result still open; the result is detached");
    settle_rowid();
    if (conn_ != nullptr) conn_->result_closed();
    stmt_.release();
    conn_ = nullptr;
    done_ = true;
    row_pending_ = false;
    return true;
}

void Result::read_row(ilana_value *row, sdk::Batch &out) {
    sqlite3_stmt *s = stmt_.get();
    const std::size_t n = column_count();
    if (fixed_types_.empty()) {
        // The common case (no fixed column types): each cell takes its
        // storage class, every field written once.
        for (std::size_t c = 0; c < n; ++c) {
            ilana_value &v = row[c];
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
                out.put_bytes(v, ILANA_TYPE_BLOB, p, len);
                break;
            }
            default: { // SQLITE_TEXT
                const unsigned char *p = sqlite3_value_text(val);
                const auto len = static_cast<std::size_t>(sqlite3_value_bytes(val));
                if (p == nullptr && sqlite3_errcode(conn_->db()) == SQLITE_NOMEM) throw std::bad_alloc();
                v.is_null = 0;
                out.put_bytes(v, ILANA_TYPE_TEXT, p, p == nullptr ? 0 : len);
                break;
            }
            }
        }
        return;
    }
    for (std::size_t c = 0; c < n; ++c) {
        const int col = static_cast<int>(c);
        ilana_value &v = row[c];
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
            out.put_bytes(v, ILANA_TYPE_BLOB, p, len);
            break;
        }
        default: { // SQLITE_TEXT
            const unsigned char *p = sqlite3_value_text(val);
            const auto len = static_cast<std::size_t>(sqlite3_value_bytes(val));
            if (p == nullptr && sqlite3_errcode(conn_->db()) == SQLITE_NOMEM) throw std::bad_alloc();
            out.put_bytes(v, ILANA_TYPE_TEXT, p, p == nullptr ? 0 : len);
            break;
        }
        }
    }
}

bool Result::fetch(sdk::Batch &out) {
    if (deferred_) {
        // The error met while stepping ahead after the previous batch.
        DriverFailure failure = std::move(*deferred_);
        deferred_.reset();
        throw failure;
    }
    while (row_pending_ && !out.full()) {
        read_row(out.add_row(), out);
        row_pending_ = false;
        try {
            advance();
        } catch (const DriverFailure &f) {
            // Hand out the rows already read; the error comes with the next fetch.
            deferred_.emplace(f);
            break;
        }
        if (out.arena_bytes() >= kBatchByteBudget) break;
    }
    return !row_pending_ && !deferred_;
}

} // namespace ilana::drivers::sqlite
