// pipeline.cpp — the batch API against one-at-a-time inserts:
// pg_pipeline_insert (and the same on MariaDB and SQLite).
//
// Raw side: one prepared INSERT per row, each a round trip, all inside one
// transaction (so both sides are atomic and neither pays a commit per row).
// ilana side: Connection::execute_many(sql, rows) — libpq pipeline mode on
// PostgreSQL, array binding (bulk execution) on MariaDB, one prepared
// statement stepped per row inside one transaction on SQLite.
#include "harness.hpp"
#include "raw_mysql.hpp"
#include "raw_pg.hpp"

#include <sqlite3.h>

#include <memory>

namespace bench {
namespace {

// The rows both sides insert: (id, 'name_<id>', id * 0.5).
struct InsertData {
    std::vector<int64_t> ids;
    std::vector<std::string> names;
    std::vector<double> scores;
    std::vector<ilana::Params> rows; // the same, as ilana parameter rows
};

std::shared_ptr<InsertData> insert_data(size_t n) {
    auto d = std::make_shared<InsertData>();
    d->rows.reserve(n);
    for (size_t i = 1; i <= n; ++i) {
        const auto id = static_cast<int64_t>(i);
        d->ids.push_back(id);
        d->names.push_back("name_" + std::to_string(id));
        d->scores.push_back(static_cast<double>(id) * 0.5);
        d->rows.push_back({id, d->names.back(), d->scores.back()});
    }
    return d;
}

// The ilana side of every *_insert workload: empties `table` (`clear` is the
// statement's start: "TRUNCATE ", "DELETE FROM "), then one execute_many of
// `sql` over the rows; checks the affected rows and the sum of the ids.
RunFn ilana_insert(ilana::Connection c, std::shared_ptr<InsertData> data, std::string clear, std::string table,
                   std::string sql, int64_t want_ids) {
    return [c, data, clear, table, sql, want_ids] {
        c.execute(clear + table);
        ilana::ExecResult r = c.execute_many(sql, data->rows);
        check_equal("ilana affected rows", r.affected_rows, static_cast<int64_t>(data->rows.size()));
        check_equal("ilana inserted ids",
                    c.query("SELECT coalesce(sum(id), 0) FROM " + table).front().get<int64_t>(0), want_ids);
        return static_cast<uint64_t>(data->rows.size());
    };
}

Sides pg_insert(Context &ctx) {
    const size_t n = ctx.scale(20000);
    auto data = insert_data(n);
    auto raw = std::make_shared<pg::Conn>(ctx.pg_url());
    const std::string table = ctx.unique("bench_insert");
    raw->exec("DROP TABLE IF EXISTS " + table);
    raw->exec("CREATE TABLE " + table + " (id int NOT NULL, name text NOT NULL, score float8 NOT NULL)");
    ctx.at_exit([raw, table] { raw->exec("DROP TABLE IF EXISTS " + table); });
    const Oid types[3] = {pg::kInt4, pg::kText, pg::kFloat8};
    raw->prepare("ins", ("INSERT INTO " + table + " (id, name, score) VALUES ($1, $2, $3)").c_str(), 3, types);
    ilana::Connection c = ctx.db().on("pg");
    const std::string sql = "INSERT INTO " + table + " (id, name, score) VALUES (?, ?, ?)";
    const int64_t want_ids = static_cast<int64_t>(n) * static_cast<int64_t>(n + 1) / 2;
    Sides s;
    s.raw = [raw, data, table, want_ids] {
        raw->exec("TRUNCATE " + table);
        raw->exec("BEGIN");
        const int formats[3] = {1, 0, 1};
        for (size_t i = 0; i < data->ids.size(); ++i) {
            uint32_t id = htobe32(static_cast<uint32_t>(data->ids[i]));
            uint64_t score;
            std::memcpy(&score, &data->scores[i], 8);
            score = htobe64(score);
            const char *values[3] = {reinterpret_cast<const char *>(&id), data->names[i].c_str(),
                                     reinterpret_cast<const char *>(&score)};
            const int lengths[3] = {4, static_cast<int>(data->names[i].size()), 8};
            PQclear(raw->run("ins", 3, values, lengths, formats));
        }
        raw->exec("COMMIT");
        check_equal("raw inserted ids", raw->scalar("SELECT coalesce(sum(id), 0) FROM " + table), want_ids);
        return static_cast<uint64_t>(data->ids.size());
    };
    s.ilana = ilana_insert(c, data, "TRUNCATE ", table, sql, want_ids);
    s.note = "raw: BEGIN, one PQexecPrepared per row, COMMIT; ilana: execute_many (libpq pipeline mode)";
    return s;
}

Sides my_insert(Context &ctx) {
    const size_t n = ctx.scale(20000);
    auto data = insert_data(n);
    auto conn = std::make_shared<my::Conn>(ctx.mysql_url());
    const std::string table = ctx.unique("bench_insert");
    conn->exec("DROP TABLE IF EXISTS " + table);
    conn->exec("CREATE TABLE " + table +
               " (id INT NOT NULL, name VARCHAR(64) NOT NULL, score DOUBLE NOT NULL) ENGINE=InnoDB");
    ctx.at_exit([conn, table] { conn->exec("DROP TABLE IF EXISTS " + table); });
    const std::string sql = "INSERT INTO " + table + " (id, name, score) VALUES (?, ?, ?)";
    struct Raw {
        std::shared_ptr<my::Conn> conn;
        my::Stmt stmt;
        MYSQL_BIND params[3]{};
        long long id = 0;
        char name[64];
        unsigned long name_len = 0;
        double score = 0;
        Raw(std::shared_ptr<my::Conn> c, const std::string &sql) : conn(std::move(c)), stmt(*conn, sql) {
            params[0].buffer_type = MYSQL_TYPE_LONGLONG;
            params[0].buffer = &id;
            params[1].buffer_type = MYSQL_TYPE_STRING;
            params[1].buffer = name;
            params[1].buffer_length = sizeof name;
            params[1].length = &name_len;
            params[2].buffer_type = MYSQL_TYPE_DOUBLE;
            params[2].buffer = &score;
            stmt.bind_params(params);
        }
    };
    auto raw = std::make_shared<Raw>(conn, sql);
    ilana::Connection c = ctx.db().on("my");
    const int64_t want_ids = static_cast<int64_t>(n) * static_cast<int64_t>(n + 1) / 2;
    Sides s;
    s.raw = [raw, data, table, want_ids] {
        raw->conn->exec("TRUNCATE TABLE " + table);
        raw->conn->exec("BEGIN");
        for (size_t i = 0; i < data->ids.size(); ++i) {
            raw->id = data->ids[i];
            raw->name_len = static_cast<unsigned long>(data->names[i].size());
            std::memcpy(raw->name, data->names[i].data(), raw->name_len);
            raw->score = data->scores[i];
            raw->stmt.execute();
        }
        raw->conn->exec("COMMIT");
        check_equal("raw inserted ids", raw->conn->scalar("SELECT coalesce(sum(id), 0) FROM " + table), want_ids);
        return static_cast<uint64_t>(data->ids.size());
    };
    s.ilana = ilana_insert(c, data, "TRUNCATE TABLE ", table, sql, want_ids);
    s.note = "raw: BEGIN, one mysql_stmt_execute per row, COMMIT; ilana: execute_many (array binding)";
    return s;
}

Sides sqlite_insert(Context &ctx) {
    const size_t n = ctx.scale(20000);
    auto data = insert_data(n);
    struct Raw {
        sqlite3 *db = nullptr;
        sqlite3_stmt *ins = nullptr;
        Raw() {
            sqlite3_open_v2(":memory:", &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nullptr);
            exec("CREATE TABLE batch_items (id INTEGER NOT NULL, name TEXT NOT NULL, score REAL NOT NULL)");
            sqlite3_prepare_v2(db, "INSERT INTO batch_items (id, name, score) VALUES (?, ?, ?)", -1, &ins, nullptr);
        }
        ~Raw() {
            sqlite3_finalize(ins);
            sqlite3_close_v2(db);
        }
        void exec(const char *sql) {
            if (sqlite3_exec(db, sql, nullptr, nullptr, nullptr) != SQLITE_OK)
                throw std::runtime_error(std::string("sqlite: ") + sqlite3_errmsg(db));
        }
        int64_t sum() {
            sqlite3_stmt *s = nullptr;
            sqlite3_prepare_v2(db, "SELECT coalesce(sum(id), 0) FROM batch_items", -1, &s, nullptr);
            sqlite3_step(s);
            int64_t v = sqlite3_column_int64(s, 0);
            sqlite3_finalize(s);
            return v;
        }
    };
    auto raw = std::make_shared<Raw>();
    ilana::Connection c = ctx.db().on("lite");
    c.execute("CREATE TABLE IF NOT EXISTS batch_items (id INTEGER NOT NULL, name TEXT NOT NULL, score REAL NOT NULL)");
    const std::string sql = "INSERT INTO batch_items (id, name, score) VALUES (?, ?, ?)";
    const int64_t want_ids = static_cast<int64_t>(n) * static_cast<int64_t>(n + 1) / 2;
    Sides s;
    s.raw = [raw, data, want_ids] {
        raw->exec("DELETE FROM batch_items");
        raw->exec("BEGIN");
        for (size_t i = 0; i < data->ids.size(); ++i) {
            sqlite3_bind_int64(raw->ins, 1, data->ids[i]);
            sqlite3_bind_text(raw->ins, 2, data->names[i].data(), static_cast<int>(data->names[i].size()),
                              SQLITE_STATIC);
            sqlite3_bind_double(raw->ins, 3, data->scores[i]);
            if (sqlite3_step(raw->ins) != SQLITE_DONE) throw std::runtime_error("sqlite insert failed");
            sqlite3_reset(raw->ins);
        }
        raw->exec("COMMIT");
        check_equal("raw inserted ids", raw->sum(), want_ids);
        return static_cast<uint64_t>(data->ids.size());
    };
    s.ilana = ilana_insert(c, data, "DELETE FROM ", "batch_items", sql, want_ids);
    s.note = "raw: BEGIN, bind/step/reset per row, COMMIT; ilana: execute_many (the same inside the driver)";
    return s;
}

} // namespace

void add_pipeline_workloads(std::vector<Workload> &out) {
    out.push_back({"pg_pipeline_insert", "pg",
                   "20 000 single-row inserts: execute_many (pipeline) vs one-at-a-time raw inserts", 0, pg_insert,
                   {}});
    out.push_back({"my_batch_insert", "mysql",
                   "20 000 single-row inserts: execute_many (bulk) vs one-at-a-time raw inserts", 0, my_insert, {}});
    out.push_back({"sqlite_batch_insert", "",
                   "20 000 single-row inserts: execute_many vs raw prepared insert per row in a transaction", 0,
                   sqlite_insert, {}});
}

} // namespace bench
