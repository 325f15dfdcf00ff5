// driver_entry.cpp — the one exported symbol, the descriptor, init/deinit.
//
// Built with hidden visibility (ilana_add_driver), so `ilana_entry` is the
// only symbol the host can see; everything else is reached through it.
#include "sqlite_driver.hpp"

#include <cstring>

namespace ilana::drivers::sqlite {

sdk::HostLog host_log;

// "ilana.batch/1" (pipeline.cpp).
extern const ilana_batch_api batch_api;

namespace {

// Filled at init from the SQLite library actually loaded (a newer or older
// libsqlite3 than the headers may be in use); read-only afterwards.
ilana_dialect g_dialect = {
    sizeof(ilana_dialect),
    ILANA_PLACEHOLDER_QUESTION,
    '"',
    {0, 0, 0},
    ILANA_LIMIT_LIMIT_OFFSET,
    ILANA_UPSERT_ON_CONFLICT, // SQLite >= 3.24
    1,                        // RETURNING: SQLite >= 3.35, checked at init
    32766,                    // SQLITE_MAX_VARIABLE_NUMBER's default, replaced at init
};

const char *const kClients[] = {"sqlite3", "sqlite", nullptr};

const ilana_driver_descriptor kDescriptor = {
    sizeof(ilana_driver_descriptor),
    "org.ilana.sqlite",
    "SQLite3",
    "1.0.0",
    "SQLite3 embedded database through libsqlite3: one file (or :memory:) per connection",
    kClients,
    ILANA_CAP_TRANSACTIONS | ILANA_CAP_CANCEL | ILANA_CAP_LAST_INSERT_ID | ILANA_CAP_STREAMING |
        ILANA_CAP_PREPARED_CACHE | ILANA_CAP_TRANSACTIONAL_DDL,
    ILANA_THREADS_CONN_SERIALIZED,
    &g_dialect,
};

const ilana_driver_api kApi = {
    sizeof(ilana_driver_api),
    api_connect,
    api_close,
    api_ping,
    api_execute,
    api_result_info,
    api_fetch,
    api_result_close,
    api_begin,
    api_commit,
    api_rollback,
    api_cancel,
    api_server_info,
};

sdk::InitCounter g_init;

ilana_status driver_init(const ilana_host *host, ilana_error *err) {
    return g_init.init(err, [host] {
        // Connections are opened NOMUTEX and moved between threads: that
        // needs a library built thread-safe (SQLITE_THREADSAFE 1 or 2).
        if (sqlite3_threadsafe() == 0)
            throw DriverFailure(ILANA_ERR_INTERNAL,
                                "the loaded libsqlite3 is built without thread support "
                                "(SQLITE_THREADSAFE=0); the SQLite driver needs it");
        const int rc = sqlite3_initialize();
        if (rc != SQLITE_OK)
            throw DriverFailure(ILANA_ERR_INTERNAL,
                                std::string("sqlite3_initialize failed: ") + sqlite3_errstr(rc),
                                "", rc);
        g_dialect.supports_returning = sqlite3_libversion_number() >= 3035000 ? 1 : 0;
        // The per-statement parameter limit is a property of the library
        // build; a fresh in-memory handle reports it.
        sqlite3 *db = nullptr;
        if (sqlite3_open_v2(":memory:", &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, nullptr) ==
            SQLITE_OK) {
            const int limit = sqlite3_limit(db, SQLITE_LIMIT_VARIABLE_NUMBER, -1);
            if (limit > 0) g_dialect.max_params = static_cast<uint32_t>(limit);
        }
        sqlite3_close_v2(db);
        host_log.attach(host);
        return ILANA_OK;
    });
}

void driver_deinit() {
    // sqlite3_shutdown is deliberately not called: other code in the host
    // process may be using SQLite too.
    g_init.deinit([] {
        close_memory_databases();
        host_log.detach();
    });
}

const void *driver_get_extension(const char *id) {
    if (id == nullptr) return nullptr;
    if (std::strcmp(id, ILANA_EXT_INTROSPECT) == 0) return &introspect_api;
    if (std::strcmp(id, ILANA_EXT_LOCK) == 0) return &lock_api;
    if (std::strcmp(id, ILANA_EXT_NAMESPACE) == 0) return &namespace_api;
    if (std::strcmp(id, ILANA_EXT_BATCH) == 0) return &batch_api;
    if (std::strcmp(id, ILANA_EXT_PARAMS) == 0) return &params_api;
    if (std::strcmp(id, ILANA_EXT_DDL) == 0) return &ddl_api;
    if (std::strcmp(id, ILANA_EXT_SESSION) == 0) return &session_api;
    return nullptr;
}

} // namespace
} // namespace ilana::drivers::sqlite

extern "C" {
ILANA_DRIVER_EXPORT extern const ilana_driver_entry ilana_entry;

const ilana_driver_entry ilana_entry = {
    sizeof(ilana_driver_entry),
    ILANA_DRIVER_MAGIC,
    ILANA_ABI_MAJOR,
    ILANA_ABI_MINOR,
    ilana::drivers::sqlite::driver_init,
    ilana::drivers::sqlite::driver_deinit,
    &ilana::drivers::sqlite::kDescriptor,
    &ilana::drivers::sqlite::kApi,
    ilana::drivers::sqlite::driver_get_extension,
};
}
