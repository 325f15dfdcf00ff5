#include "config/secrets.hpp"

#include "common/redact.hpp"

#include <ilana/config.hpp>

#include <algorithm>
#include <cctype>

namespace ilana {

bool Config::is_secret_key(const std::string &key) {
    std::string k;
    k.reserve(key.size());
    for (char c : key) k.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
    if (k == "sslkey" || k == "ssl.key") return true;
    const auto dot = k.rfind('.');
    const std::string last = dot == std::string::npos ? k : k.substr(dot + 1);
    if (last == "key" || last == "sslkey") return true;
    for (const char *word : {"password", "secret", "token", "passphrase"})
        if (last.find(word) != std::string::npos) return true;
    return false;
}

std::string Config::redact(std::string text) const { return detail::redact_secrets(std::move(text), secrets_); }

} // namespace ilana

namespace ilana::config_detail {

namespace {

// "host=db password=s3cret user=x" and "password='a b'" (libpq keyword form).
void dsn_passwords(const std::string &text, std::vector<std::string> &out) {
    std::string lowered(text);
    for (char &c : lowered) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    for (std::string::size_type pos = lowered.find("password"); pos != std::string::npos;
         pos = lowered.find("password", pos + 1)) {
        if (pos > 0 && !std::isspace(static_cast<unsigned char>(text[pos - 1])) && text[pos - 1] != ';') continue;
        auto i = pos + 8;
        while (i < text.size() && text[i] == ' ') ++i;
        if (i >= text.size() || text[i] != '=') continue;
        ++i;
        while (i < text.size() && text[i] == ' ') ++i;
        std::string value;
        if (i < text.size() && text[i] == '\'') {
            for (++i; i < text.size() && text[i] != '\''; ++i) {
                if (text[i] == '\\' && i + 1 < text.size()) ++i;
                value.push_back(text[i]);
            }
        } else {
            while (i < text.size() && !std::isspace(static_cast<unsigned char>(text[i])) && text[i] != ';')
                value.push_back(text[i++]);
        }
        if (!value.empty()) out.push_back(value);
    }
}

void collect(const Value &value, bool secret, std::vector<std::string> &out) {
    if (value.IsString()) {
        const std::string s = str(value);
        if (secret) out.push_back(s);
        const std::string url_pass = detail::url_password(s);
        if (!url_pass.empty()) {
            out.push_back(url_pass);
            out.push_back(detail::percent_decode(url_pass));
        }
        if (s.find('=') != std::string::npos) dsn_passwords(s, out);
    } else if (value.IsNumber()) {
        if (secret) out.push_back(number_text(value));
    } else if (value.IsObject()) {
        for (auto it = value.MemberBegin(); it != value.MemberEnd(); ++it)
            collect(it->value, secret || Config::is_secret_key(str(it->name)), out);
    } else if (value.IsArray()) {
        for (auto it = value.Begin(); it != value.End(); ++it) collect(*it, secret, out);
    }
}

} // namespace

void collect_secrets(const Value &root, std::vector<std::string> &out) { collect(root, false, out); }

void normalize_secrets(std::vector<std::string> &secrets) {
    secrets.erase(std::remove(secrets.begin(), secrets.end(), std::string()), secrets.end());
    std::sort(secrets.begin(), secrets.end());
    secrets.erase(std::unique(secrets.begin(), secrets.end()), secrets.end());
}

} // namespace ilana::config_detail
