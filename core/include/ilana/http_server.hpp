// ilana/http_server.hpp — the small embedded HTTP/1.1 server behind
// `GET /metrics` (Prometheus text) and `GET /health` (JSON).
//
//   ilana::HttpServer server({/*listen=*/"127.0.0.1:9464"});
//   server.route("/metrics", [&] { return ilana::HttpResponse{200, "text/plain; version=0.0.4", render()}; });
//   server.route("/health", [&] { return ilana::HttpResponse{200, "application/json", health_json()}; });
//   server.start();              // throws ilana::Error if the address cannot be bound
//   server.run_until_signal();   // or keep the object alive and call stop() later
//
// The server knows nothing about what it serves: each route is a callback
// that returns the whole response. It answers GET and HEAD only, with exact
// path matching (a query string is ignored for matching):
//   - other methods: 405 with `Allow: GET, HEAD`; unknown path: 404;
//   - with basic_auth set, every request without the right credentials gets
//     401 with `WWW-Authenticate: Basic realm="ilana"` (checked before the
//     path, so routes are not revealed); credentials are compared in constant
//     time and never logged;
//   - a handler that throws gives 500 "internal error"; the exception text is
//     logged through ilana::logger(), never sent to the client;
//   - request line + headers larger than max_header_bytes: 431 and the
//     connection is closed; a request body larger than 16 KiB: 413 and close;
//     a malformed request: 400 and close;
//   - each request (request line, headers and body) must arrive in full
//     within read_timeout of the moment the server starts waiting for it,
//     otherwise the connection is closed; an idle keep-alive connection is
//     closed after read_timeout as well; writing a response is bounded by
//     read_timeout too (a client that never reads is dropped);
//   - every response carries Content-Type (from the HttpResponse),
//     Content-Length, `Server: ilana` and `Cache-Control: no-store`; HEAD gets
//     the headers of GET with no body.
//
// Threading: requests are served by `threads` I/O threads; each connection is
// handled on its own strand, so several scrapes run in parallel and a slow
// client never holds up the others. Handlers are called on an I/O thread and
// may run concurrently with each other (and with themselves, for two clients
// on the same path): they must be thread-safe. A handler that blocks holds
// one of the `threads` for that long.
//
// Lifetime: the server owns its handlers. stop() (and the destructor) waits
// for running handlers to return and closes every connection, so once it
// returns no handler runs and no I/O thread is left: what the handlers
// capture only has to outlive stop(). A server is started at most once; it
// cannot be restarted after stop().
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace ilana {

struct HttpResponse {
    int status = 200; // 100..999; anything else is answered 500 (and logged)
    std::string content_type = "text/plain; charset=utf-8";
    std::string body;
};

// What a handler that asks for it learns of the request.
struct HttpRequest {
    std::string path;  // "/health"
    std::string query; // after '?', undecoded ("" when none)
    // The value of the first `name=value` in the query, %XX and '+'
    // decoded; nullopt when absent ("" for `name` or `name=`).
    std::optional<std::string> param(std::string_view name) const;
    // The names in the query, in order (decoded).
    std::vector<std::string> param_names() const;
};

struct HttpServerOptions {
    // "host:port" ("127.0.0.1:9464", "[::1]:9464", "localhost:9464",
    // ":9464" = all IPv4 interfaces). Port 0 picks a free port (see port()).
    std::string listen = "127.0.0.1:9464";
    // username, password: when set, every request must carry them (Basic).
    std::optional<std::pair<std::string, std::string>> basic_auth;
    // Upper bound of request line + headers, in bytes.
    size_t max_header_bytes = 8192;
    // The whole request must arrive within this (and the next keep-alive
    // request within this of the previous response).
    std::chrono::milliseconds read_timeout{5000};
    // I/O threads serving requests (>= 1).
    int threads = 2;
};

class HttpServer {
public:
    // Called once per request on an I/O thread. May throw: the client gets
    // 500 "internal error" and the exception is logged.
    using Handler = std::function<HttpResponse()>;
    // The same, for a handler that reads the query string.
    using RequestHandler = std::function<HttpResponse(const HttpRequest &)>;

    // Checks the options, binds nothing yet.
    // Throws ilana::Error (ErrorClass::config) for a listen address that is
    // not "host:port" with a port in 0..65535, threads < 1,
    // max_header_bytes == 0 or a read_timeout <= 0.
    explicit HttpServer(HttpServerOptions options);
    // Calls stop(). Must not run on one of the server's I/O threads.
    ~HttpServer();

    HttpServer(const HttpServer &) = delete;
    HttpServer &operator=(const HttpServer &) = delete;

    // Serves GET and HEAD on `path` (exact match, starts with '/'); a second
    // route on the same path replaces the first.
    // Call before start(): throws ilana::Error (ErrorClass::config) once the
    // server is started, or for a path that does not start with '/' or an
    // empty handler. Not thread-safe with start().
    void route(std::string path, Handler handler);
    void route(std::string path, RequestHandler handler);

    // Resolves the host, binds, listens and starts the I/O threads.
    // Throws ilana::Error naming the address: ErrorClass::config when the host
    // cannot be resolved, ErrorClass::connection when it cannot be bound
    // (address in use, permission denied, not a local address), and
    // ErrorClass::config when called a second time or after stop().
    // On failure nothing keeps running and the destructor is still safe.
    void start();

    // Closes the listening socket and every connection (slow or idle clients
    // included), waits for running handlers to return and joins the I/O
    // threads. Idempotent; may be called from any thread except the server's
    // own I/O threads (i.e. not from a Handler: that throws ilana::Error,
    // ErrorClass::internal, since the thread would have to join itself).
    // Also makes a concurrent run_until_signal() return.
    void stop();

    // The port actually bound (useful with port 0); 0 before start().
    // Thread-safe.
    uint16_t port() const;

    // Starts the server if it is not started yet, blocks the calling thread
    // until the process receives SIGINT or SIGTERM (or stop() is called from
    // another thread), then stops the server. While it blocks, those signals
    // are handled by ilana instead of terminating the process; the previous
    // disposition is restored when it returns. Returns at once if the server
    // was already stopped. Throws what start() throws.
    // `on_ready`, when given, runs once the signals are caught and the
    // server is listening (to announce port(), say): whoever sees that
    // announcement may stop the server with SIGTERM at once. (Announcing
    // after start() but before run_until_signal() leaves a window in which
    // SIGTERM still kills the process.) If it throws, the server is stopped
    // and the exception propagates.
    void run_until_signal(const std::function<void()> &on_ready = {});

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

} // namespace ilana
