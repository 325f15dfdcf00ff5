// ilana migrate, migrate:status, migrate:rollback, migrate:make,
// migrate:repair: the Migrator (ilana/migrator.hpp) per connection.
#include "command.hpp"
#include "commands/tenants_common.hpp"
#include "output/json.hpp"
#include "output/table.hpp"

#include <ilana/database.hpp>
#include <ilana/migrator.hpp>

#include <algorithm>
#include <cctype>
#include <iostream>

namespace ilana::cli {

namespace {

std::string connection_of(const Database &db, const po::variables_map &vm) {
    return vm.count("connection") ? vm["connection"].as<std::string>() : db.config().default_connection();
}

int lock_timeout(const po::variables_map &vm) { return vm["lock-timeout"].as<int>(); }

void add_connection_option(po::options_description &d) {
    d.add_options()("connection", po::value<std::string>(), "connection name (default: the config's default)");
}
void add_lock_option(po::options_description &d) {
    d.add_options()("lock-timeout", po::value<int>()->default_value(60000),
                    "wait at most this many ms for another runner's migration lock (-1: forever)");
}

std::string key(const std::string &id, const std::string &name) { return id + "_" + name; }

// ---- migrate -----------------------------------------------------------------

int migrate_one(const Globals &g, Database &db, const std::string &conn, const po::variables_map &vm) {
    Migrator m = migrator_for(g, db, conn);
    MigrateOptions opts;
    opts.dry_run = vm.count("dry-run") != 0;
    opts.allow_changed = vm.count("allow-changed") != 0;
    opts.lock_timeout_ms = lock_timeout(vm);
    opts.on_applied = [&](const AppliedMigration &a) {
        std::cout << "[" << conn << "] applied " << key(a.id, a.name) << " (" << a.duration_ms << " ms)" << std::endl;
    };
    MigrateReport r = m.migrate(opts);
    if (opts.dry_run) {
        if (r.planned.empty()) {
            std::cout << "[" << conn << "] nothing to migrate\n";
            return kExitOk;
        }
        for (const auto &p : r.planned) {
            std::cout << "-- [" << conn << "] would apply " << key(p.id, p.name) << " in batch " << r.batch;
            if (p.code) {
                std::cout << " (code migration, not shown)\n";
                continue;
            }
            std::cout << (p.transaction ? " (in a transaction)" : " (no transaction)") << " from " << p.file << "\n";
            for (const auto &s : p.statements) std::cout << s << ";\n";
            std::cout << "\n";
        }
        return kExitOk;
    }
    if (r.applied.empty())
        std::cout << "[" << conn << "] nothing to migrate\n";
    else
        std::cout << "[" << conn << "] " << r.applied.size() << " migration(s) applied in batch " << r.batch << "\n";
    return kExitOk;
}

int run_migrate(const Globals &g, const po::variables_map &vm) {
    if (vm.count("tenants")) {
        if (vm.count("all") || vm.count("connection") || vm.count("dry-run"))
            throw UsageError("--tenants (the tenant migrations of every tenant) excludes --connection, --all and --dry-run");
        MigrateOptions mo;
        mo.allow_changed = vm.count("allow-changed") != 0;
        mo.lock_timeout_ms = lock_timeout(vm);
        return tenant_cli::migrate_tenants(g, {}, vm["concurrency"].as<int>(), mo);
    }
    if (vm.count("all") && vm.count("connection")) throw UsageError("--all and --connection exclude each other");
    Database db = open_database(g);
    if (!vm.count("all")) return migrate_one(g, db, connection_of(db, vm), vm);
    for (const auto &name : db.connection_names()) migrate_one(g, db, name, vm);
    return kExitOk;
}

Command migrate_command() {
    return Command{
    "migrate", "apply pending migrations of a connection (or of all)",
    "migrate [--connection NAME | --all | --tenants [--concurrency N]] [--dry-run] [--allow-changed] [--lock-timeout MS]",
    [](po::options_description &d, po::positional_options_description &) {
        add_connection_option(d);
        d.add_options()("all", "migrate every connection of the config, in config order")(
            "tenants", "migrate every tenant with the tenant migrations (progress and summary; exit 1 if any failed)")(
            "concurrency", po::value<int>()->default_value(10), "with --tenants: tenants migrated at once")(
            "dry-run", "print the SQL that would run; change nothing")(
            "allow-changed", "go on although an applied migration file has changed");
        add_lock_option(d);
    },
    run_migrate};
}

// ---- migrate:status ------------------------------------------------------------

int run_status(const Globals &g, const po::variables_map &vm) {
    Database db = open_database(g);
    const std::string conn = connection_of(db, vm);
    Migrator m = migrator_for(g, db, conn);
    std::vector<MigrationStatus> list = m.status();
    const std::vector<StrayFile> strays = m.stray_files();
    // A near miss stops every other migrate command: status shows the
    // migrations it can, names the file, and exits as they do.
    const bool near_miss =
        std::any_of(strays.begin(), strays.end(), [](const StrayFile &f) { return f.near_miss; });
    const int exit_code = near_miss ? kExitUsage : kExitOk;
    if (vm.count("json")) {
        rapidjson::StringBuffer buf;
        JsonWriter w(buf);
        w.StartObject();
        w.Key("connection"); w.String(conn);
        w.Key("table"); w.String(m.options().table_name);
        w.Key("schema");
        if (m.options().schema_name.empty()) w.Null(); else w.String(m.options().schema_name);
        w.Key("directory"); w.String(m.options().directory);
        w.Key("migrations");
        w.StartArray();
        for (const auto &s : list) {
            w.StartObject();
            w.Key("id"); w.String(s.id);
            w.Key("name"); w.String(s.name);
            w.Key("state"); w.String(to_string(s.state));
            w.Key("batch");
            if (s.batch > 0) w.Int64(s.batch); else w.Null();
            w.Key("appliedAt");
            if (s.applied_at.empty()) w.Null(); else w.String(s.applied_at);
            w.Key("checksum"); w.String(s.checksum);
            w.Key("file");
            if (s.file.empty()) w.Null(); else w.String(s.file);
            w.Key("code"); w.Bool(s.code);
            w.Key("failedStatement");
            if (s.failed_statement.empty()) w.Null(); else w.String(s.failed_statement);
            w.EndObject();
        }
        w.EndArray();
        w.Key("strayFiles");
        w.StartArray();
        for (const auto &f : strays) {
            w.StartObject();
            w.Key("file"); w.String(f.file);
            w.Key("severity"); w.String(f.near_miss ? "error" : "warning");
            w.Key("problem"); w.String(f.problem);
            w.EndObject();
        }
        w.EndArray();
        w.EndObject();
        std::cout << buf.GetString() << "\n";
        return exit_code;
    }
    auto print_strays = [&] {
        for (const auto &f : strays)
            (f.near_miss ? std::cerr : std::cout)
                << (f.near_miss ? "error: " : "warning: ") << f.file << ": " << f.problem
                << (f.near_miss ? "\n" : " (ignored)\n");
    };
    if (list.empty()) {
        std::cout << "[" << conn << "] no migrations (directory " << m.options().directory << ")\n";
        print_strays();
        return exit_code;
    }
    TextTable t({"id", "name", "state", "batch", "applied_at", "checksum"});
    for (const auto &s : list) {
        std::string state = to_string(s.state);
        if (s.state == MigrationState::missing && s.code) state += " (code)";
        t.add({s.id, single_line(s.name), state, s.batch > 0 ? std::to_string(s.batch) : "",
               s.applied_at, s.checksum.substr(0, 12)});
    }
    t.print(std::cout);
    for (const auto &s : list)
        if (!s.failed_statement.empty() && (s.state == MigrationState::failed || s.state == MigrationState::running))
            std::cout << key(s.id, s.name) << " " << to_string(s.state) << " at: " << single_line(s.failed_statement)
                      << "\n";
    print_strays();
    return exit_code;
}

Command status_command() {
    return Command{
    "migrate:status", "list a connection's migrations (applied, pending, changed, missing, failed) and the other files there",
    "migrate:status [--connection NAME] [--json]",
    [](po::options_description &d, po::positional_options_description &) {
        add_connection_option(d);
        d.add_options()("json", "print a JSON object");
    },
    run_status};
}

// ---- migrate:rollback ----------------------------------------------------------

int run_rollback(const Globals &g, const po::variables_map &vm) {
    if (vm.count("step") && vm.count("batch")) throw UsageError("--step and --batch exclude each other");
    RollbackOptions opts;
    if (vm.count("step")) {
        opts.steps = vm["step"].as<int>();
        if (opts.steps < 1) throw UsageError("--step needs a number of migrations >= 1");
    }
    opts.allow_changed = vm.count("allow-changed") != 0;
    opts.lock_timeout_ms = lock_timeout(vm);
    Database db = open_database(g);
    const std::string conn = connection_of(db, vm);
    opts.on_rolled_back = [&](const AppliedMigration &a) {
        std::cout << "[" << conn << "] rolled back " << key(a.id, a.name) << " (" << a.duration_ms << " ms)"
                  << std::endl;
    };
    RollbackReport r = migrator_for(g, db, conn).rollback(opts);
    if (r.rolled_back.empty()) std::cout << "[" << conn << "] nothing to roll back\n";
    return kExitOk;
}

Command rollback_command() {
    return Command{
    "migrate:rollback", "undo the last batch of migrations (or the last N)",
    "migrate:rollback [--connection NAME] [--step N | --batch] [--allow-changed] [--lock-timeout MS]",
    [](po::options_description &d, po::positional_options_description &) {
        add_connection_option(d);
        d.add_options()("step", po::value<int>(), "undo the N most recent migrations")(
            "batch", "undo the last batch (the default)")(
            "allow-changed", "run the down section of a file changed since it was applied");
        add_lock_option(d);
    },
    run_rollback};
}

// ---- migrate:make --------------------------------------------------------------

int run_make(const Globals &g, const po::variables_map &vm) {
    if (!vm.count("name")) throw UsageError("missing the migration name");
    const std::string name = vm["name"].as<std::string>();
    for (char c : name)
        if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_' && c != '-')
            throw UsageError("'" + name + "' is not a migration name: use letters, digits, '_' and '-'");
    Database db = open_database(g);
    std::cout << migrator_for(g, db, connection_of(db, vm)).make(name) << "\n";
    return kExitOk;
}

Command make_command() {
    return Command{
    "migrate:make", "create an empty migration file (YYYYMMDDHHMMSS_NAME.sql)",
    "migrate:make NAME [--connection NAME]",
    [](po::options_description &d, po::positional_options_description &p) {
        add_connection_option(d);
        d.add_options()("name", po::value<std::string>(), "the migration's name (letters, digits, _ and -)");
        p.add("name", 1);
    },
    run_make};
}

// ---- migrate:repair ------------------------------------------------------------

int run_repair(const Globals &g, const po::variables_map &vm) {
    RepairOptions opts;
    opts.update_checksums = vm.count("update-checksums") != 0;
    opts.mark_applied = vm.count("mark-applied") != 0;
    opts.lock_timeout_ms = lock_timeout(vm);
    Database db = open_database(g);
    const std::string conn = connection_of(db, vm);
    RepairReport r = migrator_for(g, db, conn).repair(opts);
    for (const auto &k : r.cleared)
        std::cout << "[" << conn << "] " << k
                  << (opts.mark_applied ? ": failed mark cleared, recorded as applied\n"
                                        : ": failed mark cleared, pending again\n");
    for (const auto &k : r.checksums_updated) std::cout << "[" << conn << "] " << k << ": new checksum recorded\n";
    if (r.cleared.empty() && r.checksums_updated.empty()) std::cout << "[" << conn << "] nothing to repair\n";
    return kExitOk;
}

Command repair_command() {
    return Command{
    "migrate:repair", "clear failed marks after a manual fix; optionally re-record changed checksums",
    "migrate:repair [--connection NAME] [--mark-applied] [--update-checksums] [--lock-timeout MS]",
    [](po::options_description &d, po::positional_options_description &) {
        add_connection_option(d);
        d.add_options()("mark-applied", "record failed migrations as applied (you completed them by hand) "
                                        "instead of pending (they run again)")(
            "update-checksums", "record the current checksum of applied files that changed");
        add_lock_option(d);
    },
    run_repair};
}

} // namespace

void add_migrate_commands(std::vector<Command> &commands) {
    commands.push_back(migrate_command());
    commands.push_back(status_command());
    commands.push_back(rollback_command());
    commands.push_back(make_command());
    commands.push_back(repair_command());
}

} // namespace ilana::cli
