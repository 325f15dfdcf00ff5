#include "config/dotenv.hpp"

#include "common/text_file.hpp"
#include "config/json_util.hpp"

#include <ilana/error.hpp>

#include <algorithm>
#include <filesystem>

namespace ilana::config_detail {

namespace {

bool is_space(char c) { return c == ' ' || c == '\t'; }
bool is_key_start(char c) { return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_'; }
bool is_key_char(char c) { return is_key_start(c) || (c >= '0' && c <= '9') || c == '.' || c == '-'; }

class DotEnvParser {
public:
    DotEnvParser(const std::string &text, const std::string &file) : text_(text), file_(file) {}

    DotEnv parse() {
        refuse_control_characters();
        DotEnv out;
        while (pos_ < text_.size()) {
            skip_spaces();
            if (at_line_end()) {
                next_line();
                continue;
            }
            if (peek() == '#') {
                skip_to_line_end();
                next_line();
                continue;
            }
            const int line = line_;
            if (text_.compare(pos_, 7, "export ") == 0) {
                pos_ += 7;
                skip_spaces();
            }
            std::string key = read_key(line);
            skip_spaces();
            if (peek() != '=') fail(line, "expected KEY=VALUE");
            ++pos_;
            skip_spaces();
            out[key] = read_value(line);
            next_line();
        }
        return out;
    }

private:
    [[noreturn]] void fail(int line, const std::string &what) const {
        throw ConfigError(":" + std::to_string(line) + ": " + what, file_);
    }

    // Refused before parsing (find_control_character), naming the line,
    // never the value.
    void refuse_control_characters() const {
        const auto at = find_control_character(text_);
        if (at == std::string::npos) return;
        const auto before = text_.begin() + static_cast<std::ptrdiff_t>(at);
        const int line = 1 + static_cast<int>(std::count(text_.begin(), before, '\n'));
        const auto c = static_cast<unsigned char>(text_[at]);
        fail(line, c == 0 ? std::string("a NUL byte, which would cut the value short: remove it")
                          : control_character_name(c) + ": remove it (write \\n or \\t inside double quotes)");
    }

    char peek() const { return pos_ < text_.size() ? text_[pos_] : '\0'; }
    bool at_line_end() const {
        return pos_ >= text_.size() || text_[pos_] == '\n' ||
               (text_[pos_] == '\r' && (pos_ + 1 >= text_.size() || text_[pos_ + 1] == '\n'));
    }
    void skip_spaces() {
        while (pos_ < text_.size() && is_space(text_[pos_])) ++pos_;
    }
    void skip_to_line_end() {
        while (!at_line_end()) ++pos_;
    }
    // Consumes the line terminator (if any).
    void next_line() {
        if (pos_ < text_.size() && text_[pos_] == '\r') ++pos_;
        if (pos_ < text_.size() && text_[pos_] == '\n') {
            ++pos_;
            ++line_;
        }
    }

    std::string read_key(int line) {
        if (!is_key_start(peek())) fail(line, "expected KEY=VALUE (a key starts with a letter or '_')");
        const auto begin = pos_;
        while (pos_ < text_.size() && is_key_char(text_[pos_])) ++pos_;
        return text_.substr(begin, pos_ - begin);
    }

    std::string read_value(int line) {
        const char quote = peek();
        if (quote == '\'' || quote == '"') {
            ++pos_;
            std::string value;
            for (;;) {
                if (pos_ >= text_.size()) fail(line, "unterminated quoted value");
                const char c = text_[pos_++];
                if (c == quote) break;
                if (c == '\n') ++line_;
                if (c == '\\' && quote == '"' && pos_ < text_.size()) {
                    const char e = text_[pos_];
                    switch (e) {
                    case 'n': value.push_back('\n'); ++pos_; continue;
                    case 'r': value.push_back('\r'); ++pos_; continue;
                    case 't': value.push_back('\t'); ++pos_; continue;
                    case '"': value.push_back('"'); ++pos_; continue;
                    case '\\': value.push_back('\\'); ++pos_; continue;
                    default: break; // kept as written
                    }
                }
                value.push_back(c);
            }
            skip_spaces();
            if (peek() == '#') skip_to_line_end();
            if (!at_line_end()) fail(line_, "unexpected text after the closing quote");
            return value;
        }
        const auto begin = pos_;
        skip_to_line_end();
        std::string value = text_.substr(begin, pos_ - begin);
        // " #" starts a comment in an unquoted value.
        for (std::string::size_type i = 0; i < value.size(); ++i) {
            if (value[i] == '#' && (i == 0 || is_space(value[i - 1]))) {
                value.erase(i);
                break;
            }
        }
        while (!value.empty() && (is_space(value.back()) || value.back() == '\r')) value.pop_back();
        return value;
    }

    const std::string &text_;
    const std::string &file_;
    std::string::size_type pos_ = 0;
    int line_ = 1;
};

} // namespace

DotEnv parse_dotenv(const std::string &text, const std::string &file) {
    return DotEnvParser(text, file).parse();
}

std::string dotenv_path(const std::string &dir) { return (std::filesystem::path(dir) / ".env").string(); }

std::string read_dotenv_text(const std::string &dir) {
    if (dir.empty()) return {};
    const std::string path = dotenv_path(dir);
    std::error_code ec;
    // Absent is fine (the .env is optional); anything else at that name that
    // is not a regular file is read_text_file's error, not silently skipped.
    if (!std::filesystem::exists(std::filesystem::symlink_status(path, ec))) return {};
    try {
        return detail::read_text_file(path, detail::kDotEnvFileLimit, ".env file");
    } catch (const detail::TextFileError &e) {
        throw ConfigError(e.what(), path);
    }
}

DotEnv read_dotenv(const std::string &dir) {
    if (dir.empty()) return {};
    return parse_dotenv(read_dotenv_text(dir), dotenv_path(dir));
}

} // namespace ilana::config_detail
