// <ilana/sdk/sql_text.hpp>: LeadingKeyword, as the PostgreSQL driver (is a
// statement a query?) and the MariaDB driver (does a result come from a
// change?) use it.
#include <catch2/catch.hpp>

#include <ilana/sdk/sql_text.hpp>

#include <string>

using ilana::sdk::LeadingKeyword;

TEST_CASE("LeadingKeyword: the first word, lower-cased, after blanks, comments and parentheses", "[sdk][sql]") {
    CHECK(LeadingKeyword("SELECT 1").word() == "select");
    CHECK(LeadingKeyword("  \t\n\r select").word() == "select");
    CHECK(LeadingKeyword("((Select 1))").word() == "select");
    CHECK(LeadingKeyword("-- a comment\nINSERT INTO t VALUES (1)").word() == "insert");
    CHECK(LeadingKeyword("/* one */ /* two\n lines */Delete FROM t").word() == "delete");
    CHECK(LeadingKeyword("with x AS (DELETE FROM t RETURNING *) SELECT * FROM x").word() == "with");
    CHECK(LeadingKeyword("update t set a = 1").is("update"));
    CHECK(LeadingKeyword("VALUES (1)").is_any({"select", "values"}));
    CHECK_FALSE(LeadingKeyword("insert into t").is_any({"select", "values"}));
    // Letters only: the word ends at the first other character.
    CHECK(LeadingKeyword("select*from t").word() == "select");
    CHECK(LeadingKeyword("replace_me()").word() == "replace");
}

TEST_CASE("LeadingKeyword: no keyword", "[sdk][sql]") {
    CHECK(LeadingKeyword("").word().empty());
    CHECK(LeadingKeyword("   ").word().empty());
    CHECK(LeadingKeyword("-- only a comment").word().empty());
    CHECK(LeadingKeyword("/* unclosed comment SELECT").word().empty());
    CHECK(LeadingKeyword("1 + 1").word().empty());
    CHECK(LeadingKeyword("\"select\"").word().empty());
    // Longer than any keyword: nothing, not a 16-letter prefix of it.
    CHECK(LeadingKeyword(std::string(16, 'a')).word() == std::string(16, 'a'));
    CHECK(LeadingKeyword(std::string(17, 'a')).word().empty());
    CHECK(LeadingKeyword("insertinsertinsertx").word().empty());
}

TEST_CASE("LeadingKeyword: # comments only when asked (MySQL)", "[sdk][sql]") {
    CHECK(LeadingKeyword("# note\nINSERT INTO t VALUES (1)", true).word() == "insert");
    CHECK(LeadingKeyword("# note\nINSERT INTO t VALUES (1)").word().empty());
    CHECK(LeadingKeyword("#\n#\n  delete from t", true).is("delete"));
}

TEST_CASE("LeadingKeyword: reads only the view it is given", "[sdk][sql]") {
    const std::string text = "SELECTED";
    CHECK(LeadingKeyword(std::string_view(text).substr(0, 6)).word() == "select");
    const std::string comment = "/* x */ INSERT";
    CHECK(LeadingKeyword(std::string_view(comment).substr(0, 5)).word().empty()); // "/* x": unclosed
}

TEST_CASE("ContainsNoCase: finds a word whatever its case", "[sdk][sql]") {
    using ilana::sdk::ContainsNoCase;
    CHECK(ContainsNoCase("CREATE TEMP TABLE t (a int)", "temp"));
    CHECK(ContainsNoCase("create Temporary table t", "temporary"));
    CHECK(ContainsNoCase("select set_config('a', 'b', false)", "set_config"));
    CHECK(ContainsNoCase("SELECT GET_LOCK('x', 0)", "get_lock"));
    CHECK(ContainsNoCase("temp", "temp"));
    CHECK(ContainsNoCase("anything", ""));
    CHECK_FALSE(ContainsNoCase("CREATE TABLE t (a int)", "temp"));
    CHECK_FALSE(ContainsNoCase("te", "temp"));
    CHECK_FALSE(ContainsNoCase("", "temp"));
    CHECK_FALSE(ContainsNoCase("tem p", "temp"));
    // Reads only the view it is given.
    const std::string text = "SELECT 1 -- temp";
    CHECK_FALSE(ContainsNoCase(std::string_view(text).substr(0, 14), "temp"));
}
