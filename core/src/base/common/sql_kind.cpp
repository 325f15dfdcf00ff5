#include "common/sql_kind.hpp"

#include <cctype>
#include <cstring>
#include <string>

namespace ilana::detail {

namespace {
bool is_word_char(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; }
} // namespace

bool is_read_only(std::string_view sql) {
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
    std::string word;
    while (i < sql.size() && is_word_char(sql[i])) word += static_cast<char>(std::toupper(static_cast<unsigned char>(sql[i++])));
    if (word == "SELECT" || word == "SHOW" || word == "EXPLAIN" || word == "VALUES" || word == "DESCRIBE" ||
        word == "DESC" || word == "TABLE")
        return true;
    if (word != "WITH") return false;
    // A CTE may hide a write: WITH x AS (DELETE ... RETURNING *) SELECT ...
    std::string upper(sql);
    for (auto &c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    for (const char *w : {"INSERT", "UPDATE", "DELETE", "MERGE"}) {
        size_t pos = 0;
        while ((pos = upper.find(w, pos)) != std::string::npos) {
            size_t end = pos + std::strlen(w);
            bool word_start = pos == 0 || !is_word_char(upper[pos - 1]);
            bool word_end = end >= upper.size() || !is_word_char(upper[end]);
            if (word_start && word_end) return false;
            pos = end;
        }
    }
    return true;
}

} // namespace ilana::detail
