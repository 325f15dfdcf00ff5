// mysql_async_test.cpp — the MariaDB driver's "ilana.async/1" through the
// raw C ABI, driven by a poll(2) loop (async_harness.hpp) against the real
// server: non-blocking connect (and its setup statements), statements
// queued in the driver and sent one after another, results in the same form
// as the blocking path's, errors in the middle, prepared handles, cancel
// (KILL QUERY), a connection killed with statements in flight.
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
    static const ilana_test::LoadedDriver d = ilana_test::load_driver("ilana_mysql.so", g_async_host);
    return *d.entry;
}
const ilana_driver_api &api() { return *entry().api; }
const ilana_async_api &async_api() {
    const auto *a = static_cast<const ilana_async_api *>(entry().get_extension(ILANA_EXT_ASYNC));
    REQUIRE(a != nullptr);
    return *a;
}

Params params() { return ilana_test::server_params(ilana_test::mysql()); }

AsyncConn connected(const Params &p = params()) {
    AsyncConn c(api(), async_api());
    ilana_error err = ilana_test::new_error();
    const ilana_status st = c.connect(p, err, 10000);
    INFO(err.message);
    REQUIRE(st == ILANA_OK);
    return c;
}

std::vector<ilana_value> ints(std::initializer_list<int64_t> xs) {
    std::vector<ilana_value> v;
    for (int64_t x : xs) v.push_back(ilana_test::int_value(ILANA_TYPE_INT64, x));
    return v;
}

} // namespace

TEST_CASE("mysql async: the extension and its table", "[mysql][async]") {
    const ilana_async_api &a = async_api();
    CHECK(a.struct_size == sizeof(ilana_async_api));
    CHECK((a.flags & ILANA_ASYNC_PIPELINE) == 0); // one command at a time on the wire
    CHECK(a.connect_start != nullptr);
    CHECK(a.submit != nullptr);
    CHECK(a.poll != nullptr);
    CHECK(a.cancel != nullptr);
}

TEST_CASE("mysql async: connect errors are connect's", "[mysql][async]") {
    AsyncConn c(api(), async_api());
    ilana_error err = ilana_test::new_error();
    CHECK(c.connect(with(params(), "conectTimeout", "100"), err) == ILANA_ERROR);
    CHECK(err.error_class == ILANA_ERR_CONFIG);
    CHECK(std::string(err.message).find("conectTimeout") != std::string::npos);

    ilana_test::SilentListener silent;
    const auto t0 = std::chrono::steady_clock::now();
    CHECK(c.connect({{"host", "127.0.0.1"}, {"port", std::to_string(silent.port())}, {"user", "x"},
                     {"connectTimeout", "400"}},
                    err) == ILANA_ERROR);
    CHECK(err.error_class == ILANA_ERR_TIMEOUT);
    CHECK(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count() < 3.0);
}

TEST_CASE("mysql async: wrong password is AUTH, a time zone the server refuses is CONFIG",
          "[mysql][async][server]") {
    ILANA_REQUIRE_MYSQL();
    AsyncConn c(api(), async_api());
    ilana_error err = ilana_test::new_error();
    CHECK(c.connect(with(params(), "password", "Wr0ng-Secret-77"), err) == ILANA_ERROR);
    CHECK(err.error_class == ILANA_ERR_AUTH);
    CHECK(std::string(err.message).find("Wr0ng-Secret-77") == std::string::npos);
    // The setup statements run as steps of the async connect too.
    CHECK(c.connect(with(params(), "timezone", "Mars/Olympus_Mons"), err) == ILANA_ERROR);
    CHECK(err.error_class == ILANA_ERR_CONFIG);
    AsyncConn utc = connected(with(params(), "timezone", "+02:00"));
    const std::string tz = "SELECT @@session.time_zone";
    utc.submit_ok(make_statement(tz));
    CHECK(utc.drain().at(0).rows.at(0).at(0).s == "+02:00");
}

TEST_CASE("mysql async: 1000 statements in flight come back in order, in the blocking path's form",
          "[mysql][async][server]") {
    ILANA_REQUIRE_MYSQL();
    AsyncConn c = connected();
    const std::string sql = "SELECT ? * 2 AS twice, REPEAT('x', ? % 7) AS xs";
    std::vector<std::vector<ilana_value>> args;
    for (int64_t k = 0; k < 1000; ++k) args.push_back(ints({k, k}));
    for (const auto &a : args) c.submit_ok(make_statement(sql, a));
    args.clear(); // copied at submit
    const auto out = c.drain();
    REQUIRE(out.size() == 1000);
    for (int64_t k = 0; k < 1000; ++k) {
        const AsyncOutcome &o = out[static_cast<size_t>(k)];
        INFO("statement " << k << ": " << o.message());
        REQUIRE(o.status == ILANA_OK);
        REQUIRE(o.rows.size() == 1);
        CHECK(o.rows[0][0].i == 2 * k);
        CHECK(o.rows[0][1].s == std::string(static_cast<size_t>(k % 7), 'x'));
    }
    // Text protocol, commands, RETURNING-less inserts with ids, multi-row
    // results, cached statements: mixed in one queue.
    const std::string create = "CREATE TEMPORARY TABLE async_t (id BIGINT AUTO_INCREMENT PRIMARY KEY, v TEXT)";
    const std::string insert = "INSERT INTO async_t (v) VALUES (?)";
    const std::string select = "SELECT id, v FROM async_t ORDER BY id";
    const std::string v1 = "one", v2 = "two";
    const std::vector<ilana_value> p1 = {ilana_test::str_value(ILANA_TYPE_TEXT, v1)};
    const std::vector<ilana_value> p2 = {ilana_test::str_value(ILANA_TYPE_TEXT, v2)};
    c.submit_ok(make_statement(create));
    c.submit_ok(make_statement(insert, p1, ILANA_EXEC_CACHE));
    c.submit_ok(make_statement(insert, p2, ILANA_EXEC_CACHE));
    c.submit_ok(make_statement(select));
    c.submit_ok(make_statement(select, ILANA_EXEC_CACHE));
    const auto mixed = c.drain();
    REQUIRE(mixed.size() == 5);
    for (const auto &o : mixed) {
        INFO(o.message());
        CHECK(o.status == ILANA_OK);
    }
    CHECK(mixed[1].affected_rows == 1);
    REQUIRE(mixed[3].rows.size() == 2);
    CHECK(mixed[3].rows[1][1].s == "two");
    REQUIRE(mixed[4].rows.size() == 2);
    CHECK(mixed[4].rows[0][1].s == "one");
    CHECK(mixed[4].rows[0][0].i == mixed[3].rows[0][0].i);

    // An ordinary connection again once nothing is in flight.
    ilana_statement st = make_statement(select);
    ilana_result *res = nullptr;
    ilana_error err = ilana_test::new_error();
    REQUIRE(api().execute(c.get(), &st, &res, &err) == ILANA_OK);
    api().result_close(res);
}

TEST_CASE("mysql async: an error in the middle fails alone, inside a transaction too",
          "[mysql][async][server]") {
    ILANA_REQUIRE_MYSQL();
    AsyncConn c = connected();
    const std::string ok = "SELECT ?";
    const std::string syntax = "SELEKT nothing";
    const std::string missing = "SELECT * FROM async_no_such_table WHERE id = ?";
    const std::vector<ilana_value> one = ints({1}), three = ints({3}), five = ints({5});
    c.submit_ok(make_statement(ok, one));
    c.submit_ok(make_statement(syntax));
    c.submit_ok(make_statement(ok, three));
    c.submit_ok(make_statement(missing, one));
    c.submit_ok(make_statement(ok, five));
    auto out = c.drain();
    REQUIRE(out.size() == 5);
    CHECK(out[0].rows.at(0).at(0).i == 1);
    CHECK(out[1].err.error_class == ILANA_ERR_SYNTAX);
    CHECK_FALSE(out[1].has(ILANA_ERRF_CONN_BROKEN));
    CHECK(out[2].rows.at(0).at(0).i == 3);
    CHECK(out[3].err.error_class == ILANA_ERR_SYNTAX);
    CHECK(out[4].rows.at(0).at(0).i == 5);

    // MariaDB goes on after a failed statement in a transaction.
    const std::string begin = "START TRANSACTION", rollback = "ROLLBACK";
    c.submit_ok(make_statement(begin));
    c.submit_ok(make_statement(syntax));
    c.submit_ok(make_statement(ok, three));
    c.submit_ok(make_statement(rollback));
    out = c.drain();
    REQUIRE(out.size() == 4);
    CHECK(out[0].status == ILANA_OK);
    CHECK(out[1].err.error_class == ILANA_ERR_SYNTAX);
    CHECK(out[2].rows.at(0).at(0).i == 3);
    CHECK(out[3].status == ILANA_OK);
}

TEST_CASE("mysql async: prepared handles, prepared at their first run, and blocking calls wait",
          "[mysql][async][server]") {
    ILANA_REQUIRE_MYSQL();
    AsyncConn c = connected();
    const auto *prep = static_cast<const ilana_prepare_api *>(entry().get_extension(ILANA_EXT_PREPARE));
    REQUIRE(prep != nullptr);
    const std::string sql = "SELECT ? * 10, 'h'";
    ilana_prepared *h = nullptr;
    uint32_t nparams = 0;
    ilana_error err = ilana_test::new_error();
    REQUIRE(prep->prepare(c.get(), sql.data(), sql.size(), &h, &nparams, &err) == ILANA_OK);
    CHECK(nparams == 1);
    std::vector<std::vector<ilana_value>> args;
    for (int64_t k = 0; k < 100; ++k) args.push_back(ints({k}));
    for (const auto &a : args) c.submit_ok(make_statement(sql, a), h);

    // A blocking call now is refused, unsent.
    ilana_statement st = make_statement(sql, args[3]);
    ilana_result *res = nullptr;
    CHECK(prep->execute_prepared(c.get(), h, &st, &res, &err) == ILANA_ERROR);
    CHECK(err.error_class == ILANA_ERR_INTERNAL);
    CHECK((err.flags & ILANA_ERRF_NOT_SENT) != 0);

    auto out = c.drain();
    REQUIRE(out.size() == 100);
    for (int64_t k = 0; k < 100; ++k) {
        INFO(out[static_cast<size_t>(k)].message());
        REQUIRE(out[static_cast<size_t>(k)].status == ILANA_OK);
        CHECK(out[static_cast<size_t>(k)].rows.at(0).at(0).i == 10 * k);
    }
    REQUIRE(prep->execute_prepared(c.get(), h, &st, &res, &err) == ILANA_OK);
    api().result_close(res);
    prep->release(c.get(), h);

    ilana_statement timed = make_statement(sql, args[0]);
    timed.timeout_ms = 50;
    CHECK(c.submit(timed, err) == ILANA_ERROR);
    CHECK(err.error_class == ILANA_ERR_INTERNAL);
}

TEST_CASE("mysql async: cancel stops the running statement, the ones after it run", "[mysql][async][server]") {
    ILANA_REQUIRE_MYSQL();
    AsyncConn c = connected();
    const std::string slow = "SELECT SLEEP(20)";
    const std::string after = "SELECT 42";
    c.submit_ok(make_statement(slow));
    c.submit_ok(make_statement(after));
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
    // MariaDB lets SLEEP() return early with 1 instead of failing; a
    // statement the kill interrupted fails with CANCELED.
    if (out[0].status == ILANA_ERROR) {
        CHECK(out[0].err.error_class == ILANA_ERR_CANCELED);
    } else {
        CHECK(out[0].rows.at(0).at(0).i == 1);
    }
    CHECK(out[1].rows.at(0).at(0).i == 42);
    CHECK(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count() < 10.0);
}

TEST_CASE("mysql async: a session killed under queued statements fails them all as CONN_BROKEN",
          "[mysql][async][server]") {
    ILANA_REQUIRE_MYSQL();
    AsyncConn victim = connected();
    AsyncConn killer = connected();
    const std::string id_sql = "SELECT CONNECTION_ID()";
    victim.submit_ok(make_statement(id_sql));
    const int64_t id = victim.drain().at(0).rows.at(0).at(0).i;
    const std::string slow = "SELECT SLEEP(20)";
    const std::string quick = "SELECT 1";
    victim.submit_ok(make_statement(slow));
    for (int k = 0; k < 4; ++k) victim.submit_ok(make_statement(quick));
    ilana_async_wait w = ilana_test::new_wait();
    ilana_result *res = nullptr;
    ilana_error err = ilana_test::new_error();
    REQUIRE(async_api().poll(victim.get(), &res, &w, &err) == ILANA_PENDING);
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    const std::string kill = "KILL " + std::to_string(id);
    killer.submit_ok(make_statement(kill));
    REQUIRE(killer.drain().at(0).status == ILANA_OK);
    const auto out = victim.drain();
    REQUIRE(out.size() == 5);
    for (const AsyncOutcome &o : out) {
        INFO(o.message());
        CHECK(o.status == ILANA_ERROR);
        CHECK(o.err.error_class == ILANA_ERR_CONNECTION);
        CHECK(o.has(ILANA_ERRF_CONN_BROKEN));
    }
    CHECK(victim.submit(make_statement(quick), err) == ILANA_ERROR);
    CHECK((err.flags & ILANA_ERRF_CONN_BROKEN) != 0);
}

TEST_CASE("mysql async: a host that calls again before the socket is ready", "[mysql][async][server]") {
    ILANA_REQUIRE_MYSQL();
    AsyncConn c(api(), async_api());
    c.set_eager(true);
    ilana_error err = ilana_test::new_error();
    INFO(err.message);
    for (int round = 0; round < 5; ++round) {
        REQUIRE(c.connect(params(), err, 10000) == ILANA_OK);
        const std::string sql = "SELECT ?";
        const std::vector<ilana_value> v = ints({round});
        for (int k = 0; k < 20; ++k) c.submit_ok(make_statement(sql, v));
        const auto out = c.drain();
        REQUIRE(out.size() == 20);
        for (const AsyncOutcome &o : out) CHECK(o.rows.at(0).at(0).i == round);
        c.close();
    }
}

TEST_CASE("mysql async: close with a statement on the wire returns at once", "[mysql][async][server]") {
    ILANA_REQUIRE_MYSQL();
    AsyncConn c = connected();
    const std::string slow = "SELECT SLEEP(5)";
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
