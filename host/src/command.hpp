// Shared pieces of the `ilana` commands: the command table, the global
// options every command gets, and how errors map to exit codes
// (0 success, 1 a check or query failed, 2 bad usage or bad config).
#pragma once

#include <ilana/cli.hpp>
#include <ilana/database.hpp>
#include <ilana/driver_registry.hpp>
#include <ilana/migrator.hpp>

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

// Global options, parsed before the command's own, and what the embedding
// program passed to ilana::cli::main.
struct Globals {
    std::string config_path = "ilana.config.json";
    std::string environment;
    const CliOptions *host = nullptr; // never null while a command runs
};

// The config opened the way every command opens it: --env, the host's
// plugin paths and hooks. Throws ConfigError, also when the host registered
// code migrations for a connection the config does not have.
Database open_database(const Globals &g);
// The Migrator of a named connection with the host's code migrations added.
Migrator migrator_for(const Globals &g, const Database &db, const std::string &connection);

// The driver plugins `ilana drivers` and `ilana schema` describe: the
// embedding program's plugin paths, the config's when the config file exists
// (it is optional for them), then ILANA_PLUGIN_PATH and the defaults.
DriverRegistry load_drivers(const Globals &g);

struct Command {
    std::string name;
    std::string summary;
    // "query [--connection NAME] [--json] SQL", after the program name; a
    // command with several forms separates them with '\n' (each gets the
    // program name in front).
    std::string usage;
    // Adds the command's options; `positional` names positional arguments.
    std::function<void(po::options_description &, po::positional_options_description &)> options;
    std::function<int(const Globals &, const po::variables_map &)> run;
};

// Each commands/<area>_command.cpp adds its commands (listed in cli.cpp).
void add_doctor_commands(std::vector<Command> &commands);
void add_drivers_commands(std::vector<Command> &commands);
void add_health_commands(std::vector<Command> &commands);
void add_metrics_commands(std::vector<Command> &commands);
void add_migrate_commands(std::vector<Command> &commands);
void add_query_commands(std::vector<Command> &commands);
void add_schema_commands(std::vector<Command> &commands);
void add_serve_commands(std::vector<Command> &commands);
void add_tenants_commands(std::vector<Command> &commands);
void add_warmup_commands(std::vector<Command> &commands);

} // namespace ilana::cli
