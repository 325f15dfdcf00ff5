// result.hpp — one executed statement's result: streamed in single-row mode,
// or one whole PGresult for a small result the host reads at once.
#pragma once

#include "types.hpp"

#include <ilana/driver.h>
#include <ilana/sdk/result.hpp>

#include <libpq-fe.h>

#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace ilana::drivers::postgres {

class Connection;
struct CachedStatement;

struct PgResultDeleter {
    void operator()(PGresult *r) const noexcept { PQclear(r); }
};
using PgResultPtr = std::unique_ptr<PGresult, PgResultDeleter>;

// Whether abandoning a result's unread rows may send a cancel request
// instead of reading them: never (inside a transaction block, or a
// command), yes (the host said the statement only reads), or when the SQL
// is a query (is_query_text), decided only if rows are really abandoned.
enum class CancelOnClose { never, yes, if_query };

// One executed statement, on Driver<>'s zero-cost path: the connection
// keeps a closed result (recycle) for its next execute, with its column
// description while the cached prepared statement is unchanged (the same
// columns_id), and fetch writes rows straight into the SDK's batch, the
// decoded bytes in the result's own arena (Batch::cells() points them
// there once the batch is complete).
class Result : public sdk::Result {
public:
    explicit Result(Connection &conn) : conn_(&conn) {}
    ~Result() override;

    // Arms the result for a new statement, keeping the capacity of its
    // buffers (a point select then allocates nothing here). `may_cancel`:
    // abandoning unread rows may send a cancel request instead of reading
    // them all (only for reads outside a transaction block, where a cancel
    // cannot undo work or abort the caller's transaction).
    void start(std::string_view sql, CancelOnClose may_cancel);
    // A row set: `first` is the first PGresult (PGRES_SINGLE_TUPLE, or
    // PGRES_TUPLES_OK for zero rows or a whole result); ownership passes to
    // the result. `stmt` is the cached prepared statement that ran (NULL:
    // not one): its row description is fixed (PostgreSQL fails the
    // execution with 0A000 rather than change it), so the same statement
    // again keeps the description without comparing it; a result read to
    // the end records its row count there (CachedStatement::last_rows).
    void start_rows(PGresult *first, CachedStatement *stmt);
    // A whole row set of a pipelined statement ("ilana.async/1",
    // async.cpp): PGRES_TUPLES_OK, owned by the result; nothing of it is
    // left on the connection, which has moved on to the next statement.
    void start_whole(PGresult *whole, CachedStatement *stmt) {
        start_rows(whole, stmt);
        pipelined_ = true;
    }
    // A statement without rows (PGRES_COMMAND_OK / EMPTY_QUERY), all read.
    void start_command(const PGresult *res);
    // The first row's first cell, decoded into `out` (a driver-written
    // single-value query: lock.cpp); false when there is no row.
    bool first_cell(ilana_value &out);
    // Reads or cancels what is left so the connection is reusable.
    void finish() noexcept;

protected:
    // Appends up to max_rows rows; throws DriverFailure on a server error in
    // the middle of the rows (cancel, statement_timeout, division by zero in
    // row 10 000, ...), classified against the statement timeout.
    bool fetch(sdk::Batch &out) override;
    // Closed: the rest read or canceled, kept for the connection's next
    // statement.
    bool recycle() noexcept override;
    // The connection is closing under this open result (host misuse):
    // forget it; a later fetch fails, result_close frees the result.
    bool detach() noexcept override;

private:
    bool fetch_rows(sdk::Batch &out);
    // Builds the column description for `res`, or keeps it: `statement_id`
    // is the cached statement's id (0: not one; see start_rows).
    void describe(const PGresult *res, uint64_t statement_id);
    // Decodes row `res_row` of `res` into `cells` (one per column).
    void decode_row(const PGresult *res, int res_row, ilana_value *cells);
    // The end of the rows: `final_result` (PGRES_TUPLES_OK) gives the
    // affected rows ("SELECT n"); drains.
    void complete(PGresult *final_result);
    [[noreturn]] void fail(PGresult *error_result);

    Connection *conn_;
    std::string sql_; // its start: whether closing early cancels (is_query_text)
    CancelOnClose may_cancel_ = CancelOnClose::never;
    PGresult *pending_ = nullptr; // a row (or the end) read ahead
    // Rows of a whole (non single-row) PGRES_TUPLES_OK result in pending_
    // already handed out (ILANA_EXEC_WHOLE_RESULT).
    int whole_row_ = 0;
    bool finished_ = true;
    bool pipelined_ = false; // start_whole: the end leaves the connection alone
    uint64_t described_statement_ = 0; // the CachedStatement::id the columns describe
    // While open: the cached statement running (it cannot be evicted while a
    // result is open) and the rows handed out so far.
    CachedStatement *statement_ = nullptr;
    int64_t delivered_ = 0;

    // What the description was built from (type OIDs, wire formats; the
    // names are the columns' own), and how each column's cells are made.
    // The columns_id (ABI 1.1) is a new one from the connection whenever
    // describe() builds the description (afresh or changed), kept while
    // describe() finds the same statement, or the same types, formats and
    // names, from which the columns follow.
    std::vector<Oid> oids_;
    std::vector<int> formats_;
    std::vector<ilana_type> cell_types_;
    std::vector<DecodeFn> decoders_;
    std::vector<uint32_t> string_columns_; // cells holding arena offsets

    Arena arena_; // reused across fetches
};

} // namespace ilana::drivers::postgres
