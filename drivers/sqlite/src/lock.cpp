// lock.cpp — extension "ilana.lock/1".
//
// SQLite has no named locks; what keeps two migration runners apart is the
// database's write lock, taken with BEGIN IMMEDIATE. So the lock IS a
// transaction (ILANA_LOCK_IS_TRANSACTION): acquire begins it, the host does
// its work inside it, release commits. `name` only appears in messages: every
// name maps to the one write lock of the database file.
#include "sqlite_driver.hpp"

#include <chrono>
#include <climits>
#include <thread>

namespace ilana::drivers::sqlite {
namespace {

using Clock = std::chrono::steady_clock;

// timeout_ms: < 0 waits without limit, 0 tries once, > 0 waits that long.
ilana_status acquire(ilana_conn *h, const char *name, int32_t timeout_ms, ilana_error *err) {
    return sdk::guarded(err, [&] {
        Connection &c = require_conn(h);
        const std::string lock_name = name != nullptr ? name : "";
        c.require_no_open_result("lock acquire");
        if (sqlite3_get_autocommit(c.db()) == 0)
            throw DriverFailure(ILANA_ERR_INTERNAL,
                                "cannot take lock '" + lock_name +
                                    "': a transaction is already open on this connection (the "
                                    "SQLite lock is a BEGIN IMMEDIATE transaction)",
                                "25001");
        const auto start = Clock::now();
        const bool forever = timeout_ms < 0;
        const auto deadline = start + std::chrono::milliseconds(forever ? 0 : timeout_ms);
        for (;;) {
            // SQLite's busy handler does the waiting; the loop is for the
            // busy results it returns without waiting (e.g. after a WAL
            // recovery by another process).
            const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
            const int wait = forever ? INT_MAX : static_cast<int>(left > 0 ? left : 0);
            try {
                BusyTimeoutScope scope(c, wait);
                c.run("BEGIN IMMEDIATE", Stage::control, "lock '" + lock_name + "'");
                c.log(ILANA_LOG_DEBUG, "lock '" + lock_name + "' taken on SQLite database '" +
                                           c.path() + "' (BEGIN IMMEDIATE)");
                return ILANA_OK;
            } catch (const DriverFailure &f) {
                if (f.error_class() != ILANA_ERR_TRANSIENT) throw;
                if (!forever && Clock::now() >= deadline) {
                    const auto waited = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start).count();
                    throw DriverFailure(ILANA_ERR_TIMEOUT,
                                        "lock '" + lock_name + "' not taken within " +
                                            std::to_string(timeout_ms) + " ms (waited " +
                                            std::to_string(waited) + " ms): another connection "
                                            "holds the write lock of SQLite database '" +
                                            c.path() + "'",
                                        "55P03", f.native_code(), f.flags());
                }
                std::this_thread::sleep_for(std::chrono::milliseconds(5));
            }
        }
    });
}

ilana_status release(ilana_conn *h, const char *name, ilana_error *err) {
    return sdk::guarded(err, [&] {
        Connection &c = require_conn(h);
        const std::string lock_name = name != nullptr ? name : "";
        c.require_no_open_result("lock release");
        if (sqlite3_get_autocommit(c.db()) != 0)
            throw DriverFailure(ILANA_ERR_INTERNAL, "lock '" + lock_name +
                                                        "' is not held by this connection (no "
                                                        "transaction is open)",
                                "25000");
        c.run("COMMIT", Stage::control, "releasing lock '" + lock_name + "' (COMMIT)");
        return ILANA_OK;
    });
}

} // namespace

const ilana_lock_api lock_api = {
    sizeof(ilana_lock_api),
    ILANA_LOCK_IS_TRANSACTION,
    acquire,
    release,
};

} // namespace ilana::drivers::sqlite
