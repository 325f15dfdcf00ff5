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

} // namespace

// timeout_ms: < 0 waits without limit, 0 tries once, > 0 waits that long.
void Connection::lock_acquire(std::string_view name, int32_t timeout_ms) {
    require_open();
    const std::string lock_name(name);
    require_no_open_result("lock acquire");
    if (sqlite3_get_autocommit(db_) == 0)
        throw DriverFailure(ILANA_ERR_INTERNAL,
                            "cannot take lock '" + lock_name +
                                "': a transaction is already open on this connection (the "
                                "SQLite lock is a BEGIN IMMEDIATE transaction)",
                            "25001");
    const auto start = Clock::now();
    const bool forever = timeout_ms < 0;
    const auto deadline = start + std::chrono::milliseconds(forever ? 0 : timeout_ms);
    for (;;) {
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
        const int wait = forever ? INT_MAX : static_cast<int>(left > 0 ? left : 0);
        // SQLite's busy handler does the waiting; the loop is for the busy
        // results it returns without waiting (e.g. after a WAL recovery by
        // another process).
        try {
            BusyTimeoutScope scope(*this, wait);
            run("BEGIN IMMEDIATE", Stage::control, "lock '" + lock_name + "'");
            log(ILANA_LOG_DEBUG, "lock '" + lock_name + "' taken on SQLite database '" + path_ + "' (BEGIN IMMEDIATE)");
            return;
        } catch (const DriverFailure &f) {
            if (f.error_class() != ILANA_ERR_TRANSIENT) throw;
            if (!forever && Clock::now() >= deadline) {
                const auto waited = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start).count();
                throw DriverFailure(ILANA_ERR_TIMEOUT,
                                    "lock '" + lock_name + "' not taken within " + std::to_string(timeout_ms) +
                                        " ms (waited " + std::to_string(waited) +
                                        " ms): another connection holds the write lock of SQLite database '" +
                                        path_ + "'",
                                    "55P03", f.native_code(), f.flags());
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(5));
        }
    }
}

void Connection::lock_release(std::string_view name) {
    require_open();
    const std::string lock_name(name);
    require_no_open_result("lock release");
    if (sqlite3_get_autocommit(db_) != 0)
        throw DriverFailure(ILANA_ERR_INTERNAL,
                            "lock '" + lock_name + "' is not held by this connection (no transaction is open)",
                            "25000");
    run("COMMIT", Stage::control, "releasing lock '" + lock_name + "' (COMMIT)");
}

} // namespace ilana::drivers::sqlite
