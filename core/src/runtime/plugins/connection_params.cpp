// Connection parameters against the driver's "ilana.params/1" declarations.
// Messages follow the config loader's: the file, the JSON path, what was
// expected and what was found, never a secret value.
#include "plugins/connection_params.hpp"

#include "config/json_util.hpp"
#include "config/schema_errors.hpp"

#include <ilana/error.hpp>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <sstream>

namespace ilana::detail {

namespace {

std::string lower(std::string s) {
    for (char &c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return s;
}

// A declared INT given as text: the same reading as the loader's own
// schema (config_detail::parse_integer_text), as a double for the bounds.
bool parse_integer(const std::string &s, double &out) {
    int64_t v = 0;
    if (!config_detail::parse_integer_text(s, v)) return false;
    out = static_cast<double>(v);
    return true;
}

bool is_bool_text(const std::string &s) {
    const std::string l = lower(s);
    return std::any_of(std::begin(kBoolSpellings), std::end(kBoolSpellings), [&](const char *w) { return l == w; });
}

std::string number_text(double v) {
    if (std::floor(v) == v && std::fabs(v) < 9.0e15) return std::to_string(static_cast<long long>(v));
    std::ostringstream out;
    out << v;
    return out.str();
}

std::string join(const std::vector<std::string> &items) {
    std::string out;
    for (const auto &item : items) out += (out.empty() ? "" : ", ") + item;
    return out;
}

// "an integer between 1 and 65535", "one of disable, allow, ...".
std::string expected(const DriverParam &p) {
    if (p.type == "string") return "a string";
    if (p.type == "boolean") return "true or false";
    if (p.type == "enum") return "one of " + join(p.allowed);
    std::string out = p.type == "integer" ? "an integer" : "a number";
    if (p.minimum && p.maximum) return out + " between " + number_text(*p.minimum) + " and " + number_text(*p.maximum);
    if (p.minimum) return out + " \u2265 " + number_text(*p.minimum);
    if (p.maximum) return out + " \u2264 " + number_text(*p.maximum);
    return out;
}

// "number 42", "'abc'", "true"; only the kind for a secret.
std::string got(const Config &config, const std::string &json_type, const std::string &value, bool secret) {
    if (json_type == "boolean") return secret ? "a boolean" : value;
    if (json_type == "integer" || json_type == "number") return secret ? "a number" : "number " + value;
    if (secret) return "a string";
    const std::string quoted = config_detail::quote_for_message(value, {});
    return config.redact(quoted) == quoted ? quoted : "a string";
}

// Whether `value` (of JSON type `json_type`) is what `p` declares; the
// numeric value of integers and numbers for the bounds.
bool type_matches(const DriverParam &p, const std::string &json_type, const std::string &value, double &number) {
    const bool from_text = json_type == "string";
    if (p.type == "string") return json_type == "string" || json_type == "url";
    if (p.type == "integer")
        return (json_type == "integer" || from_text) && parse_integer(value, number);
    if (p.type == "number")
        return (json_type == "integer" || json_type == "number" || from_text) && config_detail::parse_number_text(value, number);
    if (p.type == "boolean")
        return json_type == "boolean" || (json_type == "integer" && (value == "0" || value == "1")) ||
               (from_text && is_bool_text(value));
    // enum: text, or a number written as one of the values (synchronous: 1)
    if (json_type == "boolean" || json_type == "url") return false;
    const std::string v = p.case_insensitive ? lower(value) : value;
    return std::any_of(p.allowed.begin(), p.allowed.end(),
                       [&](const std::string &a) { return (p.case_insensitive ? lower(a) : a) == v; });
}

// The keys allowed in the object at flattened `prefix` ("" or "ssl."):
// the next segment of every declared key below it.
std::vector<std::string> keys_below(const DriverParams &params, const std::string &prefix) {
    std::vector<std::string> out;
    for (const auto &p : params.list) {
        if (p.key.compare(0, prefix.size(), prefix) != 0 || p.key.size() == prefix.size()) continue;
        std::string rest = p.key.substr(prefix.size());
        rest = rest.substr(0, rest.find('.'));
        if (std::find(out.begin(), out.end(), rest) == out.end()) out.push_back(rest);
    }
    return out;
}

} // namespace

void check_connection_params(const Config &config, const ConnectionConfig &cc, const DriverInfo &driver,
                             std::vector<std::string> &secrets) {
    const DriverParams &declared = driver.params;
    if (!declared.declared || cc.param_origins.size() != cc.params.size()) return;
    const std::string client = "client '" + cc.client + "'";
    auto fail = [&](const std::string &path, const std::string &message) {
        throw ConfigError(message, config.source(), path);
    };

    for (std::size_t i = 0; i < cc.params.size(); ++i) {
        const auto &[key, value] = cc.params[i];
        const ParamOrigin &origin = cc.param_origins[i];
        if (key.rfind("ilana.", 0) == 0) continue;
        for (std::size_t j = 0; j < i; ++j)
            if (cc.params[j].first == key)
                fail(origin.json_path, "parameter '" + key + "' is given twice (also at " +
                                           cc.param_origins[j].json_path + "); keep one");

        const DriverParam *p = declared.find(key);
        if (p == nullptr) {
            if (declared.open) continue;
            const std::vector<std::string> top = keys_below(declared, "");
            if (origin.json_type == "url")
                fail(origin.json_path, "a URL string is not accepted by " + client + " (" + driver.name +
                                           "): give an object of parameters (allowed: " + join(top) + ")");
            // Reported on the object holding the key, as the loader does.
            const auto slash = origin.json_path.rfind('/');
            const std::string parent = origin.json_path.substr(0, slash);
            const std::string written = config_detail::unescape_token(origin.json_path.substr(slash + 1));
            const std::string prefix = key.size() > written.size() ? key.substr(0, key.size() - written.size()) : "";
            const std::vector<std::string> allowed = keys_below(declared, prefix);
            const std::string suggestion = config_detail::closest_name(written, allowed);
            fail(parent, "unknown key '" + written + "' for " + client + " (" +
                             (suggestion.empty() ? std::string() : "did you mean '" + suggestion + "'? ") +
                             "allowed: " + join(allowed) + ")");
        }

        const bool secret = p->secret || Config::is_secret_key(key);
        if (p->secret) secrets.push_back(value);
        double number = 0;
        if (!type_matches(*p, origin.json_type, value, number))
            fail(origin.json_path, "expected " + expected(*p) + ", got " + got(config, origin.json_type, value, secret));
        if ((p->minimum && number < *p->minimum) || (p->maximum && number > *p->maximum))
            fail(origin.json_path, "expected " + expected(*p) + ", got " + got(config, origin.json_type, value, secret));
    }

    // A provider's password reaches the driver as "password" at connect:
    // a driver without such a parameter would refuse it only then.
    if (cc.password_provider && !declared.open && declared.find("password") == nullptr)
        fail(cc.password_provider->json_path, client + " (" + driver.name +
                                                  ") takes no \"password\" parameter, so a password provider has "
                                                  "nothing to give it; remove \"password\"");

    for (const auto &p : declared.list) {
        if (!p.required) continue;
        const bool provided = p.key == "password" && cc.password_provider;
        const bool given = std::any_of(cc.params.begin(), cc.params.end(),
                                       [&](const auto &kv) { return kv.first == p.key; });
        if (!given && !provided)
            fail(cc.params.empty() ? cc.json_path : cc.json_path + "/connection",
                 "missing required key '" + p.key + "' for " + client + " (" + p.description + ")");
    }
}

} // namespace ilana::detail
