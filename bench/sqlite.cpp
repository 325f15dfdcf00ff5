// sqlite.cpp — SQLite workloads on :memory:: sqlite_point, sqlite_fetch(_query).
//
// Raw side: sqlite3_prepare_v2 once, then bind + step + column reads +
// reset. ilana side: the "lite" connection (one :memory: session kept open by
// the pool: min = max = 1, no idle timeout) holding the same data.
#include "harness.hpp"
#include "rows.hpp"
#include "workload_shapes.hpp"

#include <sqlite3.h>

#include <memory>
#include <stdexcept>

namespace bench {
namespace {

class RawDb {
public:
    RawDb() {
        if (sqlite3_open_v2(":memory:", &db_, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                            nullptr) != SQLITE_OK)
            throw std::runtime_error("sqlite3_open_v2 failed");
    }
    ~RawDb() {
        for (auto *s : stmts_) sqlite3_finalize(s);
        sqlite3_close_v2(db_);
    }
    void exec(const std::string &sql) {
        char *err = nullptr;
        if (sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &err) != SQLITE_OK) {
            std::string msg = err != nullptr ? err : "?";
            sqlite3_free(err);
            throw std::runtime_error("sqlite: " + msg + " in " + sql);
        }
    }
    sqlite3_stmt *prepare(const std::string &sql) {
        sqlite3_stmt *s = nullptr;
        if (sqlite3_prepare_v2(db_, sql.c_str(), static_cast<int>(sql.size()), &s, nullptr) != SQLITE_OK)
            throw std::runtime_error(std::string("sqlite prepare: ") + sqlite3_errmsg(db_));
        stmts_.push_back(s);
        return s;
    }

private:
    sqlite3 *db_ = nullptr;
    std::vector<sqlite3_stmt *> stmts_;
};

Item read_item(sqlite3_stmt *s) {
    Item it;
    it.id = sqlite3_column_int64(s, 0);
    it.name.assign(reinterpret_cast<const char *>(sqlite3_column_text(s, 1)),
                   static_cast<size_t>(sqlite3_column_bytes(s, 1)));
    it.score = sqlite3_column_double(s, 2);
    it.created_us = sqlite3_column_int64(s, 3);
    return it;
}

std::string create_sql(const std::string &table) {
    return "CREATE TABLE " + table +
           " (id INTEGER PRIMARY KEY, name TEXT NOT NULL, score REAL NOT NULL, created INTEGER NOT NULL)";
}
std::string fill_sql(const std::string &table, size_t n) {
    return "INSERT INTO " + table + " WITH RECURSIVE g(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM g WHERE x < " +
           std::to_string(n) + ") SELECT x, 'name_' || x, x * 0.5, " + std::to_string(Checksum::kCreatedBaseUs) +
           " + x * 1000000 FROM g";
}

// Both databases (raw and the ilana "lite" session) get the same two tables.
struct LiteData {
    std::shared_ptr<RawDb> raw;
    bool ilana_filled = false;
};

LiteData &lite_data(Context &ctx) {
    static LiteData d;
    if (d.raw) return d;
    d.raw = std::make_shared<RawDb>();
    const size_t fetch_rows = ctx.scale(200000);
    for (const auto &[table, rows] : {std::pair<std::string, size_t>{"point_items", 10000},
                                      std::pair<std::string, size_t>{"fetch_items", fetch_rows}}) {
        d.raw->exec(create_sql(table));
        d.raw->exec(fill_sql(table, rows));
        ilana::Connection c = ctx.db().on("lite");
        c.execute(create_sql(table));
        c.execute(fill_sql(table, rows));
    }
    return d;
}

Sides point(Context &ctx) {
    LiteData &d = lite_data(ctx);
    auto ids = std::make_shared<std::vector<int64_t>>(random_ids(ctx.scale(20000), 10000));
    const Checksum want = Checksum::expected_for(*ids);
    const std::string sql = "SELECT id, name, score, created FROM point_items WHERE id = ?";
    sqlite3_stmt *stmt = d.raw->prepare(sql);
    auto keep = d.raw;
    ilana::Connection c = ctx.db().on("lite");
    Sides s;
    s.raw = [keep, stmt, ids, want] {
        Checksum sum;
        for (int64_t id : *ids) {
            sqlite3_bind_int64(stmt, 1, id);
            while (sqlite3_step(stmt) == SQLITE_ROW) sum.add(read_item(stmt));
            sqlite3_reset(stmt);
        }
        sum.check("raw", want);
        return static_cast<uint64_t>(ids->size());
    };
    s.ilana = ilana_point<item_from_sqlite>(c, sql, ids, want);
    s.note = "raw bind/step/reset of one prepared statement vs Connection::query (a pool lease per query)";
    return s;
}

Sides fetch(Context &ctx, bool use_stream) {
    LiteData &d = lite_data(ctx);
    const int64_t n = static_cast<int64_t>(ctx.scale(200000));
    const Checksum want = Checksum::expected_range(n);
    const std::string sql = "SELECT id, name, score, created FROM fetch_items";
    sqlite3_stmt *stmt = d.raw->prepare(sql);
    auto keep = d.raw;
    ilana::Connection c = ctx.db().on("lite");
    Sides s;
    s.raw = [keep, stmt, want] {
        std::vector<Item> items;
        while (sqlite3_step(stmt) == SQLITE_ROW) items.push_back(read_item(stmt));
        sqlite3_reset(stmt);
        return checked_count("raw", items, want);
    };
    set_ilana_fetch<item_from_sqlite>(s, c, sql, want, use_stream, "raw step loop");
    return s;
}

} // namespace

void add_sqlite_workloads(std::vector<Workload> &out) {
    out.push_back({"sqlite_point", "", "20 000 point selects by random id on :memory: (10 000 rows)", 0.85, point,
                   {}});
    out.push_back({"sqlite_fetch", "", "200 000 rows x 4 columns into a std::vector (Connection::stream)", 0.90,
                   [](Context &ctx) { return fetch(ctx, true); }, {}});
    out.push_back({"sqlite_fetch_query", "", "sqlite_fetch through Connection::query (a whole Result first)", 0,
                   [](Context &ctx) { return fetch(ctx, false); }, {}});
}

} // namespace bench
