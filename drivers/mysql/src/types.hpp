// types.hpp — the type mapping between MySQL/MariaDB and ilana values.
//
// One function, describe(), decides for every result column which ilana type
// its cells get and how they are decoded; both result paths (binary protocol
// for prepared statements, text protocol for parameterless statements) use
// it, so a column has the same ilana type whichever path produced it.
//
//   MySQL/MariaDB column                      ilana cell
//   TINYINT..BIGINT, YEAR (signed/unsigned)   INT64  (TINYINT(1) too: no BOOL guess)
//   BIGINT UNSIGNED                           UINT64
//   BIT(n<64) / BIT(64)                       INT64 / UINT64 (big-endian bits)
//   FLOAT / DOUBLE                            DOUBLE (FLOAT via its shortest decimal)
//   DECIMAL                                   DECIMAL text, exact
//   CHAR/VARCHAR/TEXT/ENUM/SET (text charset) TEXT (UTF-8)
//   BINARY/VARBINARY/BLOB (charset 63), GEOMETRY  BLOB
//   JSON (MySQL type 245, MariaDB format=json) JSON
//   DATE                                      DATE  (days since 1970-01-01)
//   DATETIME / TIMESTAMP                      TIMESTAMP (µs since 1970, wall clock
//                                             in the session time zone)
//   TIME                                      TIME  (signed µs; may be < 0 or >= 24 h)
//   NULL literal column                       TEXT column, NULL cells
// Zero dates ('0000-00-00', month or day 0) have no instant: they become NULL.
#pragma once

#include <ilana/driver.h>
#include <ilana/sdk/arena.hpp>

#include <mysql.h>

#include <cstdint>

namespace ilana::drivers::mysql {

enum class Decode : uint8_t {
    Null,
    Int,    // signed integer types, YEAR, unsigned types narrower than 64 bits
    UInt,   // BIGINT UNSIGNED
    Float,
    Double,
    Decimal,
    Text,
    Blob,
    Json,
    Bit,
    Date,
    DateTime,
    Time,
};

struct ColumnSpec {
    ilana_type type;
    Decode decode;
    const char *native_type; // static string
    bool is_unsigned;
};

ColumnSpec describe(const MYSQL_FIELD &field);

// Binary protocol: a MYSQL_TIME into a cell of `decode` (Date/DateTime/Time).
// Returns false for zero dates (the cell becomes NULL).
bool time_to_cell(const MYSQL_TIME &t, Decode decode, int64_t &out);

// FLOAT as the double of its shortest decimal form (1.1f -> 1.1, not
// 1.100000023841858), the same value the text protocol yields.
double float_to_double(float f);

// BIT value bytes (big-endian) into a cell.
void bit_to_cell(const unsigned char *p, size_t n, ilana_value &cell);

// Text protocol: decodes one non-NULL value into `cell` (type already set);
// strings are copied into `arena`. Returns false when the text is not a
// valid value of the column's type (the caller raises ILANA_ERR_DATA) —
// except zero dates, which set is_null and return true.
bool text_to_cell(Decode decode, const char *p, size_t n, ilana_value &cell, sdk::ByteArena &arena);

// Parameters: civil fields of DATE / TIME / TIMESTAMP values.
void days_to_time(int64_t days, MYSQL_TIME &t);
void micros_to_datetime(int64_t micros, MYSQL_TIME &t);
void micros_to_time(int64_t micros, MYSQL_TIME &t);

} // namespace ilana::drivers::mysql
