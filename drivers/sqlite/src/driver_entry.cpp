// driver_entry.cpp — the driver class's init/deinit, and the one exported
// symbol.
//
// Driver<> (<ilana/sdk/driver.hpp>) builds the entry, the descriptor, the
// function table and the extension tables from SqliteDriver
// (sqlite_driver.hpp) and the members of Connection and Result. Built with
// hidden visibility (ilana_add_driver), so `ilana_entry` is the only symbol
// the host can see.
#include "sqlite_driver.hpp"

namespace ilana::drivers::sqlite {

void SqliteDriver::on_init(const ilana_host & /*host*/) {
    // Connections are opened NOMUTEX and moved between threads: that needs
    // a library built thread-safe (SQLITE_THREADSAFE 1 or 2).
    if (sqlite3_threadsafe() == 0)
        throw DriverFailure(ILANA_ERR_INTERNAL, "the loaded libsqlite3 is built without thread support "
                                                "(SQLITE_THREADSAFE=0); the SQLite driver needs it");
    const int rc = sqlite3_initialize();
    if (rc != SQLITE_OK)
        throw DriverFailure(ILANA_ERR_INTERNAL, std::string("sqlite3_initialize failed: ") + sqlite3_errstr(rc), "",
                            rc);
    dialect.supports_returning = sqlite3_libversion_number() >= 3035000 ? 1 : 0;
    // The per-statement parameter limit is a property of the library build;
    // a fresh in-memory handle reports it.
    sqlite3 *db = nullptr;
    if (sqlite3_open_v2(":memory:", &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, nullptr) == SQLITE_OK) {
        const int limit = sqlite3_limit(db, SQLITE_LIMIT_VARIABLE_NUMBER, -1);
        if (limit > 0) dialect.max_params = static_cast<uint32_t>(limit);
    }
    sqlite3_close_v2(db);
}

// sqlite3_shutdown is deliberately not called: other code in the host
// process may be using SQLite too.
void SqliteDriver::on_deinit() { close_memory_databases(); }

} // namespace ilana::drivers::sqlite

ILANA_SDK_EXPORT_DRIVER(ilana::drivers::sqlite::SqliteDriver)
