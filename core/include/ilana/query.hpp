// ilana/query.hpp — the query builder: SQL written from the driver's dialect
// facts, values always bound.
//
//   ilana::Result admins = db.on("primary").table("users")
//       .select("id", "name").where("role", "admin").orderBy("name").limit(10).get();
//   std::optional<ilana::Record> r = db.on("reporting").table("reports")
//       .selectRaw("COUNT(*) AS total").where("created_at", ">", ilana::TimestampTz::now()).first();
//   ilana::Record u = db.on("write").table("users").create({{"name", "Ann"}, {"email", "a@x"}});
//   int64_t n = db.on("write").table("users").where("id", 1).update({{"name", "Bo"}});
//   auto sql = db.on("x").table("users").where("id", ">", 5).toSql();  // {"SELECT * FROM ... > ?", {5}}
//
// Identifiers (tables, columns) are quoted with the dialect's quote. The
// forms accepted are `name`, `table.name` (up to schema.table.name), `*`,
// `table.*`, and `name AS alias` (case-insensitive AS; tables, select columns
// and joins only). Anything else — a quote, backtick, semicolon, whitespace
// outside the AS form, a control character, parentheses, a comma — is an
// Error(ErrorClass::syntax) naming the identifier: expressions go through
// selectRaw / whereRaw / havingRaw / orderByRaw, whose SQL is the caller's.
// Operators come from an allow-list: =, !=, <>, <, <=, >, >=, like,
// not like, ilike (PostgreSQL-family dialects only), is, is not. `= NULL`
// is written IS NULL and `!=`/`<> NULL` IS NOT NULL; is / is not take NULL
// or a bool. whereIn with an empty list is the always-false predicate
// `1 = 0`, whereNotIn with an empty list the always-true `1 = 1`.
//
// Where a query runs:
//   - read terminals (get, all, first, find, count, sum, avg, min, max,
//     exists, paginate, get_as, ...) go to a healthy read replica of the
//     connection when it names some ("read": [...] in the config), else to
//     the connection itself; a replica that fails with a connection error is
//     marked down (re-checked in the background about once a second) and the
//     read retried on the next one, then on the primary; a busy replica
//     (PoolTimeout, transient error) is passed over for that read only;
//   - writes (insert, create, update, del, increment, decrement, upsert) go
//     to the connection itself;
//   - a builder made on a Session (ilana::table(session, "t"), or
//     Model::on(session)) runs everything on that session: inside a
//     transaction, reads and writes both see the transaction.
//   After a write through a builder or Connection of a connection with
//   "stickyAfterWriteMs" > 0, reads on the same thread go to the primary for
//   that long (read-your-writes, per thread).
//
// Safety decisions:
//   - update(), del(), increment() and decrement() without any where...()
//     throw Error(syntax) unless all_rows() was called: a forgotten where
//     never rewrites or empties a whole table.
//   - insert() of more rows than one statement may bind (rows x columns >
//     the dialect's max_params, or more than 1000 rows) is split into
//     several statements run in one transaction (all or nothing). Every row
//     must have the same set of columns (any order); otherwise an Error
//     names the row.
//
// Lifetimes and threads: a QueryBuilder is a value (copyable); each method
// modifies it and returns *this for chaining. One builder belongs to one
// thread at a time; copies are independent. A builder made on a Session
// must not outlive the session. Terminals leave the builder unchanged and
// may be called again.
//
// Exceptions: everything throws ilana::Error (mistakes in the builder:
// ErrorClass::syntax, before any SQL is sent; database errors as reported).
#pragma once

#include <ilana/database.hpp>
#include <ilana/result.hpp>
#include <ilana/row_mapping.hpp>
#include <ilana/value.hpp>

#include <cstdint>
#include <functional>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

namespace ilana {

// Column name -> value, in the order the columns are written.
using Fields = std::vector<std::pair<std::string, Value>>;
using FieldList = std::initializer_list<std::pair<std::string, Value>>;

// A statement as the builder would send it: `?` placeholders and their values.
struct Sql {
    std::string sql;
    std::vector<Value> bindings;
};

// One row that owns its storage (a Result of one row), with the typed access
// of Row. Move-only, like Result.
class Record {
public:
    explicit Record(Result result, size_t row = 0);

    size_t size() const noexcept { return result_.columns().size(); }
    const std::vector<Column> &columns() const noexcept { return result_.columns(); }
    // By column name (exact); throws Error naming the columns there are.
    Field operator[](std::string_view name) const { return row()[name]; }
    Field operator[](const char *name) const { return row()[std::string_view(name)]; }
    // By position; throws std::out_of_range.
    Field operator[](size_t index) const { return row()[index]; }
    template <class T> T get(std::string_view name) const { return (*this)[name].template as<T>(); }
    template <class T> T get(size_t index) const { return (*this)[index].template as<T>(); }
    bool has(std::string_view name) const noexcept { return row().index_of(name) >= 0; }
    // A view of the row; valid while this Record lives and is not moved.
    Row row() const noexcept { return result_[row_]; }
    // Every column as Fields (e.g. to copy a row into another database).
    Fields to_fields() const;

private:
    Result result_;
    size_t row_;
};

// One page of a paginated read.
struct Page {
    Result data;
    int64_t total = 0; // rows matching the query, over all pages
    int page = 1;
    int per_page = 15;
    int last_page = 1; // >= 1, even when total is 0
};

namespace detail {
template <class T, class = void> struct has_primary_key : std::false_type {};
template <class T>
struct has_primary_key<T, std::void_t<decltype(T::primaryKey)>>
    : std::is_convertible<decltype(T::primaryKey), const char *> {};

template <class T> constexpr const char *primary_key_of() {
    if constexpr (has_primary_key<T>::value) return T::primaryKey;
    else return "id";
}

template <class M> struct is_optional : std::false_type {};
template <class M> struct is_optional<std::optional<M>> : std::true_type {};

// The "not set yet" value of a primary key member: 0, "", nullopt.
template <class M> bool is_unset(const M &v) {
    if constexpr (std::is_arithmetic_v<M>) return v == M{};
    else if constexpr (std::is_same_v<M, std::string>) return v.empty();
    else if constexpr (is_optional<M>::value) return !v.has_value();
    else return false;
}

} // namespace detail

// An object to Fields for insert / update. The primary key (T::primaryKey,
// default "id") is left out while it is unset (0, "", nullopt), so the
// database generates it on create.
template <class T> Fields to_fields(const T &obj) {
    detail::require_fields<T>();
    Fields out;
    const std::string_view pk = detail::primary_key_of<T>();
    std::apply(
        [&](const auto &...f) {
            auto add = [&](const auto &def) {
                const auto &v = obj.*(def.member);
                if (pk == def.name && detail::is_unset(v)) return;
                out.emplace_back(def.name, Value(v));
            };
            (add(f), ...);
        },
        T::fields);
    return out;
}

// ---- the builder -------------------------------------------------------------

class QueryBuilder {
public:
    // A builder on `table` of `connection` (also: connection.table(name)).
    QueryBuilder(Connection connection, std::string_view table);
    // A builder whose every statement runs on `session` (e.g. a transaction's).
    QueryBuilder(Session &session, std::string_view table);
    // A builder that only writes SQL (toSql()) for a dialect; terminals throw.
    static QueryBuilder for_dialect(const Dialect &dialect, std::string_view table);

    // ---- settings (used by Model) -------------------------------------------
    QueryBuilder &primaryKey(std::string_view column); // default "id"
    // Fill created_at / updated_at on create/insert/upsert and updated_at on
    // update/increment, unless given: TimestampTz::now(), or the UTC wall
    // clock as a Timestamp on dialects without time-zone types (MySQL family,
    // upsert form ON DUPLICATE KEY).
    QueryBuilder &timestamps(bool on = true);
    // Allows update / del / increment / decrement without a where clause.
    QueryBuilder &all_rows();
    // No-op, for the seed's `Model.on("x").query().delete()`.
    QueryBuilder &query() { return *this; }

    // ---- select list ----------------------------------------------------------
    QueryBuilder &select(const std::vector<std::string> &columns);
    template <class... S, class = std::enable_if_t<(std::is_convertible_v<const S &, std::string_view> && ...)>>
    QueryBuilder &select(const S &...columns) {
        return select(std::vector<std::string>{std::string(std::string_view(columns))...});
    }
    QueryBuilder &selectRaw(std::string_view sql, std::vector<Value> bindings = {});
    QueryBuilder &distinct(bool on = true);

    // ---- where ----------------------------------------------------------------
    QueryBuilder &where(std::string_view column, std::string_view op, Value value);
    QueryBuilder &where(std::string_view column, Value value); // =
    // A parenthesized group: .where([](QueryBuilder &q) { q.where(a).orWhere(b); })
    QueryBuilder &where(const std::function<void(QueryBuilder &)> &group);
    QueryBuilder &orWhere(std::string_view column, std::string_view op, Value value);
    QueryBuilder &orWhere(std::string_view column, Value value);
    QueryBuilder &orWhere(const std::function<void(QueryBuilder &)> &group);
    QueryBuilder &whereIn(std::string_view column, std::vector<Value> values);
    QueryBuilder &whereNotIn(std::string_view column, std::vector<Value> values);
    QueryBuilder &orWhereIn(std::string_view column, std::vector<Value> values);
    QueryBuilder &orWhereNotIn(std::string_view column, std::vector<Value> values);
    QueryBuilder &whereNull(std::string_view column);
    QueryBuilder &whereNotNull(std::string_view column);
    QueryBuilder &orWhereNull(std::string_view column);
    QueryBuilder &orWhereNotNull(std::string_view column);
    QueryBuilder &whereBetween(std::string_view column, Value low, Value high);
    QueryBuilder &whereNotBetween(std::string_view column, Value low, Value high);
    QueryBuilder &orWhereBetween(std::string_view column, Value low, Value high);
    // `sql` is used as written (in parentheses), with `?` for the bindings.
    QueryBuilder &whereRaw(std::string_view sql, std::vector<Value> bindings = {});
    QueryBuilder &orWhereRaw(std::string_view sql, std::vector<Value> bindings = {});

    // ---- joins, grouping, order, paging ------------------------------------------
    // op: =, !=, <>, <, <=, >, >=
    QueryBuilder &join(std::string_view table, std::string_view left, std::string_view op, std::string_view right);
    QueryBuilder &leftJoin(std::string_view table, std::string_view left, std::string_view op,
                           std::string_view right);
    QueryBuilder &groupBy(const std::vector<std::string> &columns);
    template <class... S, class = std::enable_if_t<(std::is_convertible_v<const S &, std::string_view> && ...)>>
    QueryBuilder &groupBy(const S &...columns) {
        return groupBy(std::vector<std::string>{std::string(std::string_view(columns))...});
    }
    QueryBuilder &having(std::string_view column, std::string_view op, Value value);
    QueryBuilder &havingRaw(std::string_view sql, std::vector<Value> bindings = {});
    QueryBuilder &orderBy(std::string_view column, std::string_view direction = "asc"); // asc | desc
    QueryBuilder &orderByRaw(std::string_view sql, std::vector<Value> bindings = {});
    QueryBuilder &limit(int64_t n);  // n >= 0
    QueryBuilder &offset(int64_t n); // n >= 0

    // ---- reads (to a replica when the connection has some) -----------------------
    Result get() const;
    Result all() const { return get(); }
    std::optional<Record> first() const;
    // By primary key (primaryKey(), default "id").
    std::optional<Record> find(const Value &id) const;
    int64_t count(std::string_view column = "*") const;
    // Aggregates over the rows the query matches (its order, limit and offset
    // do not apply); NULL when no row matches.
    Value sum(std::string_view column) const;
    Value avg(std::string_view column) const;
    Value min(std::string_view column) const;
    Value max(std::string_view column) const;
    bool exists() const;
    // page >= 1, per_page >= 1; two statements (COUNT, then the page).
    Page paginate(int page, int per_page = 15) const;
    template <class T> std::vector<T> get_as() const {
        Result r = get();
        std::vector<T> out;
        out.reserve(r.size());
        for (Row row : r) out.push_back(from_row<T>(row));
        return out;
    }
    template <class T> std::optional<T> first_as() const {
        auto rec = first();
        if (!rec) return std::nullopt;
        return from_row<T>(rec->row());
    }
    template <class T> std::optional<T> find_as(const Value &id) const {
        auto rec = find(id);
        if (!rec) return std::nullopt;
        return from_row<T>(rec->row());
    }

    // ---- writes (to the connection itself) -----------------------------------------
    // Return the rows affected as the database reports them.
    int64_t insert(const Fields &row) const;
    int64_t insert(FieldList row) const { return insert(Fields(row)); }
    int64_t insert(const std::vector<Fields> &rows) const;
    // Inserts one row and returns it as stored, with its generated id:
    // INSERT ... RETURNING * where the dialect supports it, else the insert
    // and a SELECT by primary key (the given one, or the last insert id).
    Record create(const Fields &row) const;
    Record create(FieldList row) const { return create(Fields(row)); }
    int64_t update(const Fields &values) const;
    int64_t update(FieldList values) const { return update(Fields(values)); }
    int64_t del() const;
    int64_t increment(std::string_view column, Value amount = 1, const Fields &also = {}) const;
    int64_t decrement(std::string_view column, Value amount = 1, const Fields &also = {}) const;
    // INSERT ... ON CONFLICT (conflict) DO UPDATE SET c = EXCLUDED.c, or
    // ... ON DUPLICATE KEY UPDATE c = VALUES(c) (MySQL: the unique keys of the
    // table decide, conflict_columns only need to be non-empty). Empty
    // update_columns: conflicting rows are left as they are. Batched like
    // insert(). Affected-row counts follow the database (MySQL counts an
    // updated row twice).
    int64_t upsert(const std::vector<Fields> &rows, const std::vector<std::string> &conflict_columns,
                   const std::vector<std::string> &update_columns) const;

    // The SELECT that get() would run, with `?` placeholders and bindings.
    Sql toSql() const;

    const Dialect &dialect() const noexcept { return dialect_; }
    const std::string &table_name() const noexcept { return table_; }
    // The connection's name ("" for for_dialect builders).
    const std::string &connection_name() const noexcept { return connection_name_; }

private:
    struct Condition {
        enum class Kind { basic, null, not_null, in, not_in, between, not_between, raw, group };
        Kind kind = Kind::basic;
        bool is_or = false;
        std::string column;
        std::string op;
        std::vector<Value> values;
        std::string raw;
        std::vector<Condition> group;
    };
    struct SelectItem {
        bool raw = false;
        std::string text;
        std::vector<Value> bindings;
    };
    struct JoinClause {
        const char *kind;
        std::string table, left, op, right;
    };
    struct OrderItem {
        bool raw = false;
        std::string text;
        bool desc = false;
        std::vector<Value> bindings;
    };
    enum class Aggregate { count, sum, avg, min, max };

    QueryBuilder(const Dialect &dialect, std::string_view table, std::string connection_name);

    QueryBuilder &add_basic(bool is_or, std::string_view column, std::string_view op, Value value, const char *fn);
    QueryBuilder &add_in(bool is_or, bool negate, std::string_view column, std::vector<Value> values, const char *fn);
    QueryBuilder &add_null(bool is_or, bool negate, std::string_view column, const char *fn);
    QueryBuilder &add_between(bool is_or, bool negate, std::string_view column, Value lo, Value hi, const char *fn);
    QueryBuilder &add_raw(bool is_or, std::string_view sql, std::vector<Value> bindings, const char *fn);
    QueryBuilder &add_group(bool is_or, const std::function<void(QueryBuilder &)> &fn);
    QueryBuilder &add_join(const char *kind, std::string_view table, std::string_view left, std::string_view op,
                           std::string_view right);
    [[noreturn]] void fail(const std::string &message) const;
    std::string check_identifier(std::string_view id, const char *fn, bool allow_alias, bool allow_star) const;
    std::string check_operator(std::string_view op, const char *fn) const;

    // SQL for a dialect.
    void compile_from(const Dialect &d, std::string &sql, std::vector<Value> &b) const;
    void compile_conditions(const Dialect &d, const std::vector<Condition> &conds, std::string &sql,
                            std::vector<Value> &b) const;
    void compile_where(const Dialect &d, std::string &sql, std::vector<Value> &b) const;
    void compile_group_having(const Dialect &d, std::string &sql, std::vector<Value> &b) const;
    void compile_order_limit(const Dialect &d, std::string &sql, std::vector<Value> &b) const;
    Sql compile_select(const Dialect &d) const;
    Sql compile_aggregate(const Dialect &d, Aggregate fn, const std::string &column) const;
    Sql compile_exists(const Dialect &d) const;
    Sql compile_insert(const Dialect &d, const std::vector<std::string> &cols, const std::vector<Fields> &rows,
                       size_t begin, size_t end, bool returning) const;
    Sql compile_update(const Dialect &d, const Fields &values, const std::string *increment_column,
                       const Value *increment_by, bool negate) const;
    Sql compile_delete(const Dialect &d) const;

    Value aggregate(Aggregate fn, std::string_view column, const char *name) const;
    Result run_read(const std::function<Sql(const Dialect &)> &make) const;
    ExecResult run_write(const Sql &sql) const;
    Result run_write_query(const Sql &sql) const;
    using BatchCompiler = std::function<Sql(const Dialect &, const std::vector<std::string> &,
                                            const std::vector<Fields> &, size_t, size_t)>;
    int64_t write_batches(const std::vector<Fields> &rows, const char *fn, const BatchCompiler &make) const;
    int64_t step(const char *fn, std::string_view column, Value amount, const Fields &also, bool negate) const;
    std::vector<std::string> normalize_rows(std::vector<Fields> &rows, const char *fn) const;
    void require_writable(const char *fn, bool needs_where) const;
    void add_timestamps(Fields &row, bool created) const;
    void note_write() const;

    std::optional<Connection> conn_;
    Session *session_ = nullptr;
    Dialect dialect_;
    std::string connection_name_;
    std::string table_;
    std::string primary_key_ = "id";
    bool timestamps_ = false;
    bool all_rows_ = false;
    bool distinct_ = false;
    std::vector<SelectItem> select_;
    std::vector<Condition> wheres_;
    std::vector<JoinClause> joins_;
    std::vector<std::string> groups_;
    std::vector<Condition> havings_;
    std::vector<OrderItem> orders_;
    std::optional<int64_t> limit_;
    std::optional<int64_t> offset_;
};

// A builder on `table` that runs every statement on `session` (use inside
// a transaction: Connection::transaction([&](Session &tx) { table(tx, "t")... })).
inline QueryBuilder table(Session &session, std::string_view table_name) { return QueryBuilder(session, table_name); }

} // namespace ilana
