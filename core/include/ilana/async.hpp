// The asynchronous API: statements that do not block their thread, with
// Boost.Asio completion tokens (a callback, boost::asio::use_future, or
// boost::asio::use_awaitable in a C++20 coroutine).
//
//   #include <ilana/async.hpp>
//   boost::asio::io_context io;
//   ilana::Database db = ilana::Database::open("ilana.config.json");
//   ilana::use_executor(db, io.get_executor()); // ilana's waits run on the host's loop
//   db.on("primary").async_query("SELECT name FROM users WHERE id = ?", {42},
//       [](std::exception_ptr error, ilana::Result users) {
//           if (error) { /* std::rethrow_exception(error): an ilana::Error by kind */ return; }
//           ...
//       });
//   io.run();
//
// Every completion has the signature void(std::exception_ptr, T): the
// error is one of <ilana/error.hpp>'s classes (catch by kind after
// rethrowing it; use_future and use_awaitable rethrow it themselves) and T
// is the value the blocking call returns (default-constructed on error).
//
// What runs where:
//   - With a driver that has "ilana.async/1" (PostgreSQL, MariaDB): the
//     statement is sent and its answer read without blocking, on the I/O
//     executor (use_executor, else an I/O thread ilana starts at the first
//     async call). The session comes from the connection's pool with the
//     pool's rules (FIFO waiters, acquireTimeoutMillis, the server budget),
//     asynchronously: a call waiting for a session holds no thread.
//   - Every other driver (SQLite, drivers without the extension): the
//     blocking call runs on ilana's worker threads (a few, started at the
//     first such call) and completes the same way.
//   - Opening a session, pinging one that idled past
//     validateIdleAfterMillis, and the server-side cancel request run on
//     the worker threads too (they are rare and their libraries block).
//   - The completion runs on the handler's associated executor (default:
//     the I/O executor), never inside the initiating call.
// Everything a blocking call does applies: statement retry on a fresh
// session (retry.maxAttempts, only when nothing can run twice), hot reload
// (a call follows its connection's current pool), hooks (onQuery, onError,
// onRetry), metrics, the slow-query log, statement timeouts.
//
// Timeouts and cancellation. A statement timeout (StatementOptions::
// timeout_ms, else the connection's statementTimeoutMs) is a timer on the
// I/O executor: past it the server is asked to stop the statement and the
// call fails with TimeoutError; the session stays usable. Per-operation
// cancellation (boost::asio::bind_cancellation_slot, or awaitable
// operators) cancels a call waiting for a session at once, and one
// running on the server through the server's cancel request: it then
// fails with StatementCanceled (the statement may have completed first:
// then it succeeds). A call running on a worker thread is canceled the
// same way on the server.
#pragma once

#include <ilana/database.hpp>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/associated_cancellation_slot.hpp>
#include <boost/asio/associated_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/post.hpp>

#include <exception>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>

namespace ilana {

// Runs ilana's asynchronous I/O (its socket waits and timers) for `db` on
// `executor`: the host's event loop (an io_context's executor, or a
// strand's). Call it before the first async call on `db`: afterwards it
// throws Error (class config). Without it ilana starts an I/O thread of its
// own at the first async call. With an io_context run by several threads
// ilana keeps each session's I/O on a strand of its own.
void use_executor(const Database &db, boost::asio::any_io_executor executor);
// The executor ilana's asynchronous I/O runs on for `db` (its own I/O
// thread's when use_executor was not called; that thread starts now).
boost::asio::any_io_executor async_executor(const Database &db);

namespace detail {

// A completion handed to the core: called once, from any thread, with the
// error or the value; it runs the user's handler on the handler's
// executor. The core registers its cancel action with on_cancel() while
// the operation starts.
template <class T> class AsyncCompletion {
public:
    struct Impl {
        virtual ~Impl() = default;
        virtual void complete(std::exception_ptr error, T value) = 0;
        // Registers the core's cancel action with the handler's
        // cancellation slot; false when the handler has none (nothing can
        // cancel the operation then).
        virtual bool on_cancel(std::function<void()> action) = 0;
    };
    AsyncCompletion() = default;
    explicit AsyncCompletion(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
    void operator()(std::exception_ptr error, T value) {
        std::unique_ptr<Impl> impl = std::move(impl_);
        if (impl) impl->complete(std::move(error), std::move(value));
    }
    // Calls `action` (from the thread that emits the cancellation) when the
    // handler's cancellation slot is emitted before completion; nothing when
    // the handler has no slot.
    bool on_cancel(std::function<void()> action) {
        return impl_ && impl_->on_cancel(std::move(action));
    }
    explicit operator bool() const noexcept { return static_cast<bool>(impl_); }

private:
    std::unique_ptr<Impl> impl_;
};

template <class T, class Handler> class AsioCompletion final : public AsyncCompletion<T>::Impl {
public:
    using Executor = boost::asio::associated_executor_t<Handler, boost::asio::any_io_executor>;
    AsioCompletion(Handler handler, const boost::asio::any_io_executor &io)
        : handler_(std::move(handler)), work_(boost::asio::get_associated_executor(handler_, io)),
          slot_(boost::asio::get_associated_cancellation_slot(handler_)) {}

    bool on_cancel(std::function<void()> action) override {
        if (!slot_.is_connected()) return false;
        slot_.template emplace<CancelAction>(std::move(action));
        return true;
    }

    // Always by post: never inside the initiating call, and the slot is
    // cleared on the handler's executor, where it was filled.
    void complete(std::exception_ptr error, T value) override {
        Executor ex = work_.get_executor();
        boost::asio::post(ex, [handler = std::move(handler_), work = std::move(work_), slot = slot_,
                               error = std::move(error), value = std::move(value)]() mutable {
            if (slot.is_connected()) slot.clear();
            std::move(handler)(std::move(error), std::move(value));
        });
    }

private:
    struct CancelAction {
        explicit CancelAction(std::function<void()> action) : action(std::move(action)) {}
        void operator()(boost::asio::cancellation_type_t) {
            if (action) action();
        }
        std::function<void()> action;
    };
    Handler handler_;
    boost::asio::executor_work_guard<Executor> work_;
    boost::asio::cancellation_slot slot_;
};

template <class T, class Handler>
AsyncCompletion<T> make_completion(Handler &&handler, const boost::asio::any_io_executor &io) {
    using H = std::decay_t<Handler>;
    return AsyncCompletion<T>(std::make_unique<AsioCompletion<T, H>>(std::forward<Handler>(handler), io));
}

// The core's entry points (core/src/db/async/).
boost::asio::any_io_executor async_io_executor(const Connection &c);
boost::asio::any_io_executor async_io_executor(const Session &s);
boost::asio::any_io_executor async_io_executor(const Statement &s);
void start_query(const Connection &c, std::string sql, Params params, std::optional<StatementOptions> options,
                 AsyncCompletion<Result> done);
void start_execute(const Connection &c, std::string sql, Params params, std::optional<StatementOptions> options,
                   AsyncCompletion<ExecResult> done);
void start_acquire(const Connection &c, AsyncCompletion<Session> done);
void start_query(Session &s, std::string sql, Params params, std::optional<StatementOptions> options,
                 AsyncCompletion<Result> done);
void start_execute(Session &s, std::string sql, Params params, std::optional<StatementOptions> options,
                   AsyncCompletion<ExecResult> done);
void start_query(const Statement &st, Params params, std::optional<StatementOptions> options,
                 AsyncCompletion<Result> done);
void start_execute(const Statement &st, Params params, std::optional<StatementOptions> options,
                   AsyncCompletion<ExecResult> done);

// async_initiate's initiations: one per call shape.
template <class T, class Target> struct SqlInitiation {
    Target *target;
    template <class Handler>
    void operator()(Handler &&handler, std::string sql, Params params, std::optional<StatementOptions> options) {
        auto done = make_completion<T>(std::forward<Handler>(handler), async_io_executor(*target));
        if constexpr (std::is_same_v<T, Result>)
            start_query(*target, std::move(sql), std::move(params), std::move(options), std::move(done));
        else
            start_execute(*target, std::move(sql), std::move(params), std::move(options), std::move(done));
    }
};
template <class T> struct StatementInitiation {
    const Statement *target;
    template <class Handler>
    void operator()(Handler &&handler, Params params, std::optional<StatementOptions> options) {
        auto done = make_completion<T>(std::forward<Handler>(handler), async_io_executor(*target));
        if constexpr (std::is_same_v<T, Result>)
            start_query(*target, std::move(params), std::move(options), std::move(done));
        else
            start_execute(*target, std::move(params), std::move(options), std::move(done));
    }
};
struct AcquireInitiation {
    const Connection *target;
    template <class Handler> void operator()(Handler &&handler) {
        start_acquire(*target, make_completion<Session>(std::forward<Handler>(handler), async_io_executor(*target)));
    }
};

} // namespace detail

// ---- Connection: each call leases a session for its duration -------------

template <class CompletionToken>
auto Connection::async_query(std::string_view sql, Params params, CompletionToken &&token) const {
    return boost::asio::async_initiate<CompletionToken, void(std::exception_ptr, Result)>(
        detail::SqlInitiation<Result, const Connection>{this}, token, std::string(sql), std::move(params),
        std::optional<StatementOptions>());
}
template <class CompletionToken>
auto Connection::async_query(std::string_view sql, Params params, const StatementOptions &options,
                             CompletionToken &&token) const {
    return boost::asio::async_initiate<CompletionToken, void(std::exception_ptr, Result)>(
        detail::SqlInitiation<Result, const Connection>{this}, token, std::string(sql), std::move(params),
        std::optional<StatementOptions>(options));
}
template <class CompletionToken>
auto Connection::async_execute(std::string_view sql, Params params, CompletionToken &&token) const {
    return boost::asio::async_initiate<CompletionToken, void(std::exception_ptr, ExecResult)>(
        detail::SqlInitiation<ExecResult, const Connection>{this}, token, std::string(sql), std::move(params),
        std::optional<StatementOptions>());
}
template <class CompletionToken>
auto Connection::async_execute(std::string_view sql, Params params, const StatementOptions &options,
                               CompletionToken &&token) const {
    return boost::asio::async_initiate<CompletionToken, void(std::exception_ptr, ExecResult)>(
        detail::SqlInitiation<ExecResult, const Connection>{this}, token, std::string(sql), std::move(params),
        std::optional<StatementOptions>(options));
}
template <class CompletionToken> auto Connection::async_acquire(CompletionToken &&token) const {
    return boost::asio::async_initiate<CompletionToken, void(std::exception_ptr, Session)>(
        detail::AcquireInitiation{this}, token);
}

// ---- Session: statements on one held session, pipelined -------------------

template <class CompletionToken>
auto Session::async_query(std::string_view sql, Params params, CompletionToken &&token) {
    return boost::asio::async_initiate<CompletionToken, void(std::exception_ptr, Result)>(
        detail::SqlInitiation<Result, Session>{this}, token, std::string(sql), std::move(params),
        std::optional<StatementOptions>());
}
template <class CompletionToken>
auto Session::async_query(std::string_view sql, Params params, const StatementOptions &options,
                          CompletionToken &&token) {
    return boost::asio::async_initiate<CompletionToken, void(std::exception_ptr, Result)>(
        detail::SqlInitiation<Result, Session>{this}, token, std::string(sql), std::move(params),
        std::optional<StatementOptions>(options));
}
template <class CompletionToken>
auto Session::async_execute(std::string_view sql, Params params, CompletionToken &&token) {
    return boost::asio::async_initiate<CompletionToken, void(std::exception_ptr, ExecResult)>(
        detail::SqlInitiation<ExecResult, Session>{this}, token, std::string(sql), std::move(params),
        std::optional<StatementOptions>());
}
template <class CompletionToken>
auto Session::async_execute(std::string_view sql, Params params, const StatementOptions &options,
                            CompletionToken &&token) {
    return boost::asio::async_initiate<CompletionToken, void(std::exception_ptr, ExecResult)>(
        detail::SqlInitiation<ExecResult, Session>{this}, token, std::string(sql), std::move(params),
        std::optional<StatementOptions>(options));
}

// ---- Statement: a prepared statement, per call on a leased session ---------

template <class CompletionToken> auto Statement::async_query(Params params, CompletionToken &&token) const {
    return boost::asio::async_initiate<CompletionToken, void(std::exception_ptr, Result)>(
        detail::StatementInitiation<Result>{this}, token, std::move(params), std::optional<StatementOptions>());
}
template <class CompletionToken>
auto Statement::async_query(Params params, const StatementOptions &options, CompletionToken &&token) const {
    return boost::asio::async_initiate<CompletionToken, void(std::exception_ptr, Result)>(
        detail::StatementInitiation<Result>{this}, token, std::move(params), std::optional<StatementOptions>(options));
}
template <class CompletionToken> auto Statement::async_execute(Params params, CompletionToken &&token) const {
    return boost::asio::async_initiate<CompletionToken, void(std::exception_ptr, ExecResult)>(
        detail::StatementInitiation<ExecResult>{this}, token, std::move(params), std::optional<StatementOptions>());
}
template <class CompletionToken>
auto Statement::async_execute(Params params, const StatementOptions &options, CompletionToken &&token) const {
    return boost::asio::async_initiate<CompletionToken, void(std::exception_ptr, ExecResult)>(
        detail::StatementInitiation<ExecResult>{this}, token, std::move(params),
        std::optional<StatementOptions>(options));
}

} // namespace ilana
