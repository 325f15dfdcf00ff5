#include "migrate/migration_file.hpp"

#include <cctype>

namespace ilana::detail {
namespace {

std::string_view trim(std::string_view s) {
    while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
    while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
    return s;
}

bool starts_with_nocase(std::string_view s, std::string_view prefix) {
    if (s.size() < prefix.size()) return false;
    for (size_t i = 0; i < prefix.size(); ++i)
        if (std::tolower(static_cast<unsigned char>(s[i])) != std::tolower(static_cast<unsigned char>(prefix[i])))
            return false;
    return true;
}

// "-- migrate:up transaction:false" -> which section, and its options.
// Returns 0 for a line that is not a marker, 1 for up, 2 for down.
int marker_of(std::string_view line, bool &transaction, int line_no) {
    line = trim(line);
    if (!starts_with_nocase(line, "--")) return 0;
    std::string_view rest = trim(line.substr(2));
    int which = 0;
    if (starts_with_nocase(rest, "migrate:up")) {
        which = 1;
        rest.remove_prefix(10);
    } else if (starts_with_nocase(rest, "migrate:down")) {
        which = 2;
        rest.remove_prefix(12);
    } else {
        return 0;
    }
    if (!rest.empty() && !std::isspace(static_cast<unsigned char>(rest.front()))) return 0; // "-- migrate:upgrade"
    transaction = true;
    rest = trim(rest);
    while (!rest.empty()) {
        size_t sp = 0;
        while (sp < rest.size() && !std::isspace(static_cast<unsigned char>(rest[sp]))) ++sp;
        std::string_view opt = rest.substr(0, sp);
        if (opt == "transaction:false")
            transaction = false;
        else if (opt != "transaction:true")
            throw MigrationFileError("unknown option '" + std::string(opt) + "' on the section marker at line " +
                                     std::to_string(line_no) + " (known: transaction:false)");
        rest = trim(rest.substr(sp));
    }
    return which;
}

bool all_digits(std::string_view s) {
    for (char c : s)
        if (!std::isdigit(static_cast<unsigned char>(c))) return false;
    return true;
}

} // namespace

bool valid_migration_name(std::string_view name) {
    if (name.empty() || name.size() > 200) return false;
    for (char c : name)
        if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_' && c != '-') return false;
    return true;
}

std::optional<MigrationName> parse_migration_id(std::string_view s) {
    if (s.size() < 16 || s[14] != '_' || !all_digits(s.substr(0, 14))) return std::nullopt;
    std::string_view name = s.substr(15);
    if (!valid_migration_name(name)) return std::nullopt;
    return MigrationName{std::string(s.substr(0, 14)), std::string(name)};
}

std::optional<MigrationName> parse_migration_file_name(std::string_view file_name) {
    if (file_name.size() < 4 || file_name.substr(file_name.size() - 4) != ".sql") return std::nullopt;
    return parse_migration_id(file_name.substr(0, file_name.size() - 4));
}

MigrationText parse_migration_text(std::string_view text, SqlDialect dialect) {
    MigrationText out;
    MigrationSection *current = nullptr;
    size_t section_start = 0; // byte offset where the current section's text begins
    size_t preamble_end = std::string_view::npos;
    int line_no = 1;
    size_t pos = 0;
    auto close_current = [&](size_t end) {
        if (current != nullptr) current->sql = std::string(text.substr(section_start, end - section_start));
    };
    while (pos < text.size()) {
        size_t eol = text.find('\n', pos);
        size_t next = eol == std::string_view::npos ? text.size() : eol + 1;
        bool transaction = true;
        int which = marker_of(text.substr(pos, (eol == std::string_view::npos ? text.size() : eol) - pos), transaction,
                              line_no);
        if (which != 0) {
            if (current == nullptr) preamble_end = pos;
            close_current(pos);
            MigrationSection &s = which == 1 ? out.up : out.down;
            if (s.present)
                throw MigrationFileError(std::string("a second `-- migrate:") + (which == 1 ? "up" : "down") +
                                         "` marker at line " + std::to_string(line_no));
            s.present = true;
            s.transaction = transaction;
            s.first_line = line_no + 1;
            current = &s;
            section_start = next;
        }
        pos = next;
        ++line_no;
    }
    close_current(text.size());
    if (!out.up.present) throw MigrationFileError("no `-- migrate:up` line (a migration has `-- migrate:up` and `-- migrate:down` sections)");
    std::string_view preamble = text.substr(0, preamble_end == std::string_view::npos ? 0 : preamble_end);
    std::vector<SqlStatement> stray;
    try {
        stray = split_sql(preamble, dialect);
    } catch (const SqlSplitError &) {
        stray.push_back(SqlStatement{"", 1});
    }
    if (!stray.empty())
        throw MigrationFileError("SQL before the first section marker (line " + std::to_string(stray.front().line) +
                                 "): put it under `-- migrate:up`");
    return out;
}

} // namespace ilana::detail
