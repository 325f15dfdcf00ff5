// result.cpp — rows out of libpq, streamed in single-row mode or whole.
//
// Why single-row mode: without it libpq buffers the whole result in one
// PGresult before the first row is visible, so a million-row SELECT would sit
// in memory twice (libpq + the host). In single-row mode each row arrives as
// its own small PGresult; fetch() decodes up to max_rows of them into one
// reusable cell array and byte arena and clears each PGresult at once, so
// memory stays at one batch whatever the result size. (libpq 17's chunked
// mode would amortise the per-row PGresult; this driver targets libpq 15.)
// The exception is a small result the host reads whole anyway
// (ILANA_EXEC_WHOLE_RESULT, see statement.cpp): one PGRES_TUPLES_OK whose
// rows fetch() hands out max_rows at a time.
#include "result.hpp"

#include "connection.hpp"
#include "errors.hpp"
#include "statement.hpp"

#include <ilana/sdk/driver_support.hpp>

#include <algorithm>
#include <charconv>
#include <cstddef>
#include <cstring>

namespace ilana::drivers::postgres {

using ilana::sdk::DriverFailure;

namespace {

// A hint larger than this is capped: a batch's memory stays bounded even if
// the host asks for "everything".
constexpr uint32_t kMaxBatchRows = 65536;
constexpr uint32_t kDefaultBatchRows = 1024;
// Unread rows result_close reads before it prefers a cancel request (which
// costs the server a process fork; a few thousand rows cost less).
constexpr size_t kDrainBeforeCancel = 2048;

int64_t parse_affected(const PGresult *res) {
    const char *t = PQcmdTuples(const_cast<PGresult *>(res));
    if (t == nullptr || *t == '\0') return -1;
    int64_t n = -1;
    auto r = std::from_chars(t, t + std::strlen(t), n);
    return r.ec == std::errc() ? n : -1;
}

// Reads every remaining result of the current statement (there should be
// none after the final one, but the protocol allows it).
void drain(PGconn *pg) noexcept {
    while (PGresult *r = PQgetResult(pg)) PQclear(r);
}

} // namespace

Result::Result(Connection *conn, std::string_view sql, CancelOnClose may_cancel)
    : conn_(conn), sql_(sql.substr(0, 400)), may_cancel_(may_cancel) {}

Result::~Result() {
    finish();
    PQclear(final_);
}

void Result::reset(Connection *conn, std::string_view sql, CancelOnClose may_cancel) {
    conn_ = conn;
    sql_.assign(sql.substr(0, 400));
    may_cancel_ = may_cancel;
    statement_ = nullptr;
    PQclear(final_);
    final_ = nullptr;
    pending_ = nullptr;
    whole_row_ = 0;
    finished_ = true;
    affected_ = -1;
    // The column description stays: the next statement is often this one
    // again (describe compares); start_command empties it for no rows.
    arena_.bytes.clear();
}

void Result::describe(const PGresult *res, uint64_t statement_id) {
    // The same cached prepared statement as last time (the usual case): its
    // row description is fixed (PostgreSQL fails the execution with 0A000
    // rather than change it, and execute prepares it again under a new id),
    // so there is nothing to look at.
    if (statement_id != 0 && statement_id == described_statement_ && columns_id_ != 0) return;
    described_statement_ = statement_id;
    const int nf = PQnfields(res);
    const auto n = static_cast<size_t>(nf < 0 ? 0 : nf);
    // Otherwise a recycled result often holds this description already (an
    // uncached statement of the same shape): compare instead of rebuilding.
    // The columns (name, type, native_type, nullable) are a function of the
    // name and type OID alone, so an equal comparison keeps columns_id too.
    if (n > 0 && n == columns_.size() && n == types_.size() && columns_id_ != 0) {
        bool same = true;
        for (size_t c = 0; c < n && same; ++c) {
            const int ci = static_cast<int>(c);
            same = types_[c] == PQftype(res, ci) && formats_[c] == PQfformat(res, ci) &&
                   std::strcmp(names_[c].c_str(), PQfname(res, ci)) == 0;
        }
        if (same) return;
    }
    // Built afresh (another statement, a re-prepared one, another result
    // format, a new result object): a new id, never one handed out before.
    columns_id_ = conn_->next_columns_id();
    types_.resize(n);
    formats_.resize(n);
    names_.resize(n);
    native_names_.resize(n); // sized first: columns_ keep c_str() pointers
    columns_.resize(n);
    decoders_.resize(n);
    string_columns_.clear();
    for (size_t c = 0; c < n; ++c) {
        const int ci = static_cast<int>(c);
        const Oid type = PQftype(res, ci);
        const ColumnType ct = column_type(type);
        names_[c] = PQfname(res, ci);
        const char *native = ct.native;
        if (native == nullptr) {
            native_names_[c] = unknown_type_name(type);
            native = native_names_[c].c_str();
        }
        ilana_column &col = columns_[c];
        col.struct_size = sizeof(ilana_column);
        col.name = names_[c].c_str();
        col.type = ct.type;
        col.native_type = native;
        col.nullable = -1; // libpq does not say; the catalog would cost a round trip
        decoders_[c] = decoder_for(type, PQfformat(res, ci));
        types_[c] = type;
        formats_[c] = PQfformat(res, ci);
        if (ct.is_string) string_columns_.push_back(static_cast<uint32_t>(c));
    }
}

void Result::start_rows(PGresult *first, CachedStatement *stmt) {
    statement_ = stmt;
    delivered_ = 0;
    describe(first, stmt != nullptr ? stmt->id : 0);
    pending_ = first;
    finished_ = false;
}

void Result::start_command(const PGresult *res) {
    columns_.clear();
    string_columns_.clear();
    types_.clear();
    columns_id_ = 0; // no row set, no description
    described_statement_ = 0;
    affected_ = parse_affected(res);
    finished_ = true;
}

void Result::info(ilana_result_info *out) const {
    if (out == nullptr) return;
    const uint32_t size = out->struct_size;
    if (ILANA_COVERS(size, ilana_result_info, column_count))
        out->column_count = static_cast<uint32_t>(columns_.size());
    if (ILANA_COVERS(size, ilana_result_info, columns))
        out->columns = columns_.empty() ? nullptr : columns_.data();
    if (ILANA_COVERS(size, ilana_result_info, column_size))
        out->column_size = sizeof(ilana_column);
    // Row sets: known once the last row was read ("SELECT n" tag); -1 before.
    if (ILANA_COVERS(size, ilana_result_info, affected_rows)) {
        if (final_ != nullptr) {
            affected_ = parse_affected(final_);
            PQclear(final_);
            final_ = nullptr;
        }
        out->affected_rows = affected_;
    }
    // No generated-id facility in PostgreSQL: use INSERT ... RETURNING.
    if (ILANA_COVERS(size, ilana_result_info, last_insert_id))
        out->last_insert_id = 0;
    // ABI 1.1; a v1.0 host's struct ends before it.
    if (ILANA_COVERS(size, ilana_result_info, columns_id)) out->columns_id = columns_id_;
}

void Result::decode_row(const PGresult *res, int res_row, size_t row) {
    const size_t ncols = columns_.size();
    if (ncols == 0) return;
    if (cells_.size() < (row + 1) * ncols) cells_.resize(std::max(cells_.size() * 2, (row + 1) * ncols));
    ilana_value *cell = cells_.data() + row * ncols;
    for (size_t c = 0; c < ncols; ++c, ++cell) {
        const int ci = static_cast<int>(c);
        cell->type = columns_[c].type;
        // NULL has length 0: ask libpq about NULL only for empty values.
        const int len = PQgetlength(res, res_row, ci);
        if (len == 0 && PQgetisnull(res, res_row, ci) != 0) {
            cell->is_null = 1;
            cell->v.u64 = 0;
            continue;
        }
        cell->is_null = 0;
        decoders_[c](PQgetvalue(res, res_row, ci), len, cell, arena_);
    }
}

void Result::complete(PGresult *final_result) {
    // Kept, and its "SELECT n" tag parsed only if result_info asks after the
    // end: a host reading a query's rows rarely does.
    PQclear(final_);
    final_ = final_result;
    finished_ = true;
    drain(conn_->pg());
    conn_->end_deadline();
}

void Result::fail(PGresult *error_result) {
    PgResultPtr holder(error_result);
    finished_ = true;
    // Drain first: the transaction status (TXN_ABORTED) is only final once
    // the server said ReadyForQuery.
    drain(conn_->pg());
    throw failure_from_result(holder.get(), conn_->pg(), ErrorContext{conn_->cancel_requested.load()});
}

ilana_status Result::fetch(ilana_batch *batch) {
    if (batch == nullptr || !ILANA_COVERS(batch->struct_size, ilana_batch, cells))
        throw DriverFailure(ILANA_ERR_INTERNAL, "fetch: ilana_batch is NULL or its struct_size is too small");
    const size_t ncols = columns_.size();
    batch->row_count = 0;
    batch->column_count = static_cast<uint32_t>(ncols);
    batch->value_size = sizeof(ilana_value);
    batch->cells = cells_.data();
    if (finished_ && pending_ == nullptr) return ILANA_DONE;
    if (conn_ == nullptr) throw DriverFailure(ILANA_ERR_INTERNAL, "fetch after the connection was closed");
    // max_rows 0 means "the driver's default" (driver.h).
    const size_t max_rows = batch->max_rows == 0 ? kDefaultBatchRows : std::min(batch->max_rows, kMaxBatchRows);
    PGconn *pg = conn_->pg();
    arena_.bytes.clear();

    size_t rows = 0;
    bool error_pending = false; // an error after some rows waits for the next fetch
    while (rows < max_rows && !finished_ && !error_pending) {
        PGresult *r = pending_ != nullptr ? pending_ : PQgetResult(pg);
        pending_ = nullptr;
        if (r == nullptr) { // the end without a final status: the connection dropped
            finished_ = true;
            throw failure_from_conn(pg);
        }
        switch (PQresultStatus(r)) {
        case PGRES_SINGLE_TUPLE: {
            PgResultPtr row(r); // cleared as soon as it is copied
            decode_row(r, 0, rows);
            ++rows;
            break;
        }
        case PGRES_TUPLES_OK: {
            // The end of a single-row stream (no rows), or a whole result
            // (ILANA_EXEC_WHOLE_RESULT): its rows go out max_rows at a time.
            const int total = PQntuples(r);
            while (rows < max_rows && whole_row_ < total) decode_row(r, whole_row_++, rows++);
            if (whole_row_ < total) {
                pending_ = r; // the rest in the next fetch
                break;
            }
            whole_row_ = 0;
            complete(r);
            break;
        }
        default:
            // An error after some rows: hand out the rows, fail the next fetch.
            if (rows == 0) fail(r);
            pending_ = r;
            error_pending = true;
        }
    }
    // A full batch: if the end is already buffered, say DONE now and spare
    // the host a call that would return nothing.
    if (!finished_ && !error_pending && pending_ == nullptr && PQisBusy(pg) == 0) {
        PGresult *r = PQgetResult(pg);
        if (r == nullptr) {
            finished_ = true;
        } else if (PQresultStatus(r) == PGRES_TUPLES_OK) {
            complete(r);
        } else {
            pending_ = r; // a row, or an error the next fetch reports
        }
    }
    // Cells hold arena offsets until now: turn them into pointers.
    const char *base = arena_.bytes.data();
    for (size_t row = 0; row < rows; ++row) {
        ilana_value *cells = cells_.data() + row * ncols;
        for (uint32_t c : string_columns_) {
            ilana_value &cell = cells[c];
            if (cell.is_null != 0) continue;
            cell.v.str.ptr = base + reinterpret_cast<uintptr_t>(cell.v.str.ptr);
        }
    }
    batch->row_count = static_cast<uint32_t>(rows);
    batch->cells = cells_.data();
    delivered_ += static_cast<int64_t>(rows);
    if (finished_ && statement_ != nullptr) {
        statement_->last_rows = delivered_;
        statement_ = nullptr;
    }
    return finished_ ? ILANA_DONE : ILANA_OK;
}

void Result::finish() noexcept {
    statement_ = nullptr; // an abandoned result says nothing of its size
    if (pending_ != nullptr) {
        // A read-ahead final result (or a whole one, rows unread): the end.
        if (PQresultStatus(pending_) == PGRES_TUPLES_OK && conn_ != nullptr) {
            PGresult *last = pending_;
            pending_ = nullptr;
            whole_row_ = 0;
            complete(last);
        } else {
            PQclear(pending_);
            pending_ = nullptr;
        }
    }
    if (conn_ == nullptr) return;
    if (!finished_) {
        PGconn *pg = conn_->pg();
        size_t read = 0;
        bool canceled = false;
        while (PGresult *r = PQgetResult(pg)) {
            PQclear(r);
            if (!canceled && may_cancel_ != CancelOnClose::never && ++read >= kDrainBeforeCancel) {
                // Decided here, once: only a result really abandoned pays
                // for the keyword test.
                if (may_cancel_ == CancelOnClose::if_query)
                    may_cancel_ = is_query_text(sql_) ? CancelOnClose::yes : CancelOnClose::never;
                if (may_cancel_ == CancelOnClose::yes) {
                    conn_->cancel_quietly();
                    canceled = true;
                }
            }
        }
        finished_ = true;
    }
    conn_->end_deadline();
    if (conn_->open_result == this) conn_->open_result = nullptr;
}

} // namespace ilana::drivers::postgres
