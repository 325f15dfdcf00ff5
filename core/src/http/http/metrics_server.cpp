#include <ilana/metrics_server.hpp>

namespace ilana {

namespace {

std::vector<std::string> comma_list(const std::string &text) {
    std::vector<std::string> out;
    size_t start = 0;
    while (start <= text.size()) {
        size_t comma = text.find(',', start);
        if (comma == std::string::npos) comma = text.size();
        if (comma > start) out.push_back(text.substr(start, comma - start));
        start = comma + 1;
    }
    return out;
}

// /health?connections=a,b&tenantIds=t1,t2&includeShared=false: the seed's
// healthCheck options (see HealthOptions).
HealthOptions health_options(const HttpRequest &request) {
    HealthOptions h;
    for (const auto &name : request.param_names())
        if (name != "connections" && name != "tenantIds" && name != "includeShared")
            throw Error("/health: unknown parameter '" + name + "' (allowed: connections, tenantIds, includeShared)",
                        ErrorClass::config);
    if (auto v = request.param("connections")) h.connections = comma_list(*v);
    // Tenant ids are validated by health_check, before it opens any pool.
    if (auto v = request.param("tenantIds")) h.tenant_ids = comma_list(*v);
    if (auto v = request.param("includeShared")) {
        if (*v == "true" || *v == "1") h.include_shared = true;
        else if (*v == "false" || *v == "0") h.include_shared = false;
        else throw Error("/health: includeShared must be true or false, got '" + *v + "'", ErrorClass::config);
    }
    return h;
}

} // namespace

MetricsServerOptions MetricsServerOptions::from_config(const Config &config) {
    MetricsServerOptions o;
    o.listen = config.metrics().listen;
    o.include_runtime = config.metrics().include_runtime;
    o.ping_timeout_ms = config.metrics().ping_timeout_ms;
    o.health_max_age_ms = config.metrics().health_max_age_ms;
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
        PrometheusOptions p;
        p.include_runtime = options_.include_runtime;
        p.health_max_age_ms = options_.health_max_age_ms;
        p.ping_timeout_ms = options_.ping_timeout_ms;
        r.body = db_.prometheus_text(p);
        return r;
    });
    http_->route("/health", [this](const HttpRequest &request) {
        HttpResponse r;
        r.content_type = "application/json";
        HealthReport report;
        try {
            HealthOptions h = health_options(request);
            h.ping_timeout_ms = options_.ping_timeout_ms;
            report = db_.health_check(h);
        } catch (const Error &e) {
            if (e.error_class() != ErrorClass::config) throw;
            // The caller's mistake (unknown parameter or connection, bad
            // tenant id): 400 with what to fix; the message holds no secret.
            r.status = 400;
            r.content_type = "text/plain; charset=utf-8";
            r.body = std::string(e.what()) + "\n";
            return r;
        }
        r.status = report.healthy ? 200 : 503;
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
