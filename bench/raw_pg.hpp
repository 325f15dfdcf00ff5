// raw_pg.hpp — the raw libpq side: a connection, prepared statements with
// binary parameters and binary results (libpq's fastest ordinary form).
#pragma once

#include "harness.hpp"

#include <libpq-fe.h>

#include <endian.h>

#include <cstdint>
#include <cstring>
#include <stdexcept>
#include <string>

namespace bench::pg {

// Built-in type OIDs used here.
constexpr Oid kInt4 = 23, kInt8 = 20, kText = 25, kFloat8 = 701;
// PostgreSQL's binary timestamps count microseconds from 2000-01-01.
constexpr int64_t kPgEpochUs = 946684800LL * 1000000;

inline int32_t get_int4(const PGresult *r, int row, int col) {
    uint32_t v;
    std::memcpy(&v, PQgetvalue(r, row, col), 4);
    return static_cast<int32_t>(be32toh(v));
}
inline int64_t get_int8(const PGresult *r, int row, int col) {
    uint64_t v;
    std::memcpy(&v, PQgetvalue(r, row, col), 8);
    return static_cast<int64_t>(be64toh(v));
}
inline double get_float8(const PGresult *r, int row, int col) {
    uint64_t v;
    std::memcpy(&v, PQgetvalue(r, row, col), 8);
    v = be64toh(v);
    double d;
    std::memcpy(&d, &v, 8);
    return d;
}
// timestamptz (binary) as microseconds since the Unix epoch.
inline int64_t get_timestamptz(const PGresult *r, int row, int col) { return get_int8(r, row, col) + kPgEpochUs; }

class Conn {
public:
    explicit Conn(const std::string &url) : c_(PQconnectdb(url.c_str())) {
        if (PQstatus(c_) != CONNECTION_OK) {
            std::string msg = PQerrorMessage(c_);
            PQfinish(c_);
            throw std::runtime_error("libpq connect failed: " + msg);
        }
        // "table does not exist, skipping" and friends: not for the report.
        PQsetNoticeProcessor(c_, [](void *, const char *) {}, nullptr);
    }
    ~Conn() { PQfinish(c_); }
    Conn(const Conn &) = delete;
    Conn &operator=(const Conn &) = delete;
    PGconn *get() const noexcept { return c_; }

    // Runs SQL without parameters; throws on failure.
    void exec(const std::string &sql) {
        PGresult *r = PQexec(c_, sql.c_str());
        ExecStatusType st = PQresultStatus(r);
        std::string msg = PQresultErrorMessage(r);
        PQclear(r);
        if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) throw std::runtime_error("libpq: " + msg + " in " + sql);
    }
    int64_t scalar(const std::string &sql) {
        PGresult *r = PQexec(c_, sql.c_str());
        if (PQresultStatus(r) != PGRES_TUPLES_OK || PQntuples(r) != 1) {
            std::string msg = PQresultErrorMessage(r);
            PQclear(r);
            throw std::runtime_error("libpq: " + msg + " in " + sql);
        }
        int64_t v = std::stoll(PQgetvalue(r, 0, 0));
        PQclear(r);
        return v;
    }
    void prepare(const char *name, const char *sql, int nparams, const Oid *types) {
        PGresult *r = PQprepare(c_, name, sql, nparams, types);
        ExecStatusType st = PQresultStatus(r);
        std::string msg = PQresultErrorMessage(r);
        PQclear(r);
        if (st != PGRES_COMMAND_OK) throw std::runtime_error("libpq prepare: " + msg);
    }
    // Runs a prepared statement with binary parameters, binary results.
    PGresult *run(const char *name, int n, const char *const *values, const int *lengths, const int *formats) {
        PGresult *r = PQexecPrepared(c_, name, n, values, lengths, formats, 1);
        ExecStatusType st = PQresultStatus(r);
        if (st != PGRES_TUPLES_OK && st != PGRES_COMMAND_OK) {
            std::string msg = PQresultErrorMessage(r);
            PQclear(r);
            throw std::runtime_error("libpq execute: " + msg);
        }
        return r;
    }

private:
    PGconn *c_;
};

// The point/fetch table: id int primary key, name text, score float8,
// created timestamptz; rows id = 1..n (see Checksum).
inline void create_items_table(Conn &c, const std::string &table, int64_t n) {
    c.exec("DROP TABLE IF EXISTS " + table);
    c.exec("CREATE TABLE " + table +
           " (id int PRIMARY KEY, name text NOT NULL, score float8 NOT NULL, created timestamptz NOT NULL)");
    c.exec("INSERT INTO " + table +
           " SELECT g, 'name_' || g, g * 0.5, timestamptz '2024-01-01 00:00:00+00' + g * interval '1 second'"
           " FROM generate_series(1, " +
           std::to_string(n) + ") g");
    c.exec("ANALYZE " + table);
}

} // namespace bench::pg
