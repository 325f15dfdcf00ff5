// One migration file: `YYYYMMDDHHMMSS_name.sql` with a `-- migrate:up` and
// an optional `-- migrate:down` section. A section marker is a line of its
// own; it may carry `transaction:false` (run without a transaction, for
// statements such as PostgreSQL's CREATE INDEX CONCURRENTLY).
#pragma once

#include "migrate/sql_splitter.hpp"

#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

namespace ilana::detail {

struct MigrationSection {
    bool present = false;
    bool transaction = true; // false: `transaction:false` on the marker
    std::string sql;         // the text between this marker and the next
    int first_line = 1;      // line of sql[0] in the file
};

struct MigrationText {
    MigrationSection up, down;
};

// A malformed migration file (no up marker, statements before it, a
// duplicate marker, an unknown marker option). The message says which line.
struct MigrationFileError : std::runtime_error {
    using std::runtime_error::runtime_error;
};

// Throws MigrationFileError. `dialect` is used to check that nothing but
// comments precedes the first marker.
MigrationText parse_migration_text(std::string_view text, SqlDialect dialect);

// "20260101000000_sync_users" -> {"20260101000000", "sync_users"} (the id of
// a code migration; a file's name is read by classify_migration_file_name);
// nullopt when it does not have that form.
struct MigrationName {
    std::string id, name;
};
std::optional<MigrationName> parse_migration_id(std::string_view id_and_name);
// Letters, digits, '_' and '-': what make() accepts as a name.
bool valid_migration_name(std::string_view name);

// Why `id_and_name` is not "YYYYMMDDHHMMSS_name" with a real UTC date and
// time ("month 13 is not 01-12", "has no _name after the timestamp"); ""
// when it is one.
std::string migration_id_problem(std::string_view id_and_name);

// What a name found in a migrations directory is. A near miss is a name
// that was meant to be a migration but is not one, so that ignoring it
// would silently skip a migration: it ends in .sql in another letter case
// or has an extension after .sql (`.sql.txt`), or it is a .sql file whose
// stem is not a valid id (a 13-digit stamp, month 13, day 32, hour 25, no
// `_name`), or it starts with 8 or more digits (a timestamp) but does not
// end in .sql. Anything else (README.md, .gitkeep, a subdirectory) is
// "other": not a migration, reported and ignored.
enum class FileNameKind { migration, near_miss, other };
struct ClassifiedFileName {
    FileNameKind kind = FileNameKind::other;
    MigrationName migration; // kind == migration
    std::string problem;     // near_miss: what is wrong and the fix, one line
};
ClassifiedFileName classify_migration_file_name(std::string_view file_name);

} // namespace ilana::detail
