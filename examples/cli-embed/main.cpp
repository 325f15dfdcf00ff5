// myapp — a host application that carries ilana's command-line program as
// its `db` subcommand, with a code migration of its own (ilana/cli.hpp):
//
//   myapp db migrate --connection=analytics    same as `ilana migrate ...`,
//   myapp db migrate:status --connection=analytics     plus the code
//   myapp db migrate:rollback --connection=analytics   migrations below
//   myapp db --help                            every ilana command
//
// The analytics connection has a file migration
// (database/migrations/analytics/20260101000000_create_event_kinds.sql) and
// a code migration registered here (20260102000000_seed_event_kinds); they
// run in id order, in one timeline. Built in the source tree
// (build/bin/myapp) and against an installed ilana (find_package(Ilana)).
#include <ilana/cli.hpp>
#include <ilana/database.hpp>
#include <ilana/migrator.hpp>

#include <iostream>
#include <string>

#ifndef MYAPP_PLUGIN_DIR
#define MYAPP_PLUGIN_DIR ""
#endif

namespace {

// The event kinds every installation starts with. In code, not SQL, because
// a real application would derive them from its own tables.
void register_analytics_migrations(ilana::Migrator &m) {
    const std::string connection = m.connection_name();
    m.add(
        "20260102000000_seed_event_kinds",
        [connection](ilana::Database &db) {
            for (const char *kind : {"signup", "login", "purchase"})
                db.on(connection).execute("INSERT INTO event_kinds (name) VALUES (?)", {kind});
        },
        [connection](ilana::Database &db) {
            db.on(connection).execute("DELETE FROM event_kinds WHERE name IN ('signup', 'login', 'purchase')");
        });
}

} // namespace

int main(int argc, char **argv) {
    if (argc >= 2 && std::string(argv[1]) == "db") {
        ilana::cli::CliOptions options;
        options.program_name = "myapp db";
        // Outside <prefix>/bin the bundled drivers are not found by default.
        if (*MYAPP_PLUGIN_DIR != '\0') options.plugin_paths.push_back(MYAPP_PLUGIN_DIR);
        options.migrations["analytics"] = register_analytics_migrations;
        // argv[1] ("db") stands where the program name stands for `ilana`.
        return ilana::cli::main(argc - 1, argv + 1, options);
    }
    std::ostream &out = argc < 2 ? std::cout : std::cerr;
    out << "usage: myapp db COMMAND [options]   (the database commands; myapp db --help lists them)\n";
    return argc < 2 ? 0 : 2;
}
