// ilana query [--connection NAME] [--json] "SQL": run one statement.
#include "command.hpp"
#include "output/json.hpp"
#include "output/table.hpp"

#include <ilana/database.hpp>

#include <iostream>

namespace ilana::cli {
namespace {

int run_query(const Globals &g, const po::variables_map &vm) {
    if (!vm.count("sql")) throw UsageError("missing the SQL statement to run");
    const std::string sql = vm["sql"].as<std::string>();
    Database db = open_database(g);
    Connection conn = vm.count("connection") ? db.on(vm["connection"].as<std::string>()) : db.default_connection();
    Result r = conn.query(sql);

    if (vm.count("json")) {
        rapidjson::StringBuffer buf;
        JsonWriter w(buf);
        if (r.columns().empty()) {
            w.StartObject();
            w.Key("affectedRows"); w.Int64(r.affected_rows());
            w.Key("lastInsertId"); w.Int64(r.last_insert_id());
            w.EndObject();
        } else {
            write_rows(w, r);
        }
        std::cout << buf.GetString() << "\n";
        return kExitOk;
    }
    if (r.columns().empty()) {
        std::cout << "ok";
        if (r.affected_rows() >= 0) std::cout << ", " << r.affected_rows() << " row(s) affected";
        if (r.last_insert_id() != 0) std::cout << ", last insert id " << r.last_insert_id();
        std::cout << "\n";
        return kExitOk;
    }
    std::vector<std::string> header;
    for (const auto &c : r.columns()) header.push_back(c.name);
    TextTable t(header);
    for (Row row : r) {
        std::vector<std::string> cells;
        for (size_t i = 0; i < row.size(); ++i) cells.push_back(single_line(row[i].to_string()));
        t.add(std::move(cells));
    }
    t.print(std::cout);
    std::cout << "(" << r.size() << (r.size() == 1 ? " row)\n" : " rows)\n");
    return kExitOk;
}

Command query_command() {
    return Command{
    "query", "run one SQL statement and print its rows", "query [--connection NAME] [--json] \"SQL\"",
    [](po::options_description &d, po::positional_options_description &p) {
        d.add_options()("connection", po::value<std::string>(), "connection name (default: the config's default)")(
            "json", "print rows as a JSON array of objects")("sql", po::value<std::string>(), "the statement");
        p.add("sql", 1);
    },
    run_query};
}

} // namespace

void add_query_commands(std::vector<Command> &commands) {
    commands.push_back(query_command());
}

} // namespace ilana::cli
