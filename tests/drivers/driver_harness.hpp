// driver_harness.hpp — what the driver tests (tests/drivers/*_driver_test.cpp)
// share to talk to a plugin through the raw C ABI of driver.h: loading it,
// filling the ABI's structs, copying result cells. Each test file keeps its
// own Conn/Rows on top, shaped for its driver's tests.
#pragma once

#include "test_servers.hpp"

#include <ilana/driver.h>

#include <catch2/catch.hpp>

#include <dlfcn.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace ilana_test {

// An error record ready to be filled by a driver call.
inline ilana_error new_error() {
    ilana_error e{};
    e.struct_size = sizeof e;
    return e;
}

// ---------------------------------------------------------------------------
// Loading a plugin

struct LoadedDriver {
    void *handle = nullptr;
    const ilana_driver_entry *entry = nullptr;
};

// Opens build/plugins/<file> the way the host does (dlopen by absolute path,
// RTLD_NOW, resolve `ilana_entry`) and initialises it with `host`.
inline LoadedDriver load_driver(const char *file, const ilana_host &host) {
    LoadedDriver d;
    const std::string path = std::string(ILANA_TEST_PLUGIN_DIR) + "/" + file;
    d.handle = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
    if (d.handle == nullptr) FAIL("dlopen " << path << ": " << dlerror());
    d.entry = static_cast<const ilana_driver_entry *>(dlsym(d.handle, ILANA_DRIVER_ENTRY_SYMBOL));
    if (d.entry == nullptr) FAIL("no ilana_entry in " << path);
    ilana_error err = new_error();
    if (d.entry->init(&host, &err) != ILANA_OK) FAIL("init failed: " << err.message);
    return d;
}

// ---------------------------------------------------------------------------
// Connection parameters

using Params = std::vector<std::pair<std::string, std::string>>;

inline Params server_params(const ServerSettings &s) {
    return {{"host", s.host}, {"port", s.port}, {"user", s.user}, {"password", s.password},
            {"database", s.database}};
}

// `p` with `key` set to `value` (replaced, or added at the end).
inline Params with(Params p, const std::string &key, const std::string &value) {
    for (auto &kv : p)
        if (kv.first == key) {
            kv.second = value;
            return p;
        }
    p.emplace_back(key, value);
    return p;
}

// ilana_connect_params over `p`; it borrows p's strings, so `p` must outlive it.
class ConnectParams {
public:
    explicit ConnectParams(const Params &p, int32_t timeout_ms = 0, void *host_context = nullptr) {
        for (const auto &kv : p) raw_.push_back({kv.first.c_str(), kv.second.c_str()});
        cp_.struct_size = sizeof cp_;
        cp_.params = raw_.data();
        cp_.param_count = static_cast<uint32_t>(raw_.size());
        cp_.timeout_ms = timeout_ms;
        cp_.host_context = host_context;
    }
    ConnectParams(const ConnectParams &) = delete; // cp_ points into raw_
    ConnectParams &operator=(const ConnectParams &) = delete;
    const ilana_connect_params *get() const { return &cp_; }

private:
    std::vector<ilana_param> raw_;
    ilana_connect_params cp_{};
};

// ---------------------------------------------------------------------------
// Statements, batches, result info

// An ilana_statement over `sql` and `params`; it borrows both, so neither may
// be a temporary.
inline ilana_statement make_statement(const std::string &sql, const std::vector<ilana_value> &params,
                                      uint32_t flags = 0) {
    ilana_statement st{};
    st.struct_size = sizeof st;
    st.sql = sql.data();
    st.sql_len = sql.size();
    st.params = params.empty() ? nullptr : params.data();
    st.param_count = static_cast<uint32_t>(params.size());
    st.value_size = sizeof(ilana_value);
    st.flags = flags;
    return st;
}
ilana_statement make_statement(std::string &&, const std::vector<ilana_value> &, uint32_t = 0) = delete;
ilana_statement make_statement(const std::string &, std::vector<ilana_value> &&, uint32_t = 0) = delete;

// A statement without parameters.
inline ilana_statement make_statement(const std::string &sql, uint32_t flags = 0) {
    static const std::vector<ilana_value> none;
    return make_statement(sql, none, flags);
}
ilana_statement make_statement(std::string &&, uint32_t = 0) = delete;

inline ilana_batch new_batch(uint32_t max_rows) {
    ilana_batch b{};
    b.struct_size = sizeof b;
    b.max_rows = max_rows;
    return b;
}

inline ilana_result_info new_result_info() {
    ilana_result_info info{};
    info.struct_size = sizeof info;
    return info;
}

// ---------------------------------------------------------------------------
// Parameter values (strings are borrowed: `s` must outlive the call)

inline ilana_value null_value(ilana_type t = ILANA_TYPE_NULL) {
    ilana_value v{};
    v.type = t;
    v.is_null = 1;
    return v;
}
inline ilana_value int_value(ilana_type t, int64_t x) {
    ilana_value v{};
    v.type = t;
    v.v.i64 = x;
    return v;
}
inline ilana_value uint_value(uint64_t x) {
    ilana_value v{};
    v.type = ILANA_TYPE_UINT64;
    v.v.u64 = x;
    return v;
}
inline ilana_value double_value(double x) {
    ilana_value v{};
    v.type = ILANA_TYPE_DOUBLE;
    v.v.f64 = x;
    return v;
}
inline ilana_value str_value(ilana_type t, const std::string &s) {
    ilana_value v{};
    v.type = t;
    v.v.str.ptr = s.data();
    v.v.str.len = s.size();
    return v;
}

// ---------------------------------------------------------------------------
// Result cells

// A result value copied out of a batch, as the tests compare it.
struct Cell {
    ilana_type type = ILANA_TYPE_NULL;
    bool null = true;
    int64_t i = 0;
    uint64_t u = 0;
    double d = 0;
    std::string s;
};

inline Cell copy_cell(const ilana_value &v) {
    Cell c;
    c.type = v.type;
    c.null = v.is_null != 0;
    if (c.null) return c;
    switch (v.type) {
    case ILANA_TYPE_DOUBLE: c.d = v.v.f64; break;
    case ILANA_TYPE_UINT64: c.u = v.v.u64; break;
    case ILANA_TYPE_TEXT:
    case ILANA_TYPE_BLOB:
    case ILANA_TYPE_DECIMAL:
    case ILANA_TYPE_JSON:
    case ILANA_TYPE_UUID: c.s.assign(v.v.str.ptr != nullptr ? v.v.str.ptr : "", v.v.str.len); break;
    default: c.i = v.v.i64; break;
    }
    return c;
}

// Appends the rows of batch `b` to `rows`, each value through `copy`
// (cells are value_size apart, as driver.h lays them out).
template <class Copy = Cell (*)(const ilana_value &)>
void append_batch_rows(const ilana_batch &b, std::vector<std::vector<Cell>> &rows, Copy copy = copy_cell) {
    for (uint32_t r = 0; r < b.row_count; ++r) {
        std::vector<Cell> row;
        for (uint32_t c = 0; c < b.column_count; ++c) {
            const auto *v = reinterpret_cast<const ilana_value *>(reinterpret_cast<const char *>(b.cells) +
                                                                  (static_cast<size_t>(r) * b.column_count + c) *
                                                                      b.value_size);
            row.push_back(copy(*v));
        }
        rows.push_back(std::move(row));
    }
}

// Checks a result's columns against (name, type) pairs, in order. `columns`
// is any list of records with .name and .type.
template <class Columns>
void check_column_names_and_types(const Columns &columns,
                                  const std::vector<std::pair<std::string, ilana_type>> &want) {
    REQUIRE(columns.size() == want.size());
    for (size_t k = 0; k < want.size(); ++k) {
        CHECK(columns[k].name == want[k].first);
        CHECK(columns[k].type == want[k].second);
    }
}

// The columns of the introspection extension's results (driver.h,
// ilana_introspect_api), the same for every driver.
inline const std::vector<std::pair<std::string, ilana_type>> &introspect_tables_columns() {
    static const std::vector<std::pair<std::string, ilana_type>> c = {
        {"schema", ILANA_TYPE_TEXT}, {"name", ILANA_TYPE_TEXT}, {"kind", ILANA_TYPE_TEXT}};
    return c;
}
inline const std::vector<std::pair<std::string, ilana_type>> &introspect_columns_columns() {
    static const std::vector<std::pair<std::string, ilana_type>> c = {
        {"table_name", ILANA_TYPE_TEXT}, {"name", ILANA_TYPE_TEXT},         {"ordinal", ILANA_TYPE_INT64},
        {"data_type", ILANA_TYPE_TEXT},  {"nullable", ILANA_TYPE_BOOL},     {"default_value", ILANA_TYPE_TEXT},
        {"primary_key", ILANA_TYPE_BOOL}};
    return c;
}
inline const std::vector<std::pair<std::string, ilana_type>> &introspect_indexes_columns() {
    static const std::vector<std::pair<std::string, ilana_type>> c = {{"table_name", ILANA_TYPE_TEXT},
                                                                      {"name", ILANA_TYPE_TEXT},
                                                                      {"columns", ILANA_TYPE_TEXT},
                                                                      {"is_unique", ILANA_TYPE_BOOL},
                                                                      {"is_primary", ILANA_TYPE_BOOL}};
    return c;
}

} // namespace ilana_test
