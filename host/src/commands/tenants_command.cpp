// ilana tenants:list, tenants:create, tenants:drop, tenants:migrate,
// tenants:seed, tenants:drift, tenants:clone — the TenantManager
// (ilana/tenants.hpp) from the command line.
#include "commands/tenants_common.hpp"
#include "output/json.hpp"
#include "output/table.hpp"

#include <ilana/database.hpp>
#include <ilana/tenants.hpp>

#include <fstream>
#include <iostream>
#include <sstream>

namespace ilana::cli {

namespace {

using namespace tenant_cli;

// ---- tenants:list ------------------------------------------------------------

int run_list(const Globals &g, const po::variables_map &vm) {
    Database db = open_database(g);
    TenantManager tenants(db);
    const std::vector<std::string> ids = tenants.discover();
    if (vm.count("json")) {
        rapidjson::StringBuffer buf;
        JsonWriter w(buf);
        w.StartObject();
        w.Key("source"); w.String(tenants.discovery_source());
        w.Key("count"); w.Int(static_cast<int>(ids.size()));
        w.Key("maxPools"); w.Int(tenants.options().max_pools);
        w.Key("tenants");
        w.StartArray();
        for (const auto &id : ids) {
            w.StartObject();
            w.Key("id"); w.String(id);
            w.Key("namespace"); w.String(tenants.namespace_of(id));
            w.EndObject();
        }
        w.EndArray();
        w.EndObject();
        std::cout << buf.GetString() << "\n";
        return kExitOk;
    }
    if (ids.empty()) {
        std::cout << "no tenants found (discovery: " << tenants.discovery_source() << ")\n";
        return kExitOk;
    }
    TextTable t({"tenant", "namespace"});
    for (const auto &id : ids) t.add({id, tenants.namespace_of(id)});
    t.print(std::cout);
    std::cout << ids.size() << " tenant(s) (discovery: " << tenants.discovery_source()
              << ", maxPools=" << tenants.options().max_pools << ")\n";
    return kExitOk;
}

Command list_command() {
    return Command{"tenants:list", "list the tenants (discovery list, query, or the namespaces that exist)",
                          "tenants:list [--json]",
                          [](po::options_description &d, po::positional_options_description &) {
                              d.add_options()("json", "print a JSON object");
                          },
                          run_list};
}

// ---- tenants:create ----------------------------------------------------------

int run_create(const Globals &g, const po::variables_map &vm) {
    if (!vm.count("id")) throw UsageError("missing the tenant id");
    const std::string id = tenant_arg(vm["id"].as<std::string>());
    Database db = open_database(g);
    TenantManager tenants(db);
    CreateTenantOptions opts;
    opts.migrate = vm.count("no-migrate") == 0;
    MigrateReport r = tenants.create_tenant(id, opts);
    std::cout << "created tenant " << id << " (" << tenants.namespace_of(id) << ")";
    if (opts.migrate) std::cout << ", " << r.applied.size() << " migration(s) applied";
    std::cout << "\n";
    return kExitOk;
}

Command create_command() {
    return Command{"tenants:create", "create a tenant's namespace and run the tenant migrations",
                            "tenants:create ID [--no-migrate]",
                            [](po::options_description &d, po::positional_options_description &p) {
                                d.add_options()("id", po::value<std::string>(), "the tenant id")(
                                    "no-migrate", "create the namespace only");
                                p.add("id", 1);
                            },
                            run_create};
}

// ---- tenants:drop ------------------------------------------------------------

int run_drop(const Globals &g, const po::variables_map &vm) {
    if (!vm.count("id")) throw UsageError("missing the tenant id");
    const std::string id = tenant_arg(vm["id"].as<std::string>());
    Database db = open_database(g);
    TenantManager tenants(db);
    if (!vm.count("force"))
        throw UsageError("refusing to drop tenant " + id + " (" + tenants.namespace_of(id) +
                         ") and all its data without --force");
    tenants.drop_tenant(id);
    std::cout << "dropped tenant " << id << " (" << tenants.namespace_of(id) << ")\n";
    return kExitOk;
}

Command drop_command() {
    return Command{"tenants:drop", "drop a tenant's namespace and all its data (needs --force)",
                          "tenants:drop ID --force",
                          [](po::options_description &d, po::positional_options_description &p) {
                              d.add_options()("id", po::value<std::string>(), "the tenant id")(
                                  "force", "really drop it");
                              p.add("id", 1);
                          },
                          run_drop};
}

// ---- tenants:migrate ---------------------------------------------------------

int run_migrate(const Globals &g, const po::variables_map &vm) {
    MigrateOptions mo;
    mo.allow_changed = vm.count("allow-changed") != 0;
    mo.lock_timeout_ms = vm["lock-timeout"].as<int>();
    std::vector<std::string> only;
    if (vm.count("tenants")) only = parse_tenant_list(vm["tenants"].as<std::string>());
    return migrate_tenants(g, only, vm["concurrency"].as<int>(), mo);
}

Command migrate_command() {
    return Command{
    "tenants:migrate", "apply the tenant migrations to every tenant (same as migrate --tenants)",
    "tenants:migrate [--tenants a,b] [--concurrency N] [--allow-changed] [--lock-timeout MS]",
    [](po::options_description &d, po::positional_options_description &) {
        d.add_options()("tenants", po::value<std::string>(), "only these tenants (comma-separated)")(
            "concurrency", po::value<int>()->default_value(10), "tenants migrated at once")(
            "allow-changed", "go on although an applied migration file has changed")(
            "lock-timeout", po::value<int>()->default_value(60000), "wait at most this many ms for a tenant's lock");
    },
    run_migrate};
}

// ---- tenants:seed ------------------------------------------------------------

int run_seed(const Globals &g, const po::variables_map &vm) {
    if (!vm.count("file")) throw UsageError("missing the SQL file");
    if (vm.count("tenant") == vm.count("all")) throw UsageError("give either --tenant ID or --all");
    const int concurrency = vm["concurrency"].as<int>();
    if (concurrency < 1) throw UsageError("--concurrency needs a number >= 1");
    Database db = open_database(g);
    TenantManager tenants(db);
    const std::vector<std::string> ids =
        vm.count("all") ? tenants.discover() : parse_tenant_list(vm["tenant"].as<std::string>());
    auto progress = start_progress(ids.size(), "seeding");
    SeedOptions opts;
    opts.concurrency = concurrency;
    opts.on_progress = [&](const std::string &id, const std::string &status) {
        step_progress(*progress, id, status, status != "success");
    };
    SeedResult r = tenants.seed_file(ids, vm["file"].as<std::string>(), opts);
    finish_progress(*progress);
    std::cout << "Seeded " << r.total << " tenant(s): " << r.succeeded << " succeeded, " << r.failed << " failed in "
              << seconds(r.duration_ms) << "\n";
    for (const auto &d : r.details)
        if (!d.success) std::cout << "  \u2717 " << d.tenant_id << ": " << d.error << "\n";
    return r.failed > 0 ? kExitFailed : kExitOk;
}

Command seed_command() {
    return Command{"tenants:seed", "run an SQL file in one tenant or in every tenant",
                          "tenants:seed [--tenant ID | --all] [--concurrency N] FILE.sql",
                          [](po::options_description &d, po::positional_options_description &p) {
                              d.add_options()("tenant", po::value<std::string>(), "the tenant (or a,b,c)")(
                                  "all", "every discovered tenant")(
                                  "concurrency", po::value<int>()->default_value(10), "tenants seeded at once")(
                                  "file", po::value<std::string>(), "the SQL file");
                              p.add("file", 1);
                          },
                          run_seed};
}

// ---- tenants:drift -----------------------------------------------------------

int run_drift(const Globals &g, const po::variables_map &vm) {
    Database db = open_database(g);
    TenantManager tenants(db);
    DriftOptions opts;
    if (vm.count("reference")) opts.reference = tenant_arg(vm["reference"].as<std::string>());
    if (vm.count("tenants")) opts.tenant_ids = parse_tenant_list(vm["tenants"].as<std::string>());
    opts.include_indexes = vm.count("no-indexes") == 0;
    opts.include_defaults = vm.count("no-defaults") == 0;
    SchemaDriftResult r = tenants.drift(opts);
    const bool bad = r.with_drift > 0 || r.error > 0;
    if (vm.count("json")) {
        std::cout << r.to_json() << "\n";
        return bad ? kExitFailed : kExitOk;
    }
    if (r.total == 0) {
        std::cout << "no tenants found (discovery: " << tenants.discovery_source() << ")\n";
        return kExitOk;
    }
    for (const auto &d : r.details) {
        if (!d.error.empty()) {
            std::cout << "\u2717 " << d.tenant_id << ": introspection failed: " << d.error << "\n";
            continue;
        }
        if (!d.has_drift) continue;
        std::cout << "\u2717 " << d.tenant_id << " (" << d.namespace_name << "): " << d.issue_count << " difference(s)\n";
        for (const auto &t : d.tables) {
            if (t.status == "missing") std::cout << "    table " << t.table << " is missing\n";
            else if (t.status == "extra") std::cout << "    table " << t.table << " is not in the reference\n";
            for (const auto &c : t.columns) std::cout << "    " << t.table << ": " << c.description << "\n";
            for (const auto &ix : t.indexes) std::cout << "    " << t.table << ": " << ix.description << "\n";
        }
    }
    std::cout << "Schema drift against " << r.reference_tenant << ": " << r.total << " tenant(s), " << r.no_drift
              << " without drift, " << r.with_drift << " with drift, " << r.error << " failed (" << seconds(r.duration_ms)
              << ")\n";
    return bad ? kExitFailed : kExitOk;
}

Command drift_command() {
    return Command{"tenants:drift", "compare every tenant's schema with a reference tenant (exit 1 on drift)",
                           "tenants:drift [--reference ID] [--tenants a,b] [--no-indexes] [--no-defaults] [--json]",
                           [](po::options_description &d, po::positional_options_description &) {
                               d.add_options()("reference", po::value<std::string>(),
                                               "the reference tenant (default: the first discovered)")(
                                   "tenants", po::value<std::string>(), "only these tenants (comma-separated)")(
                                   "no-indexes", "do not compare indexes")("no-defaults", "do not compare defaults")(
                                   "json", "print the result as JSON");
                           },
                           run_drift};
}

// ---- tenants:clone -----------------------------------------------------------

int run_clone(const Globals &g, const po::variables_map &vm) {
    if (!vm.count("source") || !vm.count("target")) throw UsageError("give the source and the target tenant");
    const std::string src = tenant_arg(vm["source"].as<std::string>());
    const std::string dst = tenant_arg(vm["target"].as<std::string>());
    CloneOptions opts;
    opts.include_data = vm.count("with-data") != 0;
    if (vm.count("anonymize")) {
        if (!opts.include_data) throw UsageError("--anonymize needs --with-data");
        const std::string path = vm["anonymize"].as<std::string>();
        try {
            opts.anonymize = AnonymizeOptions::from_file(path);
        } catch (const Error &e) {
            throw UsageError(e.what());
        }
    }
    Database db = open_database(g);
    TenantManager tenants(db);
    CloneResult r = tenants.clone_tenant(src, dst, opts);
    std::cout << "cloned " << src << " to " << dst << " (" << tenants.namespace_of(dst) << "): " << r.tables.size()
              << " table(s), " << r.views.size() << " view(s)";
    if (opts.include_data) std::cout << ", " << r.rows_copied << " row(s)" << (opts.anonymize.enabled ? " (anonymized)" : "");
    std::cout << " in " << seconds(r.duration_ms) << "\n";
    return kExitOk;
}

Command clone_command() {
    return Command{"tenants:clone", "copy a tenant's tables (and rows) into a new tenant",
                           "tenants:clone SRC DST [--with-data] [--anonymize RULES.json]",
                           [](po::options_description &d, po::positional_options_description &p) {
                               d.add_options()("source", po::value<std::string>(), "the tenant to copy")(
                                   "target", po::value<std::string>(), "the new tenant")(
                                   "with-data", "copy the rows too")(
                                   "anonymize", po::value<std::string>(),
                                   "JSON rules {\"table\": {\"column\": null | \"email\" | \"phone\" | \"name\" | "
                                   "\"literal\"}}");
                               p.add("source", 1).add("target", 1);
                           },
                           run_clone};
}

} // namespace

void add_tenants_commands(std::vector<Command> &commands) {
    commands.push_back(list_command());
    commands.push_back(create_command());
    commands.push_back(drop_command());
    commands.push_back(migrate_command());
    commands.push_back(seed_command());
    commands.push_back(drift_command());
    commands.push_back(clone_command());
}

} // namespace ilana::cli
