// lock.cpp — "ilana.lock/1": a session-scoped named lock (GET_LOCK).
//
// GET_LOCK waits in whole seconds here (the timeout is rounded up, so the
// wait is never shorter than asked); a negative timeout waits forever. The
// lock belongs to the session, not to a transaction (flags 0): it survives
// COMMIT and is released by release() or when the session ends.
#include "connection.hpp"
#include "statement.hpp"

#include <cstdio>
#include <cstring>

namespace ilana::drivers::mysql {
namespace {

// MySQL 5.7+ refuses lock names longer than 64 characters (error 3057).
// Longer names keep a readable prefix and get a hash of the whole name, so
// distinct long names stay distinct locks.
std::string lock_key(std::string_view name) {
    std::string key(name);
    if (key.size() <= 64) return key;
    uint64_t h = 1469598103934665603ull; // FNV-1a 64
    for (unsigned char ch : key) {
        h ^= ch;
        h *= 1099511628211ull;
    }
    char hex[17];
    std::snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(h));
    size_t n = 47;
    while (n > 0 && (static_cast<unsigned char>(key[n]) & 0xC0u) == 0x80u) --n; // UTF-8 boundary
    return key.substr(0, n) + "#" + hex;
}

int64_t scalar(Connection &c, const char *sql, std::initializer_list<ilana_value> params, bool &is_null) {
    auto rows = query_rows(c, sql, params);
    is_null = rows.empty() || rows[0].empty() || rows[0][0].is_null;
    return is_null ? 0 : rows[0][0].i64;
}

} // namespace

void Connection::lock_acquire(std::string_view name, int32_t timeout_ms) {
    if (name.empty()) throw misuse("lock.acquire: the lock name is empty");
    const std::string key = lock_key(name);
    const int64_t seconds = timeout_ms < 0 ? -1 : (static_cast<int64_t>(timeout_ms) + 999) / 1000;
    bool is_null = false;
    int64_t got = scalar(*this, "SELECT GET_LOCK(?, ?)", {text_value(key.c_str()), int_value(seconds)}, is_null);
    if (is_null)
        throw DriverFailure(ILANA_ERR_INTERNAL, "lock.acquire: GET_LOCK('" + key + "') failed (returned NULL)");
    if (got != 1)
        throw DriverFailure(ILANA_ERR_TIMEOUT, "lock '" + std::string(name) +
                                                   "' is held by another session; gave up after " +
                                                   std::to_string(timeout_ms) + " ms");
}

void Connection::lock_release(std::string_view name) {
    if (name.empty()) throw misuse("lock.release: the lock name is empty");
    const std::string key = lock_key(name);
    bool is_null = false;
    int64_t released = scalar(*this, "SELECT RELEASE_LOCK(?)", {text_value(key.c_str())}, is_null);
    if (is_null) throw misuse("lock.release: lock '" + std::string(name) + "' is not held by anyone");
    if (released != 1) throw misuse("lock.release: lock '" + std::string(name) + "' is held by another session");
}

} // namespace ilana::drivers::mysql
