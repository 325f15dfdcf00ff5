// A minimal HTTP/1.1 GET client for `ilana metrics --url`: plain http only,
// one request per connection, bounded by a timeout. Enough to read an
// `ilana serve` or MetricsServer endpoint; not a general client. Boost.Beast
// does the HTTP, as in the core's server.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <utility>

namespace ilana::cli {

struct HttpUrl {
    std::string text; // as given, for messages
    std::string host; // without brackets for IPv6
    std::string port; // "80" when not given
    std::string path; // "/metrics" when not given
};

// "http://HOST[:PORT][/PATH]"; throws UsageError for anything else
// (https included: the endpoint serves plain HTTP).
HttpUrl parse_http_url(const std::string &url);

struct HttpReply {
    int status = 0;
    std::string body;
};

// GET with optional basic auth. Throws std::runtime_error naming the URL
// when the host cannot be resolved or reached, or no complete answer comes
// within `timeout`. Never puts the password in a message.
HttpReply http_get(const HttpUrl &url, const std::optional<std::pair<std::string, std::string>> &basic_auth,
                   std::chrono::milliseconds timeout);

} // namespace ilana::cli
