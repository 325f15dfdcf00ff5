// ilana/migrator.hpp — schema migrations, per connection.
//
//   auto db = ilana::Database::open("ilana.config.json");
//   ilana::Migrator m(db, "analytics");          // or db.migrator("analytics")
//   m.add("20260101000000_sync_users",           // a code migration
//         [](ilana::Database &db) { /* read db.on("primary"), write db.on("analytics") */ },
//         [](ilana::Database &db) { db.on("analytics").execute("DELETE FROM user_profiles"); });
//   ilana::MigrateReport r = m.migrate();        // applies what is pending
//   for (const auto &s : m.status()) ...         // applied / pending / changed / ...
//   m.rollback();                                 // undoes the last batch
//
// Migrations
//   A migration is either a file `YYYYMMDDHHMMSS_name.sql` (a real UTC date
//   and time; lower-case .sql) in the
//   connection's directory ("migrations": {"directory"}, default
//   <config dir>/database/migrations/<connection>) with a `-- migrate:up`
//   and a `-- migrate:down` section, or a code migration registered with
//   add(). Both share one timeline ordered by the 14-digit id; ids are
//   unique. A section is split into statements (strings, quoted names,
//   comments, PostgreSQL dollar quoting and MySQL BEGIN ... END routine
//   bodies are understood; see core/src/features/migrate/sql_splitter.hpp) and each
//   statement is sent as written: no `?` placeholders, no rewriting.
//   Migration files must not contain transaction control (BEGIN, COMMIT).
//
// The migrations table
//   One per connection: "tableName" (default ilana_migrations), in
//   "schemaName" when given (PostgreSQL: CREATE SCHEMA IF NOT EXISTS, then a
//   schema-qualified table; MySQL/MariaDB: schemaName is a database name,
//   created if missing; SQLite: an attached database name, not created).
//   Columns: id, name, batch, checksum (SHA-256 hex of the file's bytes;
//   "code" for code migrations), applied_at (UTC, ISO 8601 text), status
//   (applied | failed | running), failed_statement. Created by the first
//   migrate() that has migrations to consider (never by status(); a
//   connection without migrations is left alone).
//
// Locking
//   migrate(), rollback() and repair() hold the driver's named lock
//   ("ilana.lock/1": PostgreSQL advisory lock, MySQL GET_LOCK, SQLite BEGIN
//   IMMEDIATE) named "ilana_migrate:<schema.>table" for the whole run, so two
//   runners started at the same moment never apply a migration twice: the
//   second waits (up to lock_timeout_ms), then finds nothing left to do. On
//   MySQL, GET_LOCK is server-wide: runners of different databases that use
//   the same table name take turns (never wrong, only serial).
//
// Transactions and failures
//   - PostgreSQL, SQLite (transactional DDL): each migration runs in its own
//     transaction together with the row that records it (SQLite: the lock is
//     the transaction, so each migration is a SAVEPOINT inside it). A failing
//     statement rolls that migration back completely; the migrations before
//     it in the run stay applied; MigrationError names the file, the
//     statement and its line. Nothing is recorded for the failed migration:
//     fix the file and run migrate again.
//   - MySQL / MariaDB (no transactional DDL; also a section marked
//     `-- migrate:up transaction:false` on PostgreSQL): a row with status
//     "running" is written before the first statement and set to "applied"
//     after the last. When a statement fails, statements before it in that
//     migration have taken effect and cannot be undone: the row is set to
//     "failed" with the failing statement (its first 4000 characters; a
//     failed rollback's statement is prefixed "[down] "), and MigrationError
//     says so. From
//     then on migrate() and rollback() refuse to run (MigrationError naming
//     the migration and the statement) until the database has been fixed by
//     hand and repair() has cleared the mark: by default repair() deletes
//     the row, so the (corrected) migration runs again on the next migrate();
//     with mark_applied it records the migration as applied instead (when the
//     fix completed it by hand). A runner that died mid-migration leaves the
//     "running" row, which is treated the same way as "failed".
//   - Code migrations run outside any transaction (they use the Database as
//     they like, across connections): they are recorded like the MySQL case
//     on every database ("running", then "applied", or "failed" with the
//     exception's message). On SQLite the migration lock is released while a
//     code migration runs (the code must be able to write the database);
//     the "running" row keeps other runners waiting meanwhile. The run keeps
//     one session of the connection leased for the lock, so a code
//     migration that uses the same connection needs a pool "max" of 2 or
//     more.
//
// Checksums
//   An applied file whose bytes changed stops migrate() with a
//   MigrationError naming the file, unless MigrateOptions::allow_changed.
//   repair({.update_checksums = true}) records the new checksums.
//
// Files that are not migrations
//   Every other entry of the directory is a stray file (stray_files()). A
//   near miss, a name meant as a migration that would otherwise be skipped
//   silently (`.SQL`, `.sql.txt`, month 13, day 32, hour 25, 13 digits, no
//   `_name`, a timestamped file not ending in .sql), stops migrate(),
//   rollback(), repair() and make() with a ConfigError naming each such file
//   and the fix. Other files (README.md, .gitkeep, subdirectories) are
//   ignored; `ilana migrate:status` prints them as warnings.
//
// Thread safety: a Migrator is a handle (copies share the code migrations);
// use one from one thread at a time. Separate processes and threads are
// kept apart by the lock. Exceptions: MigrationError for a migration or
// directory problem, ConfigError for an unknown connection or a misnamed
// migration file (above), ilana::Error
// for database failures (lock timeout: ErrorClass::timeout).
#pragma once

#include <ilana/config.hpp>
#include <ilana/database.hpp>
#include <ilana/error.hpp>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace ilana {

// A migration step: one run of up() or down().
struct AppliedMigration {
    std::string id;   // "20260101000000"
    std::string name; // "create_users"
    int64_t duration_ms = 0;
};

// What migrate() would run (dry run).
struct PlannedMigration {
    std::string id, name;
    std::string file;                    // absolute path; "" for a code migration
    bool code = false;
    bool transaction = true;             // runs in its own transaction
    std::vector<std::string> statements; // the up section, split (empty for code)
};

struct MigrateOptions {
    bool dry_run = false;       // compute and return the plan; touch nothing
    bool allow_changed = false; // do not stop at applied files whose checksum changed
    int lock_timeout_ms = 60000; // wait for another runner at most this long; < 0 forever
    // Called after each migration is applied (before the next starts).
    std::function<void(const AppliedMigration &)> on_applied;
};

struct MigrateReport {
    std::vector<AppliedMigration> applied;
    int64_t batch = 0;                     // the batch number used; 0 when nothing was applied
    std::vector<PlannedMigration> planned; // dry run only: what would be applied, in order
};

enum class MigrationState {
    applied, // recorded, file unchanged
    pending, // not recorded yet
    changed, // recorded, but the file's checksum differs
    missing, // recorded, but no file (or code migration) here
    failed,  // recorded as failed (MySQL, transaction:false, code); see repair()
    running, // being applied by a runner (or its runner died: then repair())
};
const char *to_string(MigrationState state) noexcept;

struct MigrationStatus {
    std::string id, name;
    MigrationState state = MigrationState::pending;
    int64_t batch = 0;            // 0 when pending
    std::string applied_at;       // "2026-01-01T12:00:00.000Z"; "" when pending
    std::string checksum;         // recorded one; the file's when pending
    std::string file;             // absolute path; "" for code or missing
    bool code = false;            // a code migration (recorded or registered)
    std::string failed_statement; // for failed / running
};

struct RollbackOptions {
    int steps = 0;              // > 0: undo this many most recent migrations; 0: the last batch
    bool allow_changed = false; // allow running the down section of a changed file
    int lock_timeout_ms = 60000;
    std::function<void(const AppliedMigration &)> on_rolled_back;
};

struct RollbackReport {
    std::vector<AppliedMigration> rolled_back; // in the order they were undone
};

struct RepairOptions {
    bool update_checksums = false; // re-record the checksum of changed files
    bool mark_applied = false;     // failed/running rows become applied (default: deleted, i.e. pending)
    int lock_timeout_ms = 60000;
};

struct RepairReport {
    std::vector<std::string> cleared;           // "id_name" of failed/running rows cleared
    std::vector<std::string> checksums_updated; // "id_name" of rows whose checksum was re-recorded
};

// A file in the migrations directory that is not a migration.
struct StrayFile {
    std::string file; // absolute path
    // Named almost like a migration (.SQL, .sql.txt, an invalid timestamp
    // such as month 13, a 13-digit stamp, no _name): migrate(), rollback(),
    // repair() and make() throw ConfigError naming it while it is there.
    // Otherwise (README.md, .gitkeep, a subdirectory) it is ignored.
    bool near_miss = false;
    std::string problem; // what is wrong (and for a near miss the fix), one line
};

// A migration (or the migrations directory) is wrong, or a migration failed.
// what() is one line: connection, file, statement (first 200 characters,
// on one line) and the database's message.
class MigrationError : public Error {
public:
    MigrationError(const std::string &message, ErrorClass cls, std::string connection, std::string migration = {},
                   std::string file = {}, std::string statement = {}, std::string sqlstate = {},
                   int32_t native_code = 0);
    const std::string &migration() const noexcept { return migration_; } // "id_name"
    const std::string &file() const noexcept { return file_; }
    const std::string &statement() const noexcept { return statement_; } // full text

private:
    std::string migration_, file_, statement_;
};

using MigrationFn = std::function<void(Database &)>;

class Migrator {
public:
    // The connection's migrations settings from the config. Throws
    // ConfigError for an unknown connection.
    Migrator(Database db, std::string_view connection);
    // Any connection with explicit settings (tenants use this): `directory`
    // must be absolute (or empty: no files, code migrations only).
    Migrator(Database db, Connection connection, MigrationsOptions options);

    // Registers a code migration "YYYYMMDDHHMMSS_name". `down` may be empty
    // (rollback of it then fails). Throws MigrationError for a malformed id.
    Migrator &add(std::string_view id_and_name, MigrationFn up, MigrationFn down = {});

    MigrateReport migrate(const MigrateOptions &options = {});
    // Every migration known here or recorded in the table, ordered by id.
    // Reads only; a missing table means everything is pending.
    std::vector<MigrationStatus> status() const;
    // The files of the directory that are not migrations, by path. Reads
    // only the directory; status() lists the migrations whatever these are.
    std::vector<StrayFile> stray_files() const;
    RollbackReport rollback(const RollbackOptions &options = {});
    // Creates <directory>/<UTC now as YYYYMMDDHHMMSS>_<name>.sql with both
    // section markers (the directory too, if missing) and returns its path.
    // The id moves on by a second while a migration with it exists.
    std::string make(std::string_view name) const;
    RepairReport repair(const RepairOptions &options = {});

    const std::string &connection_name() const noexcept;
    const MigrationsOptions &options() const noexcept;

    struct Impl;

private:
    std::shared_ptr<Impl> impl_;
};

} // namespace ilana
