// result.hpp — one executed statement's result: streamed in single-row mode,
// or one whole PGresult for a small result the host reads at once.
#pragma once

#include "types.hpp"

#include <ilana/driver.h>

#include <libpq-fe.h>

#include <string>
#include <vector>

namespace ilana::drivers::postgres {

class Connection;
struct CachedStatement;

// Whether abandoning a result's unread rows may send a cancel request
// instead of reading them: never (inside a transaction block, or a
// command), yes (the host said the statement only reads), or when the SQL
// is a query (is_query_text), decided only if rows are really abandoned.
enum class CancelOnClose { never, yes, if_query };

class Result {
public:
    // `may_cancel_on_close`: abandoning unread rows may send a cancel request
    // instead of reading them all (only for reads outside a transaction
    // block, where a cancel cannot undo work or abort the caller's
    // transaction).
    Result(Connection *conn, std::string_view sql, CancelOnClose may_cancel);
    ~Result();
    // Re-arms a recycled result for a new statement, keeping the capacity
    // of its buffers (a point select then allocates nothing here).
    void reset(Connection *conn, std::string_view sql, CancelOnClose may_cancel);
    Connection *connection() const noexcept { return conn_; }
    Result(const Result &) = delete;
    Result &operator=(const Result &) = delete;

    // A row set: `first` is the first PGresult (PGRES_SINGLE_TUPLE, or
    // PGRES_TUPLES_OK for zero rows or a whole result); ownership passes to
    // the result. `stmt` is the cached prepared statement that ran (NULL:
    // not one): its row description is fixed (PostgreSQL fails the
    // execution with 0A000 rather than change it), so the same statement
    // again keeps the description without comparing it; a result read to
    // the end records its row count there (CachedStatement::last_rows).
    void start_rows(PGresult *first, CachedStatement *stmt);
    // A statement without rows (PGRES_COMMAND_OK / EMPTY_QUERY), all read.
    void start_command(const PGresult *res);

    void info(ilana_result_info *out) const;
    // Returns ILANA_OK / ILANA_DONE; throws DriverFailure on a server error
    // in the middle of the rows (cancel, statement_timeout, division by
    // zero in row 10 000, ...).
    ilana_status fetch(ilana_batch *batch);
    // Reads or cancels what is left so the connection is reusable.
    void finish() noexcept;
    // The connection was closed first (host misuse): forget it.
    void detach() noexcept { conn_ = nullptr; }

private:
    // Builds columns_ for `res`, or keeps them: `statement_id` is the cached
    // statement's id (0: not one; see start_rows).
    void describe(const PGresult *res, uint64_t statement_id);
    // Decodes row `res_row` of `res` into batch row `row`.
    void decode_row(const PGresult *res, int res_row, size_t row);
    // The end of the rows: takes `final_result` (PGRES_TUPLES_OK) and drains.
    void complete(PGresult *final_result);
    [[noreturn]] void fail(PGresult *error_result);

    Connection *conn_;
    std::string sql_; // its start: whether closing early cancels (is_query_text)
    CancelOnClose may_cancel_;
    PGresult *pending_ = nullptr; // a row (or the end) read ahead
    // Rows of a whole (non single-row) PGRES_TUPLES_OK result in pending_
    // already handed out (ILANA_EXEC_WHOLE_RESULT).
    int whole_row_ = 0;
    bool finished_ = true;
    // Until result_info reads it: the final PGRES_TUPLES_OK, whose command
    // tag gives affected_ (parse_affected). Cleared by reset and ~Result.
    mutable PGresult *final_ = nullptr;
    mutable int64_t affected_ = -1;
    uint64_t described_statement_ = 0; // the CachedStatement::id columns_ describe
    // While open: the cached statement running (it cannot be evicted while a
    // result is open) and the rows handed out so far.
    CachedStatement *statement_ = nullptr;
    int64_t delivered_ = 0;

    std::vector<ilana_column> columns_;
    std::vector<std::string> names_;
    std::vector<std::string> native_names_; // for OIDs outside the static table
    std::vector<DecodeFn> decoders_;
    std::vector<Oid> types_;   // what the description above was built from
    std::vector<int> formats_;
    std::vector<uint32_t> string_columns_; // cells holding arena offsets
    // What info() reports as columns_id (ABI 1.1): a new id from the
    // connection whenever describe() builds columns_ (afresh or changed),
    // kept while describe() finds the same statement, or the same types,
    // formats and names, from which columns_ follow; 0 without a row set.
    uint64_t columns_id_ = 0;

    std::vector<ilana_value> cells_; // reused across fetches
    Arena arena_;                    // reused across fetches
};

} // namespace ilana::drivers::postgres
