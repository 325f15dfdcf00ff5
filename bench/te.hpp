// te.hpp — the TechEmpower shapes of issue 21: pg_te_single, pg_te_multi,
// my_te_single, my_te_multi (te.cpp, te_pg.cpp, te_mysql.cpp).
//
// A request is 1 ("single query") or 20 ("multiple queries") point selects
// by random id on a `world` table (id 1..10 000, randomnumber int), answered
// when all its selects came back. 256 clients each keep one request in
// flight and send the next when it is answered (a closed loop), over 16
// server connections, until the run's requests are all answered; the
// figure is requests/s. Every side checks the sums of the ids and
// randomnumbers it got against the expected ones, and that each answer is
// the row of the id asked.
//
// Sides (Side, harness.hpp), all in one run:
//   raw_libpq     libpq non-blocking, 16 connections, one thread, epoll;
//                 one statement at a time per connection (te_pg.cpp)
//   raw_pipeline  the same in pipeline mode: many statements in flight per
//                 connection (te_pg.cpp)
//   raw_mariadb   Connector/C non-blocking (mysql_real_query_start/_cont),
//                 16 connections, one thread, epoll (te_mysql.cpp)
//   raw_mariadb_stmt  the same with the select prepared (binary protocol,
//                 mysql_stmt_execute_start/_cont), as ilana's driver runs it
//   ilana_sync    16 threads, each a closed loop of 16 clients' requests,
//                 Connection::query per select on a pool of max 16 (te.cpp)
//   ilana_sync_per_client  256 threads, one per client, on the same pool
//   ilana_async   one thread running an io_context (ilana::use_executor):
//                 the 256 clients are completion handlers, each select a
//                 Connection::async_query on the same pool of max 16 (te.cpp)
#pragma once

#include "harness.hpp"

#include <sys/epoll.h>

#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <vector>

namespace bench::te {

constexpr int kClients = 256;     // requests in flight
constexpr int kConnections = 16;  // server connections of every side
constexpr int64_t kWorldRows = 10000;

// The world table's randomnumber of row `id`: fixed, so that every answer
// can be checked (TechEmpower's is random; the shape of the work is the same).
constexpr int64_t randomnumber_of(int64_t id) noexcept { return (id * 7919) % kWorldRows + 1; }
// The same as SQL over a column or series named `g` (both servers).
inline std::string randomnumber_sql(const std::string &g) {
    return "(" + g + " * 7919) % " + std::to_string(kWorldRows) + " + 1";
}

// One run of a shape: `requests` requests of `per_request` selects; the
// ids of request r are ids[r * per_request ...].
struct Shape {
    int per_request = 1;
    size_t requests = 0;
    std::shared_ptr<const std::vector<int64_t>> ids;
    int64_t want_ids = 0, want_numbers = 0; // the sums every side must get
    std::string table;                      // the run's world table
};
Shape make_shape(Context &ctx, int per_request, size_t requests, const std::string &table);

// One select a raw side sends: the request it belongs to and its id.
struct Query {
    uint32_t request;
    int64_t id;
};

// The clients of a raw side's event loop (one thread): the selects to send
// in FIFO order across connections, the answers per request, and the next
// request started when one is answered (the closed loop of kClients). An
// ilana async side on one io_context thread can drive the same loop:
// submit every select next() hands out with async_query, and in each
// completion call answered(), then submit what next() hands out again.
class ClientLoop {
public:
    explicit ClientLoop(const Shape &shape);
    // The next select to send, if any is waiting.
    bool next(Query &out) {
        if (queue_.empty()) return false;
        out = queue_.front();
        queue_.pop_front();
        return true;
    }
    bool waiting() const noexcept { return !queue_.empty(); }
    // The answer to `q`: the row's id and randomnumber. Throws CheckFailure
    // when the row is not the one asked.
    void answered(const Query &q, int64_t id, int64_t randomnumber);
    bool done() const noexcept { return answered_ == shape_.requests; }
    // Checks the sums (CheckFailure naming `side`); returns the requests.
    uint64_t finish(const char *side) const;

private:
    void start(size_t request);
    const Shape &shape_;
    std::deque<Query> queue_;
    std::vector<uint8_t> left_; // selects still unanswered, per request
    size_t started_ = 0, answered_ = 0;
    int64_t ids_ = 0, numbers_ = 0;
};

// The raw sides' wait for their sockets: epoll, level-triggered, each
// connection's socket registered once for reading (an idle connection gets
// no data, so it wakes nothing) and for writing only while a send is
// pending. One epoll_wait per turn of the loop, no interest change per
// statement: the cheapest readiness wait plain code has (Asio's reactor is
// epoll too).
class Readiness {
public:
    explicit Readiness(size_t connections);
    ~Readiness();
    Readiness(const Readiness &) = delete;
    Readiness &operator=(const Readiness &) = delete;
    void watch(size_t index, int fd);
    // Adds or removes the interest in writing (a system call only on change).
    void want_write(size_t index, bool on);
    // Waits until a socket is ready; returns the ready ones (epoll_event:
    // data.u64 the index, events EPOLLIN/OUT/ERR/HUP).
    const std::vector<struct epoll_event> &wait();

private:
    int epfd_ = -1;
    std::vector<int> fds_;
    std::vector<bool> writing_;
    std::vector<struct epoll_event> ready_;
};

// The ilana sync side on `connection` (pool max 16: Context::db()): 16
// threads, thread t answering requests t, t + 16, ... one after the other,
// each select a Connection::query(sql, {id}).
Side ilana_sync_side(Context &ctx, const std::string &connection, const Shape &shape);
// The same with a thread per client (256 threads, 240 of them waiting for
// the pool at any time): what a blocking host needs to hold all the
// requests at once, the cost the async API exists to avoid.
Side ilana_sync_per_client_side(Context &ctx, const std::string &connection, const Shape &shape);
// The ilana async side on `connection`: one thread runs the process's one
// io_context, on which the Database's async I/O runs too; ClientLoop hands
// out the selects, each a Connection::async_query(sql, {id}) whose
// completion answers it and sends what the loop hands out next.
Side ilana_async_side(Context &ctx, const std::string &connection, const Shape &shape);

// The SQL of one select; `placeholder` is "$1" (libpq) or "?" (ilana).
inline std::string select_sql(const Shape &s, const char *placeholder) {
    return "SELECT id, randomnumber FROM " + s.table + " WHERE id = " + placeholder;
}

// The ratios every TechEmpower workload prints, against `raw` (its
// database's raw one-at-a-time side); those of a side a run does not have
// are left out.
std::vector<SideRatio> ratios(const std::string &raw);

// The sides of the PostgreSQL workloads (te_pg.cpp) and the MariaDB ones
// (te_mysql.cpp), `per_request` selects a request.
SideSet pg_sides(Context &ctx, int per_request);
SideSet my_sides(Context &ctx, int per_request);

// Requests of a run: `single` and `multi` shapes at full size (a tenth
// with --quick).
constexpr size_t kSingleRequests = 20000, kMultiRequests = 2000;

} // namespace bench::te
