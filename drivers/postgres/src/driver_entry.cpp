// driver_entry.cpp — the one exported symbol: descriptor, dialect, the
// function table, counted init/deinit, and the extensions by id.
//
// Each ABI function is a thin trampoline: guarded() turns every exception
// into the error record, so no C++ exception crosses the boundary.
#include "driver_state.hpp"
#include "errors.hpp"
#include "handles.hpp"
#include "params/conninfo.hpp"
#include "statement.hpp"

#include <ilana/driver.h>
#include <ilana/sdk/driver_support.hpp>

#include <libpq-fe.h>

#include <cstring>

namespace ilana::drivers::postgres {

// "ilana.batch/1" (pipeline.cpp).
const ilana_batch_api *batch_api() noexcept;

using ilana::sdk::DriverFailure;
using ilana::sdk::guarded;

namespace {

ilana::sdk::InitCounter g_init;
ilana::sdk::HostLog g_log;

// --------------------------------------------------------------------------
// Descriptor
// --------------------------------------------------------------------------

const ilana_dialect kDialect = {
    sizeof(ilana_dialect),
    ILANA_PLACEHOLDER_DOLLAR,
    '"',
    {0, 0, 0},
    ILANA_LIMIT_LIMIT_OFFSET,
    ILANA_UPSERT_ON_CONFLICT,
    1,     // INSERT ... RETURNING (there is no last-insert-id facility)
    65535, // the protocol's Int16 parameter count
};

const char *const kClients[] = {"pg", "postgres", "postgresql", nullptr};

const ilana_driver_descriptor kDescriptor = {
    sizeof(ilana_driver_descriptor),
    "org.ilana.postgres",
    "PostgreSQL (libpq)",
    "1.0.0",
    "PostgreSQL over libpq: streamed results, prepared-statement cache, PgBouncer mode",
    kClients,
    ILANA_CAP_TRANSACTIONS | ILANA_CAP_CANCEL | ILANA_CAP_STREAMING | ILANA_CAP_PREPARED_CACHE |
        ILANA_CAP_TRANSACTIONAL_DDL | ILANA_CAP_NETWORK,
    ILANA_THREADS_CONN_SERIALIZED,
    &kDialect,
};

// --------------------------------------------------------------------------
// Init / deinit
// --------------------------------------------------------------------------

ilana_status driver_init(const ilana_host *host, ilana_error *err) {
    return g_init.init(err, [&]() -> ilana_status {
        if (host != nullptr && !ILANA_COVERS(host->struct_size, ilana_host, free))
            throw DriverFailure(ILANA_ERR_INTERNAL, "ilana_host.struct_size is too small for ABI 1.0");
        // The pool moves connections between threads: libpq must be built
        // thread-safe (it is on every current platform).
        if (PQisthreadsafe() == 0)
            throw DriverFailure(ILANA_ERR_INTERNAL, "libpq was built without thread safety");
        g_log.attach(host);
        return ILANA_OK;
    });
}

void driver_deinit(void) {
    g_init.deinit([] { g_log.detach(); });
}

// --------------------------------------------------------------------------
// Connections
// --------------------------------------------------------------------------

ilana_status pg_connect(const ilana_connect_params *params, ilana_conn **out, ilana_error *err) {
    if (out != nullptr) *out = nullptr;
    return guarded(err, [&] {
        if (out == nullptr) throw DriverFailure(ILANA_ERR_INTERNAL, "connect: out is NULL");
        std::unique_ptr<Connection> c = Connection::open(params);
        *out = to_handle(c.release());
        return ILANA_OK;
    });
}

void pg_close(ilana_conn *conn) { delete from_handle(conn); }

ilana_status pg_ping(ilana_conn *conn, int32_t timeout_ms, ilana_error *err) {
    return guarded(err, [&] {
        conn_ref(conn).ping(timeout_ms);
        return ILANA_OK;
    });
}

ilana_status pg_execute(ilana_conn *conn, const ilana_statement *stmt, ilana_result **out, ilana_error *err) {
    if (out != nullptr) *out = nullptr;
    return guarded(err, [&] {
        if (stmt == nullptr || out == nullptr)
            throw DriverFailure(ILANA_ERR_INTERNAL, "execute: statement or out is NULL");
        Connection &c = conn_ref(conn);
        try {
            std::unique_ptr<Result> r = execute(c, *stmt);
            *out = to_handle(r.release());
        } catch (const DriverFailure &f) {
            throw c.deadline_failure(f); // a timeout, when the deadline explains it
        }
        return ILANA_OK;
    });
}

void pg_result_info(ilana_result *result, ilana_result_info *out) {
    if (result != nullptr) from_handle(result)->info(out);
}

ilana_status pg_fetch(ilana_result *result, ilana_batch *batch, ilana_error *err) {
    return guarded(err, [&] {
        if (result == nullptr) throw DriverFailure(ILANA_ERR_INTERNAL, "fetch: result is NULL");
        Result *r = from_handle(result);
        try {
            return r->fetch(batch);
        } catch (const DriverFailure &f) {
            if (r->connection() == nullptr) throw;
            throw r->connection()->deadline_failure(f);
        }
    });
}

void pg_result_close(ilana_result *result) { Connection::release_result(from_handle(result)); }

ilana_status pg_begin(ilana_conn *conn, ilana_error *err) {
    return guarded(err, [&] {
        conn_ref(conn).begin();
        return ILANA_OK;
    });
}

ilana_status pg_commit(ilana_conn *conn, ilana_error *err) {
    return guarded(err, [&] {
        conn_ref(conn).commit();
        return ILANA_OK;
    });
}

ilana_status pg_rollback(ilana_conn *conn, ilana_error *err) {
    return guarded(err, [&] {
        conn_ref(conn).rollback();
        return ILANA_OK;
    });
}

ilana_status pg_cancel(ilana_conn *conn, ilana_error *err) {
    return guarded(err, [&] {
        conn_ref(conn).cancel();
        return ILANA_OK;
    });
}

ilana_status pg_server_info(ilana_conn *conn, ilana_server_info *out, ilana_error *err) {
    return guarded(err, [&] {
        if (out == nullptr) throw DriverFailure(ILANA_ERR_INTERNAL, "server_info: out is NULL");
        conn_ref(conn).server_info(out);
        return ILANA_OK;
    });
}

const ilana_driver_api kApi = {
    sizeof(ilana_driver_api),
    pg_connect,
    pg_close,
    pg_ping,
    pg_execute,
    pg_result_info,
    pg_fetch,
    pg_result_close,
    pg_begin,
    pg_commit,
    pg_rollback,
    pg_cancel,
    pg_server_info,
};

const void *driver_get_extension(const char *id) {
    if (id == nullptr) return nullptr;
    if (std::strcmp(id, ILANA_EXT_INTROSPECT) == 0) return introspect_api();
    if (std::strcmp(id, ILANA_EXT_LOCK) == 0) return lock_api();
    if (std::strcmp(id, ILANA_EXT_NAMESPACE) == 0) return namespace_api();
    if (std::strcmp(id, ILANA_EXT_PARAMS) == 0) return &kParamsApi;
    if (std::strcmp(id, ILANA_EXT_BATCH) == 0) return batch_api();
    if (std::strcmp(id, ILANA_EXT_DDL) == 0) return ddl_api();
    if (std::strcmp(id, ILANA_EXT_SESSION) == 0) return session_api();
    return nullptr;
}

} // namespace

const ilana::sdk::HostLog &host_log() noexcept { return g_log; }

Connection &conn_ref(ilana_conn *h) {
    if (h == nullptr) throw DriverFailure(ILANA_ERR_INTERNAL, "connection handle is NULL");
    return *from_handle(h);
}

} // namespace ilana::drivers::postgres

extern "C" {
ILANA_DRIVER_EXPORT extern const ilana_driver_entry ilana_entry;
const ilana_driver_entry ilana_entry = {
    sizeof(ilana_driver_entry),
    ILANA_DRIVER_MAGIC,
    ILANA_ABI_MAJOR,
    ILANA_ABI_MINOR,
    ilana::drivers::postgres::driver_init,
    ilana::drivers::postgres::driver_deinit,
    &ilana::drivers::postgres::kDescriptor,
    &ilana::drivers::postgres::kApi,
    ilana::drivers::postgres::driver_get_extension,
};
}
