// ilana/cli.hpp — the `ilana` command-line program as a library call, for
// host applications that want its commands (migrate, migrate:status,
// migrate:rollback, query, health, doctor, tenants:*, ...) inside their own
// program, with their C++ code migrations (Migrator::add) registered.
//
//   #include <ilana/cli.hpp>
//
//   int main(int argc, char **argv) {
//       if (argc > 1 && std::string(argv[1]) == "db") {   // myapp db migrate --connection=analytics
//           ilana::cli::CliOptions options;
//           options.program_name = "myapp db";
//           options.migrations["analytics"] = [](ilana::Migrator &m) {
//               m.add("20260101000000_sync_users", sync_users_up, sync_users_down);
//           };
//           return ilana::cli::main(argc - 1, argv + 1, options);
//       }
//       ...
//   }
//
// `myapp db ARGS` then behaves exactly like `ilana ARGS` (same options,
// output and exit codes: 0 success, 1 a check or query failed, 2 bad usage
// or bad config), except that the code migrations registered for a
// connection take part wherever that connection's migrations do:
// migrate:status lists them, migrate applies them and migrate:rollback
// undoes them, in one timeline with the connection's migration files,
// ordered by id (see ilana/migrator.hpp). Tenant migrations
// (`migrate --tenants`, tenants:*) are files only.
//
// Link: target ilana::cli (find_package(Ilana) from an installed prefix;
// the `ilana_cli_lib` target in the source tree). It brings ilana::core.
#pragma once

#include <ilana/hooks.hpp>
#include <ilana/migrator.hpp>

#include <functional>
#include <map>
#include <string>
#include <vector>

namespace ilana::cli {

// Registers a connection's code migrations on its Migrator (calls
// Migrator::add). Called once per Migrator the CLI makes for the
// connection, so it must register the same migrations every time.
using MigrationRegistration = std::function<void(Migrator &)>;

struct CliOptions {
    // Shown in usage and help text and error messages: "myapp db" makes
    // `usage: myapp db migrate [--connection NAME ...]`.
    std::string program_name = "ilana";
    // Code migrations, by connection name. A name that the config (of the
    // chosen environment) does not have is a config error (exit 2) for
    // every command that opens the config.
    std::map<std::string, MigrationRegistration> migrations;
    // Driver plugin directories searched before the config's
    // "plugins.paths" (OpenOptions::plugin_paths).
    std::vector<std::string> plugin_paths;
    // Lifecycle hooks of every Database the commands open (OpenOptions::hooks).
    Hooks hooks;
};

// Runs one command line the way `ilana` does: argv[0] is the program (not
// read; `program_name` is what is shown), argv[1..argc) the arguments
// (`migrate --connection=analytics`). Prints to stdout/stderr and returns
// the exit code; never throws and never calls exit().
int main(int argc, char **argv, const CliOptions &options = {});
// The same, with the arguments as strings (no program name).
int run(const std::vector<std::string> &args, const CliOptions &options = {});

} // namespace ilana::cli
