// csv_query.hpp — the one statement the CSV driver understands:
//
//   SELECT * | col [, col ...] FROM table
//          [WHERE col = value [AND col = value ...]] [LIMIT n] [;]
//
// value is a placeholder `?`, a string literal 'it''s' or a number; n is a
// non-negative integer or `?`. Keywords are case-insensitive; identifiers may
// be double-quoted ("Unit Price"). Anything else is ILANA_ERR_SYNTAX naming
// what is not supported, with SQLSTATE 42601 (bad syntax) or 0A000 (a
// feature this driver does not have).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace csv {

struct Name {
    std::string text;
    bool quoted = false; // quoted names match exactly, others case-insensitively
};

// The right-hand side of `col = ...`.
struct Operand {
    enum Kind { Placeholder, String, Number } kind = Placeholder;
    std::string text;        // String / Number literal
    uint32_t param_index = 0; // Placeholder: index into the parameters
};

struct Condition {
    Name column;
    Operand value;
};

struct Query {
    bool star = false;
    std::vector<Name> columns; // when !star
    Name table;
    std::vector<Condition> where;
    std::optional<Operand> limit;
    uint32_t placeholders = 0;
};

// Parses `sql`; throws DriverFailure(ILANA_ERR_SYNTAX) on anything else.
Query parse_query(std::string_view sql);

} // namespace csv
