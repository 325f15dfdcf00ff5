// Health, metrics and the HTTP endpoint, validated the way operators use
// them: promtool on the exposition, curl on the endpoint, the CLI's exit
// codes, and a server that accepts TCP but never answers.
#include <catch2/catch.hpp>

#include <ilana/ilana.hpp>
#include <ilana/metrics_server.hpp>

#include "configs.hpp"
#include "silent_listener.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <fstream>
#include <iterator>
#include <sstream>
#include <vector>
#include <thread>

using namespace ilana;
using namespace std::chrono;
using namespace std::chrono_literals;
using ilana_test::run_command;
using ilana_test::TempDir;

namespace {

// A TCP listener that accepts connections and never says a word.
using SilentServer = ilana_test::SilentListener;

std::string promtool_check(const TempDir &dir, const std::string &text) {
    auto path = dir.write("metrics.txt", text);
    std::string out;
    int rc = run_command("promtool check metrics < '" + path + "'", out);
    return rc == 0 ? std::string() : (out.empty() ? "promtool failed" : out);
}

Database open_sqlite_pair(const TempDir &dir, const std::string &extra = "") {
    dir.write("ilana.config.json", R"({"default": "main", "connections": {
        "main": {"client": "sqlite3", "connection": {"filename": "./main.sqlite"}},
        "cache": {"client": "sqlite3", "connection": {"filename": ":memory:"}}}
        )" + extra + "}");
    return Database::open(dir.file("ilana.config.json"), OpenOptions{"", {ILANA_TEST_PLUGIN_DIR}, {}});
}

} // namespace

TEST_CASE("the Prometheus exposition passes promtool and has every family", "[observe][sqlite]") {
    TempDir dir;
    Database db = open_sqlite_pair(dir);
    for (int i = 0; i < 20; ++i) db.query("SELECT ?", {i});
    CHECK_THROWS_AS(db.query("SELECT * FROM nope"), Error);
    db.on("cache").query("SELECT 1");
    db.health_check();
    std::string text = db.prometheus_text(true);
    CHECK(promtool_check(dir, text) == "");
    for (const char *family :
         {"ilana_pool_connections", "ilana_pool_waiting", "ilana_pool_max", "ilana_pool_acquire_seconds",
          "ilana_queries_total", "ilana_query_duration_seconds", "ilana_retries_total", "ilana_pool_events_total",
          "ilana_pools_active", "ilana_pools_max", "ilana_health_status", "ilana_health_pools_degraded",
          "ilana_health_pools_unhealthy", "ilana_build_info", "process_resident_memory_bytes", "process_open_fds"}) {
        INFO(family);
        CHECK(text.find(std::string("# HELP ") + family + " ") != std::string::npos);
        CHECK(text.find(std::string("# TYPE ") + family + " ") != std::string::npos);
    }
    CHECK(text.find("ilana_queries_total{connection=\"main\",status=\"ok\"} 20") != std::string::npos);
    CHECK(text.find("ilana_queries_total{connection=\"main\",status=\"error\"} 1") != std::string::npos);
    CHECK(text.find("ilana_query_duration_seconds_count{connection=\"main\"} 21") != std::string::npos);
    CHECK(text.find("ilana_pool_connections{connection=\"cache\",state=\"idle\"} 1") != std::string::npos);
    CHECK(text.find("ilana_health_status 1") != std::string::npos);
}

TEST_CASE("health: a server that accepts TCP and never answers is unhealthy within the ping timeout",
          "[observe]") {
    SilentServer silent;
    TempDir dir;
    dir.write("ilana.config.json", R"({"default": "main", "connections": {
        "main": {"client": "sqlite3", "connection": {"filename": ":memory:"}},
        "hung": {"client": "postgres", "connection": {"host": "127.0.0.1", "port": )" +
                                       std::to_string(silent.port()) + R"(, "user": "x", "password": "y", "database": "z"}},
        "hung_my": {"client": "mysql2", "connection": {"host": "127.0.0.1", "port": )" +
                                       std::to_string(silent.port()) + R"(, "user": "x", "password": "y", "database": "z"}}}})");
    Database db = Database::open(dir.file("ilana.config.json"), OpenOptions{"", {ILANA_TEST_PLUGIN_DIR}, {}});
    auto t0 = steady_clock::now();
    HealthReport h = db.health_check({{}, true, 800});
    auto took = duration_cast<milliseconds>(steady_clock::now() - t0).count();
    CHECK(took < 1500);
    CHECK_FALSE(h.healthy);
    CHECK(h.unhealthy_pools == 2);
    REQUIRE(h.pools.size() == 3);
    CHECK(h.pools[0].connection == "main");
    CHECK(h.pools[0].status == "ok");
    CHECK(h.pools[0].response_time_ms.has_value());
    CHECK(h.pools[1].status == "unhealthy");
    CHECK_FALSE(h.pools[1].error.empty());
    CHECK(h.pools[2].status == "unhealthy");
    std::string json = h.to_json();
    CHECK(json.find("\"healthy\":false") != std::string::npos);
    CHECK(json.find("\"unhealthyPools\":2") != std::string::npos);
    CHECK(json.find("\"timestamp\":\"20") != std::string::npos);
    CHECK(json.find("Z\",\"durationMs\":") != std::string::npos);
}

TEST_CASE("health: a pool with waiters or above 80% of max is degraded", "[observe][sqlite]") {
    TempDir dir;
    dir.write("ilana.config.json", R"({"connections": {"main": {"client": "sqlite3",
        "connection": {"filename": "./x.sqlite"}, "pool": {"max": 5}}}})");
    Database db = Database::open(dir.file("ilana.config.json"), OpenOptions{"", {ILANA_TEST_PLUGIN_DIR}, {}});
    std::vector<Session> held;
    for (int i = 0; i < 4; ++i) held.push_back(db.on("main").acquire());
    HealthReport h = db.health_check({{}, false, 1000});
    CHECK(h.pools[0].status == "ok"); // 4 of 5 = 80%: not above
    held.push_back(db.on("main").acquire());
    h = db.health_check({{}, false, 1000});
    CHECK(h.pools[0].status == "degraded");
    CHECK(h.degraded_pools == 1);
    CHECK(h.healthy);
}

TEST_CASE("MetricsServer: basic auth, /metrics passes promtool, /health 200/503", "[observe][http]") {
    TempDir dir;
    Database db = open_sqlite_pair(dir, R"(, "metrics": {"listen": "127.0.0.1:0", "includeRuntime": true,
                                         "auth": {"username": "prom", "password": "s3cret-pw"}})");
    db.query("SELECT 1");
    MetricsServer server(db);
    server.start();
    const std::string base = "http://127.0.0.1:" + std::to_string(server.port());
    std::string out;
    REQUIRE(run_command("curl -s -i " + base + "/metrics", out) == 0);
    CHECK(out.find("HTTP/1.1 401") == 0);
    CHECK(out.find("WWW-Authenticate: Basic realm=\"ilana\"") != std::string::npos);
    REQUIRE(run_command("curl -s -i -u prom:wrong " + base + "/metrics", out) == 0);
    CHECK(out.find("HTTP/1.1 401") == 0);
    REQUIRE(run_command("curl -s -f -u prom:s3cret-pw " + base + "/metrics", out) == 0);
    CHECK(out.find("ilana_build_info") != std::string::npos);
    CHECK(promtool_check(dir, out) == "");
    REQUIRE(run_command("curl -s -o /dev/null -w '%{http_code}' -u prom:s3cret-pw " + base + "/health", out) == 0);
    CHECK(out == "200");
    REQUIRE(run_command("curl -s -u prom:s3cret-pw " + base + "/health", out) == 0);
    CHECK(out.find("\"healthy\":true") != std::string::npos);
    server.stop();

    // A config whose one connection is down answers 503.
    TempDir dir2;
    dir2.write("ilana.config.json", R"({"connections": {"down": {"client": "postgres", "connection":
        {"host": "127.0.0.1", "port": 1, "user": "u", "password": "p", "database": "d"}}},
        "metrics": {"listen": "127.0.0.1:0"}})");
    Database down = Database::open(dir2.file("ilana.config.json"), OpenOptions{"", {ILANA_TEST_PLUGIN_DIR}, {}});
    MetricsServer s2(down);
    s2.start();
    REQUIRE(run_command("curl -s -o /dev/null -w '%{http_code}' http://127.0.0.1:" + std::to_string(s2.port()) +
                            "/health",
                        out) == 0);
    CHECK(out == "503");
}

TEST_CASE("ilana health, metrics and serve from the command line", "[observe][cli]") {
    TempDir dir;
    dir.write("ilana.config.json", R"({"default": "main", "connections": {
        "main": {"client": "sqlite3", "connection": {"filename": ":memory:"}},
        "down": {"client": "postgres", "connection": {"host": "127.0.0.1", "port": 1, "user": "u",
                 "password": "hunter2-pw", "database": "d"}}}})");
    const std::string cli = ilana_test::ilana_cli() + " --config " + dir.file("ilana.config.json") + " ";
    std::string out;
    CHECK(run_command(cli + "health --connection main", out) == 0);
    CHECK(out.find("healthy: 1 pool(s)") != std::string::npos);
    // The ping thread lets the pool go before it answers: when it dropped the
    // last reference after the command had exited, closing the SQLite session
    // and driver crashed the exiting process (seen once in 30 to 40 runs on a
    // loaded machine; timing-dependent, so this loop catches it only often).
    int crashed = 0;
    for (int i = 0; i < 30; ++i) crashed += run_command(cli + "health --connection main", out) != 0;
    CHECK(crashed == 0);
    CHECK(run_command(cli + "health --json", out) == 1);
    CHECK(out.find("\"connection\":\"down\",\"status\":\"unhealthy\"") != std::string::npos);
    CHECK(out.find("hunter2-pw") == std::string::npos);

    // stdout only: connecting to "down" logs its retries (3 attempts by default) on stderr.
    CHECK(run_command("(" + cli + "metrics --prometheus --health 2>/dev/null)", out) == 0);
    CHECK(promtool_check(dir, out) == "");
    CHECK(out.find("ilana_health_pools_unhealthy 1") != std::string::npos);
    CHECK(run_command(cli + "metrics", out) == 0);
    CHECK(out.find("pool") == 0);
    CHECK(out.find("p99") != std::string::npos);
    // --watch reads a running application's endpoint: nothing listens here.
    CHECK(run_command("timeout 10 " + cli + "metrics --watch --interval 200 --url http://127.0.0.1:1", out) == 1);
    CHECK(out.find("http://127.0.0.1:1") != std::string::npos);
    CHECK(out.find("cannot connect") != std::string::npos);

    CHECK(run_command(cli + "doctor --json", out) == 1);
    CHECK(out.find("\"success\":false") != std::string::npos);
    CHECK(out.find("\"name\":\"connection:down\",\"status\":\"fail\"") != std::string::npos);
    CHECK(out.find("\"name\":\"connection:main\",\"status\":\"ok\"") != std::string::npos);
    CHECK(out.find("hunter2-pw") == std::string::npos);

    // serve: answers, then stops cleanly on SIGTERM. Port 0: the kernel
    // picks a free port and serve prints it. (A fixed port failed once in
    // CI: 39464 is in the ephemeral range, so it can be the local end of
    // one of the many client connections other tests have open; serve then
    // cannot bind and exits.) Its log is polled until it says where it
    // listens; `timeout` only bounds a server that would never stop, and
    // forwards our SIGTERM.
    const std::string pid_file = dir.file("serve.pid"), log_file = dir.file("serve.log");
    std::thread server([&] {
        std::string ignored;
        run_command("( timeout -s TERM 20 " + cli + "serve --listen 127.0.0.1:0 2> " + log_file + " & echo $! > " +
                        pid_file + "; wait )",
                    ignored);
    });
    const auto read_log = [&] {
        std::ifstream in(log_file);
        return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
    };
    const std::string said = "listening on 127.0.0.1:";
    std::string port;
    const auto until = std::chrono::steady_clock::now() + 10s;
    while (port.empty() && std::chrono::steady_clock::now() < until) {
        std::this_thread::sleep_for(100ms);
        const std::string log = read_log();
        const size_t at = log.find(said);
        if (at == std::string::npos) continue;
        const size_t digits = at + said.size();
        const size_t end = log.find_first_not_of("0123456789", digits);
        if (end != std::string::npos && end > digits) port = log.substr(digits, end - digits);
    }
    INFO("serve log: " << read_log());
    CHECK(!port.empty());
    if (!port.empty()) {
        run_command("curl -s -o /dev/null -w '%{http_code}' http://127.0.0.1:" + port + "/health", out);
        CHECK(out == "503"); // "down" is down
        // One reading of serve's endpoint: its pools and health gauges.
        CHECK(run_command(cli + "metrics --url http://127.0.0.1:" + port, out) == 0);
        CHECK(out.find("ilana metrics from http://127.0.0.1:" + port + "   health: NOT healthy") != std::string::npos);
        CHECK(out.find("\nmain ") != std::string::npos);
        CHECK(run_command(cli + "metrics --prometheus --url http://127.0.0.1:" + port + "/metrics", out) == 0);
        CHECK(out.find("# TYPE ilana_queries_total counter") != std::string::npos);
    }
    std::string ignored;
    CHECK(run_command("kill -TERM $(cat " + pid_file + ")", ignored) == 0);
    server.join();
    CHECK(read_log().find("stopped") != std::string::npos);
}

namespace {

// The cells of the last row that starts with `pool` in watch's output.
std::vector<std::string> last_row(const std::string &out, const std::string &pool) {
    std::vector<std::string> cells;
    for (size_t at = out.find("\n" + pool + " "); at != std::string::npos; at = out.find("\n" + pool + " ", at + 1)) {
        const size_t end = out.find('\n', at + 1);
        std::istringstream line(out.substr(at + 1, end - at - 1));
        cells.clear();
        for (std::string cell; line >> cell;) cells.push_back(cell);
    }
    return cells;
}

} // namespace

TEST_CASE("ilana metrics --watch --url watches a running application with rates per second", "[observe][cli][http]") {
    TempDir dir;
    Database db = open_sqlite_pair(dir, R"(, "metrics": {"listen": "127.0.0.1:0",
                                         "auth": {"username": "prom", "password": "w4tch-pw"}})");
    MetricsServer server(db);
    server.start();
    const std::string url = "http://127.0.0.1:" + std::to_string(server.port());
    // The application at work while it is watched.
    std::atomic<bool> stop{false};
    std::thread load([&] {
        while (!stop) {
            db.query("SELECT 1");
            std::this_thread::sleep_for(1ms);
        }
    });
    const std::string cli = ilana_test::ilana_cli() + " --config " + dir.file("ilana.config.json") + " ";
    std::string out;
    // Not a terminal: successive frames, until `timeout` stops it (exit 124).
    run_command("timeout -s INT 3 " + cli + "metrics --watch --url " + url + " --interval 200", out);
    stop = true;
    load.join();
    INFO(out);
    CHECK(out.find("ilana metrics from " + url) != std::string::npos);
    CHECK(out.find("s\n", out.find("rates over ")) != std::string::npos);
    CHECK(out.find("\033[") == std::string::npos); // no cursor control off a terminal
    // pool idle in-use waiting max queries q/s errors err/s retries timeouts avg
    const auto row = last_row(out, "main");
    REQUIRE(row.size() == 12);
    CHECK(std::stod(row[5]) > 0);   // queries
    CHECK(std::stod(row[6]) > 10);  // q/s: ~1000 at most, well above 10
    CHECK(row[11].find("ms") != std::string::npos);

    // Wrong credentials: a clear error naming the URL, never the password.
    TempDir wrong;
    wrong.write("ilana.config.json", R"({"connections": {"x": {"client": "sqlite3", "connection": {"filename": ":memory:"}}},
        "metrics": {"auth": {"username": "prom", "password": "not-the-pw"}}})");
    const std::string wrong_cli = ilana_test::ilana_cli() + " --config " + wrong.file("ilana.config.json") + " ";
    CHECK(run_command("timeout 10 " + wrong_cli + "metrics --watch --url " + url + " --interval 200", out) == 1);
    CHECK(out.find(url) != std::string::npos);
    CHECK(out.find("401") != std::string::npos);
    CHECK(out.find("not-the-pw") == std::string::npos);
    CHECK(out.find("w4tch-pw") == std::string::npos);
    // No config at all: no credentials to send.
    CHECK(run_command("cd " + wrong.path() + " && timeout 10 " + ilana_test::ilana_cli() +
                          " --config absent.json metrics --url " + url, out) == 1);
    CHECK(out.find("401") != std::string::npos);
    CHECK(out.find("set metrics.auth") != std::string::npos);
    // Not an http URL.
    CHECK(run_command(cli + "metrics --watch --url https://127.0.0.1:9464", out) == 2);
    CHECK(out.find("https is not supported") != std::string::npos);
}

TEST_CASE("ilana metrics --url gives up on an endpoint that accepts but never answers, naming it",
          "[observe][cli][http]") {
    SilentServer silent;
    TempDir dir;
    // The wait is the endpoint's ping timeout (a scrape may run a health
    // check) plus 5 s.
    dir.write("ilana.config.json", R"({"connections": {"x": {"client": "sqlite3", "connection": {"filename": ":memory:"}}},
        "metrics": {"pingTimeoutMs": 100}})");
    const std::string url = "http://127.0.0.1:" + std::to_string(silent.port());
    std::string out;
    const auto t0 = steady_clock::now();
    CHECK(run_command("timeout 30 " + ilana_test::ilana_cli() + " --config " + dir.file("ilana.config.json") +
                          " metrics --url " + url,
                      out) == 1);
    const auto took = duration_cast<milliseconds>(steady_clock::now() - t0).count();
    INFO(out);
    CHECK(out.find("GET " + url + ": no complete answer within 5100ms") != std::string::npos);
    CHECK(took >= 5000);
    CHECK(took < 15000);
}
