// config.cpp — the conformance kit's connection JSON (format: sdk/README.md).
#include "kit.hpp"

#include <rapidjson/document.h>
#include <rapidjson/error/en.h>

#include <cmath>
#include <cstdlib>
#include <fstream>
#include <limits>
#include <sstream>

namespace kit {

using ilana::sdk::Cell;

namespace {

[[noreturn]] void bad(const std::string &where, const std::string &what) {
    throw std::runtime_error("connection JSON " + where + ": " + what);
}

// ${VAR} and ${VAR:-default} from the environment, so one file serves CI
// and a laptop.
std::string interpolate(const std::string &s, const std::string &where) {
    std::string out;
    size_t i = 0;
    while (i < s.size()) {
        if (s[i] == '$' && i + 1 < s.size() && s[i + 1] == '{') {
            const size_t close = s.find('}', i + 2);
            if (close == std::string::npos) bad(where, "unclosed ${ in \"" + s + "\"");
            std::string body = s.substr(i + 2, close - i - 2);
            std::string fallback;
            bool has_fallback = false;
            if (size_t d = body.find(":-"); d != std::string::npos) {
                fallback = body.substr(d + 2);
                body = body.substr(0, d);
                has_fallback = true;
            }
            const char *v = std::getenv(body.c_str());
            if (v != nullptr && *v != '\0') out += v;
            else if (has_fallback) out += fallback;
            else bad(where, "environment variable " + body + " is not set (write ${" + body + ":-default})");
            i = close + 1;
        } else {
            out += s[i++];
        }
    }
    return out;
}

std::string str(const rapidjson::Value &v, const std::string &where) {
    if (!v.IsString()) bad(where, "must be a string");
    return interpolate(std::string(v.GetString(), v.GetStringLength()), where);
}

// A connect parameter: strings as they are, numbers and booleans as text
// (what the ilana host does with a config's "connection" object).
std::string scalar(const rapidjson::Value &v, const std::string &where) {
    if (v.IsString()) return str(v, where);
    if (v.IsBool()) return v.GetBool() ? "true" : "false";
    if (v.IsInt64()) return std::to_string(v.GetInt64());
    if (v.IsUint64()) return std::to_string(v.GetUint64());
    if (v.IsDouble()) return ilana::sdk::format_double(v.GetDouble());
    bad(where, "must be a string, number or boolean");
}

// Flattens nested objects with dots ("ssl": {"mode": ...} -> "ssl.mode").
void flatten(const rapidjson::Value &obj, const std::string &prefix, const std::string &where,
             std::vector<std::pair<std::string, std::string>> &out) {
    for (auto it = obj.MemberBegin(); it != obj.MemberEnd(); ++it) {
        const std::string key = prefix + it->name.GetString();
        if (it->value.IsObject()) flatten(it->value, key + ".", where + "/" + it->name.GetString(), out);
        else if (!it->value.IsNull()) out.emplace_back(key, scalar(it->value, where + "/" + it->name.GetString()));
    }
}

bool parse_date(const std::string &s, int64_t &days) {
    int y = 0;
    unsigned m = 0, d = 0;
    char tail = 0;
    if (std::sscanf(s.c_str(), "%d-%u-%u%c", &y, &m, &d, &tail) != 3 || m < 1 || m > 12 || d < 1 || d > 31)
        return false;
    days = ilana::sdk::days_from_civil(y, m, d);
    return true;
}

// HH:MM:SS[.ffffff] -> microseconds.
bool parse_clock(const std::string &s, int64_t &micros) {
    long long h = 0, mi = 0, se = 0;
    int consumed = 0;
    if (std::sscanf(s.c_str(), "%lld:%lld:%lld%n", &h, &mi, &se, &consumed) != 3) return false;
    int64_t frac = 0;
    size_t i = static_cast<size_t>(consumed);
    if (i < s.size() && s[i] == '.') {
        int digits = 0;
        for (++i; i < s.size() && std::isdigit(static_cast<unsigned char>(s[i])); ++i, ++digits)
            if (digits < 6) frac = frac * 10 + (s[i] - '0');
        for (; digits < 6; ++digits) frac *= 10;
    }
    if (i != s.size() || mi > 59 || se > 59) return false;
    micros = ((h * 60 + mi) * 60 + se) * 1000000 + frac;
    return true;
}

bool parse_timestamp(std::string s, bool tz, int64_t &micros) {
    if (tz) {
        if (s.empty() || (s.back() != 'Z' && s.back() != 'z')) return false;
        s.pop_back();
    }
    if (s.size() < 11 || (s[10] != ' ' && s[10] != 'T')) return false;
    int64_t days = 0, clock = 0;
    if (!parse_date(s.substr(0, 10), days) || !parse_clock(s.substr(11), clock)) return false;
    micros = days * 86400LL * 1000000LL + clock;
    return true;
}

// A JSON sample in the representation of type `t` (README "types").
Cell cell_from_json(ilana_type t, const rapidjson::Value &v, const std::string &where) {
    if (v.IsNull()) return Cell::make_null(t);
    auto text = [&] { return str(v, where); };
    switch (t) {
    case ILANA_TYPE_BOOL:
        if (v.IsBool()) return Cell::boolean(v.GetBool());
        bad(where, "a bool sample must be true or false");
    case ILANA_TYPE_INT64:
        if (v.IsInt64()) return Cell::int64(v.GetInt64());
        bad(where, "an int64 sample must be an integer in the int64 range");
    case ILANA_TYPE_UINT64:
        if (v.IsUint64()) return Cell::uint64(v.GetUint64());
        bad(where, "a uint64 sample must be a non-negative integer");
    case ILANA_TYPE_DOUBLE:
        if (v.IsNumber()) return Cell::real(v.GetDouble());
        bad(where, "a double sample must be a number");
    case ILANA_TYPE_DATE: {
        int64_t d = 0;
        if (!parse_date(text(), d)) bad(where, "a date sample is \"YYYY-MM-DD\"");
        return Cell::temporal(t, d);
    }
    case ILANA_TYPE_TIME: {
        int64_t us = 0;
        std::string s = text();
        const bool negative = !s.empty() && s[0] == '-';
        if (!parse_clock(negative ? s.substr(1) : s, us)) bad(where, "a time sample is \"HH:MM:SS[.ffffff]\"");
        return Cell::temporal(t, negative ? -us : us);
    }
    case ILANA_TYPE_TIMESTAMP:
    case ILANA_TYPE_TIMESTAMPTZ: {
        int64_t us = 0;
        if (!parse_timestamp(text(), t == ILANA_TYPE_TIMESTAMPTZ, us))
            bad(where, t == ILANA_TYPE_TIMESTAMP ? "a timestamp sample is \"YYYY-MM-DD HH:MM:SS[.ffffff]\""
                                                 : "a timestamptz sample is \"YYYY-MM-DDTHH:MM:SS[.ffffff]Z\" (UTC)");
        return Cell::temporal(t, us);
    }
    default: return Cell::string(t, text());
    }
}

// The built-in samples of each type.
std::vector<Cell> default_samples(ilana_type t) {
    using L = std::numeric_limits<int64_t>;
    const int64_t day_us = 86400LL * 1000000LL;
    switch (t) {
    case ILANA_TYPE_BOOL: return {Cell::boolean(true), Cell::boolean(false)};
    case ILANA_TYPE_INT64:
        return {Cell::int64(0), Cell::int64(1), Cell::int64(-1), Cell::int64(1234567890123LL), Cell::int64(L::max()),
                Cell::int64(L::min())};
    case ILANA_TYPE_UINT64:
        return {Cell::uint64(0), Cell::uint64(9223372036854775808ULL), Cell::uint64(18446744073709551615ULL)};
    case ILANA_TYPE_DOUBLE:
        return {Cell::real(0.0), Cell::real(1.5), Cell::real(-0.0001), Cell::real(1.5e300), Cell::real(-2.25e-300)};
    case ILANA_TYPE_TEXT:
        return {Cell::text(""), Cell::text("hello"), Cell::text("h\xC3\xA9llo w\xC3\xB6rld \xE2\x9C\x93 \xF0\x9F\x9A\x80"),
                Cell::text("'); DROP TABLE users; --"), Cell::text("\" ` ' \\ ? ?? $1 %s"),
                Cell::text(std::string(10000, 'x') + "end")};
    case ILANA_TYPE_BLOB: {
        std::string big(70000, '\0');
        for (size_t i = 0; i < big.size(); ++i) big[i] = static_cast<char>(i * 7 % 256);
        return {Cell::blob(""), Cell::blob(std::string("\0\x01\xff\x00zero\0", 10)), Cell::blob(big)};
    }
    case ILANA_TYPE_DECIMAL:
        return {Cell::string(t, "0.0000"), Cell::string(t, "12345678901234.5678"), Cell::string(t, "-0.0001")};
    case ILANA_TYPE_DATE: {
        using ilana::sdk::days_from_civil;
        return {Cell::temporal(t, 0), Cell::temporal(t, days_from_civil(1999, 12, 31)),
                Cell::temporal(t, days_from_civil(2026, 11, 23)), Cell::temporal(t, days_from_civil(1900, 3, 1))};
    }
    case ILANA_TYPE_TIME:
        return {Cell::temporal(t, 0), Cell::temporal(t, (13 * 3600 + 45 * 60 + 7) * 1000000LL + 123456),
                Cell::temporal(t, day_us - 1)};
    case ILANA_TYPE_TIMESTAMP:
    case ILANA_TYPE_TIMESTAMPTZ: {
        using ilana::sdk::days_from_civil;
        return {Cell::temporal(t, 0), Cell::temporal(t, days_from_civil(1999, 12, 31) * day_us + day_us - 1),
                Cell::temporal(t, days_from_civil(2026, 11, 23) * day_us + (13 * 3600 + 45 * 60 + 7) * 1000000LL + 123456),
                Cell::temporal(t, days_from_civil(1900, 1, 1) * day_us)};
    }
    case ILANA_TYPE_UUID:
        return {Cell::string(t, "123e4567-e89b-12d3-a456-426614174000"),
                Cell::string(t, "00000000-0000-0000-0000-000000000000")};
    case ILANA_TYPE_JSON:
        return {Cell::string(t, "{\"a\": [1, 2, \"x\"]}"), Cell::string(t, "[]"), Cell::string(t, "\"caf\xC3\xA9\"")};
    default: return {};
    }
}

// The cell a sample of `from` comes back as when the column is `to`.
std::optional<Cell> convert(const Cell &s, ilana_type to) {
    using namespace ilana::sdk;
    if (s.type == to) return s;
    const bool to_string = to == ILANA_TYPE_TEXT || to == ILANA_TYPE_DECIMAL || to == ILANA_TYPE_JSON ||
                           to == ILANA_TYPE_UUID || to == ILANA_TYPE_BLOB;
    switch (s.type) {
    case ILANA_TYPE_BOOL:
        if (to == ILANA_TYPE_INT64) return Cell::int64(s.i64);
        if (to_string) return Cell::string(to, s.i64 ? "1" : "0");
        break;
    case ILANA_TYPE_INT64:
        if (to_string) return Cell::string(to, std::to_string(s.i64));
        if (to == ILANA_TYPE_DOUBLE) return Cell::real(static_cast<double>(s.i64));
        break;
    case ILANA_TYPE_UINT64:
        if (to_string) return Cell::string(to, std::to_string(s.u64));
        if (to == ILANA_TYPE_INT64 && s.u64 <= static_cast<uint64_t>(std::numeric_limits<int64_t>::max()))
            return Cell::int64(static_cast<int64_t>(s.u64));
        break;
    case ILANA_TYPE_DOUBLE:
        if (to_string) return Cell::string(to, format_double(s.f64));
        break;
    case ILANA_TYPE_DATE:
        if (to_string) return Cell::string(to, format_date(s.i64));
        break;
    case ILANA_TYPE_TIME:
        if (to_string) return Cell::string(to, format_time(s.i64));
        break;
    case ILANA_TYPE_TIMESTAMP:
        if (to_string) return Cell::string(to, format_timestamp(s.i64));
        if (to == ILANA_TYPE_TIMESTAMPTZ) return Cell::temporal(to, s.i64);
        break;
    case ILANA_TYPE_TIMESTAMPTZ:
        if (to_string) return Cell::string(to, format_timestamptz(s.i64));
        if (to == ILANA_TYPE_TIMESTAMP) return Cell::temporal(to, s.i64);
        break;
    default:
        if (is_string_type(s.type) && to_string) return Cell::string(to, s.bytes);
    }
    return std::nullopt;
}

const rapidjson::Value *member(const rapidjson::Value &obj, const char *name) {
    auto it = obj.FindMember(name);
    return it == obj.MemberEnd() ? nullptr : &it->value;
}

const char *const kTypeNames[] = {"null", "bool", "int64", "uint64", "double", "text", "blob", "decimal",
                                  "date", "time", "timestamp", "timestamptz", "uuid", "json", "any"};

} // namespace

ilana_type type_from_name(const std::string &name) {
    for (int i = 1; i < 14; ++i)
        if (name == kTypeNames[i]) return i;
    return 0;
}

std::string type_label(ilana_type t) {
    return t >= 0 && t <= 14 ? kTypeNames[t] : "type " + std::to_string(t);
}

Config load_config(const std::string &path) {
    std::ifstream in(path);
    if (!in) throw std::runtime_error("cannot read the connection JSON " + path);
    std::stringstream ss;
    ss << in.rdbuf();
    const std::string text = ss.str();
    rapidjson::Document doc;
    doc.Parse<rapidjson::kParseCommentsFlag | rapidjson::kParseTrailingCommasFlag>(text.c_str(), text.size());
    if (doc.HasParseError())
        throw std::runtime_error(path + ": invalid JSON at offset " + std::to_string(doc.GetErrorOffset()) + ": " +
                                 rapidjson::GetParseError_En(doc.GetParseError()));
    if (!doc.IsObject()) bad("/", "must be an object");

    Config c;
    c.path = path;
    {
        const size_t slash = path.find_last_of('/');
        c.config_dir = slash == std::string::npos ? "." : path.substr(0, slash == 0 ? 1 : slash);
        if (c.config_dir[0] != '/') {
            char *cwd = ::realpath(c.config_dir.c_str(), nullptr);
            if (cwd != nullptr) {
                c.config_dir = cwd;
                std::free(cwd);
            }
        }
    }
    static const char *const kTop[] = {"params", "timeout_ms", "config_dir", "setup", "probe", "types", "threads",
                                       "$comment"};
    for (auto it = doc.MemberBegin(); it != doc.MemberEnd(); ++it) {
        bool known = false;
        for (const char *k : kTop) known = known || std::string(k) == it->name.GetString();
        if (!known) bad(std::string("/") + it->name.GetString(), "unknown key (keys: params, timeout_ms, config_dir, "
                                                                 "setup, probe, types, threads)");
    }

    const rapidjson::Value *params = member(doc, "params");
    if (params == nullptr || !params->IsObject()) bad("/params", "required: the driver's connection parameters");
    flatten(*params, "", "/params", c.params);
    if (auto *v = member(doc, "timeout_ms")) {
        if (!v->IsInt()) bad("/timeout_ms", "must be an integer");
        c.timeout_ms = v->GetInt();
    }
    if (auto *v = member(doc, "threads")) {
        if (!v->IsInt() || v->GetInt() < 2 || v->GetInt() > 64) bad("/threads", "must be an integer from 2 to 64");
        c.threads = v->GetInt();
    }
    if (auto *v = member(doc, "config_dir")) c.config_dir = str(*v, "/config_dir");
    if (auto *v = member(doc, "setup")) {
        if (!v->IsArray()) bad("/setup", "must be an array of statements");
        for (rapidjson::SizeType i = 0; i < v->Size(); ++i)
            c.setup.push_back(str((*v)[i], "/setup/" + std::to_string(i)));
    }

    const rapidjson::Value *probe = member(doc, "probe");
    if (probe == nullptr || !probe->IsObject()) bad("/probe", "required: at least {\"select_one\": \"SELECT 1\"}");
    static const char *const kProbe[] = {"select_one", "syntax_error", "unknown_table", "many_rows", "sleep",
                                         "table", "introspect"};
    for (auto it = probe->MemberBegin(); it != probe->MemberEnd(); ++it) {
        bool known = false;
        for (const char *k : kProbe) known = known || std::string(k) == it->name.GetString();
        if (!known) bad(std::string("/probe/") + it->name.GetString(), "unknown probe");
    }
    const rapidjson::Value *one = member(*probe, "select_one");
    if (one == nullptr) bad("/probe/select_one", "required: a statement returning one row with one column, 1");
    c.select_one = str(*one, "/probe/select_one");
    if (auto *v = member(*probe, "syntax_error")) c.syntax_error = str(*v, "/probe/syntax_error");
    if (auto *v = member(*probe, "unknown_table")) c.unknown_table = str(*v, "/probe/unknown_table");
    if (auto *v = member(*probe, "sleep")) c.sleep = str(*v, "/probe/sleep");
    if (auto *v = member(*probe, "many_rows")) {
        if (!v->IsObject() || !member(*v, "sql") || !member(*v, "rows") || !(*v)["rows"].IsInt64() ||
            (*v)["rows"].GetInt64() < 1)
            bad("/probe/many_rows", "must be {\"sql\": \"... {rows} ...\", \"rows\": N}");
        c.many_rows_sql = str((*v)["sql"], "/probe/many_rows/sql");
        c.many_rows = (*v)["rows"].GetInt64();
    }
    if (auto *v = member(*probe, "table")) {
        if (!v->IsObject()) bad("/probe/table", "must be an object");
        TableProbe t;
        const std::pair<const char *, std::string *> keys[] = {
            {"create", &t.create}, {"insert", &t.insert}, {"select", &t.select}, {"count", &t.count}, {"drop", &t.drop}};
        for (const auto &k : keys) {
            const rapidjson::Value *s = member(*v, k.first);
            if (s == nullptr) bad(std::string("/probe/table/") + k.first, "required (all of create, insert, select, "
                                                                          "count, drop)");
            *k.second = str(*s, std::string("/probe/table/") + k.first);
            if (k.second->find("{table}") == std::string::npos)
                bad(std::string("/probe/table/") + k.first, "must name the table as {table}");
        }
        c.table = t;
    }
    if (auto *v = member(*probe, "introspect")) {
        if (!v->IsObject() || !member(*v, "table")) bad("/probe/introspect", "must be {\"table\": ..., \"columns\": [...]}");
        c.introspect_table = str((*v)["table"], "/probe/introspect/table");
        if (auto *cols = member(*v, "columns")) {
            if (!cols->IsArray()) bad("/probe/introspect/columns", "must be an array of column names");
            for (rapidjson::SizeType i = 0; i < cols->Size(); ++i)
                c.introspect_columns.push_back(str((*cols)[i], "/probe/introspect/columns/" + std::to_string(i)));
        }
    }

    if (auto *types = member(doc, "types")) {
        if (!types->IsObject()) bad("/types", "must be an object: {\"int64\": \"SELECT ?\", ...}");
        for (auto it = types->MemberBegin(); it != types->MemberEnd(); ++it) {
            const std::string name = it->name.GetString();
            const std::string where = "/types/" + name;
            TypeSpec t;
            t.name = name;
            t.type = type_from_name(name);
            if (t.type == 0)
                bad(where, "unknown type (bool, int64, uint64, double, text, blob, decimal, date, time, timestamp, "
                           "timestamptz, uuid, json)");
            t.returns = t.type;
            const rapidjson::Value &spec = it->value;
            if (spec.IsString()) {
                t.sql = str(spec, where);
            } else if (spec.IsObject()) {
                for (auto m = spec.MemberBegin(); m != spec.MemberEnd(); ++m) {
                    const std::string k = m->name.GetString();
                    if (k != "sql" && k != "returns" && k != "values" && k != "expect" && k != "null")
                        bad(where + "/" + k, "unknown key (sql, returns, values, expect, null)");
                }
                if (!member(spec, "sql")) bad(where + "/sql", "required");
                t.sql = str(spec["sql"], where + "/sql");
                if (auto *r = member(spec, "returns")) {
                    t.returns = type_from_name(str(*r, where + "/returns"));
                    if (t.returns == 0) bad(where + "/returns", "unknown type");
                }
                if (auto *n = member(spec, "null")) {
                    if (!n->IsBool()) bad(where + "/null", "must be true or false");
                    t.null = n->GetBool();
                }
                if (auto *vals = member(spec, "values")) {
                    if (!vals->IsArray() || vals->Empty()) bad(where + "/values", "must be a non-empty array");
                    for (rapidjson::SizeType i = 0; i < vals->Size(); ++i)
                        t.values.push_back(cell_from_json(t.type, (*vals)[i], where + "/values/" + std::to_string(i)));
                }
                if (auto *exp = member(spec, "expect")) {
                    if (!exp->IsArray()) bad(where + "/expect", "must be an array parallel to values");
                    for (rapidjson::SizeType i = 0; i < exp->Size(); ++i)
                        t.expect.push_back(
                            cell_from_json(t.returns, (*exp)[i], where + "/expect/" + std::to_string(i)));
                }
            } else {
                bad(where, "must be a statement or {\"sql\": ..., \"returns\": ..., \"values\": [...]}");
            }
            if (t.values.empty()) t.values = default_samples(t.type);
            if (t.expect.empty()) {
                for (const Cell &s : t.values) {
                    auto e = convert(s, t.returns);
                    if (!e)
                        bad(where, "no rule turns a " + name + " sample into " + type_label(t.returns) +
                                       ": give \"values\" and \"expect\"");
                    t.expect.push_back(*e);
                }
            }
            if (t.expect.size() != t.values.size())
                bad(where + "/expect", "needs one entry per value (" + std::to_string(t.values.size()) + ")");
            c.types.push_back(std::move(t));
        }
    }
    return c;
}

} // namespace kit
