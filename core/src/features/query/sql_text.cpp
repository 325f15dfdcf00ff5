#include "query/sql_text.hpp"
#include "common/ascii.hpp"

#include <ilana/driver.h>

#include <cctype>
#include <vector>

namespace ilana::detail {

namespace {

// Characters that never appear in an identifier part: quotes of every
// dialect, statement and list separators, parentheses (expressions belong
// in the *Raw methods), the placeholder, whitespace and control characters.
const char *bad_char(unsigned char c) {
    if (c < 0x20 || c == 0x7f) return "a control character";
    switch (c) {
    case ' ': return "whitespace";
    case '"': case '\'': return "a quote";
    case '`': return "a backtick";
    case ';': return "a semicolon";
    case '(': case ')': return "a parenthesis";
    case ',': return "a comma";
    case '?': return "a question mark";
    case '\\': return "a backslash";
    case '[': case ']': return "a bracket";
    default: return nullptr;
    }
}

// `a`, `a.b`, `a.b.c`, `*`, `a.*`: "" or the problem.
std::string dotted_problem(std::string_view s, bool allow_star) {
    if (s.empty()) return "it is empty";
    std::vector<std::string_view> parts;
    size_t start = 0;
    for (;;) {
        size_t dot = s.find('.', start);
        parts.push_back(s.substr(start, dot == std::string_view::npos ? std::string_view::npos : dot - start));
        if (dot == std::string_view::npos) break;
        start = dot + 1;
    }
    if (parts.size() > 3) return "it has more than three dotted parts";
    for (size_t i = 0; i < parts.size(); ++i) {
        std::string_view p = parts[i];
        if (p.empty()) return "it has an empty part";
        if (p == "*") {
            if (!allow_star) return "'*' is not allowed here";
            if (i + 1 != parts.size()) return "'*' may only be the last part";
            continue;
        }
        for (char ch : p) {
            if (const char *what = bad_char(static_cast<unsigned char>(ch))) return std::string("it contains ") + what;
            if (ch == '*') return "'*' must be a part of its own";
        }
    }
    return {};
}

// Splits "x AS y" (any case, runs of spaces); false when `id` has no spaces.
bool split_alias(std::string_view id, std::string_view &name, std::string_view &alias, bool &malformed) {
    malformed = false;
    if (id.find(' ') == std::string_view::npos) return false;
    std::vector<std::string_view> words;
    size_t i = 0;
    while (i < id.size()) {
        while (i < id.size() && id[i] == ' ') ++i;
        size_t b = i;
        while (i < id.size() && id[i] != ' ') ++i;
        if (i > b) words.push_back(id.substr(b, i - b));
    }
    if (words.size() != 3 || !iequals_ascii(words[1], "as")) {
        malformed = true;
        return true;
    }
    name = words[0];
    alias = words[2];
    return true;
}

void append_dotted(std::string &out, std::string_view s, char q) {
    size_t start = 0;
    for (;;) {
        size_t dot = s.find('.', start);
        std::string_view part = s.substr(start, dot == std::string_view::npos ? std::string_view::npos : dot - start);
        if (part == "*") {
            out += '*';
        } else {
            out += q;
            out.append(part.data(), part.size());
            out += q;
        }
        if (dot == std::string_view::npos) break;
        out += '.';
        start = dot + 1;
    }
}

} // namespace

std::string identifier_problem(std::string_view id, bool allow_alias, bool allow_star) {
    // The worst problem first: a quote or semicolon matters more than a space.
    for (char ch : id)
        if (ch != ' ')
            if (const char *what = bad_char(static_cast<unsigned char>(ch))) return std::string("it contains ") + what;
    std::string_view name, alias;
    bool malformed = false;
    if (split_alias(id, name, alias, malformed)) {
        if (malformed) return "it contains whitespace (only the form `name AS alias` may)";
        if (!allow_alias) return "an alias (AS) is not allowed here";
        std::string p = dotted_problem(name, false);
        if (!p.empty()) return p;
        if (alias.find('.') != std::string_view::npos) return "the alias must be a plain name";
        return dotted_problem(alias, false);
    }
    return dotted_problem(id, allow_star);
}

void append_identifier(std::string &out, std::string_view id, char quote) {
    std::string_view name, alias;
    bool malformed = false;
    if (split_alias(id, name, alias, malformed) && !malformed) {
        append_dotted(out, name, quote);
        out += " AS ";
        append_dotted(out, alias, quote);
    } else {
        append_dotted(out, id, quote);
    }
}

std::string quote_identifier(std::string_view id, char quote) {
    std::string out;
    append_identifier(out, id, quote);
    return out;
}

std::optional<std::string> canonical_operator(std::string_view op) {
    // Words separated by any run of spaces, compared case-insensitively.
    std::string norm;
    size_t i = 0;
    while (i < op.size()) {
        while (i < op.size() && op[i] == ' ') ++i;
        size_t b = i;
        while (i < op.size() && op[i] != ' ') ++i;
        if (i > b) {
            if (!norm.empty()) norm += ' ';
            for (size_t k = b; k < i; ++k) norm += static_cast<char>(std::toupper(static_cast<unsigned char>(op[k])));
        }
    }
    static const char *const allowed[] = {"=", "!=", "<>", "<", "<=", ">", ">=", "LIKE", "NOT LIKE", "ILIKE",
                                          "IS", "IS NOT"};
    for (const char *a : allowed)
        if (norm == a) return norm;
    return std::nullopt;
}

const char *allowed_operators() noexcept { return "=, !=, <>, <, <=, >, >=, like, not like, ilike, is, is not"; }

bool dialect_has_ilike(const Dialect &d) noexcept { return d.dollar_placeholders; }
bool dialect_has_zoned_timestamps(const Dialect &d) noexcept {
    return d.upsert_form != ILANA_UPSERT_ON_DUPLICATE_KEY;
}

} // namespace ilana::detail
