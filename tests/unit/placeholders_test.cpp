#include <catch2/catch.hpp>

#include "db/placeholders.hpp"

#include <ilana/driver.h>

using ilana::detail::placeholders_passthrough;
using ilana::detail::rewrite_placeholders;

TEST_CASE("? becomes $n for PostgreSQL, outside quotes and comments", "[placeholders]") {
    std::string out;
    CHECK(rewrite_placeholders("SELECT * FROM t WHERE a = ? AND b = ?", ILANA_PLACEHOLDER_DOLLAR, out) == 2);
    CHECK(out == "SELECT * FROM t WHERE a = $1 AND b = $2");

    CHECK(rewrite_placeholders("SELECT '?', \"?\", ? -- ?\n, /* ? */ ?", ILANA_PLACEHOLDER_DOLLAR, out) == 2);
    CHECK(out == "SELECT '?', \"?\", $1 -- ?\n, /* ? */ $2");

    CHECK(rewrite_placeholders("SELECT 'it''s ?', ?", ILANA_PLACEHOLDER_DOLLAR, out) == 1);
    CHECK(out == "SELECT 'it''s ?', $1");

    CHECK(rewrite_placeholders("DO $body$ SELECT '?' $body$; SELECT ?", ILANA_PLACEHOLDER_DOLLAR, out) == 1);
    CHECK(out == "DO $body$ SELECT '?' $body$; SELECT $1");
}

TEST_CASE("?? is a literal question mark", "[placeholders]") {
    std::string out;
    CHECK(rewrite_placeholders("SELECT data ?? 'key' FROM t WHERE id = ?", ILANA_PLACEHOLDER_DOLLAR, out) == 1);
    CHECK(out == "SELECT data ? 'key' FROM t WHERE id = $1");
    CHECK_FALSE(placeholders_passthrough("SELECT a ?? b", ILANA_PLACEHOLDER_QUESTION));
    CHECK(rewrite_placeholders("SELECT a ?? b, ?", ILANA_PLACEHOLDER_QUESTION, out) == 1);
    CHECK(out == "SELECT a ? b, ?");
}

TEST_CASE("question-mark dialects pass SQL through untouched", "[placeholders]") {
    CHECK(placeholders_passthrough("SELECT ?", ILANA_PLACEHOLDER_QUESTION));
    CHECK(placeholders_passthrough("SELECT 1", ILANA_PLACEHOLDER_DOLLAR));
    CHECK_FALSE(placeholders_passthrough("SELECT ?", ILANA_PLACEHOLDER_DOLLAR));
    std::string out;
    CHECK(rewrite_placeholders("SELECT `a?`, 'b\\'?', ?", ILANA_PLACEHOLDER_QUESTION, out) == 1);
}
