// namespace.cpp — extension "ilana.namespace/1": a tenant is a database file.
//
// The host fills a tenant's file into the "filename" connection parameter.
// `name` given to create/drop is that file's path; a relative path is
// resolved like the "filename" parameter (against the template connection's
// "ilana.config_dir" when `conn` is given, else the working directory).
//
// list returns ILANA_UNSUPPORTED: with file isolation the tenants are the
// files the host's filename template produces, which only the host can
// enumerate (a directory listing would also pick up unrelated files).
#include "sqlite_driver.hpp"

#include <filesystem>
#include <system_error>

namespace ilana::drivers::sqlite {
namespace {

namespace fs = std::filesystem;

std::string resolve(const Connection *conn, std::string_view name) {
    if (name.empty()) throw DriverFailure(ILANA_ERR_CONFIG, "namespace: the file name is empty");
    fs::path p(name);
    if (p.is_relative() && conn != nullptr) {
        const std::string &dir = conn->config_dir();
        if (!dir.empty()) p = fs::path(dir) / p;
    }
    return p.lexically_normal().string();
}

ilana_error_class fs_error_class(const std::error_code &ec) {
    if (ec == std::errc::permission_denied || ec == std::errc::operation_not_permitted ||
        ec == std::errc::read_only_file_system)
        return ILANA_ERR_PERMISSION;
    return ILANA_ERR_CONNECTION;
}

// An in-memory database has nothing on disk to create or delete.
bool is_memory(std::string_view name) { return name == ":memory:"; }

// Logged with the connection's tag when the host passed one.
void log_info(const Connection *conn, const std::string &message) {
    if (conn != nullptr) conn->log(ILANA_LOG_INFO, message);
    else SqliteDriver::log(ILANA_LOG_INFO, message);
}

} // namespace

// Creates the file (and its directories) as an SQLite database; an existing
// database is left as it is, an existing file that is not one is an error.
void SqliteDriver::namespace_create(Connection *conn, std::string_view ns) {
    if (is_memory(ns)) return;
    const std::string path = resolve(conn, ns);
    const fs::path parent = fs::path(path).parent_path();
    if (!parent.empty()) {
        std::error_code ec;
        fs::create_directories(parent, ec);
        if (ec)
            throw DriverFailure(fs_error_class(ec), "cannot create directory '" + parent.string() +
                                                        "' for SQLite database '" + path +
                                                        "': " + ec.message());
    }
    sqlite3 *db = nullptr;
    const std::string where = "cannot create SQLite database '" + path + "'";
    int rc = sqlite3_open_v2(path.c_str(), &db,
                             SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                             nullptr);
    if (rc == SQLITE_OK) {
        sqlite3_extended_result_codes(db, 1);
        sqlite3_busy_timeout(db, 5000);
        // Reading the header proves an existing file is a database.
        rc = sqlite3_exec(db, "PRAGMA schema_version", nullptr, nullptr, nullptr);
    }
    if (rc != SQLITE_OK) {
        DriverFailure f = sqlite_failure(db, rc, Stage::open, where);
        sqlite3_close_v2(db);
        throw f;
    }
    sqlite3_close_v2(db);
    log_info(conn, "created SQLite database '" + path + "'");
}

// Deletes the database file with its journal, WAL and shared-memory files.
// Connections still open on it keep working on the unlinked file until they
// close (POSIX); the host closes a tenant's pool before dropping it.
void SqliteDriver::namespace_drop(Connection *conn, std::string_view ns) {
    if (is_memory(ns)) return;
    const std::string path = resolve(conn, ns);
    for (const char *suffix : {"", "-wal", "-shm", "-journal"}) {
        const std::string file = path + suffix;
        std::error_code ec;
        fs::remove(file, ec); // a missing file is not an error
        if (ec)
            throw DriverFailure(fs_error_class(ec), "cannot delete '" + file +
                                                        "' of SQLite database '" + path +
                                                        "': " + ec.message());
    }
    log_info(conn, "dropped SQLite database '" + path + "'");
}

} // namespace ilana::drivers::sqlite
