// schema_errors.hpp — one clear line from a failed RapidJSON validation.
//
// RapidJSON (1.1) tells only the failing keyword, the schema node and the
// instance's JSON pointer; this reads the schema node and the instance to
// word the message ("must be an integer ≥ 0, got -1", "unknown key 'pol'
// (did you mean 'pool'? allowed: ...)", "missing required key 'client'").
#pragma once

#include "config/json_util.hpp"

#include <rapidjson/schema.h>

#include <string>
#include <vector>

namespace ilana::config_detail {

struct SchemaErrorReport {
    std::string path;    // JSON pointer of the offending object or value ("" = root)
    std::string message; // without the path
};

// `document` is what the validator saw. `secrets` are values that must not
// appear in the message (values under secret keys are never quoted anyway).
SchemaErrorReport describe_schema_error(const rapidjson::SchemaValidator &validator, const Value &document,
                                        const std::vector<std::string> &secrets);

// The closest of `candidates` to `word` ("pol" -> "pool"), or "".
std::string closest_name(const std::string &word, const std::vector<std::string> &candidates);

} // namespace ilana::config_detail
