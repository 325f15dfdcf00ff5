#include "async/async_runtime.hpp"

#include "common/error_factory.hpp"
#include "plugins/loaded_driver.hpp"

#include <ilana/logging.hpp>

#include <boost/asio/bind_executor.hpp>
#include <boost/asio/post.hpp>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <cstring>
#include <tuple>
#include <utility>
#include <vector>

#include <fcntl.h>

namespace ilana::detail {

namespace asio = boost::asio;

namespace {
// Set on the runtime's own threads: a runtime destroyed there (the last
// reference dropped by a completion) cannot join the thread it runs on.
thread_local const AsyncRuntime *t_runtime_thread = nullptr;
// Set while a worker runs a blocking step (ExitGate::Pass).
thread_local bool t_in_step = false;

// Process exit and the blocking steps of async calls. A step (a session's
// connect, a cancel request, a statement of a driver without
// "ilana.async/1") runs driver code on a worker, and may be running when
// the process exits: a Database dropped with calls in flight, or a lane
// still being opened after its last statement completed. exit() then runs
// the exit handlers of the libraries under that step (libcrypto frees its
// tables in the middle of a SCRAM handshake: a crash at exit). The gate's
// exit handler runs before theirs: it lets no new step start and waits for
// the running ones, at most max_wait (a step is a connect or a statement,
// bounded by its timeouts, or a server's answer). Exit handlers run in the
// reverse order of their registration, and a library registers its own at
// its first use: so the gate registers (again) at a step after a driver
// library was loaded since it last did, and a driver initializes the
// libraries with exit handlers it uses when it is loaded (the PostgreSQL
// driver: libcrypto). Never destroyed: workers may pass it during exit.
class ExitGate {
public:
    static constexpr std::chrono::seconds max_wait{10};

    static ExitGate &instance() {
        static auto *gate = new ExitGate();
        return *gate;
    }
    // Registers the exit handler when a driver library was loaded since
    // it last did (its libraries' handlers were registered at its load).
    void arm() {
        const uint64_t loaded = driver_libraries_loaded();
        if (armed_for_.load(std::memory_order_acquire) == loaded) return;
        std::lock_guard<std::mutex> lock(mu_);
        if (armed_for_.load(std::memory_order_relaxed) == loaded) return;
        std::atexit([] { instance().close_and_wait(); });
        armed_for_.store(loaded, std::memory_order_release);
    }
    // A step in progress for its scope; false once the process exits.
    class Pass {
    public:
        Pass() : gate_(instance()) {
            std::lock_guard<std::mutex> lock(gate_.mu_);
            entered_ = !gate_.closed_;
            if (entered_) ++gate_.running_;
            t_in_step = entered_;
        }
        ~Pass() {
            if (!entered_) return;
            t_in_step = false;
            std::lock_guard<std::mutex> lock(gate_.mu_);
            --gate_.running_;
            gate_.cv_.notify_all();
        }
        Pass(const Pass &) = delete;
        Pass &operator=(const Pass &) = delete;
        explicit operator bool() const noexcept { return entered_; }

    private:
        ExitGate &gate_;
        bool entered_ = false;
    };

    // A step that came after the gate closed: kept, neither run nor
    // destroyed (what it holds would close sessions in the driver).
    void leave_undone(std::function<void()> step) {
        std::lock_guard<std::mutex> lock(mu_);
        undone_.push_back(std::move(step));
    }

private:
    ExitGate() = default;
    void close_and_wait() {
        std::unique_lock<std::mutex> lock(mu_);
        closed_ = true;
        // exit() called by a step itself does not wait for that step.
        const int own = t_in_step ? 1 : 0;
        cv_.wait_for(lock, max_wait, [&] { return running_ <= own; });
    }

    std::mutex mu_;
    std::condition_variable cv_;
    bool closed_ = false;
    int running_ = 0;
    std::atomic<uint64_t> armed_for_{0};
    std::vector<std::function<void()>> undone_;
};

// The threads that finish runtimes released on their own threads. Joined
// at the latest when the process exits: a dropped Database's worker may
// still be opening a session (a lane leased ahead of need) and must not
// run into the exit handlers of the libraries it uses (libcrypto's, under
// a SCRAM handshake: a crash at exit). Made on first use, so after those
// libraries registered their exit handlers, and so destroyed before they
// run. Finished threads are joined as new ones come.
class Finishers {
public:
    static Finishers &instance() {
        static Finishers finishers;
        return finishers;
    }
    void start(std::function<void()> work) {
        auto done = std::make_shared<std::atomic<bool>>(false);
        std::thread t([work = std::move(work), done] {
            work();
            done->store(true, std::memory_order_release);
        });
        std::lock_guard<std::mutex> lock(mu_);
        for (auto it = threads_.begin(); it != threads_.end();) {
            if (it->second->load(std::memory_order_acquire)) {
                it->first.join();
                it = threads_.erase(it);
            } else {
                ++it;
            }
        }
        threads_.emplace_back(std::move(t), std::move(done));
    }
    // Until none is left: finishing one runtime may release another (its
    // handlers held it), which starts a thread of its own.
    ~Finishers() {
        for (;;) {
            decltype(threads_) threads;
            {
                std::lock_guard<std::mutex> lock(mu_);
                threads.swap(threads_);
            }
            if (threads.empty()) return;
            for (auto &t : threads)
                if (t.first.joinable()) t.first.join();
        }
    }

private:
    std::mutex mu_;
    std::vector<std::pair<std::thread, std::shared_ptr<std::atomic<bool>>>> threads_;
};
} // namespace

// ---- AsyncRuntime -----------------------------------------------------------

AsyncRuntime::~AsyncRuntime() {
    // Not stop(): what is queued still runs (a completion posted by the last
    // call, whose end released this runtime), then run() returns. Calls in
    // flight hold the runtime, so nothing here waits for a server, and no
    // blocking step is left queued for the workers.
    own_work_.reset();
    const bool on_io_thread = own_thread_.joinable() && own_thread_.get_id() == std::this_thread::get_id();
    const bool on_worker = t_runtime_thread == this && !on_io_thread;
    if (on_io_thread || on_worker) {
        // Released by a handler of its own I/O thread or a worker (the last
        // call of a Database already dropped): that thread cannot join
        // itself, and its io_context or pool is still in use under it. A
        // thread of its own (Finishers) waits for them to finish and
        // destroys them. The workers go before the io_context: a blocking
        // step still running (the one whose end released this runtime, a
        // connect) may post to it or drop a timer made on it.
        auto parts = std::make_shared<std::tuple<std::unique_ptr<asio::io_context>, std::thread,
                                                 std::unique_ptr<asio::thread_pool>>>(
            std::move(own_io_), std::move(own_thread_), std::move(workers_));
        Finishers::instance().start([parts] {
            auto &[io, io_thread, workers] = *parts;
            if (io_thread.joinable()) io_thread.join();
            if (workers) workers->join();
            workers.reset();
            io.reset();
        });
        return;
    }
    if (own_thread_.joinable()) own_thread_.join();
    if (workers_) workers_->join();
}

void AsyncRuntime::use_executor(asio::any_io_executor executor) {
    std::lock_guard<std::mutex> lock(mu_);
    if (io_.load(std::memory_order_acquire) != nullptr)
        throw Error("ilana::use_executor must come before the first async call on the Database (its I/O already "
                    "runs on " + std::string(own_io_ ? "ilana's own I/O thread" : "the executor given before") + ")",
                    ErrorClass::config);
    executor_ = std::move(executor);
    io_.store(&*executor_, std::memory_order_release);
}

const asio::any_io_executor &AsyncRuntime::io() {
    if (const auto *io = io_.load(std::memory_order_acquire)) return *io;
    std::lock_guard<std::mutex> lock(mu_);
    if (const auto *io = io_.load(std::memory_order_acquire)) return *io;
    own_io_ = std::make_unique<asio::io_context>(1);
    own_work_.emplace(own_io_->get_executor());
    own_thread_ = std::thread([this] {
        t_runtime_thread = this;
        own_io_->run();
    });
    executor_ = own_io_->get_executor();
    io_.store(&*executor_, std::memory_order_release);
    return *executor_;
}

void AsyncRuntime::post(std::function<void()> step) { asio::post(io(), std::move(step)); }

unsigned AsyncRuntime::worker_count() noexcept {
    return std::clamp(std::thread::hardware_concurrency(), 2u, 8u);
}

asio::any_io_executor AsyncRuntime::workers() {
    std::call_once(workers_once_, [this] { workers_ = std::make_unique<asio::thread_pool>(worker_count()); });
    return workers_->get_executor();
}

void AsyncRuntime::run_blocking(std::function<void()> step) {
    ExitGate::instance().arm();
    asio::post(workers(), [this, step = std::move(step)]() mutable {
        t_runtime_thread = this;
        ExitGate::Pass pass;
        if (!pass) {
            // The process exits: running the step, or destroying what it
            // holds (a session closes), would call into libraries whose
            // exit handlers run now. It is left as it is.
            ExitGate::instance().leave_undone(std::move(step));
            return;
        }
        step();
    });
}

// ---- AsyncSession -----------------------------------------------------------

AsyncSession::AsyncSession(const asio::any_io_executor &executor, NativeConnection &conn)
    : conn_(conn), strand_(asio::make_strand(executor)), socket_(strand_), driver_deadline_(strand_) {}

AsyncSession::~AsyncSession() { quiesce(); }

std::shared_ptr<AsyncSession> AsyncSession::of(PooledConnection &pc, AsyncRuntime &rt) {
    if (pc.async_state) return std::static_pointer_cast<AsyncSession>(pc.async_state);
    auto session =
        std::make_shared<AsyncSession>(pc.conn->async_api() != nullptr ? rt.io() : rt.workers(), *pc.conn);
    pc.async_state = session;
    return session;
}

void AsyncSession::quiesce() noexcept {
    if (!queue_.empty() || fd_ < 0) return;
    boost::system::error_code ignored;
    socket_.cancel(ignored);
    socket_.close(ignored); // our duplicate (see arm)
    driver_deadline_.cancel();
    fd_ = -1;
}

void AsyncSession::submit(std::string_view text, const Value *params, size_t count, std::string_view as_written,
                          bool may_write, ilana_prepared *prepared, Completion done) {
    // The refusal goes on outside the catch block (async_calls.cpp, caught).
    std::exception_ptr refused;
    try {
        conn_.submit(text, params, count, as_written, prepared);
    } catch (...) {
        refused = std::current_exception();
    }
    if (refused) return done(nullptr, std::move(refused));
    queue_.push_back(Pending{std::move(done), as_written, may_write});
    pump();
}

// Each statement gets an exception of its own: its call adds its SQL to the
// Error and hands it to a caller on another thread, so one object shared
// by the statements of a session would be written and read at once.
void AsyncSession::fail_all(std::exception_ptr error) noexcept {
    while (!queue_.empty()) {
        Pending p = std::move(queue_.front());
        queue_.pop_front();
        p.done(nullptr, copy_error(error));
    }
}

// Polls until the driver waits or nothing is left. A completion may
// submit again (a pipelined session): pumping_ keeps that from nesting.
void AsyncSession::pump() noexcept {
    if (pumping_) return;
    pumping_ = true;
    try {
        while (!queue_.empty()) {
            ilana_result *res = nullptr;
            ilana_async_wait wait{};
            ilana_error err;
            const ilana_status st = conn_.poll(&res, wait, err);
            if (st == ILANA_PENDING) {
                arm(wait);
                break;
            }
            if (st == ILANA_OK || st == ILANA_ERROR) {
                Pending p = std::move(queue_.front());
                queue_.pop_front();
                if (st == ILANA_OK) {
                    NativeResult result(&conn_, res);
                    p.done(&result, nullptr);
                } else {
                    p.done(nullptr, conn_.error_of(err, "query failed", p.may_write, p.sql));
                }
                continue;
            }
            // ILANA_DONE with statements queued: the driver lost them.
            fail_all(make_error_ptr(Error("[" + conn_.name() + "] the driver " + conn_.driver().path() +
                                              " reported nothing in flight with statements submitted (a driver bug)",
                                          ErrorClass::internal, conn_.name())));
        }
    } catch (...) {
        fail_all(std::current_exception());
    }
    pumping_ = false;
    // Idle: no registration outlives what is in flight (the pool may close
    // the session on any thread once its lease ends).
    if (queue_.empty()) quiesce();
}

void AsyncSession::arm(const ilana_async_wait &wait) {
    if (wait.fd != fd_) {
        // The executor watches a duplicate of the driver's socket, never the
        // driver's own descriptor: a driver closes its socket when the
        // connection breaks, its number goes to the next socket opened (a
        // new session's, registered with the same executor), and taking
        // the old registration out by number would take out the new one.
        // Our duplicate stays ours until we close it.
        boost::system::error_code ignored;
        if (fd_ >= 0) {
            socket_.cancel(ignored);
            socket_.close(ignored);
            fd_ = -1;
        }
        const int copy = ::fcntl(static_cast<int>(wait.fd), F_DUPFD_CLOEXEC, 0);
        if (copy < 0)
            throw Error("[" + conn_.name() + "] cannot watch the connection's socket (" + std::strerror(errno) +
                            "): the process may be out of file descriptors",
                        ErrorClass::connection, conn_.name());
        socket_.assign(copy);
        fd_ = wait.fd;
    }
    auto self = shared_from_this();
    if ((wait.events & ILANA_WAIT_READ) && !read_armed_) {
        read_armed_ = true;
        socket_.async_wait(asio::posix::stream_descriptor::wait_read,
                           asio::bind_executor(strand_, [self](const boost::system::error_code &) {
                               self->read_armed_ = false;
                               self->pump();
                           }));
    }
    if ((wait.events & ILANA_WAIT_WRITE) && !write_armed_) {
        write_armed_ = true;
        socket_.async_wait(asio::posix::stream_descriptor::wait_write,
                           asio::bind_executor(strand_, [self](const boost::system::error_code &) {
                               self->write_armed_ = false;
                               self->pump();
                           }));
    }
    if (wait.timeout_ms >= 0 && !deadline_armed_) {
        deadline_armed_ = true;
        driver_deadline_.expires_after(std::chrono::milliseconds(wait.timeout_ms));
        driver_deadline_.async_wait(asio::bind_executor(strand_, [self](const boost::system::error_code &) {
            self->deadline_armed_ = false;
            self->pump();
        }));
    }
}

} // namespace ilana::detail
