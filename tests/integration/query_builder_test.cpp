// The query builder and Model end to end, the same tests on SQLite (always),
// PostgreSQL and MariaDB (when their test servers are configured).
#include <catch2/catch.hpp>

#include <ilana/ilana.hpp>

#include "configs.hpp"
#include "log_capture.hpp"
#include "temp_dir.hpp"
#include "test_servers.hpp"

#include <algorithm>
#include <atomic>
#include <mutex>

#include <unistd.h>

using namespace ilana;
using Catch::Contains;
using ilana_test::TempDir;

namespace {

enum class Kind { sqlite, pg, mysql };

const char *kind_name(Kind k) { return k == Kind::sqlite ? "sqlite" : k == Kind::pg ? "postgres" : "mariadb"; }

struct Types {
    const char *pk, *str, *text, *dbl, *ts, *integer;
};
Types types_for(Kind k) {
    switch (k) {
    case Kind::sqlite: return {"INTEGER PRIMARY KEY AUTOINCREMENT", "TEXT", "TEXT", "REAL", "TEXT", "INTEGER"};
    case Kind::pg: return {"BIGSERIAL PRIMARY KEY", "TEXT", "TEXT", "DOUBLE PRECISION", "TIMESTAMPTZ", "INTEGER"};
    case Kind::mysql:
        return {"BIGINT AUTO_INCREMENT PRIMARY KEY", "VARCHAR(190)", "TEXT", "DOUBLE", "DATETIME(6)", "INT"};
    }
    return {};
}

constexpr int kWideColumns = 70;
const char *const kTables[] = {"qb_users", "qb_posts", "qb_wide", "qb_reports"};

void drop_tables(const Connection &c) {
    for (const char *t : kTables) c.execute(std::string("DROP TABLE IF EXISTS ") + t);
}

void create_tables(const Connection &c, Kind k) {
    drop_tables(c);
    Types t = types_for(k);
    c.execute(std::string("CREATE TABLE qb_users (id ") + t.pk + ", name " + t.str + " NOT NULL, email " + t.str +
              " UNIQUE, age " + t.integer + ", score " + t.dbl + ", role " + t.str + ", created_at " + t.ts +
              ", updated_at " + t.ts + ")");
    c.execute(std::string("CREATE TABLE qb_posts (id ") + t.pk + ", user_id " + t.integer + ", title " + t.text + ")");
    std::string wide = std::string("CREATE TABLE qb_wide (id ") + t.pk;
    for (int i = 0; i < kWideColumns; ++i) wide += ", c" + std::to_string(i) + " " + t.integer;
    c.execute(wide + ")");
    c.execute(std::string("CREATE TABLE qb_reports (report_id ") + t.pk + ", title " + t.str + ", created_at " +
              t.ts + ")");
}

// `sql` written with " quotes, in the dialect's quote.
std::string q(std::string sql, char quote) {
    std::replace(sql.begin(), sql.end(), '"', quote);
    return sql;
}

// ctest runs test cases in parallel processes: each process works in a
// PostgreSQL schema / MariaDB database of its own, so fixed table names
// (qb_users, ...) never collide. The tests drop their tables; the empty
// namespaces stay in the throwaway test servers (scripts/test-servers.sh
// destroy removes everything).
const std::string &own_namespace() {
    static const std::string ns = "qb_" + std::to_string(::getpid());
    return ns;
}

Database bootstrap(Kind k, TempDir &dir) {
    std::string conn = k == Kind::pg ? ilana_test::pg_connection_json() : ilana_test::mysql_connection_json();
    dir.write("bootstrap.json", std::string(R"({"connections": {"b": {"client": ")") +
                                    (k == Kind::pg ? "pg" : "mysql2") + R"(", "connection": )" + conn + "}}}");
    return Database::open(dir.file("bootstrap.json"), OpenOptions{"", {ILANA_TEST_PLUGIN_DIR}, {}});
}

void ensure_namespace(Kind k, TempDir &dir) {
    static std::once_flag pg_once, my_once;
    std::call_once(k == Kind::pg ? pg_once : my_once, [&] {
        Database b = bootstrap(k, dir);
        b.on("b").execute((k == Kind::pg ? "CREATE SCHEMA IF NOT EXISTS " : "CREATE DATABASE IF NOT EXISTS ") +
                          own_namespace());
    });
}


std::string config_json(Kind k, TempDir &dir, bool debug) {
    std::string main;
    if (k == Kind::sqlite) {
        main = R"({"client": "sqlite3", "connection": {"filename": "./main.sqlite"}, "pool": {"max": 4}})";
    } else if (k == Kind::pg) {
        ensure_namespace(k, dir);
        main = R"({"client": "pg", "connection": )" +
               ilana_test::pg_connection_json("\"search_path\": \"" + own_namespace() + "\"") +
               R"(, "pool": {"max": 4}})";
    } else {
        ensure_namespace(k, dir);
        auto s = ilana_test::mysql();
        s.database = own_namespace();
        main = R"({"client": "mysql2", "connection": )" + ilana_test::connection_json(s) + R"(, "pool": {"max": 4}})";
    }
    std::string json = R"({"default": "main", )";
    if (debug) json += R"("debug": {"enabled": true, "logQueries": true}, )";
    json += R"("connections": {"main": )" + main + R"(, "reporting": )" + main +
            R"(, "analytics": {"client": "sqlite3", "connection": {"filename": "./analytics.sqlite"}}}})";
    return dir.write(debug ? "ilana.debug.config.json" : "ilana.config.json", json);
}

struct QueryLog {
    std::mutex mu;
    std::vector<std::string> statements;
    void add(const std::string &sql) {
        std::lock_guard<std::mutex> lock(mu);
        statements.push_back(sql);
    }
    std::vector<std::string> matching(const std::string &prefix) {
        std::lock_guard<std::mutex> lock(mu);
        std::vector<std::string> out;
        for (const auto &s : statements)
            if (s.compare(0, prefix.size(), prefix) == 0) out.push_back(s);
        return out;
    }
};

struct DropGuard {
    Connection c;
    ~DropGuard() {
        try {
            drop_tables(c);
        } catch (...) {
        }
    }
};

// A plain struct mapped to rows (no Model).
struct UserRow {
    int64_t id = 0;
    std::string name;
    std::optional<int> age;
    std::optional<double> score;
    std::optional<std::string> role;
    static constexpr auto fields =
        std::make_tuple(ilana::field("id", &UserRow::id), ilana::field("name", &UserRow::name),
                        ilana::field("age", &UserRow::age), ilana::field("score", &UserRow::score),
                        ilana::field("role", &UserRow::role));
};

int64_t expect_syntax_error(const std::function<void()> &fn, const std::string &must_contain) {
    try {
        fn();
    } catch (const Error &e) {
        CHECK(e.error_class() == ErrorClass::syntax);
        CHECK_THAT(std::string(e.what()), Contains(must_contain));
        return 1;
    }
    FAIL("no ilana::Error thrown; expected one containing: " << must_contain);
    return 0;
}

void builder_suite(Kind kind, TempDir &dir) {
    INFO("database: " << kind_name(kind));
    Database db = Database::open(config_json(kind, dir, false), OpenOptions{"", {ILANA_TEST_PLUGIN_DIR}, {}});
    Connection c = db.on("main");
    const char Q = c.dialect().identifier_quote;
    create_tables(c, kind);
    DropGuard guard{c};

    // ---- toSql: the exact statement per dialect ------------------------------
    Sql s = c.table("qb_users")
                .select("id", "name")
                .where("age", ">", 18)
                .whereIn("role", {"admin", "user"})
                .orderBy("name", "desc")
                .limit(5)
                .offset(10)
                .toSql();
    CHECK(s.sql == q(R"(SELECT "id", "name" FROM "qb_users" WHERE "age" > ? AND "role" IN (?, ?) ORDER BY "name" DESC LIMIT 5 OFFSET 10)",
                     Q));
    REQUIRE(s.bindings.size() == 3);
    CHECK(s.bindings[0].as<int>() == 18);
    CHECK(s.bindings[2].as<std::string>() == "user");
    CHECK(c.table("qb_users").whereIn("id", {}).toSql().sql == q(R"(SELECT * FROM "qb_users" WHERE 1 = 0)", Q));

    // ---- create / insert -------------------------------------------------------
    Record ann = c.table("qb_users").create(
        {{"name", "Ann"}, {"email", "ann@x"}, {"age", 30}, {"score", 9.5}, {"role", "admin"}});
    const int64_t ann_id = ann.get<int64_t>("id");
    CHECK(ann_id > 0);
    CHECK(ann.get<std::string>("name") == "Ann");
    CHECK(ann["score"].as<double>() == 9.5);
    CHECK(ann.has("email"));
    CHECK_FALSE(ann.has("nope"));
    Record bo = c.table("qb_users").create({{"name", "Bo"}, {"email", "bo@x"}, {"age", 25}, {"score", 7.0}, {"role", "user"}});
    CHECK(bo.get<int64_t>("id") > ann_id);
    std::vector<Fields> more = {
        {{"name", "Cy"}, {"email", "cy@x"}, {"age", 40}, {"score", nullptr}, {"role", "user"}},
        {{"email", "di@x"}, {"name", "Di"}, {"age", 17}, {"score", 2.5}, {"role", nullptr}}, // other order
    };
    CHECK(c.table("qb_users").insert(more) == 2);
    CHECK(c.table("qb_users").insert({{"name", "Ed"}, {"email", "ed@x"}, {"age", 55}, {"score", 3.5}, {"role", "admin"}}) ==
          1);
    CHECK(c.table("qb_posts").insert(std::vector<Fields>{{{"user_id", ann_id}, {"title", "a1"}},
                                                        {{"user_id", ann_id}, {"title", "a2"}},
                                                        {{"user_id", bo.get<int64_t>("id")}, {"title", "b1"}}}) == 3);

    // ---- reads --------------------------------------------------------------------
    CHECK(c.table("qb_users").get().size() == 5);
    CHECK(db.table("qb_users").count() == 5); // the default connection
    CHECK(c.table("qb_users").all().size() == 5);
    auto first = c.table("qb_users").orderBy("age").first();
    REQUIRE(first);
    CHECK(first->get<std::string>("name") == "Di");
    auto found = c.table("qb_users").find(ann_id);
    REQUIRE(found);
    CHECK((*found)["name"].as<std::string>() == "Ann");
    CHECK_FALSE(c.table("qb_users").find(999999));
    CHECK(c.table("qb_users").where("name", "Bo").first()->get<int>("age") == 25);
    CHECK(c.table("qb_users").count() == 5);
    CHECK(c.table("qb_users").count("score") == 4);
    CHECK(c.table("qb_users").whereIn("id", {}).get().empty());
    CHECK(c.table("qb_users").whereIn("id", {}).count() == 0);
    CHECK(c.table("qb_users").whereNotIn("id", {}).count() == 5);
    CHECK(c.table("qb_users").whereIn("name", {"Ann", "Ed", "Zz"}).count() == 2);
    CHECK(c.table("qb_users").whereNotIn("name", {"Ann", "Ed"}).count() == 3);
    CHECK(c.table("qb_users").whereNull("role").first()->get<std::string>("name") == "Di");
    CHECK(c.table("qb_users").whereNotNull("score").count() == 4);
    CHECK(c.table("qb_users").where("role", nullptr).count() == 1); // = NULL is IS NULL
    CHECK(c.table("qb_users").whereBetween("age", 20, 40).count() == 3);
    CHECK(c.table("qb_users").whereNotBetween("age", 20, 40).count() == 2);
    CHECK(c.table("qb_users").where("name", "Ann").orWhere("name", "Bo").count() == 2);
    CHECK(c.table("qb_users").where("age", ">=", 40).orWhereNull("role").count() == 3);
    CHECK(c.table("qb_users").whereRaw("age > ?", {50}).first()->get<std::string>("name") == "Ed");
    CHECK(c.table("qb_users")
              .where("role", "admin")
              .where([](QueryBuilder &g) { g.where("age", "<", 35).orWhere("score", ">", 5); })
              .get()
              .size() == 1);
    CHECK(c.table("qb_users").where("name", "like", "A%").count() == 1);
    CHECK(c.table("qb_users").where("name", "not like", "A%").count() == 4);
    CHECK(c.table("qb_users").where("age", "!=", 30).count() == 4);
    CHECK(c.table("qb_users").where("age", "<>", 30).count() == 4);
    if (kind == Kind::pg) {
        CHECK(c.table("qb_users").where("name", "ilike", "a%").count() == 1);
    } else {
        expect_syntax_error([&] { c.table("qb_users").where("name", "ilike", "a%"); }, "PostgreSQL only");
    }
    CHECK(c.table("qb_users").sum("age").as<int64_t>() == 30 + 25 + 40 + 17 + 55);
    CHECK(c.table("qb_users").where("role", "admin").avg("age").as<double>() == Approx(42.5));
    CHECK(c.table("qb_users").min("age").as<int>() == 17);
    CHECK(c.table("qb_users").max("name").as<std::string>() == "Ed");
    CHECK(c.table("qb_users").where("name", "nobody").sum("age").is_null());
    CHECK(c.table("qb_users").exists());
    CHECK_FALSE(c.table("qb_users").where("name", "nobody").exists());
    CHECK(c.table("qb_users").select("role").distinct().whereNotNull("role").get().size() == 2);
    CHECK(c.table("qb_users").select("role").distinct().whereNotNull("role").count() == 2);
    Result groups = c.table("qb_users")
                        .select("role")
                        .selectRaw("COUNT(*) AS n")
                        .whereNotNull("role")
                        .groupBy("role")
                        .having("role", "<>", "nobody")
                        .havingRaw("COUNT(*) >= ?", {2})
                        .orderBy("role")
                        .get();
    REQUIRE(groups.size() == 2);
    CHECK(groups[0]["role"].as<std::string>() == "admin");
    CHECK(groups[0]["n"].as<int>() == 2);
    CHECK(c.table("qb_users").whereNotNull("role").groupBy("role").count() == 2);
    Result joined = c.table("qb_users as u")
                        .select("u.name", "p.title")
                        .join("qb_posts as p", "p.user_id", "=", "u.id")
                        .orderBy("p.title")
                        .get();
    REQUIRE(joined.size() == 3);
    CHECK(joined[0]["name"].as<std::string>() == "Ann");
    CHECK(joined[2]["title"].as<std::string>() == "b1");
    CHECK(c.table("qb_users as u").leftJoin("qb_posts as p", "p.user_id", "=", "u.id").count() == 6);
    CHECK(c.table("qb_users as u").leftJoin("qb_posts as p", "p.user_id", "=", "u.id").whereNull("p.id").count() == 3);
    std::vector<UserRow> rows = c.table("qb_users").orderBy("id").get_as<UserRow>();
    REQUIRE(rows.size() == 5);
    CHECK(rows[0].id == ann_id);
    CHECK(rows[0].name == "Ann");
    CHECK(rows[2].score == std::nullopt);
    CHECK(rows[3].role == std::nullopt);
    CHECK(rows[3].age == 17);
    auto partial = c.table("qb_users").select("name").where("id", ann_id).first_as<UserRow>();
    REQUIRE(partial);
    CHECK(partial->name == "Ann");
    CHECK(partial->id == 0); // not selected: left as it was

    // ---- pagination ------------------------------------------------------------
    std::vector<Fields> posts;
    for (int i = 0; i < 22; ++i) posts.push_back({{"user_id", 0}, {"title", "p" + std::to_string(100 + i)}});
    CHECK(c.table("qb_posts").insert(posts) == 22);
    Page p3 = c.table("qb_posts").orderBy("id").paginate(3, 10);
    CHECK(p3.total == 25);
    CHECK(p3.last_page == 3);
    CHECK(p3.page == 3);
    CHECK(p3.per_page == 10);
    CHECK(p3.data.size() == 5);
    CHECK(p3.data[4]["title"].as<std::string>() == "p121");
    Page p1 = c.table("qb_posts").orderBy("id").paginate(1, 10);
    CHECK(p1.data.size() == 10);
    CHECK(p1.data[0]["title"].as<std::string>() == "a1");
    CHECK(c.table("qb_posts").paginate(4, 10).data.empty());
    Page none = c.table("qb_posts").where("title", "zzz").paginate(1, 10);
    CHECK(none.total == 0);
    CHECK(none.last_page == 1);
    CHECK(c.table("qb_posts").limit(2).offset(1).orderBy("id").get()[0]["title"].as<std::string>() == "a2");
    CHECK(c.table("qb_posts").offset(24).orderBy("id").get().size() == 1);

    // ---- injection attempts ---------------------------------------------------------
    const std::string evil = "'); DROP TABLE qb_users; --";
    CHECK(c.table("qb_users").insert({{"name", evil}, {"email", "evil@x"}}) == 1);
    auto stored = c.table("qb_users").where("name", evil).first();
    REQUIRE(stored);
    CHECK(stored->get<std::string>("name") == evil);
    CHECK(c.table("qb_users").where("name", "like", "%DROP TABLE%").count() == 1);
    expect_syntax_error([&] { c.table("qb_users").where("name\"; DROP", 1); }, "invalid identifier 'name\"; DROP'");
    expect_syntax_error([&] { c.table("qb_users").where("name", "; DROP", 1); }, "operator '; DROP' is not allowed");
    expect_syntax_error([&] { c.table("qb_users").where("name", "; DROP", 1); }, "like, not like, ilike, is, is not");
    expect_syntax_error([&] { c.table("qb_users; DROP TABLE qb_users"); }, "invalid identifier");
    expect_syntax_error([&] { c.table("qb_users").orderBy("name; DROP TABLE qb_posts"); }, "orderBy()");
    expect_syntax_error([&] { c.table("qb_users").select("name`) FROM x; --"); }, "backtick");
    expect_syntax_error([&] { c.table("qb_users").insert({{"name\") VALUES (1); --", "x"}}); }, "insert()");
    expect_syntax_error([&] { c.table("qb_users").where("id", 1).update({{"age = 0, name", "x"}}); }, "update()");
    CHECK(c.table("qb_users").count() == 6); // the table is still there
    CHECK(c.table("qb_users").where("email", "evil@x").del() == 1);

    // ---- update / delete / increment ------------------------------------------------
    CHECK(c.table("qb_users").where("name", "Bo").update({{"age", 26}}) == 1);
    expect_syntax_error([&] { c.table("qb_users").update({{"age", 1}}); }, "without a where clause");
    expect_syntax_error([&] { c.table("qb_users").del(); }, "all_rows()");
    expect_syntax_error([&] { c.table("qb_users").increment("age"); }, "without a where clause");
    expect_syntax_error([&] { c.table("qb_users").where("id", 1).limit(1).del(); }, "no select, join");
    CHECK(c.table("qb_users").where("name", "Bo").increment("age") == 1);
    CHECK(c.table("qb_users").where("name", "Bo").first()->get<int>("age") == 27);
    CHECK(c.table("qb_users").where("name", "Bo").increment("age", 3, {{"role", "vip"}}) == 1);
    CHECK(c.table("qb_users").where("name", "Bo").decrement("age", 10) == 1);
    auto bo2 = c.table("qb_users").where("name", "Bo").first();
    CHECK(bo2->get<int>("age") == 20);
    CHECK(bo2->get<std::string>("role") == "vip");
    CHECK(c.table("qb_users").all_rows().update({{"score", 1.25}}) == 5);
    CHECK(c.table("qb_users").where("score", 1.25).count() == 5);
    CHECK(c.table("qb_users").where("name", "Ed").del() == 1);
    CHECK(c.table("qb_users").count() == 4);

    // ---- upsert ------------------------------------------------------------------------
    std::vector<Fields> up = {{{"email", "ann@x"}, {"name", "Ann2"}, {"age", 31}},
                              {{"email", "new@x"}, {"name", "Neu"}, {"age", 1}}};
    CHECK(c.table("qb_users").upsert(up, {"email"}, {"name", "age"}) >= 2);
    auto ann2 = c.table("qb_users").where("email", "ann@x").first();
    CHECK(ann2->get<std::string>("name") == "Ann2");
    CHECK(ann2->get<int>("age") == 31);
    CHECK(ann2->get<int64_t>("id") == ann_id);
    CHECK(c.table("qb_users").where("email", "new@x").exists());
    CHECK(c.table("qb_users").count() == 5);
    const std::vector<Fields> keep = {{{"email", "ann@x"}, {"name", "Zed"}, {"age", 99}}};
    c.table("qb_users").upsert(keep, {"email"}, {});
    CHECK(c.table("qb_users").where("email", "ann@x").first()->get<std::string>("name") == "Ann2");
    expect_syntax_error([&] { c.table("qb_users").upsert(up, {"email"}, {"score"}); }, "not one of the inserted columns");

    // ---- batching (see also batch_suite: wider rows) ------------------------------------
    // Several statements are one transaction: a failing row keeps them all out.
    std::vector<Fields> batch;
    for (int i = 0; i < 1500; ++i)
        batch.push_back({{"name", "batch_" + std::to_string(i)}, {"email", "batch" + std::to_string(i) + "@x"}});
    batch[1400][1].second = "batch10@x"; // duplicate of row 10, in the second statement
    CHECK_THROWS_AS(c.table("qb_users").insert(batch), Error);
    CHECK(c.table("qb_users").where("name", "like", "batch_%").count() == 0);
    std::vector<Fields> ragged = {{{"name", "x"}, {"email", "y"}}, {{"name", "z"}, {"email", "w"}}, {{"name", "z"}}};
    expect_syntax_error([&] { c.table("qb_users").insert(ragged); }, "rows[2] has columns (name) but rows[0] has (name, email)");

    // ---- transactions: a builder on the session -----------------------------------------------
    try {
        c.transaction([&](Session &tx) {
            Record r = ilana::table(tx, "qb_users").create({{"name", "Tx"}, {"email", "tx@x"}});
            CHECK(r.get<std::string>("name") == "Tx");
            CHECK(ilana::table(tx, "qb_users").where("email", "tx@x").count() == 1);
            throw std::runtime_error("roll back");
        });
    } catch (const std::runtime_error &) {
    }
    CHECK(c.table("qb_users").where("email", "tx@x").count() == 0);
    c.transaction([&](Session &tx) { ilana::table(tx, "qb_users").where("email", "new@x").update({{"age", 2}}); });
    CHECK(c.table("qb_users").where("email", "new@x").first()->get<int>("age") == 2);

    CHECK(c.table("qb_posts").all_rows().del() == 25);
}


// More rows than one statement may bind: rows x columns > max_params, so the
// builder splits by max_params (fewer than 1000 rows per statement).
// PostgreSQL: a statement with more than ~7500 parameters cannot go through
// the driver's prepared-statement cache (libpq 15 drops a
// ParameterDescription over 30000 bytes as "lost synchronization"); the
// driver sends such statements unnamed, and this test covers that path.
void batch_suite(Kind kind, TempDir &dir) {
    INFO("database: " << kind_name(kind));
    auto log = std::make_shared<QueryLog>();
    Hooks hooks;
    hooks.on_query = [log](const std::string &, const std::string &sql, std::chrono::microseconds) { log->add(sql); };
    Database db = Database::open(config_json(kind, dir, false), OpenOptions{"", {ILANA_TEST_PLUGIN_DIR}, hooks});
    Connection c = db.on("main");
    const char Q = c.dialect().identifier_quote;
    create_tables(c, kind);
    DropGuard guard{c};
    const uint32_t max_params = c.dialect().max_params;
    REQUIRE(max_params > 0);
    const size_t wide_rows = std::max<size_t>(2500, max_params / kWideColumns * 3 + 7);
    std::vector<Fields> wide(wide_rows);
    for (size_t r = 0; r < wide_rows; ++r)
        for (int i = 0; i < kWideColumns; ++i) wide[r].emplace_back("c" + std::to_string(i), static_cast<int64_t>(r + i));
    CHECK(wide_rows * kWideColumns > max_params); // more than one statement may bind
    CHECK(c.table("qb_wide").insert(wide) == static_cast<int64_t>(wide_rows));
    CHECK(c.table("qb_wide").count() == static_cast<int64_t>(wide_rows));
    CHECK(c.table("qb_wide").where("c69", static_cast<int64_t>(wide_rows - 1 + 69)).count() == 1);
    auto inserts = log->matching(q(R"(INSERT INTO "qb_wide")", Q));
    const size_t per = std::min<size_t>(1000, max_params / kWideColumns);
    CHECK(inserts.size() == (wide_rows + per - 1) / per);
    for (const auto &stmt : inserts)
        CHECK(static_cast<size_t>(std::count(stmt.begin(), stmt.end(), '?')) <= max_params);

    // Narrow rows: at most 1000 rows per statement.
    std::vector<Fields> narrow;
    for (int i = 0; i < 2345; ++i) narrow.push_back({{"user_id", i}, {"title", "t" + std::to_string(i)}});
    CHECK(c.table("qb_posts").insert(narrow) == 2345);
    CHECK(c.table("qb_posts").count() == 2345);
    CHECK(log->matching(q(R"(INSERT INTO "qb_posts")", Q)).size() == 3);
}

// ---- models (the seed's usage) ------------------------------------------------------------

struct User : ilana::Model<User> {
    static constexpr const char *table = "qb_users";
    static constexpr bool timestamps = true;
    int64_t id = 0;
    std::string name;
    std::optional<std::string> email;
    std::optional<std::string> role;
    std::optional<int> age;
    static constexpr auto fields =
        std::make_tuple(ilana::field("id", &User::id), ilana::field("name", &User::name),
                        ilana::field("email", &User::email), ilana::field("role", &User::role),
                        ilana::field("age", &User::age));
};

struct Report : ilana::Model<Report> {
    static constexpr const char *table = "qb_reports";
    static constexpr const char *connection = "reporting";
    static constexpr const char *primaryKey = "report_id";
};

struct UserProfile : ilana::Model<UserProfile> {
    static constexpr const char *table = "qb_profiles";
    static constexpr const char *connection = "analytics";
};

struct AnalyticsEvent : ilana::Model<AnalyticsEvent> {
    static constexpr const char *table = "qb_events";
    static constexpr const char *connection = "analytics";
};

struct Ghost : ilana::Model<Ghost> {
    static constexpr const char *table = "ghosts";
    static constexpr const char *connection = "nope";
};

bool recent(TimestampTz t) {
    const int64_t diff = TimestampTz::now().micros_since_epoch - t.micros_since_epoch;
    return diff > -60'000'000 && diff < 600'000'000;
}

void model_suite(Kind kind, TempDir &dir) {
    INFO("database: " << kind_name(kind));
    reset_default();
    CHECK_THROWS_WITH(User::all(), Contains("call ilana::set_default(db) first"));

    ilana_test::LogCapture log;
    Database db = Database::open(config_json(kind, dir, true), OpenOptions{"", {ILANA_TEST_PLUGIN_DIR}, {}});
    create_tables(db.on("main"), kind);
    DropGuard guard{db.on("main")};
    Connection analytics = db.on("analytics");
    analytics.execute("DROP TABLE IF EXISTS qb_profiles");
    analytics.execute("DROP TABLE IF EXISTS qb_events");
    analytics.execute("CREATE TABLE qb_profiles (id INTEGER PRIMARY KEY, user_id INTEGER, name TEXT, email TEXT, "
                      "registered_at TEXT, synced_at TEXT)");
    analytics.execute("CREATE TABLE qb_events (id INTEGER PRIMARY KEY, event_type TEXT, user_id INTEGER, "
                      "timestamp TEXT)");
    set_default(db);
    struct Reset {
        ~Reset() { reset_default(); }
    } reset;

    // const users = await User.all(); const user = await User.find(1);
    CHECK(User::all().empty());
    CHECK_FALSE(User::find(1));
    // return await this.on("write").create(data);
    Record created = User::on("main").create({{"name", "Seed"}, {"email", "seed@x"}, {"role", "admin"}});
    CHECK(created.get<int64_t>("id") == 1);
    REQUIRE_FALSE(created["created_at"].is_null());
    CHECK(recent(created.get<TimestampTz>("created_at")));
    CHECK(recent(created.get<TimestampTz>("updated_at")));
    auto user = User::find(1);
    REQUIRE(user);
    CHECK(user->get<std::string>("name") == "Seed");
    CHECK(User::all().size() == 1);
    User::create({{"name", "Second"}, {"email", "second@x"}, {"role", "user"}});
    // return await this.on("read").selectRaw("role, COUNT(*) as count").groupBy("role").get();
    Result stats = User::on("reporting").selectRaw("role, COUNT(*) as count").groupBy("role").orderBy("role").get();
    REQUIRE(stats.size() == 2);
    CHECK(stats[0]["role"].as<std::string>() == "admin");
    CHECK(stats[0]["count"].as<int>() == 1);
    CHECK(User::where("role", "admin").count() == 1);

    // Report.on("reporting").selectRaw("COUNT(*) as total").where("created_at", ">", new Date()).first()
    const TimestampTz yesterday{TimestampTz::now().micros_since_epoch - 86'400'000'000LL};
    Record report = Report::create({{"title", "q1"}, {"created_at", yesterday}});
    const int64_t report_id = report.get<int64_t>("report_id");
    CHECK(Report::find(report_id)->get<std::string>("title") == "q1");
    auto total = Report::on("reporting").selectRaw("COUNT(*) as total").where("created_at", ">", TimestampTz::now()).first();
    REQUIRE(total);
    CHECK(total->get<int64_t>("total") == 0);
    CHECK(Report::query().selectRaw("COUNT(*) as total").where("created_at", "<", TimestampTz::now()).first()->get<int64_t>(
              "total") == 1);
    // const reportsFromPrimary = await Report.on("primary").all();
    CHECK(Report::on("main").all().size() == 1);

    // The migration of the seed: from the main database into analytics (SQLite).
    Result users = User::on("main").select("id", "name", "email", "created_at").get();
    REQUIRE(users.size() == 2);
    std::vector<Fields> profileData;
    for (Row u : users)
        profileData.push_back({{"user_id", Value(u["id"])},
                               {"name", Value(u["name"])},
                               {"email", Value(u["email"])},
                               {"registered_at", Value(u["created_at"])},
                               {"synced_at", TimestampTz::now()}});
    CHECK(UserProfile::on("analytics").insert(profileData) == 2);
    CHECK(UserProfile::all().size() == 2);
    CHECK(UserProfile::query().where("email", "seed@x").first()->get<std::string>("name") == "Seed");
    // await UserProfile.on("analytics").query().delete();  (all rows: said out loud)
    CHECK(UserProfile::on("analytics").query().all_rows().del() == 2);
    CHECK(UserProfile::all().empty());

    // AnalyticsEvent.on("analytics").create({...}); AnalyticsEvent.all(); .limit(100).get()
    Record ev = AnalyticsEvent::on("analytics").create({{"event_type", "user_login"}, {"user_id", 1}, {"timestamp", TimestampTz::now()}});
    CHECK(ev.get<int64_t>("id") == 1);
    CHECK(AnalyticsEvent::all().size() == 1);
    CHECK(AnalyticsEvent::on("analytics").limit(100).get().size() == 1);

    // Field mapping.
    User mapped;
    mapped.name = "Mapped";
    mapped.email = "m@x";
    mapped.age = 33;
    Fields f = ilana::to_fields(mapped);
    CHECK(std::none_of(f.begin(), f.end(), [](const auto &p) { return p.first == "id"; })); // id 0: left out
    Record m = User::create(f);
    auto typed = User::find_as(m.get<int64_t>("id"));
    REQUIRE(typed);
    CHECK(typed->name == "Mapped");
    CHECK(typed->age == 33);
    CHECK(typed->role == std::nullopt);
    User made = User::create_from(User{{}, 0, "Made", std::string("made@x"), std::string("user"), 5});
    CHECK(made.id > m.get<int64_t>("id"));
    CHECK(made.name == "Made");
    std::vector<User> admins = User::where("role", "admin").get_as<User>();
    REQUIRE(admins.size() == 1);
    CHECK(admins[0].name == "Seed");
    CHECK(User::all_as().size() == 4);
    CHECK(User::where("id", typed->id).update({{"name", "Renamed"}}) == 1);
    auto renamed = User::find(typed->id);
    CHECK(renamed->get<std::string>("name") == "Renamed");
    CHECK(renamed->get<TimestampTz>("updated_at").micros_since_epoch >=
          renamed->get<TimestampTz>("created_at").micros_since_epoch);

    // Inside a transaction: the model on the session.
    db.on("main").transaction([&](Session &tx) {
        User::on(tx).create({{"name", "InTx"}, {"email", "intx@x"}});
        CHECK(User::on(tx).where("email", "intx@x").exists());
    });
    CHECK(User::where("email", "intx@x").exists());

    // The seed's "Wrong Database Used": a model on a connection that is not in
    // the config names the ones that are; the log names every query's connection.
    CHECK_THROWS_WITH(Ghost::all(), Contains("connection 'nope' is not defined") &&
                                        Contains("connections: main, reporting, analytics"));
    CHECK_THROWS_AS(User::on("nope"), ConfigError);
    CHECK_THROWS_AS(User::on("analytics").all(), Error); // no qb_users there
    CHECK(log.contains("conn=analytics query=\"SELECT * FROM \"qb_events\""));
    CHECK(log.contains("conn=reporting query="));
    CHECK(log.contains("conn=main query="));
}

} // namespace

TEST_CASE("query builder and models on SQLite", "[query][sqlite]") {
    TempDir dir;
    builder_suite(Kind::sqlite, dir);
    model_suite(Kind::sqlite, dir);
}

TEST_CASE("query builder: batched insert beyond max_params on SQLite", "[query][sqlite][batch]") {
    TempDir dir;
    batch_suite(Kind::sqlite, dir);
}

TEST_CASE("query builder: batched insert beyond max_params on PostgreSQL", "[query][postgres][batch]") {
    ILANA_REQUIRE_PG();
    TempDir dir;
    batch_suite(Kind::pg, dir);
}

TEST_CASE("query builder: batched insert beyond max_params on MariaDB", "[query][mysql][batch]") {
    ILANA_REQUIRE_MYSQL();
    TempDir dir;
    batch_suite(Kind::mysql, dir);
}

TEST_CASE("query builder and models on PostgreSQL", "[query][postgres]") {
    ILANA_REQUIRE_PG();
    TempDir dir;
    builder_suite(Kind::pg, dir);
    model_suite(Kind::pg, dir);
}

TEST_CASE("query builder and models on MariaDB", "[query][mysql]") {
    ILANA_REQUIRE_MYSQL();
    TempDir dir;
    builder_suite(Kind::mysql, dir);
    model_suite(Kind::mysql, dir);
}
