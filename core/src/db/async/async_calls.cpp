// The async API's calls (<ilana/async.hpp>): Connection::async_query /
// async_execute / async_acquire and Session::async_query / async_execute.
//
// One call is a StatementCall. On a driver with "ilana.async/1" it leases a
// session without blocking (Pool::acquire_async; the acquire timeout is a
// timer here), submits the statement to the session's AsyncSession and
// reads the result on that session's strand when it completes; then it
// records the statement (metrics, query log, onQuery/onError), gives the
// session back and either delivers or, when db/statement_retry says the
// statement may run again, waits the backoff and starts over on a fresh
// lease. A driver without the extension runs the blocking call on a
// worker thread, which does all of that itself.
//
// A call's own state (phase, timers, the session it holds, a cancel
// request on its way) is guarded by its mutex: the pool, the session's
// strand, the timers and the canceling thread each reach it from their
// own thread. Nothing blocking runs under that mutex.
#include <ilana/async.hpp>

#include "async/async_lanes.hpp"
#include "async/async_runtime.hpp"
#include "async/timed_lease.hpp"
#include "common/error_factory.hpp"
#include "common/sql_kind.hpp"
#include "db/database_state.hpp"
#include "db/placeholders.hpp"
#include "db/prepared_state.hpp"
#include "db/statement_events.hpp"
#include "db/statement_retry.hpp"
#include "db/statement_run.hpp"

#include <ilana/logging.hpp>

#include <spdlog/spdlog.h>

#include <boost/asio/bind_executor.hpp>
#include <boost/asio/post.hpp>

#include <optional>

namespace ilana {

namespace asio = boost::asio;
using detail::AsyncRuntime;
using detail::AsyncSession;
using detail::ConnectionState;
using detail::InternalAccess;

void use_executor(const Database &db, asio::any_io_executor executor) {
    InternalAccess::state(db).async_runtime->use_executor(std::move(executor));
}
asio::any_io_executor async_executor(const Database &db) { return InternalAccess::state(db).async_runtime->io(); }

namespace detail {

asio::any_io_executor async_io_executor(const Connection &c) { return InternalAccess::state(c).async_runtime->io(); }
asio::any_io_executor async_io_executor(const Session &s) { return InternalAccess::state(s).async_runtime->io(); }

namespace {

// What a statement's open result becomes for the caller.
void consume(NativeResult &r, std::string_view sql, int64_t timeout_ms, Result &out) {
    (void)sql;
    (void)timeout_ms;
    r.read_all(out);
}
void consume(NativeResult &r, std::string_view sql, int64_t timeout_ms, ExecResult &out) {
    out = counts_of(r, sql, timeout_ms);
}

// What `fn` throws, taken as an exception_ptr outside its catch block. An
// error goes on to a handler that may run on another thread at once: handed
// on from inside the catch, the end of the catch on this thread could drop
// the exception's last reference after the handler's reads, and TSan, which
// does not see libstdc++'s atomic reference count, reports that free as a
// race with them.
template <class Fn> std::exception_ptr caught(Fn &&fn) noexcept {
    try {
        fn();
    } catch (...) {
        return std::current_exception();
    }
    return nullptr;
}

// An exception_ptr as the ilana::Error it holds (nullptr for another kind).
template <class Fn> void with_error(const std::exception_ptr &ep, Fn &&fn) {
    try {
        std::rethrow_exception(ep);
    } catch (Error &e) {
        fn(e);
    } catch (...) {
    }
}

template <class T> class StatementCall : public std::enable_shared_from_this<StatementCall<T>> {
public:
    enum class Mode { per_call, held_session };

    // `timeout_ms`: timeout_of() the call's options. `prepared` (with
    // `owner`, the Statement's state keeping it alive): a Statement's call,
    // its SQL `sql`.
    StatementCall(std::shared_ptr<ConnectionState> cs, std::string sql, Params params, int64_t timeout_ms,
                  AsyncCompletion<T> done, const PreparedState *prepared = nullptr,
                  std::shared_ptr<PreparedState> owner = nullptr)
        : cs_(std::move(cs)), rt_(*cs_->async_runtime), sql_(std::move(sql)), params_(std::move(params)),
          timeout_ms_(timeout_ms), done_(std::move(done)), prepared_(prepared), prepared_owner_(std::move(owner)) {}

    // Connection::async_* and Statement::async_*: a place on one of the
    // connection's lanes (sessions its async statements share, pipelined
    // where the driver pipelines: async_lanes.hpp) for a statement that
    // leaves nothing on its session, alone on its lane when it may be
    // canceled on the server (a cancel request stops whatever the server
    // runs there); else a session leased per attempt.
    void start_per_call() {
        mode_ = Mode::per_call;
        const bool cancellable = watch_cancel();
        const ilana_async_api *api = cs_->target->driver->async_api();
        if (api == nullptr) return run_blocking_per_call();
        on_lanes_ = prepared_ == nullptr && may_share_session(sql_);
        alone_ = cancellable || timeout_ms_ > 0;
        acquire();
    }

    // Session::async_*: on the caller's session, without retry.
    void start_on(Session &s, PooledConnection &pc) {
        mode_ = Mode::held_session;
        watch_cancel();
        std::shared_ptr<AsyncSession> session = AsyncSession::of(pc, rt_);
        if (!session->nonblocking()) return run_blocking_on(s, session);
        {
            std::lock_guard<std::mutex> lock(mu_);
            session_ = session;
            phase_ = Phase::running;
        }
        asio::post(session->strand(), [self = this->shared_from_this()] { self->submit(); });
    }

private:
    enum class Phase { idle, acquiring, running, pausing, finished };

    // True when the handler can cancel the call.
    bool watch_cancel() {
        std::weak_ptr<StatementCall> weak = this->shared_from_this();
        return done_.on_cancel([weak] {
            if (auto self = weak.lock()) self->cancel(false);
        });
    }

    // ---- per call ------------------------------------------------------

    void acquire() {
        if (on_lanes_) return acquire_lane();
        std::shared_ptr<detail::Pool> pool;
        if (std::exception_ptr error = caught([&] { pool = cs_->pool().shared_from_this(); }))
            return deliver(std::move(error));
        // Kept while it waits, for a cancellation (TimedLease passes on one
        // that comes before the wait began).
        auto lease = std::make_shared<TimedLease>(pool);
        {
            std::lock_guard<std::mutex> lock(mu_);
            if (phase_ == Phase::finished) return;
            phase_ = Phase::acquiring;
            pool_ = pool;
            acquire_started_ = std::chrono::steady_clock::now();
            lease_ = lease;
            if (cancel_requested_) lease->cancel();
        }
        lease->start(rt_, cs_->config.pool.acquire_timeout_ms,
                     [self = this->shared_from_this()](std::unique_ptr<PooledConnection> pc,
                                                       std::exception_ptr error) {
                         self->leased(std::move(pc), std::move(error));
                     });
    }

    void acquire_lane() {
        std::shared_ptr<AsyncLanes> lanes;
        if (std::exception_ptr error = caught([&] {
                if (cs_->forward.load(std::memory_order_acquire) != nullptr) cs_ = ConnectionState::live_shared(cs_);
                lanes = AsyncLanes::of(*cs_);
            }))
            return deliver(std::move(error));
        {
            std::lock_guard<std::mutex> lock(mu_);
            if (phase_ == Phase::finished) return;
            phase_ = Phase::acquiring;
            lanes_ = lanes;
        }
        lanes->assign(
            [self = this->shared_from_this()](const std::shared_ptr<AsyncLanes::Lane> &lane, std::exception_ptr error) {
                {
                    std::lock_guard<std::mutex> lock(self->mu_);
                    if (self->phase_ == Phase::finished) { // canceled while it waited: the place goes back
                        if (lane)
                            asio::post(lane->session->strand(),
                                       [lanes = self->lanes_, lane] { lanes->completed(lane); });
                        return;
                    }
                    if (!error) {
                        self->lane_ = lane;
                        self->session_ = lane->session;
                        self->phase_ = Phase::running;
                    }
                }
                if (error) return self->leased(nullptr, std::move(error)); // a reload's pool, or the lease's error
                asio::post(lane->session->strand(), [self] { self->submit(); });
            },
            alone_);
    }

    void leased(std::unique_ptr<PooledConnection> pc, std::exception_ptr error) {
        std::unique_lock<std::mutex> lock(mu_);
        lease_.reset();
        if (error) {
            phase_ = Phase::idle;
            lock.unlock();
            // A reload retired the pool meanwhile: the call goes to the
            // connection's current pool (ConfigError when it was removed).
            if (cs_->forward.load(std::memory_order_acquire) != nullptr) {
                if (std::exception_ptr moved = caught([&] {
                        if (prepared_owner_) { // the statement of the connection's current pool
                            prepared_ = &prepared_owner_->live();
                            cs_ = prepared_->cs;
                        } else {
                            cs_ = ConnectionState::live_shared(cs_);
                        }
                    }))
                    return deliver(std::move(moved));
                return acquire();
            }
            return deliver(error);
        }
        cs_->metrics.record_acquire(std::chrono::duration_cast<std::chrono::microseconds>(
            std::chrono::steady_clock::now() - acquire_started_));
        pc_ = std::move(pc);
        session_ = AsyncSession::of(*pc_, rt_);
        phase_ = Phase::running;
        if (cancel_requested_) {
            lock.unlock();
            return finish_attempt(make_error_ptr(
                Error("[" + cs_->name + "] the call was canceled before its statement was sent", ErrorClass::canceled,
                      cs_->name)));
        }
        auto session = session_;
        lock.unlock();
        asio::post(session->strand(), [self = this->shared_from_this()] { self->submit(); });
    }

    // ---- on the session's strand ---------------------------------------

    void submit() {
        NativeConnection &conn = session_->conn();
        if (prepared_ != nullptr) return submit_prepared(conn);
        std::string_view text = sql_;
        std::string rewritten; // the driver copies what it keeps (submit)
        if (std::exception_ptr error = caught([&] {
                const int style = conn.placeholder_style();
                if (!placeholders_passthrough(sql_, style)) {
                    const size_t count = rewrite_placeholders(sql_, style, rewritten);
                    if (count != params_.size()) throw_parameter_count(*cs_, count, params_.size());
                    text = rewritten;
                }
            }))
            return completed(nullptr, std::move(error));
        send(text, nullptr);
    }

    // A Statement's call: its handle on this session, prepared first (on a
    // worker: it blocks for a round trip) when the session has not run it.
    void submit_prepared(NativeConnection &conn) {
        const PreparedState &ps = *prepared_;
        if (params_.size() != ps.param_count)
            return completed(nullptr, caught([&] { throw_parameter_count(*cs_, ps.param_count, params_.size()); }));
        if (!conn.prepares_by_handle()) return send(ps.text_for(conn), nullptr);
        if (ilana_prepared *handle = conn.prepared_if_ready(ps.slot, ps.id)) return send(ps.text_for(conn), handle);
        auto self = this->shared_from_this();
        auto session = session_;
        rt_.run_blocking([self, session] {
            NativeConnection &conn = session->conn();
            const PreparedState &ps = *self->prepared_;
            std::exception_ptr error;
            try {
                conn.prepared(ps.slot, ps.id, ps.text_for(conn), ps.param_count, ps.sql);
            } catch (...) {
                error = std::current_exception();
            }
            asio::post(session->strand(), [self, error] {
                if (error) return self->completed(nullptr, error);
                self->submit_prepared(self->session_->conn());
            });
        });
    }

    void send(std::string_view text, ilana_prepared *handle) {
        started_ = StatementClock::now();
        if (timeout_ms_ > 0) {
            statement_timer_ = std::make_unique<asio::steady_timer>(session_->strand());
            statement_timer_->expires_after(std::chrono::milliseconds(timeout_ms_));
            statement_timer_->async_wait([self = this->shared_from_this()](const boost::system::error_code &ec) {
                if (!ec) self->cancel(true);
            });
        }
        auto self = this->shared_from_this();
        const bool may_write = prepared_ != nullptr ? !prepared_->read_only : !is_read_only(sql_);
        session_->submit(text, params_.data(), params_.size(), sql_, may_write, handle,
                         [self](NativeResult *r, std::exception_ptr error) { self->completed(r, std::move(error)); });
    }

    void completed(NativeResult *r, std::exception_ptr error) {
        if (statement_timer_) statement_timer_->cancel();
        if (r != nullptr) {
            try {
                consume(*r, sql_, timeout_ms_, value_);
            } catch (...) {
                error = std::current_exception();
            }
        }
        bool timed_out;
        {
            std::lock_guard<std::mutex> lock(mu_);
            timed_out = timed_out_;
        }
        if (error && timed_out) {
            with_error(error, [&](Error &e) {
                if (e.error_class() != ErrorClass::canceled) return;
                Error t("[" + cs_->name + "] the statement ran past its timeout of " + std::to_string(timeout_ms_) +
                            "ms (StatementOptions::timeout_ms or statementTimeoutMs) and was canceled on the server",
                        ErrorClass::timeout, cs_->name);
                t.set_sql(e.sql());
                error = make_error_ptr(std::move(t));
            });
        }
        if (started_ != StatementClock::Ticks{})
            record_statement(*cs_, sql_, StatementClock::between(started_, StatementClock::now()), !error, "query");
        if (error) {
            NativeConnection &conn = session_->conn();
            with_error(error, [&](Error &e) {
                conn.set_statement(e, sql_);
                report_error(*cs_, e);
            });
            // Prepared again on the next call (a schema change makes the
            // old plan fail; the new one sees the new schema).
            if (prepared_ != nullptr && conn.prepares_by_handle() && !conn.broken())
                conn.forget_prepared(prepared_->slot);
        }
        std::unique_lock<std::mutex> lock(mu_);
        if (cancels_in_flight_ > 0) {
            // The cancel request must not reach the session after it went
            // back to the pool (it would stop another lease's statement).
            pending_error_ = std::move(error);
            finish_pending_ = true;
            return;
        }
        lock.unlock();
        finish_attempt(std::move(error));
    }

    // The attempt is over: a per-call lease goes back to its pool (on the
    // session's strand, after the last poll), then the call is delivered
    // or tried again.
    void finish_attempt(std::exception_ptr error) {
        if (mode_ == Mode::held_session) {
            // Delivered by a handler of its own on the session's strand, so
            // after the poll that completed the statement has let go of the
            // connection (its result closed, the socket deregistered when
            // idle): the caller may end the Session the moment it has the
            // value, and ending it gives the connection back to the pool.
            std::shared_ptr<AsyncSession> session;
            {
                std::lock_guard<std::mutex> lock(mu_);
                session = session_;
            }
            asio::post(session->strand(),
                       [self = this->shared_from_this(), error = std::move(error)]() mutable {
                           self->deliver(std::move(error));
                       });
            return;
        }
        std::shared_ptr<AsyncSession> session;
        std::unique_ptr<PooledConnection> pc;
        std::shared_ptr<Pool> pool;
        {
            std::lock_guard<std::mutex> lock(mu_);
            session = std::move(session_);
            pc = std::move(pc_);
            pool = pool_;
        }
        if (!session) return deliver_or_retry(std::move(error));
        if (lane_) {
            // Delivered first: the caller's handler is posted before the
            // lane's idle check, so a caller that goes on at once finds
            // the lane still there.
            std::shared_ptr<AsyncLanes::Lane> lane = std::move(lane_);
            deliver_or_retry(std::move(error));
            lanes_->completed(lane);
            return;
        }
        auto self = this->shared_from_this();
        asio::post(session->strand(), [self, session, pc = std::move(pc), pool, error = std::move(error)]() mutable {
            session->quiesce();
            // The session's Asio objects go with the lease: a pooled session
            // holds none, so the pool may close it on any thread, after the
            // host's io_context is gone too.
            pc->async_state.reset();
            pool->release(std::move(pc));
            self->deliver_or_retry(std::move(error));
        });
    }

    void deliver_or_retry(std::exception_ptr error) {
        if (error && mode_ == Mode::per_call) {
            const RetryOptions &r = cs_->config.retry ? *cs_->config.retry : cs_->whole_config->retry();
            bool again = false;
            std::chrono::milliseconds delay{0};
            with_error(error, [&](Error &e) {
                std::lock_guard<std::mutex> lock(mu_);
                if (attempt_ < r.max_attempts && !cancel_requested_ && safe_to_retry(e, sql_)) {
                    again = true;
                    delay = announce_retry(*cs_, r, attempt_ + 1, e);
                }
            });
            if (again) {
                std::lock_guard<std::mutex> lock(mu_);
                ++attempt_;
                phase_ = Phase::pausing;
                started_ = {};
                value_ = T{};
                timer_ = std::make_unique<asio::steady_timer>(rt_.io());
                timer_->expires_after(delay);
                timer_->async_wait([self = this->shared_from_this()](const boost::system::error_code &ec) {
                    if (!ec) self->acquire();
                    else self->deliver(make_error_ptr(Error("[" + self->cs_->name + "] the call was canceled",
                                                            ErrorClass::canceled, self->cs_->name)));
                });
                return;
            }
        }
        deliver(std::move(error));
    }

    // The call's own Asio objects (its timers, the session's strand and
    // socket it held) go before the completion is posted: what is left of
    // the call may be released on a worker thread after the caller's
    // handler ran and the host's io_context is gone.
    void deliver(std::exception_ptr error) {
        std::unique_ptr<asio::steady_timer> timer, statement_timer;
        std::shared_ptr<AsyncSession> session;
        {
            std::lock_guard<std::mutex> lock(mu_);
            if (phase_ == Phase::finished) return;
            phase_ = Phase::finished;
            timer = std::move(timer_);
            statement_timer = std::move(statement_timer_); // on the session's strand, or never armed
            session = std::move(session_);
        }
        timer.reset();
        statement_timer.reset();
        session.reset();
        done_(std::move(error), error ? T{} : std::move(value_));
    }

    // A timeout (`timed_out`) or the caller's cancellation: a call waiting
    // for a session stops waiting; one running is canceled on the server
    // (a request on a connection of its own: a worker thread's job).
    void cancel(bool timed_out) {
        std::unique_lock<std::mutex> lock(mu_);
        if (phase_ == Phase::finished) return;
        cancel_requested_ = cancel_requested_ || !timed_out;
        if (timed_out) timed_out_ = true;
        if (phase_ == Phase::acquiring && lease_) {
            std::shared_ptr<TimedLease> lease = lease_;
            lock.unlock();
            lease->cancel();
            return;
        }
        if (phase_ == Phase::acquiring && on_lanes_) { // waiting for a lane: it stops waiting now
            lock.unlock();
            deliver(make_error_ptr(Error("[" + cs_->name + "] the call was canceled while waiting for a session",
                                         ErrorClass::canceled, cs_->name)));
            return;
        }
        if (phase_ == Phase::pausing) {
            if (timer_) timer_->cancel();
            return;
        }
        if (phase_ != Phase::running || !session_) return;
        ++cancels_in_flight_;
        auto self = this->shared_from_this();
        std::shared_ptr<AsyncSession> session = session_;
        NativeConnection *conn = &session_->conn();
        lock.unlock();
        rt_.run_blocking([self, session, conn] {
            try {
                conn->cancel();
            } catch (const Error &e) {
                ilana::logger()->info("conn={} the cancel request failed: {}", self->cs_->name, e.what());
            }
            std::unique_lock<std::mutex> lock(self->mu_);
            if (--self->cancels_in_flight_ > 0 || !self->finish_pending_) return;
            self->finish_pending_ = false;
            std::exception_ptr error = std::move(self->pending_error_);
            lock.unlock();
            // On the session's strand, where an attempt ends (a lane's
            // bookkeeping reads its session there).
            asio::post(session->strand(), [self, error = std::move(error)]() mutable {
                self->finish_attempt(std::move(error));
            });
        });
    }

    // ---- drivers without "ilana.async/1": the blocking call on a worker --

    void run_blocking_per_call() {
        auto self = this->shared_from_this();
        rt_.run_blocking([self] {
            self->deliver(caught([&] {
                const StatementOptions options{self->timeout_ms_};
                if (self->prepared_owner_) {
                    Statement st = InternalAccess::make_statement(self->prepared_owner_);
                    if constexpr (std::is_same_v<T, Result>) self->value_ = st.query(self->params_, options);
                    else self->value_ = st.execute(self->params_, options);
                } else {
                    Connection c = InternalAccess::make_connection(self->cs_);
                    if constexpr (std::is_same_v<T, Result>) self->value_ = c.query(self->sql_, self->params_, options);
                    else self->value_ = c.execute(self->sql_, self->params_, options);
                }
            }));
        });
    }

    // In submission order: the session's strand runs on the workers.
    void run_blocking_on(Session &s, const std::shared_ptr<AsyncSession> &lane) {
        auto self = this->shared_from_this();
        Session *session = &s;
        asio::post(lane->strand(), [self, session] {
            self->deliver(caught([&] {
                const StatementOptions options{self->timeout_ms_};
                if constexpr (std::is_same_v<T, Result>) self->value_ = session->query(self->sql_, self->params_, options);
                else self->value_ = session->execute(self->sql_, self->params_, options);
            }));
        });
    }

    std::shared_ptr<ConnectionState> cs_;
    AsyncRuntime &rt_;
    const std::string sql_;
    const Params params_;
    const int64_t timeout_ms_;
    AsyncCompletion<T> done_;
    const PreparedState *prepared_; // the live one (a reload may replace it between attempts)
    const std::shared_ptr<PreparedState> prepared_owner_;
    Mode mode_ = Mode::per_call;

    std::mutex mu_;
    Phase phase_ = Phase::idle;
    // Made when needed, and held by pointer: most calls never arm one, and
    // a call's size is what thousands of statements in flight cost.
    std::unique_ptr<asio::steady_timer> timer_; // the retry pause
    std::shared_ptr<TimedLease> lease_;         // a per-call lease being waited for
    std::shared_ptr<Pool> pool_;
    std::chrono::steady_clock::time_point acquire_started_;
    std::unique_ptr<PooledConnection> pc_;
    std::shared_ptr<AsyncSession> session_;
    bool on_lanes_ = false, alone_ = false;
    std::shared_ptr<AsyncLanes> lanes_;
    std::shared_ptr<AsyncLanes::Lane> lane_; // on the session's strand
    int attempt_ = 1;
    bool cancel_requested_ = false, timed_out_ = false;
    int cancels_in_flight_ = 0;
    bool finish_pending_ = false;
    std::exception_ptr pending_error_;

    // On the session's strand.
    std::unique_ptr<asio::steady_timer> statement_timer_;
    StatementClock::Ticks started_{};
    T value_{};
};

// Connection::async_acquire: a Session from the pool without blocking.
class AcquireCall : public std::enable_shared_from_this<AcquireCall> {
public:
    AcquireCall(std::shared_ptr<ConnectionState> cs, AsyncCompletion<Session> done)
        : cs_(std::move(cs)), rt_(*cs_->async_runtime), done_(std::move(done)) {}

    void start() {
        std::weak_ptr<AcquireCall> weak = shared_from_this();
        done_.on_cancel([weak] {
            if (auto self = weak.lock()) self->abandon();
        });
        acquire();
    }

private:
    void acquire() {
        std::shared_ptr<Pool> pool;
        if (std::exception_ptr error = caught([&] { pool = cs_->pool().shared_from_this(); }))
            return deliver(std::move(error), nullptr);
        auto lease = std::make_shared<TimedLease>(pool); // kept while it waits, for a cancellation
        {
            std::lock_guard<std::mutex> lock(mu_);
            started_ = std::chrono::steady_clock::now();
            lease_ = lease;
            if (canceled_) lease->cancel();
        }
        lease->start(rt_, cs_->config.pool.acquire_timeout_ms,
                     [self = shared_from_this()](std::unique_ptr<PooledConnection> pc, std::exception_ptr error) {
                         self->leased(std::move(pc), std::move(error));
                     });
    }

    void abandon() {
        std::shared_ptr<TimedLease> lease;
        {
            std::lock_guard<std::mutex> lock(mu_);
            canceled_ = true;
            lease = lease_;
        }
        if (lease) lease->cancel();
    }

    void leased(std::unique_ptr<PooledConnection> pc, std::exception_ptr error) {
        bool canceled;
        {
            std::lock_guard<std::mutex> lock(mu_);
            lease_.reset();
            canceled = canceled_;
        }
        if (error && !canceled && cs_->forward.load(std::memory_order_acquire) != nullptr) {
            // A reload retired the pool meanwhile: the connection's current one.
            if (std::exception_ptr moved = caught([&] { cs_ = ConnectionState::live_shared(cs_); }))
                return deliver(std::move(moved), nullptr);
            return acquire();
        }
        if (!error)
            cs_->metrics.record_acquire(
                std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - started_));
        deliver(std::move(error), std::move(pc));
    }

    void deliver(std::exception_ptr error, std::unique_ptr<PooledConnection> pc) {
        if (error) return done_(std::move(error), InternalAccess::make_session(nullptr, nullptr));
        done_(nullptr, InternalAccess::make_session(cs_, std::move(pc)));
    }

    std::shared_ptr<ConnectionState> cs_;
    AsyncRuntime &rt_;
    AsyncCompletion<Session> done_;
    std::mutex mu_;
    std::shared_ptr<TimedLease> lease_; // while it waits
    std::chrono::steady_clock::time_point started_;
    bool canceled_ = false;
};

// The handle's current state (a reload may have replaced its connection);
// the error goes to the completion, by post, when there is none.
template <class T, class Handle> std::shared_ptr<ConnectionState> live_state(const Handle &h, AsyncCompletion<T> &done) {
    std::shared_ptr<ConnectionState> cs;
    if (std::exception_ptr error = caught([&] { cs = ConnectionState::live_shared(InternalAccess::shared_state(h)); }))
        done(std::move(error), T{});
    return cs;
}

template <class T>
void start_per_call(const Connection &c, std::string sql, Params params, std::optional<StatementOptions> options,
                    AsyncCompletion<T> done) {
    std::shared_ptr<ConnectionState> cs = live_state(c, done);
    if (!cs) return;
    std::shared_ptr<StatementCall<T>> call;
    if (std::exception_ptr error = caught([&] {
            note_if_write(*cs, sql);
            const int64_t timeout = timeout_of(*cs, options ? &*options : nullptr);
            call = std::make_shared<StatementCall<T>>(cs, std::move(sql), std::move(params), timeout, std::move(done));
        })) {
        if (done) done(std::move(error), T{});
        return;
    }
    call->start_per_call();
}

template <class T>
void start_on_session(Session &s, std::string sql, Params params, std::optional<StatementOptions> options,
                      AsyncCompletion<T> done) {
    PooledConnection *pc = InternalAccess::pooled(s);
    if (pc == nullptr) {
        done(make_error_ptr(Error("async call on a Session that holds no session (moved from)", ErrorClass::internal)),
             T{});
        return;
    }
    std::shared_ptr<StatementCall<T>> call;
    if (std::exception_ptr error = caught([&] {
            const std::shared_ptr<ConnectionState> &cs = InternalAccess::shared_state(s);
            const int64_t timeout = timeout_of(*cs, options ? &*options : nullptr);
            call = std::make_shared<StatementCall<T>>(cs, std::move(sql), std::move(params), timeout, std::move(done));
        })) {
        if (done) done(std::move(error), T{});
        return;
    }
    call->start_on(s, *pc);
}

template <class T>
void start_prepared(const Statement &st, Params params, std::optional<StatementOptions> options,
                    AsyncCompletion<T> done) {
    std::shared_ptr<StatementCall<T>> call;
    if (std::exception_ptr error = caught([&] {
            const std::shared_ptr<PreparedState> &owner = InternalAccess::shared_state(st);
            if (!owner)
                throw Error("this ilana::Statement is empty (default-constructed or moved from): make one with "
                            "Connection::prepare or Session::prepare",
                            ErrorClass::config);
            const PreparedState &ps = owner->live(); // ConfigError when a reload removed its connection
            note_if_write(*ps.cs, !ps.read_only);
            const int64_t timeout = timeout_of(*ps.cs, options ? &*options : nullptr);
            call = std::make_shared<StatementCall<T>>(ps.cs, ps.sql, std::move(params), timeout, std::move(done), &ps,
                                                      owner);
        })) {
        if (done) done(std::move(error), T{});
        return;
    }
    call->start_per_call();
}

} // namespace

asio::any_io_executor async_io_executor(const Statement &st) {
    const auto &owner = InternalAccess::shared_state(st);
    if (!owner) throw Error("this ilana::Statement is empty (default-constructed or moved from)", ErrorClass::config);
    return owner->cs->async_runtime->io();
}
void start_query(const Statement &st, Params params, std::optional<StatementOptions> options,
                 AsyncCompletion<Result> done) {
    start_prepared(st, std::move(params), std::move(options), std::move(done));
}
void start_execute(const Statement &st, Params params, std::optional<StatementOptions> options,
                   AsyncCompletion<ExecResult> done) {
    start_prepared(st, std::move(params), std::move(options), std::move(done));
}

void start_query(const Connection &c, std::string sql, Params params, std::optional<StatementOptions> options,
                 AsyncCompletion<Result> done) {
    start_per_call(c, std::move(sql), std::move(params), std::move(options), std::move(done));
}
void start_execute(const Connection &c, std::string sql, Params params, std::optional<StatementOptions> options,
                   AsyncCompletion<ExecResult> done) {
    start_per_call(c, std::move(sql), std::move(params), std::move(options), std::move(done));
}
void start_query(Session &s, std::string sql, Params params, std::optional<StatementOptions> options,
                 AsyncCompletion<Result> done) {
    start_on_session(s, std::move(sql), std::move(params), std::move(options), std::move(done));
}
void start_execute(Session &s, std::string sql, Params params, std::optional<StatementOptions> options,
                   AsyncCompletion<ExecResult> done) {
    start_on_session(s, std::move(sql), std::move(params), std::move(options), std::move(done));
}
void start_acquire(const Connection &c, AsyncCompletion<Session> done) {
    std::shared_ptr<ConnectionState> cs;
    if (std::exception_ptr error = caught([&] { cs = ConnectionState::live_shared(InternalAccess::shared_state(c)); })) {
        done(std::move(error), InternalAccess::make_session(nullptr, nullptr));
        return;
    }
    std::make_shared<AcquireCall>(std::move(cs), std::move(done))->start();
}

} // namespace detail
} // namespace ilana
