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

const std::vector<FixedColumn> kTableColumns = {
    {"schema", ILANA_TYPE_TEXT, 0},
    {"name", ILANA_TYPE_TEXT, 0},
    {"kind", ILANA_TYPE_TEXT, 0},
};

const std::vector<FixedColumn> kColumnColumns = {
    {"table_name", ILANA_TYPE_TEXT, 0},    {"name", ILANA_TYPE_TEXT, 0},
    {"ordinal", ILANA_TYPE_INT64, 0},      {"data_type", ILANA_TYPE_TEXT, 0},
    {"nullable", ILANA_TYPE_BOOL, 0},      {"default_value", ILANA_TYPE_TEXT, 1},
    {"primary_key", ILANA_TYPE_BOOL, 0},
};

const std::vector<FixedColumn> kIndexColumns = {
    {"table_name", ILANA_TYPE_TEXT, 0}, {"name", ILANA_TYPE_TEXT, 0},
    {"columns", ILANA_TYPE_TEXT, 0},    {"is_unique", ILANA_TYPE_BOOL, 0},
    {"is_primary", ILANA_TYPE_BOOL, 0},
};

// ?1 = schema name and, when the SQL has it, ?2 = table (or NULL).
ilana_value text_param(std::optional<std::string_view> s) {
    ilana_value v{};
    if (!s) {
        v.type = ILANA_TYPE_NULL;
        v.is_null = 1;
    } else {
        v.type = ILANA_TYPE_TEXT;
        v.v.str.ptr = s->data();
        v.v.str.len = s->size();
    }
    return v;
}

// Cached: tools introspect table after table with the same text.
sdk::Statement statement(const std::string &sql, const ilana_value *params, uint32_t count) {
    sdk::Statement st;
    st.sql = sql;
    st.params = sdk::Params(params, count, sizeof(ilana_value));
    st.flags = ILANA_EXEC_CACHE;
    return st;
}

std::string_view schema_or_main(std::optional<std::string_view> schema) {
    return schema && !schema->empty() ? *schema : std::string_view("main");
}

} // namespace

// Each runs one query over sqlite_master and the pragma table functions,
// with the ABI's column names and types (FixedColumn), as a result like
// any statement's: it is the connection's open result until closed.
std::unique_ptr<Result> Connection::tables(std::optional<std::string_view> schema) {
    const std::string_view s = schema_or_main(schema);
    const std::string sql = "SELECT ?1 AS schema, m.name AS name, m.type AS kind FROM " +
                            quote_identifier(s) +
                            ".sqlite_master AS m "
                            "WHERE m.type IN ('table', 'view') "
                            "AND m.name NOT LIKE 'sqlite\\_%' ESCAPE '\\' "
                            "ORDER BY m.name";
    const ilana_value params[1] = {text_param(s)};
    return execute(statement(sql, params, 1), &kTableColumns);
}

std::unique_ptr<Result> Connection::columns(std::optional<std::string_view> schema,
                                            std::optional<std::string_view> table) {
    const std::string_view s = schema_or_main(schema);
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
    const ilana_value params[2] = {text_param(s), text_param(table)};
    return execute(statement(sql, params, 2), &kColumnColumns);
}

std::unique_ptr<Result> Connection::indexes(std::optional<std::string_view> schema,
                                            std::optional<std::string_view> table) {
    const std::string_view s = schema_or_main(schema);
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
    const ilana_value params[2] = {text_param(s), text_param(table)};
    return execute(statement(sql, params, 2), &kIndexColumns);
}

} // namespace ilana::drivers::sqlite
