// sdk_driver_test.cpp — what <ilana/sdk/driver.hpp> promises, checked
// through the raw ABI on sdk_memory_driver.so: the tables it builds, the
// errors it contains, the driver bugs it catches, the extensions it derives.
// (The conformance kit checks the rest of the contract on the same driver.)
#include <catch2/catch.hpp>

#include <ilana/driver.h>

#include <dlfcn.h>

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstring>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace {

const ilana_host kHost = {sizeof(ilana_host), ILANA_ABI_MAJOR, ILANA_ABI_MINOR, "sdk-test", "0", nullptr,
                          nullptr, nullptr, nullptr};

ilana_error fresh() {
    ilana_error e;
    std::memset(&e, 0, sizeof e);
    e.struct_size = sizeof e;
    return e;
}

struct Plugin {
    const ilana_driver_entry *entry = nullptr;
    Plugin() {
        void *h = dlopen(ILANA_SDK_MEMORY_DRIVER, RTLD_NOW | RTLD_LOCAL);
        if (h == nullptr) throw std::runtime_error(dlerror());
        entry = static_cast<const ilana_driver_entry *>(dlsym(h, ILANA_DRIVER_ENTRY_SYMBOL));
        if (entry == nullptr) throw std::runtime_error("no ilana_entry");
        ilana_error e = fresh();
        if (entry->init(&kHost, &e) != ILANA_OK) throw std::runtime_error(e.message);
    }
    const ilana_driver_api &api() const { return *entry->api; }
};
Plugin &plugin() {
    static Plugin p;
    return p;
}
const ilana_driver_api &api() { return plugin().api(); }

ilana_conn *connect(std::vector<ilana_param> params = {}, ilana_error *err = nullptr) {
    ilana_connect_params cp{};
    cp.struct_size = sizeof cp;
    cp.params = params.data();
    cp.param_count = static_cast<uint32_t>(params.size());
    ilana_error local = fresh();
    ilana_conn *c = reinterpret_cast<ilana_conn *>(&local);
    const ilana_status st = api().connect(&cp, &c, err != nullptr ? err : &local);
    if (st != ILANA_OK) {
        CHECK(c == nullptr);
        return nullptr;
    }
    return c;
}

struct Conn {
    ilana_conn *h;
    Conn() : h(connect()) { REQUIRE(h != nullptr); }
    ~Conn() { api().close(h); }
};

ilana_status execute(ilana_conn *c, const std::string &sql, ilana_result **out, ilana_error *err) {
    ilana_statement st{};
    st.struct_size = sizeof st;
    st.sql = sql.data();
    st.sql_len = sql.size();
    st.value_size = sizeof(ilana_value);
    return api().execute(c, &st, out, err);
}

// Executes and fetches once; returns the error of whichever failed.
ilana_error fails(ilana_conn *c, const std::string &sql) {
    ilana_error err = fresh();
    ilana_result *r = nullptr;
    if (execute(c, sql, &r, &err) == ILANA_ERROR) return err;
    ilana_batch b{};
    b.struct_size = sizeof b;
    b.max_rows = 4;
    const ilana_status st = api().fetch(r, &b, &err);
    api().result_close(r);
    if (st != ILANA_ERROR) FAIL("'" << sql << "' did not fail");
    return err;
}

} // namespace

TEST_CASE("the SDK builds the descriptor and tables from the driver class", "[sdk]") {
    const ilana_driver_entry &e = *plugin().entry;
    CHECK(e.struct_size == sizeof(ilana_driver_entry));
    CHECK(e.magic == ILANA_DRIVER_MAGIC);
    CHECK(e.abi_major == ILANA_ABI_MAJOR);
    CHECK(e.abi_minor == ILANA_ABI_MINOR);
    const ilana_driver_descriptor &d = *e.descriptor;
    CHECK(d.struct_size == sizeof(ilana_driver_descriptor));
    CHECK(std::string(d.id) == "org.ilana.test.sdk-memory");
    CHECK(d.description == nullptr); // not declared: the default
    REQUIRE(d.clients[0] != nullptr);
    CHECK(std::string(d.clients[0]) == "sdk-memory");
    CHECK(d.clients[1] == nullptr); // NULL-terminated by the SDK
    CHECK(d.capabilities == (ILANA_CAP_TRANSACTIONS | ILANA_CAP_CANCEL | ILANA_CAP_STREAMING));
    CHECK(d.thread_model == ILANA_THREADS_CONN_SERIALIZED);
    // The default dialect.
    CHECK(d.dialect->struct_size == sizeof(ilana_dialect));
    CHECK(d.dialect->placeholder == ILANA_PLACEHOLDER_QUESTION);
    CHECK(d.dialect->identifier_quote == '"');
    CHECK(d.dialect->max_params == 999);
    const ilana_driver_api &a = api();
    CHECK(a.struct_size == sizeof(ilana_driver_api));
    CHECK(a.begin != nullptr);
    CHECK(a.cancel != nullptr);
    CHECK(a.server_info != nullptr);
    // Extensions derived from the connection's members.
    const auto *in = static_cast<const ilana_introspect_api *>(e.get_extension(ILANA_EXT_INTROSPECT));
    REQUIRE(in != nullptr);
    CHECK(in->struct_size == sizeof(ilana_introspect_api));
    CHECK(in->tables != nullptr);
    const auto *lk = static_cast<const ilana_lock_api *>(e.get_extension(ILANA_EXT_LOCK));
    REQUIRE(lk != nullptr);
    CHECK(lk->flags == 0);
    CHECK(e.get_extension(ILANA_EXT_NAMESPACE) != nullptr); // static namespace_create/drop
    // "ilana.params/1" from the driver class's `params` array.
    const auto *pa = static_cast<const ilana_params_api *>(e.get_extension(ILANA_EXT_PARAMS));
    REQUIRE(pa != nullptr);
    CHECK(pa->struct_size == sizeof(ilana_params_api));
    CHECK(pa->flags == 0); // complete: no params_flags declared
    CHECK(pa->decl_size == sizeof(ilana_param_decl));
    REQUIRE(pa->param_count == 5); // the fifth: "namespace", ilana.namespace/1's param_key
    CHECK(std::string(pa->params[1].key) == "accessCode");
    CHECK(pa->params[1].flags == ILANA_PARAMF_SECRET);
    CHECK(pa->params[2].type == ILANA_PARAM_ENUM);
    CHECK(std::string(pa->params[2].allowed[1]) == "silver");
    CHECK(pa->params[2].allowed[2] == nullptr);
    CHECK(pa->params[3].flags == (ILANA_PARAMF_MINIMUM | ILANA_PARAMF_MAXIMUM));
    CHECK(pa->params[3].maximum == 1000);
    CHECK(e.get_extension("com.example.nothing/1") == nullptr);
    CHECK(e.get_extension(nullptr) == nullptr);
}

TEST_CASE("exceptions never cross the boundary", "[sdk]") {
    Conn c;
    ilana_error e = fails(c.h, "THROW std");
    CHECK(e.error_class == ILANA_ERR_INTERNAL);
    CHECK(std::string(e.message) == "driver internal error: a std::runtime_error from the driver");
    e = fails(c.h, "THROW alloc");
    CHECK(e.error_class == ILANA_ERR_INTERNAL);
    CHECK(std::string(e.message) == "out of memory in driver");
    e = fails(c.h, "THROW int");
    CHECK(std::string(e.message) == "driver internal error: unknown exception");
    // DriverFailure keeps class, SQLSTATE and flags.
    e = fails(c.h, "NOT A STATEMENT");
    CHECK(e.error_class == ILANA_ERR_SYNTAX);
    CHECK(std::string(e.sqlstate) == "42601");
    CHECK(e.flags == ILANA_ERRF_NOT_SENT);
    // The connection is still usable.
    ilana_result *r = nullptr;
    ilana_error err = fresh();
    REQUIRE(execute(c.h, "SELECT 1", &r, &err) == ILANA_OK);
    api().result_close(r);
}

TEST_CASE("rows that do not match their columns are driver bugs, not memory errors", "[sdk]") {
    Conn c;
    ilana_error e = fails(c.h, "BUG cells");
    CHECK(e.error_class == ILANA_ERR_INTERNAL);
    CHECK(std::string(e.message).find("more cells in a row than the result's 1 columns") != std::string::npos);
    e = fails(c.h, "BUG type");
    CHECK(std::string(e.message) == "driver bug: column 1 is INT64 but a cell is TEXT");
    e = fails(c.h, "BUG rows");
    CHECK(std::string(e.message) == "driver bug: more rows in a batch than max_rows (4)");
    e = fails(c.h, "BUG fast_rows"); // rows written in place (Batch::add_row)
    CHECK(std::string(e.message) == "driver bug: more rows in a batch than max_rows (4)");
    e = fails(c.h, "BUG late_column");
    CHECK(std::string(e.message) == "driver bug: column 'too_late' added after the host read the columns");
}

TEST_CASE("connect: failures keep their class, unread parameters are CONFIG errors", "[sdk]") {
    ilana_error e = fresh();
    CHECK(connect({{"fail", "true"}}, &e) == nullptr);
    CHECK(e.error_class == ILANA_ERR_AUTH);
    CHECK(std::string(e.sqlstate) == "28000");
    e = fresh();
    CHECK(connect({{"fial", "true"}, {"ilana.config_dir", "/tmp"}}, &e) == nullptr);
    CHECK(e.error_class == ILANA_ERR_CONFIG);
    CHECK(std::string(e.message) ==
          "unknown connection parameter 'fial' for SDK memory test driver: remove it or check its spelling");
    e = fresh();
    CHECK(connect({{"fail", "maybe"}}, &e) == nullptr);
    CHECK(std::string(e.message) == "connection parameter 'fail' must be true or false, got 'maybe'");
}

TEST_CASE("server_info defaults to the driver's name and version, kept until close", "[sdk]") {
    Conn c;
    ilana_server_info a{}, b{};
    a.struct_size = b.struct_size = sizeof a;
    ilana_error e = fresh();
    REQUIRE(api().server_info(c.h, &a, &e) == ILANA_OK);
    REQUIRE(api().server_info(c.h, &b, &e) == ILANA_OK);
    CHECK(std::string(a.product) == "SDK memory test driver");
    CHECK(std::string(a.version) == "0.0.1");
    CHECK(a.product == b.product); // the same storage: valid until close
    CHECK(a.max_connections == -1);
}

TEST_CASE("result columns stay put, a leaked result is closed with its connection", "[sdk]") {
    ilana_conn *h = connect();
    REQUIRE(h != nullptr);
    ilana_result *r = nullptr;
    ilana_error e = fresh();
    REQUIRE(execute(h, "SELECT SERIES 5", &r, &e) == ILANA_OK);
    ilana_result_info i1{}, i2{};
    i1.struct_size = i2.struct_size = sizeof i1;
    api().result_info(r, &i1);
    REQUIRE(i1.column_count == 2);
    CHECK(std::string(i1.columns[1].name) == "label");
    CHECK(i1.column_size == sizeof(ilana_column));
    ilana_batch b{};
    b.struct_size = sizeof b;
    b.max_rows = 2;
    CHECK(api().fetch(r, &b, &e) == ILANA_OK);
    CHECK(b.row_count == 2);
    api().result_info(r, &i2);
    CHECK(i2.columns == i1.columns);
    // A second execute is refused while r is open.
    ilana_result *r2 = nullptr;
    CHECK(execute(h, "SELECT 1", &r2, &e) == ILANA_ERROR);
    CHECK(e.error_class == ILANA_ERR_INTERNAL);
    CHECK((e.flags & ILANA_ERRF_NOT_SENT) != 0);
    api().close(h); // with r still open: the SDK frees it (sanitizer builds check)
}

TEST_CASE("a recycled result comes back with its columns and columns_id, rows written in place", "[sdk]") {
    Conn c;
    ilana_error e = fresh();
    auto run = [&](int n, ilana_result_info &info) {
        ilana_result *r = nullptr;
        REQUIRE(execute(c.h, "SELECT SERIES " + std::to_string(n), &r, &e) == ILANA_OK);
        info.struct_size = sizeof info;
        api().result_info(r, &info);
        std::vector<std::string> labels;
        ilana_batch b{};
        b.struct_size = sizeof b;
        b.max_rows = 2;
        ilana_status st = ILANA_OK;
        while (st == ILANA_OK) {
            st = api().fetch(r, &b, &e);
            REQUIRE(st != ILANA_ERROR);
            REQUIRE(b.column_count == 2);
            for (uint32_t i = 0; i < b.row_count; ++i) {
                CHECK(b.cells[i * 2].v.i64 == static_cast<int64_t>(labels.size() + 1));
                labels.emplace_back(b.cells[i * 2 + 1].v.str.ptr, b.cells[i * 2 + 1].v.str.len);
            }
        }
        CHECK(labels.size() == static_cast<size_t>(n));
        if (!labels.empty()) CHECK(labels.back() == "row " + std::to_string(n));
        api().result_close(r);
        return r;
    };
    ilana_result_info i1{}, i2{}, i3{};
    ilana_result *r1 = run(5, i1);
    // Another statement in between (not recycled) leaves the kept one alone.
    ilana_result *one = nullptr;
    REQUIRE(execute(c.h, "SELECT 1", &one, &e) == ILANA_OK);
    api().result_close(one);
    ilana_result *r2 = run(3, i2);
    CHECK(r2 == r1); // the same object, kept by the connection
    CHECK(i2.columns == i1.columns); // the frozen description, not rebuilt
    CHECK(i1.columns_id != 0);
    CHECK(i2.columns_id == i1.columns_id);
    CHECK(i2.affected_rows == -1);
    run(0, i3);
    CHECK(std::string(i3.columns[1].name) == "label");
}

TEST_CASE("a driver's own bytes: string cells fixed up through Batch::cells() once the batch is full", "[sdk]") {
    Conn c;
    ilana_error e = fresh();
    ilana_result *r = nullptr;
    REQUIRE(execute(c.h, "SELECT SERIES 300 OWN", &r, &e) == ILANA_OK);
    ilana_batch b{};
    b.struct_size = sizeof b;
    b.max_rows = 128; // three batches, the buffer moving many times in each
    std::vector<std::string> labels;
    ilana_status st = ILANA_OK;
    while (st == ILANA_OK) {
        st = api().fetch(r, &b, &e);
        REQUIRE(st != ILANA_ERROR);
        for (uint32_t i = 0; i < b.row_count; ++i) {
            CHECK(b.cells[i * 2].v.i64 == static_cast<int64_t>(labels.size() + 1));
            labels.emplace_back(b.cells[i * 2 + 1].v.str.ptr, b.cells[i * 2 + 1].v.str.len);
        }
    }
    api().result_close(r);
    REQUIRE(labels.size() == 300);
    for (size_t i = 0; i < labels.size(); ++i) CHECK(labels[i] == "row " + std::to_string(i + 1));
}

TEST_CASE("the statement timeout fails a later fetch unless the statement ended (Result::end_timeout)", "[sdk]") {
    Conn c;
    auto first_fetch = [&](const std::string &sql, ilana_error &err) {
        ilana_statement st{};
        st.struct_size = sizeof st;
        st.sql = sql.data();
        st.sql_len = sql.size();
        st.value_size = sizeof(ilana_value);
        st.timeout_ms = 30;
        ilana_result *r = nullptr;
        REQUIRE(api().execute(c.h, &st, &r, &err) == ILANA_OK);
        std::this_thread::sleep_for(std::chrono::milliseconds(60)); // the host is slow to fetch
        ilana_batch b{};
        b.struct_size = sizeof b;
        b.max_rows = 16;
        const ilana_status status = api().fetch(r, &b, &err);
        api().result_close(r);
        return status;
    };
    ilana_error e = fresh();
    CHECK(first_fetch("SELECT SERIES 3", e) == ILANA_ERROR); // rows still to read: timed out
    CHECK(e.error_class == ILANA_ERR_TIMEOUT);
    e = fresh();
    CHECK(first_fetch("SELECT SERIES 3 ENDED", e) == ILANA_DONE); // ended inside its timeout
    e = fresh();
    CHECK(first_fetch("SELECT SERIES 3", e) == ILANA_ERROR); // the recycled result forgot end_timeout
}

TEST_CASE("the lock extension comes from lock_acquire/lock_release", "[sdk]") {
    const auto *lk = static_cast<const ilana_lock_api *>(plugin().entry->get_extension(ILANA_EXT_LOCK));
    REQUIRE(lk != nullptr);
    Conn a, b;
    ilana_error e = fresh();
    REQUIRE(lk->acquire(a.h, "migrations", 100, &e) == ILANA_OK);
    e = fresh();
    CHECK(lk->acquire(b.h, "migrations", 50, &e) == ILANA_ERROR);
    CHECK(e.error_class == ILANA_ERR_TIMEOUT);
    REQUIRE(lk->release(a.h, "migrations", &e) == ILANA_OK);
    e = fresh();
    CHECK(lk->acquire(b.h, "migrations", 50, &e) == ILANA_OK);
    CHECK(lk->release(b.h, "migrations", &e) == ILANA_OK);
}

TEST_CASE("init and deinit are counted", "[sdk]") {
    const ilana_driver_entry &e = *plugin().entry;
    ilana_error err = fresh();
    REQUIRE(e.init(&kHost, &err) == ILANA_OK); // second init
    e.deinit();                                // back to one
    Conn c;                                     // still initialised
    ilana_result *r = nullptr;
    REQUIRE(execute(c.h, "SELECT 1", &r, &err) == ILANA_OK);
    api().result_close(r);
}

TEST_CASE("batches, session state and columns_id come from the connection's members", "[sdk]") {
    const ilana_driver_entry &entry = *plugin().entry;
    const auto *batch = static_cast<const ilana_batch_api *>(entry.get_extension(ILANA_EXT_BATCH));
    const auto *session = static_cast<const ilana_session_api *>(entry.get_extension(ILANA_EXT_SESSION));
    REQUIRE(batch != nullptr);
    REQUIRE(session != nullptr);
    CHECK(batch->method == ILANA_BATCH_LOOP);

    Conn c;
    ilana_error e = fresh();
    ilana_result *r = nullptr;
    REQUIRE(execute(c.h, "CREATE TABLE sdk_batch", &r, &e) == ILANA_OK);
    api().result_close(r);

    // Three rows, the third a duplicate of the first: nothing applied, row 2 named.
    ilana_value rows[6] = {};
    for (int i = 0; i < 3; ++i) {
        rows[2 * i].type = ILANA_TYPE_INT64;
        rows[2 * i].v.i64 = i == 2 ? 0 : i;
        rows[2 * i + 1].type = ILANA_TYPE_NULL;
    }
    const std::string sql = "INSERT INTO sdk_batch VALUES (?, ?)";
    ilana_batch_statement st{};
    st.struct_size = sizeof st;
    st.sql = sql.data();
    st.sql_len = sql.size();
    st.params = rows;
    st.param_count = 2;
    st.value_size = sizeof(ilana_value);
    st.row_count = 3;
    ilana_batch_outcome out{};
    out.struct_size = sizeof out;
    CHECK(batch->execute_many(c.h, &st, &out, &e) == ILANA_ERROR);
    CHECK(e.error_class == ILANA_ERR_CONSTRAINT);
    CHECK(out.failed_row == 2);
    CHECK(out.affected_rows == 0);
    st.row_count = 2;
    e = fresh();
    REQUIRE(batch->execute_many(c.h, &st, &out, &e) == ILANA_OK);
    CHECK(out.affected_rows == 2);
    CHECK(out.failed_row == -1);
    // A v1-sized outcome that ends before failed_row is left alone there.
    ilana_batch_outcome short_out{};
    short_out.struct_size = offsetof(ilana_batch_outcome, failed_row);
    short_out.failed_row = 77;
    st.row_count = 1;
    e = fresh();
    CHECK(batch->execute_many(c.h, &st, &short_out, &e) == ILANA_ERROR);
    CHECK(short_out.failed_row == 77);

    // columns_id: the same id for the same statement shape on one connection.
    auto columns_id_of = [&](const std::string &q) {
        ilana_result *res = nullptr;
        ilana_error err = fresh();
        ilana_statement s{};
        s.struct_size = sizeof s;
        s.sql = q.data();
        s.sql_len = q.size();
        ilana_value k{};
        k.type = ILANA_TYPE_INT64;
        s.params = &k;
        s.param_count = 1;
        s.value_size = sizeof k;
        REQUIRE(api().execute(c.h, &s, &res, &err) == ILANA_OK);
        ilana_result_info info{};
        info.struct_size = sizeof info;
        api().result_info(res, &info);
        api().result_close(res);
        return info.columns_id;
    };
    const uint64_t id = columns_id_of("SELECT k, v FROM sdk_batch WHERE k = ?");
    CHECK(id != 0);
    CHECK(columns_id_of("SELECT k, v FROM sdk_batch WHERE k = ?") == id);

    // Session state: clean after connect, dirty after SET, clean after reset.
    CHECK(session->is_dirty(c.h) == 0);
    REQUIRE(execute(c.h, "SET something", &r, &e) == ILANA_OK);
    CHECK(session->reset(c.h, &e) == ILANA_ERROR); // a result is still open
    api().result_close(r);
    CHECK(session->is_dirty(c.h) != 0);
    e = fresh();
    CHECK(session->reset(c.h, &e) == ILANA_OK);
    CHECK(session->is_dirty(c.h) == 0);
    REQUIRE(execute(c.h, "DROP TABLE sdk_batch", &r, &e) == ILANA_OK);
    api().result_close(r);
}

TEST_CASE("namespaces and their DDL come from the driver class and the connection", "[sdk]") {
    const ilana_driver_entry &entry = *plugin().entry;
    const auto *ns = static_cast<const ilana_namespace_api *>(entry.get_extension(ILANA_EXT_NAMESPACE));
    const auto *ddl = static_cast<const ilana_ddl_api *>(entry.get_extension(ILANA_EXT_DDL));
    REQUIRE(ns != nullptr);
    REQUIRE(ddl != nullptr);
    CHECK(ns->struct_size == sizeof(ilana_namespace_api));
    CHECK(ns->isolation == ILANA_NAMESPACE_SCHEMA);
    CHECK(std::string(ns->param_key) == "namespace");
    REQUIRE(ns->is_system != nullptr);
    CHECK(ns->is_system("memory") != 0);
    CHECK(ns->is_system("tenant_a") == 0);

    Conn c;
    ilana_error e = fresh();
    REQUIRE(ns->create(c.h, "tenant_a", &e) == ILANA_OK);
    REQUIRE(ns->create(c.h, "tenant_b", &e) == ILANA_OK);
    REQUIRE(ns->create(c.h, "other", &e) == ILANA_OK);
    // Schema isolation needs the template connection.
    CHECK(ns->create(nullptr, "tenant_c", &e) == ILANA_ERROR);
    CHECK(e.error_class == ILANA_ERR_INTERNAL);
    // The SDK refuses to drop a system namespace before the driver is asked.
    e = fresh();
    CHECK(ns->drop(c.h, "memory", &e) == ILANA_ERROR);
    CHECK(e.error_class == ILANA_ERR_CONFIG);
    CHECK(std::string(e.message).find("memory") != std::string::npos);

    auto read_texts = [&](ilana_result *r, uint32_t column) {
        std::vector<std::string> out;
        ilana_batch b{};
        b.struct_size = sizeof b;
        b.max_rows = 16;
        ilana_error err = fresh();
        ilana_status st = ILANA_OK;
        while (st == ILANA_OK) {
            st = api().fetch(r, &b, &err);
            REQUIRE(st != ILANA_ERROR);
            for (uint32_t i = 0; i < b.row_count; ++i) {
                const ilana_value &v = b.cells[i * b.column_count + column];
                out.emplace_back(v.v.str.ptr, v.v.str.len);
            }
        }
        api().result_close(r);
        return out;
    };
    ilana_result *r = nullptr;
    REQUIRE(ns->list(c.h, "tenant_", &r, &e) == ILANA_OK);
    CHECK(read_texts(r, 0) == std::vector<std::string>{"tenant_a", "tenant_b"});

    REQUIRE(execute(c.h, "CREATE TABLE sdk_clone", &r, &e) == ILANA_OK);
    api().result_close(r);
    REQUIRE(ddl->clone_namespace(c.h, "tenant_a", "tenant_b", &r, &e) == ILANA_OK);
    const auto sql = read_texts(r, 4);
    CHECK(std::find(sql.begin(), sql.end(), "CREATE TABLE sdk_clone") != sql.end());
    e = fresh();
    CHECK(ddl->clone_namespace(c.h, "tenant_a", "nowhere", &r, &e) == ILANA_ERROR);
    CHECK(e.error_class == ILANA_ERR_CONFIG);
    CHECK(r == nullptr);

    for (const char *n : {"tenant_a", "tenant_b", "other"}) CHECK(ns->drop(c.h, n, &e) == ILANA_OK);
    REQUIRE(ns->list(c.h, nullptr, &r, &e) == ILANA_OK);
    CHECK(read_texts(r, 0).empty());
    REQUIRE(execute(c.h, "DROP TABLE sdk_clone", &r, &e) == ILANA_OK);
    api().result_close(r);
}
