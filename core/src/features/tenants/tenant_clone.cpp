// TenantManager::clone_tenant: the driver's "ilana.ddl/1" statements
// (before the rows, after them, and the counters that follow the rows)
// around a copy of the rows in batches with bound parameters, anonymizing
// columns on the way.
#include "tenants/tenant_clone.hpp"

#include <ilana/logging.hpp>

#include "migrate/migration_table.hpp"
#include "tenants/tenant_id.hpp"
#include "tenants/tenant_state.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cstdio>
#include <map>

namespace ilana {

namespace detail {

std::vector<const DdlStatement *> statements_of_step(const std::vector<DdlStatement> &all, int64_t step,
                                                     const std::set<std::string> &copied, bool with_data) {
    std::vector<const DdlStatement *> out;
    for (const auto &d : all) {
        if (d.step != step) continue;
        if (step == ILANA_DDL_DATA_STATE && (d.table ? copied.count(*d.table) == 0 : !with_data)) continue;
        out.push_back(&d);
    }
    return out;
}

std::vector<std::string> tables_in_copy_order(const std::vector<DdlStatement> &all) {
    std::vector<std::string> out;
    for (const auto &d : all)
        if (d.step == ILANA_DDL_BEFORE_DATA && d.kind == "table") out.push_back(d.name);
    return out;
}

Value anonymized_value(const std::optional<std::string> &rule, int64_t row_number) {
    if (!rule) return Value();
    const std::string n = std::to_string(row_number);
    if (*rule == "email") return Value("anon" + n + "@example.invalid");
    if (*rule == "name") return Value("Anonymous " + n);
    if (*rule == "phone") {
        char buf[32];
        std::snprintf(buf, sizeof buf, "+1-555-%07lld", static_cast<long long>(row_number % 10000000));
        return Value(std::string(buf));
    }
    return Value(*rule);
}

} // namespace detail

namespace {

using Clock = std::chrono::steady_clock;

void run_native(Session &s, const std::string &sql) {
    detail::NativeResult r = detail::native(s).execute(sql, nullptr, 0, 0);
    r.close();
}

// The driver's "ilana.ddl/1" statements for cloning `source` into `target`
// (namespace names), read on a session of the source tenant.
std::vector<detail::DdlStatement> clone_statements(const detail::TenantState &state, const ilana_ddl_api &api,
                                                   Session &source, const std::string &src,
                                                   const std::string &source_ns, const std::string &target_ns) {
    detail::NativeConnection &nc = detail::native(source);
    ilana_error err{};
    err.struct_size = sizeof err;
    ilana_result *res = nullptr;
    if (api.clone_namespace(nc.handle(), source_ns.c_str(), target_ns.c_str(), &res, &err) != ILANA_OK)
        nc.fail(err, ("reading the DDL of tenant \"" + src + "\" failed").c_str());
    detail::NativeResult native(&nc, res);
    Result r;
    native.read_all(r);
    static const std::vector<std::string> kColumns = {"step", "kind", "name", "table_name", "sql"};
    std::vector<std::string> names;
    for (size_t i = 0; i < r.columns().size(); ++i) names.push_back(r.columns()[i].name);
    if (names != kColumns)
        throw Error("clone: the driver " + state.driver->id() + "'s " + ILANA_EXT_DDL +
                        " returned other columns than step, kind, name, table_name, sql (a driver bug)",
                    ErrorClass::internal);
    std::vector<detail::DdlStatement> out;
    for (Row row : r)
        out.push_back({row[0].as<int64_t>(), row[1].as<std::string>(), row[2].as<std::string>(),
                       row[3].as<std::optional<std::string>>(), row[4].as<std::string>()});
    return out;
}

} // namespace

CloneResult TenantManager::clone_tenant(std::string_view source_id, std::string_view target_id,
                                        const CloneOptions &options) const {
    const auto start = Clock::now();
    const std::string src(source_id), dst(target_id);
    detail::validate_tenant_id(src);
    detail::validate_tenant_id(dst);
    if (src == dst) throw Error("clone: source and target are the same tenant \"" + src + "\"", ErrorClass::config);
    const std::string source_ns = namespace_of(src), target_ns = namespace_of(dst); // refuse system namespaces
    const auto *ddl_api = static_cast<const ilana_ddl_api *>(
        state_->driver->extension(ILANA_EXT_DDL, static_cast<uint32_t>(sizeof(ilana_ddl_api))));
    if (ddl_api == nullptr || ddl_api->clone_namespace == nullptr)
        throw Error("clone: the driver " + state_->driver->id() + " has no " + ILANA_EXT_DDL +
                        " (the DDL of a namespace), so tenants of connection '" + state_->template_conn.name() +
                        "' cannot be cloned; create the target with tenants:create and copy the data yourself",
                    ErrorClass::config);
    if (!exists(src))
        throw Error("clone: tenant \"" + src + "\" does not exist (no " + source_ns + ")", ErrorClass::config);

    CloneResult result;
    result.source = src;
    result.target = dst;
    // Columns to copy come from introspection (ordinal order); the objects
    // and their order from the driver.
    std::vector<ColumnInfo> source_columns;
    std::vector<detail::DdlStatement> ddl;
    {
        Connection source = get(src);
        Session in = source.acquire();
        source_columns = in.columns();
        ddl = clone_statements(*state_, *ddl_api, in, src, source_ns, target_ns);
    }
    std::map<std::string, std::vector<const ColumnInfo *>> columns_of;
    for (const auto &c : source_columns) columns_of[c.table].push_back(&c);
    for (auto &kv : columns_of)
        std::sort(kv.second.begin(), kv.second.end(),
                  [](const ColumnInfo *a, const ColumnInfo *b) { return a->ordinal < b->ordinal; });
    const std::vector<std::string> tables = detail::tables_in_copy_order(ddl);

    // Anonymization rules must name what exists: a typo would copy the
    // original values silently.
    const bool anonymize = options.include_data && options.anonymize.enabled;
    if (anonymize)
        for (const auto &rule : options.anonymize.rules) {
            const std::string &table = rule.first;
            if (std::find(tables.begin(), tables.end(), table) == tables.end())
                throw Error("clone: anonymization rule for table \"" + table + "\", which tenant \"" + src +
                                "\" does not have",
                            ErrorClass::config);
            for (const auto &kv : rule.second) {
                const auto &cols = columns_of[table];
                if (std::none_of(cols.begin(), cols.end(), [&](const ColumnInfo *c) { return c->name == kv.first; }))
                    throw Error("clone: anonymization rule for column \"" + table + "." + kv.first +
                                    "\", which does not exist",
                                ErrorClass::config);
            }
        }

    const bool created = !exists(dst);
    state_->create_namespace(dst);
    try {
        Connection source = get(src), target = get(dst);
        Session out = target.acquire();
        // The SQL below is the target's session's (a dialect per connection, ABI 1.3).
        const Dialect dialect = out.dialect();
        const char quote = dialect.identifier_quote;
        if (!out.tables().empty())
            throw Error("clone: tenant \"" + dst + "\" already has tables; drop it first (tenants:drop) or choose "
                        "another id",
                        ErrorClass::config);
        std::set<std::string> copied;
        auto run_step = [&](int64_t step) {
            for (const detail::DdlStatement *d : detail::statements_of_step(ddl, step, copied, options.include_data)) {
                try {
                    run_native(out, d->sql);
                } catch (Error &e) {
                    e.add_context("clone: creating " + d->kind + " " + d->name + " in tenant \"" + dst +
                                  "\" failed: ");
                    throw; // keeps its type
                }
                if (step == ILANA_DDL_AFTER_DATA && d->kind == "view") result.views.push_back(d->name);
            }
        };
        run_step(ILANA_DDL_BEFORE_DATA);
        result.tables = tables;

        // The migration history always comes along: the clone is at the
        // source's schema version.
        const std::string migrations_table = MigrationsOptions{}.table_name;
        const uint32_t max_params = dialect.max_params;
        for (const auto &table : tables) {
            if (!options.include_data && table != migrations_table) continue;
            const auto &cols = columns_of[table];
            if (cols.empty())
                throw Error("clone: introspection reports no columns for table " + table + " of tenant \"" + src + "\"",
                            ErrorClass::internal);
            const size_t ncols = cols.size();
            size_t per_batch = static_cast<size_t>(std::max(1, options.batch_rows));
            if (max_params > 0) per_batch = std::max<size_t>(1, std::min(per_batch, max_params / ncols));
            std::string column_list;
            for (const ColumnInfo *c : cols)
                column_list += (column_list.empty() ? "" : ", ") + detail::quote_identifier(c->name, quote);
            std::string one_row = "(";
            for (size_t i = 0; i < ncols; ++i) one_row += i ? ", ?" : "?";
            one_row += ")";
            const std::string insert_head =
                "INSERT INTO " + detail::quote_identifier(table, quote) + " (" + column_list + ") VALUES ";
            // Which columns are replaced, by position.
            std::vector<const std::optional<std::string> *> rules(ncols, nullptr);
            if (anonymize)
                if (auto it = options.anonymize.rules.find(table); it != options.anonymize.rules.end())
                    for (size_t i = 0; i < ncols; ++i)
                        if (auto r = it->second.find(cols[i]->name); r != it->second.end()) rules[i] = &r->second;

            Params batch;
            batch.reserve(per_batch * ncols);
            size_t rows_in_batch = 0;
            int64_t row_number = 0;
            auto flush = [&] {
                if (rows_in_batch == 0) return;
                std::string sql = insert_head;
                for (size_t i = 0; i < rows_in_batch; ++i) sql += (i ? ", " : "") + one_row;
                out.execute(sql, batch);
                result.rows_copied += static_cast<int64_t>(rows_in_batch);
                batch.clear();
                rows_in_batch = 0;
            };
            Session in = source.acquire();
            out.begin();
            in.stream("SELECT " + column_list + " FROM " + detail::quote_identifier(table, quote), {}, [&](const Row &row) {
                ++row_number;
                for (size_t i = 0; i < ncols; ++i)
                    batch.push_back(rules[i] ? detail::anonymized_value(*rules[i], row_number) : Value(row[i]));
                if (++rows_in_batch == per_batch) flush();
            });
            flush();
            out.commit();
            copied.insert(table);
        }
        run_step(ILANA_DDL_AFTER_DATA);
        run_step(ILANA_DDL_DATA_STATE);
    } catch (...) {
        if (created) {
            try {
                drop_tenant(dst);
            } catch (const std::exception &e) {
                ilana::logger()->error("clone: could not drop the half-made tenant {}: {}", dst, e.what());
            }
        }
        throw;
    }
    result.duration_ms = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start).count();
    ilana::logger()->info("tenants: cloned {} to {}: {} tables, {} views, {} rows", src, dst, result.tables.size(),
                          result.views.size(), result.rows_copied);
    return result;
}

} // namespace ilana
