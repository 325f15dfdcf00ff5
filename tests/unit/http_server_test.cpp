// ilana::HttpServer over real sockets on 127.0.0.1 (port 0), with a raw
// POSIX client so that the tests see exactly the bytes the server sends.
#include <catch2/catch.hpp>

#include <ilana/error.hpp>
#include <ilana/http_server.hpp>
#include <ilana/logging.hpp>

#include "http/http_auth.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

namespace {

long long ms_since(Clock::time_point t0) {
    return std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - t0).count();
}

struct Reply {
    int status = 0;
    std::map<std::string, std::string> headers; // names lower-cased
    std::string body;

    std::string header(const std::string &name) const {
        auto it = headers.find(name);
        return it == headers.end() ? std::string() : it->second;
    }
    bool has_header(const std::string &name) const { return headers.count(name) != 0; }
};

// A blocking HTTP/1.1 client on one connection. No Catch2 macros inside, so
// it can be used from several threads.
class Client {
public:
    explicit Client(uint16_t port) {
        fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd_ < 0) return;
        sockaddr_in addr{};
        addr.sin_family = AF_INET;
        addr.sin_port = htons(port);
        addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        if (::connect(fd_, reinterpret_cast<const sockaddr *>(&addr), sizeof addr) != 0) {
            ::close(fd_);
            fd_ = -1;
            return;
        }
        timeval tv{5, 0}; // a hung server fails the test instead of hanging it
        ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
        ::setsockopt(fd_, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    }
    ~Client() {
        if (fd_ >= 0) ::close(fd_);
    }
    Client(const Client &) = delete;
    Client &operator=(const Client &) = delete;

    bool connected() const { return fd_ >= 0; }

    bool send(const std::string &data) {
        size_t off = 0;
        while (off < data.size()) {
            const ssize_t n = ::send(fd_, data.data() + off, data.size() - off, MSG_NOSIGNAL);
            if (n < 0 && errno == EINTR) continue;
            if (n <= 0) return false;
            off += static_cast<size_t>(n);
        }
        return true;
    }

    // One response; for HEAD no body is read whatever Content-Length says.
    std::optional<Reply> read_reply(bool head = false) {
        size_t end;
        while ((end = buf_.find("\r\n\r\n")) == std::string::npos)
            if (!fill()) return std::nullopt;
        Reply r;
        const std::string head_text = buf_.substr(0, end);
        size_t line_end = head_text.find("\r\n");
        const std::string status_line = head_text.substr(0, line_end);
        if (status_line.compare(0, 5, "HTTP/") != 0 || status_line.size() < 12) return std::nullopt;
        r.status = std::stoi(status_line.substr(9, 3));
        while (line_end != std::string::npos) {
            const size_t start = line_end + 2;
            line_end = head_text.find("\r\n", start);
            const std::string line = head_text.substr(start, line_end == std::string::npos ? std::string::npos : line_end - start);
            const size_t colon = line.find(':');
            if (colon == std::string::npos) continue;
            std::string name = line.substr(0, colon);
            std::transform(name.begin(), name.end(), name.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
            std::string value = line.substr(colon + 1);
            value.erase(0, value.find_first_not_of(' '));
            r.headers[name] = value;
        }
        size_t length = 0;
        if (!head && r.has_header("content-length")) length = std::stoul(r.header("content-length"));
        const size_t body_start = end + 4;
        while (buf_.size() < body_start + length)
            if (!fill()) return std::nullopt;
        r.body = buf_.substr(body_start, length);
        buf_.erase(0, body_start + length);
        return r;
    }

    // True when the server closes the connection (EOF or reset) within `limit`.
    bool closed_within(std::chrono::milliseconds limit) {
        const auto deadline = Clock::now() + limit;
        for (;;) {
            const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
            if (left.count() <= 0) return false;
            pollfd p{fd_, POLLIN, 0};
            const int rc = ::poll(&p, 1, static_cast<int>(left.count()));
            if (rc < 0 && errno == EINTR) continue;
            if (rc <= 0) return false;
            char tmp[4096];
            const ssize_t n = ::recv(fd_, tmp, sizeof tmp, 0);
            if (n <= 0) return true;
            buf_.append(tmp, static_cast<size_t>(n));
        }
    }

    // Everything the server sent so far (and did not belong to a reply read).
    const std::string &unread() const { return buf_; }

private:
    bool fill() {
        char tmp[4096];
        for (;;) {
            const ssize_t n = ::recv(fd_, tmp, sizeof tmp, 0);
            if (n < 0 && errno == EINTR) continue;
            if (n <= 0) return false;
            buf_.append(tmp, static_cast<size_t>(n));
            return true;
        }
    }

    int fd_ = -1;
    std::string buf_;
};

std::string request(const std::string &method, const std::string &target, const std::string &extra_headers = {}) {
    return method + " " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\n" + extra_headers + "\r\n";
}

// One request on a fresh connection.
std::optional<Reply> fetch(uint16_t port, const std::string &raw, bool head = false) {
    Client c(port);
    if (!c.connected() || !c.send(raw)) return std::nullopt;
    return c.read_reply(head);
}

ilana::HttpServerOptions local_options() {
    ilana::HttpServerOptions o;
    o.listen = "127.0.0.1:0";
    return o;
}

ilana::HttpResponse metrics_response() {
    return {200, "text/plain; version=0.0.4; charset=utf-8", "ilana_up 1\n"};
}

// Redirects file descriptor 2 (where the default ilana logger writes) into a
// temporary file for the lifetime of the object.
class StderrCapture {
public:
    StderrCapture() {
        std::fflush(stderr);
        saved_ = ::dup(2);
        file_ = std::tmpfile();
        if (file_) ::dup2(::fileno(file_), 2);
    }
    ~StderrCapture() { restore(); }
    std::string text() {
        restore();
        std::string out;
        if (!file_) return out;
        std::rewind(file_);
        char buf[4096];
        size_t n;
        while ((n = std::fread(buf, 1, sizeof buf, file_)) > 0) out.append(buf, n);
        return out;
    }

private:
    void restore() {
        if (saved_ < 0) return;
        std::fflush(stderr);
        ::dup2(saved_, 2);
        ::close(saved_);
        saved_ = -1;
    }
    int saved_ = -1;
    std::FILE *file_ = nullptr;
};

} // namespace

TEST_CASE("HttpServer answers a route with its body, content type and standard headers", "[http]") {
    ilana::HttpServer server(local_options());
    std::atomic<int> calls{0};
    server.route("/metrics", [&] {
        ++calls;
        return metrics_response();
    });
    server.route("/health", [] { return ilana::HttpResponse{503, "application/json", R"({"status":"unhealthy"})"}; });
    server.start();
    REQUIRE(server.port() != 0);

    auto r = fetch(server.port(), request("GET", "/metrics"));
    REQUIRE(r);
    CHECK(r->status == 200);
    CHECK(r->body == "ilana_up 1\n");
    CHECK(r->header("content-type") == "text/plain; version=0.0.4; charset=utf-8");
    CHECK(r->header("content-length") == "11");
    CHECK(r->header("server") == "ilana");
    CHECK(r->header("cache-control") == "no-store");
    CHECK(calls == 1);

    SECTION("the handler's status is passed through") {
        auto h = fetch(server.port(), request("GET", "/health"));
        REQUIRE(h);
        CHECK(h->status == 503);
        CHECK(h->header("content-type") == "application/json");
        CHECK(h->body == R"({"status":"unhealthy"})");
    }
    SECTION("a query string does not change the route") {
        auto q = fetch(server.port(), request("GET", "/metrics?name[]=x"));
        REQUIRE(q);
        CHECK(q->status == 200);
        CHECK(q->body == "ilana_up 1\n");
    }
    SECTION("keep-alive: several requests on one connection") {
        Client c(server.port());
        REQUIRE(c.connected());
        for (int i = 0; i < 3; ++i) {
            REQUIRE(c.send(request("GET", "/metrics")));
            auto k = c.read_reply();
            REQUIRE(k);
            CHECK(k->status == 200);
            CHECK(k->body == "ilana_up 1\n");
        }
    }
    SECTION("HTTP/1.0 without keep-alive is answered and closed") {
        Client c(server.port());
        REQUIRE(c.send("GET /metrics HTTP/1.0\r\n\r\n"));
        auto k = c.read_reply();
        REQUIRE(k);
        CHECK(k->status == 200);
        CHECK(c.closed_within(1000ms));
    }
}

TEST_CASE("HttpServer: unknown path is 404, other methods are 405 with Allow", "[http]") {
    ilana::HttpServer server(local_options());
    std::atomic<int> calls{0};
    server.route("/metrics", [&] {
        ++calls;
        return metrics_response();
    });
    server.start();

    auto nf = fetch(server.port(), request("GET", "/nope"));
    REQUIRE(nf);
    CHECK(nf->status == 404);
    CHECK(nf->header("server") == "ilana");
    auto prefix = fetch(server.port(), request("GET", "/metrics/extra"));
    REQUIRE(prefix);
    CHECK(prefix->status == 404);

    for (const char *method : {"POST", "PUT", "DELETE", "OPTIONS"}) {
        INFO(method);
        auto r = fetch(server.port(), request(method, "/metrics", "Content-Length: 0\r\n"));
        REQUIRE(r);
        CHECK(r->status == 405);
        CHECK(r->header("allow") == "GET, HEAD");
    }
    auto post_body = fetch(server.port(), request("POST", "/metrics", "Content-Length: 5\r\n") + "hello");
    REQUIRE(post_body);
    CHECK(post_body->status == 405);
    CHECK(calls == 0);

    auto garbage = fetch(server.port(), "NOT HTTP AT ALL\r\n\r\n");
    REQUIRE(garbage);
    CHECK(garbage->status == 400);
}

TEST_CASE("HttpServer: HEAD gets GET's headers and no body", "[http]") {
    ilana::HttpServer server(local_options());
    server.route("/metrics", metrics_response);
    server.start();

    Client c(server.port());
    REQUIRE(c.send(request("HEAD", "/metrics")));
    auto head = c.read_reply(/*head=*/true);
    REQUIRE(head);
    CHECK(head->status == 200);
    CHECK(head->header("content-length") == "11");
    CHECK(head->header("content-type") == "text/plain; version=0.0.4; charset=utf-8");
    // If any body byte had been sent after the HEAD headers, it would sit in
    // front of the next response and break it.
    CHECK(c.unread().empty());
    REQUIRE(c.send(request("GET", "/metrics")));
    auto get = c.read_reply();
    REQUIRE(get);
    CHECK(get->status == 200);
    CHECK(get->body == "ilana_up 1\n");
}

TEST_CASE("HttpServer: basic auth", "[http]") {
    auto options = local_options();
    options.basic_auth = std::make_pair(std::string("admin"), std::string("s3cret"));
    ilana::HttpServer server(options);
    std::atomic<int> calls{0};
    server.route("/metrics", [&] {
        ++calls;
        return metrics_response();
    });
    server.start();
    const uint16_t port = server.port();

    auto expect_401 = [&](const std::string &extra, const std::string &target = "/metrics") {
        INFO("headers: " << extra << " target: " << target);
        auto r = fetch(port, request("GET", target, extra));
        REQUIRE(r);
        CHECK(r->status == 401);
        CHECK(r->header("www-authenticate") == "Basic realm=\"ilana\"");
        CHECK(r->body.find("s3cret") == std::string::npos);
    };
    expect_401("");                                              // no credentials
    expect_401("Authorization: Basic YWRtaW46d3Jvbmc=\r\n");     // admin:wrong
    expect_401("Authorization: Basic cm9vdDpzM2NyZXQ=\r\n");     // root:s3cret
    expect_401("Authorization: Basic YWRtaW46\r\n");             // admin: (empty password)
    expect_401("Authorization: Basic !!!notbase64\r\n");
    expect_401("Authorization: Bearer YWRtaW46czNjcmV0\r\n");    // right token, wrong scheme
    expect_401("", "/unknown");                                  // routes are not revealed
    CHECK(calls == 0);

    auto ok = fetch(port, request("GET", "/metrics", "Authorization: Basic YWRtaW46czNjcmV0\r\n")); // admin:s3cret
    REQUIRE(ok);
    CHECK(ok->status == 200);
    CHECK(ok->body == "ilana_up 1\n");
    auto lower_scheme = fetch(port, request("GET", "/metrics", "Authorization: basic YWRtaW46czNjcmV0\r\n"));
    REQUIRE(lower_scheme);
    CHECK(lower_scheme->status == 200);
    CHECK(calls == 2);
}

TEST_CASE("HttpServer: basic auth accepts a password containing ':'", "[http]") {
    auto options = local_options();
    options.basic_auth = std::make_pair(std::string("u"), std::string("p:a:ss"));
    ilana::HttpServer server(options);
    server.route("/metrics", metrics_response);
    server.start();
    auto ok = fetch(server.port(), request("GET", "/metrics", "Authorization: Basic dTpwOmE6c3M=\r\n"));
    REQUIRE(ok);
    CHECK(ok->status == 200);
}

TEST_CASE("http_auth helpers", "[http]") {
    using namespace ilana::detail;
    CHECK(decode_base64("") == std::string());
    CHECK(decode_base64("YWRtaW46czNjcmV0") == std::string("admin:s3cret"));
    CHECK(decode_base64("YWRtaW46d3Jvbmc=") == std::string("admin:wrong"));
    CHECK(decode_base64("YQ==") == std::string("a"));
    CHECK(decode_base64("+/+/") == std::string("\xfb\xff\xbf"));
    CHECK_FALSE(decode_base64("YQ="));       // bad length
    CHECK_FALSE(decode_base64("Y=Q="));      // data after padding
    CHECK_FALSE(decode_base64("YQ==YQ=="));  // padding in the middle
    CHECK_FALSE(decode_base64("YW*t"));

    CHECK(constant_time_equal("s3cret", "s3cret"));
    CHECK_FALSE(constant_time_equal("s3creX", "s3cret"));
    CHECK_FALSE(constant_time_equal("s3cre", "s3cret"));
    CHECK_FALSE(constant_time_equal("s3cret!", "s3cret")); // longer, same prefix
    CHECK_FALSE(constant_time_equal(std::string("s3cret\0", 7), "s3cret"));
    CHECK(constant_time_equal("", ""));
    CHECK_FALSE(constant_time_equal("x", ""));

    CHECK(basic_auth_matches("Basic YWRtaW46czNjcmV0", "admin", "s3cret"));
    CHECK(basic_auth_matches("  BASIC   YWRtaW46czNjcmV0  ", "admin", "s3cret"));
    CHECK_FALSE(basic_auth_matches("Basic YWRtaW46czNjcmV0", "admin", "s3cre"));
    CHECK_FALSE(basic_auth_matches("Basic", "admin", "s3cret"));
    CHECK_FALSE(basic_auth_matches("Basic YWRtaW4=", "admin", "")); // "admin": no colon
    CHECK_FALSE(basic_auth_matches("", "admin", "s3cret"));
}

TEST_CASE("HttpServer: a handler that throws gives 500 without the exception text, and is logged", "[http]") {
    ilana::set_logger(nullptr); // back to the default logger, which writes to stderr
    ilana::HttpServer server(local_options());
    server.route("/boom", []() -> ilana::HttpResponse { throw std::runtime_error("secret-detail-xyz"); });
    server.route("/int", []() -> ilana::HttpResponse { throw 42; });
    server.route("/badstatus", [] { return ilana::HttpResponse{7, "text/plain", "x"}; });
    server.route("/stop-from-handler", [&] {
        server.stop(); // must refuse: it would join its own thread
        return ilana::HttpResponse{};
    });
    server.start();

    std::string log;
    {
        StderrCapture capture;
        for (const char *path : {"/boom", "/int", "/badstatus", "/stop-from-handler"}) {
            INFO(path);
            auto r = fetch(server.port(), request("GET", path));
            REQUIRE(r);
            CHECK(r->status == 500);
            CHECK(r->body == "internal error\n");
            CHECK(r->body.find("secret-detail-xyz") == std::string::npos);
            CHECK(r->header("server") == "ilana");
        }
        // still serving after all that
        auto again = fetch(server.port(), request("GET", "/boom"));
        REQUIRE(again);
        CHECK(again->status == 500);
        log = capture.text();
    }
    CHECK(log.find("secret-detail-xyz") != std::string::npos);
    CHECK(log.find("/boom") != std::string::npos);
    CHECK(log.find("own I/O threads") != std::string::npos);
}

TEST_CASE("HttpServer: a slow client is cut off after read_timeout and others are still served", "[http][timeout]") {
    auto options = local_options();
    options.read_timeout = 1000ms;
    ilana::HttpServer server(options);
    server.route("/metrics", metrics_response);
    server.start();

    Client slow(server.port());
    REQUIRE(slow.connected());
    const auto t0 = Clock::now();
    // 50 bytes at one byte per 200 ms would take 10 s: only a deadline for
    // the whole request (not one per read) stops it.
    const std::string trickle = request("GET", "/metrics", "X-Padding: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n");
    bool cut = false;
    bool other_served = false;
    long long cut_after_ms = -1;
    for (size_t i = 0; i < trickle.size() && ms_since(t0) < 5000; ++i) {
        if (!slow.send(trickle.substr(i, 1))) { // reset by the server
            cut = true;
            break;
        }
        if (i == 2) { // meanwhile, a normal client is served at once
            const auto t1 = Clock::now();
            auto r = fetch(server.port(), request("GET", "/metrics"));
            other_served = r && r->status == 200 && r->body == "ilana_up 1\n";
            CHECK(ms_since(t1) < 500);
        }
        if (slow.closed_within(200ms)) {
            cut = true;
            break;
        }
    }
    cut_after_ms = ms_since(t0);
    INFO("slow client cut after " << cut_after_ms << " ms");
    CHECK(other_served);
    REQUIRE(cut);
    CHECK(cut_after_ms >= 800);
    CHECK(cut_after_ms <= 1500);
    CHECK(slow.unread().empty()); // no response for an incomplete request

    auto after = fetch(server.port(), request("GET", "/metrics"));
    REQUIRE(after);
    CHECK(after->status == 200);
}

TEST_CASE("HttpServer: keep-alive requests each get a fresh timeout, idle connections are closed", "[http][timeout]") {
    auto options = local_options();
    options.read_timeout = 1000ms;
    ilana::HttpServer server(options);
    server.route("/metrics", metrics_response);
    server.start();

    Client c(server.port());
    const auto t0 = Clock::now();
    for (int i = 0; i < 3; ++i) { // the third request comes ~1.4 s after connecting
        if (i > 0) std::this_thread::sleep_for(700ms);
        INFO("request " << i << " at " << ms_since(t0) << " ms");
        REQUIRE(c.send(request("GET", "/metrics")));
        auto r = c.read_reply();
        REQUIRE(r);
        CHECK(r->status == 200);
    }
    const auto idle_since = Clock::now();
    CHECK(c.closed_within(2000ms));
    const long long idle_ms = ms_since(idle_since);
    INFO("idle connection closed after " << idle_ms << " ms");
    CHECK(idle_ms >= 800);
    CHECK(idle_ms <= 1500);
}

TEST_CASE("HttpServer: oversized headers are refused and the server keeps serving", "[http][limits]") {
    auto options = local_options();
    options.max_header_bytes = 8192;
    ilana::HttpServer server(options);
    server.route("/metrics", metrics_response);
    server.start();

    SECTION("a header under the limit is fine") {
        auto r = fetch(server.port(), request("GET", "/metrics", "X-Fill: " + std::string(4000, 'a') + "\r\n"));
        REQUIRE(r);
        CHECK(r->status == 200);
    }
    SECTION("just over the limit: 431 and the connection is closed") {
        Client c(server.port());
        REQUIRE(c.send(request("GET", "/metrics", "X-Fill: " + std::string(9000, 'a') + "\r\n")));
        auto r = c.read_reply();
        REQUIRE(r);
        CHECK(r->status == 431);
        CHECK(c.closed_within(1000ms));
    }
    SECTION("1 MB of header: 431 or the connection is closed") {
        Client c(server.port());
        const bool sent_all = c.send(request("GET", "/metrics", "X-Fill: " + std::string(1 << 20, 'a') + "\r\n"));
        auto r = c.read_reply();
        INFO("sent all: " << sent_all << ", reply: " << (r ? std::to_string(r->status) : std::string("none")));
        if (r) CHECK(r->status == 431);
        else CHECK(c.closed_within(1000ms));
    }
    auto after = fetch(server.port(), request("GET", "/metrics"));
    REQUIRE(after);
    CHECK(after->status == 200);
}

TEST_CASE("HttpServer: concurrent scrapes are served in parallel", "[http][concurrency]") {
    auto options = local_options();
    options.threads = 4;
    ilana::HttpServer server(options);
    std::atomic<int> running{0};
    std::atomic<int> max_running{0};
    server.route("/metrics", [&] {
        const int now = ++running;
        int seen = max_running.load();
        while (now > seen && !max_running.compare_exchange_weak(seen, now)) {
        }
        std::this_thread::sleep_for(100ms);
        --running;
        return metrics_response();
    });
    server.start();

    constexpr int kClients = 16;
    std::vector<int> statuses(kClients, 0);
    std::vector<std::string> bodies(kClients);
    std::vector<std::thread> clients;
    const auto t0 = Clock::now();
    for (int i = 0; i < kClients; ++i) {
        clients.emplace_back([&, i] {
            auto r = fetch(server.port(), request("GET", "/metrics"));
            if (r) {
                statuses[static_cast<size_t>(i)] = r->status;
                bodies[static_cast<size_t>(i)] = r->body;
            }
        });
    }
    for (auto &t : clients) t.join();
    const long long elapsed = ms_since(t0);
    INFO("16 scrapes of a 100 ms handler took " << elapsed << " ms; at most " << max_running << " at once");
    for (int i = 0; i < kClients; ++i) {
        CHECK(statuses[static_cast<size_t>(i)] == 200);
        CHECK(bodies[static_cast<size_t>(i)] == "ilana_up 1\n");
    }
    CHECK(max_running >= 2);
    CHECK(elapsed < kClients * 100); // serial would be 1.6 s
}

TEST_CASE("HttpServer: stop() is prompt with idle and slow clients connected", "[http][shutdown]") {
    auto options = local_options();
    options.read_timeout = 10000ms;
    auto server = std::make_unique<ilana::HttpServer>(options);
    server->route("/metrics", metrics_response);
    server->start();
    const uint16_t port = server->port();

    Client idle(port);
    Client slow(port);
    Client kept(port);
    REQUIRE(idle.connected());
    REQUIRE(slow.send("GET /metr"));
    REQUIRE(kept.send(request("GET", "/metrics")));
    REQUIRE(kept.read_reply());
    std::this_thread::sleep_for(100ms); // let the server start reading on all of them

    const auto t0 = Clock::now();
    std::thread stopper([&] { server->stop(); }); // from another thread
    stopper.join();
    const long long stop_ms = ms_since(t0);
    INFO("stop() took " << stop_ms << " ms");
    CHECK(stop_ms < 1000);
    CHECK(idle.closed_within(1000ms));
    CHECK(slow.closed_within(1000ms));
    CHECK(kept.closed_within(1000ms));
    CHECK(server->port() == 0);

    Client refused(port);
    CHECK_FALSE(refused.connected());

    server->stop(); // idempotent
    CHECK_THROWS_AS(server->start(), ilana::Error); // not restartable
    server.reset();
}

TEST_CASE("HttpServer: the destructor stops the server", "[http][shutdown]") {
    uint16_t port = 0;
    auto client = std::make_unique<std::optional<Client>>();
    const auto t0 = Clock::now();
    {
        ilana::HttpServer server(local_options());
        server.route("/metrics", metrics_response);
        server.start();
        port = server.port();
        client->emplace(port);
        REQUIRE((*client)->connected());
        std::this_thread::sleep_for(50ms);
    }
    CHECK(ms_since(t0) < 1000);
    CHECK((*client)->closed_within(1000ms));
    Client refused(port);
    CHECK_FALSE(refused.connected());
}

TEST_CASE("HttpServer: binding an address in use is an ilana::Error naming it", "[http]") {
    ilana::HttpServer first(local_options());
    first.start();
    const std::string address = "127.0.0.1:" + std::to_string(first.port());

    auto options = local_options();
    options.listen = address;
    ilana::HttpServer second(options);
    try {
        second.start();
        FAIL("start() on a busy address did not throw");
    } catch (const ilana::Error &e) {
        INFO(e.what());
        CHECK(e.error_class() == ilana::ErrorClass::connection);
        CHECK(std::string(e.what()).find(address) != std::string::npos);
    }
    CHECK(second.port() == 0);
    // the first one is unaffected (it has no route: 404)
    auto r = fetch(first.port(), request("GET", "/"));
    REQUIRE(r);
    CHECK(r->status == 404);
}

TEST_CASE("HttpServer: bad options and misuse are ilana::Error (config)", "[http]") {
    auto config_error = [](auto &&fn) {
        try {
            fn();
        } catch (const ilana::Error &e) {
            INFO(e.what());
            CHECK(e.error_class() == ilana::ErrorClass::config);
            return std::string(e.what());
        }
        FAIL("no ilana::Error thrown");
        return std::string();
    };
    for (const char *listen : {"127.0.0.1", "127.0.0.1:", "127.0.0.1:65536", "127.0.0.1:http", "::1:80", "[::1:80"}) {
        INFO(listen);
        auto o = local_options();
        o.listen = listen;
        CHECK(config_error([&] { ilana::HttpServer s(o); }).find(listen) != std::string::npos);
    }
    auto o = local_options();
    o.threads = 0;
    config_error([&] { ilana::HttpServer s(o); });
    o = local_options();
    o.max_header_bytes = 0;
    config_error([&] { ilana::HttpServer s(o); });
    o = local_options();
    o.read_timeout = 0ms;
    config_error([&] { ilana::HttpServer s(o); });
    o = local_options();
    o.listen = "no-such-host.invalid:0";
    CHECK(config_error([&] { ilana::HttpServer(o).start(); }).find("no-such-host.invalid:0") != std::string::npos);

    ilana::HttpServer server(local_options());
    config_error([&] { server.route("metrics", metrics_response); });
    config_error([&] { server.route("/x", ilana::HttpServer::Handler()); });
    server.start();
    config_error([&] { server.route("/late", metrics_response); });
    config_error([&] { server.start(); });
}

TEST_CASE("HttpServer: listens on a host name (localhost)", "[http]") {
    ilana::HttpServer server([] {
        auto o = local_options();
        o.listen = "localhost:0";
        return o;
    }());
    server.route("/metrics", metrics_response);
    server.start();
    CHECK(server.port() != 0);
}

TEST_CASE("HttpServer: run_until_signal returns on SIGTERM and on stop()", "[http][shutdown]") {
    // Until run_until_signal has installed its handler, a SIGTERM must not
    // kill the test run: park a no-op handler (restored afterwards).
    struct sigaction noop {};
    noop.sa_handler = [](int) {};
    sigemptyset(&noop.sa_mask);
    struct sigaction saved {};
    ::sigaction(SIGTERM, &noop, &saved);

    SECTION("SIGTERM") {
        ilana::HttpServer server(local_options());
        server.route("/metrics", metrics_response);
        std::atomic<bool> done{false};
        std::thread runner([&] {
            server.run_until_signal(); // starts the server too
            done = true;
        });
        const auto t0 = Clock::now();
        while (server.port() == 0 && ms_since(t0) < 5000) std::this_thread::sleep_for(10ms);
        REQUIRE(server.port() != 0);
        const uint16_t port = server.port();
        auto r = fetch(port, request("GET", "/metrics"));
        REQUIRE(r);
        CHECK(r->status == 200);
        while (!done && ms_since(t0) < 5000) {
            ::kill(::getpid(), SIGTERM);
            std::this_thread::sleep_for(50ms);
        }
        runner.join();
        CHECK(done);
        Client refused(port);
        CHECK_FALSE(refused.connected());
        // the disposition from before run_until_signal is back
        struct sigaction now {};
        ::sigaction(SIGTERM, nullptr, &now);
        CHECK(now.sa_handler == noop.sa_handler);
    }
    SECTION("on_ready: listening and the signals caught, so a SIGTERM sent from it stops the server") {
        ilana::HttpServer server(local_options());
        server.route("/metrics", metrics_response);
        std::atomic<bool> done{false};
        uint16_t port_when_ready = 0;
        std::thread runner([&] {
            server.run_until_signal([&] {
                port_when_ready = server.port();
                ::kill(::getpid(), SIGTERM); // caught by run_until_signal, not by the no-op handler
            });
            done = true;
        });
        const auto t0 = Clock::now();
        while (!done && ms_since(t0) < 5000) std::this_thread::sleep_for(10ms);
        const bool stopped_by_signal = done;
        if (!done) server.stop(); // the signal was lost: unblock, and fail below
        runner.join();
        CHECK(stopped_by_signal);
        CHECK(port_when_ready != 0);
    }
    SECTION("on_ready throws: the server is stopped and the exception propagates") {
        ilana::HttpServer server(local_options());
        uint16_t port = 0;
        CHECK_THROWS_AS(server.run_until_signal([&] {
            port = server.port();
            throw std::runtime_error("announce failed");
        }),
                        std::runtime_error);
        REQUIRE(port != 0);
        Client refused(port);
        CHECK_FALSE(refused.connected());
    }
    SECTION("stop() from another thread") {
        ilana::HttpServer server(local_options());
        server.start();
        std::atomic<bool> done{false};
        std::thread runner([&] {
            server.run_until_signal();
            done = true;
        });
        std::this_thread::sleep_for(100ms);
        CHECK_FALSE(done);
        const auto t0 = Clock::now();
        server.stop();
        runner.join();
        CHECK(done);
        CHECK(ms_since(t0) < 1000);
    }
    ::sigaction(SIGTERM, &saved, nullptr);
}
