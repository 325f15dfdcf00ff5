// Reading the Prometheus text exposition (format 0.0.4) that ilana serves,
// for `ilana metrics --url`: only samples (name, labels, value); comments,
// HELP/TYPE and timestamps are skipped.
#pragma once

#include <map>
#include <string>
#include <vector>

namespace ilana::cli {

struct Sample {
    std::string name;
    std::map<std::string, std::string> labels;
    double value = 0;
};

// Throws std::runtime_error naming the line for a line that is not a
// sample.
std::vector<Sample> parse_exposition(const std::string &text);

} // namespace ilana::cli
