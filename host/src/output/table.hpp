// Aligned text tables for human output (UTF-8 aware column widths).
#pragma once

#include <ostream>
#include <string>
#include <vector>

namespace ilana::cli {

class TextTable {
public:
    explicit TextTable(std::vector<std::string> header) : header_(std::move(header)) {}
    void add(std::vector<std::string> row) { rows_.push_back(std::move(row)); }
    size_t size() const { return rows_.size(); }
    void print(std::ostream &out) const;

private:
    std::vector<std::string> header_;
    std::vector<std::vector<std::string>> rows_;
};

// Display width of UTF-8 text (code points; control characters escaped).
size_t display_width(const std::string &s);
// One line: newlines and tabs shown as \n and \t.
std::string single_line(const std::string &s);

// `v` with `digits` decimals ("12.5"), for latencies and rates in tables.
std::string fixed(double v, int digits);

} // namespace ilana::cli
