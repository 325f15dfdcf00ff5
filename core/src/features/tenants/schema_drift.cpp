// Schema drift across tenants: introspection through the driver
// ("ilana.introspect/1" via Session::tables/columns/indexes), compared with
// a reference tenant.
#include "tenants/schema_drift.hpp"

#include "log/timestamps.hpp"
#include "tenants/parallel.hpp"
#include "tenants/tenant_id.hpp"
#include "tenants/tenant_state.hpp"

#include <algorithm>
#include <map>
#include <set>

namespace ilana {

namespace detail {

namespace {

std::string join(const std::vector<std::string> &v) {
    std::string out;
    for (const auto &s : v) out += (out.empty() ? "" : ",") + s;
    return out;
}

std::string index_definition(const IndexInfo &ix) {
    return std::string(ix.primary ? "PRIMARY " : ix.unique ? "UNIQUE " : "") + "(" + join(ix.columns) + ")";
}

std::string nullability(bool nullable) { return nullable ? "NULL" : "NOT NULL"; }

struct TableView {
    std::string kind;
    std::map<std::string, const ColumnInfo *> columns;
    std::map<std::string, const IndexInfo *> indexes;
};

std::map<std::string, TableView> by_table(const TenantSchema &s, const std::set<std::string> &exclude) {
    std::map<std::string, TableView> out;
    for (const auto &t : s.tables)
        if (!exclude.count(t.name)) out[t.name].kind = t.kind;
    for (const auto &c : s.columns) {
        auto it = out.find(c.table);
        if (it != out.end()) it->second.columns[c.name] = &c;
    }
    for (const auto &ix : s.indexes) {
        auto it = out.find(ix.table);
        if (it != out.end()) it->second.indexes[ix.name] = &ix;
    }
    return out;
}

void compare_columns(const TableView &ref, const TableView &ten, bool include_defaults, TableDrift &td) {
    for (const auto &[name, rc] : ref.columns) {
        auto it = ten.columns.find(name);
        if (it == ten.columns.end()) {
            td.columns.push_back({name, "missing", rc->data_type, "",
                                  "column '" + name + "' (" + rc->data_type + ") is missing"});
            continue;
        }
        const ColumnInfo &tc = *it->second;
        if (rc->data_type != tc.data_type)
            td.columns.push_back({name, "type_mismatch", rc->data_type, tc.data_type,
                                  "column '" + name + "' type: expected " + rc->data_type + ", found " + tc.data_type});
        if (rc->nullable != tc.nullable)
            td.columns.push_back({name, "nullable_mismatch", nullability(rc->nullable), nullability(tc.nullable),
                                  "column '" + name + "' nullability: expected " + nullability(rc->nullable) +
                                      ", found " + nullability(tc.nullable)});
        if (include_defaults && rc->default_value != tc.default_value) {
            const std::string e = rc->default_value.value_or("(none)"), a = tc.default_value.value_or("(none)");
            td.columns.push_back({name, "default_mismatch", e, a,
                                  "column '" + name + "' default: expected " + e + ", found " + a});
        }
        if (rc->primary_key != tc.primary_key)
            td.columns.push_back({name, "primary_key_mismatch", rc->primary_key ? "primary key" : "not a key",
                                  tc.primary_key ? "primary key" : "not a key",
                                  "column '" + name + "' is " + (rc->primary_key ? "" : "not ") +
                                      "part of the primary key in the reference but " +
                                      (tc.primary_key ? "is" : "is not") + " here"});
    }
    for (const auto &[name, tc] : ten.columns)
        if (!ref.columns.count(name))
            td.columns.push_back({name, "extra", "", tc->data_type,
                                  "column '" + name + "' (" + tc->data_type + ") is not in the reference"});
}

void compare_indexes(const TableView &ref, const TableView &ten, TableDrift &td) {
    for (const auto &[name, ri] : ref.indexes) {
        auto it = ten.indexes.find(name);
        const std::string e = index_definition(*ri);
        if (it == ten.indexes.end()) {
            td.indexes.push_back({name, "missing", e, "", "index '" + name + "' " + e + " is missing"});
        } else if (const std::string a = index_definition(*it->second); a != e) {
            td.indexes.push_back({name, "definition_mismatch", e, a,
                                  "index '" + name + "': expected " + e + ", found " + a});
        }
    }
    for (const auto &[name, ti] : ten.indexes)
        if (!ref.indexes.count(name)) {
            const std::string a = index_definition(*ti);
            td.indexes.push_back({name, "extra", "", a, "index '" + name + "' " + a + " is not in the reference"});
        }
}

} // namespace

TenantSchemaDrift compare_schemas(const TenantSchema &reference, const TenantSchema &tenant,
                                  const std::vector<std::string> &exclude, bool include_indexes,
                                  bool include_defaults) {
    TenantSchemaDrift out;
    out.tenant_id = tenant.tenant_id;
    out.namespace_name = tenant.namespace_name;
    const std::set<std::string> ex(exclude.begin(), exclude.end());
    const auto ref = by_table(reference, ex), ten = by_table(tenant, ex);
    for (const auto &[name, rt] : ref) {
        TableDrift td;
        td.table = name;
        auto it = ten.find(name);
        if (it == ten.end()) {
            td.status = "missing";
            out.issue_count += 1;
            out.tables.push_back(std::move(td));
            continue;
        }
        compare_columns(rt, it->second, include_defaults, td);
        if (include_indexes) compare_indexes(rt, it->second, td);
        if (td.columns.empty() && td.indexes.empty()) continue;
        td.status = "drifted";
        out.issue_count += static_cast<int>(td.columns.size() + td.indexes.size());
        out.tables.push_back(std::move(td));
    }
    for (const auto &[name, tt] : ten)
        if (!ref.count(name)) {
            TableDrift td;
            td.table = name;
            td.status = "extra";
            out.issue_count += 1;
            out.tables.push_back(std::move(td));
        }
    std::sort(out.tables.begin(), out.tables.end(),
              [](const TableDrift &a, const TableDrift &b) { return a.table < b.table; });
    out.has_drift = out.issue_count > 0;
    return out;
}

} // namespace detail

namespace {

using Clock = std::chrono::steady_clock;

std::vector<std::string> excluded(const DriftOptions &options) {
    if (options.exclude_tables) return *options.exclude_tables;
    return {MigrationsOptions{}.table_name};
}

} // namespace

TenantSchema TenantManager::introspect(std::string_view tenant_id) const {
    TenantSchema s;
    s.tenant_id = std::string(tenant_id);
    s.namespace_name = namespace_of(tenant_id);
    Session session = get(tenant_id).acquire();
    s.tables = session.tables();
    s.columns = session.columns();
    s.indexes = session.indexes();
    return s;
}

TenantSchemaDrift TenantManager::compare(std::string_view tenant_id, std::string_view reference_id,
                                         const DriftOptions &options) const {
    TenantSchema ref = introspect(reference_id);
    TenantSchema ten = introspect(tenant_id);
    return detail::compare_schemas(ref, ten, excluded(options), options.include_indexes, options.include_defaults);
}

SchemaDriftResult TenantManager::drift(const DriftOptions &options) const {
    const auto start = Clock::now();
    SchemaDriftResult result;
    result.timestamp = detail::iso8601_now();
    std::vector<std::string> ids = options.tenant_ids.empty() ? discover() : options.tenant_ids;
    result.reference_tenant = options.reference.empty() ? (ids.empty() ? "" : ids.front()) : options.reference;
    if (result.reference_tenant.empty()) {
        result.duration_ms = 0;
        return result; // no tenants
    }
    if (std::find(ids.begin(), ids.end(), result.reference_tenant) == ids.end())
        ids.insert(ids.begin(), result.reference_tenant);
    // The reference first: without it there is nothing to compare with.
    const TenantSchema reference = introspect(result.reference_tenant);
    const auto exclude = excluded(options);
    result.total = static_cast<int>(ids.size());
    result.details.resize(ids.size());
    detail::run_parallel(ids.size(), std::min(options.concurrency, state_->options.max_pools), [&](size_t i) {
        TenantSchemaDrift &d = result.details[i];
        try {
            const TenantSchema s = ids[i] == reference.tenant_id ? reference : introspect(ids[i]);
            d = detail::compare_schemas(reference, s, exclude, options.include_indexes, options.include_defaults);
        } catch (const std::exception &e) {
            d.tenant_id = ids[i];
            try {
                d.namespace_name = namespace_of(ids[i]);
            } catch (...) {
            }
            d.error = e.what();
        }
    });
    for (const auto &d : result.details) {
        if (!d.error.empty()) ++result.error;
        else if (d.has_drift) ++result.with_drift;
        else ++result.no_drift;
    }
    result.duration_ms = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start).count();
    return result;
}

} // namespace ilana
