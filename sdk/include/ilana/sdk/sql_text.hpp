// ilana/sdk/sql_text.hpp — what kind of statement a SQL text is.
//
//   LeadingKeyword  the statement's first keyword, lower-cased, after blanks,
//                   comments and opening parentheses: how a driver tells a
//                   query ("select", "values", ...) from a change ("insert",
//                   "delete", ...) without parsing. No allocation.
//   ContainsNoCase  whether a text holds a word, ignoring ASCII case: the
//                   second look a driver takes at a statement whose first
//                   keyword alone does not say enough ("create" ... "temp").
//
// Header-only; depends on the C++17 standard library alone.
#ifndef ILANA_SDK_SQL_TEXT_HPP
#define ILANA_SDK_SQL_TEXT_HPP

#include <cstddef>
#include <initializer_list>
#include <string_view>

namespace ilana::sdk {

class LeadingKeyword {
public:
    // The longest word kept: no SQL keyword is longer; a longer first word
    // gives an empty keyword rather than a prefix of it.
    static constexpr std::size_t kMaxLength = 16;

    // Skips blanks, `-- ...` line comments, `/* ... */` block comments
    // (an unclosed one ends the text) and `(`; with `hash_comments` also
    // MySQL's `# ...` line comments. Then reads the ASCII letters that
    // follow. `sql` need not be NUL-terminated and is not kept.
    explicit LeadingKeyword(std::string_view sql, bool hash_comments = false) noexcept {
        std::size_t i = 0;
        const std::size_t n = sql.size();
        while (i < n) {
            const char c = sql[i];
            if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v' || c == '(') {
                ++i;
            } else if ((c == '-' && i + 1 < n && sql[i + 1] == '-') || (hash_comments && c == '#')) {
                const std::size_t nl = sql.find('\n', i);
                i = nl == std::string_view::npos ? n : nl + 1;
            } else if (c == '/' && i + 1 < n && sql[i + 1] == '*') {
                const std::size_t end = sql.find("*/", i + 2);
                i = end == std::string_view::npos ? n : end + 2;
            } else {
                break;
            }
        }
        std::size_t len = 0;
        while (i < n && is_letter(sql[i])) {
            if (len == kMaxLength) { // too long to be a keyword
                len = 0;
                break;
            }
            word_[len++] = lower(sql[i++]);
        }
        len_ = len;
    }

    // The keyword, lower-case; empty when the text starts with no word.
    std::string_view word() const noexcept { return std::string_view(word_, len_); }
    // True when the keyword is `lower_word` (given in lower case).
    bool is(std::string_view lower_word) const noexcept { return word() == lower_word; }
    // True when the keyword is one of `lower_words` (given in lower case).
    bool is_any(std::initializer_list<std::string_view> lower_words) const noexcept {
        for (std::string_view w : lower_words)
            if (word() == w) return true;
        return false;
    }

private:
    static constexpr bool is_letter(char c) noexcept { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
    static constexpr char lower(char c) noexcept { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }

    char word_[kMaxLength] = {};
    std::size_t len_ = 0;
};

// True when `text` contains `lower_needle` (given in lower case), comparing
// ASCII letters without regard to case. A plain scan: quotes and comments
// are not skipped, so a caller that must not miss a word gets a match too
// many, never one too few.
inline bool ContainsNoCase(std::string_view text, std::string_view lower_needle) noexcept {
    if (lower_needle.empty()) return true;
    if (text.size() < lower_needle.size()) return false;
    const char first = lower_needle[0];
    const std::size_t last = text.size() - lower_needle.size();
    for (std::size_t i = 0; i <= last; ++i) {
        char c = text[i];
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
        if (c != first) continue;
        std::size_t k = 1;
        for (; k < lower_needle.size(); ++k) {
            char t = text[i + k];
            if (t >= 'A' && t <= 'Z') t = static_cast<char>(t - 'A' + 'a');
            if (t != lower_needle[k]) break;
        }
        if (k == lower_needle.size()) return true;
    }
    return false;
}

} // namespace ilana::sdk

#endif // ILANA_SDK_SQL_TEXT_HPP
