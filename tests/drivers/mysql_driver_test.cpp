// mysql_driver_test.cpp — the MySQL/MariaDB driver through its raw C ABI.
//
// Loads build/plugins/ilana_mysql.so with dlopen by absolute path and calls
// the entry's function table directly, against the MariaDB test server
// (scripts/test-servers.sh start mysql). Names of tables, locks and
// databases carry the process id, so parallel runs do not collide.
#include "driver_harness.hpp"
#include "silent_listener.hpp"
#include "test_servers.hpp"

#include <ilana/driver.h>

#include <catch2/catch.hpp>

#include <arpa/inet.h>
#include <dlfcn.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstring>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <variant>
#include <vector>

namespace {

using ilana_test::Cell;
using ilana_test::make_statement;
using ilana_test::new_batch;
using ilana_test::new_error;
using ilana_test::new_result_info;
using ilana_test::Params;
using ilana_test::with;
using Listener = ilana_test::SilentListener;

using Clock = std::chrono::steady_clock;

long long ms_since(Clock::time_point t0) {
    return std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - t0).count();
}

// ---------------------------------------------------------------------------
// Loading the driver

std::mutex g_log_mu;
std::vector<std::string> g_log;

void host_log(void *, void *, ilana_log_level, const char *message, size_t len) {
    std::lock_guard<std::mutex> lock(g_log_mu);
    g_log.emplace_back(message, len);
}

const ilana_host kHost = {sizeof(ilana_host), ILANA_ABI_MAJOR, ILANA_ABI_MINOR, "ilana-test", "0",
                          nullptr, host_log, nullptr, nullptr};

struct Driver {
    void *lib = nullptr;
    const ilana_driver_entry *entry = nullptr;
    const ilana_driver_api *api = nullptr;

    static Driver &get() {
        static Driver d = [] {
            const ilana_test::LoadedDriver loaded = ilana_test::load_driver("ilana_mysql.so", kHost);
            return Driver{loaded.handle, loaded.entry, loaded.entry->api};
        }();
        return d;
    }
};

const ilana_driver_api &api() { return *Driver::get().api; }

std::string unique_name(const char *prefix) {
    static std::atomic<int> counter{0};
    return std::string(prefix) + "_" + std::to_string(::getpid()) + "_" + std::to_string(counter++);
}

// ---------------------------------------------------------------------------
// Connecting

Params server_params() { return ilana_test::server_params(ilana_test::mysql()); }

struct ConnectResult {
    ilana_status status;
    ilana_conn *conn;
    ilana_error err;
};

ConnectResult try_connect(const Params &p, int32_t timeout_ms = 0) {
    const ilana_test::ConnectParams cp(p, timeout_ms);
    ConnectResult r{ILANA_ERROR, nullptr, new_error()};
    r.status = api().connect(cp.get(), &r.conn, &r.err);
    return r;
}

struct Rows {
    std::vector<std::string> names;
    std::vector<ilana_type> types;
    std::vector<std::string> native;
    std::vector<std::vector<Cell>> rows;
    int64_t affected = 0;       // result_info before the rows
    int64_t final_affected = 0; // result_info after the last row
    int64_t last_id = 0;
    uint64_t columns_id = 0; // ABI 1.1
    int batches = 0;
};

struct Failure {
    ilana_status status;
    ilana_error err;
};

ilana_value v_int(int64_t x) { return ilana_test::int_value(ILANA_TYPE_INT64, x); }
ilana_value v_uint(uint64_t x) { return ilana_test::uint_value(x); }
ilana_value v_bool(bool b) { return ilana_test::int_value(ILANA_TYPE_BOOL, b ? 1 : 0); }
ilana_value v_double(double x) { return ilana_test::double_value(x); }
// Parameter strings are borrowed by execute; keep a copy alive for the whole
// test run so temporaries can be passed.
ilana_value v_str(ilana_type t, const std::string &s) {
    static std::mutex mu;
    static std::deque<std::string> keep;
    std::lock_guard<std::mutex> lock(mu);
    keep.push_back(s);
    return ilana_test::str_value(t, keep.back());
}
ilana_value v_i64(ilana_type t, int64_t x) { return ilana_test::int_value(t, x); }
ilana_value v_null() { return ilana_test::null_value(); }

class Conn {
public:
    explicit Conn(const Params &p = server_params(), int32_t timeout_ms = 0) {
        auto r = try_connect(p, timeout_ms);
        if (r.status != ILANA_OK) FAIL("connect failed: " << r.err.message);
        c_ = r.conn;
    }
    ~Conn() { api().close(c_); }
    Conn(const Conn &) = delete;
    ilana_conn *get() const { return c_; }

    // Executes; on error returns the error, else reads every row.
    std::variant<Rows, Failure> run(const std::string &sql, std::vector<ilana_value> params = {},
                                    uint32_t flags = 0, uint32_t batch_rows = 1000) {
        const ilana_statement st = make_statement(sql, params, flags);
        ilana_result *res = nullptr;
        ilana_error err = new_error();
        ilana_status s = api().execute(c_, &st, &res, &err);
        if (s != ILANA_OK) {
            REQUIRE(res == nullptr);
            return Failure{s, err};
        }
        REQUIRE(res != nullptr);
        Rows out;
        ilana_result_info info = new_result_info();
        api().result_info(res, &info);
        out.affected = info.affected_rows;
        out.last_id = info.last_insert_id;
        out.columns_id = info.columns_id;
        for (uint32_t c = 0; c < info.column_count; ++c) {
            const ilana_column &col = info.columns[c];
            out.names.emplace_back(col.name);
            out.types.push_back(col.type);
            out.native.emplace_back(col.native_type);
        }
        for (;;) {
            ilana_batch b = new_batch(batch_rows);
            err = new_error();
            s = api().fetch(res, &b, &err);
            if (s == ILANA_ERROR) {
                api().result_close(res);
                return Failure{s, err};
            }
            ++out.batches;
            REQUIRE(b.row_count <= batch_rows);
            REQUIRE(b.value_size == sizeof(ilana_value));
            ilana_test::append_batch_rows(b, out.rows);
            if (s == ILANA_DONE) break;
            REQUIRE(s == ILANA_OK);
        }
        // After DONE, fetch keeps saying DONE with no rows.
        ilana_batch b = new_batch(10);
        err = new_error();
        REQUIRE(api().fetch(res, &b, &err) == ILANA_DONE);
        REQUIRE(b.row_count == 0);
        info = new_result_info();
        api().result_info(res, &info);
        CHECK(info.columns_id == out.columns_id); // names the result, not the moment
        out.final_affected = info.affected_rows;
        api().result_close(res);
        return out;
    }

    Rows ok(const std::string &sql, std::vector<ilana_value> params = {}, uint32_t flags = 0,
            uint32_t batch_rows = 1000) {
        auto r = run(sql, std::move(params), flags, batch_rows);
        if (auto *f = std::get_if<Failure>(&r)) FAIL("statement failed: " << sql << "\n  " << f->err.message);
        return std::get<Rows>(std::move(r));
    }

    Failure err(const std::string &sql, std::vector<ilana_value> params = {}, uint32_t flags = 0) {
        auto r = run(sql, std::move(params), flags);
        if (std::holds_alternative<Rows>(r)) FAIL("statement should have failed: " << sql);
        return std::get<Failure>(r);
    }

private:
    ilana_conn *c_ = nullptr;
};

int64_t days(int y, unsigned m, unsigned d) {
    // Same algorithm as the SDK, written out independently for the test.
    y -= m <= 2;
    const int64_t era = (y >= 0 ? y : y - 399) / 400;
    const unsigned yoe = static_cast<unsigned>(y - era * 400);
    const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

constexpr int64_t kUsPerDay = 86400LL * 1000000;

int64_t micros(int y, unsigned mo, unsigned d, int h, int mi, int s, int us) {
    return days(y, mo, d) * kUsPerDay + ((h * 60LL + mi) * 60 + s) * 1000000 + us;
}

// ---------------------------------------------------------------------------
// A TCP proxy to the test server that can be frozen (stops forwarding, keeps
// sockets open). Listener (silent_listener.hpp) accepts and never answers.

class FreezableProxy {
public:
    explicit FreezableProxy(int target_port) : target_(target_port) {
        thread_ = std::thread([this] { loop(); });
    }
    ~FreezableProxy() {
        stop_ = true;
        thread_.join();
        for (int fd : fds_) ::close(fd);
    }
    int port() const { return listener_.port(); }
    void freeze() { frozen_ = true; }

private:
    void loop() {
        int client = -1, server = -1;
        while (!stop_) {
            std::vector<pollfd> p;
            p.push_back({listener_.fd(), POLLIN, 0});
            if (client >= 0 && !frozen_) {
                p.push_back({client, POLLIN, 0});
                p.push_back({server, POLLIN, 0});
            }
            if (::poll(p.data(), p.size(), 20) <= 0) continue;
            if (p[0].revents & POLLIN) {
                int c = ::accept(listener_.fd(), nullptr, nullptr);
                int s = ::socket(AF_INET, SOCK_STREAM, 0);
                sockaddr_in a{};
                a.sin_family = AF_INET;
                a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
                a.sin_port = htons(static_cast<uint16_t>(target_));
                if (::connect(s, reinterpret_cast<sockaddr *>(&a), sizeof a) != 0) {
                    ::close(c);
                    ::close(s);
                    continue;
                }
                fds_.push_back(c);
                fds_.push_back(s);
                client = c;
                server = s;
                continue;
            }
            for (size_t i = 1; i < p.size(); ++i) {
                if (!(p[i].revents & (POLLIN | POLLHUP))) continue;
                char buf[65536];
                ssize_t n = ::read(p[i].fd, buf, sizeof buf);
                if (n <= 0) continue;
                int to = p[i].fd == client ? server : client;
                ssize_t off = 0;
                while (off < n) {
                    ssize_t w = ::write(to, buf + off, static_cast<size_t>(n - off));
                    if (w <= 0) break;
                    off += w;
                }
            }
        }
    }

    Listener listener_;
    int target_;
    std::atomic<bool> stop_{false};
    std::atomic<bool> frozen_{false};
    std::vector<int> fds_;
    std::thread thread_;
};

// The server's parameters, reached through `proxy`.
Params through(const FreezableProxy &proxy) {
    return with(with(server_params(), "host", "127.0.0.1"), "port", std::to_string(proxy.port()));
}

// Executes `st` and fetches the first batch of `b.max_rows` rows: the result
// stays open mid-stream for the test to go on with.
ilana_result *execute_and_fetch_first(Conn &c, const ilana_statement &st, ilana_batch &b, ilana_error &err) {
    ilana_result *res = nullptr;
    REQUIRE(api().execute(c.get(), &st, &res, &err) == ILANA_OK);
    REQUIRE(api().fetch(res, &b, &err) == ILANA_OK);
    return res;
}

} // namespace

// ===========================================================================
// Descriptor and lifecycle (no server needed)

TEST_CASE("mysql: descriptor, dialect and extensions", "[mysql]") {
    Driver &d = Driver::get();
    REQUIRE(d.entry->magic == ILANA_DRIVER_MAGIC);
    REQUIRE(d.entry->abi_major == ILANA_ABI_MAJOR);
    REQUIRE(d.entry->struct_size == sizeof(ilana_driver_entry));
    const ilana_driver_descriptor *desc = d.entry->descriptor;
    CHECK(std::string(desc->id) == "org.ilana.mysql");
    CHECK(std::string(desc->name) == "MySQL/MariaDB (mysqlclient)");
    CHECK(std::string(desc->version) == "1.0.0");
    std::vector<std::string> clients;
    for (auto p = desc->clients; *p != nullptr; ++p) clients.emplace_back(*p);
    CHECK(clients == std::vector<std::string>{"mysql", "mysql2", "mariadb"});
    CHECK(desc->capabilities == (ILANA_CAP_TRANSACTIONS | ILANA_CAP_CANCEL | ILANA_CAP_LAST_INSERT_ID |
                                 ILANA_CAP_STREAMING | ILANA_CAP_PREPARED_CACHE | ILANA_CAP_NETWORK));
    CHECK(desc->thread_model == ILANA_THREADS_CONN_SERIALIZED);
    const ilana_dialect *dl = desc->dialect;
    CHECK(dl->placeholder == ILANA_PLACEHOLDER_QUESTION);
    CHECK(dl->identifier_quote == '`');
    CHECK(dl->limit_form == ILANA_LIMIT_LIMIT_OFFSET);
    CHECK(dl->upsert_form == ILANA_UPSERT_ON_DUPLICATE_KEY);
    CHECK(dl->supports_returning == 0);
    CHECK(dl->max_params == 65535u);

    const ilana_driver_api &a = api();
    CHECK(a.struct_size == sizeof(ilana_driver_api));
    CHECK(a.cancel != nullptr);
    auto intro = static_cast<const ilana_introspect_api *>(d.entry->get_extension(ILANA_EXT_INTROSPECT));
    auto lock = static_cast<const ilana_lock_api *>(d.entry->get_extension(ILANA_EXT_LOCK));
    auto ns = static_cast<const ilana_namespace_api *>(d.entry->get_extension(ILANA_EXT_NAMESPACE));
    REQUIRE(intro != nullptr);
    REQUIRE(lock != nullptr);
    REQUIRE(ns != nullptr);
    CHECK(lock->flags == 0);
    CHECK(ns->isolation == ILANA_NAMESPACE_DATABASE);
    CHECK(std::string(ns->param_key) == "database");
    CHECK(d.entry->get_extension("com.example.nope/1") == nullptr);
    CHECK(d.entry->get_extension(nullptr) == nullptr);

    // init is counted: a second init and its deinit leave the driver working.
    ilana_error err = new_error();
    REQUIRE(d.entry->init(&kHost, &err) == ILANA_OK);
    d.entry->deinit();
    CHECK(std::string(d.entry->descriptor->id) == "org.ilana.mysql");
}

TEST_CASE("mysql: only the entry symbol is exported", "[mysql]") {
    Driver &d = Driver::get();
    CHECK(dlsym(d.lib, "ilana_entry") != nullptr);
    // Driver internals and libmariadb must not leak into the global namespace.
    CHECK(dlsym(d.lib, "_ZN11ilana_mysql8classifyEjPKc") == nullptr);
}

TEST_CASE("mysql: bad connection parameters are CONFIG errors naming the key", "[mysql]") {
    Params base = {{"host", "127.0.0.1"}, {"port", "1"}, {"user", "x"}};
    SECTION("unknown key") {
        auto r = try_connect(with(base, "colour", "blue"));
        REQUIRE(r.status == ILANA_ERROR);
        CHECK(r.conn == nullptr);
        CHECK(r.err.error_class == ILANA_ERR_CONFIG);
        CHECK(std::string(r.err.message).find("'colour'") != std::string::npos);
    }
    SECTION("mysql2-only keys are not silently accepted") {
        auto r = try_connect(with(base, "supportBigNumbers", "true"));
        CHECK(r.err.error_class == ILANA_ERR_CONFIG);
        CHECK(std::string(r.err.message).find("supportBigNumbers") != std::string::npos);
    }
    SECTION("port not a number / out of range") {
        auto r = try_connect(with(base, "port", "33o6"));
        CHECK(r.err.error_class == ILANA_ERR_CONFIG);
        CHECK(std::string(r.err.message).find("'port'") != std::string::npos);
        r = try_connect(with(base, "port", "70000"));
        CHECK(r.err.error_class == ILANA_ERR_CONFIG);
    }
    SECTION("charset must be UTF-8") {
        auto r = try_connect(with(base, "charset", "latin1"));
        CHECK(r.err.error_class == ILANA_ERR_CONFIG);
        CHECK(std::string(r.err.message).find("'charset'") != std::string::npos);
    }
    SECTION("timezone syntax") {
        auto r = try_connect(with(base, "timezone", "'; DROP TABLE x; --"));
        CHECK(r.err.error_class == ILANA_ERR_CONFIG);
        CHECK(std::string(r.err.message).find("'timezone'") != std::string::npos);
    }
    SECTION("ssl files must exist") {
        auto r = try_connect(with(base, "ssl.ca", "/nonexistent/ca.pem"));
        CHECK(r.err.error_class == ILANA_ERR_CONFIG);
        CHECK(std::string(r.err.message).find("ssl.ca") != std::string::npos);
    }
    SECTION("bad url") {
        auto r = try_connect({{"url", "postgres://a@b/c"}});
        CHECK(r.err.error_class == ILANA_ERR_CONFIG);
        CHECK(std::string(r.err.message).find("'url'") != std::string::npos);
        r = try_connect({{"url", "mysql://u:p@127.0.0.1:1/db?bogus=1"}});
        CHECK(r.err.error_class == ILANA_ERR_CONFIG);
        CHECK(std::string(r.err.message).find("bogus") != std::string::npos);
    }
}

// ===========================================================================
// Against the server

TEST_CASE("mysql: connect, server_info, ilana.* keys ignored", "[mysql][server]") {
    ILANA_REQUIRE_MYSQL();
    Conn c(with(with(server_params(), "ilana.connection", "main"), "ilana.config_dir", "/tmp"));
    ilana_server_info info{};
    info.struct_size = sizeof info;
    ilana_error err = new_error();
    REQUIRE(api().server_info(c.get(), &info, &err) == ILANA_OK);
    CHECK(std::string(info.product) == "MariaDB");
    CHECK(std::string(info.version).find("MariaDB") != std::string::npos);
    CHECK(info.version_number >= 100000);
    auto mc = c.ok("SELECT @@max_connections");
    CHECK(mc.types[0] == ILANA_TYPE_UINT64);
    CHECK(info.max_connections == static_cast<int64_t>(mc.rows[0][0].u));
    CHECK(info.max_connections > 0);

    err = new_error();
    CHECK(api().ping(c.get(), 1000, &err) == ILANA_OK);
}

TEST_CASE("mysql: url parameter", "[mysql][server]") {
    ILANA_REQUIRE_MYSQL();
    auto s = ilana_test::mysql();
    const std::string url = "mysql://" + s.user + ":" + s.password + "@" + s.host + ":" + s.port + "/" +
                            s.database + "?timezone=UTC";
    Conn c({{"url", url}});
    auto r = c.ok("SELECT DATABASE(), @@session.time_zone");
    CHECK(r.rows[0][0].s == s.database);
    CHECK(r.rows[0][1].s == "+00:00");
    // An explicit key wins over the url's part.
    Conn c2({{"url", url}, {"timezone", "+02:00"}});
    CHECK(c2.ok("SELECT @@session.time_zone").rows[0][0].s == "+02:00");
}

TEST_CASE("mysql: wrong password is AUTH 1045 and never shows the password", "[mysql][server]") {
    ILANA_REQUIRE_MYSQL();
    const std::string secret = "Wr0ngSecret_" + std::to_string(::getpid());
    auto r = try_connect(with(server_params(), "password", secret));
    REQUIRE(r.status == ILANA_ERROR);
    CHECK(r.conn == nullptr);
    CHECK(r.err.error_class == ILANA_ERR_AUTH);
    CHECK(r.err.native_code == 1045);
    CHECK(std::string(r.err.sqlstate) == "28000");
    CHECK(std::string(r.err.message).find(secret) == std::string::npos);
    CHECK(std::string(r.err.message).find("Access denied") != std::string::npos);
}

TEST_CASE("mysql: nothing listening is CONNECTION, NOT_SENT, fast", "[mysql]") {
    int port;
    {
        Listener l; // a port that was free a moment ago, now closed
        port = l.port();
    }
    auto t0 = Clock::now();
    auto r = try_connect({{"host", "127.0.0.1"}, {"port", std::to_string(port)}, {"user", "u"},
                          {"password", "pw-never-shown"}});
    CHECK(ms_since(t0) < 2000);
    REQUIRE(r.status == ILANA_ERROR);
    CHECK(r.err.error_class == ILANA_ERR_CONNECTION);
    CHECK((r.err.native_code == 2002 || r.err.native_code == 2003));
    CHECK((r.err.flags & ILANA_ERRF_NOT_SENT) != 0);
    CHECK(std::string(r.err.message).find("pw-never-shown") == std::string::npos);
    CHECK(std::string(r.err.message).find("127.0.0.1:" + std::to_string(port)) != std::string::npos);
}

TEST_CASE("mysql: connect to a server that never answers times out", "[mysql]") {
    Listener silent; // the kernel completes the TCP handshake; nobody speaks
    SECTION("connectTimeout (ms)") {
        auto t0 = Clock::now();
        auto r = try_connect({{"host", "127.0.0.1"}, {"port", std::to_string(silent.port())},
                              {"user", "u"}, {"connectTimeout", "400"}});
        auto took = ms_since(t0);
        REQUIRE(r.status == ILANA_ERROR);
        CHECK(r.err.error_class == ILANA_ERR_TIMEOUT);
        CHECK((r.err.flags & ILANA_ERRF_NOT_SENT) != 0);
        CHECK(took >= 350);
        CHECK(took < 1500);
    }
    SECTION("timeout_ms of the connect call") {
        auto t0 = Clock::now();
        auto r = try_connect({{"host", "127.0.0.1"}, {"port", std::to_string(silent.port())}, {"user", "u"}},
                             300);
        CHECK(r.err.error_class == ILANA_ERR_TIMEOUT);
        CHECK(ms_since(t0) < 1500);
    }
}

TEST_CASE("mysql: ping against a server that stops answering times out", "[mysql][server]") {
    ILANA_REQUIRE_MYSQL();
    FreezableProxy proxy(std::stoi(ilana_test::mysql().port));
    Conn c(through(proxy));
    CHECK(c.ok("SELECT 1").rows[0][0].i == 1);
    ilana_error err = new_error();
    REQUIRE(api().ping(c.get(), 1000, &err) == ILANA_OK);
    proxy.freeze();
    auto t0 = Clock::now();
    err = new_error();
    REQUIRE(api().ping(c.get(), 300, &err) == ILANA_ERROR);
    auto took = ms_since(t0);
    CHECK(err.error_class == ILANA_ERR_TIMEOUT);
    CHECK((err.flags & ILANA_ERRF_CONN_BROKEN) != 0);
    CHECK(took >= 250);
    CHECK(took < 1500);
    // The session is gone: later calls fail at once, never hang.
    t0 = Clock::now();
    auto f = c.err("SELECT 1");
    CHECK(f.err.error_class == ILANA_ERR_CONNECTION);
    CHECK((f.err.flags & ILANA_ERRF_CONN_BROKEN) != 0);
    CHECK(ms_since(t0) < 200);
}

TEST_CASE("mysql: timezone UTC is applied to the session", "[mysql][server]") {
    ILANA_REQUIRE_MYSQL();
    Conn c(with(server_params(), "timezone", "UTC"));
    CHECK(c.ok("SELECT @@session.time_zone").rows[0][0].s == "+00:00");
    auto r = c.ok("SELECT FROM_UNIXTIME(0), FROM_UNIXTIME(86400 * 365)");
    CHECK(r.types[0] == ILANA_TYPE_TIMESTAMP);
    CHECK(r.rows[0][0].i == 0);
    CHECK(r.rows[0][1].i == 365 * kUsPerDay);
    Conn local(with(server_params(), "timezone", "local"));
    CHECK(local.ok("SELECT @@session.time_zone").rows[0][0].s == "SYSTEM");
    Conn offset(with(server_params(), "timezone", "-05:30"));
    CHECK(offset.ok("SELECT @@session.time_zone").rows[0][0].s == "-05:30");
    auto bad = try_connect(with(server_params(), "timezone", "Mars/Olympus_Mons"));
    CHECK(bad.err.error_class == ILANA_ERR_CONFIG);
    CHECK(std::string(bad.err.message).find("timezone") != std::string::npos);
}

namespace {

// The same table read through the three paths: text protocol (no
// parameters), binary protocol (a parameter), binary cached.
std::vector<Rows> read_three_ways(Conn &c, const std::string &select_sql) {
    std::vector<Rows> out;
    out.push_back(c.ok(select_sql));
    out.push_back(c.ok(select_sql + " AND ? = 1", {v_int(1)}));
    out.push_back(c.ok(select_sql + " AND ? = 1", {v_int(1)}, ILANA_EXEC_CACHE));
    out.push_back(c.ok(select_sql + " AND ? = 1", {v_int(1)}, ILANA_EXEC_CACHE));
    out.push_back(c.ok(select_sql, {}, ILANA_EXEC_CACHE));
    return out;
}

} // namespace

TEST_CASE("mysql: every type round-trips through parameters and both protocols", "[mysql][server]") {
    ILANA_REQUIRE_MYSQL();
    Conn c(with(server_params(), "timezone", "UTC"));
    const std::string t = unique_name("types");
    c.ok("CREATE TABLE " + t + " (id INT PRIMARY KEY, "
         "ti TINYINT, tu TINYINT UNSIGNED, tb TINYINT(1), si SMALLINT, mi MEDIUMINT, i INT, iu INT UNSIGNED, "
         "bi BIGINT, bu BIGINT UNSIGNED, de DECIMAL(30,10), fl FLOAT, db DOUBLE, "
         "ch CHAR(10), vc VARCHAR(200), tx TEXT, lt LONGTEXT, bl BLOB, lb LONGBLOB, bn BINARY(4), vb VARBINARY(10), "
         "dt DATE, dtm DATETIME(6), ts TIMESTAMP(6) NULL, tm TIME(6), yr YEAR, js JSON, "
         "b5 BIT(5), b64 BIT(64), en ENUM('small','Large'), st SET('a','b','c'), u36 CHAR(36)) "
         "CHARACTER SET utf8mb4");

    const std::string unicode = "h\xC3\xA9llo w\xC3\xB6rld \xF0\x9F\x8E\x89 \xE6\x97\xA5\xE6\x9C\xAC";
    std::string blob;
    for (int k = 0; k < 256; ++k) blob += static_cast<char>(k);
    blob += std::string("\0\0end\0", 7);
    std::string medium_text; // over the initial bind buffer, under the growth limit
    for (int k = 0; medium_text.size() < 5000; ++k) medium_text += "line " + std::to_string(k) + " \xC3\xA9\n";
    std::string long_text; // beyond the growth limit: fetched in two steps every time
    while (long_text.size() < 1500000) long_text += "0123456789abcdef\xF0\x9F\x98\x80";
    std::string long_blob(600000, '\0');
    for (size_t k = 0; k < long_blob.size(); ++k) long_blob[k] = static_cast<char>(k * 7);
    const std::string json = "{\"a\": [1, 2, {\"b\": null}], \"s\": \"\xC3\xA9\"}";
    const std::string uuid = "123e4567-e89b-12d3-a456-426614174000";

    const int64_t d_val = days(2024, 2, 29);
    const int64_t dtm_val = micros(2024, 2, 29, 13, 14, 15, 123456);
    const int64_t ts_val = micros(2038, 1, 19, 3, 14, 7, 999999);
    const int64_t tm_val = -((100LL * 3600 + 30 * 60 + 15) * 1000000 + 500000); // -100:30:15.5

    std::vector<ilana_value> p = {
        v_int(1),
        v_int(-128), v_int(255), v_bool(true), v_int(-32768), v_int(-8388608), v_int(INT32_MIN), v_uint(4294967295u),
        v_int(INT64_MIN), v_uint(UINT64_MAX), v_str(ILANA_TYPE_DECIMAL, "-12345678901234567890.0123456789"),
        v_double(1.5), v_double(3.141592653589793),
        v_str(ILANA_TYPE_TEXT, "abc"), v_str(ILANA_TYPE_TEXT, unicode), v_str(ILANA_TYPE_TEXT, medium_text),
        v_str(ILANA_TYPE_TEXT, long_text), v_str(ILANA_TYPE_BLOB, blob), v_str(ILANA_TYPE_BLOB, long_blob),
        v_str(ILANA_TYPE_BLOB, std::string("\0\x01\xFF\x7F", 4)), v_str(ILANA_TYPE_BLOB, std::string("\0z", 2)),
        v_i64(ILANA_TYPE_DATE, d_val), v_i64(ILANA_TYPE_TIMESTAMP, dtm_val), v_i64(ILANA_TYPE_TIMESTAMPTZ, ts_val),
        v_i64(ILANA_TYPE_TIME, tm_val), v_int(2024), v_str(ILANA_TYPE_JSON, json),
        v_int(21), v_uint(UINT64_MAX), v_str(ILANA_TYPE_TEXT, "Large"), v_str(ILANA_TYPE_TEXT, "a,c"),
        v_str(ILANA_TYPE_UUID, uuid)};
    std::string placeholders;
    for (size_t k = 0; k < p.size(); ++k) placeholders += k == 0 ? "?" : ", ?";
    auto ins = c.ok("INSERT INTO " + t + " VALUES (" + placeholders + ")", p);
    CHECK(ins.affected == 1);
    // A row of NULLs (all but the key).
    c.ok("INSERT INTO " + t + " (id) VALUES (2)");
    // Extremes the other way.
    c.ok("INSERT INTO " + t + " (id, ti, tu, si, i, bi, bu, fl, db, dt, dtm, tm, b5, b64) VALUES "
         "(3, 127, 0, 32767, 2147483647, 9223372036854775807, 0, -0.25, -1e300, '1969-12-31', "
         "'1900-01-01 00:00:00.000001', '838:59:59', b'0', b'0')");

    for (const Rows &r : read_three_ways(c, "SELECT * FROM " + t + " WHERE id IN (1, 2, 3) ORDER BY id")) {
        REQUIRE(r.rows.size() == 3);
        std::map<std::string, size_t> col;
        for (size_t k = 0; k < r.names.size(); ++k) col[r.names[k]] = k;
        auto type = [&](const char *n) { return r.types[col.at(n)]; };
        auto native = [&](const char *n) { return r.native[col.at(n)]; };
        const auto &row = r.rows[0];
        auto at = [&](const char *n) -> const Cell & { return row[col.at(n)]; };

        CHECK(type("ti") == ILANA_TYPE_INT64);
        CHECK(at("ti").i == -128);
        CHECK(native("tu") == "TINYINT UNSIGNED");
        CHECK(at("tu").i == 255);
        CHECK(type("tb") == ILANA_TYPE_INT64); // TINYINT(1) stays an integer
        CHECK(at("tb").i == 1);
        CHECK(at("si").i == -32768);
        CHECK(native("mi") == "MEDIUMINT");
        CHECK(at("mi").i == -8388608);
        CHECK(at("i").i == INT32_MIN);
        CHECK(type("iu") == ILANA_TYPE_INT64);
        CHECK(at("iu").i == 4294967295LL);
        CHECK(type("bi") == ILANA_TYPE_INT64);
        CHECK(at("bi").i == INT64_MIN);
        CHECK(type("bu") == ILANA_TYPE_UINT64);
        CHECK(native("bu") == "BIGINT UNSIGNED");
        CHECK(at("bu").u == UINT64_MAX);
        CHECK(type("de") == ILANA_TYPE_DECIMAL);
        CHECK(at("de").s == "-12345678901234567890.0123456789");
        CHECK(type("fl") == ILANA_TYPE_DOUBLE);
        CHECK(at("fl").d == 1.5);
        CHECK(at("db").d == 3.141592653589793);
        CHECK(type("ch") == ILANA_TYPE_TEXT);
        CHECK(at("ch").s == "abc");
        CHECK(at("vc").s == unicode);
        CHECK(native("vc") == "VARCHAR");
        CHECK(at("tx").s == medium_text);
        CHECK(at("lt").s.size() == long_text.size());
        CHECK(at("lt").s == long_text);
        CHECK(type("bl") == ILANA_TYPE_BLOB);
        CHECK(at("bl").s == blob);
        CHECK(at("lb").s == long_blob);
        CHECK(type("bn") == ILANA_TYPE_BLOB);
        CHECK(at("bn").s == std::string("\0\x01\xFF\x7F", 4));
        CHECK(type("vb") == ILANA_TYPE_BLOB);
        CHECK(at("vb").s == std::string("\0z", 2));
        CHECK(type("dt") == ILANA_TYPE_DATE);
        CHECK(at("dt").i == d_val);
        CHECK(type("dtm") == ILANA_TYPE_TIMESTAMP);
        CHECK(native("dtm") == "DATETIME");
        CHECK(at("dtm").i == dtm_val);
        CHECK(type("ts") == ILANA_TYPE_TIMESTAMP);
        CHECK(native("ts") == "TIMESTAMP");
        CHECK(at("ts").i == ts_val);
        CHECK(type("tm") == ILANA_TYPE_TIME);
        CHECK(at("tm").i == tm_val);
        CHECK(type("yr") == ILANA_TYPE_INT64);
        CHECK(at("yr").i == 2024);
        CHECK(type("js") == ILANA_TYPE_JSON);
        CHECK(native("js") == "JSON");
        CHECK(at("js").s == json);
        CHECK(type("b5") == ILANA_TYPE_INT64);
        CHECK(at("b5").i == 21);
        CHECK(type("b64") == ILANA_TYPE_UINT64);
        CHECK(at("b64").u == UINT64_MAX);
        CHECK(type("en") == ILANA_TYPE_TEXT);
        CHECK(at("en").s == "Large");
        CHECK(type("st") == ILANA_TYPE_TEXT);
        CHECK(at("st").s == "a,c");
        CHECK(at("u36").s == uuid);

        // Row 2: NULL everywhere but the key, with the column's type.
        for (size_t k = 1; k < r.names.size(); ++k) {
            INFO("column " << r.names[k]);
            CHECK(r.rows[1][k].null);
            CHECK(r.rows[1][k].type == r.types[k]);
        }
        CHECK_FALSE(r.rows[1][0].null);

        const auto &x = r.rows[2];
        CHECK(x[col.at("ti")].i == 127);
        CHECK(x[col.at("tu")].i == 0);
        CHECK(x[col.at("i")].i == INT32_MAX);
        CHECK(x[col.at("bi")].i == INT64_MAX);
        CHECK(x[col.at("bu")].u == 0);
        CHECK(x[col.at("fl")].d == -0.25);
        CHECK(x[col.at("db")].d == -1e300);
        CHECK(x[col.at("dt")].i == -1);
        CHECK(x[col.at("dtm")].i == micros(1900, 1, 1, 0, 0, 0, 1));
        CHECK(x[col.at("tm")].i == (838LL * 3600 + 59 * 60 + 59) * 1000000);
        CHECK(x[col.at("b5")].i == 0);
    }

    // FLOAT reads as its shortest decimal (1.1, not 1.100000023841858) on both paths.
    c.ok("UPDATE " + t + " SET fl = 1.1 WHERE id = 1");
    for (const Rows &r : read_three_ways(c, "SELECT fl FROM " + t + " WHERE id = 1"))
        CHECK(r.rows[0][0].d == 1.1);

    // Values bound as parameters come back from SELECT ? with their value.
    auto echo = c.ok("SELECT ?, ?, ?, ?, ?", {v_int(-5), v_double(0.5), v_str(ILANA_TYPE_TEXT, unicode),
                                            v_null(), v_uint(UINT64_MAX)});
    CHECK(echo.rows[0][0].i == -5);
    CHECK(echo.rows[0][1].d == 0.5);
    CHECK(echo.rows[0][2].s == unicode);
    CHECK(echo.rows[0][3].null);
    CHECK(echo.types[4] == ILANA_TYPE_UINT64);
    CHECK(echo.rows[0][4].u == UINT64_MAX);

    // SELECT NULL: a TEXT column of NULL cells.
    auto n = c.ok("SELECT NULL AS nothing");
    CHECK(n.types[0] == ILANA_TYPE_TEXT);
    CHECK(n.rows[0][0].null);

    // Large and negative TIME, and DATE/TIMESTAMP parameters before 1970.
    auto tp = c.ok("SELECT CAST(? AS TIME(6)), CAST(? AS DATE), CAST(? AS DATETIME(6))",
                   {v_i64(ILANA_TYPE_TIME, 30LL * 3600 * 1000000 + 1), v_i64(ILANA_TYPE_DATE, -719162),
                    v_i64(ILANA_TYPE_TIMESTAMP, -1)});
    CHECK(tp.rows[0][0].i == 30LL * 3600 * 1000000 + 1);
    CHECK(tp.rows[0][1].i == -719162); // 0001-01-01
    CHECK(tp.rows[0][2].i == -1);      // 1969-12-31 23:59:59.999999

    c.ok("DROP TABLE " + t);
}

TEST_CASE("mysql: injection-looking values are stored verbatim", "[mysql][server]") {
    ILANA_REQUIRE_MYSQL();
    Conn c;
    const std::string t = unique_name("inj");
    c.ok("CREATE TABLE " + t + " (id INT AUTO_INCREMENT PRIMARY KEY, v TEXT) CHARACTER SET utf8mb4");
    const std::vector<std::string> evil = {
        "Robert'); DROP TABLE " + t + "; --", "\\'; SELECT 1; --", "\" OR 1=1 --", "`backtick`", "?", "%_\\",
        std::string("nul\0inside", 10), "\xF0\x9F\x92\xA3 \\x27"};
    for (const auto &s : evil) c.ok("INSERT INTO " + t + " (v) VALUES (?)", {v_str(ILANA_TYPE_TEXT, s)});
    auto r = c.ok("SELECT v FROM " + t + " ORDER BY id");
    REQUIRE(r.rows.size() == evil.size());
    for (size_t k = 0; k < evil.size(); ++k) CHECK(r.rows[k][0].s == evil[k]);
    auto found = c.ok("SELECT COUNT(*) FROM " + t + " WHERE v = ?", {v_str(ILANA_TYPE_TEXT, evil[0])});
    CHECK(found.rows[0][0].i == 1);
    c.ok("DROP TABLE " + t);
}

TEST_CASE("mysql: 100000 rows stream in batches", "[mysql][server]") {
    ILANA_REQUIRE_MYSQL();
    Conn c;
    const std::string cte = "SET STATEMENT max_recursive_iterations = 200000 FOR "
                            "WITH RECURSIVE seq(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM seq WHERE n < 100000) "
                            "SELECT n, CONCAT('row-', n) AS label FROM seq";
    auto check = [](const Rows &r) {
        REQUIRE(r.rows.size() == 100000);
        int64_t sum = 0;
        for (const auto &row : r.rows) sum += row[0].i;
        CHECK(sum == 5000050000LL);
        CHECK(r.rows[99999][1].s == "row-100000");
        CHECK(r.batches >= 100); // 1000 per batch: streamed, not one buffer
    };
    SECTION("text protocol") { check(c.ok(cte, {}, 0, 1000)); }
    SECTION("binary protocol") { check(c.ok(cte + " WHERE n <= ?", {v_int(100000)}, 0, 1000)); }
    SECTION("closing early leaves the session usable") {
        for (uint32_t flags : {0u, 1u}) {
            const ilana_statement st = make_statement(cte, flags);
            ilana_error err = new_error();
            ilana_batch b = new_batch(10);
            ilana_result *res = execute_and_fetch_first(c, st, b, err);
            CHECK(b.row_count == 10);
            // A second execute while the result is open is refused...
            ilana_result *other = nullptr;
            err = new_error();
            const char *sel = "SELECT 1";
            ilana_statement st2 = st;
            st2.sql = sel;
            st2.sql_len = std::strlen(sel);
            st2.flags = 0;
            CHECK(api().execute(c.get(), &st2, &other, &err) == ILANA_ERROR);
            CHECK(err.error_class == ILANA_ERR_INTERNAL);
            CHECK((err.flags & ILANA_ERRF_NOT_SENT) != 0);
            CHECK(other == nullptr);
            api().result_close(res); // ...until the result is closed (unread rows drained)
            CHECK(c.ok("SELECT 42").rows[0][0].i == 42);
        }
    }
}

TEST_CASE("mysql: last insert id and affected rows", "[mysql][server]") {
    ILANA_REQUIRE_MYSQL();
    Conn c;
    const std::string t = unique_name("ids");
    auto ddl = c.ok("CREATE TABLE " + t + " (id BIGINT AUTO_INCREMENT PRIMARY KEY, v INT)");
    CHECK(ddl.names.empty());
    auto one = c.ok("INSERT INTO " + t + " (v) VALUES (?)", {v_int(10)});
    CHECK(one.affected == 1);
    CHECK(one.last_id == 1);
    auto three = c.ok("INSERT INTO " + t + " (v) VALUES (20), (30), (40)");
    CHECK(three.affected == 3);
    CHECK(three.last_id == 2); // the first id of a multi-row insert
    auto cached = c.ok("INSERT INTO " + t + " (v) VALUES (?)", {v_int(50)}, ILANA_EXEC_CACHE);
    CHECK(cached.last_id == 5);
    // FOUND_ROWS: matched rows, also when the values do not change.
    auto upd = c.ok("UPDATE " + t + " SET v = v WHERE id <= ?", {v_int(2)});
    CHECK(upd.affected == 2);
    CHECK(upd.last_id == 0);
    auto del = c.ok("DELETE FROM " + t + " WHERE v >= 30");
    CHECK(del.affected == 3);
    auto sel = c.ok("SELECT * FROM " + t);
    CHECK(sel.affected == -1);
    CHECK(sel.final_affected == -1);
    // RETURNING: MariaDB sends no count, the driver counts the rows it
    // returned, known once the last one is read.
    auto ret = c.ok("/* two */ INSERT INTO " + t + " (v) VALUES (60), (70) RETURNING id, v");
    CHECK(ret.rows.size() == 2);
    CHECK(ret.final_affected == 2);
    auto gone = c.ok("DELETE FROM " + t + " WHERE v >= ? RETURNING id", {v_int(60)}, ILANA_EXEC_CACHE);
    CHECK(gone.rows.size() == 2);
    CHECK(gone.final_affected == 2);
    auto again = c.ok("DELETE FROM " + t + " WHERE v >= ? RETURNING id", {v_int(1000)}, ILANA_EXEC_CACHE);
    CHECK(again.rows.empty());
    CHECK(again.final_affected == 0);
    c.ok("DROP TABLE " + t);
}

TEST_CASE("mysql: transactions commit and roll back", "[mysql][server]") {
    ILANA_REQUIRE_MYSQL();
    Conn c, other;
    const std::string t = unique_name("tx");
    c.ok("CREATE TABLE " + t + " (v INT) ENGINE=InnoDB");
    ilana_error err = new_error();
    REQUIRE(api().begin(c.get(), &err) == ILANA_OK);
    c.ok("INSERT INTO " + t + " VALUES (1)");
    CHECK(other.ok("SELECT COUNT(*) FROM " + t).rows[0][0].i == 0);
    REQUIRE(api().rollback(c.get(), &err) == ILANA_OK);
    CHECK(c.ok("SELECT COUNT(*) FROM " + t).rows[0][0].i == 0);
    REQUIRE(api().begin(c.get(), &err) == ILANA_OK);
    c.ok("INSERT INTO " + t + " VALUES (2)", {}, ILANA_EXEC_CACHE);
    REQUIRE(api().commit(c.get(), &err) == ILANA_OK);
    CHECK(other.ok("SELECT SUM(v) FROM " + t).rows[0][0].s == "2");
    c.ok("DROP TABLE " + t);
}

TEST_CASE("mysql: error classes", "[mysql][server]") {
    ILANA_REQUIRE_MYSQL();
    Conn c;
    SECTION("1064 syntax, with an excerpt of the SQL") {
        for (uint32_t flags : {0u, 1u}) {
            auto f = c.err("SELEKT * FROM nowhere", {}, flags);
            CHECK(f.err.error_class == ILANA_ERR_SYNTAX);
            CHECK(f.err.native_code == 1064);
            CHECK(std::string(f.err.sqlstate) == "42000");
            CHECK(std::string(f.err.message).find("SELEKT * FROM nowhere") != std::string::npos);
        }
    }
    SECTION("1146 unknown table, parameter values never in the message") {
        auto f = c.err("SELECT * FROM no_such_table_xyz WHERE a = ?", {v_str(ILANA_TYPE_TEXT, "s3cr3t-value")});
        CHECK(f.err.error_class == ILANA_ERR_SYNTAX);
        CHECK(f.err.native_code == 1146);
        CHECK(std::string(f.err.sqlstate) == "42S02");
        CHECK(std::string(f.err.message).find("s3cr3t-value") == std::string::npos);
    }
    SECTION("1054 unknown column") {
        auto f = c.err("SELECT nope FROM (SELECT 1 AS a) t");
        CHECK(f.err.error_class == ILANA_ERR_SYNTAX);
        CHECK(f.err.native_code == 1054);
    }
    SECTION("1062 duplicate key, 1048 not null, 1406 data too long") {
        const std::string t = unique_name("dup");
        c.ok("CREATE TABLE " + t + " (id INT PRIMARY KEY, s VARCHAR(3) NOT NULL)");
        c.ok("INSERT INTO " + t + " VALUES (1, 'a')");
        auto f = c.err("INSERT INTO " + t + " VALUES (?, 'b')", {v_int(1)});
        CHECK(f.err.error_class == ILANA_ERR_CONSTRAINT);
        CHECK(f.err.native_code == 1062);
        CHECK(std::string(f.err.sqlstate) == "23000");
        // ABI 1.3: which constraint, as MySQL's 23000 does not say; the key
        // the server names; the duplicate value masked, and no SQL.
        CHECK(f.err.condition == ILANA_COND_UNIQUE);
        CHECK(std::string(f.err.constraint_name) == "PRIMARY");
        CHECK(std::string(f.err.message).find("Duplicate entry '***' for key 'PRIMARY'") != std::string::npos);
        CHECK(std::string(f.err.message).find("INSERT INTO") == std::string::npos);
        f = c.err("INSERT INTO " + t + " VALUES (2, ?)", {v_null()});
        CHECK(f.err.error_class == ILANA_ERR_CONSTRAINT);
        CHECK(f.err.native_code == 1048);
        CHECK(f.err.condition == ILANA_COND_NOT_NULL);
        CHECK(f.err.constraint_name[0] == '\0'); // "Column 's' cannot be null" names no constraint
        f = c.err("INSERT INTO " + t + " VALUES (3, 'toolong')");
        CHECK(f.err.error_class == ILANA_ERR_DATA);
        CHECK(f.err.native_code == 1406);
        // The session is fine after statement errors.
        CHECK(c.ok("SELECT COUNT(*) FROM " + t).rows[0][0].i == 1);
        c.ok("DROP TABLE " + t);
    }
    SECTION("one statement per execute: no multi-statement smuggling") {
        const std::string t = unique_name("multi");
        c.ok("CREATE TABLE " + t + " (a INT)");
        for (uint32_t flags : {0u, 1u}) {
            auto f = c.err("SELECT 1; DROP TABLE " + t, {}, flags);
            CHECK(f.err.error_class == ILANA_ERR_SYNTAX);
            CHECK(f.err.native_code == 1064);
        }
        CHECK(c.ok("SELECT COUNT(*) FROM " + t).rows[0][0].i == 0);
        c.ok("DROP TABLE " + t);
    }
    SECTION("placeholder count mismatch") {
        auto f = c.err("SELECT ? + ?", {v_int(1)});
        CHECK(f.err.error_class == ILANA_ERR_SYNTAX);
        CHECK((f.err.flags & ILANA_ERRF_NOT_SENT) != 0);
    }
    SECTION("max_statement_time exceeded is TIMEOUT") {
        for (uint32_t flags : {0u, 1u}) {
            auto t0 = Clock::now();
            auto f = c.err("SET STATEMENT max_statement_time = 0.2 FOR SELECT SLEEP(3)", {}, flags);
            CHECK(ms_since(t0) < 2000);
            CHECK(f.err.error_class == ILANA_ERR_TIMEOUT);
            CHECK(f.err.native_code == 1969);
            CHECK((f.err.flags & ILANA_ERRF_CONN_BROKEN) == 0);
        }
        CHECK(c.ok("SELECT 1").rows[0][0].i == 1);
    }
    SECTION("the session killed from another connection: CONNECTION + CONN_BROKEN") {
        Conn killer;
        int64_t id = c.ok("SELECT CONNECTION_ID()").rows[0][0].i;
        killer.ok("KILL CONNECTION " + std::to_string(id));
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
        auto f = c.err("SELECT 1");
        CHECK(f.err.error_class == ILANA_ERR_CONNECTION);
        CHECK((f.err.flags & ILANA_ERRF_CONN_BROKEN) != 0);
        // Every later call fails the same way, immediately.
        auto g = c.err("SELECT ?", {v_int(1)});
        CHECK(g.err.error_class == ILANA_ERR_CONNECTION);
        CHECK((g.err.flags & ILANA_ERRF_CONN_BROKEN) != 0);
        ilana_error err = new_error();
        CHECK(api().ping(c.get(), 500, &err) == ILANA_ERROR);
        CHECK(err.error_class == ILANA_ERR_CONNECTION);
    }
}

TEST_CASE("mysql: cancel stops a running statement", "[mysql][server]") {
    ILANA_REQUIRE_MYSQL();
    Conn c;
    ilana_error err = new_error();
    CHECK(api().cancel(c.get(), &err) == ILANA_OK); // nothing running: OK

    for (uint32_t flags : {0u, 1u}) {
        INFO("flags " << flags);
        std::atomic<bool> started{false};
        std::atomic<ilana_status> cancel_status{ILANA_ERROR};
        std::thread canceller([&] { // no Catch2 assertions off the main thread
            while (!started) std::this_thread::sleep_for(std::chrono::milliseconds(1));
            std::this_thread::sleep_for(std::chrono::milliseconds(300));
            ilana_error e = new_error();
            cancel_status = api().cancel(c.get(), &e);
        });
        auto t0 = Clock::now();
        started = true;
        std::vector<ilana_value> params;
        if (flags) params.push_back(v_int(10));
        auto f = c.err(flags ? "SELECT SLEEP(?)" : "SELECT SLEEP(10)", params, flags);
        auto took = ms_since(t0);
        canceller.join();
        CHECK(cancel_status == ILANA_OK);
        CHECK(f.err.error_class == ILANA_ERR_CANCELED);
        CHECK(f.err.native_code == 1317);
        CHECK(took < 1500);
        CHECK((f.err.flags & ILANA_ERRF_CONN_BROKEN) == 0);
        // The session carries on, and the kill did not leak into the next statement.
        CHECK(c.ok("SELECT 7").rows[0][0].i == 7);
        CHECK(c.ok("SELECT SLEEP(0.3)").rows[0][0].i == 0);
    }
}

TEST_CASE("mysql: prepared statement cache survives a table change", "[mysql][server]") {
    ILANA_REQUIRE_MYSQL();
    Conn c(with(server_params(), "maxPreparedStatements", "4"));
    const std::string t = unique_name("cache");
    c.ok("CREATE TABLE " + t + " (a INT)");
    c.ok("INSERT INTO " + t + " VALUES (1)");
    const std::string sel = "SELECT * FROM " + t + " WHERE a = ?";
    CHECK(c.ok(sel, {v_int(1)}, ILANA_EXEC_CACHE).names.size() == 1);
    c.ok("ALTER TABLE " + t + " ADD COLUMN b INT DEFAULT 5");
    auto r = c.ok(sel, {v_int(1)}, ILANA_EXEC_CACHE);
    REQUIRE(r.names.size() == 2);
    CHECK(r.rows[0][1].i == 5);
    // More distinct statements than the cache holds: evictions are harmless.
    for (int k = 0; k < 10; ++k)
        CHECK(c.ok("SELECT ? + " + std::to_string(k), {v_int(1)}, ILANA_EXEC_CACHE).rows[0][0].i == 1 + k);
    CHECK(c.ok(sel, {v_int(1)}, ILANA_EXEC_CACHE).rows.size() == 1);
    c.ok("DROP TABLE " + t);
}

// The driver reuses a cached statement's column description and result
// bindings from one execution to the next while the metadata is unchanged;
// every change must still reach the result.
TEST_CASE("mysql: a cached statement follows result metadata changes", "[mysql][server]") {
    ILANA_REQUIRE_MYSQL();
    Conn c;
    const std::string t = unique_name("meta");
    c.ok("CREATE TABLE " + t + " (a INT NOT NULL, b INT)");
    c.ok("INSERT INTO " + t + " VALUES (1, 5)");
    const std::string sel = "SELECT * FROM " + t + " WHERE a = ?";
    for (int k = 0; k < 3; ++k) {
        auto r = c.ok(sel, {v_int(1)}, ILANA_EXEC_CACHE);
        REQUIRE(r.names == std::vector<std::string>{"a", "b"});
        CHECK(r.types[1] == ILANA_TYPE_INT64);
        CHECK(r.rows[0][1].i == 5);
    }
    SECTION("same column count, new type") {
        c.ok("ALTER TABLE " + t + " MODIFY b VARCHAR(20)");
        c.ok("UPDATE " + t + " SET b = 'five'");
        for (int k = 0; k < 2; ++k) {
            auto r = c.ok(sel, {v_int(1)}, ILANA_EXEC_CACHE);
            REQUIRE(r.names.size() == 2);
            CHECK(r.types[1] == ILANA_TYPE_TEXT);
            CHECK(r.native[1] == "VARCHAR");
            REQUIRE(r.rows.size() == 1);
            CHECK(r.rows[0][1].type == ILANA_TYPE_TEXT);
            CHECK(r.rows[0][1].s == "five");
        }
    }
    SECTION("fewer and more columns") {
        c.ok("ALTER TABLE " + t + " DROP COLUMN b");
        auto r = c.ok(sel, {v_int(1)}, ILANA_EXEC_CACHE);
        REQUIRE(r.names == std::vector<std::string>{"a"});
        c.ok("ALTER TABLE " + t + " ADD COLUMN d DOUBLE DEFAULT 2.5, ADD COLUMN e TEXT DEFAULT 'x'");
        for (int k = 0; k < 2; ++k) {
            r = c.ok(sel, {v_int(1)}, ILANA_EXEC_CACHE);
            REQUIRE(r.names == std::vector<std::string>{"a", "d", "e"});
            CHECK(r.rows[0][1].d == 2.5);
            CHECK(r.rows[0][2].s == "x");
        }
    }
    SECTION("the parameter's type decides the column's type") {
        const std::string echo = "SELECT ? AS v";
        for (int k = 0; k < 2; ++k) {
            auto i = c.ok(echo, {v_int(42)}, ILANA_EXEC_CACHE);
            CHECK(i.types[0] == ILANA_TYPE_INT64);
            CHECK(i.rows[0][0].i == 42);
            auto s = c.ok(echo, {v_str(ILANA_TYPE_TEXT, "hello")}, ILANA_EXEC_CACHE);
            CHECK(s.types[0] == ILANA_TYPE_TEXT);
            CHECK(s.rows[0][0].s == "hello");
            auto d = c.ok(echo, {v_double(0.25)}, ILANA_EXEC_CACHE);
            CHECK(d.types[0] == ILANA_TYPE_DOUBLE);
            CHECK(d.rows[0][0].d == 0.25);
            auto n = c.ok(echo, {v_null()}, ILANA_EXEC_CACHE);
            CHECK(n.rows[0][0].null);
        }
    }
    SECTION("statements taking turns, values outgrowing their buffers") {
        const std::string rep = "SELECT REPEAT('x', ?) AS s, ? AS n";
        const std::string two = "SELECT b, a FROM " + t + " WHERE a = ?";
        for (int64_t len : {5, 3000, 10, 200000, 0, 70000, 7}) {
            auto r = c.ok(rep, {v_int(len), v_int(len)}, ILANA_EXEC_CACHE);
            REQUIRE(r.rows.size() == 1);
            CHECK(r.rows[0][0].s == std::string(static_cast<size_t>(len), 'x'));
            CHECK(r.rows[0][1].i == len);
            auto q = c.ok(two, {v_int(1)}, ILANA_EXEC_CACHE);
            REQUIRE(q.names == std::vector<std::string>{"b", "a"});
            CHECK(q.rows[0][0].i == 5);
            CHECK(q.rows[0][1].i == 1);
            auto u = c.ok(two, {v_int(1)}); // uncached: its own statement handle
            CHECK(u.rows[0][0].i == 5);
        }
    }
    SECTION("a cached CALL, repeated") {
        const std::string p = unique_name("metaproc");
        c.ok("CREATE PROCEDURE " + p + "(IN x INT) BEGIN SELECT x AS a, 'y' AS s; SELECT x + 1 AS b; END");
        for (int k = 0; k < 3; ++k) {
            auto r = c.ok("CALL " + p + "(?)", {v_int(k)}, ILANA_EXEC_CACHE);
            REQUIRE(r.names == std::vector<std::string>{"a", "s"});
            REQUIRE(r.rows.size() == 1);
            CHECK(r.rows[0][0].i == k);
            CHECK(r.rows[0][1].s == "y");
            CHECK(c.ok(sel, {v_int(1)}, ILANA_EXEC_CACHE).rows[0][1].i == 5);
        }
        c.ok("DROP PROCEDURE " + p);
    }
    c.ok("DROP TABLE " + t);
}

TEST_CASE("mysql: columns_id repeats only for the same columns", "[mysql][server]") {
    // ABI 1.1: a cached statement whose description the driver keeps (same
    // metadata) keeps its columns_id, so the host keeps its column set;
    // every description built afresh (another statement, the text protocol,
    // changed metadata, a re-prepared statement) gets an id this connection
    // never handed out before.
    ILANA_REQUIRE_MYSQL();
    Conn c;
    const std::string t = unique_name("cid");
    c.ok("CREATE TABLE " + t + " (a INT NOT NULL, b INT)");
    c.ok("INSERT INTO " + t + " VALUES (1, 5)");
    const std::string sel = "SELECT * FROM " + t + " WHERE a = ?";
    const std::string all = "SELECT * FROM " + t;
    std::vector<uint64_t> seen; // every id of a distinct description so far
    auto is_new = [&](uint64_t id) {
        const bool fresh = id != 0 && std::find(seen.begin(), seen.end(), id) == seen.end();
        seen.push_back(id);
        return fresh;
    };

    const Rows first = c.ok(sel, {v_int(1)}, ILANA_EXEC_CACHE);
    CHECK(is_new(first.columns_id));
    for (int k = 0; k < 2; ++k) {
        const Rows again = c.ok(sel, {v_int(1)}, ILANA_EXEC_CACHE);
        CHECK(again.columns_id == first.columns_id);
        CHECK(again.names == first.names);
    }
    // Another statement; a parameterless one through the text protocol
    // (uncached), twice: a new description each time.
    CHECK(is_new(c.ok("SELECT b, a FROM " + t + " WHERE a = ?", {v_int(1)}, ILANA_EXEC_CACHE).columns_id));
    const Rows text1 = c.ok(all);
    const Rows text2 = c.ok(all);
    CHECK(is_new(text1.columns_id));
    CHECK(is_new(text2.columns_id));
    CHECK(text1.names == first.names);
    // Uncached with a parameter: its own statement handle; other columns.
    const Rows uncached = c.ok("SELECT a AS x FROM " + t + " WHERE a = ?", {v_int(1)});
    CHECK(is_new(uncached.columns_id));

    // The cached statement again, then its table changes under it.
    const uint64_t before = c.ok(sel, {v_int(1)}, ILANA_EXEC_CACHE).columns_id;
    CHECK(before != 0);
    CHECK(c.ok(sel, {v_int(1)}, ILANA_EXEC_CACHE).columns_id == before);
    c.ok("ALTER TABLE " + t + " MODIFY b VARCHAR(20)"); // same count, new type
    const Rows retyped = c.ok(sel, {v_int(1)}, ILANA_EXEC_CACHE);
    REQUIRE(retyped.types.size() == 2);
    CHECK(retyped.types[1] == ILANA_TYPE_TEXT);
    CHECK(retyped.columns_id != before);
    CHECK(is_new(retyped.columns_id));
    CHECK(c.ok(sel, {v_int(1)}, ILANA_EXEC_CACHE).columns_id == retyped.columns_id);
    c.ok("ALTER TABLE " + t + " ADD COLUMN d DOUBLE DEFAULT 2.5"); // one more column
    const Rows added = c.ok(sel, {v_int(1)}, ILANA_EXEC_CACHE);
    REQUIRE(added.names == std::vector<std::string>{"a", "b", "d"});
    CHECK(is_new(added.columns_id));
    CHECK(c.ok(sel, {v_int(1)}, ILANA_EXEC_CACHE).columns_id == added.columns_id);

    // The parameter's type decides the column's type: never one id for both.
    const std::string echo = "SELECT ? AS v";
    const Rows as_int = c.ok(echo, {v_int(42)}, ILANA_EXEC_CACHE);
    const Rows as_text = c.ok(echo, {v_str(ILANA_TYPE_TEXT, "hello")}, ILANA_EXEC_CACHE);
    CHECK(as_int.types != as_text.types);
    CHECK(as_int.columns_id != as_text.columns_id);
    CHECK(c.ok(echo, {v_int(43)}, ILANA_EXEC_CACHE).columns_id != as_text.columns_id);

    // A CALL with two result sets, repeated: the first set is the result.
    const std::string p = unique_name("cidproc");
    c.ok("CREATE PROCEDURE " + p + "(IN x INT) BEGIN SELECT x AS a, 'y' AS s; SELECT x + 1 AS b; END");
    const Rows call1 = c.ok("CALL " + p + "(?)", {v_int(1)}, ILANA_EXEC_CACHE);
    REQUIRE(call1.names == std::vector<std::string>{"a", "s"});
    CHECK(is_new(call1.columns_id));
    const Rows call2 = c.ok("CALL " + p + "(?)", {v_int(2)}, ILANA_EXEC_CACHE);
    REQUIRE(call2.names == call1.names);
    CHECK((call2.columns_id == call1.columns_id || is_new(call2.columns_id)));
    c.ok("DROP PROCEDURE " + p);

    // No row set: no description, no promise.
    CHECK(c.ok("UPDATE " + t + " SET b = 'six'").columns_id == 0);
    CHECK(c.ok("UPDATE " + t + " SET b = ?", {v_str(ILANA_TYPE_TEXT, "seven")}, ILANA_EXEC_CACHE).columns_id == 0);
    CHECK(c.ok(sel, {v_int(1)}, ILANA_EXEC_CACHE).columns_id != 0);
    c.ok("DROP TABLE " + t);
}

TEST_CASE("mysql: statements without rows in between keep a cached select's description", "[mysql][server]") {
    // The SDK keeps one closed result per connection for the next statement
    // (Result::recycle); a status result (INSERT, UPDATE) must not displace
    // a kept prepared-statement result, whose description, columns_id and
    // bindings are what a repeated select would otherwise build again.
    ILANA_REQUIRE_MYSQL();
    Conn c;
    const std::string t = unique_name("keep");
    c.ok("CREATE TABLE " + t + " (a INT NOT NULL, b VARCHAR(10))");
    const std::string sel = "SELECT a, b FROM " + t + " WHERE a = ?";
    const uint64_t first = c.ok(sel, {v_int(1)}, ILANA_EXEC_CACHE).columns_id;
    REQUIRE(first != 0);
    for (int k = 0; k < 3; ++k) {
        const Rows ins = c.ok("INSERT INTO " + t + " VALUES (?, 'x')", {v_int(k)}, ILANA_EXEC_CACHE);
        CHECK(ins.affected == 1);
        CHECK(c.ok("UPDATE " + t + " SET b = 'y' WHERE a = " + std::to_string(k)).affected == 1);
        const Rows again = c.ok(sel, {v_int(k)}, ILANA_EXEC_CACHE);
        CHECK(again.columns_id == first);
        REQUIRE(again.rows.size() == 1);
        CHECK(again.rows[0][0].i == k);
    }
}

TEST_CASE("mysql: introspection", "[mysql][server]") {
    ILANA_REQUIRE_MYSQL();
    Conn c;
    auto intro = static_cast<const ilana_introspect_api *>(Driver::get().entry->get_extension(ILANA_EXT_INTROSPECT));
    const std::string t = unique_name("intro");
    c.ok("CREATE TABLE " + t + " (id INT NOT NULL AUTO_INCREMENT, name VARCHAR(50) NOT NULL DEFAULT 'it''s', "
         "note TEXT NULL, score INT DEFAULT 0, kind ENUM('A','b') NULL DEFAULT NULL, "
         "PRIMARY KEY (id), KEY idx_score_name (score, name), UNIQUE KEY uq_name (name))");
    c.ok("CREATE VIEW " + t + "_v AS SELECT id FROM " + t);

    auto read = [&](ilana_status st, ilana_result *&res, const ilana_error &err) {
        if (st != ILANA_OK) FAIL("introspection failed: " << err.message);
        Rows out;
        ilana_result_info info = new_result_info();
        api().result_info(res, &info);
        for (uint32_t k = 0; k < info.column_count; ++k) {
            out.names.emplace_back(info.columns[k].name);
            out.types.push_back(info.columns[k].type);
        }
        for (;;) {
            ilana_batch b = new_batch(2);
            ilana_error e = new_error();
            ilana_status s = api().fetch(res, &b, &e);
            INFO(e.message);
            REQUIRE(s != ILANA_ERROR);
            ilana_test::append_batch_rows(b, out.rows);
            if (s == ILANA_DONE) break;
        }
        api().result_close(res);
        return out;
    };

    ilana_result *res = nullptr;
    ilana_error err = new_error();
    ilana_status st_cols = intro->columns(c.get(), nullptr, t.c_str(), &res, &err);
    Rows cols = read(st_cols, res, err);
    CHECK(cols.names == std::vector<std::string>{"table_name", "name", "ordinal", "data_type", "nullable",
                                                 "default_value", "primary_key"});
    CHECK(cols.types == std::vector<ilana_type>{ILANA_TYPE_TEXT, ILANA_TYPE_TEXT, ILANA_TYPE_INT64, ILANA_TYPE_TEXT,
                                                ILANA_TYPE_BOOL, ILANA_TYPE_TEXT, ILANA_TYPE_BOOL});
    REQUIRE(cols.rows.size() == 5);
    struct Expect {
        const char *name;
        const char *type;
        bool nullable;
        std::optional<std::string> def;
        bool pk;
    };
    const Expect expect[] = {{"id", "int(11)", false, std::nullopt, true},
                             {"name", "varchar(50)", false, std::string("it's"), false},
                             {"note", "text", true, std::nullopt, false},
                             {"score", "int(11)", true, std::string("0"), false},
                             {"kind", "enum('A','b')", true, std::nullopt, false}};
    for (size_t k = 0; k < 5; ++k) {
        const auto &row = cols.rows[k];
        INFO("column " << expect[k].name);
        CHECK(row[0].s == t);
        CHECK(row[1].s == expect[k].name);
        CHECK(row[2].i == static_cast<int64_t>(k + 1));
        CHECK(row[3].s == expect[k].type);
        CHECK(row[4].type == ILANA_TYPE_BOOL);
        CHECK(row[4].i == (expect[k].nullable ? 1 : 0));
        CHECK(row[5].null == !expect[k].def.has_value());
        if (expect[k].def) CHECK(row[5].s == *expect[k].def);
        CHECK(row[6].i == (expect[k].pk ? 1 : 0));
    }

    res = nullptr;
    err = new_error();
    ilana_status st_idx = intro->indexes(c.get(), nullptr, t.c_str(), &res, &err);
    Rows idx = read(st_idx, res, err);
    CHECK(idx.names == std::vector<std::string>{"table_name", "name", "columns", "is_unique", "is_primary"});
    REQUIRE(idx.rows.size() == 3);
    CHECK(idx.rows[0][1].s == "PRIMARY");
    CHECK(idx.rows[0][2].s == "id");
    CHECK(idx.rows[0][3].i == 1);
    CHECK(idx.rows[0][4].i == 1);
    CHECK(idx.rows[1][1].s == "idx_score_name");
    CHECK(idx.rows[1][2].s == "score,name");
    CHECK(idx.rows[1][3].i == 0);
    CHECK(idx.rows[1][4].i == 0);
    CHECK(idx.rows[2][1].s == "uq_name");
    CHECK(idx.rows[2][2].s == "name");
    CHECK(idx.rows[2][3].i == 1);
    CHECK(idx.rows[2][4].i == 0);

    res = nullptr;
    err = new_error();
    auto db = ilana_test::mysql().database;
    ilana_status st_tabs = intro->tables(c.get(), db.c_str(), &res, &err);
    Rows tabs = read(st_tabs, res, err);
    CHECK(tabs.names == std::vector<std::string>{"schema", "name", "kind"});
    std::map<std::string, std::string> kinds;
    std::vector<std::string> order;
    for (auto &row : tabs.rows) {
        CHECK(row[0].s == db);
        kinds[row[1].s] = row[2].s;
        order.push_back(row[1].s);
    }
    CHECK(std::is_sorted(order.begin(), order.end()));
    CHECK(kinds[t] == "table");
    CHECK(kinds[t + "_v"] == "view");

    // An unknown schema has no tables (not an error).
    res = nullptr;
    err = new_error();
    ilana_status st_none = intro->tables(c.get(), "no_such_schema_zz", &res, &err);
    Rows none = read(st_none, res, err);
    CHECK(none.rows.empty());

    c.ok("DROP VIEW " + t + "_v");
    c.ok("DROP TABLE " + t);
}

TEST_CASE("mysql: GET_LOCK contention", "[mysql][server]") {
    ILANA_REQUIRE_MYSQL();
    auto lock = static_cast<const ilana_lock_api *>(Driver::get().entry->get_extension(ILANA_EXT_LOCK));
    Conn a, b;
    const std::string name = unique_name("ilana_migrations_lock");
    ilana_error err = new_error();
    REQUIRE(lock->acquire(a.get(), name.c_str(), 1000, &err) == ILANA_OK);
    auto t0 = Clock::now();
    err = new_error();
    REQUIRE(lock->acquire(b.get(), name.c_str(), 900, &err) == ILANA_ERROR); // rounded up to 1 s
    auto took = ms_since(t0);
    CHECK(err.error_class == ILANA_ERR_TIMEOUT);
    CHECK(took >= 900);
    CHECK(took < 3000);
    err = new_error();
    CHECK(lock->release(b.get(), name.c_str(), &err) == ILANA_ERROR); // b does not hold it
    err = new_error();
    REQUIRE(lock->release(a.get(), name.c_str(), &err) == ILANA_OK);
    err = new_error();
    REQUIRE(lock->acquire(b.get(), name.c_str(), 0, &err) == ILANA_OK);
    err = new_error();
    CHECK(lock->release(b.get(), name.c_str(), &err) == ILANA_OK);

    // Names beyond MySQL's 64 characters still lock (hashed), and distinctly.
    const std::string long1 = name + std::string(100, 'x') + "1";
    const std::string long2 = name + std::string(100, 'x') + "2";
    err = new_error();
    REQUIRE(lock->acquire(a.get(), long1.c_str(), 0, &err) == ILANA_OK);
    err = new_error();
    CHECK(lock->acquire(b.get(), long1.c_str(), 0, &err) == ILANA_ERROR);
    err = new_error();
    CHECK(lock->acquire(b.get(), long2.c_str(), 0, &err) == ILANA_OK);
    err = new_error();
    CHECK(lock->release(a.get(), long1.c_str(), &err) == ILANA_OK);
    CHECK(lock->release(b.get(), long2.c_str(), &err) == ILANA_OK);
}

TEST_CASE("mysql: namespaces are databases", "[mysql][server]") {
    ILANA_REQUIRE_MYSQL();
    auto ns = static_cast<const ilana_namespace_api *>(Driver::get().entry->get_extension(ILANA_EXT_NAMESPACE));
    Conn c;
    const std::string prefix = "ilana_ns_" + std::to_string(::getpid()) + "_";
    const std::string a = prefix + "b-2", b = prefix + "a_1";
    auto list = [&](const char *p) {
        ilana_result *res = nullptr;
        ilana_error err = new_error();
        REQUIRE(ns->list(c.get(), p, &res, &err) == ILANA_OK);
        ilana_result_info info = new_result_info();
        api().result_info(res, &info);
        REQUIRE(info.column_count == 1);
        CHECK(std::string(info.columns[0].name) == "name");
        CHECK(info.columns[0].type == ILANA_TYPE_TEXT);
        std::vector<std::string> names;
        for (;;) {
            ilana_batch bt = new_batch(100);
            ilana_status s = api().fetch(res, &bt, &err);
            for (uint32_t r = 0; r < bt.row_count; ++r)
                names.emplace_back(bt.cells[r].v.str.ptr, bt.cells[r].v.str.len);
            if (s != ILANA_OK) break;
        }
        api().result_close(res);
        return names;
    };
    ilana_error err = new_error();
    REQUIRE(ns->create(c.get(), a.c_str(), &err) == ILANA_OK);
    REQUIRE(ns->create(c.get(), b.c_str(), &err) == ILANA_OK);
    REQUIRE(ns->create(c.get(), a.c_str(), &err) == ILANA_OK); // exists: fine
    CHECK(list(prefix.c_str()) == std::vector<std::string>{b, a});
    // '_' in the prefix is literal, not a LIKE wildcard.
    CHECK(list((prefix + "a_").c_str()) == std::vector<std::string>{b});
    CHECK(list((prefix + "aX").c_str()).empty());
    {
        Conn tenant(with(server_params(), "database", a));
        CHECK(tenant.ok("SELECT DATABASE()").rows[0][0].s == a);
        auto cs = tenant.ok("SELECT @@character_set_database");
        CHECK(cs.rows[0][0].s == "utf8mb4");
    }
    REQUIRE(ns->drop(c.get(), a.c_str(), &err) == ILANA_OK);
    REQUIRE(ns->drop(c.get(), b.c_str(), &err) == ILANA_OK);
    REQUIRE(ns->drop(c.get(), b.c_str(), &err) == ILANA_OK); // missing: fine
    CHECK(list(prefix.c_str()).empty());
    auto all = list(nullptr);
    CHECK(std::find(all.begin(), all.end(), ilana_test::mysql().database) != all.end());
}

TEST_CASE("mysql: connections move between threads", "[mysql][server]") {
    ILANA_REQUIRE_MYSQL();
    Conn c;
    // Each call on its own thread, one after the other, as a pool would lend it.
    std::vector<int64_t> got;
    for (int k = 0; k < 4; ++k) {
        std::thread th([&, k] {
            ilana_value v = v_int(k);
            const std::string sql = "SELECT ? * 2";
            ilana_statement st{sizeof st, sql.data(), sql.size(), &v, 1, sizeof v, ILANA_EXEC_CACHE, 0};
            ilana_result *res = nullptr;
            ilana_error err = new_error();
            if (api().execute(c.get(), &st, &res, &err) != ILANA_OK) return;
            ilana_batch b = new_batch(1);
            if (api().fetch(res, &b, &err) != ILANA_ERROR && b.row_count == 1) got.push_back(b.cells[0].v.i64);
            api().result_close(res);
        });
        th.join();
    }
    CHECK(got == std::vector<int64_t>{0, 2, 4, 6});
}

TEST_CASE("mysql: cancel while rows stream, between fetches", "[mysql][server]") {
    ILANA_REQUIRE_MYSQL();
    Conn c;
    // 100 rows, 50 ms each: the server is still producing when we cancel.
    // Each row is larger than the server's net buffer, so rows arrive as made.
    const std::string sql = "WITH RECURSIVE seq(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM seq WHERE n < 100) "
                            "SELECT n, REPEAT('x', 40000), SLEEP(0.05) FROM seq";
    for (uint32_t flags : {0u, 1u}) {
        const ilana_statement st = make_statement(sql, flags);
        ilana_result *res = nullptr;
        ilana_error err = new_error();
        REQUIRE(api().execute(c.get(), &st, &res, &err) == ILANA_OK);
        ilana_batch b = new_batch(1);
        auto t_first = Clock::now();
        REQUIRE(api().fetch(res, &b, &err) == ILANA_OK);
        REQUIRE(b.row_count == 1);
        CHECK(ms_since(t_first) < 1000);
        auto t0 = Clock::now();
        err = new_error();
        REQUIRE(api().cancel(c.get(), &err) == ILANA_OK); // cancel is [thread-safe]: any thread will do
        ilana_status s;
        do {
            b.max_rows = 1000;
            err = new_error();
            s = api().fetch(res, &b, &err);
        } while (s == ILANA_OK);
        CHECK(s == ILANA_ERROR);
        CHECK(err.error_class == ILANA_ERR_CANCELED);
        CHECK(ms_since(t0) < 1500);
        // A failed result keeps failing until closed.
        ilana_error again = new_error();
        CHECK(api().fetch(res, &b, &again) == ILANA_ERROR);
        CHECK(again.error_class == ILANA_ERR_CANCELED);
        api().result_close(res);
        CHECK(c.ok("SELECT 5").rows[0][0].i == 5);
    }
}

TEST_CASE("mysql: cancel after the server finished but before the rows were read", "[mysql][server]") {
    ILANA_REQUIRE_MYSQL();
    Conn c;
    // Small rows stay in the server's net buffer until the statement ends, so
    // the first fetch returns when the server is already done; the host's
    // cancel still turns the rest of the result into CANCELED.
    const std::string sql = "WITH RECURSIVE seq(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM seq WHERE n < 5000) "
                            "SELECT n FROM seq";
    const ilana_statement st = make_statement(sql);
    ilana_error err = new_error();
    ilana_batch b = new_batch(1);
    ilana_result *res = execute_and_fetch_first(c, st, b, err);
    REQUIRE(api().cancel(c.get(), &err) == ILANA_OK);
    b.max_rows = 100000;
    err = new_error();
    CHECK(api().fetch(res, &b, &err) == ILANA_ERROR);
    CHECK(err.error_class == ILANA_ERR_CANCELED);
    api().result_close(res);
    CHECK(c.ok("SELECT SLEEP(0.1)").rows[0][0].i == 0);
}

TEST_CASE("mysql: cancel racing short statements never breaks the session", "[mysql][server]") {
    ILANA_REQUIRE_MYSQL();
    Conn c;
    std::atomic<bool> stop{false};
    std::atomic<int> cancels{0};
    std::thread storm([&] {
        while (!stop) {
            ilana_error e = new_error();
            if (api().cancel(c.get(), &e) == ILANA_OK) ++cancels;
        }
    });
    int ok = 0, canceled = 0;
    for (int k = 0; k < 300; ++k) {
        auto r = c.run("SELECT ? + 1", {v_int(k)}, k % 2 ? ILANA_EXEC_CACHE : 0);
        if (auto *rows = std::get_if<Rows>(&r)) {
            CHECK(rows->rows[0][0].i == k + 1);
            ++ok;
        } else {
            auto &f = std::get<Failure>(r);
            INFO(f.err.message);
            CHECK(f.err.error_class == ILANA_ERR_CANCELED);
            ++canceled;
        }
    }
    stop = true;
    storm.join();
    CHECK(ok + canceled == 300);
    CHECK(cancels > 0);
    // No kill left over for the next statement.
    CHECK(c.ok("SELECT SLEEP(0.2)").rows[0][0].i == 0);
}

TEST_CASE("mysql: readTimeout bounds a statement on a silent server", "[mysql][server]") {
    ILANA_REQUIRE_MYSQL();
    FreezableProxy proxy(std::stoi(ilana_test::mysql().port));
    Conn c(with(through(proxy), "readTimeout", "1"));
    CHECK(c.ok("SELECT 1").rows[0][0].i == 1);
    proxy.freeze();
    auto t0 = Clock::now();
    auto f = c.err("SELECT 2");
    auto took = ms_since(t0);
    CHECK(f.err.error_class == ILANA_ERR_TIMEOUT);
    CHECK((f.err.flags & ILANA_ERRF_CONN_BROKEN) != 0);
    CHECK(took >= 900);
    CHECK(took < 4000);
}

TEST_CASE("mysql: readTimeout also bounds fetching a stream", "[mysql][server]") {
    ILANA_REQUIRE_MYSQL();
    FreezableProxy proxy(std::stoi(ilana_test::mysql().port));
    Conn c(with(through(proxy), "readTimeout", "1"));
    const std::string sql = "WITH RECURSIVE seq(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM seq WHERE n < 40) "
                            // Rows larger than the server's net buffer are flushed one by one.
                            "SELECT n, REPEAT('x', 40000), SLEEP(0.05) FROM seq";
    const ilana_statement st = make_statement(sql);
    ilana_error err = new_error();
    ilana_batch b = new_batch(1);
    ilana_result *res = execute_and_fetch_first(c, st, b, err);
    proxy.freeze();
    auto t0 = Clock::now();
    ilana_status s;
    do {
        err = new_error();
        b.max_rows = 100;
        s = api().fetch(res, &b, &err);
    } while (s == ILANA_OK);
    CHECK(s == ILANA_ERROR);
    CHECK(err.error_class == ILANA_ERR_TIMEOUT);
    CHECK((err.flags & ILANA_ERRF_CONN_BROKEN) != 0);
    CHECK(ms_since(t0) < 4000);
    t0 = Clock::now();
    api().result_close(res); // must not wait for the silent server again
    CHECK(ms_since(t0) < 200);
}

TEST_CASE("mysql: CALL with several result sets", "[mysql][server]") {
    ILANA_REQUIRE_MYSQL();
    Conn c;
    const std::string p = unique_name("proc");
    c.ok("CREATE PROCEDURE " + p + "(IN x INT) BEGIN SELECT x AS a; SELECT x + 1 AS b; END");
    for (uint32_t flags : {0u, 1u}) {
        auto r = c.ok("CALL " + p + "(41)", {}, flags);
        REQUIRE(r.rows.size() == 1);
        CHECK(r.names[0] == "a");
        CHECK(r.rows[0][0].i == 41);
        auto q = c.ok("CALL " + p + "(?)", {v_int(9)}, flags);
        CHECK(q.rows[0][0].i == 9);
        CHECK(c.ok("SELECT 3").rows[0][0].i == 3); // the other result sets were drained
    }
    c.ok("DROP PROCEDURE " + p);
}

TEST_CASE("mysql: zero dates read as NULL", "[mysql][server]") {
    ILANA_REQUIRE_MYSQL();
    Conn c;
    const std::string t = unique_name("zero");
    c.ok("SET SESSION sql_mode = ''");
    c.ok("CREATE TABLE " + t + " (id INT, d DATE, dt DATETIME)");
    c.ok("INSERT INTO " + t + " VALUES (1, '0000-00-00', '0000-00-00 00:00:00'), (2, '2024-00-10', '2024-05-00 10:00:00')");
    for (const Rows &r : read_three_ways(c, "SELECT d, dt FROM " + t + " WHERE id > 0 ORDER BY id")) {
        REQUIRE(r.rows.size() == 2);
        for (auto &row : r.rows) {
            CHECK(row[0].null);
            CHECK(row[1].null);
        }
    }
    c.ok("DROP TABLE " + t);
}

TEST_CASE("mysql: ssl=true refuses a server without TLS", "[mysql][server]") {
    ILANA_REQUIRE_MYSQL();
    Conn probe;
    if (probe.ok("SHOW VARIABLES LIKE 'have_ssl'").rows[0][1].s == "YES") {
        Conn tls(with(server_params(), "ssl", "true"));
        CHECK(tls.ok("SHOW STATUS LIKE 'Ssl_cipher'").rows[0][1].s != "");
        return;
    }
    auto r = try_connect(with(server_params(), "ssl", "true"));
    REQUIRE(r.status == ILANA_ERROR);
    CHECK(r.err.error_class == ILANA_ERR_CONNECTION);
    CHECK(r.err.native_code == 2026);
}

TEST_CASE("mysql: statements the server cannot prepare run with ILANA_EXEC_CACHE", "[mysql][server]") {
    ILANA_REQUIRE_MYSQL();
    Conn c;
    for (int k = 0; k < 2; ++k) c.ok("PREPARE ilana_t FROM 'SELECT 11'", {}, ILANA_EXEC_CACHE);
    CHECK(c.ok("EXECUTE ilana_t").rows[0][0].i == 11);
    c.ok("DEALLOCATE PREPARE ilana_t");
}

TEST_CASE("mysql: parameters honour the host's value_size stride", "[mysql][server]") {
    ILANA_REQUIRE_MYSQL();
    Conn c;
    struct Wide {
        ilana_value v;
        char future_fields[24];
    };
    Wide w[2]{};
    w[0].v = v_int(40);
    w[1].v = v_int(2);
    std::memset(w[0].future_fields, 0xAB, sizeof w[0].future_fields);
    const std::string sql = "SELECT ? + ?";
    ilana_statement st{};
    st.struct_size = sizeof st;
    st.sql = sql.data();
    st.sql_len = sql.size();
    st.params = &w[0].v;
    st.param_count = 2;
    st.value_size = sizeof(Wide);
    ilana_result *res = nullptr;
    ilana_error err = new_error();
    REQUIRE(api().execute(c.get(), &st, &res, &err) == ILANA_OK);
    ilana_batch b = new_batch(1);
    REQUIRE(api().fetch(res, &b, &err) != ILANA_ERROR);
    CHECK(b.cells[0].v.i64 == 42);
    api().result_close(res);
}

TEST_CASE("mysql: connections log through the host", "[mysql][server]") {
    ILANA_REQUIRE_MYSQL();
    { Conn c; }
    std::lock_guard<std::mutex> lock(g_log_mu);
    bool found = false;
    for (auto &m : g_log) found = found || m.find("connected to") != std::string::npos;
    CHECK(found);
    for (auto &m : g_log) CHECK(m.find(ilana_test::mysql().password) == std::string::npos);
}
