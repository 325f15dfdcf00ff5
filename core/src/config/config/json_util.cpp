#include "config/json_util.hpp"

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <utility>

namespace ilana::config_detail {

std::string escape_token(std::string_view key) {
    std::string out;
    out.reserve(key.size());
    for (char c : key) {
        if (c == '~')
            out += "~0";
        else if (c == '/')
            out += "~1";
        else
            out.push_back(c);
    }
    return out;
}

std::string unescape_token(std::string_view token) {
    std::string out;
    out.reserve(token.size());
    for (std::size_t i = 0; i < token.size(); ++i) {
        if (token[i] == '~' && i + 1 < token.size()) {
            out += token[i + 1] == '1' ? '/' : '~';
            ++i;
        } else {
            out += token[i];
        }
    }
    return out;
}

std::string join_path(const std::string &parent, std::string_view key) {
    return parent + "/" + escape_token(key);
}

std::string join_index(const std::string &parent, std::size_t index) {
    return parent + "/" + std::to_string(index);
}

const Value *member(const Value &object, std::string_view name) {
    if (!object.IsObject()) return nullptr;
    for (auto it = object.MemberBegin(); it != object.MemberEnd(); ++it)
        if (view(it->name) == name) return &it->value;
    return nullptr;
}

Value *member(Value &object, std::string_view name) {
    return const_cast<Value *>(member(static_cast<const Value &>(object), name));
}

const char *kind_of(const Value &value) {
    switch (value.GetType()) {
    case rapidjson::kNullType: return "null";
    case rapidjson::kFalseType:
    case rapidjson::kTrueType: return "a boolean";
    case rapidjson::kObjectType: return "an object";
    case rapidjson::kArrayType: return "an array";
    case rapidjson::kStringType: return "a string";
    case rapidjson::kNumberType: return value.IsInt64() || value.IsUint64() ? "an integer" : "a number";
    }
    return "a value";
}

std::string number_text(const Value &number) {
    if (number.IsInt64()) return std::to_string(number.GetInt64());
    if (number.IsUint64()) return std::to_string(number.GetUint64());
    rapidjson::StringBuffer buffer;
    rapidjson::Writer<rapidjson::StringBuffer> writer(buffer);
    if (!writer.Double(number.GetDouble())) return "a number"; // NaN/Inf cannot come from JSON
    return std::string(buffer.GetString(), buffer.GetSize());
}

std::string quote_for_message(std::string_view text, const std::vector<std::string> &secrets) {
    if (text.empty()) return "an empty string";
    if (text.size() > 64) return "a string";
    for (unsigned char c : text)
        if (c < 0x20 || c == 0x7f) return "a string";
    for (const auto &secret : secrets)
        if (!secret.empty() && text.find(secret) != std::string_view::npos) return "a string";
    return "'" + std::string(text) + "'";
}

std::string member_names(const Value &object) {
    std::string out;
    if (!object.IsObject()) return out;
    for (auto it = object.MemberBegin(); it != object.MemberEnd(); ++it) {
        if (!out.empty()) out += ", ";
        out += view(it->name);
    }
    return out;
}

int nesting_depth(const Value &root) {
    std::vector<std::pair<const Value *, int>> stack{{&root, 0}};
    int deepest = 0;
    while (!stack.empty()) {
        auto [value, depth] = stack.back();
        stack.pop_back();
        if (value->IsObject()) {
            ++depth;
            for (auto it = value->MemberBegin(); it != value->MemberEnd(); ++it)
                stack.emplace_back(&it->value, depth);
        } else if (value->IsArray()) {
            ++depth;
            for (auto it = value->Begin(); it != value->End(); ++it) stack.emplace_back(&*it, depth);
        }
        if (depth > deepest) deepest = depth;
        if (deepest > kMaxDepth) break;
    }
    return deepest;
}

std::string_view::size_type find_control_character(std::string_view text) {
    for (std::string_view::size_type i = 0; i < text.size(); ++i) {
        const auto c = static_cast<unsigned char>(text[i]);
        if (c == '\t' || c == '\n' || c == '\r' || (c >= 0x20 && c != 0x7f)) continue;
        return i;
    }
    return std::string_view::npos;
}

std::string control_character_name(unsigned char c) {
    if (c == 0) return "a NUL character (U+0000)";
    char code[8];
    std::snprintf(code, sizeof code, "U+%04X", c);
    return std::string("a control character ") + code;
}

bool has_type(const Value &node, std::string_view type) {
    const Value *t = member(node, "type");
    if (t == nullptr) return false;
    if (t->IsString()) return view(*t) == type;
    if (t->IsArray())
        for (auto it = t->Begin(); it != t->End(); ++it)
            if (it->IsString() && view(*it) == type) return true;
    return false;
}

bool parse_integer_text(const std::string &s, int64_t &out) {
    if (s.empty() || s.size() > 20) return false;
    std::string::size_type i = (s[0] == '-') ? 1 : 0;
    if (i == s.size()) return false;
    for (auto k = i; k < s.size(); ++k)
        if (s[k] < '0' || s[k] > '9') return false;
    errno = 0;
    char *end = nullptr;
    const long long v = std::strtoll(s.c_str(), &end, 10);
    if (errno == ERANGE || end != s.c_str() + s.size()) return false;
    out = static_cast<int64_t>(v);
    return true;
}

bool parse_number_text(const std::string &s, double &out) {
    if (s.empty() || s.size() > 64) return false;
    // strtod alone would also take leading spaces, "0x1p3" and "nan".
    for (char c : s)
        if (!((c >= '0' && c <= '9') || c == '-' || c == '+' || c == '.' || c == 'e' || c == 'E')) return false;
    errno = 0;
    char *end = nullptr;
    const double v = std::strtod(s.c_str(), &end);
    if (errno == ERANGE || end != s.c_str() + s.size() || !std::isfinite(v)) return false;
    out = v;
    return true;
}

} // namespace ilana::config_detail
