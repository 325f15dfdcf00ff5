#include "plugins/native_connection.hpp"

#include "common/error_factory.hpp"
#include "common/sql_kind.hpp"
#include "credentials/password_provider.hpp"

#include <ilana/logging.hpp>

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cstddef>
#include <cstring>

namespace ilana::detail {

// Only the header and the first byte of each string are cleared: zeroing
// the whole message buffer (1 KiB) on every call was a visible share of a
// sub-microsecond query, and a driver that fails writes the message anyway
// (the NUL at message[0] keeps a failure without one readable).
ilana_error fresh_error() {
    ilana_error e;
    e.struct_size = sizeof e;
    e.error_class = ILANA_ERR_NONE;
    e.flags = 0;
    e.native_code = 0;
    std::memset(e.sqlstate, 0, sizeof e.sqlstate);
    e.message[0] = '\0';
    e.condition = ILANA_COND_NONE;
    e.constraint_name[0] = '\0';
    return e;
}

namespace {

// The facts of a driver's error record, as a plain Error (throw_error
// decides its type).
Error abi_error(const ilana_error &err, const std::string &connection,
                const std::function<std::string(std::string)> &redact, const char *operation) {
    // strnlen: a driver that forgot the NUL must not make us read past the buffer.
    std::string msg = err.message[0] != '\0' ? std::string(err.message, strnlen(err.message, sizeof err.message))
                                            : std::string("driver reported no message");
    if (redact) msg = redact(std::move(msg));
    std::string prefix = connection.empty() ? std::string() : "[" + connection + "] ";
    auto cls = static_cast<ErrorClass>(err.error_class >= 0 && err.error_class <= ILANA_ERR_CONFIG
                                           ? err.error_class
                                           : ILANA_ERR_INTERNAL);
    std::string sqlstate(err.sqlstate, strnlen(err.sqlstate, sizeof err.sqlstate));
    return Error(prefix + operation + ": " + msg, cls, connection, sqlstate, err.native_code, err.flags);
}

// The record's ABI 1.3 fields; a driver of an older ABI leaves them as
// fresh_error set them.
[[noreturn]] void throw_abi_facts(Error facts, const ilana_error &err) {
    throw_error(std::move(facts), err.condition,
                std::string(err.constraint_name, strnlen(err.constraint_name, sizeof err.constraint_name)));
}

} // namespace

[[noreturn]] void throw_abi_error(const ilana_error &err, const std::string &connection,
                                  const std::function<std::string(std::string)> &redact, const char *operation) {
    throw_abi_facts(abi_error(err, connection, redact, operation), err);
}

std::unique_ptr<NativeConnection> NativeConnection::open(std::shared_ptr<const ConnectTarget> target,
                                                         int32_t timeout_ms) {
    std::vector<ilana_param> params;
    params.reserve(target->params.size() + 1);
    for (const auto &kv : target->params) params.push_back({kv.first.c_str(), kv.second.c_str()});
    std::string password;
    if (target->password) {
        password = target->password->current();
        params.push_back({"password", password.c_str()});
    }
    ilana_connect_params cp{};
    cp.struct_size = sizeof cp;
    cp.params = params.data();
    cp.param_count = static_cast<uint32_t>(params.size());
    cp.timeout_ms = timeout_ms;
    // The driver passes this back in log lines: the connection's name.
    cp.host_context = const_cast<std::string *>(&target->name);
    ilana_conn *conn = nullptr;
    ilana_error err = fresh_error();
    ilana_status status = target->driver->api().connect(&cp, &conn, &err);
    // The one place that decides a provider's re-read: an auth refusal of
    // the value it gave may mean the password was rotated since.
    if ((status != ILANA_OK || conn == nullptr) && target->password && err.error_class == ILANA_ERR_AUTH) {
        if (auto fresh = target->password->after_auth_failure(password)) {
            ilana::logger()->info("conn={} the server refused the password from the {}; read again, it changed: "
                                  "connecting once more with the new one",
                                  target->name, target->password->spec().file.empty() ? "password command"
                                                                                     : "password file");
            password = std::move(*fresh);
            params.back().value = password.c_str();
            conn = nullptr;
            err = fresh_error();
            status = target->driver->api().connect(&cp, &conn, &err);
        }
    }
    if (status != ILANA_OK || conn == nullptr) {
        if (err.error_class == ILANA_ERR_NONE) {
            err.error_class = ILANA_ERR_INTERNAL;
            std::strcpy(err.message, "connect failed without an error record");
        }
        throw_abi_error(err, target->name, target->redact, "connect");
    }
    // Looked up once per session, not per release. A table too short for
    // both functions, or missing one, counts as none.
    const auto *session = static_cast<const ilana_session_api *>(target->driver->extension(
        ILANA_EXT_SESSION, offsetof(ilana_session_api, reset) + sizeof(ilana_session_api::reset)));
    if (session != nullptr && (session->is_dirty == nullptr || session->reset == nullptr)) session = nullptr;
    const ilana_dialect *dialect = connection_dialect(*target, conn);
    const ilana_prepare_api *prepare = target->driver->prepare_api();
    return std::unique_ptr<NativeConnection>(new NativeConnection(std::move(target), conn, session, dialect, prepare));
}

const ilana_dialect *NativeConnection::connection_dialect(const ConnectTarget &target, ilana_conn *conn) {
    const LoadedDriver &driver = *target.driver;
    const ilana_conn_dialect_api *api = driver.connection_dialect_api();
    const ilana_dialect *own = api != nullptr ? api->dialect_of(conn) : nullptr;
    if (own == nullptr) return &driver.dialect();
    // A dialect the host cannot write in would garble every statement:
    // refused as a bad descriptor is, with the connection closed.
    if (std::string problem = dialect_problem(*own); !problem.empty()) {
        driver.api().close(conn);
        throw Error("[" + target.name + "] the driver " + driver.path() + " reported a connection dialect (" +
                        ILANA_EXT_CONN_DIALECT + ") the host cannot use: " + problem +
                        "; this is a bug of the driver, the connection was closed",
                    ErrorClass::internal, target.name);
    }
    return own;
}

void NativeConnection::reset_session() {
    ilana_error err = fresh_error();
    if (session_->reset(conn_, &err) != ILANA_OK) {
        if (err.error_class == ILANA_ERR_NONE) {
            err.error_class = ILANA_ERR_INTERNAL;
            std::strcpy(err.message, "reset failed without an error record");
        }
        fail(err, "session reset failed");
    }
}

NativeConnection::~NativeConnection() {
    if (conn_ != nullptr) target_->driver->api().close(conn_);
}

void NativeConnection::fail(const ilana_error &err, const char *operation, bool may_have_written,
                            std::string_view sql) {
    if (err.flags & ILANA_ERRF_CONN_BROKEN) broken_ = true;
    Error e = abi_error(err, target_->name, target_->redact, operation);
    // Sent, then the connection went: a write may or may not be applied.
    if (may_have_written && !e.not_sent() &&
        (e.error_class() == ErrorClass::connection || e.poisons_connection()))
        e.set_outcome_unknown();
    if (!sql.empty()) set_statement(e, sql);
    throw_abi_facts(std::move(e), err);
}

void NativeConnection::set_statement(Error &e, std::string_view sql) const {
    if (!e.sql().empty()) return;
    // Redacted whole, then cut: a secret the cut would split is masked first.
    e.set_sql(target_->redact ? target_->redact(std::string(sql)) : sql);
}

namespace {
// The ilana_statement of one execute (prepared or not).
ilana_statement statement_of(std::string_view sql, const ilana_value *params, size_t count, uint32_t flags,
                             int64_t timeout_ms) noexcept {
    ilana_statement st{};
    st.struct_size = sizeof st;
    st.sql = sql.data();
    st.sql_len = sql.size();
    st.params = params;
    st.param_count = static_cast<uint32_t>(count);
    st.value_size = sizeof(ilana_value);
    st.flags = flags;
    st.timeout_ms = timeout_ms;
    return st;
}
} // namespace

NativeResult NativeConnection::execute(std::string_view sql, const ilana_value *params, size_t count,
                                       uint32_t flags, int64_t timeout_ms, std::string_view as_written) {
    const ilana_statement st = statement_of(sql, params, count, flags, timeout_ms);
    ilana_result *res = nullptr;
    ilana_error err = fresh_error();
    if (target_->driver->api().execute(conn_, &st, &res, &err) != ILANA_OK)
        fail(err, "query failed", !detail::is_read_only(sql), as_written.empty() ? sql : as_written);
    return NativeResult(this, res);
}

namespace {
// Per-thread scratch: the parameters of one statement as ilana_values.
thread_local std::vector<ilana_value> t_params;
} // namespace

NativeResult NativeConnection::execute_values(std::string_view sql, const Value *params, size_t count, uint32_t flags,
                                              int64_t timeout_ms, std::string_view as_written) {
    t_params.resize(count);
    for (size_t i = 0; i < count; ++i) t_params[i] = params[i].abi();
    return execute(sql, t_params.data(), count, flags, timeout_ms, as_written);
}

void NativeConnection::submit(std::string_view sql, const Value *params, size_t count, std::string_view as_written,
                              ilana_prepared *prepared) {
    t_params.resize(count);
    for (size_t i = 0; i < count; ++i) t_params[i] = params[i].abi();
    // The driver copies everything it keeps: the scratch array is free
    // again when submit returns. ILANA_EXEC_CACHE as on the blocking path:
    // the same statements come again (the driver may run them prepared).
    const ilana_statement st = statement_of(sql, t_params.data(), count, ILANA_EXEC_CACHE, 0);
    ilana_error err = fresh_error();
    if (async_->submit(conn_, prepared, &st, &err) != ILANA_OK) {
        if (err.error_class == ILANA_ERR_NONE) {
            err.error_class = ILANA_ERR_INTERNAL;
            std::strcpy(err.message, "submit failed without an error record");
        }
        fail(err, "query failed", false, as_written.empty() ? sql : as_written);
    }
}

ilana_status NativeConnection::poll(ilana_result **out, ilana_async_wait &wait, ilana_error &err) noexcept {
    *out = nullptr;
    err = fresh_error();
    wait.struct_size = sizeof wait;
    const ilana_status st = async_->poll(conn_, out, &wait, &err);
    if (st == ILANA_ERROR && err.error_class == ILANA_ERR_NONE) {
        err.error_class = ILANA_ERR_INTERNAL;
        std::strcpy(err.message, "poll failed without an error record");
    }
    return st;
}

std::exception_ptr NativeConnection::error_of(const ilana_error &err, const char *operation, bool may_have_written,
                                              std::string_view sql) noexcept {
    try {
        fail(err, operation, may_have_written, sql);
    } catch (...) {
        return std::current_exception();
    }
}

ilana_prepared *NativeConnection::prepared(uint32_t slot, uint64_t id, std::string_view sql, size_t param_count,
                                           std::string_view as_written) {
    if (slot < prepared_.size() && prepared_[slot].id == id) return prepared_[slot].handle;
    if (slot >= prepared_.size()) prepared_.resize(static_cast<size_t>(slot) + 1);
    forget_prepared(slot); // an earlier statement's, whose slot this one reuses
    ilana_prepared *handle = nullptr;
    uint32_t count = 0;
    ilana_error err = fresh_error();
    if (prepare_->prepare(conn_, sql.data(), sql.size(), &handle, &count, &err) != ILANA_OK || handle == nullptr) {
        if (err.error_class == ILANA_ERR_NONE) {
            err.error_class = ILANA_ERR_INTERNAL;
            std::strcpy(err.message, "prepare failed without an error record");
        }
        fail(err, "prepare failed", false, as_written);
    }
    if (count != param_count) {
        prepare_->release(conn_, handle);
        Error e("[" + name() + "] the driver " + driver().path() + " counts " + std::to_string(count) +
                    " parameter(s) in the statement, the host counted " + std::to_string(param_count) +
                    " ? placeholder(s): write parameters as ? only (the driver's own forms, such as ?1 or :name, "
                    "are not the API's)",
                ErrorClass::syntax, name());
        set_statement(e, as_written);
        throw e;
    }
    prepared_[slot] = PreparedSlot{id, handle};
    return handle;
}

void NativeConnection::forget_prepared(uint32_t slot) noexcept {
    if (slot >= prepared_.size() || prepared_[slot].handle == nullptr) return;
    prepare_->release(conn_, prepared_[slot].handle);
    prepared_[slot] = PreparedSlot{};
}

NativeResult NativeConnection::execute_prepared(ilana_prepared *handle, std::string_view sql,
                                                std::string_view as_written, const Value *params, size_t count,
                                                uint32_t flags, int64_t timeout_ms) {
    t_params.resize(count);
    for (size_t i = 0; i < count; ++i) t_params[i] = params[i].abi();
    const ilana_statement st = statement_of(sql, t_params.data(), count, flags, timeout_ms);
    ilana_result *res = nullptr;
    ilana_error err = fresh_error();
    if (prepare_->execute_prepared(conn_, handle, &st, &res, &err) != ILANA_OK)
        fail(err, "query failed", !detail::is_read_only(sql), as_written);
    return NativeResult(this, res);
}

void NativeConnection::ping(int32_t timeout_ms) {
    ilana_error err = fresh_error();
    if (target_->driver->api().ping(conn_, timeout_ms, &err) != ILANA_OK) fail(err, "ping failed");
}

void NativeConnection::begin() {
    auto fn = target_->driver->api().begin;
    if (fn == nullptr) throw Error("[" + name() + "] the driver does not support transactions", ErrorClass::internal, name());
    ilana_error err = fresh_error();
    if (fn(conn_, &err) != ILANA_OK) fail(err, "begin failed");
}

void NativeConnection::commit() {
    ilana_error err = fresh_error();
    if (target_->driver->api().commit(conn_, &err) != ILANA_OK) fail(err, "commit failed", true);
}

void NativeConnection::rollback() {
    ilana_error err = fresh_error();
    if (target_->driver->api().rollback(conn_, &err) != ILANA_OK) fail(err, "rollback failed");
}

void NativeConnection::cancel() {
    auto fn = target_->driver->api().cancel;
    if (fn == nullptr) throw Error("[" + name() + "] the driver cannot cancel statements", ErrorClass::internal, name());
    ilana_error err = fresh_error();
    if (fn(conn_, &err) != ILANA_OK) throw_abi_error(err, target_->name, target_->redact, "cancel failed");
}

NativeConnection::ServerInfo NativeConnection::server_info() {
    ServerInfo out;
    auto fn = target_->driver->api().server_info;
    if (fn == nullptr) return out;
    ilana_server_info si{};
    si.struct_size = sizeof si;
    ilana_error err = fresh_error();
    if (fn(conn_, &si, &err) != ILANA_OK) fail(err, "server info failed");
    out.product = si.product != nullptr ? si.product : "";
    out.version = si.version != nullptr ? si.version : "";
    out.version_number = si.version_number;
    out.max_connections = si.max_connections;
    return out;
}

ilana_result_info NativeResult::info() const noexcept {
    ilana_result_info info{};
    info.struct_size = sizeof info;
    info.affected_rows = -1;
    conn_->driver().api().result_info(res_, &info);
    return info;
}

void NativeResult::check_batch(const ilana_batch &batch, uint32_t column_count) const {
    if (batch.row_count == 0 || batch.column_count == column_count) return;
    throw Error("[" + conn_->name() + "] driver bug: fetch returned rows of " + std::to_string(batch.column_count) +
                    " column(s) for a result described with " + std::to_string(column_count) +
                    "; report it to the driver's authors (ilana-driver-conformance shows it)",
                ErrorClass::internal, conn_->name());
}

bool NativeResult::fetch(ilana_batch &batch, uint32_t max_rows) {
    batch = ilana_batch{};
    batch.struct_size = sizeof batch;
    batch.max_rows = max_rows;
    ilana_error err = fresh_error();
    ilana_status st = conn_->driver().api().fetch(res_, &batch, &err);
    if (st == ILANA_ERROR) conn_->fail(err, "fetch failed");
    return st == ILANA_OK;
}

namespace {
// The column set described last on this thread. A statement run again (the
// common case) has the same columns: comparing them with the driver's is
// cheaper than building the strings again, and the set is then shared.
thread_local std::shared_ptr<const ColumnSet> t_last_columns;

bool same_columns(const ilana_result_info &info, const std::vector<Column> &cols) {
    if (cols.size() != info.column_count) return false;
    const char *base = reinterpret_cast<const char *>(info.columns);
    const bool whole = info.column_size >= sizeof(ilana_column); // the usual case: read in place
    for (uint32_t i = 0; i < info.column_count; ++i) {
        const char *at = base + static_cast<size_t>(i) * info.column_size;
        ilana_column copy{};
        if (!whole) std::memcpy(&copy, at, info.column_size);
        const ilana_column &c = whole ? *reinterpret_cast<const ilana_column *>(at) : copy;
        const Column &have = cols[i];
        if (static_cast<int32_t>(have.type) != c.type || have.nullable != c.nullable) return false;
        if (std::strcmp(have.name.c_str(), c.name != nullptr ? c.name : "") != 0) return false;
        if (std::strcmp(have.native_type.c_str(), c.native_type != nullptr ? c.native_type : "") != 0) return false;
    }
    return true;
}
} // namespace

std::shared_ptr<const ColumnSet> describe_columns(const ilana_result_info &info) {
    if (info.column_count > 0 && t_last_columns && same_columns(info, t_last_columns->columns))
        return t_last_columns;
    std::vector<Column> cols;
    cols.reserve(info.column_count);
    const char *base = reinterpret_cast<const char *>(info.columns);
    for (uint32_t i = 0; i < info.column_count; ++i) {
        ilana_column c{};
        std::memcpy(&c, base + static_cast<size_t>(i) * info.column_size,
                    std::min<size_t>(info.column_size, sizeof c));
        Column col;
        col.name = c.name != nullptr ? c.name : "";
        col.type = static_cast<Type>(c.type);
        col.native_type = c.native_type != nullptr ? c.native_type : "";
        col.nullable = c.nullable;
        cols.push_back(std::move(col));
    }
    auto set = ColumnSet::make(std::move(cols));
    t_last_columns = set;
    return set;
}

const std::shared_ptr<const ColumnSet> &NativeConnection::columns_of(const ilana_result_info &info) {
    // (The count is compared too: a driver breaking the promise must not
    // make the host read a batch with the wrong stride.)
    if (info.columns_id != 0 && info.columns_id == last_columns_id_ &&
        last_columns_->columns.size() == info.column_count)
        return last_columns_;
    last_columns_ = describe_columns(info);
    last_columns_id_ = info.columns_id; // 0 never matches: the set is only held here
    return last_columns_;
}

void NativeResult::read_all(Result &out) {
    // The first batch before the description: rows that come from a change
    // (INSERT ... RETURNING) are counted only once the last one is read
    // (driver.h, ilana_result_info), so after a first batch that is also
    // the last (the usual case) one result_info call has the final counts.
    // (A result without columns answers DONE with no rows: the kit checks.)
    ilana_batch batch;
    bool more = fetch(batch, 1024);
    ilana_result_info inf = info();
    if (inf.column_count > 0) {
        out.set_columns(columns(inf));
        for (;;) {
            check_batch(batch, inf.column_count);
            if (batch.row_count > 0 && batch.cells != nullptr)
                out.append(batch.cells, batch.row_count, batch.value_size ? batch.value_size : sizeof(ilana_value));
            if (!more) break;
            more = fetch(batch, 1024);
            if (!more) inf = info(); // the last batch: the counts are final now
        }
    }
    out.set_counts(inf.affected_rows, inf.last_insert_id);
}

void NativeResult::drain() {
    ilana_batch batch;
    while (fetch(batch, 1024)) {
    }
}

void NativeResult::close() noexcept {
    if (res_ != nullptr) {
        conn_->driver().api().result_close(res_);
        res_ = nullptr;
    }
}

} // namespace ilana::detail
