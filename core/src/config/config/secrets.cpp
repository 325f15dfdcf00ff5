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

std::string Config::redact(std::string text) const {
    if (!learned_secrets_) return detail::redact_secrets(std::move(text), secrets_);
    return learned_secrets_->redact(std::move(text), secrets_);
}

void Config::learn_secret(const std::string &secret) const {
    if (learned_secrets_) learned_secrets_->add(secret);
}

std::shared_ptr<detail::LearnedSecrets> Config::make_learned_secrets() {
    return std::make_shared<detail::LearnedSecrets>();
}

} // namespace ilana

namespace ilana::config_detail {

namespace {

bool is_blank(char c) { return std::isspace(static_cast<unsigned char>(c)) != 0; }

// At `i`: "word=" (a libpq keyword starting the next key=value pair)?
bool keyword_follows(const std::string &text, std::string::size_type i) {
    auto j = i;
    while (j < text.size() && (std::isalnum(static_cast<unsigned char>(text[j])) || text[j] == '_')) ++j;
    if (j == i) return false;
    while (j < text.size() && text[j] == ' ') ++j;
    return j < text.size() && text[j] == '=';
}

// "host=db password=s3cret user=x" and "password='a b'" (libpq keyword
// form). Appends libpq's reading of the value (to the first blank, with
// backslash escapes) and, for an unquoted value, everything up to the next
// "keyword=" as well: "password=a b c port=1" is libpq's "a" followed by
// junk that libpq's error then quotes, and all of it was meant as password.
void dsn_passwords(const std::string &text, std::vector<std::string> &out) {
    std::string lowered(text);
    for (char &c : lowered) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    for (std::string::size_type pos = lowered.find("password"); pos != std::string::npos;
         pos = lowered.find("password", pos + 1)) {
        if (pos > 0 && !is_blank(text[pos - 1]) && text[pos - 1] != ';') continue;
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
            const auto begin = i;
            while (i < text.size() && !is_blank(text[i]) && text[i] != ';') {
                if (text[i] == '\\' && i + 1 < text.size()) ++i;
                value.push_back(text[i++]);
            }
            auto end = i;
            while (end < text.size()) {
                auto next = end;
                while (next < text.size() && is_blank(text[next])) ++next;
                if (next >= text.size() || keyword_follows(text, next)) break;
                end = next;
                while (end < text.size() && !is_blank(text[end])) ++end;
            }
            if (end > i) {
                const std::string meant = text.substr(begin, end - begin);
                out.push_back(meant);
                detail::secret_fragments(meant, out);
            }
        }
        if (!value.empty()) {
            detail::secret_fragments(value, out);
            out.push_back(std::move(value));
        }
    }
}

bool is_password_provider(const Value &value) {
    return member(value, "passwordFile") != nullptr || member(value, "passwordCommand") != nullptr;
}

void collect(const Value &value, bool secret, std::vector<std::string> &out) {
    if (value.IsString()) {
        const std::string s = str(value);
        if (secret) {
            out.push_back(s);
            detail::secret_fragments(s, out);
        }
        detail::url_secret_candidates(s, out);
        if (s.find('=') != std::string::npos) dsn_passwords(s, out);
    } else if (value.IsNumber()) {
        if (secret) out.push_back(number_text(value));
    } else if (value.IsObject()) {
        // A password provider names where the secret is (a file, a
        // command), which errors must be able to show; its answer is
        // learned when it is read (Config::learn_secret).
        if (secret && is_password_provider(value)) return;
        for (auto it = value.MemberBegin(); it != value.MemberEnd(); ++it)
            collect(it->value, secret || Config::is_secret_key(str(it->name)), out);
    } else if (value.IsArray()) {
        for (auto it = value.Begin(); it != value.End(); ++it) collect(*it, secret, out);
    }
}

} // namespace

void collect_secrets(const Value &root, std::vector<std::string> &out) { collect(root, false, out); }

bool carries_password(const std::string &text) {
    std::vector<std::string> found;
    detail::url_secret_candidates(text, found);
    if (text.find('=') != std::string::npos) dsn_passwords(text, found);
    return std::any_of(found.begin(), found.end(), [](const std::string &s) { return !s.empty(); });
}

void normalize_secrets(std::vector<std::string> &secrets) {
    secrets.erase(std::remove(secrets.begin(), secrets.end(), std::string()), secrets.end());
    std::sort(secrets.begin(), secrets.end());
    secrets.erase(std::unique(secrets.begin(), secrets.end()), secrets.end());
}

} // namespace ilana::config_detail
