#include "common/redact.hpp"

#include <algorithm>

namespace ilana::detail {

std::string redact_secrets(std::string text, const std::vector<std::string> &secrets) {
    std::vector<const std::string *> order;
    order.reserve(secrets.size());
    for (const auto &s : secrets)
        if (!s.empty()) order.push_back(&s);
    std::stable_sort(order.begin(), order.end(),
                     [](const std::string *a, const std::string *b) { return a->size() > b->size(); });
    static const std::string mask = "***";
    for (const std::string *secret : order) {
        std::string::size_type pos = 0;
        while ((pos = text.find(*secret, pos)) != std::string::npos) {
            text.replace(pos, secret->size(), mask);
            pos += mask.size();
        }
    }
    return text;
}

namespace {

// [begin, end) of the password inside `url`, or npos when there is none.
std::pair<std::string_view::size_type, std::string_view::size_type> password_span(std::string_view url) {
    const auto none = std::make_pair(std::string_view::npos, std::string_view::npos);
    const auto scheme = url.find("://");
    if (scheme == std::string_view::npos) return none;
    const auto authority = scheme + 3;
    auto authority_end = url.find_first_of("/?#", authority);
    if (authority_end == std::string_view::npos) authority_end = url.size();
    // The last '@' ends the user info: passwords may contain unescaped '@'.
    const auto at = url.rfind('@', authority_end == 0 ? 0 : authority_end - 1);
    if (at == std::string_view::npos || at < authority) return none;
    const auto colon = url.find(':', authority);
    if (colon == std::string_view::npos || colon > at) return none;
    return {colon + 1, at};
}

} // namespace

std::string url_password(std::string_view url) {
    const auto [begin, end] = password_span(url);
    if (begin == std::string_view::npos) return {};
    return std::string(url.substr(begin, end - begin));
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

std::string redact_url(std::string url) {
    const auto [begin, end] = password_span(url);
    if (begin == std::string_view::npos || begin == end) return url;
    url.replace(begin, end - begin, "***");
    return url;
}

} // namespace ilana::detail
