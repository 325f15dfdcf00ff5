#include <ilana/metrics_server.hpp>

namespace ilana {

MetricsServerOptions MetricsServerOptions::from_config(const Config &config) {
    MetricsServerOptions o;
    o.listen = config.metrics().listen;
    o.include_runtime = config.metrics().include_runtime;
    if (config.metrics().auth) o.basic_auth = std::make_pair(config.metrics().auth->username, config.metrics().auth->password);
    return o;
}

MetricsServer::MetricsServer(Database db) : MetricsServer(db, MetricsServerOptions::from_config(db.config())) {}

MetricsServer::MetricsServer(Database db, MetricsServerOptions options)
    : db_(std::move(db)), options_(std::move(options)) {
    HttpServerOptions ho;
    ho.listen = options_.listen;
    ho.basic_auth = options_.basic_auth;
    ho.read_timeout = options_.read_timeout;
    ho.max_header_bytes = options_.max_header_bytes;
    http_ = std::make_unique<HttpServer>(ho);
    http_->route("/metrics", [this] {
        HttpResponse r;
        r.content_type = "text/plain; version=0.0.4; charset=utf-8";
        r.body = db_.prometheus_text(options_.include_runtime);
        return r;
    });
    http_->route("/health", [this] {
        HealthOptions h;
        h.ping_timeout_ms = options_.ping_timeout_ms;
        HealthReport report = db_.health_check(h);
        HttpResponse r;
        r.status = report.healthy ? 200 : 503;
        r.content_type = "application/json";
        r.body = report.to_json();
        return r;
    });
}

MetricsServer::~MetricsServer() { stop(); }
void MetricsServer::start() { http_->start(); }
void MetricsServer::stop() {
    if (http_) http_->stop();
}
uint16_t MetricsServer::port() const { return http_->port(); }
void MetricsServer::run_until_signal(const std::function<void()> &on_ready) { http_->run_until_signal(on_ready); }

} // namespace ilana
