// namespace.cpp — "ilana.namespace/1": one database per tenant.
//
// A tenant's pool selects its database through the "database" connection
// parameter. Databases are created with utf8mb4 so tenant data is UTF-8
// whatever the server's default character set.
#include "driver.hpp"
#include "statement.hpp"

#include <algorithm>
#include <cctype>

namespace ilana::drivers::mysql {
namespace {

std::string quoted_name(std::string_view name) {
    if (name.empty()) throw misuse("namespace: the name is empty");
    return quote_identifier(name);
}

// LIKE pattern matching names that start with `prefix` literally.
std::string like_prefix(const std::string &prefix) {
    std::string out;
    for (char ch : prefix) {
        if (ch == '%' || ch == '_' || ch == '\\') out += '\\';
        out += ch;
    }
    out += '%';
    return out;
}

void refuse_system(std::string_view name, const char *what) {
    if (MysqlDriver::is_system_namespace(name))
        throw ilana::sdk::DriverFailure(ILANA_ERR_CONFIG, std::string("namespace: refusing to ") + what +
                                                              " database `" + std::string(name) +
                                                              "`: it is a system database, never a tenant");
}

} // namespace

// The server's own databases (names compare case-insensitively:
// INFORMATION_SCHEMA is information_schema).
bool MysqlDriver::is_system_namespace(std::string_view ns) {
    std::string lower(ns);
    for (char &ch : lower) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    return lower == "mysql" || lower == "information_schema" || lower == "performance_schema" || lower == "sys";
}

void MysqlDriver::namespace_create(Connection *conn, std::string_view ns) {
    refuse_system(ns, "create");
    conn->simple_query("CREATE DATABASE IF NOT EXISTS " + quoted_name(ns) + " CHARACTER SET utf8mb4",
                       Phase::Session, "namespace.create");
}

void MysqlDriver::namespace_drop(Connection *conn, std::string_view ns) {
    refuse_system(ns, "drop"); // the SDK refuses them first; kept for a direct call
    conn->simple_query("DROP DATABASE IF EXISTS " + quoted_name(ns), Phase::Session, "namespace.drop");
}

std::unique_ptr<ilana::sdk::Result> Connection::namespace_list(std::optional<std::string_view> prefix) {
    const std::string p = prefix ? std::string(*prefix) : std::string();
    const std::string pattern = like_prefix(p);
    // LIKE narrows on the server (case-insensitively); the exact,
    // case-sensitive prefix test and the byte order are done here.
    auto rows = query_rows(*this, "SELECT SCHEMA_NAME FROM information_schema.SCHEMATA WHERE SCHEMA_NAME LIKE ?",
                           {text_value(pattern.c_str())});
    std::vector<std::string> names;
    for (auto &r : rows)
        if (!r[0].is_null && r[0].str.compare(0, p.size(), p) == 0) names.push_back(r[0].str);
    std::sort(names.begin(), names.end());
    std::vector<std::vector<OwnedCell>> result;
    for (auto &n : names) result.push_back({OwnedCell::text(std::move(n))});
    return std::make_unique<RowsResult>(std::vector<ColumnDef>{{"name", ILANA_TYPE_TEXT, "VARCHAR", 0}},
                                        std::move(result));
}

} // namespace ilana::drivers::mysql
