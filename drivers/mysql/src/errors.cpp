// errors.cpp — THE error table of the MySQL/MariaDB driver.
//
// One row per error number the host must treat specially: class (what kind
// of failure) and flags (is the session gone, is the transaction aborted, was
// the statement never sent). Server errors are ER_* (1000-4999), client
// errors from libmariadb are CR_* (2000-2999, 5000+). Numbers not listed fall
// back to their SQLSTATE class, then to ILANA_ERR_INTERNAL.
#include "errors.hpp"

#include <algorithm>
#include <cstring>

namespace ilana::drivers::mysql {
namespace {

constexpr uint32_t BROKEN = ILANA_ERRF_CONN_BROKEN;
constexpr uint32_t ABORTED = ILANA_ERRF_TXN_ABORTED;
constexpr uint32_t NOT_SENT = ILANA_ERRF_NOT_SENT;

// Grouped by kind of error for reading.
constexpr ilana::sdk::NativeCodeRule kTable[] = {
    // --- server errors ------------------------------------------------------
    {1020, ILANA_ERR_TRANSIENT, 0},             // ER_CHECKREAD: record changed since last read
    {1022, ILANA_ERR_CONSTRAINT, 0},            // ER_DUP_KEY
    {1040, ILANA_ERR_TRANSIENT, 0},             // ER_CON_COUNT_ERROR: too many connections
    {1041, ILANA_ERR_TRANSIENT, 0},             // ER_OUT_OF_RESOURCES
    {1044, ILANA_ERR_PERMISSION, 0},            // ER_DBACCESS_DENIED_ERROR
    {1045, ILANA_ERR_AUTH, 0},                  // ER_ACCESS_DENIED_ERROR: bad user/password
    {1048, ILANA_ERR_CONSTRAINT, 0},            // ER_BAD_NULL_ERROR: column cannot be null
    {1049, ILANA_ERR_SYNTAX, 0},                // ER_BAD_DB_ERROR: unknown database
    {1050, ILANA_ERR_SYNTAX, 0},                // ER_TABLE_EXISTS_ERROR
    {1051, ILANA_ERR_SYNTAX, 0},                // ER_BAD_TABLE_ERROR: unknown table
    {1052, ILANA_ERR_SYNTAX, 0},                // ER_NON_UNIQ_ERROR: ambiguous column
    {1053, ILANA_ERR_CONNECTION, BROKEN},       // ER_SERVER_SHUTDOWN
    {1054, ILANA_ERR_SYNTAX, 0},                // ER_BAD_FIELD_ERROR: unknown column
    {1060, ILANA_ERR_SYNTAX, 0},                // ER_DUP_FIELDNAME
    {1061, ILANA_ERR_SYNTAX, 0},                // ER_DUP_KEYNAME
    {1062, ILANA_ERR_CONSTRAINT, 0},            // ER_DUP_ENTRY: unique violation
    {1064, ILANA_ERR_SYNTAX, 0},                // ER_PARSE_ERROR
    {1065, ILANA_ERR_SYNTAX, 0},                // ER_EMPTY_QUERY
    {1066, ILANA_ERR_SYNTAX, 0},                // ER_NONUNIQ_TABLE
    {1068, ILANA_ERR_SYNTAX, 0},                // ER_MULTIPLE_PRI_KEY
    {1072, ILANA_ERR_SYNTAX, 0},                // ER_KEY_COLUMN_DOES_NOT_EXIST
    {1091, ILANA_ERR_SYNTAX, 0},                // ER_CANT_DROP_FIELD_OR_KEY
    {1095, ILANA_ERR_PERMISSION, 0},            // ER_KILL_DENIED_ERROR
    {1109, ILANA_ERR_SYNTAX, 0},                // ER_UNKNOWN_TABLE
    {1110, ILANA_ERR_SYNTAX, 0},                // ER_FIELD_SPECIFIED_TWICE
    {1115, ILANA_ERR_CONFIG, 0},                // ER_UNKNOWN_CHARACTER_SET
    {1129, ILANA_ERR_CONNECTION, BROKEN},       // ER_HOST_IS_BLOCKED
    {1130, ILANA_ERR_AUTH, 0},                  // ER_HOST_NOT_PRIVILEGED
    {1135, ILANA_ERR_TRANSIENT, 0},             // ER_CANT_CREATE_THREAD
    {1136, ILANA_ERR_SYNTAX, 0},                // ER_WRONG_VALUE_COUNT_ON_ROW
    {1142, ILANA_ERR_PERMISSION, 0},            // ER_TABLEACCESS_DENIED_ERROR
    {1143, ILANA_ERR_PERMISSION, 0},            // ER_COLUMNACCESS_DENIED_ERROR
    {1149, ILANA_ERR_SYNTAX, 0},                // ER_SYNTAX_ERROR
    {1152, ILANA_ERR_CONNECTION, BROKEN},       // ER_ABORTING_CONNECTION
    {1153, ILANA_ERR_DATA, BROKEN},             // ER_NET_PACKET_TOO_LARGE: server drops the session
    {1154, ILANA_ERR_CONNECTION, BROKEN},       // ER_NET_READ_ERROR_FROM_PIPE
    {1155, ILANA_ERR_CONNECTION, BROKEN},       // ER_NET_FCNTL_ERROR
    {1156, ILANA_ERR_CONNECTION, BROKEN},       // ER_NET_PACKETS_OUT_OF_ORDER
    {1157, ILANA_ERR_CONNECTION, BROKEN},       // ER_NET_UNCOMPRESS_ERROR
    {1158, ILANA_ERR_CONNECTION, BROKEN},       // ER_NET_READ_ERROR
    {1159, ILANA_ERR_CONNECTION, BROKEN},       // ER_NET_READ_INTERRUPTED
    {1160, ILANA_ERR_CONNECTION, BROKEN},       // ER_NET_ERROR_ON_WRITE
    {1161, ILANA_ERR_CONNECTION, BROKEN},       // ER_NET_WRITE_INTERRUPTED
    {1169, ILANA_ERR_CONSTRAINT, 0},            // ER_DUP_UNIQUE
    {1193, ILANA_ERR_SYNTAX, 0},                // ER_UNKNOWN_SYSTEM_VARIABLE
    {1203, ILANA_ERR_TRANSIENT, 0},             // ER_TOO_MANY_USER_CONNECTIONS
    {1205, ILANA_ERR_TRANSIENT, 0},             // ER_LOCK_WAIT_TIMEOUT (statement rolled back)
    {1211, ILANA_ERR_PERMISSION, 0},            // ER_NO_PERMISSION_TO_CREATE_USER
    {1213, ILANA_ERR_TRANSIENT, ABORTED},       // ER_LOCK_DEADLOCK: whole transaction rolled back
    {1216, ILANA_ERR_CONSTRAINT, 0},            // ER_NO_REFERENCED_ROW
    {1217, ILANA_ERR_CONSTRAINT, 0},            // ER_ROW_IS_REFERENCED
    {1222, ILANA_ERR_SYNTAX, 0},                // ER_WRONG_NUMBER_OF_COLUMNS_IN_SELECT
    {1226, ILANA_ERR_TRANSIENT, 0},             // ER_USER_LIMIT_REACHED
    {1227, ILANA_ERR_PERMISSION, 0},            // ER_SPECIFIC_ACCESS_DENIED_ERROR
    {1231, ILANA_ERR_DATA, 0},                  // ER_WRONG_VALUE_FOR_VAR
    {1232, ILANA_ERR_DATA, 0},                  // ER_WRONG_TYPE_FOR_VAR
    {1235, ILANA_ERR_SYNTAX, 0},                // ER_NOT_SUPPORTED_YET
    {1241, ILANA_ERR_SYNTAX, 0},                // ER_OPERAND_COLUMNS
    {1242, ILANA_ERR_DATA, 0},                  // ER_SUBQUERY_NO_1_ROW (cardinality, 21000)
    {1243, ILANA_ERR_INTERNAL, 0},              // ER_UNKNOWN_STMT_HANDLER
    {1248, ILANA_ERR_SYNTAX, 0},                // ER_DERIVED_MUST_HAVE_ALIAS
    {1251, ILANA_ERR_AUTH, 0},                  // ER_NOT_SUPPORTED_AUTH_MODE
    {1263, ILANA_ERR_CONSTRAINT, 0},            // ER_WARN_NULL_TO_NOTNULL
    {1264, ILANA_ERR_DATA, 0},                  // ER_WARN_DATA_OUT_OF_RANGE
    {1265, ILANA_ERR_DATA, 0},                  // WARN_DATA_TRUNCATED
    {1267, ILANA_ERR_DATA, 0},                  // ER_CANT_AGGREGATE_2COLLATIONS
    {1275, ILANA_ERR_AUTH, 0},                  // ER_SERVER_IS_IN_SECURE_AUTH_MODE
    {1290, ILANA_ERR_PERMISSION, 0},            // ER_OPTION_PREVENTS_STATEMENT (--read-only)
    {1292, ILANA_ERR_DATA, 0},                  // ER_TRUNCATED_WRONG_VALUE
    {1295, ILANA_ERR_SYNTAX, 0},                // ER_UNSUPPORTED_PS
    {1298, ILANA_ERR_DATA, 0},                  // ER_UNKNOWN_TIME_ZONE
    {1300, ILANA_ERR_DATA, 0},                  // ER_INVALID_CHARACTER_STRING
    {1305, ILANA_ERR_SYNTAX, 0},                // ER_SP_DOES_NOT_EXIST
    {1317, ILANA_ERR_CANCELED, 0},              // ER_QUERY_INTERRUPTED (KILL QUERY)
    {1327, ILANA_ERR_SYNTAX, 0},                // ER_SP_UNDECLARED_VAR
    {1364, ILANA_ERR_CONSTRAINT, 0},            // ER_NO_DEFAULT_FOR_FIELD
    {1365, ILANA_ERR_DATA, 0},                  // ER_DIVISION_BY_ZERO
    {1366, ILANA_ERR_DATA, 0},                  // ER_TRUNCATED_WRONG_VALUE_FOR_FIELD
    {1367, ILANA_ERR_DATA, 0},                  // ER_ILLEGAL_VALUE_FOR_TYPE
    {1370, ILANA_ERR_PERMISSION, 0},            // ER_PROCACCESS_DENIED_ERROR
    {1406, ILANA_ERR_DATA, 0},                  // ER_DATA_TOO_LONG
    {1411, ILANA_ERR_DATA, 0},                  // ER_WRONG_VALUE_FOR_TYPE
    {1441, ILANA_ERR_DATA, 0},                  // ER_DATETIME_FUNCTION_OVERFLOW
    {1451, ILANA_ERR_CONSTRAINT, 0},            // ER_ROW_IS_REFERENCED_2 (foreign key)
    {1452, ILANA_ERR_CONSTRAINT, 0},            // ER_NO_REFERENCED_ROW_2 (foreign key)
    {1461, ILANA_ERR_TRANSIENT, 0},             // ER_MAX_PREPARED_STMT_COUNT_REACHED
    {1557, ILANA_ERR_CONSTRAINT, 0},            // ER_FOREIGN_DUPLICATE_KEY
    {1582, ILANA_ERR_SYNTAX, 0},                // ER_WRONG_PARAMCOUNT_TO_NATIVE_FCT
    {1583, ILANA_ERR_SYNTAX, 0},                // ER_WRONG_PARAMETERS_TO_NATIVE_FCT
    {1586, ILANA_ERR_CONSTRAINT, 0},            // ER_DUP_ENTRY_WITH_KEY_NAME
    {1614, ILANA_ERR_TRANSIENT, ABORTED},       // ER_XA_RBDEADLOCK
    {1615, ILANA_ERR_TRANSIENT, 0},             // ER_NEED_REPREPARE
    {1630, ILANA_ERR_SYNTAX, 0},                // ER_FUNC_INEXISTENT_NAME_COLLISION
    {1637, ILANA_ERR_TRANSIENT, 0},             // ER_TOO_MANY_CONCURRENT_TRXS
    {1690, ILANA_ERR_DATA, 0},                  // ER_DATA_OUT_OF_RANGE
    {1698, ILANA_ERR_AUTH, 0},                  // ER_ACCESS_DENIED_NO_PASSWORD_ERROR
    {1792, ILANA_ERR_PERMISSION, 0},            // ER_CANT_EXECUTE_IN_READ_ONLY_TRANSACTION
    {1820, ILANA_ERR_AUTH, 0},                  // ER_MUST_CHANGE_PASSWORD
    {1859, ILANA_ERR_CONSTRAINT, 0},            // ER_DUP_UNKNOWN_IN_INDEX
    {1862, ILANA_ERR_AUTH, 0},                  // ER_MUST_CHANGE_PASSWORD_LOGIN
    {1918, ILANA_ERR_DATA, 0},                  // ER_BAD_DATA (illegal value during conversion)
    {1927, ILANA_ERR_CONNECTION, BROKEN},       // ER_CONNECTION_KILLED (MariaDB)
    {1969, ILANA_ERR_TIMEOUT, 0},               // ER_STATEMENT_TIMEOUT (MariaDB max_statement_time)
    {3024, ILANA_ERR_TIMEOUT, 0},               // ER_QUERY_TIMEOUT (MySQL max_execution_time)
    {3140, ILANA_ERR_DATA, 0},                  // ER_INVALID_JSON_TEXT (MySQL)
    {3572, ILANA_ERR_TRANSIENT, 0},             // ER_LOCK_NOWAIT (MySQL)
    {3819, ILANA_ERR_CONSTRAINT, 0},            // ER_CHECK_CONSTRAINT_VIOLATED (MySQL)
    {4025, ILANA_ERR_CONSTRAINT, 0},            // ER_CONSTRAINT_FAILED (MariaDB CHECK)
    {4031, ILANA_ERR_CONNECTION, BROKEN},       // ER_CLIENT_INTERACTION_TIMEOUT (MySQL 8)
    // --- client errors (libmariadb) -----------------------------------------
    {2001, ILANA_ERR_CONNECTION, BROKEN},       // CR_SOCKET_CREATE_ERROR
    {2002, ILANA_ERR_CONNECTION, BROKEN},       // CR_CONNECTION_ERROR (socket refused)
    {2003, ILANA_ERR_CONNECTION, BROKEN},       // CR_CONN_HOST_ERROR (TCP refused/unreachable)
    {2004, ILANA_ERR_CONNECTION, BROKEN},       // CR_IPSOCK_ERROR
    {2005, ILANA_ERR_CONNECTION, BROKEN},       // CR_UNKNOWN_HOST
    {2006, ILANA_ERR_CONNECTION, BROKEN | NOT_SENT}, // CR_SERVER_GONE_ERROR: the write failed
    {2007, ILANA_ERR_CONNECTION, BROKEN},       // CR_VERSION_ERROR
    {2008, ILANA_ERR_INTERNAL, 0},              // CR_OUT_OF_MEMORY
    {2009, ILANA_ERR_CONFIG, 0},                // CR_WRONG_HOST_INFO
    {2012, ILANA_ERR_CONNECTION, BROKEN},       // CR_SERVER_HANDSHAKE_ERR
    {2013, ILANA_ERR_CONNECTION, BROKEN},       // CR_SERVER_LOST (during a query: outcome unknown)
    {2014, ILANA_ERR_INTERNAL, 0},              // CR_COMMANDS_OUT_OF_SYNC
    {2019, ILANA_ERR_CONFIG, 0},                // CR_CANT_READ_CHARSET
    {2020, ILANA_ERR_DATA, BROKEN},             // CR_NET_PACKET_TOO_LARGE
    {2026, ILANA_ERR_CONNECTION, BROKEN},       // CR_SSL_CONNECTION_ERROR
    {2027, ILANA_ERR_CONNECTION, BROKEN},       // CR_MALFORMED_PACKET
    {2047, ILANA_ERR_CONNECTION, BROKEN},       // CR_CONN_UNKNOWN_PROTOCOL
    {2048, ILANA_ERR_CONNECTION, BROKEN},       // CR_INVALID_CONN_HANDLE
    {2049, ILANA_ERR_AUTH, 0},                  // CR_SECURE_AUTH
    {2055, ILANA_ERR_CONNECTION, BROKEN},       // CR_SERVER_LOST_EXTENDED
    {2057, ILANA_ERR_INTERNAL, 0},              // CR_NEW_STMT_METADATA (re-prepared by the driver)
    {2059, ILANA_ERR_AUTH, 0},                  // CR_AUTH_PLUGIN_CANNOT_LOAD
    {2061, ILANA_ERR_AUTH, 0},                  // CR_AUTH_PLUGIN_ERR
    {5004, ILANA_ERR_CONFIG, 0},                // CR_FILE_NOT_FOUND (TLS files)
    {5013, ILANA_ERR_CONNECTION, BROKEN},       // CR_ERR_NET_READ
    {5014, ILANA_ERR_CONNECTION, BROKEN},       // CR_ERR_NET_WRITE
    {5015, ILANA_ERR_CONNECTION, BROKEN},       // CR_ERR_NET_UNCOMPRESS
};

constexpr ilana::sdk::NativeCodeTable kNumbers{kTable};
static_assert(!kNumbers.duplicates(), "an error number appears twice in kTable");

// Fallback for numbers the table does not list: the SQLSTATE class.
constexpr ilana::sdk::SqlstateRule kSqlstateRules[] = {
    {"70100", ILANA_ERR_CANCELED, 0},     // query execution was interrupted
    {"08", ILANA_ERR_CONNECTION, BROKEN},
    {"28", ILANA_ERR_AUTH, 0},
    {"42", ILANA_ERR_SYNTAX, 0},
    {"23", ILANA_ERR_CONSTRAINT, 0},
    {"22", ILANA_ERR_DATA, 0},
    {"40", ILANA_ERR_TRANSIENT, ABORTED},
    {"HYT", ILANA_ERR_TIMEOUT, 0},
};
constexpr ilana::sdk::SqlstateTable kSqlstates{kSqlstateRules};
static_assert(!kSqlstates.duplicates(), "a SQLSTATE appears twice in kSqlstateRules");

bool valid_sqlstate(const char *s) {
    if (s == nullptr || std::strlen(s) != 5) return false;
    return std::strcmp(s, "00000") != 0;
}

} // namespace

ErrorKind classify(unsigned errnum, const char *sqlstate) noexcept {
    if (const auto *r = kNumbers.find(errnum)) return {r->cls, r->flags};
    return kSqlstates.classify(sqlstate != nullptr ? sqlstate : "");
}

namespace {

// The condition of an integrity or conflict error: MySQL reports SQLSTATE
// 23000 for every integrity error and 40001 for a deadlock, so the number
// says which.
ilana_error_condition condition_of(unsigned errnum) {
    switch (errnum) {
    case 1022: case 1062: case 1169: case 1586: case 1859: return ILANA_COND_UNIQUE;
    case 1216: case 1217: case 1451: case 1452: case 1557: return ILANA_COND_FOREIGN_KEY;
    case 1048: case 1263: case 1364: return ILANA_COND_NOT_NULL;
    case 3819: case 4025: return ILANA_COND_CHECK;
    case 1213: case 1614: return ILANA_COND_DEADLOCK;
    default: return ILANA_COND_NONE;
    }
}

// The text between `open` and the next `close` after it, or "".
std::string between(std::string_view text, std::string_view open, char close) {
    const size_t at = text.find(open);
    if (at == std::string_view::npos) return {};
    const size_t start = at + open.size();
    const size_t end = text.find(close, start);
    return end == std::string_view::npos ? std::string() : std::string(text.substr(start, end - start));
}

// The constraint the message names, as the server writes it:
//   1062/1586  Duplicate entry '...' for key 'uq_name'     (MySQL 8: 'table.uq_name')
//   1451/1452  ... foreign key constraint fails (`db`.`t`, CONSTRAINT `fk_name` FOREIGN KEY ...)
//   4025       CONSTRAINT `chk_name` failed for `db`.`t`   (an unnamed column CHECK: `t.col`)
//   3819       Check constraint 'chk_name' is violated.    (MySQL)
// Others (NOT NULL: "Column 'c' cannot be null") name no constraint.
std::string constraint_named(unsigned errnum, std::string_view message) {
    switch (errnum) {
    case 1062:
    case 1586: {
        const size_t at = message.rfind(" for key '");
        if (at == std::string_view::npos) return {};
        return between(message.substr(at), " for key '", '\'');
    }
    case 1451:
    case 1452:
    case 4025: return between(message, "CONSTRAINT `", '`');
    case 3819: return between(message, "Check constraint '", '\'');
    default: return {};
    }
}

// "Duplicate entry 'alice' for key 'uq_name'": the entry is the row's
// value (often a bound parameter), so it is masked.
std::string mask_duplicate_entry(std::string message) {
    constexpr std::string_view kOpen = "Duplicate entry '";
    const size_t start = message.find(kOpen);
    const size_t end = message.rfind("' for key '");
    if (start == std::string::npos || end == std::string::npos || end < start + kOpen.size()) return message;
    message.replace(start + kOpen.size(), end - start - kOpen.size(), "***");
    return message;
}

} // namespace

DriverFailure mysql_failure(unsigned errnum, const char *sqlstate, const char *message,
                            Phase phase, std::string_view what) {
    ErrorKind kind = classify(errnum, sqlstate);
    if (phase == Phase::Connect && kind.cls == ILANA_ERR_CONNECTION) {
        // Nothing was executed yet: reconnecting is always safe.
        kind.flags |= NOT_SENT;
    }
    if (phase == Phase::Connect && kind.cls == ILANA_ERR_DATA && errnum == 1298)
        kind.cls = ILANA_ERR_CONFIG; // SET time_zone from the 'timezone' parameter
    std::string msg;
    if (!what.empty()) {
        msg.append(what);
        msg += ": ";
    }
    const std::string_view text = (message != nullptr && *message != '\0') ? message : "unknown error";
    msg += errnum == 1062 || errnum == 1586 ? mask_duplicate_entry(std::string(text)) : std::string(text);
    msg += " [";
    msg += errnum >= 2000 && errnum < 3000 ? "client error " : "error ";
    msg += std::to_string(errnum);
    const bool has_state = valid_sqlstate(sqlstate) && std::strcmp(sqlstate, "HY000") != 0;
    if (has_state) {
        msg += ", SQLSTATE ";
        msg += sqlstate;
    }
    msg += ']';
    DriverFailure f(kind.cls, std::move(msg), valid_sqlstate(sqlstate) ? sqlstate : "",
                    static_cast<int32_t>(errnum), kind.flags);
    if (const ilana_error_condition cond = condition_of(errnum); cond != ILANA_COND_NONE)
        f.with_condition(cond, constraint_named(errnum, text));
    return f;
}

DriverFailure conn_failure(MYSQL *m, Phase phase, std::string_view what) {
    return mysql_failure(mysql_errno(m), mysql_sqlstate(m), mysql_error(m), phase, what);
}

DriverFailure stmt_failure(MYSQL_STMT *s, Phase phase, std::string_view what) {
    // libmariadb leaves some errors (a failed unbuffered row read) only on
    // the connection handle.
    if (mysql_stmt_errno(s) == 0 && s->mysql != nullptr) return conn_failure(s->mysql, phase, what);
    return mysql_failure(mysql_stmt_errno(s), mysql_stmt_sqlstate(s), mysql_stmt_error(s), phase, what);
}

} // namespace ilana::drivers::mysql
