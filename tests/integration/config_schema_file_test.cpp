// docs/ilana.config.schema.json (what the quick start's "$schema" points
// at) is `ilana schema`'s output for the bundled drivers: it must stay in
// step with the loader's schema and the drivers' declarations. The configs
// shipped in the repository must be valid against it (a small validator of
// the keywords the generated schema uses; no new dependency).
#include <catch2/catch.hpp>

#include "temp_dir.hpp"
#include "test_helpers.hpp"

#include <rapidjson/document.h>
#include <rapidjson/pointer.h>

#include <cmath>
#include <regex>

using ilana_test::ilana_cli;
using ilana_test::read_file;
using ilana_test::run_command;

namespace {

const std::string kSchemaFile = ILANA_TEST_SOURCE_DIR "/docs/ilana.config.schema.json";

rapidjson::Document parse(const std::string &text, const std::string &what) {
    rapidjson::Document d;
    d.Parse<rapidjson::kParseCommentsFlag | rapidjson::kParseTrailingCommasFlag>(text.c_str());
    INFO(what);
    REQUIRE_FALSE(d.HasParseError());
    return d;
}

// Draft-07 keywords as the generated schema uses them. Returns the first
// problem ("" when valid).
class MiniValidator {
public:
    explicit MiniValidator(const rapidjson::Document &schema) : root_(schema) {}

    std::string validate(const rapidjson::Value &v, const rapidjson::Value &s, const std::string &path) const {
        if (s.IsBool()) return s.GetBool() ? "" : path + ": not allowed";
        if (const auto *ref = get(s, "$ref")) {
            const auto *target = rapidjson::Pointer(ref->GetString() + 1).Get(root_);
            if (target == nullptr) return path + ": unresolved $ref " + ref->GetString();
            return validate(v, *target, path);
        }
        if (const auto *t = get(s, "type")) {
            bool ok = false;
            if (t->IsString()) ok = is_type(v, t->GetString());
            else
                for (const auto &x : t->GetArray()) ok = ok || is_type(v, x.GetString());
            if (!ok) return path + ": wrong type";
        }
        if (const auto *e = get(s, "enum")) {
            bool ok = false;
            for (const auto &x : e->GetArray()) ok = ok || x == v;
            if (!ok) return path + ": not in enum";
        }
        if (v.IsString()) {
            if (const auto *p = get(s, "pattern"))
                if (!std::regex_search(v.GetString(), std::regex(p->GetString(), std::regex::ECMAScript)))
                    return path + ": does not match " + p->GetString();
            if (const auto *m = get(s, "minLength"))
                if (v.GetStringLength() < m->GetUint()) return path + ": too short";
        }
        if (v.IsNumber()) {
            if (const auto *m = get(s, "minimum"); m != nullptr && v.GetDouble() < m->GetDouble()) return path + ": below minimum";
            if (const auto *m = get(s, "maximum"); m != nullptr && v.GetDouble() > m->GetDouble()) return path + ": above maximum";
        }
        if (v.IsObject()) {
            if (const auto *m = get(s, "minProperties"); m != nullptr && v.MemberCount() < m->GetUint())
                return path + ": too few members";
            if (const auto *r = get(s, "required"))
                for (const auto &k : r->GetArray())
                    if (!v.HasMember(k)) return path + ": missing " + k.GetString();
            const auto *props = get(s, "properties");
            const auto *extra = get(s, "additionalProperties");
            for (auto it = v.MemberBegin(); it != v.MemberEnd(); ++it) {
                const std::string child = path + "/" + it->name.GetString();
                const rapidjson::Value *sub = props != nullptr ? get(*props, it->name.GetString()) : nullptr;
                if (sub == nullptr) sub = extra;
                if (sub == nullptr) continue;
                if (std::string problem = validate(it->value, *sub, child); !problem.empty()) return problem;
            }
        }
        if (v.IsArray())
            if (const auto *items = get(s, "items"))
                for (rapidjson::SizeType i = 0; i < v.Size(); ++i)
                    if (std::string problem = validate(v[i], *items, path + "/" + std::to_string(i)); !problem.empty())
                        return problem;
        if (const auto *all = get(s, "allOf"))
            for (const auto &sub : all->GetArray())
                if (std::string problem = validate(v, sub, path); !problem.empty()) return problem;
        if (const auto *any = get(s, "anyOf")) {
            bool ok = false;
            for (const auto &sub : any->GetArray()) ok = ok || validate(v, sub, path).empty();
            if (!ok) return path + ": matches none of anyOf";
        }
        if (const auto *condition = get(s, "if"))
            if (validate(v, *condition, path).empty())
                if (const auto *then = get(s, "then")) return validate(v, *then, path);
        return "";
    }

private:
    static const rapidjson::Value *get(const rapidjson::Value &s, const char *key) {
        if (!s.IsObject()) return nullptr;
        auto it = s.FindMember(key);
        return it == s.MemberEnd() ? nullptr : &it->value;
    }
    static bool is_type(const rapidjson::Value &v, const std::string &t) {
        if (t == "object") return v.IsObject();
        if (t == "array") return v.IsArray();
        if (t == "string") return v.IsString();
        if (t == "boolean") return v.IsBool();
        if (t == "null") return v.IsNull();
        if (t == "number") return v.IsNumber();
        if (t == "integer") return v.IsInt64() || v.IsUint64() || (v.IsDouble() && std::floor(v.GetDouble()) == v.GetDouble());
        return false;
    }
    const rapidjson::Document &root_;
};

} // namespace

TEST_CASE("docs/ilana.config.schema.json is what `ilana schema` generates now", "[schema][cli]") {
    // Only the bundled drivers (beside the binary), whatever the environment.
    std::string generated;
    REQUIRE(run_command("cd / && env -u ILANA_PLUGIN_PATH " + ilana_cli() + " --config /nonexistent/ilana.config.json "
                        "schema 2>/dev/null", generated) == 0);
    const std::string committed = read_file(kSchemaFile);
    INFO("regenerate it: build/bin/ilana schema --output docs/ilana.config.schema.json");
    CHECK(generated == committed);
}

TEST_CASE("the generated schema knows each bundled driver's parameters", "[schema]") {
    const auto schema = parse(read_file(kSchemaFile), kSchemaFile);
    const auto *sqlite = rapidjson::Pointer("/definitions/params:org.ilana.sqlite/properties/filename").Get(schema);
    REQUIRE(sqlite != nullptr);
    CHECK(std::string((*sqlite)["type"].GetString()) == "string");
    CHECK(rapidjson::Pointer("/definitions/params:org.ilana.postgres/properties/sslmode").Get(schema) != nullptr);
    CHECK(rapidjson::Pointer("/definitions/params:org.ilana.mysql/properties/ssl/properties/rejectUnauthorized")
              .Get(schema) != nullptr);

    const MiniValidator validator(schema);
    auto check = [&](const std::string &config) {
        const auto doc = parse(config, config);
        return validator.validate(doc, schema, "");
    };
    // What the editor flags: the mistakes Database::open refuses.
    CHECK_FALSE(check(R"({"connections": {"c": {"client": "sqlite3", "connection": {"filename": 42}}}})").empty());
    CHECK_FALSE(check(R"({"connections": {"c": {"client": "sqlite3", "connection": {"fielname": "x"}}}})").empty());
    CHECK_FALSE(check(R"({"connections": {"c": {"client": "pg", "connection": {"sslmode": "maybe"}}}})").empty());
    CHECK_FALSE(check(R"({"connections": {"c": {"client": "mysql2", "connection": {"databse": "x"}}}})").empty());
    CHECK_FALSE(check(R"({"connections": {"c": {"client": "sqlite3", "pool": {"min": -1}}}})").empty());
    // What it accepts: ${VAR} wherever the loader interpolates first.
    CHECK(check(R"({"connections": {"c": {"client": "pg", "connection": {"port": "${PG_PORT:-5432}",
                 "sslmode": "${SSLMODE}", "ssl": {"rejectUnauthorized": false}},
                 "pool": {"max": "${POOL_MAX}"}, "readStrategy": "${STRATEGY}"}}})") == "");
}

TEST_CASE("the repository's configs are valid against the shipped schema", "[schema]") {
    const auto schema = parse(read_file(kSchemaFile), kSchemaFile);
    const MiniValidator validator(schema);
    for (const char *relative : {"examples/quickstart/ilana.config.json", "examples/multi-database/ilana.config.json",
                                 "examples/host-app/ilana.config.json",
                                 "tests/fixtures/config/seed_connections/ilana.config.json",
                                 "tests/fixtures/config/seed_environments/ilana.config.json"}) {
        const std::string path = std::string(ILANA_TEST_SOURCE_DIR) + "/" + relative;
        const auto doc = parse(read_file(path), path);
        INFO(relative);
        CHECK(validator.validate(doc, schema, "") == "");
    }
}
