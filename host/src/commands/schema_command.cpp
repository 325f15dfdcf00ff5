// ilana schema [--output FILE]: the JSON Schema of ilana.config.json for
// editors, with the connection parameters of the drivers found (the loader's
// own schema plus each driver's "ilana.params/1" declarations).
// docs/ilana.config.schema.json is this command's output for the bundled
// drivers; tests/integration/config_schema_file_test.cpp keeps the two equal.
#include "command.hpp"

#include <ilana/config_schema.hpp>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <iostream>

namespace ilana::cli {
namespace {

int run_schema(const Globals &g, const po::variables_map &vm) {
    const std::string schema = config_json_schema(load_drivers(g).drivers());
    if (!vm.count("output")) {
        std::cout << schema;
        return kExitOk;
    }
    const std::string path = vm["output"].as<std::string>();
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    if (out) out << schema;
    out.close();
    if (!out) throw UsageError("cannot write " + path + ": " + std::strerror(errno));
    std::cout << "wrote " << path << "\n";
    return kExitOk;
}

Command schema_command() {
    return Command{
    "schema", "print the JSON Schema of ilana.config.json (for editors), with the drivers' parameters",
    "schema [--output FILE]",
    [](po::options_description &d, po::positional_options_description &) {
        d.add_options()("output,o", po::value<std::string>(), "write to FILE instead of standard output");
    },
    run_schema};
}

} // namespace

void add_schema_commands(std::vector<Command> &commands) { commands.push_back(schema_command()); }

} // namespace ilana::cli
