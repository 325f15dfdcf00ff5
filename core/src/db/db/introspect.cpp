// Session::tables/columns/indexes (declared in db/db/database.cpp): the
// rows of the driver's catalog (NativeConnection::introspect) as
// TableInfo, ColumnInfo, IndexInfo.
#include "db/introspect.hpp"

#include <optional>

namespace ilana::detail {

std::vector<TableInfo> list_tables(NativeConnection &conn, const std::string &schema) {
    Result r = conn.introspect(NativeConnection::Catalog::tables, schema, "");
    std::vector<TableInfo> v;
    for (Row row : r)
        v.push_back({row["schema"].as<std::optional<std::string>>().value_or(""), row["name"].as<std::string>(),
                     row["kind"].as<std::string>()});
    return v;
}

std::vector<ColumnInfo> list_columns(NativeConnection &conn, const std::string &table, const std::string &schema) {
    Result r = conn.introspect(NativeConnection::Catalog::columns, schema, table);
    std::vector<ColumnInfo> v;
    for (Row row : r) {
        ColumnInfo c;
        c.table = row["table_name"].as<std::string>();
        c.name = row["name"].as<std::string>();
        c.ordinal = row["ordinal"].as<int>();
        c.data_type = row["data_type"].as<std::string>();
        c.nullable = row["nullable"].as<bool>();
        c.default_value = row["default_value"].as<std::optional<std::string>>();
        c.primary_key = row["primary_key"].as<bool>();
        v.push_back(std::move(c));
    }
    return v;
}

std::vector<IndexInfo> list_indexes(NativeConnection &conn, const std::string &table, const std::string &schema) {
    Result r = conn.introspect(NativeConnection::Catalog::indexes, schema, table);
    std::vector<IndexInfo> v;
    for (Row row : r) {
        IndexInfo ix;
        ix.table = row["table_name"].as<std::string>();
        ix.name = row["name"].as<std::string>();
        std::string cols = row["columns"].as<std::string>();
        size_t start = 0;
        while (start <= cols.size()) {
            size_t comma = cols.find(',', start);
            std::string part = cols.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
            if (!part.empty()) ix.columns.push_back(part);
            if (comma == std::string::npos) break;
            start = comma + 1;
        }
        ix.unique = row["is_unique"].as<bool>();
        ix.primary = row["is_primary"].as<bool>();
        v.push_back(std::move(ix));
    }
    return v;
}

} // namespace ilana::detail
