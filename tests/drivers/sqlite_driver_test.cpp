// sqlite_driver_test.cpp — the SQLite driver through the raw C ABI.
//
// The plugin is loaded the way the host loads it (dlopen by absolute path
// with RTLD_NOW, resolve `ilana_entry`), and every test talks to it only
// through driver.h: no C++ API of the core, no SQLite headers.
#include "driver_harness.hpp"

#include <catch2/catch.hpp>

#include <ilana/driver.h>
#include <ilana/sdk/driver_support.hpp>

#include <dlfcn.h>
#include <stdlib.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace fs = std::filesystem;

namespace {

using ilana_test::Cell;
using ilana_test::int_value;
using ilana_test::make_statement;
using ilana_test::new_batch;
using ilana_test::new_error;
using ilana_test::new_result_info;
using ilana_test::null_value;
using ilana_test::str_value;

// ------------------------------------------------------------------ host side

struct LogRecord {
    ilana_log_level level;
    void *conn_context;
    std::string message;
};

std::mutex g_log_mu;
std::vector<LogRecord> g_logs;

void test_log(void *, void *conn_context, ilana_log_level level, const char *msg, size_t len) {
    std::lock_guard<std::mutex> lock(g_log_mu);
    g_logs.push_back({level, conn_context, std::string(msg, len)});
}

const ilana_host kHost = {sizeof(ilana_host), ILANA_ABI_MAJOR, ILANA_ABI_MINOR, "ilana-test",
                          "0.0.0", nullptr, test_log, nullptr, nullptr};

// The plugin, loaded and initialised once for the whole test run.
struct Plugin {
    void *handle = nullptr;
    const ilana_driver_entry *entry = nullptr;
    const ilana_driver_api *api = nullptr;

    Plugin() {
        const ilana_test::LoadedDriver loaded = ilana_test::load_driver("ilana_sqlite.so", kHost);
        handle = loaded.handle;
        entry = loaded.entry;
        api = entry->api;
    }
    ~Plugin() {
        if (entry != nullptr) entry->deinit();
    }
    // A function of the libsqlite3 the plugin loaded (dlsym searches its
    // dependencies), to compute expectations without linking SQLite.
    template <class F>
    F sqlite_fn(const char *name) const {
        return reinterpret_cast<F>(dlsym(handle, name));
    }
    template <class T>
    const T *extension(const char *id) const {
        return static_cast<const T *>(entry->get_extension(id));
    }
};

Plugin &plugin() {
    static Plugin p;
    return p;
}
const ilana_driver_api &api() { return *plugin().api; }

// A fresh directory, removed with everything in it.
struct TempDir {
    fs::path path;
    TempDir() {
        std::string tmpl = (fs::temp_directory_path() / "ilana-sqlite-XXXXXX").string();
        if (mkdtemp(tmpl.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
        path = tmpl;
    }
    ~TempDir() {
        std::error_code ec;
        fs::remove_all(path, ec);
    }
    std::string file(const std::string &name) const { return (path / name).string(); }
};

// ------------------------------------------------------------------ values

ilana_value i64(int64_t i) { return int_value(ILANA_TYPE_INT64, i); }
ilana_value u64(uint64_t u) { return ilana_test::uint_value(u); }
ilana_value f64(double d) { return ilana_test::double_value(d); }
// `s` must outlive the call that uses the value.
ilana_value text(const std::string &s) { return str_value(ILANA_TYPE_TEXT, s); }

struct Column {
    std::string name;
    ilana_type type;
    std::string native_type;
    int32_t nullable;
};

struct Rows {
    std::vector<Column> columns;
    std::vector<std::vector<Cell>> rows;
    int64_t affected_rows = 0;
    int64_t last_insert_id = 0;
    uint64_t columns_id = 0; // ABI 1.1
    std::size_t batches = 0;
};

struct Outcome {
    ilana_status status = ILANA_OK; // ILANA_OK, or the failing call's status
    ilana_error err = new_error();
    bool failed_in_fetch = false;
    Rows rows;
};

// ilana_test::copy_cell, checking first that the cell is one SQLite gives:
// BOOL, INT64, DOUBLE, or TEXT/BLOB with a pointer unless empty.
Cell copy_cell(const ilana_value &v) {
    if (v.is_null == 0) {
        switch (v.type) {
        case ILANA_TYPE_BOOL:
        case ILANA_TYPE_INT64:
        case ILANA_TYPE_DOUBLE: break;
        case ILANA_TYPE_TEXT:
        case ILANA_TYPE_BLOB: REQUIRE((v.v.str.ptr != nullptr || v.v.str.len == 0)); break;
        default: FAIL("unexpected cell type " << v.type);
        }
    }
    return ilana_test::copy_cell(v);
}

void read_info(ilana_result *r, Rows &rows, bool with_columns) {
    ilana_result_info info = new_result_info();
    api().result_info(r, &info);
    if (with_columns) {
        REQUIRE(info.column_size == sizeof(ilana_column));
        for (uint32_t i = 0; i < info.column_count; ++i) {
            const ilana_column &c = info.columns[i];
            REQUIRE(c.struct_size == sizeof(ilana_column));
            REQUIRE(c.name != nullptr);
            REQUIRE(c.native_type != nullptr);
            rows.columns.push_back({c.name, c.type, c.native_type, c.nullable});
        }
    }
    rows.affected_rows = info.affected_rows;
    rows.last_insert_id = info.last_insert_id;
    rows.columns_id = info.columns_id;
}

// Fetches everything from an open result and closes it.
void drain(ilana_result *r, Outcome &out, uint32_t batch_rows) {
    read_info(r, out.rows, true);
    for (;;) {
        ilana_batch b = new_batch(batch_rows);
        ilana_status st = api().fetch(r, &b, &out.err);
        if (st == ILANA_ERROR) {
            out.status = st;
            out.failed_in_fetch = true;
            break;
        }
        REQUIRE((st == ILANA_OK || st == ILANA_DONE));
        REQUIRE(b.row_count <= batch_rows);
        REQUIRE(b.column_count == out.rows.columns.size());
        REQUIRE(b.value_size == sizeof(ilana_value));
        ++out.rows.batches;
        ilana_test::append_batch_rows(b, out.rows.rows, copy_cell);
        if (st == ILANA_DONE) {
            // Again after DONE: DONE with no rows.
            ilana_batch again = new_batch(batch_rows);
            ilana_error e2 = new_error();
            REQUIRE(api().fetch(r, &again, &e2) == ILANA_DONE);
            REQUIRE(again.row_count == 0);
            break;
        }
    }
    if (out.status == ILANA_OK) read_info(r, out.rows, false); // counts final after the last row
    api().result_close(r);
}

// A connection for a test; closed at scope exit.
class Conn {
public:
    using Params = ilana_test::Params;

    static ilana_status try_connect(const Params &params, ilana_conn **out, ilana_error &err,
                                    void *host_context = nullptr) {
        const ilana_test::ConnectParams cp(params, 0, host_context);
        return api().connect(cp.get(), out, &err);
    }

    explicit Conn(const Params &params, void *host_context = nullptr) {
        ilana_error err = new_error();
        const ilana_status st = try_connect(params, &conn_, err, host_context);
        INFO("connect: " << err.message);
        REQUIRE(st == ILANA_OK);
        REQUIRE(conn_ != nullptr);
    }
    explicit Conn(const std::string &filename) : Conn(Params{{"filename", filename}}) {}
    ~Conn() { api().close(conn_); }
    Conn(const Conn &) = delete;
    Conn &operator=(const Conn &) = delete;

    ilana_conn *get() const { return conn_; }

    Outcome run(const std::string &sql, const std::vector<ilana_value> &params = {},
                uint32_t flags = 0, uint32_t batch_rows = 256) {
        Outcome out;
        const ilana_statement st = make_statement(sql, params, flags);
        ilana_result *r = nullptr;
        out.status = api().execute(conn_, &st, &r, &out.err);
        if (out.status != ILANA_OK) {
            REQUIRE(r == nullptr);
            return out;
        }
        REQUIRE(r != nullptr);
        drain(r, out, batch_rows);
        return out;
    }

    Rows query(const std::string &sql, const std::vector<ilana_value> &params = {},
               uint32_t flags = 0, uint32_t batch_rows = 256) {
        Outcome o = run(sql, params, flags, batch_rows);
        INFO("SQL: " << sql << "\nerror: " << o.err.message);
        REQUIRE(o.status == ILANA_OK);
        return std::move(o.rows);
    }

    // Runs SQL that must fail; returns the error record.
    ilana_error fail(const std::string &sql, const std::vector<ilana_value> &params = {}) {
        Outcome o = run(sql, params);
        INFO("SQL: " << sql);
        REQUIRE(o.status == ILANA_ERROR);
        return o.err;
    }

    int64_t scalar_int(const std::string &sql, const std::vector<ilana_value> &params = {},
                       uint32_t flags = 0) {
        Rows r = query(sql, params, flags);
        REQUIRE(r.rows.size() == 1);
        REQUIRE(r.rows[0][0].type == ILANA_TYPE_INT64);
        return r.rows[0][0].i;
    }
    std::string scalar_text(const std::string &sql, const std::vector<ilana_value> &params = {}) {
        Rows r = query(sql, params);
        REQUIRE(r.rows.size() == 1);
        REQUIRE(r.rows[0][0].type == ILANA_TYPE_TEXT);
        return r.rows[0][0].s;
    }

    ilana_status begin(ilana_error &e) { return api().begin(conn_, &e); }
    ilana_status commit(ilana_error &e) { return api().commit(conn_, &e); }
    ilana_status rollback(ilana_error &e) { return api().rollback(conn_, &e); }
    void begin() { ok(api().begin(conn_, &err_), "begin"); }
    void commit() { ok(api().commit(conn_, &err_), "commit"); }
    void rollback() { ok(api().rollback(conn_, &err_), "rollback"); }

private:
    void ok(ilana_status st, const char *what) {
        INFO(what << ": " << err_.message);
        REQUIRE(st == ILANA_OK);
    }
    ilana_conn *conn_ = nullptr;
    ilana_error err_ = new_error();
};

ilana_error connect_error(const Conn::Params &params) {
    ilana_error err = new_error();
    ilana_conn *c = reinterpret_cast<ilana_conn *>(0x1);
    const ilana_status st = Conn::try_connect(params, &c, err);
    REQUIRE(st == ILANA_ERROR);
    REQUIRE(c == nullptr);
    return err;
}

bool contains(const std::string &haystack, const std::string &needle) {
    return haystack.find(needle) != std::string::npos;
}

int64_t days(int64_t y, unsigned m, unsigned d) { return ilana::sdk::days_from_civil(y, m, d); }
int64_t micros(int64_t y, unsigned m, unsigned d, int hh, int mm, int ss, int64_t us = 0) {
    return ((days(y, m, d) * 86400 + hh * 3600 + mm * 60 + ss) * 1000000) + us;
}

} // namespace

// ======================================================================== //

TEST_CASE("sqlite: entry and descriptor", "[sqlite]") {
    const ilana_driver_entry &e = *plugin().entry;
    REQUIRE(e.struct_size == sizeof(ilana_driver_entry));
    REQUIRE(e.magic == ILANA_DRIVER_MAGIC);
    REQUIRE(e.abi_major == ILANA_ABI_MAJOR);
    REQUIRE(e.abi_minor == ILANA_ABI_MINOR);
    REQUIRE(e.init != nullptr);
    REQUIRE(e.deinit != nullptr);
    REQUIRE(e.get_extension != nullptr);

    const ilana_driver_descriptor &d = *e.descriptor;
    REQUIRE(d.struct_size == sizeof(ilana_driver_descriptor));
    CHECK(std::string(d.id) == "org.ilana.sqlite");
    CHECK(std::string(d.name) == "SQLite3");
    CHECK(std::string(d.version) == "1.0.0");
    REQUIRE(d.clients != nullptr);
    std::vector<std::string> clients;
    for (const char *const *c = d.clients; *c != nullptr; ++c) clients.emplace_back(*c);
    CHECK(clients == std::vector<std::string>{"sqlite3", "sqlite"});
    CHECK(d.capabilities == (ILANA_CAP_TRANSACTIONS | ILANA_CAP_CANCEL | ILANA_CAP_LAST_INSERT_ID |
                             ILANA_CAP_STREAMING | ILANA_CAP_PREPARED_CACHE |
                             ILANA_CAP_TRANSACTIONAL_DDL));
    CHECK((d.capabilities & ILANA_CAP_NETWORK) == 0);
    CHECK(d.thread_model == ILANA_THREADS_CONN_SERIALIZED);

    REQUIRE(d.dialect != nullptr);
    const ilana_dialect &dl = *d.dialect;
    CHECK(dl.struct_size == sizeof(ilana_dialect));
    CHECK(dl.placeholder == ILANA_PLACEHOLDER_QUESTION);
    CHECK(dl.identifier_quote == '"');
    CHECK(dl.limit_form == ILANA_LIMIT_LIMIT_OFFSET);
    CHECK(dl.upsert_form == ILANA_UPSERT_ON_CONFLICT);
    auto libversion_number = plugin().sqlite_fn<int (*)()>("sqlite3_libversion_number");
    REQUIRE(libversion_number != nullptr);
    CHECK(dl.supports_returning == (libversion_number() >= 3035000 ? 1 : 0));
    // max_params is the loaded library's SQLITE_LIMIT_VARIABLE_NUMBER.
    using open_fn = int (*)(const char *, void **, int, const char *);
    using limit_fn = int (*)(void *, int, int);
    using close_fn = int (*)(void *);
    auto sq_open = plugin().sqlite_fn<open_fn>("sqlite3_open_v2");
    auto sq_limit = plugin().sqlite_fn<limit_fn>("sqlite3_limit");
    auto sq_close = plugin().sqlite_fn<close_fn>("sqlite3_close");
    REQUIRE((sq_open && sq_limit && sq_close));
    void *db = nullptr;
    REQUIRE(sq_open(":memory:", &db, 0x2 /* READWRITE */, nullptr) == 0);
    const int limit = sq_limit(db, 9 /* SQLITE_LIMIT_VARIABLE_NUMBER */, -1);
    sq_close(db);
    CHECK(dl.max_params == static_cast<uint32_t>(limit));
    CHECK(dl.max_params >= 999);

    const ilana_driver_api &a = api();
    REQUIRE(a.struct_size == sizeof(ilana_driver_api));
    CHECK((a.connect && a.close && a.ping && a.execute && a.result_info && a.fetch &&
           a.result_close && a.begin && a.commit && a.rollback && a.cancel && a.server_info));

    auto intro = plugin().extension<ilana_introspect_api>(ILANA_EXT_INTROSPECT);
    REQUIRE(intro != nullptr);
    CHECK(intro->struct_size == sizeof(ilana_introspect_api));
    CHECK((intro->tables && intro->columns && intro->indexes));
    auto lock = plugin().extension<ilana_lock_api>(ILANA_EXT_LOCK);
    REQUIRE(lock != nullptr);
    CHECK(lock->struct_size == sizeof(ilana_lock_api));
    CHECK(lock->flags == ILANA_LOCK_IS_TRANSACTION);
    auto ns = plugin().extension<ilana_namespace_api>(ILANA_EXT_NAMESPACE);
    REQUIRE(ns != nullptr);
    CHECK(ns->struct_size == sizeof(ilana_namespace_api));
    CHECK(ns->isolation == ILANA_NAMESPACE_FILE);
    CHECK(std::string(ns->param_key) == "filename");
    CHECK(e.get_extension("ilana.introspect/2") == nullptr);
    CHECK(e.get_extension("com.example.bulk/1") == nullptr);
    CHECK(e.get_extension(nullptr) == nullptr);
}

TEST_CASE("sqlite: init and deinit are counted", "[sqlite]") {
    const ilana_driver_entry &e = *plugin().entry; // holds one init
    ilana_error err = new_error();
    REQUIRE(e.init(&kHost, &err) == ILANA_OK);
    REQUIRE(e.init(&kHost, &err) == ILANA_OK);
    e.deinit();
    e.deinit();
    { Conn c(":memory:"); CHECK(c.scalar_int("SELECT 41 + 1") == 42); }

    // Down to zero, one deinit too many (harmless), and back up.
    e.deinit();
    e.deinit();
    REQUIRE(e.init(&kHost, &err) == ILANA_OK);
    { Conn c(":memory:"); CHECK(c.scalar_int("SELECT 7") == 7); }

    // The host log is attached again and messages carry the connection's context.
    TempDir dir;
    int marker = 0;
    {
        std::lock_guard<std::mutex> lock(g_log_mu);
        g_logs.clear();
    }
    { Conn c(Conn::Params{{"filename", dir.file("logged.db")}}, &marker); }
    std::lock_guard<std::mutex> lock(g_log_mu);
    bool found = false;
    for (const auto &r : g_logs)
        if (r.conn_context == &marker && contains(r.message, dir.file("logged.db"))) found = true;
    CHECK(found);
}

TEST_CASE("sqlite: connect to a file and to :memory:", "[sqlite]") {
    TempDir dir;
    const std::string path = dir.file("app.db");
    {
        Conn c(path);
        c.query("CREATE TABLE t (x INTEGER)");
        c.query("INSERT INTO t VALUES (1)");
    }
    CHECK(fs::exists(path));
    {
        Conn c(path); // the data is in the file
        CHECK(c.scalar_int("SELECT count(*) FROM t") == 1);
    }

    // Two in-memory connections are two databases.
    Conn m1(":memory:");
    Conn m2(":memory:");
    m1.query("CREATE TABLE only_here (x)");
    CHECK(m1.scalar_int("SELECT count(*) FROM sqlite_master WHERE name = 'only_here'") == 1);
    CHECK(m2.scalar_int("SELECT count(*) FROM sqlite_master WHERE name = 'only_here'") == 0);

    // A relative filename is resolved against ilana.config_dir.
    ilana_error missing = connect_error({{"filename", "sub/rel.db"},
                                         {"ilana.config_dir", dir.path.string()},
                                         {"ilana.connection", "main"}});
    CHECK(missing.error_class == ILANA_ERR_CONNECTION); // rwc creates the file, not directories
    CHECK(contains(missing.message, dir.file("sub/rel.db")));
    fs::create_directories(dir.path / "sub");
    {
        Conn c(Conn::Params{{"filename", "sub/rel.db"}, {"ilana.config_dir", dir.path.string()}});
        c.query("CREATE TABLE r (x)");
    }
    CHECK(fs::exists(dir.path / "sub" / "rel.db"));

    // server_info and ping.
    ilana_server_info info{};
    info.struct_size = sizeof info;
    ilana_error err = new_error();
    REQUIRE(api().server_info(m1.get(), &info, &err) == ILANA_OK);
    CHECK(std::string(info.product) == "SQLite");
    auto libversion = plugin().sqlite_fn<const char *(*)()>("sqlite3_libversion");
    auto libversion_number = plugin().sqlite_fn<int (*)()>("sqlite3_libversion_number");
    CHECK(std::string(info.version) == libversion());
    CHECK(info.version_number == libversion_number());
    CHECK(info.max_connections == -1);
    CHECK(api().ping(m1.get(), 1000, &err) == ILANA_OK);
}

TEST_CASE("sqlite: the file deleted under a connection fails ping as broken", "[sqlite]") {
    TempDir dir;
    const std::string path = dir.file("gone.db");
    Conn c(path);
    c.query("CREATE TABLE t (x)");
    ilana_error err = new_error();
    REQUIRE(api().ping(c.get(), 0, &err) == ILANA_OK);
    fs::remove(path);
    REQUIRE(api().ping(c.get(), 0, &err) == ILANA_ERROR);
    CHECK(err.error_class == ILANA_ERR_CONNECTION);
    CHECK((err.flags & ILANA_ERRF_CONN_BROKEN) != 0);
    CHECK(contains(err.message, path));
}

TEST_CASE("sqlite: connection parameters", "[sqlite]") {
    TempDir dir;
    const std::string path = dir.file("p.db");

    SECTION("an unknown key is a CONFIG error naming it; ilana.* keys are ignored") {
        ilana_error e = connect_error({{"filename", path}, {"filname", "x.db"}, {"ilana.anything", "1"}});
        CHECK(e.error_class == ILANA_ERR_CONFIG);
        CHECK(contains(e.message, "'filname'"));
        CHECK_FALSE(contains(e.message, "ilana.anything"));
        // A seed option of other clients is not silently accepted either.
        e = connect_error({{"filename", path}, {"useNullAsDefault", "true"}});
        CHECK(e.error_class == ILANA_ERR_CONFIG);
        CHECK(contains(e.message, "'useNullAsDefault'"));
        CHECK_FALSE(fs::exists(path)); // nothing was opened
    }
    SECTION("filename is required") {
        ilana_error e = connect_error({{"mode", "rwc"}});
        CHECK(e.error_class == ILANA_ERR_CONFIG);
        CHECK(contains(e.message, "'filename'"));
    }
    SECTION("bad values are CONFIG errors naming the key") {
        ilana_error e = connect_error({{"filename", path}, {"mode", "rwx"}});
        CHECK(e.error_class == ILANA_ERR_CONFIG);
        CHECK(contains(e.message, "'mode'"));
        e = connect_error({{"filename", path}, {"busy_timeout", "soon"}});
        CHECK(e.error_class == ILANA_ERR_CONFIG);
        CHECK(contains(e.message, "'busy_timeout'"));
        e = connect_error({{"filename", path}, {"foreign_keys", "maybe"}});
        CHECK(e.error_class == ILANA_ERR_CONFIG);
        CHECK(contains(e.message, "'foreign_keys'"));
        e = connect_error({{"filename", path}, {"journal_mode", "fast"}});
        CHECK(e.error_class == ILANA_ERR_CONFIG);
        CHECK(contains(e.message, "'journal_mode'"));
        e = connect_error({{"filename", path}, {"synchronous", "sometimes"}});
        CHECK(e.error_class == ILANA_ERR_CONFIG);
        CHECK(contains(e.message, "'synchronous'"));
        e = connect_error({{"filename", path}, {"readonly", "true"}, {"mode", "rwc"}});
        CHECK(e.error_class == ILANA_ERR_CONFIG);
        CHECK(contains(e.message, "'readonly'"));
    }
    SECTION("mode rw does not create; cannot-open errors name the path") {
        ilana_error e = connect_error({{"filename", path}, {"mode", "rw"}});
        CHECK(e.error_class == ILANA_ERR_CONNECTION);
        CHECK(contains(e.message, path));
        CHECK_FALSE(fs::exists(path));
        e = connect_error({{"filename", path}, {"create", "false"}});
        CHECK(e.error_class == ILANA_ERR_CONNECTION);
        CHECK_FALSE(fs::exists(path));
        e = connect_error({{"filename", dir.file("no/such/dir/x.db")}});
        CHECK(e.error_class == ILANA_ERR_CONNECTION);
        CHECK(contains(e.message, dir.file("no/such/dir/x.db")));
    }
    SECTION("a file that is not a database is a CONNECTION error") {
        std::ofstream(path) << "this is not an SQLite database, just some text that is long enough "
                               "to have a header of one hundred bytes, which SQLite reads first.";
        ilana_error e = connect_error({{"filename", path}});
        CHECK(e.error_class == ILANA_ERR_CONNECTION);
        CHECK(contains(e.message, path));
        CHECK(e.native_code == 26); // SQLITE_NOTADB
    }
    SECTION("read-only connections cannot write") {
        { Conn c(path); c.query("CREATE TABLE t (x)"); }
        for (const Conn::Params &ps : {Conn::Params{{"filename", path}, {"mode", "ro"}},
                                       Conn::Params{{"filename", path}, {"readonly", "true"}}}) {
            Conn ro(ps);
            CHECK(ro.scalar_int("SELECT count(*) FROM t") == 0);
            ilana_error e = ro.fail("INSERT INTO t VALUES (1)");
            CHECK(e.error_class == ILANA_ERR_PERMISSION);
            CHECK((e.native_code & 0xff) == 8); // SQLITE_READONLY
        }
    }
    SECTION("pragmas from parameters") {
        Conn def(path);
        CHECK(def.scalar_int("PRAGMA foreign_keys") == 1); // on by default
        CHECK(def.scalar_int("PRAGMA busy_timeout") == 5000);
        Conn c(Conn::Params{{"filename", path},
                            {"foreign_keys", "false"},
                            {"journal_mode", "WAL"},
                            {"synchronous", "normal"},
                            {"busy_timeout", "1234"},
                            {"connect_timeout", "2"}});
        CHECK(c.scalar_int("PRAGMA foreign_keys") == 0);
        CHECK(c.scalar_text("PRAGMA journal_mode") == "wal");
        CHECK(c.scalar_int("PRAGMA synchronous") == 1);
        CHECK(c.scalar_int("PRAGMA busy_timeout") == 1234);
    }
}

TEST_CASE("sqlite: every parameter type round-trips", "[sqlite]") {
    Conn c(":memory:");
    // No declared type: no affinity, values are stored exactly as bound.
    c.query("CREATE TABLE vals (id INTEGER PRIMARY KEY, v)");

    const std::string unicode = "h\xC3\xA9llo w\xC3\xB6rld \xE2\x9C\x93 \xF0\x9D\x84\x9E \xE6\x97\xA5\xE6\x9C\xAC";
    const std::string empty;
    const std::string blob("\x00\x01\x00\xFF\x00", 5);
    const std::string decimal = "-12.3400";
    const std::string uuid = "123e4567-e89b-12d3-a456-426614174000";
    const std::string json = R"({"a":[1,2,null],"b":"x"})";

    struct Case {
        ilana_value in;
        ilana_type out_type;
        bool out_null;
        int64_t i;
        double d;
        std::string s;
    };
    // The ABI allows ptr = NULL when len = 0: still an empty value, not NULL.
    ilana_value null_ptr_text = text(empty), null_ptr_blob = str_value(ILANA_TYPE_BLOB, empty);
    null_ptr_text.v.str.ptr = nullptr;
    null_ptr_blob.v.str.ptr = nullptr;
    const int64_t kMax = std::numeric_limits<int64_t>::max();
    const int64_t kMin = std::numeric_limits<int64_t>::min();
    std::vector<Case> cases = {
        {null_value(), ILANA_TYPE_NULL, true, 0, 0, ""},
        {null_value(ILANA_TYPE_INT64), ILANA_TYPE_NULL, true, 0, 0, ""},
        {null_value(ILANA_TYPE_TEXT), ILANA_TYPE_NULL, true, 0, 0, ""},
        {int_value(ILANA_TYPE_BOOL, 1), ILANA_TYPE_INT64, false, 1, 0, ""},
        {int_value(ILANA_TYPE_BOOL, 0), ILANA_TYPE_INT64, false, 0, 0, ""},
        {int_value(ILANA_TYPE_BOOL, 7), ILANA_TYPE_INT64, false, 1, 0, ""},
        {i64(kMax), ILANA_TYPE_INT64, false, kMax, 0, ""},
        {i64(kMin), ILANA_TYPE_INT64, false, kMin, 0, ""},
        {i64(0), ILANA_TYPE_INT64, false, 0, 0, ""},
        {i64(-1), ILANA_TYPE_INT64, false, -1, 0, ""},
        {u64(42), ILANA_TYPE_INT64, false, 42, 0, ""},
        {u64(static_cast<uint64_t>(kMax)), ILANA_TYPE_INT64, false, kMax, 0, ""},
        {u64(std::numeric_limits<uint64_t>::max()), ILANA_TYPE_TEXT, false, 0, 0, "18446744073709551615"},
        {f64(3.5), ILANA_TYPE_DOUBLE, false, 0, 3.5, ""},
        {f64(-0.1), ILANA_TYPE_DOUBLE, false, 0, -0.1, ""},
        {f64(1.7976931348623157e308), ILANA_TYPE_DOUBLE, false, 0, 1.7976931348623157e308, ""},
        {f64(4.9406564584124654e-324), ILANA_TYPE_DOUBLE, false, 0, 4.9406564584124654e-324, ""},
        {text(unicode), ILANA_TYPE_TEXT, false, 0, 0, unicode},
        {text(empty), ILANA_TYPE_TEXT, false, 0, 0, ""}, // empty is not NULL
        {str_value(ILANA_TYPE_BLOB, blob), ILANA_TYPE_BLOB, false, 0, 0, blob},
        {str_value(ILANA_TYPE_BLOB, empty), ILANA_TYPE_BLOB, false, 0, 0, ""},
        {null_ptr_text, ILANA_TYPE_TEXT, false, 0, 0, ""},
        {null_ptr_blob, ILANA_TYPE_BLOB, false, 0, 0, ""},
        {str_value(ILANA_TYPE_DECIMAL, decimal), ILANA_TYPE_TEXT, false, 0, 0, decimal},
        {str_value(ILANA_TYPE_UUID, uuid), ILANA_TYPE_TEXT, false, 0, 0, uuid},
        {str_value(ILANA_TYPE_JSON, json), ILANA_TYPE_TEXT, false, 0, 0, json},
        {int_value(ILANA_TYPE_DATE, days(2024, 2, 29)), ILANA_TYPE_TEXT, false, 0, 0, "2024-02-29"},
        {int_value(ILANA_TYPE_DATE, -1), ILANA_TYPE_TEXT, false, 0, 0, "1969-12-31"},
        {int_value(ILANA_TYPE_DATE, days(1, 1, 1)), ILANA_TYPE_TEXT, false, 0, 0, "0001-01-01"},
        {int_value(ILANA_TYPE_TIME, ((13 * 60 + 45) * 60 + 30) * 1000000LL + 123456), ILANA_TYPE_TEXT,
         false, 0, 0, "13:45:30.123456"},
        {int_value(ILANA_TYPE_TIME, 0), ILANA_TYPE_TEXT, false, 0, 0, "00:00:00"},
        {int_value(ILANA_TYPE_TIME, 86400LL * 1000000 - 1), ILANA_TYPE_TEXT, false, 0, 0, "23:59:59.999999"},
        {int_value(ILANA_TYPE_TIMESTAMP, micros(2024, 2, 29, 13, 45, 30)), ILANA_TYPE_TEXT, false, 0, 0,
         "2024-02-29 13:45:30"},
        {int_value(ILANA_TYPE_TIMESTAMP, micros(2024, 2, 29, 13, 45, 30, 500000)), ILANA_TYPE_TEXT,
         false, 0, 0, "2024-02-29 13:45:30.500000"},
        {int_value(ILANA_TYPE_TIMESTAMP, -1), ILANA_TYPE_TEXT, false, 0, 0, "1969-12-31 23:59:59.999999"},
        {int_value(ILANA_TYPE_TIMESTAMPTZ, micros(2024, 2, 29, 13, 45, 30)), ILANA_TYPE_TEXT, false, 0,
         0, "2024-02-29T13:45:30.000000Z"},
        {int_value(ILANA_TYPE_TIMESTAMPTZ, micros(1999, 12, 31, 23, 59, 59, 7)), ILANA_TYPE_TEXT, false,
         0, 0, "1999-12-31T23:59:59.000007Z"},
    };

    for (std::size_t i = 0; i < cases.size(); ++i)
        c.query("INSERT INTO vals (id, v) VALUES (?, ?)", {i64(static_cast<int64_t>(i)), cases[i].in},
                ILANA_EXEC_CACHE);

    Rows r = c.query("SELECT v FROM vals ORDER BY id");
    REQUIRE(r.columns.size() == 1);
    CHECK(r.columns[0].type == ILANA_TYPE_ANY);
    CHECK(r.columns[0].native_type.empty()); // no declared type
    REQUIRE(r.rows.size() == cases.size());
    for (std::size_t i = 0; i < cases.size(); ++i) {
        INFO("case " << i);
        const Case &k = cases[i];
        const Cell &cell = r.rows[i][0];
        CHECK(cell.null == k.out_null);
        CHECK(cell.type == k.out_type);
        if (k.out_null) continue;
        if (k.out_type == ILANA_TYPE_INT64) CHECK(cell.i == k.i);
        if (k.out_type == ILANA_TYPE_DOUBLE) CHECK(cell.d == k.d);
        if (k.out_type == ILANA_TYPE_TEXT || k.out_type == ILANA_TYPE_BLOB) CHECK(cell.s == k.s);
    }

    // The same straight through SELECT ? (no table in between).
    for (std::size_t i = 0; i < cases.size(); ++i) {
        INFO("case " << i);
        Rows one = c.query("SELECT ?", {cases[i].in});
        REQUIRE(one.rows.size() == 1);
        CHECK(one.rows[0][0].type == cases[i].out_type);
        if (cases[i].out_type == ILANA_TYPE_TEXT || cases[i].out_type == ILANA_TYPE_BLOB)
            CHECK(one.rows[0][0].s == cases[i].s);
    }

    // A megabyte blob full of zero bytes.
    std::string big(1 << 20, '\0');
    for (std::size_t i = 0; i < big.size(); i += 4096) big[i] = static_cast<char>(i / 4096);
    Rows b = c.query("SELECT ?", {str_value(ILANA_TYPE_BLOB, big)});
    CHECK(b.rows[0][0].type == ILANA_TYPE_BLOB);
    CHECK(b.rows[0][0].s == big);

    // The text forms are the ones SQLite's date functions read.
    CHECK(c.scalar_text("SELECT datetime(?)", {int_value(ILANA_TYPE_TIMESTAMPTZ, micros(2024, 2, 29, 13, 45, 30, 250000))}) ==
          "2024-02-29 13:45:30");
    CHECK(c.scalar_text("SELECT date(?, '+1 day')", {int_value(ILANA_TYPE_DATE, days(2024, 2, 29))}) ==
          "2024-03-01");
    CHECK(c.scalar_text("SELECT time(?)", {int_value(ILANA_TYPE_TIME, 3600LL * 1000000 + 5)}) == "01:00:00");
    // TIMESTAMPTZ text sorts in time order (fixed width).
    CHECK(c.scalar_int("SELECT ? < ?", {int_value(ILANA_TYPE_TIMESTAMPTZ, micros(2024, 1, 1, 0, 0, 0)),
                                        int_value(ILANA_TYPE_TIMESTAMPTZ, micros(2024, 1, 1, 0, 0, 0, 1))}) == 1);
}

TEST_CASE("sqlite: bad parameters are DATA / SYNTAX errors", "[sqlite]") {
    Conn c(":memory:");
    ilana_error e = c.fail("SELECT ?", {int_value(ILANA_TYPE_TIME, -1)});
    CHECK(e.error_class == ILANA_ERR_DATA);
    CHECK(contains(e.message, "parameter 1"));
    e = c.fail("SELECT ?", {int_value(ILANA_TYPE_TIME, 86400LL * 1000000)});
    CHECK(e.error_class == ILANA_ERR_DATA);
    e = c.fail("SELECT ?, ?", {i64(1), int_value(99, 0)});
    CHECK(e.error_class == ILANA_ERR_DATA);
    CHECK(contains(e.message, "parameter 2"));
    e = c.fail("SELECT ?", {int_value(ILANA_TYPE_ANY, 0)});
    CHECK(e.error_class == ILANA_ERR_DATA);
    // Placeholder count mismatch, both ways.
    e = c.fail("SELECT ?, ?", {i64(1)});
    CHECK(e.error_class == ILANA_ERR_SYNTAX);
    CHECK(std::string(e.sqlstate) == "07001");
    CHECK((e.flags & ILANA_ERRF_NOT_SENT) != 0);
    e = c.fail("SELECT 1", {i64(1)});
    CHECK(e.error_class == ILANA_ERR_SYNTAX);
    // The connection is fine afterwards.
    CHECK(c.scalar_int("SELECT 1") == 1);
}

TEST_CASE("sqlite: injection-looking values are stored verbatim", "[sqlite]") {
    Conn c(":memory:");
    c.query("CREATE TABLE students (name TEXT NOT NULL)");
    const std::vector<std::string> nasty = {
        "Robert'); DROP TABLE students;--",
        "' OR '1'='1",
        "\"; DELETE FROM students; --",
        "?; SELECT ?",
        "/* comment */ x -- y",
        "\\' \\\" %_",
    };
    for (const std::string &s : nasty) c.query("INSERT INTO students (name) VALUES (?)", {text(s)});
    Rows r = c.query("SELECT name FROM students ORDER BY rowid");
    REQUIRE(r.rows.size() == nasty.size());
    for (std::size_t i = 0; i < nasty.size(); ++i) CHECK(r.rows[i][0].s == nasty[i]);
    CHECK(c.scalar_int("SELECT count(*) FROM students WHERE name = ?", {text(nasty[1])}) == 1);
    CHECK(c.scalar_int("SELECT count(*) FROM sqlite_master WHERE name = 'students'") == 1);
}

TEST_CASE("sqlite: 100 000 rows stream in batches", "[sqlite]") {
    TempDir dir;
    Conn c(dir.file("big.db"));
    c.query("CREATE TABLE big (id INTEGER PRIMARY KEY, name TEXT NOT NULL, payload BLOB)");
    constexpr int64_t kRows = 100000;
    c.begin();
    for (int64_t i = 1; i <= kRows; ++i) {
        const std::string name = "row-" + std::to_string(i);
        const std::string payload(static_cast<std::size_t>(i % 17), static_cast<char>(i % 251));
        c.query("INSERT INTO big (id, name, payload) VALUES (?, ?, ?)",
                {i64(i), text(name), str_value(ILANA_TYPE_BLOB, payload)}, ILANA_EXEC_CACHE);
    }
    c.commit();

    // Fetch by hand to check every cell of a batch is valid at once (the
    // arena must not have moved under earlier cells of the same batch).
    const std::string sql = "SELECT id, name, payload FROM big ORDER BY id";
    const ilana_statement st = make_statement(sql);
    ilana_result *r = nullptr;
    ilana_error err = new_error();
    REQUIRE(api().execute(c.get(), &st, &r, &err) == ILANA_OK);
    ilana_result_info info = new_result_info();
    api().result_info(r, &info);
    CHECK(info.column_count == 3);
    CHECK(info.affected_rows == -1);
    int64_t total = 0, sum = 0, expected_id = 1, batches = 0, bad_cells = 0;
    ilana_status status = ILANA_OK;
    while (status == ILANA_OK) {
        ilana_batch b = new_batch(1000);
        status = api().fetch(r, &b, &err);
        REQUIRE((status == ILANA_OK || status == ILANA_DONE));
        REQUIRE(b.row_count <= 1000);
        REQUIRE(b.column_count == 3);
        ++batches;
        // Checked after the whole batch is out (no assertion per cell: 100 000 rows).
        for (uint32_t row = 0; row < b.row_count; ++row) {
            const ilana_value *cells = b.cells + row * 3;
            const int64_t id = cells[0].v.i64;
            bool ok = cells[0].type == ILANA_TYPE_INT64 && id == expected_id &&
                      cells[1].type == ILANA_TYPE_TEXT &&
                      std::string(cells[1].v.str.ptr, cells[1].v.str.len) == "row-" + std::to_string(id) &&
                      cells[2].type == ILANA_TYPE_BLOB &&
                      cells[2].v.str.len == static_cast<uint64_t>(id % 17);
            for (uint64_t k = 0; ok && k < cells[2].v.str.len; ++k)
                ok = cells[2].v.str.ptr[k] == static_cast<char>(id % 251);
            if (!ok) ++bad_cells;
            ++expected_id;
            sum += id;
            ++total;
        }
    }
    api().result_close(r);
    CHECK(status == ILANA_DONE);
    CHECK(bad_cells == 0);
    CHECK(total == kRows);
    CHECK(sum == kRows * (kRows + 1) / 2);
    CHECK(batches == kRows / 1000); // the last full batch already says DONE

    // A generated series, no table: the same totals.
    Rows gen = c.query("WITH RECURSIVE s(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM s WHERE x < 100000) "
                       "SELECT x FROM s",
                       {}, 0, 4096);
    int64_t gsum = 0;
    for (const auto &row : gen.rows) gsum += row[0].i;
    CHECK(gen.rows.size() == 100000);
    CHECK(gsum == 5000050000LL);
    CHECK(gen.batches == (100000 + 4095) / 4096);
}

TEST_CASE("sqlite: large values end a batch early", "[sqlite]") {
    Conn c(":memory:");
    // 20 blobs of 1 MiB asked for 100 at a time: batches stay bounded in
    // memory (8 MiB per batch), the rows all arrive, intact.
    Rows r = c.query("WITH RECURSIVE s(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM s WHERE x < 20) "
                     "SELECT x, zeroblob(1048576) || x FROM s",
                     {}, 0, 100);
    REQUIRE(r.rows.size() == 20);
    CHECK(r.batches == 3);
    for (std::size_t i = 0; i < r.rows.size(); ++i) {
        const std::string &b = r.rows[i][1].s;
        REQUIRE(b.size() == 1048576 + std::to_string(i + 1).size());
        CHECK(b.substr(1048576) == std::to_string(i + 1));
        CHECK(b.find_first_not_of('\0') == 1048576);
    }
}

TEST_CASE("sqlite: closing a connection under an open result does not crash", "[sqlite]") {
    ilana_error e = new_error();
    ilana_conn *conn = nullptr;
    REQUIRE(Conn::try_connect({{"filename", ":memory:"}}, &conn, e) == ILANA_OK);
    const std::string sql = "SELECT 1 UNION ALL SELECT 2";
    const ilana_statement st = make_statement(sql);
    ilana_result *r = nullptr;
    REQUIRE(api().execute(conn, &st, &r, &e) == ILANA_OK);
    {
        std::lock_guard<std::mutex> lock(g_log_mu);
        g_logs.clear();
    }
    api().close(conn); // host contract violation: the result is detached
    {
        std::lock_guard<std::mutex> lock(g_log_mu);
        bool warned = false;
        for (const auto &l : g_logs)
            if (l.level == ILANA_LOG_WARN && contains(l.message, "result still open")) warned = true;
        CHECK(warned);
    }
    ilana_batch b = new_batch(10);
    CHECK(api().fetch(r, &b, &e) != ILANA_OK); // nothing more to read, no crash
    CHECK(b.row_count == 0);
    api().result_close(r);
}

TEST_CASE("sqlite: transactions commit and roll back (DDL too)", "[sqlite]") {
    TempDir dir;
    Conn c(dir.file("tx.db"));
    c.query("CREATE TABLE t (x INTEGER)");

    c.begin();
    c.query("INSERT INTO t VALUES (1)");
    c.rollback();
    CHECK(c.scalar_int("SELECT count(*) FROM t") == 0);

    c.begin();
    c.query("INSERT INTO t VALUES (2)");
    c.commit();
    CHECK(c.scalar_int("SELECT count(*) FROM t") == 1);
    {
        Conn other(dir.file("tx.db")); // committed means visible elsewhere
        CHECK(other.scalar_int("SELECT x FROM t") == 2);
    }

    c.begin();
    c.query("CREATE TABLE ddl (y)");
    c.query("INSERT INTO ddl VALUES (1)");
    c.rollback();
    CHECK(c.scalar_int("SELECT count(*) FROM sqlite_master WHERE name = 'ddl'") == 0);

    // Misuse: BEGIN twice, COMMIT without a transaction.
    ilana_error e = new_error();
    c.begin();
    CHECK(c.begin(e) == ILANA_ERROR);
    CHECK(e.error_class == ILANA_ERR_INTERNAL);
    c.rollback();
    CHECK(c.commit(e) == ILANA_ERROR);
    CHECK(contains(e.message, "no transaction"));
    CHECK(c.rollback(e) == ILANA_OK); // nothing to roll back is fine

    // SQLite rolls the transaction back itself on ON CONFLICT ROLLBACK: the
    // error says so, and rollback() is then a no-op.
    c.query("CREATE TABLE u (k INTEGER PRIMARY KEY)");
    c.query("INSERT INTO u VALUES (1)");
    c.begin();
    c.query("INSERT INTO t VALUES (3)");
    e = c.fail("INSERT OR ROLLBACK INTO u VALUES (1)");
    CHECK(e.error_class == ILANA_ERR_CONSTRAINT);
    CHECK((e.flags & ILANA_ERRF_TXN_ABORTED) != 0);
    c.rollback();
    CHECK(c.scalar_int("SELECT count(*) FROM t WHERE x = 3") == 0);
}

TEST_CASE("sqlite: affected rows and last insert id", "[sqlite]") {
    Conn c(":memory:");
    Rows r = c.query("CREATE TABLE t (id INTEGER PRIMARY KEY, x INTEGER)");
    CHECK(r.affected_rows == 0);
    CHECK(r.columns.empty());
    r = c.query("INSERT INTO t (x) VALUES (10), (20), (30)");
    CHECK(r.affected_rows == 3);
    CHECK(r.last_insert_id == 3);
    r = c.query("INSERT INTO t (id, x) VALUES (100, 40)");
    CHECK(r.affected_rows == 1);
    CHECK(r.last_insert_id == 100);
    r = c.query("UPDATE t SET x = x + 1 WHERE x >= 20");
    CHECK(r.affected_rows == 3);
    CHECK(r.last_insert_id == 0); // not an insert
    // DDL right after DML reports 0, not the previous statement's count.
    r = c.query("CREATE TABLE t2 (y)");
    CHECK(r.affected_rows == 0);
    r = c.query("UPDATE t SET x = 0 WHERE id = -5");
    CHECK(r.affected_rows == 0);
    r = c.query("SELECT * FROM t");
    CHECK(r.affected_rows == -1);
    CHECK(r.last_insert_id == 0);
    r = c.query("CREATE INDEX t_x ON t (x)");
    CHECK(r.affected_rows == 0);
    // The connection's own last_insert_rowid() is not disturbed by UPDATEs.
    CHECK(c.scalar_int("SELECT last_insert_rowid()") == 100);
    r = c.query("DELETE FROM t WHERE id < 3");
    CHECK(r.affected_rows == 2);
    CHECK(r.last_insert_id == 0);

    // RETURNING: rows, then the counts once the last row is read.
    r = c.query("INSERT INTO t (x) VALUES (7), (8) RETURNING id, x");
    REQUIRE(r.rows.size() == 2);
    CHECK(r.rows[0][0].i == 101);
    CHECK(r.rows[1][1].i == 8);
    CHECK(r.affected_rows == 2);
    CHECK(r.last_insert_id != 0);
}

TEST_CASE("sqlite: errors are classified", "[sqlite]") {
    Conn c(":memory:");
    c.query("CREATE TABLE users (id INTEGER PRIMARY KEY, email TEXT NOT NULL UNIQUE, age INTEGER CHECK (age >= 0))");
    c.query("CREATE TABLE posts (id INTEGER PRIMARY KEY, user_id INTEGER NOT NULL REFERENCES users (id))");
    c.query("INSERT INTO users (id, email, age) VALUES (1, 'a@example.com', 30)");

    SECTION("syntax errors carry the message and where in the SQL, not the SQL itself") {
        ilana_error e = c.fail("SELEC id FROM users");
        CHECK(e.error_class == ILANA_ERR_SYNTAX);
        CHECK(std::string(e.sqlstate) == "42000");
        CHECK(e.native_code == 1);
        CHECK(contains(e.message, "syntax error"));
        CHECK_FALSE(contains(e.message, "id FROM users")); // the host shows the statement (Error::sql())
        CHECK((e.flags & ILANA_ERRF_NOT_SENT) != 0);
        e = c.fail("SELECT * FROM no_such_table");
        CHECK(e.error_class == ILANA_ERR_SYNTAX);
        CHECK(contains(e.message, "no such table: no_such_table"));
        e = c.fail("SELECT nope FROM users");
        CHECK(e.error_class == ILANA_ERR_SYNTAX);
        CHECK(contains(e.message, "no such column: nope"));
        // Long SQL is cut in the message.
        const std::string longsql = "SELECT " + std::string(2000, 'x') + " FROM";
        e = c.fail(longsql);
        CHECK(e.error_class == ILANA_ERR_SYNTAX);
        CHECK(std::strlen(e.message) < 600);
    }
    SECTION("constraints get their SQLSTATE") {
        ilana_error e = c.fail("INSERT INTO users (email, age) VALUES ('a@example.com', 1)");
        CHECK(e.error_class == ILANA_ERR_CONSTRAINT);
        CHECK(std::string(e.sqlstate) == "23505");
        CHECK(e.native_code == 2067); // SQLITE_CONSTRAINT_UNIQUE
        CHECK(contains(e.message, "UNIQUE constraint failed: users.email"));
        e = c.fail("INSERT INTO users (id, email) VALUES (1, 'b@example.com')");
        CHECK(std::string(e.sqlstate) == "23505");
        e = c.fail("INSERT INTO users (email) VALUES (NULL)");
        CHECK(e.error_class == ILANA_ERR_CONSTRAINT);
        CHECK(std::string(e.sqlstate) == "23502");
        e = c.fail("INSERT INTO users (email, age) VALUES ('c@example.com', -1)");
        CHECK(e.error_class == ILANA_ERR_CONSTRAINT);
        CHECK(std::string(e.sqlstate) == "23514");
        CHECK(e.constraint_name[0] == '\0'); // an unnamed CHECK shows its expression, not a name
        c.query("CREATE TABLE stock (qty INTEGER CONSTRAINT qty_positive CHECK (qty > 0))");
        e = c.fail("INSERT INTO stock (qty) VALUES (0)");
        CHECK(std::string(e.sqlstate) == "23514");
        CHECK(std::string(e.constraint_name) == "qty_positive"); // ABI 1.3
        e = c.fail("INSERT INTO posts (user_id) VALUES (999)"); // foreign_keys is on by default
        CHECK(e.error_class == ILANA_ERR_CONSTRAINT);
        CHECK(std::string(e.sqlstate) == "23503");
        // The bound value never appears in the message.
        const std::string secret = "secret-value@example.com";
        c.query("INSERT INTO users (email) VALUES (?)", {text(secret)});
        e = c.fail("INSERT INTO users (email) VALUES (?)", {text(secret)});
        CHECK_FALSE(contains(e.message, secret));
    }
    SECTION("one statement per execute") {
        ilana_error e = c.fail("INSERT INTO users (email) VALUES ('x@example.com'); DROP TABLE posts");
        CHECK(e.error_class == ILANA_ERR_SYNTAX);
        CHECK(contains(e.message, "one statement per execute"));
        CHECK(c.scalar_int("SELECT count(*) FROM users WHERE email = 'x@example.com'") == 0);
        CHECK(c.scalar_int("SELECT count(*) FROM sqlite_master WHERE name = 'posts'") == 1);
        // Trailing semicolons, blanks and comments are not a second statement.
        CHECK(c.scalar_int("SELECT 5; ;\n -- done\n /* really */ ") == 5);
        // Nothing but a comment: an empty result.
        Rows r = c.query("-- nothing to do");
        CHECK(r.columns.empty());
        CHECK(r.rows.empty());
    }
    SECTION("run-time errors are DATA and can come in a later batch") {
        ilana_error e = c.fail("SELECT json('{not json')");
        CHECK(e.error_class == ILANA_ERR_DATA);
        Outcome o = c.run("WITH RECURSIVE s(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM s WHERE x < 3000) "
                          "SELECT json(CASE WHEN x = 1500 THEN '{bad' ELSE x END) FROM s",
                          {}, 0, 1000);
        CHECK(o.status == ILANA_ERROR);
        CHECK(o.failed_in_fetch);
        CHECK(o.err.error_class == ILANA_ERR_DATA);
        CHECK(o.rows.rows.size() == 1499); // every row before the failing one was delivered
    }
    SECTION("executing while a result is open is INTERNAL") {
        const std::string sql = "SELECT 1 UNION ALL SELECT 2";
        const ilana_statement st = make_statement(sql);
        ilana_result *r = nullptr;
        ilana_error e = new_error();
        REQUIRE(api().execute(c.get(), &st, &r, &e) == ILANA_OK);
        ilana_result *r2 = reinterpret_cast<ilana_result *>(0x1);
        CHECK(api().execute(c.get(), &st, &r2, &e) == ILANA_ERROR);
        CHECK(r2 == nullptr);
        CHECK(e.error_class == ILANA_ERR_INTERNAL);
        e = new_error();
        CHECK(api().begin(c.get(), &e) == ILANA_ERROR);
        CHECK(e.error_class == ILANA_ERR_INTERNAL);
        api().result_close(r); // unread rows discarded
        CHECK(c.scalar_int("SELECT 3") == 3);
    }
    api().result_close(nullptr); // no-op
    api().close(nullptr);        // no-op
}

TEST_CASE("sqlite: a busy database is TRANSIENT", "[sqlite]") {
    TempDir dir;
    const std::string path = dir.file("busy.db");
    Conn a(path);
    a.query("CREATE TABLE t (x)");
    Conn b(Conn::Params{{"filename", path}, {"busy_timeout", "50"}});
    a.begin();
    a.query("INSERT INTO t VALUES (1)"); // a now holds the write lock
    const auto t0 = std::chrono::steady_clock::now();
    ilana_error e = b.fail("INSERT INTO t VALUES (2)");
    const auto waited = std::chrono::steady_clock::now() - t0;
    CHECK(e.error_class == ILANA_ERR_TRANSIENT);
    CHECK((e.native_code & 0xff) == 5); // SQLITE_BUSY
    CHECK((e.flags & ILANA_ERRF_NOT_SENT) != 0); // autocommit: nothing happened, safe to retry
    CHECK((e.flags & ILANA_ERRF_CONN_BROKEN) == 0);
    CHECK(contains(e.message, "locked"));
    CHECK(waited >= std::chrono::milliseconds(40)); // busy_timeout was honoured...
    CHECK(waited < std::chrono::seconds(3));         // ...and not the 5 s default
    a.commit();
    b.query("INSERT INTO t VALUES (2)"); // the retry works
    CHECK(b.scalar_int("SELECT count(*) FROM t") == 2);
}

TEST_CASE("sqlite: cancel stops a running statement from another thread", "[sqlite]") {
    Conn c(":memory:");
    ilana_error e = new_error();
    CHECK(api().cancel(c.get(), &e) == ILANA_OK); // nothing running: fine, and no effect
    CHECK(c.scalar_int("SELECT 1") == 1);

    std::atomic<bool> finished{false};
    std::thread canceller([&] {
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
        // Repeat: a cancel that lands before the statement starts is a no-op.
        while (!finished.load()) {
            ilana_error ce = new_error();
            api().cancel(c.get(), &ce);
            std::this_thread::sleep_for(std::chrono::milliseconds(20));
        }
    });
    const auto t0 = std::chrono::steady_clock::now();
    // Bounded (about a minute of work), so a broken cancel fails the test
    // instead of hanging it.
    Outcome o = c.run("WITH RECURSIVE s(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM s WHERE x < 100000000) "
                      "SELECT count(*) FROM s");
    finished = true;
    canceller.join();
    CHECK(o.status == ILANA_ERROR);
    CHECK(o.err.error_class == ILANA_ERR_CANCELED);
    CHECK(std::string(o.err.sqlstate) == "57014");
    CHECK(std::chrono::steady_clock::now() - t0 < std::chrono::seconds(10));
    CHECK(c.scalar_int("SELECT 2") == 2); // still usable

    // Between fetches of an open result: the next fetch is canceled.
    const std::string sql =
        "WITH RECURSIVE s(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM s WHERE x < 1000000) SELECT x FROM s";
    const ilana_statement st = make_statement(sql);
    ilana_result *r = nullptr;
    REQUIRE(api().execute(c.get(), &st, &r, &e) == ILANA_OK);
    ilana_batch b = new_batch(10);
    REQUIRE(api().fetch(r, &b, &e) == ILANA_OK);
    REQUIRE(b.row_count == 10);
    REQUIRE(api().cancel(c.get(), &e) == ILANA_OK);
    // The row already stepped to may still come; then the cancel shows.
    ilana_status st2 = ILANA_OK;
    uint32_t extra_rows = 0;
    for (int i = 0; i < 3 && st2 == ILANA_OK; ++i) {
        st2 = api().fetch(r, &b, &e);
        if (st2 == ILANA_OK) extra_rows += b.row_count;
    }
    CHECK(st2 == ILANA_ERROR);
    CHECK(e.error_class == ILANA_ERR_CANCELED);
    CHECK(extra_rows <= 1);
    api().result_close(r);
    CHECK(c.scalar_int("SELECT 3") == 3);
}

TEST_CASE("sqlite: statement cache", "[sqlite]") {
    Conn c(":memory:");
    for (int64_t i = 0; i < 200; ++i)
        CHECK(c.scalar_int("SELECT ? * 2", {i64(i)}, ILANA_EXEC_CACHE) == i * 2);
    // More distinct statements than the cache holds.
    for (int64_t i = 0; i < 150; ++i)
        CHECK(c.scalar_int("SELECT " + std::to_string(i) + " + ?", {i64(1)}, ILANA_EXEC_CACHE) == i + 1);
    CHECK(c.scalar_int("SELECT ? * 2", {i64(21)}, ILANA_EXEC_CACHE) == 42);

    // A cached statement follows schema changes.
    c.query("CREATE TABLE t (a)");
    c.query("INSERT INTO t VALUES (1)");
    Rows r = c.query("SELECT * FROM t", {}, ILANA_EXEC_CACHE);
    CHECK(r.columns.size() == 1);
    c.query("ALTER TABLE t ADD COLUMN b DEFAULT 'bee'");
    r = c.query("SELECT * FROM t", {}, ILANA_EXEC_CACHE);
    REQUIRE(r.columns.size() == 2);
    CHECK(r.columns[1].name == "b");
    CHECK(r.rows[0][1].s == "bee");
    // Bindings never leak from one use into the next.
    CHECK(c.fail("SELECT ? * 2", {}).error_class == ILANA_ERR_SYNTAX);
    // An error mid-way leaves the cached statement reusable.
    c.query("CREATE TABLE u (k INTEGER PRIMARY KEY)");
    c.query("INSERT INTO u VALUES (?)", {i64(1)}, ILANA_EXEC_CACHE);
    CHECK(c.run("INSERT INTO u VALUES (?)", {i64(1)}, ILANA_EXEC_CACHE).err.error_class == ILANA_ERR_CONSTRAINT);
    c.query("INSERT INTO u VALUES (?)", {i64(2)}, ILANA_EXEC_CACHE);
    CHECK(c.scalar_int("SELECT count(*) FROM u") == 2);
}

TEST_CASE("sqlite: a cached statement sees only the parameters of its own run", "[sqlite]") {
    // Bindings of numbers stay on a cached statement between runs (only
    // bytes are cleared when a run ends): every run must still see exactly
    // the values it was given, of whatever type.
    Conn c(":memory:");
    const std::string sql = "SELECT ?1, typeof(?1), ?2";
    auto run_cached = [&](std::vector<ilana_value> params) { return c.query(sql, params, ILANA_EXEC_CACHE); };
    Rows r = run_cached({text("abc"), i64(1)});
    CHECK(r.rows[0][0].s == "abc");
    CHECK(r.rows[0][1].s == "text");
    r = run_cached({i64(7), i64(2)});
    CHECK(r.rows[0][0].i == 7);
    CHECK(r.rows[0][1].s == "integer");
    CHECK(r.rows[0][2].i == 2);
    r = run_cached({null_value(), text("two")});
    CHECK(r.rows[0][0].type == ILANA_TYPE_NULL);
    CHECK(r.rows[0][1].s == "null");
    CHECK(r.rows[0][2].s == "two");
    // A run that fails while binding (the second value has no SQL type)
    // after its first value was bound as text leaves nothing behind.
    ilana_value bad{};
    bad.type = static_cast<ilana_type>(999);
    const std::string left_over = "left over?"; // text() points into it
    const std::vector<ilana_value> params = {text(left_over), bad};
    const ilana_statement st = make_statement(sql, params, ILANA_EXEC_CACHE);
    ilana_result *res = nullptr;
    ilana_error err{};
    err.struct_size = sizeof err;
    REQUIRE(api().execute(c.get(), &st, &res, &err) == ILANA_ERROR);
    CHECK(err.error_class == ILANA_ERR_DATA);
    r = run_cached({i64(3), i64(4)});
    CHECK(r.rows[0][0].i == 3);
    CHECK(r.rows[0][2].i == 4);
}

TEST_CASE("sqlite: a cached statement run twice in a row sees another connection's schema change",
          "[sqlite]") {
    // The driver skips describing the columns when the same cached
    // statement runs again, and then reports the same columns_id (ABI 1.1)
    // so the host skips reading them too; a schema change in between (here
    // by another connection, so nothing else runs on this one) must show
    // new columns under a new id.
    TempDir dir;
    Conn a(dir.file("shared.db")), b(dir.file("shared.db"));
    a.query("CREATE TABLE t (x)");
    a.query("INSERT INTO t VALUES (1)");
    uint64_t first_id = 0;
    for (int round = 0; round < 2; ++round) {
        Rows r = a.query("SELECT * FROM t", {}, ILANA_EXEC_CACHE);
        REQUIRE(r.columns.size() == 1);
        CHECK(r.columns[0].name == "x");
        CHECK(r.columns_id != 0);
        if (round == 0) first_id = r.columns_id;
        CHECK(r.columns_id == first_id);
    }
    b.query("ALTER TABLE t ADD COLUMN y DEFAULT 'why'");
    b.query("ALTER TABLE t RENAME COLUMN x TO z");
    Rows r = a.query("SELECT * FROM t", {}, ILANA_EXEC_CACHE);
    REQUIRE(r.columns.size() == 2);
    CHECK(r.columns[0].name == "z");
    CHECK(r.columns[1].name == "y");
    CHECK(r.rows[0][1].s == "why");
    CHECK(r.columns_id != 0);
    CHECK(r.columns_id != first_id);
}

TEST_CASE("sqlite: columns_id is never shared by two descriptions on a connection", "[sqlite]") {
    Conn c(":memory:");
    c.query("CREATE TABLE t (a INTEGER, b TEXT)");
    const uint64_t ab = c.query("SELECT a, b FROM t", {}, ILANA_EXEC_CACHE).columns_id;
    const uint64_t ba = c.query("SELECT b, a FROM t", {}, ILANA_EXEC_CACHE).columns_id;
    // (Another text: the cache would serve "SELECT a, b FROM t" even unasked.)
    const uint64_t uncached = c.query("SELECT a AS x FROM t").columns_id;
    const uint64_t uncached2 = c.query("SELECT a AS x FROM t").columns_id;
    CHECK(ab != 0);
    CHECK(ba != 0);
    CHECK(ab != ba);
    // An uncached statement is described each time: a new id each time.
    CHECK(uncached != ab);
    CHECK(uncached2 != uncached);
    // Back to the first cached statement: its columns again, under an id
    // no other description got in between.
    const uint64_t again = c.query("SELECT a, b FROM t", {}, ILANA_EXEC_CACHE).columns_id;
    CHECK(again != ba);
    CHECK(again != uncached2);
    // No row set: no description.
    CHECK(c.query("").columns_id == 0);
}

TEST_CASE("sqlite: result columns describe the statement", "[sqlite]") {
    Conn c(":memory:");
    c.query("CREATE TABLE typed (a INTEGER, b VARCHAR(10), c)");
    c.query("INSERT INTO typed VALUES (1, 'x', 2.5)");
    Rows r = c.query("SELECT a, b, c, a + 1 AS expr, NULL AS n FROM typed");
    REQUIRE(r.columns.size() == 5);
    const std::vector<std::string> names = {"a", "b", "c", "expr", "n"};
    const std::vector<std::string> natives = {"INTEGER", "VARCHAR(10)", "", "", ""};
    for (std::size_t i = 0; i < 5; ++i) {
        CHECK(r.columns[i].name == names[i]);
        CHECK(r.columns[i].native_type == natives[i]);
        CHECK(r.columns[i].type == ILANA_TYPE_ANY);
    }
    REQUIRE(r.rows.size() == 1);
    CHECK(r.rows[0][0].type == ILANA_TYPE_INT64);
    CHECK(r.rows[0][1].type == ILANA_TYPE_TEXT);
    CHECK(r.rows[0][2].type == ILANA_TYPE_DOUBLE);
    CHECK(r.rows[0][3].i == 2);
    CHECK(r.rows[0][4].null);
    CHECK(r.rows[0][4].type == ILANA_TYPE_NULL); // never ILANA_TYPE_ANY in a cell
    // No rows: columns still described.
    r = c.query("SELECT a, b FROM typed WHERE 0");
    CHECK(r.columns.size() == 2);
    CHECK(r.rows.empty());
    CHECK(r.batches == 1);
}

TEST_CASE("sqlite: introspection", "[sqlite]") {
    TempDir dir;
    Conn c(dir.file("schema.db"));
    c.query("CREATE TABLE users (id INTEGER PRIMARY KEY, email TEXT NOT NULL, nickname VARCHAR(40), "
            "score REAL DEFAULT 0, created_at TEXT DEFAULT CURRENT_TIMESTAMP)");
    c.query("CREATE UNIQUE INDEX users_email_idx ON users (email)");
    c.query("CREATE INDEX users_nick_score_idx ON users (nickname, score DESC)");
    c.query("CREATE TABLE memberships (user_id INTEGER NOT NULL REFERENCES users (id), "
            "group_name TEXT NOT NULL, PRIMARY KEY (group_name, user_id))");
    c.query("CREATE VIEW active_users AS SELECT id, email FROM users");
    c.query("ANALYZE"); // creates sqlite_stat1, an internal table not to be listed

    auto intro = plugin().extension<ilana_introspect_api>(ILANA_EXT_INTROSPECT);
    REQUIRE(intro != nullptr);

    // `r` by address: the call producing `st` fills it, and argument order is unspecified.
    auto collect = [&](ilana_status st, ilana_result **r, ilana_error &e) {
        INFO(e.message);
        REQUIRE(st == ILANA_OK);
        REQUIRE(*r != nullptr);
        Outcome o;
        drain(*r, o, 100);
        REQUIRE(o.status == ILANA_OK);
        return o.rows;
    };
    auto check_columns = [](const Rows &r, const std::vector<std::pair<std::string, ilana_type>> &want) {
        ilana_test::check_column_names_and_types(r.columns, want);
        for (const auto &row : r.rows)
            for (std::size_t i = 0; i < want.size(); ++i)
                if (!row[i].null) CHECK(row[i].type == want[i].second);
    };
    auto texts = [](const Rows &r, std::size_t col) {
        std::vector<std::string> out;
        for (const auto &row : r.rows) out.push_back(row[col].s);
        return out;
    };
    ilana_error e = new_error();
    ilana_result *res = nullptr;

    SECTION("tables") {
        Rows t = collect(intro->tables(c.get(), nullptr, &res, &e), &res, e);
        check_columns(t, ilana_test::introspect_tables_columns());
        REQUIRE(t.rows.size() == 3);
        CHECK(texts(t, 0) == std::vector<std::string>{"main", "main", "main"});
        CHECK(texts(t, 1) == std::vector<std::string>{"active_users", "memberships", "users"});
        CHECK(texts(t, 2) == std::vector<std::string>{"view", "table", "table"});
        // "main" by name gives the same.
        Rows t2 = collect(intro->tables(c.get(), "main", &res, &e), &res, e);
        CHECK(texts(t2, 1) == texts(t, 1));
        // An attached database by its name.
        c.query("ATTACH DATABASE ? AS aux", {text(dir.file("aux.db"))});
        c.query("CREATE TABLE aux.things (id INTEGER PRIMARY KEY)");
        Rows a = collect(intro->tables(c.get(), "aux", &res, &e), &res, e);
        REQUIRE(a.rows.size() == 1);
        CHECK(a.rows[0][0].s == "aux");
        CHECK(a.rows[0][1].s == "things");
        // An unknown schema is an error, not an empty list.
        res = reinterpret_cast<ilana_result *>(0x1);
        CHECK(intro->tables(c.get(), "nope", &res, &e) == ILANA_ERROR);
        CHECK(res == nullptr);
        CHECK(contains(e.message, "nope"));
    }
    SECTION("columns") {
        Rows cols = collect(intro->columns(c.get(), nullptr, "users", &res, &e), &res, e);
        check_columns(cols, ilana_test::introspect_columns_columns());
        struct Want {
            std::string name;
            int64_t ordinal;
            std::string type;
            bool nullable;
            const char *def;
            bool pk;
        };
        const std::vector<Want> want = {
            {"id", 1, "integer", false, nullptr, true},
            {"email", 2, "text", false, nullptr, false},
            {"nickname", 3, "varchar(40)", true, nullptr, false},
            {"score", 4, "real", true, "0", false},
            {"created_at", 5, "text", true, "CURRENT_TIMESTAMP", false},
        };
        REQUIRE(cols.rows.size() == want.size());
        for (std::size_t i = 0; i < want.size(); ++i) {
            INFO("column " << want[i].name);
            const auto &row = cols.rows[i];
            CHECK(row[0].s == "users");
            CHECK(row[1].s == want[i].name);
            CHECK(row[2].i == want[i].ordinal);
            CHECK(row[3].s == want[i].type);
            CHECK(row[4].i == (want[i].nullable ? 1 : 0));
            CHECK(row[5].null == (want[i].def == nullptr));
            if (want[i].def != nullptr) CHECK(row[5].s == want[i].def);
            CHECK(row[6].i == (want[i].pk ? 1 : 0));
        }
        // All tables (and the view), ordered by table then ordinal.
        Rows all = collect(intro->columns(c.get(), nullptr, nullptr, &res, &e), &res, e);
        std::vector<std::string> seen;
        for (const auto &row : all.rows) seen.push_back(row[0].s + "." + row[1].s);
        CHECK(seen == std::vector<std::string>{"active_users.id", "active_users.email",
                                               "memberships.user_id", "memberships.group_name",
                                               "users.id", "users.email", "users.nickname",
                                               "users.score", "users.created_at"});
        // Composite primary key: both columns, NOT NULL.
        Rows m = collect(intro->columns(c.get(), "main", "memberships", &res, &e), &res, e);
        REQUIRE(m.rows.size() == 2);
        CHECK(m.rows[0][6].i == 1);
        CHECK(m.rows[1][6].i == 1);
        CHECK(m.rows[0][4].i == 0);
        // An unknown table: no rows.
        Rows none = collect(intro->columns(c.get(), nullptr, "nope", &res, &e), &res, e);
        CHECK(none.rows.empty());
    }
    SECTION("indexes") {
        Rows idx = collect(intro->indexes(c.get(), nullptr, "users", &res, &e), &res, e);
        check_columns(idx, ilana_test::introspect_indexes_columns());
        REQUIRE(idx.rows.size() == 2);
        CHECK(idx.rows[0][0].s == "users");
        CHECK(idx.rows[0][1].s == "users_email_idx");
        CHECK(idx.rows[0][2].s == "email");
        CHECK(idx.rows[0][3].i == 1);
        CHECK(idx.rows[0][4].i == 0);
        CHECK(idx.rows[1][1].s == "users_nick_score_idx");
        CHECK(idx.rows[1][2].s == "nickname,score");
        CHECK(idx.rows[1][3].i == 0);
        CHECK(idx.rows[1][4].i == 0);

        Rows pk = collect(intro->indexes(c.get(), nullptr, "memberships", &res, &e), &res, e);
        REQUIRE(pk.rows.size() == 1);
        CHECK(pk.rows[0][1].s == "sqlite_autoindex_memberships_1");
        CHECK(pk.rows[0][2].s == "group_name,user_id"); // index order, not table order
        CHECK(pk.rows[0][3].i == 1);
        CHECK(pk.rows[0][4].i == 1);

        Rows all = collect(intro->indexes(c.get(), nullptr, nullptr, &res, &e), &res, e);
        CHECK(texts(all, 1) == std::vector<std::string>{"sqlite_autoindex_memberships_1",
                                                        "users_email_idx", "users_nick_score_idx"});
    }
    SECTION("an introspection result counts as the open result") {
        REQUIRE(intro->tables(c.get(), nullptr, &res, &e) == ILANA_OK);
        ilana_result *second = nullptr;
        CHECK(intro->columns(c.get(), nullptr, nullptr, &second, &e) == ILANA_ERROR);
        CHECK(e.error_class == ILANA_ERR_INTERNAL);
        api().result_close(res);
    }
}

TEST_CASE("sqlite: lock extension", "[sqlite]") {
    TempDir dir;
    const std::string path = dir.file("lock.db");
    auto lock = plugin().extension<ilana_lock_api>(ILANA_EXT_LOCK);
    REQUIRE(lock != nullptr);
    Conn a(path);
    Conn b(Conn::Params{{"filename", path}, {"busy_timeout", "10000"}});
    a.query("CREATE TABLE migrations (name TEXT)");

    ilana_error e = new_error();
    REQUIRE(lock->acquire(a.get(), "migrations", 1000, &e) == ILANA_OK);
    a.query("INSERT INTO migrations VALUES ('001')"); // inside the lock's transaction

    // Another connection waits its timeout (not its 10 s busy_timeout), then TIMEOUT.
    const auto t0 = std::chrono::steady_clock::now();
    CHECK(lock->acquire(b.get(), "migrations", 150, &e) == ILANA_ERROR);
    const auto waited = std::chrono::steady_clock::now() - t0;
    CHECK(e.error_class == ILANA_ERR_TIMEOUT);
    CHECK(contains(e.message, "migrations"));
    CHECK(waited >= std::chrono::milliseconds(120));
    CHECK(waited < std::chrono::seconds(3));
    // No wait at all with timeout 0.
    CHECK(lock->acquire(b.get(), "migrations", 0, &e) == ILANA_ERROR);
    CHECK(e.error_class == ILANA_ERR_TIMEOUT);
    // b's own busy_timeout is back to its setting.
    CHECK(b.scalar_int("PRAGMA busy_timeout") == 10000);

    // While a waits, releasing lets b in.
    std::thread releaser([&] {
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
        ilana_error re = new_error();
        lock->release(a.get(), "migrations", &re);
    });
    ilana_error eb = new_error();
    CHECK(lock->acquire(b.get(), "migrations", 5000, &eb) == ILANA_OK);
    releaser.join();
    CHECK(b.scalar_int("SELECT count(*) FROM migrations") == 1); // a's work was committed
    REQUIRE(lock->release(b.get(), "migrations", &eb) == ILANA_OK);

    // Releasing a lock not held is an error, as is acquiring inside a transaction.
    CHECK(lock->release(b.get(), "migrations", &eb) == ILANA_ERROR);
    b.begin();
    CHECK(lock->acquire(b.get(), "migrations", 100, &eb) == ILANA_ERROR);
    CHECK(eb.error_class == ILANA_ERR_INTERNAL);
    b.rollback();
}

TEST_CASE("sqlite: namespace extension creates and drops database files", "[sqlite]") {
    TempDir dir;
    auto ns = plugin().extension<ilana_namespace_api>(ILANA_EXT_NAMESPACE);
    REQUIRE(ns != nullptr);
    ilana_error e = new_error();
    const std::string path = dir.file("tenants/acme/tenant.db");

    REQUIRE(ns->create(nullptr, path.c_str(), &e) == ILANA_OK); // parent directories too
    CHECK(fs::exists(path));
    REQUIRE(ns->create(nullptr, path.c_str(), &e) == ILANA_OK); // existing: fine
    {
        Conn t(Conn::Params{{ns->param_key, path}, {"mode", "rw"}, {"journal_mode", "wal"}});
        t.query("CREATE TABLE x (y)");
        t.query("INSERT INTO x VALUES (1)");
        REQUIRE(ns->create(nullptr, path.c_str(), &e) == ILANA_OK); // keeps the data
        CHECK(t.scalar_int("SELECT count(*) FROM x") == 1);
    }
    // Stray WAL and shared-memory files go with the database.
    std::ofstream(path + "-wal") << "x";
    std::ofstream(path + "-shm") << "x";
    REQUIRE(ns->drop(nullptr, path.c_str(), &e) == ILANA_OK);
    CHECK_FALSE(fs::exists(path));
    CHECK_FALSE(fs::exists(path + "-wal"));
    CHECK_FALSE(fs::exists(path + "-shm"));
    REQUIRE(ns->drop(nullptr, path.c_str(), &e) == ILANA_OK); // missing: fine

    // A relative name resolves against the template connection's config dir.
    {
        Conn tmpl(Conn::Params{{"filename", "template.db"}, {"ilana.config_dir", dir.path.string()}});
        REQUIRE(ns->create(tmpl.get(), "t/rel.db", &e) == ILANA_OK);
        CHECK(fs::exists(dir.path / "t" / "rel.db"));
        REQUIRE(ns->drop(tmpl.get(), "t/rel.db", &e) == ILANA_OK);
        CHECK_FALSE(fs::exists(dir.path / "t" / "rel.db"));
    }

    // A file that is not a database is not silently accepted.
    const std::string junk = dir.file("junk.db");
    std::ofstream(junk) << std::string(200, 'j');
    CHECK(ns->create(nullptr, junk.c_str(), &e) == ILANA_ERROR);
    CHECK(e.error_class == ILANA_ERR_CONNECTION);
    CHECK(contains(e.message, junk));

    // Listing is not something a file namespace can do.
    ilana_result *r = reinterpret_cast<ilana_result *>(0x1);
    CHECK(ns->list(nullptr, nullptr, &r, &e) == ILANA_UNSUPPORTED);
    CHECK(r == nullptr);
}
