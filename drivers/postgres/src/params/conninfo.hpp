// conninfo.hpp — ilana connect parameters → libpq keyword/value arrays.
#pragma once

#include <ilana/driver.h>

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

// Reads every parameter (ParamReader), validates it and builds the libpq
// keywords. Throws DriverFailure(ILANA_ERR_CONFIG) naming the bad key; unknown
// keys other than "ilana.*" are rejected. Never builds a conninfo string.
ConnectConfig build_connect_config(const ilana_connect_params *params);

// "ilana.params/1": every key build_connect_config reads.
extern const ilana_params_api kParamsApi;

// Backslash-escapes whitespace and backslashes for libpq's `options`
// keyword (the server splits it on unescaped whitespace).
std::string escape_startup_option(const std::string &value);

} // namespace ilana::drivers::postgres
