// mysql.cpp — MariaDB workloads: my_select1, my_point, my_fetch(_query).
//
// Raw side: libmariadb prepared statements (mysql_stmt_*) with bound
// parameter and result buffers, rows fetched unbuffered — the binary
// protocol's fastest ordinary form. ilana side: the "my" connection.
#include "harness.hpp"
#include "raw_mysql.hpp"
#include "rows.hpp"
#include "workload_shapes.hpp"

#include <memory>

namespace bench {
namespace {

using MyTables = ItemTables<my::Conn>;

MyTables &my_tables(Context &ctx) { return item_tables<my::Conn>(ctx, ctx.mysql_url(), my::create_items_table); }

// A raw prepared statement reading Items into bound buffers.
struct ItemReader {
    my::Conn conn;
    my::Stmt stmt;
    MYSQL_BIND param{};
    long long param_id = 0;
    MYSQL_BIND out[4]{};
    long long id = 0;
    char name[256];
    unsigned long name_len = 0;
    double score = 0;
    MYSQL_TIME created{};

    ItemReader(const std::string &url, const std::string &sql, bool has_param) : conn(url), stmt(conn, sql) {
        if (has_param) {
            param.buffer_type = MYSQL_TYPE_LONGLONG;
            param.buffer = &param_id;
            stmt.bind_params(&param);
        }
        out[0].buffer_type = MYSQL_TYPE_LONGLONG;
        out[0].buffer = &id;
        out[1].buffer_type = MYSQL_TYPE_STRING;
        out[1].buffer = name;
        out[1].buffer_length = sizeof name;
        out[1].length = &name_len;
        out[2].buffer_type = MYSQL_TYPE_DOUBLE;
        out[2].buffer = &score;
        out[3].buffer_type = MYSQL_TYPE_DATETIME;
        out[3].buffer = &created;
        out[3].buffer_length = sizeof created;
        stmt.bind_results(out);
    }
    Item item() const {
        Item it;
        it.id = id;
        it.name.assign(name, name_len);
        it.score = score;
        it.created_us = my::micros_of(created);
        return it;
    }
};

// Round-trip workloads: the server threads of both sides' connections,
// pinned away from the client (affinity.hpp). `raw->conn` is the raw side's.
constexpr const char *kThreadSql = "SELECT TID FROM information_schema.PROCESSLIST WHERE ID = CONNECTION_ID()";

template <class Raw>
std::function<std::vector<ServerTask>()> server_threads(Context &ctx, std::shared_ptr<Raw> raw, ilana::Connection c) {
    return round_trip_tasks(ctx.mysql_url(), c, kThreadSql, {"mariadbd", "mysqld"},
                            [raw] { return raw->conn.scalar(kThreadSql); });
}

Sides select1(Context &ctx) {
    struct Raw {
        my::Conn conn;
        my::Stmt stmt;
        MYSQL_BIND param{}, out{};
        long long in = 0, result = 0;
        explicit Raw(const std::string &url) : conn(url), stmt(conn, "SELECT CAST(? AS SIGNED)") {
            param.buffer_type = MYSQL_TYPE_LONGLONG;
            param.buffer = &in;
            stmt.bind_params(&param);
            out.buffer_type = MYSQL_TYPE_LONGLONG;
            out.buffer = &result;
            stmt.bind_results(&out);
        }
    };
    const int n = static_cast<int>(ctx.scale(20000));
    auto raw = std::make_shared<Raw>(ctx.mysql_url());
    ilana::Connection c = ctx.db().on("my");
    const int64_t want = static_cast<int64_t>(n) * (n - 1) / 2;
    Sides s;
    s.raw = [raw, n, want] {
        int64_t sum = 0;
        for (int i = 0; i < n; ++i) {
            raw->in = i;
            raw->stmt.execute();
            while (raw->stmt.fetch()) sum += raw->result;
        }
        check_equal("raw sum", sum, want);
        return static_cast<uint64_t>(n);
    };
    s.ilana = [c, n, want] {
        int64_t sum = 0;
        for (int i = 0; i < n; ++i) {
            ilana::Result r = c.query("SELECT CAST(? AS SIGNED)", {i});
            sum += r.front().get<int64_t>(0);
        }
        check_equal("ilana sum", sum, want);
        return static_cast<uint64_t>(n);
    };
    s.note = "raw mysql_stmt_execute + fetch vs Connection::query(\"SELECT CAST(? AS SIGNED)\", {i})";
    s.server_tasks = server_threads(ctx, raw, c);
    return s;
}

// `prepared`: the ilana side through one prepared Statement on a held
// Session (rows read from the driver's batch), instead of Connection::query.
Sides point(Context &ctx, bool prepared) {
    MyTables &t = my_tables(ctx);
    auto ids = std::make_shared<std::vector<int64_t>>(random_ids(ctx.scale(20000), 10000));
    const Checksum want = Checksum::expected_for(*ids);
    const std::string sql = "SELECT id, name, score, created FROM " + t.point + " WHERE id = ?";
    auto raw = std::make_shared<ItemReader>(ctx.mysql_url(), sql, true);
    ilana::Connection c = ctx.db().on("my");
    Sides s;
    s.raw = [raw, ids, want] {
        Checksum sum;
        for (int64_t id : *ids) {
            raw->param_id = id;
            raw->stmt.execute();
            while (raw->stmt.fetch()) sum.add(raw->item());
        }
        sum.check("raw", want);
        return static_cast<uint64_t>(ids->size());
    };
    s.ilana = prepared ? ilana_point_prepared<item_from>(c, sql, ids, want, true)
                       : ilana_point<item_from>(c, sql, ids, want);
    s.note = "random ids in a 10 000-row InnoDB table; each side builds an Item";
    s.server_tasks = server_threads(ctx, raw, c);
    return s;
}

Sides fetch(Context &ctx, bool use_stream) {
    MyTables &t = my_tables(ctx);
    const int64_t n = static_cast<int64_t>(ctx.scale(200000));
    const Checksum want = Checksum::expected_range(n);
    const std::string sql = "SELECT id, name, score, created FROM " + t.fetch;
    auto raw = std::make_shared<ItemReader>(ctx.mysql_url(), sql, false);
    ilana::Connection c = ctx.db().on("my");
    Sides s;
    s.raw = [raw, want] {
        std::vector<Item> items;
        raw->stmt.execute();
        while (raw->stmt.fetch()) items.push_back(raw->item());
        return checked_count("raw", items, want);
    };
    set_ilana_fetch<item_from>(s, c, sql, want, use_stream, "raw mysql_stmt_fetch (unbuffered)");
    return s;
}

} // namespace

void add_mysql_workloads(std::vector<Workload> &out) {
    out.push_back({"my_select1", "mysql", "20 000 x SELECT CAST(? AS SIGNED)", 0.97, select1, {}});
    out.push_back({"my_point", "mysql", "20 000 prepared point selects by random id (10 000 rows, 4 columns)",
                   0.97, [](Context &ctx) { return point(ctx, false); }, {}});
    out.push_back({"my_point_prepared", "mysql",
                   "my_point through one prepared Statement on a held Session (rows from the driver's batch)", 0.97,
                   [](Context &ctx) { return point(ctx, true); }, {}});
    out.push_back({"my_fetch", "mysql", "200 000 rows x 4 columns into a std::vector (Connection::stream)", 0.90,
                   [](Context &ctx) { return fetch(ctx, true); }, {}});
    out.push_back({"my_fetch_query", "mysql", "my_fetch through Connection::query (a whole Result first)", 0,
                   [](Context &ctx) { return fetch(ctx, false); }, {}});
}

} // namespace bench
