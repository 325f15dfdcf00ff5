// bind.cpp — ilana_value parameters to sqlite3_bind_*.
//
// SQLite has five storage classes (NULL, INTEGER, REAL, TEXT, BLOB); every
// other ilana type is stored as text in the form SQLite's own date and time
// functions read, so `date(?)`, `julianday(?)` and ORDER BY work on it:
//   DATE        "YYYY-MM-DD"
//   TIME        "HH:MM:SS" or "HH:MM:SS.ffffff" when there are microseconds
//   TIMESTAMP   "YYYY-MM-DD HH:MM:SS" or "YYYY-MM-DD HH:MM:SS.ffffff"
//   TIMESTAMPTZ "YYYY-MM-DDTHH:MM:SS.ffffffZ" — always UTC, always six
//               fractional digits, so that text order is time order ("Z"
//               sorts after ".", a shorter form would misorder)
//   UINT64 above INT64_MAX  decimal text (SQLite integers are signed 64-bit)
//   DECIMAL, UUID, JSON     their text as given
// Text and blob bytes are copied by SQLite (SQLITE_TRANSIENT): parameters
// are borrowed for the execute call only, rows are stepped later. A batch
// (execute_many) steps every row inside the call and finalizes its
// statement before returning, so it lets SQLite read the host's bytes in
// place (ParamBytes::borrow): copying them cost a malloc, a copy and a free
// per text cell, about a third of sqlite_batch_insert's distance from raw.
#include "sqlite_driver.hpp"

#include <ilana/sdk/values.hpp>

#include <cinttypes>
#include <cstdio>
#include <limits>

namespace ilana::drivers::sqlite {
namespace {

constexpr int64_t kMicrosPerSecond = 1000000;
constexpr int64_t kMicrosPerDay = 86400 * kMicrosPerSecond;

// Floor division: -1 µs is the last microsecond of 1969-12-31, not of 1970-01-01.
int64_t floor_div(int64_t a, int64_t b) {
    int64_t q = a / b;
    if ((a % b != 0) && ((a < 0) != (b < 0))) --q;
    return q;
}

void append_date(std::string &out, int64_t days) {
    const sdk::CivilDate d = sdk::civil_from_days(days);
    char buf[48];
    // ISO 8601: four digits for years 0..9999, an explicit sign beyond.
    if (d.year >= 0 && d.year <= 9999)
        std::snprintf(buf, sizeof buf, "%04" PRId64 "-%02u-%02u", d.year, d.month, d.day);
    else
        std::snprintf(buf, sizeof buf, "%+05" PRId64 "-%02u-%02u", d.year, d.month, d.day);
    out += buf;
}

// `micros` within one day, 0 <= micros < kMicrosPerDay.
void append_time(std::string &out, int64_t micros, bool always_fraction) {
    const int64_t secs = micros / kMicrosPerSecond;
    const int64_t frac = micros % kMicrosPerSecond;
    char buf[32];
    std::snprintf(buf, sizeof buf, "%02d:%02d:%02d", static_cast<int>(secs / 3600),
                  static_cast<int>(secs / 60 % 60), static_cast<int>(secs % 60));
    out += buf;
    if (frac != 0 || always_fraction) {
        std::snprintf(buf, sizeof buf, ".%06d", static_cast<int>(frac));
        out += buf;
    }
}

std::string format_datetime(int64_t micros, char separator, bool always_fraction) {
    // Keep days_from/civil_from_days inside int64 and the year printable.
    constexpr int64_t kLimit = 100000LL * 366 * kMicrosPerDay;
    if (micros > kLimit || micros < -kLimit)
        throw DriverFailure(ILANA_ERR_DATA, "timestamp out of range: " + std::to_string(micros) +
                                                " microseconds from 1970-01-01",
                            "22008");
    const int64_t days = floor_div(micros, kMicrosPerDay);
    std::string out;
    out.reserve(32);
    append_date(out, days);
    out += separator;
    append_time(out, micros - days * kMicrosPerDay, always_fraction);
    return out;
}

// The SDK's type name; "unknown" for a value outside ILANA_TYPE_NULL..ANY.
const char *type_name(ilana_type t) {
    return t >= ILANA_TYPE_NULL && t <= ILANA_TYPE_ANY ? sdk::type_name(t) : "unknown";
}

std::string param_label(uint32_t index, ilana_type t) {
    return "parameter " + std::to_string(index + 1) + " (" + type_name(t) + ")";
}

// Never a NULL pointer: sqlite3_bind_text/blob bind SQL NULL for one.
const char kEmpty[1] = {'\0'};

int bind_text(sqlite3_stmt *stmt, int pos, const char *p, uint64_t len, sqlite3_destructor_type keep) {
    return sqlite3_bind_text64(stmt, pos, len == 0 ? kEmpty : p, len, keep, SQLITE_UTF8);
}

int bind_string(sqlite3_stmt *stmt, int pos, const std::string &s) {
    return sqlite3_bind_text64(stmt, pos, s.data(), s.size(), SQLITE_TRANSIENT, SQLITE_UTF8);
}

// `keep`: SQLITE_TRANSIENT or SQLITE_STATIC for the value's own bytes (text
// the driver formats here is always copied).
int bind_one(sqlite3_stmt *stmt, int pos, const ilana_value &v, uint32_t index, sqlite3_destructor_type keep) {
    if (v.is_null != 0) return sqlite3_bind_null(stmt, pos);
    switch (v.type) {
    case ILANA_TYPE_NULL: return sqlite3_bind_null(stmt, pos);
    case ILANA_TYPE_BOOL: return sqlite3_bind_int64(stmt, pos, v.v.i64 != 0 ? 1 : 0);
    case ILANA_TYPE_INT64: return sqlite3_bind_int64(stmt, pos, v.v.i64);
    case ILANA_TYPE_UINT64:
        if (v.v.u64 <= static_cast<uint64_t>(std::numeric_limits<int64_t>::max()))
            return sqlite3_bind_int64(stmt, pos, static_cast<int64_t>(v.v.u64));
        return bind_string(stmt, pos, std::to_string(v.v.u64));
    case ILANA_TYPE_DOUBLE: return sqlite3_bind_double(stmt, pos, v.v.f64);
    case ILANA_TYPE_TEXT:
    case ILANA_TYPE_DECIMAL:
    case ILANA_TYPE_UUID:
    case ILANA_TYPE_JSON:
    case ILANA_TYPE_BLOB:
        if (v.v.str.ptr == nullptr && v.v.str.len != 0)
            throw DriverFailure(ILANA_ERR_INTERNAL, param_label(index, v.type) +
                                                        ": NULL pointer with length " +
                                                        std::to_string(v.v.str.len));
        if (v.type == ILANA_TYPE_BLOB)
            return sqlite3_bind_blob64(stmt, pos, v.v.str.len == 0 ? kEmpty : v.v.str.ptr,
                                       v.v.str.len, keep);
        return bind_text(stmt, pos, v.v.str.ptr, v.v.str.len, keep);
    case ILANA_TYPE_DATE: {
        constexpr int64_t kMaxDays = 100000LL * 366;
        if (v.v.i64 > kMaxDays || v.v.i64 < -kMaxDays)
            throw DriverFailure(ILANA_ERR_DATA, param_label(index, v.type) + ": " +
                                                    std::to_string(v.v.i64) +
                                                    " days from 1970-01-01 is out of range",
                                "22008");
        std::string s;
        append_date(s, v.v.i64);
        return bind_string(stmt, pos, s);
    }
    case ILANA_TYPE_TIME:
        if (v.v.i64 < 0 || v.v.i64 >= kMicrosPerDay)
            throw DriverFailure(ILANA_ERR_DATA, param_label(index, v.type) + ": " +
                                                    std::to_string(v.v.i64) +
                                                    " microseconds is not a time of day",
                                "22008");
        return bind_string(stmt, pos, format_time(v.v.i64));
    case ILANA_TYPE_TIMESTAMP: return bind_string(stmt, pos, format_timestamp(v.v.i64));
    case ILANA_TYPE_TIMESTAMPTZ: return bind_string(stmt, pos, format_timestamptz(v.v.i64));
    default:
        throw DriverFailure(ILANA_ERR_DATA, param_label(index, v.type) + ": type " +
                                                std::to_string(v.type) +
                                                " cannot be bound as a parameter",
                            "22023");
    }
}

} // namespace

std::string format_date(int64_t days) {
    std::string s;
    append_date(s, days);
    return s;
}

std::string format_time(int64_t micros) {
    std::string s;
    append_time(s, micros, false);
    return s;
}

std::string format_timestamp(int64_t micros) { return format_datetime(micros, ' ', false); }

std::string format_timestamptz(int64_t micros) { return format_datetime(micros, 'T', true) + "Z"; }

bool bind_parameters(sqlite3 *db, sqlite3_stmt *stmt, const ilana_value *params, uint32_t count,
                     uint32_t value_size, ParamBytes bytes_mode) {
    const int expected = stmt != nullptr ? sqlite3_bind_parameter_count(stmt) : 0;
    if (static_cast<int64_t>(count) != expected)
        throw DriverFailure(ILANA_ERR_SYNTAX,
                            "the statement has " + std::to_string(expected) +
                                " placeholder(s) but " + std::to_string(count) +
                                " parameter(s) were given",
                            "07001", 0, ILANA_ERRF_NOT_SENT);
    if (count == 0) return false;
    if (params == nullptr)
        throw DriverFailure(ILANA_ERR_INTERNAL, "execute: params is NULL but param_count is " +
                                                    std::to_string(count));
    // The host's stride; a smaller one than v1's value would read garbage.
    const std::size_t stride = value_size == 0 ? sizeof(ilana_value) : value_size;
    if (stride < sizeof(ilana_value))
        throw DriverFailure(ILANA_ERR_INTERNAL, "execute: value_size " + std::to_string(value_size) +
                                                    " is smaller than ilana_value (" +
                                                    std::to_string(sizeof(ilana_value)) + ")");
    const char *base = reinterpret_cast<const char *>(params);
    const sqlite3_destructor_type keep = bytes_mode == ParamBytes::borrow ? SQLITE_STATIC : SQLITE_TRANSIENT;
    bool bytes = false;
    for (uint32_t i = 0; i < count; ++i) {
        const auto &v = *reinterpret_cast<const ilana_value *>(base + stride * i);
        // Every type but these three is bound as text or blob (see the top).
        if (v.is_null == 0 && v.type != ILANA_TYPE_NULL && v.type != ILANA_TYPE_BOOL &&
            v.type != ILANA_TYPE_INT64 && v.type != ILANA_TYPE_DOUBLE)
            bytes = true;
        const int rc = bind_one(stmt, static_cast<int>(i) + 1, v, i, keep);
        if (rc != SQLITE_OK)
            throw_sqlite(db, rc, Stage::step, param_label(i, v.type), {}, ILANA_ERRF_NOT_SENT);
    }
    return bytes;
}

} // namespace ilana::drivers::sqlite
