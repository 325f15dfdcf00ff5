// plugin.cpp — the driver through the raw ABI, as the ilana host loads it,
// with every batch checked against driver.h.
#include "kit.hpp"

#include <dlfcn.h>

#include <cmath>
#include <cstdlib>
#include <cstring>

namespace kit {

using ilana::sdk::Cell;

Plugin::Plugin(const std::string &path) : path_(path) {
    if (path_.empty() || path_[0] != '/') {
        char *abs = ::realpath(path_.c_str(), nullptr);
        if (abs == nullptr) fail("cannot find " + path_ + ": " + std::strerror(errno));
        path_ = abs;
        std::free(abs);
    }
    handle_ = ::dlopen(path_.c_str(), RTLD_NOW | RTLD_LOCAL);
    if (handle_ == nullptr) fail(std::string("dlopen(RTLD_NOW) failed: ") + ::dlerror());
    entry_ = static_cast<const ilana_driver_entry *>(::dlsym(handle_, ILANA_DRIVER_ENTRY_SYMBOL));
    if (entry_ == nullptr) fail("no '" ILANA_DRIVER_ENTRY_SYMBOL "' symbol: export it with ILANA_DRIVER_EXPORT");
    host_.struct_size = sizeof(ilana_host);
    host_.abi_major = ILANA_ABI_MAJOR;
    host_.abi_minor = ILANA_ABI_MINOR;
    host_.host_name = "ilana-driver-conformance";
    host_.host_version = "1";
    host_.context = this;
    host_.log = &Plugin::log_cb;
    host_.alloc = [](void *, size_t n) { return std::malloc(n); };
    host_.free = [](void *, void *p) { std::free(p); };
}

Plugin::~Plugin() {
    while (inits_ > 0) deinit();
    // Not dlclose'd: a driver's client library may keep threads or atexit
    // handlers (the ilana host keeps libraries loaded while handles live).
}

ilana_status Plugin::init(ilana_error *err) {
    const ilana_status st = entry_->init(&host_, err);
    if (st == ILANA_OK) ++inits_;
    return st;
}

void Plugin::deinit() {
    if (inits_ == 0) return;
    --inits_;
    entry_->deinit();
}

void Plugin::log_cb(void *ctx, void *, ilana_log_level level, const char *msg, size_t len) {
    auto *self = static_cast<Plugin *>(ctx);
    std::lock_guard<std::mutex> lock(self->log_mu_);
    if (self->logs_.size() < 10000) self->logs_.push_back({level, std::string(msg != nullptr ? msg : "", len)});
}

std::vector<LogLine> Plugin::logs() const {
    std::lock_guard<std::mutex> lock(log_mu_);
    return logs_;
}

ilana_error new_error() {
    ilana_error e;
    std::memset(&e, 0, sizeof e);
    e.struct_size = sizeof e;
    return e;
}

std::string class_name(ilana_error_class c) {
    static const char *const names[] = {"NONE",   "CONNECTION", "TRANSIENT", "TIMEOUT",  "AUTH",     "SYNTAX",
                                        "CONSTRAINT", "PERMISSION", "DATA",  "CANCELED", "INTERNAL", "CONFIG"};
    return c >= 0 && c <= 11 ? names[c] : "class " + std::to_string(c);
}

std::string status_name(ilana_status s) {
    switch (s) {
    case ILANA_OK: return "ILANA_OK";
    case ILANA_DONE: return "ILANA_DONE";
    case ILANA_ERROR: return "ILANA_ERROR";
    case ILANA_UNSUPPORTED: return "ILANA_UNSUPPORTED";
    default: return "status " + std::to_string(s);
    }
}

std::string describe(const ilana_error &e) {
    std::string out = class_name(e.error_class);
    if (std::memchr(e.sqlstate, 0, sizeof e.sqlstate) != nullptr && e.sqlstate[0] != '\0')
        out += std::string(" ") + e.sqlstate;
    const void *nul = std::memchr(e.message, 0, sizeof e.message);
    out += ": \"" + std::string(e.message, nul ? static_cast<const char *>(nul) - e.message : sizeof e.message) + "\"";
    if (e.flags & ILANA_ERRF_CONN_BROKEN) out += " [CONN_BROKEN]";
    if (e.flags & ILANA_ERRF_TXN_ABORTED) out += " [TXN_ABORTED]";
    if (e.flags & ILANA_ERRF_NOT_SENT) out += " [NOT_SENT]";
    return out;
}

ilana_value to_value(const Cell &c) {
    ilana_value v{};
    v.type = c.type;
    v.is_null = c.null ? 1 : 0;
    if (c.null) return v;
    if (ilana::sdk::is_string_type(c.type)) {
        v.v.str.ptr = c.bytes.data();
        v.v.str.len = c.bytes.size();
    } else if (c.type == ILANA_TYPE_UINT64) {
        v.v.u64 = c.u64;
    } else if (c.type == ILANA_TYPE_DOUBLE) {
        v.v.f64 = c.f64;
    } else {
        v.v.i64 = c.i64;
    }
    return v;
}

Bound::Bound(std::vector<Cell> c) : cells(std::move(c)) {
    for (const auto &cell : cells) values.push_back(to_value(cell));
}

std::string show(const Cell &c) {
    if (c.null) return "NULL";
    switch (c.type) {
    case ILANA_TYPE_BOOL: return c.i64 ? "true" : "false";
    case ILANA_TYPE_INT64: return std::to_string(c.i64);
    case ILANA_TYPE_UINT64: return std::to_string(c.u64) + "u";
    case ILANA_TYPE_DOUBLE: return ilana::sdk::format_double(c.f64);
    case ILANA_TYPE_DATE: return "DATE " + ilana::sdk::format_date(c.i64);
    case ILANA_TYPE_TIME: return "TIME " + ilana::sdk::format_time(c.i64);
    case ILANA_TYPE_TIMESTAMP: return "TIMESTAMP " + ilana::sdk::format_timestamp(c.i64);
    case ILANA_TYPE_TIMESTAMPTZ: return "TIMESTAMPTZ " + ilana::sdk::format_timestamptz(c.i64);
    case ILANA_TYPE_BLOB: {
        static const char hex[] = "0123456789abcdef";
        std::string out = "0x";
        for (size_t i = 0; i < c.bytes.size() && i < 16; ++i) {
            out += hex[static_cast<unsigned char>(c.bytes[i]) >> 4];
            out += hex[static_cast<unsigned char>(c.bytes[i]) & 15];
        }
        if (c.bytes.size() > 16) out += "... (" + std::to_string(c.bytes.size()) + " bytes)";
        return out;
    }
    default: {
        std::string s = c.bytes.size() > 60 ? c.bytes.substr(0, 60) + "... (" + std::to_string(c.bytes.size()) + " bytes)"
                                            : c.bytes;
        return type_label(c.type) + " \"" + s + "\"";
    }
    }
}

bool same_cell(const Cell &got, const Cell &want) {
    if (got.null || want.null) return got.null == want.null;
    if (got.type != want.type) return false;
    if (ilana::sdk::is_string_type(got.type)) return got.bytes == want.bytes;
    if (got.type == ILANA_TYPE_UINT64) return got.u64 == want.u64;
    if (got.type == ILANA_TYPE_DOUBLE) return got.f64 == want.f64 || (std::isnan(got.f64) && std::isnan(want.f64));
    return got.i64 == want.i64;
}

namespace {

// A cell copied out of driver memory, its type checked.
Cell copy_cell(const ilana_value &v, const Column &col, size_t row, size_t c) {
    const std::string where = "row " + std::to_string(row) + " column '" + col.name + "'";
    if (v.is_null != 0) {
        if (v.type != ILANA_TYPE_NULL && v.type != col.type && col.type != ILANA_TYPE_ANY)
            fail(where + ": a NULL cell has type " + type_label(v.type) + "; driver.h allows the column's type (" +
                 type_label(col.type) + ") or NULL");
        return Cell::make_null(col.type == ILANA_TYPE_ANY ? ILANA_TYPE_NULL : col.type);
    }
    if (v.type < ILANA_TYPE_BOOL || v.type > ILANA_TYPE_JSON)
        fail(where + ": a non-NULL cell has type " + type_label(v.type) + " (driver.h: never ANY or NULL in a cell)");
    if (col.type != ILANA_TYPE_ANY && v.type != col.type)
        fail(where + ": the column is " + type_label(col.type) + " but a cell is " + type_label(v.type) +
             " (a typed column's cells all have its type)");
    (void)c;
    Cell out;
    out.type = v.type;
    out.null = false;
    if (ilana::sdk::is_string_type(v.type)) {
        if (v.v.str.len > 0 && v.v.str.ptr == nullptr) fail(where + ": a string cell with len > 0 and ptr NULL");
        if (v.v.str.len > (uint64_t(1) << 40)) fail(where + ": implausible string length " + std::to_string(v.v.str.len));
        out.bytes.assign(v.v.str.ptr != nullptr ? v.v.str.ptr : "", static_cast<size_t>(v.v.str.len));
    } else if (v.type == ILANA_TYPE_UINT64) {
        out.u64 = v.v.u64;
    } else if (v.type == ILANA_TYPE_DOUBLE) {
        out.f64 = v.v.f64;
    } else {
        out.i64 = v.v.i64;
        if (v.type == ILANA_TYPE_BOOL && v.v.i64 != 0 && v.v.i64 != 1)
            fail(where + ": a BOOL cell holds " + std::to_string(v.v.i64) + " (driver.h: 0 or 1)");
    }
    return out;
}

void read_info(const ilana_driver_api &api, ilana_result *res, Rows &rows, bool columns_too) {
    ilana_result_info info;
    std::memset(&info, 0, sizeof info);
    info.struct_size = sizeof info;
    api.result_info(res, &info);
    rows.affected_rows = info.affected_rows;
    rows.last_insert_id = info.last_insert_id;
    if (!columns_too) {
        rows.columns_id_at_done = info.columns_id;
        return;
    }
    rows.columns_id = info.columns_id;
    if (info.column_count > 0) {
        if (info.columns == nullptr) fail("result_info: column_count " + std::to_string(info.column_count) +
                                          " but columns is NULL");
        if (!ILANA_COVERS(info.column_size, ilana_column, nullable))
            fail("result_info: column_size " + std::to_string(info.column_size) + " is smaller than ABI v1's " +
                 std::to_string(sizeof(ilana_column)));
    }
    rows.columns.clear();
    for (uint32_t i = 0; i < info.column_count; ++i) {
        const auto *c = reinterpret_cast<const ilana_column *>(reinterpret_cast<const char *>(info.columns) +
                                                              static_cast<size_t>(i) * info.column_size);
        Column col;
        if (c->name == nullptr) fail("result_info: column " + std::to_string(i + 1) + " has a NULL name");
        col.name = c->name;
        col.type = c->type;
        if (c->type < ILANA_TYPE_BOOL || c->type > ILANA_TYPE_ANY)
            fail("result_info: column '" + col.name + "' has type " + type_label(c->type) +
                 " (ILANA_TYPE_NULL is for parameters only; an untyped column is TEXT)");
        if (c->native_type == nullptr) fail("result_info: column '" + col.name + "' has a NULL native_type");
        col.native_type = c->native_type;
        col.nullable = c->nullable;
        if (c->nullable < -1 || c->nullable > 1)
            fail("result_info: column '" + col.name + "' nullable is " + std::to_string(c->nullable));
        rows.columns.push_back(std::move(col));
    }
}

} // namespace

ilana_status drain(const ilana_driver_api &api, ilana_result *res, uint32_t max_rows, Outcome &out,
                   size_t batch_limit) {
    struct Closer {
        const ilana_driver_api &api;
        ilana_result *r;
        ~Closer() { api.result_close(r); }
    } closer{api, res};
    read_info(api, res, out.rows, true);
    const size_t ncols = out.rows.columns.size();
    for (;;) {
        if (out.rows.batches >= batch_limit) return ILANA_OK;
        ilana_batch b;
        std::memset(&b, 0, sizeof b);
        b.struct_size = sizeof b;
        b.max_rows = max_rows;
        ilana_error err = new_error();
        const ilana_status st = api.fetch(res, &b, &err);
        if (st == ILANA_ERROR) {
            out.status = st;
            out.error = err;
            out.failed_in_fetch = true;
            return st;
        }
        if (st != ILANA_OK && st != ILANA_DONE) fail("fetch returned " + status_name(st));
        ++out.rows.batches;
        if (max_rows > 0 && b.row_count > max_rows)
            fail("fetch returned " + std::to_string(b.row_count) + " rows for max_rows " + std::to_string(max_rows));
        if (b.row_count > 0) {
            if (b.column_count != ncols)
                fail("batch column_count " + std::to_string(b.column_count) + " but result_info said " +
                     std::to_string(ncols));
            if (b.value_size < sizeof(ilana_value))
                fail("batch value_size " + std::to_string(b.value_size) + " is smaller than ABI v1's " +
                     std::to_string(sizeof(ilana_value)));
            if (b.cells == nullptr) fail("batch has rows but cells is NULL");
        }
        const auto *base = reinterpret_cast<const char *>(b.cells);
        for (uint32_t r = 0; r < b.row_count; ++r) {
            std::vector<Cell> row;
            row.reserve(ncols);
            for (size_t c = 0; c < ncols; ++c) {
                const auto *v = reinterpret_cast<const ilana_value *>(
                    base + (static_cast<size_t>(r) * ncols + c) * b.value_size);
                row.push_back(copy_cell(*v, out.rows.columns[c], out.rows.rows.size() + 1, c));
            }
            out.rows.rows.push_back(std::move(row));
        }
        if (st == ILANA_DONE) {
            // driver.h: calling again after DONE returns DONE with no rows.
            ilana_batch again;
            std::memset(&again, 0, sizeof again);
            again.struct_size = sizeof again;
            again.max_rows = max_rows;
            ilana_error err2 = new_error();
            const ilana_status st2 = api.fetch(res, &again, &err2);
            if (st2 != ILANA_DONE || again.row_count != 0)
                fail("fetch after ILANA_DONE returned " + status_name(st2) + " with " +
                     std::to_string(again.row_count) + " rows (driver.h: DONE with no rows)");
            read_info(api, res, out.rows, false); // counts are final now
            out.status = ILANA_DONE;
            return ILANA_DONE;
        }
    }
}

Conn::Conn(Plugin &p, const Config &cfg, bool run_setup) : p_(&p) {
    std::vector<ilana_param> params;
    for (const auto &kv : cfg.params) params.push_back({kv.first.c_str(), kv.second.c_str()});
    params.push_back({"ilana.config_dir", cfg.config_dir.c_str()});
    params.push_back({"ilana.connection", "conformance"});
    params.push_back({"ilana.conformance_kit", "a host key the driver must ignore"});
    ilana_connect_params cp{};
    cp.struct_size = sizeof cp;
    cp.params = params.data();
    cp.param_count = static_cast<uint32_t>(params.size());
    cp.timeout_ms = cfg.timeout_ms;
    cp.host_context = this;
    ilana_error err = new_error();
    ilana_conn *h = nullptr;
    const ilana_status st = p.api().connect(&cp, &h, &err);
    if (st != ILANA_OK) fail("connect failed: " + describe(err));
    if (h == nullptr) fail("connect returned ILANA_OK and a NULL connection");
    h_ = h;
    if (run_setup)
        for (const auto &sql : cfg.setup) query(sql);
}

Conn::~Conn() {
    if (h_ != nullptr) p_->api().close(h_);
}

// The rules of every call that returns a result: an error with no handle,
// or ILANA_OK with one, whose rows are read into the outcome.
template <class Call>
Outcome Conn::finish(const char *what, const std::string &sql, uint32_t max_rows, Call &&call) {
    Outcome out;
    ilana_error err = new_error();
    ilana_result *res = nullptr;
    const ilana_status s = call(&res, &err);
    if (s == ILANA_ERROR) {
        if (res != nullptr) fail(std::string(what) + " failed and still returned a result handle");
        out.status = s;
        out.error = err;
        return out;
    }
    if (s != ILANA_OK) fail(std::string(what) + " returned " + status_name(s) + " for: " + sql);
    if (res == nullptr) fail(std::string(what) + " returned ILANA_OK and a NULL result for: " + sql);
    drain(p_->api(), res, max_rows, out);
    return out;
}

Outcome Conn::run(const std::string &sql, const Bound &params, uint32_t max_rows, uint32_t value_size,
                  uint32_t flags, int64_t timeout_ms) {
    Outcome out;
    // A strided copy when the host's value_size is larger than ours (a
    // later minor version): the driver must step by value_size.
    std::vector<unsigned char> strided;
    const ilana_value *pv = params.values.empty() ? nullptr : params.values.data();
    if (value_size != sizeof(ilana_value) && !params.values.empty()) {
        strided.assign(static_cast<size_t>(value_size) * params.values.size(), 0xA5);
        for (size_t i = 0; i < params.values.size(); ++i)
            std::memcpy(strided.data() + i * value_size, &params.values[i], sizeof(ilana_value));
        pv = reinterpret_cast<const ilana_value *>(strided.data());
    }
    ilana_statement st{};
    st.struct_size = sizeof st;
    st.sql = sql.data();
    st.sql_len = sql.size();
    st.params = pv;
    st.param_count = static_cast<uint32_t>(params.values.size());
    st.value_size = value_size;
    st.flags = flags;
    st.timeout_ms = timeout_ms;
    return finish("execute", sql, max_rows, [&](ilana_result **res, ilana_error *err) {
        return p_->api().execute(h_, &st, res, err);
    });
}

Outcome Conn::run_prepared(const ilana_prepare_api &api, ilana_prepared *stmt, const std::string &sql,
                           const Bound &params, uint32_t max_rows) {
    ilana_statement st{};
    st.struct_size = sizeof st;
    st.sql = sql.data();
    st.sql_len = sql.size();
    st.params = params.values.empty() ? nullptr : params.values.data();
    st.param_count = static_cast<uint32_t>(params.values.size());
    st.value_size = sizeof(ilana_value);
    return finish("execute_prepared", sql, max_rows, [&](ilana_result **res, ilana_error *err) {
        return api.execute_prepared(h_, stmt, &st, res, err);
    });
}


Rows Conn::query(const std::string &sql, const Bound &params, uint32_t max_rows) {
    Outcome o = run(sql, params, max_rows);
    if (!o.ok()) fail("statement failed" + std::string(o.failed_in_fetch ? " in fetch" : "") + ": " + sql + ": " +
                      describe(o.error));
    return std::move(o.rows);
}

} // namespace kit
