// ilana/metrics_server.hpp — /metrics and /health over HTTP, in-process.
//
//   ilana::MetricsServer server(db);          // options from the config's "metrics"
//   server.start();                           // serves on its own threads
//   ...
//   server.stop();                            // or let the destructor do it
//
//   GET /metrics  Prometheus text format 0.0.4 (db.prometheus_text()); its
//                 health gauges are from a check no older than
//                 health_max_age_ms (a stale one is redone by the scrape)
//   GET /health   the health report as JSON: 200 when healthy, 503 otherwise;
//                 ?connections=a,b&tenantIds=t1,t2&includeShared=false
//                 narrow it (HealthOptions); a mistake there is a 400
//                 saying what (unknown parameter or connection, bad id)
//
// Basic auth ("metrics": {"auth": {"username", "password"}}) protects both.
// Thread safety: start/stop from one thread; requests are served
// concurrently on the server's I/O threads.
#pragma once

#include <ilana/database.hpp>
#include <ilana/http_server.hpp>

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>

namespace ilana {

struct MetricsServerOptions {
    std::string listen = "127.0.0.1:9464";
    bool include_runtime = false;
    std::optional<std::pair<std::string, std::string>> basic_auth;
    int ping_timeout_ms = 3000;             // metrics.pingTimeoutMs: /health and a scrape's check
    int64_t health_max_age_ms = 10000;      // metrics.healthMaxAgeMs (see PrometheusOptions)
    std::chrono::milliseconds read_timeout{5000};
    size_t max_header_bytes = 8192;

    // From the config's "metrics" section.
    static MetricsServerOptions from_config(const Config &config);
};

class MetricsServer {
public:
    explicit MetricsServer(Database db);
    MetricsServer(Database db, MetricsServerOptions options);
    ~MetricsServer();

    // Binds and starts serving; throws ilana::Error naming the address.
    void start();
    void stop();
    uint16_t port() const;
    // Blocks until SIGINT or SIGTERM, then stops; starts the server first if
    // needed. `on_ready` as in HttpServer::run_until_signal: runs once the
    // signals are caught and the server listens.
    void run_until_signal(const std::function<void()> &on_ready = {});

private:
    Database db_;
    MetricsServerOptions options_;
    std::unique_ptr<HttpServer> http_;
};

} // namespace ilana
