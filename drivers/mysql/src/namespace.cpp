// namespace.cpp — "ilana.namespace/1": one database per tenant.
//
// A tenant's pool selects its database through the "database" connection
// parameter. Databases are created with utf8mb4 so tenant data is UTF-8
// whatever the server's default character set.
#include "entry_support.hpp"
#include "extensions.hpp"
#include "statement.hpp"

#include <algorithm>
#include <cctype>

namespace ilana::drivers::mysql {
namespace {

std::string quoted_name(const char *name) {
    if (name == nullptr || *name == '\0') throw misuse("namespace: the name is empty");
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

// The server's own databases (names compare case-insensitively:
// INFORMATION_SCHEMA is information_schema).
int32_t is_system(const char *name) {
    if (name == nullptr) return 0;
    std::string lower(name);
    for (char &ch : lower) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    return lower == "mysql" || lower == "information_schema" || lower == "performance_schema" || lower == "sys";
}

void refuse_system(const char *name, const char *what) {
    if (is_system(name) != 0)
        throw ilana::sdk::DriverFailure(ILANA_ERR_CONFIG, std::string("namespace: refusing to ") + what +
                                                              " database `" + name +
                                                              "`: it is a system database, never a tenant");
}

ilana_status create(ilana_conn *conn, const char *name, ilana_error *err) {
    return ilana::sdk::guarded(err, [&] {
        refuse_system(name, "create");
        Connection &c = conn_of(conn);
        c.simple_query("CREATE DATABASE IF NOT EXISTS " + quoted_name(name) + " CHARACTER SET utf8mb4",
                       Phase::Session, "namespace.create");
        return ILANA_OK;
    });
}

ilana_status drop(ilana_conn *conn, const char *name, ilana_error *err) {
    return ilana::sdk::guarded(err, [&] {
        refuse_system(name, "drop");
        Connection &c = conn_of(conn);
        c.simple_query("DROP DATABASE IF EXISTS " + quoted_name(name), Phase::Session, "namespace.drop");
        return ILANA_OK;
    });
}

ilana_status list(ilana_conn *conn, const char *prefix, ilana_result **out, ilana_error *err) {
    if (out != nullptr) *out = nullptr;
    return ilana::sdk::guarded(err, [&] {
        Connection &c = conn_of(conn);
        if (out == nullptr) throw misuse("namespace.list: out is NULL");
        const std::string p = prefix != nullptr ? prefix : "";
        const std::string pattern = like_prefix(p);
        // LIKE narrows on the server (case-insensitively); the exact,
        // case-sensitive prefix test and the byte order are done here.
        auto rows = query_rows(c, "SELECT SCHEMA_NAME FROM information_schema.SCHEMATA WHERE SCHEMA_NAME LIKE ?",
                               {text_value(pattern.c_str())});
        std::vector<std::string> names;
        for (auto &r : rows)
            if (!r[0].is_null && r[0].str.compare(0, p.size(), p) == 0) names.push_back(r[0].str);
        std::sort(names.begin(), names.end());
        std::vector<std::vector<OwnedCell>> result;
        for (auto &n : names) result.push_back({OwnedCell::text(std::move(n))});
        return hand_out(std::make_unique<RowsResult>(
                            std::vector<ColumnDef>{{"name", ILANA_TYPE_TEXT, "VARCHAR", 0}}, std::move(result)),
                        out);
    });
}

} // namespace

const ilana_namespace_api kNamespaceApi = {sizeof(ilana_namespace_api), ILANA_NAMESPACE_DATABASE,
                                           "database", create, drop, list, is_system};

} // namespace ilana::drivers::mysql
