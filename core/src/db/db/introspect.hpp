// The driver's catalog as the C++ API's types (Session::tables, columns,
// indexes).
#pragma once

#include <ilana/schema.hpp>

#include "plugins/native_connection.hpp"

#include <string>
#include <vector>

namespace ilana::detail {

std::vector<TableInfo> list_tables(NativeConnection &conn, const std::string &schema);
std::vector<ColumnInfo> list_columns(NativeConnection &conn, const std::string &table, const std::string &schema);
std::vector<IndexInfo> list_indexes(NativeConnection &conn, const std::string &table, const std::string &schema);

} // namespace ilana::detail
