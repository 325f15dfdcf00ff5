#include "db/placeholders.hpp"

#include <ilana/driver.h>

#include <cctype>
#include <cstring>

namespace ilana::detail {

bool placeholders_passthrough(std::string_view sql, int style) noexcept {
    // One pass: the first `?` decides for the DOLLAR style; the QUESTION
    // style passes unless a `?` is followed by another (`??`, a literal).
    const char *p = sql.data();
    const char *const end = p + sql.size();
    while ((p = static_cast<const char *>(std::memchr(p, '?', static_cast<size_t>(end - p)))) != nullptr) {
        if (style != ILANA_PLACEHOLDER_QUESTION) return false;
        if (++p < end && *p == '?') return false;
    }
    return true;
}

size_t rewrite_placeholders(std::string_view sql, int style, std::string &out) {
    out.clear();
    out.reserve(sql.size() + 16);
    size_t n = 0, i = 0;
    const size_t len = sql.size();
    auto copy_until = [&](size_t end) {
        out.append(sql.data() + i, end - i);
        i = end;
    };
    while (i < len) {
        char c = sql[i];
        if (c == '\'' || c == '"' || c == '`') {
            // Quoted: copy through the closing quote (doubled quotes and, in
            // MySQL strings, backslash escapes stay inside).
            size_t j = i + 1;
            while (j < len) {
                if (sql[j] == '\\' && c != '"' && j + 1 < len) {
                    j += 2;
                    continue;
                }
                if (sql[j] == c) {
                    if (j + 1 < len && sql[j + 1] == c) {
                        j += 2;
                        continue;
                    }
                    break;
                }
                ++j;
            }
            copy_until(j < len ? j + 1 : len);
        } else if (c == '-' && i + 1 < len && sql[i + 1] == '-') {
            size_t j = sql.find('\n', i);
            copy_until(j == std::string_view::npos ? len : j);
        } else if (c == '/' && i + 1 < len && sql[i + 1] == '*') {
            size_t j = sql.find("*/", i + 2);
            copy_until(j == std::string_view::npos ? len : j + 2);
        } else if (c == '$' && style == ILANA_PLACEHOLDER_DOLLAR) {
            // Dollar-quoted body: $tag$ ... $tag$ (tag may be empty).
            size_t j = i + 1;
            while (j < len && (std::isalnum(static_cast<unsigned char>(sql[j])) || sql[j] == '_')) ++j;
            if (j < len && sql[j] == '$' && !(j > i + 1 && std::isdigit(static_cast<unsigned char>(sql[i + 1])))) {
                std::string_view tag = sql.substr(i, j - i + 1);
                size_t close = sql.find(tag, j + 1);
                copy_until(close == std::string_view::npos ? len : close + tag.size());
            } else {
                out += c;
                ++i;
            }
        } else if (c == '?') {
            if (i + 1 < len && sql[i + 1] == '?') {
                out += '?';
                i += 2;
                continue;
            }
            ++n;
            if (style == ILANA_PLACEHOLDER_DOLLAR) {
                out += '$';
                out += std::to_string(n);
            } else {
                out += '?';
            }
            ++i;
        } else {
            out += c;
            ++i;
        }
    }
    return n;
}

} // namespace ilana::detail
