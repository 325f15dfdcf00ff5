// async_harness.hpp — driving a driver's "ilana.async/1" through the raw C
// ABI with a poll(2) loop, as a host's event loop would: connect, submit,
// poll until each statement completes, read its rows. Shared by the driver
// tests (tests/drivers/*_driver_test.cpp) and the fault tests.
#pragma once

#include "driver_harness.hpp"

#include <ilana/driver.h>

#include <catch2/catch.hpp>

#include <poll.h>

#include <chrono>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace ilana_test {

inline ilana_async_wait new_wait() {
    ilana_async_wait w{};
    w.struct_size = sizeof w;
    w.fd = -1;
    return w;
}

// Waits as `w` says (poll(2) on its socket, at most its timeout, and at most
// `cap_ms` so that a test never hangs on a driver bug). Returns whether the
// socket became ready.
inline bool wait_for(const ilana_async_wait &w, int cap_ms = 30000) {
    pollfd p{static_cast<int>(w.fd), 0, 0};
    if ((w.events & ILANA_WAIT_READ) != 0) p.events |= POLLIN;
    if ((w.events & ILANA_WAIT_WRITE) != 0) p.events |= POLLOUT;
    int timeout = cap_ms;
    if (w.timeout_ms >= 0 && w.timeout_ms < timeout) timeout = static_cast<int>(w.timeout_ms);
    return ::poll(&p, 1, timeout) > 0;
}

// What one async statement completed with.
struct AsyncOutcome {
    ilana_status status = ILANA_ERROR; // ILANA_OK or ILANA_ERROR
    std::vector<std::vector<Cell>> rows;
    int64_t affected_rows = -1;
    ilana_error err = new_error();
    std::string message() const { return err.message; }
    bool has(uint32_t flag) const { return (err.flags & flag) != 0; }
};

// One connection opened and driven through the async table.
class AsyncConn {
public:
    AsyncConn(const ilana_driver_api &api, const ilana_async_api &async) : api_(&api), async_(&async) {}
    AsyncConn(AsyncConn &&o) noexcept
        : api_(o.api_), async_(o.async_), conn_(std::exchange(o.conn_, nullptr)), waits_(o.waits_), eager_(o.eager_) {}
    AsyncConn(const AsyncConn &) = delete;
    AsyncConn &operator=(const AsyncConn &) = delete;
    ~AsyncConn() { close(); }
    void close() {
        if (conn_ != nullptr) api_->close(conn_);
        conn_ = nullptr;
    }
    ilana_conn *get() const { return conn_; }

    // connect_start, then connect_continue as the socket says. ILANA_OK or
    // ILANA_ERROR (err filled; no connection kept).
    ilana_status connect(const Params &p, ilana_error &err, int32_t timeout_ms = 0) {
        close();
        const ConnectParams cp(p, timeout_ms);
        ilana_async_wait w = new_wait();
        err = new_error();
        ilana_status st = async_->connect_start(cp.get(), &conn_, &w, &err);
        if (st == ILANA_ERROR) {
            CHECK(conn_ == nullptr);
            return st;
        }
        REQUIRE(conn_ != nullptr);
        while (st == ILANA_PENDING) {
            REQUIRE(w.fd >= 0);
            REQUIRE(w.events != 0);
            pause(w);
            err = new_error();
            st = async_->connect_continue(conn_, &w, &err);
        }
        if (st != ILANA_OK) close();
        return st;
    }

    ilana_status submit(const ilana_statement &st, ilana_error &err, ilana_prepared *prepared = nullptr) {
        err = new_error();
        return async_->submit(conn_, prepared, &st, &err);
    }
    void submit_ok(const ilana_statement &st, ilana_prepared *prepared = nullptr) {
        ilana_error err = new_error();
        const ilana_status s = submit(st, err, prepared);
        INFO(err.message);
        REQUIRE(s == ILANA_OK);
    }

    // Polls until the oldest statement completes (its rows read and the
    // result closed), or until nothing is in flight (returns false).
    bool next(AsyncOutcome &out) {
        out = AsyncOutcome{};
        for (;;) {
            ilana_async_wait w = new_wait();
            ilana_result *res = nullptr;
            const ilana_status st = async_->poll(conn_, &res, &w, &out.err);
            if (st == ILANA_PENDING) {
                REQUIRE(res == nullptr);
                REQUIRE(w.fd >= 0);
                ++waits_;
                pause(w);
                continue;
            }
            if (st == ILANA_DONE) {
                REQUIRE(res == nullptr);
                return false;
            }
            out.status = st;
            if (st == ILANA_ERROR) {
                REQUIRE(res == nullptr);
                return true;
            }
            REQUIRE(st == ILANA_OK);
            REQUIRE(res != nullptr);
            read_rows(res, out);
            return true;
        }
    }
    // Completes everything in flight, in order.
    std::vector<AsyncOutcome> drain() {
        std::vector<AsyncOutcome> all;
        AsyncOutcome o;
        while (next(o)) all.push_back(std::move(o));
        return all;
    }
    // How often a poll said PENDING (the loop waited on the socket).
    uint64_t waits() const { return waits_; }
    // Eager: call again after 1 ms instead of waiting for the socket, as a
    // host woken early (a timer, a spurious wake-up) does; the driver must
    // then say PENDING again, never take the call as "ready".
    void set_eager(bool eager) { eager_ = eager; }

private:
    void read_rows(ilana_result *res, AsyncOutcome &out) {
        for (;;) {
            ilana_batch b = new_batch(256);
            ilana_error ferr = new_error();
            const ilana_status fs = api_->fetch(res, &b, &ferr);
            INFO(ferr.message);
            REQUIRE((fs == ILANA_OK || fs == ILANA_DONE));
            append_batch_rows(b, out.rows);
            if (fs == ILANA_DONE) break;
        }
        ilana_result_info info = new_result_info();
        api_->result_info(res, &info);
        out.affected_rows = info.affected_rows;
        api_->result_close(res);
    }

    const ilana_driver_api *api_;
    const ilana_async_api *async_;
    ilana_conn *conn_ = nullptr;
    uint64_t waits_ = 0;
    bool eager_ = false;
    void pause(const ilana_async_wait &w) const {
        if (eager_) ::poll(nullptr, 0, 1);
        else wait_for(w);
    }
};

} // namespace ilana_test
