// ddl.cpp — extension "ilana.ddl/1": a tenant file's schema is the SQL that
// sqlite_master keeps, run as written in the new file.
//
// Tables come first, referenced tables before the tables whose foreign keys
// name them (SQLite creates foreign keys with the table and, with
// foreign_keys on, checks them as rows are copied); then indexes, views and
// triggers in creation order (an object can only be created after what it
// reads, so sqlite_master's order is a dependency order); then the
// AUTOINCREMENT counters (sqlite_sequence) of the tables whose rows came.
// The statements name no schema: they run on the target file's connection.
#include "sqlite_driver.hpp"

#include <ilana/sdk/dependency_order.hpp>

#include <map>
#include <optional>
#include <set>

namespace ilana::drivers::sqlite {
namespace {

struct Statement {
    int64_t step;
    std::string kind, name;
    std::optional<std::string> table;
    std::string sql;
};

// Rows of a driver-written query, as text (NULL: nullopt).
std::vector<std::vector<std::optional<std::string>>> query(Connection &c, const std::string &sql) {
    sqlite3_stmt *st = nullptr;
    if (sqlite3_prepare_v2(c.db(), sql.c_str(), -1, &st, nullptr) != SQLITE_OK)
        throw DriverFailure(ILANA_ERR_INTERNAL, std::string("ddl: ") + sqlite3_errmsg(c.db()));
    std::vector<std::vector<std::optional<std::string>>> rows;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        std::vector<std::optional<std::string>> row;
        for (int i = 0; i < sqlite3_column_count(st); ++i) {
            const auto *text = sqlite3_column_text(st, i);
            row.push_back(text == nullptr ? std::nullopt
                                          : std::optional<std::string>(reinterpret_cast<const char *>(text)));
        }
        rows.push_back(std::move(row));
    }
    const std::string message = sqlite3_errmsg(c.db());
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE) throw DriverFailure(ILANA_ERR_INTERNAL, "ddl: " + message);
    return rows;
}

std::string literal(const std::string &s) {
    std::string out = "'";
    for (char ch : s) {
        if (ch == '\'') out += '\'';
        out += ch;
    }
    return out + "'";
}

std::vector<Statement> build(Connection &c) {
    const auto objects = query(c, "SELECT type, name, tbl_name, sql FROM main.sqlite_master "
                                  "WHERE sql IS NOT NULL AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' ORDER BY rowid");
    std::vector<std::string> tables;
    std::map<std::string, std::string> table_sql;
    std::map<std::string, std::set<std::string>> references;
    for (const auto &o : objects)
        if (*o[0] == "table") {
            tables.push_back(*o[1]);
            table_sql[*o[1]] = *o[3];
            for (const auto &fk : query(c, "SELECT DISTINCT \"table\" FROM pragma_foreign_key_list(" + literal(*o[1]) + ")"))
                if (fk[0]) references[*o[1]].insert(*fk[0]);
        }
    std::vector<std::string> ordered;
    try {
        ordered = sdk::dependency_order(tables, references);
    } catch (const std::runtime_error &e) {
        throw DriverFailure(ILANA_ERR_CONFIG, std::string("ddl: tables reference each other in a cycle (") + e.what() +
                                                  "): their rows cannot be copied with foreign keys on");
    }
    std::vector<Statement> out;
    for (const auto &t : ordered) out.push_back({ILANA_DDL_BEFORE_DATA, "table", t, t, table_sql[t]});
    for (const auto &o : objects)
        if (*o[0] != "table")
            out.push_back({ILANA_DDL_AFTER_DATA, *o[0], *o[1],
                           *o[0] == "view" ? std::nullopt : std::optional<std::string>(*o[2]), *o[3]});
    if (!query(c, "SELECT 1 FROM main.sqlite_master WHERE name = 'sqlite_sequence'").empty())
        for (const auto &s : query(c, "SELECT name, seq FROM main.sqlite_sequence ORDER BY name")) {
            if (!s[0] || !s[1]) continue;
            // The copied rows may have made the row already.
            const std::string name = literal(*s[0]);
            out.push_back({ILANA_DDL_DATA_STATE, "sequence_value", *s[0], *s[0],
                           "DELETE FROM sqlite_sequence WHERE name = " + name});
            out.push_back({ILANA_DDL_DATA_STATE, "sequence_value", *s[0], *s[0],
                           "INSERT INTO sqlite_sequence (name, seq) VALUES (" + name + ", " + *s[1] + ")"});
        }
    return out;
}

const std::vector<FixedColumn> kDdlColumns = {
    {"step", ILANA_TYPE_INT64, 0}, {"kind", ILANA_TYPE_TEXT, 0}, {"name", ILANA_TYPE_TEXT, 0},
    {"table_name", ILANA_TYPE_TEXT, 1}, {"sql", ILANA_TYPE_TEXT, 0},
};

} // namespace

std::unique_ptr<Result> Connection::clone_namespace(std::string_view /*source*/, std::string_view /*target*/) {
    require_open();
    // The rows go back as one result of this connection: a VALUES list of
    // literals (SQLite has no bound-array form without JSON1).
    std::string sql;
    for (const auto &s : build(*this)) {
        sql += sql.empty() ? "SELECT * FROM (VALUES " : ", ";
        sql += "(" + std::to_string(s.step) + ", " + literal(s.kind) + ", " + literal(s.name) + ", " +
               (s.table ? literal(*s.table) : std::string("NULL")) + ", " + literal(s.sql) + ")";
    }
    if (sql.empty()) sql = "SELECT 0, '', '', NULL, '' WHERE 0";
    else sql += ")";
    sdk::Statement st;
    st.sql = sql;
    return execute(st, &kDdlColumns);
}

} // namespace ilana::drivers::sqlite
