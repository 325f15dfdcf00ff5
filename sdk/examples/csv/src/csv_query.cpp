// csv_query.cpp — tokenizer and recursive-descent parser of the SELECT subset.
#include "csv_query.hpp"

#include <ilana/sdk/driver_support.hpp>

#include <algorithm>
#include <cctype>

namespace csv {

using ilana::sdk::DriverFailure;

namespace {

const char *const kGrammar =
    "the csv driver runs only SELECT * | col, ... FROM table [WHERE col = ? [AND col = ?]...] [LIMIT n]";

enum class Tok { Word, QuotedName, String, Number, Placeholder, Star, Comma, Equals, Semicolon, LParen, Other, End };

struct Token {
    Tok kind;
    std::string text; // Word: as written; QuotedName/String: unescaped; Other: the character(s)
    size_t offset;
};

[[noreturn]] void syntax(const std::string &message, const char *sqlstate = "42601") {
    throw DriverFailure(ILANA_ERR_SYNTAX, message, sqlstate, 0, ILANA_ERRF_NOT_SENT);
}
[[noreturn]] void unsupported(const std::string &what) {
    syntax(what + " is not supported: " + kGrammar, "0A000");
}

std::string upper(std::string s) {
    std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::toupper(c); });
    return s;
}

bool ident_start(char c) { return std::isalpha(static_cast<unsigned char>(c)) || c == '_'; }
bool ident_char(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '$'; }

std::vector<Token> tokenize(std::string_view s) {
    std::vector<Token> out;
    size_t i = 0;
    while (i < s.size()) {
        const char c = s[i];
        if (std::isspace(static_cast<unsigned char>(c))) {
            ++i;
            continue;
        }
        if (c == '-' && i + 1 < s.size() && s[i + 1] == '-') { // -- comment to end of line
            while (i < s.size() && s[i] != '\n') ++i;
            continue;
        }
        const size_t start = i;
        if (ident_start(c)) {
            while (i < s.size() && ident_char(s[i])) ++i;
            out.push_back({Tok::Word, std::string(s.substr(start, i - start)), start});
        } else if (c == '"' || c == '\'') {
            std::string text;
            ++i;
            for (;;) {
                if (i >= s.size())
                    syntax(std::string(c == '"' ? "quoted identifier" : "string literal") + " starting at offset " +
                           std::to_string(start) + " is never closed");
                if (s[i] == c) {
                    if (i + 1 < s.size() && s[i + 1] == c) {
                        text.push_back(c);
                        i += 2;
                        continue;
                    }
                    ++i;
                    break;
                }
                text.push_back(s[i++]);
            }
            if (c == '"' && text.empty()) syntax("empty quoted identifier \"\"");
            out.push_back({c == '"' ? Tok::QuotedName : Tok::String, text, start});
        } else if (std::isdigit(static_cast<unsigned char>(c)) ||
                   ((c == '-' || c == '.') && i + 1 < s.size() && std::isdigit(static_cast<unsigned char>(s[i + 1])))) {
            ++i;
            while (i < s.size() && (std::isalnum(static_cast<unsigned char>(s[i])) || s[i] == '.' ||
                                    ((s[i] == '-' || s[i] == '+') && (s[i - 1] == 'e' || s[i - 1] == 'E'))))
                ++i;
            out.push_back({Tok::Number, std::string(s.substr(start, i - start)), start});
        } else {
            ++i;
            Tok kind = Tok::Other;
            switch (c) {
            case '?': kind = Tok::Placeholder; break;
            case '*': kind = Tok::Star; break;
            case ',': kind = Tok::Comma; break;
            case '=': kind = Tok::Equals; break;
            case ';': kind = Tok::Semicolon; break;
            case '(': kind = Tok::LParen; break;
            default:
                // Two-character operators, for a better message.
                if (i < s.size() && (s.substr(start, 2) == "<=" || s.substr(start, 2) == ">=" ||
                                     s.substr(start, 2) == "<>" || s.substr(start, 2) == "!=" ||
                                     s.substr(start, 2) == "||"))
                    ++i;
            }
            out.push_back({kind, std::string(s.substr(start, i - start)), start});
        }
    }
    out.push_back({Tok::End, "", s.size()});
    return out;
}

class Parser {
public:
    explicit Parser(std::string_view sql) : toks_(tokenize(sql)) {}

    Query parse() {
        Query q;
        if (peek().kind == Tok::End) syntax("empty statement: " + std::string(kGrammar));
        const Token &first = next();
        if (first.kind != Tok::Word || upper(first.text) != "SELECT") {
            const std::string kw = upper(first.text);
            static const char *const kWrites[] = {"INSERT", "UPDATE", "DELETE", "CREATE", "DROP", "ALTER",
                                                  "TRUNCATE", "REPLACE", "MERGE", "BEGIN", "COMMIT",
                                                  "ROLLBACK", "START", "SAVEPOINT", "GRANT", "SET"};
            for (const char *w : kWrites)
                if (kw == w) unsupported(kw + " (the csv driver is read-only)");
            if (kw == "WITH") unsupported("WITH (common table expressions)");
            syntax("expected SELECT at the start, found '" + first.text + "': " + kGrammar);
        }
        if (peek().kind == Tok::Word && (upper(peek().text) == "DISTINCT" || upper(peek().text) == "ALL"))
            unsupported("SELECT " + upper(peek().text));
        if (accept(Tok::Star)) {
            q.star = true;
        } else {
            do q.columns.push_back(select_item());
            while (accept(Tok::Comma));
        }
        if (!accept_word("FROM")) {
            if (peek().kind == Tok::End) syntax("SELECT without FROM: " + std::string(kGrammar), "0A000");
            if (peek().kind == Tok::Word && upper(peek().text) == "AS") unsupported("a column alias (AS)");
            syntax("expected FROM, found '" + peek().text + "'");
        }
        q.table = name("a table name after FROM");
        if (peek().kind == Tok::Comma) unsupported("more than one table in FROM (joins)");
        if (peek().kind == Tok::Word && upper(peek().text) == "AS") unsupported("a table alias (AS)");
        if (accept_word("WHERE")) {
            do q.where.push_back(condition(q));
            while (accept_word("AND"));
            if (peek().kind == Tok::Word && upper(peek().text) == "OR") unsupported("OR in WHERE");
        }
        if (accept_word("LIMIT")) {
            const Token &t = next();
            if (t.kind == Tok::Placeholder) {
                q.limit = Operand{Operand::Placeholder, "", q.placeholders++};
            } else if (t.kind == Tok::Number &&
                       std::all_of(t.text.begin(), t.text.end(), [](char c) { return c >= '0' && c <= '9'; }) &&
                       t.text.size() <= 18) {
                q.limit = Operand{Operand::Number, t.text, 0};
            } else {
                syntax("LIMIT needs a non-negative integer or ?, found '" + t.text + "'");
            }
            if (peek().kind == Tok::Word && upper(peek().text) == "OFFSET") unsupported("OFFSET");
            if (peek().kind == Tok::Comma) unsupported("LIMIT m, n");
        }
        accept(Tok::Semicolon);
        if (peek().kind != Tok::End) {
            const Token &t = peek();
            const std::string kw = upper(t.text);
            if (t.kind == Tok::Word) {
                if (kw == "ORDER" || kw == "GROUP") unsupported(kw + " BY");
                if (kw == "JOIN" || kw == "INNER" || kw == "LEFT" || kw == "RIGHT" || kw == "CROSS" ||
                    kw == "NATURAL" || kw == "FULL")
                    unsupported("JOIN");
                if (kw == "HAVING" || kw == "UNION" || kw == "OFFSET" || kw == "EXCEPT" || kw == "INTERSECT" ||
                    kw == "WHERE" || kw == "LIMIT" || kw == "FOR")
                    unsupported(kw + (kw == "WHERE" || kw == "LIMIT" ? " in this position" : ""));
            }
            if (t.kind == Tok::Semicolon || toks_[pos_ - 1].kind == Tok::Semicolon)
                syntax("one statement per execute: text follows the ';'");
            syntax("unexpected '" + t.text + "' at offset " + std::to_string(t.offset) + ": " + kGrammar);
        }
        return q;
    }

private:
    const Token &peek() const { return toks_[pos_]; }
    const Token &next() { return toks_[pos_ < toks_.size() - 1 ? pos_++ : pos_]; }
    bool accept(Tok k) {
        if (peek().kind != k) return false;
        ++pos_;
        return true;
    }
    bool accept_word(const char *kw) {
        if (peek().kind != Tok::Word || upper(peek().text) != kw) return false;
        ++pos_;
        return true;
    }

    Name name(const char *what) {
        const Token &t = next();
        if (t.kind == Tok::QuotedName) return {t.text, true};
        if (t.kind == Tok::Word) {
            if (peek().kind == Tok::LParen) unsupported("the function " + upper(t.text) + "(...)");
            if (peek().kind == Tok::Other && peek().text == ".") unsupported("a qualified name (" + t.text + ".)");
            return {t.text, false};
        }
        if (t.kind == Tok::End) syntax(std::string("expected ") + what + ", found the end of the statement");
        syntax(std::string("expected ") + what + ", found '" + t.text + "'");
    }

    Name select_item() {
        const Token &t = peek();
        if (t.kind == Tok::Number || t.kind == Tok::String || t.kind == Tok::Placeholder)
            unsupported("a literal value in the select list ('" + t.text + "')");
        if (t.kind == Tok::Star) unsupported("* mixed with column names");
        Name n = name("a column name or *");
        if (peek().kind == Tok::Other) unsupported("an expression in the select list ('" + peek().text + "')");
        if (peek().kind == Tok::Star) unsupported("an expression in the select list ('*')");
        return n;
    }

    Condition condition(Query &q) {
        Condition c;
        c.column = name("a column name in WHERE");
        const Token &op = next();
        if (op.kind != Tok::Equals) {
            if (op.kind == Tok::Word) unsupported("the operator " + upper(op.text) + " in WHERE (only col = ?)");
            if (op.kind == Tok::End) syntax("WHERE " + c.column.text + " needs '= ?'");
            unsupported("the operator '" + op.text + "' in WHERE (only col = ?)");
        }
        const Token &v = next();
        switch (v.kind) {
        case Tok::Placeholder: c.value = {Operand::Placeholder, "", q.placeholders++}; break;
        case Tok::String: c.value = {Operand::String, v.text, 0}; break;
        case Tok::Number: c.value = {Operand::Number, v.text, 0}; break;
        case Tok::Word:
        case Tok::QuotedName: unsupported("comparing two columns (" + c.column.text + " = " + v.text + ")");
        default: syntax("expected ?, a string or a number after '" + c.column.text + " =', found '" + v.text + "'");
        }
        return c;
    }

    std::vector<Token> toks_;
    size_t pos_ = 0;
};

} // namespace

Query parse_query(std::string_view sql) { return Parser(sql).parse(); }

} // namespace csv
