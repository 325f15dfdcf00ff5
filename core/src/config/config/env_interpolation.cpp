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

// `${A:-${B:-${C:-x}}}` nests this deep at most; deeper is refused (a bound
// for the recursion, far beyond any real fallback chain).
constexpr int kMaxNesting = 8;

// One pass over a string value: `expand` copies text and replaces
// references, recursing into a default, which ends at its unmatched '}'.
class Expander {
public:
    Expander(const std::string &text, const VariableSource &vars) : text_(text), vars_(vars) {}

    std::string run() { return expand(0, true, false); }

private:
    [[noreturn]] void bad_reference(std::string::size_type at, const std::string &what) const {
        throw InterpolationError{"invalid ${...} reference at character " + std::to_string(at + 1) + ": " + what +
                                 " (write $$ for a literal $)"};
    }

    // `evaluate` false: a default that is not used; its syntax is checked,
    // its variables are not looked up (unset ones are no error there).
    std::string expand(int depth, bool evaluate, bool in_default) {
        std::string out;
        const auto n = text_.size();
        while (pos_ < n) {
            const char c = text_[pos_];
            if (in_default && c == '}') return out; // the caller consumes it
            if (c != '$' || pos_ + 1 >= n) {
                out.push_back(c);
                ++pos_;
                continue;
            }
            const char next = text_[pos_ + 1];
            if (next == '$') {
                out.push_back('$');
                pos_ += 2;
                continue;
            }
            if (next != '{') {
                out.push_back(c);
                ++pos_;
                continue;
            }
            out += reference(depth, evaluate);
        }
        return out;
    }

    // At "${": reads the reference through its closing '}'.
    std::string reference(int depth, bool evaluate) {
        const auto n = text_.size();
        const auto start = pos_;
        pos_ += 2;
        if (pos_ >= n || !is_name_start(text_[pos_])) bad_reference(start, "expected a variable name after '${'");
        const auto name_begin = pos_;
        while (pos_ < n && is_name_char(text_[pos_])) ++pos_;
        const std::string name = text_.substr(name_begin, pos_ - name_begin);
        std::optional<std::string> value = evaluate ? vars_.get(name) : std::nullopt;
        if (pos_ < n && text_[pos_] == '}') {
            ++pos_;
        } else if (pos_ + 1 < n && text_[pos_] == ':' && text_[pos_ + 1] == '-') {
            pos_ += 2;
            if (depth + 1 > kMaxNesting)
                bad_reference(start, "defaults nested deeper than " + std::to_string(kMaxNesting) + " levels");
            const bool use_default = evaluate && (!value || value->empty());
            std::string fallback = expand(depth + 1, use_default, true);
            if (pos_ >= n) bad_reference(start, "missing '}'");
            ++pos_;
            if (use_default) value = std::move(fallback);
        } else if (pos_ >= n) {
            bad_reference(start, "missing '}'");
        } else {
            bad_reference(start, "expected '}' or ':-default}' after the variable name");
        }
        if (!evaluate) return {};
        if (!value)
            throw InterpolationError{"environment variable " + name +
                                     " is not set (set it, add it to .env, or write ${" + name + ":-default})"};
        return *value;
    }

    const std::string &text_;
    const VariableSource &vars_;
    std::string::size_type pos_ = 0;
};

// What control character (find_control_character) `text` holds and where,
// never the value around it.
std::optional<std::string> control_character_at(std::string_view text) {
    const auto i = find_control_character(text);
    if (i == std::string_view::npos) return std::nullopt;
    return control_character_name(static_cast<unsigned char>(text[i])) + " at character " + std::to_string(i + 1);
}

} // namespace

std::string interpolate(const std::string &text, const VariableSource &vars) {
    if (text.find('$') == std::string::npos) return text;
    return Expander(text, vars).run();
}

void interpolate_tree(Value &value, const std::string &path, const VariableSource &vars, Allocator &alloc,
                      const std::function<void(const std::string &, const std::string &)> &on_error) {
    if (value.IsString()) {
        const std::string text = str(value);
        try {
            std::string result = interpolate(text, vars);
            if (auto problem = control_character_at(result))
                on_error(path, *problem + " (after ${...} interpolation): remove it");
            if (result != text) value.SetString(result.data(), static_cast<rapidjson::SizeType>(result.size()), alloc);
        } catch (const InterpolationError &e) {
            on_error(path, e.message);
        }
    } else if (value.IsObject()) {
        for (auto it = value.MemberBegin(); it != value.MemberEnd(); ++it) {
            // Keys name connections and parameters: the same rule as values.
            // Reported at the enclosing object: the key's own path would
            // carry the character into the message.
            if (auto problem = control_character_at(view(it->name)))
                on_error(path, "a key contains " + *problem + ": remove it");
            interpolate_tree(it->value, join_path(path, view(it->name)), vars, alloc, on_error);
        }
    } else if (value.IsArray()) {
        for (rapidjson::SizeType k = 0; k < value.Size(); ++k)
            interpolate_tree(value[k], join_index(path, k), vars, alloc, on_error);
    }
}

} // namespace ilana::config_detail
