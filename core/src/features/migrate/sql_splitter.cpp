// The statement splitter: a small lexer (tokens outside strings, quoted
// identifiers and comments) and, on top of it, the rule for where a
// statement ends. See sql_splitter.hpp for the rules.
#include "migrate/sql_splitter.hpp"

#include <algorithm>
#include <cctype>

namespace ilana::detail {
namespace {

enum class Tok { word, quoted, punct, delim, end };

struct Token {
    Tok kind = Tok::end;
    size_t begin = 0, end = 0;
};

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'; }
bool is_alpha(char c) { return std::isalpha(static_cast<unsigned char>(c)) != 0 || c == '_' || static_cast<unsigned char>(c) >= 0x80; }
bool is_word_char(char c) { return is_alpha(c) || std::isdigit(static_cast<unsigned char>(c)) != 0 || c == '$'; }

std::string upper(std::string_view s) {
    std::string u(s);
    for (auto &c : u) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    return u;
}

class Lexer {
public:
    Lexer(std::string_view s, SqlDialect d, int first_line) : s_(s), d_(d), first_line_(first_line) {}

    std::string delimiter = ";"; // a custom one (MySQL DELIMITER) ends statements at any depth

    // Line of a position; positions asked in increasing order cost O(1) each.
    int line_of(size_t pos) const {
        pos = std::min(pos, s_.size());
        if (pos < line_pos_) {
            line_pos_ = 0;
            line_no_ = first_line_;
        }
        line_no_ += static_cast<int>(std::count(s_.begin() + static_cast<std::ptrdiff_t>(line_pos_),
                                                s_.begin() + static_cast<std::ptrdiff_t>(pos), '\n'));
        line_pos_ = pos;
        return line_no_;
    }

    // The next significant token at or after `i`; `i` moves past it.
    Token next(size_t &i) const {
        const size_t n = s_.size();
        for (;;) {
            if (i >= n) return {Tok::end, n, n};
            if (delimiter != ";" && s_.compare(i, delimiter.size(), delimiter) == 0) {
                Token t{Tok::delim, i, i + delimiter.size()};
                i = t.end;
                return t;
            }
            const char c = s_[i];
            const char c1 = i + 1 < n ? s_[i + 1] : '\0';
            if (is_space(c)) {
                ++i;
                continue;
            }
            if (c == '-' && c1 == '-' &&
                (d_ != SqlDialect::mysql || i + 2 >= n || static_cast<unsigned char>(s_[i + 2]) <= ' ')) {
                skip_line(i);
                continue;
            }
            if (c == '#' && d_ == SqlDialect::mysql) {
                skip_line(i);
                continue;
            }
            if (c == '/' && c1 == '*') {
                const size_t start = i;
                skip_block_comment(i);
                // MySQL runs /*! ... */ (mysqldump writes SQL in them).
                if (d_ == SqlDialect::mysql && start + 2 < n && s_[start + 2] == '!') return {Tok::quoted, start, i};
                continue;
            }
            Token t{Tok::quoted, i, 0};
            if (c == '\'') {
                t.end = scan_quoted(i, '\'', d_ == SqlDialect::mysql, "string literal");
            } else if (c == '"') {
                t.end = d_ == SqlDialect::mysql ? scan_quoted(i, '"', true, "string literal")
                                                : scan_quoted(i, '"', false, "quoted identifier");
            } else if (c == '`') {
                t.end = scan_quoted(i, '`', false, "quoted identifier");
            } else if (c == '[' && d_ == SqlDialect::generic) {
                size_t close = s_.find(']', i + 1);
                if (close == std::string_view::npos) unterminated("quoted identifier [", i);
                t.end = close + 1;
            } else if (c == '$' && d_ == SqlDialect::postgres && dollar_tag_end(i) != 0) {
                const size_t tag_end = dollar_tag_end(i);
                const std::string_view tag = s_.substr(i, tag_end - i);
                size_t close = s_.find(tag, tag_end);
                if (close == std::string_view::npos) unterminated("dollar-quoted body " + std::string(tag), i);
                t.end = close + tag.size();
            } else if (is_alpha(c) || std::isdigit(static_cast<unsigned char>(c)) != 0 ||
                       (c == '$' && d_ == SqlDialect::mysql)) {
                size_t j = i + 1;
                const bool custom = delimiter != ";";
                while (j < n && is_word_char(s_[j]) && !(custom && s_.compare(j, delimiter.size(), delimiter) == 0)) ++j;
                // PostgreSQL E'...' strings take backslash escapes.
                if (d_ == SqlDialect::postgres && j == i + 1 && (c == 'E' || c == 'e') && j < n && s_[j] == '\'') {
                    t.end = scan_quoted(j, '\'', true, "string literal");
                } else {
                    t = {Tok::word, i, j};
                }
            } else if (c == ':' && c1 == ':') {
                t = {Tok::punct, i, i + 2};
            } else {
                t = {Tok::punct, i, i + 1};
            }
            i = t.end;
            return t;
        }
    }

    std::string_view text(const Token &t) const { return s_.substr(t.begin, t.end - t.begin); }
    bool is_word(const Token &t, const char *kw) const {
        if (t.kind != Tok::word) return false;
        std::string_view w = text(t);
        size_t k = 0;
        for (; k < w.size() && kw[k] != '\0'; ++k)
            if (std::toupper(static_cast<unsigned char>(w[k])) != kw[k]) return false;
        return k == w.size() && kw[k] == '\0';
    }
    bool is_punct(const Token &t, char c) const { return t.kind == Tok::punct && t.end == t.begin + 1 && s_[t.begin] == c; }
    std::string_view source() const { return s_; }

private:
    [[noreturn]] void unterminated(const std::string &what, size_t at) const {
        throw SqlSplitError("unterminated " + what + " starting at line " + std::to_string(line_of(at)), line_of(at));
    }

    void skip_line(size_t &i) const {
        size_t nl = s_.find('\n', i);
        i = nl == std::string_view::npos ? s_.size() : nl;
    }

    void skip_block_comment(size_t &i) const {
        const size_t start = i;
        int depth = 0;
        const size_t n = s_.size();
        while (i < n) {
            if (s_[i] == '/' && i + 1 < n && s_[i + 1] == '*' && (depth == 0 || d_ == SqlDialect::postgres)) {
                ++depth;
                i += 2;
            } else if (s_[i] == '*' && i + 1 < n && s_[i + 1] == '/') {
                i += 2;
                if (--depth == 0) return;
            } else {
                ++i;
            }
        }
        unterminated("/* comment", start);
    }

    // Returns the position just past the closing quote.
    size_t scan_quoted(size_t i, char q, bool backslash, const char *what) const {
        const size_t start = i;
        const size_t n = s_.size();
        size_t j = i + 1;
        while (j < n) {
            const char ch = s_[j];
            if (backslash && ch == '\\') {
                j += 2;
            } else if (ch == q) {
                if (j + 1 < n && s_[j + 1] == q) {
                    j += 2;
                } else {
                    return j + 1;
                }
            } else {
                ++j;
            }
        }
        unterminated(std::string(what) + " " + q, start);
    }

    // For a `$` at i: the end of a dollar-quote tag ($$ or $tag$), or 0 when
    // this `$` does not open one ($1 is a parameter).
    size_t dollar_tag_end(size_t i) const {
        const size_t n = s_.size();
        size_t j = i + 1;
        if (j < n && s_[j] == '$') return j + 1;
        if (j >= n || !is_alpha(s_[j])) return 0;
        while (j < n && (is_alpha(s_[j]) || std::isdigit(static_cast<unsigned char>(s_[j])) != 0)) ++j;
        return j < n && s_[j] == '$' ? j + 1 : 0;
    }

    std::string_view s_;
    SqlDialect d_;
    int first_line_;
    mutable size_t line_pos_ = 0;
    mutable int line_no_ = first_line_;
};

// Words that decide whether a CREATE statement has a compound body.
bool creates_routine(const std::string &w) {
    return w == "PROCEDURE" || w == "FUNCTION" || w == "TRIGGER" || w == "EVENT";
}
bool creates_other(const std::string &w) {
    static const char *const kOther[] = {"TABLE",  "VIEW",      "INDEX",      "SCHEMA",      "DATABASE",  "SEQUENCE",
                                         "TYPE",   "DOMAIN",    "EXTENSION",  "ROLE",        "USER",      "RULE",
                                         "POLICY", "UNIQUE",    "SERVER",     "TABLESPACE",  "CAST",      "OPERATOR",
                                         "AS",     "SELECT",    "COLLATION",  "PUBLICATION", "STATISTICS", "MATERIALIZED",
                                         "SUBSCRIPTION", "CONVERSION", "LANGUAGE", "GROUP", "SPATIAL", "FULLTEXT"};
    for (const char *o : kOther)
        if (w == o) return true;
    return false;
}

enum class Compound { no, undecided, yes };
enum class Prev { none, semicolon, label_colon, opener, other };

// Block kinds on the nesting stack.
constexpr char kBegin = 'B', kCase = 'C', kIf = 'I', kLoop = 'L', kWhile = 'W', kRepeat = 'R';

class Splitter {
public:
    Splitter(std::string_view sql, SqlDialect d, int first_line) : lx_(sql, d, first_line), d_(d) {}

    std::vector<SqlStatement> run() {
        size_t i = 0;
        for (;;) {
            Token t = lx_.next(i);
            if (t.kind == Tok::end) {
                flush();
                return std::move(out_);
            }
            if (t.kind == Tok::delim) {
                flush();
                continue;
            }
            const bool plain_semicolon = lx_.delimiter == ";" && lx_.is_punct(t, ';');
            if (begin_ == std::string_view::npos) {
                if (plain_semicolon) continue; // empty statement
                if (d_ == SqlDialect::mysql && lx_.is_word(t, "DELIMITER") && at_line_start(t.begin)) {
                    set_delimiter(t, i);
                    continue;
                }
                start(t, i);
            } else if (plain_semicolon && paren_ == 0 && blocks_.empty()) {
                flush();
                continue;
            }
            end_ = t.end;
            if (lx_.is_punct(t, '(')) ++paren_;
            if (lx_.is_punct(t, ')') && paren_ > 0) --paren_;
            if (compound_ == Compound::undecided && t.kind == Tok::word) decide(upper(lx_.text(t)));
            if (compound_ == Compound::yes) {
                track_blocks(t, i);
            } else {
                prev_ = Prev::other;
            }
        }
    }

private:
    bool at_line_start(size_t pos) const {
        std::string_view s = lx_.source();
        while (pos > 0 && (s[pos - 1] == ' ' || s[pos - 1] == '\t')) --pos;
        return pos == 0 || s[pos - 1] == '\n';
    }

    // DELIMITER xx: the rest of the line (trimmed) is the new delimiter.
    void set_delimiter(const Token &t, size_t &i) {
        std::string_view s = lx_.source();
        size_t eol = s.find('\n', t.end);
        if (eol == std::string_view::npos) eol = s.size();
        std::string_view arg = s.substr(t.end, eol - t.end);
        while (!arg.empty() && is_space(arg.front())) arg.remove_prefix(1);
        while (!arg.empty() && is_space(arg.back())) arg.remove_suffix(1);
        if (arg.empty() || arg.find_first_of(" \t") != std::string_view::npos)
            throw SqlSplitError("DELIMITER at line " + std::to_string(lx_.line_of(t.begin)) +
                                    " needs one delimiter (e.g. DELIMITER $$)",
                                lx_.line_of(t.begin));
        lx_.delimiter = std::string(arg);
        i = eol;
    }

    void start(const Token &t, size_t i) {
        begin_ = t.begin;
        paren_ = 0;
        blocks_.clear();
        head_tokens_ = 0;
        prev_ = Prev::none;
        compound_ = Compound::no;
        if (lx_.is_word(t, "CREATE")) {
            compound_ = Compound::undecided;
        } else if (lx_.is_word(t, "BEGIN")) {
            // MariaDB's anonymous compound statement; plain BEGIN is a transaction.
            size_t j = i;
            Token a = lx_.next(j);
            Token b = lx_.next(j);
            if (lx_.is_word(a, "NOT") && lx_.is_word(b, "ATOMIC")) compound_ = Compound::yes;
        }
    }

    void decide(const std::string &w) {
        if (++head_tokens_ == 1) return; // CREATE itself
        if (creates_routine(w))
            compound_ = Compound::yes;
        else if (creates_other(w) || head_tokens_ > 24)
            compound_ = Compound::no;
    }

    bool at_statement_start() const {
        return prev_ == Prev::semicolon || prev_ == Prev::label_colon || prev_ == Prev::opener;
    }

    // IF starts an IF statement (not the IF() function) when a THEN follows
    // before the end of the condition.
    bool if_statement_follows(size_t i) const {
        int depth = 0, cases = 0;
        for (;;) {
            Token t = lx_.next(i);
            if (t.kind == Tok::end || t.kind == Tok::delim) return false;
            if (lx_.is_punct(t, '(')) {
                ++depth;
            } else if (lx_.is_punct(t, ')')) {
                if (depth-- == 0) return false;
            } else if (lx_.is_punct(t, ';') && depth == 0) {
                return false;
            } else if (t.kind == Tok::word && depth == 0) {
                if (lx_.is_word(t, "THEN") && cases == 0) return true;
                if (lx_.is_word(t, "CASE")) ++cases;
                if (lx_.is_word(t, "END") && cases-- == 0) return false;
                if ((lx_.is_word(t, "ELSE") || lx_.is_word(t, "WHEN")) && cases == 0) return false;
            }
        }
    }

    bool next_is_open_paren(size_t i) const {
        Token t = lx_.next(i);
        return lx_.is_punct(t, '(');
    }

    void pop_to(char kind) {
        for (size_t k = blocks_.size(); k-- > 0;) {
            if (blocks_[k] == kind) {
                blocks_.resize(k);
                return;
            }
        }
        // An END IF (etc.) whose opener was not recognised: ignore it.
    }

    void pop_plain_end() {
        for (size_t k = blocks_.size(); k-- > 0;) {
            if (blocks_[k] == kBegin || blocks_[k] == kCase) {
                blocks_.resize(k);
                return;
            }
        }
    }

    void track_blocks(const Token &t, size_t &i) {
        Prev next_prev = Prev::other;
        if (lx_.is_punct(t, ';')) {
            next_prev = Prev::semicolon;
        } else if (lx_.is_punct(t, ':')) {
            next_prev = Prev::label_colon;
        } else if (t.kind == Tok::word) {
            const std::string w = upper(lx_.text(t));
            const bool stmt_start = at_statement_start();
            if (w == "BEGIN") {
                blocks_.push_back(kBegin);
                next_prev = Prev::opener;
            } else if (w == "CASE") {
                blocks_.push_back(kCase);
            } else if (w == "IF" && stmt_start && if_statement_follows(i)) {
                blocks_.push_back(kIf);
            } else if (w == "LOOP" && stmt_start) {
                blocks_.push_back(kLoop);
                next_prev = Prev::opener;
            } else if (w == "WHILE" && stmt_start) {
                blocks_.push_back(kWhile);
            } else if (w == "REPEAT" && stmt_start && !next_is_open_paren(i)) {
                blocks_.push_back(kRepeat);
                next_prev = Prev::opener;
            } else if (w == "THEN" || w == "ELSE" || w == "DO") {
                next_prev = Prev::opener;
            } else if (w == "END") {
                size_t j = i;
                Token k = lx_.next(j);
                char kind = 0;
                if (lx_.is_word(k, "IF")) kind = kIf;
                else if (lx_.is_word(k, "LOOP")) kind = kLoop;
                else if (lx_.is_word(k, "WHILE")) kind = kWhile;
                else if (lx_.is_word(k, "REPEAT")) kind = kRepeat;
                else if (lx_.is_word(k, "CASE")) kind = kCase;
                if (kind != 0) {
                    pop_to(kind);
                    i = j;
                    end_ = k.end;
                } else {
                    pop_plain_end();
                }
            }
        }
        prev_ = next_prev;
    }

    void flush() {
        if (begin_ == std::string_view::npos) return;
        std::string_view s = lx_.source();
        out_.push_back(SqlStatement{std::string(s.substr(begin_, end_ - begin_)), lx_.line_of(begin_)});
        begin_ = std::string_view::npos;
    }

    Lexer lx_;
    SqlDialect d_;
    std::vector<SqlStatement> out_;
    size_t begin_ = std::string_view::npos, end_ = 0;
    int paren_ = 0;
    int head_tokens_ = 0;
    Compound compound_ = Compound::no;
    Prev prev_ = Prev::none;
    std::string blocks_;
};

} // namespace

std::vector<SqlStatement> split_sql(std::string_view sql, SqlDialect dialect, int first_line) {
    return Splitter(sql, dialect, first_line).run();
}

} // namespace ilana::detail
