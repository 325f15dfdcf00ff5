#include "common/error_factory.hpp"
#include "common/ascii.hpp"
#include "migrate/migration_table.hpp"

#include <ilana/logging.hpp>

#include "db/pool_access.hpp"
#include "plugins/native_connection.hpp"

#include <spdlog/spdlog.h>

#include <cctype>
#include <chrono>
#include <cstddef>
#include <cstdio>
#include <cstring>
#include <ctime>

namespace ilana::detail {

std::string quote_identifier(const std::string &name, char quote) {
    std::string out(1, quote);
    for (char c : name) {
        out += c;
        if (c == quote) out += c;
    }
    out += quote;
    return out;
}

std::string utc_now_iso() {
    auto now = std::chrono::system_clock::now();
    auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count();
    std::time_t secs = static_cast<std::time_t>(ms / 1000);
    std::tm tm{};
    gmtime_r(&secs, &tm);
    char buf[64];
    std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                  tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<int>(ms % 1000));
    return buf;
}

// ---- MigrationTable --------------------------------------------------------

MigrationTable::MigrationTable(Session &session, const MigrationsOptions &options)
    : s_(session), options_(options) {
    quote_ = session.dialect().identifier_quote; // the server's the session reached
    networked_ = native(session).driver().has(ILANA_CAP_NETWORK);
    sql_name_ = quote_identifier(options_.table_name, quote_);
    display_name_ = options_.table_name;
    if (!options_.schema_name.empty()) {
        sql_name_ = quote_identifier(options_.schema_name, quote_) + "." + sql_name_;
        display_name_ = options_.schema_name + "." + display_name_;
    }
}

void MigrationTable::ensure() {
    if (!options_.schema_name.empty() && networked_) {
        // CREATE SCHEMA is standard (PostgreSQL) and a synonym of CREATE
        // DATABASE on MySQL. Two runners on different tables of one new
        // schema may race on it; the loser's error is harmless, try again.
        const std::string sql = "CREATE SCHEMA IF NOT EXISTS " + quote_identifier(options_.schema_name, quote_);
        try {
            s_.execute(sql);
        } catch (const Error &e) {
            if (e.error_class() != ErrorClass::constraint && e.error_class() != ErrorClass::transient) throw;
            s_.execute(sql);
        }
    }
    s_.execute("CREATE TABLE IF NOT EXISTS " + sql_name_ +
               " (id VARCHAR(32) NOT NULL PRIMARY KEY, name VARCHAR(255) NOT NULL, batch INTEGER NOT NULL, "
               "checksum VARCHAR(64) NOT NULL, applied_at VARCHAR(32) NOT NULL, status VARCHAR(16) NOT NULL, "
               "failed_statement TEXT)");
}

bool MigrationTable::exists() {
    NativeConnection &nc = native(s_);
    const auto *api = nc.driver().extension<ilana_introspect_api>(ILANA_EXT_INTROSPECT);
    if (api != nullptr && api->struct_size >= offsetof(ilana_introspect_api, tables) + sizeof api->tables &&
        api->tables != nullptr) {
        ilana_error err = fresh_error();
        ilana_result *res = nullptr;
        const char *schema = options_.schema_name.empty() ? nullptr : options_.schema_name.c_str();
        if (api->tables(nc.handle(), schema, &res, &err) != ILANA_OK) nc.fail(err, "listing tables");
        NativeResult r(&nc, res);
        Result rows;
        r.read_all(rows);
        r.close();
        for (Row row : rows) {
            std::string name = row["name"].as<std::string>();
            if (name == options_.table_name || iequals_ascii(name, options_.table_name)) return true;
        }
        return false;
    }
    // No introspection: ask the table itself.
    try {
        s_.query("SELECT id FROM " + sql_name_ + " WHERE 1 = 0");
        return true;
    } catch (const Error &e) {
        if (e.error_class() == ErrorClass::syntax) return false;
        throw;
    }
}

std::vector<MigrationRecord> MigrationTable::read() {
    Result r = s_.query("SELECT id, name, batch, checksum, applied_at, status, failed_statement FROM " + sql_name_ +
                        " ORDER BY id");
    std::vector<MigrationRecord> out;
    out.reserve(r.size());
    for (Row row : r) {
        MigrationRecord m;
        m.id = row[0].as<std::string>();
        m.name = row[1].as<std::string>();
        m.batch = row[2].as<int64_t>();
        m.checksum = row[3].as<std::string>();
        m.applied_at = row[4].as<std::string>();
        m.status = row[5].as<std::string>();
        m.failed_statement = row.get<std::optional<std::string>>(6).value_or("");
        out.push_back(std::move(m));
    }
    return out;
}

void MigrationTable::insert(const MigrationRecord &r) {
    s_.execute("INSERT INTO " + sql_name_ +
                   " (id, name, batch, checksum, applied_at, status, failed_statement) VALUES (?, ?, ?, ?, ?, ?, ?)",
               Params{r.id, r.name, r.batch, r.checksum, r.applied_at, r.status,
                      r.failed_statement.empty() ? Value() : Value(r.failed_statement)});
}

void MigrationTable::set_status(const std::string &id, const char *status, const std::string &failed_statement,
                                const std::string &applied_at) {
    s_.execute("UPDATE " + sql_name_ + " SET status = ?, failed_statement = ?, applied_at = ? WHERE id = ?",
               Params{status, failed_statement.empty() ? Value() : Value(failed_statement), applied_at, id});
}

void MigrationTable::set_checksum(const std::string &id, const std::string &checksum) {
    s_.execute("UPDATE " + sql_name_ + " SET checksum = ? WHERE id = ?", Params{checksum, id});
}

void MigrationTable::remove(const std::string &id) {
    s_.execute("DELETE FROM " + sql_name_ + " WHERE id = ?", Params{id});
}

// ---- MigrationLock ---------------------------------------------------------

MigrationLock::MigrationLock(Session &session, std::string name, int timeout_ms)
    : s_(session), name_(std::move(name)), timeout_ms_(timeout_ms) {
    NativeConnection &nc = native(s_);
    const auto *api = nc.driver().extension<ilana_lock_api>(ILANA_EXT_LOCK);
    if (api == nullptr || api->struct_size < sizeof(ilana_lock_api) || api->acquire == nullptr ||
        api->release == nullptr)
        throw Error("[" + nc.name() + "] the driver " + nc.driver().id() +
                        " has no named lock (extension " ILANA_EXT_LOCK
                        "): migrations need one so that two runners never apply a migration twice",
                    ErrorClass::config, nc.name());
    api_ = api;
    is_transaction_ = (api->flags & ILANA_LOCK_IS_TRANSACTION) != 0;
    acquire();
}

MigrationLock::~MigrationLock() {
    if (!held_) return;
    try {
        release();
    } catch (const std::exception &e) {
        ilana::logger()->warn("conn={} releasing migration lock '{}' failed: {}", s_.connection_name(), name_, e.what());
    }
}

void MigrationLock::acquire() {
    NativeConnection &nc = native(s_);
    const auto *api = static_cast<const ilana_lock_api *>(api_);
    ilana_error err = fresh_error();
    const auto start = std::chrono::steady_clock::now();
    if (api->acquire(nc.handle(), name_.c_str(), timeout_ms_, &err) != ILANA_OK) {
        if (err.error_class == ILANA_ERR_TIMEOUT) {
            auto waited = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start);
            detail::throw_error(Error("[" + nc.name() + "] another migration runner holds the lock '" + name_ +
                                          "'; gave up after " + std::to_string(waited.count()) + " ms (" +
                                          err.message + ")",
                                      ErrorClass::timeout, nc.name(), err.sqlstate, err.native_code, err.flags));
        }
        nc.fail(err, "taking the migration lock");
    }
    held_ = true;
}

void MigrationLock::release() {
    if (!held_) return;
    held_ = false;
    NativeConnection &nc = native(s_);
    const auto *api = static_cast<const ilana_lock_api *>(api_);
    ilana_error err = fresh_error();
    if (api->release(nc.handle(), name_.c_str(), &err) != ILANA_OK) {
        // A session lock we could not release must not go back to the pool.
        nc.mark_broken();
        if (is_transaction_) {
            try {
                nc.rollback();
            } catch (...) {
            }
        }
        nc.fail(err, "releasing the migration lock");
    }
}

} // namespace ilana::detail
