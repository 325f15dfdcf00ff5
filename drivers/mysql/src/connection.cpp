// connection.cpp — opening, checking, cancelling and closing a session.
#include "connection.hpp"

#include "result.hpp"
#include "runtime.hpp"

#include <algorithm>
#include <cstring>
#include <utility>
#include <sys/socket.h>

namespace ilana::drivers::mysql {
namespace {

constexpr int kCancelTimeoutMs = 5000; // side connection + KILL QUERY, at most

std::string describe_target(const Config &c) {
    std::string what;
    if (!c.name.empty()) what = "connection '" + c.name + "': ";
    what += "cannot connect to " + c.target();
    if (c.user) what += " as '" + *c.user + "'";
    return what;
}

// Server and library messages never echo the password, but make sure.
DriverFailure scrubbed(const DriverFailure &f, const Config &c) {
    std::string msg = ilana::sdk::mask_secret(f.what(), c.password ? *c.password : std::string());
    return DriverFailure(f.error_class(), msg, f.sqlstate(), f.native_code(), f.flags());
}

void set_options(MYSQL *m, const Config &c, int timeout_ms) {
    // Non-blocking API for connect/ping deadlines (blocking calls still work).
    mysql_options(m, MYSQL_OPT_NONBLOCK, nullptr);
    unsigned connect_s = static_cast<unsigned>((timeout_ms + 999) / 1000);
    mysql_options(m, MYSQL_OPT_CONNECT_TIMEOUT, &connect_s);
    if (c.read_timeout_s > 0) mysql_options(m, MYSQL_OPT_READ_TIMEOUT, &c.read_timeout_s);
    if (c.write_timeout_s > 0) mysql_options(m, MYSQL_OPT_WRITE_TIMEOUT, &c.write_timeout_s);
    // The pool replaces lost sessions; a silent reconnect would lose session
    // state (transaction, time zone, locks) behind the host's back.
    my_bool off = 0;
    mysql_options(m, MYSQL_OPT_RECONNECT, &off);
    // LOAD DATA LOCAL lets a server read client files: never.
    unsigned zero = 0;
    mysql_options(m, MYSQL_OPT_LOCAL_INFILE, &zero);
    // Truncation is detected from the lengths; with reporting on, libmariadb
    // returns MYSQL_DATA_TRUNCATED and refuses mysql_stmt_fetch_column.
    mysql_options(m, MYSQL_REPORT_DATA_TRUNCATION, &off);
    mysql_options(m, MYSQL_SET_CHARSET_NAME, c.charset.c_str());
    unsigned protocol = c.socket_path.empty() ? MYSQL_PROTOCOL_TCP : MYSQL_PROTOCOL_SOCKET;
    mysql_options(m, MYSQL_OPT_PROTOCOL, &protocol);
    if (c.ssl) {
        my_bool on = 1, verify = c.ssl_verify ? 1 : 0;
        mysql_options(m, MYSQL_OPT_SSL_ENFORCE, &on);
        mysql_options(m, MYSQL_OPT_SSL_VERIFY_SERVER_CERT, &verify);
        if (!c.ssl_ca.empty()) mysql_options(m, MYSQL_OPT_SSL_CA, c.ssl_ca.c_str());
        if (!c.ssl_cert.empty()) mysql_options(m, MYSQL_OPT_SSL_CERT, c.ssl_cert.c_str());
        if (!c.ssl_key.empty()) mysql_options(m, MYSQL_OPT_SSL_KEY, c.ssl_key.c_str());
    }
    mysql_optionsv(m, MYSQL_OPT_CONNECT_ATTR_ADD, "program_name", "ilana");
}

} // namespace

// The steps of a connect, shared by open_session (blocking) and the
// async connect (async.cpp), which takes them one at a time.
MYSQL *new_session_handle(const Config &c, int timeout_ms) {
    ensure_thread();
    MYSQL *m = mysql_init(nullptr);
    if (m == nullptr) throw DriverFailure(ILANA_ERR_INTERNAL, "mysql_init failed: out of memory");
    set_options(m, c, timeout_ms);
    return m;
}

int start_real_connect(MYSQL *m, MYSQL **ret, const Config &c, bool setup) {
    // FOUND_ROWS: UPDATE reports matched rows (as mysql2 and PostgreSQL
    // do), so "updated 0 rows" means "no such row", not "same values".
    // MULTI_RESULTS: CALL may return several result sets. Never
    // MULTI_STATEMENTS: one statement per execute, nothing smuggled in.
    const unsigned long flags = CLIENT_FOUND_ROWS | CLIENT_MULTI_RESULTS | CLIENT_PS_MULTI_RESULTS;
    const char *host = c.socket_path.empty() ? c.host.c_str() : nullptr;
    const char *sock = c.socket_path.empty() ? nullptr : c.socket_path.c_str();
    const char *db = setup && c.database ? c.database->c_str() : nullptr;
    return mysql_real_connect_start(ret, m, host, c.user ? c.user->c_str() : nullptr,
                                    c.password ? c.password->c_str() : nullptr, db, c.port, sock, flags);
}

DriverFailure connect_failure(MYSQL *m, const Config &c) {
    return scrubbed(conn_failure(m, Phase::Connect, describe_target(c)), c);
}

DriverFailure connect_timeout(const Config &c, int timeout_ms, bool in_setup) {
    return DriverFailure(ILANA_ERR_TIMEOUT,
                         describe_target(c) + (in_setup ? ": no answer to session setup within " : ": no answer within ") +
                             std::to_string(timeout_ms) + " ms (connectTimeout)",
                         {}, 0, ILANA_ERRF_NOT_SENT);
}

DriverFailure setup_failure(MYSQL *m, const Config &c, const char *key) {
    DriverFailure f = conn_failure(m, Phase::Connect, describe_target(c) + ": setting '" + key + "'");
    if (f.error_class() == ILANA_ERR_CONNECTION || f.error_class() == ILANA_ERR_TIMEOUT) return f;
    // The server refused the value the config asked for.
    return DriverFailure(ILANA_ERR_CONFIG, f.what(), f.sqlstate(), f.native_code(), 0);
}

namespace {

// Sends one setup statement and waits for its answer inside the connect
// deadline (a deadline that passes is ILANA_ERR_TIMEOUT); returns
// mysql_real_query's result: 0, or nonzero with the server's error on `m`.
int run_setup_statement(MYSQL *m, const Deadline &deadline, std::string_view sql, const Config &c) {
    int ret = 0;
    auto outcome = run_nonblocking(
        m, deadline, [&] { return mysql_real_query_start(&ret, m, sql.data(), sql.size()); },
        [&](int s) { return mysql_real_query_cont(&ret, m, s); });
    if (outcome != IoOutcome::Finished) throw connect_timeout(c, c.connect_timeout_ms, true);
    return ret;
}

// Runs one setup statement of the config's (`key` names the setting).
void setup_query(MYSQL *m, const Deadline &deadline, const std::string &sql, const char *key,
                 const Config &c) {
    if (run_setup_statement(m, deadline, sql, c) != 0) throw setup_failure(m, c, key);
}

// session_track_state_change = ON within the connect deadline; only a
// timeout or a lost connection is an error (see kTrackStateChange).
bool track_state_changes(MYSQL *m, const Deadline &deadline, const Config &c) {
    if (run_setup_statement(m, deadline, std::string_view(kTrackStateChange, sizeof kTrackStateChange - 1), c) != 0) {
        DriverFailure f = conn_failure(m, Phase::Connect, describe_target(c) + ": session tracking");
        if (f.error_class() == ILANA_ERR_CONNECTION || f.error_class() == ILANA_ERR_TIMEOUT) throw f;
        return false;
    }
    return true;
}

} // namespace

std::vector<std::pair<std::string, const char *>> session_setup(const Config &c) {
    std::vector<std::pair<std::string, const char *>> out;
    if (!c.time_zone.empty()) out.emplace_back("SET time_zone = '" + c.time_zone + "'", "timezone");
    if (!c.collation.empty()) out.emplace_back("SET NAMES " + c.charset + " COLLATE " + c.collation, "charset");
    return out;
}

MYSQL *open_session(const Config &c, int timeout_ms, bool setup, bool *tracks_state) {
    Deadline deadline(timeout_ms);
    MYSQL *m = new_session_handle(c, timeout_ms);
    bool abandon = false;
    try {
        MYSQL *ret = nullptr;
        auto outcome = run_nonblocking(
            m, deadline, [&] { return start_real_connect(m, &ret, c, setup); },
            [&](int s) { return mysql_real_connect_cont(&ret, m, s); });
        if (outcome == IoOutcome::Stuck) abandon = true;
        if (outcome != IoOutcome::Finished) throw connect_timeout(c, timeout_ms, false);
        if (ret == nullptr) throw connect_failure(m, c);
        if (setup) {
            for (const auto &[sql, key] : session_setup(c)) setup_query(m, deadline, sql, key, c);
            const bool tracks = track_state_changes(m, deadline, c);
            if (tracks_state != nullptr) *tracks_state = tracks;
        }
        return m;
    } catch (...) {
        if (!abandon) mysql_close(m);
        throw;
    }
}

std::unique_ptr<Connection> Connection::open(ilana::sdk::ConnectParams &params) {
    std::unique_ptr<Connection> conn = configured(params);
    conn->m_ = open_session(conn->cfg_, conn->cfg_.connect_timeout_ms, true, &conn->tracks_state_);
    conn->adopt_session(&params);
    return conn;
}

std::unique_ptr<Connection> Connection::configured(ilana::sdk::ConnectParams &params) {
    ensure_thread();
    // parse_config reads the parameters through its own reader (the URL's
    // parts merged under the explicit keys) and names the unknown ones: all
    // of them are read here.
    const auto given = params.all();
    std::vector<ilana_param> flat;
    flat.reserve(given.size());
    for (const auto &[key, value] : given) {
        flat.push_back({key.c_str(), value.c_str()});
        params.accept({key.c_str()});
    }
    ilana_connect_params view{};
    view.struct_size = sizeof view;
    view.params = flat.data();
    view.param_count = static_cast<uint32_t>(flat.size());
    view.timeout_ms = params.timeout_ms();
    view.host_context = params.host_context();

    std::unique_ptr<Connection> conn(new Connection());
    conn->cfg_ = parse_config(&view);
    return conn;
}

void Connection::adopt_session(const ilana::sdk::ConnectParams *params) {
    thread_id_ = mysql_thread_id(m_);
    const char *info = mysql_get_server_info(m_);
    version_ = info != nullptr ? info : "";
    mariadb_ = version_.find("MariaDB") != std::string::npos || version_.find("mariadb") != std::string::npos;
    version_number_ = static_cast<int64_t>(mysql_get_server_version(m_));
    // The setup statements changed session state themselves: what a fresh
    // session looks like starts here.
    m_->server_status &= ~static_cast<unsigned int>(SERVER_SESSION_STATE_CHANGED);
    const std::string line = "mysql: connected to " + cfg_.target() + " (" + version_ + ", thread " +
                             std::to_string(thread_id_) + ")";
    if (params != nullptr) params->log(ILANA_LOG_DEBUG, line);
    else log(ILANA_LOG_DEBUG, line);
}

Connection::~Connection() {
    deadline_.stop(); // before the socket closes: its number may be reused
    ensure_thread();
    abandon_async(); // a suspended non-blocking call ends before the handle closes
    // The SDK closed (or detached) the open result and deleted the kept one
    // before this: nothing of the session is in use.
    drop_statement_cache();
    if (m_ != nullptr && !abandoned_) mysql_close(m_);
}

std::unique_ptr<Result> Connection::make_stmt_result(MYSQL_STMT *stmt, std::string_view sql) {
    if (std::unique_ptr<StmtResult> r = reuse_result<StmtResult>()) {
        row_result_kept_ = false;
        r->rearm(this, stmt, sql);
        return r;
    }
    return std::make_unique<StmtResult>(this, stmt, sql);
}

std::unique_ptr<Result> Connection::make_status_result(int64_t affected_rows, int64_t last_insert_id) {
    if (std::unique_ptr<StatusResult> r = reuse_result<StatusResult>()) {
        r->rearm(this, affected_rows, last_insert_id);
        return r;
    }
    return std::make_unique<StatusResult>(this, affected_rows, last_insert_id);
}

void Connection::ensure_alive() const {
    if (broken_)
        throw DriverFailure(ILANA_ERR_CONNECTION,
                            "the MySQL session is broken by an earlier error; close this connection",
                            "08003", 0, ILANA_ERRF_CONN_BROKEN | ILANA_ERRF_NOT_SENT);
}

void Connection::ensure_ready() {
    ensure_alive();
    note_server_status();
    if (async_in_flight() > 0)
        throw misuse("async statements of this connection are in flight: poll until it returns ILANA_DONE before a "
                     "blocking call (ilana.async/1)");
    if (has_open_result())
        throw misuse("a result of this connection is still open: close it (result_close) first");
}

void Connection::mark_broken() noexcept {
    if (broken_) return;
    broken_ = true;
    // Nothing may block on this socket again (draining, COM_QUIT, ...).
    if (m_ != nullptr) detail::abort_socket(m_);
}

void Connection::fail(const DriverFailure &f) {
    DriverFailure out = deadline_explained(f);
    if (out.flags() & ILANA_ERRF_CONN_BROKEN) mark_broken();
    throw out;
}

DriverFailure Connection::timeout_aware(const DriverFailure &f, std::chrono::steady_clock::time_point start) const {
    const unsigned limit = cfg_.read_timeout_s;
    if (limit == 0 || f.native_code() != 2013 /* CR_SERVER_LOST */) return f;
    if (std::chrono::steady_clock::now() - start < std::chrono::seconds(limit) - std::chrono::milliseconds(100))
        return f;
    return DriverFailure(ILANA_ERR_TIMEOUT, std::string(f.what()) + " (readTimeout " + std::to_string(limit) + " s)",
                         f.sqlstate(), f.native_code(), f.flags());
}

void Connection::op_begin() {
    // Taken by this op only: a batch or the driver's own statements that
    // follow run without it unless set again.
    const int64_t timeout_ms = std::exchange(statement_timeout_ms_, 0);
    if (timeout_ms > 0) {
        // The server stops the statement at the timeout (max_statement_time,
        // see statement.cpp); the cut is for a server that cannot answer.
        const int fd = mysql_get_socket(m_);
        deadline_.start(timeout_ms, nullptr, [fd] {
            if (fd >= 0) ::shutdown(fd, SHUT_RDWR);
        });
    } else {
        deadline_.clear();
    }
    std::lock_guard<std::mutex> lock(op_mu_);
    ++op_gen_;
    op_active_ = true;
}

void Connection::op_end() noexcept {
    deadline_.stop();
    // The cut came after all: the socket is gone.
    if (deadline_.stage() == ilana::sdk::StatementDeadline::unanswered) mark_broken();
    std::lock_guard<std::mutex> lock(op_mu_);
    op_active_ = false;
}

bool Connection::op_killed() {
    std::lock_guard<std::mutex> lock(op_mu_);
    return op_active_ && killed_gen_ == op_gen_;
}

// Cancel opens a side session with the same (immutable) parameters and sends
// KILL QUERY <thread id>. The KILL is sent while holding op_mu_ and only if
// the statement seen at the start is still the one running, so it cannot hit
// a later statement on this session (the executing thread waits at op_end
// for at most one KILL round trip). The interrupted statement fails with
// error 1317, which the error table maps to ILANA_ERR_CANCELED; a result
// whose rows keep coming after the kill fails the same way (op_killed).
void Connection::cancel() {
    ensure_thread();
    uint64_t gen;
    {
        std::lock_guard<std::mutex> lock(op_mu_);
        if (!op_active_) return;
        gen = op_gen_;
    }
    Deadline deadline(kCancelTimeoutMs);
    MYSQL *side = open_session(cfg_, std::min(cfg_.connect_timeout_ms, kCancelTimeoutMs), false);
    struct Closer {
        MYSQL *m;
        bool abandon = false;
        ~Closer() {
            if (!abandon) mysql_close(m);
        }
    } closer{side};
    std::lock_guard<std::mutex> lock(op_mu_);
    if (!op_active_ || op_gen_ != gen) return; // it finished meanwhile
    const std::string sql = "KILL QUERY " + std::to_string(thread_id_);
    int ret = 0;
    auto outcome = run_nonblocking(
        side, deadline, [&] { return mysql_real_query_start(&ret, side, sql.data(), sql.size()); },
        [&](int s) { return mysql_real_query_cont(&ret, side, s); });
    if (outcome == IoOutcome::Stuck) closer.abandon = true;
    if (outcome != IoOutcome::Finished)
        throw DriverFailure(ILANA_ERR_TIMEOUT, "cancel: the server did not answer KILL QUERY within " +
                                                   std::to_string(kCancelTimeoutMs) + " ms");
    // 1094 ER_NO_SUCH_THREAD: the session ended meanwhile; nothing to stop.
    if (ret != 0 && mysql_errno(side) != 1094) throw conn_failure(side, Phase::Session, "cancel");
    killed_gen_ = gen;
}

MYSQL_STMT *Connection::prepare_stmt(std::string_view sql) {
    MYSQL_STMT *s = mysql_stmt_init(m_);
    if (s == nullptr) fail(conn_failure(m_, Phase::Statement));
    if (mysql_stmt_prepare(s, sql.data(), static_cast<unsigned long>(sql.size())) != 0) {
        DriverFailure f = stmt_failure(s, Phase::Statement);
        mysql_stmt_close(s);
        fail(f);
    }
    return s;
}

MYSQL_STMT *Connection::take_stmt(std::string_view sql, bool cache) {
    cache = cache && cfg_.max_prepared > 0;
    if (cache) {
        auto it = cache_index_.find(sql);
        if (it != cache_index_.end()) {
            lru_.splice(lru_.begin(), lru_, it->second);
            borrowed_cached_ = it->second->stmt;
            session_changed_ = session_changed_ || it->second->changes_session;
            return borrowed_cached_;
        }
    }
    const bool changes = changes_session(sql);
    session_changed_ = session_changed_ || changes;
    MYSQL_STMT *s = prepare_stmt(sql);
    if (cache) {
        cache_statement(sql, s, changes);
        borrowed_cached_ = s;
    }
    return s;
}

void Connection::cache_statement(std::string_view sql, MYSQL_STMT *s, bool changes) {
    lru_.push_front(Cached{std::string(sql), s, changes});
    cache_index_.emplace(std::string_view(lru_.front().sql), lru_.begin());
    while (lru_.size() > cfg_.max_prepared) {
        Cached &old = lru_.back();
        cache_index_.erase(std::string_view(old.sql));
        mysql_stmt_close(old.stmt); // COM_STMT_CLOSE has no reply: cheap
        lru_.pop_back();
    }
}

void Connection::give_back(MYSQL_STMT *stmt, bool reusable) noexcept {
    if (stmt == nullptr) return;
    if (lent_handle_ != nullptr && stmt == lent_handle_->stmt) {
        Prepared *handle = lent_handle_;
        lent_handle_ = nullptr;
        if (reusable && !broken_) return;
        mysql_stmt_close(stmt);
        handle->stmt = nullptr; // prepared again on its next run
        return;
    }
    if (stmt == borrowed_cached_) {
        borrowed_cached_ = nullptr;
        if (reusable && !broken_) return;
        for (auto it = lru_.begin(); it != lru_.end(); ++it) {
            if (it->stmt == stmt) {
                cache_index_.erase(std::string_view(it->sql));
                lru_.erase(it);
                break;
            }
        }
    }
    mysql_stmt_close(stmt);
}

bool Connection::unpreparable(std::string_view sql) const {
    return !unpreparable_.empty() && unpreparable_.count(std::string(sql)) != 0;
}

void Connection::remember_unpreparable(std::string_view sql) {
    if (unpreparable_.size() >= 64) unpreparable_.clear(); // bounded; rare statements
    unpreparable_.emplace(sql);
}

void Connection::ping(int32_t timeout_ms) {
    ensure_thread();
    ensure_ready();
    if (timeout_ms <= 0) timeout_ms = cfg_.connect_timeout_ms;
    int ret = 0;
    auto outcome = run_nonblocking(
        m_, Deadline(timeout_ms), [&] { return mysql_ping_start(&ret, m_); },
        [&](int s) { return mysql_ping_cont(&ret, m_, s); });
    if (outcome != IoOutcome::Finished) {
        if (outcome == IoOutcome::Stuck) abandoned_ = true;
        mark_broken();
        throw DriverFailure(ILANA_ERR_TIMEOUT,
                            "ping: no answer from " + cfg_.target() + " within " +
                                std::to_string(timeout_ms) + " ms",
                            {}, 0, ILANA_ERRF_CONN_BROKEN);
    }
    if (ret != 0) fail(conn_failure(m_, Phase::Session, "ping"));
}

void Connection::begin() { simple_query("START TRANSACTION", Phase::Session, "begin"); }
void Connection::commit() { simple_query("COMMIT", Phase::Session, "commit"); }
void Connection::rollback() { simple_query("ROLLBACK", Phase::Session, "rollback"); }

void Connection::simple_query(std::string_view sql, Phase phase, std::string_view what) {
    ensure_thread();
    ensure_ready();
    if (mysql_real_query(m_, sql.data(), static_cast<unsigned long>(sql.size())) != 0)
        fail(conn_failure(m_, phase, what));
    // Statements here return no rows; consume anything so the session stays in sync.
    for (;;) {
        if (MYSQL_RES *r = mysql_store_result(m_)) mysql_free_result(r);
        int next = mysql_next_result(m_);
        if (next < 0) break;
        if (next > 0) fail(conn_failure(m_, phase, what));
    }
}

ilana::sdk::ServerInfo Connection::server_info() {
    ensure_thread();
    ensure_alive();
    // max_connections needs a round trip: once per session (the SDK keeps
    // the answer until close), and only when the session is free (a
    // streaming result blocks the wire: then it stays unknown, -1).
    if (!max_connections_known_ && !has_open_result()) {
        static const char sql[] = "SELECT @@max_connections";
        if (mysql_real_query(m_, sql, sizeof sql - 1) != 0) {
            DriverFailure f = conn_failure(m_, Phase::Session, "server_info");
            if (f.flags() & ILANA_ERRF_CONN_BROKEN) fail(f);
        } else if (MYSQL_RES *r = mysql_store_result(m_)) {
            MYSQL_ROW row = mysql_fetch_row(r);
            if (row != nullptr && row[0] != nullptr) max_connections_ = std::strtoll(row[0], nullptr, 10);
            mysql_free_result(r);
            max_connections_known_ = true;
        }
    }
    return ilana::sdk::ServerInfo{mariadb_ ? "MariaDB" : "MySQL", version_, version_number_, max_connections_};
}

} // namespace ilana::drivers::mysql
