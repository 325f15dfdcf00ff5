// env_interpolation.hpp — ${VAR} and ${VAR:-default} in JSON string values.
//
//   ${VAR}          the variable's value (an error when it is not set)
//   ${VAR:-text}    the value, or `text` when VAR is unset or empty; `text`
//                   is interpolated too (`${A:-${B:-x}}`, at most 8 deep) and
//                   ends at its unmatched '}'
//   $$              a literal '$'
//   any other '$'   kept as written
// Every string value and key, after interpolation, must be free of NUL and
// other control characters (tab, CR and LF are allowed): refused with the
// JSON path, since a NUL would silently cut the value short in the driver.
// Variables come from the process environment first, then the .env map.
#pragma once

#include "config/dotenv.hpp"
#include "config/json_util.hpp"

#include <functional>
#include <optional>
#include <string>

namespace ilana::config_detail {

class VariableSource {
public:
    explicit VariableSource(DotEnv dotenv = {}) : dotenv_(std::move(dotenv)) {}
    // The process environment wins over .env.
    std::optional<std::string> get(const std::string &name) const;

private:
    DotEnv dotenv_;
};

// Why an interpolation failed; the caller adds file and path.
struct InterpolationError {
    std::string message;
};

// Interpolates one string. Throws InterpolationError (the message never
// contains the string's value).
std::string interpolate(const std::string &text, const VariableSource &vars);

// Interpolates every string value (not keys) under `value`, in place.
// `on_error(path, message)` must throw; `path` is the value's JSON pointer.
void interpolate_tree(Value &value, const std::string &path, const VariableSource &vars, Allocator &alloc,
                      const std::function<void(const std::string &, const std::string &)> &on_error);

} // namespace ilana::config_detail
