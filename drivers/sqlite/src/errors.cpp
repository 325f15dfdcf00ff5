// errors.cpp — the one place where SQLite result codes become ilana errors.
//
// The host decides retry and eviction from error_class and flags only, so
// every SQLite code is classified here, in one table (libpqxx's result.cxx is
// the model; looked up with the SDK's NativeCodeTable), and nowhere else.
// SQLSTATEs are the closest standard (or PostgreSQL) code, for the user's
// benefit; native_code is always the extended SQLite result code.
#include "sqlite_driver.hpp"

#include <ilana/sdk/error_table.hpp>

#include <string>

namespace ilana::drivers::sqlite {
namespace {

constexpr uint32_t kBroken = ILANA_ERRF_CONN_BROKEN;

enum class AnyStage { any, open, prepare, step, control };

struct ErrorRule {
    int code;            // extended code (matched exactly) or primary code
    AnyStage stage;      // where the rule applies
    ilana_error_class cls;
    const char *sqlstate;
    uint32_t flags;
    bool quote_sql;      // the error is about the SQL text: say where in it
};

// An extended code's rule wins over its primary code's; among the rules of
// one code, the first whose stage applies (specific stages before
// AnyStage::any).
constexpr ErrorRule kRules[] = {
    // Constraints: the SQLSTATE tells which one.
    {SQLITE_CONSTRAINT_UNIQUE, AnyStage::any, ILANA_ERR_CONSTRAINT, "23505", 0, false},
    {SQLITE_CONSTRAINT_PRIMARYKEY, AnyStage::any, ILANA_ERR_CONSTRAINT, "23505", 0, false},
    {SQLITE_CONSTRAINT_ROWID, AnyStage::any, ILANA_ERR_CONSTRAINT, "23505", 0, false},
    {SQLITE_CONSTRAINT_FOREIGNKEY, AnyStage::any, ILANA_ERR_CONSTRAINT, "23503", 0, false},
    {SQLITE_CONSTRAINT_NOTNULL, AnyStage::any, ILANA_ERR_CONSTRAINT, "23502", 0, false},
    {SQLITE_CONSTRAINT_CHECK, AnyStage::any, ILANA_ERR_CONSTRAINT, "23514", 0, false},
    {SQLITE_CONSTRAINT, AnyStage::any, ILANA_ERR_CONSTRAINT, "23000", 0, false},

    // Another connection holds the lock: trying again later may succeed.
    {SQLITE_BUSY_SNAPSHOT, AnyStage::any, ILANA_ERR_TRANSIENT, "40001", 0, false},
    {SQLITE_BUSY, AnyStage::any, ILANA_ERR_TRANSIENT, "55P03", 0, false},
    {SQLITE_LOCKED, AnyStage::any, ILANA_ERR_TRANSIENT, "55P03", 0, false},
    {SQLITE_PROTOCOL, AnyStage::any, ILANA_ERR_TRANSIENT, "55P03", 0, false},
    {SQLITE_SCHEMA, AnyStage::any, ILANA_ERR_TRANSIENT, "40001", 0, false},
    {SQLITE_FULL, AnyStage::any, ILANA_ERR_TRANSIENT, "53100", 0, false},
    {SQLITE_ABORT, AnyStage::any, ILANA_ERR_TRANSIENT, "40000", 0, false},

    // SQLITE_ERROR is SQLite's catch-all; what it means depends on where.
    //  - prepare: syntax error, no such table / column / function;
    {SQLITE_ERROR, AnyStage::prepare, ILANA_ERR_SYNTAX, "42000", 0, true},
    //  - open: a bad URI parameter ("no such vfs", "no such access mode");
    {SQLITE_ERROR, AnyStage::open, ILANA_ERR_CONFIG, "08001", 0, false},
    //  - BEGIN/COMMIT/ROLLBACK: misuse ("cannot commit - no transaction is active");
    {SQLITE_ERROR, AnyStage::control, ILANA_ERR_INTERNAL, "25000", 0, false},
    //  - running: a value was wrong (malformed JSON, integer overflow, RAISE()).
    {SQLITE_ERROR, AnyStage::step, ILANA_ERR_DATA, "22000", 0, false},

    // The file went away under us: this connection can never work again.
    {SQLITE_READONLY_DBMOVED, AnyStage::any, ILANA_ERR_CONNECTION, "08006", kBroken, false},
    {SQLITE_PERM, AnyStage::any, ILANA_ERR_PERMISSION, "42501", 0, false},
    {SQLITE_AUTH, AnyStage::any, ILANA_ERR_PERMISSION, "42501", 0, false},
    {SQLITE_READONLY, AnyStage::any, ILANA_ERR_PERMISSION, "25006", 0, false},

    {SQLITE_INTERRUPT, AnyStage::any, ILANA_ERR_CANCELED, "57014", 0, false},

    {SQLITE_CANTOPEN, AnyStage::any, ILANA_ERR_CONNECTION, "08001", kBroken, false},
    {SQLITE_NOTADB, AnyStage::any, ILANA_ERR_CONNECTION, "08001", kBroken, false},
    {SQLITE_CORRUPT, AnyStage::any, ILANA_ERR_CONNECTION, "XX001", kBroken, false},
    {SQLITE_IOERR, AnyStage::any, ILANA_ERR_CONNECTION, "58030", kBroken, false},
    {SQLITE_NOLFS, AnyStage::any, ILANA_ERR_CONNECTION, "58030", kBroken, false},

    {SQLITE_MISMATCH, AnyStage::any, ILANA_ERR_DATA, "22005", 0, false},
    {SQLITE_RANGE, AnyStage::any, ILANA_ERR_DATA, "22023", 0, false},
    {SQLITE_TOOBIG, AnyStage::any, ILANA_ERR_DATA, "54000", 0, false},

    {SQLITE_NOMEM, AnyStage::any, ILANA_ERR_INTERNAL, "53200", 0, false},
    {SQLITE_MISUSE, AnyStage::any, ILANA_ERR_INTERNAL, "XX000", 0, false},
    {SQLITE_INTERNAL, AnyStage::any, ILANA_ERR_INTERNAL, "XX000", 0, false},
};
constexpr sdk::NativeCodeTable kTable{kRules};

// Anything not in the table (SQLITE_FORMAT, SQLITE_NOTFOUND, ...).
constexpr ErrorRule kFallback = {0, AnyStage::any, ILANA_ERR_INTERNAL, "XX000", 0, false};

AnyStage to_any(Stage s) {
    switch (s) {
    case Stage::open: return AnyStage::open;
    case Stage::prepare: return AnyStage::prepare;
    case Stage::step: return AnyStage::step;
    case Stage::control: return AnyStage::control;
    }
    return AnyStage::any;
}

const ErrorRule &find_rule(int extended, Stage stage) {
    const AnyStage st = to_any(stage);
    const auto applies = [st](const ErrorRule &r) { return r.stage == AnyStage::any || r.stage == st; };
    if (const ErrorRule *r = kTable.find(extended, applies)) return *r;
    if (const ErrorRule *r = kTable.find(extended & 0xff, applies)) return *r;
    return kFallback;
}

// "CHECK constraint failed: positive_qty" names a named CHECK constraint;
// an unnamed one shows its expression ("qty > 0"), which is not a name.
// (An unnamed CHECK on a bare column, CHECK (flag), reads like a name.)
// UNIQUE and NOT NULL name columns, FOREIGN KEY nothing: no constraint name.
std::string check_name(std::string_view message) {
    constexpr std::string_view kPrefix = "CHECK constraint failed: ";
    if (message.compare(0, kPrefix.size(), kPrefix) != 0) return {};
    const std::string_view name = message.substr(kPrefix.size());
    if (name.empty() || (name[0] >= '0' && name[0] <= '9')) return {};
    for (char c : name)
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
              static_cast<unsigned char>(c) >= 0x80))
            return {};
    return std::string(name);
}

} // namespace

std::string sql_excerpt(std::string_view sql) {
    constexpr std::size_t kMax = 200;
    // Trim leading blanks so the excerpt starts at the statement.
    while (!sql.empty() && (sql.front() == ' ' || sql.front() == '\n' || sql.front() == '\t' ||
                            sql.front() == '\r'))
        sql.remove_prefix(1);
    std::size_t n = sql.size() < kMax ? sql.size() : kMax;
    // Never cut a UTF-8 sequence in half.
    while (n > 0 && n < sql.size() && (static_cast<unsigned char>(sql[n]) & 0xC0u) == 0x80u) --n;
    std::string out(sql.substr(0, n));
    for (char &c : out)
        if (c == '\n' || c == '\r' || c == '\t') c = ' ';
    if (n < sql.size()) out += "...";
    return out;
}

DriverFailure sqlite_failure(sqlite3 *db, int rc, Stage stage, std::string_view context,
                             std::string_view sql, uint32_t extra_flags) {
    // The handle's extended code is more precise than a primary `rc`, but
    // only when it describes this same failure.
    int extended = rc;
    if (db != nullptr) {
        const int e = sqlite3_extended_errcode(db);
        if ((e & 0xff) == (rc & 0xff)) extended = e;
    }
    const ErrorRule &rule = find_rule(extended, stage);

    std::string message;
    if (!context.empty()) {
        message.append(context);
        message += ": ";
    }
    const char *text = nullptr;
    if (db != nullptr && (sqlite3_errcode(db) & 0xff) == (rc & 0xff)) text = sqlite3_errmsg(db);
    message += text != nullptr ? text : sqlite3_errstr(rc);
    message += " (SQLite code " + std::to_string(extended) + ")";
    if (rule.quote_sql && !sql.empty()) {
#if SQLITE_VERSION_NUMBER >= 3038000
        const int offset = db != nullptr ? sqlite3_error_offset(db) : -1;
        if (offset >= 0) message += " at offset " + std::to_string(offset);
#endif
    }
    DriverFailure f(rule.cls, std::move(message), rule.sqlstate, extended, rule.flags | extra_flags);
    if (extended == SQLITE_CONSTRAINT_CHECK && text != nullptr) f.with_condition(ILANA_COND_NONE, check_name(text));
    return f;
}

} // namespace ilana::drivers::sqlite
