// NativeConnection over the driver's optional extensions: batches
// ("ilana.batch/1") and the catalog ("ilana.introspect/1"). The callers
// (db/db/pipeline.cpp, db/db/introspect.cpp) never see the ABI structs.
#include "plugins/native_connection.hpp"

#include "common/sql_kind.hpp"

#include <cstddef>
#include <cstring>

namespace ilana::detail {

namespace {

// Per-thread scratch: a batch's parameter rows flattened (row-major
// ilana_values), so a warm batch allocates nothing here.
thread_local std::vector<ilana_value> t_batch_params;

const ilana_batch_api *batch_api(const LoadedDriver &driver) noexcept {
    const auto *api = driver.extension<ilana_batch_api>(ILANA_EXT_BATCH);
    const bool usable = api != nullptr &&
                        api->struct_size >= offsetof(ilana_batch_api, execute_many) + sizeof api->execute_many &&
                        api->execute_many != nullptr;
    return usable ? api : nullptr;
}

} // namespace

bool NativeConnection::runs_batches() const noexcept { return batch_api(driver()) != nullptr; }

int64_t NativeConnection::execute_many(std::string_view sql, const std::vector<std::vector<Value>> &rows,
                                       size_t width) {
    const ilana_batch_api *api = batch_api(driver());
    if (api == nullptr)
        throw Error("[" + name() + "] the driver " + driver().id() + " does not run batches (no " + ILANA_EXT_BATCH +
                        ")",
                    ErrorClass::internal, name());
    auto &flat = t_batch_params;
    flat.resize(rows.size() * width);
    ilana_value *dst = flat.data();
    for (const auto &row : rows)
        for (const Value &v : row) *dst++ = v.abi();

    ilana_batch_statement st{};
    st.struct_size = sizeof st;
    st.sql = sql.data();
    st.sql_len = sql.size();
    st.params = flat.data();
    st.param_count = static_cast<uint32_t>(width);
    st.value_size = sizeof(ilana_value);
    st.row_count = rows.size();
    st.flags = ILANA_EXEC_CACHE;
    ilana_batch_outcome out{};
    out.struct_size = sizeof out;
    out.affected_rows = -1;
    out.failed_row = -1;
    ilana_error err = fresh_error();
    const int rc = api->execute_many(conn_, &st, &out, &err);
    // A huge batch should not pin its memory to this thread forever.
    if (flat.capacity() > (1u << 20)) std::vector<ilana_value>().swap(flat);
    if (rc != ILANA_OK) {
        if (err.error_class == ILANA_ERR_NONE) {
            err.error_class = ILANA_ERR_INTERNAL;
            std::strcpy(err.message, "execute_many failed without an error record");
        }
        fail(err, "batch failed", !detail::is_read_only(sql), sql);
    }
    return out.affected_rows;
}

Result NativeConnection::introspect(Catalog what, const std::string &schema, const std::string &table) {
    const auto *api = driver().extension<ilana_introspect_api>(ILANA_EXT_INTROSPECT);
    if (api == nullptr || api->tables == nullptr || api->columns == nullptr || api->indexes == nullptr)
        throw Error("[" + name() + "] the driver " + driver().id() + " cannot introspect (no " + ILANA_EXT_INTROSPECT +
                        ")",
                    ErrorClass::internal, name());
    const char *s = schema.empty() ? nullptr : schema.c_str();
    const char *t = table.empty() ? nullptr : table.c_str();
    ilana_result *res = nullptr;
    ilana_error err = fresh_error();
    int rc = ILANA_OK;
    switch (what) {
    case Catalog::tables: rc = api->tables(conn_, s, &res, &err); break;
    case Catalog::columns: rc = api->columns(conn_, s, t, &res, &err); break;
    case Catalog::indexes: rc = api->indexes(conn_, s, t, &res, &err); break;
    }
    if (rc != ILANA_OK) fail(err, "introspection failed");
    NativeResult native(this, res);
    Result out;
    native.read_all(out);
    return out;
}

} // namespace ilana::detail
