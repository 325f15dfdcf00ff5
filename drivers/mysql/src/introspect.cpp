// introspect.cpp — "ilana.introspect/1": tables, columns, indexes from
// information_schema.
//
// Rows are read whole (schemas are small) and reshaped in C++ into the ABI's
// fixed columns, so names, types and order are exactly the ABI's whatever
// the server's information_schema types are (ORDINAL_POSITION is BIGINT
// UNSIGNED, IS_NULLABLE is 'YES'/'NO', ...). Filters are constant equalities
// so MariaDB opens only the tables asked for; names also compare as bytes,
// since information_schema compares case-insensitively and two tables may
// differ only in case on Linux.
#include "connection.hpp"
#include "statement.hpp"

#include <algorithm>
#include <cctype>
#include <map>
#include <set>

namespace ilana::drivers::mysql {
namespace {

struct Filter {
    std::string sql;                 // the WHERE condition
    std::vector<ilana_value> params; // for the placeholders in sql
};

// WHERE condition for schema (NULL: the current database) and table (NULL:
// all). The plain equality lets the server open only what is asked for; the
// binary one makes the match exact.
// A TEXT parameter borrowing `s` for the statement.
ilana_value text_of(std::string_view s) {
    ilana_value v{};
    v.type = ILANA_TYPE_TEXT;
    v.v.str.ptr = s.data();
    v.v.str.len = s.size();
    return v;
}

Filter make_filter(std::optional<std::string_view> schema, std::optional<std::string_view> table) {
    Filter f;
    if (schema) {
        f.sql += "TABLE_SCHEMA = ? AND CAST(TABLE_SCHEMA AS BINARY) = CAST(? AS BINARY)";
        f.params.push_back(text_of(*schema));
        f.params.push_back(text_of(*schema));
    } else {
        f.sql += "TABLE_SCHEMA = DATABASE()";
    }
    if (table) {
        f.sql += " AND TABLE_NAME = ? AND CAST(TABLE_NAME AS BINARY) = CAST(? AS BINARY)";
        f.params.push_back(text_of(*table));
        f.params.push_back(text_of(*table));
    }
    return f;
}

const std::string &str(const OwnedCell &c) {
    static const std::string empty;
    return c.is_null ? empty : c.str;
}

// Lower-case the type's spelling but not quoted literals: enum('A','b')
// keeps its values.
std::string lower_type(const std::string &s) {
    std::string out = s;
    bool quoted = false;
    for (char &ch : out) {
        if (ch == '\'') quoted = !quoted;
        else if (!quoted) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    }
    return out;
}

// MariaDB (10.2.7+) shows COLUMN_DEFAULT as SQL: 'abc' for strings (quotes
// doubled, \0 \n \r \Z \\ escaped), NULL as the word NULL, expressions as
// written (current_timestamp()). MySQL shows the bare value and a real NULL.
// Normalised to MySQL's form: the value, or a real NULL for "no default".
OwnedCell normalise_default(const OwnedCell &d, bool mariadb) {
    if (d.is_null) return OwnedCell::null(ILANA_TYPE_TEXT);
    if (!mariadb) return OwnedCell::text(d.str);
    const std::string &s = d.str;
    if (s == "NULL") return OwnedCell::null(ILANA_TYPE_TEXT);
    if (s.size() < 2 || s.front() != '\'' || s.back() != '\'') return OwnedCell::text(s);
    std::string out;
    for (size_t i = 1; i + 1 < s.size(); ++i) {
        char ch = s[i];
        if (ch == '\'' && i + 2 < s.size() && s[i + 1] == '\'') {
            out += '\'';
            ++i;
        } else if (ch == '\\' && i + 2 < s.size()) {
            char e = s[++i];
            switch (e) {
            case '0': out += '\0'; break;
            case 'n': out += '\n'; break;
            case 'r': out += '\r'; break;
            case 't': out += '\t'; break;
            case 'Z': out += '\x1a'; break;
            default: out += e; break;
            }
        } else {
            out += ch;
        }
    }
    return OwnedCell::text(std::move(out));
}

OwnedCell boolean(bool b) { return OwnedCell::integer(ILANA_TYPE_BOOL, b ? 1 : 0); }

} // namespace

std::unique_ptr<ilana::sdk::Result> Connection::tables(std::optional<std::string_view> schema) {
    Connection &c = *this;
    Filter f = make_filter(schema, std::nullopt);
    auto rows = query_rows(c, "SELECT TABLE_SCHEMA, TABLE_NAME, TABLE_TYPE FROM information_schema.TABLES WHERE " + f.sql, f.params);
    std::sort(rows.begin(), rows.end(), [](const auto &a, const auto &b) { return str(a[1]) < str(b[1]); });
    std::vector<std::vector<OwnedCell>> result;
    for (auto &r : rows) {
        const std::string &type = str(r[2]);
        const bool view = type == "VIEW" || type == "SYSTEM VIEW";
        result.push_back({OwnedCell::text(str(r[0])), OwnedCell::text(str(r[1])),
                          OwnedCell::text(view ? "view" : "table")});
    }
    return std::make_unique<RowsResult>(
        std::vector<ColumnDef>{{"schema", ILANA_TYPE_TEXT, "VARCHAR", 0},
                               {"name", ILANA_TYPE_TEXT, "VARCHAR", 0},
                               {"kind", ILANA_TYPE_TEXT, "VARCHAR", 0}},
        std::move(result));
}

std::unique_ptr<ilana::sdk::Result> Connection::columns(std::optional<std::string_view> schema,
                                                        std::optional<std::string_view> table) {
    Connection &c = *this;
    Filter f = make_filter(schema, table);
    auto cols = query_rows(c,
                    "SELECT TABLE_NAME, COLUMN_NAME, ORDINAL_POSITION, COLUMN_TYPE, IS_NULLABLE, "
                    "COLUMN_DEFAULT FROM information_schema.COLUMNS WHERE " + f.sql, f.params);
    // Primary key membership from the PRIMARY index itself: COLUMN_KEY
    // says 'PRI' also for a UNIQUE NOT NULL key of a table without one.
    auto pk_rows = query_rows(c,
                       "SELECT TABLE_NAME, COLUMN_NAME FROM information_schema.STATISTICS WHERE " +
                           f.sql + " AND INDEX_NAME = 'PRIMARY'", f.params);
    std::set<std::pair<std::string, std::string>> pk;
    for (auto &r : pk_rows) pk.emplace(str(r[0]), str(r[1]));
    std::sort(cols.begin(), cols.end(), [](const auto &a, const auto &b) {
        if (str(a[0]) != str(b[0])) return str(a[0]) < str(b[0]);
        return a[2].i64 < b[2].i64;
    });
    std::vector<std::vector<OwnedCell>> result;
    for (auto &r : cols) {
        result.push_back({OwnedCell::text(str(r[0])), OwnedCell::text(str(r[1])),
                          OwnedCell::integer(ILANA_TYPE_INT64, r[2].i64),
                          OwnedCell::text(lower_type(str(r[3]))), boolean(str(r[4]) == "YES"),
                          normalise_default(r[5], c.is_mariadb()),
                          boolean(pk.count({str(r[0]), str(r[1])}) != 0)});
    }
    return std::make_unique<RowsResult>(
        std::vector<ColumnDef>{{"table_name", ILANA_TYPE_TEXT, "VARCHAR", 0},
                               {"name", ILANA_TYPE_TEXT, "VARCHAR", 0},
                               {"ordinal", ILANA_TYPE_INT64, "BIGINT", 0},
                               {"data_type", ILANA_TYPE_TEXT, "TEXT", 0},
                               {"nullable", ILANA_TYPE_BOOL, "BOOL", 0},
                               {"default_value", ILANA_TYPE_TEXT, "TEXT", 1},
                               {"primary_key", ILANA_TYPE_BOOL, "BOOL", 0}},
        std::move(result));
}

std::unique_ptr<ilana::sdk::Result> Connection::indexes(std::optional<std::string_view> schema,
                                                        std::optional<std::string_view> table) {
    Connection &c = *this;
    Filter f = make_filter(schema, table);
    auto rows = query_rows(c,
                    "SELECT TABLE_NAME, INDEX_NAME, SEQ_IN_INDEX, COLUMN_NAME, NON_UNIQUE "
                    "FROM information_schema.STATISTICS WHERE " + f.sql, f.params);
    struct Index {
        std::map<int64_t, std::string> columns; // by SEQ_IN_INDEX
        bool unique = false;
    };
    std::map<std::pair<std::string, std::string>, Index> grouped; // byte order
    for (auto &r : rows) {
        Index &ix = grouped[{str(r[0]), str(r[1])}];
        // COLUMN_NAME is NULL for MySQL 8 functional key parts.
        ix.columns[r[2].i64] = r[3].is_null ? "(expression)" : str(r[3]);
        ix.unique = r[4].i64 == 0;
    }
    std::vector<std::vector<OwnedCell>> result;
    for (auto &[key, ix] : grouped) {
        std::string cols;
        for (auto &[seq, name] : ix.columns) {
            if (!cols.empty()) cols += ',';
            cols += name;
        }
        result.push_back({OwnedCell::text(key.first), OwnedCell::text(key.second),
                          OwnedCell::text(cols), boolean(ix.unique), boolean(key.second == "PRIMARY")});
    }
    return std::make_unique<RowsResult>(
        std::vector<ColumnDef>{{"table_name", ILANA_TYPE_TEXT, "VARCHAR", 0},
                               {"name", ILANA_TYPE_TEXT, "VARCHAR", 0},
                               {"columns", ILANA_TYPE_TEXT, "TEXT", 0},
                               {"is_unique", ILANA_TYPE_BOOL, "BOOL", 0},
                               {"is_primary", ILANA_TYPE_BOOL, "BOOL", 0}},
        std::move(result));
}

} // namespace ilana::drivers::mysql
