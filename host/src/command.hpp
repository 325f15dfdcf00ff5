// Shared pieces of the `ilana` commands: the command table, the global
// options every command gets, and how errors map to exit codes
// (0 success, 1 a check or query failed, 2 bad usage or bad config).
#pragma once

#include <boost/program_options.hpp>

#include <functional>
#include <stdexcept>
#include <string>
#include <vector>

namespace ilana::cli {

namespace po = boost::program_options;

constexpr int kExitOk = 0;
constexpr int kExitFailed = 1;
constexpr int kExitUsage = 2;

// Bad command line: printed as one line, exit 2.
struct UsageError : std::runtime_error {
    using std::runtime_error::runtime_error;
};

// Global options, parsed before the command's own.
struct Globals {
    std::string config_path = "ilana.config.json";
    std::string environment;
};

struct Command {
    std::string name;
    std::string summary;
    std::string usage; // "ilana query [--connection NAME] [--json] SQL"
    // Adds the command's options; `positional` names positional arguments.
    std::function<void(po::options_description &, po::positional_options_description &)> options;
    std::function<int(const Globals &, const po::variables_map &)> run;
};

// Every command registers itself here (see commands/*.cpp).
std::vector<Command> &registry();
struct Register {
    explicit Register(Command c) { registry().push_back(std::move(c)); }
};

} // namespace ilana::cli
