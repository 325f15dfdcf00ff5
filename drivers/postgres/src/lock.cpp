// lock.cpp — "ilana.lock/1": a named, session-scoped advisory lock.
//
// The name is hashed server-side (hashtextextended, 64-bit) into the advisory
// lock key. Waiting is a pg_try_advisory_lock loop with back-off rather than
// pg_advisory_lock under lock_timeout: it needs no session or transaction
// setting (so nothing to restore, PgBouncer-neutral), never raises an error
// that would abort the caller's transaction, and can notice cancel() between
// attempts.
#include "connection.hpp"
#include "handles.hpp"
#include "statement.hpp"

#include <ilana/sdk/driver_support.hpp>

#include <algorithm>
#include <chrono>
#include <thread>

namespace ilana::drivers::postgres {
namespace {

using ilana::sdk::DriverFailure;
using ilana::sdk::guarded;
using Clock = std::chrono::steady_clock;

bool query_bool(Connection &c, const char *sql, const char *name) {
    std::unique_ptr<Result> r = execute_sql(c, sql, {text_param(name)}, ILANA_EXEC_CACHE);
    ilana_batch b{};
    b.struct_size = sizeof b;
    b.max_rows = 1;
    r->fetch(&b);
    if (b.row_count != 1 || b.column_count != 1 || b.cells[0].is_null != 0)
        throw DriverFailure(ILANA_ERR_INTERNAL, "advisory lock query returned no value");
    return b.cells[0].v.i64 != 0;
}

ilana_status acquire(ilana_conn *conn, const char *name, int32_t timeout_ms, ilana_error *err) {
    return guarded(err, [&] {
        if (name == nullptr) throw DriverFailure(ILANA_ERR_INTERNAL, "lock: name is NULL");
        Connection &c = conn_ref(conn);
        // timeout_ms < 0: wait without limit; 0: one attempt.
        const auto start = Clock::now();
        auto delay = std::chrono::milliseconds(2);
        for (;;) {
            if (query_bool(c, "SELECT pg_catalog.pg_try_advisory_lock(pg_catalog.hashtextextended($1::text, 0))",
                           name))
                return ILANA_OK;
            auto waited = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start);
            if (timeout_ms >= 0 && waited.count() >= timeout_ms)
                throw DriverFailure(ILANA_ERR_TIMEOUT, "could not take lock '" + std::string(name) + "' within " +
                                                           std::to_string(timeout_ms) +
                                                           " ms: another session holds it");
            auto sleep = delay;
            if (timeout_ms >= 0) sleep = std::min(sleep, std::chrono::milliseconds(timeout_ms) - waited);
            std::this_thread::sleep_for(sleep);
            delay = std::min(delay * 2, std::chrono::milliseconds(100));
            if (c.cancel_requested.load())
                throw DriverFailure(ILANA_ERR_CANCELED, "waiting for lock '" + std::string(name) + "' was canceled");
        }
    });
}

ilana_status release(ilana_conn *conn, const char *name, ilana_error *err) {
    return guarded(err, [&] {
        if (name == nullptr) throw DriverFailure(ILANA_ERR_INTERNAL, "lock: name is NULL");
        Connection &c = conn_ref(conn);
        if (!query_bool(c, "SELECT pg_catalog.pg_advisory_unlock(pg_catalog.hashtextextended($1::text, 0))",
                        name))
            throw DriverFailure(ILANA_ERR_INTERNAL,
                                "lock '" + std::string(name) + "' is not held by this connection");
        return ILANA_OK;
    });
}

const ilana_lock_api kLock = {sizeof(ilana_lock_api), 0, acquire, release};

} // namespace

const ilana_lock_api *lock_api() noexcept { return &kLock; }

} // namespace ilana::drivers::postgres
