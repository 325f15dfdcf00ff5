// pg.cpp — PostgreSQL workloads: pg_select1, pg_point, pg_fetch(_query).
//
// Raw side: libpq with prepared statements, binary parameters and binary
// results, whole results (PQexecPrepared) — libpq's fastest ordinary form.
// ilana side: Connection::query / stream on the "pg" connection of the
// generated config (pool, driver plugin over the C ABI, typed fields).
#include "harness.hpp"
#include "raw_pg.hpp"
#include "rows.hpp"
#include "workload_shapes.hpp"

#include <memory>

namespace bench {
namespace {

using PgTables = ItemTables<pg::Conn>;

// The tables of this run, made once for all PostgreSQL workloads.
PgTables &pg_tables(Context &ctx) { return item_tables<pg::Conn>(ctx, ctx.pg_url(), pg::create_items_table); }

// Round-trip workloads: both sides' backends, pinned away from the client
// (affinity.hpp).
std::function<std::vector<ServerTask>()> backends(Context &ctx, std::shared_ptr<pg::Conn> raw, ilana::Connection c) {
    return round_trip_tasks(ctx.pg_url(), c, "SELECT pg_backend_pid()", {"postgres"},
                            [raw] { return static_cast<int64_t>(PQbackendPID(raw->get())); });
}

Sides select1(Context &ctx) {
    const int n = static_cast<int>(ctx.scale(20000));
    auto raw = std::make_shared<pg::Conn>(ctx.pg_url());
    const Oid types[1] = {pg::kInt4};
    raw->prepare("s1", "SELECT $1::int", 1, types);
    ilana::Connection c = ctx.db().on("pg");
    const int64_t want = static_cast<int64_t>(n) * (n - 1) / 2;
    Sides s;
    s.raw = [raw, n, want] {
        int64_t sum = 0;
        const int lengths[1] = {4}, formats[1] = {1};
        for (int i = 0; i < n; ++i) {
            uint32_t be = htobe32(static_cast<uint32_t>(i));
            const char *values[1] = {reinterpret_cast<const char *>(&be)};
            PGresult *r = raw->run("s1", 1, values, lengths, formats);
            sum += pg::get_int4(r, 0, 0);
            PQclear(r);
        }
        check_equal("raw sum", sum, want);
        return static_cast<uint64_t>(n);
    };
    s.ilana = [c, n, want] {
        int64_t sum = 0;
        for (int i = 0; i < n; ++i) {
            ilana::Result r = c.query("SELECT ?::int", {i});
            sum += r.front().get<int64_t>(0);
        }
        check_equal("ilana sum", sum, want);
        return static_cast<uint64_t>(n);
    };
    s.note = "raw PQexecPrepared (binary int4 in/out) vs Connection::query(\"SELECT ?::int\", {i}) (a pool lease per query)";
    s.server_tasks = backends(ctx, raw, c);
    return s;
}

// `prepared`: the ilana side through one prepared Statement on a held
// Session (rows read from the driver's batch), instead of Connection::query.
Sides point(Context &ctx, bool prepared) {
    PgTables &t = pg_tables(ctx);
    auto ids = std::make_shared<std::vector<int64_t>>(random_ids(ctx.scale(20000), 10000));
    const Checksum want = Checksum::expected_for(*ids);
    auto raw = std::make_shared<pg::Conn>(ctx.pg_url());
    const std::string sql = "SELECT id, name, score, created FROM " + t.point + " WHERE id = $1";
    const Oid types[1] = {pg::kInt4};
    raw->prepare("pt", sql.c_str(), 1, types);
    ilana::Connection c = ctx.db().on("pg");
    const std::string isql = "SELECT id, name, score, created FROM " + t.point + " WHERE id = ?";
    Sides s;
    s.raw = [raw, ids, want] {
        Checksum sum;
        const int lengths[1] = {4}, formats[1] = {1};
        for (int64_t id : *ids) {
            uint32_t be = htobe32(static_cast<uint32_t>(id));
            const char *values[1] = {reinterpret_cast<const char *>(&be)};
            PGresult *r = raw->run("pt", 1, values, lengths, formats);
            Item it;
            it.id = pg::get_int4(r, 0, 0);
            it.name.assign(PQgetvalue(r, 0, 1), static_cast<size_t>(PQgetlength(r, 0, 1)));
            it.score = pg::get_float8(r, 0, 2);
            it.created_us = pg::get_timestamptz(r, 0, 3);
            PQclear(r);
            sum.add(it);
        }
        sum.check("raw", want);
        return static_cast<uint64_t>(ids->size());
    };
    s.ilana = prepared ? ilana_point_prepared<item_from>(c, isql, ids, want, true)
                       : ilana_point<item_from>(c, isql, ids, want);
    s.note = "random ids in a 10 000-row table; each side builds an Item {int64, string, double, timestamp}";
    s.server_tasks = backends(ctx, raw, c);
    return s;
}

// pg_fetch / pg_fetch_query: every row of the fetch table into a
// std::vector<Item>; `use_stream` picks Connection::stream or query().
Sides fetch(Context &ctx, bool use_stream) {
    PgTables &t = pg_tables(ctx);
    const int64_t n = static_cast<int64_t>(ctx.scale(200000));
    const Checksum want = Checksum::expected_range(n);
    auto raw = std::make_shared<pg::Conn>(ctx.pg_url());
    const std::string sql = "SELECT id, name, score, created FROM " + t.fetch;
    raw->prepare("all", sql.c_str(), 0, nullptr);
    ilana::Connection c = ctx.db().on("pg");
    Sides s;
    s.raw = [raw, want] {
        PGresult *r = raw->run("all", 0, nullptr, nullptr, nullptr);
        const int rows = PQntuples(r);
        std::vector<Item> items;
        items.reserve(static_cast<size_t>(rows));
        for (int i = 0; i < rows; ++i) {
            Item it;
            it.id = pg::get_int4(r, i, 0);
            it.name.assign(PQgetvalue(r, i, 1), static_cast<size_t>(PQgetlength(r, i, 1)));
            it.score = pg::get_float8(r, i, 2);
            it.created_us = pg::get_timestamptz(r, i, 3);
            items.push_back(std::move(it));
        }
        PQclear(r);
        return checked_count("raw", items, want);
    };
    set_ilana_fetch<item_from>(s, c, sql, want, use_stream, "raw PQexecPrepared (whole binary result)",
                               "Connection::stream (batches of 1 024 rows)");
    return s;
}

} // namespace

void add_pg_workloads(std::vector<Workload> &out) {
    out.push_back({"pg_select1", "pg", "20 000 x SELECT $1::int", 0.97, select1, {}});
    out.push_back({"pg_point", "pg", "20 000 prepared point selects by random id (10 000 rows, 4 columns)", 0.97,
                   [](Context &ctx) { return point(ctx, false); }, {}});
    out.push_back({"pg_point_prepared", "pg",
                   "pg_point through one prepared Statement on a held Session (rows from the driver's batch)", 0.97,
                   [](Context &ctx) { return point(ctx, true); }, {}});
    out.push_back({"pg_fetch", "pg", "200 000 rows x 4 columns into a std::vector (Connection::stream)", 0.90,
                   [](Context &ctx) { return fetch(ctx, true); }, {}});
    out.push_back({"pg_fetch_query", "pg", "pg_fetch through Connection::query (a whole Result first)", 0,
                   [](Context &ctx) { return fetch(ctx, false); }, {}});
}

} // namespace bench
