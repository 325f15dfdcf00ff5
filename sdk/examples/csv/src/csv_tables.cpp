// csv_tables.cpp — table discovery, header reading, type inference, cache.
#include "csv_tables.hpp"

#include "csv_reader.hpp"

#include <ilana/sdk/values.hpp>

#include <algorithm>
#include <cctype>
#include <map>
#include <mutex>

#include <dirent.h>
#include <sys/stat.h>

namespace csv {

using ilana::sdk::DriverFailure;

namespace {

std::string lower(std::string s) {
    std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
    return s;
}

bool ends_with_csv(const std::string &f) { return f.size() > 4 && f.compare(f.size() - 4, 4, ".csv") == 0; }

// What one file's version looked like when its schema was inferred.
struct CacheEntry {
    std::shared_ptr<const Table> table;
    bool inferred = false;
    char delimiter = ',';
};

// Shared by all connections: inferring types reads the whole file once per
// version of it, not once per query.
std::mutex g_cache_mu;
std::map<std::string, CacheEntry> g_cache;

// No '+' and no leading zero ("007", "-01", "08.5"): such values are codes
// (zip codes, ids) that must keep their text.
bool plain_digits(const std::string &s) {
    if (s.empty() || s[0] == '+') return false;
    const size_t first = s[0] == '-' ? 1 : 0;
    return !(s.size() > first + 1 && s[first] == '0' && s[first + 1] >= '0' && s[first + 1] <= '9');
}
bool plain_integer(const std::string &s) {
    int64_t v = 0;
    return plain_digits(s) && ilana::sdk::Param::parse_int64(s, v);
}
bool plain_number(const std::string &s) {
    double d = 0;
    return plain_digits(s) && ilana::sdk::Param::parse_double(s, d);
}

} // namespace

const char *native_type_name(ilana_type t) {
    switch (t) {
    case ILANA_TYPE_INT64: return "integer";
    case ILANA_TYPE_DOUBLE: return "double";
    default: return "text";
    }
}

std::optional<size_t> Table::find(const std::string &column, bool exact_only) const {
    for (size_t i = 0; i < columns.size(); ++i)
        if (columns[i].name == column) return i;
    if (exact_only) return std::nullopt;
    std::optional<size_t> hit;
    const std::string want = lower(column);
    for (size_t i = 0; i < columns.size(); ++i)
        if (lower(columns[i].name) == want) {
            if (hit) return std::nullopt; // ambiguous: "Id" and "ID"
            hit = i;
        }
    return hit;
}

std::string Table::column_list() const {
    std::string out;
    for (const auto &c : columns) out += (out.empty() ? "" : ", ") + c.name;
    return out;
}

Catalog::Catalog(std::string directory, char delimiter, bool infer_types)
    : directory_(std::move(directory)), delimiter_(delimiter), infer_types_(infer_types) {}

std::vector<std::string> Catalog::table_names() const {
    std::vector<std::string> names;
    DIR *d = opendir(directory_.c_str());
    if (d == nullptr)
        throw DriverFailure(ILANA_ERR_CONNECTION, "cannot list the directory " + directory_, "58030", 0,
                            ILANA_ERRF_CONN_BROKEN);
    while (dirent *e = readdir(d)) {
        std::string f = e->d_name;
        if (f[0] == '.' || !ends_with_csv(f)) continue;
        struct stat st {};
        if (stat((directory_ + "/" + f).c_str(), &st) == 0 && S_ISREG(st.st_mode))
            names.push_back(f.substr(0, f.size() - 4));
    }
    closedir(d);
    std::sort(names.begin(), names.end());
    return names;
}

void Catalog::no_such_table(const std::string &name) const {
    std::string list;
    for (const auto &n : table_names()) list += (list.empty() ? "" : ", ") + n;
    throw DriverFailure(ILANA_ERR_SYNTAX, "no table '" + name + "': there is no " + name + ".csv in " + directory_ +
                                              " (tables: " + (list.empty() ? "none" : list) + ")",
                        "42P01");
}

std::shared_ptr<const Table> Catalog::find(const std::string &name, bool exact_only) const {
    if (name.empty() || name[0] == '.' || name.find('/') != std::string::npos ||
        name.find('\0') != std::string::npos)
        throw DriverFailure(ILANA_ERR_SYNTAX, "'" + name + "' is not a table name: a table is a file NAME.csv "
                                              "in the connection's directory",
                            "42602");
    struct stat st {};
    if (stat((directory_ + "/" + name + ".csv").c_str(), &st) == 0 && S_ISREG(st.st_mode)) return load(name);
    if (exact_only) return nullptr;
    std::string hit;
    for (const auto &n : table_names())
        if (lower(n) == lower(name)) {
            if (!hit.empty()) return nullptr; // People.csv and people.csv: ambiguous
            hit = n;
        }
    return hit.empty() ? nullptr : load(hit);
}

std::shared_ptr<const Table> Catalog::load(const std::string &stem) const {
    const std::string path = directory_ + "/" + stem + ".csv";
    struct stat st {};
    if (stat(path.c_str(), &st) != 0) return nullptr;
    const int64_t mtime_ns = static_cast<int64_t>(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec;
    {
        std::lock_guard<std::mutex> lock(g_cache_mu);
        auto it = g_cache.find(path);
        if (it != g_cache.end() && it->second.table->size == st.st_size && it->second.table->mtime_ns == mtime_ns &&
            it->second.inferred == infer_types_ && it->second.delimiter == delimiter_)
            return it->second.table;
    }

    auto table = std::make_shared<Table>();
    table->name = stem;
    table->path = path;
    table->size = st.st_size;
    table->mtime_ns = mtime_ns;
    Reader reader(path, delimiter_);
    std::vector<Field> fields;
    if (!reader.next(fields))
        throw DriverFailure(ILANA_ERR_DATA, path + " is empty: a table needs a header row with the column names",
                            "22P04");
    for (size_t i = 0; i < fields.size(); ++i) {
        if (fields[i].text.empty())
            throw DriverFailure(ILANA_ERR_DATA, path + " line 1: column " + std::to_string(i + 1) +
                                                    " of the header has no name",
                                "22P04");
        table->columns.push_back({fields[i].text, ILANA_TYPE_TEXT, true});
    }

    if (infer_types_) {
        const size_t n = table->columns.size();
        std::vector<bool> can_int(n, true), can_double(n, true), any_value(n, false), any_null(n, false);
        while (reader.next(fields)) {
            if (fields.size() != n)
                throw DriverFailure(ILANA_ERR_DATA, path + " line " + std::to_string(reader.line()) + ": " +
                                                        std::to_string(fields.size()) + " fields, the header has " +
                                                        std::to_string(n),
                                    "22P04");
            for (size_t i = 0; i < n; ++i) {
                const Field &f = fields[i];
                if (f.is_null()) {
                    any_null[i] = true;
                    continue;
                }
                any_value[i] = true;
                if (can_int[i] && !plain_integer(f.text)) can_int[i] = false;
                if (can_double[i] && !plain_number(f.text)) can_double[i] = false;
            }
        }
        for (size_t i = 0; i < n; ++i) {
            Column &c = table->columns[i];
            c.has_null = any_null[i];
            if (!any_value[i]) c.type = ILANA_TYPE_TEXT;
            else if (can_int[i]) c.type = ILANA_TYPE_INT64;
            else if (can_double[i]) c.type = ILANA_TYPE_DOUBLE;
            else c.type = ILANA_TYPE_TEXT;
        }
    }

    std::lock_guard<std::mutex> lock(g_cache_mu);
    g_cache[path] = CacheEntry{table, infer_types_, delimiter_};
    return table;
}

} // namespace csv
