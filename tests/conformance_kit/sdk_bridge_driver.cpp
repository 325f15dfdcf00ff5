// sdk_bridge_driver.cpp — a test driver written with the SDK that stands for
// a bridge (ODBC-style) to several kinds of database: which SQL dialect a
// connection speaks is decided when it connects, by the parameter `speaks`,
// and reported through "ilana.conn_dialect/1" (ABI 1.3). Client
// "sdk-bridge". Every connection forwards to an SQLite database (parameter
// `filename`), which reads both quoting styles and `$n` as well as `?`, so
// the driver itself holds each connection to its dialect: a statement
// written in another one (a `?` where `$n` is spoken, a `"` identifier where
// backquotes are) is ILANA_ERR_SYNTAX, as the real server would answer.
//
//   speaks      placeholders  identifiers  upsert       RETURNING
//   (absent)    ?             "            ON CONFLICT  yes   the descriptor's (dialect_of NULL)
//   postgres    $1, $2, ...   "            ON CONFLICT  yes
//   mysql       ?             `            none         no
//   broken      a dialect whose struct_size (8) is too small: the host
//               must refuse the connection (a driver bug, for tests)
//
// Transactions, a process-wide named lock (ilana.lock/1), no introspection.
// Not an example to copy: the dialect check is a scan for tests only.
#include <ilana/sdk/driver.hpp>

#include <sqlite3.h>

#include <condition_variable>
#include <mutex>
#include <set>
#include <string>
#include <vector>

namespace bridge {

using ilana::sdk::Cell;
using ilana::sdk::DriverFailure;

constexpr ilana_dialect kDriverDialect = {sizeof(ilana_dialect), ILANA_PLACEHOLDER_QUESTION, '"', {0, 0, 0},
                                          ILANA_LIMIT_LIMIT_OFFSET, ILANA_UPSERT_ON_CONFLICT, 1, 999};
constexpr ilana_dialect kPostgresDialect = {sizeof(ilana_dialect), ILANA_PLACEHOLDER_DOLLAR, '"', {0, 0, 0},
                                            ILANA_LIMIT_LIMIT_OFFSET, ILANA_UPSERT_ON_CONFLICT, 1, 999};
constexpr ilana_dialect kMysqlDialect = {sizeof(ilana_dialect), ILANA_PLACEHOLDER_QUESTION, '`', {0, 0, 0},
                                         ILANA_LIMIT_LIMIT_OFFSET, ILANA_UPSERT_NONE, 0, 999};
constexpr ilana_dialect kBrokenDialect = {8, ILANA_PLACEHOLDER_QUESTION, '"', {0, 0, 0},
                                          ILANA_LIMIT_LIMIT_OFFSET, ILANA_UPSERT_NONE, 0, 999};

std::mutex g_lock_mu;
std::condition_variable g_lock_cv;
std::set<std::string> g_locks;

ilana_error_class class_of(int code) {
    switch (code & 0xff) {
    case SQLITE_ERROR: return ILANA_ERR_SYNTAX;
    case SQLITE_CONSTRAINT: return ILANA_ERR_CONSTRAINT;
    case SQLITE_BUSY:
    case SQLITE_LOCKED: return ILANA_ERR_TRANSIENT;
    case SQLITE_CANTOPEN: return ILANA_ERR_CONNECTION;
    default: return ILANA_ERR_INTERNAL;
    }
}

class BridgeConnection : public ilana::sdk::Connection {
public:
    BridgeConnection(sqlite3 *db, const ilana_dialect *speaks) : db_(db), speaks_(speaks) {}
    ~BridgeConnection() override { sqlite3_close_v2(db_); }

    // "ilana.conn_dialect/1": nullptr means the descriptor's dialect.
    const ilana_dialect *dialect() const { return speaks_; }

    std::unique_ptr<ilana::sdk::Result> execute(const ilana::sdk::Statement &s) {
        check_dialect(s.sql);
        sqlite3_stmt *st = nullptr;
        const char *tail = nullptr;
        if (sqlite3_prepare_v2(db_, s.sql.data(), static_cast<int>(s.sql.size()), &st, &tail) != SQLITE_OK)
            fail();
        std::unique_ptr<sqlite3_stmt, int (*)(sqlite3_stmt *)> owned(st, sqlite3_finalize);
        auto out = std::make_unique<ilana::sdk::RowsResult>();
        if (st == nullptr) return out; // only a comment
        if (static_cast<uint32_t>(sqlite3_bind_parameter_count(st)) != s.params.size())
            throw DriverFailure(ILANA_ERR_SYNTAX,
                                "the statement has " + std::to_string(sqlite3_bind_parameter_count(st)) +
                                    " placeholders, " + std::to_string(s.params.size()) + " parameters were given",
                                "", 0, ILANA_ERRF_NOT_SENT);
        for (uint32_t i = 0; i < s.params.size(); ++i) bind(st, static_cast<int>(i + 1), s.params[i]);
        const int columns = sqlite3_column_count(st);
        for (int c = 0; c < columns; ++c) out->add_column(sqlite3_column_name(st, c), ILANA_TYPE_ANY);
        int rc;
        while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
            std::vector<Cell> row;
            for (int c = 0; c < columns; ++c) row.push_back(cell(st, c));
            out->add_row(std::move(row));
        }
        if (rc != SQLITE_DONE) fail();
        out->set_affected_rows(columns == 0 ? sqlite3_changes(db_) : -1);
        out->set_last_insert_id(sqlite3_last_insert_rowid(db_));
        return out;
    }
    void begin() { run("BEGIN"); }
    void commit() { run("COMMIT"); }
    void rollback() { run("ROLLBACK"); }
    void lock_acquire(std::string_view name, int32_t timeout_ms) {
        std::unique_lock<std::mutex> lock(g_lock_mu);
        const auto free = [&] { return g_locks.count(std::string(name)) == 0; };
        if (!g_lock_cv.wait_for(lock, std::chrono::milliseconds(std::max(timeout_ms, 0)), free))
            throw DriverFailure(ILANA_ERR_TIMEOUT, "lock '" + std::string(name) + "' is held elsewhere");
        g_locks.insert(std::string(name));
    }
    void lock_release(std::string_view name) {
        std::lock_guard<std::mutex> lock(g_lock_mu);
        g_locks.erase(std::string(name));
        g_lock_cv.notify_all();
    }

private:
    // What the server this connection "reaches" would refuse: placeholders
    // and quoted identifiers of another dialect (string literals skipped).
    void check_dialect(std::string_view sql) const {
        const ilana_dialect &d = speaks_ != nullptr ? *speaks_ : kDriverDialect;
        const char foreign_quote = d.identifier_quote == '`' ? '"' : '`';
        for (size_t i = 0; i < sql.size(); ++i) {
            const char c = sql[i];
            if (c == '\'') {
                const size_t end = sql.find('\'', i + 1);
                if (end == std::string_view::npos) break;
                i = end;
            } else if (c == foreign_quote) {
                refuse(sql, std::string("identifiers are quoted with ") + d.identifier_quote + " here, not " + c);
            } else if (c == '?' && d.placeholder == ILANA_PLACEHOLDER_DOLLAR) {
                refuse(sql, "placeholders are $1, $2, ... here, not ?");
            } else if (c == '$' && i + 1 < sql.size() && sql[i + 1] >= '0' && sql[i + 1] <= '9' &&
                       d.placeholder == ILANA_PLACEHOLDER_QUESTION) {
                refuse(sql, "placeholders are ? here, not $n");
            }
        }
    }
    [[noreturn]] static void refuse(std::string_view sql, const std::string &why) {
        throw DriverFailure(ILANA_ERR_SYNTAX, "not this server's dialect: " + why + ": " +
                                                  std::string(sql.substr(0, 120)),
                            "42601", 0, ILANA_ERRF_NOT_SENT);
    }
    void bind(sqlite3_stmt *st, int i, const ilana::sdk::Param &p) {
        int rc;
        if (p.is_null()) {
            rc = sqlite3_bind_null(st, i);
        } else {
            switch (p.type()) {
            case ILANA_TYPE_BOOL:
            case ILANA_TYPE_INT64:
            case ILANA_TYPE_UINT64: rc = sqlite3_bind_int64(st, i, p.as_int64()); break;
            case ILANA_TYPE_DOUBLE: rc = sqlite3_bind_double(st, i, p.as_double()); break;
            case ILANA_TYPE_BLOB: {
                const std::string_view b = p.bytes();
                rc = sqlite3_bind_blob64(st, i, b.data(), b.size(), SQLITE_TRANSIENT);
                break;
            }
            default: {
                const std::string text = p.to_text();
                rc = sqlite3_bind_text64(st, i, text.data(), text.size(), SQLITE_TRANSIENT, SQLITE_UTF8);
            }
            }
        }
        if (rc != SQLITE_OK) fail();
    }
    static Cell cell(sqlite3_stmt *st, int c) {
        switch (sqlite3_column_type(st, c)) {
        case SQLITE_INTEGER: return Cell::int64(sqlite3_column_int64(st, c));
        case SQLITE_FLOAT: return Cell::real(sqlite3_column_double(st, c));
        case SQLITE_TEXT:
            return Cell::text(std::string(reinterpret_cast<const char *>(sqlite3_column_text(st, c)),
                                          static_cast<size_t>(sqlite3_column_bytes(st, c))));
        case SQLITE_BLOB: {
            const auto *b = static_cast<const char *>(sqlite3_column_blob(st, c));
            return Cell::blob(std::string(b != nullptr ? b : "", static_cast<size_t>(sqlite3_column_bytes(st, c))));
        }
        default: return Cell::make_null();
        }
    }
    void run(const char *sql) {
        if (sqlite3_exec(db_, sql, nullptr, nullptr, nullptr) != SQLITE_OK) fail();
    }
    [[noreturn]] void fail() const {
        const int code = sqlite3_extended_errcode(db_);
        throw DriverFailure(class_of(code), sqlite3_errmsg(db_), "", code);
    }

    sqlite3 *db_;
    const ilana_dialect *speaks_;
};

struct BridgeDriver : ilana::sdk::Driver<BridgeDriver, BridgeConnection> {
    static constexpr const char *id = "org.ilana.test.sdk-bridge";
    static constexpr const char *name = "SDK bridge test driver";
    static constexpr const char *version = "0.0.1";
    static constexpr const char *clients[] = {"sdk-bridge"};
    static constexpr uint64_t capabilities = ILANA_CAP_TRANSACTIONS | ILANA_CAP_TRANSACTIONAL_DDL;
    static constexpr ilana_dialect dialect = kDriverDialect;
    static constexpr uint32_t lock_flags = 0;

    static constexpr const char *kDialects[] = {"postgres", "mysql", "broken", nullptr};
    static constexpr ilana_param_decl params[] = {
        ilana::sdk::required(ilana::sdk::param_string("filename", "the SQLite file every connection forwards to")),
        ilana::sdk::param_enum("speaks", "the dialect of the server this connection stands for (absent: the "
                                         "driver's own)",
                               kDialects, nullptr),
    };

    static std::unique_ptr<BridgeConnection> connect(ilana::sdk::ConnectParams &settings) {
        const std::string file = settings.resolve_path(settings.get("filename").value_or(""));
        const std::string speaks = settings.get("speaks").value_or("");
        settings.finish(name);
        const ilana_dialect *d = speaks.empty()        ? nullptr
                                 : speaks == "postgres" ? &kPostgresDialect
                                 : speaks == "mysql"    ? &kMysqlDialect
                                 : speaks == "broken"   ? &kBrokenDialect
                                                        : throw DriverFailure(ILANA_ERR_CONFIG,
                                                                              "speaks: unknown dialect '" + speaks +
                                                                                  "' (postgres or mysql)");
        sqlite3 *db = nullptr;
        const int rc = sqlite3_open_v2(file.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nullptr);
        if (rc != SQLITE_OK) {
            const std::string message = db != nullptr ? sqlite3_errmsg(db) : "out of memory";
            sqlite3_close_v2(db);
            throw DriverFailure(ILANA_ERR_CONNECTION, "cannot open " + file + ": " + message);
        }
        sqlite3_busy_timeout(db, 5000);
        return std::make_unique<BridgeConnection>(db, d);
    }
};

} // namespace bridge

ILANA_SDK_EXPORT_DRIVER(bridge::BridgeDriver)
