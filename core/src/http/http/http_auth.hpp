// http_auth.hpp — HTTP Basic authentication for the embedded HTTP server.
//
// Pure functions, thread-safe. Nothing here logs: credentials never reach a
// log line.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace ilana::detail {

// Strict standard base64 (RFC 4648, alphabet "+/", '=' padding required to a
// multiple of 4 characters). nullopt on any other character, bad padding or
// bad length.
std::optional<std::string> decode_base64(std::string_view text);

// True when `given` equals `expected`. The running time depends only on
// expected.size() (the secret's length is fixed by the config, the attacker
// controls only `given`): every byte is compared, there is no early exit.
bool constant_time_equal(std::string_view given, std::string_view expected) noexcept;

// Checks an `Authorization` header value ("Basic dXNlcjpwYXNz", scheme
// case-insensitive) against the expected username and password. Both parts
// are always compared in constant time, whatever the first one gave.
bool basic_auth_matches(std::string_view authorization, std::string_view username,
                        std::string_view password);

} // namespace ilana::detail
