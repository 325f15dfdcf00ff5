#include "output/table.hpp"

#include <algorithm>
#include <iomanip>
#include <sstream>

namespace ilana::cli {

std::string fixed(double v, int digits) {
    std::ostringstream o;
    o << std::fixed << std::setprecision(digits) << v;
    return o.str();
}

size_t display_width(const std::string &s) {
    size_t w = 0;
    for (unsigned char c : s)
        if ((c & 0xC0u) != 0x80u) ++w;
    return w;
}

std::string single_line(const std::string &s) {
    std::string out;
    out.reserve(s.size());
    for (char c : s) {
        if (c == '\n') out += "\\n";
        else if (c == '\t') out += "\\t";
        else if (c == '\r') out += "\\r";
        else out += c;
    }
    return out;
}

void TextTable::print(std::ostream &out) const {
    std::vector<size_t> widths(header_.size(), 0);
    for (size_t i = 0; i < header_.size(); ++i) widths[i] = display_width(header_[i]);
    for (const auto &r : rows_)
        for (size_t i = 0; i < r.size() && i < widths.size(); ++i) widths[i] = std::max(widths[i], display_width(r[i]));
    auto line = [&](const std::vector<std::string> &cells) {
        for (size_t i = 0; i < widths.size(); ++i) {
            const std::string cell = i < cells.size() ? cells[i] : "";
            out << cell;
            if (i + 1 < widths.size()) out << std::string(widths[i] - display_width(cell) + 2, ' ');
        }
        out << '\n';
    };
    line(header_);
    std::vector<std::string> rule;
    for (size_t w : widths) rule.push_back(std::string(w, '-'));
    line(rule);
    for (const auto &r : rows_) line(r);
}

} // namespace ilana::cli
