// abi_layout_v1_0_test.cpp — the pins of abi_v1_0_pins.inc are exactly the
// frozen v1.0 header's layout (sizes included), so the current header is
// checked against v1.0 itself, not against numbers someone typed.
//
// The frozen header is included into a namespace of its own: its types do
// not collide with the current header's (included by the other files of
// this test program), and its include guard is only seen in this file.
#include <catch2/catch.hpp>

#include <cstddef>
#include <cstdint>
#include <stddef.h>
#include <stdint.h>
#include <type_traits>
#include <utility>

namespace v1_0 {
#include "v1.0/ilana/driver.h"
} // namespace v1_0

#define ILANA_PIN_SIZE(T, n) static_assert(sizeof(v1_0::T) == (n), #T ": the pins do not match the v1.0 header");
#define ILANA_PIN_FIELD(T, f, off, n)                                                                        \
    static_assert(offsetof(v1_0::T, f) == (off), #T "." #f ": the pins do not match the v1.0 header");       \
    static_assert(sizeof(std::declval<v1_0::T &>().f) == (n), #T "." #f ": the pins do not match v1.0");
#include "abi_v1_0_pins.inc"
#undef ILANA_PIN_SIZE
#undef ILANA_PIN_FIELD

static_assert(ILANA_ABI_MAJOR == 1u && ILANA_ABI_MINOR == 0u, "v1.0/ilana/driver.h is the frozen v1.0 header");

TEST_CASE("the pinned layout is the frozen v1.0 header's", "[abi]") {
    CHECK(sizeof(v1_0::ilana_driver_entry) == 56);
    CHECK(sizeof(v1_0::ilana_driver_api) == 104);
    CHECK(sizeof(v1_0::ilana_value) == 24);
}
