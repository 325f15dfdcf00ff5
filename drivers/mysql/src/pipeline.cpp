// pipeline.cpp — "ilana.batch/1": one statement, many parameter rows.
//
// MariaDB (10.2+) takes many parameter rows in one command: Connector/C's
// array binding (STMT_ATTR_ARRAY_SIZE, column-wise buffers with indicator
// arrays) sends them as COM_STMT_BULK_EXECUTE, so N rows cost about one
// round trip. Rows are sent in chunks of at most kChunkBytes of parameter
// data (max_allowed_packet is 16 MiB by default).
//
// A server without bulk operations (MySQL), a column whose values change
// type from row to row, or a statement that returns rows falls back to one
// execution of the prepared statement per row. Either way the batch runs in
// one transaction (START TRANSACTION ... COMMIT, or a SAVEPOINT inside the
// host's transaction), so it is all or nothing.
#include "connection.hpp"
#include "runtime.hpp"
#include "types.hpp"

#include <ilana/sdk/driver_support.hpp>

#include <cstring>
#include <string>
#include <vector>

namespace ilana::drivers::mysql {
namespace {

constexpr uint32_t kMaxParams = 65535;
constexpr size_t kChunkBytes = 4u * 1024 * 1024;
constexpr uint32_t kMaxChunkRows = 65535;

const ilana_value &value_at(const ilana_batch_statement &st, uint64_t row, uint32_t p) {
    const char *base = reinterpret_cast<const char *>(st.params);
    return *reinterpret_cast<const ilana_value *>(base + (row * st.param_count + p) * st.value_size);
}

bool is_null(const ilana_value &v) { return v.is_null != 0 || v.type == ILANA_TYPE_NULL; }

// The MYSQL_BIND buffer type one ilana parameter type travels as (the same
// choices as statement.cpp's ParamBinder).
enum_field_types wire_type(ilana_type t) {
    switch (t) {
    case ILANA_TYPE_BOOL:
    case ILANA_TYPE_INT64:
    case ILANA_TYPE_UINT64: return MYSQL_TYPE_LONGLONG;
    case ILANA_TYPE_DOUBLE: return MYSQL_TYPE_DOUBLE;
    case ILANA_TYPE_TEXT:
    case ILANA_TYPE_UUID:
    case ILANA_TYPE_JSON: return MYSQL_TYPE_STRING;
    case ILANA_TYPE_BLOB: return MYSQL_TYPE_BLOB;
    case ILANA_TYPE_DECIMAL: return MYSQL_TYPE_NEWDECIMAL;
    case ILANA_TYPE_DATE: return MYSQL_TYPE_DATE;
    case ILANA_TYPE_TIME: return MYSQL_TYPE_TIME;
    case ILANA_TYPE_TIMESTAMP:
    case ILANA_TYPE_TIMESTAMPTZ: return MYSQL_TYPE_DATETIME;
    default: return MYSQL_TYPE_NULL;
    }
}

[[noreturn]] void bad_param(uint64_t row, uint32_t p, const std::string &why) {
    throw DriverFailure(ILANA_ERR_DATA,
                        "batch row " + std::to_string(row + 1) + ", parameter " + std::to_string(p + 1) + ": " + why,
                        {}, 0, ILANA_ERRF_NOT_SENT);
}

// Checks every value; returns false when a column's values do not share
// one wire type (then rows are executed one by one).
bool check_rows(const ilana_batch_statement &st) {
    bool uniform = true;
    for (uint32_t p = 0; p < st.param_count; ++p) {
        enum_field_types col = MYSQL_TYPE_NULL;
        bool col_unsigned = false;
        for (uint64_t r = 0; r < st.row_count; ++r) {
            const ilana_value &v = value_at(st, r, p);
            if (is_null(v)) continue;
            const enum_field_types t = wire_type(v.type);
            if (t == MYSQL_TYPE_NULL) bad_param(r, p, "not a parameter type (" + std::to_string(v.type) + ")");
            if (t == MYSQL_TYPE_STRING || t == MYSQL_TYPE_BLOB || t == MYSQL_TYPE_NEWDECIMAL) {
                if (v.v.str.ptr == nullptr && v.v.str.len != 0) bad_param(r, p, "NULL pointer with a length");
                if (v.v.str.len > 0xFFFFFFFFu) bad_param(r, p, "value larger than 4 GiB");
            }
            const bool u = v.type == ILANA_TYPE_UINT64;
            if (col == MYSQL_TYPE_NULL) {
                col = t;
                col_unsigned = u;
            } else if (col != t || col_unsigned != u) {
                uniform = false;
            }
        }
    }
    return uniform;
}

// Column-wise parameter arrays for rows [first, first + n) (`bulk`), or the
// ordinary binding of the one row `first` (n = 1, !bulk).
class BulkBinder {
    static inline char empty[1] = {0};

public:
    void bind(const ilana_batch_statement &st, uint64_t first, uint32_t n, bool bulk) {
        const uint32_t np = st.param_count;
        binds_.assign(np, MYSQL_BIND{});
        cols_.resize(np);
        for (uint32_t p = 0; p < np; ++p) {
            Column &c = cols_[p];
            c.ind.assign(n, static_cast<char>(STMT_INDICATOR_NONE));
            enum_field_types type = MYSQL_TYPE_NULL;
            bool is_unsigned = false;
            for (uint32_t i = 0; i < n && type == MYSQL_TYPE_NULL; ++i) {
                const ilana_value &v = value_at(st, first + i, p);
                if (!is_null(v)) {
                    type = wire_type(v.type);
                    is_unsigned = v.type == ILANA_TYPE_UINT64;
                }
            }
            MYSQL_BIND &b = binds_[p];
            if (bulk) b.u.indicator = c.ind.data();
            b.is_unsigned = is_unsigned ? 1 : 0;
            switch (type) {
            case MYSQL_TYPE_NULL: // every value NULL
            case MYSQL_TYPE_LONGLONG:
                c.ints.resize(n);
                b.buffer_type = MYSQL_TYPE_LONGLONG;
                b.buffer = c.ints.data();
                break;
            case MYSQL_TYPE_DOUBLE:
                c.doubles.resize(n);
                b.buffer_type = MYSQL_TYPE_DOUBLE;
                b.buffer = c.doubles.data();
                break;
            case MYSQL_TYPE_DATE:
            case MYSQL_TYPE_TIME:
            case MYSQL_TYPE_DATETIME:
                c.times.resize(n);
                b.buffer_type = type;
                b.buffer = c.times.data();
                break;
            default: // strings: an array of pointers and an array of lengths
                c.ptrs.resize(n);
                c.lengths.resize(n);
                b.buffer_type = type;
                b.buffer = c.ptrs.data();
                b.length = c.lengths.data();
                break;
            }
            if (!bulk) { // one row: NULL is a NULL-typed parameter, strings point at their bytes
                const ilana_value &v = value_at(st, first, p);
                if (is_null(v)) {
                    b.buffer_type = MYSQL_TYPE_NULL;
                    b.buffer = nullptr;
                    continue;
                }
                if (type == MYSQL_TYPE_STRING || type == MYSQL_TYPE_BLOB || type == MYSQL_TYPE_NEWDECIMAL) {
                    b.buffer = v.v.str.ptr != nullptr ? const_cast<char *>(v.v.str.ptr) : empty;
                    b.buffer_length = static_cast<unsigned long>(v.v.str.len);
                    b.length = nullptr;
                    continue;
                }
            }
            for (uint32_t i = 0; i < n; ++i) {
                const ilana_value &v = value_at(st, first + i, p);
                if (is_null(v)) {
                    c.ind[i] = static_cast<char>(STMT_INDICATOR_NULL);
                    continue;
                }
                switch (v.type) {
                case ILANA_TYPE_BOOL: c.ints[i] = v.v.i64 != 0 ? 1 : 0; break;
                case ILANA_TYPE_INT64:
                case ILANA_TYPE_UINT64: c.ints[i] = v.v.i64; break;
                case ILANA_TYPE_DOUBLE: c.doubles[i] = v.v.f64; break;
                case ILANA_TYPE_DATE: days_to_time(v.v.i64, c.times[i]); break;
                case ILANA_TYPE_TIME: micros_to_time(v.v.i64, c.times[i]); break;
                case ILANA_TYPE_TIMESTAMP:
                case ILANA_TYPE_TIMESTAMPTZ: micros_to_datetime(v.v.i64, c.times[i]); break;
                default:
                    c.ptrs[i] = v.v.str.ptr != nullptr ? const_cast<char *>(v.v.str.ptr) : empty;
                    c.lengths[i] = static_cast<unsigned long>(v.v.str.len);
                    break;
                }
            }
        }
    }
    MYSQL_BIND *data() { return binds_.empty() ? nullptr : binds_.data(); }

private:
    struct Column {
        std::vector<char> ind;
        std::vector<long long> ints;
        std::vector<double> doubles;
        std::vector<MYSQL_TIME> times;
        std::vector<char *> ptrs;
        std::vector<unsigned long> lengths;
    };
    std::vector<MYSQL_BIND> binds_;
    std::vector<Column> cols_;
};

// Parameter bytes of one row, for chunking (an estimate: 9 bytes per fixed
// value, the length plus 9 per string).
size_t row_bytes(const ilana_batch_statement &st, uint64_t r) {
    size_t n = 0;
    for (uint32_t p = 0; p < st.param_count; ++p) {
        const ilana_value &v = value_at(st, r, p);
        n += 9;
        if (!is_null(v) && (wire_type(v.type) == MYSQL_TYPE_STRING || wire_type(v.type) == MYSQL_TYPE_BLOB ||
                            wire_type(v.type) == MYSQL_TYPE_NEWDECIMAL))
            n += static_cast<size_t>(v.v.str.len);
    }
    return n;
}

bool bulk_supported(MYSQL *m) {
    unsigned long caps = 0;
    if (mariadb_get_infov(m, MARIADB_CONNECTION_EXTENDED_SERVER_CAPABILITIES, &caps) != 0) return false;
    return (caps & (MARIADB_CLIENT_STMT_BULK_OPERATIONS >> 32)) != 0;
}

bool in_transaction(MYSQL *m) {
    unsigned int status = 0;
    if (mariadb_get_infov(m, MARIADB_CONNECTION_SERVER_STATUS, &status) != 0) return false;
    return (status & SERVER_STATUS_IN_TRANS) != 0;
}

int64_t affected(my_ulonglong n) { return n == static_cast<my_ulonglong>(~0ULL) ? 0 : static_cast<int64_t>(n); }

// The prepared statement lent for the batch, given back however it ends.
class Lease {
public:
    Lease(Connection &c, MYSQL_STMT *s) : c_(c), s_(s) {}
    ~Lease() {
        if (s_ == nullptr) return;
        unsigned int zero = 0; // a cached statement must not keep the array size
        mysql_stmt_attr_set(s_, STMT_ATTR_ARRAY_SIZE, &zero);
        c_.give_back(s_, reusable_);
    }
    MYSQL_STMT *get() const noexcept { return s_; }
    void spoil() noexcept { reusable_ = false; }

private:
    Connection &c_;
    MYSQL_STMT *s_;
    bool reusable_ = true;
};

class OpScope {
public:
    explicit OpScope(Connection &c) : c_(c) { c_.op_begin(); }
    ~OpScope() { c_.op_end(); }

private:
    Connection &c_;
};

std::string row_label(uint64_t row, uint64_t total) {
    return "batch row " + std::to_string(row + 1) + " of " + std::to_string(total);
}

int64_t run_rows(Connection &c, const ilana_batch_statement &st, std::string_view sql, bool cache,
                 int64_t &failed_row) {
    MYSQL *m = c.handle();
    Lease lease(c, c.take_stmt(sql, cache));
    MYSQL_STMT *s = lease.get();
    if (mysql_stmt_param_count(s) != st.param_count)
        throw DriverFailure(ILANA_ERR_SYNTAX,
                            "the statement has " + std::to_string(mysql_stmt_param_count(s)) +
                                " placeholder(s) but each batch row has " + std::to_string(st.param_count) +
                                " parameter(s)",
                            "07001", 0, ILANA_ERRF_NOT_SENT);
    const bool uniform = check_rows(st);
    const bool bulk = uniform && st.param_count > 0 && mysql_stmt_field_count(s) == 0 && bulk_supported(m);
    OpScope op(c);
    int64_t total = 0;
    BulkBinder binder;
    uint64_t r = 0;
    while (r < st.row_count) {
        // Rows of this execution: one, or a chunk for a bulk execution.
        uint32_t n = 1;
        if (bulk) {
            size_t bytes = row_bytes(st, r);
            while (r + n < st.row_count && n < kMaxChunkRows) {
                const size_t next = row_bytes(st, r + n);
                if (bytes + next > kChunkBytes) break;
                bytes += next;
                ++n;
            }
        }
        binder.bind(st, r, n, bulk);
        unsigned int array_size = bulk ? n : 0;
        if (mysql_stmt_attr_set(s, STMT_ATTR_ARRAY_SIZE, &array_size) != 0 ||
            (st.param_count > 0 && mysql_stmt_bind_param(s, binder.data()) != 0)) {
            lease.spoil();
            throw stmt_failure(s, Phase::Statement);
        }
        if (mysql_stmt_execute(s) != 0) {
            DriverFailure f = stmt_failure(s, Phase::Statement);
            failed_row = bulk && n > 1 ? -1 : static_cast<int64_t>(r);
            const std::string where = bulk && n > 1 ? "batch rows " + std::to_string(r + 1) + " to " +
                                                          std::to_string(r + n) + " of " +
                                                          std::to_string(st.row_count)
                                                    : row_label(r, st.row_count);
            if (f.flags() & ILANA_ERRF_CONN_BROKEN) lease.spoil();
            throw DriverFailure(f.error_class(), where + ": " + f.what(), f.sqlstate(), f.native_code(),
                                f.flags() & ~ILANA_ERRF_NOT_SENT)
                .with_condition(f.condition(), f.constraint_name());
        }
        if (mysql_stmt_field_count(s) > 0) { // rows (RETURNING): read and drop them
            mysql_stmt_store_result(s);
            mysql_stmt_free_result(s);
        }
        total += affected(mysql_stmt_affected_rows(s));
        r += n;
    }
    return total;
}

} // namespace

int64_t Connection::execute_many(const ilana::sdk::BatchStatement &batch) {
    ensure_thread();
    Connection &c = *this;
    // The host's rows as the binders read them (row-major, strided).
    ilana_batch_statement st{};
    st.struct_size = sizeof st;
    st.sql = batch.sql.data();
    st.sql_len = batch.sql.size();
    st.param_count = batch.param_count();
    st.row_count = batch.row_count;
    st.flags = batch.flags;
    if (batch.row_count > 0 && batch.param_count() > 0) {
        const ilana::sdk::Params first = batch.row(0);
        st.params = first.data();
        st.value_size = first.stride();
    } else {
        st.value_size = sizeof(ilana_value);
    }
    if (st.sql == nullptr || st.sql_len == 0)
        throw DriverFailure(ILANA_ERR_SYNTAX, "empty statement", "42000", 1065, ILANA_ERRF_NOT_SENT);
    if (st.param_count > kMaxParams)
        throw DriverFailure(ILANA_ERR_DATA,
                            std::to_string(st.param_count) + " parameters: MySQL allows at most " +
                                std::to_string(kMaxParams) + " per statement",
                            {}, 0, ILANA_ERRF_NOT_SENT);
    if (st.row_count > 0 && st.param_count > 0 && (st.params == nullptr || st.value_size < sizeof(ilana_value)))
        throw misuse("execute_many: parameters missing or value_size too small");
    c.ensure_ready();
    if (st.row_count == 0) return 0;
    const std::string_view sql(st.sql, static_cast<size_t>(st.sql_len));
    const bool cache = (st.flags & ILANA_EXEC_CACHE) != 0;

    MYSQL *m = c.handle();
    const bool own_txn = !in_transaction(m);
    c.simple_query(own_txn ? "START TRANSACTION" : "SAVEPOINT ilana_batch", Phase::Session, "execute_many");
    int64_t total = 0;
    int64_t failed_row = -1;
    try {
        total = run_rows(c, st, sql, cache, failed_row);
    } catch (const DriverFailure &f) {
        uint32_t flags = f.flags();
        if (!c.broken()) {
            try {
                if (own_txn) {
                    c.simple_query("ROLLBACK", Phase::Session, "execute_many");
                } else {
                    c.simple_query("ROLLBACK TO SAVEPOINT ilana_batch", Phase::Session, "execute_many");
                    c.simple_query("RELEASE SAVEPOINT ilana_batch", Phase::Session, "execute_many");
                }
            } catch (const DriverFailure &) {
                flags |= ILANA_ERRF_TXN_ABORTED;
            }
        }
        // A deadlock rolled the host's whole transaction back: say so.
        if (!own_txn && !c.broken() && !in_transaction(m)) flags |= ILANA_ERRF_TXN_ABORTED;
        DriverFailure g(f.error_class(), f.what(), f.sqlstate(), f.native_code(), flags);
        g.with_condition(f.condition(), f.constraint_name());
        // fail() marks the session broken and says what broke it; the
        // failed row (for ilana_batch_outcome.failed_row) goes with either.
        if (flags & ILANA_ERRF_CONN_BROKEN) {
            try {
                c.fail(g);
            } catch (const DriverFailure &h) {
                throw ilana::sdk::BatchRowFailure(failed_row, h);
            }
        }
        throw ilana::sdk::BatchRowFailure(failed_row, g);
    }
    c.simple_query(own_txn ? "COMMIT" : "RELEASE SAVEPOINT ilana_batch", Phase::Session, "execute_many");
    return total;
}

} // namespace ilana::drivers::mysql
