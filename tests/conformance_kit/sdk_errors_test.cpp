// sdk_errors_test.cpp — <ilana/sdk/error_table.hpp> and <ilana/sdk/scrub.hpp>:
// the error tables every bundled driver classifies with, and the one rule
// for what an error message may not hold (a password, a bound value).
#include <catch2/catch.hpp>

#include <ilana/sdk/error_table.hpp>
#include <ilana/sdk/scrub.hpp>

#include <string>

namespace {

constexpr ilana::sdk::SqlstateRule kRules[] = {
    {"23", ILANA_ERR_CONSTRAINT, 0},
    {"40P01", ILANA_ERR_TRANSIENT, ILANA_ERRF_TXN_ABORTED}, // listed after nothing: exact wins anyway
    {"40", ILANA_ERR_TRANSIENT, 0},
    {"HYT", ILANA_ERR_TIMEOUT, 0},
    {"08", ILANA_ERR_CONNECTION, ILANA_ERRF_CONN_BROKEN},
};
constexpr ilana::sdk::SqlstateTable kTable{kRules};
static_assert(!kTable.duplicates());
static_assert(kTable.classify("40P01").flags == ILANA_ERRF_TXN_ABORTED, "usable in constant expressions");

constexpr ilana::sdk::SqlstateRule kTwice[] = {{"23", ILANA_ERR_CONSTRAINT, 0}, {"23", ILANA_ERR_DATA, 0}};
static_assert(ilana::sdk::SqlstateTable{kTwice}.duplicates());

struct StagedRule { // a driver's own rule struct: any type with `code`
    int code;
    const char *sqlstate;
};
constexpr StagedRule kNative[] = {{1062, "23000"}, {2006, "08S01"}};
constexpr ilana::sdk::NativeCodeTable kNumbers{kNative};

} // namespace

TEST_CASE("SqlstateTable: the longest listed prefix wins, whatever the order", "[sdk][errors]") {
    CHECK(kTable.classify("40P01").cls == ILANA_ERR_TRANSIENT);
    CHECK(kTable.classify("40P01").flags == ILANA_ERRF_TXN_ABORTED);
    CHECK(kTable.classify("40001").flags == 0u);
    CHECK(kTable.classify("23505").cls == ILANA_ERR_CONSTRAINT);
    CHECK(kTable.classify("HYT00").cls == ILANA_ERR_TIMEOUT);
    CHECK(kTable.classify("08006").flags == ILANA_ERRF_CONN_BROKEN);
    // Not listed, or not a SQLSTATE at all: the fallback.
    CHECK(kTable.classify("42601").cls == ILANA_ERR_INTERNAL);
    CHECK(kTable.classify("").cls == ILANA_ERR_INTERNAL);
    CHECK(kTable.classify("2350").cls == ILANA_ERR_INTERNAL);
    CHECK(kTable.classify("23a05").cls == ILANA_ERR_INTERNAL);
    constexpr ilana::sdk::SqlstateTable with_fallback{kRules, {ILANA_ERR_DATA, 0}};
    CHECK(with_fallback.classify("99999").cls == ILANA_ERR_DATA);
}

TEST_CASE("NativeCodeTable: exact numbers over the driver's own rule struct", "[sdk][errors]") {
    REQUIRE(kNumbers.find(1062) != nullptr);
    CHECK(std::string(kNumbers.find(1062)->sqlstate) == "23000");
    CHECK(kNumbers.find(1063) == nullptr);
    CHECK_FALSE(kNumbers.duplicates());
    // Several rows for one number, told apart by the driver's own condition
    // (SQLite: where the error happened).
    static constexpr StagedRule kStaged[] = {{1, "42000"}, {1, "22000"}};
    constexpr ilana::sdk::NativeCodeTable staged{kStaged};
    CHECK(staged.duplicates());
    const auto data_only = [](const StagedRule &r) { return std::string(r.sqlstate) == "22000"; };
    REQUIRE(staged.find(1, data_only) != nullptr);
    CHECK(std::string(staged.find(1, data_only)->sqlstate) == "22000");
    CHECK(std::string(staged.find(1)->sqlstate) == "42000");
    CHECK(staged.find(2, data_only) == nullptr);
}

TEST_CASE("scrub: no password and no quoted value leaves the driver", "[sdk][errors]") {
    using namespace ilana::sdk;
    CHECK(mask_secret("auth failed for s3cr3t and s3cr3t", "s3cr3t") == "auth failed for *** and ***");
    CHECK(mask_secret("nothing to hide", "") == "nothing to hide");
    CHECK(mask_secret("pw=ab", "ab") == "pw=***"); // short secrets are masked too
    CHECK(mask_quoted(R"(invalid input syntax for type integer: "abc")") ==
          R"(invalid input syntax for type integer: "***")");
    CHECK(mask_quoted("Duplicate entry 'alice@x' for key 'email'", '\'') ==
          "Duplicate entry '***' for key '***'");
    CHECK(mask_quoted(R"(unterminated "secret)") == R"(unterminated "***)");
    CHECK(mask_key_values("Key (a, b)=(1, x) already exists.") == "Key (a, b)=(***) already exists.");
    CHECK(mask_key_values("Key (a)=(f(x) already exists.") == "Key (a)=(***)");
    CHECK(mask_key_values("Failing row contains (1, secret).") == "Failing row contains (***).");
}
