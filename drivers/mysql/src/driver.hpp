// driver.hpp — the MySQL/MariaDB driver class on the SDK's Driver<>.
//
// Driver<> (<ilana/sdk/driver.hpp>) builds the entry, the descriptor, the
// function table and every extension table from MysqlDriver's static
// members and the members of Connection (connection.hpp) and Result
// (result.hpp): no ABI function is written by hand here.
#pragma once

#include "connection.hpp"
#include "result.hpp"

#include <ilana/driver.h>
#include <ilana/sdk/driver.hpp>
#include <ilana/sdk/params.hpp>

#include <mariadb_version.h>

#include <memory>
#include <string_view>

namespace ilana::drivers::mysql {

struct MysqlDriver : ilana::sdk::Driver<MysqlDriver, Connection, Result> {
    static constexpr const char *id = "org.ilana.mysql";
    static constexpr const char *name = "MySQL/MariaDB (mysqlclient)";
    static constexpr const char *version = "1.0.0";
    static constexpr const char *description =
        "MySQL and MariaDB through libmariadb (MariaDB Connector/C " MARIADB_PACKAGE_VERSION ")";
    static constexpr const char *clients[] = {"mysql", "mysql2", "mariadb"};
    // No TRANSACTIONAL_DDL: MySQL commits implicitly around DDL.
    static constexpr uint64_t capabilities = ILANA_CAP_TRANSACTIONS | ILANA_CAP_CANCEL | ILANA_CAP_LAST_INSERT_ID |
                                             ILANA_CAP_STREAMING | ILANA_CAP_PREPARED_CACHE | ILANA_CAP_NETWORK;
    // MariaDB has INSERT ... RETURNING since 10.5 but MySQL has none, and one
    // descriptor serves both: the query builder must not generate it.
    static constexpr ilana_dialect dialect = {
        sizeof(ilana_dialect),
        ILANA_PLACEHOLDER_QUESTION,
        '`',
        {0, 0, 0},
        ILANA_LIMIT_LIMIT_OFFSET,
        ILANA_UPSERT_ON_DUPLICATE_KEY,
        0,
        65535,
    };
    // "ilana.params/1": every key parse_config (params.cpp) reads; the host
    // checks types and bounds at load; parse_config still checks what a
    // table cannot say (the URL, charset and time zone forms, ssl
    // contradictions, readable certificate files), and checked_range reads
    // the bounds from here.
    static constexpr ilana_param_decl params[] = {
        ilana::sdk::param_string("url", "mysql://user:password@host:port/database?key=value; explicit keys win"),
        ilana::sdk::param_string("host", "server host name or IP address", "localhost"),
        ilana::sdk::param_int("port", "server port", 1, 65535, "3306"),
        ilana::sdk::param_string("user", "user name"),
        ilana::sdk::secret(ilana::sdk::param_string("password", "password")),
        ilana::sdk::param_string("database", "default database"),
        ilana::sdk::param_string("socketPath", "Unix socket instead of TCP"),
        ilana::sdk::param_string("charset", "a UTF-8 character set or collation (utf8mb4, utf8mb4_unicode_ci)",
                                 "utf8mb4"),
        ilana::sdk::param_string("timezone", "session time zone: UTC, local, +HH:MM or a zone name", "local"),
        ilana::sdk::param_int("connectTimeout", "bound on establishing the session (milliseconds, as in mysql2)", 1,
                              3600000, "10000"),
        ilana::sdk::param_int("connect_timeout", "same as connectTimeout (milliseconds); wins over it", 1, 3600000),
        ilana::sdk::param_int("readTimeout", "socket read timeout (seconds, 0 = none)", 0, 86400, "0"),
        ilana::sdk::param_int("writeTimeout", "socket write timeout (seconds, 0 = none)", 0, 86400, "0"),
        ilana::sdk::param_int("maxPreparedStatements", "prepared statements cached per connection", 0, 16382, "64"),
        ilana::sdk::param_bool("ssl", "use TLS (implied by the ssl.* keys)", "false"),
        ilana::sdk::param_string("ssl.ca", "CA certificate file (relative to the config file's directory)"),
        ilana::sdk::param_string("ssl.cert", "client certificate file (with ssl.key)"),
        ilana::sdk::secret(ilana::sdk::param_string("ssl.key", "client private key file (with ssl.cert)")),
        ilana::sdk::param_bool("ssl.rejectUnauthorized", "verify the server's certificate", "true"),
    };
    // "ilana.lock/1": GET_LOCK, held by the session, not a transaction (lock.cpp).
    static constexpr uint32_t lock_flags = 0;
    // "ilana.batch/1": COM_STMT_BULK_EXECUTE on MariaDB, one execution per
    // row otherwise (pipeline.cpp).
    static constexpr int32_t batch_method = ILANA_BATCH_BULK;
    // "ilana.namespace/1": one database per tenant (namespace.cpp).
    static constexpr int32_t namespace_isolation = ILANA_NAMESPACE_DATABASE;
    static constexpr const char *namespace_param_key = "database";

    static std::unique_ptr<Connection> connect(ilana::sdk::ConnectParams &settings) { return Connection::open(settings); }
    // "ilana.async/1" (async.cpp): statements one after another on the
    // wire, so no ILANA_ASYNC_PIPELINE.
    static std::unique_ptr<Connection> connect_start(ilana::sdk::ConnectParams &settings) {
        return Connection::connect_start(settings);
    }
    static void on_init(const ilana_host &host);
    static void on_deinit();
    static void namespace_create(Connection *conn, std::string_view ns);
    static void namespace_drop(Connection *conn, std::string_view ns);
    static bool is_system_namespace(std::string_view ns);
};

} // namespace ilana::drivers::mysql
