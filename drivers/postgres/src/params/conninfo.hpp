// conninfo.hpp — ilana connect parameters → libpq keyword/value arrays.
#pragma once

#include <ilana/driver.h>
#include <ilana/sdk/driver.hpp>
#include <ilana/sdk/params.hpp>

#include <string>
#include <utility>
#include <vector>

namespace ilana::drivers::postgres {

// Default bound for establishing a session when neither connect_timeout nor
// ilana_connect_params.timeout_ms says otherwise (libpq's own default is to
// wait forever, which a pool must never do).
constexpr int kDefaultConnectTimeoutMs = 15000;

struct ConnectConfig {
    // libpq keywords and values, each keyword once, for PQconnectStartParams.
    std::vector<std::pair<std::string, std::string>> keywords;
    std::string password;    // only to mask it out of error messages
    int timeout_ms = kDefaultConnectTimeoutMs; // <= 0: no deadline (connect_timeout=0)
    bool pgbouncer = false;  // transaction-pooling safe mode
    bool statement_cache = true;
};

inline constexpr const char *kSslModes[] = {"disable", "allow", "prefer", "require", "verify-ca", "verify-full",
                                            nullptr};

// Every key build_connect_config reads, for "ilana.params/1" (the driver
// class's params): the host checks types, bounds and sslmode at load;
// build_connect_config still checks what a table cannot say (url and
// connectionString together, the URI's own values, search_path and schema
// together) and, with the bounds and values declared here, the values a
// URI carries.
inline constexpr ilana_param_decl kConnectParams[] = {
    sdk::param_string("url", "postgresql://user:password@host:port/database?sslmode=...; explicit keys win"),
    sdk::param_string("connectionString", "same as url (node-postgres spelling)"),
    sdk::param_string("host", "server host name, IP address or Unix socket directory", "localhost"),
    sdk::param_int("port", "server port", 1, 65535, "5432"),
    sdk::param_string("user", "user name"),
    sdk::secret(sdk::param_string("password", "password")),
    sdk::param_string("database", "database name"),
    sdk::param_string("dbname", "same as database (libpq spelling)"),
    sdk::param_string("application_name", "shown in pg_stat_activity", "ilana"),
    sdk::param_bool("ssl", "true: sslmode require; false: sslmode disable"),
    sdk::param_bool("ssl.rejectUnauthorized", "true: sslmode verify-full; false: sslmode require"),
    sdk::param_enum("sslmode", "libpq's sslmode (wins over ssl)", kSslModes),
    sdk::param_string("sslrootcert", "CA certificate file (relative to the config file's directory)"),
    sdk::param_string("sslcert", "client certificate file"),
    sdk::secret(sdk::param_string("sslkey", "client private key file")),
    sdk::param_int("connect_timeout", "bound on establishing the session (seconds, 0 waits forever)", 0, 24 * 3600),
    sdk::param_bool("keepalives", "TCP keepalives", "true"),
    sdk::param_int("keepalives_idle", "seconds of inactivity before a keepalive", 0, 1000000),
    sdk::param_int("keepalives_interval", "seconds between unanswered keepalives", 0, 1000000),
    sdk::param_int("keepalives_count", "lost keepalives before the connection is dead", 0, 1000000),
    sdk::param_bool("pgbouncer", "safe for PgBouncer transaction pooling (no prepared statement cache)", "false"),
    sdk::param_string("search_path", "the session's search_path (a list is passed as written)"),
    sdk::param_string("schema", "one schema as the session's search_path (quoted)"),
    sdk::param_int("statement_timeout", "the server's statement_timeout (milliseconds, 0 = none)", 0, 2147483647),
};

// Reads every parameter, validates it and builds the libpq keywords.
// Throws DriverFailure(ILANA_ERR_CONFIG) naming the bad key; unknown keys
// other than "ilana.*" are rejected. Never builds a conninfo string.
ConnectConfig build_connect_config(sdk::ConnectParams &params);

// Backslash-escapes whitespace and backslashes for libpq's `options`
// keyword (the server splits it on unescaped whitespace).
std::string escape_startup_option(const std::string &value);

} // namespace ilana::drivers::postgres
