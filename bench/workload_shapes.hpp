// workload_shapes.hpp — what the workloads every database has share (pg.cpp,
// mysql.cpp, sqlite.cpp): the server tables and the ilana side, so that a
// workload file says only what differs: its raw side, its SQL, and how a row
// becomes an Item (`From`: item_from, or item_from_sqlite where `created` is
// INTEGER microseconds).
#pragma once

#include "harness.hpp"
#include "rows.hpp"

#include <ilana/database.hpp>

#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace bench {

// The two item tables of a server workload file (pg::Conn or my::Conn):
// `point` with 10 000 rows, `fetch` with ctx.scale(200 000), made once per
// process on a raw connection to `url` by create_items_table(conn, table,
// rows), and dropped when the run ends.
template <class Conn> struct ItemTables {
    std::shared_ptr<Conn> conn;
    std::string point, fetch;
};

template <class Conn>
ItemTables<Conn> &item_tables(Context &ctx, const std::string &url,
                              void (*create_items_table)(Conn &, const std::string &, int64_t)) {
    static ItemTables<Conn> t;
    if (t.conn) return t;
    t.conn = std::make_shared<Conn>(url);
    t.point = ctx.unique("bench_point");
    t.fetch = ctx.unique("bench_fetch");
    create_items_table(*t.conn, t.point, 10000);
    create_items_table(*t.conn, t.fetch, static_cast<int64_t>(ctx.scale(200000)));
    auto conn = t.conn;
    std::string a = t.point, b = t.fetch;
    ctx.at_exit([conn, a, b] { conn->exec("DROP TABLE IF EXISTS " + a + ", " + b); });
    return t;
}

using ItemFromRow = Item (*)(const ilana::Row &);

// The server tasks behind every session of `c`'s pool (after the warm-up:
// all of them idle, held at once so that each is asked): `task_sql`
// returns the id of the task serving the session it runs on.
inline std::vector<ServerTask> ilana_server_tasks(const ilana::Connection &c, const std::string &task_sql,
                                                  const std::vector<std::string> &names) {
    const ilana::Connection::PoolStatus st = c.pool_status();
    std::vector<ilana::Session> held;
    for (int i = 0; i < st.idle + st.in_use; ++i) held.push_back(c.acquire());
    std::vector<ServerTask> out;
    for (ilana::Session &s : held) out.push_back({static_cast<pid_t>(s.query(task_sql).front().get<int64_t>(0)), names});
    return out;
}

// Sides::server_tasks of a round-trip workload on the server at `url`: the
// tasks behind `c`'s sessions and the one `raw_task()` names for the raw
// side's connection, all called `names`. Empty (nothing pinned) unless the
// server is on loopback.
inline std::function<std::vector<ServerTask>()> round_trip_tasks(const std::string &url, ilana::Connection c,
                                                                 std::string task_sql, std::vector<std::string> names,
                                                                 std::function<int64_t()> raw_task) {
    if (!is_loopback_url(url)) return {};
    return [c, task_sql, names, raw_task] {
        std::vector<ServerTask> tasks = ilana_server_tasks(c, task_sql, names);
        tasks.push_back({static_cast<pid_t>(raw_task()), names});
        return tasks;
    };
}

// *_point: one Connection::query(sql, {id}) per id, the one row read into
// an Item; the sums checked as "ilana"; returns the number of queries.
template <ItemFromRow From>
RunFn ilana_point(ilana::Connection c, std::string sql, std::shared_ptr<std::vector<int64_t>> ids,
                  Checksum want) {
    return [c, ids, want, sql] {
        Checksum sum;
        for (int64_t id : *ids) {
            ilana::Result r = c.query(sql, {id});
            sum.add(From(r.front()));
        }
        sum.check("ilana", want);
        return static_cast<uint64_t>(ids->size());
    };
}

// *_point_prepared(_call): the same point selects through one Statement
// (Connection::prepare), each row read straight from the driver's batch
// (Statement::for_each, no owning Result); `held`: on one Session held for
// the whole run, else on a session leased per call.
template <ItemFromRow From>
RunFn ilana_point_prepared(ilana::Connection c, const std::string &sql, std::shared_ptr<std::vector<int64_t>> ids,
                           Checksum want, bool held) {
    ilana::Statement st = c.prepare(sql);
    return [c, st, ids, want, held] {
        Checksum sum;
        auto add = [&](const ilana::Row &row) { sum.add(From(row)); };
        if (held) {
            ilana::Session s = c.acquire();
            for (int64_t id : *ids) st.for_each(s, {id}, add);
        } else {
            for (int64_t id : *ids) st.for_each({id}, add);
        }
        sum.check("ilana", want);
        return static_cast<uint64_t>(ids->size());
    };
}

// *_fetch / *_fetch_query: every row of `sql` into a std::vector<Item>,
// through Connection::stream (`use_stream`) or Connection::query (the
// whole Result, then the vector); checked as "ilana". Sets s.ilana and
// s.note: "<raw_note> vs <stream_note>" or "<raw_note> vs Connection::query
// (whole Result, then the vector)".
template <ItemFromRow From>
void set_ilana_fetch(Sides &s, ilana::Connection c, std::string sql, Checksum want, bool use_stream,
                     const std::string &raw_note, const std::string &stream_note = "Connection::stream") {
    if (use_stream) {
        s.ilana = [c, sql, want] {
            std::vector<Item> items;
            c.stream(sql, {}, [&](const ilana::Row &row) { items.push_back(From(row)); });
            return checked_count("ilana", items, want);
        };
        s.note = raw_note + " vs " + stream_note;
    } else {
        s.ilana = [c, sql, want] {
            ilana::Result r = c.query(sql);
            std::vector<Item> items;
            items.reserve(r.size());
            for (ilana::Row row : r) items.push_back(From(row));
            return checked_count("ilana", items, want);
        };
        s.note = raw_note + " vs Connection::query (whole Result, then the vector)";
    }
}

} // namespace bench
