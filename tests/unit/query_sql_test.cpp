// The query builder's SQL, without a connection: QueryBuilder::for_dialect
// with the dialect facts the three drivers declare.
#include <catch2/catch.hpp>

#include <ilana/driver.h>
#include <ilana/query.hpp>

#include "query/sql_text.hpp"

using namespace ilana;

namespace {

Dialect pg_dialect() {
    Dialect d;
    d.dollar_placeholders = true;
    d.identifier_quote = '"';
    d.supports_returning = true;
    d.upsert_form = ILANA_UPSERT_ON_CONFLICT;
    d.limit_form = ILANA_LIMIT_LIMIT_OFFSET;
    d.max_params = 65535;
    return d;
}
Dialect mysql_dialect() {
    Dialect d;
    d.identifier_quote = '`';
    d.upsert_form = ILANA_UPSERT_ON_DUPLICATE_KEY;
    d.limit_form = ILANA_LIMIT_LIMIT_OFFSET;
    d.max_params = 65535;
    return d;
}
Dialect sqlite_dialect() {
    Dialect d;
    d.identifier_quote = '"';
    d.supports_returning = true;
    d.upsert_form = ILANA_UPSERT_ON_CONFLICT;
    d.limit_form = ILANA_LIMIT_LIMIT_OFFSET;
    d.max_params = 32766;
    return d;
}

QueryBuilder pg(std::string_view t) { return QueryBuilder::for_dialect(pg_dialect(), t); }
QueryBuilder my(std::string_view t) { return QueryBuilder::for_dialect(mysql_dialect(), t); }

std::vector<std::string> texts(const std::vector<Value> &vs) {
    std::vector<std::string> out;
    for (const auto &v : vs) out.push_back(v.to_string());
    return out;
}

} // namespace

TEST_CASE("identifiers: accepted forms and their quoting", "[query][sql]") {
    using detail::identifier_problem;
    using detail::quote_identifier;
    CHECK(identifier_problem("name", false, false).empty());
    CHECK(identifier_problem("users.name", false, false).empty());
    CHECK(identifier_problem("public.users.name", false, false).empty());
    CHECK(identifier_problem("*", false, true).empty());
    CHECK(identifier_problem("users.*", false, true).empty());
    CHECK(identifier_problem("name as n", true, false).empty());
    CHECK(identifier_problem("users.name   AS   n", true, false).empty());
    CHECK(identifier_problem("name As n", true, false).empty());

    CHECK(quote_identifier("users.name", '"') == "\"users\".\"name\"");
    CHECK(quote_identifier("users.*", '`') == "`users`.*");
    CHECK(quote_identifier("*", '"') == "*");
    CHECK(quote_identifier("users.name as n", '`') == "`users`.`name` AS `n`");

    CHECK_THAT(identifier_problem("name\"; DROP", false, false), Catch::Contains("quote"));
    CHECK_THAT(identifier_problem("a`b", false, false), Catch::Contains("backtick"));
    CHECK_THAT(identifier_problem("a;b", false, false), Catch::Contains("semicolon"));
    CHECK_THAT(identifier_problem("a b", true, false), Catch::Contains("whitespace"));
    CHECK_THAT(identifier_problem("a\tb", false, false), Catch::Contains("control"));
    CHECK_THAT(identifier_problem(std::string("a\0b", 3), false, false), Catch::Contains("control"));
    CHECK_THAT(identifier_problem("COUNT(id)", false, false), Catch::Contains("parenthesis"));
    CHECK_THAT(identifier_problem("a,b", false, false), Catch::Contains("comma"));
    CHECK_THAT(identifier_problem("a?", false, false), Catch::Contains("question mark"));
    CHECK_THAT(identifier_problem("", false, false), Catch::Contains("empty"));
    CHECK_THAT(identifier_problem("a..b", false, false), Catch::Contains("empty part"));
    CHECK_THAT(identifier_problem("a.b.c.d", false, false), Catch::Contains("three"));
    CHECK_THAT(identifier_problem("*", false, false), Catch::Contains("'*' is not allowed"));
    CHECK_THAT(identifier_problem("*.a", false, true), Catch::Contains("last part"));
    CHECK_THAT(identifier_problem("a*", false, true), Catch::Contains("part of its own"));
    CHECK_THAT(identifier_problem("name as n", false, false), Catch::Contains("alias"));
    CHECK_THAT(identifier_problem("name as t.n", true, false), Catch::Contains("plain name"));
    CHECK_THAT(identifier_problem("name to n", true, false), Catch::Contains("whitespace"));
    CHECK_THAT(identifier_problem("name as n x", true, false), Catch::Contains("whitespace"));
}

TEST_CASE("operators: the allow-list", "[query][sql]") {
    using detail::canonical_operator;
    CHECK(canonical_operator("=") == std::string("="));
    CHECK(canonical_operator("like") == std::string("LIKE"));
    CHECK(canonical_operator("NOT   like") == std::string("NOT LIKE"));
    CHECK(canonical_operator("is not") == std::string("IS NOT"));
    CHECK(canonical_operator(">=") == std::string(">="));
    CHECK_FALSE(canonical_operator("; DROP"));
    CHECK_FALSE(canonical_operator("=="));
    CHECK_FALSE(canonical_operator("= 1 OR 1 ="));
    CHECK_FALSE(canonical_operator("not"));
    CHECK_FALSE(canonical_operator("in"));
}

TEST_CASE("select SQL per dialect", "[query][sql]") {
    auto build = [](QueryBuilder q) {
        q.select("id", "users.name", "email as mail")
            .where("age", ">", 18)
            .where("role", "admin")
            .orWhere("vip", true)
            .orderBy("name")
            .orderBy("id", "DESC")
            .limit(10)
            .offset(20);
        return q.toSql();
    };
    Sql p = build(pg("users"));
    CHECK(p.sql == "SELECT \"id\", \"users\".\"name\", \"email\" AS \"mail\" FROM \"users\" WHERE \"age\" > ? AND "
                   "\"role\" = ? OR \"vip\" = ? ORDER BY \"name\" ASC, \"id\" DESC LIMIT 10 OFFSET 20");
    CHECK(texts(p.bindings) == std::vector<std::string>{"18", "admin", "true"});
    Sql m = build(my("users"));
    CHECK(m.sql == "SELECT `id`, `users`.`name`, `email` AS `mail` FROM `users` WHERE `age` > ? AND `role` = ? OR "
                   "`vip` = ? ORDER BY `name` ASC, `id` DESC LIMIT 10 OFFSET 20");
    Sql s = build(QueryBuilder::for_dialect(sqlite_dialect(), "users"));
    CHECK(s.sql == p.sql);

    Dialect fetch = pg_dialect();
    fetch.limit_form = ILANA_LIMIT_OFFSET_FETCH;
    CHECK(QueryBuilder::for_dialect(fetch, "t").limit(5).offset(10).toSql().sql ==
          "SELECT * FROM \"t\" OFFSET 10 ROWS FETCH NEXT 5 ROWS ONLY");
    // OFFSET without LIMIT: MySQL and SQLite need a LIMIT.
    CHECK(my("t").offset(3).toSql().sql == "SELECT * FROM `t` LIMIT 9223372036854775807 OFFSET 3");
}

TEST_CASE("where forms", "[query][sql]") {
    CHECK(pg("t").whereIn("id", {1, 2, 3}).toSql().sql == "SELECT * FROM \"t\" WHERE \"id\" IN (?, ?, ?)");
    CHECK(pg("t").whereNotIn("id", {1}).toSql().sql == "SELECT * FROM \"t\" WHERE \"id\" NOT IN (?)");
    // Empty lists are constant predicates, not `IN ()`.
    CHECK(pg("t").whereIn("id", {}).toSql().sql == "SELECT * FROM \"t\" WHERE 1 = 0");
    CHECK(pg("t").whereNotIn("id", {}).toSql().sql == "SELECT * FROM \"t\" WHERE 1 = 1");
    CHECK(pg("t").whereNull("a").whereNotNull("b").toSql().sql ==
          "SELECT * FROM \"t\" WHERE \"a\" IS NULL AND \"b\" IS NOT NULL");
    CHECK(pg("t").where("a", nullptr).where("b", "<>", nullptr).toSql().sql ==
          "SELECT * FROM \"t\" WHERE \"a\" IS NULL AND \"b\" IS NOT NULL");
    CHECK(pg("t").where("a", "is", nullptr).where("b", "is not", true).toSql().sql ==
          "SELECT * FROM \"t\" WHERE \"a\" IS NULL AND \"b\" IS NOT TRUE");
    Sql b = pg("t").whereBetween("age", 18, 65).orWhereNull("age").toSql();
    CHECK(b.sql == "SELECT * FROM \"t\" WHERE \"age\" BETWEEN ? AND ? OR \"age\" IS NULL");
    CHECK(texts(b.bindings) == std::vector<std::string>{"18", "65"});
    Sql r = pg("t").where("a", 1).whereRaw("lower(name) = ?", {"x"}).toSql();
    CHECK(r.sql == "SELECT * FROM \"t\" WHERE \"a\" = ? AND (lower(name) = ?)");
    CHECK(texts(r.bindings) == std::vector<std::string>{"1", "x"});
    Sql g = pg("t").where("a", 1).where([](QueryBuilder &q) { q.where("b", 2).orWhere("c", 3); }).toSql();
    CHECK(g.sql == "SELECT * FROM \"t\" WHERE \"a\" = ? AND (\"b\" = ? OR \"c\" = ?)");
    CHECK(texts(g.bindings) == std::vector<std::string>{"1", "2", "3"});
    CHECK(pg("t").where("name", "not like", "a%").where("name", "ilike", "B%").toSql().sql ==
          "SELECT * FROM \"t\" WHERE \"name\" NOT LIKE ? AND \"name\" ILIKE ?");
}

TEST_CASE("joins, grouping, having, distinct, raw select", "[query][sql]") {
    Sql s = my("users as u")
                .distinct()
                .select("u.id")
                .selectRaw("COUNT(p.id) AS posts")
                .leftJoin("posts as p", "p.user_id", "=", "u.id")
                .join("teams", "teams.id", "=", "u.team_id")
                .where("teams.name", "a")
                .groupBy("u.id", "u.name")
                .having("u.id", ">", 0)
                .havingRaw("COUNT(p.id) > ?", {1})
                .orderByRaw("COUNT(p.id) DESC")
                .toSql();
    CHECK(s.sql == "SELECT DISTINCT `u`.`id`, COUNT(p.id) AS posts FROM `users` AS `u` LEFT JOIN `posts` AS `p` ON "
                   "`p`.`user_id` = `u`.`id` INNER JOIN `teams` ON `teams`.`id` = `u`.`team_id` WHERE "
                   "`teams`.`name` = ? GROUP BY `u`.`id`, `u`.`name` HAVING `u`.`id` > ? AND (COUNT(p.id) > ?) "
                   "ORDER BY COUNT(p.id) DESC");
    CHECK(texts(s.bindings) == std::vector<std::string>{"a", "0", "1"});
}

TEST_CASE("mistakes fail at the call, naming the thing", "[query][sql]") {
    auto q = pg("users");
    CHECK_THROWS_WITH(q.where("name\"; DROP", 1), Catch::Contains("invalid identifier 'name\"; DROP'") &&
                                                      Catch::Contains("where()"));
    CHECK_THROWS_WITH(q.where("name", "; DROP", 1), Catch::Contains("operator '; DROP' is not allowed") &&
                                                        Catch::Contains("=, !=, <>, <, <=, >, >=, like"));
    CHECK_THROWS_WITH(my("users").where("name", "ilike", "a"), Catch::Contains("PostgreSQL only"));
    CHECK_THROWS_WITH(q.where("a", "is", 5), Catch::Contains("takes NULL or a bool"));
    CHECK_THROWS_WITH(q.orderBy("name", "sideways"), Catch::Contains("not asc or desc"));
    CHECK_THROWS_WITH(q.limit(-1), Catch::Contains("negative"));
    CHECK_THROWS_WITH(q.select("COUNT(*)"), Catch::Contains("selectRaw"));
    CHECK_THROWS_WITH(q.join("t", "a", "like", "b"), Catch::Contains("cannot join"));
    CHECK_THROWS_WITH(pg("users; DROP TABLE x"), Catch::Contains("invalid identifier"));
    try {
        q.where("a b", 1);
        FAIL("no throw");
    } catch (const Error &e) {
        CHECK(e.error_class() == ErrorClass::syntax);
    }
    // The builder is unchanged by a failed call.
    CHECK(q.toSql().sql == "SELECT * FROM \"users\"");
    // A for_dialect builder cannot run.
    CHECK_THROWS_WITH(q.get(), Catch::Contains("only writes SQL"));
}
