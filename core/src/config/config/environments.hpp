// environments.hpp — the per-environment sections of the config.
//
// "environments": {"production": {...}} holds partial configs. The chosen
// section is deep-merged over the top level (minus "environments"): objects
// merge key by key, arrays and scalars replace, and null removes a key (as in
// JSON Merge Patch, RFC 7386). The result remembers which values came from
// the section, so messages point at the place the user has to edit.
#pragma once

#include "config/json_util.hpp"

#include <set>
#include <string>
#include <vector>

namespace ilana::config_detail {

struct EffectiveConfig {
    Document doc;                       // the merged config, without "environments"
    std::string environment;            // the chosen name
    bool has_environments = false;      // the file has an "environments" object
    bool section_found = false;         // ... and it has the chosen section
    std::vector<std::string> available; // names in "environments", in file order

    // The path in the file of a path of `doc` ("/connections/pg" ->
    // "/environments/production/connections/pg" when that came from there).
    std::string source_path(const std::string &merged_path) const;

    std::string section_prefix;         // "/environments/<name>"
    std::set<std::string> from_section; // merged paths set by the section
};

// Builds the effective config from the parsed file. `explicit_name` is true
// when the name was given (argument or ILANA_ENV): a missing section is then
// an error; otherwise the top level is used alone. Throws ConfigError
// naming `source`.
void build_effective_config(const Value &root, const std::string &name, bool explicit_name,
                            const std::string &source, const std::vector<std::string> &top_level_keys,
                            EffectiveConfig &out);

} // namespace ilana::config_detail
