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

} // namespace

bool valid_migration_name(std::string_view name) {
    if (name.empty() || name.size() > 200) return false;
    for (char c : name)
        if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_' && c != '-') return false;
    return true;
}

namespace {

int number_at(std::string_view digits, size_t pos, size_t len) {
    int n = 0;
    for (size_t i = pos; i < pos + len; ++i) n = n * 10 + (digits[i] - '0');
    return n;
}

// Why 14 digits are not a date and time YYYYMMDDHHMMSS; "" when they are.
// No leap seconds: make() never writes :60, and a 60 is a typo more often
// than a leap second.
std::string timestamp_problem(std::string_view d) {
    const int year = number_at(d, 0, 4), month = number_at(d, 4, 2), day = number_at(d, 6, 2);
    const int hour = number_at(d, 8, 2), minute = number_at(d, 10, 2), second = number_at(d, 12, 2);
    const std::string s(d);
    if (month < 1 || month > 12) return "month " + s.substr(4, 2) + " is not 01-12";
    static const int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    const bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    const int days = kDays[month - 1] + (month == 2 && leap ? 1 : 0);
    if (day < 1 || day > days)
        return "day " + s.substr(6, 2) + " is not a day of " + s.substr(0, 4) + "-" + s.substr(4, 2) + " (01-" +
               std::to_string(days) + ")";
    if (hour > 23) return "hour " + s.substr(8, 2) + " is not 00-23";
    if (minute > 59) return "minute " + s.substr(10, 2) + " is not 00-59";
    if (second > 59) return "second " + s.substr(12, 2) + " is not 00-59";
    return {};
}

size_t leading_digits(std::string_view s) {
    size_t n = 0;
    while (n < s.size() && std::isdigit(static_cast<unsigned char>(s[n]))) ++n;
    return n;
}

std::string lower(std::string_view s) {
    std::string out(s);
    for (char &c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return out;
}

} // namespace

std::string migration_id_problem(std::string_view s) {
    const size_t digits = leading_digits(s);
    if (digits == 0) return "it does not start with a timestamp YYYYMMDDHHMMSS";
    if (digits != 14)
        return "its timestamp has " + std::to_string(digits) + " digits, not 14 (YYYYMMDDHHMMSS)";
    if (s.size() == 14) return "it has no _name after the timestamp";
    if (s[14] != '_') return "it has no '_' between the timestamp and the name";
    const std::string_view name = s.substr(15);
    if (name.empty()) return "it has no name after the '_'";
    if (!valid_migration_name(name))
        return "its name '" + std::string(name) + "' is not letters, digits, '_' and '-' (at most 200)";
    const std::string ts = timestamp_problem(s.substr(0, 14));
    if (!ts.empty()) return "its timestamp " + std::string(s.substr(0, 14)) + " is not a date and time: " + ts;
    return {};
}

std::optional<MigrationName> parse_migration_id(std::string_view s) {
    if (!migration_id_problem(s).empty()) return std::nullopt;
    return MigrationName{std::string(s.substr(0, 14)), std::string(s.substr(15))};
}

ClassifiedFileName classify_migration_file_name(std::string_view file_name) {
    ClassifiedFileName out;
    if (file_name.empty() || file_name[0] == '.') return out; // .gitkeep, editor files
    const std::string low = lower(file_name);
    std::string_view stem;
    std::string extension_problem;
    const size_t sql_inside = low.find(".sql.");
    if (low.size() > 4 && low.compare(low.size() - 4, 4, ".sql") == 0) {
        stem = file_name.substr(0, file_name.size() - 4);
        if (file_name.substr(stem.size()) != ".sql")
            extension_problem = "it ends in " + std::string(file_name.substr(stem.size())) + ", not lower-case .sql";
    } else if (sql_inside != std::string::npos && sql_inside > 0) {
        stem = file_name.substr(0, sql_inside);
        extension_problem = "it ends in " + std::string(file_name.substr(sql_inside)) + ", not .sql";
    } else if (leading_digits(file_name) >= 8) {
        const size_t dot = file_name.find('.');
        stem = file_name.substr(0, dot);
        extension_problem = "it does not end in .sql";
    } else {
        return out; // README.md, notes.txt: not meant as a migration
    }
    const std::string id_problem = migration_id_problem(stem);
    if (id_problem.empty() && extension_problem.empty()) {
        out.kind = FileNameKind::migration;
        out.migration = MigrationName{std::string(stem.substr(0, 14)), std::string(stem.substr(15))};
        return out;
    }
    out.kind = FileNameKind::near_miss;
    out.problem = id_problem.empty() ? extension_problem
                  : extension_problem.empty() ? id_problem
                                              : id_problem + "; " + extension_problem;
    out.problem += id_problem.empty() ? "; rename it to " + std::string(stem) + ".sql"
                                      : "; rename it YYYYMMDDHHMMSS_name.sql with a real UTC date and time "
                                        "(`migrate:make NAME` makes one)";
    out.problem += " or move it out of the directory";
    return out;
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
