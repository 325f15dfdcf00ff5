#include "scrape/exposition.hpp"

#include <cmath>
#include <cstdlib>
#include <stdexcept>

namespace ilana::cli {
namespace {

bool name_char(char c, bool first) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':' || (!first && c >= '0' && c <= '9');
}

[[noreturn]] void bad(size_t line_no, const std::string &line, const char *what) {
    throw std::runtime_error("metrics line " + std::to_string(line_no) + ": " + what + ": " + line.substr(0, 120));
}

} // namespace

std::vector<Sample> parse_exposition(const std::string &text) {
    std::vector<Sample> out;
    size_t line_no = 0;
    for (size_t start = 0; start < text.size();) {
        size_t end = text.find('\n', start);
        if (end == std::string::npos) end = text.size();
        const std::string line = text.substr(start, end - start);
        start = end + 1;
        ++line_no;
        if (line.empty() || line[0] == '#') continue;
        Sample s;
        size_t i = 0;
        while (i < line.size() && name_char(line[i], i == 0)) ++i;
        if (i == 0) bad(line_no, line, "expected a metric name");
        s.name = line.substr(0, i);
        if (i < line.size() && line[i] == '{') {
            ++i;
            for (;;) {
                while (i < line.size() && (line[i] == ' ' || line[i] == ',')) ++i;
                if (i < line.size() && line[i] == '}') {
                    ++i;
                    break;
                }
                size_t k = i;
                while (i < line.size() && name_char(line[i], i == k)) ++i;
                if (i == k || i + 1 >= line.size() || line[i] != '=' || line[i + 1] != '"')
                    bad(line_no, line, "expected label=\"value\"");
                std::string key = line.substr(k, i - k), value;
                i += 2;
                for (; i < line.size() && line[i] != '"'; ++i) {
                    if (line[i] == '\\' && i + 1 < line.size()) {
                        ++i;
                        value += line[i] == 'n' ? '\n' : line[i];
                    } else {
                        value += line[i];
                    }
                }
                if (i >= line.size()) bad(line_no, line, "unterminated label value");
                ++i;
                s.labels[std::move(key)] = std::move(value);
            }
        }
        while (i < line.size() && line[i] == ' ') ++i;
        const std::string value = line.substr(i, line.find(' ', i) == std::string::npos ? std::string::npos
                                                                                         : line.find(' ', i) - i);
        if (value == "+Inf") s.value = INFINITY;
        else if (value == "-Inf") s.value = -INFINITY;
        else if (value == "NaN") s.value = NAN;
        else {
            char *stop = nullptr;
            s.value = std::strtod(value.c_str(), &stop);
            if (value.empty() || stop == nullptr || *stop != '\0') bad(line_no, line, "expected a number");
        }
        out.push_back(std::move(s));
    }
    return out;
}

} // namespace ilana::cli
