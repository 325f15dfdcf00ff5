// ddl.cpp — "ilana.ddl/1": the statements that recreate a schema in another
// schema, from pg_catalog.
//
// The catalog is read with search_path set to the source schema alone, so
// pg_get_expr / pg_get_constraintdef / pg_get_viewdef print the source's
// objects unqualified (nextval('users_id_seq'::regclass), REFERENCES
// users(id)) and everything else qualified: run on a connection of the
// target schema, the unqualified names resolve there. Statements written
// here name the target schema explicitly. pg_get_indexdef and
// pg_get_triggerdef always qualify their table: that one name is retargeted.
//
// Order: sequences (not identity ones), tables with columns, defaults,
// identity (BY DEFAULT, so the copied ids go in) — the rows — keys, unique,
// exclusion and check constraints, indexes, foreign keys, OWNED BY,
// GENERATED ALWAYS, views and materialized views in dependency order, their
// indexes, triggers — the sequences' current values (setval).
#include "connection.hpp"
#include "result.hpp"
#include "statement.hpp"

#include <ilana/sdk/dependency_order.hpp>
#include <ilana/sdk/driver_support.hpp>

#include <cstdio>
#include <cstring>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace ilana::drivers::postgres {
namespace {

using ilana::sdk::DriverFailure;

std::string escaped(Connection &c, const std::string &s, bool identifier) {
    char *q = identifier ? PQescapeIdentifier(c.pg(), s.c_str(), s.size()) : PQescapeLiteral(c.pg(), s.c_str(), s.size());
    if (q == nullptr) throw DriverFailure(ILANA_ERR_DATA, "ddl: the name " + s + " is not valid for this connection");
    std::string out(q);
    PQfreemem(q);
    return out;
}

struct Rows {
    PgResultPtr res;
    int count() const { return PQntuples(res.get()); }
    bool null(int r, int c) const { return PQgetisnull(res.get(), r, c) != 0; }
    std::string at(int r, int c) const { return PQgetvalue(res.get(), r, c); }
    std::optional<std::string> opt(int r, int c) const {
        return null(r, c) ? std::nullopt : std::optional<std::string>(at(r, c));
    }
};

struct Statement {
    int step;
    std::string kind, name;
    std::optional<std::string> table;
    std::string sql;
};

// `{schema}` in the catalog queries below is the source schema as a literal.
std::string with_schema(const char *sql, const std::string &schema_literal) {
    std::string out(sql);
    for (size_t at; (at = out.find("{schema}")) != std::string::npos;) out.replace(at, 8, schema_literal);
    return out;
}

// Objects a clone would need and this driver does not recreate: an error
// naming them, never a clone without them.
constexpr const char *kUnsupportedSql = R"SQL(
SELECT 'function' AS kind, p.proname::text AS name FROM pg_catalog.pg_proc p
 JOIN pg_catalog.pg_namespace n ON n.oid = p.pronamespace WHERE n.nspname = {schema}
UNION ALL
SELECT 'type', t.typname::text FROM pg_catalog.pg_type t
 JOIN pg_catalog.pg_namespace n ON n.oid = t.typnamespace WHERE n.nspname = {schema}
  AND (t.typtype IN ('e', 'd', 'r') OR (t.typtype = 'c' AND EXISTS (
       SELECT 1 FROM pg_catalog.pg_class c WHERE c.oid = t.typrelid AND c.relkind = 'c')))
UNION ALL
SELECT CASE c.relkind WHEN 'p' THEN 'partitioned table' WHEN 'f' THEN 'foreign table' ELSE 'partition' END,
       c.relname::text FROM pg_catalog.pg_class c
 JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = {schema}
  AND (c.relkind IN ('p', 'f') OR c.relispartition)
UNION ALL
SELECT 'inheriting table', c.relname::text FROM pg_catalog.pg_class c
 JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
 JOIN pg_catalog.pg_inherits i ON i.inhrelid = c.oid WHERE n.nspname = {schema} AND NOT c.relispartition
ORDER BY 1, 2)SQL";

// Every sequence; owner_* is the column that owns it (serial: deptype 'a',
// identity: 'i') when that column is in the same schema.
constexpr const char *kSequencesSql = R"SQL(
SELECT c.relname::text, pg_catalog.format_type(s.seqtypid, NULL), s.seqstart::text, s.seqincrement::text,
       s.seqmax::text, s.seqmin::text, s.seqcache::text, s.seqcycle,
       ps.last_value::text, t.relname::text, a.attname::text, d.deptype::text
FROM pg_catalog.pg_class c
JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
JOIN pg_catalog.pg_sequence s ON s.seqrelid = c.oid
LEFT JOIN pg_catalog.pg_sequences ps ON ps.schemaname = n.nspname AND ps.sequencename = c.relname
LEFT JOIN pg_catalog.pg_depend d ON d.classid = 'pg_catalog.pg_class'::pg_catalog.regclass AND d.objid = c.oid
     AND d.refclassid = 'pg_catalog.pg_class'::pg_catalog.regclass AND d.deptype IN ('a', 'i')
LEFT JOIN pg_catalog.pg_class t ON t.oid = d.refobjid AND t.relnamespace = n.oid
LEFT JOIN pg_catalog.pg_attribute a ON a.attrelid = t.oid AND a.attnum = d.refobjsubid
WHERE n.nspname = {schema} AND c.relkind = 'S'
ORDER BY c.relname)SQL";

// Plain tables and their live columns (a table without columns has one row
// with a NULL column name).
constexpr const char *kColumnsSql = R"SQL(
SELECT c.relname::text, c.relpersistence::text, a.attname::text,
       pg_catalog.format_type(a.atttypid, a.atttypmod), a.attnotnull,
       pg_catalog.pg_get_expr(ad.adbin, ad.adrelid), a.attidentity::text, a.attgenerated::text,
       CASE WHEN a.attcollation <> 0 AND a.attcollation <> ty.typcollation THEN
            (SELECT pg_catalog.quote_ident(cn.nspname) || '.' || pg_catalog.quote_ident(co.collname)
             FROM pg_catalog.pg_collation co JOIN pg_catalog.pg_namespace cn ON cn.oid = co.collnamespace
             WHERE co.oid = a.attcollation) END
FROM pg_catalog.pg_class c
JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
LEFT JOIN pg_catalog.pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
LEFT JOIN pg_catalog.pg_type ty ON ty.oid = a.atttypid
LEFT JOIN pg_catalog.pg_attrdef ad ON ad.adrelid = c.oid AND ad.adnum = a.attnum
WHERE n.nspname = {schema} AND c.relkind = 'r' AND NOT c.relispartition
ORDER BY c.relname, a.attnum)SQL";

// Keys first (foreign keys need the referenced key), foreign keys last.
constexpr const char *kConstraintsSql = R"SQL(
SELECT t.relname::text, co.conname::text, co.contype::text, pg_catalog.pg_get_constraintdef(co.oid)
FROM pg_catalog.pg_constraint co
JOIN pg_catalog.pg_class t ON t.oid = co.conrelid
JOIN pg_catalog.pg_namespace n ON n.oid = t.relnamespace
WHERE n.nspname = {schema} AND t.relkind = 'r' AND co.contype IN ('p', 'u', 'x', 'c', 'f')
ORDER BY CASE co.contype WHEN 'p' THEN 0 WHEN 'u' THEN 1 WHEN 'x' THEN 2 WHEN 'c' THEN 3 ELSE 4 END,
         t.relname, co.conname)SQL";

// Indexes that no constraint made, of tables and materialized views.
constexpr const char *kIndexesSql = R"SQL(
SELECT t.relname::text, i.relname::text, pg_catalog.pg_get_indexdef(x.indexrelid), t.relkind::text,
       pg_catalog.quote_ident(n.nspname) || '.' || pg_catalog.quote_ident(t.relname)
FROM pg_catalog.pg_index x
JOIN pg_catalog.pg_class i ON i.oid = x.indexrelid
JOIN pg_catalog.pg_class t ON t.oid = x.indrelid
JOIN pg_catalog.pg_namespace n ON n.oid = t.relnamespace
WHERE n.nspname = {schema} AND t.relkind IN ('r', 'm')
  AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_constraint co
                  WHERE co.conindid = x.indexrelid AND co.conrelid = x.indrelid AND co.contype IN ('p', 'u', 'x'))
ORDER BY t.relname, i.relname)SQL";

constexpr const char *kTriggersSql = R"SQL(
SELECT t.relname::text, tg.tgname::text, pg_catalog.pg_get_triggerdef(tg.oid),
       pg_catalog.quote_ident(n.nspname) || '.' || pg_catalog.quote_ident(t.relname)
FROM pg_catalog.pg_trigger tg
JOIN pg_catalog.pg_class t ON t.oid = tg.tgrelid
JOIN pg_catalog.pg_namespace n ON n.oid = t.relnamespace
WHERE n.nspname = {schema} AND NOT tg.tgisinternal
ORDER BY t.relname, tg.tgname)SQL";

constexpr const char *kViewsSql = R"SQL(
SELECT c.relname::text, c.relkind::text, pg_catalog.pg_get_viewdef(c.oid),
       pg_catalog.array_to_string(c.reloptions, ', ')
FROM pg_catalog.pg_class c
JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = {schema} AND c.relkind IN ('v', 'm')
ORDER BY c.relname)SQL";

// Which views of the schema a view's rules read.
constexpr const char *kViewDependenciesSql = R"SQL(
SELECT DISTINCT v.relname::text, r.relname::text
FROM pg_catalog.pg_rewrite rw
JOIN pg_catalog.pg_class v ON v.oid = rw.ev_class
JOIN pg_catalog.pg_namespace n ON n.oid = v.relnamespace
JOIN pg_catalog.pg_depend d ON d.classid = 'pg_catalog.pg_rewrite'::pg_catalog.regclass AND d.objid = rw.oid
     AND d.refclassid = 'pg_catalog.pg_class'::pg_catalog.regclass
JOIN pg_catalog.pg_class r ON r.oid = d.refobjid
WHERE n.nspname = {schema} AND r.relnamespace = v.relnamespace AND r.oid <> v.oid AND r.relkind IN ('v', 'm'))SQL";

// The result handed to the host: the rows travel as one JSON parameter so
// they come back as an ordinary result of this driver.
constexpr const char *kResultSql = R"SQL(
SELECT (e->>0)::int8 AS "step", e->>1 AS "kind", e->>2 AS "name", e->>3 AS "table_name", e->>4 AS "sql"
FROM pg_catalog.json_array_elements($1::json) WITH ORDINALITY AS x(e, i)
ORDER BY i)SQL";

std::string json_string(const std::string &s) {
    std::string out = "\"";
    for (unsigned char ch : s) {
        if (ch == '"' || ch == '\\') {
            out += '\\';
            out += static_cast<char>(ch);
        } else if (ch < 0x20) {
            char buf[8];
            std::snprintf(buf, sizeof buf, "\\u%04x", ch);
            out += buf;
        } else {
            out += static_cast<char>(ch);
        }
    }
    return out + "\"";
}

// `def` as pg_get_indexdef / pg_get_triggerdef print it, with its table
// `qualified` (source schema) replaced by `target_table`.
std::string retarget_table(const std::string &def, const std::string &qualified, const std::string &target_table,
                           const std::string &what) {
    for (const char *on : {" ON ", " ON ONLY "}) {
        const std::string needle = on + qualified + " ";
        const size_t at = def.find(needle);
        if (at != std::string::npos)
            return def.substr(0, at) + on + target_table + " " + def.substr(at + needle.size());
    }
    throw DriverFailure(ILANA_ERR_INTERNAL, "ddl: cannot find the table " + qualified + " in the definition of " + what);
}

struct SearchPathGuard {
    Connection &c;
    std::string saved;
    bool active = true;
    SearchPathGuard(Connection &conn, const std::string &schema_ident) : c(conn) {
        PgResultPtr r = c.exec_simple("SELECT pg_catalog.current_setting('search_path')");
        saved = PQgetvalue(r.get(), 0, 0);
        set(schema_ident);
    }
    void set(const std::string &value) {
        c.exec_simple(("SELECT pg_catalog.set_config('search_path', " + escaped(c, value, false) + ", false)").c_str());
    }
    void restore() {
        active = false;
        set(saved);
    }
    ~SearchPathGuard() {
        if (!active) return;
        try {
            set(saved);
        } catch (...) { // the session failed meanwhile; the host will see that
        }
    }
};

std::vector<Statement> build(Connection &c, const std::string &source, const std::string &target) {
    const std::string src_lit = escaped(c, source, false);
    const std::string tgt = escaped(c, target, true);
    auto q = [&](const char *sql) { return Rows{c.exec_simple(with_schema(sql, src_lit).c_str())}; };
    auto qualified = [&](const std::string &name) { return tgt + "." + escaped(c, name, true); };

    if (Rows bad = q(kUnsupportedSql); bad.count() > 0) {
        std::string list;
        for (int i = 0; i < bad.count() && i < 10; ++i) list += (i ? ", " : "") + bad.at(i, 0) + " " + bad.at(i, 1);
        throw DriverFailure(ILANA_ERR_CONFIG, "schema " + source + " has objects a clone does not carry (" + list +
                                                  "); create them in the target by a migration, or move them to a "
                                                  "shared schema");
    }

    std::vector<Statement> out;
    // --- sequences
    struct Sequence {
        std::string name, options;
        std::optional<std::string> last_value, table, column;
        bool identity = false;
    };
    std::vector<Sequence> sequences;
    std::map<std::pair<std::string, std::string>, const Sequence *> identity_of;
    {
        Rows r = q(kSequencesSql);
        for (int i = 0; i < r.count(); ++i) {
            Sequence s;
            s.name = r.at(i, 0);
            s.options = " INCREMENT BY " + r.at(i, 3) + " MINVALUE " + r.at(i, 5) + " MAXVALUE " + r.at(i, 4) +
                        " START WITH " + r.at(i, 2) + " CACHE " + r.at(i, 6) + (r.at(i, 7) == "t" ? " CYCLE" : " NO CYCLE");
            s.last_value = r.opt(i, 8);
            s.table = r.opt(i, 9);
            s.column = r.opt(i, 10);
            s.identity = s.table && r.opt(i, 11) == std::optional<std::string>("i");
            if (!s.identity) s.options = " AS " + r.at(i, 1) + s.options;
            sequences.push_back(std::move(s));
        }
        for (const auto &s : sequences) {
            if (s.identity) identity_of[{*s.table, *s.column}] = &s;
            else out.push_back({ILANA_DDL_BEFORE_DATA, "sequence", s.name, s.table,
                                "CREATE SEQUENCE " + qualified(s.name) + s.options});
        }
    }
    // --- tables
    std::vector<Statement> always; // step 2: identity columns back to GENERATED ALWAYS
    {
        Rows r = q(kColumnsSql);
        std::string table, persistence;
        std::vector<std::string> defs;
        auto flush = [&] {
            if (table.empty()) return;
            std::string sql = std::string("CREATE ") + (persistence == "u" ? "UNLOGGED " : "") + "TABLE " +
                              qualified(table) + " (";
            for (size_t i = 0; i < defs.size(); ++i) sql += (i ? ", " : "") + defs[i];
            out.push_back({ILANA_DDL_BEFORE_DATA, "table", table, table, sql + ")"});
            defs.clear();
        };
        for (int i = 0; i < r.count(); ++i) {
            if (r.at(i, 0) != table) {
                flush();
                table = r.at(i, 0);
                persistence = r.at(i, 1);
            }
            if (r.null(i, 2)) continue; // a table without columns
            const std::string col = r.at(i, 2);
            std::string def = escaped(c, col, true) + " " + r.at(i, 3);
            if (!r.null(i, 8)) def += " COLLATE " + r.at(i, 8);
            const std::string identity = r.at(i, 6), generated = r.at(i, 7);
            if (!identity.empty()) {
                auto it = identity_of.find({table, col});
                if (it == identity_of.end())
                    throw DriverFailure(ILANA_ERR_INTERNAL, "ddl: no sequence found for identity column " + table + "." + col);
                // BY DEFAULT while the rows are copied with their ids.
                def += " GENERATED BY DEFAULT AS IDENTITY (SEQUENCE NAME " + qualified(it->second->name) +
                       it->second->options + ")";
                if (identity == "a")
                    always.push_back({ILANA_DDL_AFTER_DATA, "identity", col, table,
                                      "ALTER TABLE " + qualified(table) + " ALTER COLUMN " + escaped(c, col, true) +
                                          " SET GENERATED ALWAYS"});
            } else if (!generated.empty() && !r.null(i, 5)) {
                def += " GENERATED ALWAYS AS (" + r.at(i, 5) + ") STORED";
            } else if (!r.null(i, 5)) {
                def += " DEFAULT " + r.at(i, 5);
            }
            if (r.at(i, 4) == "t") def += " NOT NULL";
            defs.push_back(std::move(def));
        }
        flush();
    }
    // --- after the rows: constraints (keys before foreign keys)
    {
        Rows r = q(kConstraintsSql);
        for (int i = 0; i < r.count(); ++i) {
            const std::string table = r.at(i, 0), name = r.at(i, 1);
            out.push_back({ILANA_DDL_AFTER_DATA, r.at(i, 2) == "f" ? "foreign_key" : "constraint", name, table,
                           "ALTER TABLE " + qualified(table) + " ADD CONSTRAINT " + escaped(c, name, true) + " " +
                               r.at(i, 3)});
        }
    }
    Rows indexes = q(kIndexesSql);
    auto add_indexes = [&](const char *relkind) {
        for (int i = 0; i < indexes.count(); ++i)
            if (indexes.at(i, 3) == relkind)
                out.push_back({ILANA_DDL_AFTER_DATA, "index", indexes.at(i, 1), indexes.at(i, 0),
                               retarget_table(indexes.at(i, 2), indexes.at(i, 4), qualified(indexes.at(i, 0)),
                                              "index " + indexes.at(i, 1))});
    };
    add_indexes("r");
    for (const auto &s : sequences)
        if (!s.identity && s.table && s.column)
            out.push_back({ILANA_DDL_AFTER_DATA, "sequence_owner", s.name, s.table,
                           "ALTER SEQUENCE " + qualified(s.name) + " OWNED BY " + qualified(*s.table) + "." +
                               escaped(c, *s.column, true)});
    for (auto &a : always) out.push_back(std::move(a));
    // --- views, in dependency order
    {
        Rows r = q(kViewsSql);
        Rows deps = q(kViewDependenciesSql);
        std::map<std::string, std::set<std::string>> depends_on;
        for (int i = 0; i < deps.count(); ++i) depends_on[deps.at(i, 0)].insert(deps.at(i, 1));
        std::vector<std::string> names;
        std::map<std::string, int> row_of;
        for (int i = 0; i < r.count(); ++i) {
            names.push_back(r.at(i, 0));
            row_of[r.at(i, 0)] = i;
        }
        std::vector<std::string> ordered;
        try {
            ordered = ilana::sdk::dependency_order(names, depends_on);
        } catch (const std::runtime_error &e) {
            throw DriverFailure(ILANA_ERR_CONFIG, std::string("ddl: views of schema ") + source + ": " + e.what());
        }
        for (const auto &name : ordered) {
            const int i = row_of[name];
            std::string body = r.at(i, 2);
            while (!body.empty() && (body.back() == ';' || body.back() == ' ' || body.back() == '\n')) body.pop_back();
            const bool materialized = r.at(i, 1) == "m";
            const std::string with = r.null(i, 3) || r.at(i, 3).empty() ? "" : " WITH (" + r.at(i, 3) + ")";
            out.push_back({ILANA_DDL_AFTER_DATA, "view", name, std::nullopt,
                           std::string("CREATE ") + (materialized ? "MATERIALIZED " : "") + "VIEW " +
                               qualified(name) + with + " AS" + (body.empty() || body[0] != ' ' ? " " : "") + body +
                               (materialized ? " WITH DATA" : "")});
        }
    }
    add_indexes("m");
    {
        Rows r = q(kTriggersSql);
        for (int i = 0; i < r.count(); ++i)
            out.push_back({ILANA_DDL_AFTER_DATA, "trigger", r.at(i, 1), r.at(i, 0),
                           retarget_table(r.at(i, 2), r.at(i, 3), qualified(r.at(i, 0)), "trigger " + r.at(i, 1))});
    }
    // --- the counters, once the rows are in
    for (const auto &s : sequences)
        if (s.last_value)
            out.push_back({ILANA_DDL_DATA_STATE, "sequence_value", s.name, s.table,
                           "SELECT pg_catalog.setval(" + escaped(c, tgt + "." + escaped(c, s.name, true), false) + "::pg_catalog.regclass, " +
                               *s.last_value + ", true)"});
    return out;
}

} // namespace

std::unique_ptr<Result> Connection::clone_namespace(std::string_view source_name, std::string_view target_name) {
    if (source_name.empty() || target_name.empty())
        throw DriverFailure(ILANA_ERR_INTERNAL, "ddl: a schema name is empty");
    const std::string source(source_name), target(target_name);
    std::vector<Statement> statements;
    {
        SearchPathGuard guard(*this, escaped(*this, source, true));
        statements = build(*this, source, target);
        guard.restore();
    }
    std::string json = "[";
    for (const auto &s : statements) {
        if (json.size() > 1) json += ",";
        json += "[" + std::to_string(s.step) + "," + json_string(s.kind) + "," + json_string(s.name) + "," +
                (s.table ? json_string(*s.table) : std::string("null")) + "," + json_string(s.sql) + "]";
    }
    json += "]";
    return execute_sql(kResultSql, {text_param(json.c_str())}, ILANA_EXEC_READ_ONLY);
}

} // namespace ilana::drivers::postgres
