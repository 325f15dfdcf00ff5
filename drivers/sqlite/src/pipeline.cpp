// pipeline.cpp — "ilana.batch/1" for SQLite: one prepared statement stepped
// once per parameter row, inside one transaction.
//
// There is no round trip to save in an embedded database; what a batch
// saves is a transaction (and a journal sync) per row, and the host's
// per-statement work. Outside a transaction the rows run in BEGIN ... COMMIT;
// inside the host's transaction in a SAVEPOINT, so a failing row undoes the
// batch's earlier rows and leaves the host's transaction usable.
#include "sqlite_driver.hpp"

#include <climits>
#include <cstring>
#include <string>

namespace ilana::drivers::sqlite {

namespace {

struct Finalizer {
    sqlite3_stmt *stmt = nullptr;
    ~Finalizer() { sqlite3_finalize(stmt); }
};

sqlite3_stmt *prepare_one(sqlite3 *db, std::string_view sql) {
    if (sql.size() > static_cast<std::size_t>(INT_MAX))
        throw DriverFailure(ILANA_ERR_DATA, "SQL text too long for SQLite", "54000", 0, ILANA_ERRF_NOT_SENT);
    sqlite3_stmt *stmt = nullptr;
    const char *tail = nullptr;
    const int rc = sqlite3_prepare_v2(db, sql.data(), static_cast<int>(sql.size()), &stmt, &tail);
    if (rc != SQLITE_OK) {
        sqlite3_finalize(stmt);
        throw_sqlite(db, rc, Stage::prepare, {}, sql, ILANA_ERRF_NOT_SENT);
    }
    if (stmt == nullptr)
        throw DriverFailure(ILANA_ERR_SYNTAX, "execute_many: the SQL holds no statement", "42601", 0,
                            ILANA_ERRF_NOT_SENT);
    if (tail != nullptr) {
        const std::string_view rest(tail, static_cast<std::size_t>(sql.data() + sql.size() - tail));
        if (!only_trivia(rest)) {
            sqlite3_finalize(stmt);
            throw DriverFailure(ILANA_ERR_SYNTAX,
                                "one statement per execute_many: more SQL follows the first statement, near: " +
                                    sql_excerpt(rest),
                                "42601", 0, ILANA_ERRF_NOT_SENT);
        }
    }
    return stmt;
}

} // namespace

// Driver<> checked the statement and that no result is open; a failure
// names its row (BatchRowFailure), never its values.
int64_t Connection::execute_many(const sdk::BatchStatement &st) {
    require_open();
    if (st.row_count == 0) return 0;
    const std::string_view sql = st.sql;
    sqlite3 *db = db_;

    note_statement(sql);
    Finalizer stmt{prepare_one(db, sql)};
    const bool own_txn = sqlite3_get_autocommit(db) != 0;
    if (own_txn) run("BEGIN", Stage::control, "BEGIN (execute_many)");
    else run("SAVEPOINT ilana_batch", Stage::control, "SAVEPOINT (execute_many)");

    int64_t affected = 0;
    uint64_t row = 0;
    try {
        for (; row < st.row_count; ++row) {
            const sdk::Params params = st.row(row);
            try {
                // Every step of this statement happens in this call and it is
                // finalized before returning: SQLite may read the host's bytes.
                bind_parameters(db, stmt.stmt, params.data(), params.size(), params.stride(), ParamBytes::borrow);
            } catch (const DriverFailure &f) {
                throw DriverFailure(f.error_class(),
                                    "batch row " + std::to_string(row + 1) + " of " + std::to_string(st.row_count) +
                                        ": " + f.what(),
                                    f.sqlstate(), f.native_code(), f.flags() & ~ILANA_ERRF_NOT_SENT);
            }
            int rc;
            while ((rc = sqlite3_step(stmt.stmt)) == SQLITE_ROW) {
            }
            if (rc != SQLITE_DONE) {
                const std::string where =
                    "batch row " + std::to_string(row + 1) + " of " + std::to_string(st.row_count);
                DriverFailure f = sqlite_failure(db, rc, Stage::step, where, sql);
                sqlite3_reset(stmt.stmt);
                throw f;
            }
            affected += sqlite3_changes64(db);
            sqlite3_reset(stmt.stmt);
        }
    } catch (const DriverFailure &f) {
        uint32_t flags = f.flags();
        // Undo the batch's rows; SQLite may already have ended the
        // transaction itself (then there is nothing left to undo).
        if (sqlite3_get_autocommit(db) == 0) {
            try {
                if (own_txn) {
                    run("ROLLBACK", Stage::control, "ROLLBACK (execute_many)");
                } else {
                    run("ROLLBACK TO ilana_batch", Stage::control, "ROLLBACK TO (execute_many)");
                    run("RELEASE ilana_batch", Stage::control, "RELEASE (execute_many)");
                    flags &= ~ILANA_ERRF_TXN_ABORTED;
                }
            } catch (const DriverFailure &) {
                flags |= ILANA_ERRF_TXN_ABORTED;
            }
        } else if (!own_txn) {
            flags |= ILANA_ERRF_TXN_ABORTED; // the host's transaction is gone too
        }
        throw sdk::BatchRowFailure(static_cast<int64_t>(row),
                                   DriverFailure(f.error_class(), f.what(), f.sqlstate(), f.native_code(), flags)
                                       .with_condition(f.condition(), f.constraint_name()));
    }
    // On SQLITE_BUSY at COMMIT the transaction is still open: undo it so
    // the batch stays all or nothing, and report the busy error.
    try {
        if (own_txn) run("COMMIT", Stage::control, "COMMIT (execute_many)");
        else run("RELEASE ilana_batch", Stage::control, "RELEASE (execute_many)");
    } catch (const DriverFailure &) {
        if (own_txn && sqlite3_get_autocommit(db) == 0) {
            try {
                run("ROLLBACK", Stage::control, "ROLLBACK (execute_many)");
            } catch (const DriverFailure &) {
            }
        }
        throw;
    }
    return affected;
}

} // namespace ilana::drivers::sqlite
