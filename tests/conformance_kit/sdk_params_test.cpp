// What a driver built on the SDK reads from the host's structs and its own
// parameter table: <ilana/sdk/driver_support.hpp>'s statement_timeout_ms
// (ABI 1.2's ilana_statement.timeout_ms, which every bundled driver reads
// through it) and <ilana/sdk/params.hpp>'s lookups in a declaration table
// (the bounds and allowed values the bundled drivers check again at connect).
#include <catch2/catch.hpp>

#include <ilana/sdk/driver_support.hpp>
#include <ilana/sdk/params.hpp>

#include <cstddef>
#include <string>

namespace sdk = ilana::sdk;

TEST_CASE("statement_timeout_ms: 0 for a v1.1 host, the value for a v1.2 one, negative refused", "[sdk]") {
    ilana_statement st{};
    st.struct_size = sizeof st;
    st.timeout_ms = 250;
    CHECK(sdk::statement_timeout_ms(st) == 250);

    // A v1.1 host's struct ends at the padding before timeout_ms: whatever
    // those bytes hold is not a timeout.
    st.struct_size = static_cast<uint32_t>(offsetof(ilana_statement, timeout_ms));
    CHECK(sdk::statement_timeout_ms(st) == 0);

    st.struct_size = sizeof st;
    st.timeout_ms = -1;
    try {
        (void)sdk::statement_timeout_ms(st);
        FAIL("a negative timeout_ms was accepted");
    } catch (const sdk::DriverFailure &f) {
        CHECK(f.error_class() == ILANA_ERR_INTERNAL);
        CHECK((f.flags() & ILANA_ERRF_NOT_SENT) != 0);
        CHECK(std::string(f.what()) == "execute: timeout_ms is negative (-1)");
    }
}

namespace {
const char *const kColours[] = {"red", "green", nullptr};
const ilana_param_decl kTable[] = {
    sdk::param_int("port", "server port", 1, 65535, "5432"),
    sdk::param_enum("colour", "a colour", kColours),
    sdk::param_string("name", "a name"),
};
} // namespace

TEST_CASE("declared_param: a driver reads bounds and allowed values from its own table", "[sdk]") {
    const ilana_param_decl &port = sdk::declared_param(kTable, "port");
    CHECK(std::string(port.key) == "port");
    CHECK(sdk::within_bounds(port, 1));
    CHECK(sdk::within_bounds(port, 65535));
    CHECK_FALSE(sdk::within_bounds(port, 0));
    CHECK_FALSE(sdk::within_bounds(port, 65536));
    // No bounds declared: every number is within them.
    CHECK(sdk::within_bounds(sdk::declared_param(kTable, "name"), -1e300));

    const ilana_param_decl &colour = sdk::declared_param(kTable, "colour");
    CHECK(sdk::is_allowed(colour, "green"));
    CHECK_FALSE(sdk::is_allowed(colour, "Green"));
    CHECK_FALSE(sdk::is_allowed(sdk::declared_param(kTable, "name"), "green"));
    CHECK(sdk::allowed_values_text(colour) == "red, green");

    // A key missing from the table is the driver's bug, named.
    try {
        (void)sdk::declared_param(kTable, "prot");
        FAIL("an undeclared key was found");
    } catch (const sdk::DriverFailure &f) {
        CHECK(f.error_class() == ILANA_ERR_INTERNAL);
        CHECK(std::string(f.what()).find("'prot'") != std::string::npos);
    }
}
