// TenantManager::clone_tenant: recreate a tenant's tables from
// introspection in a new namespace and copy the rows in batches with bound
// parameters, anonymizing columns on the way.
#include "tenants/tenant_clone.hpp"

#include <ilana/logging.hpp>

#include "tenants/tenant_id.hpp"
#include "tenants/tenant_state.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <map>
#include <set>

namespace ilana {

namespace detail {

namespace {

std::string lower(std::string s) {
    for (auto &c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return s;
}

bool is_identifier(const std::string &s) {
    if (s.empty() || std::isdigit(static_cast<unsigned char>(s[0]))) return false;
    for (char c : s)
        if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '$' || (static_cast<unsigned char>(c) & 0x80)))
            return false;
    return true;
}

bool is_number(const std::string &s) {
    size_t i = 0;
    if (i < s.size() && (s[i] == '-' || s[i] == '+')) ++i;
    bool digits = false, dot = false;
    for (; i < s.size(); ++i) {
        if (std::isdigit(static_cast<unsigned char>(s[i]))) digits = true;
        else if (s[i] == '.' && !dot) dot = true;
        else if ((s[i] == 'e' || s[i] == 'E') && digits) {
            ++i;
            if (i < s.size() && (s[i] == '-' || s[i] == '+')) ++i;
            if (i >= s.size()) return false;
            for (; i < s.size(); ++i)
                if (!std::isdigit(static_cast<unsigned char>(s[i]))) return false;
            return true;
        } else return false;
    }
    return digits;
}

// "sqlite_autoindex_<table>_<n>": the index SQLite makes for a PRIMARY KEY
// or UNIQUE constraint; it cannot be created by name, only by the
// constraint. Returns n, or 0 for any other name.
int implicit_index_number(const std::string &name) {
    static const std::string kPrefix = "sqlite_autoindex_";
    if (name.compare(0, kPrefix.size(), kPrefix) != 0) return 0;
    size_t us = name.rfind('_');
    if (us == std::string::npos || us + 1 >= name.size()) return 0;
    int n = 0;
    for (size_t i = us + 1; i < name.size(); ++i) {
        if (!std::isdigit(static_cast<unsigned char>(name[i]))) return 0;
        n = n * 10 + (name[i] - '0');
    }
    return n;
}

// Key parts that name a column are quoted; anything else is an expression
// as the database printed it (PostgreSQL: lower((email)::text)).
std::string key_list(const std::vector<std::string> &cols, const std::set<std::string> &columns, char quote,
                     const std::string &where) {
    std::string out;
    for (const auto &c : cols) {
        if (c == "(expression)" || c == "<expression>")
            throw Error("clone: " + where + " has an expression key that introspection does not describe; create it "
                        "on the clone by hand or by a migration",
                        ErrorClass::internal);
        out += (out.empty() ? "" : ", ") + (columns.count(c) ? quote_ident(c, quote) : c);
    }
    return out;
}

} // namespace

std::string quote_ident(const std::string &name, char quote) {
    std::string out(1, quote);
    for (char c : name) {
        if (c == quote) out += quote;
        out += c;
    }
    return out + quote;
}

std::string default_sql(const std::string &value) {
    const std::string v = value;
    if (v.empty()) return "''";
    const std::string l = lower(v);
    if (is_number(v) || v.front() == '\'' || v.front() == '(' || v.find("::") != std::string::npos) return v;
    static const std::set<std::string> kWords = {"null",         "true",         "false",          "current_timestamp",
                                                 "current_date", "current_time", "localtimestamp", "localtime",
                                                 "current_user", "session_user", "user"};
    if (kWords.count(l)) return v;
    // A function call: identifier(...) with balanced parentheses at the end.
    const size_t open = v.find('(');
    if (open != std::string::npos && open > 0 && v.back() == ')' && is_identifier(v.substr(0, open))) return v;
    std::string out = "'";
    for (char c : v) {
        if (c == '\'') out += '\'';
        out += c;
    }
    return out + "'";
}

std::vector<TableDdl> ddl_from_schema(const TenantSchema &schema, char quote, std::vector<std::string> &skipped_views) {
    std::map<std::string, std::vector<const ColumnInfo *>> columns;
    std::map<std::string, std::vector<const IndexInfo *>> indexes;
    for (const auto &c : schema.columns) columns[c.table].push_back(&c);
    for (const auto &ix : schema.indexes) indexes[ix.table].push_back(&ix);
    std::vector<TableDdl> out;
    std::vector<const TableInfo *> tables;
    for (const auto &t : schema.tables) tables.push_back(&t);
    std::sort(tables.begin(), tables.end(), [](const TableInfo *a, const TableInfo *b) { return a->name < b->name; });
    for (const TableInfo *t : tables) {
        if (t->kind != "table") {
            skipped_views.push_back(t->name);
            continue;
        }
        TableDdl d;
        d.table = t->name;
        auto cols = columns[t->name];
        std::sort(cols.begin(), cols.end(), [](const ColumnInfo *a, const ColumnInfo *b) { return a->ordinal < b->ordinal; });
        std::vector<std::string> defs;
        std::vector<std::string> pk_from_columns;
        std::set<std::string> names;
        for (const ColumnInfo *c : cols) names.insert(c->name);
        for (const ColumnInfo *c : cols) {
            d.columns.push_back(c->name);
            std::string def = quote_ident(c->name, quote) + " " + c->data_type;
            if (c->default_value) def += " DEFAULT " + default_sql(*c->default_value);
            if (!c->nullable) def += " NOT NULL";
            defs.push_back(std::move(def));
            if (c->primary_key) pk_from_columns.push_back(c->name);
        }
        if (cols.empty())
            throw Error("clone: introspection reports no columns for table " + t->name, ErrorClass::internal);

        // Keys: implicit ones (created only by constraints) in their original
        // order; then the primary key; then the other indexes by name.
        auto ixs = indexes[t->name];
        std::vector<std::pair<int, const IndexInfo *>> implicit;
        const IndexInfo *primary = nullptr;
        std::vector<const IndexInfo *> plain;
        for (const IndexInfo *ix : ixs) {
            if (int n = implicit_index_number(ix->name); n > 0) implicit.emplace_back(n, ix);
            else if (ix->primary) primary = ix;
            else plain.push_back(ix);
        }
        std::sort(implicit.begin(), implicit.end(),
                  [](const auto &a, const auto &b) { return a.first < b.first; });
        bool pk_done = false;
        for (const auto &[n, ix] : implicit) {
            const std::string keys = key_list(ix->columns, names, quote, "the key of table " + t->name);
            if (ix->primary) {
                defs.push_back("PRIMARY KEY (" + keys + ")");
                pk_done = true;
            } else {
                defs.push_back("UNIQUE (" + keys + ")");
            }
        }
        if (!pk_done) {
            if (primary != nullptr) {
                // A name the database chose itself is left to it ("PRIMARY").
                const bool named = primary->name != "PRIMARY";
                defs.push_back((named ? "CONSTRAINT " + quote_ident(primary->name, quote) + " " : std::string()) +
                               "PRIMARY KEY (" +
                               key_list(primary->columns, names, quote, "the primary key of table " + t->name) + ")");
            } else if (!pk_from_columns.empty()) {
                defs.push_back("PRIMARY KEY (" + key_list(pk_from_columns, names, quote, "table " + t->name) + ")");
            }
        }
        std::string sql = "CREATE TABLE " + quote_ident(t->name, quote) + " (";
        for (size_t i = 0; i < defs.size(); ++i) sql += (i ? ", " : "") + defs[i];
        d.create_table = sql + ")";
        std::sort(plain.begin(), plain.end(), [](const IndexInfo *a, const IndexInfo *b) { return a->name < b->name; });
        for (const IndexInfo *ix : plain)
            d.create_indexes.push_back(std::string("CREATE ") + (ix->unique ? "UNIQUE " : "") + "INDEX " +
                                       quote_ident(ix->name, quote) + " ON " + quote_ident(t->name, quote) + " (" +
                                       key_list(ix->columns, names, quote, "index " + ix->name + " of table " + t->name) +
                                       ")");
        out.push_back(std::move(d));
    }
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
    detail::NativeResult r = detail::InternalAccess::native(s).execute(sql, nullptr, 0, 0);
    r.close();
}

} // namespace

CloneResult TenantManager::clone_tenant(std::string_view source_id, std::string_view target_id,
                                        const CloneOptions &options) const {
    const auto start = Clock::now();
    const std::string src(source_id), dst(target_id);
    detail::validate_tenant_id(src);
    detail::validate_tenant_id(dst);
    if (src == dst) throw Error("clone: source and target are the same tenant \"" + src + "\"", ErrorClass::config);
    if (!exists(src))
        throw Error("clone: tenant \"" + src + "\" does not exist (no " + namespace_of(src) + ")", ErrorClass::config);

    CloneResult result;
    result.source = src;
    result.target = dst;
    const TenantSchema schema = introspect(src);
    const char quote = state_->template_conn.dialect().identifier_quote;
    const std::vector<detail::TableDdl> ddl = detail::ddl_from_schema(schema, quote, result.skipped_views);

    // Anonymization rules must name what exists: a typo would copy the
    // original values silently.
    const bool anonymize = options.include_data && options.anonymize.enabled;
    if (anonymize)
        for (const auto &rule : options.anonymize.rules) {
            const std::string &table = rule.first;
            const auto &cols = rule.second;
            auto t = std::find_if(ddl.begin(), ddl.end(), [&](const detail::TableDdl &d) { return d.table == table; });
            if (t == ddl.end())
                throw Error("clone: anonymization rule for table \"" + table + "\", which tenant \"" + src +
                                "\" does not have",
                            ErrorClass::config);
            for (const auto &kv : cols)
                if (std::find(t->columns.begin(), t->columns.end(), kv.first) == t->columns.end())
                    throw Error("clone: anonymization rule for column \"" + table + "." + kv.first +
                                    "\", which does not exist",
                                ErrorClass::config);
        }

    const bool created = !exists(dst);
    state_->create_namespace(dst);
    try {
        Connection source = get(src), target = get(dst);
        Session out = target.acquire();
        if (!out.tables().empty())
            throw Error("clone: tenant \"" + dst + "\" already has tables; drop it first (tenants:drop) or choose "
                        "another id",
                        ErrorClass::config);
        for (const auto &d : ddl) {
            try {
                run_native(out, d.create_table);
                for (const auto &ix : d.create_indexes) run_native(out, ix);
            } catch (const Error &e) {
                throw Error("clone: creating table " + d.table + " in tenant \"" + dst + "\" failed: " + e.what() +
                                " (defaults that refer to sequences, types or other objects are not cloned)",
                            e.error_class(), e.connection(), e.sqlstate(), e.native_code());
            }
            result.tables.push_back(d.table);
        }

        const std::string migrations_table = MigrationsOptions{}.table_name;
        const uint32_t max_params = target.dialect().max_params;
        for (const auto &d : ddl) {
            if (!options.include_data && d.table != migrations_table) continue;
            const size_t ncols = d.columns.size();
            size_t per_batch = static_cast<size_t>(std::max(1, options.batch_rows));
            if (max_params > 0) per_batch = std::max<size_t>(1, std::min(per_batch, max_params / ncols));
            std::string column_list;
            for (const auto &c : d.columns) column_list += (column_list.empty() ? "" : ", ") + detail::quote_ident(c, quote);
            std::string one_row = "(";
            for (size_t i = 0; i < ncols; ++i) one_row += i ? ", ?" : "?";
            one_row += ")";
            const std::string insert_head = "INSERT INTO " + detail::quote_ident(d.table, quote) + " (" + column_list + ") VALUES ";
            // Which columns are replaced, by position.
            std::vector<const std::optional<std::string> *> rules(ncols, nullptr);
            if (anonymize)
                if (auto it = options.anonymize.rules.find(d.table); it != options.anonymize.rules.end())
                    for (size_t i = 0; i < ncols; ++i)
                        if (auto r = it->second.find(d.columns[i]); r != it->second.end()) rules[i] = &r->second;

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
            in.stream("SELECT " + column_list + " FROM " + detail::quote_ident(d.table, quote), {},
                      [&](const Row &row) {
                          ++row_number;
                          for (size_t i = 0; i < ncols; ++i)
                              batch.push_back(rules[i] ? detail::anonymized_value(*rules[i], row_number) : Value(row[i]));
                          if (++rows_in_batch == per_batch) flush();
                      });
            flush();
            out.commit();
        }
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
    ilana::logger()->info("tenants: cloned {} to {}: {} tables, {} rows", src, dst, result.tables.size(),
                          result.rows_copied);
    return result;
}

} // namespace ilana
