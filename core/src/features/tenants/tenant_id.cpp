#include "tenants/tenant_id.hpp"

#include <ilana/error.hpp>

#include <cstdio>

namespace ilana::detail {

bool is_valid_tenant_id(std::string_view id) noexcept {
    if (id.empty() || id.size() > kMaxTenantIdLength) return false;
    for (char c : id) {
        const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
                        c == '-';
        if (!ok) return false;
    }
    return true;
}

std::string shown_tenant_id(std::string_view id) {
    std::string out = "\"";
    size_t shown = 0;
    for (char c : id) {
        if (shown++ == 80) {
            out += "...";
            break;
        }
        const auto u = static_cast<unsigned char>(c);
        if (c == '"' || c == '\\') {
            out += '\\';
            out += c;
        } else if (u < 0x20 || u == 0x7f) {
            char buf[8];
            std::snprintf(buf, sizeof buf, "\\x%02x", u);
            out += buf;
        } else {
            out += c;
        }
    }
    return out + "\"";
}

void validate_tenant_id(std::string_view id) {
    if (is_valid_tenant_id(id)) return;
    std::string why = id.empty() ? "it is empty"
                      : id.size() > kMaxTenantIdLength
                          ? "it has " + std::to_string(id.size()) + " characters"
                          : "it contains characters other than letters, digits, '_' and '-'";
    throw Error("tenant id " + shown_tenant_id(id) + " is not valid: " + why +
                    "; a tenant id has 1 to 63 letters, digits, '_' or '-'",
                ErrorClass::config);
}

std::string fill_tenant_template(const std::string &tmpl, std::string_view id) {
    static const std::string kToken = "{tenant}";
    std::string out;
    size_t pos = 0;
    for (;;) {
        size_t at = tmpl.find(kToken, pos);
        if (at == std::string::npos) break;
        out.append(tmpl, pos, at - pos);
        out.append(id);
        pos = at + kToken.size();
    }
    out.append(tmpl, pos, std::string::npos);
    return out;
}

std::string tenant_from_namespace(const std::string &name, const std::string &prefix) {
    if (name.size() <= prefix.size() || name.compare(0, prefix.size(), prefix) != 0) return {};
    std::string id = name.substr(prefix.size());
    return is_valid_tenant_id(id) ? id : std::string();
}

} // namespace ilana::detail
