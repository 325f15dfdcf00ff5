// Splits the text of a migration section into statements, one per call to
// the driver (no driver here runs several statements in one call).
//
// A `;` ends a statement except inside:
//   - strings '...' ('' doubled; backslash escapes on MySQL, and in
//     PostgreSQL E'...' strings), MySQL "..." strings;
//   - quoted identifiers "..." and `...` (and [...] on SQLite);
//   - comments: -- to end of line (MySQL: "-- " with a space, and #),
//     /* ... */ (nested on PostgreSQL; MySQL /*! ... */ counts as SQL);
//   - PostgreSQL dollar-quoted bodies $$ ... $$ and $tag$ ... $tag$;
//   - parentheses (PostgreSQL CREATE RULE ... DO (a; b));
//   - the body of a CREATE PROCEDURE / FUNCTION / TRIGGER / EVENT (and a
//     MariaDB BEGIN NOT ATOMIC block) written without DELIMITER: BEGIN ...
//     END nesting is tracked, with CASE ... END [CASE], IF ... END IF,
//     LOOP ... END LOOP, WHILE ... END WHILE and REPEAT ... END REPEAT.
//     This also covers SQLite's CREATE TRIGGER ... BEGIN ... END and
//     PostgreSQL's BEGIN ATOMIC ... END function bodies.
// On MySQL a line `DELIMITER xx` (as the mysql client reads it) switches the
// delimiter until the next DELIMITER line.
//
// Statements keep their text as written (comments inside included), trimmed,
// without the delimiter; statements that are only comments are dropped.
#pragma once

#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace ilana::detail {

enum class SqlDialect {
    generic,  // SQLite and any other: '' strings, "" and `` and [] identifiers
    postgres, // + dollar quoting, E'' strings, nested /* */
    mysql,    // + backslash escapes, "" strings, # comments, DELIMITER
};

struct SqlStatement {
    std::string text; // trimmed, without its delimiter
    int line = 1;     // line of its first character (counting from first_line)
};

// An unterminated string, quoted identifier, comment or dollar-quoted body.
struct SqlSplitError : std::runtime_error {
    SqlSplitError(const std::string &what, int line_) : std::runtime_error(what), line(line_) {}
    int line;
};

// Throws SqlSplitError. `first_line` is the line number of sql[0] in its file.
std::vector<SqlStatement> split_sql(std::string_view sql, SqlDialect dialect, int first_line = 1);

} // namespace ilana::detail
