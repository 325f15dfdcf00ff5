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

void execute_many(Connection &c, const ilana_batch_statement &st, ilana_batch_outcome &out) {
    if (!ILANA_COVERS(st.struct_size, ilana_batch_statement, flags))
        throw DriverFailure(ILANA_ERR_INTERNAL, "execute_many: ilana_batch_statement.struct_size " +
                                                    std::to_string(st.struct_size) + " is too small");
    if (st.sql == nullptr && st.sql_len != 0) throw DriverFailure(ILANA_ERR_INTERNAL, "execute_many: sql is NULL");
    if (st.row_count > 0 && st.param_count > 0 && (st.params == nullptr || st.value_size < sizeof(ilana_value)))
        throw DriverFailure(ILANA_ERR_INTERNAL, "execute_many: params is NULL or value_size is too small");
    c.require_no_open_result("execute_many");
    if (st.row_count == 0) return;
    const std::string_view sql(st.sql != nullptr ? st.sql : "", st.sql_len);
    sqlite3 *db = c.db();

    c.note_statement(sql);
    Finalizer stmt{prepare_one(db, sql)};
    const bool own_txn = sqlite3_get_autocommit(db) != 0;
    if (own_txn) c.run("BEGIN", Stage::control, "BEGIN (execute_many)");
    else c.run("SAVEPOINT ilana_batch", Stage::control, "SAVEPOINT (execute_many)");

    int64_t affected = 0;
    uint64_t row = 0;
    try {
        const char *base = reinterpret_cast<const char *>(st.params);
        const std::size_t row_bytes = static_cast<std::size_t>(st.param_count) * st.value_size;
        for (; row < st.row_count; ++row) {
            const auto *params = st.param_count > 0
                                     ? reinterpret_cast<const ilana_value *>(base + row * row_bytes)
                                     : nullptr;
            try {
                bind_parameters(db, stmt.stmt, params, st.param_count, st.value_size);
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
        out.failed_row = static_cast<int64_t>(row);
        uint32_t flags = f.flags();
        // Undo the batch's rows; SQLite may already have ended the
        // transaction itself (then there is nothing left to undo).
        if (sqlite3_get_autocommit(db) == 0) {
            try {
                if (own_txn) {
                    c.run("ROLLBACK", Stage::control, "ROLLBACK (execute_many)");
                } else {
                    c.run("ROLLBACK TO ilana_batch", Stage::control, "ROLLBACK TO (execute_many)");
                    c.run("RELEASE ilana_batch", Stage::control, "RELEASE (execute_many)");
                    flags &= ~ILANA_ERRF_TXN_ABORTED;
                }
            } catch (const DriverFailure &) {
                flags |= ILANA_ERRF_TXN_ABORTED;
            }
        } else if (!own_txn) {
            flags |= ILANA_ERRF_TXN_ABORTED; // the host's transaction is gone too
        }
        throw DriverFailure(f.error_class(), f.what(), f.sqlstate(), f.native_code(), flags)
            .with_condition(f.condition(), f.constraint_name());
    }
    // On SQLITE_BUSY at COMMIT the transaction is still open: undo it so
    // the batch stays all or nothing, and report the busy error.
    try {
        if (own_txn) c.run("COMMIT", Stage::control, "COMMIT (execute_many)");
        else c.run("RELEASE ilana_batch", Stage::control, "RELEASE (execute_many)");
    } catch (const DriverFailure &) {
        if (own_txn && sqlite3_get_autocommit(db) == 0) {
            try {
                c.run("ROLLBACK", Stage::control, "ROLLBACK (execute_many)");
            } catch (const DriverFailure &) {
            }
        }
        throw;
    }
    out.affected_rows = affected;
}

ilana_status api_execute_many(ilana_conn *h, const ilana_batch_statement *stmt, ilana_batch_outcome *out,
                              ilana_error *err) {
    ilana_batch_outcome local{};
    local.struct_size = sizeof local;
    local.failed_row = -1;
    const ilana_status st = sdk::guarded(err, [&] {
        Connection &c = require_conn(h);
        if (stmt == nullptr) throw DriverFailure(ILANA_ERR_INTERNAL, "execute_many: stmt must not be NULL");
        execute_many(c, *stmt, local);
        return ILANA_OK;
    });
    if (st != ILANA_OK) local.affected_rows = 0;
    if (out != nullptr) {
        if (ILANA_COVERS(out->struct_size, ilana_batch_outcome, affected_rows))
            out->affected_rows = local.affected_rows;
        if (ILANA_COVERS(out->struct_size, ilana_batch_outcome, failed_row)) out->failed_row = local.failed_row;
    }
    return st;
}

} // namespace

extern const ilana_batch_api batch_api;
const ilana_batch_api batch_api = {
    sizeof(ilana_batch_api),
    ILANA_BATCH_LOOP,
    api_execute_many,
};

} // namespace ilana::drivers::sqlite
