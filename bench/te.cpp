// te.cpp — what the TechEmpower workloads of both databases share (te.hpp):
// the shape, the raw sides' client loop, the ilana sync side, the ratios.
#include "te.hpp"

#include <ilana/async.hpp>
#include <ilana/database.hpp>

#include <boost/asio/io_context.hpp>

#include <atomic>
#include <functional>
#include <cerrno>
#include <cstring>

#include <unistd.h>

namespace bench {

namespace te {

Shape make_shape(Context &ctx, int per_request, size_t requests, const std::string &table) {
    Shape s;
    s.per_request = per_request;
    s.requests = ctx.scale(requests);
    auto ids = std::make_shared<std::vector<int64_t>>(
        random_ids(s.requests * static_cast<size_t>(per_request), kWorldRows, 21));
    for (int64_t id : *ids) {
        s.want_ids += id;
        s.want_numbers += randomnumber_of(id);
    }
    s.ids = std::move(ids);
    s.table = table;
    return s;
}

ClientLoop::ClientLoop(const Shape &shape) : shape_(shape), left_(shape.requests, 0) {
    const size_t first = std::min<size_t>(kClients, shape.requests);
    for (size_t r = 0; r < first; ++r) start(r);
}

void ClientLoop::start(size_t request) {
    const size_t base = request * static_cast<size_t>(shape_.per_request);
    left_[request] = static_cast<uint8_t>(shape_.per_request);
    for (int k = 0; k < shape_.per_request; ++k)
        queue_.push_back({static_cast<uint32_t>(request), (*shape_.ids)[base + static_cast<size_t>(k)]});
    started_ = request + 1;
}

void ClientLoop::answered(const Query &q, int64_t id, int64_t randomnumber) {
    if (id != q.id || randomnumber != randomnumber_of(q.id))
        throw CheckFailure("raw: asked for world row " + std::to_string(q.id) + ", got id " + std::to_string(id) +
                           " randomnumber " + std::to_string(randomnumber));
    ids_ += id;
    numbers_ += randomnumber;
    if (--left_[q.request] == 0) {
        ++answered_;
        // The client of this request sends its next one.
        if (started_ < shape_.requests) start(started_);
    }
}

uint64_t ClientLoop::finish(const char *side) const {
    const std::string s = side;
    check_equal((s + " sum of ids").c_str(), ids_, shape_.want_ids);
    check_equal((s + " sum of randomnumbers").c_str(), numbers_, shape_.want_numbers);
    return static_cast<uint64_t>(answered_);
}

namespace {
constexpr int kStallMs = 30000;
} // namespace

Readiness::Readiness(size_t connections)
    : epfd_(::epoll_create1(EPOLL_CLOEXEC)), fds_(connections, -1), writing_(connections, false),
      ready_(connections) {
    if (epfd_ < 0) throw std::runtime_error(std::string("epoll_create1: ") + std::strerror(errno));
}

Readiness::~Readiness() { ::close(epfd_); }

void Readiness::watch(size_t index, int fd) {
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.u64 = index;
    if (::epoll_ctl(epfd_, EPOLL_CTL_ADD, fd, &ev) != 0)
        throw std::runtime_error(std::string("epoll_ctl ADD: ") + std::strerror(errno));
    fds_[index] = fd;
}

void Readiness::want_write(size_t index, bool on) {
    if (writing_[index] == on) return;
    epoll_event ev{};
    ev.events = EPOLLIN | (on ? EPOLLOUT : 0u);
    ev.data.u64 = index;
    if (::epoll_ctl(epfd_, EPOLL_CTL_MOD, fds_[index], &ev) != 0)
        throw std::runtime_error(std::string("epoll_ctl MOD: ") + std::strerror(errno));
    writing_[index] = on;
}

const std::vector<epoll_event> &Readiness::wait() {
    ready_.resize(fds_.size());
    int n;
    do {
        n = ::epoll_wait(epfd_, ready_.data(), static_cast<int>(ready_.size()), kStallMs);
    } while (n < 0 && errno == EINTR);
    if (n < 0) throw std::runtime_error(std::string("epoll_wait: ") + std::strerror(errno));
    // A run waiting for an answer that never comes fails instead of hanging
    // (a loopback select answers in well under a millisecond).
    if (n == 0)
        throw std::runtime_error("no connection of the raw side became ready in " + std::to_string(kStallMs / 1000) +
                                 " s");
    ready_.resize(static_cast<size_t>(n));
    return ready_;
}

namespace {
Side sync_side(Context &ctx, const std::string &connection, const Shape &shape, int threads, const char *key,
               const char *label) {
    Side side;
    side.key = key;
    side.label = label;
    Context *c = &ctx;
    side.open = [c, connection, shape, threads, key = side.key]() -> RunFn {
        ilana::Connection conn = c->db().on(connection);
        const std::string sql = select_sql(shape, "?");
        return [conn, sql, shape, threads, key] {
            std::atomic<int64_t> ids{0}, numbers{0};
            run_threads(threads, [&](int t) {
                int64_t my_ids = 0, my_numbers = 0;
                for (size_t r = static_cast<size_t>(t); r < shape.requests; r += static_cast<size_t>(threads)) {
                    const size_t base = r * static_cast<size_t>(shape.per_request);
                    for (int k = 0; k < shape.per_request; ++k) {
                        const int64_t want = (*shape.ids)[base + static_cast<size_t>(k)];
                        ilana::Result res = conn.query(sql, {want});
                        const ilana::Row row = res.front();
                        const int64_t id = row.get<int64_t>(0), number = row.get<int64_t>(1);
                        if (id != want || number != randomnumber_of(want))
                            throw CheckFailure(key + ": asked for world row " + std::to_string(want) + ", got id " +
                                               std::to_string(id) + " randomnumber " + std::to_string(number));
                        my_ids += id;
                        my_numbers += number;
                    }
                }
                ids += my_ids;
                numbers += my_numbers;
            });
            check_equal((key + " sum of ids").c_str(), ids.load(), shape.want_ids);
            check_equal((key + " sum of randomnumbers").c_str(), numbers.load(), shape.want_numbers);
            return static_cast<uint64_t>(shape.requests);
        };
    };
    return side;
}
} // namespace

Side ilana_sync_side(Context &ctx, const std::string &connection, const Shape &shape) {
    return sync_side(ctx, connection, shape, kConnections, "ilana_sync",
                     "ilana sync, 16 threads, Connection::query, pool max 16");
}

Side ilana_sync_per_client_side(Context &ctx, const std::string &connection, const Shape &shape) {
    return sync_side(ctx, connection, shape, kClients, "ilana_sync_per_client",
                     "ilana sync, a thread per client (256), Connection::query, pool max 16");
}

namespace {
// The io_context of every ilana async side of the process: a Database's
// async I/O is given its executor once (use_executor), before its first
// async call, and every workload of the run shares the bench's Database.
boost::asio::io_context &bench_io(ilana::Database &db) {
    static boost::asio::io_context io(1);
    static bool given = false;
    if (!given) {
        ilana::use_executor(db, io.get_executor());
        given = true;
    }
    return io;
}
} // namespace

Side ilana_async_side(Context &ctx, const std::string &connection, const Shape &shape) {
    Side side;
    side.key = "ilana_async";
    side.label = "ilana async, 1 thread (io_context), Connection::async_query, pool max 16";
    Context *c = &ctx;
    side.open = [c, connection, shape]() -> RunFn {
        boost::asio::io_context *io = &bench_io(c->db());
        ilana::Connection conn = c->db().on(connection);
        const std::string sql = select_sql(shape, "?");
        return [io, conn, sql, shape] {
            ClientLoop loop(shape);
            std::exception_ptr failure;
            // Sends every select the loop hands out; each completion
            // answers its select and sends what the loop has next.
            std::function<void()> send = [&] {
                Query q;
                while (!failure && loop.next(q))
                    conn.async_query(sql, {q.id}, [&, q](std::exception_ptr e, ilana::Result r) {
                        if (failure) return;
                        try {
                            if (e) std::rethrow_exception(e);
                            const ilana::Row row = r.front();
                            loop.answered(q, row.get<int64_t>(0), row.get<int64_t>(1));
                        } catch (...) {
                            failure = std::current_exception();
                            return;
                        }
                        send();
                    });
            };
            send();
            io->restart();
            io->run();
            if (failure) std::rethrow_exception(failure);
            return loop.finish("ilana_async");
        };
    };
    return side;
}

std::vector<SideRatio> ratios(const std::string &raw) {
    return {
        {"ilana_sync", raw, 0, false},
        {"raw_pipeline", raw, 0, false},
        // Issue 21's targets for the ilana async side (printed once the
        // side exists): >= 1.0x ilana sync on 16 threads with <= 1/4 of
        // its resident memory, >= 0.95 of the raw non-blocking code.
        {"ilana_async", "ilana_sync", 1.0, false},
        {"ilana_async", raw, 0.95, false},
        {"ilana_async", "ilana_sync", 0.25, true},
        // The memory a blocking host spends to hold the 256 requests at
        // once (a thread each), against the async side's: no target.
        {"ilana_async", "ilana_sync_per_client", 0, true},
    };
}

} // namespace te

void add_te_workloads(std::vector<Workload> &out) {
    out.push_back({"pg_te_single", "pg",
                   "TechEmpower single query: 20 000 requests of 1 point select, 256 clients, 16 connections",
                   0, {}, {}, [](Context &ctx) { return te::pg_sides(ctx, 1); }});
    out.push_back({"pg_te_multi", "pg",
                   "TechEmpower multiple queries: 2 000 requests of 20 point selects, 256 clients, 16 connections",
                   0, {}, {}, [](Context &ctx) { return te::pg_sides(ctx, 20); }});
    out.push_back({"my_te_single", "mysql", "pg_te_single on MariaDB", 0, {}, {},
                   [](Context &ctx) { return te::my_sides(ctx, 1); }});
    out.push_back({"my_te_multi", "mysql", "pg_te_multi on MariaDB", 0, {}, {},
                   [](Context &ctx) { return te::my_sides(ctx, 20); }});
}

} // namespace bench
