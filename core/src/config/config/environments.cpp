#include "config/environments.hpp"

#include "config/schema_errors.hpp"

#include <ilana/error.hpp>

#include <algorithm>

namespace ilana::config_detail {

namespace {

using SizeType = rapidjson::SizeType;

void merge_into(Value &base, const Value &overlay, const std::string &path, Allocator &alloc,
                std::set<std::string> &from_section) {
    for (auto it = overlay.MemberBegin(); it != overlay.MemberEnd(); ++it) {
        const std::string child = join_path(path, view(it->name));
        auto existing = base.FindMember(it->name);
        if (it->value.IsNull()) {
            if (existing != base.MemberEnd()) base.EraseMember(existing); // keeps order
            continue;
        }
        if (existing != base.MemberEnd() && existing->value.IsObject() && it->value.IsObject()) {
            merge_into(existing->value, it->value, child, alloc, from_section);
            continue;
        }
        if (existing != base.MemberEnd()) {
            existing->value.CopyFrom(it->value, alloc);
        } else {
            Value name(it->name, alloc);
            Value value(it->value, alloc);
            base.AddMember(name, value, alloc);
        }
        from_section.insert(child);
    }
}

} // namespace

std::string EffectiveConfig::source_path(const std::string &merged_path) const {
    if (from_section.empty()) return merged_path;
    // The value itself or one of its ancestors was set by the section.
    for (std::string::size_type pos = 1; pos <= merged_path.size(); ++pos) {
        if (pos == merged_path.size() || merged_path[pos] == '/')
            if (from_section.count(merged_path.substr(0, pos)) != 0) return section_prefix + merged_path;
    }
    return merged_path;
}

void build_effective_config(const Value &root, const std::string &name, bool explicit_name,
                            const std::string &source, const std::vector<std::string> &top_level_keys,
                            EffectiveConfig &out) {
    Allocator &alloc = out.doc.GetAllocator();
    out.doc.SetObject();
    out.environment = name;
    const Value *environments = nullptr;
    for (auto it = root.MemberBegin(); it != root.MemberEnd(); ++it) {
        if (view(it->name) == "environments") {
            environments = &it->value;
            continue;
        }
        Value key(it->name, alloc);
        Value value(it->value, alloc);
        out.doc.AddMember(key, value, alloc);
    }
    if (environments == nullptr) {
        // Without sections the top level is the "development" config. Any
        // other name asked for by --env, OpenOptions::environment or
        // ILANA_ENV would silently act on these same databases.
        if (explicit_name && name != "development")
            throw ConfigError("environment '" + name +
                                  "' is not defined: this config has no \"environments\" section (its top level is "
                                  "the development config; add \"environments\": {\"" +
                                  name + "\": {...}} or drop --env / ILANA_ENV)",
                              source, "/environments");
        return;
    }
    if (!environments->IsObject())
        throw ConfigError(std::string("must be an object of per-environment sections, got ") +
                              kind_of(*environments),
                          source, "/environments");
    out.has_environments = true;

    // Every section is checked for shape, so a typo in "production" shows up
    // while developing, not on the day of the deploy.
    const Value *chosen = nullptr;
    for (auto it = environments->MemberBegin(); it != environments->MemberEnd(); ++it) {
        const std::string env_name = str(it->name);
        const std::string path = join_path("/environments", env_name);
        out.available.push_back(env_name);
        if (!it->value.IsObject())
            throw ConfigError(std::string("must be an object (a partial config for this environment), got ") +
                                  kind_of(it->value),
                              source, path);
        for (auto key = it->value.MemberBegin(); key != it->value.MemberEnd(); ++key) {
            const std::string k = str(key->name);
            if (std::find(top_level_keys.begin(), top_level_keys.end(), k) != top_level_keys.end()) continue;
            std::string allowed;
            for (const auto &t : top_level_keys) allowed += (allowed.empty() ? "" : ", ") + t;
            const std::string suggestion = closest_name(k, top_level_keys);
            throw ConfigError("unknown key '" + k + "' (" +
                                  (suggestion.empty() ? std::string() : "did you mean '" + suggestion + "'? ") +
                                  "allowed in an environment section: " + allowed + ")",
                              source, path);
        }
        if (env_name == name && chosen == nullptr) chosen = &it->value;
    }

    if (chosen == nullptr) {
        if (!explicit_name) return; // implicit "development": the top level alone
        std::string names;
        for (const auto &n : out.available) names += (names.empty() ? "" : ", ") + n;
        throw ConfigError("environment '" + name + "' is not defined; environments: " +
                              (names.empty() ? std::string("(none)") : names) +
                              " (choose one with ILANA_ENV or --env, or add a section)",
                          source, "/environments");
    }
    out.section_found = true;
    out.section_prefix = join_path("/environments", name);
    merge_into(out.doc, *chosen, "", alloc, out.from_section);
}

} // namespace ilana::config_detail
