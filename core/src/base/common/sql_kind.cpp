#include "common/sql_kind.hpp"

#include <cctype>
#include <cstring>
#include <string>
#include <string_view>

namespace ilana::detail {

namespace {

// Where the first word starts: after spaces, '(' and comments.
size_t first_word_at(std::string_view sql) {
    size_t i = 0;
    while (i < sql.size()) {
        if (std::isspace(static_cast<unsigned char>(sql[i])) || sql[i] == '(') {
            ++i;
        } else if (sql.compare(i, 2, "--") == 0) {
            size_t nl = sql.find('\n', i);
            i = nl == std::string_view::npos ? sql.size() : nl + 1;
        } else if (sql.compare(i, 2, "/*") == 0) {
            size_t end = sql.find("*/", i + 2);
            i = end == std::string_view::npos ? sql.size() : end + 2;
        } else {
            break;
        }
    }
    return i;
}

// ASCII only, without the locale: this runs on every pipelined statement.
bool ascii_word_char(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}
char ascii_upper(char c) { return c >= 'a' && c <= 'z' ? static_cast<char>(c - 'a' + 'A') : c; }

// The statement's first word upper-cased into `out`, "" when it is longer
// than `out` (no keyword asked about is); `end`: where the word ends.
std::string_view first_word(std::string_view sql, char (&out)[8], size_t &end) {
    const size_t first = first_word_at(sql);
    end = first;
    while (end < sql.size() && ascii_word_char(sql[end])) ++end;
    const size_t len = end - first;
    if (len > sizeof out) return {};
    for (size_t j = 0; j < len; ++j) out[j] = ascii_upper(sql[first + j]);
    return std::string_view(out, len);
}

// Words that make a statement read or leave session state (upper case).
constexpr std::string_view kSessionWords[] = {
    "TEMP", "TEMPORARY", "SET_CONFIG", "PG_ADVISORY_LOCK", "PG_ADVISORY_XACT_LOCK", "PG_TRY_ADVISORY_LOCK",
    "PG_ADVISORY_LOCK_SHARED", "PG_TRY_ADVISORY_LOCK_SHARED", "PG_ADVISORY_UNLOCK", "PG_ADVISORY_UNLOCK_ALL",
    "GET_LOCK", "RELEASE_LOCK", "RELEASE_ALL_LOCKS", "LASTVAL", "CURRVAL", "LAST_INSERT_ID", "SETVAL",
    "FOUND_ROWS", "ROW_COUNT", "DBLINK_CONNECT"};
} // namespace

bool may_share_session(std::string_view sql) {
    char head[8];
    size_t i = 0;
    const std::string_view word = first_word(sql, head, i);
    const bool query = word == "SELECT" || word == "VALUES" || word == "TABLE" || word == "WITH";
    if (!query && word != "INSERT" && word != "UPDATE" && word != "DELETE") return false;
    // One statement: nothing after a ';' but spaces.
    const size_t semi = sql.find(';');
    if (semi != std::string_view::npos && sql.find_first_not_of(" \t\r\n;", semi) != std::string_view::npos)
        return false;
    // User variables (MariaDB @x, @@session.x) and what reads or changes the
    // session: its temporary objects, locks, settings, last ids. SELECT ...
    // INTO makes a table (PostgreSQL) or sets variables (MariaDB); INSERT
    // needs its INTO. One pass over the words.
    if (sql.find('@') != std::string_view::npos) return false;
    char buf[32];
    for (size_t k = i; k < sql.size();) {
        if (!ascii_word_char(sql[k])) {
            ++k;
            continue;
        }
        const size_t start = k;
        while (k < sql.size() && ascii_word_char(sql[k])) ++k;
        const size_t len = k - start;
        if (len < 4 || len > sizeof buf) continue;
        for (size_t j = 0; j < len; ++j) buf[j] = ascii_upper(sql[start + j]);
        const std::string_view w(buf, len);
        if (query && w == "INTO") return false;
        for (std::string_view listed : kSessionWords)
            if (w == listed) return false;
    }
    return true;
}

bool is_read_only(std::string_view sql) {
    char head[8];
    size_t after = 0;
    const std::string_view word = first_word(sql, head, after);
    if (word == "SELECT" || word == "SHOW" || word == "EXPLAIN" || word == "VALUES" || word == "DESCRIBE" ||
        word == "DESC" || word == "TABLE")
        return true;
    if (word != "WITH") return false;
    // A CTE may hide a write: WITH x AS (DELETE ... RETURNING *) SELECT ...
    std::string upper(sql);
    for (auto &c : upper) c = ascii_upper(c);
    for (const char *w : {"INSERT", "UPDATE", "DELETE", "MERGE"}) {
        size_t pos = 0;
        while ((pos = upper.find(w, pos)) != std::string::npos) {
            size_t end = pos + std::strlen(w);
            bool word_start = pos == 0 || !ascii_word_char(upper[pos - 1]);
            bool word_end = end >= upper.size() || !ascii_word_char(upper[end]);
            if (word_start && word_end) return false;
            pos = end;
        }
    }
    return true;
}

} // namespace ilana::detail
