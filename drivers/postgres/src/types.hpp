// types.hpp — PostgreSQL types ↔ ilana values: type OIDs, result-cell
// decoders (text and binary wire formats) and parameter encoding.
#pragma once

#include <ilana/driver.h>

#include <libpq-fe.h>

#include <cstdint>
#include <string>
#include <vector>

namespace ilana::drivers::postgres {

// Built-in type OIDs (pg_type.dat); stable across server versions.
namespace oid {
constexpr Oid kBool = 16, kBytea = 17, kChar = 18, kName = 19, kInt8 = 20, kInt2 = 21,
              kInt4 = 23, kText = 25, kOid = 26, kJson = 114, kFloat4 = 700, kFloat8 = 701,
              kUnknown = 705, kBpchar = 1042, kVarchar = 1043, kDate = 1082, kTime = 1083,
              kTimestamp = 1114, kTimestamptz = 1184, kNumeric = 1700, kUuid = 2950,
              kJsonb = 3802;
} // namespace oid

// Microseconds / days between 1970-01-01 (ilana) and 2000-01-01 (PostgreSQL's
// binary epoch).
constexpr int64_t kPgEpochDays = 10957;
constexpr int64_t kPgEpochMicros = kPgEpochDays * 86400LL * 1000000LL;

// Where decoded bytes go: a per-result arena. Decoders append and record an
// offset in the cell (v.str.ptr holds the offset until the batch is complete,
// see Result::fetch), so the arena may grow without dangling pointers.
struct Arena {
    std::vector<char> bytes;
    size_t append(const char *p, size_t n) {
        size_t off = bytes.size();
        bytes.insert(bytes.end(), p, p + n);
        return off;
    }
    char *grow(size_t n, size_t *off) {
        *off = bytes.size();
        bytes.resize(bytes.size() + n);
        return bytes.data() + *off;
    }
};

// Decodes one non-NULL cell. Throws DriverFailure(DATA) on malformed input.
// String results set cell->v.str.ptr to the arena OFFSET (cast), fixed up by
// the caller once the batch is complete.
using DecodeFn = void (*)(const char *data, int len, ilana_value *cell, Arena &arena);

struct ColumnType {
    ilana_type type;         // the ilana type of this column's cells
    const char *native;      // the server's name ("int4"); static storage
    bool binary_decodable;   // we decode its binary wire format
    bool is_string;          // cells carry v.str (need arena fix-up)
};

// Column facts for a type OID. Unknown OIDs: TEXT cells in text format,
// `native` NULL (the caller names it with unknown_type_name).
ColumnType column_type(Oid type_oid);

// The decoder for a column of `type_oid` in wire `format` (0 text, 1 binary).
DecodeFn decoder_for(Oid type_oid, int format);

// Native type name for OIDs outside the static table ("oid:16384").
std::string unknown_type_name(Oid type_oid);

// Parameters in libpq's array form. Buffers are reused across executes (one
// per connection) so binding does not allocate once warm.
struct BoundParams {
    std::vector<Oid> types;
    std::vector<const char *> values;
    std::vector<int> lengths;
    std::vector<int> formats;
    std::vector<int64_t> offsets; // >=0: offset into buf; -1: external pointer; -2: NULL
    std::string buf;
    std::string signature;        // one char per parameter: the prepared-cache key suffix
    int count = 0;

    // Encodes `count` values strided by `stride` bytes. Throws DriverFailure
    // (DATA / INTERNAL) naming the parameter position, never its value.
    void bind(const ilana_value *params, uint32_t count, uint32_t stride);
};

} // namespace ilana::drivers::postgres
