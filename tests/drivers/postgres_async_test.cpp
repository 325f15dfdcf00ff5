// postgres_async_test.cpp — the PostgreSQL driver's "ilana.async/1" through
// the raw C ABI, driven by a poll(2) loop (async_harness.hpp) against the
// real server: non-blocking connect, statements pipelined on one
// connection, prepared handles, errors in the middle of a pipeline, cancel,
// a connection that dies with statements in flight.
#include "async_harness.hpp"
#include "driver_harness.hpp"
#include "silent_listener.hpp"
#include "test_servers.hpp"

#include <ilana/driver.h>

#include <catch2/catch.hpp>

#include <chrono>
#include <cstdio>
#include <string>
#include <thread>
#include <vector>

namespace {

using ilana_test::AsyncConn;
using ilana_test::AsyncOutcome;
using ilana_test::make_statement;
using ilana_test::Params;
using ilana_test::with;

const ilana_host g_async_host = {sizeof(ilana_host), ILANA_ABI_MAJOR, ILANA_ABI_MINOR, "ilana-test", "0",
                                 nullptr, nullptr, nullptr, nullptr};

const ilana_driver_entry &entry() {
    static const ilana_test::LoadedDriver d = ilana_test::load_driver("ilana_postgres.so", g_async_host);
    return *d.entry;
}
const ilana_driver_api &api() { return *entry().api; }
const ilana_async_api &async_api() {
    const auto *a = static_cast<const ilana_async_api *>(entry().get_extension(ILANA_EXT_ASYNC));
    REQUIRE(a != nullptr);
    return *a;
}

Params params() { return ilana_test::server_params(ilana_test::pg()); }

AsyncConn connected() {
    AsyncConn c(api(), async_api());
    ilana_error err = ilana_test::new_error();
    const ilana_status st = c.connect(params(), err, 10000);
    INFO(err.message);
    REQUIRE(st == ILANA_OK);
    return c;
}

std::vector<ilana_value> ints(std::initializer_list<int64_t> xs) {
    std::vector<ilana_value> v;
    for (int64_t x : xs) v.push_back(ilana_test::int_value(ILANA_TYPE_INT64, x));
    return v;
}

// Submits `sql` with one int parameter per value of `args`, all in flight
// at once, and completes them.
std::vector<AsyncOutcome> pipeline(AsyncConn &c, const std::string &sql, int64_t from, int64_t count) {
    for (int64_t k = from; k < from + count; ++k) {
        const std::vector<ilana_value> v = ints({k});
        c.submit_ok(make_statement(sql, v));
    }
    return c.drain();
}

} // namespace

TEST_CASE("postgres async: the extension and its table", "[postgres][async]") {
    const ilana_async_api &a = async_api();
    CHECK(a.struct_size == sizeof(ilana_async_api));
    CHECK((a.flags & ILANA_ASYNC_PIPELINE) != 0);
    CHECK(a.connect_start != nullptr);
    CHECK(a.connect_continue != nullptr);
    CHECK(a.submit != nullptr);
    CHECK(a.poll != nullptr);
    CHECK(a.cancel != nullptr);
    CHECK(entry().abi_minor == 5u);
}

TEST_CASE("postgres async: connect errors are connect's", "[postgres][async]") {
    AsyncConn c(api(), async_api());
    ilana_error err = ilana_test::new_error();
    // A bad key fails at connect_start, before any I/O.
    CHECK(c.connect(with(params(), "sslmod", "disable"), err) == ILANA_ERROR);
    CHECK(err.error_class == ILANA_ERR_CONFIG);
    CHECK(std::string(err.message).find("sslmod") != std::string::npos);

    // A server that accepts and never answers: the driver's deadline in
    // wait.timeout_ms, then TIMEOUT.
    ilana_test::SilentListener silent;
    const auto t0 = std::chrono::steady_clock::now();
    CHECK(c.connect({{"host", "127.0.0.1"}, {"port", std::to_string(silent.port())}, {"user", "x"},
                     {"database", "x"}},
                    err, 400) == ILANA_ERROR);
    CHECK(err.error_class == ILANA_ERR_TIMEOUT);
    CHECK(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count() < 3.0);
}

TEST_CASE("postgres async: wrong password is AUTH, never echoing it", "[postgres][async][server]") {
    ILANA_REQUIRE_PG();
    AsyncConn c(api(), async_api());
    ilana_error err = ilana_test::new_error();
    CHECK(c.connect(with(params(), "password", "Wr0ng-Secret-77"), err) == ILANA_ERROR);
    CHECK(err.error_class == ILANA_ERR_AUTH);
    CHECK(std::string(err.message).find("Wr0ng-Secret-77") == std::string::npos);
}

TEST_CASE("postgres async: 1000 statements in flight come back in order and right", "[postgres][async][server]") {
    ILANA_REQUIRE_PG();
    AsyncConn c = connected();
    const std::string sql = "SELECT $1::int8 * 2 AS twice, repeat('x', ($1::int8 % 7)::int4) AS xs";
    const auto out = pipeline(c, sql, 0, 1000);
    REQUIRE(out.size() == 1000);
    for (int64_t k = 0; k < 1000; ++k) {
        const AsyncOutcome &o = out[static_cast<size_t>(k)];
        INFO("statement " << k << ": " << o.message());
        REQUIRE(o.status == ILANA_OK);
        REQUIRE(o.rows.size() == 1);
        CHECK(o.rows[0][0].i == 2 * k);
        CHECK(o.rows[0][1].s == std::string(static_cast<size_t>(k % 7), 'x'));
    }
    // Commands and multi-row results pipelined together.
    const std::string create = "CREATE TEMP TABLE async_t (id int8 PRIMARY KEY, v text)";
    const std::string insert = "INSERT INTO async_t SELECT g, 'v' || g FROM generate_series(1, $1::int4) g";
    const std::string select = "SELECT id, v FROM async_t ORDER BY id";
    const std::vector<ilana_value> n = ints({2500});
    c.submit_ok(make_statement(create));
    c.submit_ok(make_statement(insert, n));
    c.submit_ok(make_statement(select));
    const auto mixed = c.drain();
    REQUIRE(mixed.size() == 3);
    CHECK(mixed[0].status == ILANA_OK);
    CHECK(mixed[1].affected_rows == 2500);
    REQUIRE(mixed[2].rows.size() == 2500);
    CHECK(mixed[2].rows[2499][1].s == "v2500");
    CHECK(mixed[2].affected_rows == 2500);

    // The connection is an ordinary one again once nothing is in flight.
    ilana_statement st = make_statement(select);
    ilana_result *res = nullptr;
    ilana_error err = ilana_test::new_error();
    REQUIRE(api().execute(c.get(), &st, &res, &err) == ILANA_OK);
    api().result_close(res);
}

TEST_CASE("postgres async: pipelined vs one at a time on one connection", "[postgres][async][server]") {
    ILANA_REQUIRE_PG();
    AsyncConn c = connected();
    const std::string sql = "SELECT $1::int8 + 1";
    constexpr int64_t kCount = 1000;
    (void)pipeline(c, sql, 0, 50); // warm up

    const auto t0 = std::chrono::steady_clock::now();
    const auto piped = pipeline(c, sql, 0, kCount);
    const double pipelined_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();

    const auto t1 = std::chrono::steady_clock::now();
    std::vector<AsyncOutcome> single;
    for (int64_t k = 0; k < kCount; ++k) {
        auto one = pipeline(c, sql, k, 1);
        REQUIRE(one.size() == 1);
        single.push_back(std::move(one[0]));
    }
    const double one_by_one_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t1).count();
    REQUIRE(piped.size() == static_cast<size_t>(kCount));
    for (int64_t k = 0; k < kCount; ++k) {
        REQUIRE(piped[static_cast<size_t>(k)].rows.at(0).at(0).i == k + 1);
        REQUIRE(single[static_cast<size_t>(k)].rows.at(0).at(0).i == k + 1);
    }
    // A ratio for people (no timed assertion: the machine is shared).
    std::printf("postgres async: %lld statements pipelined on one connection in %.3f s, one at a time in %.3f s: "
                "%.1fx\n",
                static_cast<long long>(kCount), pipelined_s, one_by_one_s, one_by_one_s / pipelined_s);
}

TEST_CASE("postgres async: an error in the middle fails alone, in a transaction the server aborts the rest",
          "[postgres][async][server]") {
    ILANA_REQUIRE_PG();
    AsyncConn c = connected();
    const std::string ok = "SELECT $1::int8";
    const std::string bad = "SELECT 1 / ($1::int8 - $1::int8)";
    const std::string syntax = "SELEKT nothing";
    const std::vector<ilana_value> one = ints({1}), three = ints({3}), five = ints({5});
    c.submit_ok(make_statement(ok, one));
    c.submit_ok(make_statement(bad, one));
    c.submit_ok(make_statement(ok, three));
    c.submit_ok(make_statement(syntax));
    c.submit_ok(make_statement(ok, five));
    auto out = c.drain();
    REQUIRE(out.size() == 5);
    CHECK(out[0].rows.at(0).at(0).i == 1);
    CHECK(out[1].status == ILANA_ERROR);
    CHECK(out[1].err.error_class == ILANA_ERR_DATA);
    CHECK(std::string(out[1].err.sqlstate) == "22012");
    CHECK_FALSE(out[1].has(ILANA_ERRF_CONN_BROKEN));
    CHECK(out[2].rows.at(0).at(0).i == 3);
    CHECK(out[3].err.error_class == ILANA_ERR_SYNTAX);
    CHECK(out[4].rows.at(0).at(0).i == 5);

    // Inside BEGIN: the failure aborts the transaction, what follows is
    // refused until ROLLBACK, exactly as one by one.
    const std::string begin = "BEGIN", rollback = "ROLLBACK";
    c.submit_ok(make_statement(begin));
    c.submit_ok(make_statement(bad, one));
    c.submit_ok(make_statement(ok, three));
    c.submit_ok(make_statement(rollback));
    c.submit_ok(make_statement(ok, five));
    out = c.drain();
    REQUIRE(out.size() == 5);
    CHECK(out[0].status == ILANA_OK);
    CHECK(out[1].err.error_class == ILANA_ERR_DATA);
    CHECK(out[1].has(ILANA_ERRF_TXN_ABORTED));
    CHECK(out[2].status == ILANA_ERROR);
    CHECK(std::string(out[2].err.sqlstate) == "25P02");
    CHECK(out[2].has(ILANA_ERRF_TXN_ABORTED));
    CHECK(out[3].status == ILANA_OK);
    CHECK(out[4].rows.at(0).at(0).i == 5);
}

TEST_CASE("postgres async: prepared handles run pipelined, prepared in the pipeline at their first run",
          "[postgres][async][server]") {
    ILANA_REQUIRE_PG();
    AsyncConn c = connected();
    const auto *prep = static_cast<const ilana_prepare_api *>(entry().get_extension(ILANA_EXT_PREPARE));
    REQUIRE(prep != nullptr);
    const std::string sql = "SELECT $1::int8 * 10, 'h'";
    ilana_prepared *h = nullptr;
    uint32_t nparams = 0;
    ilana_error err = ilana_test::new_error();
    REQUIRE(prep->prepare(c.get(), sql.data(), sql.size(), &h, &nparams, &err) == ILANA_OK);
    CHECK(nparams == 1);
    std::vector<std::vector<ilana_value>> args;
    for (int64_t k = 0; k < 200; ++k) args.push_back(ints({k}));
    for (const auto &a : args) c.submit_ok(make_statement(sql, a), h);
    auto out = c.drain();
    REQUIRE(out.size() == 200);
    for (int64_t k = 0; k < 200; ++k) {
        INFO(out[static_cast<size_t>(k)].message());
        REQUIRE(out[static_cast<size_t>(k)].status == ILANA_OK);
        CHECK(out[static_cast<size_t>(k)].rows.at(0).at(0).i == 10 * k);
    }
    // The same handle on the blocking path afterwards.
    ilana_statement st = make_statement(sql, args[7]);
    ilana_result *res = nullptr;
    REQUIRE(prep->execute_prepared(c.get(), h, &st, &res, &err) == ILANA_OK);
    api().result_close(res);

    // A wrong parameter count is refused at submit, not queued.
    const std::vector<ilana_value> none;
    ilana_statement wrong = make_statement(sql, none);
    CHECK(c.submit(wrong, err, h) == ILANA_ERROR);
    CHECK(err.error_class == ILANA_ERR_INTERNAL);
    CHECK((err.flags & ILANA_ERRF_NOT_SENT) != 0);
    CHECK(c.drain().empty());
    prep->release(c.get(), h);
}

TEST_CASE("postgres async: blocking calls wait until nothing is in flight, timeouts are the host's",
          "[postgres][async][server]") {
    ILANA_REQUIRE_PG();
    AsyncConn c = connected();
    const std::string sql = "SELECT 1";
    c.submit_ok(make_statement(sql));
    ilana_statement st = make_statement(sql);
    ilana_result *res = nullptr;
    ilana_error err = ilana_test::new_error();
    CHECK(api().execute(c.get(), &st, &res, &err) == ILANA_ERROR);
    CHECK(err.error_class == ILANA_ERR_INTERNAL);
    CHECK((err.flags & ILANA_ERRF_NOT_SENT) != 0);
    CHECK(std::string(err.message).find("in flight") != std::string::npos);
    CHECK(c.drain().size() == 1);
    REQUIRE(api().execute(c.get(), &st, &res, &err) == ILANA_OK);
    api().result_close(res);

    ilana_statement timed = make_statement(sql);
    timed.timeout_ms = 100;
    CHECK(c.submit(timed, err) == ILANA_ERROR);
    CHECK(err.error_class == ILANA_ERR_INTERNAL);
    CHECK(std::string(err.message).find("timeout") != std::string::npos);

    // A poll with a result still open completes nothing.
    c.submit_ok(make_statement(sql));
    c.submit_ok(make_statement(sql));
    ilana_result *first = nullptr;
    for (;;) {
        ilana_async_wait w = ilana_test::new_wait();
        const ilana_status ps = async_api().poll(c.get(), &first, &w, &err);
        if (ps == ILANA_OK) break;
        REQUIRE(ps == ILANA_PENDING);
        ilana_test::wait_for(w);
    }
    ilana_result *second = nullptr;
    ilana_async_wait w = ilana_test::new_wait();
    CHECK(async_api().poll(c.get(), &second, &w, &err) == ILANA_ERROR);
    CHECK(err.error_class == ILANA_ERR_INTERNAL);
    CHECK(second == nullptr);
    api().result_close(first);
    CHECK(c.drain().size() == 1);
}

TEST_CASE("postgres async: cancel stops the running statement, the ones after it run", "[postgres][async][server]") {
    ILANA_REQUIRE_PG();
    AsyncConn c = connected();
    const std::string slow = "SELECT pg_sleep(20)";
    const std::string after = "SELECT 42";
    c.submit_ok(make_statement(slow));
    c.submit_ok(make_statement(after));
    // Pump until the sleep runs on the server, then cancel from this thread.
    const auto t0 = std::chrono::steady_clock::now();
    for (int k = 0; k < 5; ++k) {
        ilana_async_wait w = ilana_test::new_wait();
        ilana_result *res = nullptr;
        ilana_error perr = ilana_test::new_error();
        REQUIRE(async_api().poll(c.get(), &res, &w, &perr) == ILANA_PENDING);
        w.timeout_ms = 50;
        ilana_test::wait_for(w);
    }
    ilana_error err = ilana_test::new_error();
    REQUIRE(async_api().cancel(c.get(), &err) == ILANA_OK);
    const auto out = c.drain();
    REQUIRE(out.size() == 2);
    CHECK(out[0].status == ILANA_ERROR);
    CHECK(out[0].err.error_class == ILANA_ERR_CANCELED);
    CHECK_FALSE(out[0].has(ILANA_ERRF_CONN_BROKEN));
    CHECK(out[1].rows.at(0).at(0).i == 42);
    CHECK(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count() < 10.0);
    // Nothing in flight: cancel is harmless.
    CHECK(async_api().cancel(c.get(), &err) == ILANA_OK);
    c.submit_ok(make_statement(after));
    CHECK(c.drain().at(0).rows.at(0).at(0).i == 42);
    // The only statement in flight, canceled: CANCELED too (its completion
    // leaves the pipeline, which must not forget the request first).
    c.submit_ok(make_statement(slow));
    for (int k = 0; k < 5; ++k) {
        ilana_async_wait w = ilana_test::new_wait();
        ilana_result *res = nullptr;
        ilana_error perr = ilana_test::new_error();
        REQUIRE(async_api().poll(c.get(), &res, &w, &perr) == ILANA_PENDING);
        w.timeout_ms = 50;
        ilana_test::wait_for(w);
    }
    REQUIRE(async_api().cancel(c.get(), &err) == ILANA_OK);
    const auto alone = c.drain();
    REQUIRE(alone.size() == 1);
    CHECK(alone[0].err.error_class == ILANA_ERR_CANCELED);
}

TEST_CASE("postgres async: a backend killed under a pipeline fails every statement in flight as CONN_BROKEN",
          "[postgres][async][server]") {
    ILANA_REQUIRE_PG();
    AsyncConn victim = connected();
    AsyncConn killer = connected();
    const std::string pid_sql = "SELECT pg_backend_pid()";
    victim.submit_ok(make_statement(pid_sql));
    const int64_t pid = victim.drain().at(0).rows.at(0).at(0).i;

    const std::string slow = "SELECT pg_sleep(20)";
    const std::string quick = "SELECT 1";
    victim.submit_ok(make_statement(slow));
    for (int k = 0; k < 5; ++k) victim.submit_ok(make_statement(quick));
    const std::string kill = "SELECT pg_terminate_backend($1::int4)";
    const std::vector<ilana_value> p = ints({pid});
    // Let the sleep start, then kill it.
    ilana_async_wait w = ilana_test::new_wait();
    ilana_result *res = nullptr;
    ilana_error err = ilana_test::new_error();
    REQUIRE(async_api().poll(victim.get(), &res, &w, &err) == ILANA_PENDING);
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    killer.submit_ok(make_statement(kill, p));
    REQUIRE(killer.drain().at(0).status == ILANA_OK);

    const auto out = victim.drain();
    REQUIRE(out.size() == 6);
    for (const AsyncOutcome &o : out) {
        INFO(o.message());
        CHECK(o.status == ILANA_ERROR);
        CHECK(o.err.error_class == ILANA_ERR_CONNECTION);
        CHECK(o.has(ILANA_ERRF_CONN_BROKEN));
    }
    // Submitting on it now is refused, unsent.
    CHECK(victim.submit(make_statement(quick), err) == ILANA_ERROR);
    CHECK((err.flags & ILANA_ERRF_NOT_SENT) != 0);
    CHECK((err.flags & ILANA_ERRF_CONN_BROKEN) != 0);
}

TEST_CASE("postgres async: TXN_ABORTED in the middle of a pipeline follows BEGIN, ROLLBACK TO SAVEPOINT and COMMIT",
          "[postgres][async][server]") {
    ILANA_REQUIRE_PG();
    AsyncConn c = connected();
    const std::string begin = "BEGIN", savepoint = "SAVEPOINT s1", back = "ROLLBACK TO SAVEPOINT s1",
                      commit = "COMMIT", bad = "SELECT 1/0", ok = "SELECT 7";
    // Each statement with more behind it: libpq does not say the
    // transaction status then, the driver follows it.
    for (const std::string *sql : {&begin, &savepoint, &bad, &ok, &back, &ok, &bad, &back, &commit, &bad, &ok})
        c.submit_ok(make_statement(*sql));
    const auto out = c.drain();
    REQUIRE(out.size() == 11);
    CHECK(out[2].has(ILANA_ERRF_TXN_ABORTED));  // 1/0 inside the block
    CHECK(out[3].has(ILANA_ERRF_TXN_ABORTED));  // refused: 25P02
    CHECK(out[4].status == ILANA_OK);           // back to the savepoint
    CHECK(out[5].rows.at(0).at(0).i == 7);      // the block works again
    CHECK(out[6].has(ILANA_ERRF_TXN_ABORTED));  // 1/0 again
    CHECK(out[7].status == ILANA_OK);
    CHECK(out[8].status == ILANA_OK);           // COMMIT ends the block
    CHECK(out[9].status == ILANA_ERROR);        // 1/0 outside a block:
    CHECK_FALSE(out[9].has(ILANA_ERRF_TXN_ABORTED));
    CHECK(out[10].rows.at(0).at(0).i == 7);
}

TEST_CASE("postgres async: a host that calls again before the socket is ready", "[postgres][async][server]") {
    ILANA_REQUIRE_PG();
    AsyncConn c(api(), async_api());
    c.set_eager(true);
    ilana_error err = ilana_test::new_error();
    INFO(err.message);
    for (int round = 0; round < 5; ++round) {
        REQUIRE(c.connect(params(), err, 10000) == ILANA_OK);
        const std::string sql = "SELECT $1::int8";
        const std::vector<ilana_value> v = ints({round});
        for (int k = 0; k < 20; ++k) c.submit_ok(make_statement(sql, v));
        const auto out = c.drain();
        REQUIRE(out.size() == 20);
        for (const AsyncOutcome &o : out) CHECK(o.rows.at(0).at(0).i == round);
        c.close();
    }
}

TEST_CASE("postgres async: close with a statement on the wire returns at once", "[postgres][async][server]") {
    ILANA_REQUIRE_PG();
    AsyncConn c = connected();
    const std::string slow = "SELECT pg_sleep(5)";
    c.submit_ok(make_statement(slow));
    c.submit_ok(make_statement(slow));
    ilana_async_wait w = ilana_test::new_wait();
    ilana_result *res = nullptr;
    ilana_error err = ilana_test::new_error();
    REQUIRE(async_api().poll(c.get(), &res, &w, &err) == ILANA_PENDING); // the first is running
    const auto t0 = std::chrono::steady_clock::now();
    c.close();
    CHECK(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count() < 2.0);
    // A blocking connection works beside it afterwards (nothing stuck).
    AsyncConn again = connected();
    const std::string one = "SELECT 1";
    again.submit_ok(make_statement(one));
    CHECK(again.drain().at(0).rows.at(0).at(0).i == 1);
}

TEST_CASE("postgres async: rows of the first async statement after blocking ones", "[postgres][async][server]") {
    ILANA_REQUIRE_PG();
    AsyncConn c = connected();
    ilana_error err = ilana_test::new_error();
    for (const std::string sql : {"CREATE TEMPORARY TABLE t_after (id int PRIMARY KEY, label text)",
                                  "INSERT INTO t_after SELECT g, 'row ' || g FROM generate_series(1, 50) g"}) {
        ilana_statement st = make_statement(sql);
        ilana_result *res = nullptr;
        REQUIRE(api().execute(c.get(), &st, &res, &err) == ILANA_OK);
        api().result_close(res);
    }
    const std::vector<ilana_value> seven = ints({7});
    const std::string select = "SELECT id, label FROM t_after WHERE id = $1";
    c.submit_ok(make_statement(select, seven));
    const auto out = c.drain();
    REQUIRE(out.size() == 1);
    REQUIRE(out[0].rows.size() == 1);
    CHECK(out[0].rows[0][1].s == "row 7");
    CHECK(out[0].affected_rows == 1); // the command tag ("SELECT 1") kept
    // A blocking statement that streamed its rows (single-row mode), then a
    // pipeline of several: every one whole.
    const std::string all_sql = "SELECT id FROM t_after ORDER BY id";
    ilana_statement all = make_statement(all_sql);
    ilana_result *res = nullptr;
    REQUIRE(api().execute(c.get(), &all, &res, &err) == ILANA_OK);
    api().result_close(res);
    c.submit_ok(make_statement(select, seven));
    c.submit_ok(make_statement(select, seven));
    const auto two = c.drain();
    REQUIRE(two.size() == 2);
    CHECK(two[0].rows.size() == 1);
    CHECK(two[1].rows.size() == 1);
}
