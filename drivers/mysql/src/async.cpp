// async.cpp — "ilana.async/1": libmariadb's non-blocking API stepped by the
// host's event loop.
//
// Every libmariadb call here is a *_start, then *_cont each time the socket
// is ready, until it returns 0 (the library keeps the call suspended in a
// context of its own in between). One call at a time per handle: the
// statements the host submits queue in the driver and each goes to the
// server when the one before it completed, so MariaDB gets no pipelining
// (the protocol answers one command at a time) but the host still runs many
// connections on one thread.
//
// A statement runs as on the blocking path, only with its rows stored
// before it completes:
//   no parameters            mysql_real_query -> mysql_store_result   TextResult
//   parameters, or a handle  [mysql_stmt_prepare] -> bind ->
//                            mysql_stmt_execute -> mysql_stmt_store_result
//                                                                      StmtResult
// A statement prepared here comes from the connection's LRU when it is
// there (ILANA_EXEC_CACHE), is a handle's own ("ilana.prepare/1", prepared
// at its first run), or is prepared for this run and closed after it.
#include "connection.hpp"
#include "result.hpp"
#include "runtime.hpp"
#include "statement.hpp"

#include <ilana/sdk/values.hpp>

#include <chrono>
#include <errmsg.h>
#include <cstring>
#include <deque>
#include <optional>
#include <poll.h>

namespace ilana::drivers::mysql {

using Clock = std::chrono::steady_clock;
using ilana::sdk::AsyncPoll;
using ilana::sdk::AsyncWait;

namespace {

int64_t affected(my_ulonglong n) {
    return n == static_cast<my_ulonglong>(~0ULL) ? -1 : static_cast<int64_t>(n);
}

int64_t ms_until(Clock::time_point t) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(t - Clock::now()).count();
    return left < 0 ? 0 : static_cast<int64_t>(left) + 1;
}

bool is_string_type(ilana_type t) {
    return t == ILANA_TYPE_TEXT || t == ILANA_TYPE_BLOB || t == ILANA_TYPE_DECIMAL || t == ILANA_TYPE_UUID ||
           t == ILANA_TYPE_JSON;
}

} // namespace

// One statement waiting for its turn: everything copied (driver.h: the host
// may free its arguments when submit returns).
struct QueuedStatement {
    std::string sql;
    std::vector<ilana_value> params; // strings: offsets into `bytes` until bound
    std::string bytes;
    Prepared *handle = nullptr;
    bool cache = false;
};

struct Connection::AsyncState {
    // The suspended libmariadb call: its MYSQL_WAIT_* (0: none), and when
    // its MYSQL_WAIT_TIMEOUT is due.
    int status = 0;
    Clock::time_point lib_timeout_at{};

    // Connecting: the real connect, then the config's setup statements,
    // then session tracking.
    enum class ConnectStep { connect, setup, track, done } connect_step = ConnectStep::done;
    Clock::time_point connect_deadline{};
    std::vector<std::pair<std::string, const char *>> setup;
    size_t setup_next = 0;
    MYSQL *connect_ret = nullptr;

    // Statements.
    enum class Step { idle, query, store, prepare, execute, stmt_store } step = Step::idle;
    std::deque<QueuedStatement> queue;
    QueuedStatement running;
    MYSQL_STMT *stmt = nullptr;  // the running statement's handle
    bool stmt_own = false;       // prepared for this run: closed after it
    int ret = 0;                 // of the suspended int-returning call
    MYSQL_RES *res = nullptr;    // of mysql_store_result
    std::optional<DriverFailure> broken; // every statement left fails with it

    // The events ready on the socket now for the suspended call, without
    // waiting (the host waited); MYSQL_WAIT_TIMEOUT when the library's
    // timeout is due; 0 when nothing is.
    int ready_now(MYSQL *m) const {
        pollfd p{mysql_get_socket(m), 0, 0};
        if (status & MYSQL_WAIT_READ) p.events |= POLLIN;
        if (status & MYSQL_WAIT_WRITE) p.events |= POLLOUT;
        if (status & MYSQL_WAIT_EXCEPT) p.events |= POLLPRI;
        int ready = 0;
        if (p.fd >= 0 && ::poll(&p, 1, 0) > 0) {
            if (p.revents & POLLIN) ready |= MYSQL_WAIT_READ;
            if (p.revents & POLLOUT) ready |= MYSQL_WAIT_WRITE;
            if (p.revents & POLLPRI) ready |= MYSQL_WAIT_EXCEPT;
            if (p.revents & (POLLERR | POLLHUP | POLLNVAL)) ready |= status & (MYSQL_WAIT_READ | MYSQL_WAIT_WRITE);
        } else if (p.fd < 0) {
            ready = status & (MYSQL_WAIT_READ | MYSQL_WAIT_WRITE); // let the library see the failure
        }
        if (ready == 0 && (status & MYSQL_WAIT_TIMEOUT) && Clock::now() >= lib_timeout_at) ready = MYSQL_WAIT_TIMEOUT;
        return ready;
    }
    // A call was suspended with `s`: remember it and when its timeout is due.
    void suspended(MYSQL *m, int s) {
        status = s;
        if (s & MYSQL_WAIT_TIMEOUT)
            lib_timeout_at = Clock::now() + std::chrono::milliseconds(mysql_get_timeout_value_ms(m));
    }
    void fill(MYSQL *m, AsyncWait &w, std::optional<Clock::time_point> deadline) const {
        w.fd = mysql_get_socket(m);
        w.events = 0;
        if (status & MYSQL_WAIT_READ) w.events |= ILANA_WAIT_READ;
        if (status & MYSQL_WAIT_WRITE) w.events |= ILANA_WAIT_WRITE;
        if (w.events == 0) w.events = ILANA_WAIT_READ; // a timeout-only wait: readable also means closed
        w.timeout_ms = -1;
        if (status & MYSQL_WAIT_TIMEOUT) w.timeout_ms = ms_until(lib_timeout_at);
        if (deadline) {
            const int64_t left = ms_until(*deadline);
            if (w.timeout_ms < 0 || left < w.timeout_ms) w.timeout_ms = left;
        }
    }
    // The call in progress, resumed with `ready`: returns its new status.
    int resume(MYSQL *m, int ready) {
        switch (step) {
        case Step::query: return mysql_real_query_cont(&ret, m, ready);
        case Step::store: return mysql_store_result_cont(&res, m, ready);
        case Step::prepare: return mysql_stmt_prepare_cont(&ret, stmt, ready);
        case Step::execute: return mysql_stmt_execute_cont(&ret, stmt, ready);
        case Step::stmt_store: return mysql_stmt_store_result_cont(&ret, stmt, ready);
        case Step::idle: break;
        }
        return 0;
    }
    // The handle is about to close with a call suspended: cut the socket and
    // let the call fail to its end (or leave the handle, never closed, if it
    // will not end: a leak, not a crash).
    void abandon_call(MYSQL *m, bool &abandoned) noexcept {
        if (status == 0) return;
        detail::abort_socket(m);
        for (int k = 0; k < 64 && status != 0; ++k) {
            if (connect_step != ConnectStep::done && step == Step::idle) {
                status = connect_step == ConnectStep::connect ? mysql_real_connect_cont(&connect_ret, m, status | MYSQL_WAIT_TIMEOUT)
                                                              : mysql_real_query_cont(&ret, m, status | MYSQL_WAIT_TIMEOUT);
            } else {
                status = resume(m, status | MYSQL_WAIT_TIMEOUT);
            }
        }
        if (status != 0) abandoned = true;
    }
};

void Connection::AsyncStateDeleter::operator()(AsyncState *s) const noexcept { delete s; }

void Connection::abandon_async() noexcept {
    if (!async_) return;
    AsyncState &a = *async_;
    if (m_ != nullptr) a.abandon_call(m_, abandoned_);
    if (!abandoned_) {
        if (a.stmt != nullptr && a.stmt_own) mysql_stmt_close(a.stmt);
        if (a.res != nullptr) mysql_free_result(a.res);
    }
    a.stmt = nullptr;
    a.res = nullptr;
    async_.reset();
}

// ----------------------------------------------------------------------------
// Connecting

std::unique_ptr<Connection> Connection::connect_start(ilana::sdk::ConnectParams &params) {
    std::unique_ptr<Connection> conn = configured(params);
    conn->async_.reset(new AsyncState());
    AsyncState &a = *conn->async_;
    const Config &c = conn->cfg_;
    a.connect_deadline = Clock::now() + std::chrono::milliseconds(c.connect_timeout_ms);
    a.setup = session_setup(c);
    conn->m_ = new_session_handle(c, c.connect_timeout_ms);
    a.connect_step = AsyncState::ConnectStep::connect;
    a.suspended(conn->m_, start_real_connect(conn->m_, &a.connect_ret, c, true));
    return conn;
}

bool Connection::connect_step(AsyncWait &wait, bool socket_ready) {
    ensure_thread();
    AsyncState &a = *async_;
    using CS = AsyncState::ConnectStep;
    for (;;) {
        if (a.status != 0) {
            const int ready = socket_ready ? a.ready_now(m_) : 0;
            if (ready == 0) {
                if (Clock::now() >= a.connect_deadline) {
                    const bool in_setup = a.connect_step != CS::connect;
                    a.abandon_call(m_, abandoned_);
                    throw connect_timeout(cfg_, cfg_.connect_timeout_ms, in_setup);
                }
                a.fill(m_, wait, a.connect_deadline);
                return false;
            }
            a.suspended(m_, a.connect_step == CS::connect ? mysql_real_connect_cont(&a.connect_ret, m_, ready)
                                                          : mysql_real_query_cont(&a.ret, m_, ready));
            continue;
        }
        // The step in progress ended: check it, start the next.
        switch (a.connect_step) {
        case CS::connect:
            if (a.connect_ret == nullptr) throw connect_failure(m_, cfg_);
            a.connect_step = CS::setup;
            break;
        case CS::setup: {
            if (a.setup_next > 0 && a.ret != 0) throw setup_failure(m_, cfg_, a.setup[a.setup_next - 1].second);
            if (a.setup_next == a.setup.size()) {
                a.connect_step = CS::track;
                a.suspended(m_, mysql_real_query_start(&a.ret, m_, kTrackStateChange, sizeof kTrackStateChange - 1));
                continue;
            }
            const std::string &sql = a.setup[a.setup_next++].first;
            a.suspended(m_, mysql_real_query_start(&a.ret, m_, sql.data(), static_cast<unsigned long>(sql.size())));
            continue;
        }
        case CS::track: {
            // Only a lost connection is an error here (see kTrackStateChange).
            if (a.ret != 0) {
                DriverFailure f = conn_failure(m_, Phase::Connect, "session tracking");
                if (f.error_class() == ILANA_ERR_CONNECTION || f.error_class() == ILANA_ERR_TIMEOUT) throw f;
            }
            tracks_state_ = a.ret == 0;
            a.connect_step = CS::done;
            adopt_session(nullptr);
            return true;
        }
        case CS::done: return true;
        }
    }
}

// ----------------------------------------------------------------------------
// Statements

void Connection::async_submit(const ilana::sdk::Statement &st, Prepared *handle) {
    ensure_thread();
    ensure_alive();
    if (!async_) async_.reset(new AsyncState());
    const std::string_view sql = handle != nullptr ? std::string_view(handle->sql) : st.sql;
    if (sql.empty()) throw DriverFailure(ILANA_ERR_SYNTAX, "empty statement", "42000", 1065);
    if (st.params.size() > 65535)
        throw DriverFailure(ILANA_ERR_DATA, std::to_string(st.params.size()) +
                                                " parameters: MySQL allows at most 65535 per statement");
    if (st.params.size() > 0 && (st.params.data() == nullptr || st.params.stride() < sizeof(ilana_value)))
        throw misuse("submit: parameters missing or ilana_statement.value_size too small");
    QueuedStatement q;
    q.sql.assign(sql.data(), sql.size());
    q.handle = handle;
    q.cache = (st.flags & ILANA_EXEC_CACHE) != 0;
    q.params.reserve(st.params.size());
    for (uint32_t i = 0; i < st.params.size(); ++i) {
        ilana_value v = *reinterpret_cast<const ilana_value *>(reinterpret_cast<const char *>(st.params.data()) +
                                                              static_cast<size_t>(i) * st.params.stride());
        if (v.is_null == 0 && is_string_type(v.type)) {
            const size_t at = q.bytes.size();
            if (v.v.str.len > 0) q.bytes.append(v.v.str.ptr, static_cast<size_t>(v.v.str.len));
            v.v.str.ptr = reinterpret_cast<const char *>(static_cast<uintptr_t>(at)); // an offset until bound
        }
        q.params.push_back(v);
    }
    async_->queue.push_back(std::move(q));
}

AsyncPoll Connection::async_poll(std::unique_ptr<ilana::sdk::Result> &out, AsyncWait &wait) {
    ensure_thread();
    if (!async_) return AsyncPoll::idle;
    AsyncState &a = *async_;
    using Step = AsyncState::Step;
    auto fail_all = [&](const DriverFailure &f) -> AsyncPoll {
        // The connection broke with this statement running: it and every
        // one queued behind it fail the same way, one per poll.
        op_end();
        mark_broken();
        a.broken = f;
        if (a.stmt != nullptr && a.stmt_own) mysql_stmt_close(a.stmt);
        if (a.res != nullptr) mysql_free_result(a.res);
        a.stmt = nullptr;
        a.res = nullptr;
        a.step = Step::idle;
        a.status = 0;
        throw f;
    };
    if (a.broken && a.step == Step::idle) {
        if (a.queue.empty()) return AsyncPoll::idle;
        a.queue.pop_front();
        throw *a.broken;
    }
    for (;;) {
        if (a.step == Step::idle) {
            if (a.queue.empty()) return AsyncPoll::idle;
            a.running = std::move(a.queue.front());
            a.queue.pop_front();
            note_server_status();
            op_begin();
            const QueuedStatement &q = a.running;
            const bool text = q.params.empty() && (q.handle == nullptr || q.handle->text_only);
            if (text) {
                note_statement(q.sql);
                a.step = Step::query;
                a.suspended(m_, mysql_real_query_start(&a.ret, m_, q.sql.data(), static_cast<unsigned long>(q.sql.size())));
            } else {
                // The statement to execute: the handle's, the LRU's, or a
                // new one prepared now.
                a.stmt = nullptr;
                a.stmt_own = false;
                if (q.handle != nullptr) {
                    Prepared &h = *q.handle;
                    if (h.stmt != nullptr && h.generation != statement_generation_) {
                        mysql_stmt_close(h.stmt); // forgotten by the server at a reset
                        h.stmt = nullptr;
                    }
                    session_changed_ = session_changed_ || h.changes_session;
                    a.stmt = h.stmt;
                } else {
                    note_statement(q.sql);
                    if (q.cache && cfg_.max_prepared > 0) {
                        auto it = cache_index_.find(q.sql);
                        if (it != cache_index_.end()) a.stmt = it->second->stmt;
                    }
                }
                if (a.stmt == nullptr) {
                    a.stmt = mysql_stmt_init(m_);
                    if (a.stmt == nullptr) fail_all(conn_failure(m_, Phase::Statement));
                    a.stmt_own = true;
                    a.step = Step::prepare;
                    a.suspended(m_, mysql_stmt_prepare_start(&a.ret, a.stmt, q.sql.data(),
                                                             static_cast<unsigned long>(q.sql.size())));
                } else {
                    // Prepared already: the prepare step is done.
                    a.step = Step::prepare;
                    a.status = 0;
                    a.ret = 0;
                }
            }
        } else if (a.status != 0) {
            const int ready = a.ready_now(m_);
            if (ready == 0) {
                a.fill(m_, wait, std::nullopt);
                return AsyncPoll::pending;
            }
            a.suspended(m_, a.resume(m_, ready));
            continue;
        }
        if (a.status != 0) continue;

        // The call of the current step ended.
        QueuedStatement &q = a.running;
        auto finish_stmt = [&](bool keep) {
            // A statement prepared for this run: the handle's from now on,
            // or closed (COM_STMT_CLOSE has no reply: no wait).
            if (a.stmt != nullptr && a.stmt_own) {
                if (keep && q.handle != nullptr) {
                    q.handle->stmt = a.stmt;
                    q.handle->generation = statement_generation_;
                } else {
                    mysql_stmt_close(a.stmt);
                }
            }
            a.stmt = nullptr;
            a.stmt_own = false;
        };
        auto statement_failed = [&](const DriverFailure &f) -> AsyncPoll {
            finish_stmt(false);
            a.step = Step::idle;
            if (f.flags() & ILANA_ERRF_CONN_BROKEN) fail_all(f);
            op_end();
            throw f;
        };
        switch (a.step) {
        case Step::query:
            if (a.ret != 0) statement_failed(conn_failure(m_, Phase::Statement));
            if (mysql_field_count(m_) == 0) {
                out = make_status_result(affected(mysql_affected_rows(m_)), static_cast<int64_t>(mysql_insert_id(m_)));
                // CALL's trailing status: read (blocking; it is already
                // on its way with the result just read).
                while (mysql_more_results(m_)) {
                    const int next = mysql_next_result(m_);
                    if (next > 0) statement_failed(conn_failure(m_, Phase::Statement));
                    if (next < 0) break;
                    if (MYSQL_RES *extra = mysql_store_result(m_)) mysql_free_result(extra);
                }
                a.step = Step::idle;
                op_end();
                return AsyncPoll::ready;
            }
            a.step = Step::store;
            a.suspended(m_, mysql_store_result_start(&a.res, m_));
            continue;
        case Step::store: {
            MYSQL_RES *res = a.res;
            a.res = nullptr;
            if (res == nullptr) statement_failed(conn_failure(m_, Phase::Statement));
            a.step = Step::idle;
            op_end(); // every row is here: nothing runs on the server any more
            try {
                out = std::make_unique<TextResult>(this, res, q.sql);
            } catch (...) {
                mysql_free_result(res);
                throw;
            }
            return AsyncPoll::ready;
        }
        case Step::prepare: {
            if (a.stmt_own && a.ret != 0) statement_failed(stmt_failure(a.stmt, Phase::Statement));
            if (a.stmt_own && q.handle == nullptr && q.cache && cfg_.max_prepared > 0) {
                // ILANA_EXEC_CACHE: the LRU keeps it, as take_stmt would.
                cache_statement(q.sql, a.stmt, changes_session(q.sql));
                a.stmt_own = false;
            }
            if (mysql_stmt_param_count(a.stmt) != q.params.size()) {
                const unsigned long want = mysql_stmt_param_count(a.stmt);
                statement_failed(DriverFailure(ILANA_ERR_SYNTAX,
                                               "the statement has " + std::to_string(want) + " placeholder(s) but " +
                                                   std::to_string(q.params.size()) + " parameter(s) were given",
                                               "07001", 0, ILANA_ERRF_NOT_SENT));
            }
            // The strings' offsets become pointers now that `bytes` stays put.
            for (ilana_value &v : q.params)
                if (v.is_null == 0 && is_string_type(v.type))
                    v.v.str.ptr = q.bytes.data() + reinterpret_cast<uintptr_t>(v.v.str.ptr);
            if (!q.params.empty()) {
                MYSQL_BIND *binds = nullptr;
                try {
                    binds = bind_values(q.params.data(), static_cast<uint32_t>(q.params.size()), sizeof(ilana_value));
                } catch (const DriverFailure &f) {
                    statement_failed(f);
                }
                if (mysql_stmt_bind_param(a.stmt, binds) != 0) statement_failed(stmt_failure(a.stmt, Phase::Statement));
            }
            a.step = Step::execute;
            a.suspended(m_, mysql_stmt_execute_start(&a.ret, a.stmt));
            continue;
        }
        case Step::execute:
            if (a.ret != 0) {
                // A cached or handle statement the server forgot, or whose
                // table changed shape: it fails this run (the pipeline of
                // the host went on) and is prepared again at the next.
                const unsigned e = mysql_stmt_errno(a.stmt);
                DriverFailure f = stmt_failure(a.stmt, Phase::Statement);
                if (!a.stmt_own && (e == CR_NEW_STMT_METADATA || e == 1243 /* ER_UNKNOWN_STMT_HANDLER */)) {
                    if (q.handle != nullptr) {
                        mysql_stmt_close(q.handle->stmt);
                        q.handle->stmt = nullptr;
                    } else {
                        borrowed_cached_ = a.stmt;
                        give_back(a.stmt, false); // out of the LRU, closed
                    }
                    a.stmt = nullptr;
                }
                statement_failed(f);
            }
            if (mysql_stmt_field_count(a.stmt) == 0) {
                out = make_status_result(affected(mysql_stmt_affected_rows(a.stmt)),
                                         static_cast<int64_t>(mysql_stmt_insert_id(a.stmt)));
                while (mysql_stmt_more_results(a.stmt)) { // CALL: trailing status (see above)
                    if (mysql_stmt_next_result(a.stmt) != 0) statement_failed(stmt_failure(a.stmt, Phase::Statement));
                    mysql_stmt_free_result(a.stmt);
                }
                finish_stmt(true);
                a.step = Step::idle;
                op_end();
                return AsyncPoll::ready;
            }
            a.step = Step::stmt_store;
            a.suspended(m_, mysql_stmt_store_result_start(&a.ret, a.stmt));
            continue;
        case Step::stmt_store: {
            if (a.ret != 0) statement_failed(stmt_failure(a.stmt, Phase::Statement));
            a.step = Step::idle;
            op_end();
            // The result gives the statement back at its close (give_back):
            // the handle's is lent as on the blocking path, the LRU's is
            // borrowed, one of this run's is closed.
            MYSQL_STMT *s = a.stmt;
            if (q.handle != nullptr) {
                if (a.stmt_own) {
                    q.handle->stmt = s;
                    q.handle->generation = statement_generation_;
                }
                lent_handle_ = q.handle;
            } else if (!a.stmt_own) {
                borrowed_cached_ = s;
            }
            a.stmt = nullptr;
            a.stmt_own = false;
            try {
                out = make_stmt_result(s, q.sql);
            } catch (...) {
                mysql_stmt_free_result(s);
                give_back(s, false);
                throw;
            }
            return AsyncPoll::ready;
        }
        case Step::idle: break;
        }
    }
}

} // namespace ilana::drivers::mysql
