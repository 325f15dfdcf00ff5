// json_util.hpp — small helpers over RapidJSON values shared by the config
// loader: JSON pointer paths, value descriptions for messages.
#pragma once

#include <rapidjson/document.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace ilana::config_detail {

using Value = rapidjson::Value;
using Document = rapidjson::Document;
using Allocator = rapidjson::Document::AllocatorType;

// Nesting deeper than this is refused before any recursive walk.
constexpr int kMaxDepth = 32;

inline std::string_view view(const Value &string_value) {
    return {string_value.GetString(), string_value.GetStringLength()};
}
inline std::string str(const Value &string_value) { return std::string(view(string_value)); }

// RFC 6901: "~" -> "~0", "/" -> "~1".
std::string escape_token(std::string_view key);
// The key an escaped token stands for ("~1" -> "/", "~0" -> "~").
std::string unescape_token(std::string_view token);
// parent + "/" + escaped key ("" is the root).
std::string join_path(const std::string &parent, std::string_view key);
std::string join_index(const std::string &parent, std::size_t index);

// The member named `name`, or nullptr (also when `object` is not an object).
const Value *member(const Value &object, std::string_view name);
Value *member(Value &object, std::string_view name);

// "a string", "a number", "an object", ... (never the value itself).
const char *kind_of(const Value &value);
// Numbers as JSON text: integers as integers, doubles in shortest form.
std::string number_text(const Value &number);

// A value quoted for a message ('fastest'), or a neutral description
// ("a string") when it could be a secret or is unreadable: never use on a
// value whose key is a secret key.
std::string quote_for_message(std::string_view text, const std::vector<std::string> &secrets);

// Names of an object's members, comma-separated, in order.
std::string member_names(const Value &object);

// True when the schema node's "type" (a string or an array) names `type`.
bool has_type(const Value &node, std::string_view type);

// Numbers written as text ("${PORT}" yields a string): the whole string,
// digits with an optional leading '-' (integers; the editor schema's
// pattern is the same) or a finite decimal number. False otherwise.
bool parse_integer_text(const std::string &text, int64_t &out);
bool parse_number_text(const std::string &text, double &out);

// Deepest nesting of arrays/objects (iterative, so any input is safe).
int nesting_depth(const Value &root);

// Where the first character is that no config value (after ${...}) or .env
// file may hold, or npos: a NUL would cut the value short where it crosses
// the C ABI (and the C libraries behind it); other control characters are
// never meant and can rewrite a terminal that prints the value. Tab, line
// feed and carriage return are text.
std::string_view::size_type find_control_character(std::string_view text);
// "a NUL character (U+0000)", "a control character U+001B".
std::string control_character_name(unsigned char c);

} // namespace ilana::config_detail
