// The editor's schema (<ilana/config_schema.hpp>), derived from the loader's
// schema (config_schema.cpp) by rules, plus each driver's parameters.
#include <ilana/config_schema.hpp>

#include "config/config_schema.hpp"
#include "config/json_util.hpp"
#include "plugins/connection_params.hpp"

#include <rapidjson/prettywriter.h>
#include <rapidjson/stringbuffer.h>

#include <algorithm>
#include <cctype>
#include <cmath>

namespace ilana {

using namespace config_detail;

namespace {

// A string that will be interpolated ("${PG_PORT:-5432}") is accepted
// wherever the loader checks a value after interpolation.
constexpr const char *kVariable = "\\$\\{";

// Numbers written as text, as the loader and the parameter check read them
// (config_detail::parse_integer_text, parse_number_text).
constexpr const char *kIntegerText = "^-?[0-9]+$";
constexpr const char *kNumberText = "^-?[0-9.eE+-]+$";

Value text(const std::string &s, Allocator &a) { return Value(s.c_str(), static_cast<rapidjson::SizeType>(s.size()), a); }

void set(Value &object, const char *key, Value value, Allocator &a) {
    if (Value *existing = member(object, key)) *existing = std::move(value);
    else object.AddMember(Value(key, a), std::move(value), a);
}

void add_type(Value &node, const char *type, Allocator &a) {
    if (has_type(node, type)) return;
    Value *t = member(node, "type");
    if (t == nullptr) return;
    if (t->IsString()) {
        Value list(rapidjson::kArrayType);
        list.PushBack(Value(*t, a), a);
        *t = std::move(list);
    }
    t->PushBack(Value(type, a), a);
}

// "{ enum }" -> "{ anyOf: [{ enum }, { a ${VAR} string }] }".
Value enum_or_variable(Value node, Allocator &a) {
    Value variable(rapidjson::kObjectType);
    variable.AddMember("type", "string", a);
    variable.AddMember("pattern", Value(kVariable, a), a);
    Value any(rapidjson::kArrayType);
    Value description;
    if (Value *d = member(node, "description")) description = Value(*d, a);
    any.PushBack(std::move(node), a);
    any.PushBack(std::move(variable), a);
    Value out(rapidjson::kObjectType);
    if (!description.IsNull()) out.AddMember("description", std::move(description), a);
    out.AddMember("anyOf", std::move(any), a);
    return out;
}

// The loader's node as the file holds it before interpolation.
void for_editors(Value &node, Allocator &a) {
    if (node.IsArray()) {
        for (auto it = node.Begin(); it != node.End(); ++it) for_editors(*it, a);
        return;
    }
    if (!node.IsObject()) return;
    const bool coerce = member(node, "x-coerce") != nullptr && member(node, "x-coerce")->IsTrue();
    if (const Value *expect = member(node, "x-expect"); expect != nullptr && member(node, "description") == nullptr)
        node.AddMember("description", Value(*expect, a), a);
    for (auto it = node.MemberBegin(); it != node.MemberEnd();) {
        if (view(it->name).rfind("x-", 0) == 0) it = node.EraseMember(it);
        else ++it;
    }
    for (auto it = node.MemberBegin(); it != node.MemberEnd(); ++it) {
        const std::string_view key = view(it->name);
        // Property names and enum values are data, not schema nodes.
        if (key == "properties" || key == "definitions") {
            for (auto p = it->value.MemberBegin(); p != it->value.MemberEnd(); ++p) for_editors(p->value, a);
        } else if (key != "enum" && key != "required" && key != "type") {
            for_editors(it->value, a);
        }
    }
    if (Value *pattern = member(node, "pattern"); pattern != nullptr && pattern->IsString())
        *pattern = text("(?:" + str(*pattern) + ")|" + kVariable, a);
    if (coerce) {
        // The loader converts "5432" / "true" (typically from ${VAR}) first.
        if (member(node, "pattern") == nullptr) {
            const char *literal = has_type(node, "integer")  ? kIntegerText
                                  : has_type(node, "number") ? kNumberText
                                                             : "^(true|false)$";
            node.AddMember("pattern", text(std::string(literal) + "|" + kVariable, a), a);
        }
        add_type(node, "string", a);
    }
    if (member(node, "enum") != nullptr) node = enum_or_variable(Value(node, a), a);
}

Value number_value(double v) {
    if (std::floor(v) == v && std::fabs(v) < 9.0e15) return Value(static_cast<int64_t>(v));
    return Value(v);
}

// One declared parameter as a schema node.
Value param_schema(const DriverParam &p, Allocator &a) {
    Value node(rapidjson::kObjectType);
    std::string description = p.description;
    if (p.default_value) description += " (default: " + *p.default_value + ")";
    if (p.required) description += " (required)";
    node.AddMember("description", text(description, a), a);
    if (p.type == "string") {
        node.AddMember("type", "string", a);
    } else if (p.type == "integer" || p.type == "number") {
        Value types(rapidjson::kArrayType);
        types.PushBack(Value(p.type.c_str(), a), a).PushBack("string", a);
        node.AddMember("type", std::move(types), a);
        if (p.minimum) node.AddMember("minimum", number_value(*p.minimum), a);
        if (p.maximum) node.AddMember("maximum", number_value(*p.maximum), a);
        node.AddMember("pattern",
                       text(std::string(p.type == "integer" ? kIntegerText : kNumberText) + "|" + kVariable, a), a);
    } else if (p.type == "boolean") {
        // Spellings the drivers have always accepted (detail::kBoolSpellings).
        Value types(rapidjson::kArrayType);
        types.PushBack("boolean", a).PushBack("integer", a).PushBack("string", a);
        node.AddMember("type", std::move(types), a);
        node.AddMember("minimum", 0, a);
        node.AddMember("maximum", 1, a);
        std::string spellings;
        for (const char *w : detail::kBoolSpellings) spellings += (spellings.empty() ? "" : "|") + std::string(w);
        node.AddMember("pattern", text("^(" + spellings + ")$|" + kVariable, a), a);
    } else { // enum
        Value values(rapidjson::kArrayType);
        std::vector<std::string> seen;
        auto add = [&](const std::string &v) {
            if (std::find(seen.begin(), seen.end(), v) != seen.end()) return;
            seen.push_back(v);
            values.PushBack(text(v, a), a);
        };
        for (const auto &v : p.allowed) {
            add(v);
            if (p.case_insensitive) {
                std::string upper = v;
                for (char &c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
                add(upper);
            }
        }
        // A value that is a number may be written as one ("synchronous": 1).
        for (const auto &v : p.allowed)
            if (!v.empty() && std::all_of(v.begin(), v.end(), [](char c) { return c >= '0' && c <= '9'; }))
                values.PushBack(Value(static_cast<int64_t>(std::stoll(v))), a);
        node.AddMember("enum", std::move(values), a);
        node = enum_or_variable(std::move(node), a);
    }
    if (p.default_value && p.type != "enum") {
        Value def;
        if (p.type == "integer" || p.type == "number") {
            try {
                def = number_value(std::stod(*p.default_value));
            } catch (...) {
                def = text(*p.default_value, a);
            }
        } else if (p.type == "boolean" && (*p.default_value == "true" || *p.default_value == "false")) {
            def.SetBool(*p.default_value == "true");
        } else {
            def = text(*p.default_value, a);
        }
        node.AddMember("default", std::move(def), a);
    }
    return node;
}

Value object_node(Allocator &a, bool closed) {
    Value node(rapidjson::kObjectType);
    node.AddMember("type", "object", a);
    node.AddMember("properties", Value(rapidjson::kObjectType), a);
    if (closed) node.AddMember("additionalProperties", false, a);
    return node;
}

// The "connection" object of a driver: nested objects for dotted keys
// ("ssl.ca" -> "ssl": {"ca": ...}); "ssl" may then be a value or an object.
Value params_schema(const DriverInfo &d, Allocator &a) {
    const bool closed = !d.params.open;
    Value root = object_node(a, closed);
    Value required(rapidjson::kArrayType);
    for (const auto &p : d.params.list) {
        Value *object = &root;
        std::string rest = p.key;
        for (auto dot = rest.find('.'); dot != std::string::npos; dot = rest.find('.')) {
            const std::string part = rest.substr(0, dot);
            rest = rest.substr(dot + 1);
            Value &props = *member(*object, "properties");
            Value *child = member(props, part);
            if (child == nullptr) {
                props.AddMember(text(part, a), object_node(a, closed), a);
                child = member(props, part);
            } else if (member(*child, "properties") == nullptr) {
                // Declared as a value too ("ssl": true): also an object.
                add_type(*child, "object", a);
                child->AddMember("properties", Value(rapidjson::kObjectType), a);
                if (closed) child->AddMember("additionalProperties", false, a);
            }
            object = child;
        }
        Value &props = *member(*object, "properties");
        Value node = param_schema(p, a);
        // The loader takes a password provider object in its place
        // (README "Credentials"; the loader's "#/definitions/password").
        if (p.key == "password") {
            Value either(rapidjson::kArrayType);
            Value provider(rapidjson::kObjectType);
            provider.AddMember("$ref", "#/definitions/password", a);
            either.PushBack(std::move(node), a).PushBack(std::move(provider), a);
            node = Value(rapidjson::kObjectType);
            node.AddMember("anyOf", std::move(either), a);
        }
        if (Value *existing = member(props, rest)) {
            // "ssl" declared after "ssl.ca": keep the object part.
            Value *properties = member(*existing, "properties");
            Value kept = properties ? Value(*properties, a) : Value(rapidjson::kObjectType);
            add_type(node, "object", a);
            node.AddMember("properties", std::move(kept), a);
            if (closed) node.AddMember("additionalProperties", false, a);
            *existing = std::move(node);
        } else {
            props.AddMember(text(rest, a), std::move(node), a);
        }
        if (p.required && p.key.find('.') == std::string::npos) required.PushBack(text(p.key, a), a);
    }
    if (!required.Empty()) root.AddMember("required", std::move(required), a);
    // A driver that reads a URL also takes the whole "connection" as one.
    if (d.params.find("url") != nullptr || d.params.open) {
        Value types(rapidjson::kArrayType);
        types.PushBack("object", a).PushBack("string", a);
        set(root, "type", std::move(types), a);
    }
    root.AddMember("description",
                   text("connection parameters of " + d.name + " (" + d.id + "), declared by the driver", a), a);
    return root;
}

} // namespace

std::string config_json_schema(const std::vector<DriverInfo> &drivers_in) {
    Document doc;
    doc.CopyFrom(config_schema_json(), doc.GetAllocator());
    Allocator &a = doc.GetAllocator();
    for_editors(doc, a);
    set(doc, "$schema", Value("http://json-schema.org/draft-07/schema#"), a);
    set(doc, "description",
        Value("ilana.config.json (generated by `ilana schema` from the config loader's schema and the drivers' "
              "declared connection parameters; do not edit)"),
        a);

    std::vector<const DriverInfo *> drivers;
    for (const auto &d : drivers_in)
        if (d.params.declared && !d.clients.empty()) drivers.push_back(&d);
    std::sort(drivers.begin(), drivers.end(), [](const DriverInfo *x, const DriverInfo *y) { return x->id < y->id; });

    // The top level may come from an environment section: the file needs
    // "connections" only when it has no "environments".
    if (Value *required = member(doc, "required")) {
        Value either(rapidjson::kArrayType);
        for (const char *key : {"connections", "environments"}) {
            Value one(rapidjson::kObjectType);
            Value keys(rapidjson::kArrayType);
            keys.PushBack(Value(key, a), a);
            one.AddMember("required", std::move(keys), a);
            either.PushBack(std::move(one), a);
        }
        Value others(rapidjson::kArrayType);
        for (auto it = required->Begin(); it != required->End(); ++it)
            if (view(*it) != "connections") others.PushBack(Value(*it, a), a);
        if (others.Empty()) doc.RemoveMember("required");
        else *required = std::move(others);
        doc.AddMember("anyOf", std::move(either), a);
    }

    Value &definitions = *member(doc, "definitions");
    Value all_of(rapidjson::kArrayType);
    for (const DriverInfo *d : drivers) {
        const std::string name = "params:" + d->id;
        definitions.AddMember(text(name, a), params_schema(*d, a), a);

        Value clients(rapidjson::kArrayType);
        for (const auto &c : d->clients) clients.PushBack(text(c, a), a);
        Value client(rapidjson::kObjectType);
        client.AddMember("enum", std::move(clients), a);
        Value if_properties(rapidjson::kObjectType);
        if_properties.AddMember("client", std::move(client), a);
        Value if_required(rapidjson::kArrayType);
        if_required.PushBack("client", a);
        Value condition(rapidjson::kObjectType);
        condition.AddMember("properties", std::move(if_properties), a);
        condition.AddMember("required", std::move(if_required), a);

        Value ref(rapidjson::kObjectType);
        ref.AddMember("$ref", text("#/definitions/" + name, a), a);
        Value then_properties(rapidjson::kObjectType);
        then_properties.AddMember("connection", std::move(ref), a);
        Value consequence(rapidjson::kObjectType);
        consequence.AddMember("properties", std::move(then_properties), a);

        Value rule(rapidjson::kObjectType);
        rule.AddMember("if", std::move(condition), a);
        rule.AddMember("then", std::move(consequence), a);
        all_of.PushBack(std::move(rule), a);
    }
    // Looked up after the definitions above were added (adding may move members).
    if (!all_of.Empty()) member(definitions, "connection")->AddMember("allOf", std::move(all_of), a);

    rapidjson::StringBuffer buffer;
    rapidjson::PrettyWriter<rapidjson::StringBuffer> writer(buffer);
    writer.SetIndent(' ', 2);
    doc.Accept(writer);
    return std::string(buffer.GetString(), buffer.GetSize()) + "\n";
}

} // namespace ilana
