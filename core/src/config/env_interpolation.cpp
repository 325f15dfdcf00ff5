#include "config/env_interpolation.hpp"

#include <cstdlib>

namespace ilana::config_detail {

std::optional<std::string> VariableSource::get(const std::string &name) const {
    if (const char *value = std::getenv(name.c_str())) return std::string(value);
    const auto it = dotenv_.find(name);
    if (it != dotenv_.end()) return it->second;
    return std::nullopt;
}

namespace {

bool is_name_start(char c) { return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_'; }
bool is_name_char(char c) { return is_name_start(c) || (c >= '0' && c <= '9'); }

[[noreturn]] void bad_reference(std::string::size_type at, const char *what) {
    throw InterpolationError{"invalid ${...} reference at character " + std::to_string(at + 1) + ": " + what +
                             " (write $$ for a literal $)"};
}

} // namespace

std::string interpolate(const std::string &text, const VariableSource &vars) {
    if (text.find('$') == std::string::npos) return text;
    std::string out;
    out.reserve(text.size());
    const auto n = text.size();
    std::string::size_type i = 0;
    while (i < n) {
        const char c = text[i];
        if (c != '$' || i + 1 >= n) {
            out.push_back(c);
            ++i;
            continue;
        }
        if (text[i + 1] == '$') {
            out.push_back('$');
            i += 2;
            continue;
        }
        if (text[i + 1] != '{') {
            out.push_back(c);
            ++i;
            continue;
        }
        const auto start = i;
        auto j = i + 2;
        if (j >= n || !is_name_start(text[j])) bad_reference(start, "expected a variable name after '${'");
        while (j < n && is_name_char(text[j])) ++j;
        const std::string name = text.substr(i + 2, j - (i + 2));
        std::optional<std::string> fallback;
        if (j < n && text[j] == '}') {
            ++j;
        } else if (j + 1 < n && text[j] == ':' && text[j + 1] == '-') {
            const auto close = text.find('}', j + 2);
            if (close == std::string::npos) bad_reference(start, "missing '}'");
            fallback = text.substr(j + 2, close - (j + 2));
            j = close + 1;
        } else if (j >= n) {
            bad_reference(start, "missing '}'");
        } else {
            bad_reference(start, "expected '}' or ':-default}' after the variable name");
        }
        std::optional<std::string> value = vars.get(name);
        if (fallback && (!value || value->empty())) value = fallback;
        if (!value)
            throw InterpolationError{"environment variable " + name +
                                     " is not set (set it, add it to .env, or write ${" + name +
                                     ":-default})"};
        out += *value;
        i = j;
    }
    return out;
}

void interpolate_tree(Value &value, const std::string &path, const VariableSource &vars, Allocator &alloc,
                      const std::function<void(const std::string &, const std::string &)> &on_error) {
    if (value.IsString()) {
        const std::string text = str(value);
        try {
            std::string result = interpolate(text, vars);
            if (result != text) value.SetString(result.data(), static_cast<rapidjson::SizeType>(result.size()), alloc);
        } catch (const InterpolationError &e) {
            on_error(path, e.message);
        }
    } else if (value.IsObject()) {
        for (auto it = value.MemberBegin(); it != value.MemberEnd(); ++it)
            interpolate_tree(it->value, join_path(path, view(it->name)), vars, alloc, on_error);
    } else if (value.IsArray()) {
        for (rapidjson::SizeType k = 0; k < value.Size(); ++k)
            interpolate_tree(value[k], join_index(path, k), vars, alloc, on_error);
    }
}

} // namespace ilana::config_detail
