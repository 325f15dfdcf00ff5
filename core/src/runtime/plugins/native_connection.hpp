// RAII over the raw ABI handles: NativeConnection owns an ilana_conn*,
// NativeResult an ilana_result*. Both keep the driver library loaded. Every
// ABI failure becomes an ilana::Error carrying class, SQLSTATE, native code,
// flags and the connection name. Nothing above this layer sees the C ABI
// except through these two classes.
#pragma once

#include <ilana/error.hpp>
#include <ilana/result.hpp>
#include <ilana/value.hpp>

#include "plugins/loaded_driver.hpp"

#include <algorithm>
#include <atomic>
#include <cstring>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

namespace ilana::detail {

class PasswordProvider;

// Everything needed to open sessions of one named connection.
struct ConnectTarget {
    std::string name;                       // config name; also the log context
    std::shared_ptr<LoadedDriver> driver;
    std::vector<std::pair<std::string, std::string>> params; // incl. ilana.* keys
    std::function<std::string(std::string)> redact;          // removes secrets
    // The "password" parameter's provider (README "Credentials"), asked at
    // each open; null when the password (if any) is one of `params`.
    std::shared_ptr<PasswordProvider> password;
};

// An ilana_error ready to pass to a driver call (struct_size set, "no error").
ilana_error fresh_error();

[[noreturn]] void throw_abi_error(const ilana_error &err, const std::string &connection,
                                  const std::function<std::string(std::string)> &redact,
                                  const char *operation);

class NativeResult;

class NativeConnection {
public:
    // Opens a session; throws Error (class from the driver) on failure.
    // With a password provider: its current value, and when the driver
    // refuses it with the auth class, the provider's value read again and
    // the connect tried once more if it changed (a rotated password).
    static std::unique_ptr<NativeConnection> open(std::shared_ptr<const ConnectTarget> target,
                                                  int32_t timeout_ms);
    ~NativeConnection();
    NativeConnection(const NativeConnection &) = delete;
    NativeConnection &operator=(const NativeConnection &) = delete;

    const std::string &name() const noexcept { return target_->name; }
    const LoadedDriver &driver() const noexcept { return *target_->driver; }
    // The dialect of the server this session reaches: the one the driver
    // reported for it at connect ("ilana.conn_dialect/1", ABI 1.3), else the
    // descriptor's. Valid while this connection lives.
    const ilana_dialect &dialect() const noexcept { return *dialect_; }
    // ILANA_PLACEHOLDER_*: what the SQL given to execute must be written in.
    int placeholder_style() const noexcept { return dialect_->placeholder; }
    ilana_conn *handle() const noexcept { return conn_; }

    // Runs `sql` (already in the driver's placeholder style). The returned
    // result must be destroyed before the next call on this connection.
    // `timeout_ms` > 0: the statement timeout (ABI 1.2; the caller checked
    // that the driver sees it, driver_enforces_statement_timeout).
    // `as_written`: the caller's text (with ?) for Error::sql(); "" = `sql`.
    NativeResult execute(std::string_view sql, const ilana_value *params, size_t count, uint32_t flags,
                         int64_t timeout_ms = 0, std::string_view as_written = {});
    // The same with the C++ API's values, put into this thread's scratch
    // array of ilana_value (no allocation once warm).
    NativeResult execute_values(std::string_view sql, const Value *params, size_t count, uint32_t flags,
                                int64_t timeout_ms = 0, std::string_view as_written = {});
    // Prepared statements by handle ("ilana.prepare/1", ABI 1.4). The core
    // names a statement by a slot (small, reused) and an id (never reused);
    // this connection keeps the driver's handle per slot.
    bool prepares_by_handle() const noexcept { return prepare_ != nullptr; }
    // The handle of statement `id` in `slot`, preparing `sql` (already in
    // this connection's placeholder style) when the slot holds none or an
    // older statement's (released first). Throws Error for a statement the
    // driver refuses, or one whose parameter count is not `param_count`;
    // its Error::sql() is `as_written` (the caller's text, with ?).
    ilana_prepared *prepared(uint32_t slot, uint64_t id, std::string_view sql, size_t param_count,
                             std::string_view as_written);
    // The handle of statement `id` in `slot` when this connection has it
    // prepared already, else nullptr (no I/O).
    ilana_prepared *prepared_if_ready(uint32_t slot, uint64_t id) const noexcept {
        return slot < prepared_.size() && prepared_[slot].id == id ? prepared_[slot].handle : nullptr;
    }
    // Runs a handle of this connection (prepared()); as execute_values.
    NativeResult execute_prepared(ilana_prepared *handle, std::string_view sql, std::string_view as_written,
                                  const Value *params, size_t count, uint32_t flags, int64_t timeout_ms = 0);
    // Releases the handle in `slot`, if any: the next prepared() prepares
    // the statement again (after a failure, which may be a schema change).
    void forget_prepared(uint32_t slot) noexcept;
    // ---- asynchronous statements ("ilana.async/1", ABI 1.5) ----------------
    // The driver's table, or nullptr when it has none.
    const ilana_async_api *async_api() const noexcept { return async_; }
    // Queues one statement (`sql` in this connection's placeholder style, or
    // `prepared`, a handle of prepared()) to complete through poll(). Throws
    // Error (with ILANA_ERRF_NOT_SENT) when the driver refuses it.
    void submit(std::string_view sql, const Value *params, size_t count, std::string_view as_written,
                ilana_prepared *prepared = nullptr);
    // One step of the driver's pump (ilana_async_api::poll): ILANA_OK with
    // *out the oldest statement's result, ILANA_ERROR with `err` its error
    // (error_of), ILANA_PENDING with `wait` filled, ILANA_DONE.
    ilana_status poll(ilana_result **out, ilana_async_wait &wait, ilana_error &err) noexcept;
    // The error fail() would throw for `err`, held (a broken connection is
    // marked so, as fail() does).
    std::exception_ptr error_of(const ilana_error &err, const char *operation, bool may_have_written,
                                std::string_view sql) noexcept;
    // Whether the driver runs a batch itself ("ilana.batch/1").
    bool runs_batches() const noexcept;
    // Runs `sql` once per row of `rows` (each of `width` values) as one
    // batch through "ilana.batch/1" (runs_batches()); returns the summed
    // affected rows. Throws Error.
    int64_t execute_many(std::string_view sql, const std::vector<std::vector<Value>> &rows, size_t width);
    // The driver's catalog ("ilana.introspect/1") as rows: tables of
    // `schema`, or columns / indexes of `table` ("" = all). Throws Error
    // (internal) when the driver has no such extension.
    enum class Catalog { tables, columns, indexes };
    Result introspect(Catalog what, const std::string &schema, const std::string &table);
    void ping(int32_t timeout_ms);
    void begin();
    void commit();
    void rollback();
    // [thread-safe] cancel the statement running on this connection.
    void cancel();
    struct ServerInfo {
        std::string product, version;
        int64_t version_number = 0, max_connections = -1;
    };
    ServerInfo server_info();

    // The column set of an open result of this connection: the one built
    // for the previous result when the driver says the description is the
    // same (equal nonzero ilana_result_info.columns_id, ABI 1.1), otherwise
    // built (or found equal to the thread's last set) by describe_columns.
    // The reference stays valid until the next call on this connection.
    const std::shared_ptr<const ColumnSet> &columns_of(const ilana_result_info &info);

    // Session state between leases ("ilana.session/1", ABI 1.2). Whether a
    // statement of the lease may have left state in the session (no I/O:
    // a flag the driver keeps); false when the driver has no such extension.
    bool session_dirty() const noexcept { return session_ != nullptr && session_->is_dirty(conn_) != 0; }
    // Resets a dirty session to the state connect left it in; throws Error
    // (the pool then discards the session).
    void reset_session();

    // Set when a call failed with ILANA_ERRF_CONN_BROKEN: the pool discards it.
    bool broken() const noexcept { return broken_; }
    void mark_broken() noexcept { broken_ = true; }
    // Throws the driver's error as its kind (detail::throw_error).
    // `may_have_written`: the call was a write or a commit, so a connection
    // lost after sending leaves its outcome unknown (OutcomeUnknown). `sql`:
    // the statement that failed, shown as Error::sql().
    [[noreturn]] void fail(const ilana_error &err, const char *operation, bool may_have_written = false,
                           std::string_view sql = {});
    // Sets `e`'s statement (Error::sql(), through this connection's secret
    // masking) unless it has one: for failures of a statement found above
    // the execute call (fetching its rows, checks before sending it).
    void set_statement(Error &e, std::string_view sql) const;

private:
    // The dialect `conn` reports for itself, checked, or the descriptor's;
    // closes `conn` and throws Error (internal) for one the host cannot use.
    static const ilana_dialect *connection_dialect(const ConnectTarget &target, ilana_conn *conn);
    NativeConnection(std::shared_ptr<const ConnectTarget> target, ilana_conn *conn,
                     const ilana_session_api *session, const ilana_dialect *dialect,
                     const ilana_prepare_api *prepare)
        : target_(std::move(target)), conn_(conn), session_(session), dialect_(dialect), prepare_(prepare),
          async_(target_->driver->async_api()) {}
    std::shared_ptr<const ConnectTarget> target_;
    ilana_conn *conn_;
    const ilana_session_api *session_; // nullptr: the driver cannot tell or reset
    const ilana_dialect *dialect_;     // the connection's (driver memory until close) or the descriptor's
    const ilana_prepare_api *prepare_; // nullptr: the driver prepares by text only (ILANA_EXEC_CACHE)
    const ilana_async_api *async_;     // nullptr: no non-blocking statements
    // The driver's handles by statement slot, with the id of the statement
    // each was prepared for (0: none). Freed by close with the connection.
    struct PreparedSlot {
        uint64_t id = 0;
        ilana_prepared *handle = nullptr;
    };
    std::vector<PreparedSlot> prepared_;
    bool broken_ = false;
    uint64_t last_columns_id_ = 0; // 0: none (or the driver promised nothing)
    std::shared_ptr<const ColumnSet> last_columns_; // of the last result (kept for id 0 too)
};

class NativeResult {
public:
    NativeResult(NativeConnection *conn, ilana_result *res) noexcept : conn_(conn), res_(res) {}
    NativeResult(NativeResult &&o) noexcept : conn_(o.conn_), res_(std::exchange(o.res_, nullptr)) {}
    NativeResult &operator=(NativeResult &&) = delete;
    ~NativeResult() { close(); }

    ilana_result_info info() const noexcept;
    // The counts of info(): columns, and the rows a change affected (-1:
    // unknown; counted only after the last row of a change returning rows).
    struct Counts {
        uint32_t column_count = 0;
        int64_t affected_rows = -1;
        int64_t last_insert_id = 0;
    };
    Counts counts() const noexcept {
        const ilana_result_info i = info();
        return Counts{i.column_count, i.affected_rows, i.last_insert_id};
    }
    // Calls `on_row(const Row &)` for each remaining row, in batches of up
    // to `batch_rows` from the driver, without keeping them; the Row is
    // valid during the call. An on_row returning bool stops the reading
    // when it returns false (the rest is not fetched). Returns the number
    // of rows passed.
    template <class OnRow> size_t for_each_row(OnRow &&on_row, uint32_t batch_rows = 1024);
    // The columns `info` describes, as a shared set (NativeConnection::columns_of).
    const std::shared_ptr<const ColumnSet> &columns(const ilana_result_info &info) { return conn_->columns_of(info); }
    // Fills `batch`; returns true when more may follow (ILANA_OK), false on
    // ILANA_DONE. Throws Error on failure.
    bool fetch(ilana_batch &batch, uint32_t max_rows);
    // Throws Error (internal, naming the driver bug) when a batch with rows
    // has another column count than the result's description.
    void check_batch(const ilana_batch &batch, uint32_t column_count) const;
    // Reads every remaining row into `out` (columns set from info(), the
    // counts from info() after the last row).
    void read_all(Result &out);
    // Fetches every remaining row without looking at it.
    void drain();
    void close() noexcept;

private:
    NativeConnection *conn_;
    ilana_result *res_;
};

template <class OnRow> size_t NativeResult::for_each_row(OnRow &&on_row, uint32_t batch_rows) {
    const ilana_result_info info = this->info();
    if (info.column_count == 0) return 0;
    // Borrowed, not shared: the connection keeps the set until its next
    // columns_of, and nothing below asks for another (a reference count's
    // two locked instructions per statement saved).
    const ColumnSet &set = *columns(info);
    const std::vector<Column> &cols = set.columns;
    const std::vector<const char *> &names = set.names;
    size_t rows = 0;
    ilana_batch batch;
    bool more = true;
    // false: stop (an on_row returning bool said so).
    auto pass = [&](const Row &row) {
        ++rows;
        if constexpr (std::is_same_v<decltype(on_row(row)), bool>) {
            return on_row(row);
        } else {
            on_row(row);
            return true;
        }
    };
    while (more) {
        more = fetch(batch, batch_rows);
        check_batch(batch, static_cast<uint32_t>(cols.size()));
        const size_t stride = batch.value_size ? batch.value_size : sizeof(ilana_value);
        const char *base = reinterpret_cast<const char *>(batch.cells);
        if (stride == sizeof(ilana_value)) {
            for (uint32_t i = 0; i < batch.row_count; ++i)
                if (!pass(Row(batch.cells + static_cast<size_t>(i) * cols.size(), &cols, &names))) return rows;
        } else {
            // A driver with a different value stride: copy row by row.
            std::vector<ilana_value> tmp(cols.size());
            for (uint32_t i = 0; i < batch.row_count; ++i) {
                for (size_t c = 0; c < cols.size(); ++c)
                    std::memcpy(&tmp[c], base + (i * cols.size() + c) * stride, std::min(stride, sizeof(ilana_value)));
                if (!pass(Row(tmp.data(), &cols, &names))) return rows;
            }
        }
    }
    return rows;
}

// Column descriptions of an open result, as C++ values (the same shared set
// as the previous result on this thread when nothing changed).
std::shared_ptr<const ColumnSet> describe_columns(const ilana_result_info &info);

} // namespace ilana::detail
