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

Result::~Result() { finish(); }

void Result::start(std::string_view sql, CancelOnClose may_cancel) {
    sql_.assign(sql.substr(0, 400));
    may_cancel_ = may_cancel;
    pipelined_ = false;
    statement_ = nullptr;
    pending_ = nullptr;
    whole_row_ = 0;
    finished_ = true;
    // The column description stays: the next statement is often this one
    // again (describe compares); start_command empties it for no rows.
}

void Result::describe(const PGresult *res, uint64_t statement_id) {
    // The same cached prepared statement as last time (the usual case): its
    // row description is fixed (PostgreSQL fails the execution with 0A000
    // rather than change it, and execute prepares it again under a new id),
    // so there is nothing to look at.
    if (statement_id != 0 && statement_id == described_statement_ && columns_id() != 0) return;
    described_statement_ = statement_id;
    const int nf = PQnfields(res);
    const auto n = static_cast<size_t>(nf < 0 ? 0 : nf);
    // Otherwise a recycled result often holds this description already (an
    // uncached statement of the same shape): compare instead of rebuilding.
    // The columns (name, type, native_type, nullable) are a function of the
    // name and type OID alone, so an equal comparison keeps columns_id too.
    if (n > 0 && n == oids_.size() && columns_id() != 0) {
        const auto &cols = columns();
        bool same = true;
        for (size_t c = 0; c < n && same; ++c) {
            const int ci = static_cast<int>(c);
            same = oids_[c] == PQftype(res, ci) && formats_[c] == PQfformat(res, ci) &&
                   std::strcmp(cols[c].name.c_str(), PQfname(res, ci)) == 0;
        }
        if (same) return;
    }
    // Built afresh (another statement, a re-prepared one, another result
    // format, a new result object): a new id, never one handed out before.
    clear_columns();
    set_columns_id(conn_->next_columns_id());
    oids_.resize(n);
    formats_.resize(n);
    cell_types_.resize(n);
    decoders_.resize(n);
    string_columns_.clear();
    for (size_t c = 0; c < n; ++c) {
        const int ci = static_cast<int>(c);
        const Oid type = PQftype(res, ci);
        const ColumnType ct = column_type(type);
        // libpq does not say whether a column is nullable; the catalog
        // would cost a round trip.
        add_column(PQfname(res, ci), ct.type, ct.native != nullptr ? std::string(ct.native) : unknown_type_name(type),
                   -1);
        oids_[c] = type;
        formats_[c] = PQfformat(res, ci);
        cell_types_[c] = ct.type;
        decoders_[c] = decoder_for(type, formats_[c]);
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
    clear_columns(); // no row set, no description (and columns_id 0)
    oids_.clear();
    cell_types_.clear();
    string_columns_.clear();
    described_statement_ = 0;
    set_affected_rows(parse_affected(res));
    finished_ = true;
}

void Result::decode_row(const PGresult *res, int res_row, ilana_value *cell) {
    const size_t ncols = cell_types_.size();
    for (size_t c = 0; c < ncols; ++c, ++cell) {
        const int ci = static_cast<int>(c);
        cell->type = cell_types_[c];
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

bool Result::first_cell(ilana_value &out) {
    const PGresult *res = pending_;
    if (res == nullptr || PQntuples(res) < 1 || cell_types_.empty()) return false;
    arena_.bytes.clear();
    const int len = PQgetlength(res, 0, 0);
    out.type = cell_types_[0];
    if (len == 0 && PQgetisnull(res, 0, 0) != 0) {
        out.is_null = 1;
        return true;
    }
    out.is_null = 0;
    decoders_[0](PQgetvalue(res, 0, 0), len, &out, arena_);
    if (!string_columns_.empty() && string_columns_[0] == 0)
        out.v.str.ptr = arena_.bytes.data() + reinterpret_cast<uintptr_t>(out.v.str.ptr);
    return true;
}

void Result::complete(PGresult *final_result) {
    // The "SELECT n" tag: the affected rows of a row set, known at its end.
    PgResultPtr holder(final_result);
    set_affected_rows(parse_affected(final_result));
    finished_ = true;
    // A pipelined result's end (its NULL, the Sync) was read by the poll
    // that completed it; the results that follow are other statements'.
    if (pipelined_) return;
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

bool Result::fetch(sdk::Batch &out) {
    if (finished_ && pending_ == nullptr) return true;
    if (conn_ == nullptr) throw DriverFailure(ILANA_ERR_INTERNAL, "fetch after the connection was closed");
    try {
        return fetch_rows(out);
    } catch (const DriverFailure &f) {
        throw conn_->deadline_failure(f); // a timeout, when the deadline explains it
    }
}

bool Result::fetch_rows(sdk::Batch &out) {
    // max_rows 0 means "the driver's default" (driver.h): the SDK makes it 1024.
    const uint32_t max_rows = std::min(out.max_rows(), kMaxBatchRows);
    PGconn *pg = conn_->pg();
    arena_.bytes.clear();

    uint32_t rows = 0;
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
            decode_row(r, 0, out.add_row());
            ++rows;
            break;
        }
        case PGRES_TUPLES_OK: {
            // The end of a single-row stream (no rows), or a whole result
            // (ILANA_EXEC_WHOLE_RESULT): its rows go out max_rows at a time.
            const int total = PQntuples(r);
            while (rows < max_rows && whole_row_ < total) {
                decode_row(r, whole_row_++, out.add_row());
                ++rows;
            }
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
    if (rows > 0 && !string_columns_.empty()) {
        const char *base = arena_.bytes.data();
        const size_t ncols = cell_types_.size();
        ilana_value *cells = out.cells();
        for (uint32_t row = 0; row < rows; ++row, cells += ncols) {
            for (uint32_t c : string_columns_) {
                ilana_value &cell = cells[c];
                if (cell.is_null != 0) continue;
                cell.v.str.ptr = base + reinterpret_cast<uintptr_t>(cell.v.str.ptr);
            }
        }
    }
    delivered_ += static_cast<int64_t>(rows);
    if (finished_ && statement_ != nullptr) {
        statement_->last_rows = delivered_;
        statement_ = nullptr;
    }
    return finished_;
}

bool Result::recycle() noexcept {
    finish();
    return conn_ != nullptr;
}

bool Result::detach() noexcept {
    statement_ = nullptr; // the connection's cache goes with it
    conn_ = nullptr;
    return true;
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
}

} // namespace ilana::drivers::postgres
