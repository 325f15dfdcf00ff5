#include "http/http_auth.hpp"
#include "common/ascii.hpp"

#include <cstdint>

namespace ilana::detail {
namespace {

int base64_value(char c) noexcept {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+') return 62;
    if (c == '/') return 63;
    return -1;
}

} // namespace

std::optional<std::string> decode_base64(std::string_view text) {
    if (text.size() % 4 != 0) return std::nullopt;
    std::string out;
    out.reserve(text.size() / 4 * 3);
    for (size_t i = 0; i < text.size(); i += 4) {
        const bool last = i + 4 == text.size();
        int v[4];
        int pad = 0;
        for (int k = 0; k < 4; ++k) {
            const char c = text[i + static_cast<size_t>(k)];
            if (c == '=' && last && k >= 2) {
                ++pad;
                v[k] = 0;
                continue;
            }
            if (pad > 0) return std::nullopt; // data after '='
            v[k] = base64_value(c);
            if (v[k] < 0) return std::nullopt;
        }
        const uint32_t n = (static_cast<uint32_t>(v[0]) << 18) | (static_cast<uint32_t>(v[1]) << 12) |
                           (static_cast<uint32_t>(v[2]) << 6) | static_cast<uint32_t>(v[3]);
        out.push_back(static_cast<char>((n >> 16) & 0xff));
        if (pad < 2) out.push_back(static_cast<char>((n >> 8) & 0xff));
        if (pad < 1) out.push_back(static_cast<char>(n & 0xff));
    }
    return out;
}

bool constant_time_equal(std::string_view given, std::string_view expected) noexcept {
    // volatile keeps the compiler from turning the loop into an early-exit
    // memcmp; a length mismatch is folded into the same accumulator.
    volatile unsigned char diff = given.size() == expected.size() ? 0 : 1;
    for (size_t i = 0; i < expected.size(); ++i) {
        const unsigned char g = i < given.size() ? static_cast<unsigned char>(given[i]) : 0;
        diff = static_cast<unsigned char>(diff | (g ^ static_cast<unsigned char>(expected[i])));
    }
    return diff == 0;
}

bool basic_auth_matches(std::string_view authorization, std::string_view username,
                        std::string_view password) {
    while (!authorization.empty() && (authorization.front() == ' ' || authorization.front() == '\t'))
        authorization.remove_prefix(1);
    while (!authorization.empty() && (authorization.back() == ' ' || authorization.back() == '\t'))
        authorization.remove_suffix(1);
    const size_t space = authorization.find_first_of(" \t");
    if (space == std::string_view::npos || !iequals_ascii(authorization.substr(0, space), "basic")) return false;
    std::string_view token = authorization.substr(space + 1);
    while (!token.empty() && (token.front() == ' ' || token.front() == '\t')) token.remove_prefix(1);
    const std::optional<std::string> decoded = decode_base64(token);
    if (!decoded) return false;
    const size_t colon = decoded->find(':');
    if (colon == std::string::npos) return false;
    const std::string_view given(*decoded);
    // Bitwise &: both comparisons always run.
    const bool user_ok = constant_time_equal(given.substr(0, colon), username);
    const bool pass_ok = constant_time_equal(given.substr(colon + 1), password);
    return user_ok & pass_ok;
}

} // namespace ilana::detail
