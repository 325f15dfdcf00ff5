// ilana::cli::main — the `ilana` program as a library call (ilana/cli.hpp).
// Global options come before or after the command; each command has its own
// --help.
#include "command.hpp"

#include <ilana/driver.h>
#include <ilana/error.hpp>

#include <algorithm>
#include <iostream>

#ifndef ILANA_VERSION
#define ILANA_VERSION "0.0.0"
#endif

namespace ilana::cli {

Database open_database(const Globals &g) {
    Database db = Database::open(g.config_path, OpenOptions{g.environment, g.host->plugin_paths, g.host->hooks});
    // A registration for a connection that is not there would never run:
    // say so rather than migrate without it.
    const std::vector<std::string> names = db.connection_names();
    for (const auto &kv : g.host->migrations)
        if (std::find(names.begin(), names.end(), kv.first) == names.end()) {
            std::string list;
            for (const auto &n : names) list += (list.empty() ? "" : ", ") + n;
            throw ConfigError("code migrations are registered for connection '" + kv.first + "', which " +
                              g.config_path + " does not have (connections: " + list +
                              "): add it to the config or fix the name in the program");
        }
    return db;
}

Migrator migrator_for(const Globals &g, const Database &db, const std::string &connection) {
    Migrator m(db, connection);
    auto it = g.host->migrations.find(connection);
    if (it != g.host->migrations.end() && it->second) it->second(m);
    return m;
}

namespace {

std::vector<Command> all_commands() {
    std::vector<Command> commands;
    add_doctor_commands(commands);
    add_drivers_commands(commands);
    add_health_commands(commands);
    add_metrics_commands(commands);
    add_migrate_commands(commands);
    add_query_commands(commands);
    add_schema_commands(commands);
    add_serve_commands(commands);
    add_tenants_commands(commands);
    add_warmup_commands(commands);
    std::sort(commands.begin(), commands.end(), [](const Command &a, const Command &b) { return a.name < b.name; });
    return commands;
}

void add_globals(po::options_description &d, Globals &g) {
    d.add_options()("config,c", po::value(&g.config_path)->default_value("ilana.config.json"),
                    "config file (default ./ilana.config.json)")(
        "env,e", po::value(&g.environment), "environment section to use (overrides ILANA_ENV)")(
        "help,h", "show help")("version,V", "show the version");
}

void print_main_help(std::ostream &out, const std::string &program, const std::vector<Command> &commands) {
    out << "ilana " ILANA_VERSION " — multi-database connection framework\n\n"
        << "usage: " << program << " [--config FILE] [--env NAME] COMMAND [options]\n\ncommands:\n";
    for (const auto &c : commands) {
        std::string name = c.name;
        name.resize(std::max<size_t>(name.size() + 2, 18), ' ');
        out << "  " << name << c.summary << "\n";
    }
    out << "\nglobal options:\n"
        << "  -c, --config FILE   config file (default ./ilana.config.json)\n"
        << "  -e, --env NAME      environment section (overrides ILANA_ENV)\n"
        << "  -h, --help          help (also: " << program << " COMMAND --help)\n"
        << "  -V, --version       version\n"
        << "\nexit codes: 0 success, 1 a check or query failed, 2 bad usage or bad config\n";
}

} // namespace

int run(const std::vector<std::string> &arguments, const CliOptions &options) {
    std::vector<std::string> args = arguments;
    const std::string &program = options.program_name;
    const std::vector<Command> commands = all_commands();
    // The command is the first argument that is not an option (or the value
    // of --config / --env).
    int cmd_index = -1;
    for (size_t i = 0; i < args.size(); ++i) {
        const std::string &a = args[i];
        if (a == "--config" || a == "-c" || a == "--env" || a == "-e") {
            ++i;
            continue;
        }
        if (!a.empty() && a[0] != '-') {
            cmd_index = static_cast<int>(i);
            break;
        }
    }
    if (cmd_index < 0) {
        bool version = std::find(args.begin(), args.end(), "--version") != args.end() ||
                       std::find(args.begin(), args.end(), "-V") != args.end();
        if (version) {
            std::cout << "ilana " ILANA_VERSION " (driver ABI v" << ILANA_ABI_MAJOR << "." << ILANA_ABI_MINOR << ")\n";
            return kExitOk;
        }
        bool help = args.empty() || std::find(args.begin(), args.end(), "--help") != args.end() ||
                    std::find(args.begin(), args.end(), "-h") != args.end();
        print_main_help(help ? std::cout : std::cerr, program, commands);
        return help ? kExitOk : kExitUsage;
    }
    const std::string name = args[static_cast<size_t>(cmd_index)];
    const Command *cmd = nullptr;
    for (const auto &c : commands)
        if (c.name == name) cmd = &c;
    if (cmd == nullptr) {
        std::cerr << program << ": unknown command '" << name << "'; run '" << program << " --help' for the list\n";
        return kExitUsage;
    }
    args.erase(args.begin() + cmd_index);
    // Each form of the command's usage with the program in front: joined by
    // " | " on an error's one line, one per line under --help.
    std::string usage, usage_lines;
    for (std::string::size_type start = 0; start <= cmd->usage.size();) {
        auto end = cmd->usage.find('\n', start);
        if (end == std::string::npos) end = cmd->usage.size();
        const std::string form = program + " " + cmd->usage.substr(start, end - start);
        usage += (usage.empty() ? "" : " | ") + form;
        usage_lines += (usage_lines.empty() ? "" : "\n       ") + form;
        start = end + 1;
    }

    Globals globals;
    globals.host = &options;
    po::options_description all("options");
    add_globals(all, globals);
    po::options_description own(cmd->name + " options");
    po::positional_options_description positional;
    if (cmd->options) cmd->options(own, positional);
    all.add(own);
    po::variables_map vm;
    try {
        po::store(po::command_line_parser(args).options(all).positional(positional).run(), vm);
        if (vm.count("help")) {
            std::cout << "usage: " << usage_lines << "\n\n" << cmd->summary << "\n\n" << all << "\n";
            return kExitOk;
        }
        if (vm.count("version")) {
            std::cout << "ilana " ILANA_VERSION "\n";
            return kExitOk;
        }
        po::notify(vm);
    } catch (const po::error &e) {
        std::cerr << program << " " << name << ": " << e.what() << "; usage: " << usage << "\n";
        return kExitUsage;
    }
    try {
        return cmd->run(globals, vm);
    } catch (const UsageError &e) {
        std::cerr << program << " " << name << ": " << e.what() << "; usage: " << usage << "\n";
        return kExitUsage;
    } catch (const ilana::ConfigError &e) {
        std::cerr << program << ": " << e.what() << "\n";
        return kExitUsage;
    } catch (const ilana::Error &e) {
        std::cerr << program << ": " << e.what() << "\n";
        return kExitFailed;
    } catch (const std::exception &e) {
        std::cerr << program << ": " << e.what() << "\n";
        return kExitFailed;
    }
}

int main(int argc, char **argv, const CliOptions &options) {
    std::vector<std::string> args;
    for (int i = 1; i < argc; ++i) args.emplace_back(argv[i]);
    return run(args, options);
}

} // namespace ilana::cli
