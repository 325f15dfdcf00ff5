// Session::tables/columns/indexes over the driver's "ilana.introspect/1".
#include <ilana/database.hpp>

#include "db/database_state.hpp"

#include <cstring>

namespace ilana {

namespace {

const ilana_introspect_api &introspect_api(detail::NativeConnection &conn) {
    const auto *api = conn.driver().extension<ilana_introspect_api>(ILANA_EXT_INTROSPECT);
    if (api == nullptr || api->tables == nullptr || api->columns == nullptr || api->indexes == nullptr)
        throw Error("[" + conn.name() + "] the driver " + conn.driver().id() + " cannot introspect (no " +
                        ILANA_EXT_INTROSPECT + ")",
                    ErrorClass::internal, conn.name());
    return *api;
}

template <class Call> Result run(detail::NativeConnection &conn, const char *what, Call &&call) {
    ilana_result *res = nullptr;
    ilana_error err = detail::fresh_error();
    if (call(&res, &err) != ILANA_OK) conn.fail(err, what);
    detail::NativeResult native(&conn, res);
    Result out;
    native.read_all(out);
    return out;
}

const char *opt(const std::string &s) { return s.empty() ? nullptr : s.c_str(); }

} // namespace

std::vector<TableInfo> Session::tables(const std::string &schema) {
    auto &conn = detail::InternalAccess::native(*this);
    const auto &api = introspect_api(conn);
    Result r = run(conn, "introspection failed", [&](ilana_result **out, ilana_error *err) {
        return api.tables(conn.handle(), opt(schema), out, err);
    });
    std::vector<TableInfo> v;
    for (Row row : r)
        v.push_back({row["schema"].as<std::optional<std::string>>().value_or(""), row["name"].as<std::string>(),
                     row["kind"].as<std::string>()});
    return v;
}

std::vector<ColumnInfo> Session::columns(const std::string &table, const std::string &schema) {
    auto &conn = detail::InternalAccess::native(*this);
    const auto &api = introspect_api(conn);
    Result r = run(conn, "introspection failed", [&](ilana_result **out, ilana_error *err) {
        return api.columns(conn.handle(), opt(schema), opt(table), out, err);
    });
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

std::vector<IndexInfo> Session::indexes(const std::string &table, const std::string &schema) {
    auto &conn = detail::InternalAccess::native(*this);
    const auto &api = introspect_api(conn);
    Result r = run(conn, "introspection failed", [&](ilana_result **out, ilana_error *err) {
        return api.indexes(conn.handle(), opt(schema), opt(table), out, err);
    });
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

} // namespace ilana
