// params.hpp — connection parameters of the MySQL/MariaDB driver.
//
// parse_config() turns the host's flattened "connection" object into an
// immutable Config. The Config is kept by the connection for its whole life
// and is read, without locks, by cancel() from another thread to open the
// side connection that sends KILL QUERY; it must never change after connect.
#pragma once

#include <ilana/driver.h>

#include <cstddef>
#include <optional>
#include <string>

namespace ilana::drivers::mysql {

struct Config {
    std::string host = "localhost";
    unsigned port = 3306;
    std::optional<std::string> user;
    std::optional<std::string> password;
    std::optional<std::string> database;
    std::string socket_path;     // non-empty: unix socket instead of TCP
    std::string charset = "utf8mb4";
    std::string collation;       // non-empty: SET NAMES <charset> COLLATE <collation>
    std::string time_zone;       // non-empty: SET time_zone = '<value>' after connect
    bool ssl = false;
    bool ssl_verify = true;      // ssl.rejectUnauthorized
    std::string ssl_ca, ssl_cert, ssl_key;
    int connect_timeout_ms = 10000;
    unsigned read_timeout_s = 0; // 0: libmariadb default (wait forever)
    unsigned write_timeout_s = 0;
    size_t max_prepared = 64;    // per-connection prepared statement cache
    std::string name;            // "ilana.connection", for messages only
    void *host_context = nullptr;

    // "127.0.0.1:3306" or the socket path; for messages (never secrets).
    std::string target() const;
};

// Throws DriverFailure(ILANA_ERR_CONFIG) naming the offending key.
Config parse_config(const ilana_connect_params *params);

} // namespace ilana::drivers::mysql
