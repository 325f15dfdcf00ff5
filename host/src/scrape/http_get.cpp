#include "scrape/http_get.hpp"

#include "command.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>

#include <stdexcept>

namespace ilana::cli {
namespace {

namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;
using tcp = net::ip::tcp;

std::string base64(const std::string &in) {
    static const char *table = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    std::string out;
    size_t i = 0;
    for (; i + 2 < in.size(); i += 3) {
        const unsigned v = (static_cast<unsigned char>(in[i]) << 16) | (static_cast<unsigned char>(in[i + 1]) << 8) |
                           static_cast<unsigned char>(in[i + 2]);
        out += table[(v >> 18) & 63];
        out += table[(v >> 12) & 63];
        out += table[(v >> 6) & 63];
        out += table[v & 63];
    }
    if (i < in.size()) {
        unsigned v = static_cast<unsigned char>(in[i]) << 16;
        if (i + 1 < in.size()) v |= static_cast<unsigned char>(in[i + 1]) << 8;
        out += table[(v >> 18) & 63];
        out += table[(v >> 12) & 63];
        out += i + 1 < in.size() ? table[(v >> 6) & 63] : '=';
        out += '=';
    }
    return out;
}

} // namespace

HttpUrl parse_http_url(const std::string &url) {
    const std::string scheme = "http://";
    if (url.compare(0, 8, "https://") == 0)
        throw UsageError("--url " + url + ": https is not supported (ilana serve and MetricsServer speak plain HTTP)");
    if (url.compare(0, scheme.size(), scheme) != 0)
        throw UsageError("--url " + url + ": expected http://HOST:PORT[/PATH], e.g. http://127.0.0.1:9464");
    HttpUrl u;
    u.text = url;
    std::string rest = url.substr(scheme.size());
    const size_t slash = rest.find('/');
    u.path = slash == std::string::npos ? "" : rest.substr(slash);
    std::string authority = rest.substr(0, slash);
    if (authority.find('@') != std::string::npos)
        throw UsageError("--url: credentials in the URL are not accepted; the config's metrics.auth is used");
    if (!authority.empty() && authority.front() == '[') {
        const size_t close = authority.find(']');
        if (close == std::string::npos) throw UsageError("--url " + url + ": unterminated [IPv6] host");
        u.host = authority.substr(1, close - 1);
        if (close + 1 < authority.size()) {
            if (authority[close + 1] != ':') throw UsageError("--url " + url + ": expected :PORT after ]");
            u.port = authority.substr(close + 2);
        }
    } else {
        const size_t colon = authority.rfind(':');
        u.host = authority.substr(0, colon);
        if (colon != std::string::npos) u.port = authority.substr(colon + 1);
    }
    if (u.host.empty()) throw UsageError("--url " + url + ": no host");
    if (u.port.empty()) u.port = "80";
    if (u.port.find_first_not_of("0123456789") != std::string::npos || u.port.size() > 5 || std::stoi(u.port) > 65535)
        throw UsageError("--url " + url + ": the port must be a number between 1 and 65535");
    if (u.path.empty() || u.path == "/") u.path = "/metrics";
    return u;
}

HttpReply http_get(const HttpUrl &url, const std::optional<std::pair<std::string, std::string>> &basic_auth,
                   std::chrono::milliseconds timeout) {
    const std::string where = "GET " + url.text;
    const std::string within = " within " + std::to_string(timeout.count()) + "ms";
    net::io_context io;
    tcp::resolver resolver(io);
    beast::tcp_stream stream(io);
    http::request<http::empty_body> request{http::verb::get, url.path, 11};
    request.set(http::field::host, (url.host.find(':') != std::string::npos ? "[" + url.host + "]" : url.host) + ":" +
                                       url.port);
    request.keep_alive(false);
    request.set(http::field::accept, "text/plain");
    request.set(http::field::user_agent, "ilana-metrics");
    if (basic_auth)
        request.set(http::field::authorization, "Basic " + base64(basic_auth->first + ":" + basic_auth->second));
    beast::flat_buffer buffer;
    http::response_parser<http::string_body> parser;
    parser.body_limit(64u << 20);
    // Resolve, connect, send, read: each step starts the next, the first
    // failure ends the chain with its message. The stream's deadline bounds
    // connect, send and read; run_for bounds the whole, name lookup included.
    std::string failure;
    bool answered = false;
    resolver.async_resolve(url.host, url.port, [&](beast::error_code ec, const tcp::resolver::results_type &found) {
        if (ec) return void(failure = "cannot resolve " + url.host + ": " + ec.message());
        stream.expires_after(timeout);
        stream.async_connect(found, [&](beast::error_code ec, const tcp::endpoint &) {
            if (ec)
                return void(failure = "cannot connect: " +
                                      (ec == beast::error::timeout ? "no connection" + within : ec.message()));
            http::async_write(stream, request, [&](beast::error_code ec, std::size_t) {
                if (ec)
                    return void(failure = ec == beast::error::timeout ? "timed out sending the request"
                                                                       : "sending the request failed: " + ec.message());
                http::async_read(stream, buffer, parser, [&](beast::error_code ec, std::size_t) {
                    if (ec == beast::error::timeout) failure = "no complete answer" + within;
                    else if (ec == http::error::body_limit) failure = "response larger than 64 MiB";
                    else if (ec && ec.category() == http::make_error_code(http::error::bad_version).category())
                        failure = "not an HTTP answer (" + ec.message() + ")";
                    else if (ec) failure = "reading the answer failed: " + ec.message();
                    else answered = true;
                });
            });
        });
    });
    io.run_for(timeout + std::chrono::milliseconds(100)); // past the stream's deadline: its message wins
    if (!answered) throw std::runtime_error(where + ": " + (failure.empty() ? "no complete answer" + within : failure));
    HttpReply reply;
    reply.status = static_cast<int>(parser.get().result_int());
    reply.body = parser.release().body();
    return reply;
}

} // namespace ilana::cli
