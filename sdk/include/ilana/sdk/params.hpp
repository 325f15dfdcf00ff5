// ilana/sdk/params.hpp — declaring a driver's connection parameters
// (the "ilana.params/1" extension of <ilana/driver.h>).
//
//   static constexpr const char *kModes[] = {"rwc", "rw", "ro", nullptr};
//   static constexpr ilana_param_decl kParams[] = {
//       ilana::sdk::required(ilana::sdk::param_string("filename", "database file")),
//       ilana::sdk::param_enum("mode", "open mode", kModes, "rwc"),
//       ilana::sdk::param_int("busy_timeout", "wait for locks (milliseconds)", 0, 2147483647, "5000"),
//       ilana::sdk::param_bool("readonly", "open read-only", "false"),
//       ilana::sdk::secret(ilana::sdk::param_string("apiKey", "the service's key")),
//   };
//   static constexpr ilana_params_api kParamsApi = ilana::sdk::params_table(kParams);
//   ... get_extension(ILANA_EXT_PARAMS) returns &kParamsApi.
//
// A driver class built with <ilana/sdk/driver.hpp> only declares
//   static constexpr ilana_param_decl params[] = {...};
// and the SDK exposes the table (params_flags = ILANA_PARAMS_OPEN when the
// list is partial). The host then refuses wrong types, values outside the
// bounds or the enum, missing required keys and (for a complete table)
// unknown keys at load, with the JSON path; the driver still reads its
// parameters with ParamReader / ConnectParams as before.
//
// Header-only, depends on <ilana/driver.h>, driver_support.hpp and the C++17
// standard library.
#ifndef ILANA_SDK_PARAMS_HPP
#define ILANA_SDK_PARAMS_HPP

#include <ilana/driver.h>
#include <ilana/sdk/driver_support.hpp>

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace ilana::sdk {

constexpr ilana_param_decl param_decl(ilana_param_type type, const char *key, const char *description,
                                      const char *default_value = nullptr, uint32_t flags = 0,
                                      const char *const *allowed = nullptr, double minimum = 0,
                                      double maximum = 0) noexcept {
    return ilana_param_decl{sizeof(ilana_param_decl), type,          flags,   0,      key,
                            description,              default_value, allowed, minimum, maximum};
}

// Any string.
constexpr ilana_param_decl param_string(const char *key, const char *description,
                                        const char *default_value = nullptr) noexcept {
    return param_decl(ILANA_PARAM_STRING, key, description, default_value);
}
// An integer in [minimum, maximum].
constexpr ilana_param_decl param_int(const char *key, const char *description, double minimum, double maximum,
                                     const char *default_value = nullptr) noexcept {
    return param_decl(ILANA_PARAM_INT, key, description, default_value, ILANA_PARAMF_MINIMUM | ILANA_PARAMF_MAXIMUM,
                      nullptr, minimum, maximum);
}
// A number in [minimum, maximum].
constexpr ilana_param_decl param_number(const char *key, const char *description, double minimum, double maximum,
                                        const char *default_value = nullptr) noexcept {
    return param_decl(ILANA_PARAM_NUMBER, key, description, default_value,
                      ILANA_PARAMF_MINIMUM | ILANA_PARAMF_MAXIMUM, nullptr, minimum, maximum);
}
constexpr ilana_param_decl param_bool(const char *key, const char *description,
                                      const char *default_value = nullptr) noexcept {
    return param_decl(ILANA_PARAM_BOOL, key, description, default_value);
}
// One of `allowed` (a NULL-terminated array with static storage).
constexpr ilana_param_decl param_enum(const char *key, const char *description, const char *const *allowed,
                                      const char *default_value = nullptr) noexcept {
    return param_decl(ILANA_PARAM_ENUM, key, description, default_value, 0, allowed);
}

// Flag modifiers.
constexpr ilana_param_decl with_flags(ilana_param_decl d, uint32_t flags) noexcept {
    d.flags |= flags;
    return d;
}
constexpr ilana_param_decl required(ilana_param_decl d) noexcept { return with_flags(d, ILANA_PARAMF_REQUIRED); }
constexpr ilana_param_decl secret(ilana_param_decl d) noexcept { return with_flags(d, ILANA_PARAMF_SECRET); }
constexpr ilana_param_decl case_insensitive(ilana_param_decl d) noexcept {
    return with_flags(d, ILANA_PARAMF_CASE_INSENSITIVE);
}

// The extension table over a static array of declarations.
template <size_t N>
constexpr ilana_params_api params_table(const ilana_param_decl (&decls)[N], uint32_t flags = 0) noexcept {
    return ilana_params_api{sizeof(ilana_params_api), flags, decls, static_cast<uint32_t>(N),
                            static_cast<uint32_t>(sizeof(ilana_param_decl))};
}

// The declaration of `key` in `decls`. A driver checks some values again
// itself (those a URL carries, which the host never saw; any value from a
// host without the extension): it reads the bounds and the allowed values
// from its table, so each is written once. A key the table does not
// declare is the driver's own bug: ILANA_ERR_INTERNAL naming it.
template <size_t N>
const ilana_param_decl &declared_param(const ilana_param_decl (&decls)[N], std::string_view key) {
    for (const ilana_param_decl &d : decls)
        if (d.key != nullptr && key == d.key) return d;
    throw DriverFailure(ILANA_ERR_INTERNAL, "connection parameter '" + std::string(key) + "' is not declared");
}

// INT / NUMBER: whether `value` is within the declared bounds.
inline bool within_bounds(const ilana_param_decl &decl, double value) noexcept {
    return ((decl.flags & ILANA_PARAMF_MINIMUM) == 0 || value >= decl.minimum) &&
           ((decl.flags & ILANA_PARAMF_MAXIMUM) == 0 || value <= decl.maximum);
}

// ENUM: whether `value` is one of `decl.allowed` (exact: a driver that
// takes any case lower-cases the value first).
inline bool is_allowed(const ilana_param_decl &decl, std::string_view value) noexcept {
    if (decl.allowed == nullptr) return false;
    for (const char *const *a = decl.allowed; *a != nullptr; ++a)
        if (value == *a) return true;
    return false;
}

// ENUM: the allowed values for a message, "a, b, c".
inline std::string allowed_values_text(const ilana_param_decl &decl) {
    std::string out;
    if (decl.allowed == nullptr) return out;
    for (const char *const *a = decl.allowed; *a != nullptr; ++a) {
        if (!out.empty()) out += ", ";
        out += *a;
    }
    return out;
}

} // namespace ilana::sdk

#endif // ILANA_SDK_PARAMS_HPP
