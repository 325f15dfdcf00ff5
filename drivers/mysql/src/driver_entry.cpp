// driver_entry.cpp — the one exported symbol: descriptor, function table,
// init/deinit and extension lookup of the MySQL/MariaDB driver.
//
// Every entry point runs inside ilana::sdk::guarded(), so no C++ exception
// crosses the ABI, and calls ensure_thread() before touching libmariadb.
#include "entry_support.hpp"
#include "extensions.hpp"
#include "params.hpp"
#include "statement.hpp"

#include <ilana/driver.h>
#include <ilana/sdk/driver_support.hpp>

#include <mariadb_version.h>

#include <cstddef>
#include <cstring>

namespace ilana::drivers::mysql {

extern const ilana_batch_api kBatchApi; // "ilana.batch/1" (pipeline.cpp)

namespace {

using ilana::sdk::guarded;

ilana::sdk::InitCounter g_init;

const char *const kClients[] = {"mysql", "mysql2", "mariadb", nullptr};

// MariaDB has INSERT ... RETURNING since 10.5 but MySQL has none, and one
// descriptor serves both: the query builder must not generate it.
const ilana_dialect kDialect = {
    sizeof(ilana_dialect),
    ILANA_PLACEHOLDER_QUESTION,
    '`',
    {0, 0, 0},
    ILANA_LIMIT_LIMIT_OFFSET,
    ILANA_UPSERT_ON_DUPLICATE_KEY,
    0,
    65535,
};

// No TRANSACTIONAL_DDL: MySQL commits implicitly around DDL.
const ilana_driver_descriptor kDescriptor = {
    sizeof(ilana_driver_descriptor),
    "org.ilana.mysql",
    "MySQL/MariaDB (mysqlclient)",
    "1.0.0",
    "MySQL and MariaDB through libmariadb (MariaDB Connector/C " MARIADB_PACKAGE_VERSION ")",
    kClients,
    ILANA_CAP_TRANSACTIONS | ILANA_CAP_CANCEL | ILANA_CAP_LAST_INSERT_ID | ILANA_CAP_STREAMING |
        ILANA_CAP_PREPARED_CACHE | ILANA_CAP_NETWORK,
    ILANA_THREADS_CONN_SERIALIZED,
    &kDialect,
};

// ---------------------------------------------------------------------------
// init / deinit

ilana_status driver_init(const ilana_host *host, ilana_error *err) {
    return g_init.init(err, [&]() -> ilana_status {
        // mysql_library_init is not thread-safe: it belongs in [exclusive] init.
        if (mysql_library_init(0, nullptr, nullptr) != 0)
            throw DriverFailure(ILANA_ERR_INTERNAL, "mysql_library_init failed");
        host_log().attach(host);
        return ILANA_OK;
    });
}

void driver_deinit() {
    g_init.deinit([] {
        host_log().detach();
        mysql_library_end();
    });
}

// ---------------------------------------------------------------------------
// connections

ilana_status connect(const ilana_connect_params *params, ilana_conn **out, ilana_error *err) {
    if (out != nullptr) *out = nullptr;
    return guarded(err, [&] {
        if (out == nullptr) throw misuse("connect: out is NULL");
        if (params == nullptr || !ILANA_COVERS(params->struct_size, ilana_connect_params, host_context))
            throw misuse("connect: ilana_connect_params missing or struct_size too small");
        ensure_thread();
        *out = to_handle(Connection::open(params).release());
        return ILANA_OK;
    });
}

void close(ilana_conn *conn) {
    if (conn == nullptr) return;
    ensure_thread();
    delete reinterpret_cast<Connection *>(conn);
}

ilana_status ping(ilana_conn *conn, int32_t timeout_ms, ilana_error *err) {
    return guarded(err, [&] {
        conn_of(conn).ping(timeout_ms);
        return ILANA_OK;
    });
}

ilana_status execute(ilana_conn *conn, const ilana_statement *stmt, ilana_result **out, ilana_error *err) {
    if (out != nullptr) *out = nullptr;
    return guarded(err, [&] {
        Connection &c = conn_of(conn);
        if (out == nullptr) throw misuse("execute: out is NULL");
        if (stmt == nullptr || !ILANA_COVERS(stmt->struct_size, ilana_statement, flags))
            throw misuse("execute: ilana_statement missing or struct_size too small");
        if (stmt->sql == nullptr && stmt->sql_len != 0) throw misuse("execute: sql is NULL");
        std::string_view sql(stmt->sql != nullptr ? stmt->sql : "", static_cast<size_t>(stmt->sql_len));
        return hand_out(ilana::drivers::mysql::execute(c, sql, stmt->params, stmt->param_count, stmt->value_size, stmt->flags,
                                             ilana::sdk::statement_timeout_ms(*stmt)),
                        out);
    });
}

void result_info(ilana_result *result, ilana_result_info *out) {
    if (result == nullptr || out == nullptr) return;
    from_handle(result)->info(out);
}

ilana_status fetch(ilana_result *result, ilana_batch *batch, ilana_error *err) {
    return guarded(err, [&] {
        if (result == nullptr) throw misuse("fetch: result handle is NULL");
        ensure_thread();
        return from_handle(result)->fetch(batch);
    });
}

void result_close(ilana_result *result) {
    if (result == nullptr) return;
    ensure_thread();
    Connection::release_result(from_handle(result));
}

// ---------------------------------------------------------------------------
// transactions, cancel, server facts

ilana_status begin(ilana_conn *conn, ilana_error *err) {
    return guarded(err, [&] {
        conn_of(conn).simple_query("START TRANSACTION", Phase::Session, "begin");
        return ILANA_OK;
    });
}

ilana_status commit(ilana_conn *conn, ilana_error *err) {
    return guarded(err, [&] {
        conn_of(conn).simple_query("COMMIT", Phase::Session, "commit");
        return ILANA_OK;
    });
}

ilana_status rollback(ilana_conn *conn, ilana_error *err) {
    return guarded(err, [&] {
        conn_of(conn).simple_query("ROLLBACK", Phase::Session, "rollback");
        return ILANA_OK;
    });
}

ilana_status cancel(ilana_conn *conn, ilana_error *err) {
    if (conn == nullptr) return guarded(err, []() -> ilana_status { throw misuse("cancel: connection handle is NULL"); });
    ensure_thread();
    return reinterpret_cast<Connection *>(conn)->cancel(err);
}

ilana_status server_info(ilana_conn *conn, ilana_server_info *out, ilana_error *err) {
    return guarded(err, [&] {
        Connection &c = conn_of(conn);
        if (out == nullptr || out->struct_size < sizeof(uint32_t)) throw misuse("server_info: out is NULL");
        c.server_info(out);
        return ILANA_OK;
    });
}

const ilana_driver_api kApi = {
    sizeof(ilana_driver_api),
    connect,
    close,
    ping,
    execute,
    result_info,
    fetch,
    result_close,
    begin,
    commit,
    rollback,
    cancel,
    server_info,
};

const void *driver_get_extension(const char *id) {
    if (id == nullptr) return nullptr;
    if (std::strcmp(id, ILANA_EXT_INTROSPECT) == 0) return &kIntrospectApi;
    if (std::strcmp(id, ILANA_EXT_LOCK) == 0) return &kLockApi;
    if (std::strcmp(id, ILANA_EXT_NAMESPACE) == 0) return &kNamespaceApi;
    if (std::strcmp(id, ILANA_EXT_BATCH) == 0) return &kBatchApi;
    if (std::strcmp(id, ILANA_EXT_PARAMS) == 0) return &kParamsApi;
    if (std::strcmp(id, ILANA_EXT_DDL) == 0) return &kDdlApi;
    if (std::strcmp(id, ILANA_EXT_SESSION) == 0) return &kSessionApi;
    return nullptr;
}

} // namespace
} // namespace ilana::drivers::mysql

extern "C" {
ILANA_DRIVER_EXPORT extern const ilana_driver_entry ilana_entry;
const ilana_driver_entry ilana_entry = {
    sizeof(ilana_driver_entry),
    ILANA_DRIVER_MAGIC,
    ILANA_ABI_MAJOR,
    ILANA_ABI_MINOR,
    ilana::drivers::mysql::driver_init,
    ilana::drivers::mysql::driver_deinit,
    &ilana::drivers::mysql::kDescriptor,
    &ilana::drivers::mysql::kApi,
    ilana::drivers::mysql::driver_get_extension,
};
}
