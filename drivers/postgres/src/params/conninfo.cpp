// conninfo.cpp — connect parameters, validated one by one.
//
// Precedence (lowest first): driver defaults, the `url` / `connectionString`
// URI, explicit keys. The result is a keyword array for PQconnectStartParams;
// values are never concatenated into a conninfo string, so no quoting bug can
// turn a value into another keyword.
#include "params/conninfo.hpp"

#include "errors.hpp"

#include <ilana/sdk/connection_url.hpp>
#include <ilana/sdk/driver.hpp>
#include <ilana/sdk/driver_support.hpp>
#include <ilana/sdk/params.hpp>

#include <libpq-fe.h>

#include <algorithm>
#include <cctype>
#include <memory>
#include <optional>

namespace ilana::drivers::postgres {
namespace {

using ilana::sdk::DriverFailure;
using ilana::sdk::ParamReader;

[[noreturn]] void config_error(const std::string &msg) { throw DriverFailure(ILANA_ERR_CONFIG, msg); }

void set_kw(ConnectConfig &cfg, const std::string &key, std::string value) {
    for (auto &kv : cfg.keywords)
        if (kv.first == key) {
            kv.second = std::move(value);
            return;
        }
    cfg.keywords.emplace_back(key, std::move(value));
}

const std::string *find_kw(const ConnectConfig &cfg, const std::string &key) {
    for (const auto &kv : cfg.keywords)
        if (kv.first == key) return &kv.second;
    return nullptr;
}

struct OptionsDeleter {
    void operator()(PQconninfoOption *o) const noexcept { PQconninfoFree(o); }
};

// A `url` / `connectionString`: a URI or a libpq keyword string
// ("host=db password=x"). A URI is first read by the SDK's one URL reading,
// which refuses the user info libpq would misread (an unescaped '@', '/',
// '?' or '#': libpq would take part of the password for a host, port or
// database name and print it); libpq then reads the same text, and its
// password must be the SDK's. libpq's own parse errors quote the token they
// stopped at, which may be part of a password: those quotes are masked.
void merge_uri(ConnectConfig &cfg, const char *key, const std::string &text) {
    const std::string what = "connection parameter '" + std::string(key) + "'";
    std::optional<std::string> url_password;
    if (ilana::sdk::looks_like_connection_url(text)) {
        try {
            const ilana::sdk::ConnectionUrl url = ilana::sdk::parse_connection_url(text, what);
            // libpq knows these two prefixes in lower case only; any other
            // text is a keyword string to it, and its error would quote it.
            if ((url.scheme != "postgresql" && url.scheme != "postgres") ||
                text.compare(0, url.scheme.size(), url.scheme) != 0)
                config_error(what + ": the scheme must be postgresql:// or postgres:// (in lower case)");
            url_password = url.password;
        } catch (const ilana::sdk::ConnectionUrlError &e) {
            config_error(e.what());
        }
    }
    char *err = nullptr;
    std::unique_ptr<PQconninfoOption, OptionsDeleter> opts(PQconninfoParse(text.c_str(), &err));
    if (!opts) {
        std::string why = err != nullptr ? one_line(err) : std::string("out of memory");
        if (err != nullptr) PQfreemem(err);
        config_error(what + " is not a valid PostgreSQL URI (postgresql://user:password@host:port/database) or "
                            "key=value string: " + mask_quoted(why));
    }
    std::optional<std::string> libpq_password;
    for (PQconninfoOption *o = opts.get(); o->keyword != nullptr; ++o) {
        if (o->val == nullptr || *o->val == '\0') continue;
        if (std::string(o->keyword) == "password") libpq_password = o->val;
        set_kw(cfg, o->keyword, o->val);
    }
    if (url_password && !url_password->empty() && libpq_password != url_password)
        config_error(what + ": libpq reads the URL's password differently from ilana; percent-encode every "
                            "character of the user name and password that is not a letter or digit");
}

namespace sdk = ilana::sdk;

const ilana_param_decl &declared(const char *key) { return sdk::declared_param(kConnectParams, key); }

// The value of `key` within its declared bounds; -1 when absent.
long long int_in_range(ParamReader &r, const char *key) {
    auto v = r.get_int(key);
    if (!v) return -1;
    const ilana_param_decl &d = declared(key);
    const auto lo = static_cast<long long>(d.minimum), hi = static_cast<long long>(d.maximum);
    if (!sdk::within_bounds(d, static_cast<double>(*v)))
        config_error("connection parameter '" + std::string(key) + "' must be between " + std::to_string(lo) +
                     " and " + std::to_string(hi) + ", got " + std::to_string(*v));
    return *v;
}

bool valid_sslmode(const std::string &m) { return sdk::is_allowed(declared("sslmode"), m); }

bool is_absolute(const std::string &p) { return !p.empty() && p[0] == '/'; }

// `search_path` may be a list ("tenant_a, public", "\"$user\", public"): passed
// as written. A single plain name (and always `schema`) is quoted, so that the
// schema the namespace extension created with PQescapeIdentifier is the one
// selected (unquoted names would be folded to lower case).
std::string search_path_setting(const std::string &value, bool list_allowed) {
    if (value.empty()) config_error("connection parameter 'search_path' must not be empty");
    if (list_allowed && (value.find(',') != std::string::npos || value.find('"') != std::string::npos))
        return value;
    std::string quoted = "\"";
    for (char c : value) {
        if (c == '"') quoted += '"';
        quoted += c;
    }
    return quoted + "\"";
}

} // namespace

std::string escape_startup_option(const std::string &value) {
    std::string out;
    out.reserve(value.size() + 8);
    for (char c : value) {
        if (std::isspace(static_cast<unsigned char>(c)) || c == '\\') out += '\\';
        out += c;
    }
    return out;
}

ConnectConfig build_connect_config(sdk::ConnectParams &r) {
    ConnectConfig cfg;

    // Defaults, which the URI and explicit keys may override.
    set_kw(cfg, "application_name", "ilana");

    if (auto uri = r.get("connectionString")) merge_uri(cfg, "connectionString", *uri);
    else if (auto url = r.get("url")) merge_uri(cfg, "url", *url);
    // Both given: the second is a mistake worth naming, not silently ignored.
    if (r.get("connectionString") && r.get("url"))
        config_error("give either 'url' or 'connectionString', not both");

    if (auto v = r.get("host")) set_kw(cfg, "host", *v);
    if (auto v = r.get("port")) {
        // libpq accepts a comma-separated list (one per host).
        if (v->empty() || v->find_first_not_of("0123456789,") != std::string::npos)
            config_error("connection parameter 'port' must be a port number, got '" + *v + "'");
        set_kw(cfg, "port", *v);
    }
    if (auto v = r.get("user")) set_kw(cfg, "user", *v);
    if (auto v = r.get("password")) set_kw(cfg, "password", *v);
    if (auto v = r.get({"database", "dbname"})) set_kw(cfg, "dbname", *v);
    r.accept({"dbname", "database"});
    if (auto v = r.get("application_name")) set_kw(cfg, "application_name", *v);

    // TLS: sslmode wins; otherwise the node-postgres spelling (`ssl`,
    // `ssl.rejectUnauthorized`).
    auto ssl = r.get_bool("ssl");
    auto reject = r.get_bool("ssl.rejectUnauthorized");
    if (auto mode = r.get("sslmode")) {
        if (!valid_sslmode(*mode))
            config_error("connection parameter 'sslmode' must be one of " +
                         sdk::allowed_values_text(declared("sslmode")) + "; got '" + *mode + "'");
        set_kw(cfg, "sslmode", *mode);
    } else if (ssl && !*ssl) {
        set_kw(cfg, "sslmode", "disable");
    } else if (reject) {
        set_kw(cfg, "sslmode", *reject ? "verify-full" : "require");
    } else if (ssl && *ssl) {
        set_kw(cfg, "sslmode", "require");
    }
    if (const std::string *m = find_kw(cfg, "sslmode"); m != nullptr && !valid_sslmode(*m))
        config_error("sslmode '" + *m + "' (from the connection URI) is not one of " +
                     sdk::allowed_values_text(declared("sslmode")));

    // Certificate paths relative to the config file's directory.
    const std::string config_dir = r.get_or("ilana.config_dir", "");
    for (const char *key : {"sslrootcert", "sslcert", "sslkey"}) {
        if (auto v = r.get(key)) {
            std::string path = *v;
            if (!is_absolute(path) && !config_dir.empty()) path = config_dir + "/" + path;
            set_kw(cfg, key, path);
        }
    }

    long long ct = int_in_range(r, "connect_timeout");
    if (ct >= 0) set_kw(cfg, "connect_timeout", std::to_string(ct));
    if (auto k = r.get_bool("keepalives")) set_kw(cfg, "keepalives", *k ? "1" : "0");
    for (const char *key : {"keepalives_idle", "keepalives_interval", "keepalives_count"}) {
        long long v = int_in_range(r, key);
        if (v >= 0) set_kw(cfg, key, std::to_string(v));
    }

    cfg.pgbouncer = r.get_bool("pgbouncer").value_or(false);
    cfg.statement_cache = !cfg.pgbouncer;

    // Session settings travel in the startup packet (`options`): no SET round
    // trip after connecting, and nothing PgBouncer would have to track. Note:
    // PgBouncer rejects `options` unless its ignore_startup_parameters lists
    // it — and then ignores it (see README.md).
    std::string options;
    if (const std::string *o = find_kw(cfg, "options")) options = *o;
    auto add_option = [&](const std::string &setting) {
        if (!options.empty()) options += ' ';
        options += "-c " + escape_startup_option(setting);
    };
    auto sp = r.get("search_path");
    auto schema = r.get("schema");
    if (sp && schema) config_error("give either 'search_path' or 'schema', not both");
    if (sp) add_option("search_path=" + search_path_setting(*sp, true));
    if (schema) add_option("search_path=" + search_path_setting(*schema, false));
    long long st = int_in_range(r, "statement_timeout");
    if (st >= 0) add_option("statement_timeout=" + std::to_string(st));
    if (!options.empty()) set_kw(cfg, "options", options);

    // Results are decoded as UTF-8 text; nothing else is supported.
    set_kw(cfg, "client_encoding", "UTF8");

    r.finish("the PostgreSQL driver (org.ilana.postgres)");

    if (const std::string *pw = find_kw(cfg, "password")) cfg.password = *pw;
    // Deadline: connect_timeout (libpq semantics: seconds, 0 = wait forever,
    // 1 counts as 2) wins over the host's timeout_ms.
    if (const std::string *c = find_kw(cfg, "connect_timeout")) {
        if (c->empty() || c->size() > 6 || c->find_first_not_of("0123456789") != std::string::npos)
            config_error("connect_timeout '" + *c + "' (from the connection URI) must be a number of seconds");
        long long secs = std::atoll(c->c_str());
        if (secs == 1) secs = 2;
        cfg.timeout_ms = secs <= 0 ? 0 : static_cast<int>(secs * 1000);
    } else if (r.timeout_ms() > 0) {
        cfg.timeout_ms = r.timeout_ms();
    }
    return cfg;
}

} // namespace ilana::drivers::postgres
