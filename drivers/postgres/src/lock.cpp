// lock.cpp — "ilana.lock/1": a named, session-scoped advisory lock.
//
// The name is hashed server-side (hashtextextended, 64-bit) into the advisory
// lock key. Waiting is a pg_try_advisory_lock loop with back-off rather than
// pg_advisory_lock under lock_timeout: it needs no session or transaction
// setting (so nothing to restore, PgBouncer-neutral), never raises an error
// that would abort the caller's transaction, and can notice cancel() between
// attempts.
#include "connection.hpp"
#include "statement.hpp"

#include <ilana/sdk/driver_support.hpp>

#include <algorithm>
#include <chrono>
#include <thread>

namespace ilana::drivers::postgres {
namespace {

using ilana::sdk::DriverFailure;
using Clock = std::chrono::steady_clock;

bool query_bool(Connection &c, const char *sql, std::string_view name) {
    std::unique_ptr<Result> r = c.execute_sql(sql, {text_param(name)}, ILANA_EXEC_CACHE);
    ilana_value v{};
    if (!r->first_cell(v) || v.is_null != 0 || v.type != ILANA_TYPE_BOOL)
        throw DriverFailure(ILANA_ERR_INTERNAL, "advisory lock query returned no value");
    return v.v.i64 != 0;
}

} // namespace

void Connection::lock_acquire(std::string_view name, int32_t timeout_ms) {
    // timeout_ms < 0: wait without limit; 0: one attempt.
    const auto start = Clock::now();
    auto delay = std::chrono::milliseconds(2);
    for (;;) {
        if (query_bool(*this, "SELECT pg_catalog.pg_try_advisory_lock(pg_catalog.hashtextextended($1::text, 0))",
                       name))
            return;
        auto waited = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start);
        if (timeout_ms >= 0 && waited.count() >= timeout_ms)
            throw DriverFailure(ILANA_ERR_TIMEOUT, "could not take lock '" + std::string(name) + "' within " +
                                                       std::to_string(timeout_ms) +
                                                       " ms: another session holds it");
        auto sleep = delay;
        if (timeout_ms >= 0) sleep = std::min(sleep, std::chrono::milliseconds(timeout_ms) - waited);
        std::this_thread::sleep_for(sleep);
        delay = std::min(delay * 2, std::chrono::milliseconds(100));
        if (cancel_requested.load())
            throw DriverFailure(ILANA_ERR_CANCELED, "waiting for lock '" + std::string(name) + "' was canceled");
    }
}

void Connection::lock_release(std::string_view name) {
    if (!query_bool(*this, "SELECT pg_catalog.pg_advisory_unlock(pg_catalog.hashtextextended($1::text, 0))", name))
        throw DriverFailure(ILANA_ERR_INTERNAL, "lock '" + std::string(name) + "' is not held by this connection");
}

} // namespace ilana::drivers::postgres
