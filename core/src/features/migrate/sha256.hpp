// SHA-256 (FIPS 180-4) of a byte string, as lower-case hex: the checksum the
// migrations table records for each applied file. Small and local so the
// core needs no crypto library for it.
#pragma once

#include <string>
#include <string_view>

namespace ilana::detail {

// 64 lower-case hex digits.
std::string sha256_hex(std::string_view bytes);

} // namespace ilana::detail
