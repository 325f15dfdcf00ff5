// Conversions between ABI cells and C++ types, and display forms.
#include <ilana/value.hpp>

#include <cerrno>
#include <chrono>
#include <cinttypes>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace ilana {

const char *to_string(Type t) noexcept {
    switch (t) {
    case Type::null: return "null";
    case Type::boolean: return "bool";
    case Type::int64: return "int64";
    case Type::uint64: return "uint64";
    case Type::float64: return "double";
    case Type::text: return "text";
    case Type::blob: return "blob";
    case Type::decimal: return "decimal";
    case Type::date: return "date";
    case Type::time: return "time";
    case Type::timestamp: return "timestamp";
    case Type::timestamptz: return "timestamptz";
    case Type::uuid: return "uuid";
    case Type::json: return "json";
    case Type::any: return "any";
    }
    return "unknown";
}

namespace {

// Howard Hinnant's civil-date algorithms.
int64_t days_from_civil(int64_t y, unsigned m, unsigned d) {
    y -= m <= 2;
    const int64_t era = (y >= 0 ? y : y - 399) / 400;
    const unsigned yoe = static_cast<unsigned>(y - era * 400);
    const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

void civil_from_days(int64_t z, int64_t &y, unsigned &m, unsigned &d) {
    z += 719468;
    const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    const unsigned doe = static_cast<unsigned>(z - era * 146097);
    const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    y = static_cast<int64_t>(yoe) + era * 400;
    const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    const unsigned mp = (5 * doy + 2) / 153;
    d = doy - (153 * mp + 2) / 5 + 1;
    m = mp < 10 ? mp + 3 : mp - 9;
    y += (m <= 2);
}

int64_t floor_div(int64_t a, int64_t b) { return a / b - ((a % b != 0) && ((a < 0) != (b < 0))); }

constexpr int64_t kMicrosPerDay = 86400LL * 1000000LL;

std::string format_date(int64_t days) {
    int64_t y;
    unsigned m, d;
    civil_from_days(days, y, m, d);
    char buf[32];
    std::snprintf(buf, sizeof buf, "%04" PRId64 "-%02u-%02u", y, m, d);
    return buf;
}

std::string format_time(int64_t micros) {
    int64_t s = micros / 1000000, us = micros % 1000000;
    char buf[48];
    if (us != 0)
        std::snprintf(buf, sizeof buf, "%02d:%02d:%02d.%06d", int(s / 3600), int(s / 60 % 60), int(s % 60), int(us));
    else
        std::snprintf(buf, sizeof buf, "%02d:%02d:%02d", int(s / 3600), int(s / 60 % 60), int(s % 60));
    return buf;
}

std::string format_timestamp(int64_t micros, char sep, const char *suffix) {
    int64_t days = floor_div(micros, kMicrosPerDay);
    int64_t rest = micros - days * kMicrosPerDay;
    return format_date(days) + sep + format_time(rest) + suffix;
}

bool is_text_like(ilana_type t) {
    return t == ILANA_TYPE_TEXT || t == ILANA_TYPE_BLOB || t == ILANA_TYPE_DECIMAL ||
           t == ILANA_TYPE_UUID || t == ILANA_TYPE_JSON;
}

// Text dates and times are read by hand, strictly: the exact digit counts of
// ISO 8601 / SQL, ranges checked (a "2024-02-30" is a conversion error, not
// March 1st), nothing left over. A text column read as Timestamp is the
// common case for SQLite (DATETIME is text there), so this runs once per cell
// of a fetch and must cost about what a caller's own parsing would: no copy,
// no sscanf, no locale.
struct TextCursor {
    const char *p;
    const char *end;

    bool done() const { return p == end; }
    bool peek(char c) const { return p != end && *p == c; }
    bool take(char c) {
        if (!peek(c)) return false;
        ++p;
        return true;
    }
    // Exactly `n` decimal digits.
    bool digits(int n, int &out) {
        if (end - p < n) return false;
        int v = 0;
        for (int i = 0; i < n; ++i) {
            const unsigned d = static_cast<unsigned char>(p[i]) - '0';
            if (d > 9) return false;
            v = v * 10 + static_cast<int>(d);
        }
        p += n;
        out = v;
        return true;
    }
    // ".f" with one or more digits, as microseconds (digits past the sixth
    // are read and dropped: truncation, as PostgreSQL's text output has at
    // most six).
    bool fraction(int64_t &micros) {
        micros = 0;
        if (!take('.')) return true;
        int n = 0;
        while (p != end && static_cast<unsigned>(static_cast<unsigned char>(*p) - '0') <= 9) {
            if (n < 6) micros = micros * 10 + (*p - '0');
            ++n;
            ++p;
        }
        if (n == 0) return false;
        for (; n < 6; ++n) micros *= 10;
        return true;
    }
};

bool is_leap(int y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

int days_in_month(int y, int m) {
    static constexpr int kDays[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    return m == 2 && is_leap(y) ? 29 : kDays[m - 1];
}

// YYYY-MM-DD
bool parse_date_part(TextCursor &c, int64_t &days) {
    int y, m, d;
    if (!c.digits(4, y) || !c.take('-') || !c.digits(2, m) || !c.take('-') || !c.digits(2, d)) return false;
    if (m < 1 || m > 12 || d < 1 || d > days_in_month(y, m)) return false;
    days = days_from_civil(y, static_cast<unsigned>(m), static_cast<unsigned>(d));
    return true;
}

// HH:MM[:SS[.f]] of a timestamp (hour 0-23; 24:00:00 is PostgreSQL's end of
// day and allowed exactly).
bool parse_clock_part(TextCursor &c, int64_t &micros) {
    int h, mi, se = 0;
    int64_t frac = 0;
    if (!c.digits(2, h) || !c.take(':') || !c.digits(2, mi)) return false;
    if (c.take(':') && (!c.digits(2, se) || !c.fraction(frac))) return false;
    if (mi > 59 || se > 59 || h > 24 || (h == 24 && (mi | se | frac) != 0)) return false;
    micros = (h * 3600LL + mi * 60LL + se) * 1000000LL + frac;
    return true;
}

// Z | [+-]HH[:MM|MM], as seconds east of UTC.
bool parse_zone_part(TextCursor &c, int64_t &offset_s) {
    offset_s = 0;
    if (c.done() || c.take('Z')) return true;
    const bool west = c.peek('-');
    if (!c.take('+') && !c.take('-')) return false;
    int oh, om = 0;
    if (!c.digits(2, oh)) return false;
    if (c.take(':')) {
        if (!c.digits(2, om)) return false;
    } else if (!c.done()) {
        if (!c.digits(2, om)) return false;
    }
    if (oh > 15 || om > 59) return false;
    offset_s = (west ? -1 : 1) * (oh * 3600LL + om * 60LL);
    return true;
}

// "YYYY-MM-DD[( |T)HH:MM[:SS[.f]][Z|+HH[:MM]]]" (SQLite's time values, SQL
// and ISO 8601 text), UTC when a zone is given.
bool parse_iso(std::string_view s, int64_t &micros, bool &has_time) {
    TextCursor c{s.data(), s.data() + s.size()};
    int64_t days = 0, clock = 0, offset_s = 0;
    if (!parse_date_part(c, days)) return false;
    has_time = c.take(' ') || c.take('T');
    if (has_time && (!parse_clock_part(c, clock) || !parse_zone_part(c, offset_s))) return false;
    if (!c.done()) return false;
    micros = days * kMicrosPerDay + clock - offset_s * 1000000LL;
    return true;
}

// [-]H+:MM[:SS[.f]] of a time of day or a MySQL TIME (a duration, hours past
// 24 and negative allowed).
bool parse_time_text(std::string_view s, int64_t &micros) {
    TextCursor c{s.data(), s.data() + s.size()};
    const bool negative = c.take('-');
    int64_t h = 0;
    int n = 0;
    while (!c.done() && static_cast<unsigned>(static_cast<unsigned char>(*c.p) - '0') <= 9 && n < 9) {
        h = h * 10 + (*c.p++ - '0');
        ++n;
    }
    int mi, se = 0;
    int64_t frac = 0;
    if (n == 0 || !c.take(':') || !c.digits(2, mi)) return false;
    if (c.take(':') && (!c.digits(2, se) || !c.fraction(frac))) return false;
    if (!c.done() || mi > 59 || se > 59) return false;
    micros = ((h * 3600 + mi * 60 + se) * 1000000LL + frac) * (negative ? -1 : 1);
    return true;
}

} // namespace

// ---- calendar types -----------------------------------------------------
Date Date::from_ymd(int year, unsigned month, unsigned day) { return Date{days_from_civil(year, month, day)}; }
std::string Date::to_string() const { return format_date(days_since_epoch); }
std::string Time::to_string() const { return format_time(micros_since_midnight); }
Timestamp Timestamp::from_parts(int year, unsigned month, unsigned day, unsigned hour, unsigned minute,
                                unsigned second, unsigned micros) {
    return Timestamp{days_from_civil(year, month, day) * kMicrosPerDay +
                     (hour * 3600LL + minute * 60LL + second) * 1000000LL + micros};
}
std::string Timestamp::to_string() const { return format_timestamp(micros_since_epoch, ' ', ""); }
TimestampTz TimestampTz::now() {
    using namespace std::chrono;
    return TimestampTz{duration_cast<microseconds>(system_clock::now().time_since_epoch()).count()};
}
std::string TimestampTz::to_string() const { return format_timestamp(micros_since_epoch, 'T', "Z"); }

// ---- Value ----------------------------------------------------------------
Value::Value(unsigned long v) noexcept : Value(static_cast<unsigned long long>(v)) {}
Value::Value(unsigned long long v) noexcept {
    if (v <= static_cast<unsigned long long>(INT64_MAX)) {
        set_int(ILANA_TYPE_INT64, static_cast<int64_t>(v));
    } else {
        raw_.type = ILANA_TYPE_UINT64;
        raw_.is_null = 0;
        raw_.v.u64 = v;
    }
}
Value::Value(double v) noexcept {
    raw_.type = ILANA_TYPE_DOUBLE;
    raw_.is_null = 0;
    raw_.v.f64 = v;
}
Value::Value(const Field &f) : Value() {
    const ilana_value *c = f.abi();
    if (c == nullptr || c->is_null) return;
    raw_ = *c;
    if (is_text_like(c->type)) {
        text_.assign(c->v.str.ptr != nullptr ? c->v.str.ptr : "", c->v.str.len);
        fix_ptr();
    }
}
Value Value::decimal(std::string text) {
    Value v(std::move(text));
    v.set_str(ILANA_TYPE_DECIMAL);
    return v;
}
Value Value::json(std::string text) {
    Value v(std::move(text));
    v.set_str(ILANA_TYPE_JSON);
    return v;
}
Value Value::uuid(std::string text) {
    Value v(std::move(text));
    v.set_str(ILANA_TYPE_UUID);
    return v;
}
Field Value::field() const noexcept { return Field(&raw_, nullptr); }
std::string Value::to_string() const { return field().to_string(); }

// ---- Field ----------------------------------------------------------------
void Field::conversion_failure(const char *target) const {
    std::string col = column_ != nullptr && *column_ ? std::string("column '") + column_ + "': " : "";
    if (is_null())
        throw ConversionError(col + "cannot convert NULL to " + target + " (read it as std::optional<" + target + ">)");
    throw ConversionError(col + "cannot convert a " + ilana::to_string(type()) + " value to " + target);
}

void detail::integer_out_of_range(const Field &f, const char *target) {
    std::string col = *f.column_name() ? std::string("column '") + f.column_name() + "': " : "";
    throw ConversionError(col + "value " + f.to_string() + " does not fit in " + target);
}

static bool parse_int64_text(std::string_view s, int64_t &out) {
    std::string tmp(s);
    if (tmp.empty()) return false;
    errno = 0;
    char *end = nullptr;
    long long v = std::strtoll(tmp.c_str(), &end, 10);
    if (errno != 0 || *end != '\0') return false;
    out = v;
    return true;
}

int64_t Field::to_int64() const {
    switch (cell_->type) {
    case ILANA_TYPE_BOOL:
    case ILANA_TYPE_INT64: return cell_->v.i64;
    case ILANA_TYPE_UINT64:
        if (cell_->v.u64 > static_cast<uint64_t>(INT64_MAX)) detail::integer_out_of_range(*this, "int64");
        return static_cast<int64_t>(cell_->v.u64);
    case ILANA_TYPE_DOUBLE: {
        double d = cell_->v.f64;
        if (std::trunc(d) == d && d >= -9.2233720368547758e18 && d < 9.2233720368547758e18)
            return static_cast<int64_t>(d);
        break;
    }
    case ILANA_TYPE_DECIMAL:
    case ILANA_TYPE_TEXT: {
        int64_t v;
        if (parse_int64_text(std::string_view(cell_->v.str.ptr, cell_->v.str.len), v)) return v;
        break;
    }
    default: break;
    }
    conversion_failure("int64");
}

uint64_t Field::to_uint64() const {
    if (cell_->type == ILANA_TYPE_UINT64) return cell_->v.u64;
    int64_t v = to_int64();
    if (v < 0) detail::integer_out_of_range(*this, "uint64");
    return static_cast<uint64_t>(v);
}

double Field::to_double() const {
    switch (cell_->type) {
    case ILANA_TYPE_DOUBLE: return cell_->v.f64;
    case ILANA_TYPE_BOOL:
    case ILANA_TYPE_INT64: return static_cast<double>(cell_->v.i64);
    case ILANA_TYPE_UINT64: return static_cast<double>(cell_->v.u64);
    case ILANA_TYPE_DECIMAL:
    case ILANA_TYPE_TEXT: {
        std::string tmp(cell_->v.str.ptr, cell_->v.str.len);
        char *end = nullptr;
        errno = 0;
        double d = std::strtod(tmp.c_str(), &end);
        if (!tmp.empty() && *end == '\0' && errno == 0) return d;
        break;
    }
    default: break;
    }
    conversion_failure("double");
}

std::string_view Field::to_view(const char *target) const {
    if (is_null() || !is_text_like(cell_->type)) conversion_failure(target);
    return std::string_view(cell_->v.str.ptr != nullptr ? cell_->v.str.ptr : "", cell_->v.str.len);
}

std::string Field::to_string() const {
    if (is_null()) return "NULL";
    char buf[64];
    switch (cell_->type) {
    case ILANA_TYPE_BOOL: return cell_->v.i64 ? "true" : "false";
    case ILANA_TYPE_INT64: return std::to_string(cell_->v.i64);
    case ILANA_TYPE_UINT64: return std::to_string(cell_->v.u64);
    case ILANA_TYPE_DOUBLE: {
        double d = cell_->v.f64;
        // Shortest text that reads back as the same double.
        for (int prec = 15; prec <= 17; ++prec) {
            std::snprintf(buf, sizeof buf, "%.*g", prec, d);
            if (std::strtod(buf, nullptr) == d) break;
        }
        return buf;
    }
    case ILANA_TYPE_BLOB: {
        static const char hex[] = "0123456789abcdef";
        std::string out = "\\x";
        for (uint64_t i = 0; i < cell_->v.str.len; ++i) {
            auto c = static_cast<unsigned char>(cell_->v.str.ptr[i]);
            out += hex[c >> 4];
            out += hex[c & 15];
        }
        return out;
    }
    case ILANA_TYPE_DATE: return format_date(cell_->v.i64);
    case ILANA_TYPE_TIME: return format_time(cell_->v.i64);
    case ILANA_TYPE_TIMESTAMP: return format_timestamp(cell_->v.i64, ' ', "");
    case ILANA_TYPE_TIMESTAMPTZ: return format_timestamp(cell_->v.i64, 'T', "Z");
    default:
        if (is_text_like(cell_->type)) return std::string(cell_->v.str.ptr != nullptr ? cell_->v.str.ptr : "", cell_->v.str.len);
        return "?";
    }
}

bool FieldConvert<bool>::get(const Field &f) {
    if (f.is_null()) f.conversion_failure("bool");
    const ilana_value *c = f.abi();
    if (c->type == ILANA_TYPE_BOOL || c->type == ILANA_TYPE_INT64) {
        if (c->v.i64 == 0 || c->v.i64 == 1) return c->v.i64 == 1;
    } else if (c->type == ILANA_TYPE_TEXT) {
        std::string_view s(c->v.str.ptr, c->v.str.len);
        if (s == "t" || s == "true" || s == "1") return true;
        if (s == "f" || s == "false" || s == "0") return false;
    }
    f.conversion_failure("bool");
}
double FieldConvert<double>::convert(const Field &f) {
    if (f.is_null()) f.conversion_failure("double");
    return f.to_double();
}
std::string FieldConvert<std::string>::get(const Field &f) {
    if (f.is_null()) f.conversion_failure("std::string");
    return f.to_string();
}
std::string_view FieldConvert<std::string_view>::convert(const Field &f) { return f.to_view("std::string_view"); }
Blob FieldConvert<Blob>::get(const Field &f) { return Blob{std::string(f.to_view("Blob"))}; }

int64_t FieldConvert<Timestamp>::text_to_micros(const Field &f, const char *target) {
    int64_t micros = 0;
    bool has_time = false;
    std::string_view s = f.to_view(target);
    if (!parse_iso(s, micros, has_time)) f.conversion_failure(target);
    return micros;
}

Date FieldConvert<Date>::get(const Field &f) {
    if (f.is_null()) f.conversion_failure("Date");
    const ilana_value *c = f.abi();
    if (c->type == ILANA_TYPE_DATE) return Date{c->v.i64};
    if (c->type == ILANA_TYPE_TIMESTAMP || c->type == ILANA_TYPE_TIMESTAMPTZ) return Date{floor_div(c->v.i64, kMicrosPerDay)};
    if (c->type == ILANA_TYPE_TEXT) {
        return Date{floor_div(FieldConvert<Timestamp>::text_to_micros(f, "Date"), kMicrosPerDay)};
    }
    f.conversion_failure("Date");
}
Time FieldConvert<Time>::get(const Field &f) {
    if (f.is_null()) f.conversion_failure("Time");
    const ilana_value *c = f.abi();
    if (c->type == ILANA_TYPE_TIME) return Time{c->v.i64};
    int64_t micros = 0;
    if (c->type == ILANA_TYPE_TEXT && parse_time_text(f.to_view("Time"), micros)) return Time{micros};
    f.conversion_failure("Time");
}
Timestamp FieldConvert<Timestamp>::get(const Field &f) {
    if (f.is_null()) f.conversion_failure("Timestamp");
    const ilana_value *c = f.abi();
    if (c->type == ILANA_TYPE_TIMESTAMP || c->type == ILANA_TYPE_TIMESTAMPTZ) return Timestamp{c->v.i64};
    if (c->type == ILANA_TYPE_DATE) return Timestamp{c->v.i64 * kMicrosPerDay};
    if (c->type == ILANA_TYPE_TEXT) {
        return Timestamp{text_to_micros(f, "Timestamp")};
    }
    f.conversion_failure("Timestamp");
}
TimestampTz FieldConvert<TimestampTz>::get(const Field &f) {
    if (f.is_null()) f.conversion_failure("TimestampTz");
    const ilana_value *c = f.abi();
    if (c->type == ILANA_TYPE_TIMESTAMP || c->type == ILANA_TYPE_TIMESTAMPTZ) return TimestampTz{c->v.i64};
    if (c->type == ILANA_TYPE_DATE) return TimestampTz{c->v.i64 * kMicrosPerDay};
    if (c->type == ILANA_TYPE_TEXT) {
        return TimestampTz{FieldConvert<Timestamp>::text_to_micros(f, "TimestampTz")};
    }
    f.conversion_failure("TimestampTz");
}

} // namespace ilana
