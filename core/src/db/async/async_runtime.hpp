// The async API's machinery (README "Asynchronous API"): per Database, the
// executor its socket waits and timers run on and the worker threads for
// what cannot run without blocking; per session, the driver's non-blocking
// statements ("ilana.async/1") driven from that executor.
#pragma once

#ifndef ILANA_CORE_LAYER_DB
#error "async/async_runtime.hpp is the db layer's own"
#endif

#include "plugins/native_connection.hpp"
#include "pool/pool.hpp"

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/thread_pool.hpp>

#include <atomic>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

namespace ilana::detail {

// Where a Database's async calls run: its I/O executor (the host's, given
// by use_executor before the first async call, else an I/O thread of its
// own started at the first one) and a few worker threads (started at the
// first blocking step) for what blocks: drivers without "ilana.async/1",
// opening sessions, the server-side cancel request.
class AsyncRuntime final : public AsyncStepRunner {
public:
    AsyncRuntime() = default;
    ~AsyncRuntime() override;
    AsyncRuntime(const AsyncRuntime &) = delete;
    AsyncRuntime &operator=(const AsyncRuntime &) = delete;

    // Throws Error (config) once the executor is in use.
    void use_executor(boost::asio::any_io_executor executor);
    // The I/O executor (starting the own I/O thread when none was given).
    const boost::asio::any_io_executor &io();

    void post(std::function<void()> step) override;
    void run_blocking(std::function<void()> step) override;
    // The worker threads' executor (starting them now).
    boost::asio::any_io_executor workers();

    // How many worker threads run blocking steps.
    static unsigned worker_count() noexcept;

private:
    std::mutex mu_;
    std::atomic<const boost::asio::any_io_executor *> io_{nullptr};
    std::optional<boost::asio::any_io_executor> executor_;
    std::unique_ptr<boost::asio::io_context> own_io_;
    std::optional<boost::asio::executor_work_guard<boost::asio::io_context::executor_type>> own_work_;
    std::thread own_thread_;
    std::once_flag workers_once_;
    std::unique_ptr<boost::asio::thread_pool> workers_;
};

// One session's non-blocking statements: a queue of what was submitted,
// completed in order through the driver's poll, with the waits on its
// socket (and the driver's own deadline) on a strand of the I/O executor.
// Every member but the constructor runs on strand(). A session's
// AsyncSession lives with its PooledConnection (PooledConnection::
// async_state) and drops its socket registration when the lease that used
// it ends (quiesce), so a session the pool closes later holds none.
class AsyncSession : public std::enable_shared_from_this<AsyncSession> {
public:
    // Called on the strand with the statement's open result (read it now:
    // the next poll needs it closed) or its error.
    using Completion = std::function<void(NativeResult *, std::exception_ptr)>;

    AsyncSession(const boost::asio::any_io_executor &executor, NativeConnection &conn);
    ~AsyncSession();
    AsyncSession(const AsyncSession &) = delete;
    AsyncSession &operator=(const AsyncSession &) = delete;

    // The session of `pc`, made on first use: on a strand of `rt`'s I/O
    // executor when its driver has "ilana.async/1", else on a strand of its
    // workers (nonblocking() false: the session's calls run blocking there,
    // one after another in submission order).
    static std::shared_ptr<AsyncSession> of(PooledConnection &pc, AsyncRuntime &rt);
    bool nonblocking() const noexcept { return conn_.async_api() != nullptr; }

    const boost::asio::strand<boost::asio::any_io_executor> &strand() const noexcept { return strand_; }
    NativeConnection &conn() noexcept { return conn_; }

    // Queues one statement (`text` in the connection's placeholder style,
    // or `prepared`); `done` is called once. A refused submit completes
    // with its error at once. `as_written` (the SQL as the caller wrote
    // it, named in errors) is kept by reference: it must stay valid until
    // `done` was called (the caller's call object holds both).
    void submit(std::string_view text, const Value *params, size_t count, std::string_view as_written,
                bool may_write, ilana_prepared *prepared, Completion done);
    size_t in_flight() const noexcept { return queue_.size(); }
    // Nothing in flight: the socket's registration with the executor goes
    // (its fd stays the driver's); the next submit makes it again.
    void quiesce() noexcept;

private:
    struct Pending {
        Completion done;
        std::string_view sql; // as written, for errors (submit's as_written)
        bool may_write = false;
    };
    void pump() noexcept;
    void arm(const ilana_async_wait &wait);
    void fail_all(std::exception_ptr error) noexcept;

    NativeConnection &conn_;
    boost::asio::strand<boost::asio::any_io_executor> strand_;
    boost::asio::posix::stream_descriptor socket_;
    boost::asio::steady_timer driver_deadline_;
    int64_t fd_ = -1; // the driver's socket, watched through a duplicate in socket_ (arm)
    // A wait of each kind is outstanding (its handler has not run yet).
    bool read_armed_ = false, write_armed_ = false, deadline_armed_ = false;
    bool pumping_ = false;
    std::deque<Pending> queue_;
};

} // namespace ilana::detail
