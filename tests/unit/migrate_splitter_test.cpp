// The migration statement splitter (core/src/features/migrate/sql_splitter.*): where
// a statement ends in each dialect, and where it does not.
#include <catch2/catch.hpp>

#include "migrate/sql_splitter.hpp"

#include <string>
#include <vector>

using ilana::detail::split_sql;
using ilana::detail::SqlDialect;
using ilana::detail::SqlSplitError;

namespace {

std::vector<std::string> split(const std::string &sql, SqlDialect d) {
    std::vector<std::string> out;
    for (auto &s : split_sql(sql, d)) out.push_back(s.text);
    return out;
}
std::vector<std::string> pg(const std::string &sql) { return split(sql, SqlDialect::postgres); }
std::vector<std::string> my(const std::string &sql) { return split(sql, SqlDialect::mysql); }
std::vector<std::string> lite(const std::string &sql) { return split(sql, SqlDialect::generic); }

using V = std::vector<std::string>;

} // namespace

TEST_CASE("plain statements: trimmed, without the semicolon, empty ones dropped", "[migrate][splitter]") {
    for (auto d : {SqlDialect::generic, SqlDialect::postgres, SqlDialect::mysql}) {
        CHECK(split("CREATE TABLE a (x int);\nINSERT INTO a VALUES (1);\n", d) ==
              V{"CREATE TABLE a (x int)", "INSERT INTO a VALUES (1)"});
        CHECK(split("SELECT 1", d) == V{"SELECT 1"});               // no final semicolon
        CHECK(split("", d).empty());
        CHECK(split("  ;; ;\n", d).empty());
        CHECK(split("SELECT 1;;SELECT 2;", d) == V{"SELECT 1", "SELECT 2"});
        CHECK(split("SELECT 1\r\n  + 2;\r\nSELECT 3;\r\n", d) == V{"SELECT 1\r\n  + 2", "SELECT 3"});
        // Plain BEGIN / COMMIT are transaction statements, not blocks.
        CHECK(split("BEGIN; CREATE TABLE t (x int); COMMIT;", d) == V{"BEGIN", "CREATE TABLE t (x int)", "COMMIT"});
    }
}

TEST_CASE("string literals: , inside, '' doubled", "[migrate][splitter]") {
    for (auto d : {SqlDialect::generic, SqlDialect::postgres, SqlDialect::mysql}) {
        CHECK(split("INSERT INTO t VALUES ('a;b', 'it''s; fine'); SELECT 1", d) ==
              V{"INSERT INTO t VALUES ('a;b', 'it''s; fine')", "SELECT 1"});
        CHECK(split("SELECT ''';'''; SELECT 2", d) == V{"SELECT ''';'''", "SELECT 2"});
        CHECK(split("SELECT 'multi\nline;\nstring'; SELECT 2", d) == V{"SELECT 'multi\nline;\nstring'", "SELECT 2"});
    }
}

TEST_CASE("backslash escapes: MySQL strings and PostgreSQL E'' strings only", "[migrate][splitter]") {
    // MySQL: \' does not end the string.
    CHECK(my(R"(INSERT INTO t VALUES ('a\';b'); SELECT 1)") == V{R"(INSERT INTO t VALUES ('a\';b'))", "SELECT 1"});
    CHECK(my(R"(INSERT INTO t VALUES ('C:\\'); SELECT 1)") == V{R"(INSERT INTO t VALUES ('C:\\'))", "SELECT 1"});
    CHECK(my(R"(SELECT "say \"hi\"; now"; SELECT 2)") == V{R"(SELECT "say \"hi\"; now")", "SELECT 2"});
    // PostgreSQL and SQLite: a backslash is an ordinary character in '...'.
    CHECK(pg(R"(SELECT 'C:\'; SELECT 2)") == V{R"(SELECT 'C:\')", "SELECT 2"});
    CHECK(lite(R"(SELECT 'C:\'; SELECT 2)") == V{R"(SELECT 'C:\')", "SELECT 2"});
    CHECK_THROWS_AS(my(R"(SELECT 'C:\'; SELECT 2)"), SqlSplitError); // the string never ends
    // PostgreSQL E'...' takes backslash escapes; so does e'...'.
    CHECK(pg(R"(SELECT E'it\'s; ok'; SELECT 2)") == V{R"(SELECT E'it\'s; ok')", "SELECT 2"});
    CHECK(pg(R"(SELECT e'\\'; SELECT 2)") == V{R"(SELECT e'\\')", "SELECT 2"});
    // ...but not an identifier that merely ends in e.
    CHECK(pg(R"(SELECT some'x\'; SELECT 2)") == V{R"(SELECT some'x\')", "SELECT 2"});
}

TEST_CASE("quoted identifiers: double quotes, backticks, SQLite brackets", "[migrate][splitter]") {
    CHECK(pg(R"(CREATE TABLE "we;ird" ("a""b;" int); SELECT 1)") ==
          V{R"(CREATE TABLE "we;ird" ("a""b;" int))", "SELECT 1"});
    CHECK(lite(R"(CREATE TABLE "we;ird" ("a""b;" int); SELECT 1)") ==
          V{R"(CREATE TABLE "we;ird" ("a""b;" int))", "SELECT 1"});
    CHECK(my("CREATE TABLE `a;b` (`c``;` int); SELECT 1") == V{"CREATE TABLE `a;b` (`c``;` int)", "SELECT 1"});
    CHECK(lite("CREATE TABLE `a;b` (x); SELECT 1") == V{"CREATE TABLE `a;b` (x)", "SELECT 1"});
    CHECK(lite("CREATE TABLE [a;b] (x); SELECT 1") == V{"CREATE TABLE [a;b] (x)", "SELECT 1"});
    // PostgreSQL arrays are not identifiers.
    CHECK(pg("SELECT a[1] FROM t; SELECT 2") == V{"SELECT a[1] FROM t", "SELECT 2"});
}

TEST_CASE("comments: -- and /* */, MySQL # and its -- rule, PostgreSQL nesting", "[migrate][splitter]") {
    for (auto d : {SqlDialect::generic, SqlDialect::postgres, SqlDialect::mysql}) {
        CHECK(split("-- a; comment\nSELECT 1; /* x; y */ SELECT 2; -- trailing;\n/* only; a comment */", d) ==
              V{"SELECT 1", "SELECT 2"});
        // A comment inside a statement stays in its text.
        CHECK(split("SELECT 1 -- one;\n + 1; SELECT 2", d) == V{"SELECT 1 -- one;\n + 1", "SELECT 2"});
        CHECK(split("SELECT /* ; */ 1; SELECT 2", d) == V{"SELECT /* ; */ 1", "SELECT 2"});
    }
    // MySQL: "--" starts a comment only when followed by a space or control.
    CHECK(my("SELECT 1--1; SELECT 2") == V{"SELECT 1--1", "SELECT 2"});
    CHECK(pg("SELECT 1--1; SELECT 2\nSELECT 3") == V{"SELECT 1--1; SELECT 2\nSELECT 3"});
    CHECK(my("SELECT 1 --\nSELECT 2") == V{"SELECT 1 --\nSELECT 2"});
    // MySQL: # comments; elsewhere # is an operator.
    CHECK(my("SELECT 1; # c;\nSELECT 2") == V{"SELECT 1", "SELECT 2"});
    CHECK(pg("SELECT 1 # 2; SELECT 3") == V{"SELECT 1 # 2", "SELECT 3"});
    // PostgreSQL block comments nest; MySQL's do not.
    CHECK(pg("/* a /* b; */ c; */ SELECT 1; SELECT 2") == V{"SELECT 1", "SELECT 2"});
    CHECK(my("/* a /* b; */ SELECT 1; SELECT 2") == V{"SELECT 1", "SELECT 2"});
    // MySQL runs /*! ... */ comments: a statement of its own.
    CHECK(my("/*!40101 SET NAMES utf8mb4 */;\nSELECT 1;") == V{"/*!40101 SET NAMES utf8mb4 */", "SELECT 1"});
    CHECK(lite("/*!40101 SET NAMES utf8mb4 */;\nSELECT 1;") == V{"SELECT 1"});
}

TEST_CASE("PostgreSQL dollar quoting", "[migrate][splitter]") {
    const std::string fn = "CREATE FUNCTION touch() RETURNS trigger AS $$\n"
                           "BEGIN\n"
                           "  NEW.note := 'a;b';\n"
                           "  RETURN NEW;\n"
                           "END;\n"
                           "$$ LANGUAGE plpgsql";
    CHECK(pg(fn + ";\nCREATE TRIGGER t BEFORE UPDATE ON x FOR EACH ROW EXECUTE FUNCTION touch();\n") ==
          V{fn, "CREATE TRIGGER t BEFORE UPDATE ON x FOR EACH ROW EXECUTE FUNCTION touch()"});
    // A tagged body may contain $$ and other tags.
    CHECK(pg("DO $body$ BEGIN PERFORM 'x$$;'; PERFORM $q$;$q$; END $body$; SELECT 1") ==
          V{"DO $body$ BEGIN PERFORM 'x$$;'; PERFORM $q$;$q$; END $body$", "SELECT 1"});
    CHECK(pg("SELECT $fn_1$;$fn_1$; SELECT 2") == V{"SELECT $fn_1$;$fn_1$", "SELECT 2"});
    // $1 is a parameter, a$b an identifier: neither opens a quote.
    CHECK(pg("PREPARE p(int) AS SELECT $1; EXECUTE p(1)") == V{"PREPARE p(int) AS SELECT $1", "EXECUTE p(1)"});
    CHECK(pg("SELECT a$b, c$$ FROM t; SELECT 2") == V{"SELECT a$b, c$$ FROM t", "SELECT 2"});
    // Elsewhere $ is no quote.
    CHECK(my("SELECT $$; SELECT 2") == V{"SELECT $$", "SELECT 2"});
    CHECK_THROWS_AS(pg("DO $x$ BEGIN END; SELECT 1"), SqlSplitError);
}

TEST_CASE("parentheses keep a PostgreSQL rule's actions together", "[migrate][splitter]") {
    CHECK(pg("CREATE RULE r AS ON INSERT TO t DO ALSO (INSERT INTO a VALUES (1); INSERT INTO b VALUES (2)); SELECT 1") ==
          V{"CREATE RULE r AS ON INSERT TO t DO ALSO (INSERT INTO a VALUES (1); INSERT INTO b VALUES (2))", "SELECT 1"});
}

TEST_CASE("MySQL procedure without DELIMITER: all block kinds", "[migrate][splitter]") {
    const std::string proc = "CREATE PROCEDURE p(IN n INT)\n"
                             "BEGIN\n"
                             "  DECLARE i INT DEFAULT 0;\n"
                             "  DECLARE done INT DEFAULT 0;\n"
                             "  lbl: LOOP\n"
                             "    SET i = i + 1;\n"
                             "    IF i > n THEN LEAVE lbl; END IF;\n"
                             "  END LOOP lbl;\n"
                             "  WHILE i > 0 DO\n"
                             "    SET i = i - 1;\n"
                             "  END WHILE;\n"
                             "  REPEAT\n"
                             "    SET i = i + 1;\n"
                             "  UNTIL i >= 3 END REPEAT;\n"
                             "  CASE i\n"
                             "    WHEN 1 THEN SELECT 'one;';\n"
                             "    ELSE BEGIN SELECT 'other'; END;\n"
                             "  END CASE;\n"
                             "  SET done = CASE WHEN i > 2 THEN 1 ELSE 0 END;\n"
                             "  SELECT IF(i > 1, 'a', 'b');\n"
                             "  SELECT REPEAT('x', 3);\n"
                             "  IF NOT EXISTS (SELECT 1 FROM t) THEN\n"
                             "    INSERT INTO t VALUES (1);\n"
                             "  ELSEIF i = 2 THEN\n"
                             "    IF i > 0 THEN SELECT 1; ELSE SELECT 2; END IF;\n"
                             "  ELSE\n"
                             "    SELECT 3;\n"
                             "  END IF;\n"
                             "END";
    CHECK(my(proc + ";\nCALL p(3);\n") == V{proc, "CALL p(3)"});
}

TEST_CASE("MySQL triggers, functions, events, handlers", "[migrate][splitter]") {
    CHECK(my("CREATE TRIGGER trg BEFORE INSERT ON t FOR EACH ROW BEGIN IF NEW.a IS NULL THEN SET NEW.a = 0; "
             "ELSEIF NEW.a < 0 THEN SET NEW.a = -NEW.a; ELSE SET NEW.b = 1; END IF; END; INSERT INTO t VALUES (1);") ==
          V{"CREATE TRIGGER trg BEFORE INSERT ON t FOR EACH ROW BEGIN IF NEW.a IS NULL THEN SET NEW.a = 0; "
            "ELSEIF NEW.a < 0 THEN SET NEW.a = -NEW.a; ELSE SET NEW.b = 1; END IF; END",
            "INSERT INTO t VALUES (1)"});
    // A single-statement body needs no BEGIN.
    CHECK(my("CREATE TRIGGER trg BEFORE INSERT ON t FOR EACH ROW SET NEW.a = 1; INSERT INTO t VALUES (1)") ==
          V{"CREATE TRIGGER trg BEFORE INSERT ON t FOR EACH ROW SET NEW.a = 1", "INSERT INTO t VALUES (1)"});
    CHECK(my("CREATE DEFINER=`root`@`%` FUNCTION f(x INT) RETURNS INT DETERMINISTIC BEGIN RETURN CASE WHEN x > 0 "
             "THEN 1 ELSE 0 END; END; SELECT f(1);") ==
          V{"CREATE DEFINER=`root`@`%` FUNCTION f(x INT) RETURNS INT DETERMINISTIC BEGIN RETURN CASE WHEN x > 0 "
            "THEN 1 ELSE 0 END; END",
            "SELECT f(1)"});
    CHECK(my("CREATE DEFINER = CURRENT_USER() PROCEDURE d() BEGIN SELECT 1; END; SELECT 2") ==
          V{"CREATE DEFINER = CURRENT_USER() PROCEDURE d() BEGIN SELECT 1; END", "SELECT 2"});
    CHECK(my("CREATE FUNCTION g() RETURNS INT RETURN 1; SELECT g()") == V{"CREATE FUNCTION g() RETURNS INT RETURN 1", "SELECT g()"});
    // IF() inside a CASE expression after THEN is the function, not a statement.
    CHECK(my("CREATE PROCEDURE q() BEGIN SELECT CASE WHEN 1 THEN IF(1,2,3) ELSE 0 END; SET @a = 1; END; SELECT 1") ==
          V{"CREATE PROCEDURE q() BEGIN SELECT CASE WHEN 1 THEN IF(1,2,3) ELSE 0 END; SET @a = 1; END", "SELECT 1"});
    CHECK(my("CREATE PROCEDURE r() BEGIN IF(@x) THEN SELECT 1; END IF; END; SELECT 2") ==
          V{"CREATE PROCEDURE r() BEGIN IF(@x) THEN SELECT 1; END IF; END", "SELECT 2"});
    CHECK(my("CREATE PROCEDURE h() BEGIN DECLARE EXIT HANDLER FOR SQLEXCEPTION BEGIN ROLLBACK; RESIGNAL; END; "
             "START TRANSACTION; INSERT INTO t VALUES (1); COMMIT; END; SELECT 2") ==
          V{"CREATE PROCEDURE h() BEGIN DECLARE EXIT HANDLER FOR SQLEXCEPTION BEGIN ROLLBACK; RESIGNAL; END; "
            "START TRANSACTION; INSERT INTO t VALUES (1); COMMIT; END",
            "SELECT 2"});
    CHECK(my("CREATE EVENT e ON SCHEDULE EVERY 1 DAY DO BEGIN DELETE FROM t; DELETE FROM u; END; SELECT 1") ==
          V{"CREATE EVENT e ON SCHEDULE EVERY 1 DAY DO BEGIN DELETE FROM t; DELETE FROM u; END", "SELECT 1"});
    // Labeled blocks and WHILE inside a CASE statement.
    CHECK(my("CREATE PROCEDURE w() outer_blk: BEGIN CASE WHEN 1 THEN w1: WHILE 0 DO SELECT 1; END WHILE w1; "
             "END CASE; END outer_blk; SELECT 2") ==
          V{"CREATE PROCEDURE w() outer_blk: BEGIN CASE WHEN 1 THEN w1: WHILE 0 DO SELECT 1; END WHILE w1; "
            "END CASE; END outer_blk",
            "SELECT 2"});
    // MariaDB's anonymous block.
    CHECK(my("BEGIN NOT ATOMIC DECLARE x INT; SET x = 1; END; SELECT 1") ==
          V{"BEGIN NOT ATOMIC DECLARE x INT; SET x = 1; END", "SELECT 1"});
    // Names that only look like keywords do not open anything.
    CHECK(my("CREATE TABLE function_log (trigger_name TEXT, `end` INT); SELECT 1") ==
          V{"CREATE TABLE function_log (trigger_name TEXT, `end` INT)", "SELECT 1"});
    CHECK(my("CREATE TABLE t (a INT); CREATE VIEW v AS SELECT CASE WHEN a THEN 1 END AS c FROM t; SELECT 1") ==
          V{"CREATE TABLE t (a INT)", "CREATE VIEW v AS SELECT CASE WHEN a THEN 1 END AS c FROM t", "SELECT 1"});
}

TEST_CASE("MySQL DELIMITER lines", "[migrate][splitter]") {
    CHECK(my("DELIMITER $$\nCREATE PROCEDURE p() BEGIN SELECT 1; SELECT 2; END$$\nDELIMITER ;\nSELECT 3;\n") ==
          V{"CREATE PROCEDURE p() BEGIN SELECT 1; SELECT 2; END", "SELECT 3"});
    CHECK(my("delimiter //\nSELECT 1; SELECT 2//\nSELECT 3 //\ndelimiter ;\nSELECT 4; SELECT 5") ==
          V{"SELECT 1; SELECT 2", "SELECT 3", "SELECT 4", "SELECT 5"});
    CHECK_THROWS_AS(my("DELIMITER\nSELECT 1"), SqlSplitError);
    // Not a MySQL command elsewhere: just a (bad) statement.
    CHECK(pg("DELIMITER //\nSELECT 1;") == V{"DELIMITER //\nSELECT 1"});
}

TEST_CASE("SQLite triggers and PostgreSQL BEGIN ATOMIC bodies", "[migrate][splitter]") {
    CHECK(lite("CREATE TRIGGER IF NOT EXISTS trg AFTER INSERT ON t BEGIN UPDATE c SET n = n + 1; INSERT INTO log "
               "VALUES (new.id); END; SELECT 1") ==
          V{"CREATE TRIGGER IF NOT EXISTS trg AFTER INSERT ON t BEGIN UPDATE c SET n = n + 1; INSERT INTO log "
            "VALUES (new.id); END",
            "SELECT 1"});
    CHECK(lite("CREATE TEMP TRIGGER t1 AFTER UPDATE ON t WHEN new.a IS NOT NULL BEGIN UPDATE x SET y = CASE WHEN "
               "new.a > 0 THEN 1 ELSE 0 END; SELECT RAISE(IGNORE); END; SELECT 1") ==
          V{"CREATE TEMP TRIGGER t1 AFTER UPDATE ON t WHEN new.a IS NOT NULL BEGIN UPDATE x SET y = CASE WHEN "
            "new.a > 0 THEN 1 ELSE 0 END; SELECT RAISE(IGNORE); END",
            "SELECT 1"});
    CHECK(pg("CREATE FUNCTION add(a int, b int) RETURNS int LANGUAGE sql BEGIN ATOMIC SELECT a + b; END; SELECT "
             "add(1, 2);") ==
          V{"CREATE FUNCTION add(a int, b int) RETURNS int LANGUAGE sql BEGIN ATOMIC SELECT a + b; END",
            "SELECT add(1, 2)"});
    CHECK(pg("CREATE OR REPLACE PROCEDURE ins() LANGUAGE sql BEGIN ATOMIC INSERT INTO t VALUES (1); INSERT INTO t "
             "VALUES (CASE WHEN true THEN 2 END); END; CALL ins()") ==
          V{"CREATE OR REPLACE PROCEDURE ins() LANGUAGE sql BEGIN ATOMIC INSERT INTO t VALUES (1); INSERT INTO t "
            "VALUES (CASE WHEN true THEN 2 END); END",
            "CALL ins()"});
    // CASE in ordinary statements does not hold a statement open.
    CHECK(pg("SELECT CASE WHEN a THEN 1 END FROM t; SELECT 2") == V{"SELECT CASE WHEN a THEN 1 END FROM t", "SELECT 2"});
    CHECK(lite("SELECT CASE WHEN a THEN 1 END, 'end' FROM t; SELECT 2") ==
          V{"SELECT CASE WHEN a THEN 1 END, 'end' FROM t", "SELECT 2"});
}

TEST_CASE("statement lines count from first_line", "[migrate][splitter]") {
    auto st = split_sql("\n\nSELECT 1;\n  SELECT\n 2; /* x\n */ SELECT 3", SqlDialect::postgres, 10);
    REQUIRE(st.size() == 3);
    CHECK(st[0].line == 12);
    CHECK(st[1].line == 13);
    CHECK(st[2].line == 15);
}

TEST_CASE("unterminated quotes and comments are errors naming the line", "[migrate][splitter]") {
    auto line_of = [](const std::string &sql, SqlDialect d) {
        try {
            split_sql(sql, d);
        } catch (const SqlSplitError &e) {
            return e.line;
        }
        return -1;
    };
    CHECK(line_of("SELECT 1;\nSELECT 'abc", SqlDialect::generic) == 2);
    CHECK(line_of("SELECT 1;\n\n/* abc", SqlDialect::mysql) == 3);
    CHECK(line_of("SELECT \"abc", SqlDialect::postgres) == 1);
    CHECK(line_of("SELECT `abc", SqlDialect::mysql) == 1);
    CHECK(line_of("SELECT [abc", SqlDialect::generic) == 1);
    CHECK(line_of("\nSELECT $$abc", SqlDialect::postgres) == 2);
    CHECK(line_of("/* a /* b */", SqlDialect::postgres) == 1); // nested: still open
    try {
        split_sql("SELECT 'abc", SqlDialect::generic);
        FAIL("no error");
    } catch (const SqlSplitError &e) {
        CHECK(std::string(e.what()) == "unterminated string literal ' starting at line 1");
    }
}
