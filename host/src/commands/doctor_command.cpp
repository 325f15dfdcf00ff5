// ilana doctor [--json]: diagnose configuration, drivers, connections,
// migrations folders, pool settings and tenants. Exit 1 when a check fails.
#include "command.hpp"
#include "output/table.hpp"

#include <ilana/database.hpp>
#include <ilana/tenants.hpp>

#include <boost/filesystem.hpp>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <chrono>
#include <iostream>
#include <map>
#include <optional>

namespace ilana::cli {
namespace {

namespace fs = boost::filesystem;

struct Check {
    std::string name;
    std::string status; // ok | warn | fail
    std::string message;
    std::optional<double> latency_ms;
};

struct Doctor {
    std::vector<Check> checks;
    std::vector<std::string> recommendations;
    void add(std::string name, std::string status, std::string message, std::optional<double> latency = {}) {
        checks.push_back({std::move(name), std::move(status), std::move(message), latency});
    }
    bool success() const {
        for (const auto &c : checks)
            if (c.status == "fail") return false;
        return true;
    }
};

size_t count_sql_files(const std::string &dir) {
    size_t n = 0;
    boost::system::error_code ec;
    for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec))
        if (it->path().extension() == ".sql") ++n;
    return n;
}

// Returns the server's max_connections when the server told it (0: not known).
int check_connection(Doctor &d, const Database &db, const ConnectionConfig &cc) {
    int server_max = 0;
    const std::string name = "connection:" + cc.name;
    Connection conn = db.on(cc.name);
    try {
        auto t0 = std::chrono::steady_clock::now();
        Session s = conn.acquire();
        s.ping(5000);
        double latency = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
        auto info = s.server_info();
        server_max = info.max_connections;
        std::string msg = info.product + " " + info.version + " (client " + cc.client + ")";
        d.add(name, "ok", msg, latency);
        // Pool size against what the server allows.
        if (info.max_connections > 0) {
            if (cc.pool.max > info.max_connections) {
                d.add("pool:" + cc.name, "fail",
                      "pool.max=" + std::to_string(cc.pool.max) + " exceeds the server's max_connections=" +
                          std::to_string(info.max_connections));
            } else if (cc.pool.max * 2 > info.max_connections) {
                d.add("pool:" + cc.name, "warn",
                      "pool.max=" + std::to_string(cc.pool.max) + " is more than half the server's max_connections=" +
                          std::to_string(info.max_connections));
                d.recommendations.push_back("Lower pool.max of '" + cc.name +
                                            "' or put PgBouncer in front: several app instances multiply it");
            } else {
                d.add("pool:" + cc.name, "ok",
                      "min=" + std::to_string(cc.pool.min) + " max=" + std::to_string(cc.pool.max) +
                          " (server max_connections=" + std::to_string(info.max_connections) + ")");
            }
        } else {
            d.add("pool:" + cc.name, "ok", "min=" + std::to_string(cc.pool.min) + " max=" + std::to_string(cc.pool.max));
        }
    } catch (const Error &e) {
        d.add(name, "fail", e.what());
        d.recommendations.push_back("Check that the server of '" + cc.name + "' is running and its connection settings");
    }
    if (cc.pool.acquire_timeout_ms < 1000)
        d.add("poolTimeouts:" + cc.name, "warn",
              "acquireTimeoutMillis=" + std::to_string(cc.pool.acquire_timeout_ms) + " is very short");
    return server_max;
}

// Each connection budget ("servers") against the pools that share it (the
// sum of their max: tenant pools count tenants.maxPools times) and against
// the server's own max_connections, as its connections reported it
// (`server_max`, by connection; 0: unknown).
void check_servers(Doctor &d, const Config &config, const std::map<std::string, int> &server_max) {
    for (const auto &server : config.servers()) {
        const std::string name = "server:" + server.name;
        const std::string budget = "maxConnections=" + std::to_string(server.max_connections);
        long long sum = 0;
        std::string parts;
        int reported = 0;
        for (const auto &cc : config.connections()) {
            if (cc.server != server.name) continue;
            sum += cc.pool.max;
            parts += (parts.empty() ? "" : ", ") + cc.name + " " + std::to_string(cc.pool.max);
            if (auto it = server_max.find(cc.name); it != server_max.end() && it->second > 0) reported = it->second;
            const auto &t = config.tenants();
            if (t && t->connection == cc.name) {
                const long long tenants = static_cast<long long>(t->max_pools) * t->pool.max;
                sum += tenants;
                parts += ", tenant pools " + std::to_string(t->max_pools) + " x " + std::to_string(t->pool.max);
            }
        }
        if (parts.empty()) {
            d.add(name, "warn", budget + ": no connection names this server (\"server\": \"" + server.name + "\")");
            continue;
        }
        bool warned = false;
        if (sum > server.max_connections) {
            warned = true;
            d.add(name, "warn",
                  budget + " is less than the sum of pool.max of its pools (" + parts + ": " + std::to_string(sum) +
                      "): busy pools will wait for each other's connections (fairly, in turn)");
            d.recommendations.push_back("Raise servers." + server.name +
                                        ".maxConnections or lower pool.max of its connections, unless sharing "
                                        "the budget is what you want");
        }
        if (reported > 0 && server.max_connections > reported) {
            warned = true;
            d.add(name, "warn",
                  budget + " exceeds the server's own max_connections=" + std::to_string(reported) +
                      ": the server refuses connections before the budget is reached");
            d.recommendations.push_back("Lower servers." + server.name + ".maxConnections below the server's " +
                                        "max_connections (leave room for other clients and superusers)");
        }
        if (!warned)
            d.add(name, "ok",
                  budget + " (pools: " + parts + ": " + std::to_string(sum) + ")" +
                      (reported > 0 ? "; server max_connections=" + std::to_string(reported) : std::string()));
    }
}

// Isolation against the driver, discovered tenants against maxPools (the
// seed's "Consider increasing maxPools" recommendation), tenant migrations.
void check_tenants(Doctor &d, const Database &db, const TenantsOptions &t) {
    std::optional<TenantManager> tm;
    try {
        tm.emplace(db);
        d.add("isolation", "ok", t.isolation + "-based, template connection '" + t.connection + "'");
    } catch (const Error &e) {
        d.add("isolation", "fail", e.what());
        return;
    }
    size_t tenants = 0;
    try {
        tenants = tm->discover().size();
        d.add("tenants", "ok", std::to_string(tenants) + " tenants found (discovery: " + tm->discovery_source() + ")");
    } catch (const Error &e) {
        d.add("tenants", "fail", std::string("tenant discovery failed: ") + e.what());
    }
    const std::string pools = "maxPools=" + std::to_string(t.max_pools) + ", ttl=" + std::to_string(t.pool_ttl_ms) +
                              "ms, tenant pool max=" + std::to_string(t.pool.max);
    const std::string advice = "Consider increasing maxPools (current: " + std::to_string(t.max_pools) +
                               ", tenants: " + std::to_string(tenants) + ")";
    if (tenants > static_cast<size_t>(t.max_pools)) {
        d.add("poolConfig", "warn", pools + ": fewer pools than tenants, pools will be evicted and reopened");
        d.recommendations.push_back(advice);
    } else if (tenants * 10 > static_cast<size_t>(t.max_pools) * 8) {
        d.add("poolConfig", "warn", pools + ": maxPools close to the tenant count");
        d.recommendations.push_back(advice);
    } else {
        d.add("poolConfig", "ok", pools);
    }
    if (fs::is_directory(t.migrations_directory))
        d.add("tenantMigrations", "ok",
              t.migrations_directory + " (" + std::to_string(count_sql_files(t.migrations_directory)) + " files)");
    else
        d.add("tenantMigrations", "warn", t.migrations_directory + " does not exist");
}

int run_doctor(const Globals &g, const po::variables_map &vm) {
    const bool json = vm.count("json") > 0;
    Doctor d;
    std::optional<Database> db;
    try {
        db = open_database(g);
        d.add("configuration", "ok",
              fs::absolute(g.config_path).lexically_normal().string() +
                  (db->config().environment().empty() ? "" : " (environment " + db->config().environment() + ")"));
    } catch (const ConfigError &e) {
        d.add("configuration", "fail", e.what());
    }

    std::optional<HealthReport> health;
    if (db) {
        const auto &reg = db->drivers();
        std::string names;
        for (const auto &drv : reg.drivers()) names += (names.empty() ? "" : ", ") + drv.name + " " + drv.version;
        d.add("drivers", reg.drivers().empty() ? "fail" : "ok",
              std::to_string(reg.drivers().size()) + " loaded: " + names);
        for (const auto &r : reg.refused()) d.add("plugin", "warn", r.path + ": " + r.reason);
        for (const auto &c : reg.conflicts()) d.add("plugin", "warn", c);

        std::map<std::string, int> server_max; // by connection
        for (const auto &cc : db->config().connections()) {
            // Never opened (it would create a file named "{tenant}"); the
            // tenant checks cover it.
            if (db->config().is_tenant_file_template(cc.name)) {
                d.add("connection:" + cc.name, "ok", "tenant template (file isolation), not opened");
                continue;
            }
            server_max[cc.name] = check_connection(d, *db, cc);
        }
        check_servers(d, db->config(), server_max);
        for (const auto &cc : db->config().connections()) {
            const std::string &dir = cc.migrations.directory;
            if (fs::is_directory(dir))
                d.add("migrations:" + cc.name, "ok", dir + " (" + std::to_string(count_sql_files(dir)) + " files)");
            else
                d.add("migrations:" + cc.name, "warn",
                      dir + " does not exist (" + g.host->program_name + " migrate:make creates it)");
        }
        if (const auto &t = db->config().tenants()) check_tenants(d, *db, *t);
        health = db->health_check();
    }
    if (!json) {
        std::cout << "Checking ilana configuration...\n";
        for (const auto &c : d.checks) {
            const char *mark = c.status == "ok" ? "\u2713" : c.status == "warn" ? "\u26a0" : "\u2717";
            std::cout << mark << " " << c.name << ": " << c.message;
            if (c.latency_ms) std::cout << ", latency " << fixed(*c.latency_ms, 1) << "ms";
            std::cout << "\n";
        }
        if (!d.recommendations.empty()) {
            std::cout << "\nRecommendations:\n";
            for (size_t i = 0; i < d.recommendations.size(); ++i)
                std::cout << "  " << i + 1 << ". " << d.recommendations[i] << "\n";
        }
        if (health) {
            std::cout << "\nHealth: " << health->total_pools << " pools, " << health->degraded_pools << " degraded, "
                      << health->unhealthy_pools << " unhealthy\n";
            if (const auto &shared = health->shared_db) {
                std::cout << "Shared DB (" << shared->connection << "): " << shared->status;
                if (shared->response_time_ms) std::cout << " (" << fixed(*shared->response_time_ms, 1) << "ms latency)";
                if (!shared->error.empty()) std::cout << ": " << shared->error;
                std::cout << "\n";
            }
        }
        std::cout << (d.success() ? "\ndoctor: all checks passed\n" : "\ndoctor: some checks FAILED\n");
    } else {
        rapidjson::StringBuffer buf;
        rapidjson::Writer<rapidjson::StringBuffer> w(buf);
        w.StartObject();
        w.Key("success");
        w.Bool(d.success());
        w.Key("checks");
        w.StartArray();
        for (const auto &c : d.checks) {
            w.StartObject();
            w.Key("name");
            w.String(c.name.c_str());
            w.Key("status");
            w.String(c.status.c_str());
            w.Key("message");
            w.String(c.message.c_str());
            if (c.latency_ms) {
                w.Key("latencyMs");
                w.Double(*c.latency_ms);
            }
            w.EndObject();
        }
        w.EndArray();
        w.Key("recommendations");
        w.StartArray();
        for (const auto &r : d.recommendations) w.String(r.c_str());
        w.EndArray();
        w.Key("health");
        w.StartObject();
        w.Key("healthy");
        w.Bool(health ? health->healthy : false);
        w.Key("totalPools");
        w.Int(health ? health->total_pools : 0);
        w.Key("degradedPools");
        w.Int(health ? health->degraded_pools : 0);
        w.Key("unhealthyPools");
        w.Int(health ? health->unhealthy_pools : 0);
        // The seed's field: the tenants' shared database's ping (only with a
        // tenants section whose template is a database; null when it failed).
        if (health && health->shared_db) {
            w.Key("sharedDbLatencyMs");
            if (health->shared_db->response_time_ms) w.Double(*health->shared_db->response_time_ms);
            else w.Null();
            w.Key("sharedDbStatus");
            w.String(health->shared_db->status.c_str());
        }
        w.EndObject();
        w.EndObject();
        std::cout << buf.GetString() << "\n";
    }
    // A config that cannot be loaded is bad config (exit 2, as for every
    // command), even though doctor still prints its report.
    if (!db) return kExitUsage;
    return d.success() ? kExitOk : kExitFailed;
}

Command doctor_command() {
    return Command{"doctor", "diagnose configuration, drivers, connections, migrations and pools",
                     "doctor [--json]",
                     [](po::options_description &d, po::positional_options_description &) {
                         d.add_options()("json", "print the report as JSON");
                     },
                     run_doctor};
}

} // namespace

void add_doctor_commands(std::vector<Command> &commands) {
    commands.push_back(doctor_command());
}

} // namespace ilana::cli
