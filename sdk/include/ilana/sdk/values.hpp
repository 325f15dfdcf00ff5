// ilana/sdk/values.hpp — reading parameters and writing cells.
//
//   Param / Params  read-only views of the host's ilana_value array, strided by
//                   the value_size the host gave (so a host built against a
//                   later minor version, with a larger ilana_value, works).
//   Cell            an owned value (type + null flag + number or bytes), for
//                   results a driver builds in memory (RowsResult).
//   format_*        the canonical text forms of the temporal types (ISO 8601),
//                   for drivers that store or compare values as text.
//
// Header-only; depends on <ilana/driver.h> and the C++17 standard library.
#ifndef ILANA_SDK_VALUES_HPP
#define ILANA_SDK_VALUES_HPP

#include <ilana/driver.h>
#include <ilana/sdk/driver_support.hpp>

#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <limits>
#include <string>
#include <string_view>

namespace ilana::sdk {

// The ABI's name of a type ("INT64", "TEXT", ...), for messages.
constexpr const char *type_name(ilana_type t) noexcept {
    switch (t) {
    case ILANA_TYPE_NULL: return "NULL";
    case ILANA_TYPE_BOOL: return "BOOL";
    case ILANA_TYPE_INT64: return "INT64";
    case ILANA_TYPE_UINT64: return "UINT64";
    case ILANA_TYPE_DOUBLE: return "DOUBLE";
    case ILANA_TYPE_TEXT: return "TEXT";
    case ILANA_TYPE_BLOB: return "BLOB";
    case ILANA_TYPE_DECIMAL: return "DECIMAL";
    case ILANA_TYPE_DATE: return "DATE";
    case ILANA_TYPE_TIME: return "TIME";
    case ILANA_TYPE_TIMESTAMP: return "TIMESTAMP";
    case ILANA_TYPE_TIMESTAMPTZ: return "TIMESTAMPTZ";
    case ILANA_TYPE_UUID: return "UUID";
    case ILANA_TYPE_JSON: return "JSON";
    case ILANA_TYPE_ANY: return "ANY";
    default: return "UNKNOWN";
    }
}

// Which member of ilana_value::v a type uses.
constexpr bool is_string_type(ilana_type t) noexcept {
    return t == ILANA_TYPE_TEXT || t == ILANA_TYPE_BLOB || t == ILANA_TYPE_DECIMAL || t == ILANA_TYPE_UUID ||
           t == ILANA_TYPE_JSON;
}
constexpr bool is_i64_type(ilana_type t) noexcept {
    return t == ILANA_TYPE_BOOL || t == ILANA_TYPE_INT64 || t == ILANA_TYPE_DATE || t == ILANA_TYPE_TIME ||
           t == ILANA_TYPE_TIMESTAMP || t == ILANA_TYPE_TIMESTAMPTZ;
}

// ---------------------------------------------------------------------------
// Canonical text of temporal values (what the SQLite driver binds, ISO 8601):
//   DATE         1999-12-31
//   TIME         13:45:07 or 13:45:07.123456 (fraction only when non-zero)
//   TIMESTAMP    1999-12-31 13:45:07[.ffffff]
//   TIMESTAMPTZ  1999-12-31T13:45:07.123456Z (UTC, always six digits)

inline std::string format_date(int64_t days) {
    const CivilDate d = civil_from_days(days);
    char buf[32];
    std::snprintf(buf, sizeof buf, "%04lld-%02u-%02u", static_cast<long long>(d.year), d.month, d.day);
    return buf;
}

namespace detail {
constexpr int64_t kMicrosPerDay = 86400LL * 1000000LL;
inline int64_t floor_div(int64_t a, int64_t b) noexcept { return a / b - ((a % b != 0) && ((a < 0) != (b < 0))); }
inline std::string format_clock(int64_t micros_of_day, bool always_fraction) {
    const int64_t secs = micros_of_day / 1000000;
    const int64_t frac = micros_of_day % 1000000;
    char buf[48];
    if (frac != 0 || always_fraction)
        std::snprintf(buf, sizeof buf, "%02lld:%02lld:%02lld.%06lld", static_cast<long long>(secs / 3600),
                      static_cast<long long>(secs / 60 % 60), static_cast<long long>(secs % 60),
                      static_cast<long long>(frac));
    else
        std::snprintf(buf, sizeof buf, "%02lld:%02lld:%02lld", static_cast<long long>(secs / 3600),
                      static_cast<long long>(secs / 60 % 60), static_cast<long long>(secs % 60));
    return buf;
}
} // namespace detail

// Microseconds since midnight. Negative or >= 24 h (a MySQL TIME is a
// duration) keep their sign and hours: "-100:00:00".
inline std::string format_time(int64_t micros) {
    if (micros < 0) return "-" + detail::format_clock(-micros, false);
    return detail::format_clock(micros, false);
}

inline std::string format_timestamp(int64_t micros) {
    const int64_t days = detail::floor_div(micros, detail::kMicrosPerDay);
    return format_date(days) + " " + detail::format_clock(micros - days * detail::kMicrosPerDay, false);
}

inline std::string format_timestamptz(int64_t micros) {
    const int64_t days = detail::floor_div(micros, detail::kMicrosPerDay);
    return format_date(days) + "T" + detail::format_clock(micros - days * detail::kMicrosPerDay, true) + "Z";
}

// Shortest text that reads back as the same double ("0.1", "1e+300").
// Independent of the process's locale (a host may have called setlocale).
inline std::string format_double(double d) {
    if (std::isnan(d)) return "NaN";
    if (std::isinf(d)) return d > 0 ? "Infinity" : "-Infinity";
    char buf[40];
#if defined(__cpp_lib_to_chars) && __cpp_lib_to_chars >= 201611L
    const auto r = std::to_chars(buf, buf + sizeof buf, d);
    return std::string(buf, r.ptr);
#else
    for (int precision = 1; precision <= 17; ++precision) {
        std::snprintf(buf, sizeof buf, "%.*g", precision, d);
        if (std::strtod(buf, nullptr) == d) break;
    }
    for (char *p = buf; *p != '\0'; ++p)
        if (*p == ',') *p = '.'; // a locale's decimal comma
    return buf;
#endif
}

// ---------------------------------------------------------------------------
// Param: one bound parameter, borrowed from the host for the call.

class Param {
public:
    explicit Param(const ilana_value &v) noexcept : v_(&v) {}

    const ilana_value &raw() const noexcept { return *v_; }
    ilana_type type() const noexcept { return v_->type; }
    // A NULL parameter: is_null set, or the untyped NULL type.
    bool is_null() const noexcept { return v_->is_null != 0 || v_->type == ILANA_TYPE_NULL; }

    // The bytes of a string-typed parameter (TEXT, BLOB, DECIMAL, UUID,
    // JSON); ILANA_ERR_DATA for other types. Borrowed for the call.
    std::string_view bytes() const {
        if (!is_string_type(type()))
            throw DriverFailure(ILANA_ERR_DATA, std::string("parameter of type ") + type_name(type()) +
                                                    " where a string was expected");
        if (v_->v.str.ptr == nullptr) return {};
        return {v_->v.str.ptr, static_cast<size_t>(v_->v.str.len)};
    }

    // The parameter as a 64-bit integer: BOOL, INT64, the temporal types
    // (their integer encoding), UINT64 up to INT64_MAX, an integral DOUBLE,
    // TEXT/DECIMAL holding a plain integer. ILANA_ERR_DATA otherwise.
    int64_t as_int64() const {
        const ilana_type t = type();
        if (is_i64_type(t)) return v_->v.i64;
        if (t == ILANA_TYPE_UINT64) {
            if (v_->v.u64 > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) fail("INT64");
            return static_cast<int64_t>(v_->v.u64);
        }
        if (t == ILANA_TYPE_DOUBLE) {
            const double d = v_->v.f64;
            if (!(d >= -9.2233720368547758e18 && d < 9.2233720368547758e18) || std::trunc(d) != d) fail("INT64");
            return static_cast<int64_t>(d);
        }
        if (t == ILANA_TYPE_TEXT || t == ILANA_TYPE_DECIMAL) {
            int64_t out = 0;
            if (parse_int64(bytes(), out)) return out;
        }
        fail("INT64");
    }

    // The parameter as a double: the numeric types, TEXT/DECIMAL holding a
    // number. ILANA_ERR_DATA otherwise.
    double as_double() const {
        const ilana_type t = type();
        if (t == ILANA_TYPE_DOUBLE) return v_->v.f64;
        if (t == ILANA_TYPE_INT64 || t == ILANA_TYPE_BOOL) return static_cast<double>(v_->v.i64);
        if (t == ILANA_TYPE_UINT64) return static_cast<double>(v_->v.u64);
        if (t == ILANA_TYPE_TEXT || t == ILANA_TYPE_DECIMAL) {
            double out = 0;
            if (parse_double(bytes(), out)) return out;
        }
        fail("DOUBLE");
    }

    // The parameter's canonical text: integers in decimal, doubles in their
    // shortest form, BOOL "true"/"false", temporal types in ISO 8601 (see
    // format_*), string types as their bytes. ILANA_ERR_DATA for NULL.
    std::string to_text() const {
        if (is_null()) throw DriverFailure(ILANA_ERR_DATA, "NULL parameter where a value was expected");
        switch (type()) {
        case ILANA_TYPE_BOOL: return v_->v.i64 != 0 ? "true" : "false";
        case ILANA_TYPE_INT64: return std::to_string(v_->v.i64);
        case ILANA_TYPE_UINT64: return std::to_string(v_->v.u64);
        case ILANA_TYPE_DOUBLE: return format_double(v_->v.f64);
        case ILANA_TYPE_DATE: return format_date(v_->v.i64);
        case ILANA_TYPE_TIME: return format_time(v_->v.i64);
        case ILANA_TYPE_TIMESTAMP: return format_timestamp(v_->v.i64);
        case ILANA_TYPE_TIMESTAMPTZ: return format_timestamptz(v_->v.i64);
        default:
            if (is_string_type(type())) return std::string(bytes());
            throw DriverFailure(ILANA_ERR_DATA, std::string("parameter of unknown type ") +
                                                    std::to_string(type()));
        }
    }

    // Strict parsers shared with drivers: the whole text must be the number.
    static bool parse_int64(std::string_view s, int64_t &out) noexcept {
        if (s.empty() || s.size() > 20) return false;
        size_t i = 0;
        bool negative = false;
        if (s[0] == '-' || s[0] == '+') {
            negative = s[0] == '-';
            i = 1;
            if (s.size() == 1) return false;
        }
        uint64_t magnitude = 0;
        for (; i < s.size(); ++i) {
            if (s[i] < '0' || s[i] > '9') return false;
            const uint64_t digit = static_cast<uint64_t>(s[i] - '0');
            if (magnitude > (std::numeric_limits<uint64_t>::max() - digit) / 10) return false;
            magnitude = magnitude * 10 + digit;
        }
        const uint64_t limit = negative ? uint64_t(1) << 63 : (uint64_t(1) << 63) - 1;
        if (magnitude > limit) return false;
        out = negative ? static_cast<int64_t>(0 - magnitude) : static_cast<int64_t>(magnitude);
        return true;
    }
    // Decimal notation only (digits, one '.', an exponent); no hex, inf, nan.
    static bool parse_double(std::string_view s, double &out) noexcept {
        if (s.empty() || s.size() > 64) return false;
        bool digit_seen = false;
        for (char c : s) {
            if (c >= '0' && c <= '9') digit_seen = true;
            else if (c != '-' && c != '+' && c != '.' && c != 'e' && c != 'E') return false;
        }
        if (!digit_seen) return false;
#if defined(__cpp_lib_to_chars) && __cpp_lib_to_chars >= 201611L
        // Locale-independent; from_chars takes no leading '+'.
        if (s[0] == '+' && s.size() > 1 && (s[1] == '-' || s[1] == '+')) return false;
        const char *first = s.data() + (s[0] == '+' ? 1 : 0);
        double d = 0;
        const auto r = std::from_chars(first, s.data() + s.size(), d);
        if (r.ec != std::errc() || r.ptr != s.data() + s.size() || !std::isfinite(d)) return false;
#else
        char buf[65];
        s.copy(buf, s.size());
        buf[s.size()] = '\0';
        char *end = nullptr;
        const double d = std::strtod(buf, &end);
        if (end != buf + s.size() || !std::isfinite(d)) return false;
#endif
        out = d;
        return true;
    }

private:
    [[noreturn]] void fail(const char *want) const {
        throw DriverFailure(ILANA_ERR_DATA, std::string("parameter of type ") + type_name(type()) +
                                                " cannot be used as " + want);
    }
    const ilana_value *v_;
};

// The parameters of one statement, in placeholder order.
class Params {
public:
    Params() = default;
    Params(const ilana_value *values, uint32_t count, uint32_t value_size) : count_(count), stride_(value_size) {
        base_ = reinterpret_cast<const unsigned char *>(values);
        if (count_ > 0 && (base_ == nullptr || stride_ < sizeof(ilana_value)))
            throw DriverFailure(ILANA_ERR_INTERNAL, "statement parameters: NULL array or value_size " +
                                                        std::to_string(stride_) + " smaller than ABI v1's " +
                                                        std::to_string(sizeof(ilana_value)));
    }
    uint32_t size() const noexcept { return count_; }
    bool empty() const noexcept { return count_ == 0; }
    // The host's array as given (count size(), stride stride()), for a
    // driver that binds from ilana_values itself.
    const ilana_value *data() const noexcept { return reinterpret_cast<const ilana_value *>(base_); }
    uint32_t stride() const noexcept { return stride_; }
    // Index checked: ILANA_ERR_SYNTAX (SQLSTATE 07001) past the end.
    Param operator[](uint32_t i) const {
        if (i >= count_)
            throw DriverFailure(ILANA_ERR_SYNTAX, "the statement needs parameter " + std::to_string(i + 1) +
                                                      " but only " + std::to_string(count_) + " were given",
                                "07001");
        return Param(*reinterpret_cast<const ilana_value *>(base_ + static_cast<size_t>(i) * stride_));
    }

private:
    const unsigned char *base_ = nullptr;
    uint32_t count_ = 0;
    uint32_t stride_ = sizeof(ilana_value);
};

// ---------------------------------------------------------------------------
// Cell: an owned value, for results built in memory.

struct Cell {
    ilana_type type = ILANA_TYPE_NULL;
    bool null = true;
    int64_t i64 = 0;
    uint64_t u64 = 0;
    double f64 = 0;
    std::string bytes;

    static Cell make_null(ilana_type t = ILANA_TYPE_NULL) { return Cell{t, true, 0, 0, 0, {}}; }
    static Cell boolean(bool b) { return Cell{ILANA_TYPE_BOOL, false, b ? 1 : 0, 0, 0, {}}; }
    static Cell int64(int64_t v) { return Cell{ILANA_TYPE_INT64, false, v, 0, 0, {}}; }
    static Cell uint64(uint64_t v) { return Cell{ILANA_TYPE_UINT64, false, 0, v, 0, {}}; }
    static Cell real(double v) { return Cell{ILANA_TYPE_DOUBLE, false, 0, 0, v, {}}; }
    // DATE, TIME, TIMESTAMP, TIMESTAMPTZ in their integer encoding.
    static Cell temporal(ilana_type t, int64_t v) { return Cell{t, false, v, 0, 0, {}}; }
    static Cell text(std::string s) { return Cell{ILANA_TYPE_TEXT, false, 0, 0, 0, std::move(s)}; }
    static Cell blob(std::string s) { return Cell{ILANA_TYPE_BLOB, false, 0, 0, 0, std::move(s)}; }
    // DECIMAL, UUID, JSON (or TEXT/BLOB) as bytes.
    static Cell string(ilana_type t, std::string s) { return Cell{t, false, 0, 0, 0, std::move(s)}; }
    // TEXT, or NULL when absent.
    static Cell text_or_null(const char *s) { return s != nullptr ? text(s) : make_null(ILANA_TYPE_TEXT); }
};

} // namespace ilana::sdk

#endif // ILANA_SDK_VALUES_HPP
