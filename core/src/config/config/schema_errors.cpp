#include "config/schema_errors.hpp"

#include "config/config_schema.hpp"

#include <ilana/config.hpp>

#include <algorithm>
#include <cctype>

namespace ilana::config_detail {

namespace {

using Pointer = rapidjson::SchemaValidator::PointerType;

std::string lower(std::string s) {
    for (char &c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return s;
}

std::size_t edit_distance(const std::string &a, const std::string &b) {
    std::vector<std::size_t> row(b.size() + 1);
    for (std::size_t j = 0; j <= b.size(); ++j) row[j] = j;
    for (std::size_t i = 1; i <= a.size(); ++i) {
        std::size_t diagonal = row[0];
        row[0] = i;
        for (std::size_t j = 1; j <= b.size(); ++j) {
            const std::size_t above = row[j];
            row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
            diagonal = above;
        }
    }
    return row[b.size()];
}

const char *type_phrase(std::string_view type) {
    if (type == "integer") return "an integer";
    if (type == "number") return "a number";
    if (type == "string") return "a string";
    if (type == "boolean") return "true or false";
    if (type == "object") return "an object";
    if (type == "array") return "an array";
    if (type == "null") return "null";
    return "a value";
}

std::string join_or(const std::vector<std::string> &items) {
    std::string out;
    for (std::size_t i = 0; i < items.size(); ++i) {
        if (i > 0) out += (i + 1 == items.size()) ? " or " : ", ";
        out += items[i];
    }
    return out;
}

std::string string_list(const Value &array, const char *separator) {
    std::string out;
    if (!array.IsArray()) return out;
    for (auto it = array.Begin(); it != array.End(); ++it) {
        if (!out.empty()) out += separator;
        if (it->IsString())
            out += view(*it);
        else if (it->IsNumber())
            out += number_text(*it);
    }
    return out;
}

// What the schema node asks for, without bounds ("an integer", "one of a, b").
std::string expected(const Value &node) {
    if (const Value *expect = member(node, "x-expect"); expect != nullptr && expect->IsString()) return str(*expect);
    if (const Value *values = member(node, "enum"); values != nullptr && values->IsArray())
        return "one of " + string_list(*values, ", ");
    const Value *type = member(node, "type");
    if (type == nullptr) return "a valid value";
    if (type->IsString()) return type_phrase(view(*type));
    std::vector<std::string> phrases;
    if (type->IsArray())
        for (auto it = type->Begin(); it != type->End(); ++it)
            if (it->IsString()) phrases.emplace_back(type_phrase(view(*it)));
    return join_or(phrases);
}

bool numeric_node(const Value &node) {
    const Value *type = member(node, "type");
    return type != nullptr && type->IsString() && (view(*type) == "integer" || view(*type) == "number");
}

// "an integer ≥ 0" (plus "≤ max" when that is what failed).
std::string expected_with_bounds(const Value &node, bool with_maximum) {
    std::string out = expected(node);
    if (member(node, "x-expect") != nullptr || !numeric_node(node)) return out;
    if (const Value *min = member(node, "minimum"); min != nullptr && min->IsNumber()) {
        const Value *exclusive = member(node, "exclusiveMinimum");
        out += (exclusive != nullptr && exclusive->IsTrue()) ? " > " : " \u2265 ";
        out += number_text(*min);
    }
    if (with_maximum)
        if (const Value *max = member(node, "maximum"); max != nullptr && max->IsNumber()) {
            out += (member(node, "minimum") != nullptr) ? " and \u2264 " : " \u2264 ";
            out += number_text(*max);
        }
    return out;
}

// What the instance is, for "got ...". Values under secret keys and any
// string that contains a secret are described, never shown.
std::string got(const Value *value, bool secret_key, bool show_strings, const std::vector<std::string> &secrets) {
    if (value == nullptr) return "nothing";
    if (value->IsString())
        return (show_strings && !secret_key) ? quote_for_message(view(*value), secrets) : "a string";
    if (value->IsNumber()) return secret_key ? "a number" : number_text(*value);
    if (value->IsBool()) return secret_key ? "a boolean" : (value->IsTrue() ? "true" : "false");
    return kind_of(*value);
}

std::string path_of(const Pointer &pointer, std::size_t token_count) {
    std::string out;
    const auto *tokens = pointer.GetTokens();
    for (std::size_t i = 0; i < token_count; ++i) out = join_path(out, std::string_view(tokens[i].name, tokens[i].length));
    return out;
}

std::vector<std::string> property_names(const Value &node) {
    std::vector<std::string> names;
    if (const Value *properties = member(node, "properties"); properties != nullptr && properties->IsObject())
        for (auto it = properties->MemberBegin(); it != properties->MemberEnd(); ++it) names.push_back(str(it->name));
    return names;
}

std::string join_comma(const std::vector<std::string> &items) {
    std::string out;
    for (const auto &item : items) {
        if (!out.empty()) out += ", ";
        out += item;
    }
    return out;
}

std::string first_duplicate(const Value *array, const std::vector<std::string> &secrets) {
    if (array == nullptr || !array->IsArray()) return {};
    for (rapidjson::SizeType i = 0; i < array->Size(); ++i)
        for (rapidjson::SizeType j = 0; j < i; ++j)
            if ((*array)[i] == (*array)[j])
                return (*array)[i].IsString() ? quote_for_message(view((*array)[i]), secrets) : std::string();
    return {};
}

} // namespace

std::string closest_name(const std::string &word, const std::vector<std::string> &candidates) {
    const std::string w = lower(word);
    std::string best;
    std::size_t best_distance = 3; // at most 2 edits
    for (const auto &candidate : candidates) {
        const std::string c = lower(candidate);
        std::size_t d = (w == c) ? 0 : edit_distance(w, c);
        if (d < best_distance && d < std::max<std::size_t>(c.size(), 2)) {
            best = candidate;
            best_distance = d;
        }
    }
    return best;
}

SchemaErrorReport describe_schema_error(const rapidjson::SchemaValidator &validator, const Value &document,
                                        const std::vector<std::string> &secrets) {
    const char *raw_keyword = validator.GetInvalidSchemaKeyword();
    const std::string keyword = raw_keyword != nullptr ? raw_keyword : "";
    const Pointer schema_pointer = validator.GetInvalidSchemaPointer();
    const Pointer instance_pointer = validator.GetInvalidDocumentPointer();

    static const Value empty_object(rapidjson::kObjectType);
    const Value *found = schema_pointer.Get(config_schema_json());
    const Value &node = found != nullptr ? *found : empty_object;
    const Value *value = instance_pointer.Get(document);
    const std::size_t token_count = instance_pointer.GetTokenCount();
    std::string last_key;
    if (token_count > 0) {
        const auto &last = instance_pointer.GetTokens()[token_count - 1];
        last_key.assign(last.name, last.length);
    }
    const bool secret_key = !last_key.empty() && Config::is_secret_key(last_key);

    SchemaErrorReport report;
    report.path = path_of(instance_pointer, token_count);

    if (const Value *messages = member(node, "x-messages"))
        if (const Value *custom = member(*messages, keyword); custom != nullptr && custom->IsString()) {
            report.message = str(*custom);
            return report;
        }

    if (keyword == "additionalProperties") {
        // The pointer ends at the offending key; report it on its object.
        report.path = path_of(instance_pointer, token_count == 0 ? 0 : token_count - 1);
        const std::vector<std::string> allowed = property_names(node);
        report.message = "unknown key '" + last_key + "'";
        if (allowed.empty()) return report;
        report.message += " (";
        const std::string suggestion = closest_name(last_key, allowed);
        if (!suggestion.empty()) report.message += "did you mean '" + suggestion + "'? ";
        report.message += "allowed: " + join_comma(allowed) + ")";
        return report;
    }
    if (keyword == "required") {
        std::string missing;
        if (const Value *required = member(node, "required"); required != nullptr && required->IsArray())
            for (auto it = required->Begin(); it != required->End() && missing.empty(); ++it)
                if (it->IsString() && (value == nullptr || member(*value, view(*it)) == nullptr)) missing = str(*it);
        report.message = "missing required key '" + missing + "'";
        return report;
    }
    if (keyword == "type" || keyword == "enum" || keyword == "pattern") {
        report.message = "must be " + expected_with_bounds(node, false) + ", got " +
                         got(value, secret_key, keyword != "type", secrets);
        return report;
    }
    if (keyword == "minimum" || keyword == "maximum") {
        report.message = "must be " + expected_with_bounds(node, keyword == "maximum") + ", got " +
                         got(value, secret_key, false, secrets);
        return report;
    }
    if (keyword == "minLength" || keyword == "maxLength") {
        const Value *limit = member(node, keyword);
        const std::string n = (limit != nullptr && limit->IsNumber()) ? number_text(*limit) : "?";
        if (keyword == "minLength")
            report.message = (n == "1") ? "must not be empty" : "must be at least " + n + " characters long";
        else
            report.message = "must be at most " + n + " characters long";
        return report;
    }
    if (keyword == "minProperties" || keyword == "minItems") {
        const Value *limit = member(node, keyword);
        const std::string n = (limit != nullptr && limit->IsNumber()) ? number_text(*limit) : "?";
        report.message = "must have at least " + n + (keyword == "minItems" ? " item(s)" : " entr(y/ies)");
        return report;
    }
    if (keyword == "uniqueItems") {
        // RapidJSON points at the repeated item; report it on its array.
        std::string duplicate;
        if (value != nullptr && !value->IsArray() && token_count > 0) {
            report.path = path_of(instance_pointer, token_count - 1);
            duplicate = value->IsString() ? quote_for_message(view(*value), secrets) : std::string();
        } else {
            duplicate = first_duplicate(value, secrets);
        }
        report.message = duplicate.empty() ? "must not contain duplicates"
                                           : "must not contain duplicates (" + duplicate + " appears twice)";
        return report;
    }
    report.message = "is not valid (schema keyword '" + keyword + "'; expected " + expected(node) + ")";
    return report;
}

} // namespace ilana::config_detail
