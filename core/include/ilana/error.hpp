// ilana/error.hpp — the one exception hierarchy of the C++ API.
//
// Every failure the core reports is an ilana::Error (or a subclass). It keeps
// what the driver said (error class, SQLSTATE, native code, flags) and which
// connection it happened on, so callers and the retry logic decide from
// classes, never from message text. Messages never contain passwords or bound
// parameter values.
//
// Catch by kind (libpqxx's except.hxx is the model): the subclasses below
// follow the error class (and, for constraints and conflicts, the SQLSTATE or
// the driver's condition), so `catch (const ilana::UniqueViolation &)` works
// the same on every database. The core decides the type in one place; a
// rethrown error keeps it (the core adds context to the caught object and
// rethrows it, never a copy of the base).
//
//   Error                      every failure
//   ├─ ConnectionError         class connection: server unreachable or lost,
//   │                          pool closed (auth failures are not: class auth)
//   ├─ OutcomeUnknown          a write or commit was sent and the connection
//   │                          lost before its answer (NOT a ConnectionError:
//   │                          a handler that retries those must not re-run it)
//   ├─ TimeoutError            class timeout: statement, connect, lock wait
//   │  └─ PoolTimeout          no pooled connection within acquireTimeoutMillis
//   ├─ StatementCanceled       class canceled: Session::cancel()
//   ├─ ConstraintViolation     class constraint; constraint_name()
//   │  ├─ UniqueViolation      23505, MySQL 1062/1586, SQLite UNIQUE/PRIMARY KEY
//   │  ├─ ForeignKeyViolation  23503, MySQL 1451/1452
//   │  ├─ NotNullViolation     23502, MySQL 1048
//   │  └─ CheckViolation       23514, MariaDB 4025, MySQL 3819
//   ├─ SerializationFailure    class transient, 40001: run the transaction again
//   │  └─ DeadlockDetected     40P01, MySQL 1213
//   ├─ ConfigError             a mistake in the configuration
//   └─ ConversionError         a value read as the wrong C++ type
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>

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

    // The message, then " [SQL: <sql()>]" when the error is about a statement.
    const char *what() const noexcept override { return what_.c_str(); }
    // The message alone (what() without the SQL excerpt).
    const std::string &message() const noexcept { return message_; }
    // The start of the statement that failed: its SQL text on one line, at
    // most 120 bytes, "..." when cut. Never a bound parameter value (only
    // the text is shown). "" when the failure is not a statement's.
    const std::string &sql() const noexcept { return sql_; }

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
    // The core throws these as OutcomeUnknown.
    bool outcome_unknown() const noexcept { return outcome_unknown_; }
    void set_outcome_unknown() noexcept { outcome_unknown_ = true; }
    uint32_t flags() const noexcept { return flags_; }

    // Used by the core where it knows more than the thrower: adds text
    // around the message ("batch row 3 of 10: " ...), or the statement
    // (excerpted as sql() says; kept when one is already set). Both change
    // this object, so a handler that catches by reference and rethrows
    // with `throw;` keeps the error's type.
    void add_context(const std::string &before, const std::string &after = {});
    void set_sql(std::string_view sql);

private:
    void compose();
    std::string message_;
    std::string sql_;
    std::string what_;
    ErrorClass class_;
    std::string connection_;
    std::string sqlstate_;
    int32_t native_code_;
    uint32_t flags_;
    bool outcome_unknown_ = false;
};

// The server cannot be reached, or the connection was lost (or the pool is
// closed). Trying again later, or elsewhere, may succeed. A lost connection
// whose write may have been applied is an OutcomeUnknown instead.
class ConnectionError : public Error {
public:
    explicit ConnectionError(Error facts) : Error(std::move(facts)) {}
};

// A write or a commit reached the server and the connection was lost before
// the answer: it may or may not have been applied (libpqxx's in_doubt_error).
// Its error_class() is still connection; it is deliberately not a
// ConnectionError, so a handler that retries those never re-runs it. Check
// the data, then decide.
class OutcomeUnknown : public Error {
public:
    explicit OutcomeUnknown(Error facts) : Error(std::move(facts)) { set_outcome_unknown(); }
};

// A time limit passed: the statement timeout, a connect timeout, a lock wait
// (migration lock), or the pool's acquireTimeoutMillis (PoolTimeout).
class TimeoutError : public Error {
public:
    explicit TimeoutError(Error facts) : Error(std::move(facts)) {}
};

// The statement was canceled (Session::cancel from another thread).
class StatementCanceled : public Error {
public:
    explicit StatementCanceled(Error facts) : Error(std::move(facts)) {}
};

// An integrity constraint refused the change. The subclasses say which kind
// when the database tells; constraint_name() is the constraint (or unique
// index) the server named: PostgreSQL always; MariaDB for unique keys,
// foreign keys and CHECK constraints; SQLite for a named CHECK constraint
// only (its UNIQUE and NOT NULL messages name columns, its foreign key
// failures nothing). "" when not known.
class ConstraintViolation : public Error {
public:
    ConstraintViolation(Error facts, std::string constraint_name)
        : Error(std::move(facts)), constraint_name_(std::move(constraint_name)) {}
    const std::string &constraint_name() const noexcept { return constraint_name_; }

private:
    std::string constraint_name_;
};

class UniqueViolation : public ConstraintViolation {
public:
    using ConstraintViolation::ConstraintViolation;
};

class ForeignKeyViolation : public ConstraintViolation {
public:
    using ConstraintViolation::ConstraintViolation;
};

class NotNullViolation : public ConstraintViolation {
public:
    using ConstraintViolation::ConstraintViolation;
};

class CheckViolation : public ConstraintViolation {
public:
    using ConstraintViolation::ConstraintViolation;
};

// The server rolled the transaction back because it conflicted with another
// one (SQLSTATE 40001 under REPEATABLE READ / SERIALIZABLE, SQLite's busy
// snapshot). Nothing of it was applied: run the whole transaction again.
class SerializationFailure : public Error {
public:
    explicit SerializationFailure(Error facts) : Error(std::move(facts)) {}
};

// The server broke a deadlock by rolling this transaction back (PostgreSQL
// 40P01, MySQL/MariaDB 1213). A SerializationFailure: the same remedy.
class DeadlockDetected : public SerializationFailure {
public:
    using SerializationFailure::SerializationFailure;
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

// The pool could not lend a connection within acquireTimeoutMillis (class
// timeout; a TimeoutError).
class PoolTimeout : public TimeoutError {
public:
    explicit PoolTimeout(const std::string &message, ErrorClass cls = ErrorClass::timeout, std::string connection = {})
        : TimeoutError(Error(message, cls, std::move(connection))) {}
};

// A value could not be converted to the requested C++ type (Row access).
class ConversionError : public Error {
public:
    explicit ConversionError(const std::string &message) : Error(message, ErrorClass::data) {}
};

} // namespace ilana
