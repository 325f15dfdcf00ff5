// ilana/value.hpp — values going in (parameters) and coming out (fields).
//
//   Value  owns one parameter value: db.on("x").query("... ?", {42, "text"}).
//   Field  is a read-only view of one cell of a row; it lives as long as the
//          Result (or, while streaming, the batch) it came from.
//
// Both carry an ilana::Type. Conversions with as<T>() are checked: asking a
// TEXT field for an int64 throws ConversionError naming both types (and the
// column, when the field knows it); a NULL converts only to std::optional<T>.
#pragma once

#include <ilana/driver.h>
#include <ilana/error.hpp>

#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

namespace ilana {

// Same numbers as ILANA_TYPE_* of the C ABI.
enum class Type : int32_t {
    null = ILANA_TYPE_NULL,
    boolean = ILANA_TYPE_BOOL,
    int64 = ILANA_TYPE_INT64,
    uint64 = ILANA_TYPE_UINT64,
    float64 = ILANA_TYPE_DOUBLE,
    text = ILANA_TYPE_TEXT,
    blob = ILANA_TYPE_BLOB,
    decimal = ILANA_TYPE_DECIMAL,
    date = ILANA_TYPE_DATE,
    time = ILANA_TYPE_TIME,
    timestamp = ILANA_TYPE_TIMESTAMP,
    timestamptz = ILANA_TYPE_TIMESTAMPTZ,
    uuid = ILANA_TYPE_UUID,
    json = ILANA_TYPE_JSON,
    any = ILANA_TYPE_ANY,
};

const char *to_string(Type t) noexcept; // "int64", "text", ...

// Calendar types, as the ABI carries them.
struct Date {
    int64_t days_since_epoch = 0; // 1970-01-01 is 0
    static Date from_ymd(int year, unsigned month, unsigned day);
    std::string to_string() const; // "2026-11-23"
    bool operator==(const Date &o) const { return days_since_epoch == o.days_since_epoch; }
};
struct Time {
    int64_t micros_since_midnight = 0;
    std::string to_string() const; // "13:45:00" or "13:45:00.123456"
    bool operator==(const Time &o) const { return micros_since_midnight == o.micros_since_midnight; }
};
// A wall-clock date and time without a zone (SQL TIMESTAMP / DATETIME).
struct Timestamp {
    int64_t micros_since_epoch = 0;
    static Timestamp from_parts(int year, unsigned month, unsigned day, unsigned hour = 0,
                                unsigned minute = 0, unsigned second = 0, unsigned micros = 0);
    std::string to_string() const; // "2026-11-23 13:45:00[.ffffff]"
    bool operator==(const Timestamp &o) const { return micros_since_epoch == o.micros_since_epoch; }
};
// An instant (SQL TIMESTAMPTZ), UTC.
struct TimestampTz {
    int64_t micros_since_epoch = 0;
    static TimestampTz now();
    std::string to_string() const; // "2026-11-23T13:45:00[.ffffff]Z"
    bool operator==(const TimestampTz &o) const { return micros_since_epoch == o.micros_since_epoch; }
};
// Bytes, bound as a BLOB / bytea.
struct Blob {
    std::string bytes;
};

class Field;

// An owned value, used for parameters. Implicit from the usual C++ types.
class Value {
public:
    Value() noexcept { raw_.type = ILANA_TYPE_NULL; raw_.is_null = 1; }
    Value(std::nullptr_t) noexcept : Value() {}
    Value(bool b) noexcept { set_int(ILANA_TYPE_BOOL, b ? 1 : 0); }
    Value(int v) noexcept { set_int(ILANA_TYPE_INT64, v); }
    Value(long v) noexcept { set_int(ILANA_TYPE_INT64, v); }
    Value(long long v) noexcept { set_int(ILANA_TYPE_INT64, v); }
    Value(unsigned v) noexcept { set_int(ILANA_TYPE_INT64, v); }
    Value(unsigned long v) noexcept;
    Value(unsigned long long v) noexcept;
    Value(double v) noexcept;
    Value(float v) noexcept : Value(static_cast<double>(v)) {}
    Value(const char *s) : Value(std::string(s != nullptr ? s : "")) {}
    Value(std::string s) : text_(std::move(s)) { set_str(ILANA_TYPE_TEXT); }
    Value(std::string_view s) : Value(std::string(s)) {}
    Value(Blob b) : text_(std::move(b.bytes)) { set_str(ILANA_TYPE_BLOB); }
    Value(Date d) noexcept { set_int(ILANA_TYPE_DATE, d.days_since_epoch); }
    Value(Time t) noexcept { set_int(ILANA_TYPE_TIME, t.micros_since_midnight); }
    Value(Timestamp t) noexcept { set_int(ILANA_TYPE_TIMESTAMP, t.micros_since_epoch); }
    Value(TimestampTz t) noexcept { set_int(ILANA_TYPE_TIMESTAMPTZ, t.micros_since_epoch); }
    template <class T>
    Value(const std::optional<T> &o) : Value() {
        if (o) *this = Value(*o);
    }
    // A copy of a field (e.g. a value read from one database to write into another).
    Value(const Field &f);

    static Value decimal(std::string text);
    static Value json(std::string text);
    static Value uuid(std::string text);

    Value(const Value &o) : raw_(o.raw_), text_(o.text_) { fix_ptr(); }
    Value(Value &&o) noexcept : raw_(o.raw_), text_(std::move(o.text_)) { fix_ptr(); }
    Value &operator=(const Value &o) {
        raw_ = o.raw_;
        text_ = o.text_;
        fix_ptr();
        return *this;
    }
    Value &operator=(Value &&o) noexcept {
        raw_ = o.raw_;
        text_ = std::move(o.text_);
        fix_ptr();
        return *this;
    }

    Type type() const noexcept { return static_cast<Type>(raw_.type); }
    bool is_null() const noexcept { return raw_.is_null != 0; }
    Field field() const noexcept;
    template <class T> T as() const;
    std::string to_string() const; // display form; "NULL" for null
    // The ABI view; valid while this Value lives and is not modified.
    const ilana_value &abi() const noexcept { return raw_; }

private:
    void set_int(ilana_type t, int64_t v) noexcept {
        raw_.type = t;
        raw_.is_null = 0;
        raw_.v.i64 = v;
    }
    void set_str(ilana_type t) noexcept {
        raw_.type = t;
        raw_.is_null = 0;
        fix_ptr();
    }
    void fix_ptr() noexcept {
        if (!raw_.is_null && is_string_type(raw_.type)) {
            raw_.v.str.ptr = text_.data();
            raw_.v.str.len = text_.size();
        }
    }
    static bool is_string_type(ilana_type t) noexcept {
        return t == ILANA_TYPE_TEXT || t == ILANA_TYPE_BLOB || t == ILANA_TYPE_DECIMAL ||
               t == ILANA_TYPE_UUID || t == ILANA_TYPE_JSON;
    }
    ilana_value raw_{};
    std::string text_;
};

// A view of one cell. Cheap to copy; valid as long as its Result / batch.
class Field {
public:
    Field() noexcept = default;
    Field(const ilana_value *cell, const char *column_name) noexcept
        : cell_(cell), column_(column_name) {}

    Type type() const noexcept { return cell_ ? static_cast<Type>(cell_->type) : Type::null; }
    bool is_null() const noexcept { return cell_ == nullptr || cell_->is_null != 0; }
    const char *column_name() const noexcept { return column_ ? column_ : ""; }

    // Checked conversions. Supported T: bool, every integer type (range
    // checked), double, float, std::string, std::string_view (for text,
    // blob, decimal, uuid, json: no copy), Date, Time, Timestamp,
    // TimestampTz, Blob, and std::optional<T> of those (NULL -> nullopt).
    // Integers convert from int64/uint64/bool/decimal text; double from
    // integers/decimal; std::string from every type (display form).
    template <class T> T as() const;

    // The display form used by the CLI: numbers as written, text as is,
    // blob as \x hex, dates ISO 8601; "NULL" for null.
    std::string to_string() const;
    const ilana_value *abi() const noexcept { return cell_; }

private:
    [[noreturn]] void conversion_failure(const char *target) const;
    // A text cell that is not the form `target` is read from: the error
    // names the text (cut at 64 bytes) and the form expected.
    [[noreturn]] void text_failure(const char *target, const char *expected) const;
    int64_t to_int64() const;
    uint64_t to_uint64() const;
    double to_double() const;
    std::string_view to_view(const char *target) const;
    template <class T> friend struct FieldConvert;

    const ilana_value *cell_ = nullptr;
    const char *column_ = nullptr;
};

template <class T> struct FieldConvert;

template <class T> T Field::as() const { return FieldConvert<T>::get(*this); }
template <class T> T Value::as() const { return field().template as<T>(); }

// ---- conversions --------------------------------------------------------
template <class T> struct FieldConvert<std::optional<T>> {
    static std::optional<T> get(const Field &f) {
        if (f.is_null()) return std::nullopt;
        return FieldConvert<T>::get(f);
    }
};
template <> struct FieldConvert<bool> {
    static bool get(const Field &f);
};
// The common conversions (a cell already of the asked type) are inline:
// reading a row field by field is the per-row hot path of every fetch.
template <> struct FieldConvert<double> {
    static double get(const Field &f) {
        const ilana_value *c = f.abi();
        if (c != nullptr && c->is_null == 0 && c->type == ILANA_TYPE_DOUBLE) return c->v.f64;
        return convert(f);
    }
    static double convert(const Field &f); // every other case, and the errors
};
template <> struct FieldConvert<float> {
    static float get(const Field &f) { return static_cast<float>(FieldConvert<double>::get(f)); }
};
template <> struct FieldConvert<std::string> {
    static std::string get(const Field &f);
};
template <> struct FieldConvert<std::string_view> {
    static std::string_view get(const Field &f) {
        const ilana_value *c = f.abi();
        if (c != nullptr && c->is_null == 0 && c->type == ILANA_TYPE_TEXT && c->v.str.ptr != nullptr)
            return std::string_view(c->v.str.ptr, static_cast<size_t>(c->v.str.len));
        return convert(f);
    }
    static std::string_view convert(const Field &f);
};
template <> struct FieldConvert<Blob> {
    static Blob get(const Field &f);
};
// Dates and times: the cell the server's driver already decoded (DATE,
// TIME, TIMESTAMP) is inline; text (SQLite's DATETIME) and the errors are
// out of line, one call per cell.
template <> struct FieldConvert<Date> {
    static Date get(const Field &f) {
        const ilana_value *c = f.abi();
        if (c != nullptr && c->is_null == 0 && c->type == ILANA_TYPE_DATE) return Date{c->v.i64};
        return convert(f);
    }
    static Date convert(const Field &f);
};
template <> struct FieldConvert<Time> {
    static Time get(const Field &f) {
        const ilana_value *c = f.abi();
        if (c != nullptr && c->is_null == 0 && c->type == ILANA_TYPE_TIME) return Time{c->v.i64};
        return convert(f);
    }
    static Time convert(const Field &f);
};
template <> struct FieldConvert<Timestamp> {
    static Timestamp get(const Field &f) {
        const ilana_value *c = f.abi();
        if (c != nullptr && c->is_null == 0 && (c->type == ILANA_TYPE_TIMESTAMP || c->type == ILANA_TYPE_TIMESTAMPTZ))
            return Timestamp{c->v.i64};
        return convert(f);
    }
    static Timestamp convert(const Field &f);
    // ISO 8601 text ("2026-11-23 13:45:00.5+01:00") to microseconds; a
    // ConversionError naming the text and `target` when it is not one.
    static int64_t text_to_micros(const Field &f, const char *target);

private:
    static int64_t general_text_to_micros(const Field &f, const char *target); // zones, HH:MM, errors
};
template <> struct FieldConvert<TimestampTz> {
    static TimestampTz get(const Field &f) {
        const ilana_value *c = f.abi();
        if (c != nullptr && c->is_null == 0 && (c->type == ILANA_TYPE_TIMESTAMPTZ || c->type == ILANA_TYPE_TIMESTAMP))
            return TimestampTz{c->v.i64};
        return convert(f);
    }
    static TimestampTz convert(const Field &f);
};
// Integers: range-checked. int64 from an int64 cell is inline (get is
// defined in the class so that the compiler takes it as meant to inline);
// the rest is convert.
template <class T> struct FieldConvert {
    static_assert(std::is_integral_v<T>, "ilana::Field::as<T>: unsupported type T");
    static T get(const Field &f) {
        if constexpr (std::is_same_v<T, int64_t>) {
            const ilana_value *c = f.abi();
            if (c != nullptr && c->is_null == 0 && c->type == ILANA_TYPE_INT64) return c->v.i64;
        }
        return convert(f);
    }
    static T convert(const Field &f);
};

namespace detail {
[[noreturn]] void integer_out_of_range(const Field &f, const char *target);
template <class T> const char *integer_name() {
    if constexpr (std::is_same_v<T, int64_t>) return "int64";
    else if constexpr (std::is_same_v<T, uint64_t>) return "uint64";
    else if constexpr (std::is_signed_v<T>) return sizeof(T) == 4 ? "int32" : sizeof(T) == 2 ? "int16" : "int8";
    else return sizeof(T) == 4 ? "uint32" : sizeof(T) == 2 ? "uint16" : "uint8";
}
} // namespace detail

template <class T> T FieldConvert<T>::convert(const Field &f) {
    if (f.is_null()) f.conversion_failure(detail::integer_name<T>());
    if constexpr (std::is_unsigned_v<T>) {
        uint64_t u = f.to_uint64();
        if (u > static_cast<uint64_t>(std::numeric_limits<T>::max()))
            detail::integer_out_of_range(f, detail::integer_name<T>());
        return static_cast<T>(u);
    } else {
        int64_t i = f.to_int64();
        if (i < static_cast<int64_t>(std::numeric_limits<T>::min()) ||
            i > static_cast<int64_t>(std::numeric_limits<T>::max()))
            detail::integer_out_of_range(f, detail::integer_name<T>());
        return static_cast<T>(i);
    }
}

} // namespace ilana
