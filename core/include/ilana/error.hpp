// ilana/error.hpp — the one exception hierarchy of the C++ API.
//
// Every failure the core reports is an ilana::Error (or a subclass). It keeps
// what the driver said (error class, SQLSTATE, native code, flags) and which
// connection it happened on, so callers and the retry logic decide from
// classes, never from message text. Messages never contain passwords or bound
// parameter values.
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>

namespace ilana {

// Mirrors ILANA_ERR_* of <ilana/driver.h>; the values are the same numbers.
enum class ErrorClass : int32_t {
    none = 0,
    connection = 1,
    transient = 2,
    timeout = 3,
    auth = 4,
    syntax = 5,
    constraint = 6,
    permission = 7,
    data = 8,
    canceled = 9,
    internal = 10,
    config = 11,
};

// "connection", "transient", ... (stable, used in logs and JSON output).
const char *to_string(ErrorClass cls) noexcept;

class Error : public std::runtime_error {
public:
    explicit Error(const std::string &message, ErrorClass cls = ErrorClass::internal,
                   std::string connection = {}, std::string sqlstate = {}, int32_t native_code = 0,
                   uint32_t flags = 0);

    ErrorClass error_class() const noexcept { return class_; }
    const std::string &sqlstate() const noexcept { return sqlstate_; }
    int32_t native_code() const noexcept { return native_code_; }
    // Name of the connection in the config ("" when not tied to one).
    const std::string &connection() const noexcept { return connection_; }
    // The connection that raised this must be discarded (ILANA_ERRF_CONN_BROKEN).
    bool poisons_connection() const noexcept;
    // The transaction is aborted; only rollback is possible.
    bool aborted_transaction() const noexcept;
    // The statement never reached the server, so re-running it is safe.
    bool not_sent() const noexcept;
    // connection, transient or timeout: trying again may succeed.
    bool is_transient() const noexcept;
    // A write (or commit) reached the server and the connection was lost
    // before its answer: it may or may not have been applied. Never re-run
    // it blindly (with_retry's default leaves it alone); check the data.
    bool outcome_unknown() const noexcept { return outcome_unknown_; }
    // Set by the core where it knows the statement wrote.
    void set_outcome_unknown() noexcept { outcome_unknown_ = true; }
    uint32_t flags() const noexcept { return flags_; }

private:
    ErrorClass class_;
    std::string connection_;
    std::string sqlstate_;
    int32_t native_code_;
    uint32_t flags_;
    bool outcome_unknown_ = false;
};

// A mistake in the configuration: names the file and the JSON path.
class ConfigError : public Error {
public:
    ConfigError(const std::string &message, std::string file = {}, std::string json_path = {});
    const std::string &file() const noexcept { return file_; }
    const std::string &json_path() const noexcept { return json_path_; }

private:
    std::string file_;
    std::string json_path_;
};

// The pool could not lend a connection within acquireTimeoutMillis.
class PoolTimeout : public Error {
public:
    using Error::Error;
};

// A value could not be converted to the requested C++ type (Row access).
class ConversionError : public Error {
public:
    explicit ConversionError(const std::string &message) : Error(message, ErrorClass::data) {}
};

} // namespace ilana
