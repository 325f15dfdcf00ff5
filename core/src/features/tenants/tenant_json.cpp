// JSON of the tenant results (camelCase keys, like the seed) and the
// anonymization rules file.
#include <ilana/tenants.hpp>

#include "common/text_file.hpp"

#include <rapidjson/document.h>
#include <rapidjson/error/en.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

namespace ilana {

namespace {

using Writer = rapidjson::Writer<rapidjson::StringBuffer>;

void string_or_null(Writer &w, const std::string &s) {
    if (s.empty()) w.Null();
    else w.String(s);
}

// The shape warmup, seed and migrate share: {"total", "succeeded",
// "failed", <extra counts>, "durationMs", "details": [<one object each>]}.
template <class Result, class Extra, class Detail>
std::string summary_json(const Result &r, Extra &&extra_counts, Detail &&write_detail) {
    rapidjson::StringBuffer buf;
    Writer w(buf);
    w.StartObject();
    w.Key("total"); w.Int(r.total);
    w.Key("succeeded"); w.Int(r.succeeded);
    w.Key("failed"); w.Int(r.failed);
    extra_counts(w);
    w.Key("durationMs"); w.Int64(r.duration_ms);
    w.Key("details");
    w.StartArray();
    for (const auto &d : r.details) {
        w.StartObject();
        w.Key("tenantId"); w.String(d.tenant_id);
        write_detail(w, d);
        w.Key("durationMs"); w.Int64(d.duration_ms);
        w.Key("error"); string_or_null(w, d.error);
        w.EndObject();
    }
    w.EndArray();
    w.EndObject();
    return buf.GetString();
}

// One drift issue of a column or an index ("column"/"index" names it).
template <class Issue>
void drift_issues(Writer &w, const char *list_key, const char *name_key, const std::vector<Issue> &issues,
                  std::string Issue::*name) {
    w.Key(list_key);
    w.StartArray();
    for (const auto &i : issues) {
        w.StartObject();
        w.Key(name_key); w.String(i.*name);
        w.Key("type"); w.String(i.type);
        w.Key("expected"); string_or_null(w, i.expected);
        w.Key("actual"); string_or_null(w, i.actual);
        w.Key("description"); w.String(i.description);
        w.EndObject();
    }
    w.EndArray();
}

} // namespace

std::string WarmupResult::to_json() const {
    return summary_json(
        *this, [&](Writer &w) { w.Key("alreadyWarm"); w.Int(already_warm); },
        [](Writer &w, const auto &d) { w.Key("status"); w.String(d.status); });
}

std::string SeedResult::to_json() const {
    return summary_json(*this, [](Writer &) {}, [](Writer &w, const auto &d) {
        w.Key("schemaName"); string_or_null(w, d.namespace_name);
        w.Key("success"); w.Bool(d.success);
    });
}

std::string TenantsMigrateResult::to_json() const {
    return summary_json(*this, [](Writer &) {}, [](Writer &w, const auto &d) {
        w.Key("success"); w.Bool(d.success);
        w.Key("appliedMigrations");
        w.StartArray();
        for (const auto &a : d.applied) w.String(a.id + "_" + a.name);
        w.EndArray();
    });
}

std::string SchemaDriftResult::to_json() const {
    rapidjson::StringBuffer buf;
    Writer w(buf);
    w.StartObject();
    w.Key("referenceTenant"); w.String(reference_tenant);
    w.Key("total"); w.Int(total);
    w.Key("noDrift"); w.Int(no_drift);
    w.Key("withDrift"); w.Int(with_drift);
    w.Key("error"); w.Int(error);
    w.Key("details");
    w.StartArray();
    for (const auto &d : details) {
        w.StartObject();
        w.Key("tenantId"); w.String(d.tenant_id);
        w.Key("schemaName"); w.String(d.namespace_name);
        w.Key("hasDrift"); w.Bool(d.has_drift);
        w.Key("issueCount"); w.Int(d.issue_count);
        w.Key("tables");
        w.StartArray();
        for (const auto &t : d.tables) {
            w.StartObject();
            w.Key("table"); w.String(t.table);
            w.Key("status"); w.String(t.status);
            drift_issues(w, "columns", "column", t.columns, &ColumnDrift::column);
            drift_issues(w, "indexes", "index", t.indexes, &IndexDrift::index);
            w.EndObject();
        }
        w.EndArray();
        w.Key("error"); string_or_null(w, d.error);
        w.EndObject();
    }
    w.EndArray();
    w.Key("timestamp"); w.String(timestamp);
    w.Key("durationMs"); w.Int64(duration_ms);
    w.EndObject();
    return buf.GetString();
}

AnonymizeOptions AnonymizeOptions::from_file(const std::string &path) {
    std::string text;
    try {
        text = detail::read_text_file(path, detail::kConfigFileLimit, "anonymization rules file");
    } catch (const detail::TextFileError &e) {
        throw Error(e.what(), ErrorClass::config);
    }
    try {
        return from_json(text);
    } catch (const Error &e) {
        throw Error(path + ": " + e.what(), ErrorClass::config);
    }
}

AnonymizeOptions AnonymizeOptions::from_json(const std::string &json_text) {
    rapidjson::Document doc;
    doc.Parse(json_text.c_str(), json_text.size());
    if (doc.HasParseError())
        throw Error("anonymization rules: invalid JSON at offset " + std::to_string(doc.GetErrorOffset()) + ": " +
                        rapidjson::GetParseError_En(doc.GetParseError()),
                    ErrorClass::config);
    if (!doc.IsObject())
        throw Error("anonymization rules: expected an object {\"table\": {\"column\": null | \"email\" | \"phone\" | "
                    "\"name\" | \"literal\"}}",
                    ErrorClass::config);
    AnonymizeOptions out;
    out.enabled = true;
    const rapidjson::Value *rules = &doc;
    if (doc.HasMember("rules")) {
        rules = &doc["rules"];
        if (doc.HasMember("enabled")) {
            if (!doc["enabled"].IsBool())
                throw Error("anonymization rules: /enabled must be true or false", ErrorClass::config);
            out.enabled = doc["enabled"].GetBool();
        }
        for (auto it = doc.MemberBegin(); it != doc.MemberEnd(); ++it) {
            const std::string key = it->name.GetString();
            if (key != "rules" && key != "enabled")
                throw Error("anonymization rules: unknown key /" + key + " (expected \"enabled\" and \"rules\")",
                            ErrorClass::config);
        }
        if (!rules->IsObject()) throw Error("anonymization rules: /rules must be an object", ErrorClass::config);
    }
    for (auto t = rules->MemberBegin(); t != rules->MemberEnd(); ++t) {
        const std::string table = t->name.GetString();
        const std::string base = (rules == &doc ? "/" : "/rules/") + table;
        if (!t->value.IsObject())
            throw Error("anonymization rules: " + base + " must be an object of column rules", ErrorClass::config);
        auto &cols = out.rules[table];
        for (auto c = t->value.MemberBegin(); c != t->value.MemberEnd(); ++c) {
            const std::string column = c->name.GetString();
            if (c->value.IsNull()) cols[column] = std::nullopt;
            else if (c->value.IsString()) cols[column] = std::string(c->value.GetString(), c->value.GetStringLength());
            else
                throw Error("anonymization rules: " + base + "/" + column +
                                " must be null, \"email\", \"phone\", \"name\" or a literal string",
                            ErrorClass::config);
        }
    }
    return out;
}

} // namespace ilana
