// ascii.hpp — comparisons of SQL keywords, identifiers and HTTP tokens,
// which are ASCII whatever the host's locale (std::tolower follows it).
#pragma once

#include <cstddef>
#include <string_view>

namespace ilana::detail {

// Equal ignoring the case of ASCII letters; other bytes compare as they are.
inline bool iequals_ascii(std::string_view a, std::string_view b) noexcept {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i) {
        char x = a[i], y = b[i];
        if (x >= 'A' && x <= 'Z') x = static_cast<char>(x - 'A' + 'a');
        if (y >= 'A' && y <= 'Z') y = static_cast<char>(y - 'A' + 'a');
        if (x != y) return false;
    }
    return true;
}

} // namespace ilana::detail
