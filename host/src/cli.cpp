// ilana — the command-line program. Global options come before or after the
// command; each command has its own --help.
#include "command.hpp"

#include <ilana/driver.h>
#include <ilana/error.hpp>

#include <algorithm>
#include <iostream>

#ifndef ILANA_VERSION
#define ILANA_VERSION "0.0.0"
#endif

namespace ilana::cli {

std::vector<Command> &registry() {
    static std::vector<Command> commands;
    return commands;
}

namespace {

void add_globals(po::options_description &d, Globals &g) {
    d.add_options()("config,c", po::value(&g.config_path)->default_value("ilana.config.json"),
                    "config file (default ./ilana.config.json)")(
        "env,e", po::value(&g.environment), "environment section to use (overrides ILANA_ENV)")(
        "help,h", "show help")("version,V", "show the version");
}

void print_main_help(std::ostream &out) {
    out << "ilana " ILANA_VERSION " — multi-database connection framework\n\n"
        << "usage: ilana [--config FILE] [--env NAME] COMMAND [options]\n\ncommands:\n";
    auto cmds = registry();
    std::sort(cmds.begin(), cmds.end(), [](const Command &a, const Command &b) { return a.name < b.name; });
    for (const auto &c : cmds) {
        std::string name = c.name;
        name.resize(std::max<size_t>(name.size() + 2, 18), ' ');
        out << "  " << name << c.summary << "\n";
    }
    out << "\nglobal options:\n"
        << "  -c, --config FILE   config file (default ./ilana.config.json)\n"
        << "  -e, --env NAME      environment section (overrides ILANA_ENV)\n"
        << "  -h, --help          help (also: ilana COMMAND --help)\n"
        << "  -V, --version       version\n"
        << "\nexit codes: 0 success, 1 a check or query failed, 2 bad usage or bad config\n";
}

} // namespace
} // namespace ilana::cli

int main(int argc, char **argv) {
    using namespace ilana::cli;
    std::vector<std::string> args(argv + 1, argv + argc);
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
        print_main_help(help ? std::cout : std::cerr);
        return help ? kExitOk : kExitUsage;
    }
    const std::string name = args[static_cast<size_t>(cmd_index)];
    const Command *cmd = nullptr;
    for (const auto &c : registry())
        if (c.name == name) cmd = &c;
    if (cmd == nullptr) {
        std::cerr << "ilana: unknown command '" << name << "'; run 'ilana --help' for the list\n";
        return kExitUsage;
    }
    args.erase(args.begin() + cmd_index);

    Globals globals;
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
            std::cout << "usage: " << cmd->usage << "\n\n" << cmd->summary << "\n\n" << all << "\n";
            return kExitOk;
        }
        if (vm.count("version")) {
            std::cout << "ilana " ILANA_VERSION "\n";
            return kExitOk;
        }
        po::notify(vm);
    } catch (const po::error &e) {
        std::cerr << "ilana " << name << ": " << e.what() << "; usage: " << cmd->usage << "\n";
        return kExitUsage;
    }
    try {
        return cmd->run(globals, vm);
    } catch (const UsageError &e) {
        std::cerr << "ilana " << name << ": " << e.what() << "; usage: " << cmd->usage << "\n";
        return kExitUsage;
    } catch (const ilana::ConfigError &e) {
        std::cerr << "ilana: " << e.what() << "\n";
        return kExitUsage;
    } catch (const ilana::Error &e) {
        std::cerr << "ilana: " << e.what() << "\n";
        return kExitFailed;
    } catch (const std::exception &e) {
        std::cerr << "ilana: " << e.what() << "\n";
        return kExitFailed;
    }
}
