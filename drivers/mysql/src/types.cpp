// types.cpp — column descriptions and value conversions (see types.hpp).
#include "types.hpp"

#include <ilana/sdk/driver_support.hpp>

#include <charconv>
#include <cstring>
#include <strings.h>

namespace ilana::drivers::mysql {
namespace {

constexpr unsigned kBinaryCharset = 63; // "binary": bytes, not text
constexpr int64_t kMicrosPerSecond = 1000000;
constexpr int64_t kMicrosPerDay = 86400 * kMicrosPerSecond;

// MariaDB 10.5+ sends JSON columns as LONGTEXT with the extended metadata
// format "json" (MARIADB_CLIENT_EXTENDED_METADATA); MySQL has type 245.
bool is_json_format(const MYSQL_FIELD &f) {
    MARIADB_CONST_STRING attr{nullptr, 0};
    if (mariadb_field_attr(&attr, &f, MARIADB_FIELD_ATTR_FORMAT_NAME) != 0) return false;
    return attr.str != nullptr && attr.length == 4 && strncasecmp(attr.str, "json", 4) == 0;
}

const char *int_name(enum_field_types t, bool uns) {
    switch (t) {
    case MYSQL_TYPE_TINY: return uns ? "TINYINT UNSIGNED" : "TINYINT";
    case MYSQL_TYPE_SHORT: return uns ? "SMALLINT UNSIGNED" : "SMALLINT";
    case MYSQL_TYPE_INT24: return uns ? "MEDIUMINT UNSIGNED" : "MEDIUMINT";
    case MYSQL_TYPE_LONG: return uns ? "INT UNSIGNED" : "INT";
    default: return uns ? "BIGINT UNSIGNED" : "BIGINT";
    }
}

// Parses exactly `n` decimal digits at p.
bool digits(const char *&p, const char *end, int n, unsigned &out) {
    if (end - p < n) return false;
    unsigned v = 0;
    for (int i = 0; i < n; ++i) {
        if (p[i] < '0' || p[i] > '9') return false;
        v = v * 10 + static_cast<unsigned>(p[i] - '0');
    }
    out = v;
    p += n;
    return true;
}

// ".ffffff" (1 to 6 digits) scaled to microseconds; absent is 0.
bool fraction(const char *&p, const char *end, int64_t &micros) {
    micros = 0;
    if (p == end) return true;
    if (*p != '.') return false;
    ++p;
    int n = 0;
    int64_t v = 0;
    while (p < end && *p >= '0' && *p <= '9') {
        if (n < 6) {
            v = v * 10 + (*p - '0');
            ++n;
        }
        ++p;
    }
    if (n == 0) return false;
    for (; n < 6; ++n) v *= 10;
    micros = v;
    return p == end;
}

bool parse_date(const char *&p, const char *end, unsigned &y, unsigned &m, unsigned &d) {
    return digits(p, end, 4, y) && p < end && *p++ == '-' && digits(p, end, 2, m) && p < end &&
           *p++ == '-' && digits(p, end, 2, d);
}

bool parse_hms(const char *&p, const char *end, unsigned &h, unsigned &mi, unsigned &s) {
    return digits(p, end, 2, h) && p < end && *p++ == ':' && digits(p, end, 2, mi) && p < end &&
           *p++ == ':' && digits(p, end, 2, s);
}

} // namespace

ColumnSpec describe(const MYSQL_FIELD &f) {
    const bool uns = (f.flags & UNSIGNED_FLAG) != 0;
    const bool binary = f.charsetnr == kBinaryCharset;
    switch (f.type) {
    case MYSQL_TYPE_TINY:
    case MYSQL_TYPE_SHORT:
    case MYSQL_TYPE_INT24:
    case MYSQL_TYPE_LONG:
        return {ILANA_TYPE_INT64, Decode::Int, int_name(f.type, uns), uns};
    case MYSQL_TYPE_LONGLONG:
        if (uns) return {ILANA_TYPE_UINT64, Decode::UInt, "BIGINT UNSIGNED", true};
        return {ILANA_TYPE_INT64, Decode::Int, "BIGINT", false};
    case MYSQL_TYPE_YEAR:
        return {ILANA_TYPE_INT64, Decode::Int, "YEAR", uns};
    case MYSQL_TYPE_BIT:
        if (f.length >= 64) return {ILANA_TYPE_UINT64, Decode::Bit, "BIT", true};
        return {ILANA_TYPE_INT64, Decode::Bit, "BIT", true};
    case MYSQL_TYPE_FLOAT:
        return {ILANA_TYPE_DOUBLE, Decode::Float, "FLOAT", uns};
    case MYSQL_TYPE_DOUBLE:
        return {ILANA_TYPE_DOUBLE, Decode::Double, "DOUBLE", uns};
    case MYSQL_TYPE_DECIMAL:
    case MYSQL_TYPE_NEWDECIMAL:
        return {ILANA_TYPE_DECIMAL, Decode::Decimal, "DECIMAL", uns};
    case MYSQL_TYPE_DATE:
    case MYSQL_TYPE_NEWDATE:
        return {ILANA_TYPE_DATE, Decode::Date, "DATE", false};
    case MYSQL_TYPE_DATETIME:
        return {ILANA_TYPE_TIMESTAMP, Decode::DateTime, "DATETIME", false};
    case MYSQL_TYPE_TIMESTAMP:
        return {ILANA_TYPE_TIMESTAMP, Decode::DateTime, "TIMESTAMP", false};
    case MYSQL_TYPE_TIME:
        return {ILANA_TYPE_TIME, Decode::Time, "TIME", false};
    case MYSQL_TYPE_JSON:
        return {ILANA_TYPE_JSON, Decode::Json, "JSON", false};
    case MYSQL_TYPE_NULL:
        return {ILANA_TYPE_TEXT, Decode::Null, "NULL", false};
    case MYSQL_TYPE_GEOMETRY:
        return {ILANA_TYPE_BLOB, Decode::Blob, "GEOMETRY", false};
    case MYSQL_TYPE_ENUM:
        return {ILANA_TYPE_TEXT, Decode::Text, "ENUM", false};
    case MYSQL_TYPE_SET:
        return {ILANA_TYPE_TEXT, Decode::Text, "SET", false};
    case MYSQL_TYPE_STRING:
        if (f.flags & ENUM_FLAG) return {ILANA_TYPE_TEXT, Decode::Text, "ENUM", false};
        if (f.flags & SET_FLAG) return {ILANA_TYPE_TEXT, Decode::Text, "SET", false};
        if (binary) return {ILANA_TYPE_BLOB, Decode::Blob, "BINARY", false};
        return {ILANA_TYPE_TEXT, Decode::Text, "CHAR", false};
    case MYSQL_TYPE_VAR_STRING:
    case MYSQL_TYPE_VARCHAR:
        if (binary) return {ILANA_TYPE_BLOB, Decode::Blob, "VARBINARY", false};
        if (is_json_format(f)) return {ILANA_TYPE_JSON, Decode::Json, "JSON", false};
        return {ILANA_TYPE_TEXT, Decode::Text, "VARCHAR", false};
    case MYSQL_TYPE_TINY_BLOB:
    case MYSQL_TYPE_MEDIUM_BLOB:
    case MYSQL_TYPE_LONG_BLOB:
    case MYSQL_TYPE_BLOB:
        if (binary) return {ILANA_TYPE_BLOB, Decode::Blob, "BLOB", false};
        if (is_json_format(f)) return {ILANA_TYPE_JSON, Decode::Json, "JSON", false};
        return {ILANA_TYPE_TEXT, Decode::Text, "TEXT", false};
    default:
        // Types this driver does not know yet: raw bytes are always safe.
        return {ILANA_TYPE_BLOB, Decode::Blob, "UNKNOWN", false};
    }
}

bool time_to_cell(const MYSQL_TIME &t, Decode decode, int64_t &out) {
    const int64_t frac = static_cast<int64_t>(t.second_part);
    if (decode == Decode::Time) {
        // libmariadb folds days into hour for TIME; `day` is kept for
        // safety with clients that do not.
        const int64_t hours = static_cast<int64_t>(t.day) * 24 + t.hour;
        int64_t v = ((hours * 60 + t.minute) * 60 + t.second) * kMicrosPerSecond + frac;
        out = t.neg ? -v : v;
        return true;
    }
    if (t.month == 0 || t.day == 0) return false; // zero date: no such day
    const int64_t days = ilana::sdk::days_from_civil(t.year, t.month, t.day);
    if (decode == Decode::Date) {
        out = days;
        return true;
    }
    out = days * kMicrosPerDay +
          ((static_cast<int64_t>(t.hour) * 60 + t.minute) * 60 + t.second) * kMicrosPerSecond + frac;
    return true;
}

double float_to_double(float f) {
    char buf[32];
    auto r = std::to_chars(buf, buf + sizeof buf, f);
    double d = static_cast<double>(f);
    if (r.ec == std::errc()) std::from_chars(buf, r.ptr, d);
    return d;
}

void bit_to_cell(const unsigned char *p, size_t n, ilana_value &cell) {
    uint64_t v = 0;
    for (size_t i = 0; i < n; ++i) v = (v << 8) | p[i];
    if (cell.type == ILANA_TYPE_UINT64) cell.v.u64 = v;
    else cell.v.i64 = static_cast<int64_t>(v);
}

bool text_to_cell(Decode decode, const char *p, size_t n, ilana_value &cell, sdk::ByteArena &arena) {
    const char *end = p + n;
    switch (decode) {
    case Decode::Null:
        cell.is_null = 1;
        return true;
    case Decode::Int: {
        auto r = std::from_chars(p, end, cell.v.i64);
        return r.ec == std::errc() && r.ptr == end;
    }
    case Decode::UInt: {
        auto r = std::from_chars(p, end, cell.v.u64);
        return r.ec == std::errc() && r.ptr == end;
    }
    case Decode::Float:
    case Decode::Double: {
        // The server prints inf/nan nowhere; plain decimal/exponent text.
        auto r = std::from_chars(p, end, cell.v.f64);
        return r.ec == std::errc() && r.ptr == end;
    }
    case Decode::Bit:
        bit_to_cell(reinterpret_cast<const unsigned char *>(p), n, cell);
        return true;
    case Decode::Decimal:
    case Decode::Text:
    case Decode::Blob:
    case Decode::Json:
        cell.v.str.ptr = arena.copy(p, n);
        cell.v.str.len = n;
        return true;
    case Decode::Date: {
        unsigned y, m, d;
        if (!parse_date(p, end, y, m, d) || p != end) return false;
        if (m == 0 || d == 0) {
            cell.is_null = 1;
            return true;
        }
        cell.v.i64 = ilana::sdk::days_from_civil(y, m, d);
        return true;
    }
    case Decode::DateTime: {
        unsigned y, mo, d, h, mi, s;
        int64_t frac;
        if (!parse_date(p, end, y, mo, d) || p == end || *p++ != ' ' || !parse_hms(p, end, h, mi, s) ||
            !fraction(p, end, frac))
            return false;
        if (mo == 0 || d == 0) {
            cell.is_null = 1;
            return true;
        }
        cell.v.i64 = ilana::sdk::days_from_civil(y, mo, d) * kMicrosPerDay +
                     ((static_cast<int64_t>(h) * 60 + mi) * 60 + s) * kMicrosPerSecond + frac;
        return true;
    }
    case Decode::Time: {
        bool neg = p < end && *p == '-';
        if (neg) ++p;
        int64_t hours = 0;
        const char *h0 = p;
        while (p < end && *p >= '0' && *p <= '9') hours = hours * 10 + (*p++ - '0');
        unsigned mi, s;
        int64_t frac;
        if (p == h0 || p == end || *p++ != ':' || !digits(p, end, 2, mi) || p == end || *p++ != ':' ||
            !digits(p, end, 2, s) || !fraction(p, end, frac))
            return false;
        int64_t v = ((hours * 60 + mi) * 60 + s) * kMicrosPerSecond + frac;
        cell.v.i64 = neg ? -v : v;
        return true;
    }
    }
    return false;
}

void days_to_time(int64_t days, MYSQL_TIME &t) {
    std::memset(&t, 0, sizeof t);
    auto c = ilana::sdk::civil_from_days(days);
    t.year = static_cast<unsigned>(c.year);
    t.month = c.month;
    t.day = c.day;
    t.time_type = MYSQL_TIMESTAMP_DATE;
}

void micros_to_datetime(int64_t micros, MYSQL_TIME &t) {
    int64_t days = micros / kMicrosPerDay;
    int64_t rem = micros % kMicrosPerDay;
    if (rem < 0) {
        rem += kMicrosPerDay;
        --days;
    }
    days_to_time(days, t);
    int64_t secs = rem / kMicrosPerSecond;
    t.second_part = static_cast<unsigned long>(rem % kMicrosPerSecond);
    t.hour = static_cast<unsigned>(secs / 3600);
    t.minute = static_cast<unsigned>(secs / 60 % 60);
    t.second = static_cast<unsigned>(secs % 60);
    t.time_type = MYSQL_TIMESTAMP_DATETIME;
}

void micros_to_time(int64_t micros, MYSQL_TIME &t) {
    std::memset(&t, 0, sizeof t);
    uint64_t v;
    if (micros < 0) {
        t.neg = 1;
        v = static_cast<uint64_t>(-(micros + 1)) + 1; // no overflow at INT64_MIN
    } else {
        v = static_cast<uint64_t>(micros);
    }
    t.second_part = static_cast<unsigned long>(v % kMicrosPerSecond);
    uint64_t secs = v / kMicrosPerSecond;
    // The binary protocol carries TIME as days + hour (one byte): split so
    // durations beyond 24 h (TIME goes up to 838:59:59) survive.
    t.day = static_cast<unsigned>(secs / 86400);
    t.hour = static_cast<unsigned>(secs / 3600 % 24);
    t.minute = static_cast<unsigned>(secs / 60 % 60);
    t.second = static_cast<unsigned>(secs % 60);
    t.time_type = MYSQL_TIMESTAMP_TIME;
}

} // namespace ilana::drivers::mysql
