// config_schema.hpp — the one JSON schema of ilana.config.json.
//
// Draft-04 as RapidJSON implements it. Two private keywords, ignored by the
// validator, feed the rest of the loader:
//   "x-coerce": true     a string holding a number/boolean (typically from
//                        ${VAR}) is converted before validation
//   "x-expect": "..."    how schema_errors.cpp words what is expected
//   "x-messages": {kw: "..."}  a whole message for one keyword
// The schema avoids anyOf/oneOf/patternProperties: RapidJSON reports those
// only as a bare keyword on the parent, which gives poor messages.
#pragma once

#include "config/json_util.hpp"

#include <rapidjson/schema.h>

namespace ilana::config_detail {

// The schema text (valid JSON).
const char *config_schema_text();
// The parsed schema (for reading keywords when wording errors).
const Document &config_schema_json();
// The compiled schema, built once.
const rapidjson::SchemaDocument &config_schema();

// Resolves a local "$ref" ("#/definitions/x") against the schema.
const Value *resolve_schema_ref(const Value *node);

// Converts strings to numbers/booleans where the schema says "x-coerce".
void coerce_to_schema(Value &value, Allocator &alloc);

} // namespace ilana::config_detail
