// introspect.cpp — extension "ilana.introspect/1".
//
// Each function is one SQL query over sqlite_master and the pragma
// table-valued functions, run like execute() and returned as an open result
// whose column names and types are the ones driver.h fixes (ColumnSpec makes
// the cells BOOL / INT64 / TEXT whatever SQLite's storage class).
// `schema` is an attached database name ("main", "temp", or an ATTACH name);
// NULL means "main". Internal tables (sqlite_%) are left out.
#include "sqlite_driver.hpp"

namespace ilana::drivers::sqlite {
namespace {

// "name" with embedded quotes doubled: the schema is an identifier here.
std::string quote_identifier(std::string_view name) {
    std::string out = "\"";
    for (char c : name) {
        if (c == '"') out += '"';
        out += c;
    }
    out += '"';
    return out;
}

ilana_value text_param(const char *s) {
    ilana_value v{};
    if (s == nullptr) {
        v.type = ILANA_TYPE_NULL;
        v.is_null = 1;
    } else {
        v.type = ILANA_TYPE_TEXT;
        v.v.str.ptr = s;
        v.v.str.len = std::char_traits<char>::length(s);
    }
    return v;
}

const std::vector<ColumnSpec> kTableColumns = {
    {"schema", ILANA_TYPE_TEXT, 0},
    {"name", ILANA_TYPE_TEXT, 0},
    {"kind", ILANA_TYPE_TEXT, 0},
};

const std::vector<ColumnSpec> kColumnColumns = {
    {"table_name", ILANA_TYPE_TEXT, 0},    {"name", ILANA_TYPE_TEXT, 0},
    {"ordinal", ILANA_TYPE_INT64, 0},      {"data_type", ILANA_TYPE_TEXT, 0},
    {"nullable", ILANA_TYPE_BOOL, 0},      {"default_value", ILANA_TYPE_TEXT, 1},
    {"primary_key", ILANA_TYPE_BOOL, 0},
};

const std::vector<ColumnSpec> kIndexColumns = {
    {"table_name", ILANA_TYPE_TEXT, 0}, {"name", ILANA_TYPE_TEXT, 0},
    {"columns", ILANA_TYPE_TEXT, 0},    {"is_unique", ILANA_TYPE_BOOL, 0},
    {"is_primary", ILANA_TYPE_BOOL, 0},
};

// Runs `sql` with ?1 = schema name and, when the SQL has it, ?2 = table (or NULL).
ilana_status run(ilana_conn *h, const std::string &sql, uint32_t param_count, const char *schema,
                 const char *table, const std::vector<ColumnSpec> &columns, ilana_result **out,
                 ilana_error *err) {
    if (out != nullptr) *out = nullptr;
    return sdk::guarded(err, [&] {
        Connection &c = require_conn(h);
        if (out == nullptr) throw DriverFailure(ILANA_ERR_INTERNAL, "introspect: out is NULL");
        const ilana_value params[2] = {text_param(schema), text_param(table)};
        // Cached: tools introspect table after table with the same text.
        std::unique_ptr<Result> r =
            c.execute(sql, params, param_count, sizeof(ilana_value), ILANA_EXEC_CACHE, &columns);
        *out = to_handle(r.release());
        return ILANA_OK;
    });
}

const char *schema_or_main(const char *schema) {
    return schema != nullptr && *schema != '\0' ? schema : "main";
}

ilana_status tables(ilana_conn *conn, const char *schema, ilana_result **out, ilana_error *err) {
    const char *s = schema_or_main(schema);
    const std::string sql = "SELECT ?1 AS schema, m.name AS name, m.type AS kind FROM " +
                            quote_identifier(s) +
                            ".sqlite_master AS m "
                            "WHERE m.type IN ('table', 'view') "
                            "AND m.name NOT LIKE 'sqlite\\_%' ESCAPE '\\' "
                            "ORDER BY m.name";
    return run(conn, sql, 1, s, nullptr, kTableColumns, out, err);
}

// nullable: a PRIMARY KEY column is reported NOT NULL. SQLite enforces that
// for INTEGER PRIMARY KEY (the rowid) and WITHOUT ROWID tables, and
// tolerates NULL in other rowid-table keys only as a documented legacy bug.
ilana_status columns(ilana_conn *conn, const char *schema, const char *table, ilana_result **out,
                     ilana_error *err) {
    const char *s = schema_or_main(schema);
    const std::string sql = "SELECT m.name AS table_name, p.name AS name, p.cid + 1 AS ordinal, "
                            "lower(p.type) AS data_type, "
                            "(p.\"notnull\" = 0 AND p.pk = 0) AS nullable, "
                            "p.dflt_value AS default_value, (p.pk > 0) AS primary_key "
                            "FROM " +
                            quote_identifier(s) +
                            ".sqlite_master AS m, pragma_table_info(m.name, ?1) AS p "
                            "WHERE m.type IN ('table', 'view') "
                            "AND m.name NOT LIKE 'sqlite\\_%' ESCAPE '\\' "
                            "AND (?2 IS NULL OR m.name = ?2) "
                            "ORDER BY m.name, p.cid";
    return run(conn, sql, 2, s, table, kColumnColumns, out, err);
}

// columns: pragma_index_info yields the key columns in index order, which is
// the order group_concat sees them; an expression key has no name.
ilana_status indexes(ilana_conn *conn, const char *schema, const char *table, ilana_result **out,
                     ilana_error *err) {
    const char *s = schema_or_main(schema);
    const std::string sql =
        "SELECT m.name AS table_name, il.name AS name, "
        "(SELECT group_concat(ifnull(ii.name, '<expression>'), ',') "
        " FROM pragma_index_info(il.name, ?1) AS ii) AS columns, "
        "(il.\"unique\" != 0) AS is_unique, (il.origin = 'pk') AS is_primary "
        "FROM " +
        quote_identifier(s) +
        ".sqlite_master AS m, pragma_index_list(m.name, ?1) AS il "
        "WHERE m.type = 'table' "
        "AND m.name NOT LIKE 'sqlite\\_%' ESCAPE '\\' "
        "AND (?2 IS NULL OR m.name = ?2) "
        "ORDER BY m.name, il.name";
    return run(conn, sql, 2, s, table, kIndexColumns, out, err);
}

} // namespace

const ilana_introspect_api introspect_api = {
    sizeof(ilana_introspect_api),
    tables,
    columns,
    indexes,
};

} // namespace ilana::drivers::sqlite
