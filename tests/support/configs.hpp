// Config files for tests that use the real servers (and SQLite), written
// into a TempDir.
#pragma once

#include "temp_dir.hpp"
#include "test_servers.hpp"

#include <string>

namespace ilana_test {

// The "connection" object for a server ("pg" or "mysql").
inline std::string connection_json(const ServerSettings &s, const std::string &extra = "") {
    return "{\"host\": \"" + s.host + "\", \"port\": " + s.port + ", \"user\": \"" + s.user +
           "\", \"password\": \"" + s.password + "\", \"database\": \"" + s.database + "\"" +
           (extra.empty() ? "" : ", " + extra) + "}";
}

inline std::string pg_connection_json(const std::string &extra = "") { return connection_json(pg(), extra); }
inline std::string mysql_connection_json(const std::string &extra = "") { return connection_json(mysql(), extra); }

} // namespace ilana_test
