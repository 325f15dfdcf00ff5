// ddl.cpp — "ilana.ddl/1": the statements that recreate a database in
// another database, from SHOW CREATE TABLE / SHOW CREATE VIEW.
//
// MariaDB prints a table's own database unqualified and a view's tables
// qualified (`src`.`users`): every `source`.-qualified name is retargeted
// with a scan that skips string literals. Tables keep their columns, keys,
// indexes and checks (an AUTO_INCREMENT column must be a key when it is
// created); foreign keys move after the rows, so rows are copied in any
// order; AUTO_INCREMENT=N moves to a statement that follows the rows, so a
// schema-only clone starts at 1. Views follow in dependency order, without
// DEFINER (the clone's views are the cloning user's).
#include "connection.hpp"
#include "statement.hpp"

#include <ilana/sdk/dependency_order.hpp>

#include <cctype>
#include <map>
#include <set>

namespace ilana::drivers::mysql {
namespace {

const std::string &str(const OwnedCell &c) {
    static const std::string empty;
    return c.is_null ? empty : c.str;
}

// `sql` with every `source`. (a backquoted identifier followed by a dot)
// replaced by `target`.; string literals and comments are left as written.
std::string retarget(const std::string &sql, const std::string &source, const std::string &target) {
    const std::string from = quote_identifier(source) + ".", to = quote_identifier(target) + ".";
    std::string out;
    size_t i = 0;
    const size_t n = sql.size();
    while (i < n) {
        const char ch = sql[i];
        if (ch == '\'' || ch == '"') {
            size_t j = i + 1;
            while (j < n) {
                if (sql[j] == '\\') j += 2;
                else if (sql[j] == ch && j + 1 < n && sql[j + 1] == ch) j += 2;
                else if (sql[j] == ch) break;
                else ++j;
            }
            j = std::min(j + 1, n);
            out.append(sql, i, j - i);
            i = j;
        } else if (ch == '`') {
            if (sql.compare(i, from.size(), from) == 0) {
                out += to;
                i += from.size();
                continue;
            }
            size_t j = i + 1;
            while (j < n) {
                if (sql[j] == '`' && j + 1 < n && sql[j + 1] == '`') j += 2;
                else if (sql[j] == '`') break;
                else ++j;
            }
            j = std::min(j + 1, n);
            out.append(sql, i, j - i);
            i = j;
        } else {
            out += ch;
            ++i;
        }
    }
    return out;
}

struct Statement {
    int step;
    std::string kind, name;
    std::optional<std::string> table;
    std::string sql;
};

// After `CONSTRAINT `name` `: whether the constraint is a foreign key.
bool is_foreign_key_line(const std::string &line) {
    if (line.compare(0, 12, "CONSTRAINT `") != 0) return false;
    size_t j = 12;
    while (j < line.size()) {
        if (line[j] == '`' && j + 1 < line.size() && line[j + 1] == '`') j += 2;
        else if (line[j] == '`') break;
        else ++j;
    }
    return line.compare(j + 1, 13, " FOREIGN KEY ") == 0;
}

std::string trimmed(std::string s) {
    size_t a = 0;
    while (a < s.size() && s[a] == ' ') ++a;
    s.erase(0, a);
    while (!s.empty() && (s.back() == ',' || s.back() == ' ' || s.back() == '\r')) s.pop_back();
    return s;
}

void add_table(Connection &c, const std::string &source, const std::string &target, const std::string &table,
               std::vector<Statement> &before, std::vector<Statement> &foreign_keys, std::vector<Statement> &counters) {
    auto rows = query_rows(c, "SHOW CREATE TABLE " + quote_identifier(source) + "." + quote_identifier(table), {}, false);
    if (rows.size() != 1 || rows[0].size() < 2)
        throw ilana::sdk::DriverFailure(ILANA_ERR_INTERNAL, "ddl: SHOW CREATE TABLE " + table + " returned no definition");
    const std::string text = str(rows[0][1]);
    std::vector<std::string> lines;
    for (size_t at = 0; at <= text.size();) {
        const size_t nl = text.find('\n', at);
        lines.push_back(text.substr(at, nl == std::string::npos ? std::string::npos : nl - at));
        if (nl == std::string::npos) break;
        at = nl + 1;
    }
    const std::string head = "CREATE TABLE " + quote_identifier(table) + " (";
    size_t close = 1;
    while (close < lines.size() && (lines[close].empty() || lines[close][0] != ')')) ++close;
    if (lines.empty() || lines[0] != head || close >= lines.size())
        throw ilana::sdk::DriverFailure(ILANA_ERR_INTERNAL, "ddl: unexpected SHOW CREATE TABLE output for " + table);
    const std::string name = quote_identifier(target) + "." + quote_identifier(table);
    std::vector<std::string> defs;
    for (size_t i = 1; i < close; ++i) {
        const std::string def = trimmed(lines[i]);
        if (is_foreign_key_line(def)) {
            const size_t end = def.find('`', 12);
            foreign_keys.push_back({ILANA_DDL_AFTER_DATA, "foreign_key", def.substr(12, end - 12), table,
                                    retarget("ALTER TABLE " + name + " ADD " + def, source, target)});
        } else {
            defs.push_back(def);
        }
    }
    // Table options: AUTO_INCREMENT=N is the source's counter.
    std::string options = lines[close].substr(1);
    const std::string key = " AUTO_INCREMENT=";
    if (size_t at = options.find(key); at != std::string::npos) {
        size_t end = at + key.size();
        while (end < options.size() && std::isdigit(static_cast<unsigned char>(options[end]))) ++end;
        const std::string value = options.substr(at + key.size(), end - at - key.size());
        options.erase(at, end - at);
        counters.push_back({ILANA_DDL_DATA_STATE, "auto_increment", table, table,
                            "ALTER TABLE " + name + " AUTO_INCREMENT = " + value});
    }
    std::string sql = "CREATE TABLE " + name + " (\n  ";
    for (size_t i = 0; i < defs.size(); ++i) sql += (i ? ",\n  " : "") + defs[i];
    sql += "\n)" + options;
    for (size_t i = close + 1; i < lines.size(); ++i) sql += "\n" + lines[i];
    before.push_back({ILANA_DDL_BEFORE_DATA, "table", table, table, retarget(sql, source, target)});
}

// SHOW CREATE VIEW's text without DEFINER=`u`@`h`, named in `target`.
std::string view_sql(const std::string &text, const std::string &source, const std::string &target,
                     const std::string &view) {
    std::string s = text;
    if (size_t at = s.find("DEFINER="); at != std::string::npos) {
        size_t j = at + 8;
        for (int part = 0; part < 2 && j < s.size(); ++part) {
            if (s[j] == '`') {
                ++j;
                while (j < s.size() && !(s[j] == '`' && (j + 1 >= s.size() || s[j + 1] != '`'))) j += s[j] == '`' ? 2 : 1;
                ++j;
            } else {
                while (j < s.size() && s[j] != '@' && s[j] != ' ') ++j;
            }
            if (part == 0 && j < s.size() && s[j] == '@') ++j;
        }
        while (j < s.size() && s[j] == ' ') ++j;
        s.erase(at, j - at);
    }
    const std::string plain = " VIEW " + quote_identifier(view) + " AS ", qualified = " VIEW " + quote_identifier(source) + "." + quote_identifier(view) + " AS ";
    const size_t at = s.find(plain);
    if (at != std::string::npos) s.replace(at, plain.size(), " VIEW " + quote_identifier(target) + "." + quote_identifier(view) + " AS ");
    else if (s.find(qualified) == std::string::npos)
        throw ilana::sdk::DriverFailure(ILANA_ERR_INTERNAL, "ddl: unexpected SHOW CREATE VIEW output for " + view);
    return retarget(s, source, target);
}

std::vector<Statement> build(Connection &c, const std::string &source, const std::string &target) {
    const ilana_value schema = text_value(source.c_str());
    auto objects = query_rows(c,
                              "SELECT TABLE_NAME, TABLE_TYPE FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? "
                              "AND CAST(TABLE_SCHEMA AS BINARY) = CAST(? AS BINARY)",
                              {schema, schema}, false);
    // What a clone would need and this driver does not recreate.
    std::string unsupported;
    for (auto &r : objects)
        if (str(r[1]) != "BASE TABLE" && str(r[1]) != "VIEW")
            unsupported += (unsupported.empty() ? "" : ", ") + str(r[1]) + " " + str(r[0]);
    for (auto &r : query_rows(c,
                              "SELECT 'trigger', TRIGGER_NAME FROM information_schema.TRIGGERS WHERE TRIGGER_SCHEMA = ? "
                              "UNION ALL SELECT ROUTINE_TYPE, ROUTINE_NAME FROM information_schema.ROUTINES "
                              "WHERE ROUTINE_SCHEMA = ?",
                              {schema, schema}, false))
        unsupported += (unsupported.empty() ? "" : ", ") + str(r[0]) + " " + str(r[1]);
    if (!unsupported.empty())
        throw ilana::sdk::DriverFailure(ILANA_ERR_CONFIG, "database " + source + " has objects a clone does not carry (" +
                                                              unsupported + "); create them in the target by a migration");

    std::vector<std::string> tables, views;
    for (auto &r : objects) (str(r[1]) == "VIEW" ? views : tables).push_back(str(r[0]));
    std::sort(tables.begin(), tables.end());
    std::sort(views.begin(), views.end());
    std::vector<Statement> before, foreign_keys, counters, out;
    for (const auto &t : tables) add_table(c, source, target, t, before, foreign_keys, counters);

    std::map<std::string, std::string> view_text;
    std::map<std::string, std::set<std::string>> depends_on;
    for (const auto &v : views) {
        auto rows = query_rows(c, "SHOW CREATE VIEW " + quote_identifier(source) + "." + quote_identifier(v), {}, false);
        if (rows.size() != 1 || rows[0].size() < 2)
            throw ilana::sdk::DriverFailure(ILANA_ERR_INTERNAL, "ddl: SHOW CREATE VIEW " + v + " returned no definition");
        view_text[v] = str(rows[0][1]);
        // Tables of the current database print unqualified, others as
        // `db`.`name`: a view that names another view (qualified, or as a
        // table or column qualifier) depends on it. Over-approximating is
        // harmless but for a false cycle, which is reported.
        for (const auto &w : views)
            if (w != v && view_text[v].find(quote_identifier(w)) != std::string::npos) depends_on[v].insert(w);
    }
    std::vector<std::string> ordered;
    try {
        ordered = ilana::sdk::dependency_order(views, depends_on);
    } catch (const std::runtime_error &e) {
        throw ilana::sdk::DriverFailure(ILANA_ERR_CONFIG, "ddl: views of database " + source + ": " + e.what());
    }
    for (auto &s : before) out.push_back(std::move(s));
    for (auto &s : foreign_keys) out.push_back(std::move(s));
    for (const auto &v : ordered)
        out.push_back({ILANA_DDL_AFTER_DATA, "view", v, std::nullopt, view_sql(view_text[v], source, target, v)});
    for (auto &s : counters) out.push_back(std::move(s));
    return out;
}

} // namespace

std::unique_ptr<ilana::sdk::Result> Connection::clone_namespace(std::string_view source, std::string_view target) {
    if (source.empty() || target.empty()) throw misuse("ddl: a database name is empty");
    std::vector<std::vector<OwnedCell>> rows;
    for (auto &s : build(*this, std::string(source), std::string(target)))
        rows.push_back({OwnedCell::integer(ILANA_TYPE_INT64, s.step), OwnedCell::text(std::move(s.kind)),
                        OwnedCell::text(std::move(s.name)),
                        s.table ? OwnedCell::text(std::move(*s.table)) : OwnedCell::null(ILANA_TYPE_TEXT),
                        OwnedCell::text(std::move(s.sql))});
    return std::make_unique<RowsResult>(std::vector<ColumnDef>{{"step", ILANA_TYPE_INT64, "BIGINT", 0},
                                                               {"kind", ILANA_TYPE_TEXT, "VARCHAR", 0},
                                                               {"name", ILANA_TYPE_TEXT, "VARCHAR", 0},
                                                               {"table_name", ILANA_TYPE_TEXT, "VARCHAR", 1},
                                                               {"sql", ILANA_TYPE_TEXT, "TEXT", 0}},
                                        std::move(rows));
}

} // namespace ilana::drivers::mysql
