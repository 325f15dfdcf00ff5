// te_mysql.cpp — my_te_single, my_te_multi (te.hpp): the raw non-blocking
// MariaDB Connector/C sides on one thread with epoll.
//
// raw_mariadb: 16 connections made untimed (MYSQL_OPT_NONBLOCK set, then
// the ordinary blocking mysql_real_connect, which the option allows), one
// event loop over their sockets (Readiness: epoll); selects go to connections in FIFO order
// (ClientLoop), one at a time per connection, as text queries:
// mysql_real_query_start/_cont, then mysql_store_result_start/_cont, the
// one row read with mysql_fetch_row. Connector/C's non-blocking API has no
// pipelining: one statement at a time per connection is what it offers.
// raw_mariadb_stmt: the same loop with the select prepared once per
// connection (binary protocol, as ilana's driver runs a query with
// parameters): mysql_stmt_execute_start/_cont, then
// mysql_stmt_store_result_start/_cont and mysql_stmt_fetch.
#include "raw_mysql.hpp"
#include "te.hpp"

#include <cstdio>
#include <cstdlib>
#include <memory>

namespace bench::te {
namespace {

const std::string &world_table(Context &ctx) {
    static std::string table;
    if (!table.empty()) return table;
    table = ctx.unique("bench_world");
    if (!ctx.owns_run()) return table; // a memory child: the parent made it
    auto conn = std::make_shared<my::Conn>(ctx.mysql_url());
    conn->exec("DROP TABLE IF EXISTS " + table);
    conn->exec("CREATE TABLE " + table + " (id INT PRIMARY KEY, randomnumber INT NOT NULL) ENGINE=InnoDB");
    conn->exec("INSERT INTO " + table + " SELECT seq, " + randomnumber_sql("seq") + " FROM seq_1_to_" +
               std::to_string(kWorldRows));
    conn->exec("ANALYZE TABLE " + table);
    const std::string t = table;
    ctx.at_exit([conn, t] { conn->exec("DROP TABLE IF EXISTS " + t); });
    return table;
}

// One connection of the raw side and the select it has in flight.
struct NbConn {
    MYSQL *m = nullptr;
    enum class State { idle, query, store } state = State::idle;
    int wait = 0; // MYSQL_WAIT_* the current call waits for
    Query q{};
    char sql[160];
    // raw_mariadb_stmt: the select prepared once, its parameter and
    // result buffers bound once.
    MYSQL_STMT *stmt = nullptr;
    MYSQL_BIND param{}, out[2]{};
    long long param_id = 0, id = 0, number = 0;
};

[[noreturn]] void fail(MYSQL *m, const char *what) {
    throw std::runtime_error(std::string("mysql ") + what + ": " + mysql_error(m));
}

struct RawMy {
    std::vector<NbConn> conns;
    std::string prefix; // "SELECT ... WHERE id = " (text), or the whole select with ? (prepared)
    bool prepared = false;
    Readiness ready{kConnections};

    RawMy(const std::string &url, std::string select, bool prepare)
        : conns(kConnections), prefix(std::move(select)), prepared(prepare) {
        const my::Url u = my::parse_url(url);
        for (NbConn &c : conns) {
            c.m = mysql_init(nullptr);
            if (c.m == nullptr) throw std::runtime_error("mysql_init failed");
            mysql_options(c.m, MYSQL_OPT_NONBLOCK, nullptr);
            if (mysql_real_connect(c.m, u.host.c_str(), u.user.c_str(), u.password.c_str(), u.database.c_str(),
                                   u.port, nullptr, 0) == nullptr) {
                const std::string msg = mysql_error(c.m);
                close_all();
                throw std::runtime_error("mysql connect failed: " + msg);
            }
            if (prepared) prepare_select(c);
        }
        for (size_t i = 0; i < conns.size(); ++i) ready.watch(i, mysql_get_socket(conns[i].m));
    }

    void prepare_select(NbConn &c) {
        c.stmt = mysql_stmt_init(c.m);
        if (c.stmt == nullptr || mysql_stmt_prepare(c.stmt, prefix.data(), prefix.size()) != 0) fail(c.m, "stmt_prepare");
        c.param.buffer_type = MYSQL_TYPE_LONGLONG;
        c.param.buffer = &c.param_id;
        c.out[0].buffer_type = MYSQL_TYPE_LONGLONG;
        c.out[0].buffer = &c.id;
        c.out[1].buffer_type = MYSQL_TYPE_LONGLONG;
        c.out[1].buffer = &c.number;
        if (mysql_stmt_bind_param(c.stmt, &c.param) != 0 || mysql_stmt_bind_result(c.stmt, c.out) != 0)
            fail(c.m, "stmt_bind");
    }
    ~RawMy() { close_all(); }
    RawMy(const RawMy &) = delete;
    RawMy &operator=(const RawMy &) = delete;

    void close_all() {
        for (NbConn &c : conns) {
            if (c.stmt != nullptr) mysql_stmt_close(c.stmt);
            if (c.m != nullptr) mysql_close(c.m);
            c.stmt = nullptr;
            c.m = nullptr;
        }
    }

    // The select's result is stored: its row answers the select.
    static void stored(NbConn &c, MYSQL_RES *res, ClientLoop &loop) {
        if (res == nullptr) fail(c.m, "store_result");
        MYSQL_ROW row = mysql_fetch_row(res);
        if (row == nullptr || row[0] == nullptr || row[1] == nullptr || mysql_num_rows(res) != 1) {
            mysql_free_result(res);
            throw CheckFailure("raw_mariadb: no row for world id " + std::to_string(c.q.id));
        }
        const int64_t id = std::strtoll(row[0], nullptr, 10), number = std::strtoll(row[1], nullptr, 10);
        mysql_free_result(res);
        c.state = NbConn::State::idle;
        loop.answered(c.q, id, number);
    }

    // The prepared select's rows are stored: its one row answers it (no
    // I/O left: mysql_stmt_fetch reads the stored rows).
    static void stmt_stored(NbConn &c, int err, ClientLoop &loop) {
        if (err != 0) fail(c.m, "stmt_store_result");
        const int rc = mysql_stmt_fetch(c.stmt);
        if ((rc != 0 && rc != MYSQL_DATA_TRUNCATED) || mysql_stmt_num_rows(c.stmt) != 1) {
            mysql_stmt_free_result(c.stmt);
            throw CheckFailure("raw_mariadb_stmt: no row for world id " + std::to_string(c.q.id));
        }
        mysql_stmt_free_result(c.stmt);
        c.state = NbConn::State::idle;
        loop.answered(c.q, c.id, c.number);
    }

    // The query was sent and answered: store its result.
    void queried(NbConn &c, int err, ClientLoop &loop) const {
        if (err != 0) fail(c.m, prepared ? "stmt_execute" : "query");
        c.state = NbConn::State::store;
        if (prepared) {
            c.wait = mysql_stmt_store_result_start(&err, c.stmt);
            if (c.wait == 0) stmt_stored(c, err, loop);
            return;
        }
        MYSQL_RES *res = nullptr;
        c.wait = mysql_store_result_start(&res, c.m);
        if (c.wait == 0) stored(c, res, loop);
    }

    void feed(NbConn &c, ClientLoop &loop) const {
        if (c.state != NbConn::State::idle || !loop.next(c.q)) return;
        int err = 0;
        c.state = NbConn::State::query;
        if (prepared) {
            c.param_id = c.q.id;
            c.wait = mysql_stmt_execute_start(&err, c.stmt);
        } else {
            const int n =
                std::snprintf(c.sql, sizeof c.sql, "%s%lld", prefix.c_str(), static_cast<long long>(c.q.id));
            c.wait = mysql_real_query_start(&err, c.m, c.sql, static_cast<unsigned long>(n));
        }
        if (c.wait == 0) queried(c, err, loop);
    }

    // The socket is ready for what the call waits for: continue it.
    void resume(NbConn &c, int ready, ClientLoop &loop) const {
        int err = 0;
        if (c.state == NbConn::State::query) {
            c.wait = prepared ? mysql_stmt_execute_cont(&err, c.stmt, ready) : mysql_real_query_cont(&err, c.m, ready);
            if (c.wait == 0) queried(c, err, loop);
        } else if (prepared) {
            c.wait = mysql_stmt_store_result_cont(&err, c.stmt, ready);
            if (c.wait == 0) stmt_stored(c, err, loop);
        } else {
            MYSQL_RES *res = nullptr;
            c.wait = mysql_store_result_cont(&res, c.m, ready);
            if (c.wait == 0) stored(c, res, loop);
        }
    }

    // The connection's interest in writing follows what its call waits for.
    void follow(size_t i) {
        const NbConn &c = conns[i];
        ready.want_write(i, c.state != NbConn::State::idle && (c.wait & MYSQL_WAIT_WRITE) != 0);
    }

    uint64_t run(const Shape &shape) {
        ClientLoop loop(shape);
        while (!loop.done()) {
            for (size_t i = 0; i < conns.size() && loop.waiting(); ++i) {
                NbConn &c = conns[i];
                // A call answered at once leaves the connection idle again.
                while (c.state == NbConn::State::idle && loop.waiting()) feed(c, loop);
                follow(i);
            }
            // A select answered at once (the reply already there when the
            // call read) may have been the run's last: nothing to wait for.
            if (loop.done()) break;
            // No timeouts are set on these connections: MYSQL_WAIT_TIMEOUT
            // is never asked for.
            for (const epoll_event &ev : ready.wait()) {
                NbConn &c = conns[ev.data.u64];
                if (c.state == NbConn::State::idle) continue;
                int got = 0;
                if ((ev.events & (EPOLLIN | EPOLLERR | EPOLLHUP)) != 0) got |= MYSQL_WAIT_READ;
                if ((ev.events & EPOLLOUT) != 0) got |= MYSQL_WAIT_WRITE;
                // The socket is always watched for reading: continue the
                // call only for what it waits for.
                if ((got & c.wait) == 0 && (ev.events & (EPOLLERR | EPOLLHUP)) == 0) continue;
                resume(c, got, loop);
                follow(ev.data.u64);
            }
        }
        return loop.finish(prepared ? "raw_mariadb_stmt" : "raw_mariadb");
    }
};

// `prepared`: raw_mariadb_stmt, the binary protocol ilana's driver uses for
// a query with parameters.
Side raw_side(Context &ctx, const Shape &shape, bool prepared) {
    Side side;
    side.key = prepared ? "raw_mariadb_stmt" : "raw_mariadb";
    side.label = prepared ? "raw Connector/C non-blocking prepared (mysql_stmt_execute_start), 1 thread, epoll"
                          : "raw Connector/C non-blocking text query, 1 thread, epoll, 1 in flight per connection";
    const std::string url = ctx.mysql_url(),
                      select = prepared ? select_sql(shape, "?")
                                        : "SELECT id, randomnumber FROM " + shape.table + " WHERE id = ";
    side.open = [url, select, shape, prepared]() -> RunFn {
        auto raw = std::make_shared<RawMy>(url, select, prepared);
        return [raw, shape] { return raw->run(shape); };
    };
    return side;
}

} // namespace

SideSet my_sides(Context &ctx, int per_request) {
    const Shape shape = make_shape(ctx, per_request, per_request == 1 ? kSingleRequests : kMultiRequests,
                                   world_table(ctx));
    SideSet set;
    set.sides.push_back(raw_side(ctx, shape, false));
    set.sides.push_back(raw_side(ctx, shape, true));
    set.sides.push_back(ilana_sync_side(ctx, "my_te", shape));
    set.sides.push_back(ilana_sync_per_client_side(ctx, "my_te", shape));
    set.sides.push_back(ilana_async_side(ctx, "my_te", shape));
    set.ratios = ratios("raw_mariadb");
    set.ratios.insert(set.ratios.begin() + 1, {"raw_mariadb_stmt", "raw_mariadb", 0, false});
    set.ratios.push_back({"ilana_async", "raw_mariadb_stmt", 0, false});
    set.note = "world table of 10 000 rows; requests checked (ids and randomnumbers); unpinned; ilana's driver "
               "runs a query with parameters as a prepared statement (as raw_mariadb_stmt)";
    return set;
}

} // namespace bench::te
