// The embedded HTTP/1.1 server (Boost.Beast over Boost.Asio).
//
// Shape: one io_context run by N threads; one async accept loop; one Session
// per connection on its own strand. Every request gets one deadline
// (tcp_stream::expires_after) for the whole request, so a client trickling
// bytes is cut off when it expires, not kept alive by each byte.
// stop() stops the io_context, joins the threads and then closes the
// acceptor and every session from the stopping thread (nothing else runs by
// then), so no slow client can delay it.
#if defined(__SANITIZE_THREAD__) && defined(__GNUC__) && !defined(__clang__) && __GNUC__ >= 12
// Asio's std_fenced_block uses std::atomic_thread_fence, which GCC warns is
// not modelled by ThreadSanitizer; Asio's own mutexes carry the ordering.
#pragma GCC diagnostic ignored "-Wtsan"
#endif

#include <ilana/http_server.hpp>

#include <ilana/error.hpp>
#include <ilana/logging.hpp>

#include "http/http_auth.hpp"

#include <boost/asio/dispatch.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core/bind_handler.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>

#include <spdlog/spdlog.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <signal.h>
#include <exception>
#include <limits>
#include <map>
#include <mutex>
#include <thread>
#include <vector>

namespace ilana {
namespace {

namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;
using tcp = net::ip::tcp;

// GET and HEAD carry no body; a small one is read and ignored, a larger one
// is refused so a client cannot make the server buffer megabytes.
constexpr std::uint64_t kBodyLimit = 16 * 1024;
// After an error response, at most this much is read and thrown away before
// closing, so the client sees the response instead of a TCP reset.
constexpr size_t kLingerBytes = 1024 * 1024;
constexpr std::chrono::milliseconds kAcceptRetryDelay{100};

struct ListenAddress {
    std::string host; // without [] for IPv6
    uint16_t port = 0;
};

ListenAddress parse_listen(const std::string &listen) {
    auto fail = [&](const std::string &why) -> Error {
        return Error("HTTP server listen address \"" + listen + "\" is invalid: " + why +
                         " (expected \"host:port\", e.g. \"127.0.0.1:9464\"; port 0 picks a free port)",
                     ErrorClass::config);
    };
    const size_t colon = listen.rfind(':');
    if (colon == std::string::npos) throw fail("no port");
    ListenAddress out;
    out.host = listen.substr(0, colon);
    const std::string port = listen.substr(colon + 1);
    if (port.empty() || port.size() > 5 || !std::all_of(port.begin(), port.end(), [](char c) { return c >= '0' && c <= '9'; }))
        throw fail("the port must be a number between 0 and 65535");
    const unsigned long value = std::stoul(port);
    if (value > 65535) throw fail("the port must be a number between 0 and 65535");
    out.port = static_cast<uint16_t>(value);
    if (!out.host.empty() && out.host.front() == '[') {
        if (out.host.size() < 3 || out.host.back() != ']') throw fail("unbalanced [] around an IPv6 address");
        out.host = out.host.substr(1, out.host.size() - 2);
    } else if (out.host.find(':') != std::string::npos) {
        throw fail("write an IPv6 address in brackets, e.g. \"[::1]:9464\"");
    }
    if (out.host.empty()) out.host = "0.0.0.0";
    return out;
}

std::string endpoint_text(const tcp::endpoint &ep) {
    const std::string addr = ep.address().to_string();
    return (ep.address().is_v6() ? "[" + addr + "]" : addr) + ":" + std::to_string(ep.port());
}

// Everything a session needs, immutable once the server is started.
struct ServeConfig {
    std::chrono::milliseconds timeout;
    uint32_t header_limit;
    std::optional<std::pair<std::string, std::string>> basic_auth;
    std::map<std::string, HttpServer::RequestHandler, std::less<>> routes;
};

using Response = http::response<http::string_body>;

class Session : public std::enable_shared_from_this<Session> {
public:
    Session(tcp::socket &&socket, std::shared_ptr<const ServeConfig> config)
        : stream_(std::move(socket)), config_(std::move(config)) {}

    void run() {
        net::dispatch(stream_.get_executor(), beast::bind_front_handler(&Session::read_request, shared_from_this()));
    }

    // Only when no I/O thread runs any more (HttpServer::stop after join).
    void close_now() noexcept {
        beast::error_code ec;
        stream_.socket().shutdown(tcp::socket::shutdown_both, ec);
        stream_.close();
    }

private:
    void read_request() {
        parser_.emplace();
        parser_->header_limit(config_->header_limit);
        parser_->body_limit(kBodyLimit);
        // One deadline for the whole request (and for the idle time before
        // it on a keep-alive connection), not one per read.
        stream_.expires_after(config_->timeout);
        http::async_read(stream_, buffer_, *parser_, beast::bind_front_handler(&Session::on_read, shared_from_this()));
    }

    void on_read(beast::error_code ec, std::size_t) {
        if (ec == http::error::end_of_stream) return close_gracefully();
        if (ec == http::error::header_limit || ec == http::error::buffer_overflow)
            return send_error(http::status::request_header_fields_too_large, "request header too large\n");
        if (ec == http::error::body_limit) return send_error(http::status::payload_too_large, "request body too large\n");
        if (ec && ec.category() == http::make_error_code(http::error::bad_method).category() &&
            ec != http::error::partial_message)
            return send_error(http::status::bad_request, "bad request\n");
        // timeout (the stream is already closed), reset, aborted, partial
        // message: nothing to answer.
        if (ec) return;

        const auto &req = parser_->get();
        res_ = respond(req);
        write_response(!res_.keep_alive());
    }

    Response respond(const http::request<http::string_body> &req) const {
        Response res;
        res.version(req.version() == 10 ? 10 : 11);
        res.keep_alive(req.keep_alive());
        const bool head = req.method() == http::verb::head;

        auto plain = [&](http::status status, std::string body) {
            res.result(status);
            res.set(http::field::content_type, "text/plain; charset=utf-8");
            res.body() = std::move(body);
        };

        std::string_view path(req.target().data(), req.target().size());
        std::string_view query;
        if (const size_t q = path.find('?'); q != std::string_view::npos) {
            query = path.substr(q + 1);
            path = path.substr(0, q);
        }

        if (config_->basic_auth &&
            !detail::basic_auth_matches(std::string_view(req[http::field::authorization].data(),
                                                         req[http::field::authorization].size()),
                                        config_->basic_auth->first, config_->basic_auth->second)) {
            plain(http::status::unauthorized, "unauthorized\n");
            res.set(http::field::www_authenticate, "Basic realm=\"ilana\"");
        } else if (req.method() != http::verb::get && !head) {
            plain(http::status::method_not_allowed, "method not allowed\n");
            res.set(http::field::allow, "GET, HEAD");
        } else if (auto it = config_->routes.find(path); it == config_->routes.end()) {
            plain(http::status::not_found, "not found\n");
        } else {
            call_handler(HttpRequest{it->first, std::string(query)}, it->second, res, plain);
        }

        res.set(http::field::server, "ilana");
        res.set(http::field::cache_control, "no-store");
        res.content_length(res.body().size());
        if (head) res.body().clear(); // Content-Length stays that of GET
        return res;
    }

    template <class Plain>
    static void call_handler(const HttpRequest &request, const HttpServer::RequestHandler &handler, Response &res,
                             Plain &plain) {
        const std::string &path = request.path;
        HttpResponse out;
        try {
            out = handler(request);
        } catch (const std::exception &e) {
            logger()->error("HTTP handler for {} threw: {}", path, e.what());
            return plain(http::status::internal_server_error, "internal error\n");
        } catch (...) {
            logger()->error("HTTP handler for {} threw a non-exception", path);
            return plain(http::status::internal_server_error, "internal error\n");
        }
        if (out.status < 100 || out.status > 999) {
            logger()->error("HTTP handler for {} returned status {} (must be 100..999)", path, out.status);
            return plain(http::status::internal_server_error, "internal error\n");
        }
        if (out.content_type.find_first_of("\r\n") != std::string::npos) {
            logger()->error("HTTP handler for {} returned a content type with a line break", path);
            return plain(http::status::internal_server_error, "internal error\n");
        }
        res.result(static_cast<unsigned>(out.status));
        res.set(http::field::content_type, out.content_type);
        res.body() = std::move(out.body);
    }

    void send_error(http::status status, const char *body) {
        res_ = Response{};
        res_.version(11);
        res_.result(status);
        res_.keep_alive(false);
        res_.set(http::field::server, "ilana");
        res_.set(http::field::content_type, "text/plain; charset=utf-8");
        res_.set(http::field::cache_control, "no-store");
        res_.body() = body;
        res_.content_length(res_.body().size());
        write_response(true);
    }

    void write_response(bool close_after) {
        close_after_ = close_after;
        stream_.expires_after(config_->timeout); // a client that does not read is dropped
        http::async_write(stream_, res_, beast::bind_front_handler(&Session::on_write, shared_from_this()));
    }

    void on_write(beast::error_code ec, std::size_t) {
        if (ec) return;
        if (close_after_) return close_gracefully();
        res_ = Response{};
        read_request();
    }

    // Half-close, then read and drop what the client still sends (bounded in
    // bytes and by the timeout) so it gets our response rather than a reset.
    void close_gracefully() {
        beast::error_code ec;
        stream_.socket().shutdown(tcp::socket::shutdown_send, ec);
        if (ec) return stream_.close();
        buffer_.clear();
        lingered_ = 0;
        stream_.expires_after(config_->timeout);
        linger();
    }

    void linger() {
        stream_.async_read_some(net::buffer(drain_), [self = shared_from_this()](beast::error_code ec, std::size_t n) {
            self->lingered_ += n;
            if (ec || self->lingered_ >= kLingerBytes) return self->stream_.close();
            self->linger();
        });
    }

    beast::tcp_stream stream_;
    std::shared_ptr<const ServeConfig> config_;
    beast::flat_buffer buffer_;
    std::optional<http::request_parser<http::string_body>> parser_;
    Response res_;
    bool close_after_ = false;
    size_t lingered_ = 0;
    std::array<char, 4096> drain_{};
};

// Marks the I/O threads of a server, so stop() can refuse to join itself.
thread_local const void *t_io_thread_owner = nullptr;

} // namespace

struct HttpServer::Impl {
    enum class State { created, running, stopped };

    explicit Impl(HttpServerOptions o)
        : options(std::move(o)), listen(parse_listen(options.listen)), ioc(std::max(options.threads, 1)) {}

    HttpServerOptions options;
    ListenAddress listen;
    std::map<std::string, RequestHandler, std::less<>> routes;

    std::mutex mu; // state, start/stop
    State state = State::created;
    std::atomic<uint16_t> bound_port{0};

    // Sessions hold no pointer to Impl, so the io_context (and the handlers
    // still queued in it) may outlive everything declared after it.
    net::io_context ioc;
    std::optional<net::executor_work_guard<net::io_context::executor_type>> work;
    tcp::acceptor acceptor{ioc};
    net::steady_timer accept_retry{ioc};
    std::shared_ptr<const ServeConfig> config;
    std::vector<std::thread> threads;

    std::mutex sessions_mu;
    std::vector<std::weak_ptr<Session>> sessions;
    size_t sessions_at_last_purge = 0;

    net::io_context signal_ioc{1};

    void do_accept() {
        acceptor.async_accept(net::make_strand(ioc), [this](beast::error_code ec, tcp::socket socket) {
            if (ec == net::error::operation_aborted) return;
            if (ec) {
                // Out of descriptors and the like: try again a little later
                // rather than spinning or giving up.
                logger()->warn("HTTP server on {}: accept failed: {}", options.listen, ec.message());
                accept_retry.expires_after(kAcceptRetryDelay);
                accept_retry.async_wait([this](beast::error_code tec) {
                    if (!tec) do_accept();
                });
                return;
            }
            auto session = std::make_shared<Session>(std::move(socket), config);
            track(session);
            session->run();
            do_accept();
        });
    }

    void track(const std::shared_ptr<Session> &session) {
        std::lock_guard<std::mutex> lock(sessions_mu);
        if (sessions.size() >= 2 * sessions_at_last_purge + 64) {
            sessions.erase(std::remove_if(sessions.begin(), sessions.end(),
                                          [](const std::weak_ptr<Session> &w) { return w.expired(); }),
                           sessions.end());
            sessions_at_last_purge = sessions.size();
        }
        sessions.push_back(session);
    }

    void io_thread() {
        t_io_thread_owner = this;
        for (;;) {
            try {
                ioc.run();
                return;
            } catch (const std::exception &e) {
                logger()->error("HTTP server on {}: I/O thread caught: {}", options.listen, e.what());
            } catch (...) {
                logger()->error("HTTP server on {}: I/O thread caught a non-exception", options.listen);
            }
        }
    }

    // Requires mu held and state == created.
    void start_locked() {
        const std::string &shown = options.listen;
        beast::error_code ec;
        tcp::endpoint endpoint;
        const net::ip::address address = net::ip::make_address(listen.host, ec);
        if (!ec) {
            endpoint = tcp::endpoint(address, listen.port);
        } else {
            tcp::resolver resolver(ioc);
            const auto results = resolver.resolve(listen.host, std::to_string(listen.port),
                                                  tcp::resolver::passive | tcp::resolver::address_configured, ec);
            if (ec || results.empty())
                throw Error("HTTP server cannot resolve the host of listen address " + shown + ": " +
                                (ec ? ec.message() : std::string("no address")) +
                                " (use an IP address or a resolvable host name)",
                            ErrorClass::config);
            endpoint = results.begin()->endpoint();
        }

        auto fail = [&](const char *what) {
            beast::error_code ignored;
            acceptor.close(ignored);
            std::string where = shown;
            if (endpoint_text(endpoint) != shown) where += " (" + endpoint_text(endpoint) + ")";
            return Error("HTTP server cannot listen on " + where + ": " + what + ": " + ec.message() +
                             " (choose another host:port, e.g. in the config's /metrics/listen)",
                         ErrorClass::connection);
        };
        acceptor.open(endpoint.protocol(), ec);
        if (ec) throw fail("open");
        acceptor.set_option(net::socket_base::reuse_address(true), ec);
        if (ec) throw fail("setsockopt");
        acceptor.bind(endpoint, ec);
        if (ec) throw fail("bind");
        acceptor.listen(net::socket_base::max_listen_connections, ec);
        if (ec) throw fail("listen");
        const tcp::endpoint local = acceptor.local_endpoint(ec);
        if (ec) throw fail("getsockname");

        auto cfg = std::make_shared<ServeConfig>();
        cfg->timeout = options.read_timeout;
        cfg->header_limit = static_cast<uint32_t>(
            std::min<size_t>(options.max_header_bytes, std::numeric_limits<uint32_t>::max()));
        cfg->basic_auth = options.basic_auth;
        cfg->routes = std::move(routes); // frozen from here on (route() refuses)
        config = std::move(cfg);

        work.emplace(ioc.get_executor());
        do_accept();
        try {
            for (int i = 0; i < options.threads; ++i) threads.emplace_back([this] { io_thread(); });
        } catch (const std::system_error &e) {
            shut_down();
            state = State::stopped;
            throw Error("HTTP server on " + shown + ": cannot start its I/O threads: " + e.what(),
                        ErrorClass::internal);
        }
        bound_port.store(local.port());
        state = State::running;
        logger()->info("HTTP server listening on {}{}", endpoint_text(local),
                       options.basic_auth ? " (basic auth)" : "");
    }

    // Stops the I/O, joins the threads, then closes everything (no thread
    // touches the sockets any more). Requires mu held.
    void shut_down() {
        work.reset();
        ioc.stop();
        for (std::thread &t : threads)
            if (t.joinable()) t.join();
        threads.clear();
        beast::error_code ignored;
        acceptor.close(ignored);
        accept_retry.cancel();
        std::vector<std::weak_ptr<Session>> open;
        {
            std::lock_guard<std::mutex> lock(sessions_mu);
            open.swap(sessions);
        }
        for (const auto &w : open)
            if (auto s = w.lock()) s->close_now();
    }
};

HttpServer::HttpServer(HttpServerOptions options) {
    if (options.threads < 1)
        throw Error("HTTP server: threads must be at least 1 (got " + std::to_string(options.threads) + ")",
                    ErrorClass::config);
    if (options.max_header_bytes == 0) throw Error("HTTP server: max_header_bytes must be > 0", ErrorClass::config);
    if (options.read_timeout.count() <= 0)
        throw Error("HTTP server: read_timeout must be > 0 ms", ErrorClass::config);
    impl_ = std::make_unique<Impl>(std::move(options));
}

HttpServer::~HttpServer() {
    try {
        stop();
    } catch (const std::exception &e) {
        // Only reachable when destroyed on its own I/O thread: cannot join.
        logger()->error("HttpServer destroyed on one of its own I/O threads: {}", e.what());
        std::terminate();
    }
}

namespace {

int hex_value(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

// application/x-www-form-urlencoded decoding; a malformed %XX stays as is.
std::string url_decode(std::string_view s) {
    std::string out;
    out.reserve(s.size());
    for (size_t i = 0; i < s.size(); ++i) {
        if (s[i] == '+') {
            out += ' ';
        } else if (s[i] == '%' && i + 2 < s.size() && hex_value(s[i + 1]) >= 0 && hex_value(s[i + 2]) >= 0) {
            out += static_cast<char>(hex_value(s[i + 1]) * 16 + hex_value(s[i + 2]));
            i += 2;
        } else {
            out += s[i];
        }
    }
    return out;
}

// Calls fn(name, value) for each "name[=value]" of the query, undecoded.
template <class Fn> void each_param(std::string_view query, Fn fn) {
    while (!query.empty()) {
        const size_t amp = query.find('&');
        std::string_view pair = query.substr(0, amp);
        query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
        if (pair.empty()) continue;
        const size_t eq = pair.find('=');
        if (fn(pair.substr(0, eq), eq == std::string_view::npos ? std::string_view() : pair.substr(eq + 1))) return;
    }
}

} // namespace

std::optional<std::string> HttpRequest::param(std::string_view name) const {
    std::optional<std::string> found;
    each_param(query, [&](std::string_view k, std::string_view v) {
        if (url_decode(k) != name) return false;
        found = url_decode(v);
        return true;
    });
    return found;
}

std::vector<std::string> HttpRequest::param_names() const {
    std::vector<std::string> names;
    each_param(query, [&](std::string_view k, std::string_view) {
        names.push_back(url_decode(k));
        return false;
    });
    return names;
}

void HttpServer::route(std::string path, Handler handler) {
    if (!handler) throw Error("HttpServer::route(\"" + path + "\"): empty handler", ErrorClass::config);
    route(std::move(path), RequestHandler([h = std::move(handler)](const HttpRequest &) { return h(); }));
}

void HttpServer::route(std::string path, RequestHandler handler) {
    std::lock_guard<std::mutex> lock(impl_->mu);
    if (impl_->state != Impl::State::created)
        throw Error("HttpServer::route(\"" + path + "\"): routes must be added before start()", ErrorClass::config);
    if (path.empty() || path.front() != '/')
        throw Error("HttpServer::route(\"" + path + "\"): a path must start with '/'", ErrorClass::config);
    if (!handler) throw Error("HttpServer::route(\"" + path + "\"): empty handler", ErrorClass::config);
    impl_->routes[std::move(path)] = std::move(handler);
}

void HttpServer::start() {
    std::lock_guard<std::mutex> lock(impl_->mu);
    if (impl_->state != Impl::State::created)
        throw Error("HttpServer::start() on " + impl_->options.listen +
                        ": already started or stopped (a server is started once)",
                    ErrorClass::config);
    impl_->start_locked();
}

void HttpServer::stop() {
    if (t_io_thread_owner == impl_.get())
        throw Error("HttpServer::stop() called on one of the server's own I/O threads (from a handler?): "
                    "it cannot join itself; call it from another thread",
                    ErrorClass::internal);
    std::lock_guard<std::mutex> lock(impl_->mu);
    impl_->signal_ioc.stop();
    if (impl_->state == Impl::State::stopped) return;
    const bool was_running = impl_->state == Impl::State::running;
    impl_->state = Impl::State::stopped;
    if (!was_running) return;
    impl_->shut_down();
    impl_->bound_port.store(0);
    logger()->info("HTTP server on {} stopped", impl_->options.listen);
}

uint16_t HttpServer::port() const { return impl_->bound_port.load(); }

void HttpServer::run_until_signal(const std::function<void()> &on_ready) {
    // Asio resets the signals to SIG_DFL when the set goes away: put back
    // whatever the host had installed (also when start() throws).
    struct SavedDisposition {
        struct sigaction old_int {};
        struct sigaction old_term {};
        SavedDisposition() {
            ::sigaction(SIGINT, nullptr, &old_int);
            ::sigaction(SIGTERM, nullptr, &old_term);
        }
        ~SavedDisposition() {
            ::sigaction(SIGINT, &old_int, nullptr);
            ::sigaction(SIGTERM, &old_term, nullptr);
        }
    } saved;
    {
        // The signals are caught before the server is reachable, so anything
        // that sees it up may already stop it with SIGTERM.
        net::signal_set signals(impl_->signal_ioc, SIGINT, SIGTERM);
        signals.async_wait([this](beast::error_code ec, int signo) {
            if (!ec) logger()->info("HTTP server on {}: signal {} received, stopping", impl_->options.listen, signo);
        });
        {
            std::lock_guard<std::mutex> lock(impl_->mu);
            if (impl_->state == Impl::State::stopped) return;
            if (impl_->state == Impl::State::created) impl_->start_locked();
        }
        if (on_ready) {
            try {
                on_ready();
            } catch (...) {
                stop();
                throw;
            }
        }
        impl_->signal_ioc.run(); // until a signal, or stop() stops signal_ioc
        beast::error_code ignored;
        signals.cancel(ignored);
    }
    stop();
}

} // namespace ilana
