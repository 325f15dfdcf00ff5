// ilana/config_schema.hpp — the JSON Schema of ilana.config.json for editors.
//
// Generated from the loader's own schema (the one every config is validated
// against) plus the connection parameters the given drivers declare
// ("ilana.params/1"), so it cannot drift from what the loader accepts. It
// describes the file as written, before ${VAR} interpolation: wherever the
// loader accepts a number or a boolean from a string, or checks a pattern or
// an enum, a string holding "${" is accepted too. Draft-07 (if/then selects
// a connection's parameters by its "client"). `ilana schema` prints it;
// docs/ilana.config.schema.json is its output for the bundled drivers.
//
// Thread safety: reentrant.
#pragma once

#include <ilana/driver_registry.hpp>

#include <string>
#include <vector>

namespace ilana {

// Pretty-printed JSON (two-space indent, trailing newline). Drivers are
// listed in id order, whatever the order of `drivers`.
std::string config_json_schema(const std::vector<DriverInfo> &drivers);

} // namespace ilana
