// raw_mysql.hpp — the raw libmariadb side: a connection from a mysql:// URL
// and prepared statements (mysql_stmt_*) with bound result buffers.
#pragma once

#include "harness.hpp"

#include <mysql.h>

#include <cstdint>
#include <cstring>
#include <stdexcept>
#include <string>
#include <vector>

namespace bench::my {

struct Url {
    std::string user, password, host = "127.0.0.1", database;
    unsigned port = 3306;
};

// mysql://user[:password]@host[:port]/database (no percent-escapes needed here).
inline Url parse_url(const std::string &url) {
    Url u;
    auto scheme = url.find("://");
    if (scheme == std::string::npos) throw std::runtime_error("not a mysql:// URL: " + url);
    std::string rest = url.substr(scheme + 3);
    auto slash = rest.find('/');
    if (slash != std::string::npos) {
        u.database = rest.substr(slash + 1);
        auto q = u.database.find('?');
        if (q != std::string::npos) u.database.resize(q);
        rest.resize(slash);
    }
    auto at = rest.rfind('@');
    if (at != std::string::npos) {
        std::string cred = rest.substr(0, at);
        rest = rest.substr(at + 1);
        auto colon = cred.find(':');
        u.user = cred.substr(0, colon);
        if (colon != std::string::npos) u.password = cred.substr(colon + 1);
    }
    auto colon = rest.rfind(':');
    if (colon != std::string::npos) {
        u.port = static_cast<unsigned>(std::stoul(rest.substr(colon + 1)));
        rest.resize(colon);
    }
    if (!rest.empty()) u.host = rest;
    return u;
}

// Days since 1970-01-01 of a civil date (Howard Hinnant's algorithm).
inline int64_t days_from_civil(int64_t y, unsigned m, unsigned d) {
    y -= m <= 2;
    const int64_t era = (y >= 0 ? y : y - 399) / 400;
    const unsigned yoe = static_cast<unsigned>(y - era * 400);
    const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

inline int64_t micros_of(const MYSQL_TIME &t) {
    return (days_from_civil(t.year, t.month, t.day) * 86400 + t.hour * 3600 + t.minute * 60 + t.second) * 1000000LL +
           t.second_part;
}

class Conn {
public:
    explicit Conn(const std::string &url) : m_(mysql_init(nullptr)) {
        Url u = parse_url(url);
        if (mysql_real_connect(m_, u.host.c_str(), u.user.c_str(), u.password.c_str(), u.database.c_str(), u.port,
                               nullptr, 0) == nullptr) {
            std::string msg = mysql_error(m_);
            mysql_close(m_);
            throw std::runtime_error("mysql connect failed: " + msg);
        }
    }
    ~Conn() { mysql_close(m_); }
    Conn(const Conn &) = delete;
    Conn &operator=(const Conn &) = delete;
    MYSQL *get() const noexcept { return m_; }

    void exec(const std::string &sql) {
        if (mysql_real_query(m_, sql.data(), sql.size()) != 0)
            throw std::runtime_error("mysql: " + std::string(mysql_error(m_)) + " in " + sql);
        if (MYSQL_RES *r = mysql_store_result(m_)) mysql_free_result(r);
    }
    int64_t scalar(const std::string &sql) {
        if (mysql_real_query(m_, sql.data(), sql.size()) != 0)
            throw std::runtime_error("mysql: " + std::string(mysql_error(m_)) + " in " + sql);
        MYSQL_RES *r = mysql_store_result(m_);
        MYSQL_ROW row = r != nullptr ? mysql_fetch_row(r) : nullptr;
        int64_t v = row != nullptr && row[0] != nullptr ? std::stoll(row[0]) : 0;
        if (r != nullptr) mysql_free_result(r);
        return v;
    }

private:
    MYSQL *m_;
};

// One prepared statement with its parameter and result bindings.
class Stmt {
public:
    Stmt(Conn &c, const std::string &sql) : s_(mysql_stmt_init(c.get())) {
        if (mysql_stmt_prepare(s_, sql.data(), sql.size()) != 0) fail("prepare");
    }
    ~Stmt() { mysql_stmt_close(s_); }
    Stmt(const Stmt &) = delete;
    Stmt &operator=(const Stmt &) = delete;
    MYSQL_STMT *get() const noexcept { return s_; }
    [[noreturn]] void fail(const char *what) const {
        throw std::runtime_error(std::string("mysql_stmt ") + what + ": " + mysql_stmt_error(s_));
    }
    void bind_params(MYSQL_BIND *b) {
        if (mysql_stmt_bind_param(s_, b) != 0) fail("bind_param");
    }
    void bind_results(MYSQL_BIND *b) {
        if (mysql_stmt_bind_result(s_, b) != 0) fail("bind_result");
    }
    void execute() {
        if (mysql_stmt_execute(s_) != 0) fail("execute");
    }
    // true: a row was fetched; false: no more rows.
    bool fetch() {
        int rc = mysql_stmt_fetch(s_);
        if (rc == 0 || rc == MYSQL_DATA_TRUNCATED) return true;
        if (rc == MYSQL_NO_DATA) return false;
        fail("fetch");
    }

private:
    MYSQL_STMT *s_;
};

// The point/fetch table on MariaDB (see Checksum): DATETIME(6) for the
// timestamp (wall clock; the data is written and read in one zone).
inline void create_items_table(Conn &c, const std::string &table, int64_t n) {
    c.exec("DROP TABLE IF EXISTS " + table);
    c.exec("CREATE TABLE " + table +
           " (id INT PRIMARY KEY, name VARCHAR(64) NOT NULL, score DOUBLE NOT NULL, created DATETIME(6) NOT NULL)"
           " ENGINE=InnoDB");
    c.exec("INSERT INTO " + table +
           " SELECT seq, CONCAT('name_', seq), seq * 0.5, TIMESTAMP'2024-01-01 00:00:00' + INTERVAL seq SECOND"
           " FROM seq_1_to_" +
           std::to_string(n));
    c.exec("ANALYZE TABLE " + table);
}

} // namespace bench::my
