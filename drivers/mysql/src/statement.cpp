// statement.cpp — binding parameters and running statements.
//
// Two paths, chosen per statement:
//  - with parameters, or with ILANA_EXEC_CACHE: a server-side prepared
//    statement (binary protocol). Cached statements stay prepared in the
//    connection's LRU cache; uncached ones are prepared, executed and closed
//    (COM_STMT_CLOSE has no reply, so that is two round trips).
//  - without parameters and without ILANA_EXEC_CACHE: mysql_real_query()
//    (text protocol), one round trip instead of two, and it also runs the
//    statements the server refuses to prepare (ER_UNSUPPORTED_PS).
// Both paths decode through the same column description (types.cpp), so a
// column has the same ilana type whichever path produced it.
#include "statement.hpp"

#include "connection.hpp"
#include "runtime.hpp"

#include <ilana/sdk/sql_text.hpp>
#include <ilana/sdk/values.hpp>

#include <chrono>
#include <cstring>
#include <errmsg.h>

namespace ilana::drivers::mysql {
namespace {

constexpr uint32_t kMaxParams = 65535; // the binary protocol's 2-byte count

// The SDK's type name; "unknown" for a value outside ILANA_TYPE_NULL..ANY.
const char *type_name(ilana_type t) {
    return t >= ILANA_TYPE_NULL && t <= ILANA_TYPE_ANY ? ilana::sdk::type_name(t) : "unknown";
}

// MYSQL_BINDs for the host's values. Numbers and dates are copied into
// storage sized up front (stable addresses); strings point at the host's
// bytes, which are borrowed for the whole execute call.
class ParamBinder {
public:
    // Reused per thread (see run_prepared): the vectors keep their capacity.
    void bind(const ilana_value *values, uint32_t count, uint32_t stride) {
        binds_.resize(count);
        ints_.resize(count);
        doubles_.resize(count);
        times_.resize(count);
        static char empty[1] = {0};
        for (uint32_t i = 0; i < count; ++i) {
            const ilana_value &v =
                *reinterpret_cast<const ilana_value *>(reinterpret_cast<const char *>(values) +
                                                       static_cast<size_t>(i) * stride);
            MYSQL_BIND &b = binds_[i];
            std::memset(&b, 0, sizeof b);
            if (v.is_null || v.type == ILANA_TYPE_NULL) {
                b.buffer_type = MYSQL_TYPE_NULL;
                continue;
            }
            switch (v.type) {
            case ILANA_TYPE_BOOL:
                ints_[i] = v.v.i64 != 0 ? 1 : 0;
                bind_int(b, i, false);
                break;
            case ILANA_TYPE_INT64:
                ints_[i] = v.v.i64;
                bind_int(b, i, false);
                break;
            case ILANA_TYPE_UINT64:
                ints_[i] = static_cast<int64_t>(v.v.u64);
                bind_int(b, i, true);
                break;
            case ILANA_TYPE_DOUBLE:
                doubles_[i] = v.v.f64;
                b.buffer_type = MYSQL_TYPE_DOUBLE;
                b.buffer = &doubles_[i];
                break;
            case ILANA_TYPE_TEXT:
            case ILANA_TYPE_UUID:
            case ILANA_TYPE_JSON:
            case ILANA_TYPE_BLOB:
            case ILANA_TYPE_DECIMAL:
                // BLOB parameters are binary strings on the server (no
                // charset conversion, zero bytes kept); DECIMAL as exact text.
                b.buffer_type = v.type == ILANA_TYPE_BLOB      ? MYSQL_TYPE_BLOB
                                : v.type == ILANA_TYPE_DECIMAL ? MYSQL_TYPE_NEWDECIMAL
                                                               : MYSQL_TYPE_STRING;
                b.buffer = v.v.str.ptr != nullptr ? const_cast<char *>(v.v.str.ptr) : empty;
                b.buffer_length = static_cast<unsigned long>(v.v.str.len);
                if (v.v.str.ptr == nullptr && v.v.str.len != 0) bad(i, v.type, "NULL pointer with a length");
                break;
            case ILANA_TYPE_DATE:
                days_to_time(v.v.i64, times_[i]);
                bind_time(b, i, MYSQL_TYPE_DATE);
                break;
            case ILANA_TYPE_TIME:
                micros_to_time(v.v.i64, times_[i]);
                bind_time(b, i, MYSQL_TYPE_TIME);
                break;
            case ILANA_TYPE_TIMESTAMP:
            case ILANA_TYPE_TIMESTAMPTZ:
                // TIMESTAMPTZ is an instant in UTC: sent as the UTC wall
                // clock, exact when the session time zone is UTC
                // (timezone: "UTC"); MySQL has no zone-carrying parameter.
                micros_to_datetime(v.v.i64, times_[i]);
                bind_time(b, i, MYSQL_TYPE_DATETIME);
                break;
            default:
                bad(i, v.type, "not a parameter type");
            }
        }
    }

    MYSQL_BIND *data() { return binds_.empty() ? nullptr : binds_.data(); }

private:
    void bind_int(MYSQL_BIND &b, uint32_t i, bool is_unsigned) {
        b.buffer_type = MYSQL_TYPE_LONGLONG;
        b.buffer = &ints_[i];
        b.is_unsigned = is_unsigned ? 1 : 0;
    }
    void bind_time(MYSQL_BIND &b, uint32_t i, enum_field_types t) {
        b.buffer_type = t;
        b.buffer = &times_[i];
        b.buffer_length = sizeof(MYSQL_TIME);
    }
    [[noreturn]] static void bad(uint32_t i, ilana_type t, const char *why) {
        throw DriverFailure(ILANA_ERR_DATA,
                            "parameter " + std::to_string(i + 1) + " (" + type_name(t) + "): " + why, {},
                            0, ILANA_ERRF_NOT_SENT);
    }

    std::vector<MYSQL_BIND> binds_;
    std::vector<int64_t> ints_;
    std::vector<double> doubles_;
    std::vector<MYSQL_TIME> times_;
};

// Ends the connection's running op unless a streaming result takes it over.
class OpGuard {
public:
    explicit OpGuard(Connection &c) : c_(c) { c_.op_begin(); }
    ~OpGuard() {
        if (active_) c_.op_end();
    }
    void hand_over() { active_ = false; }

private:
    Connection &c_;
    bool active_ = true;
};

int64_t affected(my_ulonglong n) {
    return n == static_cast<my_ulonglong>(~0ULL) ? -1 : static_cast<int64_t>(n);
}

// `sql` goes to the server; `as_written` (the host's text, without a
// max_statement_time prefix) is what a result judges the statement by.
std::unique_ptr<Result> run_text(Connection &c, std::string_view sql, std::string_view as_written) {
    MYSQL *m = c.handle();
    c.note_statement(sql);
    OpGuard op(c);
    const auto start = c.op_clock();
    if (mysql_real_query(m, sql.data(), static_cast<unsigned long>(sql.size())) != 0)
        c.fail(c.timeout_aware(conn_failure(m, Phase::Statement), start));
    if (mysql_field_count(m) == 0) {
        auto r = c.make_status_result(affected(mysql_affected_rows(m)), static_cast<int64_t>(mysql_insert_id(m)));
        while (mysql_more_results(m)) { // CALL: trailing status
            int next = mysql_next_result(m);
            if (next > 0) c.fail(conn_failure(m, Phase::Statement));
            if (next < 0) break;
            if (MYSQL_RES *extra = mysql_use_result(m)) mysql_free_result(extra);
        }
        return r;
    }
    MYSQL_RES *res = mysql_use_result(m);
    if (res == nullptr) c.fail(conn_failure(m, Phase::Statement));
    std::unique_ptr<Result> r;
    try {
        r = std::make_unique<TextResult>(&c, res, as_written);
    } catch (...) {
        mysql_free_result(res);
        throw;
    }
    op.hand_over();
    return r;
}

std::unique_ptr<Result> run_prepared(Connection &c, std::string_view sql, std::string_view as_written,
                                     const ilana_value *params, uint32_t count, uint32_t stride, bool cache,
                                     Prepared *handle = nullptr) {
    MYSQL_BIND *const binds = bind_values(params, count, stride);
    OpGuard op(c);
    for (int attempt = 0;; ++attempt) {
        // The handle's own statement, or one of the cache (give_back tells them apart).
        MYSQL_STMT *s = handle != nullptr ? c.handle_stmt(*handle) : c.take_stmt(sql, cache);
        if (mysql_stmt_param_count(s) != count) {
            const unsigned long want = mysql_stmt_param_count(s);
            c.give_back(s, true);
            throw DriverFailure(ILANA_ERR_SYNTAX,
                                "the statement has " + std::to_string(want) + " placeholder(s) but " +
                                    std::to_string(count) + " parameter(s) were given",
                                "07001", 0, ILANA_ERRF_NOT_SENT);
        }
        if (count > 0 && mysql_stmt_bind_param(s, binds) != 0) {
            DriverFailure f = stmt_failure(s, Phase::Statement);
            c.give_back(s, true);
            c.fail(f);
        }
        const auto start = c.op_clock();
        if (mysql_stmt_execute(s) != 0) {
            const unsigned e = mysql_stmt_errno(s);
            DriverFailure f = c.timeout_aware(stmt_failure(s, Phase::Statement), start);
            // The table changed shape under a cached statement, or the server
            // forgot it: prepare again, once.
            const bool stale = e == CR_NEW_STMT_METADATA || e == 1243 /* ER_UNKNOWN_STMT_HANDLER */;
            c.give_back(s, !stale);
            if (stale && attempt == 0 && !c.broken()) continue;
            c.fail(f);
        }
        if (mysql_stmt_field_count(s) == 0) {
            auto r = c.make_status_result(affected(mysql_stmt_affected_rows(s)),
                                          static_cast<int64_t>(mysql_stmt_insert_id(s)));
            bool ok = true;
            while (mysql_stmt_more_results(s)) { // CALL: trailing status
                if (mysql_stmt_next_result(s) != 0) {
                    ok = false;
                    break;
                }
                mysql_stmt_free_result(s);
            }
            if (!ok) {
                DriverFailure f = stmt_failure(s, Phase::Statement);
                c.give_back(s, false);
                c.fail(f);
            }
            c.give_back(s, true);
            return r;
        }
        std::unique_ptr<Result> r;
        try {
            r = c.make_stmt_result(s, as_written);
        } catch (...) {
            // The result was not built, so `s` is still ours to give back.
            mysql_stmt_free_result(s);
            c.give_back(s, false);
            throw;
        }
        op.hand_over();
        return r;
    }
}

// MariaDB's per-statement max_statement_time (seconds, to the
// microsecond) in front of the statements that can carry it; the server
// then stops the statement at the timeout itself and answers error 1969
// (ILANA_ERR_TIMEOUT), and the session stays usable. MySQL servers have no
// such prefix for every statement: there, and for other statements, only
// the connection's cut after the grace bounds the call.
std::string_view with_server_timeout(const Connection &conn, std::string_view sql, int64_t timeout_ms,
                                     std::string &buf) {
    if (timeout_ms <= 0 || !conn.is_mariadb()) return sql;
    if (!ilana::sdk::LeadingKeyword(sql, true).is_any({"select", "insert", "update", "delete", "replace", "with",
                                                        "values", "call"}))
        return sql;
    std::string frac = std::to_string(timeout_ms % 1000);
    buf = "SET STATEMENT max_statement_time=" + std::to_string(timeout_ms / 1000) + "." +
          std::string(3 - frac.size(), '0') + frac + " FOR ";
    buf.append(sql.data(), sql.size());
    return buf;
}

} // namespace

MYSQL_BIND *bind_values(const ilana_value *params, uint32_t count, uint32_t stride) {
    // Per thread, not per call: binding allocates nothing once warm.
    thread_local ParamBinder binder;
    binder.bind(params, count, stride);
    return binder.data();
}

std::unique_ptr<Result> execute(Connection &conn, std::string_view sql_in, const ilana_value *params,
                                uint32_t param_count, uint32_t value_size, uint32_t flags, int64_t timeout_ms) {
    conn.ensure_ready();
    thread_local std::string prefixed; // reused: no allocation per call once warm
    const std::string_view sql = with_server_timeout(conn, sql_in, timeout_ms, prefixed);
    if (sql.empty()) throw DriverFailure(ILANA_ERR_SYNTAX, "empty statement", "42000", 1065, ILANA_ERRF_NOT_SENT);
    if (param_count > kMaxParams)
        throw DriverFailure(ILANA_ERR_DATA,
                            std::to_string(param_count) + " parameters: MySQL allows at most " +
                                std::to_string(kMaxParams) + " per statement",
                            {}, 0, ILANA_ERRF_NOT_SENT);
    if (param_count > 0 && (params == nullptr || value_size < sizeof(ilana_value)))
        throw misuse("execute: parameters missing or ilana_statement.value_size too small");
    const bool cache = (flags & ILANA_EXEC_CACHE) != 0;
    // op_begin (in run_text / run_prepared) arms the deadline for it.
    conn.set_statement_timeout(timeout_ms);
    if (param_count == 0 && (!cache || conn.unpreparable(sql))) return run_text(conn, sql, sql_in);
    if (param_count > 0) return run_prepared(conn, sql, sql_in, params, param_count, value_size, cache);
    try {
        return run_prepared(conn, sql, sql_in, params, 0, value_size, cache);
    } catch (const DriverFailure &f) {
        // Some statements cannot be prepared (ER_UNSUPPORTED_PS); without
        // parameters the text protocol runs them, and is remembered for
        // this SQL so the next execution does not try to prepare again.
        if (f.native_code() != 1295 || conn.broken()) throw;
        conn.remember_unpreparable(sql);
        conn.set_statement_timeout(timeout_ms); // the failed try's op took it
        return run_text(conn, sql, sql_in);
    }
}

std::unique_ptr<Result> Connection::execute(const ilana::sdk::Statement &stmt) {
    ensure_thread();
    return ilana::drivers::mysql::execute(*this, stmt.sql, stmt.params.data(), stmt.params.size(),
                                          stmt.params.stride(), stmt.flags, stmt.timeout_ms);
}

Prepared::Prepared(Connection &owner, std::string text, MYSQL_STMT *prepared, uint32_t param_count, bool only_text)
    : ilana::sdk::PreparedStatement(param_count), conn(owner), sql(std::move(text)), stmt(prepared),
      generation(owner.statement_generation()), text_only(only_text), changes_session(mysql::changes_session(sql)) {}

Prepared::~Prepared() {
    conn.handle_gone(this);
    if (stmt != nullptr) mysql_stmt_close(stmt); // COM_STMT_CLOSE has no reply
}

std::unique_ptr<Prepared> Connection::prepare(std::string_view sql) {
    ensure_thread();
    ensure_ready();
    if (sql.empty()) throw DriverFailure(ILANA_ERR_SYNTAX, "empty statement", "42000", 1065, ILANA_ERRF_NOT_SENT);
    MYSQL_STMT *s = nullptr;
    try {
        s = prepare_stmt(sql);
    } catch (const DriverFailure &f) {
        // Some statements cannot be prepared (ER_UNSUPPORTED_PS): without
        // parameters, the text protocol runs them.
        if (f.native_code() != 1295 || broken_) throw;
        return std::make_unique<Prepared>(*this, std::string(sql), nullptr, 0, true);
    }
    const auto count = static_cast<uint32_t>(mysql_stmt_param_count(s));
    try {
        return std::make_unique<Prepared>(*this, std::string(sql), s, count, false);
    } catch (...) {
        mysql_stmt_close(s);
        throw;
    }
}

MYSQL_STMT *Connection::handle_stmt(Prepared &p) {
    if (p.stmt != nullptr && p.generation != statement_generation_) {
        mysql_stmt_close(p.stmt); // forgotten by the server at the reset
        p.stmt = nullptr;
    }
    if (p.stmt == nullptr) {
        p.stmt = prepare_stmt(p.sql);
        p.generation = statement_generation_;
    }
    session_changed_ = session_changed_ || p.changes_session;
    lent_handle_ = &p;
    return p.stmt;
}

std::unique_ptr<Result> Connection::execute(Prepared &prepared, const ilana::sdk::Statement &stmt) {
    ensure_thread();
    // A statement timeout on MariaDB is part of the statement's text
    // (with_server_timeout), and an unpreparable statement runs as text:
    // both take the path of a statement given by its SQL.
    if (prepared.text_only || (stmt.timeout_ms > 0 && is_mariadb()))
        return ilana::drivers::mysql::execute(*this, prepared.sql, stmt.params.data(), stmt.params.size(),
                                              stmt.params.stride(), stmt.flags | ILANA_EXEC_CACHE, stmt.timeout_ms);
    ensure_ready();
    if (stmt.params.size() > 0 && (stmt.params.data() == nullptr || stmt.params.stride() < sizeof(ilana_value)))
        throw misuse("execute: parameters missing or ilana_statement.value_size too small");
    set_statement_timeout(stmt.timeout_ms);
    return run_prepared(*this, prepared.sql, prepared.sql, stmt.params.data(), stmt.params.size(),
                        stmt.params.stride(), true, &prepared);
}

std::vector<std::vector<OwnedCell>> query_rows(Connection &conn, std::string_view sql,
                                               const std::vector<ilana_value> &params, bool cache) {
    ensure_thread();
    std::unique_ptr<Result> r = execute(conn, sql, params.data(), static_cast<uint32_t>(params.size()),
                                        sizeof(ilana_value), cache ? ILANA_EXEC_CACHE : 0);
    std::vector<std::vector<OwnedCell>> rows;
    struct Closer {
        Result *r;
        ~Closer() { r->close(); }
    } closer{r.get()};
    const size_t ncol = r->column_count();
    std::vector<ilana_value> cells;
    for (bool done = false; !done;) {
        cells.clear();
        done = r->read_into(cells, 256);
        for (size_t i = 0; ncol > 0 && i < cells.size() / ncol; ++i) {
            std::vector<OwnedCell> row(ncol);
            for (size_t c = 0; c < ncol; ++c) {
                const ilana_value &v = cells[i * ncol + c];
                OwnedCell &o = row[c];
                o.type = v.type;
                o.is_null = v.is_null != 0;
                if (o.is_null) continue;
                switch (v.type) {
                case ILANA_TYPE_DOUBLE:
                    o.f64 = v.v.f64;
                    break;
                case ILANA_TYPE_TEXT:
                case ILANA_TYPE_BLOB:
                case ILANA_TYPE_DECIMAL:
                case ILANA_TYPE_UUID:
                case ILANA_TYPE_JSON:
                    o.str.assign(v.v.str.ptr != nullptr ? v.v.str.ptr : "", v.v.str.len);
                    break;
                default:
                    o.i64 = v.v.i64;
                    break;
                }
            }
            rows.push_back(std::move(row));
        }
    }
    return rows;
}

ilana_value text_value(const char *s) {
    ilana_value v{};
    if (s == nullptr) {
        v.type = ILANA_TYPE_NULL;
        v.is_null = 1;
        return v;
    }
    v.type = ILANA_TYPE_TEXT;
    v.v.str.ptr = s;
    v.v.str.len = std::strlen(s);
    return v;
}

ilana_value int_value(int64_t v) {
    ilana_value out{};
    out.type = ILANA_TYPE_INT64;
    out.v.i64 = v;
    return out;
}

} // namespace ilana::drivers::mysql
