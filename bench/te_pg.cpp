// te_pg.cpp — pg_te_single, pg_te_multi (te.hpp): the raw non-blocking
// libpq sides, one at a time and pipelined, on one thread with epoll.
//
// Both raw sides: 16 connections made untimed (PQconnectdb, the select
// prepared with a binary int4 parameter, then PQsetnonblocking), one event
// loop over their sockets; selects go to connections in FIFO order
// (ClientLoop) with PQsendQueryPrepared (binary parameter and results),
// answers are read with PQconsumeInput / PQisBusy / PQgetResult.
//   raw_libpq     one select in flight per connection;
//   raw_pipeline  PQenterPipelineMode: up to kPipelineDepth selects in
//                 flight per connection, a PQpipelineSync after each batch
//                 sent.
#include "raw_pg.hpp"
#include "te.hpp"

#include <deque>
#include <memory>

namespace bench::te {
namespace {

// Selects in flight on one pipelined connection at most: what the client
// queue holds for it is sent, up to this many.
constexpr size_t kPipelineDepth = 64;

const std::string &world_table(Context &ctx) {
    static std::string table;
    if (!table.empty()) return table;
    table = ctx.unique("bench_world");
    if (!ctx.owns_run()) return table; // a memory child: the parent made it
    auto conn = std::make_shared<pg::Conn>(ctx.pg_url());
    conn->exec("DROP TABLE IF EXISTS " + table);
    conn->exec("CREATE TABLE " + table + " (id int PRIMARY KEY, randomnumber int NOT NULL)");
    conn->exec("INSERT INTO " + table + " SELECT g, " + randomnumber_sql("g") + " FROM generate_series(1, " +
               std::to_string(kWorldRows) + ") g");
    conn->exec("ANALYZE " + table);
    const std::string t = table;
    ctx.at_exit([conn, t] { conn->exec("DROP TABLE IF EXISTS " + t); });
    return table;
}

[[noreturn]] void fail(PGconn *c, const char *what) {
    throw std::runtime_error(std::string("libpq ") + what + ": " + PQerrorMessage(c));
}

// One connection of a raw side, with what it has in flight (in order).
struct NbConn {
    std::unique_ptr<pg::Conn> conn;
    // A select, or (select.request == kSync) the sync that ends a batch.
    static constexpr uint32_t kSync = UINT32_MAX;
    std::deque<Query> in_flight;
    bool answered_front = false; // the front select's rows came (its NULL not yet)
    bool want_write = false;     // PQflush left data to send
};

struct RawPg {
    std::vector<NbConn> conns;
    bool pipeline = false;
    Readiness ready{kConnections};

    RawPg(const std::string &url, const std::string &sql, bool pipelined) : conns(kConnections), pipeline(pipelined) {
        const Oid types[1] = {pg::kInt4};
        for (size_t i = 0; i < conns.size(); ++i) {
            NbConn &c = conns[i];
            c.conn = std::make_unique<pg::Conn>(url);
            c.conn->prepare("world", sql.c_str(), 1, types);
            if (PQsetnonblocking(c.conn->get(), 1) != 0) fail(c.conn->get(), "PQsetnonblocking");
            if (pipeline && PQenterPipelineMode(c.conn->get()) != 1) fail(c.conn->get(), "PQenterPipelineMode");
            ready.watch(i, PQsocket(c.conn->get()));
        }
    }

    static void send(NbConn &c, const Query &q, uint32_t *be) {
        *be = htobe32(static_cast<uint32_t>(q.id));
        const char *values[1] = {reinterpret_cast<const char *>(be)};
        const int lengths[1] = {4}, formats[1] = {1};
        if (PQsendQueryPrepared(c.conn->get(), "world", 1, values, lengths, formats, 1) != 1)
            fail(c.conn->get(), "PQsendQueryPrepared");
        c.in_flight.push_back(q);
    }

    static void flush(NbConn &c) {
        const int rc = PQflush(c.conn->get());
        if (rc < 0) fail(c.conn->get(), "PQflush");
        c.want_write = rc == 1;
    }

    // Sends what the connection may take from the client queue.
    void feed(NbConn &c, ClientLoop &loop) {
        Query q;
        uint32_t be;
        if (!pipeline) {
            if (!c.in_flight.empty() || !loop.next(q)) return;
            send(c, q, &be);
        } else {
            bool sent = false;
            while (c.in_flight.size() < kPipelineDepth && loop.next(q)) {
                send(c, q, &be);
                sent = true;
            }
            if (!sent) return;
            if (PQpipelineSync(c.conn->get()) != 1) fail(c.conn->get(), "PQpipelineSync");
            c.in_flight.push_back({NbConn::kSync, 0});
        }
        flush(c);
    }

    // Reads every answer the connection has complete.
    static void drain(NbConn &c, ClientLoop &loop) {
        PGconn *pc = c.conn->get();
        if (PQconsumeInput(pc) != 1) fail(pc, "PQconsumeInput");
        while (!c.in_flight.empty() && PQisBusy(pc) == 0) {
            PGresult *r = PQgetResult(pc);
            Query &front = c.in_flight.front();
            if (r == nullptr) {
                // The end of the front select's results (libpq reports a
                // sync without a NULL after it).
                if (front.request == NbConn::kSync)
                    throw std::runtime_error("libpq: end of results where the pipeline sync was expected");
                if (!c.answered_front)
                    throw std::runtime_error("libpq: no result for world row " + std::to_string(front.id));
                c.in_flight.pop_front();
                c.answered_front = false;
                continue;
            }
            const ExecStatusType st = PQresultStatus(r);
            if (st == PGRES_PIPELINE_SYNC && front.request == NbConn::kSync) {
                PQclear(r);
                c.in_flight.pop_front();
                continue;
            }
            if (st != PGRES_TUPLES_OK || front.request == NbConn::kSync || c.answered_front || PQntuples(r) != 1) {
                const std::string msg = std::string(PQresStatus(st)) + " " + PQresultErrorMessage(r);
                PQclear(r);
                throw std::runtime_error("libpq: unexpected result for world row " + std::to_string(front.id) +
                                         ": " + msg);
            }
            const int64_t id = pg::get_int4(r, 0, 0), number = pg::get_int4(r, 0, 1);
            PQclear(r);
            c.answered_front = true;
            loop.answered(front, id, number);
        }
    }

    uint64_t run(const Shape &shape, const char *side) {
        ClientLoop loop(shape);
        while (!loop.done()) {
            for (size_t i = 0; i < conns.size() && loop.waiting(); ++i) {
                feed(conns[i], loop);
                ready.want_write(i, conns[i].want_write);
            }
            for (const epoll_event &ev : ready.wait()) {
                NbConn &c = conns[ev.data.u64];
                if ((ev.events & EPOLLOUT) != 0) {
                    flush(c);
                    ready.want_write(ev.data.u64, c.want_write);
                }
                if ((ev.events & (EPOLLIN | EPOLLERR | EPOLLHUP)) != 0) drain(c, loop);
            }
        }
        return loop.finish(side);
    }
};

Side raw_side(Context &ctx, const Shape &shape, bool pipeline) {
    Side side;
    side.key = pipeline ? "raw_pipeline" : "raw_libpq";
    side.label = pipeline ? "raw libpq pipeline mode, 1 thread, epoll, <= 64 in flight per connection"
                          : "raw libpq non-blocking, 1 thread, epoll, 1 in flight per connection";
    const std::string url = ctx.pg_url(), sql = select_sql(shape, "$1");
    const char *name = pipeline ? "raw_pipeline" : "raw_libpq";
    side.open = [url, sql, shape, pipeline, name]() -> RunFn {
        auto raw = std::make_shared<RawPg>(url, sql, pipeline);
        return [raw, shape, name] { return raw->run(shape, name); };
    };
    return side;
}

} // namespace

SideSet pg_sides(Context &ctx, int per_request) {
    const Shape shape = make_shape(ctx, per_request, per_request == 1 ? kSingleRequests : kMultiRequests,
                                   world_table(ctx));
    SideSet set;
    set.sides.push_back(raw_side(ctx, shape, false));
    set.sides.push_back(raw_side(ctx, shape, true));
    set.sides.push_back(ilana_sync_side(ctx, "pg_te", shape));
    set.sides.push_back(ilana_sync_per_client_side(ctx, "pg_te", shape));
    set.sides.push_back(ilana_async_side(ctx, "pg_te", shape));
    set.ratios = ratios("raw_libpq");
    set.note = "world table of 10 000 rows; requests checked (ids and randomnumbers); unpinned";
    return set;
}

} // namespace bench::te
