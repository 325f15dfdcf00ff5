// An HTTP server answering from the database with ilana's async API, on
// ONE thread: Boost.Beast for HTTP, C++20 coroutines (boost::asio::
// use_awaitable) for both the HTTP side and the queries. The TechEmpower
// shapes:
//
//   GET /db            one random row of `world`        {"id":..,"randomNumber":..}
//   GET /queries?n=20  n random rows, queried at once   [{...}, ...]
//   GET /pool          the pool's counters
//
//   ilana-async-http-example [CONFIG] [PORT]
//
// CONFIG defaults to ./ilana.config.json; the default connection serves
// the requests (its `world` table is made and filled at start when
// missing). PORT 0 (the default) picks a free port; the line "listening on
// http://127.0.0.1:PORT" says which. SIGINT/SIGTERM stop it.
//
// The example is compiled as C++20 (coroutines); ilana itself is C++17.
#include <ilana/async.hpp>
#include <ilana/ilana.hpp>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <cstdio>
#include <iostream>
#include <random>
#include <string>
#include <vector>

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using asio::ip::tcp;

namespace {

constexpr int kWorldRows = 10000;
constexpr std::string_view kOneWorld = "SELECT id, randomnumber FROM world WHERE id = ?";

// One row of `world` as JSON.
std::string world_json(const ilana::Result &r) {
    if (r.empty()) return "null";
    return "{\"id\":" + std::to_string(r[0][0].as<int64_t>()) +
           ",\"randomNumber\":" + std::to_string(r[0][1].as<int64_t>()) + "}";
}

int random_id() {
    thread_local std::mt19937 rng{std::random_device{}()};
    return std::uniform_int_distribution<int>(1, kWorldRows)(rng);
}

// The value of query parameter `name` in `target` ("/queries?n=20"), or "".
std::string query_param(std::string_view target, std::string_view name) {
    const size_t q = target.find('?');
    if (q == std::string_view::npos) return "";
    std::string_view rest = target.substr(q + 1);
    while (!rest.empty()) {
        const size_t amp = rest.find('&');
        std::string_view pair = rest.substr(0, amp);
        if (pair.substr(0, name.size()) == name && pair.size() > name.size() && pair[name.size()] == '=')
            return std::string(pair.substr(name.size() + 1));
        if (amp == std::string_view::npos) break;
        rest = rest.substr(amp + 1);
    }
    return "";
}

asio::awaitable<http::response<http::string_body>> answer(const ilana::Connection &db,
                                                          const http::request<http::string_body> &req) {
    http::response<http::string_body> res{http::status::ok, req.version()};
    res.set(http::field::content_type, "application/json");
    res.keep_alive(req.keep_alive());
    const std::string_view target(req.target().data(), req.target().size());
    const std::string_view path = target.substr(0, target.find('?'));
    try {
        if (path == "/db") {
            // The parameters built before the co_await: GCC 12 cannot keep a
            // braced list's array in a coroutine frame.
            ilana::Params id{random_id()};
            ilana::Result r = co_await db.async_query(kOneWorld, std::move(id), asio::use_awaitable);
            res.body() = world_json(r);
        } else if (path == "/queries") {
            // 1..500 as TechEmpower asks; anything else is clamped.
            int n = 1;
            try {
                n = std::stoi(query_param(target, "n"));
            } catch (...) {
            }
            n = std::max(1, std::min(500, n));
            // All n in flight at once: each completion fills its slot.
            std::vector<std::string> rows(static_cast<size_t>(n));
            auto ex = co_await asio::this_coro::executor;
            asio::steady_timer all_done(ex, asio::steady_timer::time_point::max());
            int left = n;
            std::exception_ptr first_error;
            for (int i = 0; i < n; ++i)
                db.async_query(kOneWorld, {random_id()},
                               [&, i](std::exception_ptr e, ilana::Result r) {
                                   if (e && !first_error) first_error = e;
                                   if (!e) rows[static_cast<size_t>(i)] = world_json(r);
                                   if (--left == 0) all_done.cancel();
                               });
            boost::system::error_code ignored;
            co_await all_done.async_wait(asio::redirect_error(asio::use_awaitable, ignored));
            if (first_error) std::rethrow_exception(first_error);
            std::string body = "[";
            for (size_t i = 0; i < rows.size(); ++i) body += (i ? "," : "") + rows[i];
            res.body() = body + "]";
        } else if (path == "/pool") {
            const auto st = db.pool_status();
            res.body() = "{\"idle\":" + std::to_string(st.idle) + ",\"inUse\":" + std::to_string(st.in_use) +
                         ",\"waiting\":" + std::to_string(st.waiting) + ",\"max\":" + std::to_string(st.max) +
                         ",\"created\":" + std::to_string(st.created) + "}";
        } else {
            res.result(http::status::not_found);
            res.body() = "{\"error\":\"try /db, /queries?n=20 or /pool\"}";
        }
    } catch (const ilana::Error &e) {
        // The error's class and connection, never its SQL or parameters.
        res.result(e.error_class() == ilana::ErrorClass::timeout ? http::status::service_unavailable
                                                                  : http::status::internal_server_error);
        res.body() = std::string("{\"error\":\"") + ilana::to_string(e.error_class()) + "\",\"connection\":\"" +
                     e.connection() + "\"}";
    }
    res.prepare_payload();
    co_return res;
}

asio::awaitable<void> serve(tcp::socket socket, ilana::Connection db) {
    beast::flat_buffer buffer;
    try {
        for (;;) {
            http::request<http::string_body> req;
            co_await http::async_read(socket, buffer, req, asio::use_awaitable);
            http::response<http::string_body> res = co_await answer(db, req);
            co_await http::async_write(socket, res, asio::use_awaitable);
            if (!res.keep_alive()) break;
        }
    } catch (const boost::system::system_error &) {
        // the client went away
    }
    boost::system::error_code ignored;
    socket.shutdown(tcp::socket::shutdown_send, ignored);
}

asio::awaitable<void> listen(tcp::acceptor acceptor, ilana::Connection db) {
    for (;;) {
        tcp::socket socket = co_await acceptor.async_accept(asio::use_awaitable);
        asio::co_spawn(acceptor.get_executor(), serve(std::move(socket), db), asio::detached);
    }
}

// `world` with kWorldRows rows, made when missing.
void ensure_world(const ilana::Connection &db) {
    db.execute("CREATE TABLE IF NOT EXISTS world (id INTEGER PRIMARY KEY, randomnumber INTEGER NOT NULL)");
    if (db.query("SELECT count(*) FROM world")[0][0].as<int64_t>() >= kWorldRows) return;
    db.execute("DELETE FROM world");
    std::vector<ilana::Params> rows;
    std::mt19937 rng(42);
    for (int id = 1; id <= kWorldRows; ++id)
        rows.push_back({id, std::uniform_int_distribution<int>(1, 10000)(rng)});
    ilana::Session s = db.acquire();
    s.execute_many("INSERT INTO world (id, randomnumber) VALUES (?, ?)", rows);
}

} // namespace

int main(int argc, char **argv) {
    const std::string config = argc > 1 ? argv[1] : "ilana.config.json";
    const unsigned short port = argc > 2 ? static_cast<unsigned short>(std::stoi(argv[2])) : 0;
    try {
        asio::io_context io(1); // one thread: every request and query runs here
        ilana::Database database = ilana::Database::open(config);
        ilana::use_executor(database, io.get_executor());
        ilana::Connection db = database.default_connection();
        ensure_world(db);

        tcp::acceptor acceptor(io, {asio::ip::make_address("127.0.0.1"), port});
        std::printf("listening on http://127.0.0.1:%u (connection '%s', client %s)\n",
                    static_cast<unsigned>(acceptor.local_endpoint().port()), db.name().c_str(), db.client().c_str());
        std::fflush(stdout);
        asio::co_spawn(io, listen(std::move(acceptor), db), asio::detached);
        asio::signal_set stop(io, SIGINT, SIGTERM);
        stop.async_wait([&](const boost::system::error_code &, int) { io.stop(); });
        io.run();
        return 0;
    } catch (const ilana::ConfigError &e) {
        std::cerr << "ilana-async-http-example: " << e.what() << "\n";
        return 2;
    } catch (const std::exception &e) {
        std::cerr << "ilana-async-http-example: " << e.what() << "\n";
        return 1;
    }
}
