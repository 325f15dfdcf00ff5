// pool.cpp — pool workloads: pool_cycle_t1/t8/t32 and pool_query.
//
// The raw side is a naive pool: one mutex, one condition variable, a vector
// of idle connections (what one writes by hand). It has no timeouts, no
// fairness (a releasing thread may take the connection straight back), no
// validation, no metrics and no leak detection.
//
// pool_cycle: ilana's side is Connection::acquire() on a SQLite :memory:
// connection with pool max 4 (so no server is needed) and the Session's end
// — the public API a user has, with the pool's metrics and lease tracking.
// pool_query: 8 threads share 4 PostgreSQL sessions for SELECT 1.
#include "harness.hpp"
#include "raw_pg.hpp"

#include <sqlite3.h>

#include <atomic>
#include <condition_variable>
#include <memory>
#include <mutex>

namespace bench {
namespace {

template <class T> class NaivePool {
public:
    explicit NaivePool(std::vector<T> items) : idle_(std::move(items)), size_(idle_.size()) {}
    T acquire() {
        std::unique_lock<std::mutex> lock(mu_);
        cv_.wait(lock, [&] { return !idle_.empty(); });
        T t = idle_.back();
        idle_.pop_back();
        return t;
    }
    void release(T t) {
        {
            std::lock_guard<std::mutex> lock(mu_);
            idle_.push_back(t);
        }
        cv_.notify_one();
    }
    size_t idle() {
        std::lock_guard<std::mutex> lock(mu_);
        return idle_.size();
    }
    size_t size() const noexcept { return size_; }

private:
    std::mutex mu_;
    std::condition_variable cv_;
    std::vector<T> idle_;
    size_t size_;
};

struct RawSqlitePool {
    std::vector<sqlite3 *> dbs;
    std::unique_ptr<NaivePool<sqlite3 *>> pool;
    RawSqlitePool() {
        for (int i = 0; i < 4; ++i) {
            sqlite3 *db = nullptr;
            if (sqlite3_open_v2(":memory:", &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, nullptr) != SQLITE_OK)
                throw std::runtime_error("sqlite3_open_v2 failed");
            dbs.push_back(db);
        }
        pool = std::make_unique<NaivePool<sqlite3 *>>(dbs);
    }
    ~RawSqlitePool() {
        for (auto *db : dbs) sqlite3_close_v2(db);
    }
};

Sides cycle(Context &ctx, int threads) {
    const uint64_t total = ctx.scale(400000);
    const uint64_t per_thread = total / static_cast<uint64_t>(threads);
    auto raw = std::make_shared<RawSqlitePool>();
    ilana::Connection c = ctx.db().on("lite_pool4");
    Sides s;
    s.raw = [raw, threads, per_thread] {
        std::atomic<uint64_t> done{0};
        run_threads(threads, [&](int) {
            uint64_t n = 0;
            for (uint64_t i = 0; i < per_thread; ++i) {
                sqlite3 *db = raw->pool->acquire();
                n += db != nullptr;
                raw->pool->release(db);
            }
            done += n;
        });
        check_equal("raw cycles", static_cast<int64_t>(done.load()), static_cast<int64_t>(per_thread * threads));
        check_equal("raw idle after", static_cast<int64_t>(raw->pool->idle()), 4);
        return done.load();
    };
    s.ilana = [c, threads, per_thread] {
        std::atomic<uint64_t> done{0};
        run_threads(threads, [&](int) {
            uint64_t n = 0;
            for (uint64_t i = 0; i < per_thread; ++i) {
                ilana::Session session = c.acquire();
                n += !session.connection_name().empty();
            }
            done += n;
        });
        auto st = c.pool_status();
        check_equal("ilana cycles", static_cast<int64_t>(done.load()), static_cast<int64_t>(per_thread * threads));
        check_equal("ilana in use after", st.in_use, 0);
        if (st.max != 4) check_equal("ilana pool max", st.max, 4);
        return done.load();
    };
    s.note = "acquire + release, no query; raw = mutex + condition variable + vector of 4 sqlite3*";
    return s;
}

Sides pool_query(Context &ctx) {
    const int threads = 8;
    const uint64_t total = ctx.scale(40000);
    const uint64_t per_thread = total / threads;
    struct Raw {
        std::vector<std::unique_ptr<pg::Conn>> conns;
        std::unique_ptr<NaivePool<pg::Conn *>> pool;
    };
    auto raw = std::make_shared<Raw>();
    std::vector<pg::Conn *> ptrs;
    for (int i = 0; i < 4; ++i) {
        raw->conns.push_back(std::make_unique<pg::Conn>(ctx.pg_url()));
        raw->conns.back()->prepare("one", "SELECT 1", 0, nullptr);
        ptrs.push_back(raw->conns.back().get());
    }
    raw->pool = std::make_unique<NaivePool<pg::Conn *>>(ptrs);
    ilana::Connection c = ctx.db().on("pg_pool4");
    const int64_t want = static_cast<int64_t>(per_thread * threads);
    Sides s;
    s.raw = [raw, per_thread, want] {
        std::atomic<int64_t> sum{0};
        run_threads(threads, [&](int) {
            int64_t mine = 0;
            for (uint64_t i = 0; i < per_thread; ++i) {
                pg::Conn *conn = raw->pool->acquire();
                try {
                    PGresult *r = conn->run("one", 0, nullptr, nullptr, nullptr);
                    mine += pg::get_int4(r, 0, 0);
                    PQclear(r);
                } catch (...) {
                    raw->pool->release(conn);
                    throw;
                }
                raw->pool->release(conn);
            }
            sum += mine;
        });
        check_equal("raw sum", sum.load(), want);
        return static_cast<uint64_t>(want);
    };
    s.ilana = [c, per_thread, want] {
        std::atomic<int64_t> sum{0};
        run_threads(threads, [&](int) {
            int64_t mine = 0;
            for (uint64_t i = 0; i < per_thread; ++i) mine += c.query("SELECT 1").front().get<int64_t>(0);
            sum += mine;
        });
        check_equal("ilana sum", sum.load(), want);
        return static_cast<uint64_t>(want);
    };
    s.note = "8 threads, 4 sessions; raw = naive pool over 4 libpq connections (prepared, binary)";
    return s;
}

} // namespace

void add_pool_workloads(std::vector<Workload> &out) {
    out.push_back({"pool_cycle_t1", "", "acquire + release, 1 thread, pool of 4 (vs a naive mutex+condvar pool)",
                   0.5, [](Context &ctx) { return cycle(ctx, 1); }, {}});
    out.push_back({"pool_cycle_t8", "", "acquire + release, 8 threads, pool of 4", 1.0,
                   [](Context &ctx) { return cycle(ctx, 8); }, {}});
    out.push_back({"pool_cycle_t32", "", "acquire + release, 32 threads, pool of 4", 1.0,
                   [](Context &ctx) { return cycle(ctx, 32); }, {}});
    out.push_back({"pool_query", "pg", "8 threads, pool of 4 PostgreSQL sessions, 40 000 x SELECT 1", 0.97,
                   pool_query, {}});
}

} // namespace bench
