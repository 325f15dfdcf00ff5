// ilana/schema.hpp — what a database holds: tables, columns, indexes.
//
// One shape for every driver (the driver's "ilana.introspect/1" extension
// fills it), so code that compares schemas (tenant drift, doctor) never
// writes catalog SQL of its own. `schema` "" means the connection's current
// schema (PostgreSQL), database (MySQL) or "main" (SQLite).
#pragma once

#include <optional>
#include <string>
#include <vector>

namespace ilana {

struct TableInfo {
    std::string schema;
    std::string name;
    std::string kind; // "table" | "view"
};

struct ColumnInfo {
    std::string table;
    std::string name;
    int ordinal = 0;                          // 1-based position
    std::string data_type;                    // the server's spelling, lower-case
    bool nullable = true;
    std::optional<std::string> default_value; // as the server reports it
    bool primary_key = false;
};

struct IndexInfo {
    std::string table;
    std::string name;
    std::vector<std::string> columns; // in index order
    bool unique = false;
    bool primary = false;
};

} // namespace ilana
