// The migrations table of one connection and the migration lock, both on
// one leased session. The SQL is the same on every database (portable types,
// the driver's identifier quote, `?` parameters); only creating the schema
// is left out where the driver is not networked (SQLite: a schema there is
// an attached database).
#pragma once

#include <ilana/config.hpp>
#include <ilana/database.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace ilana::detail {

class NativeConnection;

// One row of the migrations table.
struct MigrationRecord {
    std::string id, name, checksum, applied_at, status, failed_statement;
    int64_t batch = 0;
};

// Values of the status column.
inline constexpr const char *kStatusApplied = "applied";
inline constexpr const char *kStatusFailed = "failed";
inline constexpr const char *kStatusRunning = "running";
// The checksum recorded for a code migration.
inline constexpr const char *kCodeChecksum = "code";

// `name` quoted with `quote` (embedded quotes doubled).
std::string quote_identifier(const std::string &name, char quote);

class MigrationTable {
public:
    MigrationTable(Session &session, const MigrationsOptions &options);

    // The schema-qualified, quoted table name as it appears in SQL.
    const std::string &sql_name() const noexcept { return sql_name_; }
    // "analytics.analytics_migrations": for messages and the lock name.
    const std::string &display_name() const noexcept { return display_name_; }

    // CREATE SCHEMA / CREATE TABLE IF NOT EXISTS.
    void ensure();
    // Whether the table exists (the driver's introspection when it has it).
    bool exists();
    // Every row, ordered by id. The table must exist.
    std::vector<MigrationRecord> read();

    void insert(const MigrationRecord &r);
    // Sets status, failed_statement (NULL when empty) and applied_at.
    void set_status(const std::string &id, const char *status, const std::string &failed_statement,
                    const std::string &applied_at);
    void set_checksum(const std::string &id, const std::string &checksum);
    void remove(const std::string &id);

private:
    Session &s_;
    MigrationsOptions options_;
    char quote_;
    bool networked_;
    std::string sql_name_, display_name_;
};

// The driver's "ilana.lock/1" lock, held on `session` from construction to
// release() or destruction. When the lock is a transaction (SQLite), the
// work done meanwhile is inside it and release() commits it.
class MigrationLock {
public:
    // Throws Error: the driver has no lock extension (ErrorClass::config), or
    // the lock was not taken within timeout_ms (ErrorClass::timeout).
    MigrationLock(Session &session, std::string name, int timeout_ms);
    ~MigrationLock();
    MigrationLock(const MigrationLock &) = delete;
    MigrationLock &operator=(const MigrationLock &) = delete;

    bool is_transaction() const noexcept { return is_transaction_; }
    bool held() const noexcept { return held_; }
    void acquire();
    // Releases (commits, for a transaction lock). When that fails the
    // session is marked broken so the pool closes it (a closed session
    // holds no lock), and the error propagates.
    void release();

private:
    Session &s_;
    std::string name_;
    int timeout_ms_;
    const void *api_ = nullptr;
    bool is_transaction_ = false;
    bool held_ = false;
};

// UTC now as "2026-01-01T12:00:00.000Z".
std::string utc_now_iso();

} // namespace ilana::detail
