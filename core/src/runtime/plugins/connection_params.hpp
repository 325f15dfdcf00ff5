// Checking a connection's parameters against what its driver declares
// ("ilana.params/1"), before anything connects: Database::open calls it for
// every connection, so `"filename": 42` or a mistyped key fails at load with
// the JSON path (exit 2 in the CLI), not at the first connect.
#pragma once

#include <ilana/config.hpp>
#include <ilana/driver_registry.hpp>

#include <string>
#include <vector>

namespace ilana::detail {

// How a declared boolean may be written as text (ASCII case ignored): the
// spellings the SDK's ParamReader::get_bool has always accepted, so a
// config that worked keeps working. The editor schema lists the same.
inline constexpr const char *kBoolSpellings[] = {"true", "false", "yes", "no", "on", "off", "1", "0"};

// Throws ConfigError naming the config file and the JSON path of the
// offending value: a wrong JSON type, a value outside the declared bounds
// or enum, a key given twice, a missing required key, an undeclared key
// (for a complete table, with "did you mean"). Keys starting with "ilana."
// are the host's and pass. A driver without declarations passes everything
// (it checks at connect). Appends to `secrets` the values of parameters the
// driver declares secret.
void check_connection_params(const Config &config, const ConnectionConfig &connection, const DriverInfo &driver,
                             std::vector<std::string> &secrets);

} // namespace ilana::detail
