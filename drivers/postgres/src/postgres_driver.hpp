// postgres_driver.hpp — the driver class: what the SDK's Driver<>
// (<ilana/sdk/driver.hpp>) builds the descriptor, the function table and
// the extension tables from, with the members of Connection
// (connection.hpp) and Result (result.hpp).
#pragma once

#include "connection.hpp"
#include "params/conninfo.hpp"
#include "result.hpp"

#include <ilana/driver.h>
#include <ilana/sdk/driver.hpp>

#include <memory>
#include <string_view>

namespace ilana::drivers::postgres {

struct PostgresDriver : sdk::Driver<PostgresDriver, Connection, Result> {
    static constexpr const char *id = "org.ilana.postgres";
    static constexpr const char *name = "PostgreSQL (libpq)";
    static constexpr const char *version = "1.0.0";
    static constexpr const char *description =
        "PostgreSQL over libpq: streamed results, prepared-statement cache, PgBouncer mode";
    static constexpr const char *clients[] = {"pg", "postgres", "postgresql"};
    static constexpr uint64_t capabilities = ILANA_CAP_TRANSACTIONS | ILANA_CAP_CANCEL | ILANA_CAP_STREAMING |
                                             ILANA_CAP_PREPARED_CACHE | ILANA_CAP_TRANSACTIONAL_DDL |
                                             ILANA_CAP_NETWORK;
    static constexpr ilana_dialect dialect = {
        sizeof(ilana_dialect),
        ILANA_PLACEHOLDER_DOLLAR,
        '"',
        {0, 0, 0},
        ILANA_LIMIT_LIMIT_OFFSET,
        ILANA_UPSERT_ON_CONFLICT,
        1,     // INSERT ... RETURNING (there is no last-insert-id facility)
        65535, // the protocol's Int16 parameter count
    };
    // "ilana.params/1": every key build_connect_config reads (conninfo.hpp).
    static constexpr const auto &params = kConnectParams;
    // "ilana.batch/1": the rows in libpq pipeline mode (pipeline.cpp).
    static constexpr int32_t batch_method = ILANA_BATCH_PIPELINE;
    // "ilana.namespace/1": a tenant is a schema, chosen per session through
    // the search_path connect parameter (namespace.cpp).
    static constexpr int32_t namespace_isolation = ILANA_NAMESPACE_SCHEMA;
    static constexpr const char *namespace_param_key = "search_path";

    // "ilana.async/1": statements pipelined on one connection (async.cpp).
    static constexpr uint32_t async_flags = ILANA_ASYNC_PIPELINE;

    static std::unique_ptr<Connection> connect(sdk::ConnectParams &p) { return Connection::open(p); }
    static std::unique_ptr<Connection> connect_start(sdk::ConnectParams &p) { return Connection::connect_start(p); }
    static void on_init(const ilana_host &host);
    static void namespace_create(Connection *conn, std::string_view ns);
    static void namespace_drop(Connection *conn, std::string_view ns);
    static bool is_system_namespace(std::string_view ns) noexcept;
};

} // namespace ilana::drivers::postgres
