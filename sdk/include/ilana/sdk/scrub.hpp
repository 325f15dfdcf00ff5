// ilana/sdk/scrub.hpp — what a driver's error message must never hold.
//
// The rule (driver.h: "Messages must never contain a password"; DESIGN:
// never a secret or a bound value in a log, error or HTTP response): a
// driver passes every message that quotes a server or client library
// through these before it leaves the driver.
//
//   mask_secret(msg, secret)    every occurrence of a secret (the password
//                               the driver connected with) becomes "***".
//                               Libraries rarely echo a password, but a
//                               connection string, a URL or a misparsed
//                               option can put one in a message.
//   mask_quoted(msg, quote)     the inside of every quoted segment becomes
//                               "***": servers quote the rejected input of a
//                               data error (PostgreSQL 'invalid input syntax
//                               for type integer: "abc"'), which is often a
//                               bound value; libpq quotes the conninfo token
//                               it stopped at, which may be a password.
//   mask_key_values(msg)        the values of "Key (a, b)=(1, x)" and
//                               "Failing row contains (...)" (PostgreSQL's
//                               constraint details echo the row).
//
// What the message keeps is what the user needs to fix the problem: the
// server's words, the column, constraint and type names.
//
// Header-only; depends on the C++17 standard library.
#ifndef ILANA_SDK_SCRUB_HPP
#define ILANA_SDK_SCRUB_HPP

#include <cstddef>
#include <string>
#include <string_view>

namespace ilana::sdk {

// Replaces every occurrence of `secret` in `message` with "***". An empty
// secret masks nothing; any other length is masked, however short (a
// garbled word costs less than a password in a log).
inline std::string mask_secret(std::string message, std::string_view secret) {
    if (secret.empty()) return message;
    for (size_t p = 0; (p = message.find(secret, p)) != std::string::npos;) {
        message.replace(p, secret.size(), "***");
        p += 3;
    }
    return message;
}

// Replaces the inside of every `quote`-delimited segment with "***"; an
// unterminated segment is masked to the end.
inline std::string mask_quoted(std::string_view message, char quote = '"') {
    std::string out;
    out.reserve(message.size());
    bool in_quote = false;
    for (char c : message) {
        if (c == quote) {
            if (!in_quote) {
                out += quote;
                out += "***";
            } else {
                out += quote;
            }
            in_quote = !in_quote;
        } else if (!in_quote) {
            out += c;
        }
    }
    return out;
}

// Masks the value lists of "Key (a, b)=(1, x) already exists." and
// "Failing row contains (...).": the server echoes row values there, and
// they are often bound parameters.
inline std::string mask_key_values(std::string detail) {
    static constexpr std::string_view kFailing = "Failing row contains ";
    if (detail.compare(0, kFailing.size(), kFailing) == 0) return std::string(kFailing) + "(***).";
    size_t pos = 0;
    while ((pos = detail.find(")=(", pos)) != std::string::npos) {
        size_t start = pos + 3;
        int depth = 1;
        size_t i = start;
        for (; i < detail.size() && depth > 0; ++i) {
            if (detail[i] == '(') ++depth;
            else if (detail[i] == ')') --depth;
        }
        if (depth != 0) { // unbalanced (a value with a parenthesis): mask to the end
            detail.replace(start, std::string::npos, "***)");
            break;
        }
        detail.replace(start, i - 1 - start, "***");
        pos = start + 3;
    }
    return detail;
}

} // namespace ilana::sdk

#endif // ILANA_SDK_SCRUB_HPP
