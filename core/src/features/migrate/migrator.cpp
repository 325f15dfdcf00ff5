// Migrator: the timeline of a connection's migrations (files and code), the
// migrations table, and the runs (migrate, rollback, repair) under the
// migration lock. See ilana/migrator.hpp for the semantics per database.
#include <ilana/logging.hpp>
#include <ilana/migrator.hpp>

#include "common/text_file.hpp"
#include "db/pool_access.hpp"
#include "migrate/migration_file.hpp"
#include "migrate/migration_table.hpp"
#include "migrate/sha256.hpp"
#include "migrate/sql_splitter.hpp"
#include "plugins/native_connection.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <map>
#include <thread>

namespace ilana {

MigrationError::MigrationError(const std::string &message, ErrorClass cls, std::string connection,
                               std::string migration, std::string file, std::string statement, std::string sqlstate,
                               int32_t native_code)
    : Error(message, cls, std::move(connection), std::move(sqlstate), native_code), migration_(std::move(migration)),
      file_(std::move(file)), statement_(std::move(statement)) {}

const char *to_string(MigrationState state) noexcept {
    switch (state) {
    case MigrationState::applied: return "applied";
    case MigrationState::pending: return "pending";
    case MigrationState::changed: return "changed";
    case MigrationState::missing: return "missing";
    case MigrationState::failed: return "failed";
    case MigrationState::running: return "running";
    }
    return "unknown";
}

namespace detail {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

// A migration known to this runner: a file or a registered code migration.
struct Entry {
    std::string id, name;
    std::string file;     // absolute path; "" for code
    std::string checksum; // SHA-256 of the file, or kCodeChecksum
    std::string text;     // the file's bytes
    bool code = false;
    MigrationFn up, down;

    std::string key() const { return id + "_" + name; }
    // How messages name it: the file, or "code migration <key>".
    std::string label() const { return code ? "code migration " + key() : file; }
};

using Timeline = std::map<std::string, Entry>; // by id

// Whitespace runs (newlines included) become one space; cut at `max`.
std::string one_line(std::string_view s, size_t max) {
    std::string out;
    out.reserve(std::min(s.size(), max + 3));
    bool space = false;
    for (char c : s) {
        if (c == ' ' || c == '\n' || c == '\r' || c == '\t' || c == '\f' || c == '\v') {
            space = !out.empty();
            continue;
        }
        if (space) out += ' ';
        space = false;
        if (out.size() >= max) {
            out += "...";
            return out;
        }
        out += c;
    }
    return out;
}

// The driver's message without the "[conn] query failed: " that
// NativeConnection puts in front.
std::string driver_message(const Error &e, const std::string &connection) {
    std::string m = e.what();
    const std::string prefix = "[" + connection + "] ";
    if (m.compare(0, prefix.size(), prefix) == 0) m.erase(0, prefix.size());
    const std::string op = "query failed: ";
    if (m.compare(0, op.size(), op) == 0) m.erase(0, op.size());
    return one_line(m, 400);
}

SqlDialect split_dialect(const Dialect &d) {
    if (d.dollar_placeholders) return SqlDialect::postgres;
    if (d.identifier_quote == '`') return SqlDialect::mysql;
    return SqlDialect::generic;
}

std::string read_file(const std::string &path, const std::string &connection) {
    try {
        return read_text_file(path, kSqlFileLimit, "migration file");
    } catch (const TextFileError &e) {
        throw MigrationError("[" + connection + "] " + e.what(), ErrorClass::config, connection, {}, path);
    }
}

// Sections of an entry, parsed and split. Throws MigrationError naming the file.
struct Parsed {
    MigrationSection up, down;
    std::vector<SqlStatement> up_statements, down_statements;
};

Parsed parse_entry(const Entry &e, SqlDialect dialect, const std::string &connection) {
    Parsed p;
    try {
        MigrationText t = parse_migration_text(e.text, dialect);
        p.up = std::move(t.up);
        p.down = std::move(t.down);
    } catch (const MigrationFileError &err) {
        throw MigrationError("[" + connection + "] migration file " + e.file + ": " + err.what(), ErrorClass::syntax,
                             connection, e.key(), e.file);
    }
    auto split = [&](const MigrationSection &s, const char *which) {
        try {
            return split_sql(s.sql, dialect, s.first_line);
        } catch (const SqlSplitError &err) {
            throw MigrationError("[" + connection + "] migration file " + e.file + " (" + which + " section): " +
                                     err.what(),
                                 ErrorClass::syntax, connection, e.key(), e.file);
        }
    };
    p.up_statements = split(p.up, "up");
    if (p.down.present) p.down_statements = split(p.down, "down");
    return p;
}

// 14 digits of a UTC time.
std::string id_of_time(std::time_t t) {
    std::tm tm{};
    gmtime_r(&t, &tm);
    char buf[32];
    std::snprintf(buf, sizeof buf, "%04d%02d%02d%02d%02d%02d", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
                  tm.tm_min, tm.tm_sec);
    return buf;
}

int64_t elapsed_ms(Clock::time_point start) {
    return std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start).count();
}

} // namespace
} // namespace detail

using detail::Entry;
using detail::MigrationLock;
using detail::MigrationRecord;
using detail::MigrationTable;
using detail::Parsed;
using detail::SqlStatement;
using detail::Timeline;
namespace fs = std::filesystem;

struct Migrator::Impl {
    Database db;
    Connection conn;
    MigrationsOptions options;
    std::map<std::string, Entry> code; // registered code migrations, by id

    const std::string &name() const { return conn.name(); }
    std::string prefix() const { return "[" + conn.name() + "] "; }
    detail::SqlDialect dialect() const { return detail::split_dialect(conn.dialect()); }

    std::string lock_name() const {
        return "ilana_migrate:" + (options.schema_name.empty() ? std::string() : options.schema_name + ".") +
               options.table_name;
    }

    MigrationError error(const std::string &message, const Entry *e = nullptr, ErrorClass cls = ErrorClass::internal,
                         const std::string &statement = {}) const {
        return MigrationError(prefix() + message, cls, name(), e ? e->key() : std::string(),
                              e ? e->file : std::string(), statement);
    }

    // Files of the directory and code migrations, by id, from their names
    // alone: a file's text and checksum are left empty (timeline() reads
    // them). A near miss (a file meant as a migration but misnamed) is a
    // ConfigError naming every one, since ignoring it would skip a
    // migration; with `strays` given (status, stray_files) they are
    // collected there instead, together with the other files that are not
    // migrations.
    Timeline named_entries(std::vector<StrayFile> *strays = nullptr) const {
        Timeline out;
        const std::string &dir = options.directory;
        std::error_code ec;
        std::vector<StrayFile> near_misses;
        if (!dir.empty() && fs::exists(dir, ec)) {
            if (!fs::is_directory(dir, ec))
                throw error("the migrations directory " + dir + " is not a directory", nullptr, ErrorClass::config);
            // Directory order is arbitrary: sort, so messages and status list files the same way every time.
            std::vector<fs::directory_entry> entries(fs::directory_iterator(dir), fs::directory_iterator{});
            std::sort(entries.begin(), entries.end(),
                      [](const fs::directory_entry &a, const fs::directory_entry &b) { return a.path() < b.path(); });
            for (const auto &de : entries) {
                const std::string fname = de.path().filename().string();
                const std::string path = de.path().string();
                if (de.is_directory(ec)) {
                    if (strays) strays->push_back(StrayFile{path, false, "a directory: migrations are not read from subdirectories"});
                    continue;
                }
                const detail::ClassifiedFileName c = detail::classify_migration_file_name(fname);
                if (c.kind == detail::FileNameKind::other) {
                    if (strays) strays->push_back(StrayFile{path, false, "not a migration (not named YYYYMMDDHHMMSS_name.sql)"});
                    continue;
                }
                if (c.kind == detail::FileNameKind::near_miss) {
                    near_misses.push_back(StrayFile{path, true, c.problem});
                    if (strays) strays->push_back(near_misses.back());
                    continue;
                }
                Entry e;
                e.id = c.migration.id;
                e.name = c.migration.name;
                e.file = path;
                auto it = out.find(e.id);
                if (it != out.end())
                    throw error("two migrations have the id " + e.id + ": " + it->second.file + " and " + e.file +
                                    ": give one of them another timestamp",
                                nullptr, ErrorClass::config);
                out.emplace(e.id, std::move(e));
            }
        }
        if (!near_misses.empty() && strays == nullptr) {
            std::string message = prefix();
            for (size_t i = 0; i < near_misses.size(); ++i)
                message += (i == 0 ? "" : "; ") + std::string("migration file ") + near_misses[i].file +
                           " is not named YYYYMMDDHHMMSS_name.sql: " + near_misses[i].problem;
            throw ConfigError(message, near_misses.front().file);
        }
        for (const auto &kv : code) {
            auto it = out.find(kv.first);
            if (it != out.end())
                throw error("code migration " + kv.second.key() + " has the same id as " + it->second.file, nullptr,
                            ErrorClass::config);
            out.emplace(kv.first, kv.second);
        }
        return out;
    }

    // named_entries() with each file's text and checksum.
    Timeline timeline(std::vector<StrayFile> *strays = nullptr) const {
        Timeline out = named_entries(strays);
        for (auto &kv : out) {
            Entry &e = kv.second;
            if (e.code) continue;
            e.text = detail::read_file(e.file, name());
            e.checksum = detail::sha256_hex(e.text);
        }
        return out;
    }

    // Refuses to go on past a failed or running row, or a changed file.
    void check(const std::vector<MigrationRecord> &records, const Timeline &tl, bool allow_changed) const {
        for (const auto &r : records) {
            if (r.status == detail::kStatusApplied) continue;
            auto it = tl.find(r.id);
            const std::string label = it != tl.end() ? it->second.label() : r.id + "_" + r.name;
            const std::string what = r.status == detail::kStatusRunning
                                         ? " was left unfinished (status running: its runner stopped mid-migration)"
                                         : " failed";
            throw MigrationError(prefix() + "migration " + label + what +
                                     (r.failed_statement.empty() ? std::string()
                                                                 : " at statement: " + detail::one_line(r.failed_statement, 200)) +
                                     "; it may be partly applied: fix the database by hand, then run `ilana "
                                     "migrate:repair` (the migration then runs again; --mark-applied if you "
                                     "completed it by hand)",
                                 ErrorClass::internal, name(), r.id + "_" + r.name,
                                 it != tl.end() ? it->second.file : std::string(), r.failed_statement);
        }
        if (allow_changed) return;
        for (const auto &r : records) {
            auto it = tl.find(r.id);
            if (it == tl.end() || r.checksum == it->second.checksum) continue;
            const Entry &e = it->second;
            if (e.code || r.checksum == detail::kCodeChecksum)
                throw error("migration " + r.id + " was applied as " +
                                (r.checksum == detail::kCodeChecksum ? "a code migration" : "a file") + " but is now " +
                                (e.code ? "a code migration" : "the file " + e.file),
                            &e, ErrorClass::config);
            throw error("migration file " + e.file + " was changed after it was applied (checksum recorded " +
                            r.checksum.substr(0, 12) + "..., now " + e.checksum.substr(0, 12) +
                            "...): restore it, or run with --allow-changed, or record the new checksum with "
                            "`ilana migrate:repair --update-checksums`",
                        &e, ErrorClass::config);
        }
    }

    // Reads the rows; on a database whose lock is a transaction, waits while
    // another runner has a code (or transaction:false) migration running
    // outside the lock.
    std::vector<MigrationRecord> read_settled(MigrationTable &table, MigrationLock &lock, int timeout_ms) const {
        const auto start = detail::Clock::now();
        for (;;) {
            std::vector<MigrationRecord> records = table.read();
            const MigrationRecord *running = nullptr;
            for (const auto &r : records)
                if (r.status == detail::kStatusRunning) running = &r;
            if (running == nullptr || !lock.is_transaction()) return records;
            if (timeout_ms >= 0 && detail::elapsed_ms(start) >= timeout_ms)
                throw MigrationError(prefix() + "migration " + running->id + "_" + running->name +
                                         " has been marked running since " + running->applied_at +
                                         ": another runner is applying it, or one died doing so; if none is "
                                         "running, check what it did and run `ilana migrate:repair`",
                                     ErrorClass::timeout, name(), running->id + "_" + running->name);
            lock.release();
            std::this_thread::sleep_for(std::chrono::milliseconds(100));
            lock.acquire();
        }
    }

    // ---- running one step ------------------------------------------------

    struct Step {
        Session &s;
        MigrationTable &table;
        MigrationLock &lock;
    };

    void exec_raw(Session &s, const std::string &sql) const {
        detail::NativeConnection &nc = detail::native(s);
        ilana::logger()->debug("conn={} migrate: {}", name(), detail::one_line(sql, 200));
        detail::NativeResult r = nc.execute(sql, nullptr, 0, 0);
        r.close();
    }

    [[noreturn]] void statement_failed(const Entry &e, const SqlStatement &st, const Error &err, const char *direction,
                                       const std::string &outcome) const {
        throw MigrationError(prefix() + "migration " + e.file + " (" + direction + ") failed at line " +
                                 std::to_string(st.line) + ": " + detail::one_line(st.text, 200) + ": " +
                                 detail::driver_message(err, name()) + "; " + outcome,
                             err.error_class(), name(), e.key(), e.file, st.text, err.sqlstate(), err.native_code());
    }

    // Statements (or code) inside a transaction (or savepoint) together with
    // `record` (the bookkeeping change).
    void run_in_transaction(Step &step, const Entry &e, const std::vector<SqlStatement> &statements,
                            const char *direction, const std::function<void()> &record) const {
        const bool savepoint = step.lock.is_transaction();
        if (savepoint)
            step.s.execute("SAVEPOINT ilana_migration");
        else
            step.s.begin();
        auto undo = [&] {
            try {
                if (savepoint) {
                    step.s.execute("ROLLBACK TO SAVEPOINT ilana_migration");
                    step.s.execute("RELEASE SAVEPOINT ilana_migration");
                } else {
                    step.s.rollback();
                }
            } catch (const std::exception &x) {
                ilana::logger()->warn("conn={} rolling back migration {} failed: {}", name(), e.key(), x.what());
            }
        };
        for (const auto &st : statements) {
            try {
                exec_raw(step.s, st.text);
            } catch (const Error &err) {
                undo();
                statement_failed(e, st, err, direction, "the migration was rolled back");
            }
        }
        try {
            record();
            if (savepoint)
                step.s.execute("RELEASE SAVEPOINT ilana_migration");
            else
                step.s.commit();
        } catch (...) {
            undo();
            throw;
        }
    }

    // A step outside any transaction: marked "running" first, then the work
    // (the lock released meanwhile when it is a transaction), then `done`;
    // a failure marks the row "failed" with the statement.
    void run_outside(Step &step, const Entry &e, const std::vector<SqlStatement> &statements, bool up,
                     const MigrationFn &fn, int64_t batch, const std::function<void()> &done) const {
        const std::string marker = up ? "" : "[down] ";
        if (up)
            step.table.insert(MigrationRecord{e.id, e.name, e.checksum, detail::utc_now_iso(), detail::kStatusRunning,
                                              "", batch});
        else
            step.table.set_status(e.id, detail::kStatusRunning, "[down]", detail::utc_now_iso());
        const bool unlocked = step.lock.is_transaction();
        if (unlocked) step.lock.release();
        auto mark_failed = [&](const std::string &what) {
            try {
                if (unlocked) step.lock.acquire();
                step.table.set_status(e.id, detail::kStatusFailed, what, detail::utc_now_iso());
            } catch (const std::exception &x) {
                ilana::logger()->error("conn={} could not record migration {} as failed: {}", name(), e.key(), x.what());
            }
        };
        const char *direction = up ? "up" : "down";
        if (e.code) {
            try {
                Database handle = db;
                fn(handle);
            } catch (const std::exception &x) {
                mark_failed(marker + "code migration threw: " + x.what());
                throw MigrationError(prefix() + e.label() + " (" + direction + ") threw: " + detail::one_line(x.what(), 400) +
                                         "; it ran outside a transaction and is recorded as failed: fix the database "
                                         "by hand, then run `ilana migrate:repair`",
                                     ErrorClass::internal, name(), e.key());
            } catch (...) {
                mark_failed(marker + "code migration threw an unknown exception");
                throw MigrationError(prefix() + e.label() + " (" + direction +
                                         ") threw an unknown exception; recorded as failed",
                                     ErrorClass::internal, name(), e.key());
            }
        } else {
            for (const auto &st : statements) {
                try {
                    exec_raw(step.s, st.text);
                } catch (const Error &err) {
                    mark_failed(marker + st.text.substr(0, 4000));
                    statement_failed(e, st, err, direction,
                                     "statements before it in this migration took effect (no transactional DDL "
                                     "here); it is recorded as failed: fix the database by hand, then run `ilana "
                                     "migrate:repair`");
                }
            }
        }
        if (unlocked) step.lock.acquire();
        done();
    }
};

// ---- Migrator ----------------------------------------------------------------

Migrator::Migrator(Database db, std::string_view connection) {
    Connection c = db.on(connection); // ConfigError for an unknown name
    const ConnectionConfig *cc = db.config().find(std::string(connection));
    MigrationsOptions options = cc != nullptr ? cc->migrations : MigrationsOptions{};
    impl_ = std::make_shared<Impl>(Impl{std::move(db), std::move(c), std::move(options), {}});
}

Migrator::Migrator(Database db, Connection connection, MigrationsOptions options)
    : impl_(std::make_shared<Impl>(Impl{std::move(db), std::move(connection), std::move(options), {}})) {}

const std::string &Migrator::connection_name() const noexcept { return impl_->conn.name(); }
const MigrationsOptions &Migrator::options() const noexcept { return impl_->options; }

Migrator &Migrator::add(std::string_view id_and_name, MigrationFn up, MigrationFn down) {
    auto parsed = detail::parse_migration_id(id_and_name);
    if (!parsed)
        throw impl_->error("code migration id '" + std::string(id_and_name) +
                               "' is not YYYYMMDDHHMMSS_name (a UTC date and time, '_', letters, digits, '_' or '-'): " +
                               detail::migration_id_problem(id_and_name),
                           nullptr, ErrorClass::config);
    if (!up) throw impl_->error("code migration " + std::string(id_and_name) + " has no up function", nullptr, ErrorClass::config);
    if (impl_->code.count(parsed->id) != 0)
        throw impl_->error("code migration id " + parsed->id + " is registered twice", nullptr, ErrorClass::config);
    Entry e;
    e.id = parsed->id;
    e.name = parsed->name;
    e.code = true;
    e.checksum = detail::kCodeChecksum;
    e.up = std::move(up);
    e.down = std::move(down);
    impl_->code.emplace(e.id, std::move(e));
    return *this;
}

MigrateReport Migrator::migrate(const MigrateOptions &options) {
    Impl &m = *impl_;
    Timeline tl = m.timeline();
    MigrateReport report;
    // No migrations here (no directory, nothing registered): leave the
    // database alone; `migrate --all` passes read-only connections this way.
    if (tl.empty()) return report;
    const detail::SqlDialect dialect = m.dialect(); // may connect (a dialect per connection)

    Session s = m.conn.acquire();
    MigrationTable table(s, m.options);

    auto plan = [&](const std::vector<MigrationRecord> &records) {
        std::map<std::string, const MigrationRecord *> recorded;
        for (const auto &r : records) recorded.emplace(r.id, &r);
        std::vector<std::pair<const Entry *, Parsed>> pending;
        for (const auto &kv : tl) {
            if (recorded.count(kv.first) != 0) continue;
            Parsed p;
            if (!kv.second.code) p = detail::parse_entry(kv.second, dialect, m.name()); // all checked before any runs
            pending.emplace_back(&kv.second, std::move(p));
        }
        return pending;
    };
    auto next_batch = [](const std::vector<MigrationRecord> &records) {
        int64_t b = 0;
        for (const auto &r : records) b = std::max(b, r.batch);
        return b + 1;
    };

    if (options.dry_run) {
        std::vector<MigrationRecord> records;
        if (table.exists()) records = table.read();
        m.check(records, tl, options.allow_changed);
        auto pending = plan(records);
        if (!pending.empty()) report.batch = next_batch(records);
        for (auto &pe : pending) {
            PlannedMigration pm;
            pm.id = pe.first->id;
            pm.name = pe.first->name;
            pm.file = pe.first->file;
            pm.code = pe.first->code;
            pm.transaction = !pm.code && pe.second.up.transaction && m.conn.dialect().transactional_ddl;
            for (auto &st : pe.second.up_statements) pm.statements.push_back(std::move(st.text));
            report.planned.push_back(std::move(pm));
        }
        return report;
    }

    MigrationLock lock(s, m.lock_name(), options.lock_timeout_ms);
    table.ensure();
    std::vector<MigrationRecord> records = m.read_settled(table, lock, options.lock_timeout_ms);
    m.check(records, tl, options.allow_changed);
    auto pending = plan(records);
    if (pending.empty()) {
        lock.release();
        return report;
    }
    const int64_t batch = next_batch(records);
    report.batch = batch;
    Impl::Step step{s, table, lock};
    for (auto &pe : pending) {
        const Entry &e = *pe.first;
        const auto start = detail::Clock::now();
        ilana::logger()->info("conn={} migrating {}", m.name(), e.key());
        const bool transactional = !e.code && pe.second.up.transaction &&
                                   (lock.is_transaction() || m.conn.dialect().transactional_ddl);
        if (transactional) {
            m.run_in_transaction(step, e, pe.second.up_statements, "up", [&] {
                table.insert(MigrationRecord{e.id, e.name, e.checksum, detail::utc_now_iso(), detail::kStatusApplied,
                                             "", batch});
            });
        } else {
            m.run_outside(step, e, pe.second.up_statements, true, e.up, batch, [&] {
                table.set_status(e.id, detail::kStatusApplied, "", detail::utc_now_iso());
            });
        }
        AppliedMigration am{e.id, e.name, detail::elapsed_ms(start)};
        report.applied.push_back(am);
        if (options.on_applied) options.on_applied(am);
    }
    lock.release();
    return report;
}

std::vector<MigrationStatus> Migrator::status() const {
    const Impl &m = *impl_;
    std::vector<StrayFile> strays; // listed by stray_files(); status() shows what is there
    Timeline tl = m.timeline(&strays);
    std::vector<MigrationRecord> records;
    {
        Session s = m.conn.acquire();
        MigrationTable table(s, m.options);
        if (table.exists()) records = table.read();
    }
    std::map<std::string, MigrationStatus> out;
    for (const auto &kv : tl) {
        MigrationStatus st;
        st.id = kv.second.id;
        st.name = kv.second.name;
        st.state = MigrationState::pending;
        st.checksum = kv.second.checksum;
        st.file = kv.second.file;
        st.code = kv.second.code;
        out.emplace(st.id, std::move(st));
    }
    for (const auto &r : records) {
        auto it = out.find(r.id);
        MigrationStatus &st = out[r.id];
        const bool known = it != out.end() && (tl.count(r.id) != 0);
        if (!known) {
            st.id = r.id;
            st.name = r.name;
            st.code = r.checksum == detail::kCodeChecksum;
        }
        st.batch = r.batch;
        st.applied_at = r.applied_at;
        const std::string file_checksum = st.checksum;
        st.checksum = r.checksum;
        st.failed_statement = r.failed_statement;
        if (r.status == detail::kStatusFailed)
            st.state = MigrationState::failed;
        else if (r.status == detail::kStatusRunning)
            st.state = MigrationState::running;
        else if (!known)
            st.state = MigrationState::missing;
        else if (file_checksum != r.checksum)
            st.state = MigrationState::changed;
        else
            st.state = MigrationState::applied;
    }
    std::vector<MigrationStatus> list;
    list.reserve(out.size());
    for (auto &kv : out) list.push_back(std::move(kv.second));
    return list;
}

RollbackReport Migrator::rollback(const RollbackOptions &options) {
    Impl &m = *impl_;
    Timeline tl = m.timeline();
    const detail::SqlDialect dialect = m.dialect();
    RollbackReport report;

    Session s = m.conn.acquire();
    MigrationTable table(s, m.options);
    MigrationLock lock(s, m.lock_name(), options.lock_timeout_ms);
    if (!table.exists()) {
        lock.release();
        return report;
    }
    std::vector<MigrationRecord> records = m.read_settled(table, lock, options.lock_timeout_ms);
    m.check(records, tl, true);

    std::vector<const MigrationRecord *> applied;
    for (const auto &r : records) applied.push_back(&r);
    std::sort(applied.begin(), applied.end(), [](const MigrationRecord *a, const MigrationRecord *b) {
        return a->batch != b->batch ? a->batch > b->batch : a->id > b->id;
    });
    std::vector<const MigrationRecord *> targets;
    if (options.steps > 0) {
        for (size_t i = 0; i < applied.size() && static_cast<int>(i) < options.steps; ++i) targets.push_back(applied[i]);
    } else if (!applied.empty()) {
        for (const auto *r : applied)
            if (r->batch == applied.front()->batch) targets.push_back(r);
    }

    // Everything is checked before anything is undone.
    std::vector<std::pair<const Entry *, Parsed>> steps;
    for (const auto *r : targets) {
        auto it = tl.find(r->id);
        if (it == tl.end())
            throw m.error("cannot roll back migration " + r->id + "_" + r->name + ": " +
                              (r->checksum == detail::kCodeChecksum
                                   ? std::string("it is a code migration that is not registered here")
                                   : "its file is not in " + m.options.directory),
                          nullptr, ErrorClass::config);
        const Entry &e = it->second;
        if (!options.allow_changed && !e.code && r->checksum != e.checksum)
            throw m.error("migration file " + e.file +
                              " was changed after it was applied; its down section may not undo what was applied "
                              "(use --allow-changed to roll back anyway)",
                          &e, ErrorClass::config);
        Parsed p;
        if (e.code) {
            if (!e.down) throw m.error(e.label() + " has no down function: it cannot be rolled back", &e, ErrorClass::config);
        } else {
            p = detail::parse_entry(e, dialect, m.name());
            if (p.down_statements.empty())
                throw m.error("migration file " + e.file +
                                  " has no statements under `-- migrate:down`: it cannot be rolled back",
                              &e, ErrorClass::config);
        }
        steps.emplace_back(&e, std::move(p));
    }

    Impl::Step step{s, table, lock};
    for (auto &st : steps) {
        const Entry &e = *st.first;
        const auto start = detail::Clock::now();
        ilana::logger()->info("conn={} rolling back {}", m.name(), e.key());
        const bool transactional = !e.code && st.second.down.transaction &&
                                   (lock.is_transaction() || m.conn.dialect().transactional_ddl);
        if (transactional)
            m.run_in_transaction(step, e, st.second.down_statements, "down", [&] { table.remove(e.id); });
        else
            m.run_outside(step, e, st.second.down_statements, false, e.down, 0, [&] { table.remove(e.id); });
        AppliedMigration am{e.id, e.name, detail::elapsed_ms(start)};
        report.rolled_back.push_back(am);
        if (options.on_rolled_back) options.on_rolled_back(am);
    }
    lock.release();
    return report;
}

RepairReport Migrator::repair(const RepairOptions &options) {
    Impl &m = *impl_;
    Timeline tl = m.timeline();
    RepairReport report;
    Session s = m.conn.acquire();
    MigrationTable table(s, m.options);
    MigrationLock lock(s, m.lock_name(), options.lock_timeout_ms);
    if (!table.exists()) {
        lock.release();
        return report;
    }
    for (const auto &r : table.read()) {
        const std::string key = r.id + "_" + r.name;
        if (r.status != detail::kStatusApplied) {
            if (options.mark_applied) {
                table.set_status(r.id, detail::kStatusApplied, "", detail::utc_now_iso());
                ilana::logger()->info("conn={} repair: migration {} marked applied", m.name(), key);
            } else {
                table.remove(r.id);
                ilana::logger()->info("conn={} repair: failed mark of {} cleared (pending again)", m.name(), key);
            }
            report.cleared.push_back(key);
            continue;
        }
        auto it = tl.find(r.id);
        if (options.update_checksums && it != tl.end() && !it->second.code && r.checksum != it->second.checksum) {
            table.set_checksum(r.id, it->second.checksum);
            report.checksums_updated.push_back(key);
        }
    }
    lock.release();
    return report;
}

std::vector<StrayFile> Migrator::stray_files() const {
    std::vector<StrayFile> strays;
    impl_->named_entries(&strays); // names only: no file is read
    return strays;
}

std::string Migrator::make(std::string_view name) const {
    const Impl &m = *impl_;
    if (!detail::valid_migration_name(name))
        throw m.error("'" + std::string(name) + "' is not a migration name: use letters, digits, '_' and '-'", nullptr,
                      ErrorClass::config);
    const std::string &dir = m.options.directory;
    if (dir.empty()) throw m.error("no migrations directory is configured", nullptr, ErrorClass::config);
    std::error_code ec;
    fs::create_directories(dir, ec);
    if (ec)
        throw m.error("cannot create the migrations directory " + dir + ": " + ec.message(), nullptr,
                      ErrorClass::config);
    Timeline tl = m.named_entries(); // the ids taken; no file needs reading
    std::time_t t = std::time(nullptr);
    for (int attempt = 0; attempt < 1000; ++attempt, ++t) {
        const std::string id = detail::id_of_time(t);
        if (tl.count(id) != 0) continue;
        const std::string path = (fs::path(dir) / (id + "_" + std::string(name) + ".sql")).string();
        FILE *f = std::fopen(path.c_str(), "wx"); // exclusive: never overwrite
        if (f == nullptr) {
            if (errno == EEXIST) continue;
            throw m.error("cannot create " + path + ": " + std::strerror(errno), nullptr, ErrorClass::config);
        }
        static const char kTemplate[] = "-- migrate:up\n\n\n-- migrate:down\n\n";
        const bool ok = std::fwrite(kTemplate, 1, sizeof kTemplate - 1, f) == sizeof kTemplate - 1;
        if (std::fclose(f) != 0 || !ok) throw m.error("cannot write " + path, nullptr, ErrorClass::config);
        return path;
    }
    throw m.error("no free migration id near now in " + dir, nullptr, ErrorClass::config);
}

} // namespace ilana
