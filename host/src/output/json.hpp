// JSON output of the CLI, written with RapidJSON's Writer.
#pragma once

#include <ilana/result.hpp>

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <string>

namespace ilana::cli {

using JsonWriter = rapidjson::Writer<rapidjson::StringBuffer>;

// Writes one field as its natural JSON type: numbers as numbers, bool as
// bool, NULL as null, everything else as its display string.
void write_field(JsonWriter &w, const Field &f);
// The rows as an array of objects keyed by column name.
void write_rows(JsonWriter &w, const Result &r);

} // namespace ilana::cli
