// ilana/sdk/connection_url.hpp — one reading of a connection URL.
//
//   scheme://[user[:password]@]host[:port][,host[:port]...][/database][?key=value&...]
//
// The reading every driver uses for its `url` parameter, so that what a
// driver connects with and what it masks in messages are the same parts.
// Strict where client libraries disagree: a URL whose user name or password
// holds an unescaped '@', '/', '?' or '#' is read one way by libpq (user
// info up to the first '@' before any '/'), another by RFC 3986 (the host
// part ends at the first '/', '?' or '#') and a third by a "last '@'" rule;
// each reading takes part of the password for a host, port or database
// name, which the client library then prints. Such a URL is refused with
// a message that says to percent-encode, and so is a bad percent-escape.
// Messages never contain any part of the URL's user info.
//
// Header-only; depends on the C++17 standard library alone.
#ifndef ILANA_SDK_CONNECTION_URL_HPP
#define ILANA_SDK_CONNECTION_URL_HPP

#include <algorithm>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace ilana::sdk {

// Why a URL was refused. The message says what to fix and never quotes the
// user name or password.
class ConnectionUrlError : public std::invalid_argument {
public:
    using std::invalid_argument::invalid_argument;
};

struct ConnectionUrlHost {
    std::string host; // percent-decoded; an IPv6 address without its brackets
    std::string port; // digits, or "" when not given
};

struct ConnectionUrl {
    std::string scheme;                  // lower-cased, without "://"
    std::optional<std::string> user;     // percent-decoded
    std::optional<std::string> password; // percent-decoded
    std::string password_as_written;     // as in the URL (escapes kept), for masking
    std::vector<ConnectionUrlHost> hosts; // in order; empty when the URL names none
    std::optional<std::string> database; // the path without its '/', percent-decoded
    // ?key=value&flag: decoded, in order; a key without '=' has no value.
    std::vector<std::pair<std::string, std::optional<std::string>>> query;
};

namespace connection_url_detail {

inline int hex_digit(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

// `what` names the part in the message ("password", "host"), never its text.
inline std::string decode(std::string_view s, const char *what) {
    std::string out;
    out.reserve(s.size());
    for (std::size_t i = 0; i < s.size(); ++i) {
        if (s[i] != '%') {
            out.push_back(s[i]);
            continue;
        }
        const int hi = i + 2 < s.size() ? hex_digit(s[i + 1]) : -1;
        const int lo = i + 2 < s.size() ? hex_digit(s[i + 2]) : -1;
        if (hi < 0 || lo < 0)
            throw ConnectionUrlError(std::string("the URL's ") + what +
                                     " has a '%' that is not a percent-escape (%XX); percent-encode a literal '%' as %25");
        if (hi == 0 && lo == 0)
            throw ConnectionUrlError(std::string("the URL's ") + what + " contains %00 (a NUL byte), which no "
                                     "database accepts; remove it");
        out.push_back(static_cast<char>(hi * 16 + lo));
        i += 2;
    }
    return out;
}

inline bool is_scheme_char(char c, bool first) {
    const bool alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
    if (first) return alpha;
    return alpha || (c >= '0' && c <= '9') || c == '+' || c == '-' || c == '.';
}

inline std::string lower(std::string_view s) {
    std::string out(s);
    for (char &c : out)
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    return out;
}

inline const char *kEncodeHint =
    "percent-encode these characters in a user name or password: '@' as %40, '/' as %2F, '?' as %3F, "
    "'#' as %23, ':' in a user name as %3A, '%' as %25";

} // namespace connection_url_detail

// "scheme://" at the start: a URL rather than a keyword string
// ("host=... password=...") or a bare name.
inline bool looks_like_connection_url(std::string_view text) {
    const auto sep = text.find("://");
    if (sep == std::string_view::npos || sep == 0) return false;
    for (std::size_t i = 0; i < sep; ++i)
        if (!connection_url_detail::is_scheme_char(text[i], i == 0)) return false;
    return true;
}

// Reads `url`; throws ConnectionUrlError (see above) when it is ambiguous or
// malformed. `what` prefixes messages ("connection parameter 'url'").
inline ConnectionUrl parse_connection_url(std::string_view url, const std::string &what = "the connection URL") {
    using namespace connection_url_detail;
    auto fail = [&](const std::string &why) -> void { throw ConnectionUrlError(what + ": " + why); };
    ConnectionUrl out;
    if (!looks_like_connection_url(url)) {
        fail("must look like scheme://user:password@host:port/database");
    }
    const auto sep = url.find("://");
    out.scheme = lower(url.substr(0, sep));
    const std::string_view rest = url.substr(sep + 3);

    // '#' has no meaning to any client library: libpq keeps it as text,
    // RFC 3986 starts a fragment there. Either way it is a misreading.
    if (rest.find('#') != std::string_view::npos)
        fail(std::string("contains '#', which client libraries read differently; ") + kEncodeHint);
    const auto authority_end = std::min(rest.find_first_of("/?"), rest.size());
    const std::string_view authority = rest.substr(0, authority_end);
    const std::string_view tail = rest.substr(authority_end);
    // An '@' after the host part means user info that held '/' or '?'.
    if (tail.find('@') != std::string_view::npos)
        fail(std::string("has an '@' after its host part, so its user name or password holds an unescaped "
                         "'/' or '?' (or the database name or a query value holds '@'); ") +
             kEncodeHint);
    const auto at = authority.find('@');
    if (at != std::string_view::npos && authority.find('@', at + 1) != std::string_view::npos)
        fail(std::string("has more than one '@' before its host; ") + kEncodeHint);

    std::string_view hostlist = authority;
    if (at != std::string_view::npos) {
        const std::string_view userinfo = authority.substr(0, at);
        hostlist = authority.substr(at + 1);
        const auto colon = userinfo.find(':');
        out.user = decode(userinfo.substr(0, colon), "user name");
        if (colon != std::string_view::npos) {
            out.password_as_written = std::string(userinfo.substr(colon + 1));
            out.password = decode(out.password_as_written, "password");
        }
    }

    // host[:port] entries, comma-separated (libpq's multi-host form).
    std::size_t index = 0;
    std::size_t pos = 0;
    while (!hostlist.empty() && pos <= hostlist.size()) {
        const auto comma = std::min(hostlist.find(',', pos), hostlist.size());
        const std::string_view entry = hostlist.substr(pos, comma - pos);
        ++index;
        const std::string which = "host " + std::to_string(index);
        ConnectionUrlHost h;
        std::string_view port;
        if (!entry.empty() && entry[0] == '[') {
            const auto close = entry.find(']');
            if (close == std::string_view::npos) fail(which + " opens '[' (an IPv6 address) without ']'");
            h.host = std::string(entry.substr(1, close - 1));
            if (close + 1 < entry.size()) {
                if (entry[close + 1] != ':') fail("after the ']' of " + which + " only ':port' may follow");
                port = entry.substr(close + 2);
            }
        } else {
            const auto colon = entry.find(':');
            if (colon != std::string_view::npos && entry.find(':', colon + 1) != std::string_view::npos)
                fail(which + " has more than one ':'; write an IPv6 address in brackets: [::1]:5432");
            h.host = decode(entry.substr(0, colon), "host");
            if (colon != std::string_view::npos) port = entry.substr(colon + 1);
        }
        if (!port.empty() && (port.size() > 5 || port.find_first_not_of("0123456789") != std::string_view::npos))
            fail("the port of " + which + " is not a number from 1 to 65535");
        if (!port.empty() && std::stoi(std::string(port)) > 65535)
            fail("the port of " + which + " is not a number from 1 to 65535");
        h.port = std::string(port);
        out.hosts.push_back(std::move(h));
        if (comma >= hostlist.size()) break;
        pos = comma + 1;
    }

    std::string_view path = tail;
    std::string_view query;
    if (const auto q = tail.find('?'); q != std::string_view::npos) {
        path = tail.substr(0, q);
        query = tail.substr(q + 1);
    }
    if (!path.empty() && path.size() > 1) out.database = decode(path.substr(1), "database name");
    pos = 0;
    while (pos < query.size()) {
        const auto amp = std::min(query.find('&', pos), query.size());
        const std::string_view kv = query.substr(pos, amp - pos);
        pos = amp + 1;
        if (kv.empty()) continue;
        const auto eq = kv.find('=');
        std::string key = decode(kv.substr(0, eq), "query");
        std::optional<std::string> value;
        if (eq != std::string_view::npos) value = decode(kv.substr(eq + 1), "query");
        out.query.emplace_back(std::move(key), std::move(value));
    }
    return out;
}

} // namespace ilana::sdk

#endif // ILANA_SDK_CONNECTION_URL_HPP
