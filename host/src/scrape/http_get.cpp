#include "scrape/http_get.hpp"

#include "command.hpp"

#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <stdexcept>

namespace ilana::cli {
namespace {

using Clock = std::chrono::steady_clock;

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

struct Fd {
    int fd = -1;
    ~Fd() {
        if (fd >= 0) ::close(fd);
    }
};

int remaining_ms(Clock::time_point deadline) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
    return left > 0 ? static_cast<int>(left) : 0;
}

// Waits until `fd` is ready for `events`; false on timeout.
bool wait_for(int fd, short events, Clock::time_point deadline) {
    for (;;) {
        pollfd p{fd, events, 0};
        int rc = ::poll(&p, 1, remaining_ms(deadline));
        if (rc > 0) return true;
        if (rc == 0) return false;
        if (errno != EINTR) return false;
    }
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
    const auto deadline = Clock::now() + timeout;
    const std::string where = "GET " + url.text;
    addrinfo hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    addrinfo *found = nullptr;
    if (int rc = ::getaddrinfo(url.host.c_str(), url.port.c_str(), &hints, &found); rc != 0)
        throw std::runtime_error(where + ": cannot resolve " + url.host + ": " + gai_strerror(rc));
    Fd sock;
    std::string last_error = "no address";
    for (addrinfo *a = found; a != nullptr && sock.fd < 0; a = a->ai_next) {
        Fd s;
        s.fd = ::socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK, a->ai_protocol);
        if (s.fd < 0) continue;
        if (::connect(s.fd, a->ai_addr, a->ai_addrlen) != 0) {
            if (errno != EINPROGRESS) {
                last_error = std::strerror(errno);
                continue;
            }
            if (!wait_for(s.fd, POLLOUT, deadline)) {
                last_error = "no connection within " + std::to_string(timeout.count()) + "ms";
                continue;
            }
            int err = 0;
            socklen_t len = sizeof err;
            ::getsockopt(s.fd, SOL_SOCKET, SO_ERROR, &err, &len);
            if (err != 0) {
                last_error = std::strerror(err);
                continue;
            }
        }
        std::swap(sock.fd, s.fd);
    }
    ::freeaddrinfo(found);
    if (sock.fd < 0) throw std::runtime_error(where + ": cannot connect: " + last_error);

    std::string host_header = url.host.find(':') != std::string::npos ? "[" + url.host + "]" : url.host;
    std::string request = "GET " + url.path + " HTTP/1.1\r\nHost: " + host_header + ":" + url.port +
                          "\r\nConnection: close\r\nAccept: text/plain\r\nUser-Agent: ilana-metrics\r\n";
    if (basic_auth)
        request += "Authorization: Basic " + base64(basic_auth->first + ":" + basic_auth->second) + "\r\n";
    request += "\r\n";
    for (size_t sent = 0; sent < request.size();) {
        ssize_t n = ::send(sock.fd, request.data() + sent, request.size() - sent, MSG_NOSIGNAL);
        if (n > 0) {
            sent += static_cast<size_t>(n);
        } else if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
            if (!wait_for(sock.fd, POLLOUT, deadline))
                throw std::runtime_error(where + ": timed out sending the request");
        } else {
            throw std::runtime_error(where + ": sending the request failed: " + std::strerror(errno));
        }
    }
    // The server closes the connection after the response (Connection: close);
    // Content-Length ends it earlier when present.
    std::string raw;
    char buf[16384];
    size_t header_end = std::string::npos, content_length = std::string::npos;
    for (;;) {
        if (header_end != std::string::npos && content_length != std::string::npos &&
            raw.size() >= header_end + content_length)
            break;
        ssize_t n = ::recv(sock.fd, buf, sizeof buf, 0);
        if (n > 0) {
            raw.append(buf, static_cast<size_t>(n));
            if (raw.size() > (64u << 20)) throw std::runtime_error(where + ": response larger than 64 MiB");
            if (header_end == std::string::npos && (header_end = raw.find("\r\n\r\n")) != std::string::npos) {
                header_end += 4;
                std::string lower;
                for (size_t i = 0; i < header_end; ++i)
                    lower += static_cast<char>(std::tolower(static_cast<unsigned char>(raw[i])));
                const size_t cl = lower.find("\r\ncontent-length:");
                if (cl != std::string::npos) content_length = std::strtoull(lower.c_str() + cl + 17, nullptr, 10);
            }
        } else if (n == 0) {
            break;
        } else if (errno == EAGAIN || errno == EINTR) {
            if (!wait_for(sock.fd, POLLIN, deadline))
                throw std::runtime_error(where + ": no complete answer within " + std::to_string(timeout.count()) +
                                         "ms");
        } else {
            throw std::runtime_error(where + ": reading the answer failed: " + std::strerror(errno));
        }
    }
    if (header_end == std::string::npos || raw.compare(0, 5, "HTTP/") != 0)
        throw std::runtime_error(where + ": not an HTTP answer");
    HttpReply reply;
    const size_t sp = raw.find(' ');
    reply.status = sp == std::string::npos ? 0 : std::atoi(raw.c_str() + sp + 1);
    reply.body = raw.substr(header_end, content_length == std::string::npos ? std::string::npos : content_length);
    return reply;
}

} // namespace ilana::cli
