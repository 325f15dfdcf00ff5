#include "common/redact.hpp"

#include <algorithm>

namespace ilana::detail {

namespace {

bool is_delimiter(char c) {
    switch (c) {
    case '@': case '/': case '?': case '#': case ':': case '&': case '=': case ',': case ';':
    case '[': case ']': case '"': case '\'': case ' ': case '\t': case '\n': case '\r':
        return true;
    default:
        return false;
    }
}

bool is_word_char(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

// Is `token` a run of a secret's pieces, starting and ending at a delimiter
// (or the secret's ends)? That is what a misreading hands a client library
// as a host, port or name. "ilana" inside the password "ilana_pw" is not:
// a user name that starts a password stays readable.
bool piece_of_a_secret(std::string_view token, const std::vector<const std::string *> &secrets) {
    if (token.size() < kMinSecretFragment) return false;
    for (const std::string *s : secrets) {
        for (auto pos = s->find(token); pos != std::string::npos; pos = s->find(token, pos + 1)) {
            const auto end = pos + token.size();
            if ((pos == 0 || is_delimiter((*s)[pos - 1])) && (end == s->size() || is_delimiter((*s)[end])))
                return true;
        }
    }
    return false;
}

// Masks '...' and "..." tokens that are part of a secret.
std::string mask_quoted_parts(std::string text, const std::vector<const std::string *> &secrets) {
    for (const char quote : {'"', '\''}) {
        std::string::size_type open = 0;
        while ((open = text.find(quote, open)) != std::string::npos) {
            const auto close = text.find(quote, open + 1);
            if (close == std::string::npos) break;
            const std::string_view token(text.data() + open + 1, close - open - 1);
            if (piece_of_a_secret(token, secrets)) {
                text.replace(open + 1, close - open - 1, "***");
                open += 5;
            } else {
                open = close + 1;
            }
        }
    }
    return text;
}

} // namespace

std::string redact_secrets(std::string text, const std::vector<std::string> &secrets) {
    std::vector<const std::string *> order;
    order.reserve(secrets.size());
    for (const auto &s : secrets)
        if (!s.empty()) order.push_back(&s);
    std::stable_sort(order.begin(), order.end(),
                     [](const std::string *a, const std::string *b) { return a->size() > b->size(); });
    // Quoted runs first, so that a quoted run of pieces becomes one "***".
    text = mask_quoted_parts(std::move(text), order);
    static const std::string mask = "***";
    for (const std::string *secret : order) {
        // A secret shorter than kMinSecretFragment (the "pa" a misread
        // "u:pa@ss/word@host" URL yields as its password) is masked only where
        // it stands alone: inside a word ("parameter") it is that word, and
        // masking it there garbles the message without hiding anything.
        const bool whole_token_only = secret->size() < kMinSecretFragment;
        std::string::size_type pos = 0;
        while ((pos = text.find(*secret, pos)) != std::string::npos) {
            const auto end = pos + secret->size();
            if (whole_token_only && ((pos > 0 && is_word_char(text[pos - 1])) ||
                                     (end < text.size() && is_word_char(text[end])))) {
                pos += 1;
                continue;
            }
            text.replace(pos, secret->size(), mask);
            pos += mask.size();
        }
    }
    return text;
}

void LearnedSecrets::add(const std::string &secret) {
    if (secret.empty()) return;
    std::vector<std::string> found{secret};
    secret_fragments(secret, found);
    std::lock_guard<std::mutex> lock(mu_);
    for (auto &s : found) {
        auto at = std::lower_bound(secrets_.begin(), secrets_.end(), s);
        if (at == secrets_.end() || *at != s) secrets_.insert(at, std::move(s));
    }
    any_.store(true, std::memory_order_release);
}

std::string LearnedSecrets::redact(std::string text, const std::vector<std::string> &fixed) const {
    if (!any_.load(std::memory_order_acquire)) return redact_secrets(std::move(text), fixed);
    std::vector<std::string> all = fixed;
    {
        std::lock_guard<std::mutex> lock(mu_);
        all.insert(all.end(), secrets_.begin(), secrets_.end());
    }
    return redact_secrets(std::move(text), all);
}

void secret_fragments(std::string_view secret, std::vector<std::string> &out) {
    std::string_view::size_type start = 0;
    for (std::string_view::size_type i = 0; i <= secret.size(); ++i) {
        if (i < secret.size() && !is_delimiter(secret[i])) continue;
        if (i - start >= kMinSecretFragment && (start != 0 || i != secret.size()))
            out.emplace_back(secret.substr(start, i - start));
        start = i + 1;
    }
}

void url_secret_candidates(std::string_view text, std::vector<std::string> &out) {
    const auto scheme = text.find("://");
    if (scheme == std::string_view::npos) return;
    const auto userinfo = scheme + 3;
    const auto colon = text.find(':', userinfo);
    for (auto at = text.find('@', userinfo); at != std::string_view::npos; at = text.find('@', at + 1)) {
        if (colon == std::string_view::npos || colon > at) continue; // no password before this '@'
        const std::string_view password = text.substr(colon + 1, at - colon - 1);
        if (password.empty()) continue;
        std::string decoded = percent_decode(password);
        out.emplace_back(password);
        secret_fragments(password, out);
        secret_fragments(decoded, out);
        out.push_back(std::move(decoded));
    }
}

std::string percent_decode(std::string_view text) {
    auto hex = [](char c) -> int {
        if (c >= '0' && c <= '9') return c - '0';
        if (c >= 'a' && c <= 'f') return c - 'a' + 10;
        if (c >= 'A' && c <= 'F') return c - 'A' + 10;
        return -1;
    };
    std::string out;
    out.reserve(text.size());
    for (std::string_view::size_type i = 0; i < text.size(); ++i) {
        if (text[i] == '%' && i + 2 < text.size()) {
            const int hi = hex(text[i + 1]), lo = hex(text[i + 2]);
            if (hi >= 0 && lo >= 0) {
                out.push_back(static_cast<char>(hi * 16 + lo));
                i += 2;
                continue;
            }
        }
        out.push_back(text[i]);
    }
    return out;
}

} // namespace ilana::detail
