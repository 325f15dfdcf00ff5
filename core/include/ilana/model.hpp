// ilana/model.hpp — models: a table, a connection name, and static shortcuts
// to the query builder over a process-wide default Database.
//
//   ilana::set_default(ilana::Database::open("ilana.config.json"));
//
//   struct User : ilana::Model<User> {
//       static constexpr const char *table = "users";   // required
//       // optional:
//       static constexpr const char *connection = "analytics"; // default: the config's default
//       static constexpr const char *primaryKey = "id";        // default "id"
//       static constexpr bool timestamps = true;               // fill created_at / updated_at
//       int64_t id = 0; std::string name;                      // optional field mapping:
//       static constexpr auto fields = std::make_tuple(ilana::field("id", &User::id),
//                                                      ilana::field("name", &User::name));
//   };
//
//   ilana::Result users = User::all();
//   std::optional<ilana::Record> u = User::find(1);
//   std::optional<User> typed = User::find_as(1);
//   std::vector<User> admins = User::where("role", "admin").get_as<User>();
//   auto stats = User::on("read").selectRaw("role, COUNT(*) AS count").groupBy("role").get();
//   ilana::Record created = User::on("write").create({{"name", "Ann"}});
//   User::on("analytics").query().all_rows().del();
//
// The connection a model's query runs on is chosen when the builder is made:
// Model::on(name) > the model's `connection` > the config's default. A name
// that is not in the config throws the ConfigError of Database::on(), which
// names the connections there are. With debug.logQueries every statement is
// logged with `conn=<name>`, so a query on the wrong database is visible.
//
// Timestamps: TimestampTz::now() (an instant in UTC) on dialects with a
// time-zone type (PostgreSQL, SQLite), the UTC wall clock as a Timestamp on
// the MySQL family (DATETIME has no zone). Values the caller gives win.
//
// Thread safety: set_default / default_database may be called from any
// thread; the static model API is as thread-safe as Database (builders it
// returns belong to the calling thread).
#pragma once

#include <ilana/database.hpp>
#include <ilana/query.hpp>

#include <optional>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

namespace ilana {

// The Database the static Model API uses. Replaces any previous one (models
// made afterwards use the new one; builders already made keep theirs).
void set_default(Database db);
// Forgets the default Database (its pools close when the last handle goes).
void reset_default() noexcept;
// The default Database; throws Error(config) "no default database: call
// ilana::set_default(db) first" when none was set.
Database default_database();

namespace detail {
template <class T, class = void> struct has_table : std::false_type {};
template <class T>
struct has_table<T, std::void_t<decltype(T::table)>> : std::is_convertible<decltype(T::table), const char *> {};
template <class T, class = void> struct has_connection : std::false_type {};
template <class T>
struct has_connection<T, std::void_t<decltype(T::connection)>>
    : std::is_convertible<decltype(T::connection), const char *> {};
template <class T, class = void> struct has_timestamps : std::false_type {};
template <class T>
struct has_timestamps<T, std::void_t<decltype(T::timestamps)>>
    : std::is_convertible<decltype(T::timestamps), bool> {};

template <class T> bool timestamps_of() {
    if constexpr (has_timestamps<T>::value) return T::timestamps;
    else return false;
}
} // namespace detail

// CRTP base. Derived declares `table`, and optionally `connection`,
// `primaryKey`, `timestamps`, `fields` (see above); they are detected at
// compile time. The base has no data members and no members by those names.
template <class Derived> class Model {
public:
    // A builder on the model's connection.
    static QueryBuilder query() {
        Database db = default_database();
        if constexpr (detail::has_connection<Derived>::value) return configure(db.on(Derived::connection));
        else return configure(db.default_connection());
    }
    // A builder on another connection of the default Database.
    static QueryBuilder on(std::string_view connection) { return configure(default_database().on(connection)); }
    // A builder on a connection of another Database.
    static QueryBuilder on(const Connection &connection) { return configure(connection); }
    // A builder running on `session` (e.g. inside a transaction).
    static QueryBuilder on(Session &session) {
        QueryBuilder q(session, table_name());
        return settings(q);
    }

    // The Connection query() uses.
    static Connection db_connection() {
        Database db = default_database();
        if constexpr (detail::has_connection<Derived>::value) return db.on(Derived::connection);
        else return db.default_connection();
    }

    static Result all() { return query().get(); }
    static std::optional<Record> find(const Value &id) { return query().find(id); }
    template <class... A> static QueryBuilder where(A &&...args) {
        QueryBuilder q = query();
        q.where(std::forward<A>(args)...);
        return q;
    }
    static Record create(const Fields &row) { return query().create(row); }
    static Record create(FieldList row) { return query().create(Fields(row)); }
    static int64_t insert(const Fields &row) { return query().insert(row); }
    static int64_t insert(FieldList row) { return query().insert(Fields(row)); }
    static int64_t insert(const std::vector<Fields> &rows) { return query().insert(rows); }

    // With a `fields` mapping:
    static std::vector<Derived> all_as() { return query().template get_as<Derived>(); }
    static std::optional<Derived> find_as(const Value &id) { return query().template find_as<Derived>(id); }
    static Derived create_from(const Derived &obj) {
        Record r = query().create(to_fields(obj));
        return from_row<Derived>(r.row());
    }

private:
    static const char *table_name() {
        static_assert(detail::has_table<Derived>::value,
                      "ilana::Model: declare `static constexpr const char *table = \"...\";` in the model");
        return Derived::table;
    }
    static QueryBuilder &settings(QueryBuilder &q) {
        q.primaryKey(detail::primary_key_of<Derived>());
        q.timestamps(detail::timestamps_of<Derived>());
        return q;
    }
    static QueryBuilder configure(const Connection &c) {
        QueryBuilder q(c, table_name());
        return settings(q);
    }
};

} // namespace ilana
