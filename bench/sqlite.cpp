// sqlite.cpp — SQLite workloads on :memory:: sqlite_point, sqlite_fetch(_query),
// and their *_text_ts twins where `created` is DATETIME text read as a
// Timestamp (the raw side parses the same text by hand, as a
// performance-minded application would).
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
    // `name` ":memory:" (a private in-memory database) or a URI.
    explicit RawDb(const char *name = ":memory:") {
        if (sqlite3_open_v2(name, &db_, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_URI,
                            nullptr) != SQLITE_OK)
            throw std::runtime_error(std::string("sqlite3_open_v2 failed: ") + name);
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

// "YYYY-MM-DD HH:MM:SS" to microseconds since the epoch, checked: the raw
// side's reading of a DATETIME cell.
int64_t parse_datetime_text(const unsigned char *p, int n) {
    if (n != 19) throw std::runtime_error("raw: unexpected DATETIME text");
    auto num = [p](int at, int len) {
        int v = 0;
        for (int i = at; i < at + len; ++i) {
            const unsigned d = p[i] - '0';
            if (d > 9) throw std::runtime_error("raw: a DATETIME digit is not a digit");
            v = v * 10 + static_cast<int>(d);
        }
        return v;
    };
    const int y = num(0, 4), m = num(5, 2), d = num(8, 2);
    const int yy = y - (m <= 2);
    const int era = yy / 400, yoe = yy - era * 400;
    const int doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    const int64_t days = era * 146097LL + yoe * 365 + yoe / 4 - yoe / 100 + doy - 719468;
    return ((days * 24 + num(11, 2)) * 3600 + num(14, 2) * 60 + num(17, 2)) * 1000000LL;
}

Item read_item_text_ts(sqlite3_stmt *s) {
    Item it;
    it.id = sqlite3_column_int64(s, 0);
    it.name.assign(reinterpret_cast<const char *>(sqlite3_column_text(s, 1)),
                   static_cast<size_t>(sqlite3_column_bytes(s, 1)));
    it.score = sqlite3_column_double(s, 2);
    it.created_us = parse_datetime_text(sqlite3_column_text(s, 3), sqlite3_column_bytes(s, 3));
    return it;
}

// `text_ts`: `created` as DATETIME text instead of integer microseconds.
std::string create_sql(const std::string &table, bool text_ts) {
    return "CREATE TABLE " + table + " (id INTEGER PRIMARY KEY, name TEXT NOT NULL, score REAL NOT NULL, created " +
           (text_ts ? "DATETIME" : "INTEGER") + " NOT NULL)";
}
std::string fill_sql(const std::string &table, size_t n, bool text_ts) {
    const std::string created = text_ts ? "datetime(" + std::to_string(Checksum::kCreatedBaseUs / 1000000) +
                                              " + x, 'unixepoch')"
                                        : std::to_string(Checksum::kCreatedBaseUs) + " + x * 1000000";
    return "INSERT INTO " + table + " WITH RECURSIVE g(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM g WHERE x < " +
           std::to_string(n) + ") SELECT x, 'name_' || x, x * 0.5, " + created + " FROM g";
}

// Both databases (raw and the ilana "lite" session) get the same two tables.
struct LiteData {
    std::shared_ptr<RawDb> raw;
    bool ilana_filled = false;
    // The kind of database a pool's ":memory:" is (the SQLite driver opens
    // SQLite's memdb VFS by name, kept alive by an anchor connection, so
    // that every session of the pool sees one database): point_items only,
    // for sqlite_point_memdb.
    std::shared_ptr<RawDb> memdb_anchor, memdb;
};

// "file:/...?vfs=memdb" as the driver opens it (drivers/sqlite connection.cpp).
constexpr const char *kRawMemdbUri = "file:/ilana-bench-raw-memdb?vfs=memdb";

RawDb &raw_memdb(LiteData &d) {
    if (d.memdb) return *d.memdb;
    d.memdb_anchor = std::make_shared<RawDb>(kRawMemdbUri);
    d.memdb = std::make_shared<RawDb>(kRawMemdbUri);
    d.memdb->exec(create_sql("point_items", false));
    d.memdb->exec(fill_sql("point_items", 10000, false));
    return *d.memdb;
}

LiteData &lite_data(Context &ctx) {
    static LiteData d;
    if (d.raw) return d;
    d.raw = std::make_shared<RawDb>();
    const size_t fetch_rows = ctx.scale(200000);
    for (const bool text_ts : {false, true}) {
        const std::string suffix = text_ts ? "_text_ts" : "";
        for (const auto &[table, rows] : {std::pair<std::string, size_t>{"point_items" + suffix, 10000},
                                          std::pair<std::string, size_t>{"fetch_items" + suffix, fetch_rows}}) {
            d.raw->exec(create_sql(table, text_ts));
            d.raw->exec(fill_sql(table, rows, text_ts));
            ilana::Connection c = ctx.db().on("lite");
            c.execute(create_sql(table, text_ts));
            c.execute(fill_sql(table, rows, text_ts));
        }
    }
    return d;
}

// `raw_on_memdb`: the raw side on the same kind of database as the ilana
// side's (raw_memdb) instead of a private :memory: one.
template <Item (*ReadRaw)(sqlite3_stmt *), ItemFromRow From>
Sides point(Context &ctx, const std::string &table, bool raw_on_memdb) {
    LiteData &d = lite_data(ctx);
    auto ids = std::make_shared<std::vector<int64_t>>(random_ids(ctx.scale(20000), 10000));
    const Checksum want = Checksum::expected_for(*ids);
    const std::string sql = "SELECT id, name, score, created FROM " + table + " WHERE id = ?";
    if (raw_on_memdb) raw_memdb(d);
    std::shared_ptr<RawDb> keep = raw_on_memdb ? d.memdb : d.raw;
    sqlite3_stmt *stmt = keep->prepare(sql);
    ilana::Connection c = ctx.db().on("lite");
    Sides s;
    s.raw = [keep, stmt, ids, want] {
        Checksum sum;
        for (int64_t id : *ids) {
            sqlite3_bind_int64(stmt, 1, id);
            while (sqlite3_step(stmt) == SQLITE_ROW) sum.add(ReadRaw(stmt));
            sqlite3_reset(stmt);
        }
        sum.check("raw", want);
        return static_cast<uint64_t>(ids->size());
    };
    s.ilana = ilana_point<From>(c, sql, ids, want);
    s.note = std::string("raw bind/step/reset of one prepared statement") +
             (raw_on_memdb ? " on a memdb-VFS database like the pool's" : "") +
             " vs Connection::query (a pool lease per query)";
    return s;
}

template <Item (*ReadRaw)(sqlite3_stmt *), ItemFromRow From>
Sides fetch(Context &ctx, const std::string &table, bool use_stream) {
    LiteData &d = lite_data(ctx);
    const int64_t n = static_cast<int64_t>(ctx.scale(200000));
    const Checksum want = Checksum::expected_range(n);
    const std::string sql = "SELECT id, name, score, created FROM " + table;
    sqlite3_stmt *stmt = d.raw->prepare(sql);
    auto keep = d.raw;
    ilana::Connection c = ctx.db().on("lite");
    Sides s;
    s.raw = [keep, stmt, want] {
        std::vector<Item> items;
        while (sqlite3_step(stmt) == SQLITE_ROW) items.push_back(ReadRaw(stmt));
        sqlite3_reset(stmt);
        return checked_count("raw", items, want);
    };
    set_ilana_fetch<From>(s, c, sql, want, use_stream, "raw step loop");
    return s;
}

} // namespace

void add_sqlite_workloads(std::vector<Workload> &out) {
    constexpr auto int_point = point<read_item, item_from_sqlite>;
    constexpr auto text_point = point<read_item_text_ts, item_from_sqlite_text_ts>;
    constexpr auto int_fetch = fetch<read_item, item_from_sqlite>;
    constexpr auto text_fetch = fetch<read_item_text_ts, item_from_sqlite_text_ts>;
    out.push_back({"sqlite_point", "", "20 000 point selects by random id on :memory: (10 000 rows)", 0.85,
                   [](Context &ctx) { return int_point(ctx, "point_items", false); }, {}});
    out.push_back({"sqlite_point_memdb", "",
                   "sqlite_point with raw on the kind of database a pool's :memory: is (SQLite's memdb VFS)", 0,
                   [](Context &ctx) { return int_point(ctx, "point_items", true); }, {}});
    out.push_back({"sqlite_fetch", "", "200 000 rows x 4 columns into a std::vector (Connection::stream)", 0.90,
                   [](Context &ctx) { return int_fetch(ctx, "fetch_items", true); }, {}});
    out.push_back({"sqlite_fetch_query", "", "sqlite_fetch through Connection::query (a whole Result first)", 0,
                   [](Context &ctx) { return int_fetch(ctx, "fetch_items", false); }, {}});
    out.push_back({"sqlite_point_text_ts", "",
                   "sqlite_point with `created` as DATETIME text read as Timestamp (raw parses the text)", 0,
                   [](Context &ctx) { return text_point(ctx, "point_items_text_ts", false); }, {}});
    out.push_back({"sqlite_fetch_text_ts", "",
                   "sqlite_fetch with `created` as DATETIME text read as Timestamp (raw parses the text)", 0.95,
                   [](Context &ctx) { return text_fetch(ctx, "fetch_items_text_ts", true); }, {}});
}

} // namespace bench
