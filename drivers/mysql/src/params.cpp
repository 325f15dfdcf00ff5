// params.cpp — connect parameters: keys, defaults, units, validation.
//
// Keys follow the seed application's mysql2 options so existing configs work:
//   host, port, user, password, database, socketPath, charset, timezone,
//   ssl (true/false) or ssl.ca / ssl.cert / ssl.key / ssl.rejectUnauthorized,
//   connectTimeout / connect_timeout (MILLISECONDS, as in mysql2),
//   readTimeout / writeTimeout (SECONDS, libmariadb's unit),
//   maxPreparedStatements (mysql2's statement cache size), url.
// Unknown keys are ILANA_ERR_CONFIG naming them; "ilana.*" keys are the
// host's and are ignored (ilana.config_dir resolves relative TLS paths,
// ilana.connection names the connection in messages).
#include "params.hpp"

#include "driver.hpp"
#include "errors.hpp"

#include <ilana/sdk/connection_url.hpp>
#include <ilana/sdk/driver_support.hpp>
#include <ilana/sdk/params.hpp>

#include <algorithm>
#include <cctype>
#include <unistd.h>
#include <utility>
#include <vector>

namespace ilana::drivers::mysql {
namespace {

using ilana::sdk::ParamReader;

[[noreturn]] void config_error(const std::string &message) {
    throw DriverFailure(ILANA_ERR_CONFIG, message);
}

std::string lower(std::string s) {
    std::transform(s.begin(), s.end(), s.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return s;
}

using KeyValues = std::vector<std::pair<std::string, std::string>>;

// mysql://user:password@host:port/database?key=value&... (also mariadb://),
// read by the SDK's one URL reading (which refuses ambiguous user info).
// The URL's parts are defaults: explicitly given keys win. The message never
// repeats the URL, which holds the password.
KeyValues parse_url(const std::string &url) {
    ilana::sdk::ConnectionUrl u;
    try {
        u = ilana::sdk::parse_connection_url(url, "connection parameter 'url'");
    } catch (const ilana::sdk::ConnectionUrlError &e) {
        config_error(e.what());
    }
    if (u.scheme != "mysql" && u.scheme != "mariadb")
        config_error("connection parameter 'url': scheme '" + u.scheme + "' is not mysql:// or mariadb://");
    if (u.hosts.size() > 1)
        config_error("connection parameter 'url' names " + std::to_string(u.hosts.size()) +
                     " hosts; the MySQL/MariaDB driver connects to one");
    KeyValues out;
    if (u.user) out.emplace_back("user", *u.user);
    if (u.password) out.emplace_back("password", *u.password);
    if (!u.hosts.empty() && !u.hosts[0].host.empty()) out.emplace_back("host", u.hosts[0].host);
    if (!u.hosts.empty() && !u.hosts[0].port.empty()) out.emplace_back("port", u.hosts[0].port);
    if (u.database) out.emplace_back("database", *u.database);
    for (auto &[key, value] : u.query) {
        if (key == "url") config_error("connection parameter 'url' cannot contain another url");
        out.emplace_back(key, value ? *value : "true");
    }
    return out;
}

// "UTC" -> '+00:00'; "local" -> leave the server's setting; "+HH:MM" and
// named zones ("Europe/Berlin", needs the server's time zone tables) as is.
std::string parse_time_zone(const std::string &v) {
    std::string l = lower(v);
    if (l == "local" || l.empty()) return {};
    if (l == "utc" || l == "z" || l == "gmt") return "+00:00";
    if ((v[0] == '+' || v[0] == '-') && v.size() == 6 && std::isdigit((unsigned char)v[1]) &&
        std::isdigit((unsigned char)v[2]) && v[3] == ':' && std::isdigit((unsigned char)v[4]) &&
        std::isdigit((unsigned char)v[5]))
        return v;
    bool named = std::all_of(v.begin(), v.end(), [](unsigned char c) {
        return std::isalnum(c) || c == '/' || c == '_' || c == '-' || c == '+';
    });
    if (!named || !std::isalpha((unsigned char)v[0]))
        config_error("connection parameter 'timezone' must be \"UTC\", \"local\", \"+HH:MM\" or a "
                     "zone name like \"Europe/Berlin\", got '" + v + "'");
    return v;
}

// The ABI carries text as UTF-8, so only UTF-8 connection character sets are
// accepted; a collation name ("utf8mb4_unicode_ci") selects its charset too.
void parse_charset(const std::string &v, Config &c) {
    std::string l = lower(v);
    auto is_utf8 = [](const std::string &cs) { return cs == "utf8mb4" || cs == "utf8" || cs == "utf8mb3"; };
    if (is_utf8(l)) {
        c.charset = l;
        return;
    }
    size_t us = l.find('_');
    if (us != std::string::npos && is_utf8(l.substr(0, us)) &&
        std::all_of(l.begin(), l.end(), [](unsigned char ch) { return std::isalnum(ch) || ch == '_'; })) {
        c.charset = l.substr(0, us);
        c.collation = l;
        return;
    }
    config_error("connection parameter 'charset' must be a UTF-8 character set or collation "
                 "(utf8mb4, utf8mb4_unicode_ci, ...), got '" + v + "'");
}

std::string resolve_path(const std::string &key, const std::string &value,
                         const std::optional<std::string> &config_dir) {
    std::string path = value;
    if (!path.empty() && path[0] != '/' && config_dir && !config_dir->empty())
        path = *config_dir + "/" + path;
    if (::access(path.c_str(), R_OK) != 0)
        config_error("connection parameter '" + key + "': cannot read file '" + path + "'");
    return path;
}

namespace sdk = ilana::sdk;

// `v` within the bounds MysqlDriver::params declares for `key` (values from the URL
// reach only this check).
long long checked_range(const char *key, long long v, const char *unit) {
    const ilana_param_decl &d = sdk::declared_param(MysqlDriver::params, key);
    if (!sdk::within_bounds(d, static_cast<double>(v)))
        config_error(std::string("connection parameter '") + key + "' must be between " +
                     std::to_string(static_cast<long long>(d.minimum)) + " and " +
                     std::to_string(static_cast<long long>(d.maximum)) + unit + ", got " +
                     std::to_string(v));
    return v;
}

} // namespace

std::string Config::target() const {
    if (!socket_path.empty()) return socket_path;
    if (host.find(':') != std::string::npos) return "[" + host + "]:" + std::to_string(port);
    return host + ":" + std::to_string(port);
}

Config parse_config(const ilana_connect_params *params) {
    // Merge the URL's parts under the explicit keys, then read everything
    // through one ParamReader so unknown keys are caught wherever they came from.
    KeyValues merged;
    std::optional<std::string> url;
    if (params != nullptr) {
        for (uint32_t i = 0; i < params->param_count; ++i) {
            const ilana_param &p = params->params[i];
            if (p.key == nullptr || p.value == nullptr) continue;
            if (std::string(p.key) == "url") url = p.value;
            else merged.emplace_back(p.key, p.value);
        }
    }
    if (url) {
        for (auto &kv : parse_url(*url)) {
            bool given = std::any_of(merged.begin(), merged.end(),
                                     [&](const auto &e) { return e.first == kv.first; });
            if (!given) merged.push_back(std::move(kv));
        }
    }
    std::vector<ilana_param> flat;
    flat.reserve(merged.size());
    for (const auto &kv : merged) flat.push_back({kv.first.c_str(), kv.second.c_str()});
    ilana_connect_params view{};
    view.struct_size = sizeof view;
    view.params = flat.data();
    view.param_count = static_cast<uint32_t>(flat.size());
    ParamReader r(&view);

    Config c;
    if (params != nullptr) {
        if (params->timeout_ms > 0) c.connect_timeout_ms = params->timeout_ms;
        c.host_context = params->host_context;
    }
    c.name = r.get_or("ilana.connection", "");
    const auto config_dir = r.get("ilana.config_dir");

    if (auto v = r.get("host")) {
        if (v->empty()) config_error("connection parameter 'host' is empty");
        c.host = *v;
    }
    if (auto v = r.get_int("port")) c.port = static_cast<unsigned>(checked_range("port", *v, ""));
    c.user = r.get("user");
    c.password = r.get("password");
    c.database = r.get("database");
    if (c.database && c.database->empty()) c.database.reset();
    c.socket_path = r.get_or("socketPath", "");
    if (auto v = r.get("charset")) parse_charset(*v, c);
    if (auto v = r.get("timezone")) c.time_zone = parse_time_zone(*v);

    // Timeouts: connectTimeout is milliseconds like mysql2's; the ABI's
    // "connect_timeout" key (same unit) wins over it and over timeout_ms.
    if (auto v = r.get_int("connectTimeout"))
        c.connect_timeout_ms = static_cast<int>(checked_range("connectTimeout", *v, " ms"));
    if (auto v = r.get_int("connect_timeout"))
        c.connect_timeout_ms = static_cast<int>(checked_range("connect_timeout", *v, " ms"));
    if (auto v = r.get_int("readTimeout"))
        c.read_timeout_s = static_cast<unsigned>(checked_range("readTimeout", *v, " s"));
    if (auto v = r.get_int("writeTimeout"))
        c.write_timeout_s = static_cast<unsigned>(checked_range("writeTimeout", *v, " s"));
    if (auto v = r.get_int("maxPreparedStatements"))
        c.max_prepared = static_cast<size_t>(checked_range("maxPreparedStatements", *v, ""));

    // TLS: "ssl": true/false, or the nested object's keys (which imply TLS).
    auto ssl = r.get_bool("ssl");
    auto ca = r.get("ssl.ca"), cert = r.get("ssl.cert"), key = r.get("ssl.key");
    auto reject = r.get_bool("ssl.rejectUnauthorized");
    bool nested = ca || cert || key || reject;
    if (ssl && !*ssl && nested)
        config_error("connection parameter 'ssl' is false but ssl.* options are set: remove one");
    c.ssl = ssl.value_or(nested);
    if (reject) c.ssl_verify = *reject;
    if (ca) c.ssl_ca = resolve_path("ssl.ca", *ca, config_dir);
    if (cert) c.ssl_cert = resolve_path("ssl.cert", *cert, config_dir);
    if (key) c.ssl_key = resolve_path("ssl.key", *key, config_dir);
    if (cert.has_value() != key.has_value())
        config_error("connection parameters 'ssl.cert' and 'ssl.key' must be given together");

    r.finish("the MySQL/MariaDB driver (org.ilana.mysql)");
    return c;
}

} // namespace ilana::drivers::mysql
