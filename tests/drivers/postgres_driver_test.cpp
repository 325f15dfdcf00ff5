// postgres_driver_test.cpp — the PostgreSQL driver through the raw C ABI:
// dlopen(ilana_postgres.so) by absolute path, no core involved.
//
// Every test that needs the server starts with ILANA_REQUIRE_PG(). Tables
// live in a schema unique to this process (dropped at exit), so parallel
// test processes never collide.
// Listener types (Catch::TestEventListenerBase) for dropping the test schema.
#include "driver_harness.hpp"
#include "silent_listener.hpp"
#include "test_servers.hpp"

#include <ilana/driver.h>
#include <ilana/sdk/driver_support.hpp>

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
#include <memory>
#include <limits>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;
using ilana::sdk::days_from_civil;
using ilana_test::Cell;
using ilana_test::copy_cell;
using ilana_test::listen_loopback;
using ilana_test::make_statement;
using ilana_test::new_batch;
using ilana_test::new_result_info;
using ilana_test::Params;
using ilana_test::SilentListener;
using ilana_test::with;

constexpr int64_t kMicrosPerDay = 86400LL * 1000000LL;

double seconds_since(Clock::time_point t0) {
    return std::chrono::duration<double>(Clock::now() - t0).count();
}

// ---------------------------------------------------------------------------
// Loading the driver, a recording host
// ---------------------------------------------------------------------------

std::mutex g_log_mu;
std::vector<std::pair<void *, std::string>> g_log;

void test_log(void *, void *conn_context, ilana_log_level, const char *message, size_t len) {
    std::lock_guard<std::mutex> lock(g_log_mu);
    g_log.emplace_back(conn_context, std::string(message, len));
}

const ilana_host g_host = {sizeof(ilana_host), ILANA_ABI_MAJOR, ILANA_ABI_MINOR, "ilana-test", "0",
                           nullptr, test_log, nullptr, nullptr};

const ilana_test::LoadedDriver &driver() {
    static const ilana_test::LoadedDriver d = ilana_test::load_driver("ilana_postgres.so", g_host);
    return d;
}

const ilana_driver_api &api() { return *driver().entry->api; }

template <class T> const T *extension(const char *id) {
    return static_cast<const T *>(driver().entry->get_extension(id));
}

std::vector<std::pair<void *, std::string>> log_snapshot() {
    std::lock_guard<std::mutex> lock(g_log_mu);
    return g_log;
}

// ---------------------------------------------------------------------------
// Errors, parameters, connections
// ---------------------------------------------------------------------------

struct Error {
    ilana_error e = ilana_test::new_error();
    ilana_error *ptr() { return &e; }
    std::string message() const { return e.message; }
    std::string sqlstate() const { return e.sqlstate; }
    bool has(uint32_t flag) const { return (e.flags & flag) != 0; }
};

std::string unique_name(const std::string &prefix) { return prefix + std::to_string(::getpid()); }

Params server_params() { return ilana_test::server_params(ilana_test::pg()); }

class Conn {
public:
    Conn() = default;
    explicit Conn(ilana_conn *c) : c_(c) {}
    Conn(Conn &&o) noexcept : c_(std::exchange(o.c_, nullptr)) {}
    Conn &operator=(Conn &&o) noexcept {
        reset();
        c_ = std::exchange(o.c_, nullptr);
        return *this;
    }
    Conn(const Conn &) = delete;
    Conn &operator=(const Conn &) = delete;
    ~Conn() { reset(); }
    void reset() {
        if (c_ != nullptr) api().close(c_);
        c_ = nullptr;
    }
    ilana_conn *get() const { return c_; }
    operator ilana_conn *() const { return c_; }

private:
    ilana_conn *c_ = nullptr;
};

ilana_status try_connect(const Params &p, Conn *out, Error *err, int32_t timeout_ms = 0,
                         void *host_context = nullptr) {
    const ilana_test::ConnectParams cp(p, timeout_ms, host_context);
    ilana_conn *c = reinterpret_cast<ilana_conn *>(0x1);
    ilana_status st = api().connect(cp.get(), &c, err->ptr());
    if (st == ILANA_OK) *out = Conn(c);
    else CHECK(c == nullptr);
    return st;
}

Conn connect_with(const Params &p) {
    Conn c;
    Error err;
    ilana_status st = try_connect(p, &c, &err);
    INFO("connect: " << err.message());
    REQUIRE(st == ILANA_OK);
    return c;
}

class Vals {
public:
    Vals &null() { return push(ILANA_TYPE_NULL, true); }
    Vals &typed_null(ilana_type t) { return push(t, true); }
    Vals &b(bool x) { return num(ILANA_TYPE_BOOL, x ? 1 : 0); }
    Vals &i(int64_t x) { return num(ILANA_TYPE_INT64, x); }
    Vals &u(uint64_t x) { return push(ilana_test::uint_value(x)); }
    Vals &d(double x) { return push(ilana_test::double_value(x)); }
    Vals &t(std::string s) { return str(ILANA_TYPE_TEXT, std::move(s)); }
    Vals &blob(std::string s) { return str(ILANA_TYPE_BLOB, std::move(s)); }
    Vals &dec(std::string s) { return str(ILANA_TYPE_DECIMAL, std::move(s)); }
    Vals &uuid(std::string s) { return str(ILANA_TYPE_UUID, std::move(s)); }
    Vals &json(std::string s) { return str(ILANA_TYPE_JSON, std::move(s)); }
    Vals &date(int64_t days) { return num(ILANA_TYPE_DATE, days); }
    Vals &time(int64_t us) { return num(ILANA_TYPE_TIME, us); }
    Vals &ts(int64_t us) { return num(ILANA_TYPE_TIMESTAMP, us); }
    Vals &tstz(int64_t us) { return num(ILANA_TYPE_TIMESTAMPTZ, us); }
    Vals &num(ilana_type t, int64_t x) { return push(ilana_test::int_value(t, x)); }
    Vals &str(ilana_type t, std::string s) {
        // Heap strings: their bytes never move, whatever happens to Vals.
        store_.push_back(std::make_unique<std::string>(std::move(s)));
        return push(ilana_test::str_value(t, *store_.back()));
    }
    const std::vector<ilana_value> &values() const { return v_; }

private:
    Vals &push(ilana_type t, bool is_null) {
        ilana_value v{};
        v.type = t;
        v.is_null = is_null ? 1 : 0;
        return push(v);
    }
    Vals &push(const ilana_value &v) {
        v_.push_back(v);
        return *this;
    }
    std::vector<std::unique_ptr<std::string>> store_;
    std::vector<ilana_value> v_;
};

struct Column {
    std::string name;
    ilana_type type;
    std::string native;
};

struct Rows {
    std::vector<Column> cols;
    std::vector<std::vector<Cell>> rows;
    int64_t affected = -1;
    int64_t last_insert_id = -1;
    uint64_t columns_id = 0; // ABI 1.1
    size_t batches = 0;
    uint32_t largest_batch = 0;
};

ilana_statement statement(std::string &&sql, const Vals &v, uint32_t flags) = delete; // would dangle
ilana_statement statement(const std::string &sql, const Vals &v, uint32_t flags) {
    return make_statement(sql, v.values(), flags);
}

// Executes and reads every row. `err_out` non-null: failures are returned
// instead of REQUIREd away.
ilana_status run_impl(ilana_conn *c, const std::string &sql, const Vals &v, uint32_t flags, uint32_t batch_rows,
                      Rows *out, Error *err) {
    ilana_statement st = statement(sql, v, flags);
    ilana_result *res = nullptr;
    ilana_status s = api().execute(c, &st, &res, err->ptr());
    if (s != ILANA_OK) {
        CHECK(res == nullptr);
        return s;
    }
    REQUIRE(res != nullptr);
    ilana_result_info info = new_result_info();
    api().result_info(res, &info);
    REQUIRE(info.column_size == sizeof(ilana_column));
    for (uint32_t i = 0; i < info.column_count; ++i) {
        const ilana_column &col = info.columns[i];
        out->cols.push_back({col.name, col.type, col.native_type});
    }
    out->columns_id = info.columns_id;
    for (;;) {
        ilana_batch b = new_batch(batch_rows);
        s = api().fetch(res, &b, err->ptr());
        if (s == ILANA_ERROR) break;
        REQUIRE((s == ILANA_OK || s == ILANA_DONE));
        REQUIRE(b.row_count <= batch_rows);
        REQUIRE(b.column_count == info.column_count);
        ++out->batches;
        out->largest_batch = std::max(out->largest_batch, b.row_count);
        ilana_test::append_batch_rows(b, out->rows);
        if (s == ILANA_DONE) break;
    }
    if (s != ILANA_ERROR) {
        api().result_info(res, &info);
        out->affected = info.affected_rows;
        out->last_insert_id = info.last_insert_id;
        CHECK(info.columns_id == out->columns_id); // names the result, not the moment
    }
    api().result_close(res);
    return s == ILANA_ERROR ? ILANA_ERROR : ILANA_OK;
}

Rows run(ilana_conn *c, const std::string &sql, const Vals &v = Vals(), uint32_t flags = 0,
         uint32_t batch_rows = 64) {
    Rows rows;
    Error err;
    ilana_status s = run_impl(c, sql, v, flags, batch_rows, &rows, &err);
    INFO("SQL: " << sql << "\nerror: " << err.message());
    REQUIRE(s == ILANA_OK);
    return rows;
}

Error run_err(ilana_conn *c, const std::string &sql, const Vals &v = Vals(), uint32_t flags = 0) {
    Rows rows;
    Error err;
    ilana_status s = run_impl(c, sql, v, flags, 64, &rows, &err);
    INFO("SQL expected to fail: " << sql);
    REQUIRE(s == ILANA_ERROR);
    return err;
}

void exec(ilana_conn *c, const std::string &sql, const Vals &v = Vals(), uint32_t flags = 0) {
    run(c, sql, v, flags);
}

Cell scalar(ilana_conn *c, const std::string &sql, const Vals &v = Vals(), uint32_t flags = 0) {
    Rows r = run(c, sql, v, flags);
    REQUIRE(r.rows.size() == 1);
    REQUIRE(!r.rows[0].empty());
    return r.rows[0][0];
}

// The per-process schema (created on first use, dropped when the run ends).
struct TestSchema {
    std::string name = unique_name("ilana_pgtest_");
    bool created = false;
    void drop() {
        if (!created) return;
        created = false;
        Conn c;
        Error err;
        if (try_connect(server_params(), &c, &err) == ILANA_OK) {
            std::string sql = "DROP SCHEMA IF EXISTS " + name + " CASCADE";
            ilana_statement st = statement(sql, Vals(), 0);
            ilana_result *res = nullptr;
            if (api().execute(c, &st, &res, err.ptr()) == ILANA_OK) api().result_close(res);
        }
    }
};

TestSchema &schema_state() {
    static TestSchema s;
    return s;
}

// Drops the schema at the end of the run, while libpq (and OpenSSL under it)
// are still fully alive — a static destructor would run after their atexit
// cleanup.
struct DropSchemaAtEnd : Catch::TestEventListenerBase {
    using TestEventListenerBase::TestEventListenerBase;
    void testRunEnded(Catch::TestRunStats const &) override { schema_state().drop(); }
};

const std::string &test_schema() {
    TestSchema &s = schema_state();
    if (!s.created) {
        Conn c = connect_with(server_params());
        exec(c, "DROP SCHEMA IF EXISTS " + s.name + " CASCADE");
        exec(c, "CREATE SCHEMA " + s.name);
        s.created = true;
    }
    return s.name;
}

Params base_params() { return with(server_params(), "search_path", test_schema()); }

Conn connect() { return connect_with(base_params()); }

// ---------------------------------------------------------------------------
// Sockets for the timeout tests
// ---------------------------------------------------------------------------

// listen_loopback and SilentListener (accepts, never says a word): silent_listener.hpp.

// Forwards one client at a time to the test server until frozen; frozen, it
// keeps the sockets open and forwards nothing (a hung server).
class FreezableProxy {
public:
    FreezableProxy(std::string host, int target) : host_(std::move(host)), target_(target) {
        fd_ = listen_loopback(&port_);
        thread_ = std::thread([this] { loop(); });
    }
    ~FreezableProxy() {
        stop_ = true;
        thread_.join();
        ::close(fd_);
    }
    int port() const { return port_; }
    void freeze() { frozen_ = true; }

private:
    void loop() {
        while (!stop_) {
            pollfd p{fd_, POLLIN, 0};
            if (::poll(&p, 1, 50) <= 0) continue;
            int client = ::accept(fd_, nullptr, nullptr);
            if (client < 0) continue;
            int server = ::socket(AF_INET, SOCK_STREAM, 0);
            sockaddr_in a{};
            a.sin_family = AF_INET;
            a.sin_port = htons(static_cast<uint16_t>(target_));
            ::inet_pton(AF_INET, host_.c_str(), &a.sin_addr);
            if (::connect(server, reinterpret_cast<sockaddr *>(&a), sizeof a) != 0) {
                ::close(client);
                ::close(server);
                continue;
            }
            pump(client, server);
            ::close(client);
            ::close(server);
        }
    }
    void pump(int client, int server) {
        char buf[16384];
        while (!stop_) {
            if (frozen_) {
                std::this_thread::sleep_for(std::chrono::milliseconds(20));
                continue;
            }
            pollfd p[2] = {{client, POLLIN, 0}, {server, POLLIN, 0}};
            if (::poll(p, 2, 50) <= 0) continue;
            if (frozen_) continue;
            for (int k = 0; k < 2; ++k) {
                if ((p[k].revents & (POLLIN | POLLHUP | POLLERR)) == 0) continue;
                ssize_t n = ::read(p[k].fd, buf, sizeof buf);
                if (n <= 0) return;
                int to = k == 0 ? server : client;
                for (ssize_t off = 0; off < n;) {
                    ssize_t w = ::write(to, buf + off, static_cast<size_t>(n - off));
                    if (w <= 0) return;
                    off += w;
                }
            }
        }
    }
    std::string host_;
    int target_;
    int fd_ = -1;
    int port_ = 0;
    std::atomic<bool> stop_{false};
    std::atomic<bool> frozen_{false};
    std::thread thread_;
};

} // namespace

CATCH_REGISTER_LISTENER(DropSchemaAtEnd)

// ===========================================================================
// Descriptor and entry (no server needed)
// ===========================================================================

TEST_CASE("postgres: entry and descriptor", "[postgres]") {
    const ilana_driver_entry *e = driver().entry;
    CHECK(e->struct_size >= sizeof(ilana_driver_entry));
    CHECK(e->magic == ILANA_DRIVER_MAGIC);
    CHECK(e->abi_major == ILANA_ABI_MAJOR);
    const ilana_driver_descriptor *d = e->descriptor;
    REQUIRE(d != nullptr);
    CHECK(std::string(d->id) == "org.ilana.postgres");
    CHECK(std::string(d->name) == "PostgreSQL (libpq)");
    CHECK(std::string(d->version) == "1.0.0");
    std::vector<std::string> clients;
    for (const char *const *c = d->clients; *c != nullptr; ++c) clients.emplace_back(*c);
    CHECK(clients == std::vector<std::string>{"pg", "postgres", "postgresql"});
    CHECK(d->capabilities == (ILANA_CAP_TRANSACTIONS | ILANA_CAP_CANCEL | ILANA_CAP_STREAMING |
                              ILANA_CAP_PREPARED_CACHE | ILANA_CAP_TRANSACTIONAL_DDL | ILANA_CAP_NETWORK));
    CHECK((d->capabilities & ILANA_CAP_LAST_INSERT_ID) == 0);
    CHECK(d->thread_model == ILANA_THREADS_CONN_SERIALIZED);
    REQUIRE(d->dialect != nullptr);
    CHECK(d->dialect->placeholder == ILANA_PLACEHOLDER_DOLLAR);
    CHECK(d->dialect->identifier_quote == '"');
    CHECK(d->dialect->limit_form == ILANA_LIMIT_LIMIT_OFFSET);
    CHECK(d->dialect->upsert_form == ILANA_UPSERT_ON_CONFLICT);
    CHECK(d->dialect->supports_returning == 1);
    CHECK(d->dialect->max_params == 65535u);

    const ilana_driver_api &a = api();
    CHECK(a.struct_size >= sizeof(ilana_driver_api));
    CHECK(a.connect != nullptr);
    CHECK(a.cancel != nullptr);
    CHECK(a.server_info != nullptr);

    CHECK(e->get_extension("ilana.introspect/1") != nullptr);
    CHECK(e->get_extension("ilana.lock/1") != nullptr);
    CHECK(e->get_extension("ilana.namespace/1") != nullptr);
    CHECK(e->get_extension("ilana.introspect/2") == nullptr);
    CHECK(e->get_extension("com.example.nothing/1") == nullptr);
    CHECK(e->get_extension(nullptr) == nullptr);
    auto *lock = extension<ilana_lock_api>(ILANA_EXT_LOCK);
    CHECK(lock->flags == 0u);
    auto *ns = extension<ilana_namespace_api>(ILANA_EXT_NAMESPACE);
    CHECK(ns->isolation == ILANA_NAMESPACE_SCHEMA);
    CHECK(std::string(ns->param_key) == "search_path");
}

TEST_CASE("postgres: init and deinit are counted", "[postgres]") {
    const ilana_driver_entry *e = driver().entry; // holds one init
    Error err;
    REQUIRE(e->init(&g_host, err.ptr()) == ILANA_OK);
    e->deinit();
    // Still initialised by driver(): the log keeps working.
    CHECK(e->descriptor != nullptr);
}

TEST_CASE("postgres: only ilana_entry is exported", "[postgres]") {
    void *h = driver().handle;
    CHECK(dlsym(h, "ilana_entry") != nullptr);
    // Driver-internal symbols stay hidden (libpq's own, resolved through the
    // dependency, do not count).
    CHECK(dlsym(h, "_ZN8ilana_pg10Connection4openEPK20ilana_connect_params") == nullptr);
}

TEST_CASE("postgres: bad parameters are CONFIG errors naming the key", "[postgres]") {
    auto p = server_params();
    Conn c;
    {
        Error err;
        CHECK(try_connect(with(p, "hots", "x"), &c, &err) == ILANA_ERROR);
        CHECK(err.e.error_class == ILANA_ERR_CONFIG);
        CHECK(err.message().find("'hots'") != std::string::npos);
    }
    {
        Error err;
        CHECK(try_connect(with(p, "sslmode", "sometimes"), &c, &err) == ILANA_ERROR);
        CHECK(err.e.error_class == ILANA_ERR_CONFIG);
        CHECK(err.message().find("sslmode") != std::string::npos);
    }
    {
        Error err;
        CHECK(try_connect(with(p, "statement_timeout", "soon"), &c, &err) == ILANA_ERROR);
        CHECK(err.e.error_class == ILANA_ERR_CONFIG);
        CHECK(err.message().find("statement_timeout") != std::string::npos);
    }
    {
        Error err;
        CHECK(try_connect(with(p, "ssl", "maybe"), &c, &err) == ILANA_ERROR);
        CHECK(err.e.error_class == ILANA_ERR_CONFIG);
    }
    {
        Error err;
        CHECK(try_connect(with(p, "url", "postgresql://ilana:s3cr%zzet@127.0.0.1/db"), &c, &err) == ILANA_ERROR);
        CHECK(err.e.error_class == ILANA_ERR_CONFIG);
        CHECK(err.message().find("s3cr") == std::string::npos);
    }
}

// ===========================================================================
// Connecting
// ===========================================================================

TEST_CASE("postgres: connect, server_info, ilana.* keys ignored", "[postgres][server]") {
    ILANA_REQUIRE_PG();
    Conn c = connect_with(with(with(base_params(), "ilana.connection", "main"), "ilana.config_dir", "/tmp"));
    ilana_server_info info{};
    info.struct_size = sizeof info;
    Error err;
    REQUIRE(api().server_info(c, &info, err.ptr()) == ILANA_OK);
    CHECK(std::string(info.product) == "PostgreSQL");
    CHECK(info.version_number >= 100000);
    CHECK(std::string(info.version).rfind(std::to_string(info.version_number / 10000) + ".", 0) == 0);
    CHECK(std::string(info.version).find(' ') == std::string::npos);
    Cell mc = scalar(c, "SELECT current_setting('max_connections')::int8");
    CHECK(info.max_connections == mc.i);
    CHECK(scalar(c, "SELECT current_setting('application_name')").s == "ilana");
    CHECK(scalar(c, "SELECT current_schema()").s == test_schema());
    CHECK(api().ping(c, 1000, err.ptr()) == ILANA_OK);
}

TEST_CASE("postgres: schema, statement settings and keepalives travel in the startup packet",
          "[postgres][server]") {
    ILANA_REQUIRE_PG();
    const std::string weird = unique_name("Weird \\Schema \"q\" ");
    Conn admin = connect();
    std::string quoted = "\"";
    for (char ch : weird) quoted += ch == '"' ? std::string("\"\"") : std::string(1, ch);
    quoted += "\"";
    exec(admin, "CREATE SCHEMA IF NOT EXISTS " + quoted);
    {
        Conn c = connect_with(with(with(with(with(with(server_params(), "schema", weird), "keepalives", "true"),
                                                 "keepalives_idle", "30"),
                                            "keepalives_interval", "5"),
                                       "statement_timeout", "12345"));
        CHECK(scalar(c, "SELECT current_schema()").s == weird);
        CHECK(scalar(c, "SHOW statement_timeout").s == "12345ms");
    }
    {
        // A search_path list is passed as written.
        Conn c = connect_with(with(server_params(), "search_path", "no_such_schema_x, " + test_schema()));
        CHECK(scalar(c, "SELECT current_schema()").s == test_schema());
    }
    exec(admin, "DROP SCHEMA " + quoted);
}

TEST_CASE("postgres: url with explicit keys overriding it", "[postgres][server]") {
    ILANA_REQUIRE_PG();
    auto s = ilana_test::pg();
    Params p = {{"url", "postgresql://" + s.user + ":wrong@" + s.host + ":" + s.port + "/no_such_db"},
                {"password", s.password},
                {"database", s.database},
                {"application_name", "from-test"}};
    Conn c = connect_with(p);
    CHECK(scalar(c, "SELECT current_database()").s == s.database);
    CHECK(scalar(c, "SELECT current_setting('application_name')").s == "from-test");
    Conn c2 = connect_with({{"connectionString", "postgresql://" + s.user + ":" + s.password + "@" + s.host + ":" +
                                                    s.port + "/" + s.database}});
    CHECK(scalar(c2, "SELECT 1::int4").i == 1);
}

TEST_CASE("postgres: wrong password is AUTH without the password in the message", "[postgres][server]") {
    ILANA_REQUIRE_PG();
    Conn c;
    Error err;
    REQUIRE(try_connect(with(server_params(), "password", "wrong_pw_xyz"), &c, &err) == ILANA_ERROR);
    CHECK(err.e.error_class == ILANA_ERR_AUTH);
    CHECK(err.sqlstate() == "28P01");
    CHECK(err.has(ILANA_ERRF_NOT_SENT));
    CHECK(err.message().find("wrong_pw_xyz") == std::string::npos);
    CHECK(err.message().find("password authentication failed") != std::string::npos);
    CHECK(err.message().find("LOCATION") == std::string::npos);
}

TEST_CASE("postgres: unknown database is CONFIG 3D000", "[postgres][server]") {
    ILANA_REQUIRE_PG();
    Conn c;
    Error err;
    REQUIRE(try_connect(with(server_params(), "database", "ilana_no_such_db"), &c, &err) == ILANA_ERROR);
    CHECK(err.e.error_class == ILANA_ERR_CONFIG);
    CHECK(err.sqlstate() == "3D000");
}

TEST_CASE("postgres: nothing listening is a quick CONNECTION error", "[postgres]") {
    Conn c;
    Error err;
    auto t0 = Clock::now();
    Params p = {{"host", "127.0.0.1"}, {"port", "1"}, {"user", "x"}, {"password", "pw_not_shown"}, {"database", "x"}};
    REQUIRE(try_connect(p, &c, &err, 5000) == ILANA_ERROR);
    CHECK(seconds_since(t0) < 2.0);
    CHECK(err.e.error_class == ILANA_ERR_CONNECTION);
    CHECK(err.has(ILANA_ERRF_NOT_SENT));
    CHECK(err.message().find("pw_not_shown") == std::string::npos);
}

TEST_CASE("postgres: ssl=true against a server without TLS fails as CONNECTION", "[postgres][server]") {
    ILANA_REQUIRE_PG();
    Conn c;
    Error err;
    REQUIRE(try_connect(with(server_params(), "ssl", "true"), &c, &err) == ILANA_ERROR);
    CHECK(err.e.error_class == ILANA_ERR_CONNECTION);
    CHECK(err.message().find("SSL") != std::string::npos);
    // sslmode wins over ssl: disable connects.
    Conn ok = connect_with(with(with(server_params(), "ssl", "true"), "sslmode", "disable"));
    CHECK(scalar(ok, "SELECT 1::int8").i == 1);
}

TEST_CASE("postgres: a server that accepts but never answers times out", "[postgres]") {
    SilentListener silent;
    Params p = {{"host", "127.0.0.1"}, {"port", std::to_string(silent.port())}, {"user", "x"}, {"database", "x"},
                {"sslmode", "disable"}};
    {
        Conn c;
        Error err;
        auto t0 = Clock::now();
        REQUIRE(try_connect(p, &c, &err, 500) == ILANA_ERROR);
        double s = seconds_since(t0);
        CHECK(s >= 0.4);
        CHECK(s < 2.0);
        CHECK(err.e.error_class == ILANA_ERR_TIMEOUT);
        CHECK(err.has(ILANA_ERRF_NOT_SENT));
    }
    {
        // connect_timeout (seconds) wins over timeout_ms.
        Conn c;
        Error err;
        auto t0 = Clock::now();
        REQUIRE(try_connect(with(p, "connect_timeout", "2"), &c, &err, 60000) == ILANA_ERROR);
        double s = seconds_since(t0);
        CHECK(s >= 1.9);
        CHECK(s < 4.0);
        CHECK(err.e.error_class == ILANA_ERR_TIMEOUT);
    }
}

TEST_CASE("postgres: ping times out against a hung server and breaks the connection", "[postgres][server]") {
    ILANA_REQUIRE_PG();
    auto s = ilana_test::pg();
    FreezableProxy proxy(s.host, std::stoi(s.port));
    Conn c = connect_with(with(with(base_params(), "port", std::to_string(proxy.port())), "sslmode", "disable"));
    Error err;
    REQUIRE(api().ping(c, 2000, err.ptr()) == ILANA_OK);
    CHECK(scalar(c, "SELECT 42::int4").i == 42);
    proxy.freeze();
    Error perr;
    auto t0 = Clock::now();
    REQUIRE(api().ping(c, 300, perr.ptr()) == ILANA_ERROR);
    double secs = seconds_since(t0);
    CHECK(secs >= 0.25);
    CHECK(secs < 2.0);
    CHECK(perr.e.error_class == ILANA_ERR_TIMEOUT);
    CHECK(perr.has(ILANA_ERRF_CONN_BROKEN));
    // The session is unusable from now on, and says so without waiting.
    Error eerr = run_err(c, "SELECT 1");
    CHECK(eerr.e.error_class == ILANA_ERR_CONNECTION);
    CHECK(eerr.has(ILANA_ERRF_CONN_BROKEN));
    CHECK(eerr.has(ILANA_ERRF_NOT_SENT));
}

TEST_CASE("postgres: notices go to the host log with the connection's context", "[postgres][server]") {
    ILANA_REQUIRE_PG();
    int marker = 0;
    Conn c;
    Error err;
    REQUIRE(try_connect(base_params(), &c, &err, 0, &marker) == ILANA_OK);
    exec(c, "DO $$ BEGIN RAISE NOTICE 'ilana-notice-%', 42; END $$");
    bool found = false;
    for (const auto &entry : log_snapshot())
        if (entry.second.find("ilana-notice-42") != std::string::npos) {
            found = true;
            CHECK(entry.first == &marker);
        }
    CHECK(found);
}

// ===========================================================================
// Types
// ===========================================================================

namespace {

int64_t ts_micros(int64_t y, unsigned mo, unsigned d, int h, int mi, int s, int us) {
    return days_from_civil(y, mo, d) * kMicrosPerDay + ((h * 60LL + mi) * 60LL + s) * 1000000LL + us;
}

struct TypeRow {
    Vals params;
    // expected cells (after the id column), in column order
    std::vector<Cell> expect;
};

Cell I(ilana_type t, int64_t v) {
    Cell c;
    c.type = t;
    c.null = false;
    c.i = v;
    return c;
}
Cell D(double v) {
    Cell c;
    c.type = ILANA_TYPE_DOUBLE;
    c.null = false;
    c.d = v;
    return c;
}
Cell S(ilana_type t, std::string v) {
    Cell c;
    c.type = t;
    c.null = false;
    c.s = std::move(v);
    return c;
}
Cell N(ilana_type t) {
    Cell c;
    c.type = t;
    return c;
}

void check_cell(const Cell &got, const Cell &want, const std::string &where) {
    INFO(where);
    CHECK(got.type == want.type);
    REQUIRE(got.null == want.null);
    if (got.null) return;
    switch (want.type) {
    case ILANA_TYPE_DOUBLE:
        if (std::isnan(want.d)) CHECK(std::isnan(got.d));
        else CHECK(got.d == want.d);
        break;
    case ILANA_TYPE_TEXT:
    case ILANA_TYPE_BLOB:
    case ILANA_TYPE_DECIMAL:
    case ILANA_TYPE_UUID:
    case ILANA_TYPE_JSON: CHECK(got.s == want.s); break;
    default: CHECK(got.i == want.i); break;
    }
}

const char *kTypesTable = R"SQL(
CREATE TABLE types_rt (
  id int4 PRIMARY KEY, b bool, i2 int2, i4 int4, i8 int8, f4 float4, f8 float8, n numeric,
  t text, vc varchar(50), bp char(5), by bytea, d date, tm time, ts timestamp, tstz timestamptz,
  u uuid, j json, jb jsonb))SQL";

const char *kTypesInsert = "INSERT INTO types_rt VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, "
                           "$13, $14, $15, $16, $17, $18, $19)";

} // namespace

TEST_CASE("postgres: every type round-trips, text and binary results alike", "[postgres][server]") {
    ILANA_REQUIRE_PG();
    Conn c = connect();
    exec(c, "DROP TABLE IF EXISTS types_rt");
    exec(c, kTypesTable);
    constexpr int64_t i64max = std::numeric_limits<int64_t>::max();
    constexpr int64_t i64min = std::numeric_limits<int64_t>::min();
    const std::string zero_bytes("\0\x01\x02\xff\0tail", 8);
    const std::string unicode = "h\xc3\xa9llo w\xc3\xb6rld \xe4\xbd\xa0\xe5\xa5\xbd \xf0\x9f\x8e\x89";
    const std::string json = "{\"a\": [1, 2, {\"b\": null}], \"c\": \"\xc3\xa9\"}";

    std::vector<TypeRow> rows;
    {
        TypeRow r;
        r.params.i(1).b(true).i(12).i(1234).i(1234567890123LL).d(1.1).d(2.5).dec("-12.3400").t(unicode)
            .t("varchar").t("ab").blob(zero_bytes).date(days_from_civil(2024, 2, 29))
            .time(((13 * 60 + 45) * 60 + 56) * 1000000LL + 123456).ts(ts_micros(2024, 2, 29, 13, 45, 56, 123456))
            .tstz(ts_micros(2024, 2, 29, 12, 0, 0, 1)).uuid("A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11").json(json)
            .json(json);
        r.expect = {I(ILANA_TYPE_BOOL, 1), I(ILANA_TYPE_INT64, 12), I(ILANA_TYPE_INT64, 1234),
                    I(ILANA_TYPE_INT64, 1234567890123LL), D(static_cast<double>(1.1f)), D(2.5),
                    S(ILANA_TYPE_DECIMAL, "-12.3400"), S(ILANA_TYPE_TEXT, unicode), S(ILANA_TYPE_TEXT, "varchar"),
                    S(ILANA_TYPE_TEXT, "ab   "), S(ILANA_TYPE_BLOB, zero_bytes),
                    I(ILANA_TYPE_DATE, days_from_civil(2024, 2, 29)),
                    I(ILANA_TYPE_TIME, ((13 * 60 + 45) * 60 + 56) * 1000000LL + 123456),
                    I(ILANA_TYPE_TIMESTAMP, ts_micros(2024, 2, 29, 13, 45, 56, 123456)),
                    I(ILANA_TYPE_TIMESTAMPTZ, ts_micros(2024, 2, 29, 12, 0, 0, 1)),
                    S(ILANA_TYPE_UUID, "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"), S(ILANA_TYPE_JSON, json),
                    S(ILANA_TYPE_JSON, json)};
        rows.push_back(std::move(r));
    }
    {
        // Lower extremes, dates before 1970 and the year 1, an instant whose
        // local offset in Asia/Kolkata has seconds (+05:21:10 in 1900).
        TypeRow r;
        r.params.i(2).b(false).i(-32768).i(-2147483648LL).i(i64min).d(-3.4e38).d(-1e308)
            .dec("123456789012345678901234567890.123456789012345678901234567890").t("").t("").t("")
            .blob("").date(days_from_civil(1, 1, 1)).time(0).ts(ts_micros(1900, 1, 1, 0, 0, 0, 0))
            .tstz(ts_micros(1900, 1, 1, 0, 0, 0, 0)).uuid("00000000-0000-0000-0000-000000000000")
            .json("[]").json("{}");
        r.expect = {I(ILANA_TYPE_BOOL, 0), I(ILANA_TYPE_INT64, -32768), I(ILANA_TYPE_INT64, -2147483648LL),
                    I(ILANA_TYPE_INT64, i64min), D(static_cast<double>(-3.4e38f)), D(-1e308),
                    S(ILANA_TYPE_DECIMAL, "123456789012345678901234567890.123456789012345678901234567890"),
                    S(ILANA_TYPE_TEXT, ""), S(ILANA_TYPE_TEXT, ""), S(ILANA_TYPE_TEXT, "     "),
                    S(ILANA_TYPE_BLOB, ""), I(ILANA_TYPE_DATE, days_from_civil(1, 1, 1)), I(ILANA_TYPE_TIME, 0),
                    I(ILANA_TYPE_TIMESTAMP, ts_micros(1900, 1, 1, 0, 0, 0, 0)),
                    I(ILANA_TYPE_TIMESTAMPTZ, ts_micros(1900, 1, 1, 0, 0, 0, 0)),
                    S(ILANA_TYPE_UUID, "00000000-0000-0000-0000-000000000000"), S(ILANA_TYPE_JSON, "[]"),
                    S(ILANA_TYPE_JSON, "{}")};
        rows.push_back(std::move(r));
    }
    {
        // Upper extremes, infinities (clamped to INT64_MAX / INT64_MIN), NaN,
        // a BC date, 24:00:00.
        TypeRow r;
        r.params.i(3).b(true).i(32767).i(2147483647).i(i64max).d(std::nan("")).d(INFINITY).dec("NaN")
            .t("x").t("y").t("abcde").blob(std::string(1, '\0')).date(i64max).time(24LL * 3600 * 1000000)
            .ts(i64min).tstz(i64max).uuid("ffffffff-ffff-ffff-ffff-ffffffffffff").json("null").json("\"s\"");
        r.expect = {I(ILANA_TYPE_BOOL, 1), I(ILANA_TYPE_INT64, 32767), I(ILANA_TYPE_INT64, 2147483647),
                    I(ILANA_TYPE_INT64, i64max), D(std::nan("")), D(INFINITY), S(ILANA_TYPE_DECIMAL, "NaN"),
                    S(ILANA_TYPE_TEXT, "x"), S(ILANA_TYPE_TEXT, "y"), S(ILANA_TYPE_TEXT, "abcde"),
                    S(ILANA_TYPE_BLOB, std::string(1, '\0')), I(ILANA_TYPE_DATE, i64max),
                    I(ILANA_TYPE_TIME, 24LL * 3600 * 1000000), I(ILANA_TYPE_TIMESTAMP, i64min),
                    I(ILANA_TYPE_TIMESTAMPTZ, i64max), S(ILANA_TYPE_UUID, "ffffffff-ffff-ffff-ffff-ffffffffffff"),
                    S(ILANA_TYPE_JSON, "null"), S(ILANA_TYPE_JSON, "\"s\"")};
        rows.push_back(std::move(r));
    }
    {
        // Typed NULLs everywhere.
        TypeRow r;
        r.params.i(4);
        const ilana_type types[] = {ILANA_TYPE_BOOL,   ILANA_TYPE_INT64,     ILANA_TYPE_INT64,
                                    ILANA_TYPE_INT64,  ILANA_TYPE_DOUBLE,    ILANA_TYPE_DOUBLE,
                                    ILANA_TYPE_DECIMAL, ILANA_TYPE_TEXT,     ILANA_TYPE_TEXT,
                                    ILANA_TYPE_TEXT,   ILANA_TYPE_BLOB,      ILANA_TYPE_DATE,
                                    ILANA_TYPE_TIME,   ILANA_TYPE_TIMESTAMP, ILANA_TYPE_TIMESTAMPTZ,
                                    ILANA_TYPE_UUID,   ILANA_TYPE_JSON,      ILANA_TYPE_JSON};
        for (ilana_type t : types) {
            r.params.typed_null(t);
            r.expect.push_back(N(t));
        }
        rows.push_back(std::move(r));
    }
    {
        // A BC date and timestamp; untyped NULLs.
        TypeRow r;
        r.params.i(5).null().null().null().null().null().null().null().null().null().null().null()
            .date(days_from_civil(-4712, 1, 1)).null().ts(ts_micros(-99, 6, 15, 12, 30, 0, 5)).null().null()
            .null().null();
        const ilana_type types[] = {ILANA_TYPE_BOOL,   ILANA_TYPE_INT64,  ILANA_TYPE_INT64, ILANA_TYPE_INT64,
                                    ILANA_TYPE_DOUBLE, ILANA_TYPE_DOUBLE, ILANA_TYPE_DECIMAL, ILANA_TYPE_TEXT,
                                    ILANA_TYPE_TEXT,   ILANA_TYPE_TEXT,   ILANA_TYPE_BLOB};
        for (ilana_type t : types) r.expect.push_back(N(t));
        r.expect.push_back(I(ILANA_TYPE_DATE, days_from_civil(-4712, 1, 1)));
        r.expect.push_back(N(ILANA_TYPE_TIME));
        r.expect.push_back(I(ILANA_TYPE_TIMESTAMP, ts_micros(-99, 6, 15, 12, 30, 0, 5)));
        for (ilana_type t : {ILANA_TYPE_TIMESTAMPTZ, ILANA_TYPE_UUID, ILANA_TYPE_JSON, ILANA_TYPE_JSON})
            r.expect.push_back(N(t));
        rows.push_back(std::move(r));
    }
    for (auto &r : rows) {
        Rows ins = run(c, kTypesInsert, r.params, ILANA_EXEC_CACHE);
        CHECK(ins.affected == 1);
        CHECK(ins.cols.empty());
    }
    CHECK(scalar(c, "SELECT to_char(d, 'YYYY-MM-DD BC') FROM types_rt WHERE id = 5").s == "4713-01-01 BC");
    CHECK(scalar(c, "SELECT d::text FROM types_rt WHERE id = 3").s == "infinity");
    // bytea in the historical escape output format decodes the same.
    exec(c, "SET bytea_output = 'escape'");
    CHECK(scalar(c, "SELECT by FROM types_rt WHERE id = 1").s == zero_bytes);
    exec(c, "RESET bytea_output");

    // A session time zone with odd offsets exercises the text timestamptz
    // parser; binary is zone-independent.
    exec(c, "SET TIME ZONE 'Asia/Kolkata'");
    const std::string select = "SELECT * FROM types_rt ORDER BY id";
    const char *natives[] = {"int4",   "bool", "int2",    "int4", "int8",      "float4",      "float8",
                             "numeric", "text", "varchar", "bpchar", "bytea",   "date",        "time",
                             "timestamp", "timestamptz", "uuid", "json", "jsonb"};
    for (uint32_t flags : {0u, static_cast<uint32_t>(ILANA_EXEC_CACHE)}) {
        for (int round = 0; round < 2; ++round) { // the cached one: prepare, then hit
            INFO("flags " << flags << " round " << round);
            Rows got = run(c, select, Vals(), flags, 2);
            REQUIRE(got.cols.size() == 19);
            for (size_t k = 0; k < got.cols.size(); ++k) CHECK(got.cols[k].native == natives[k]);
            REQUIRE(got.rows.size() == rows.size());
            CHECK(got.affected == static_cast<int64_t>(rows.size()));
            for (size_t r = 0; r < rows.size(); ++r) {
                CHECK(got.rows[r][0].i == static_cast<int64_t>(r + 1));
                for (size_t k = 0; k < rows[r].expect.size(); ++k)
                    check_cell(got.rows[r][k + 1], rows[r].expect[k],
                               "row " + std::to_string(r + 1) + " column " + got.cols[k + 1].name);
            }
        }
    }
}

TEST_CASE("postgres: parameter types reach the server as the right types", "[postgres][server]") {
    ILANA_REQUIRE_PG();
    Conn c = connect();
    Vals v;
    v.b(true).i(1).u(18446744073709551615ULL).d(1.5).t("t").blob("b").dec("1.5").date(0).time(0).ts(0).tstz(0)
        .uuid("a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11").json("{}").null();
    // Through a subselect, so that untyped (OID 0) parameters resolve too.
    std::string outer = "SELECT ", inner = "(SELECT ";
    for (size_t k = 1; k <= v.values().size(); ++k) {
        const std::string n = std::to_string(k);
        outer += (k > 1 ? ", " : "") + ("pg_typeof(x" + n + ")::text");
        inner += (k > 1 ? ", " : "") + ("$" + n + " AS x" + n);
    }
    const std::string sql = outer + " FROM " + inner + ") s";
    for (uint32_t flags : {0u, static_cast<uint32_t>(ILANA_EXEC_CACHE)}) {
        Rows r = run(c, sql, v, flags);
        REQUIRE(r.rows.size() == 1);
        std::vector<std::string> got;
        for (const auto &cell : r.rows[0]) got.push_back(cell.s);
        CHECK(got == std::vector<std::string>{"boolean", "bigint", "numeric", "double precision", "text", "bytea",
                                              "numeric", "date", "time without time zone",
                                              "timestamp without time zone", "timestamp with time zone", "uuid",
                                              "text", "text"});
    }
    // UINT64 beyond INT64 and epoch values come back exactly.
    Rows r = run(c, "SELECT $1::numeric, $2::date::text, $3::timestamptz AT TIME ZONE 'UTC', $4::text",
                 Vals().u(18446744073709551615ULL).date(0).tstz(0).json("{\"k\": 1}"));
    CHECK(r.rows[0][0].type == ILANA_TYPE_DECIMAL);
    CHECK(r.rows[0][0].s == "18446744073709551615");
    CHECK(r.rows[0][1].s == "1970-01-01");
    CHECK(r.rows[0][2].i == 0);
    CHECK(r.rows[0][3].s == "{\"k\": 1}");
    // JSON parameters are inferred as jsonb where the context wants jsonb.
    CHECK(scalar(c, "SELECT $1 @> '{\"k\": 1}'::jsonb", Vals().json("{\"k\": 1, \"z\": 2}")).i == 1);
}

TEST_CASE("postgres: numeric decodes identically in text and binary", "[postgres][server]") {
    ILANA_REQUIRE_PG();
    Conn c = connect();
    const std::vector<std::string> values = {
        "0", "-0.5", "0.0001", "1e-20", "10000", "99990000.0001", "-12.3400", "1.000000000000000000000001",
        "123456789012345678901234567890", "0.00000000000000000000000000000000000001", "NaN", "Infinity",
        "-Infinity", "9999", "10000.00001", "-100000000"};
    for (const auto &v : values) {
        INFO(v);
        std::string text = scalar(c, "SELECT $1::numeric::text", Vals().t(v)).s;
        Cell uncached = scalar(c, "SELECT $1::numeric", Vals().t(v));
        Cell cached = scalar(c, "SELECT $1::numeric", Vals().t(v), ILANA_EXEC_CACHE);
        CHECK(uncached.type == ILANA_TYPE_DECIMAL);
        CHECK(uncached.s == text);
        CHECK(cached.s == text);
    }
}

TEST_CASE("postgres: arrays and other types come back as text", "[postgres][server]") {
    ILANA_REQUIRE_PG();
    Conn c = connect();
    for (uint32_t flags : {0u, static_cast<uint32_t>(ILANA_EXEC_CACHE)}) {
        Rows r = run(c,
                     "SELECT ARRAY[1, 2, 3]::int4[] AS a, ARRAY['a b', 'c\"d', NULL]::text[] AS t, "
                     "'1 day 2 hours'::interval AS iv, '192.168.0.1'::inet AS ip, 7::int4 AS n",
                     Vals(), flags);
        REQUIRE(r.cols.size() == 5);
        CHECK(r.cols[0].type == ILANA_TYPE_TEXT);
        CHECK(r.cols[0].native == "_int4");
        CHECK(r.cols[1].native == "_text");
        CHECK(r.cols[2].native == "interval");
        CHECK(r.cols[3].native == "inet");
        CHECK(r.cols[4].type == ILANA_TYPE_INT64);
        CHECK(r.rows[0][0].s == "{1,2,3}");
        CHECK(r.rows[0][1].s == "{\"a b\",\"c\\\"d\",NULL}");
        CHECK(r.rows[0][2].s == "1 day 02:00:00");
        CHECK(r.rows[0][3].s == "192.168.0.1");
        CHECK(r.rows[0][4].i == 7);
    }
}

TEST_CASE("postgres: injection-looking values are stored verbatim", "[postgres][server]") {
    ILANA_REQUIRE_PG();
    Conn c = connect();
    exec(c, "DROP TABLE IF EXISTS inj");
    exec(c, "CREATE TABLE inj (id serial PRIMARY KEY, v text)");
    const std::vector<std::string> nasty = {"'); DROP TABLE inj; --", "$1", "\\' OR 1=1 --", "\"quoted\"",
                                            "E'\\x00'", "%s%n", "line\nbreak\ttab"};
    for (const auto &s : nasty) exec(c, "INSERT INTO inj (v) VALUES ($1)", Vals().t(s));
    Rows r = run(c, "SELECT v FROM inj ORDER BY id");
    REQUIRE(r.rows.size() == nasty.size());
    for (size_t k = 0; k < nasty.size(); ++k) CHECK(r.rows[k][0].s == nasty[k]);
    // A zero byte in TEXT is refused (PostgreSQL text cannot hold it), not truncated.
    Error e = run_err(c, "INSERT INTO inj (v) VALUES ($1)", Vals().t(std::string("a\0b", 3)));
    CHECK(e.e.error_class == ILANA_ERR_DATA);
    CHECK(e.message().find("$1") != std::string::npos);
}

// ===========================================================================
// Streaming
// ===========================================================================

TEST_CASE("postgres: 100 000 rows stream in batches", "[postgres][server]") {
    ILANA_REQUIRE_PG();
    Conn c = connect();
    const std::string sql = "SELECT g::int8 AS a, (g * 2)::int4 AS b, 'row ' || g AS c, g::float8 / 2 AS d "
                            "FROM generate_series(1, 100000) g";
    // Streamed row by row (single-row mode), and fetched whole
    // (ILANA_EXEC_WHOLE_RESULT): the same rows in the same batches.
    for (uint32_t flags : {0u, static_cast<uint32_t>(ILANA_EXEC_CACHE), static_cast<uint32_t>(ILANA_EXEC_WHOLE_RESULT),
                           static_cast<uint32_t>(ILANA_EXEC_CACHE | ILANA_EXEC_WHOLE_RESULT)}) {
        INFO("flags " << flags);
        Rows r = run(c, sql, Vals(), flags, 1000);
        REQUIRE(r.rows.size() == 100000);
        CHECK(r.batches >= 100);
        CHECK(r.batches <= 101);
        CHECK(r.largest_batch == 1000);
        int64_t sum_a = 0, sum_b = 0;
        double sum_d = 0;
        for (const auto &row : r.rows) {
            sum_a += row[0].i;
            sum_b += row[1].i;
            sum_d += row[3].d;
        }
        CHECK(sum_a == 5000050000LL);
        CHECK(sum_b == 10000100000LL);
        CHECK(sum_d == 2500025000.0);
        CHECK(r.rows.back()[2].s == "row 100000");
        CHECK(r.affected == 100000);
    }
}

TEST_CASE("postgres: closing a huge unread result is fast and leaves the connection usable",
          "[postgres][server]") {
    ILANA_REQUIRE_PG();
    Conn c = connect();
    // Fifty million rows: buffering them would take many seconds and GBs.
    // A set-returning function in the select list streams (in FROM it would
    // be materialized first).
    const std::string sql = "SELECT generate_series(1, 50000000) AS g, repeat('x', 20)";
    ilana_statement st = statement(sql, Vals(), 0);
    ilana_result *res = nullptr;
    Error err;
    auto t0 = Clock::now();
    REQUIRE(api().execute(c, &st, &res, err.ptr()) == ILANA_OK);
    ilana_batch b = new_batch(500);
    REQUIRE(api().fetch(res, &b, err.ptr()) == ILANA_OK);
    CHECK(b.row_count == 500);
    api().result_close(res);
    CHECK(seconds_since(t0) < 5.0);
    CHECK(scalar(c, "SELECT 5::int4").i == 5);

    // Inside a transaction the rest is read, never canceled: the
    // transaction must survive.
    REQUIRE(api().begin(c, err.ptr()) == ILANA_OK);
    const std::string sql2 = "SELECT generate_series(1, 20000) AS g";
    ilana_statement st2 = statement(sql2, Vals(), 0);
    ilana_status s2 = api().execute(c, &st2, &res, err.ptr());
    INFO(err.message());
    REQUIRE(s2 == ILANA_OK);
    REQUIRE(api().fetch(res, &b, err.ptr()) == ILANA_OK);
    api().result_close(res);
    CHECK(scalar(c, "SELECT 6::int4").i == 6);
    REQUIRE(api().commit(c, err.ptr()) == ILANA_OK);
}

TEST_CASE("postgres: whole results (ILANA_EXEC_WHOLE_RESULT) read, closed early, failing, growing, empty",
          "[postgres][server]") {
    // With the flag, a cached statement that returned at most 1000 rows last
    // time comes in one PGresult instead of single-row mode; the rows, the
    // batches and the errors must be the same either way.
    ILANA_REQUIRE_PG();
    Conn c = connect();
    const uint32_t whole = ILANA_EXEC_WHOLE_RESULT | ILANA_EXEC_CACHE;
    const std::string sql = "SELECT g::int4 AS g, 'v' || g AS v FROM generate_series(1, 10) g";
    for (int round = 0; round < 3; ++round) { // single-row first, whole after
        INFO("round " << round);
        Rows r = run(c, sql, Vals(), whole, 4);
        REQUIRE(r.rows.size() == 10);
        CHECK(r.batches == 3);
        CHECK(r.largest_batch == 4);
        CHECK(r.rows[0][0].i == 1);
        CHECK(r.rows[9][0].i == 10);
        CHECK(r.rows[9][1].s == "v10");
        CHECK(r.affected == 10);
    }
    {
        // Closed after one batch of three: nothing is left on the wire.
        ilana_statement st = statement(sql, Vals(), whole);
        ilana_result *res = nullptr;
        Error err;
        REQUIRE(api().execute(c, &st, &res, err.ptr()) == ILANA_OK);
        ilana_batch b = new_batch(3);
        REQUIRE(api().fetch(res, &b, err.ptr()) == ILANA_OK);
        REQUIRE(b.row_count == 3);
        CHECK(b.cells[2 * 2].v.i64 == 3);
        CHECK(std::string(b.cells[5].v.str.ptr, b.cells[5].v.str.len) == "v3");
        api().result_close(res);
        CHECK(scalar(c, "SELECT 7::int4", Vals(), whole).i == 7);
    }
    // Few rows the first time, an error the second: the statement fails as
    // a whole, and the connection goes on.
    const std::string div = "SELECT 10 / (g - $1) AS q FROM generate_series(1, 10) g";
    CHECK(run(c, div, Vals().i(0), whole).rows.size() == 10);
    Error e = run_err(c, div, Vals().i(5), whole);
    CHECK(e.e.error_class == ILANA_ERR_DATA);
    CHECK(e.sqlstate() == "22012");
    CHECK(scalar(c, "SELECT 8::int4", Vals(), whole).i == 8);
    // Small last time, big now (5000 rows in one PGresult, handed out 1000
    // at a time), then row by row again.
    const std::string series = "SELECT g::int8 AS g FROM generate_series(1, $1) g";
    CHECK(run(c, series, Vals().i(10), whole).rows.size() == 10);
    for (int round = 0; round < 2; ++round) {
        Rows big = run(c, series, Vals().i(5000), whole, 1000);
        REQUIRE(big.rows.size() == 5000);
        CHECK(big.batches == 5);
        int64_t sum = 0;
        for (const auto &row : big.rows) sum += row[0].i;
        CHECK(sum == 5000LL * 5001 / 2);
        CHECK(big.affected == 5000);
    }
    // No rows, twice (the second whole); a command.
    for (int round = 0; round < 2; ++round) {
        Rows none = run(c, "SELECT 1 AS one WHERE false", Vals(), whole);
        CHECK(none.rows.empty());
        CHECK(none.cols.size() == 1);
        CHECK(none.affected == 0);
    }
    Rows cmd = run(c, "SET application_name = 'whole'", Vals(), whole);
    CHECK(cmd.cols.empty());
}

TEST_CASE("postgres: one open result per connection, fetch after DONE, max_rows 0, SELECT NULL", "[postgres][server]") {
    ILANA_REQUIRE_PG();
    Conn c = connect();
    const std::string sql = "SELECT 1";
    ilana_statement st = statement(sql, Vals(), 0);
    ilana_result *res = nullptr;
    Error err;
    REQUIRE(api().execute(c, &st, &res, err.ptr()) == ILANA_OK);
    ilana_result *second = nullptr;
    Error err2;
    REQUIRE(api().execute(c, &st, &second, err2.ptr()) == ILANA_ERROR);
    CHECK(second == nullptr);
    CHECK(err2.e.error_class == ILANA_ERR_INTERNAL);
    ilana_batch b = new_batch(10);
    CHECK(api().fetch(res, &b, err.ptr()) == ILANA_DONE);
    CHECK(b.row_count == 1);
    CHECK(api().fetch(res, &b, err.ptr()) == ILANA_DONE);
    CHECK(b.row_count == 0);
    api().result_close(res);
    CHECK(scalar(c, "SELECT 2::int4").i == 2);

    // max_rows 0: the driver's default batch size.
    const std::string many = "SELECT generate_series(1, 3000)";
    ilana_statement st3 = statement(many, Vals(), 0);
    REQUIRE(api().execute(c, &st3, &res, err.ptr()) == ILANA_OK);
    b.max_rows = 0;
    REQUIRE(api().fetch(res, &b, err.ptr()) == ILANA_OK);
    CHECK(b.row_count == 1024);
    api().result_close(res);

    // SELECT NULL: an untyped column is TEXT, its NULL cell typed TEXT too.
    Rows n = run(c, "SELECT NULL AS x");
    CHECK(n.cols[0].type == ILANA_TYPE_TEXT);
    CHECK(n.rows[0][0].null);
}

TEST_CASE("postgres: commands, RETURNING, empty query, COPY", "[postgres][server]") {
    ILANA_REQUIRE_PG();
    Conn c = connect();
    exec(c, "DROP TABLE IF EXISTS cmd_t");
    exec(c, "CREATE TABLE cmd_t (id serial PRIMARY KEY, v int4)");
    Rows ins = run(c, "INSERT INTO cmd_t (v) SELECT g FROM generate_series(1, 5) g");
    CHECK(ins.affected == 5);
    CHECK(ins.last_insert_id == 0);
    Rows ret = run(c, "INSERT INTO cmd_t (v) VALUES ($1), ($2) RETURNING id", Vals().i(10).i(20));
    REQUIRE(ret.rows.size() == 2);
    CHECK(ret.rows[0][0].i == 6);
    CHECK(ret.rows[1][0].i == 7);
    CHECK(ret.affected == 2);
    CHECK(run(c, "UPDATE cmd_t SET v = v + 1 WHERE v < $1", Vals().i(4)).affected == 3);
    CHECK(run(c, "DELETE FROM cmd_t WHERE v > 100").affected == 0);
    Rows empty = run(c, "");
    CHECK(empty.cols.empty());
    CHECK(empty.rows.empty());
    Error e = run_err(c, "COPY cmd_t TO STDOUT");
    CHECK(e.e.error_class == ILANA_ERR_INTERNAL);
    Error e2 = run_err(c, "COPY cmd_t FROM STDIN");
    CHECK(e2.e.error_class == ILANA_ERR_INTERNAL);
    CHECK(scalar(c, "SELECT count(*) FROM cmd_t").i == 7);
}

// ===========================================================================
// Prepared-statement cache
// ===========================================================================

TEST_CASE("postgres: prepared cache hits, re-prepares after DDL and DEALLOCATE", "[postgres][server]") {
    ILANA_REQUIRE_PG();
    Conn c = connect();
    exec(c, "DROP TABLE IF EXISTS pc_t");
    exec(c, "CREATE TABLE pc_t (a int4)");
    exec(c, "INSERT INTO pc_t VALUES (1)");
    const std::string sql = "SELECT * FROM pc_t";
    auto prepared_count = [&] {
        return scalar(c, "SELECT count(*) FROM pg_prepared_statements WHERE statement = $1", Vals().t(sql)).i;
    };
    CHECK(run(c, sql, Vals(), ILANA_EXEC_CACHE).cols.size() == 1);
    CHECK(prepared_count() == 1);
    Cell name = scalar(c, "SELECT name FROM pg_prepared_statements WHERE statement = $1", Vals().t(sql));
    CHECK(name.s.rfind("ilana_s", 0) == 0);
    CHECK(run(c, sql, Vals(), ILANA_EXEC_CACHE).rows.size() == 1); // hit
    CHECK(prepared_count() == 1);

    // DDL changes the result type: "cached plan must not change result type"
    // (0A000) is answered by re-preparing once.
    exec(c, "ALTER TABLE pc_t ADD COLUMN b text DEFAULT 'x'");
    Rows r = run(c, sql, Vals(), ILANA_EXEC_CACHE);
    REQUIRE(r.cols.size() == 2);
    CHECK(r.rows[0][1].s == "x");
    CHECK(prepared_count() == 1); // the stale one was deallocated

    // The server forgot every statement (DISCARD ALL, DEALLOCATE ALL): 26000.
    exec(c, "DEALLOCATE ALL");
    CHECK(run(c, sql, Vals(), ILANA_EXEC_CACHE).rows.size() == 1);
    CHECK(prepared_count() == 1);

    // Inside a transaction the failed run aborted it: no silent retry.
    Error err;
    REQUIRE(api().begin(c, err.ptr()) == ILANA_OK);
    exec(c, "ALTER TABLE pc_t ADD COLUMN c int4 DEFAULT 3");
    Error stale = run_err(c, sql, Vals(), ILANA_EXEC_CACHE);
    CHECK(stale.sqlstate() == "0A000");
    CHECK(stale.has(ILANA_ERRF_TXN_ABORTED));
    REQUIRE(api().rollback(c, err.ptr()) == ILANA_OK);
    CHECK(run(c, sql, Vals(), ILANA_EXEC_CACHE).cols.size() == 2);

    // The same SQL bound with other types is another statement.
    CHECK(scalar(c, "SELECT $1::text", Vals().i(5), ILANA_EXEC_CACHE).s == "5");
    CHECK(scalar(c, "SELECT $1::text", Vals().t("five"), ILANA_EXEC_CACHE).s == "five");
    CHECK(scalar(c, "SELECT $1::text", Vals().i(6), ILANA_EXEC_CACHE).s == "6");
}

TEST_CASE("postgres: columns_id repeats only for the same columns", "[postgres][server]") {
    // ABI 1.1: a cached statement run again keeps its columns_id, so the
    // host keeps its column set; every description built afresh (another
    // statement, an uncached one, the same statement re-prepared after DDL)
    // gets an id this connection never handed out before.
    ILANA_REQUIRE_PG();
    Conn c = connect();
    exec(c, "DROP TABLE IF EXISTS cid_t");
    exec(c, "CREATE TABLE cid_t (a int4, b text)");
    exec(c, "INSERT INTO cid_t VALUES (1, 'one')");
    const std::string sql = "SELECT * FROM cid_t";
    std::vector<uint64_t> seen; // every id of a distinct description so far
    auto is_new = [&](uint64_t id) {
        const bool fresh = id != 0 && std::find(seen.begin(), seen.end(), id) == seen.end();
        seen.push_back(id);
        return fresh;
    };

    const Rows first = run(c, sql, Vals(), ILANA_EXEC_CACHE);
    CHECK(is_new(first.columns_id));
    const Rows again = run(c, sql, Vals(), ILANA_EXEC_CACHE);
    CHECK(again.columns_id == first.columns_id);
    REQUIRE(again.cols.size() == 2);

    // Another statement, cached or not, and another shape uncached.
    CHECK(is_new(run(c, "SELECT b, a FROM cid_t", Vals(), ILANA_EXEC_CACHE).columns_id));
    CHECK(is_new(run(c, "SELECT a AS x FROM cid_t").columns_id));
    // The cached statement's SQL uncached: text results instead of binary,
    // a description of its own.
    const Rows uncached = run(c, sql);
    CHECK(is_new(uncached.columns_id));
    REQUIRE(uncached.cols.size() == 2);
    CHECK(uncached.cols[0].name == "a");

    // Back to the cached statement, then a column added: PostgreSQL refuses
    // the old plan (0A000), the driver prepares again, new columns, new id.
    const uint64_t before = run(c, sql, Vals(), ILANA_EXEC_CACHE).columns_id;
    CHECK(before != 0);
    CHECK(run(c, sql, Vals(), ILANA_EXEC_CACHE).columns_id == before);
    exec(c, "ALTER TABLE cid_t ADD COLUMN c int8 DEFAULT 7");
    const Rows added = run(c, sql, Vals(), ILANA_EXEC_CACHE);
    REQUIRE(added.cols.size() == 3);
    CHECK(added.rows[0][2].i == 7);
    CHECK(added.columns_id != before);
    CHECK(is_new(added.columns_id));
    CHECK(run(c, sql, Vals(), ILANA_EXEC_CACHE).columns_id == added.columns_id);

    // A column changing its type (same count, same names).
    exec(c, "ALTER TABLE cid_t ALTER COLUMN a TYPE int8");
    const Rows retyped = run(c, sql, Vals(), ILANA_EXEC_CACHE);
    REQUIRE(retyped.cols.size() == 3);
    CHECK(retyped.cols[0].native == "int8");
    CHECK(retyped.columns_id != added.columns_id);
    CHECK(is_new(retyped.columns_id));

    // The same SQL bound with another parameter type is another statement
    // whose column may differ (SELECT $1): never the same id with other columns.
    const Rows as_int = run(c, "SELECT $1 AS v", Vals().i(1), ILANA_EXEC_CACHE);
    const Rows as_text = run(c, "SELECT $1 AS v", Vals().t("x"), ILANA_EXEC_CACHE);
    REQUIRE(as_int.cols.size() == 1);
    REQUIRE(as_text.cols.size() == 1);
    CHECK(as_int.cols[0].type != as_text.cols[0].type);
    CHECK(as_int.columns_id != as_text.columns_id);

    // No row set: no description, no promise.
    CHECK(run(c, "UPDATE cid_t SET b = 'uno'").columns_id == 0);
    CHECK(run(c, "UPDATE cid_t SET b = 'eins'", Vals(), ILANA_EXEC_CACHE).columns_id == 0);
    CHECK(run(c, "").columns_id == 0);
    CHECK(run(c, sql, Vals(), ILANA_EXEC_CACHE).columns_id != 0);
    exec(c, "DROP TABLE cid_t");
}

TEST_CASE("postgres: the prepared cache is bounded", "[postgres][server]") {
    ILANA_REQUIRE_PG();
    Conn c = connect();
    for (int k = 0; k < 300; ++k) scalar(c, "SELECT " + std::to_string(k) + "::int4", Vals(), ILANA_EXEC_CACHE);
    int64_t n = scalar(c, "SELECT count(*) FROM pg_prepared_statements WHERE name LIKE 'ilana\\_s%'").i;
    CHECK(n <= 256);
    CHECK(n >= 200);
    // The most recent ones still work (and still are cached).
    CHECK(scalar(c, "SELECT 299::int4", Vals(), ILANA_EXEC_CACHE).i == 299);
}

TEST_CASE("postgres: pgbouncer mode never creates named statements", "[postgres][server]") {
    ILANA_REQUIRE_PG();
    Conn c = connect_with(with(base_params(), "pgbouncer", "true"));
    for (int k = 0; k < 5; ++k) {
        CHECK(scalar(c, "SELECT $1::int8 + 1", Vals().i(k), ILANA_EXEC_CACHE).i == k + 1);
        CHECK(run(c, "SELECT g FROM generate_series(1, 10) g", Vals(), ILANA_EXEC_CACHE).rows.size() == 10);
    }
    CHECK(scalar(c, "SELECT count(*) FROM pg_prepared_statements").i == 0);
    // Session settings travelled in the startup packet.
    CHECK(scalar(c, "SELECT current_schema()").s == test_schema());
    // Control: the same without pgbouncer does prepare.
    Conn d = connect();
    scalar(d, "SELECT $1::int8 + 1", Vals().i(1), ILANA_EXEC_CACHE);
    CHECK(scalar(d, "SELECT count(*) FROM pg_prepared_statements").i >= 1);
}

TEST_CASE("postgres: through a real PgBouncer in transaction pooling", "[postgres][server]") {
    ILANA_REQUIRE_PG();
    const std::string port = ilana_test::env_or("ILANA_TEST_PGBOUNCER_PORT");
    if (port.empty()) {
        WARN("SKIPPED: no PgBouncer (ILANA_TEST_PGBOUNCER_PORT)");
        return;
    }
    Params p = with(with(server_params(), "port", port), "pgbouncer", "true");
    Conn a = connect_with(p);
    Conn b = connect_with(p);
    Error err;
    for (int k = 0; k < 20; ++k) {
        ilana_conn *c = (k % 2 == 0) ? a.get() : b.get();
        CHECK(scalar(c, "SELECT $1::int8 * 2", Vals().i(k), ILANA_EXEC_CACHE).i == 2 * k);
        REQUIRE(api().begin(c, err.ptr()) == ILANA_OK);
        CHECK(scalar(c, "SELECT txid_current() > 0").i == 1);
        REQUIRE(api().commit(c, err.ptr()) == ILANA_OK);
    }
    REQUIRE(api().ping(a, 1000, err.ptr()) == ILANA_OK);
}

// ===========================================================================
// Transactions and errors
// ===========================================================================

TEST_CASE("postgres: commit, rollback, and an aborted transaction", "[postgres][server]") {
    ILANA_REQUIRE_PG();
    Conn c = connect();
    Error err;
    exec(c, "DROP TABLE IF EXISTS tx_t");
    exec(c, "CREATE TABLE tx_t (id int4 PRIMARY KEY)");
    REQUIRE(api().begin(c, err.ptr()) == ILANA_OK);
    exec(c, "INSERT INTO tx_t VALUES (1)");
    REQUIRE(api().rollback(c, err.ptr()) == ILANA_OK);
    CHECK(scalar(c, "SELECT count(*) FROM tx_t").i == 0);

    REQUIRE(api().begin(c, err.ptr()) == ILANA_OK);
    exec(c, "INSERT INTO tx_t VALUES (1)");
    REQUIRE(api().commit(c, err.ptr()) == ILANA_OK);
    CHECK(scalar(c, "SELECT count(*) FROM tx_t").i == 1);

    // Transactional DDL.
    REQUIRE(api().begin(c, err.ptr()) == ILANA_OK);
    exec(c, "CREATE TABLE tx_ddl (x int)");
    REQUIRE(api().rollback(c, err.ptr()) == ILANA_OK);
    CHECK(scalar(c, "SELECT to_regclass('tx_ddl') IS NULL").i == 1);

    REQUIRE(api().begin(c, err.ptr()) == ILANA_OK);
    Error dup = run_err(c, "INSERT INTO tx_t VALUES (1)");
    CHECK(dup.e.error_class == ILANA_ERR_CONSTRAINT);
    CHECK(dup.has(ILANA_ERRF_TXN_ABORTED));
    Error next = run_err(c, "SELECT 1");
    CHECK(next.sqlstate() == "25P02");
    CHECK(next.has(ILANA_ERRF_TXN_ABORTED));
    Error commit;
    REQUIRE(api().commit(c, commit.ptr()) == ILANA_ERROR); // COMMIT turned into ROLLBACK
    CHECK(commit.has(ILANA_ERRF_TXN_ABORTED));
    CHECK(scalar(c, "SELECT count(*) FROM tx_t").i == 1);

    REQUIRE(api().begin(c, err.ptr()) == ILANA_OK);
    run_err(c, "SELEC 1");
    REQUIRE(api().rollback(c, err.ptr()) == ILANA_OK);
    CHECK(scalar(c, "SELECT 1::int4").i == 1);
}

TEST_CASE("postgres: error classes from the SQLSTATE table", "[postgres][server]") {
    ILANA_REQUIRE_PG();
    Conn c = connect();
    {
        Error e = run_err(c, "SELEC 1");
        CHECK(e.e.error_class == ILANA_ERR_SYNTAX);
        CHECK(e.sqlstate() == "42601");
        CHECK(e.e.native_code == 0);
        CHECK_FALSE(e.has(ILANA_ERRF_CONN_BROKEN));
    }
    {
        Error e = run_err(c, "SELECT * FROM no_such_table_xyz WHERE id = $1", Vals().i(1));
        CHECK(e.e.error_class == ILANA_ERR_SYNTAX);
        CHECK(e.sqlstate() == "42P01");
        CHECK(e.message().find("no_such_table_xyz") != std::string::npos);
        // The host shows the statement (Error::sql()); the driver does not repeat it.
        CHECK(e.message().find("SELECT * FROM") == std::string::npos);
    }
    {
        exec(c, "DROP TABLE IF EXISTS uq_t");
        exec(c, "CREATE TABLE uq_t (id int8 PRIMARY KEY, note text NOT NULL)");
        exec(c, "INSERT INTO uq_t VALUES ($1, $2)", Vals().i(777123).t("n"));
        Error e = run_err(c, "INSERT INTO uq_t VALUES ($1, $2)", Vals().i(777123).t("secret-note"));
        CHECK(e.e.error_class == ILANA_ERR_CONSTRAINT);
        CHECK(e.sqlstate() == "23505");
        CHECK(e.message().find("uq_t_pkey") != std::string::npos);
        CHECK(e.message().find("777123") == std::string::npos); // no bound value in the message
        CHECK(std::string(e.e.constraint_name) == "uq_t_pkey"); // PG_DIAG_CONSTRAINT_NAME (ABI 1.3)
        CHECK(e.e.condition == ILANA_COND_NONE);                // the SQLSTATE says which kind
        Error nn = run_err(c, "INSERT INTO uq_t VALUES ($1, $2)", Vals().i(888999).typed_null(ILANA_TYPE_TEXT));
        CHECK(nn.e.error_class == ILANA_ERR_CONSTRAINT);
        CHECK(nn.sqlstate() == "23502");
        CHECK(nn.message().find("888999") == std::string::npos);
    }
    {
        Error e = run_err(c, "SELECT $1::int4", Vals().t("secret-value-abc"));
        CHECK(e.e.error_class == ILANA_ERR_DATA);
        CHECK(e.sqlstate() == "22P02");
        CHECK(e.message().find("secret-value-abc") == std::string::npos);
    }
    {
        // Parameter count mismatch: the server's 08P01 is a plain error here.
        Error e = run_err(c, "SELECT $1::int4 + $2::int4", Vals().i(1));
        CHECK(e.e.error_class == ILANA_ERR_INTERNAL);
        CHECK(e.sqlstate() == "08P01");
        CHECK_FALSE(e.has(ILANA_ERRF_CONN_BROKEN));
        CHECK(scalar(c, "SELECT 4::int4").i == 4);
    }
    {
        Error e = run_err(c, "SELECT 1 / 0");
        CHECK(e.e.error_class == ILANA_ERR_DATA);
        CHECK(e.sqlstate() == "22012");
    }
    {
        // An error in the middle of the rows surfaces from fetch, after
        // every row before it was handed out.
        Rows partial;
        Error e;
        REQUIRE(run_impl(c, "SELECT 1 / (g - 5000) FROM generate_series(1, 10000) g", Vals(), 0, 64, &partial,
                         &e) == ILANA_ERROR);
        CHECK(partial.rows.size() == 4999);
        CHECK(e.e.error_class == ILANA_ERR_DATA);
        CHECK(e.sqlstate() == "22012");
        CHECK(scalar(c, "SELECT 3::int4").i == 3);
    }
    {
        const std::string role = unique_name("ilana_pgt_noperm_");
        exec(c, "DROP ROLE IF EXISTS " + role);
        exec(c, "CREATE ROLE " + role + " NOLOGIN");
        exec(c, "SET ROLE " + role);
        Error e = run_err(c, "SELECT * FROM " + test_schema() + ".uq_t");
        exec(c, "RESET ROLE");
        exec(c, "DROP ROLE " + role);
        CHECK(e.e.error_class == ILANA_ERR_PERMISSION);
        CHECK(e.sqlstate() == "42501");
    }
    {
        Conn other = connect();
        Error err;
        REQUIRE(api().begin(c, err.ptr()) == ILANA_OK);
        exec(c, "LOCK TABLE uq_t IN ACCESS EXCLUSIVE MODE");
        REQUIRE(api().begin(other, err.ptr()) == ILANA_OK);
        Error e = run_err(other, "LOCK TABLE uq_t IN ACCESS EXCLUSIVE MODE NOWAIT");
        CHECK(e.e.error_class == ILANA_ERR_TRANSIENT);
        CHECK(e.sqlstate() == "55P03");
        CHECK(e.has(ILANA_ERRF_TXN_ABORTED));
        REQUIRE(api().rollback(other, err.ptr()) == ILANA_OK);
        REQUIRE(api().rollback(c, err.ptr()) == ILANA_OK);
    }
}

TEST_CASE("postgres: statement_timeout is TIMEOUT, and the connection stays usable", "[postgres][server]") {
    ILANA_REQUIRE_PG();
    Conn c = connect_with(with(base_params(), "statement_timeout", "200"));
    CHECK(scalar(c, "SHOW statement_timeout").s == "200ms");
    auto t0 = Clock::now();
    Error e = run_err(c, "SELECT pg_sleep(3)");
    CHECK(seconds_since(t0) < 2.0);
    CHECK(e.e.error_class == ILANA_ERR_TIMEOUT);
    CHECK(e.sqlstate() == "57014");
    CHECK_FALSE(e.has(ILANA_ERRF_CONN_BROKEN));
    CHECK(scalar(c, "SELECT 1::int4").i == 1);
}

TEST_CASE("postgres: a statement timeout (ABI 1.2) bounds the server's work, not how late the host fetches",
          "[postgres][server]") {
    ILANA_REQUIRE_PG();
    Conn c = connect();
    // Executes with a 100 ms timeout, waits 300 ms, then fetches.
    auto late_fetch = [&](const std::string &sql, Rows &rows, Error &err) {
        ilana_statement st = statement(sql, Vals(), 0);
        st.timeout_ms = 100;
        ilana_result *res = nullptr;
        if (api().execute(c, &st, &res, err.ptr()) != ILANA_OK) return ILANA_ERROR;
        std::this_thread::sleep_for(std::chrono::milliseconds(300));
        ilana_status s = ILANA_OK;
        while (s == ILANA_OK) {
            ilana_batch b = new_batch(64);
            s = api().fetch(res, &b, err.ptr());
            if (s != ILANA_ERROR) ilana_test::append_batch_rows(b, rows.rows);
        }
        api().result_close(res);
        return s;
    };
    Rows rows;
    Error err;
    // The server sent every row within the timeout: they are the host's.
    CHECK(late_fetch("SELECT g FROM generate_series(1, 3) g", rows, err) == ILANA_DONE);
    CHECK(rows.rows.size() == 3);
    Rows none;
    CHECK(late_fetch("DO $$ BEGIN END $$", none, err) == ILANA_DONE); // a command, done in execute
    // Still running at the timeout: stopped, TIMEOUT (in execute, which
    // waits for the first row).
    Rows partial;
    Error slow;
    CHECK(late_fetch("SELECT pg_sleep(2)", partial, slow) == ILANA_ERROR);
    CHECK(slow.e.error_class == ILANA_ERR_TIMEOUT);
    CHECK(scalar(c, "SELECT 1::int4").i == 1);
}

TEST_CASE("postgres: a terminated backend is CONNECTION + CONN_BROKEN", "[postgres][server]") {
    ILANA_REQUIRE_PG();
    Conn victim = connect();
    Conn killer = connect();
    const int64_t pid = scalar(victim, "SELECT pg_backend_pid()").i;
    CHECK(scalar(killer, "SELECT pg_terminate_backend($1::int4)", Vals().i(pid)).i == 1);
    for (int k = 0; k < 100; ++k) {
        if (scalar(killer, "SELECT count(*) FROM pg_stat_activity WHERE pid = $1::int4", Vals().i(pid)).i == 0) break;
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    Error e = run_err(victim, "SELECT 1");
    CHECK(e.e.error_class == ILANA_ERR_CONNECTION);
    CHECK(e.has(ILANA_ERRF_CONN_BROKEN));
    Error again = run_err(victim, "SELECT 1");
    CHECK(again.e.error_class == ILANA_ERR_CONNECTION);
    CHECK(again.has(ILANA_ERRF_CONN_BROKEN));
    CHECK(again.has(ILANA_ERRF_NOT_SENT));
    Error perr;
    CHECK(api().ping(victim, 500, perr.ptr()) == ILANA_ERROR);
    CHECK(perr.has(ILANA_ERRF_CONN_BROKEN));
}

TEST_CASE("postgres: cancel from another thread", "[postgres][server]") {
    ILANA_REQUIRE_PG();
    Conn c = connect();
    Error idle;
    CHECK(api().cancel(c, idle.ptr()) == ILANA_OK); // nothing running: still OK
    CHECK(scalar(c, "SELECT 1::int4").i == 1);      // and harmless

    // Catch2 assertions are not thread-safe: threads only record.
    std::atomic<bool> sent{false};
    std::atomic<int> cancel_status{-100};
    Clock::time_point cancel_at;
    std::thread canceller([&] {
        std::this_thread::sleep_for(std::chrono::milliseconds(300));
        cancel_at = Clock::now();
        Error err;
        cancel_status = api().cancel(c, err.ptr());
        sent = true;
    });
    auto t0 = Clock::now();
    Error e = run_err(c, "SELECT pg_sleep(10)");
    const auto returned_at = Clock::now();
    canceller.join();
    REQUIRE(sent);
    CHECK(cancel_status == ILANA_OK);
    CHECK(seconds_since(t0) < 3.0);
    // Canceled within a second of the request.
    CHECK(std::chrono::duration<double>(returned_at - cancel_at).count() < 1.0);
    CHECK(e.e.error_class == ILANA_ERR_CANCELED);
    CHECK(e.sqlstate() == "57014");
    CHECK(scalar(c, "SELECT 2::int4").i == 2);

    // The next statement_timeout is a TIMEOUT again, not a stale CANCELED.
    exec(c, "SET statement_timeout = 100");
    Error t = run_err(c, "SELECT pg_sleep(2)");
    CHECK(t.e.error_class == ILANA_ERR_TIMEOUT);
    exec(c, "SET statement_timeout = 0");

    // Cancel while rows are streaming.
    std::thread c2([&] {
        std::this_thread::sleep_for(std::chrono::milliseconds(300));
        Error err;
        api().cancel(c, err.ptr());
    });
    Error s = run_err(c, "SELECT g, pg_sleep(0.01) FROM generate_series(1, 100000) g");
    c2.join();
    CHECK(s.e.error_class == ILANA_ERR_CANCELED);
    CHECK(scalar(c, "SELECT 3::int4").i == 3);
}

// ===========================================================================
// Extensions
// ===========================================================================

namespace {

Rows read_result(ilana_result *res) {
    Rows out;
    ilana_result_info info = new_result_info();
    api().result_info(res, &info);
    for (uint32_t i = 0; i < info.column_count; ++i)
        out.cols.push_back({info.columns[i].name, info.columns[i].type, info.columns[i].native_type});
    Error err;
    for (;;) {
        ilana_batch b = new_batch(100);
        ilana_status s = api().fetch(res, &b, err.ptr());
        REQUIRE(s != ILANA_ERROR);
        ilana_test::append_batch_rows(b, out.rows);
        if (s == ILANA_DONE) break;
    }
    api().result_close(res);
    return out;
}

void check_columns(const Rows &r, const std::vector<std::pair<std::string, ilana_type>> &want) {
    ilana_test::check_column_names_and_types(r.cols, want);
}

} // namespace

TEST_CASE("postgres: introspection of tables, columns and indexes", "[postgres][server]") {
    ILANA_REQUIRE_PG();
    Conn c = connect();
    auto *in = extension<ilana_introspect_api>(ILANA_EXT_INTROSPECT);
    REQUIRE(in->struct_size >= sizeof(ilana_introspect_api));
    exec(c, "DROP VIEW IF EXISTS intro_v");
    exec(c, "DROP TABLE IF EXISTS intro_t");
    exec(c, "CREATE TABLE intro_t (id bigserial PRIMARY KEY, name varchar(20) NOT NULL, note text, "
            "score numeric(10,2) DEFAULT 0, dropped int, created timestamptz NOT NULL DEFAULT now())");
    exec(c, "ALTER TABLE intro_t DROP COLUMN dropped");
    exec(c, "CREATE UNIQUE INDEX intro_t_name_idx ON intro_t (name, score)");
    exec(c, "CREATE INDEX intro_t_lower_idx ON intro_t (lower(note))");
    exec(c, "CREATE VIEW intro_v AS SELECT id FROM intro_t");

    Error err;
    ilana_result *res = nullptr;
    REQUIRE(in->columns(c, test_schema().c_str(), "intro_t", &res, err.ptr()) == ILANA_OK);
    Rows cols = read_result(res);
    check_columns(cols, ilana_test::introspect_columns_columns());
    struct Want {
        const char *name;
        int64_t ordinal;
        const char *type;
        bool nullable;
        const char *def;
        bool pk;
    };
    const Want want[] = {{"id", 1, "bigint", false, "nextval('intro_t_id_seq'::regclass)", true},
                         {"name", 2, "character varying(20)", false, nullptr, false},
                         {"note", 3, "text", true, nullptr, false},
                         {"score", 4, "numeric(10,2)", true, "0", false},
                         {"created", 5, "timestamp with time zone", false, "now()", false}};
    REQUIRE(cols.rows.size() == 5);
    for (size_t k = 0; k < 5; ++k) {
        const auto &row = cols.rows[k];
        INFO("column " << want[k].name);
        CHECK(row[0].s == "intro_t");
        CHECK(row[1].s == want[k].name);
        CHECK(row[2].i == want[k].ordinal);
        CHECK(row[3].s == want[k].type);
        CHECK(row[4].i == (want[k].nullable ? 1 : 0));
        if (want[k].def == nullptr) CHECK(row[5].null);
        else CHECK(row[5].s == want[k].def);
        CHECK(row[6].i == (want[k].pk ? 1 : 0));
    }

    // The connection's current schema when schema is NULL.
    REQUIRE(in->indexes(c, nullptr, "intro_t", &res, err.ptr()) == ILANA_OK);
    Rows idx = read_result(res);
    check_columns(idx, ilana_test::introspect_indexes_columns());
    REQUIRE(idx.rows.size() == 3);
    CHECK(idx.rows[0][1].s == "intro_t_lower_idx");
    CHECK(idx.rows[0][2].s == "lower(note)");
    CHECK(idx.rows[0][3].i == 0);
    CHECK(idx.rows[0][4].i == 0);
    CHECK(idx.rows[1][1].s == "intro_t_name_idx");
    CHECK(idx.rows[1][2].s == "name,score");
    CHECK(idx.rows[1][3].i == 1);
    CHECK(idx.rows[1][4].i == 0);
    CHECK(idx.rows[2][1].s == "intro_t_pkey");
    CHECK(idx.rows[2][2].s == "id");
    CHECK(idx.rows[2][3].i == 1);
    CHECK(idx.rows[2][4].i == 1);
    for (const auto &row : idx.rows) CHECK(row[0].s == "intro_t");

    REQUIRE(in->tables(c, nullptr, &res, err.ptr()) == ILANA_OK);
    Rows tabs = read_result(res);
    check_columns(tabs, ilana_test::introspect_tables_columns());
    bool saw_table = false, saw_view = false;
    std::vector<std::string> names;
    for (const auto &row : tabs.rows) {
        CHECK(row[0].s == test_schema());
        names.push_back(row[1].s);
        if (row[1].s == "intro_t") saw_table = row[2].s == "table";
        if (row[1].s == "intro_v") saw_view = row[2].s == "view";
    }
    CHECK(saw_table);
    CHECK(saw_view);
    CHECK(std::is_sorted(names.begin(), names.end()));

    // All tables' columns, ordered by table then ordinal.
    REQUIRE(in->columns(c, nullptr, nullptr, &res, err.ptr()) == ILANA_OK);
    Rows all = read_result(res);
    CHECK(all.rows.size() > 5);
    // Another schema by name: pg_catalog has pg_class.
    REQUIRE(in->tables(c, "pg_catalog", &res, err.ptr()) == ILANA_OK);
    Rows cat = read_result(res);
    CHECK(std::any_of(cat.rows.begin(), cat.rows.end(), [](const auto &row) { return row[1].s == "pg_class"; }));
}

TEST_CASE("postgres: advisory lock contention", "[postgres][server]") {
    ILANA_REQUIRE_PG();
    auto *lock = extension<ilana_lock_api>(ILANA_EXT_LOCK);
    Conn a = connect();
    Conn b = connect();
    const std::string name = unique_name("ilana-migrations-");
    Error err;
    REQUIRE(lock->acquire(a, name.c_str(), 1000, err.ptr()) == ILANA_OK);
    Error te;
    auto t0 = Clock::now();
    REQUIRE(lock->acquire(b, name.c_str(), 300, te.ptr()) == ILANA_ERROR);
    double s = seconds_since(t0);
    CHECK(s >= 0.29);
    CHECK(s < 1.5);
    CHECK(te.e.error_class == ILANA_ERR_TIMEOUT);
    // Another name is free.
    REQUIRE(lock->acquire(b, (name + "-other").c_str(), 0, err.ptr()) == ILANA_OK);
    REQUIRE(lock->release(b, (name + "-other").c_str(), err.ptr()) == ILANA_OK);
    // Released by a: b gets it while waiting.
    std::atomic<int> release_status{-100};
    std::thread releaser([&] {
        std::this_thread::sleep_for(std::chrono::milliseconds(200));
        Error e2;
        release_status = lock->release(a, name.c_str(), e2.ptr());
    });
    Error we;
    CHECK(lock->acquire(b, name.c_str(), 5000, we.ptr()) == ILANA_OK);
    releaser.join();
    CHECK(release_status == ILANA_OK);
    REQUIRE(lock->release(b, name.c_str(), err.ptr()) == ILANA_OK);
    Error ne;
    CHECK(lock->release(b, name.c_str(), ne.ptr()) == ILANA_ERROR); // not held
}

TEST_CASE("postgres: namespaces are schemas", "[postgres][server]") {
    ILANA_REQUIRE_PG();
    auto *ns = extension<ilana_namespace_api>(ILANA_EXT_NAMESPACE);
    Conn c = connect();
    const std::string prefix = unique_name("ilana_ns_") + "_";
    const std::string a = prefix + "a", b = prefix + "B-x";
    Error err;
    auto list = [&] {
        ilana_result *res = nullptr;
        REQUIRE(ns->list(c, prefix.c_str(), &res, err.ptr()) == ILANA_OK);
        Rows r = read_result(res);
        check_columns(r, {{"name", ILANA_TYPE_TEXT}});
        std::vector<std::string> names;
        for (const auto &row : r.rows) names.push_back(row[0].s);
        return names;
    };
    REQUIRE(ns->create(c, a.c_str(), err.ptr()) == ILANA_OK);
    REQUIRE(ns->create(c, b.c_str(), err.ptr()) == ILANA_OK);
    REQUIRE(ns->create(c, a.c_str(), err.ptr()) == ILANA_OK); // exists: fine
    CHECK(list() == std::vector<std::string>{b, a});          // bytewise: 'B' < 'a'

    // A tenant's pool selects it through the search_path parameter.
    {
        Conn t = connect_with(with(server_params(), ns->param_key, b));
        CHECK(scalar(t, "SELECT current_schema()").s == b);
        exec(t, "CREATE TABLE tenant_t (x int)");
        CHECK(scalar(c, "SELECT count(*) FROM pg_tables WHERE schemaname = $1 AND tablename = 'tenant_t'",
                     Vals().t(b)).i == 1);
    }
    // All namespaces: system schemas are not listed.
    ilana_result *res = nullptr;
    REQUIRE(ns->list(c, nullptr, &res, err.ptr()) == ILANA_OK);
    Rows every = read_result(res);
    for (const auto &row : every.rows) {
        CHECK(row[0].s.rfind("pg_", 0) != 0);
        CHECK(row[0].s != "information_schema");
    }
    REQUIRE(ns->drop(c, a.c_str(), err.ptr()) == ILANA_OK);
    REQUIRE(ns->drop(c, b.c_str(), err.ptr()) == ILANA_OK);
    REQUIRE(ns->drop(c, b.c_str(), err.ptr()) == ILANA_OK); // missing: fine
    CHECK(list().empty());
}
