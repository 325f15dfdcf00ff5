// conversions.cpp — the conversions a user asks for, on every driver:
// <db>_fetch_date, <db>_fetch_time, <db>_fetch_decimal. Each fetches
// `id` and one column of a 200 000-row table into a std::vector of
// {int64, value}, the value read as ilana::Date (days), ilana::Time
// (microseconds) or double; the raw side gets the same C++ values the way a
// performance-minded program does with the client library alone.
//
//   SQLite      the columns are text, as SQLite's date() / time() write
//               them, and the amount decimal text (an exact decimal is kept
//               as TEXT in SQLite; a DECIMAL-declared column stores REAL);
//               raw parses the text (dates and times by hand, checked;
//               the amount with std::from_chars).
//   PostgreSQL  date, time, numeric(12,2); raw: binary results (days from
//               2000-01-01, microseconds, numeric's base-10000 digits
//               scaled to a double). ilana's driver delivers DATE / TIME
//               cells and numeric as DECIMAL text.
//   MariaDB     DATE, TIME, DECIMAL(12,2); raw: prepared statement, the
//               date and time bound to MYSQL_TIME, the decimal bound to a
//               double (libmariadb converts). ilana's driver delivers DATE /
//               TIME cells and DECIMAL text.
#include "harness.hpp"
#include "raw_mysql.hpp"
#include "raw_pg.hpp"

#include <ilana/database.hpp>

#include <sqlite3.h>

#include <charconv>
#include <cmath>
#include <memory>
#include <stdexcept>
#include <utility>
#include <vector>

namespace bench {
namespace {

// Row x (1..n) holds day 2000-01-01 + x % 20000 (leap years included),
// time x % 86400 seconds, amount ((x * 7919) % 2000000 - 1000000) / 100
// (negative and positive, two decimals).
enum class Kind { date, time, decimal };
constexpr int64_t kDay0 = 10957; // 2000-01-01 in days since 1970-01-01

int64_t expected_value(Kind k, int64_t x) {
    switch (k) {
    case Kind::date: return kDay0 + x % 20000;
    case Kind::time: return x % 86400 * 1000000;
    case Kind::decimal: return (x * 7919) % 2000000 - 1000000; // cents
    }
    return 0;
}

// What each side accumulates: rows, ids, and the values (decimals as cents).
struct Pair {
    int64_t id;
    double value; // days, microseconds or the amount
};
int64_t as_units(Kind k, double v) { return k == Kind::decimal ? std::llround(v * 100) : static_cast<int64_t>(v); }

uint64_t check_pairs(const char *side, Kind k, const std::vector<Pair> &rows, int64_t n) {
    int64_t ids = 0, values = 0, want_values = 0;
    for (const Pair &p : rows) {
        ids += p.id;
        values += as_units(k, p.value);
    }
    for (int64_t x = 1; x <= n; ++x) want_values += expected_value(k, x);
    const std::string w = side;
    check_equal((w + " rows").c_str(), static_cast<int64_t>(rows.size()), n);
    check_equal((w + " sum of ids").c_str(), ids, n * (n + 1) / 2);
    check_equal((w + " sum of values").c_str(), values, want_values);
    return rows.size();
}

const char *column_of(Kind k) { return k == Kind::date ? "day" : k == Kind::time ? "at" : "amount"; }

// The ilana side: Connection::stream, the value read as the user's type.
RunFn ilana_side(ilana::Connection c, std::string sql, Kind k, int64_t n) {
    return [c, sql, k, n] {
        std::vector<Pair> rows;
        switch (k) {
        case Kind::date:
            c.stream(sql, {}, [&](const ilana::Row &r) {
                rows.push_back({r[0].as<int64_t>(), static_cast<double>(r[1].as<ilana::Date>().days_since_epoch)});
            });
            break;
        case Kind::time:
            c.stream(sql, {}, [&](const ilana::Row &r) {
                rows.push_back({r[0].as<int64_t>(), static_cast<double>(r[1].as<ilana::Time>().micros_since_midnight)});
            });
            break;
        case Kind::decimal:
            c.stream(sql, {}, [&](const ilana::Row &r) { rows.push_back({r[0].as<int64_t>(), r[1].as<double>()}); });
            break;
        }
        return check_pairs("ilana", k, rows, n);
    };
}

// ---- SQLite ---------------------------------------------------------------

// Two digits at p, checked.
inline int two_digits(const unsigned char *p) {
    const unsigned a = p[0] - '0', b = p[1] - '0';
    if (a > 9 || b > 9) throw std::runtime_error("raw: a digit is not a digit");
    return static_cast<int>(a * 10 + b);
}

// "YYYY-MM-DD" to days since the epoch, checked (digits and ranges).
int64_t raw_date(const unsigned char *p, int n) {
    if (n != 10 || p[4] != '-' || p[7] != '-') throw std::runtime_error("raw: not a YYYY-MM-DD date");
    const int y = two_digits(p) * 100 + two_digits(p + 2), m = two_digits(p + 5), d = two_digits(p + 8);
    if (m < 1 || m > 12 || d < 1 || d > 31) throw std::runtime_error("raw: date out of range");
    const int yy = y - (m <= 2);
    const int era = yy / 400, yoe = yy - era * 400;
    const int doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    return era * 146097LL + yoe * 365 + yoe / 4 - yoe / 100 + doy - 719468;
}

// "HH:MM:SS" to microseconds, checked.
int64_t raw_time(const unsigned char *p, int n) {
    if (n != 8 || p[2] != ':' || p[5] != ':') throw std::runtime_error("raw: not an HH:MM:SS time");
    const int h = two_digits(p), m = two_digits(p + 3), s = two_digits(p + 6);
    if (m > 59 || s > 59) throw std::runtime_error("raw: time out of range");
    return (h * 3600LL + m * 60 + s) * 1000000;
}

double raw_decimal(const char *p, int n) {
    double v = 0;
    const auto r = std::from_chars(p, p + n, v);
    if (r.ec != std::errc() || r.ptr != p + n) throw std::runtime_error("raw: not a decimal number");
    return v;
}

struct LiteTyped {
    sqlite3 *db = nullptr;
    std::vector<sqlite3_stmt *> stmts;
    ~LiteTyped() {
        for (auto *s : stmts) sqlite3_finalize(s);
        sqlite3_close_v2(db);
    }
};

std::string lite_fill_sql(size_t n) {
    return "INSERT INTO typed_items WITH RECURSIVE g(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM g WHERE x < " +
           std::to_string(n) +
           ") SELECT x, date(946684800 + (x % 20000) * 86400, 'unixepoch'), time(x % 86400, 'unixepoch'),"
           " printf('%.2f', ((x * 7919) % 2000000 - 1000000) / 100.0) FROM g";
}
constexpr const char *kLiteCreate =
    "CREATE TABLE typed_items (id INTEGER PRIMARY KEY, day TEXT NOT NULL, at TEXT NOT NULL, amount TEXT NOT NULL)";

std::shared_ptr<LiteTyped> lite_typed(Context &ctx) {
    static std::shared_ptr<LiteTyped> d;
    if (d) return d;
    auto t = std::make_shared<LiteTyped>();
    if (sqlite3_open_v2(":memory:", &t->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                        nullptr) != SQLITE_OK)
        throw std::runtime_error("sqlite3_open_v2 failed");
    const size_t n = ctx.scale(200000);
    for (const std::string &sql : {std::string(kLiteCreate), lite_fill_sql(n)}) {
        if (sqlite3_exec(t->db, sql.c_str(), nullptr, nullptr, nullptr) != SQLITE_OK)
            throw std::runtime_error(std::string("sqlite: ") + sqlite3_errmsg(t->db));
        ctx.db().on("lite").execute(sql);
    }
    d = t;
    return d;
}

Sides lite_fetch(Context &ctx, Kind k) {
    auto t = lite_typed(ctx);
    const int64_t n = static_cast<int64_t>(ctx.scale(200000));
    const std::string sql = std::string("SELECT id, ") + column_of(k) + " FROM typed_items";
    sqlite3_stmt *s = nullptr;
    if (sqlite3_prepare_v2(t->db, sql.c_str(), -1, &s, nullptr) != SQLITE_OK)
        throw std::runtime_error(std::string("sqlite prepare: ") + sqlite3_errmsg(t->db));
    t->stmts.push_back(s);
    Sides out;
    out.raw = [t, s, k, n] {
        std::vector<Pair> rows;
        while (sqlite3_step(s) == SQLITE_ROW) {
            const int64_t id = sqlite3_column_int64(s, 0);
            const unsigned char *p = sqlite3_column_text(s, 1);
            const int len = sqlite3_column_bytes(s, 1);
            const double v = k == Kind::date   ? static_cast<double>(raw_date(p, len))
                             : k == Kind::time ? static_cast<double>(raw_time(p, len))
                                               : raw_decimal(reinterpret_cast<const char *>(p), len);
            rows.push_back({id, v});
        }
        sqlite3_reset(s);
        return check_pairs("raw", k, rows, n);
    };
    out.ilana = ilana_side(ctx.db().on("lite"), sql, k, n);
    out.note = "raw step loop parsing the text vs Connection::stream reading it as the type";
    return out;
}

// ---- PostgreSQL -------------------------------------------------------------

std::string &pg_typed_table(Context &ctx, pg::Conn &raw) {
    static std::string table;
    if (!table.empty()) return table;
    const std::string name = ctx.unique("bench_typed");
    raw.exec("DROP TABLE IF EXISTS " + name);
    raw.exec("CREATE TABLE " + name + " (id int PRIMARY KEY, day date NOT NULL, at time NOT NULL, amount numeric(12,2) NOT NULL)");
    raw.exec("INSERT INTO " + name +
             " SELECT g, date '2000-01-01' + g % 20000, time '00:00' + (g % 86400) * interval '1 second',"
             " ((g::int8 * 7919) % 2000000 - 1000000) / 100.0 FROM generate_series(1, " +
             std::to_string(ctx.scale(200000)) + ") g");
    raw.exec("ANALYZE " + name);
    const std::string url = ctx.pg_url();
    ctx.at_exit([url, name] { pg::Conn(url).exec("DROP TABLE IF EXISTS " + name); });
    table = name;
    return table;
}

// numeric (binary) to the nearest double: its base-10000 digits as an
// integer, scaled by one power of ten (exact for the bench's amounts:
// one correctly rounded division).
double pg_numeric(const char *p, int len) {
    auto be16 = [](const char *q) {
        return static_cast<int16_t>((static_cast<unsigned char>(q[0]) << 8) | static_cast<unsigned char>(q[1]));
    };
    if (len < 8) throw std::runtime_error("raw: short numeric");
    const int ndigits = be16(p), weight = be16(p + 2);
    const uint16_t sign = static_cast<uint16_t>(be16(p + 4));
    int64_t m = 0;
    for (int i = 0; i < ndigits; ++i) m = m * 10000 + be16(p + 8 + 2 * i);
    static constexpr double kPow10[] = {1, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16};
    const int exp10 = 4 * (weight - (ndigits - 1));
    if (exp10 < -16 || exp10 > 16) throw std::runtime_error("raw: numeric out of the bench's range");
    const double v = exp10 >= 0 ? static_cast<double>(m) * kPow10[exp10] : static_cast<double>(m) / kPow10[-exp10];
    return sign == 0x4000 ? -v : v;
}

Sides pg_fetch(Context &ctx, Kind k) {
    auto raw = std::make_shared<pg::Conn>(ctx.pg_url());
    const std::string &table = pg_typed_table(ctx, *raw);
    const int64_t n = static_cast<int64_t>(ctx.scale(200000));
    const std::string sql = std::string("SELECT id, ") + column_of(k) + " FROM " + table;
    raw->prepare("typed", sql.c_str(), 0, nullptr);
    Sides out;
    out.raw = [raw, k, n] {
        PGresult *r = raw->run("typed", 0, nullptr, nullptr, nullptr);
        const int count = PQntuples(r);
        std::vector<Pair> rows;
        rows.reserve(static_cast<size_t>(count));
        for (int i = 0; i < count; ++i) {
            const int64_t id = pg::get_int4(r, i, 0);
            double v;
            if (k == Kind::date) v = static_cast<double>(pg::get_int4(r, i, 1) + 10957);
            else if (k == Kind::time) v = static_cast<double>(pg::get_int8(r, i, 1));
            else v = pg_numeric(PQgetvalue(r, i, 1), PQgetlength(r, i, 1));
            rows.push_back({id, v});
        }
        PQclear(r);
        return check_pairs("raw", k, rows, n);
    };
    out.ilana = ilana_side(ctx.db().on("pg"), sql, k, n);
    out.note = "raw PQexecPrepared (whole binary result) vs Connection::stream reading the type";
    return out;
}

// ---- MariaDB ----------------------------------------------------------------

std::string &my_typed_table(Context &ctx, my::Conn &raw) {
    static std::string table;
    if (!table.empty()) return table;
    const std::string name = ctx.unique("bench_typed");
    raw.exec("DROP TABLE IF EXISTS " + name);
    raw.exec("CREATE TABLE " + name +
             " (id INT PRIMARY KEY, day DATE NOT NULL, at TIME NOT NULL, amount DECIMAL(12,2) NOT NULL) ENGINE=InnoDB");
    raw.exec("INSERT INTO " + name +
             " SELECT seq, DATE'2000-01-01' + INTERVAL (seq % 20000) DAY, SEC_TO_TIME(seq % 86400),"
             " CAST(((CAST(seq AS SIGNED) * 7919) % 2000000 - 1000000) / 100 AS DECIMAL(12,2)) FROM seq_1_to_" +
             std::to_string(ctx.scale(200000)));
    raw.exec("ANALYZE TABLE " + name);
    const std::string url = ctx.mysql_url();
    ctx.at_exit([url, name] { my::Conn(url).exec("DROP TABLE IF EXISTS " + name); });
    table = name;
    return table;
}

struct MyTypedReader {
    my::Conn conn;
    my::Stmt stmt;
    MYSQL_BIND out[2]{};
    long long id = 0;
    MYSQL_TIME tm{};
    double amount = 0;
    MyTypedReader(const std::string &url, const std::string &sql, Kind k) : conn(url), stmt(conn, sql) {
        out[0].buffer_type = MYSQL_TYPE_LONGLONG;
        out[0].buffer = &id;
        if (k == Kind::decimal) {
            out[1].buffer_type = MYSQL_TYPE_DOUBLE;
            out[1].buffer = &amount;
        } else {
            out[1].buffer_type = k == Kind::date ? MYSQL_TYPE_DATE : MYSQL_TYPE_TIME;
            out[1].buffer = &tm;
            out[1].buffer_length = sizeof tm;
        }
        stmt.bind_results(out);
    }
};

Sides my_fetch(Context &ctx, Kind k) {
    my::Conn setup(ctx.mysql_url());
    const std::string &table = my_typed_table(ctx, setup);
    const int64_t n = static_cast<int64_t>(ctx.scale(200000));
    const std::string sql = std::string("SELECT id, ") + column_of(k) + " FROM " + table;
    auto raw = std::make_shared<MyTypedReader>(ctx.mysql_url(), sql, k);
    Sides out;
    out.raw = [raw, k, n] {
        std::vector<Pair> rows;
        raw->stmt.execute();
        while (raw->stmt.fetch()) {
            double v;
            if (k == Kind::date) v = static_cast<double>(my::days_from_civil(raw->tm.year, raw->tm.month, raw->tm.day));
            else if (k == Kind::time)
                v = static_cast<double>(((raw->tm.hour * 3600LL + raw->tm.minute * 60 + raw->tm.second) * 1000000 +
                                         static_cast<int64_t>(raw->tm.second_part)) *
                                        (raw->tm.neg ? -1 : 1));
            else v = raw->amount;
            rows.push_back({raw->id, v});
        }
        return check_pairs("raw", k, rows, n);
    };
    out.ilana = ilana_side(ctx.db().on("my"), sql, k, n);
    out.note = "raw mysql_stmt_fetch into MYSQL_TIME / double vs Connection::stream reading the type";
    return out;
}

} // namespace

void add_conversion_workloads(std::vector<Workload> &out) {
    struct Def {
        const char *db, *needs;
        Sides (*fetch)(Context &, Kind);
    };
    const Def dbs[] = {{"sqlite", "", lite_fetch}, {"pg", "pg", pg_fetch}, {"my", "mysql", my_fetch}};
    const std::pair<Kind, const char *> kinds[] = {
        {Kind::date, "date"}, {Kind::time, "time"}, {Kind::decimal, "decimal"}};
    for (const Def &d : dbs) {
        for (const auto &[kind, name] : kinds) {
            const std::string what = std::string("200 000 rows of id + a ") + name + " column read as " +
                                     (kind == Kind::date ? "ilana::Date" : kind == Kind::time ? "ilana::Time" : "double") +
                                     " (Connection::stream)";
            auto fetch = d.fetch;
            const Kind k = kind;
            out.push_back({std::string(d.db) + "_fetch_" + name, d.needs, what, 0.95,
                           [fetch, k](Context &ctx) { return fetch(ctx, k); }, {}});
        }
    }
}

} // namespace bench
