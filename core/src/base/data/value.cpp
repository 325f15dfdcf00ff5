// Conversions between ABI cells and C++ types, and display forms.
#include <ilana/value.hpp>

#include <charconv>
#include <chrono>
#include <cinttypes>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>

// The error paths (cold) and the general grammars (noinline) of the per-cell
// conversions: out of line, so that the paths taken on every cell of the
// common forms stay small leaves.
#if defined(__GNUC__) || defined(__clang__)
#define ILANA_COLD_ __attribute__((noinline, cold))
#define ILANA_NOINLINE_ __attribute__((noinline))
#else
#define ILANA_COLD_
#define ILANA_NOINLINE_
#endif

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
// of a fetch and must cost no more than a caller's own parsing: no copy, no
// sscanf, no locale. The forms SQLite's date functions write ("YYYY-MM-DD",
// "YYYY-MM-DD HH:MM:SS[.SSS]", "HH:MM:SS") and ilana's SQLite driver binds
// ("...T...ffffffZ") are read eight bytes at a time (Pattern8); every other
// form (zones, HH:MM, MySQL durations) goes through TextCursor, and so does
// a fixed form that fails there, so that both accept one grammar.

// Eight bytes of text, the first in the lowest byte.
inline uint64_t load8(const char *p) {
    uint64_t v;
    std::memcpy(&v, p, 8);
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    v = __builtin_bswap64(v);
#endif
    return v;
}

// What eight bytes must be: 'D' a digit, '?' anything (checked apart), any
// other character itself.
struct Pattern8 {
    uint64_t fixed_mask = 0, fixed_want = 0; // high nibble of digits, whole separators
    uint64_t digit_add = 0, digit_high = 0;  // 0x06 / 0xF0 at digits: 0x3A-0x3F carry out of 0x3_
    uint64_t digit_low = 0;                  // 0x0F at digits: their values
    constexpr explicit Pattern8(const char (&p)[9]) {
        for (int i = 0; i < 8; ++i) {
            const int shift = 8 * i;
            if (p[i] == 'D') {
                fixed_mask |= uint64_t{0xF0} << shift;
                fixed_want |= uint64_t{0x30} << shift;
                digit_add |= uint64_t{0x06} << shift;
                digit_high |= uint64_t{0xF0} << shift;
                digit_low |= uint64_t{0x0F} << shift;
            } else if (p[i] != '?') {
                fixed_mask |= uint64_t{0xFF} << shift;
                fixed_want |= uint64_t{static_cast<unsigned char>(p[i])} << shift;
            }
        }
    }
    // A byte of 0x30-0x39 passes both tests, 0x3A-0x3F fails the second
    // (+6 reaches 0x40), anything else fails the first; a carry out of a
    // failing byte cannot make the pair pass.
    bool matches(uint64_t x) const {
        return ((x & fixed_mask) == fixed_want) & (((x + digit_add) & digit_high) == (fixed_want & digit_high));
    }
    // Byte k of the result is the two-digit number at bytes k and k+1 (where
    // both are digits of a matching text): at most 9 * 10 + 9, so nothing
    // carries into the next byte.
    uint64_t pairs(uint64_t x) const {
        const uint64_t v = x & digit_low;
        return v * 10 + (v >> 8);
    }
};
inline int byte_at(uint64_t v, int k) { return static_cast<int>((v >> (8 * k)) & 0xFF); }

constexpr Pattern8 kYearMonth("DDDD-DD-");  // bytes 0-7 of a date
constexpr Pattern8 kMonthDay("DD-DD-DD");   // bytes 2-9 of a date
constexpr Pattern8 kDayHourMin("DD?DD:DD"); // bytes 8-15 of "YYYY-MM-DD HH:MM:SS" (' ' or 'T')
constexpr Pattern8 kClock("DD:DD:DD");      // HH:MM:SS

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

// Days since 1970-01-01 of a checked civil date of years 0000-9999 (as four
// digits give). Hinnant's days_from_civil with the year counted from March
// and shifted by 400 years, so that every quotient is of unsigned numbers by
// constants (multiplications).
inline bool civil_days(int y, int m, int d, int64_t &days) {
    if (m < 1 || m > 12 || d < 1 || d > days_in_month(y, m)) return false;
    const unsigned yy = static_cast<unsigned>(y) + 400 - (m <= 2 ? 1 : 0);
    const unsigned day_of_year =
        (153 * static_cast<unsigned>(m > 2 ? m - 3 : m + 9) + 2) / 5 + static_cast<unsigned>(d) - 1;
    days = static_cast<int64_t>(yy * 365 + yy / 4 - yy / 100 + yy / 400 + day_of_year) - (719468 + 146097);
    return true;
}

// A checked clock reading (hour 0-23; 24:00:00 is PostgreSQL's end of day
// and allowed exactly) to microseconds.
inline bool clock_micros(int h, int mi, int se, int64_t frac, int64_t &micros) {
    if (mi > 59 || se > 59 || h > 24 || (h == 24 && (mi | se | frac) != 0)) return false;
    micros = (h * 3600LL + mi * 60LL + se) * 1000000LL + frac;
    return true;
}

// The forms SQLite's date functions write and ilana's SQLite driver binds:
// "YYYY-MM-DD", "YYYY-MM-DD( |T)HH:MM:SS[.f][Z]" (n >= 10 bytes at s).
inline bool fixed_datetime(const char *s, size_t n, int64_t &micros) {
    const uint64_t ym = load8(s);
    if (!kYearMonth.matches(ym)) return false;
    const uint64_t ymp = kYearMonth.pairs(ym);
    const int year = byte_at(ymp, 0) * 100 + byte_at(ymp, 2), month = byte_at(ymp, 5);
    int64_t days = 0, clock = 0, frac = 0;
    if (n == 10) {
        const uint64_t md = load8(s + 2);
        if (!kMonthDay.matches(md) || !civil_days(year, month, byte_at(kMonthDay.pairs(md), 6), days)) return false;
        micros = days * kMicrosPerDay;
        return true;
    }
    if (n < 19) return false;
    const uint64_t dhm = load8(s + 8), hms = load8(s + 11);
    // One branch for the three checks (& of their 0/1 values, not &&).
    if ((unsigned{kDayHourMin.matches(dhm)} & unsigned{kClock.matches(hms)} & unsigned{s[10] == ' ' || s[10] == 'T'}) ==
        0)
        return false;
    if (n > 19) {
        // ".f" (one or more digits; past the sixth read and dropped, as
        // TextCursor::fraction), then an optional 'Z'.
        const char *p = s + 19, *end = s + n - (s[n - 1] == 'Z' ? 1 : 0);
        if (p != end) {
            if (*p != '.' || ++p == end) return false;
            int digits = 0;
            for (; p != end; ++p, ++digits) {
                const unsigned d = static_cast<unsigned>(static_cast<unsigned char>(*p)) - unsigned{'0'};
                if (d > 9) return false;
                if (digits < 6) frac = frac * 10 + d;
            }
            for (; digits < 6; ++digits) frac *= 10;
        }
    }
    const uint64_t dhmp = kDayHourMin.pairs(dhm);
    if (!civil_days(year, month, byte_at(dhmp, 0), days) ||
        !clock_micros(byte_at(dhmp, 3), byte_at(dhmp, 6), byte_at(kClock.pairs(hms), 6), frac, clock))
        return false;
    micros = days * kMicrosPerDay + clock;
    return true;
}

// YYYY-MM-DD
bool parse_date_part(TextCursor &c, int64_t &days) {
    int y, m, d;
    if (!c.digits(4, y) || !c.take('-') || !c.digits(2, m) || !c.take('-') || !c.digits(2, d)) return false;
    return civil_days(y, m, d, days);
}

// HH:MM[:SS[.f]] of a timestamp.
bool parse_clock_part(TextCursor &c, int64_t &micros) {
    int h, mi, se = 0;
    int64_t frac = 0;
    if (!c.digits(2, h) || !c.take(':') || !c.digits(2, mi)) return false;
    if (c.take(':') && (!c.digits(2, se) || !c.fraction(frac))) return false;
    return clock_micros(h, mi, se, frac, micros);
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
// and ISO 8601 text), UTC when a zone is given. Out of line: the fixed forms
// are tried first (text_to_micros) and stay a leaf.
ILANA_NOINLINE_ bool parse_iso_general(const char *s, size_t n, int64_t &micros) {
    int64_t days = 0, clock = 0, offset_s = 0;
    TextCursor c{s, s + n};
    if (!parse_date_part(c, days)) return false;
    const bool has_time = c.take(' ') || c.take('T');
    if (has_time && (!parse_clock_part(c, clock) || !parse_zone_part(c, offset_s))) return false;
    if (!c.done()) return false;
    micros = days * kMicrosPerDay + clock - offset_s * 1000000LL;
    return true;
}

// [-]H+:MM[:SS[.f]] of a time of day or a MySQL TIME (a duration, hours past
// 24 and negative allowed).
ILANA_NOINLINE_ bool parse_time_general(const char *s, size_t n, int64_t &micros) {
    TextCursor c{s, s + n};
    const bool negative = c.take('-');
    int64_t h = 0;
    int digits = 0;
    while (!c.done() && static_cast<unsigned>(static_cast<unsigned char>(*c.p) - '0') <= 9 && digits < 9) {
        h = h * 10 + (*c.p++ - '0');
        ++digits;
    }
    int mi, se = 0;
    int64_t frac = 0;
    if (digits == 0 || !c.take(':') || !c.digits(2, mi)) return false;
    if (c.take(':') && (!c.digits(2, se) || !c.fraction(frac))) return false;
    if (!c.done() || mi > 59 || se > 59) return false;
    micros = ((h * 3600 + mi * 60 + se) * 1000000LL + frac) * (negative ? -1 : 1);
    return true;
}
inline bool parse_time_text(const char *s, size_t n, int64_t &micros) {
    if (n == 8) {
        const uint64_t hms = load8(s);
        if (kClock.matches(hms)) {
            const uint64_t v = kClock.pairs(hms);
            const int mi = byte_at(v, 3), se = byte_at(v, 6);
            if (mi <= 59 && se <= 59) {
                micros = (byte_at(v, 0) * 3600LL + mi * 60LL + se) * 1000000LL;
                return true;
            }
        }
    }
    return parse_time_general(s, n, micros);
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

ILANA_COLD_ void Field::text_failure(const char *target, const char *expected) const {
    constexpr size_t kShown = 64;
    std::string_view text(cell_->v.str.ptr != nullptr ? cell_->v.str.ptr : "", cell_->v.str.len);
    std::string col = column_ != nullptr && *column_ ? std::string("column '") + column_ + "': " : "";
    std::string shown(text.substr(0, kShown));
    if (text.size() > kShown) shown += "...";
    throw ConversionError(col + "cannot read " + ilana::to_string(type()) + " '" + shown + "' as " + target +
                          " (expected " + expected + ")");
}

void detail::integer_out_of_range(const Field &f, const char *target) {
    std::string col = *f.column_name() ? std::string("column '") + f.column_name() + "': " : "";
    throw ConversionError(col + "value " + f.to_string() + " does not fit in " + target);
}

// Decimal digits with an optional sign, the whole text (no space, no
// exponent): what a DECIMAL cell with no fraction or an integer text reads as.
static bool parse_int64_text(std::string_view s, int64_t &out) {
    size_t i = 0;
    const bool negative = !s.empty() && s[0] == '-';
    if (!s.empty() && (s[0] == '-' || s[0] == '+')) i = 1;
    if (i == s.size() || s.size() - i > 19) return false;
    uint64_t magnitude = 0;
    for (; i < s.size(); ++i) {
        const unsigned d = static_cast<unsigned>(static_cast<unsigned char>(s[i])) - unsigned{'0'};
        if (d > 9) return false;
        magnitude = magnitude * 10 + d; // 19 digits: no overflow of uint64
    }
    if (magnitude > (negative ? uint64_t{1} << 63 : (uint64_t{1} << 63) - 1)) return false;
    out = negative ? static_cast<int64_t>(0 - magnitude) : static_cast<int64_t>(magnitude);
    return true;
}

// A decimal number as the whole text ("-12.50", "1e3"; PostgreSQL's "NaN",
// "Infinity"): from_chars reads it without a copy or the locale and rounds
// it correctly, as strtod would. A leading '+' is allowed (strtod took it);
// space is not.
static bool parse_double_text(std::string_view s, double &out) {
    const char *first = s.data(), *last = s.data() + s.size();
    if (first != last && *first == '+' && ++first != last && (*first == '-' || *first == '+')) return false;
    const auto r = std::from_chars(first, last, out);
    return r.ec == std::errc() && r.ptr == last;
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
        double d = 0;
        if (!parse_double_text(std::string_view(cell_->v.str.ptr, cell_->v.str.len), d))
            text_failure("double", "a decimal number such as -12.50");
        return d;
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

namespace {
constexpr const char *kIsoForm = "YYYY-MM-DD[ HH:MM[:SS[.ffffff]]][Z|+HH:MM], a date that exists";
constexpr const char *kTimeForm = "[-]HH:MM[:SS[.ffffff]]";
} // namespace

// The forms other than the fixed ones, and the error: a tail call away from
// text_to_micros, which then saves no registers on the fixed forms.
ILANA_NOINLINE_ int64_t FieldConvert<Timestamp>::general_text_to_micros(const Field &f, const char *target) {
    const ilana_value *c = f.abi();
    int64_t micros = 0;
    if (!parse_iso_general(c->v.str.ptr, c->v.str.len, micros)) f.text_failure(target, kIsoForm);
    return micros;
}

int64_t FieldConvert<Timestamp>::text_to_micros(const Field &f, const char *target) {
    const ilana_value *c = f.abi();
    int64_t micros;
    if (c->v.str.len >= 10 && fixed_datetime(c->v.str.ptr, c->v.str.len, micros)) return micros;
    return general_text_to_micros(f, target);
}

Date FieldConvert<Date>::convert(const Field &f) {
    if (f.is_null()) f.conversion_failure("Date");
    const ilana_value *c = f.abi();
    switch (c->type) {
    case ILANA_TYPE_DATE: return Date{c->v.i64};
    case ILANA_TYPE_TIMESTAMP:
    case ILANA_TYPE_TIMESTAMPTZ: return Date{floor_div(c->v.i64, kMicrosPerDay)};
    case ILANA_TYPE_TEXT: return Date{floor_div(FieldConvert<Timestamp>::text_to_micros(f, "Date"), kMicrosPerDay)};
    default: f.conversion_failure("Date");
    }
}
Time FieldConvert<Time>::convert(const Field &f) {
    if (f.is_null()) f.conversion_failure("Time");
    const ilana_value *c = f.abi();
    if (c->type == ILANA_TYPE_TIME) return Time{c->v.i64};
    if (c->type != ILANA_TYPE_TEXT) f.conversion_failure("Time");
    int64_t micros = 0;
    if (!parse_time_text(c->v.str.ptr, c->v.str.len, micros)) f.text_failure("Time", kTimeForm);
    return Time{micros};
}
Timestamp FieldConvert<Timestamp>::convert(const Field &f) {
    if (f.is_null()) f.conversion_failure("Timestamp");
    const ilana_value *c = f.abi();
    switch (c->type) {
    case ILANA_TYPE_TIMESTAMP:
    case ILANA_TYPE_TIMESTAMPTZ: return Timestamp{c->v.i64};
    case ILANA_TYPE_DATE: return Timestamp{c->v.i64 * kMicrosPerDay};
    case ILANA_TYPE_TEXT: return Timestamp{text_to_micros(f, "Timestamp")};
    default: f.conversion_failure("Timestamp");
    }
}
TimestampTz FieldConvert<TimestampTz>::convert(const Field &f) {
    if (f.is_null()) f.conversion_failure("TimestampTz");
    const ilana_value *c = f.abi();
    switch (c->type) {
    case ILANA_TYPE_TIMESTAMP:
    case ILANA_TYPE_TIMESTAMPTZ: return TimestampTz{c->v.i64};
    case ILANA_TYPE_DATE: return TimestampTz{c->v.i64 * kMicrosPerDay};
    case ILANA_TYPE_TEXT: return TimestampTz{FieldConvert<Timestamp>::text_to_micros(f, "TimestampTz")};
    default: f.conversion_failure("TimestampTz");
    }
}

} // namespace ilana
