// csv_tables.hpp — which files are tables, and what their columns are.
//
// A table is a regular file NAME.csv directly in the connection's directory.
// Its first record is the header (the column names). Column types are
// inferred from the whole file, once per version of it (path, size,
// modification time), in a cache shared by all connections:
//   INT64   every non-NULL field is a plain integer ("-12", not "+12",
//           not "007": leading zeros keep a value TEXT, zip codes stay text)
//   DOUBLE  every non-NULL field is a decimal number and one is not an
//           integer ("1.5", "-2e-3"; no "inf"/"nan", no "+", no leading zero)
//   TEXT    anything else, and columns with no value at all
// NULL is an unquoted empty field; "" (quoted empty) is an empty TEXT and
// makes the column TEXT.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <ilana/driver.h>

namespace csv {

struct Column {
    std::string name;
    ilana_type type = ILANA_TYPE_TEXT;
    bool has_null = false;
};

struct Table {
    std::string name;  // file stem
    std::string path;  // directory + "/" + name + ".csv"
    std::vector<Column> columns;
    int64_t size = 0;
    int64_t mtime_ns = 0;

    // Index of a column: exact name, else a unique case-insensitive match
    // (unless `exact_only`, for quoted identifiers); nullopt when none.
    std::optional<size_t> find(const std::string &column, bool exact_only) const;
    std::string column_list() const; // "id, name, score" for messages
};

// The type name the driver reports: "integer", "double", "text".
const char *native_type_name(ilana_type t);

// The tables of one directory.
class Catalog {
public:
    Catalog(std::string directory, char delimiter, bool infer_types);

    const std::string &directory() const noexcept { return directory_; }
    // Every table name, sorted.
    std::vector<std::string> table_names() const;
    // The table `name` refers to, schema loaded; nullptr when no such file.
    // Unquoted names also match a file whose stem differs only in case, when
    // exactly one does. A name that is not a plain file name (contains '/',
    // starts with '.') is ILANA_ERR_SYNTAX.
    std::shared_ptr<const Table> find(const std::string &name, bool exact_only) const;
    // ILANA_ERR_SYNTAX (42P01) naming the tables there are.
    [[noreturn]] void no_such_table(const std::string &name) const;

    char delimiter() const noexcept { return delimiter_; }

private:
    std::shared_ptr<const Table> load(const std::string &stem) const;

    std::string directory_;
    char delimiter_;
    bool infer_types_;
};

} // namespace csv
