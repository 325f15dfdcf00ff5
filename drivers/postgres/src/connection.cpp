// connection.cpp — connecting, ping, transactions, cancel, server facts and
// the prepared-statement cache of one session.
#include "connection.hpp"

#include "errors.hpp"
#include "result.hpp"

#include <ilana/sdk/driver_support.hpp>

#include <cerrno>
#include <charconv>
#include <chrono>
#include <cstring>
#include <poll.h>
#include <sys/socket.h>
#include <thread>

namespace ilana::drivers::postgres {

using ilana::sdk::DriverFailure;
using Clock = std::chrono::steady_clock;

namespace {

// Milliseconds left before `deadline`, for poll(2); -1 = no deadline.
int remaining_ms(bool has_deadline, Clock::time_point deadline) {
    if (!has_deadline) return -1;
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
    return left <= 0 ? 0 : static_cast<int>(left);
}

// Waits for `events` on the libpq socket. false = the deadline passed.
bool wait_socket(int fd, short events, bool has_deadline, Clock::time_point deadline) {
    for (;;) {
        int wait = remaining_ms(has_deadline, deadline);
        if (has_deadline && wait == 0) return false;
        pollfd p{fd, events, 0};
        int rc = ::poll(&p, 1, wait);
        if (rc > 0) return true;
        if (rc == 0) return false;
        if (errno != EINTR)
            throw DriverFailure(ILANA_ERR_CONNECTION, std::string("poll() failed: ") + std::strerror(errno), "",
                                0, ILANA_ERRF_CONN_BROKEN);
    }
}

std::string host_port(PGconn *pg) {
    const char *h = PQhost(pg);
    const char *p = PQport(pg);
    std::string s = h != nullptr && *h != '\0' ? h : "localhost";
    if (p != nullptr && *p != '\0') s += std::string(":") + p;
    return s;
}

ilana_log_level level_for_severity(const char *sev) {
    if (sev == nullptr) return ILANA_LOG_INFO;
    if (std::strcmp(sev, "WARNING") == 0) return ILANA_LOG_WARN;
    if (std::strcmp(sev, "DEBUG") == 0 || std::strcmp(sev, "LOG") == 0) return ILANA_LOG_DEBUG;
    return ILANA_LOG_INFO; // NOTICE, INFO
}

} // namespace

// ----------------------------------------------------------------------------
// StatementCache

CachedStatement *StatementCache::find(std::string_view key) {
    auto it = index_.find(key);
    if (it == index_.end()) return nullptr;
    lru_.splice(lru_.begin(), lru_, it->second);
    return &it->second->second;
}

CachedStatement &StatementCache::insert(std::string key, CachedStatement stmt, std::string *evicted) {
    evicted->clear();
    if (index_.size() >= capacity_ && !lru_.empty()) {
        auto last = std::prev(lru_.end());
        *evicted = last->second.name;
        index_.erase(std::string_view(last->first));
        lru_.pop_back();
    }
    lru_.emplace_front(std::move(key), std::move(stmt));
    index_.emplace(std::string_view(lru_.front().first), lru_.begin());
    return lru_.front().second;
}

std::string StatementCache::erase(std::string_view key) {
    auto it = index_.find(key);
    if (it == index_.end()) return {};
    std::string name = it->second->second.name;
    auto node = it->second;
    index_.erase(it);
    lru_.erase(node);
    return name;
}

std::string StatementCache::erase_id(uint64_t id) {
    for (auto node = lru_.begin(); node != lru_.end(); ++node) {
        if (node->second.id != id) continue;
        std::string name = node->second.name;
        index_.erase(node->first);
        lru_.erase(node);
        return name;
    }
    return {};
}

// ----------------------------------------------------------------------------
// Connecting

Connection::Connection(PGconn *pg, ConnectConfig cfg) : pg_(pg), cfg_(std::move(cfg)) {}

// Driver<> detached a result still open and deleted the kept one before.
Connection::~Connection() {
    deadline_.stop(); // before PQfinish closes the socket: its number may be reused
    {
        std::lock_guard<std::mutex> lock(cancel_mu_);
        if (cancel_ != nullptr) PQfreeCancel(cancel_);
        cancel_ = nullptr;
    }
    PQfinish(pg_);
}

void Connection::notice_receiver(void *arg, const PGresult *res) {
    // Server NOTICE/WARNING messages go to the host's log, never to stderr.
    auto *self = static_cast<Connection *>(arg);
    const char *sev = PQresultErrorField(res, PG_DIAG_SEVERITY_NONLOCALIZED);
    std::string msg = one_line(PQresultErrorMessage(res));
    try {
        if (self->connecting_ != nullptr) self->connecting_->log(level_for_severity(sev), "postgres: " + msg);
        else self->log(level_for_severity(sev), "postgres: " + msg);
    } catch (...) { // a notice must never take the connection down
    }
}

std::unique_ptr<Connection> Connection::start_connect(sdk::ConnectParams &params) {
    ConnectConfig cfg = build_connect_config(params);

    std::vector<const char *> keys, values;
    keys.reserve(cfg.keywords.size() + 1);
    values.reserve(cfg.keywords.size() + 1);
    for (const auto &kv : cfg.keywords) {
        keys.push_back(kv.first.c_str());
        values.push_back(kv.second.c_str());
    }
    keys.push_back(nullptr);
    values.push_back(nullptr);

    // expand_dbname = 0: a database name containing '=' stays a name.
    PGconn *pg = PQconnectStartParams(keys.data(), values.data(), 0);
    if (pg == nullptr) throw std::bad_alloc();
    std::unique_ptr<Connection> conn(new Connection(pg, std::move(cfg)));
    PQsetNoticeReceiver(pg, &Connection::notice_receiver, conn.get());
    // Verbose while connecting: the only way libpq reveals the server's
    // SQLSTATE for a failed login (28P01 vs 3D000 vs 53300, ...).
    PQsetErrorVerbosity(pg, PQERRORS_VERBOSE);
    if (PQstatus(pg) == CONNECTION_BAD) throw failure_from_connect(pg, conn->cfg_.password);
    conn->connect_deadline_ = Clock::now() + std::chrono::milliseconds(conn->cfg_.timeout_ms > 0 ? conn->cfg_.timeout_ms : 0);
    return conn;
}

void Connection::finish_connect() {
    PQsetErrorVerbosity(pg_, PQERRORS_DEFAULT);
    after_connect();
}

DriverFailure Connection::connect_timeout_failure() const {
    return DriverFailure(ILANA_ERR_TIMEOUT,
                         "could not connect to PostgreSQL at " + host_port(pg_) + " within " +
                             std::to_string(cfg_.timeout_ms) +
                             " ms (no answer from the server; raise connect_timeout or check the host and port)",
                         "", 0, ILANA_ERRF_NOT_SENT);
}

std::unique_ptr<Connection> Connection::open(sdk::ConnectParams &params) {
    std::unique_ptr<Connection> conn = start_connect(params);
    conn->connecting_ = &params;
    PGconn *pg = conn->pg_;
    const bool has_deadline = conn->cfg_.timeout_ms > 0;
    PostgresPollingStatusType st = PGRES_POLLING_WRITING;
    while (st != PGRES_POLLING_OK) {
        if (st == PGRES_POLLING_FAILED) throw failure_from_connect(pg, conn->cfg_.password);
        const int fd = PQsocket(pg); // may change between hosts of a list
        if (fd < 0) throw failure_from_connect(pg, conn->cfg_.password);
        if (!wait_socket(fd, st == PGRES_POLLING_READING ? POLLIN : POLLOUT, has_deadline, conn->connect_deadline_))
            throw conn->connect_timeout_failure();
        st = PQconnectPoll(pg);
    }
    conn->finish_connect();
    conn->connecting_ = nullptr;
    return conn;
}

void Connection::after_connect() {
    {
        std::lock_guard<std::mutex> lock(cancel_mu_);
        cancel_ = PQgetCancel(pg_);
    }
    timeout_cancel_ = std::shared_ptr<PGcancel>(PQgetCancel(pg_), [](PGcancel *c) { PQfreeCancel(c); });
    const char *idt = PQparameterStatus(pg_, "integer_datetimes");
    if (idt != nullptr && std::strcmp(idt, "off") == 0)
        throw DriverFailure(ILANA_ERR_CONFIG, "PostgreSQL servers built with floating-point datetimes "
                                              "are not supported");
    // Text-format dates are parsed as ISO. The server default is ISO, but a
    // postgresql.conf may say otherwise. PgBouncer tracks DateStyle per
    // client, so the SET is safe in pgbouncer mode too.
    const char *ds = PQparameterStatus(pg_, "DateStyle");
    if (ds != nullptr && std::strncmp(ds, "ISO", 3) != 0) {
        exec_simple("SET DateStyle = ISO");
        set_date_style_ = true;
    }

    const char *ver = PQparameterStatus(pg_, "server_version");
    server_version_ = ver != nullptr ? ver : "";
    // "15.18 (Debian 15.18-1.pgdg120+1)" → "15.18"
    if (auto sp = server_version_.find(' '); sp != std::string::npos) server_version_.resize(sp);
}

// ----------------------------------------------------------------------------
// Session state

void Connection::ensure_usable() const {
    if (async_in_flight() > 0)
        throw DriverFailure(ILANA_ERR_INTERNAL,
                            "async statements of this connection are in flight: poll until it returns ILANA_DONE "
                            "before a blocking call (ilana.async/1)",
                            "", 0, ILANA_ERRF_NOT_SENT);
    if (has_open_result())
        throw DriverFailure(ILANA_ERR_INTERNAL, "a result of this connection is still open: close it first");
    if (broken_ || PQstatus(pg_) == CONNECTION_BAD)
        throw DriverFailure(ILANA_ERR_CONNECTION,
                            "the PostgreSQL connection is broken (lost server or timed out): discard it", "",
                            0, ILANA_ERRF_CONN_BROKEN | ILANA_ERRF_NOT_SENT);
}

PgResultPtr Connection::exec_simple(const char *sql) {
    ensure_usable();
    cancel_requested.store(false);
    PgResultPtr res(PQexec(pg_, sql));
    if (!res) throw failure_from_conn(pg_);
    ExecStatusType st = PQresultStatus(res.get());
    if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK && st != PGRES_EMPTY_QUERY)
        throw failure_from_result(res.get(), pg_, ErrorContext{cancel_requested.load()});
    return res;
}

void Connection::ping(int32_t timeout_ms) {
    ensure_usable();
    const int ms = timeout_ms > 0 ? timeout_ms : kDefaultPingTimeoutMs;
    const auto deadline = Clock::now() + std::chrono::milliseconds(ms);
    auto timed_out = [&]() -> DriverFailure {
        // A query is in flight and unanswered: the session cannot be reused.
        broken_ = true;
        return DriverFailure(ILANA_ERR_TIMEOUT,
                             "PostgreSQL did not answer a ping within " + std::to_string(ms) + " ms", "", 0,
                             ILANA_ERRF_CONN_BROKEN);
    };
    // Non-blocking so that neither sending nor reading can outlive the
    // deadline; an empty query is the cheapest full round trip.
    PQsetnonblocking(pg_, 1);
    struct RestoreBlocking {
        PGconn *pg;
        ~RestoreBlocking() { PQsetnonblocking(pg, 0); }
    } restore{pg_};
    if (PQsendQuery(pg_, "") == 0) throw failure_from_conn(pg_);
    int fr;
    while ((fr = PQflush(pg_)) == 1) {
        if (!wait_socket(PQsocket(pg_), POLLOUT | POLLIN, true, deadline)) throw timed_out();
        if (PQconsumeInput(pg_) == 0) throw failure_from_conn(pg_);
    }
    if (fr < 0) throw failure_from_conn(pg_);
    PgResultPtr error;
    for (;;) {
        while (PQisBusy(pg_) != 0) {
            if (!wait_socket(PQsocket(pg_), POLLIN, true, deadline)) throw timed_out();
            if (PQconsumeInput(pg_) == 0) throw failure_from_conn(pg_);
        }
        PgResultPtr r(PQgetResult(pg_));
        if (!r) break;
        if (PQresultStatus(r.get()) == PGRES_FATAL_ERROR && !error) error = std::move(r);
    }
    if (error) throw failure_from_result(error.get(), pg_, {});
    if (PQstatus(pg_) == CONNECTION_BAD) throw failure_from_conn(pg_);
}

void Connection::begin() { exec_simple("BEGIN"); }

void Connection::commit() {
    PgResultPtr r = exec_simple("COMMIT");
    // COMMIT of a failed transaction "succeeds" with the tag ROLLBACK: the
    // caller's work is gone, which must not look like success.
    if (std::strcmp(PQcmdStatus(r.get()), "ROLLBACK") == 0)
        throw DriverFailure(ILANA_ERR_INTERNAL,
                            "COMMIT rolled back: the transaction had failed earlier (an error inside it)", "", 0,
                            ILANA_ERRF_TXN_ABORTED);
}

void Connection::rollback() { exec_simple("ROLLBACK"); }

void Connection::cancel() {
    cancel_requested.store(true);
    std::lock_guard<std::mutex> lock(cancel_mu_);
    if (cancel_ == nullptr) return;
    char errbuf[256] = {0};
    if (PQcancel(cancel_, errbuf, sizeof errbuf) == 0)
        throw DriverFailure(ILANA_ERR_CONNECTION, "could not send the cancel request: " + one_line(errbuf));
}

void Connection::start_deadline(int64_t timeout_ms) {
    if (timeout_ms <= 0) {
        deadline_.clear();
        return;
    }
    std::shared_ptr<PGcancel> cancel = timeout_cancel_;
    auto flight = std::make_shared<CancelFlight>();
    cancel_flight_ = flight;
    const int fd = PQsocket(pg_);
    deadline_.start(
        timeout_ms,
        [cancel, flight] {
            // Not on the watchdog's thread: PQcancel waits for the
            // postmaster, which may be the process that does not answer.
            if (!cancel) return;
            {
                std::lock_guard<std::mutex> lock(flight->mu);
                flight->sent = true;
            }
            std::thread([cancel, flight] {
                char errbuf[256];
                (void)PQcancel(cancel.get(), errbuf, sizeof errbuf);
                std::lock_guard<std::mutex> lock(flight->mu);
                flight->done = true;
                flight->cv.notify_all();
            }).detach();
        },
        [fd] {
            // The blocked libpq call sees the end of the stream at once.
            if (fd >= 0) ::shutdown(fd, SHUT_RDWR);
        });
}

void Connection::end_deadline() noexcept {
    if (!deadline_.active()) return;
    deadline_.stop();
    std::shared_ptr<CancelFlight> flight = std::move(cancel_flight_);
    if (deadline_.stage() == ilana::sdk::StatementDeadline::unanswered) {
        broken_ = true;
        return;
    }
    if (!flight) return;
    // A cancel request sent for this statement must not reach the server
    // during the next one (the statement may have ended by itself just
    // then). Once the postmaster has answered it, the backend got the signal
    // while idle, where it is ignored; if it does not answer within the
    // grace, the session is not trusted again.
    std::unique_lock<std::mutex> lock(flight->mu);
    if (!flight->sent) return;
    if (!flight->cv.wait_for(lock, std::chrono::milliseconds(ilana::sdk::kStatementTimeoutGraceMs),
                             [&] { return flight->done; }))
        broken_ = true;
}

DriverFailure Connection::deadline_failure(const DriverFailure &f) {
    end_deadline();
    DriverFailure out = deadline_.classify(f);
    if ((out.flags() & ILANA_ERRF_CONN_BROKEN) != 0) broken_ = true;
    return out;
}

void Connection::cancel_quietly() noexcept {
    std::lock_guard<std::mutex> lock(cancel_mu_);
    if (cancel_ == nullptr) return;
    char errbuf[256];
    (void)PQcancel(cancel_, errbuf, sizeof errbuf);
}

// Asked once per connection (Driver<> keeps the answer until close).
sdk::ServerInfo Connection::server_info() {
    sdk::ServerInfo info;
    info.product = "PostgreSQL";
    info.version = server_version_;
    info.version_number = PQserverVersion(pg_);
    info.max_connections = -1; // when the server will not say
    PgResultPtr r = exec_simple("SHOW max_connections");
    if (PQntuples(r.get()) == 1 && PQgetisnull(r.get(), 0, 0) == 0) {
        const char *v = PQgetvalue(r.get(), 0, 0);
        int64_t n = 0;
        auto res = std::from_chars(v, v + std::strlen(v), n);
        if (res.ec == std::errc() && n > 0) info.max_connections = n;
    }
    return info;
}

// ----------------------------------------------------------------------------
// Prepared statements

const std::string &Connection::cache_key(std::string_view sql, const BoundParams &params) {
    key_buf_.assign(sql);
    key_buf_.push_back('\x1f'); // never in the signature, rarely in SQL
    key_buf_.append(params.signature);
    return key_buf_;
}

void Connection::deallocate(const std::string &name) noexcept {
    if (name.empty()) return;
    // Inside a failed transaction DEALLOCATE itself would fail: try later.
    if (PQtransactionStatus(pg_) == PQTRANS_INERROR) {
        pending_deallocate_.push_back(name);
        return;
    }
    std::string sql = "DEALLOCATE " + name; // our own name: no quoting needed
    PgResultPtr r(PQexec(pg_, sql.c_str()));
}

void Connection::flush_deallocations() noexcept {
    if (pending_deallocate_.empty() || PQtransactionStatus(pg_) != PQTRANS_IDLE) return;
    std::vector<std::string> names;
    names.swap(pending_deallocate_);
    for (const auto &n : names) deallocate(n);
}

CachedStatement *Connection::prepared(const std::string &sql, const BoundParams &params) {
    const std::string &key = cache_key(sql, params);
    if (CachedStatement *hit = cache_.find(key)) return hit;
    CachedStatement stmt = prepare_named(sql, params);
    std::string evicted;
    CachedStatement &entry = cache_.insert(key, std::move(stmt), &evicted);
    deallocate(evicted);
    return &entry;
}

CachedStatement Connection::prepare_named(const std::string &sql, const BoundParams &params) {
    CachedStatement stmt;
    stmt.id = ++next_statement_id_;
    stmt.name = "ilana_s" + std::to_string(stmt.id);
    // Read the cancel flag when failing: a cancel may arrive mid-prepare.
    auto ctx = [&] { return ErrorContext{cancel_requested.load()}; };
    PgResultPtr prep(PQprepare(pg_, stmt.name.c_str(), sql.c_str(), params.count, params.types.data()));
    if (!prep) throw failure_from_conn(pg_);
    if (PQresultStatus(prep.get()) != PGRES_COMMAND_OK) throw failure_from_result(prep.get(), pg_, ctx());

    // Describe once, so executions can ask for binary results when every
    // column is binary-decodable (libpq takes one format for all columns).
    PgResultPtr desc(PQdescribePrepared(pg_, stmt.name.c_str()));
    if (!desc || PQresultStatus(desc.get()) != PGRES_COMMAND_OK) {
        DriverFailure f = desc ? failure_from_result(desc.get(), pg_, ctx()) : failure_from_conn(pg_);
        deallocate(stmt.name);
        throw f;
    }
    const int nf = PQnfields(desc.get());
    bool all_binary = nf > 0;
    for (int c = 0; c < nf && all_binary; ++c) all_binary = column_type(PQftype(desc.get(), c)).binary_decodable;
    stmt.result_format = all_binary ? 1 : 0;
    stmt.effect = session_effect(sql);
    return stmt;
}

void Connection::forget_prepared(const std::string &sql, const BoundParams &params, bool dealloc) {
    std::string name = cache_.erase(cache_key(sql, params));
    if (dealloc) deallocate(name);
}

} // namespace ilana::drivers::postgres
