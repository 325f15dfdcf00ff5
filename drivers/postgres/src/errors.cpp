// errors.cpp — THE SQLSTATE → ilana error-class table, and message building.
//
// Modelled on libpqxx's result.cxx (ThrowSQLError): one place decides what a
// server error means. The host decides retry and eviction from class and
// flags only, so this table is the driver's whole error policy.
#include "errors.hpp"

#include <cctype>
#include <cstring>

namespace ilana::drivers::postgres {
namespace {

constexpr uint32_t kBroken = ILANA_ERRF_CONN_BROKEN;

// Five characters: an exact code; two: a SQLSTATE class. The SDK's table
// takes the longest matching code, so an exact code overrides its class
// (42501 inside class 42, 57P01 inside 57, ...).
constexpr ilana::sdk::SqlstateRule kRules[] = {
    // --- exact codes -----------------------------------------------------
    // The server ends the session: the connection is gone.
    {"57P01", ILANA_ERR_CONNECTION, kBroken}, // admin_shutdown, pg_terminate_backend
    {"57P02", ILANA_ERR_CONNECTION, kBroken}, // crash_shutdown
    {"57P03", ILANA_ERR_CONNECTION, kBroken}, // cannot_connect_now (starting up)
    {"57P04", ILANA_ERR_CONNECTION, kBroken}, // database_dropped
    {"57P05", ILANA_ERR_CONNECTION, kBroken}, // idle_session_timeout
    {"25P03", ILANA_ERR_CONNECTION, kBroken}, // idle_in_transaction_session_timeout
    // statement_timeout; becomes CANCELED when ilana's cancel() asked for it.
    {"57014", ILANA_ERR_TIMEOUT, 0},
    // Worth another try: resources or concurrency, not the statement itself.
    {"53300", ILANA_ERR_TRANSIENT, 0}, // too_many_connections
    {"40001", ILANA_ERR_TRANSIENT, 0}, // serialization_failure
    {"40P01", ILANA_ERR_TRANSIENT, 0}, // deadlock_detected
    {"55P03", ILANA_ERR_TRANSIENT, 0}, // lock_not_available (lock_timeout, NOWAIT)
    {"55006", ILANA_ERR_TRANSIENT, 0}, // object_in_use
    {"72000", ILANA_ERR_TRANSIENT, 0}, // snapshot_too_old
    {"40002", ILANA_ERR_CONSTRAINT, 0}, // deferred constraint failed at COMMIT
    {"42501", ILANA_ERR_PERMISSION, 0}, // insufficient_privilege
    {"25006", ILANA_ERR_PERMISSION, 0}, // read_only_sql_transaction (a standby)
    // in_failed_sql_transaction: the caller kept going after an error; only
    // ROLLBACK helps.
    {"25P02", ILANA_ERR_INTERNAL, ILANA_ERRF_TXN_ABORTED},
    {"3D000", ILANA_ERR_CONFIG, 0}, // invalid_catalog_name: "database" names nothing
    // protocol_violation as a statement error: the parameter count does not
    // match the placeholders (an ERROR; the session is fine). A session the
    // server really dropped is caught by PQstatus == CONNECTION_BAD.
    {"08P01", ILANA_ERR_INTERNAL, 0},
    // --- classes ---------------------------------------------------------
    {"08", ILANA_ERR_CONNECTION, kBroken}, // connection_exception
    {"28", ILANA_ERR_AUTH, 0},             // invalid_authorization_specification
    {"0L", ILANA_ERR_PERMISSION, 0},       // invalid_grantor
    {"0P", ILANA_ERR_PERMISSION, 0},       // invalid_role_specification
    {"42", ILANA_ERR_SYNTAX, 0},           // syntax_error_or_access_rule_violation
    {"0A", ILANA_ERR_SYNTAX, 0},           // feature_not_supported
    {"26", ILANA_ERR_SYNTAX, 0},           // invalid_sql_statement_name
    {"34", ILANA_ERR_SYNTAX, 0},           // invalid_cursor_name
    {"3F", ILANA_ERR_SYNTAX, 0},           // invalid_schema_name
    {"23", ILANA_ERR_CONSTRAINT, 0},       // integrity_constraint_violation
    {"27", ILANA_ERR_CONSTRAINT, 0},       // triggered_data_change_violation
    {"44", ILANA_ERR_CONSTRAINT, 0},       // with_check_option_violation
    {"2B", ILANA_ERR_CONSTRAINT, 0},       // dependent_privilege_descriptors_still_exist
    {"22", ILANA_ERR_DATA, 0},             // data_exception
    {"21", ILANA_ERR_DATA, 0},             // cardinality_violation
    {"20", ILANA_ERR_DATA, 0},             // case_not_found
    {"09", ILANA_ERR_DATA, 0},             // triggered_action_exception
    {"2F", ILANA_ERR_DATA, 0},             // sql_routine_exception
    {"38", ILANA_ERR_DATA, 0},             // external_routine_exception
    {"54", ILANA_ERR_DATA, 0},             // program_limit_exceeded
    {"P0", ILANA_ERR_DATA, 0},             // plpgsql_error (RAISE EXCEPTION, ...)
    {"40", ILANA_ERR_TRANSIENT, 0},        // transaction_rollback
    {"53", ILANA_ERR_TRANSIENT, 0},        // insufficient_resources
    {"25", ILANA_ERR_INTERNAL, 0},         // invalid_transaction_state
    {"XX", ILANA_ERR_INTERNAL, 0},         // internal_error
};
constexpr ilana::sdk::SqlstateTable kSqlstates{kRules};
static_assert(!kSqlstates.duplicates(), "a SQLSTATE appears twice in kRules");

std::string field(const PGresult *res, int code) {
    const char *v = PQresultErrorField(res, code);
    return v != nullptr ? std::string(v) : std::string();
}

// Finds "SEVERITY:  XXXXX: " in a verbose libpq connect message; the last one
// wins (libpq may list several attempts, e.g. one per host).
std::string sqlstate_from_verbose(std::string_view msg) {
    std::string found;
    for (std::string_view sev : {std::string_view("FATAL:  "), std::string_view("ERROR:  ")}) {
        size_t pos = 0;
        while ((pos = msg.find(sev, pos)) != std::string_view::npos) {
            std::string_view code = msg.substr(pos + sev.size(), 5);
            if (is_sqlstate(code) && msg.substr(pos + sev.size() + 5, 2) == ": ") found = std::string(code);
            pos += sev.size();
        }
    }
    return found;
}

// Removes the parts of a verbose message that are for developers: the
// "LOCATION:" lines and the "XXXXX: " code after the severity (the code goes
// to the record's sqlstate field instead).
std::string clean_verbose(std::string_view msg, const std::string &state) {
    std::string out;
    size_t start = 0;
    while (start <= msg.size()) {
        size_t nl = msg.find('\n', start);
        std::string_view line = msg.substr(start, nl == std::string_view::npos ? std::string_view::npos : nl - start);
        if (line.rfind("LOCATION:", 0) != 0) {
            if (!out.empty() && !line.empty()) out += ' ';
            out.append(line.data(), line.size());
        }
        if (nl == std::string_view::npos) break;
        start = nl + 1;
    }
    if (!state.empty()) {
        const std::string token = state + ": ";
        for (size_t p; (p = out.find(token)) != std::string::npos;) out.erase(p, token.size());
    }
    return one_line(out);
}

} // namespace

ErrorClass classify_sqlstate(std::string_view sqlstate) noexcept { return kSqlstates.classify(sqlstate); }

std::string one_line(std::string_view message) {
    std::string out;
    out.reserve(message.size());
    bool space = false;
    for (char c : message) {
        if (c == '\n' || c == '\r' || c == '\t' || c == ' ') {
            space = !out.empty();
            continue;
        }
        if (space) out += ' ';
        space = false;
        out += c;
    }
    return out;
}

DriverFailure failure_from_result(const PGresult *res, PGconn *conn, const ErrorContext &ctx) {
    std::string state = field(res, PG_DIAG_SQLSTATE);
    std::string primary = field(res, PG_DIAG_MESSAGE_PRIMARY);
    std::string detail = field(res, PG_DIAG_MESSAGE_DETAIL);
    std::string hint = field(res, PG_DIAG_MESSAGE_HINT);
    if (primary.empty()) primary = one_line(PQresultErrorMessage(res));
    if (primary.empty() && conn != nullptr) primary = one_line(PQerrorMessage(conn));

    ErrorClass ec{ILANA_ERR_INTERNAL, 0};
    if (is_sqlstate(state)) {
        ec = classify_sqlstate(state);
        if (state == "57014" && ctx.cancel_requested) ec.cls = ILANA_ERR_CANCELED;
        // Data and constraint errors echo the offending values; mask them.
        if (state.compare(0, 2, "22") == 0) {
            primary = mask_quoted(primary);
            detail = mask_quoted(detail);
        } else if (state.compare(0, 2, "23") == 0) {
            detail = mask_key_values(detail);
        }
    } else {
        state.clear(); // libpq's own errors carry no SQLSTATE
    }
    if (conn != nullptr) {
        if (PQstatus(conn) == CONNECTION_BAD) {
            ec.cls = ILANA_ERR_CONNECTION;
            ec.flags |= ILANA_ERRF_CONN_BROKEN;
        } else if (PQtransactionStatus(conn) == PQTRANS_INERROR) {
            ec.flags |= ILANA_ERRF_TXN_ABORTED;
        }
    }

    std::string msg = one_line(primary);
    if (!detail.empty()) msg += " DETAIL: " + one_line(detail);
    if (!hint.empty()) msg += " HINT: " + one_line(hint);
    DriverFailure f(ec.cls, std::move(msg), state, 0, ec.flags);
    if (ec.cls == ILANA_ERR_CONSTRAINT) f.with_condition(ILANA_COND_NONE, field(res, PG_DIAG_CONSTRAINT_NAME));
    return f;
}

DriverFailure failure_from_conn(PGconn *conn, uint32_t extra_flags) {
    std::string msg = conn != nullptr ? one_line(PQerrorMessage(conn)) : std::string();
    if (msg.empty()) msg = "PostgreSQL connection failed";
    ErrorClass ec{ILANA_ERR_INTERNAL, extra_flags};
    if (conn == nullptr || PQstatus(conn) == CONNECTION_BAD) {
        ec.cls = ILANA_ERR_CONNECTION;
        ec.flags |= ILANA_ERRF_CONN_BROKEN;
    }
    return DriverFailure(ec.cls, std::move(msg), "", 0, ec.flags);
}

DriverFailure failure_from_connect(PGconn *conn, std::string_view password) {
    std::string raw = conn != nullptr ? PQerrorMessage(conn) : "out of memory creating the connection";
    std::string state = sqlstate_from_verbose(raw);
    std::string msg = mask_secret(clean_verbose(raw, state), password);
    if (msg.empty()) msg = "could not connect to PostgreSQL";
    ErrorClass ec{ILANA_ERR_CONNECTION, ILANA_ERRF_CONN_BROKEN};
    if (!state.empty()) ec = classify_sqlstate(state);
    // Nothing ran: whatever the caller meant to do can safely be tried again.
    ec.flags |= ILANA_ERRF_NOT_SENT;
    return DriverFailure(ec.cls, std::move(msg), state, 0, ec.flags);
}

} // namespace ilana::drivers::postgres
