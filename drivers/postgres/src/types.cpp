// types.cpp — decoding result cells and encoding parameters.
//
// Result cells arrive in text format (uncached statements, or cached ones with
// a column we cannot decode in binary) or binary format (cached statements
// whose every column is in the binary-decodable set). Both paths give the
// same ilana values; the tests compare them.
#include "types.hpp"

#include <ilana/sdk/driver_support.hpp>

#include <charconv>
#include <cstring>
#include <limits>

namespace ilana::drivers::postgres {

using ilana::sdk::DriverFailure;

namespace {

// --------------------------------------------------------------------------
// Static type table
// --------------------------------------------------------------------------

struct TypeRow {
    Oid oid;
    const char *name;
    ilana_type type;
    bool binary; // binary wire format decoded by this driver
};

// Mapped types first; then names of other built-ins (cells as TEXT) so that
// native_type is the server's name without a catalog round trip.
constexpr TypeRow kTypes[] = {
    {oid::kBool, "bool", ILANA_TYPE_BOOL, true},
    {oid::kBytea, "bytea", ILANA_TYPE_BLOB, true},
    {oid::kChar, "char", ILANA_TYPE_TEXT, true},
    {oid::kName, "name", ILANA_TYPE_TEXT, true},
    {oid::kInt8, "int8", ILANA_TYPE_INT64, true},
    {oid::kInt2, "int2", ILANA_TYPE_INT64, true},
    {oid::kInt4, "int4", ILANA_TYPE_INT64, true},
    {oid::kText, "text", ILANA_TYPE_TEXT, true},
    {oid::kOid, "oid", ILANA_TYPE_INT64, true},
    {oid::kJson, "json", ILANA_TYPE_JSON, true},
    {oid::kFloat4, "float4", ILANA_TYPE_DOUBLE, true},
    {oid::kFloat8, "float8", ILANA_TYPE_DOUBLE, true},
    {oid::kUnknown, "unknown", ILANA_TYPE_TEXT, false},
    {oid::kBpchar, "bpchar", ILANA_TYPE_TEXT, true},
    {oid::kVarchar, "varchar", ILANA_TYPE_TEXT, true},
    {oid::kDate, "date", ILANA_TYPE_DATE, true},
    {oid::kTime, "time", ILANA_TYPE_TIME, true},
    {oid::kTimestamp, "timestamp", ILANA_TYPE_TIMESTAMP, true},
    {oid::kTimestamptz, "timestamptz", ILANA_TYPE_TIMESTAMPTZ, true},
    {oid::kNumeric, "numeric", ILANA_TYPE_DECIMAL, true},
    {oid::kUuid, "uuid", ILANA_TYPE_UUID, true},
    {oid::kJsonb, "jsonb", ILANA_TYPE_JSON, true},
    // Text-only (everything else is TEXT in text format).
    {22, "int2vector", ILANA_TYPE_TEXT, false}, {24, "regproc", ILANA_TYPE_TEXT, false},
    {27, "tid", ILANA_TYPE_TEXT, false}, {28, "xid", ILANA_TYPE_TEXT, false},
    {29, "cid", ILANA_TYPE_TEXT, false}, {30, "oidvector", ILANA_TYPE_TEXT, false},
    {142, "xml", ILANA_TYPE_TEXT, false}, {143, "_xml", ILANA_TYPE_TEXT, false},
    {199, "_json", ILANA_TYPE_TEXT, false}, {600, "point", ILANA_TYPE_TEXT, false},
    {601, "lseg", ILANA_TYPE_TEXT, false}, {602, "path", ILANA_TYPE_TEXT, false},
    {603, "box", ILANA_TYPE_TEXT, false}, {604, "polygon", ILANA_TYPE_TEXT, false},
    {628, "line", ILANA_TYPE_TEXT, false}, {650, "cidr", ILANA_TYPE_TEXT, false},
    {718, "circle", ILANA_TYPE_TEXT, false}, {774, "macaddr8", ILANA_TYPE_TEXT, false},
    {790, "money", ILANA_TYPE_TEXT, false}, {829, "macaddr", ILANA_TYPE_TEXT, false},
    {869, "inet", ILANA_TYPE_TEXT, false}, {1000, "_bool", ILANA_TYPE_TEXT, false},
    {1001, "_bytea", ILANA_TYPE_TEXT, false}, {1002, "_char", ILANA_TYPE_TEXT, false},
    {1003, "_name", ILANA_TYPE_TEXT, false}, {1005, "_int2", ILANA_TYPE_TEXT, false},
    {1007, "_int4", ILANA_TYPE_TEXT, false}, {1009, "_text", ILANA_TYPE_TEXT, false},
    {1014, "_bpchar", ILANA_TYPE_TEXT, false}, {1015, "_varchar", ILANA_TYPE_TEXT, false},
    {1016, "_int8", ILANA_TYPE_TEXT, false}, {1021, "_float4", ILANA_TYPE_TEXT, false},
    {1022, "_float8", ILANA_TYPE_TEXT, false}, {1028, "_oid", ILANA_TYPE_TEXT, false},
    {1033, "aclitem", ILANA_TYPE_TEXT, false}, {1034, "_aclitem", ILANA_TYPE_TEXT, false},
    {1041, "_inet", ILANA_TYPE_TEXT, false}, {1115, "_timestamp", ILANA_TYPE_TEXT, false},
    {1182, "_date", ILANA_TYPE_TEXT, false}, {1183, "_time", ILANA_TYPE_TEXT, false},
    {1185, "_timestamptz", ILANA_TYPE_TEXT, false}, {1186, "interval", ILANA_TYPE_TEXT, false},
    {1187, "_interval", ILANA_TYPE_TEXT, false}, {1231, "_numeric", ILANA_TYPE_TEXT, false},
    {1266, "timetz", ILANA_TYPE_TEXT, false}, {1270, "_timetz", ILANA_TYPE_TEXT, false},
    {1560, "bit", ILANA_TYPE_TEXT, false}, {1562, "varbit", ILANA_TYPE_TEXT, false},
    {1790, "refcursor", ILANA_TYPE_TEXT, false}, {2202, "regprocedure", ILANA_TYPE_TEXT, false},
    {2205, "regclass", ILANA_TYPE_TEXT, false}, {2206, "regtype", ILANA_TYPE_TEXT, false},
    {2951, "_uuid", ILANA_TYPE_TEXT, false}, {3220, "pg_lsn", ILANA_TYPE_TEXT, false},
    {3614, "tsvector", ILANA_TYPE_TEXT, false}, {3615, "tsquery", ILANA_TYPE_TEXT, false},
    {3807, "_jsonb", ILANA_TYPE_TEXT, false}, {3904, "int4range", ILANA_TYPE_TEXT, false},
    {3906, "numrange", ILANA_TYPE_TEXT, false}, {3908, "tsrange", ILANA_TYPE_TEXT, false},
    {3910, "tstzrange", ILANA_TYPE_TEXT, false}, {3912, "daterange", ILANA_TYPE_TEXT, false},
    {3926, "int8range", ILANA_TYPE_TEXT, false}, {4072, "jsonpath", ILANA_TYPE_TEXT, false},
    {4089, "regnamespace", ILANA_TYPE_TEXT, false}, {4096, "regrole", ILANA_TYPE_TEXT, false},
    {5069, "xid8", ILANA_TYPE_TEXT, false},
};

const TypeRow *find_type(Oid o) noexcept {
    for (const TypeRow &r : kTypes)
        if (r.oid == o) return &r;
    return nullptr;
}

bool is_string_type(ilana_type t) noexcept {
    return t == ILANA_TYPE_TEXT || t == ILANA_TYPE_BLOB || t == ILANA_TYPE_DECIMAL ||
           t == ILANA_TYPE_UUID || t == ILANA_TYPE_JSON;
}

[[noreturn]] void bad_value(const char *what) {
    throw DriverFailure(ILANA_ERR_DATA, std::string("cannot decode PostgreSQL ") + what +
                                            " value from the server");
}

// --------------------------------------------------------------------------
// Big-endian helpers (wire format)
// --------------------------------------------------------------------------

inline uint16_t be16(const char *p) noexcept {
    const auto *u = reinterpret_cast<const unsigned char *>(p);
    return static_cast<uint16_t>((u[0] << 8) | u[1]);
}
inline uint32_t be32(const char *p) noexcept {
    const auto *u = reinterpret_cast<const unsigned char *>(p);
    return (uint32_t{u[0]} << 24) | (uint32_t{u[1]} << 16) | (uint32_t{u[2]} << 8) | uint32_t{u[3]};
}
inline uint64_t be64(const char *p) noexcept {
    return (uint64_t{be32(p)} << 32) | be32(p + 4);
}
inline void put_be32(char *p, uint32_t v) noexcept {
    for (int i = 3; i >= 0; --i) {
        p[i] = static_cast<char>(v & 0xFFu);
        v >>= 8;
    }
}
inline void put_be64(char *p, uint64_t v) noexcept {
    for (int i = 7; i >= 0; --i) {
        p[i] = static_cast<char>(v & 0xFFu);
        v >>= 8;
    }
}

inline void set_str(ilana_value *cell, size_t offset, size_t len) noexcept {
    // Offset now, pointer after the batch (the arena may still move).
    cell->v.str.ptr = reinterpret_cast<const char *>(static_cast<uintptr_t>(offset));
    cell->v.str.len = len;
}

// Timestamps: PostgreSQL keeps +/-infinity as INT64_MAX / INT64_MIN (in its
// own epoch); ilana clamps them to the same extremes in the Unix epoch.
inline int64_t pg_micros_to_unix(int64_t pg) noexcept {
    if (pg == std::numeric_limits<int64_t>::max() || pg == std::numeric_limits<int64_t>::min()) return pg;
    return pg + kPgEpochMicros;
}
inline int64_t pg_days_to_unix(int32_t pg) noexcept {
    if (pg == std::numeric_limits<int32_t>::max()) return std::numeric_limits<int64_t>::max();
    if (pg == std::numeric_limits<int32_t>::min()) return std::numeric_limits<int64_t>::min();
    return int64_t{pg} + kPgEpochDays;
}

// --------------------------------------------------------------------------
// Text format parsing
// --------------------------------------------------------------------------

struct Cursor {
    const char *p;
    const char *end;
    bool eat(char c) noexcept {
        if (p < end && *p == c) {
            ++p;
            return true;
        }
        return false;
    }
    bool at_end() const noexcept { return p == end; }
    bool rest_is(std::string_view s) const noexcept {
        return static_cast<size_t>(end - p) == s.size() && std::memcmp(p, s.data(), s.size()) == 0;
    }
    // Exactly `n` digits (n == 0: one or more).
    bool digits(int n, int64_t *out) noexcept {
        int64_t v = 0;
        int count = 0;
        while (p < end && *p >= '0' && *p <= '9' && (n == 0 || count < n)) {
            if (v > (std::numeric_limits<int64_t>::max() - 9) / 10) return false;
            v = v * 10 + (*p - '0');
            ++p;
            ++count;
        }
        *out = v;
        return count > 0 && (n == 0 || count == n);
    }
};

// "HH:MM:SS[.ffffff]" → microseconds.
bool parse_time_part(Cursor &c, int64_t *micros) {
    int64_t h, m, s;
    if (!c.digits(2, &h) || !c.eat(':') || !c.digits(2, &m) || !c.eat(':') || !c.digits(2, &s)) return false;
    int64_t frac = 0;
    if (c.eat('.')) {
        int n = 0;
        while (c.p < c.end && *c.p >= '0' && *c.p <= '9') {
            if (n < 6) frac = frac * 10 + (*c.p - '0');
            ++n;
            ++c.p;
        }
        if (n == 0) return false;
        for (; n < 6; ++n) frac *= 10;
    }
    *micros = ((h * 60 + m) * 60 + s) * 1000000 + frac;
    return true;
}

// Drops a trailing " BC" from the input; true when there was one.
bool strip_bc(Cursor &c) noexcept {
    static constexpr std::string_view kBc = " BC";
    if (static_cast<size_t>(c.end - c.p) > kBc.size() &&
        std::memcmp(c.end - kBc.size(), kBc.data(), kBc.size()) == 0) {
        c.end -= kBc.size();
        return true;
    }
    return false;
}

// Year N BC is astronomical year 1 - N; recompute days from the parts.
int64_t date_days(int64_t y, int64_t m, int64_t d, bool bc) {
    if (bc) y = 1 - y;
    return ilana::sdk::days_from_civil(y, static_cast<unsigned>(m), static_cast<unsigned>(d));
}

bool parse_ymd(Cursor &c, bool bc, int64_t *days) {
    int64_t y, m, d;
    if (!c.digits(0, &y) || !c.eat('-') || !c.digits(2, &m) || !c.eat('-') || !c.digits(2, &d)) return false;
    if (m < 1 || m > 12 || d < 1 || d > 31) return false;
    *days = date_days(y, m, d, bc);
    return true;
}

void text_bool(const char *s, int len, ilana_value *cell, Arena &) {
    if (len != 1 || (s[0] != 't' && s[0] != 'f')) bad_value("boolean");
    cell->v.i64 = s[0] == 't' ? 1 : 0;
}

// Integers are the commonest cells: a plain loop (accumulating negatively,
// so INT64_MIN parses) beats from_chars' generality.
void text_int(const char *s, int len, ilana_value *cell, Arena &) {
    const char *p = s, *end = s + len;
    const bool neg = p < end && *p == '-';
    if (neg) ++p;
    if (p == end || end - p > 19) bad_value("integer");
    int64_t v = 0;
    for (; p < end; ++p) {
        const unsigned d = static_cast<unsigned char>(*p) - unsigned{'0'};
        if (d > 9) bad_value("integer");
        if (v < (std::numeric_limits<int64_t>::min() + static_cast<int64_t>(d)) / 10) bad_value("integer");
        v = v * 10 - static_cast<int64_t>(d);
    }
    if (!neg) {
        if (v == std::numeric_limits<int64_t>::min()) bad_value("integer");
        v = -v;
    }
    cell->v.i64 = v;
}

void text_float8(const char *s, int len, ilana_value *cell, Arena &) {
    double v = 0;
    auto r = std::from_chars(s, s + len, v);
    if (r.ec != std::errc() || r.ptr != s + len) bad_value("float8");
    cell->v.f64 = v;
}

// float4 parsed as float, then widened: the same double as the binary path.
void text_float4(const char *s, int len, ilana_value *cell, Arena &) {
    float v = 0;
    auto r = std::from_chars(s, s + len, v);
    if (r.ec != std::errc() || r.ptr != s + len) bad_value("float4");
    cell->v.f64 = static_cast<double>(v);
}

void copy_bytes(const char *s, int len, ilana_value *cell, Arena &arena) {
    set_str(cell, arena.append(s, static_cast<size_t>(len)), static_cast<size_t>(len));
}

inline int hex_value(char c) noexcept {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

// bytea in text format: "\x0a1b…" (bytea_output = hex, the default) or the
// historical escape format ("abc\000\\").
void text_bytea(const char *s, int len, ilana_value *cell, Arena &arena) {
    size_t off;
    if (len >= 2 && s[0] == '\\' && s[1] == 'x') {
        const size_t n = static_cast<size_t>(len - 2) / 2;
        if ((len - 2) % 2 != 0) bad_value("bytea");
        char *out = arena.grow(n, &off);
        for (size_t i = 0; i < n; ++i) {
            int hi = hex_value(s[2 + 2 * i]), lo = hex_value(s[3 + 2 * i]);
            if (hi < 0 || lo < 0) bad_value("bytea");
            out[i] = static_cast<char>((hi << 4) | lo);
        }
        set_str(cell, off, n);
        return;
    }
    char *out = arena.grow(static_cast<size_t>(len), &off);
    size_t n = 0;
    for (int i = 0; i < len;) {
        if (s[i] != '\\') {
            out[n++] = s[i++];
        } else if (i + 1 < len && s[i + 1] == '\\') {
            out[n++] = '\\';
            i += 2;
        } else if (i + 3 < len && s[i + 1] >= '0' && s[i + 1] <= '3' && s[i + 2] >= '0' &&
                   s[i + 2] <= '7' && s[i + 3] >= '0' && s[i + 3] <= '7') {
            out[n++] = static_cast<char>(((s[i + 1] - '0') << 6) | ((s[i + 2] - '0') << 3) | (s[i + 3] - '0'));
            i += 4;
        } else {
            bad_value("bytea");
        }
    }
    arena.bytes.resize(off + n);
    set_str(cell, off, n);
}

void text_date(const char *s, int len, ilana_value *cell, Arena &) {
    Cursor c{s, s + len};
    if (c.rest_is("infinity")) {
        cell->v.i64 = std::numeric_limits<int64_t>::max();
        return;
    }
    if (c.rest_is("-infinity")) {
        cell->v.i64 = std::numeric_limits<int64_t>::min();
        return;
    }
    bool bc = strip_bc(c);
    int64_t days;
    if (!parse_ymd(c, bc, &days) || !c.at_end()) bad_value("date (is DateStyle ISO?)");
    cell->v.i64 = days;
}

void text_time(const char *s, int len, ilana_value *cell, Arena &) {
    Cursor c{s, s + len};
    int64_t micros;
    if (!parse_time_part(c, &micros) || !c.at_end()) bad_value("time");
    cell->v.i64 = micros;
}

// timestamp / timestamptz: "YYYY-MM-DD HH:MM:SS[.ffffff][+HH[:MM[:SS]]][ BC]".
void parse_timestamp(const char *s, int len, ilana_value *cell, bool with_zone) {
    Cursor c{s, s + len};
    if (c.rest_is("infinity")) {
        cell->v.i64 = std::numeric_limits<int64_t>::max();
        return;
    }
    if (c.rest_is("-infinity")) {
        cell->v.i64 = std::numeric_limits<int64_t>::min();
        return;
    }
    bool bc = strip_bc(c);
    int64_t days, micros;
    if (!parse_ymd(c, bc, &days) || !c.eat(' ') || !parse_time_part(c, &micros))
        bad_value(with_zone ? "timestamptz (is DateStyle ISO?)" : "timestamp (is DateStyle ISO?)");
    int64_t offset = 0;
    if (with_zone) {
        int sign = 0;
        if (c.eat('+')) sign = 1;
        else if (c.eat('-')) sign = -1;
        int64_t oh = 0, om = 0, os = 0;
        if (sign == 0 || !c.digits(2, &oh)) bad_value("timestamptz");
        if (c.eat(':') && !c.digits(2, &om)) bad_value("timestamptz");
        if (c.eat(':') && !c.digits(2, &os)) bad_value("timestamptz");
        offset = sign * ((oh * 60 + om) * 60 + os) * 1000000;
    }
    if (!c.at_end()) bad_value(with_zone ? "timestamptz" : "timestamp");
    cell->v.i64 = days * 86400LL * 1000000LL + micros - offset;
}

void text_timestamp(const char *s, int len, ilana_value *cell, Arena &) {
    parse_timestamp(s, len, cell, false);
}
void text_timestamptz(const char *s, int len, ilana_value *cell, Arena &) {
    parse_timestamp(s, len, cell, true);
}

// --------------------------------------------------------------------------
// Binary format
// --------------------------------------------------------------------------

void bin_bool(const char *s, int len, ilana_value *cell, Arena &) {
    if (len != 1) bad_value("boolean");
    cell->v.i64 = s[0] != 0 ? 1 : 0;
}
void bin_int2(const char *s, int len, ilana_value *cell, Arena &) {
    if (len != 2) bad_value("int2");
    cell->v.i64 = static_cast<int16_t>(be16(s));
}
void bin_int4(const char *s, int len, ilana_value *cell, Arena &) {
    if (len != 4) bad_value("int4");
    cell->v.i64 = static_cast<int32_t>(be32(s));
}
void bin_oid(const char *s, int len, ilana_value *cell, Arena &) {
    if (len != 4) bad_value("oid");
    cell->v.i64 = be32(s); // unsigned 32-bit
}
void bin_int8(const char *s, int len, ilana_value *cell, Arena &) {
    if (len != 8) bad_value("int8");
    cell->v.i64 = static_cast<int64_t>(be64(s));
}
void bin_float4(const char *s, int len, ilana_value *cell, Arena &) {
    if (len != 4) bad_value("float4");
    uint32_t bits = be32(s);
    float f;
    std::memcpy(&f, &bits, sizeof f);
    cell->v.f64 = static_cast<double>(f);
}
void bin_float8(const char *s, int len, ilana_value *cell, Arena &) {
    if (len != 8) bad_value("float8");
    uint64_t bits = be64(s);
    std::memcpy(&cell->v.f64, &bits, sizeof(double));
}
void bin_date(const char *s, int len, ilana_value *cell, Arena &) {
    if (len != 4) bad_value("date");
    cell->v.i64 = pg_days_to_unix(static_cast<int32_t>(be32(s)));
}
void bin_time(const char *s, int len, ilana_value *cell, Arena &) {
    if (len != 8) bad_value("time");
    cell->v.i64 = static_cast<int64_t>(be64(s));
}
void bin_timestamp(const char *s, int len, ilana_value *cell, Arena &) {
    if (len != 8) bad_value("timestamp");
    cell->v.i64 = pg_micros_to_unix(static_cast<int64_t>(be64(s)));
}
void bin_uuid(const char *s, int len, ilana_value *cell, Arena &arena) {
    if (len != 16) bad_value("uuid");
    static constexpr char kHex[] = "0123456789abcdef";
    size_t off;
    char *out = arena.grow(36, &off);
    size_t o = 0;
    for (int i = 0; i < 16; ++i) {
        if (i == 4 || i == 6 || i == 8 || i == 10) out[o++] = '-';
        auto b = static_cast<unsigned char>(s[i]);
        out[o++] = kHex[b >> 4];
        out[o++] = kHex[b & 0xF];
    }
    set_str(cell, off, 36);
}
void bin_jsonb(const char *s, int len, ilana_value *cell, Arena &arena) {
    // jsonb binary = a version byte (1) then the JSON text.
    if (len < 1 || s[0] != 1) bad_value("jsonb");
    copy_bytes(s + 1, len - 1, cell, arena);
}

// numeric binary: ndigits, weight, sign, dscale (int16 each), then ndigits
// base-10000 digits. Rendered exactly as the server's numeric_out does.
void bin_numeric(const char *s, int len, ilana_value *cell, Arena &arena) {
    if (len < 8) bad_value("numeric");
    const int ndigits = static_cast<int16_t>(be16(s));
    const int weight = static_cast<int16_t>(be16(s + 2));
    const uint16_t sign = be16(s + 4);
    const int dscale = be16(s + 6);
    if (ndigits < 0 || len != 8 + 2 * ndigits) bad_value("numeric");
    auto emit_text = [&](std::string_view t) {
        set_str(cell, arena.append(t.data(), t.size()), t.size());
    };
    if (sign == 0xC000) return emit_text("NaN");
    if (sign == 0xD000) return emit_text("Infinity");
    if (sign == 0xF000) return emit_text("-Infinity");
    if (sign != 0x0000 && sign != 0x4000) bad_value("numeric");
    auto digit = [&](int i) -> int {
        return (i >= 0 && i < ndigits) ? static_cast<int16_t>(be16(s + 8 + 2 * i)) : 0;
    };
    // Upper bound: sign, integer digits, point, dscale digits (+4 slack).
    const size_t cap = 2 + static_cast<size_t>(weight >= 0 ? (weight + 1) * 4 : 1) + 1 +
                       static_cast<size_t>(dscale) + 4;
    size_t off;
    char *out = arena.grow(cap, &off);
    size_t n = 0;
    if (sign == 0x4000) out[n++] = '-';
    int d;
    if (weight < 0) {
        d = weight + 1;
        out[n++] = '0';
    } else {
        for (d = 0; d <= weight; ++d) {
            int dig = digit(d);
            if (dig < 0 || dig > 9999) bad_value("numeric");
            if (d == 0) {
                char tmp[8];
                auto r = std::to_chars(tmp, tmp + sizeof tmp, dig);
                for (char *q = tmp; q < r.ptr; ++q) out[n++] = *q;
            } else {
                out[n++] = static_cast<char>('0' + dig / 1000);
                out[n++] = static_cast<char>('0' + dig / 100 % 10);
                out[n++] = static_cast<char>('0' + dig / 10 % 10);
                out[n++] = static_cast<char>('0' + dig % 10);
            }
        }
    }
    if (dscale > 0) {
        out[n++] = '.';
        const size_t end = n + static_cast<size_t>(dscale);
        for (int i = 0; i < dscale; ++d, i += 4) {
            int dig = digit(d);
            if (dig < 0 || dig > 9999) bad_value("numeric");
            out[n++] = static_cast<char>('0' + dig / 1000);
            out[n++] = static_cast<char>('0' + dig / 100 % 10);
            out[n++] = static_cast<char>('0' + dig / 10 % 10);
            out[n++] = static_cast<char>('0' + dig % 10);
        }
        n = end;
    }
    arena.bytes.resize(off + n);
    set_str(cell, off, n);
}

// --------------------------------------------------------------------------
// Parameter encoding helpers
// --------------------------------------------------------------------------

[[noreturn]] void bad_param(uint32_t index, const std::string &why, ilana_error_class cls = ILANA_ERR_DATA) {
    throw DriverFailure(cls, "parameter $" + std::to_string(index + 1) + ": " + why);
}

const char kEmpty[1] = {0};

} // namespace

// ----------------------------------------------------------------------------

ColumnType column_type(Oid type_oid) {
    if (const TypeRow *r = find_type(type_oid))
        return {r->type, r->name, r->binary, is_string_type(r->type)};
    return {ILANA_TYPE_TEXT, nullptr, false, true};
}

std::string unknown_type_name(Oid type_oid) { return "oid:" + std::to_string(type_oid); }

DecodeFn decoder_for(Oid type_oid, int format) {
    if (format == 1) {
        switch (type_oid) {
        case oid::kBool: return bin_bool;
        case oid::kInt2: return bin_int2;
        case oid::kInt4: return bin_int4;
        case oid::kOid: return bin_oid;
        case oid::kInt8: return bin_int8;
        case oid::kFloat4: return bin_float4;
        case oid::kFloat8: return bin_float8;
        case oid::kDate: return bin_date;
        case oid::kTime: return bin_time;
        case oid::kTimestamp:
        case oid::kTimestamptz: return bin_timestamp;
        case oid::kUuid: return bin_uuid;
        case oid::kJsonb: return bin_jsonb;
        case oid::kNumeric: return bin_numeric;
        // bytea, text-like and json: the binary form is the bytes themselves.
        default: return copy_bytes;
        }
    }
    switch (type_oid) {
    case oid::kBool: return text_bool;
    case oid::kInt2:
    case oid::kInt4:
    case oid::kInt8:
    case oid::kOid: return text_int;
    case oid::kFloat4: return text_float4;
    case oid::kFloat8: return text_float8;
    case oid::kBytea: return text_bytea;
    case oid::kDate: return text_date;
    case oid::kTime: return text_time;
    case oid::kTimestamp: return text_timestamp;
    case oid::kTimestamptz: return text_timestamptz;
    default: return copy_bytes; // numeric, uuid, json(b), text, arrays, ...
    }
}

void BoundParams::bind(const ilana_value *params, uint32_t n, uint32_t stride) {
    count = static_cast<int>(n);
    types.resize(n);
    values.resize(n);
    lengths.resize(n);
    formats.resize(n);
    offsets.resize(n);
    buf.clear();
    signature.clear();
    const char *base = reinterpret_cast<const char *>(params);

    auto put_text = [&](uint32_t i, const char *p, uint64_t len) {
        if (len > 0 && p == nullptr) bad_param(i, "string pointer is NULL", ILANA_ERR_INTERNAL);
        if (len > 0 && std::memchr(p, 0, len) != nullptr)
            bad_param(i, "text contains a zero byte (send binary data as BLOB)");
        if (len > static_cast<uint64_t>(std::numeric_limits<int>::max() - 1))
            bad_param(i, "value larger than 2 GiB");
        offsets[i] = static_cast<int64_t>(buf.size());
        buf.append(p == nullptr ? kEmpty : p, len);
        buf.push_back('\0'); // libpq reads text parameters up to NUL
        lengths[i] = static_cast<int>(len);
        formats[i] = 0;
    };
    auto put_be = [&](uint32_t i, uint64_t v, int size) {
        offsets[i] = static_cast<int64_t>(buf.size());
        char tmp[8];
        if (size == 8) put_be64(tmp, v);
        else put_be32(tmp, static_cast<uint32_t>(v));
        buf.append(tmp, static_cast<size_t>(size));
        lengths[i] = size;
        formats[i] = 1;
    };

    for (uint32_t i = 0; i < n; ++i) {
        const ilana_value &v = *reinterpret_cast<const ilana_value *>(base + static_cast<size_t>(i) * stride);
        if (v.type < ILANA_TYPE_NULL || v.type > ILANA_TYPE_JSON)
            bad_param(i, v.type == ILANA_TYPE_ANY ? "type ANY is for columns only"
                                                  : "unknown ilana type " + std::to_string(v.type),
                      ILANA_ERR_INTERNAL);
        signature.push_back(static_cast<char>('a' + v.type));
        formats[i] = 0;
        lengths[i] = 0;
        switch (v.type) {
        case ILANA_TYPE_NULL: types[i] = 0; break; // the server infers the type
        case ILANA_TYPE_BOOL: types[i] = oid::kBool; break;
        case ILANA_TYPE_INT64: types[i] = oid::kInt8; break;
        case ILANA_TYPE_UINT64: types[i] = oid::kNumeric; break;
        case ILANA_TYPE_DOUBLE: types[i] = oid::kFloat8; break;
        case ILANA_TYPE_TEXT: types[i] = 0; break; // unknown: inferred from context
        case ILANA_TYPE_BLOB: types[i] = oid::kBytea; break;
        case ILANA_TYPE_DECIMAL: types[i] = oid::kNumeric; break;
        case ILANA_TYPE_DATE: types[i] = oid::kDate; break;
        case ILANA_TYPE_TIME: types[i] = oid::kTime; break;
        case ILANA_TYPE_TIMESTAMP: types[i] = oid::kTimestamp; break;
        case ILANA_TYPE_TIMESTAMPTZ: types[i] = oid::kTimestamptz; break;
        case ILANA_TYPE_UUID: types[i] = oid::kUuid; break;
        case ILANA_TYPE_JSON: types[i] = 0; break; // json or jsonb, from context
        default: break;
        }
        if (v.type == ILANA_TYPE_NULL || v.is_null != 0) {
            offsets[i] = -2;
            continue;
        }
        switch (v.type) {
        case ILANA_TYPE_BOOL:
            offsets[i] = static_cast<int64_t>(buf.size());
            buf.push_back(v.v.i64 != 0 ? 1 : 0);
            lengths[i] = 1;
            formats[i] = 1;
            break;
        case ILANA_TYPE_INT64: put_be(i, static_cast<uint64_t>(v.v.i64), 8); break;
        case ILANA_TYPE_DOUBLE: {
            uint64_t bits;
            std::memcpy(&bits, &v.v.f64, sizeof bits);
            put_be(i, bits, 8);
            break;
        }
        case ILANA_TYPE_UINT64: {
            char tmp[24];
            auto r = std::to_chars(tmp, tmp + sizeof tmp, v.v.u64);
            put_text(i, tmp, static_cast<uint64_t>(r.ptr - tmp));
            break;
        }
        case ILANA_TYPE_BLOB:
            if (v.v.str.len > 0 && v.v.str.ptr == nullptr) bad_param(i, "BLOB pointer is NULL", ILANA_ERR_INTERNAL);
            if (v.v.str.len > static_cast<uint64_t>(std::numeric_limits<int>::max()))
                bad_param(i, "value larger than 2 GiB");
            // Borrowed for the call, and libpq copies it while sending.
            offsets[i] = -1;
            values[i] = v.v.str.len > 0 ? v.v.str.ptr : kEmpty;
            lengths[i] = static_cast<int>(v.v.str.len);
            formats[i] = 1;
            break;
        case ILANA_TYPE_TEXT:
        case ILANA_TYPE_DECIMAL:
        case ILANA_TYPE_UUID:
        case ILANA_TYPE_JSON: put_text(i, v.v.str.ptr, v.v.str.len); break;
        case ILANA_TYPE_DATE: {
            const int64_t d = v.v.i64;
            constexpr int64_t kMin = int64_t{std::numeric_limits<int32_t>::min()} + kPgEpochDays;
            constexpr int64_t kMax = int64_t{std::numeric_limits<int32_t>::max()} + kPgEpochDays;
            int64_t pg;
            if (d == std::numeric_limits<int64_t>::max()) pg = std::numeric_limits<int32_t>::max();
            else if (d == std::numeric_limits<int64_t>::min()) pg = std::numeric_limits<int32_t>::min();
            else if (d <= kMin || d >= kMax) bad_param(i, "date out of range");
            else pg = d - kPgEpochDays;
            put_be(i, static_cast<uint64_t>(static_cast<uint32_t>(static_cast<int32_t>(pg))), 4);
            break;
        }
        case ILANA_TYPE_TIME: put_be(i, static_cast<uint64_t>(v.v.i64), 8); break;
        case ILANA_TYPE_TIMESTAMP:
        case ILANA_TYPE_TIMESTAMPTZ: {
            int64_t t = v.v.i64;
            int64_t pg = t;
            if (t != std::numeric_limits<int64_t>::max() && t != std::numeric_limits<int64_t>::min()) {
                // Shifting to the 2000 epoch must neither overflow nor land on
                // the values PostgreSQL reserves for -infinity.
                if (t <= std::numeric_limits<int64_t>::min() + kPgEpochMicros)
                    bad_param(i, "timestamp out of range");
                pg = t - kPgEpochMicros;
            }
            put_be(i, static_cast<uint64_t>(pg), 8);
            break;
        }
        default: break;
        }
    }
    // Pointers only now: buf may have moved while growing.
    for (uint32_t i = 0; i < n; ++i) {
        if (offsets[i] >= 0) values[i] = buf.data() + offsets[i];
        else if (offsets[i] == -2) values[i] = nullptr;
    }
}

} // namespace ilana::drivers::postgres
