// QueryBuilder: clauses are checked when they are added (so a bad
// identifier or operator fails at the call that made it) and written as SQL
// for the dialect of the connection a terminal runs on.
#include <ilana/query.hpp>

#include "common/ascii.hpp"
#include "db/pool_access.hpp"
#include "query/sql_text.hpp"
#include "replicas/replica_router.hpp"

#include <ilana/driver.h>

#include <algorithm>
#include <cstdio>

namespace ilana {

using detail::append_identifier;

namespace {

constexpr size_t kMaxRowsPerStatement = 1000;
constexpr uint32_t kDefaultMaxParams = 999; // a driver that states no limit: SQLite's old default

// The identifier as it may be shown in a message: control characters escaped.
std::string printable(std::string_view s) {
    std::string out;
    for (char ch : s) {
        auto c = static_cast<unsigned char>(ch);
        if (c < 0x20 || c == 0x7f) {
            char buf[8];
            std::snprintf(buf, sizeof buf, "\\x%02x", c);
            out += buf;
        } else {
            out += ch;
        }
    }
    return out;
}

void append_placeholders(std::string &sql, size_t n) {
    for (size_t i = 0; i < n; ++i) sql += i ? ", ?" : "?";
}

// The table without its alias, for INSERT / UPDATE / DELETE.
std::string_view base_table(std::string_view table) {
    size_t sp = table.find(' ');
    return sp == std::string_view::npos ? table : table.substr(0, sp);
}

std::string column_list(const std::vector<std::string> &cols) {
    std::string s;
    for (size_t i = 0; i < cols.size(); ++i) s += (i ? ", " : "") + cols[i];
    return s;
}

const Value *find_field(const Fields &row, std::string_view name) {
    for (const auto &f : row)
        if (f.first == name) return &f.second;
    return nullptr;
}

} // namespace

// ---- Record -----------------------------------------------------------------

Record::Record(Result result, size_t row) : result_(std::move(result)), row_(row) {
    if (row_ >= result_.size())
        throw Error("ilana::Record: row " + std::to_string(row) + " of a result with " +
                        std::to_string(result_.size()) + " row(s)",
                    ErrorClass::internal);
}

Fields Record::to_fields() const {
    Fields out;
    Row r = row();
    for (size_t i = 0; i < r.size(); ++i) out.emplace_back(r.columns()[i].name, Value(r[i]));
    return out;
}

// ---- construction ---------------------------------------------------------------

QueryBuilder::QueryBuilder(const Dialect &dialect, std::string_view table, std::string connection_name)
    : dialect_(dialect), connection_name_(std::move(connection_name)) {
    table_ = check_identifier(table, "table", true, false);
}

QueryBuilder::QueryBuilder(Connection connection, std::string_view table)
    : QueryBuilder(connection.dialect(), table, connection.name()) {
    conn_.emplace(std::move(connection));
}

QueryBuilder::QueryBuilder(Session &session, std::string_view table)
    : QueryBuilder(session.dialect(), table, session.connection_name()) {
    session_ = &session;
    conn_.emplace(detail::connection_of(session));
}

QueryBuilder QueryBuilder::for_dialect(const Dialect &dialect, std::string_view table) {
    return QueryBuilder(dialect, table, std::string());
}

// ---- checks -----------------------------------------------------------------------

void QueryBuilder::fail(const std::string &message) const {
    std::string where = "query builder";
    if (!table_.empty()) where += " on '" + table_ + "'";
    if (!connection_name_.empty()) where += " (connection '" + connection_name_ + "')";
    throw Error(where + ": " + message, ErrorClass::syntax, connection_name_);
}

std::string QueryBuilder::check_identifier(std::string_view id, const char *fn, bool allow_alias,
                                           bool allow_star) const {
    std::string problem = detail::identifier_problem(id, allow_alias, allow_star);
    if (!problem.empty())
        fail(std::string(fn) + "(): invalid identifier '" + printable(id) + "': " + problem +
             ". Identifiers may be name, table.name, *, table.* or `name AS alias`; write expressions with "
             "selectRaw / whereRaw / havingRaw / orderByRaw");
    return std::string(id);
}

std::string QueryBuilder::check_operator(std::string_view op, const char *fn) const {
    auto canon = detail::canonical_operator(op);
    if (!canon)
        fail(std::string(fn) + "(): operator '" + printable(op) + "' is not allowed; allowed operators: " +
             detail::allowed_operators());
    if (*canon == "ILIKE" && !detail::dialect_has_ilike(dialect_))
        fail(std::string(fn) + "(): operator 'ilike' exists on PostgreSQL only, not in this connection's "
                               "dialect; use like (case-insensitive with MySQL's default collations) or "
                               "whereRaw(\"LOWER(col) LIKE LOWER(?)\", {...})");
    return *canon;
}

// ---- settings and select list ---------------------------------------------------------

QueryBuilder &QueryBuilder::primaryKey(std::string_view column) {
    primary_key_ = check_identifier(column, "primaryKey", false, false);
    return *this;
}
QueryBuilder &QueryBuilder::timestamps(bool on) {
    timestamps_ = on;
    return *this;
}
QueryBuilder &QueryBuilder::all_rows() {
    all_rows_ = true;
    return *this;
}
QueryBuilder &QueryBuilder::distinct(bool on) {
    distinct_ = on;
    return *this;
}

QueryBuilder &QueryBuilder::select(const std::vector<std::string> &columns) {
    std::vector<SelectItem> items;
    for (const auto &c : columns) items.push_back(SelectItem{false, check_identifier(c, "select", true, true), {}});
    for (auto &i : items) select_.push_back(std::move(i));
    return *this;
}

QueryBuilder &QueryBuilder::selectRaw(std::string_view sql, std::vector<Value> bindings) {
    if (sql.empty()) fail("selectRaw(): empty SQL");
    select_.push_back(SelectItem{true, std::string(sql), std::move(bindings)});
    return *this;
}

// ---- where --------------------------------------------------------------------------

QueryBuilder &QueryBuilder::add_basic(bool is_or, std::string_view column, std::string_view op, Value value,
                                      const char *fn) {
    Condition c;
    c.kind = Condition::Kind::basic;
    c.is_or = is_or;
    c.column = check_identifier(column, fn, false, false);
    c.op = check_operator(op, fn);
    if ((c.op == "IS" || c.op == "IS NOT") && !value.is_null() && value.type() != Type::boolean)
        fail(std::string(fn) + "(): operator '" + c.op + "' takes NULL or a bool, not a " + to_string(value.type()) +
             " value; use = or <> for values");
    c.values.push_back(std::move(value));
    wheres_.push_back(std::move(c));
    return *this;
}

QueryBuilder &QueryBuilder::add_in(bool is_or, bool negate, std::string_view column, std::vector<Value> values,
                                   const char *fn) {
    Condition c;
    c.kind = negate ? Condition::Kind::not_in : Condition::Kind::in;
    c.is_or = is_or;
    c.column = check_identifier(column, fn, false, false);
    c.values = std::move(values);
    wheres_.push_back(std::move(c));
    return *this;
}

QueryBuilder &QueryBuilder::add_null(bool is_or, bool negate, std::string_view column, const char *fn) {
    Condition c;
    c.kind = negate ? Condition::Kind::not_null : Condition::Kind::null;
    c.is_or = is_or;
    c.column = check_identifier(column, fn, false, false);
    wheres_.push_back(std::move(c));
    return *this;
}

QueryBuilder &QueryBuilder::add_between(bool is_or, bool negate, std::string_view column, Value lo, Value hi,
                                        const char *fn) {
    Condition c;
    c.kind = negate ? Condition::Kind::not_between : Condition::Kind::between;
    c.is_or = is_or;
    c.column = check_identifier(column, fn, false, false);
    c.values.push_back(std::move(lo));
    c.values.push_back(std::move(hi));
    wheres_.push_back(std::move(c));
    return *this;
}

QueryBuilder &QueryBuilder::add_raw(bool is_or, std::string_view sql, std::vector<Value> bindings, const char *fn) {
    if (sql.empty()) fail(std::string(fn) + "(): empty SQL");
    Condition c;
    c.kind = Condition::Kind::raw;
    c.is_or = is_or;
    c.raw = std::string(sql);
    c.values = std::move(bindings);
    wheres_.push_back(std::move(c));
    return *this;
}

QueryBuilder &QueryBuilder::add_group(bool is_or, const std::function<void(QueryBuilder &)> &fn) {
    if (!fn) fail("where(group): empty function");
    QueryBuilder sub = *this;
    sub.wheres_.clear();
    fn(sub);
    if (sub.wheres_.empty()) return *this; // an empty group adds nothing
    Condition c;
    c.kind = Condition::Kind::group;
    c.is_or = is_or;
    c.group = std::move(sub.wheres_);
    wheres_.push_back(std::move(c));
    return *this;
}

QueryBuilder &QueryBuilder::where(std::string_view column, std::string_view op, Value value) {
    return add_basic(false, column, op, std::move(value), "where");
}
QueryBuilder &QueryBuilder::where(std::string_view column, Value value) {
    return add_basic(false, column, "=", std::move(value), "where");
}
QueryBuilder &QueryBuilder::where(const std::function<void(QueryBuilder &)> &group) { return add_group(false, group); }
QueryBuilder &QueryBuilder::orWhere(std::string_view column, std::string_view op, Value value) {
    return add_basic(true, column, op, std::move(value), "orWhere");
}
QueryBuilder &QueryBuilder::orWhere(std::string_view column, Value value) {
    return add_basic(true, column, "=", std::move(value), "orWhere");
}
QueryBuilder &QueryBuilder::orWhere(const std::function<void(QueryBuilder &)> &group) {
    return add_group(true, group);
}
QueryBuilder &QueryBuilder::whereIn(std::string_view column, std::vector<Value> values) {
    return add_in(false, false, column, std::move(values), "whereIn");
}
QueryBuilder &QueryBuilder::whereNotIn(std::string_view column, std::vector<Value> values) {
    return add_in(false, true, column, std::move(values), "whereNotIn");
}
QueryBuilder &QueryBuilder::orWhereIn(std::string_view column, std::vector<Value> values) {
    return add_in(true, false, column, std::move(values), "orWhereIn");
}
QueryBuilder &QueryBuilder::orWhereNotIn(std::string_view column, std::vector<Value> values) {
    return add_in(true, true, column, std::move(values), "orWhereNotIn");
}
QueryBuilder &QueryBuilder::whereNull(std::string_view column) { return add_null(false, false, column, "whereNull"); }
QueryBuilder &QueryBuilder::whereNotNull(std::string_view column) {
    return add_null(false, true, column, "whereNotNull");
}
QueryBuilder &QueryBuilder::orWhereNull(std::string_view column) { return add_null(true, false, column, "orWhereNull"); }
QueryBuilder &QueryBuilder::orWhereNotNull(std::string_view column) {
    return add_null(true, true, column, "orWhereNotNull");
}
QueryBuilder &QueryBuilder::whereBetween(std::string_view column, Value low, Value high) {
    return add_between(false, false, column, std::move(low), std::move(high), "whereBetween");
}
QueryBuilder &QueryBuilder::whereNotBetween(std::string_view column, Value low, Value high) {
    return add_between(false, true, column, std::move(low), std::move(high), "whereNotBetween");
}
QueryBuilder &QueryBuilder::orWhereBetween(std::string_view column, Value low, Value high) {
    return add_between(true, false, column, std::move(low), std::move(high), "orWhereBetween");
}
QueryBuilder &QueryBuilder::whereRaw(std::string_view sql, std::vector<Value> bindings) {
    return add_raw(false, sql, std::move(bindings), "whereRaw");
}
QueryBuilder &QueryBuilder::orWhereRaw(std::string_view sql, std::vector<Value> bindings) {
    return add_raw(true, sql, std::move(bindings), "orWhereRaw");
}

// ---- joins, grouping, order, paging ---------------------------------------------------

QueryBuilder &QueryBuilder::add_join(const char *kind, std::string_view table, std::string_view left,
                                     std::string_view op, std::string_view right) {
    const char *fn = std::string_view(kind) == "LEFT JOIN" ? "leftJoin" : "join";
    JoinClause j;
    j.kind = kind;
    j.table = check_identifier(table, fn, true, false);
    j.left = check_identifier(left, fn, false, false);
    j.right = check_identifier(right, fn, false, false);
    j.op = check_operator(op, fn);
    static const char *const comparisons[] = {"=", "!=", "<>", "<", "<=", ">", ">="};
    if (std::none_of(std::begin(comparisons), std::end(comparisons), [&](const char *c) { return j.op == c; }))
        fail(std::string(fn) + "(): operator '" + printable(op) + "' cannot join columns; use =, !=, <>, <, <=, > or >=");
    joins_.push_back(std::move(j));
    return *this;
}

QueryBuilder &QueryBuilder::join(std::string_view table, std::string_view left, std::string_view op,
                                 std::string_view right) {
    return add_join("INNER JOIN", table, left, op, right);
}
QueryBuilder &QueryBuilder::leftJoin(std::string_view table, std::string_view left, std::string_view op,
                                     std::string_view right) {
    return add_join("LEFT JOIN", table, left, op, right);
}

QueryBuilder &QueryBuilder::groupBy(const std::vector<std::string> &columns) {
    std::vector<std::string> checked;
    for (const auto &c : columns) checked.push_back(check_identifier(c, "groupBy", false, false));
    for (auto &c : checked) groups_.push_back(std::move(c));
    return *this;
}

QueryBuilder &QueryBuilder::having(std::string_view column, std::string_view op, Value value) {
    Condition c;
    c.kind = Condition::Kind::basic;
    c.column = check_identifier(column, "having", false, false);
    c.op = check_operator(op, "having");
    if ((c.op == "IS" || c.op == "IS NOT") && !value.is_null() && value.type() != Type::boolean)
        fail("having(): operator '" + c.op + "' takes NULL or a bool");
    c.values.push_back(std::move(value));
    havings_.push_back(std::move(c));
    return *this;
}

QueryBuilder &QueryBuilder::havingRaw(std::string_view sql, std::vector<Value> bindings) {
    if (sql.empty()) fail("havingRaw(): empty SQL");
    Condition c;
    c.kind = Condition::Kind::raw;
    c.raw = std::string(sql);
    c.values = std::move(bindings);
    havings_.push_back(std::move(c));
    return *this;
}

QueryBuilder &QueryBuilder::orderBy(std::string_view column, std::string_view direction) {
    OrderItem o;
    o.text = check_identifier(column, "orderBy", false, false);
    if (detail::iequals_ascii(direction, "desc"))
        o.desc = true;
    else if (!detail::iequals_ascii(direction, "asc"))
        fail("orderBy(): direction '" + printable(direction) + "' is not asc or desc");
    orders_.push_back(std::move(o));
    return *this;
}

QueryBuilder &QueryBuilder::orderByRaw(std::string_view sql, std::vector<Value> bindings) {
    if (sql.empty()) fail("orderByRaw(): empty SQL");
    OrderItem o;
    o.raw = true;
    o.text = std::string(sql);
    o.bindings = std::move(bindings);
    orders_.push_back(std::move(o));
    return *this;
}

QueryBuilder &QueryBuilder::limit(int64_t n) {
    if (n < 0) fail("limit(): " + std::to_string(n) + " is negative");
    limit_ = n;
    return *this;
}

QueryBuilder &QueryBuilder::offset(int64_t n) {
    if (n < 0) fail("offset(): " + std::to_string(n) + " is negative");
    offset_ = n;
    return *this;
}

// ---- SQL ------------------------------------------------------------------------------

void QueryBuilder::compile_from(const Dialect &d, std::string &sql, std::vector<Value> &) const {
    sql += " FROM ";
    append_identifier(sql, table_, d.identifier_quote);
    for (const auto &j : joins_) {
        sql += ' ';
        sql += j.kind;
        sql += ' ';
        append_identifier(sql, j.table, d.identifier_quote);
        sql += " ON ";
        append_identifier(sql, j.left, d.identifier_quote);
        sql += ' ' + j.op + ' ';
        append_identifier(sql, j.right, d.identifier_quote);
    }
}

void QueryBuilder::compile_conditions(const Dialect &d, const std::vector<Condition> &conds, std::string &sql,
                                      std::vector<Value> &b) const {
    using K = Condition::Kind;
    const char q = d.identifier_quote;
    for (size_t i = 0; i < conds.size(); ++i) {
        const Condition &c = conds[i];
        if (i > 0) sql += c.is_or ? " OR " : " AND ";
        switch (c.kind) {
        case K::basic: {
            append_identifier(sql, c.column, q);
            const Value &v = c.values.front();
            const bool is_op = c.op == "IS" || c.op == "IS NOT";
            if (v.is_null() && (is_op || c.op == "=" || c.op == "!=" || c.op == "<>")) {
                sql += (c.op == "=" || c.op == "IS") ? " IS NULL" : " IS NOT NULL";
            } else if (is_op) {
                sql += ' ' + c.op + (v.as<bool>() ? " TRUE" : " FALSE");
            } else {
                sql += ' ' + c.op + " ?";
                b.push_back(v);
            }
            break;
        }
        case K::null:
        case K::not_null:
            append_identifier(sql, c.column, q);
            sql += c.kind == K::null ? " IS NULL" : " IS NOT NULL";
            break;
        case K::in:
        case K::not_in:
            if (c.values.empty()) {
                // No values: IN () is not SQL; the predicate is constant.
                sql += c.kind == K::in ? "1 = 0" : "1 = 1";
                break;
            }
            append_identifier(sql, c.column, q);
            sql += c.kind == K::in ? " IN (" : " NOT IN (";
            append_placeholders(sql, c.values.size());
            sql += ')';
            b.insert(b.end(), c.values.begin(), c.values.end());
            break;
        case K::between:
        case K::not_between:
            append_identifier(sql, c.column, q);
            sql += c.kind == K::between ? " BETWEEN ? AND ?" : " NOT BETWEEN ? AND ?";
            b.insert(b.end(), c.values.begin(), c.values.end());
            break;
        case K::raw:
            sql += '(' + c.raw + ')';
            b.insert(b.end(), c.values.begin(), c.values.end());
            break;
        case K::group:
            sql += '(';
            compile_conditions(d, c.group, sql, b);
            sql += ')';
            break;
        }
    }
}

void QueryBuilder::compile_where(const Dialect &d, std::string &sql, std::vector<Value> &b) const {
    if (wheres_.empty()) return;
    sql += " WHERE ";
    compile_conditions(d, wheres_, sql, b);
}

void QueryBuilder::compile_group_having(const Dialect &d, std::string &sql, std::vector<Value> &b) const {
    if (!groups_.empty()) {
        sql += " GROUP BY ";
        for (size_t i = 0; i < groups_.size(); ++i) {
            if (i) sql += ", ";
            append_identifier(sql, groups_[i], d.identifier_quote);
        }
    }
    if (!havings_.empty()) {
        sql += " HAVING ";
        compile_conditions(d, havings_, sql, b);
    }
}

namespace {
void append_limit(const Dialect &d, std::string &sql, const std::optional<int64_t> &limit,
                  const std::optional<int64_t> &offset) {
    if (!limit && !offset) return;
    if (d.limit_form == ILANA_LIMIT_OFFSET_FETCH) {
        sql += " OFFSET " + std::to_string(offset.value_or(0)) + " ROWS";
        if (limit) sql += " FETCH NEXT " + std::to_string(*limit) + " ROWS ONLY";
        return;
    }
    // MySQL and SQLite have no OFFSET without LIMIT: "no limit" is the
    // largest BIGINT, which all three accept.
    sql += " LIMIT " + (limit ? std::to_string(*limit) : std::string("9223372036854775807"));
    if (offset) sql += " OFFSET " + std::to_string(*offset);
}
} // namespace

void QueryBuilder::compile_order_limit(const Dialect &d, std::string &sql, std::vector<Value> &b) const {
    if (!orders_.empty()) {
        sql += " ORDER BY ";
        for (size_t i = 0; i < orders_.size(); ++i) {
            if (i) sql += ", ";
            const OrderItem &o = orders_[i];
            if (o.raw) {
                sql += o.text;
                b.insert(b.end(), o.bindings.begin(), o.bindings.end());
            } else {
                append_identifier(sql, o.text, d.identifier_quote);
                sql += o.desc ? " DESC" : " ASC";
            }
        }
    }
    append_limit(d, sql, limit_, offset_);
}

Sql QueryBuilder::compile_select(const Dialect &d) const {
    Sql out;
    std::string &sql = out.sql;
    sql = distinct_ ? "SELECT DISTINCT " : "SELECT ";
    if (select_.empty()) sql += '*';
    for (size_t i = 0; i < select_.size(); ++i) {
        if (i) sql += ", ";
        const SelectItem &s = select_[i];
        if (s.raw) {
            sql += s.text;
            out.bindings.insert(out.bindings.end(), s.bindings.begin(), s.bindings.end());
        } else {
            append_identifier(sql, s.text, d.identifier_quote);
        }
    }
    compile_from(d, sql, out.bindings);
    compile_where(d, sql, out.bindings);
    compile_group_having(d, sql, out.bindings);
    compile_order_limit(d, sql, out.bindings);
    return out;
}

Sql QueryBuilder::compile_aggregate(const Dialect &d, Aggregate fn, const std::string &column) const {
    static const char *const names[] = {"COUNT", "SUM", "AVG", "MIN", "MAX"};
    const char *name = names[static_cast<int>(fn)];
    const std::string alias = detail::quote_identifier("aggregate", d.identifier_quote);
    std::string expr = std::string(name) + '(';
    if (column == "*") expr += '*';
    else append_identifier(expr, column, d.identifier_quote);
    expr += ')';

    Sql out;
    const bool shaped = distinct_ || !groups_.empty() || !havings_.empty() || limit_ || offset_;
    if (shaped) {
        // COUNT of a grouped / distinct / limited query counts its rows.
        QueryBuilder inner = *this;
        inner.orders_.clear();
        // SELECT * of a grouped query is not SQL (PostgreSQL): one row per
        // group is what is counted, so select the groups.
        if (inner.select_.empty() && !inner.groups_.empty())
            for (const auto &g : inner.groups_) inner.select_.push_back(SelectItem{false, g, {}});
        Sql sub = inner.compile_select(d);
        out.sql = "SELECT COUNT(*) AS " + alias + " FROM (" + sub.sql + ") AS " +
                  detail::quote_identifier("ilana_count", d.identifier_quote);
        out.bindings = std::move(sub.bindings);
        return out;
    }
    out.sql = "SELECT " + expr + " AS " + alias;
    // Raw select bindings are not part of an aggregate; the rest is.
    compile_from(d, out.sql, out.bindings);
    compile_where(d, out.sql, out.bindings);
    return out;
}

Sql QueryBuilder::compile_exists(const Dialect &d) const {
    Sql out;
    out.sql = "SELECT 1 AS " + detail::quote_identifier("exists", d.identifier_quote);
    compile_from(d, out.sql, out.bindings);
    compile_where(d, out.sql, out.bindings);
    compile_group_having(d, out.sql, out.bindings);
    append_limit(d, out.sql, int64_t{1}, std::nullopt);
    return out;
}

Sql QueryBuilder::compile_insert(const Dialect &d, const std::vector<std::string> &cols,
                                 const std::vector<Fields> &rows, size_t begin, size_t end, bool returning) const {
    Sql out;
    std::string &sql = out.sql;
    sql = "INSERT INTO ";
    append_identifier(sql, base_table(table_), d.identifier_quote);
    sql += " (";
    for (size_t i = 0; i < cols.size(); ++i) {
        if (i) sql += ", ";
        append_identifier(sql, cols[i], d.identifier_quote);
    }
    sql += ") VALUES ";
    out.bindings.reserve((end - begin) * cols.size());
    for (size_t r = begin; r < end; ++r) {
        sql += r == begin ? "(" : ", (";
        append_placeholders(sql, cols.size());
        sql += ')';
        for (const auto &f : rows[r]) out.bindings.push_back(f.second);
    }
    if (returning) sql += " RETURNING *";
    return out;
}

Sql QueryBuilder::compile_update(const Dialect &d, const Fields &values, const std::string *increment_column,
                                 const Value *increment_by, bool negate) const {
    Sql out;
    std::string &sql = out.sql;
    const char q = d.identifier_quote;
    sql = "UPDATE ";
    append_identifier(sql, base_table(table_), q);
    sql += " SET ";
    bool first = true;
    if (increment_column) {
        append_identifier(sql, *increment_column, q);
        sql += " = ";
        append_identifier(sql, *increment_column, q);
        sql += negate ? " - ?" : " + ?";
        out.bindings.push_back(*increment_by);
        first = false;
    }
    for (const auto &f : values) {
        if (!first) sql += ", ";
        first = false;
        append_identifier(sql, f.first, q);
        sql += " = ?";
        out.bindings.push_back(f.second);
    }
    compile_where(d, sql, out.bindings);
    return out;
}

Sql QueryBuilder::compile_delete(const Dialect &d) const {
    Sql out;
    out.sql = "DELETE FROM ";
    append_identifier(out.sql, base_table(table_), d.identifier_quote);
    compile_where(d, out.sql, out.bindings);
    return out;
}

Sql QueryBuilder::toSql() const { return compile_select(dialect_); }

// ---- running ---------------------------------------------------------------------------

Result QueryBuilder::run_read(const std::function<Sql(const Dialect &)> &make) const {
    if (session_ != nullptr) {
        Sql s = make(dialect_);
        return session_->query(s.sql, s.bindings);
    }
    if (!conn_)
        fail("this builder only writes SQL (QueryBuilder::for_dialect); make it with Connection::table() to run it");
    return detail::routed_read(*conn_, [&](const Connection &c) {
        Sql s = make(c.dialect());
        return c.query(s.sql, s.bindings);
    });
}

void QueryBuilder::note_write() const {
    if (conn_) detail::note_write(detail::state_of(*conn_));
}

ExecResult QueryBuilder::run_write(const Sql &s) const {
    if (session_ != nullptr) {
        ExecResult r = session_->execute(s.sql, s.bindings);
        note_write();
        return r;
    }
    if (!conn_)
        fail("this builder only writes SQL (QueryBuilder::for_dialect); make it with Connection::table() to run it");
    ExecResult r = conn_->execute(s.sql, s.bindings);
    note_write();
    return r;
}

Result QueryBuilder::run_write_query(const Sql &s) const {
    if (session_ != nullptr) {
        Result r = session_->query(s.sql, s.bindings);
        note_write();
        return r;
    }
    if (!conn_)
        fail("this builder only writes SQL (QueryBuilder::for_dialect); make it with Connection::table() to run it");
    Result r = conn_->query(s.sql, s.bindings);
    note_write();
    return r;
}

// ---- reads ---------------------------------------------------------------------------------

Result QueryBuilder::get() const {
    return run_read([this](const Dialect &d) { return compile_select(d); });
}

std::optional<Record> QueryBuilder::first() const {
    QueryBuilder one = *this;
    one.limit_ = 1;
    Result r = one.get();
    if (r.empty()) return std::nullopt;
    return Record(std::move(r));
}

std::optional<Record> QueryBuilder::find(const Value &id) const {
    QueryBuilder q = *this;
    q.where(primary_key_, id);
    return q.first();
}

Value QueryBuilder::aggregate(Aggregate fn, std::string_view column, const char *name) const {
    std::string col = column == "*" && fn == Aggregate::count ? std::string("*")
                                                              : check_identifier(column, name, false, false);
    if (fn != Aggregate::count && (distinct_ || !groups_.empty() || !havings_.empty() || limit_ || offset_))
        fail(std::string(name) + "() of a grouped, distinct or limited query is ambiguous; write it with "
                                 "selectRaw(\"SUM(x) AS total\").groupBy(...).get()");
    Result r = run_read([&](const Dialect &d) { return compile_aggregate(d, fn, col); });
    if (r.empty() || r.columns().empty()) return Value();
    return Value(r[0][0]);
}

int64_t QueryBuilder::count(std::string_view column) const {
    Value v = aggregate(Aggregate::count, column, "count");
    return v.is_null() ? 0 : v.as<int64_t>();
}
Value QueryBuilder::sum(std::string_view column) const { return aggregate(Aggregate::sum, column, "sum"); }
Value QueryBuilder::avg(std::string_view column) const { return aggregate(Aggregate::avg, column, "avg"); }
Value QueryBuilder::min(std::string_view column) const { return aggregate(Aggregate::min, column, "min"); }
Value QueryBuilder::max(std::string_view column) const { return aggregate(Aggregate::max, column, "max"); }

bool QueryBuilder::exists() const {
    return !run_read([this](const Dialect &d) { return compile_exists(d); }).empty();
}

Page QueryBuilder::paginate(int page, int per_page) const {
    if (page < 1) fail("paginate(): page " + std::to_string(page) + " is less than 1");
    if (per_page < 1) fail("paginate(): per_page " + std::to_string(per_page) + " is less than 1");
    QueryBuilder counter = *this;
    counter.orders_.clear();
    counter.limit_.reset();
    counter.offset_.reset();
    Page p;
    p.total = counter.count();
    p.page = page;
    p.per_page = per_page;
    const int64_t last = (p.total + per_page - 1) / per_page;
    p.last_page = static_cast<int>(std::max<int64_t>(1, last));
    QueryBuilder rows = *this;
    rows.limit_ = per_page;
    rows.offset_ = static_cast<int64_t>(page - 1) * per_page;
    p.data = rows.get();
    return p;
}

// ---- writes ----------------------------------------------------------------------------------

void QueryBuilder::require_writable(const char *fn, bool needs_where) const {
    if (!joins_.empty() || !orders_.empty() || limit_ || offset_ || !groups_.empty() || !havings_.empty() ||
        distinct_ || !select_.empty())
        fail(std::string(fn) + "() takes the table and where...() clauses only (no select, join, orderBy, "
                               "groupBy, having, limit, offset or distinct): those are not portable in writes; "
                               "use whereIn / whereRaw with a subquery instead");
    if (needs_where && wheres_.empty() && !all_rows_)
        fail(std::string(fn) + "() without a where clause would change every row of '" + table_ +
             "'; add where...() or call all_rows() first to mean it");
}

void QueryBuilder::add_timestamps(Fields &row, bool created) const {
    if (!timestamps_) return;
    const TimestampTz now = TimestampTz::now();
    // DATETIME has no zone in the MySQL family: the UTC wall clock.
    const Value v = detail::dialect_has_zoned_timestamps(dialect_) ? Value(now) : Value(Timestamp{now.micros_since_epoch});
    if (created && !find_field(row, "created_at")) row.emplace_back("created_at", v);
    if (!find_field(row, "updated_at")) row.emplace_back("updated_at", v);
}

std::vector<std::string> QueryBuilder::normalize_rows(std::vector<Fields> &rows, const char *fn) const {
    std::vector<std::string> cols;
    if (rows.empty()) return cols;
    if (rows[0].empty()) fail(std::string(fn) + "(): rows[0] has no columns");
    for (const auto &f : rows[0]) {
        check_identifier(f.first, fn, false, false);
        if (std::find(cols.begin(), cols.end(), f.first) != cols.end())
            fail(std::string(fn) + "(): rows[0] names column '" + f.first + "' twice");
        cols.push_back(f.first);
    }
    for (size_t r = 1; r < rows.size(); ++r) {
        Fields &row = rows[r];
        bool same = row.size() == cols.size();
        Fields ordered;
        if (same) {
            ordered.reserve(cols.size());
            for (const auto &c : cols) {
                const Value *v = find_field(row, c);
                if (v == nullptr) {
                    same = false;
                    break;
                }
                ordered.emplace_back(c, *v);
            }
        }
        if (!same) {
            std::vector<std::string> got;
            for (const auto &f : row) got.push_back(f.first);
            fail(std::string(fn) + "(): rows[" + std::to_string(r) + "] has columns (" + column_list(got) +
                 ") but rows[0] has (" + column_list(cols) + "); every row must have the same columns");
        }
        row = std::move(ordered);
    }
    return cols;
}

int64_t QueryBuilder::write_batches(const std::vector<Fields> &rows_in, const char *fn,
                                    const BatchCompiler &make) const {
    require_writable(fn, false);
    if (rows_in.empty()) return 0;
    std::vector<Fields> rows = rows_in;
    for (auto &r : rows) add_timestamps(r, true);
    const std::vector<std::string> cols = normalize_rows(rows, fn);
    const uint32_t max_params = dialect_.max_params ? dialect_.max_params : kDefaultMaxParams;
    if (cols.size() > max_params)
        fail(std::string(fn) + "(): " + std::to_string(cols.size()) + " columns are more than the " +
             std::to_string(max_params) + " parameters one statement may bind");
    const size_t per = std::min(kMaxRowsPerStatement, static_cast<size_t>(max_params / cols.size()));
    auto run_all = [&](const std::function<ExecResult(const Sql &)> &exec) {
        int64_t affected = 0;
        for (size_t b = 0; b < rows.size(); b += per) {
            ExecResult r = exec(make(dialect_, cols, rows, b, std::min(rows.size(), b + per)));
            if (r.affected_rows > 0) affected += r.affected_rows;
        }
        return affected;
    };
    if (rows.size() <= per || session_ != nullptr) return run_all([this](const Sql &s) { return run_write(s); });
    if (!conn_) fail(std::string(fn) + "(): this builder only writes SQL (QueryBuilder::for_dialect)");
    // Several statements: one transaction, so the rows go in all or none.
    const int64_t n = conn_->transaction(
        [&](Session &tx) { return run_all([&](const Sql &s) { return tx.execute(s.sql, s.bindings); }); });
    note_write();
    return n;
}

int64_t QueryBuilder::insert(const Fields &row) const { return insert(std::vector<Fields>{row}); }

int64_t QueryBuilder::insert(const std::vector<Fields> &rows) const {
    return write_batches(rows, "insert",
                         [this](const Dialect &d, const std::vector<std::string> &cols,
                                const std::vector<Fields> &all, size_t b, size_t e) {
                             return compile_insert(d, cols, all, b, e, false);
                         });
}

int64_t QueryBuilder::upsert(const std::vector<Fields> &rows, const std::vector<std::string> &conflict_columns,
                             const std::vector<std::string> &update_columns) const {
    if (dialect_.upsert_form == ILANA_UPSERT_NONE)
        fail("upsert(): this connection's driver states no upsert form (ILANA_UPSERT_NONE)");
    if (conflict_columns.empty()) fail("upsert(): name the conflict (unique key) columns");
    for (const auto &c : conflict_columns) check_identifier(c, "upsert", false, false);
    std::vector<std::string> updates;
    for (const auto &c : update_columns) updates.push_back(check_identifier(c, "upsert", false, false));
    if (timestamps_ && std::find(updates.begin(), updates.end(), "updated_at") == updates.end())
        updates.emplace_back("updated_at");
    if (!rows.empty()) {
        for (const auto &c : updates) {
            bool present = find_field(rows[0], c) != nullptr || (timestamps_ && c == "updated_at");
            if (!present)
                fail("upsert(): update column '" + c + "' is not one of the inserted columns");
        }
    }
    return write_batches(
        rows, "upsert",
        [this, &conflict_columns, &updates](const Dialect &d, const std::vector<std::string> &cols,
                                            const std::vector<Fields> &all, size_t b, size_t e) {
            Sql s = compile_insert(d, cols, all, b, e, false);
            const char q = d.identifier_quote;
            if (d.upsert_form == ILANA_UPSERT_ON_DUPLICATE_KEY) {
                s.sql += " ON DUPLICATE KEY UPDATE ";
                if (updates.empty()) {
                    // Keep the row as it is: a no-op assignment.
                    append_identifier(s.sql, conflict_columns.front(), q);
                    s.sql += " = ";
                    append_identifier(s.sql, conflict_columns.front(), q);
                }
                for (size_t i = 0; i < updates.size(); ++i) {
                    if (i) s.sql += ", ";
                    append_identifier(s.sql, updates[i], q);
                    s.sql += " = VALUES(";
                    append_identifier(s.sql, updates[i], q);
                    s.sql += ')';
                }
            } else {
                s.sql += " ON CONFLICT (";
                for (size_t i = 0; i < conflict_columns.size(); ++i) {
                    if (i) s.sql += ", ";
                    append_identifier(s.sql, conflict_columns[i], q);
                }
                s.sql += ')';
                if (updates.empty()) {
                    s.sql += " DO NOTHING";
                } else {
                    s.sql += " DO UPDATE SET ";
                    for (size_t i = 0; i < updates.size(); ++i) {
                        if (i) s.sql += ", ";
                        append_identifier(s.sql, updates[i], q);
                        s.sql += " = EXCLUDED.";
                        append_identifier(s.sql, updates[i], q);
                    }
                }
            }
            return s;
        });
}

Record QueryBuilder::create(const Fields &row_in) const {
    require_writable("create", false);
    std::vector<Fields> rows{row_in};
    add_timestamps(rows[0], true);
    const std::vector<std::string> cols = normalize_rows(rows, "create");
    if (cols.empty()) fail("create(): no columns given");
    if (dialect_.supports_returning) {
        Result r = run_write_query(compile_insert(dialect_, cols, rows, 0, 1, true));
        if (r.empty()) fail("create(): INSERT ... RETURNING * returned no row");
        return Record(std::move(r));
    }
    ExecResult er = run_write(compile_insert(dialect_, cols, rows, 0, 1, false));
    Value id;
    if (const Value *given = find_field(rows[0], primary_key_)) id = *given;
    else if (er.last_insert_id != 0) id = er.last_insert_id;
    else
        fail("create(): the database reported no generated id and the row has no '" + primary_key_ +
             "' column; set primaryKey() to the table's key");
    // Read it back where it was written (the primary or the session), never
    // from a replica that may not have it yet.
    QueryBuilder back = *this;
    back.wheres_.clear();
    back.where(primary_key_, id);
    back.limit_ = 1;
    Result r = run_write_query(back.compile_select(dialect_));
    if (r.empty())
        fail("create(): the inserted row was not found by " + primary_key_ + " = " + id.to_string());
    return Record(std::move(r));
}

int64_t QueryBuilder::update(const Fields &values_in) const {
    require_writable("update", true);
    Fields values = values_in;
    add_timestamps(values, false);
    if (values.empty()) fail("update(): no columns to set");
    for (size_t i = 0; i < values.size(); ++i) {
        check_identifier(values[i].first, "update", false, false);
        for (size_t k = 0; k < i; ++k)
            if (values[k].first == values[i].first) fail("update(): column '" + values[i].first + "' is set twice");
    }
    ExecResult r = run_write(compile_update(dialect_, values, nullptr, nullptr, false));
    return r.affected_rows;
}

int64_t QueryBuilder::del() const {
    require_writable("del", true);
    return run_write(compile_delete(dialect_)).affected_rows;
}

int64_t QueryBuilder::increment(std::string_view column, Value amount, const Fields &also) const {
    return step("increment", column, std::move(amount), also, false);
}

int64_t QueryBuilder::decrement(std::string_view column, Value amount, const Fields &also) const {
    return step("decrement", column, std::move(amount), also, true);
}

int64_t QueryBuilder::step(const char *fn, std::string_view column, Value amount, const Fields &also,
                           bool negate) const {
    require_writable(fn, true);
    const std::string col = check_identifier(column, fn, false, false);
    const Type t = amount.type();
    if (amount.is_null() || (t != Type::int64 && t != Type::uint64 && t != Type::float64 && t != Type::decimal))
        fail(std::string(fn) + "(): the amount must be a number, not " + (amount.is_null() ? "NULL" : to_string(t)));
    Fields values = also;
    add_timestamps(values, false);
    for (const auto &f : values) {
        check_identifier(f.first, fn, false, false);
        if (f.first == col) fail(std::string(fn) + "(): column '" + col + "' is both stepped and set");
    }
    return run_write(compile_update(dialect_, values, &col, &amount, negate)).affected_rows;
}

} // namespace ilana
