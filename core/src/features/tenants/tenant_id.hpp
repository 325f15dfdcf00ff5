// Tenant ids and the names derived from them. Pure functions (unit-tested
// in tests/unit/tenants_id_test.cpp).
#pragma once

#include <string>
#include <string_view>

namespace ilana::detail {

inline constexpr size_t kMaxTenantIdLength = 63;

// True for 1..63 ASCII letters, digits, '_' and '-'.
bool is_valid_tenant_id(std::string_view id) noexcept;
// Throws ilana::Error (class config) naming the id (escaped, shortened)
// and the rule, before the id gets anywhere near SQL.
void validate_tenant_id(std::string_view id);
// The id as it may be shown in a message: quoted, control characters and
// quotes escaped, at most 80 characters.
std::string shown_tenant_id(std::string_view id);

// `tmpl` with every "{tenant}" replaced by `id`.
std::string fill_tenant_template(const std::string &tmpl, std::string_view id);

// The id inside `name` when `name` is `prefix` + a valid id; "" otherwise.
std::string tenant_from_namespace(const std::string &name, const std::string &prefix);

} // namespace ilana::detail
