// ilana drivers [--json]: the driver plugins found, and the files refused.
#include "command.hpp"
#include "output/json.hpp"
#include "output/table.hpp"

#include <ilana/config.hpp>
#include <ilana/driver.h>
#include <ilana/driver_registry.hpp>

#include <boost/filesystem.hpp>

#include <cmath>
#include <iostream>

namespace ilana::cli {
namespace {

std::string join(const std::vector<std::string> &v, const char *sep = ", ") {
    std::string out;
    for (const auto &s : v) out += (out.empty() ? "" : sep) + s;
    return out;
}

// Bounds are doubles in the ABI; integral ones print as integers.
void write_number(JsonWriter &w, double v) {
    if (std::floor(v) == v && std::fabs(v) < 9.0e15) w.Int64(static_cast<int64_t>(v));
    else w.Double(v);
}

// A driver's declared connection parameters ("ilana.params/1"); null when
// it declares none (it then checks its parameters itself, at connect).
void write_params(JsonWriter &w, const DriverParams &params) {
    if (!params.declared) {
        w.Null();
        return;
    }
    w.StartObject();
    w.Key("complete"); w.Bool(!params.open);
    w.Key("list");
    w.StartArray();
    for (const auto &p : params.list) {
        w.StartObject();
        w.Key("key"); w.String(p.key);
        w.Key("type"); w.String(p.type);
        w.Key("required"); w.Bool(p.required);
        w.Key("secret"); w.Bool(p.secret);
        if (p.default_value) { w.Key("default"); w.String(*p.default_value); }
        if (!p.allowed.empty()) {
            w.Key("allowed");
            w.StartArray();
            for (const auto &a : p.allowed) w.String(a);
            w.EndArray();
            if (p.case_insensitive) { w.Key("caseInsensitive"); w.Bool(true); }
        }
        if (p.minimum) { w.Key("minimum"); write_number(w, *p.minimum); }
        if (p.maximum) { w.Key("maximum"); write_number(w, *p.maximum); }
        w.Key("description"); w.String(p.description);
        w.EndObject();
    }
    w.EndArray();
    w.EndObject();
}

// "filename*, mode, ..." (* = required); "-" when nothing is declared.
std::string param_summary(const DriverParams &params) {
    if (!params.declared) return "-";
    std::string out;
    for (const auto &p : params.list) out += (out.empty() ? "" : ", ") + p.key + (p.required ? "*" : "");
    return (out.empty() ? std::string("(none)") : out) + (params.open ? ", ..." : "");
}

int run_drivers(const Globals &g, const po::variables_map &vm) {
    const DriverRegistry reg = load_drivers(g);

    if (vm.count("json")) {
        rapidjson::StringBuffer buf;
        JsonWriter w(buf);
        w.StartObject();
        w.Key("drivers");
        w.StartArray();
        for (const auto &d : reg.drivers()) {
            w.StartObject();
            w.Key("id"); w.String(d.id);
            w.Key("name"); w.String(d.name);
            w.Key("version"); w.String(d.version);
            w.Key("abi"); w.String(std::to_string(d.abi_major) + "." + std::to_string(d.abi_minor));
            w.Key("clients");
            w.StartArray();
            for (const auto &c : d.clients) w.String(c);
            w.EndArray();
            w.Key("path"); w.String(d.path);
            w.Key("params"); write_params(w, d.params);
            w.EndObject();
        }
        w.EndArray();
        w.Key("refused");
        w.StartArray();
        for (const auto &r : reg.refused()) {
            w.StartObject();
            w.Key("path"); w.String(r.path);
            w.Key("reason"); w.String(r.reason);
            w.EndObject();
        }
        w.EndArray();
        w.Key("conflicts");
        w.StartArray();
        for (const auto &c : reg.conflicts()) w.String(c);
        w.EndArray();
        w.Key("searched");
        w.StartArray();
        for (const auto &s : reg.searched_directories()) w.String(s);
        w.EndArray();
        w.EndObject();
        std::cout << buf.GetString() << "\n";
        return kExitOk;
    }

    TextTable t({"driver", "version", "abi", "clients", "path"});
    for (const auto &d : reg.drivers())
        t.add({d.name, d.version, std::to_string(d.abi_major) + "." + std::to_string(d.abi_minor), join(d.clients),
               d.path});
    if (t.size() == 0) std::cout << "no drivers loaded\n";
    else t.print(std::cout);
    for (const auto &r : reg.refused()) std::cout << "refused: " << r.path << ": " << r.reason << "\n";
    for (const auto &c : reg.conflicts()) std::cout << "conflict: " << c << "\n";
    for (const auto &d : reg.drivers())
        std::cout << "parameters of " << d.id << " (* required): " << param_summary(d.params) << "\n";
    std::cout << "searched: " << join(reg.searched_directories()) << "\n";
    return kExitOk;
}

Command drivers_command() {
    return Command{
    "drivers", "list the driver plugins loaded and the files refused", "drivers [--json]",
    [](po::options_description &d, po::positional_options_description &) {
        d.add_options()("json", "print JSON");
    },
    run_drivers};
}

} // namespace

DriverRegistry load_drivers(const Globals &g) {
    // The config is optional here: without one, only the default directories
    // and ILANA_PLUGIN_PATH are searched. The embedding program's
    // directories come first, as in open_database.
    std::vector<std::string> paths = g.host->plugin_paths;
    if (boost::filesystem::exists(g.config_path)) {
        const std::vector<std::string> config_paths = Config::load_file(g.config_path, g.environment).plugin_paths();
        paths.insert(paths.end(), config_paths.begin(), config_paths.end());
    }
    DriverRegistry reg;
    reg.load_search_path(paths);
    return reg;
}

void add_drivers_commands(std::vector<Command> &commands) {
    commands.push_back(drivers_command());
}

} // namespace ilana::cli
