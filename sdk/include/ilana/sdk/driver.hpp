// ilana/sdk/driver.hpp — write an ilana driver as three C++ classes.
//
//   struct MyDriver : ilana::sdk::Driver<MyDriver, MyConnection, MyResult> {
//       static constexpr const char *id = "com.example.mydb";
//       static constexpr const char *name = "MyDB";
//       static constexpr const char *version = "1.0.0";
//       static constexpr const char *clients[] = {"mydb"};
//       static constexpr uint64_t capabilities = ILANA_CAP_STREAMING;
//       static std::unique_ptr<MyConnection> connect(ilana::sdk::ConnectParams &settings);
//   };
//   ILANA_SDK_EXPORT_DRIVER(MyDriver)
//
// The SDK builds the ABI's entry, descriptor and function table from that
// (struct sizes, magic, ABI version), wraps every entry point so that no C++
// exception crosses the boundary (DriverFailure keeps its class, SQLSTATE
// and flags; anything else is ILANA_ERR_INTERNAL), keeps every string it
// hands to the host alive for the time driver.h promises, enforces "one open
// result per connection", checks rows against their columns, and rejects
// connection parameters nobody read (ILANA_ERR_CONFIG naming the key).
//
// What the driver class may declare (static members; * = mandatory):
//   * id, name, version            const char*, non-empty
//   * clients                      const char*[]: lower-case client names
//     description                  const char* (default none)
//     capabilities                 uint64_t ILANA_CAP_* (default 0)
//     dialect                      ilana_dialect (default: '?', '"', LIMIT/OFFSET,
//                                  no upsert, no RETURNING, 999 parameters)
//                                  (`static inline`, not constexpr, to
//                                  complete it in on_init: the descriptor
//                                  points at the driver's own object)
//   * connect(ConnectParams&)      -> std::unique_ptr<Connection type>
//     on_init(const ilana_host&)   first init: start the client library
//     on_deinit()                  last deinit
//     extension(const char *id)    -> const void*: the driver's own extension
//                                  tables (the SDK answers "ilana.introspect/1"
//                                  and "ilana.lock/1" itself, see below)
//     lock_flags                   uint32_t ILANA_LOCK_* (with lock_acquire)
//     params                       ilana_param_decl[]: every connection
//                                  parameter connect reads (build them with
//                                  <ilana/sdk/params.hpp>); gives
//                                  "ilana.params/1", so the host checks
//                                  them at load and lists them
//     params_flags                 uint32_t ILANA_PARAMS_* (default 0: the
//                                  list is complete)
//     batch_method                 int32_t ILANA_BATCH_* (default
//                                  ILANA_BATCH_LOOP; with execute_many)
//     namespace_isolation          int32_t ILANA_NAMESPACE_*,
//     namespace_param_key          const char*,
//     namespace_create(C *conn, std::string_view ns),
//     namespace_drop(C *conn, std::string_view ns)
//                                  give "ilana.namespace/1" (all four; conn
//                                  is nullptr when the host passes none,
//                                  which driver.h allows for
//                                  ILANA_NAMESPACE_FILE only)
//     is_system_namespace(std::string_view) -> bool: the database's own
//                                  namespaces (is_system; pure, [any-thread];
//                                  drop refuses them before calling you)
//
// What the connection class (derived from ilana::sdk::Connection) may have:
//   * execute(const Statement&)    -> std::unique_ptr<R>, R derived from Result
//     ping(int32_t timeout_ms)     default: always alive
//     begin(), commit(), rollback()  required with ILANA_CAP_TRANSACTIONS
//     cancel()                     required with ILANA_CAP_CANCEL; [thread-safe]:
//                                  called from another thread while execute
//                                  or a fetch of this connection runs
//     server_info()                -> ServerInfo (default: the driver's name
//                                  and version)
//     tables(schema), columns(schema, table), indexes(schema, table)
//                                  -> std::unique_ptr<Result> (use
//                                  TablesResult, ColumnsResult, IndexesResult):
//                                  all three give the "ilana.introspect/1"
//                                  extension; schema/table are
//                                  std::optional<std::string_view>
//     lock_acquire(std::string_view name, int32_t timeout_ms),
//     lock_release(std::string_view name)   give "ilana.lock/1"
//     execute_many(const BatchStatement&) -> int64_t affected rows: gives
//                                  "ilana.batch/1"; throw BatchRowFailure to
//                                  name the failed row (never its values)
//     namespace_list(std::optional<std::string_view> prefix)
//                                  -> std::unique_ptr<Result> (one column
//                                  name TEXT); without it list answers
//                                  ILANA_UNSUPPORTED (file isolation: only
//                                  the host knows its files)
//     clone_namespace(std::string_view source, std::string_view target)
//                                  -> std::unique_ptr<Result> (the rows
//                                  driver.h describes): gives "ilana.ddl/1"
//     is_dirty() -> bool (noexcept, no I/O), reset_session():
//                                  give "ilana.session/1"
//     prepare(std::string_view sql) -> std::unique_ptr<P>, P derived from
//                                  PreparedStatement, and
//     execute(P &prepared, const Statement&) -> std::unique_ptr<R>
//                                  give "ilana.prepare/1" (ABI 1.4): the
//                                  SDK owns the P (deleted at release or
//                                  at close, before the connection) and
//                                  checks the parameter count; Statement's
//                                  sql is the text prepared
// A result reports a columns_id (ABI 1.1) with Result::set_columns_id;
// Connection::next_columns_id() gives fresh ids. The zero-cost path (see
// result.hpp; drivers/sqlite is the reference): a result whose recycle()
// returns true is kept at result_close and comes back from
// Connection::reuse_result<R>() with its columns, cells and arena. Statement timeouts (ABI
// 1.2) arrive in Statement::timeout_ms (see <ilana/sdk/statement_deadline.hpp>
// for a driver whose calls can block on a server); the SDK fails a fetch
// after the deadline unless the result said the statement ended
// (Result::end_timeout()).
//     dialect() const              -> const ilana_dialect*: the dialect of
//                                  the server this connection reached (a
//                                  bridge to several databases), nullptr for
//                                  the driver's; gives "ilana.conn_dialect/1"
//                                  (ABI 1.3). Decided in connect, unchanged
//                                  and alive until the connection is closed
//                                  (a member of the connection, typically)
//     connect_step(AsyncWait &wait, bool socket_ready) -> bool connected,
//     async_submit(const Statement&, P *prepared),
//     async_poll(std::unique_ptr<Result> &out, AsyncWait &wait) -> AsyncPoll,
//     with the driver class's static connect_start(ConnectParams&)
//                                  -> std::unique_ptr<C>: give
//                                  "ilana.async/1" (ABI 1.5; all four;
//                                  the driver class may declare
//                                  async_flags, ILANA_ASYNC_*). The SDK
//                                  calls connect_step(wait, false) right
//                                  after connect_start (say what to wait
//                                  for, no I/O) and with true at each
//                                  connect_continue; P is the prepare()
//                                  type (PreparedStatement without one),
//                                  nullptr for plain SQL; async_poll
//                                  throws the oldest statement's failure,
//                                  which completes it. The SDK keeps the
//                                  count in flight and refuses every
//                                  blocking call meanwhile, refuses a
//                                  statement timeout (the host's on this
//                                  path) and adds ILANA_ERRF_NOT_SENT to
//                                  async_submit's failures; cancel() is
//                                  the table's cancel.
// A capability claimed without its functions is a compile error; functions
// present but not claimed are not exposed.
//
// Every member runs inside the SDK's guard: throw DriverFailure(class,
// message, sqlstate, native_code, flags) to fail with a classified error.
//
// Thread rules are driver.h's: connect is [any-thread]; everything on one
// connection and its result is [conn-serialized] (one call at a time, maybe
// from different threads); cancel is [thread-safe]; on_init/on_deinit are
// [exclusive]. Static state shared by connections needs its own locking.
#ifndef ILANA_SDK_DRIVER_HPP
#define ILANA_SDK_DRIVER_HPP

#include <chrono>
#include <ilana/driver.h>
#include <ilana/sdk/driver_support.hpp>
#include <ilana/sdk/params.hpp>
#include <ilana/sdk/result.hpp>
#include <ilana/sdk/values.hpp>

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <iterator>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <typeinfo>
#include <utility>

namespace ilana::sdk {

namespace detail {
template <class D> struct Thunks;
}

// ---------------------------------------------------------------------------
// Connect parameters

// The parameters of one connect: ParamReader's typed lookups (get, get_int,
// get_bool, accept), plus what the host adds. After connect returns, the SDK
// calls finish(): a key nobody looked up is ILANA_ERR_CONFIG naming it. Call
// finish() yourself before slow work (opening a socket) to fail fast.
class ConnectParams : public ParamReader {
public:
    explicit ConnectParams(const ilana_connect_params *p)
        : ParamReader(p), timeout_ms_(p != nullptr ? p->timeout_ms : 0),
          host_context_(p != nullptr ? p->host_context : nullptr) {
        if (p == nullptr) return;
        for (uint32_t i = 0; i < p->param_count; ++i) {
            const ilana_param &kv = p->params[i];
            if (kv.key == nullptr || kv.value == nullptr) continue;
            if (std::strcmp(kv.key, "ilana.config_dir") == 0) config_dir_ = kv.value;
            if (std::strcmp(kv.key, "ilana.connection") == 0) connection_name_ = kv.value;
        }
    }

    // Upper bound for establishing the session in ms (0: the driver's default).
    int32_t timeout_ms() const noexcept { return timeout_ms_; }
    // The directory of the host's config file ("" when the host gave none).
    const std::string &config_dir() const noexcept { return config_dir_; }
    // The connection's name in the host's config, for messages.
    const std::string &connection_name() const noexcept { return connection_name_; }
    // `path` as given when absolute (or empty), else resolved against
    // config_dir() (the process's working directory when there is none).
    std::string resolve_path(const std::string &path) const {
        if (path.empty() || path[0] == '/' || config_dir_.empty()) return path;
        return config_dir_ + (config_dir_.back() == '/' ? "" : "/") + path;
    }
    // The value the host passes back in its log callback for this connection.
    void *host_context() const noexcept { return host_context_; }
    // Logs through the host, tagged with the connection being made (the
    // Connection's own log() works once connect has returned). [thread-safe]
    void log(ilana_log_level level, std::string_view message) const noexcept;
    // For parameters a driver builds itself to connect again in place of
    // `c` (a session reset opening a fresh handle): log() goes through c.
    void log_as(const Connection &c) noexcept { log_as_ = &c; }

    void finish(std::string_view driver_name) {
        if (finished_) return;
        finished_ = true;
        ParamReader::finish(driver_name);
    }

private:
    template <class> friend struct detail::Thunks;
    int32_t timeout_ms_;
    void *host_context_;
    const HostLog *log_ = nullptr;
    const Connection *log_as_ = nullptr;
    std::string config_dir_;
    std::string connection_name_;
    bool finished_ = false;
};

// ---------------------------------------------------------------------------
// Statements

// One statement to execute; everything is borrowed for the call.
struct Statement {
    std::string_view sql; // in the driver's placeholder style, one statement
    Params params;        // in placeholder order
    uint32_t flags = 0;   // ILANA_EXEC_*
    // ABI 1.2: the statement timeout in ms (0 = none). The SDK checks it
    // before every fetch (a fetch after the deadline fails with
    // ILANA_ERR_TIMEOUT); a driver whose execute or fetch can block on a
    // server enforces it inside them too (<ilana/sdk/statement_deadline.hpp>).
    int64_t timeout_ms = 0;
    bool cache_hint() const noexcept { return (flags & ILANA_EXEC_CACHE) != 0; }
    bool read_only() const noexcept { return (flags & ILANA_EXEC_READ_ONLY) != 0; }
};

// What server_info reports.
struct ServerInfo {
    std::string product;           // "MyDB"
    std::string version;           // "2.4.1"
    int64_t version_number = 0;    // 20401; 0 unknown
    int64_t max_connections = -1;  // -1 unknown / none
};

// One statement with many rows of parameters ("ilana.batch/1"); borrowed
// for the call.
struct BatchStatement {
    std::string_view sql;
    uint64_t row_count = 0;
    uint32_t flags = 0; // ILANA_EXEC_*
    // The parameters of row `r` (0-based), in placeholder order.
    Params row(uint64_t r) const {
        return Params(reinterpret_cast<const ilana_value *>(base_ + static_cast<size_t>(r) * param_count_ * stride_),
                      param_count_, stride_);
    }
    uint32_t param_count() const noexcept { return param_count_; }

private:
    template <class> friend struct detail::Thunks;
    const unsigned char *base_ = nullptr;
    uint32_t param_count_ = 0;
    uint32_t stride_ = sizeof(ilana_value);
};

// A batch row failed: the error, and which row (0-based) for
// ilana_batch_outcome.failed_row. Any other exception reports row -1 (not
// tied to one row: prepare failed, connection lost).
class BatchRowFailure : public DriverFailure {
public:
    BatchRowFailure(int64_t row, DriverFailure failure) : DriverFailure(std::move(failure)), row_(row) {}
    int64_t row() const noexcept { return row_; }

private:
    int64_t row_;
};

// ---------------------------------------------------------------------------
// Prepared statements ("ilana.prepare/1")

// Base of the driver's prepared statement: what its connection's prepare()
// returns and its execute(P&, const Statement&) runs. The SDK owns it from
// prepare on and deletes it when the host releases it or closes the
// connection (before the connection itself, so the destructor may still use
// it), so the destructor frees what the statement holds.
class PreparedStatement {
public:
    explicit PreparedStatement(uint32_t param_count) noexcept : param_count_(param_count) {}
    PreparedStatement(const PreparedStatement &) = delete;
    PreparedStatement &operator=(const PreparedStatement &) = delete;
    virtual ~PreparedStatement() = default;
    // The parameters the statement takes; the SDK refuses another count.
    uint32_t param_count() const noexcept { return param_count_; }

private:
    friend struct detail::Access;
    uint32_t param_count_;
    // The connection's list of live statements (deleted at its close).
    PreparedStatement *prev_ = nullptr;
    PreparedStatement *next_ = nullptr;
};

// ---------------------------------------------------------------------------
// Non-blocking steps ("ilana.async/1")

// What a non-blocking step waits for: ilana_async_wait without its size.
struct AsyncWait {
    int64_t fd = -1;
    uint32_t events = 0;     // ILANA_WAIT_*
    int64_t timeout_ms = -1; // -1: no deadline of the driver's
};

// What async_poll did: completed the oldest statement (`out` set), is
// waiting (`wait` set), or found nothing in flight.
enum class AsyncPoll { ready, pending, idle };

// ---------------------------------------------------------------------------
// Connection base

// Base of the driver's connection class. The SDK creates nothing here; it
// records the host's context and the result that is open.
class Connection {
public:
    Connection() = default;
    Connection(const Connection &) = delete;
    Connection &operator=(const Connection &) = delete;
    virtual ~Connection() = default;

    // Logs through the host, tagged with this connection. [thread-safe]
    void log(ilana_log_level level, std::string_view message) const noexcept {
        if (log_ != nullptr) (*log_)(level, host_context_, message);
    }
    void *host_context() const noexcept { return host_context_; }
    // Whether a result of this connection is open (the SDK refuses a second),
    // or async statements are in flight ("ilana.async/1"): either way a
    // blocking call must not start.
    bool has_open_result() const noexcept { return open_result_ != nullptr; }
    // Statements submitted and not yet completed by poll ("ilana.async/1").
    uint64_t async_in_flight() const noexcept { return async_in_flight_; }
    // A fresh columns_id for Result::set_columns_id: one per column
    // description made on this connection, never reused.
    uint64_t next_columns_id() noexcept { return ++columns_ids_; }
    // The result this connection kept at its last result_close (its
    // recycle() returned true), when it is an R; else nullptr. It comes
    // back with its columns (frozen, with their columns_id), its cell array
    // and its arena; affected rows, last insert id, the statement timeout
    // and "done" are reset. Call clear_columns() on it when the new
    // statement's description differs.
    template <class R> std::unique_ptr<R> reuse_result() noexcept;

private:
    friend struct detail::Access;
    void *host_context_ = nullptr;
    const HostLog *log_ = nullptr;
    Result *open_result_ = nullptr;
    // What open_result_ returns to at result_close: nullptr, or the
    // "statements in flight" marker while async statements are (so the one
    // test that refuses a second result refuses blocking calls too).
    Result *rest_ = nullptr;
    uint64_t async_in_flight_ = 0; // submitted, not yet completed by poll
    std::unique_ptr<Result> spare_result_; // see reuse_result
    PreparedStatement *prepared_ = nullptr;  // live prepared statements (a list through them)
    uint64_t columns_ids_ = 0;
    std::optional<ServerInfo> server_info_; // kept until close (driver.h)
};

inline void ConnectParams::log(ilana_log_level level, std::string_view message) const noexcept {
    if (log_as_ != nullptr) log_as_->log(level, message);
    else if (log_ != nullptr) (*log_)(level, host_context_, message);
}

// The dialect a driver gets when it declares none.
constexpr ilana_dialect default_dialect() noexcept {
    return ilana_dialect{sizeof(ilana_dialect),     ILANA_PLACEHOLDER_QUESTION, '"', {0, 0, 0},
                         ILANA_LIMIT_LIMIT_OFFSET, ILANA_UPSERT_NONE,          0,   999};
}

// ---------------------------------------------------------------------------
// Internals the thunks use

namespace detail {

struct Access {
    static Result *&open_result(Connection &c) noexcept { return c.open_result_; }
    // "ilana.async/1": the marker open_result_ holds while statements are
    // in flight and no result is open (never a real result; never freed).
    static Result *in_flight_marker() noexcept {
        static Result marker;
        return &marker;
    }
    static Result *rest(const Connection &c) noexcept { return c.rest_; }
    static uint64_t &in_flight(Connection &c) noexcept { return c.async_in_flight_; }
    // The count in flight changed: the marker holds while any is.
    static void settle(Connection &c) noexcept {
        Result *const marker = in_flight_marker();
        c.rest_ = c.async_in_flight_ > 0 ? marker : nullptr;
        if (c.open_result_ == nullptr || c.open_result_ == marker) c.open_result_ = c.rest_;
    }
    static void attach(Connection &c, void *host_context, const HostLog *log) noexcept {
        c.host_context_ = host_context;
        c.log_ = log;
    }
    static std::optional<ServerInfo> &server_info(Connection &c) noexcept { return c.server_info_; }
    static Connection *&owner(Result &r) noexcept { return r.owner_; }
    static bool &done(Result &r) noexcept { return r.done_; }
    static void set_deadline(Result &r, int64_t timeout_ms, std::chrono::steady_clock::time_point start) noexcept {
        r.timeout_ms_ = timeout_ms;
        r.deadline_ = start + std::chrono::milliseconds(timeout_ms);
    }
    // Throws ILANA_ERR_TIMEOUT once the result's statement timeout passed.
    static void check_deadline(const Result &r) {
        if (r.timeout_ms_ > 0 && !r.timeout_ended_ && std::chrono::steady_clock::now() >= r.deadline_)
            throw DriverFailure(ILANA_ERR_TIMEOUT,
                                "statement timeout of " + std::to_string(r.timeout_ms_) + " ms elapsed", "57014");
    }
    static Batch &batch(Result &r) noexcept { return r.batch_; }
    // A kept result made ready for its next statement (reuse_result).
    static void rearm(Result &r) noexcept {
        r.done_ = false;
        r.affected_rows_ = -1;
        r.last_insert_id_ = 0;
        r.timeout_ms_ = 0;
        r.timeout_ended_ = false;
    }
    static bool recycle(Result &r) noexcept { return r.recycle(); }
    // The connection's live prepared statements: linked at prepare, unlinked
    // at release; close deletes those left.
    static void link(Connection &c, PreparedStatement &p) noexcept {
        p.prev_ = nullptr;
        p.next_ = c.prepared_;
        if (c.prepared_ != nullptr) c.prepared_->prev_ = &p;
        c.prepared_ = &p;
    }
    static void unlink(Connection &c, PreparedStatement &p) noexcept {
        if (p.prev_ != nullptr) p.prev_->next_ = p.next_;
        else c.prepared_ = p.next_;
        if (p.next_ != nullptr) p.next_->prev_ = p.prev_;
        p.prev_ = p.next_ = nullptr;
    }
    static void delete_prepared(Connection &c) noexcept {
        while (PreparedStatement *p = c.prepared_) {
            unlink(c, *p);
            delete p;
        }
    }
    static bool detach(Result &r) noexcept { return r.detach(); }
    static std::unique_ptr<Result> &spare_result(Connection &c) noexcept { return c.spare_result_; }
    static void freeze(Result &r) { r.freeze(); }
    static bool frozen(const Result &r) noexcept { return r.frozen_; }
    static const std::vector<ilana_column> &abi_columns(Result &r) noexcept { return r.abi_columns_; }
    static const std::vector<ilana_type> &types(Result &r) noexcept { return r.types_; }
    static bool fetch(Result &r, Batch &b) { return r.fetch(b); }
    static void reset(Batch &b, uint32_t max_rows, const std::vector<ilana_type> *types) { b.reset(max_rows, types); }
    static void finish(Batch &b) { b.finish(); }
    static const ilana_value *cells(const Batch &b) noexcept { return b.used_ == 0 ? nullptr : b.cells_.data(); }
};

} // namespace detail

template <class R> std::unique_ptr<R> Connection::reuse_result() noexcept {
    static_assert(std::is_base_of_v<Result, R>, "results must derive from ilana::sdk::Result");
    // typeid of one class of the driver: a pointer comparison. Through a
    // reference: typeid of `*spare_result_` would call operator*, which
    // clang warns about (-Wpotentially-evaluated-expression) in every driver.
    if (!spare_result_) return nullptr;
    const Result &spare = *spare_result_;
    if (typeid(spare) != typeid(R)) return nullptr;
    Result *r = spare_result_.release();
    detail::Access::rearm(*r);
    return std::unique_ptr<R>(static_cast<R *>(r));
}

namespace detail {

// Detection of optional members.
#define ILANA_SDK_DETECT_(trait, expr)                                                                       \
    template <class T, class = void> struct trait : std::false_type {};                                     \
    template <class T> struct trait<T, std::void_t<decltype(expr)>> : std::true_type {};

ILANA_SDK_DETECT_(has_ping, std::declval<T &>().ping(int32_t{}))
ILANA_SDK_DETECT_(has_begin, std::declval<T &>().begin())
ILANA_SDK_DETECT_(has_commit, std::declval<T &>().commit())
ILANA_SDK_DETECT_(has_rollback, std::declval<T &>().rollback())
ILANA_SDK_DETECT_(has_cancel, std::declval<T &>().cancel())
ILANA_SDK_DETECT_(has_server_info, std::declval<T &>().server_info())
ILANA_SDK_DETECT_(has_tables, std::declval<T &>().tables(std::optional<std::string_view>{}))
ILANA_SDK_DETECT_(has_columns, std::declval<T &>().columns(std::optional<std::string_view>{},
                                                            std::optional<std::string_view>{}))
ILANA_SDK_DETECT_(has_indexes, std::declval<T &>().indexes(std::optional<std::string_view>{},
                                                            std::optional<std::string_view>{}))
ILANA_SDK_DETECT_(has_lock_acquire, std::declval<T &>().lock_acquire(std::string_view{}, int32_t{}))
ILANA_SDK_DETECT_(has_lock_release, std::declval<T &>().lock_release(std::string_view{}))
ILANA_SDK_DETECT_(has_execute_many, static_cast<int64_t>(std::declval<T &>().execute_many(std::declval<const BatchStatement &>())))
ILANA_SDK_DETECT_(has_namespace_create, T::namespace_create(static_cast<typename T::connection_type *>(nullptr), std::string_view{}))
ILANA_SDK_DETECT_(has_namespace_drop, T::namespace_drop(static_cast<typename T::connection_type *>(nullptr), std::string_view{}))
ILANA_SDK_DETECT_(has_namespace_list, std::declval<T &>().namespace_list(std::optional<std::string_view>{}))
ILANA_SDK_DETECT_(has_clone_namespace, std::declval<T &>().clone_namespace(std::string_view{}, std::string_view{}))
ILANA_SDK_DETECT_(has_is_dirty, static_cast<bool>(std::declval<const T &>().is_dirty()))
ILANA_SDK_DETECT_(has_reset_session, std::declval<T &>().reset_session())
ILANA_SDK_DETECT_(has_batch_method, static_cast<int32_t>(T::batch_method))
ILANA_SDK_DETECT_(has_namespace_isolation, static_cast<int32_t>(T::namespace_isolation))
ILANA_SDK_DETECT_(has_namespace_param_key, static_cast<const char *>(T::namespace_param_key))
ILANA_SDK_DETECT_(has_is_system_namespace, static_cast<bool>(T::is_system_namespace(std::string_view{})))
ILANA_SDK_DETECT_(has_prepare, std::declval<T &>().prepare(std::string_view{}).release())
ILANA_SDK_DETECT_(has_connect_start, T::connect_start(std::declval<ConnectParams &>()).release())
ILANA_SDK_DETECT_(has_connect_step, static_cast<bool>(std::declval<T &>().connect_step(std::declval<AsyncWait &>(), bool{})))
ILANA_SDK_DETECT_(has_async_poll, static_cast<AsyncPoll>(std::declval<T &>().async_poll(std::declval<std::unique_ptr<Result> &>(),
                                                                                         std::declval<AsyncWait &>())))
ILANA_SDK_DETECT_(has_async_flags, static_cast<uint32_t>(T::async_flags))
ILANA_SDK_DETECT_(has_conn_dialect, static_cast<const ilana_dialect *>(std::declval<const T &>().dialect()))
ILANA_SDK_DETECT_(has_on_init, T::on_init(std::declval<const ilana_host &>()))
ILANA_SDK_DETECT_(has_on_deinit, T::on_deinit())
ILANA_SDK_DETECT_(has_extension, T::extension(static_cast<const char *>(nullptr)))
ILANA_SDK_DETECT_(has_lock_flags, static_cast<uint32_t>(T::lock_flags))
ILANA_SDK_DETECT_(has_params, std::size(T::params))
ILANA_SDK_DETECT_(has_params_flags, static_cast<uint32_t>(T::params_flags))
#undef ILANA_SDK_DETECT_

// The prepared-statement type of connection class C (what prepare returns
// a unique_ptr to), or PreparedStatement when C prepares nothing.
template <class C, bool = has_prepare<C>::value> struct prepared_type_of {
    using type = PreparedStatement;
};
template <class C> struct prepared_type_of<C, true> {
    using type = std::remove_pointer_t<decltype(std::declval<C &>().prepare(std::string_view{}).release())>;
};
template <class C, class P, class = void> struct has_async_submit : std::false_type {};
template <class C, class P>
struct has_async_submit<C, P, std::void_t<decltype(std::declval<C &>().async_submit(std::declval<const Statement &>(), static_cast<P *>(nullptr)))>>
    : std::true_type {};
template <class C, class P, class = void> struct has_execute_prepared : std::false_type {};
template <class C, class P>
struct has_execute_prepared<C, P, std::void_t<decltype(std::declval<C &>().execute(std::declval<P &>(), std::declval<const Statement &>()))>>
    : std::true_type {};

// Compile-time checks of the descriptor's strings.
constexpr bool non_empty(const char *s) noexcept { return s != nullptr && s[0] != '\0'; }
constexpr bool is_client_name(const char *s) noexcept {
    if (!non_empty(s)) return false;
    for (; *s != '\0'; ++s) {
        const char c = *s;
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-' || c == '.')) return false;
    }
    return true;
}
template <size_t N> constexpr size_t client_count(const char *const (&clients)[N]) noexcept {
    size_t n = 0;
    while (n < N && clients[n] != nullptr) ++n;
    return n;
}
template <size_t N> constexpr bool clients_valid(const char *const (&clients)[N]) noexcept {
    const size_t n = client_count(clients);
    if (n == 0) return false;
    for (size_t i = 0; i < n; ++i)
        if (!is_client_name(clients[i])) return false;
    return true;
}
template <size_t N> constexpr std::array<const char *, N + 1> null_terminated(const char *const (&clients)[N]) noexcept {
    std::array<const char *, N + 1> out{};
    for (size_t i = 0; i < N; ++i) out[i] = clients[i];
    out[N] = nullptr;
    return out;
}

// The host's services and the init count, one per driver.
template <class D> struct State {
    static inline HostLog log;
    static inline const ilana_host *host = nullptr;
    static inline InitCounter init_count;
};

// The ABI entry points, each a guarded call into the driver's classes.
template <class D> constexpr int32_t batch_method_of() noexcept {
    if constexpr (has_batch_method<D>::value) return static_cast<int32_t>(D::batch_method);
    else return ILANA_BATCH_LOOP;
}
template <class D> constexpr int32_t namespace_isolation_of() noexcept {
    if constexpr (has_namespace_isolation<D>::value) return static_cast<int32_t>(D::namespace_isolation);
    else return 0;
}
template <class D> constexpr const char *namespace_param_key_of() noexcept {
    if constexpr (has_namespace_param_key<D>::value) return D::namespace_param_key;
    else return nullptr;
}

template <class D> struct Thunks {
    using C = typename D::connection_type;

    static Connection *base(ilana_conn *h) noexcept { return reinterpret_cast<Connection *>(h); }
    static C &conn(ilana_conn *h) {
        if (h == nullptr) bad_call("NULL connection handle");
        return static_cast<C &>(*base(h));
    }
    static Result &res(ilana_result *h) {
        if (h == nullptr) bad_call("NULL result handle");
        return *reinterpret_cast<Result *>(h);
    }

    // The per-statement thunks' failures, out of their inlined paths.
#if defined(__GNUC__) || defined(__clang__)
    [[noreturn]] __attribute__((noinline, cold))
#else
    [[noreturn]]
#endif
    static void bad_call(const char *message, uint32_t flags = 0) {
        throw DriverFailure(ILANA_ERR_INTERNAL, message, {}, 0, flags);
    }
#if defined(__GNUC__) || defined(__clang__)
    [[noreturn]] __attribute__((noinline, cold))
#else
    [[noreturn]]
#endif
    static void batch_too_small(uint32_t size) {
        throw DriverFailure(ILANA_ERR_INTERNAL,
                            "fetch: ilana_batch.struct_size " + std::to_string(size) + " is too small");
    }
#if defined(__GNUC__) || defined(__clang__)
    __attribute__((noinline, cold))
#endif
    static bool freeze_for_info(Result &r) noexcept {
        try {
            Access::freeze(r);
            return true;
        } catch (...) {
            return false; // out of memory: report no columns rather than fail
        }
    }

    // Hands a result to the host, or refuses when one is still open.
    static void refuse_if_busy(Connection &c) {
        if (Access::open_result(c) != nullptr) busy(c);
    }
#if defined(__GNUC__) || defined(__clang__)
    [[noreturn]] __attribute__((noinline, cold))
#else
    [[noreturn]]
#endif
    static void busy(Connection &c) {
        if (Access::open_result(c) == Access::in_flight_marker())
            bad_call("async statements of this connection are in flight: poll until it returns ILANA_DONE "
                     "before a blocking call (ilana.async/1)",
                     ILANA_ERRF_NOT_SENT);
        bad_call("a result of this connection is still open: close it before executing again "
                 "(one open result per connection)",
                 ILANA_ERRF_NOT_SENT);
    }
    template <class R> static ilana_status hand_out(Connection &c, std::unique_ptr<R> r, ilana_result **out) {
        static_assert(std::is_base_of_v<Result, R>, "results must derive from ilana::sdk::Result");
        std::unique_ptr<Result> owned = r ? std::unique_ptr<Result>(std::move(r)) : std::make_unique<Result>();
        Access::owner(*owned) = &c;
        Access::open_result(c) = owned.get();
        *out = reinterpret_cast<ilana_result *>(owned.release());
        return ILANA_OK;
    }
    // Runs `make` (returning a unique_ptr to a Result) for a call that
    // produces a result: execute and the introspection functions.
    template <class Make> static ilana_status result_call(ilana_conn *h, ilana_result **out, ilana_error *err, Make &&make) {
        if (out != nullptr) *out = nullptr;
        return guarded(err, [&] {
            if (out == nullptr) throw DriverFailure(ILANA_ERR_INTERNAL, "NULL result out-pointer");
            C &c = conn(h);
            refuse_if_busy(c);
            return hand_out(c, make(c), out);
        });
    }

    static ilana_status init(const ilana_host *host, ilana_error *err) {
        return State<D>::init_count.init(err, [host] {
            if (host == nullptr) throw DriverFailure(ILANA_ERR_INTERNAL, "init: NULL host");
            State<D>::host = host;
            State<D>::log.attach(host);
            try {
                if constexpr (has_on_init<D>::value) D::on_init(*host);
            } catch (...) {
                State<D>::log.detach();
                State<D>::host = nullptr;
                throw;
            }
            return ILANA_OK;
        });
    }
    static void deinit() {
        State<D>::init_count.deinit([] {
            if constexpr (has_on_deinit<D>::value) D::on_deinit();
            State<D>::log.detach();
            State<D>::host = nullptr;
        });
    }

    static ilana_status connect(const ilana_connect_params *p, ilana_conn **out, ilana_error *err) {
        if (out != nullptr) *out = nullptr;
        return guarded(err, [&] {
            if (p == nullptr || out == nullptr) throw DriverFailure(ILANA_ERR_INTERNAL, "connect: NULL argument");
            if (p->param_count > 0 && p->params == nullptr)
                throw DriverFailure(ILANA_ERR_INTERNAL,
                                    "connect: params is NULL but param_count is " + std::to_string(p->param_count));
            ConnectParams params(p);
            params.log_ = &State<D>::log;
            std::unique_ptr<C> c = D::connect(params);
            if (!c) throw DriverFailure(ILANA_ERR_INTERNAL, "driver bug: connect returned no connection");
            params.finish(D::name);
            Access::attach(*c, params.host_context(), &State<D>::log);
            *out = reinterpret_cast<ilana_conn *>(static_cast<Connection *>(c.release()));
            return ILANA_OK;
        });
    }
    static void close(ilana_conn *h) {
        if (h == nullptr) return;
        Connection *c = base(h);
        try {
            // The host closes results first (driver.h); a leaked one goes now
            // (or stays, detached, when it says so), and a kept one before the
            // connection it may refer to.
            if (Result *r = Access::open_result(*c); r != nullptr && r != Access::in_flight_marker()) {
                Access::open_result(*c) = nullptr;
                if (Access::detach(*r)) Access::owner(*r) = nullptr;
                else delete r;
            }
            Access::spare_result(*c).reset();
            Access::delete_prepared(*c);
            delete static_cast<C *>(c);
        } catch (...) {
            // close never fails; a throwing destructor loses only its own cleanup
        }
    }
    static ilana_status ping(ilana_conn *h, int32_t timeout_ms, ilana_error *err) {
        return guarded(err, [&] {
            C &c = conn(h);
            if constexpr (has_ping<C>::value) c.ping(timeout_ms);
            else (void)c, (void)timeout_ms;
            return ILANA_OK;
        });
    }
    // result_call written out: one guarded lambda less on the path every
    // statement takes.
    static ilana_status execute(ilana_conn *h, const ilana_statement *stmt, ilana_result **out, ilana_error *err) {
        if (out != nullptr) *out = nullptr;
        return guarded(err, [&] {
            if (out == nullptr) bad_call("NULL result out-pointer");
            C &c = conn(h);
            refuse_if_busy(c);
            const Statement s = statement_of(stmt, "execute: NULL statement");
            // The clock is read only for a statement with a timeout.
            const auto start = s.timeout_ms > 0 ? std::chrono::steady_clock::now()
                                                : std::chrono::steady_clock::time_point{};
            auto r = c.execute(s);
            if (r && s.timeout_ms > 0) Access::set_deadline(*r, s.timeout_ms, start);
            return hand_out(c, std::move(r), out);
        });
    }
    // The Statement an ilana_statement describes (`what` names the call).
    static Statement statement_of(const ilana_statement *stmt, const char *what) {
        if (stmt == nullptr) bad_call(what);
        if (stmt->sql == nullptr && stmt->sql_len != 0) bad_call("statement sql is NULL", ILANA_ERRF_NOT_SENT);
        Statement s;
        if (stmt->sql != nullptr) s.sql = std::string_view(stmt->sql, static_cast<size_t>(stmt->sql_len));
        s.params = Params(stmt->params, stmt->param_count, stmt->value_size);
        s.flags = ILANA_COVERS(stmt->struct_size, ilana_statement, flags) ? stmt->flags : 0;
        s.timeout_ms = statement_timeout_ms(*stmt);
        return s;
    }
    // "ilana.prepare/1"
    using P = typename prepared_type_of<C>::type;
    static ilana_status prepare(ilana_conn *h, const char *sql, uint64_t sql_len, ilana_prepared **out,
                                uint32_t *param_count, ilana_error *err) {
        if (out != nullptr) *out = nullptr;
        return guarded(err, [&] {
            if (out == nullptr || param_count == nullptr) bad_call("prepare: NULL out-pointer", ILANA_ERRF_NOT_SENT);
            if (sql == nullptr && sql_len != 0) bad_call("prepare: sql is NULL", ILANA_ERRF_NOT_SENT);
            C &c = conn(h);
            refuse_if_busy(c);
            if constexpr (has_prepare<C>::value) {
                std::unique_ptr<P> p = c.prepare(std::string_view(sql != nullptr ? sql : "", static_cast<size_t>(sql_len)));
                if (!p) bad_call("driver bug: prepare returned no statement");
                *param_count = p->param_count();
                Access::link(c, *p);
                *out = reinterpret_cast<ilana_prepared *>(static_cast<PreparedStatement *>(p.release()));
            } else {
                missing("prepare");
            }
            return ILANA_OK;
        });
    }
    static ilana_status execute_prepared(ilana_conn *h, ilana_prepared *ph, const ilana_statement *stmt,
                                         ilana_result **out, ilana_error *err) {
        if (out != nullptr) *out = nullptr;
        return guarded(err, [&] {
            if (out == nullptr) bad_call("NULL result out-pointer");
            C &c = conn(h);
            refuse_if_busy(c);
            if (ph == nullptr) bad_call("execute_prepared: NULL prepared statement", ILANA_ERRF_NOT_SENT);
            const Statement s = statement_of(stmt, "execute_prepared: NULL statement");
            PreparedStatement &base = *reinterpret_cast<PreparedStatement *>(ph);
            if (s.params.size() != base.param_count()) param_count_mismatch(s.params.size(), base.param_count());
            if constexpr (has_prepare<C>::value) {
                const auto start = s.timeout_ms > 0 ? std::chrono::steady_clock::now()
                                                    : std::chrono::steady_clock::time_point{};
                auto r = c.execute(static_cast<P &>(base), s);
                if (r && s.timeout_ms > 0) Access::set_deadline(*r, s.timeout_ms, start);
                return hand_out(c, std::move(r), out);
            } else {
                return missing("prepare"), ILANA_OK;
            }
        });
    }
    static void release_prepared(ilana_conn *h, ilana_prepared *ph) {
        if (h == nullptr || ph == nullptr) return;
        PreparedStatement *p = reinterpret_cast<PreparedStatement *>(ph);
        Access::unlink(*base(h), *p);
        try {
            delete p;
        } catch (...) {
            // release never fails
        }
    }
#if defined(__GNUC__) || defined(__clang__)
    [[noreturn]] __attribute__((noinline, cold))
#else
    [[noreturn]]
#endif
    static void param_count_mismatch(size_t given, uint32_t expected) {
        throw DriverFailure(ILANA_ERR_INTERNAL,
                            "execute_prepared: " + std::to_string(given) + " parameter(s) given, the statement takes " +
                                std::to_string(expected),
                            {}, 0, ILANA_ERRF_NOT_SENT);
    }
    static void result_info(ilana_result *h, ilana_result_info *out) {
        if (h == nullptr || out == nullptr) return;
        Result &r = *reinterpret_cast<Result *>(h);
        const bool ok = Access::frozen(r) || freeze_for_info(r);
        const auto &cols = Access::abi_columns(r);
        const uint32_t size = out->struct_size;
#define ILANA_SDK_SET_(field, value)                                                                         \
    if (ILANA_COVERS(size, ilana_result_info, field)) out->field = (value);
        ILANA_SDK_SET_(column_count, ok ? static_cast<uint32_t>(cols.size()) : 0u)
        ILANA_SDK_SET_(columns, ok && !cols.empty() ? cols.data() : nullptr)
        ILANA_SDK_SET_(column_size, static_cast<uint32_t>(sizeof(ilana_column)))
        ILANA_SDK_SET_(affected_rows, r.affected_rows())
        ILANA_SDK_SET_(last_insert_id, r.last_insert_id())
        ILANA_SDK_SET_(columns_id, ok ? r.columns_id() : 0u)
#undef ILANA_SDK_SET_
    }
    static ilana_status fetch(ilana_result *h, ilana_batch *out, ilana_error *err) {
        return guarded(err, [&] {
            if (out == nullptr) bad_call("fetch: NULL batch");
            if (!ILANA_COVERS(out->struct_size, ilana_batch, cells)) batch_too_small(out->struct_size);
            Result &r = res(h);
            Access::freeze(r);
            Batch &b = Access::batch(r);
            Access::reset(b, out->max_rows, &Access::types(r));
            bool done = Access::done(r);
            if (!done) {
                Access::check_deadline(r);
                done = Access::fetch(r, b);
                Access::finish(b);
                if (done) Access::done(r) = true;
            }
            out->row_count = b.rows();
            out->column_count = b.column_count();
            out->value_size = sizeof(ilana_value);
            out->cells = Access::cells(b);
            return done ? ILANA_DONE : ILANA_OK;
        });
    }
    static void result_close(ilana_result *h) {
        if (h == nullptr) return;
        Result *r = reinterpret_cast<Result *>(h);
        Connection *owner = Access::owner(*r);
        if (owner != nullptr && Access::open_result(*owner) == r) Access::open_result(*owner) = Access::rest(*owner);
        try {
            if (owner != nullptr && Access::recycle(*r)) {
                // Kept for the next execute; the one kept before goes.
                Access::spare_result(*owner).reset(r);
                return;
            }
            delete r;
        } catch (...) {
            // result_close never fails
        }
    }
    static ilana_status begin(ilana_conn *h, ilana_error *err) {
        return guarded(err, [&] {
            if constexpr (has_begin<C>::value) conn(h).begin();
            return ILANA_OK;
        });
    }
    static ilana_status commit(ilana_conn *h, ilana_error *err) {
        return guarded(err, [&] {
            if constexpr (has_commit<C>::value) conn(h).commit();
            return ILANA_OK;
        });
    }
    static ilana_status rollback(ilana_conn *h, ilana_error *err) {
        return guarded(err, [&] {
            if constexpr (has_rollback<C>::value) conn(h).rollback();
            return ILANA_OK;
        });
    }
    static ilana_status cancel(ilana_conn *h, ilana_error *err) {
        return guarded(err, [&] {
            if constexpr (has_cancel<C>::value) conn(h).cancel();
            return ILANA_OK;
        });
    }
    static ilana_status server_info(ilana_conn *h, ilana_server_info *out, ilana_error *err) {
        return guarded(err, [&] {
            if (out == nullptr) throw DriverFailure(ILANA_ERR_INTERNAL, "server_info: NULL out");
            C &c = conn(h);
            auto &cached = Access::server_info(c);
            if (!cached) {
                if constexpr (has_server_info<C>::value) cached = c.server_info();
                else cached = ServerInfo{D::name, D::version, 0, -1};
            }
            const uint32_t size = out->struct_size;
#define ILANA_SDK_SET_(field, value)                                                                         \
    if (ILANA_COVERS(size, ilana_server_info, field)) out->field = (value);
            ILANA_SDK_SET_(product, cached->product.c_str())
            ILANA_SDK_SET_(version, cached->version.c_str())
            ILANA_SDK_SET_(version_number, cached->version_number)
            ILANA_SDK_SET_(max_connections, cached->max_connections)
#undef ILANA_SDK_SET_
            return ILANA_OK;
        });
    }

    // "ilana.async/1"
    static void fill_wait(ilana_async_wait *w, const AsyncWait &wait) noexcept {
        if (w == nullptr) return;
        if (ILANA_COVERS(w->struct_size, ilana_async_wait, events)) w->events = wait.events;
        if (ILANA_COVERS(w->struct_size, ilana_async_wait, fd)) w->fd = wait.fd;
        if (ILANA_COVERS(w->struct_size, ilana_async_wait, timeout_ms)) w->timeout_ms = wait.timeout_ms;
    }
    static ilana_status async_connect_start(const ilana_connect_params *p, ilana_conn **out, ilana_async_wait *w,
                                            ilana_error *err) {
        if (out != nullptr) *out = nullptr;
        return guarded(err, [&] {
            if (p == nullptr || out == nullptr || w == nullptr)
                throw DriverFailure(ILANA_ERR_INTERNAL, "connect_start: NULL argument");
            if (p->param_count > 0 && p->params == nullptr)
                throw DriverFailure(ILANA_ERR_INTERNAL,
                                    "connect_start: params is NULL but param_count is " + std::to_string(p->param_count));
            if constexpr (has_connect_start<D>::value && has_connect_step<C>::value) {
                ConnectParams params(p);
                params.log_ = &State<D>::log;
                std::unique_ptr<C> c = D::connect_start(params);
                if (!c) throw DriverFailure(ILANA_ERR_INTERNAL, "driver bug: connect_start returned no connection");
                params.finish(D::name);
                Access::attach(*c, params.host_context(), &State<D>::log);
                AsyncWait wait;
                const bool connected = c->connect_step(wait, false);
                if (!connected) fill_wait(w, wait);
                *out = reinterpret_cast<ilana_conn *>(static_cast<Connection *>(c.release()));
                return connected ? ILANA_OK : ILANA_PENDING;
            } else {
                return missing("connect_start"), ILANA_OK;
            }
        });
    }
    static ilana_status async_connect_continue(ilana_conn *h, ilana_async_wait *w, ilana_error *err) {
        return guarded(err, [&] {
            if (w == nullptr) bad_call("connect_continue: NULL wait");
            C &c = conn(h);
            if constexpr (has_connect_step<C>::value) {
                AsyncWait wait;
                if (c.connect_step(wait, true)) return ILANA_OK;
                fill_wait(w, wait);
                return ILANA_PENDING;
            } else {
                return missing("connect_step"), ILANA_OK;
            }
        });
    }
    static ilana_status async_submit(ilana_conn *h, ilana_prepared *ph, const ilana_statement *stmt, ilana_error *err) {
        return guarded(err, [&] {
            C &c = conn(h);
            const Statement s = statement_of(stmt, "submit: NULL statement");
            if (s.timeout_ms > 0)
                bad_call("submit: a statement timeout on the async path is the host's (its timer calls cancel); "
                         "timeout_ms must be 0 (ilana.async/1)",
                         ILANA_ERRF_NOT_SENT);
            P *prepared = nullptr;
            if (ph != nullptr) {
                if constexpr (!has_prepare<C>::value) bad_call("submit: a prepared handle, but the driver prepares nothing", ILANA_ERRF_NOT_SENT);
                PreparedStatement &base = *reinterpret_cast<PreparedStatement *>(ph);
                if (s.params.size() != base.param_count()) param_count_mismatch(s.params.size(), base.param_count());
                prepared = static_cast<P *>(&base);
            }
            if constexpr (has_async_submit<C, P>::value) {
                try {
                    c.async_submit(s, prepared);
                } catch (const DriverFailure &f) {
                    // Not queued: nothing of it reached the server.
                    DriverFailure unsent(f.error_class(), f.what(), f.sqlstate(), f.native_code(),
                                         f.flags() | ILANA_ERRF_NOT_SENT);
                    unsent.with_condition(f.condition(), f.constraint_name());
                    throw unsent;
                }
                ++Access::in_flight(c);
                Access::settle(c);
            } else {
                (void)prepared, missing("async_submit");
            }
            return ILANA_OK;
        });
    }
    static ilana_status async_poll(ilana_conn *h, ilana_result **out, ilana_async_wait *w, ilana_error *err) {
        if (out != nullptr) *out = nullptr;
        return guarded(err, [&] {
            if (out == nullptr || w == nullptr) bad_call("poll: NULL argument", ILANA_ERRF_NOT_SENT);
            C &c = conn(h);
            if (Access::open_result(c) != nullptr && Access::open_result(c) != Access::in_flight_marker())
                bad_call("poll: a result of this connection is still open: close it before the next poll",
                         ILANA_ERRF_NOT_SENT);
            if constexpr (has_async_poll<C>::value) {
                std::unique_ptr<Result> r;
                AsyncWait wait;
                AsyncPoll st;
                try {
                    st = c.async_poll(r, wait);
                } catch (...) {
                    // The oldest statement failed: it is complete.
                    uint64_t &n = Access::in_flight(c);
                    if (n > 0) --n;
                    Access::settle(c);
                    throw;
                }
                switch (st) {
                case AsyncPoll::pending: fill_wait(w, wait); return ILANA_PENDING;
                case AsyncPoll::idle:
                    Access::in_flight(c) = 0;
                    Access::settle(c);
                    return ILANA_DONE;
                case AsyncPoll::ready: break;
                }
                uint64_t &n = Access::in_flight(c);
                if (n > 0) --n;
                Access::settle(c);
                if (!r) bad_call("driver bug: async_poll completed a statement without a result");
                Access::open_result(c) = nullptr; // the marker makes way for the result
                const ilana_status handed = hand_out(c, std::move(r), out);
                return handed;
            } else {
                return missing("async_poll"), ILANA_OK;
            }
        });
    }

    // "ilana.introspect/1"
    static std::optional<std::string_view> opt(const char *s) {
        return s != nullptr ? std::optional<std::string_view>(s) : std::nullopt;
    }
    // Unreachable guard: these entry points are instantiated for every
    // driver but exposed only when the connection class has the member.
    [[noreturn]] static void missing(const char *what) {
        throw DriverFailure(ILANA_ERR_INTERNAL,
                            std::string("driver bug: the connection class has no ") + what + "() member");
    }
    static ilana_status tables(ilana_conn *h, const char *schema, ilana_result **out, ilana_error *err) {
        return result_call(h, out, err, [&](C &c) {
            if constexpr (has_tables<C>::value) return c.tables(opt(schema));
            else return missing("tables"), std::unique_ptr<Result>();
        });
    }
    static ilana_status columns(ilana_conn *h, const char *schema, const char *table, ilana_result **out,
                                ilana_error *err) {
        return result_call(h, out, err, [&](C &c) {
            if constexpr (has_columns<C>::value) return c.columns(opt(schema), opt(table));
            else return missing("columns"), std::unique_ptr<Result>();
        });
    }
    static ilana_status indexes(ilana_conn *h, const char *schema, const char *table, ilana_result **out,
                                ilana_error *err) {
        return result_call(h, out, err, [&](C &c) {
            if constexpr (has_indexes<C>::value) return c.indexes(opt(schema), opt(table));
            else return missing("indexes"), std::unique_ptr<Result>();
        });
    }
    // "ilana.conn_dialect/1": never fails, so a throwing member (or a NULL
    // handle) means "the driver's dialect".
    static const ilana_dialect *dialect_of(ilana_conn *h) noexcept {
        try {
            if constexpr (has_conn_dialect<C>::value) return static_cast<const C &>(conn(h)).dialect();
            else return (void)h, nullptr;
        } catch (...) {
            return nullptr;
        }
    }
    // "ilana.lock/1"
    static ilana_status lock_acquire(ilana_conn *h, const char *name, int32_t timeout_ms, ilana_error *err) {
        return guarded(err, [&] {
            if (name == nullptr) throw DriverFailure(ILANA_ERR_INTERNAL, "lock acquire: NULL name");
            if constexpr (has_lock_acquire<C>::value) conn(h).lock_acquire(std::string_view(name), timeout_ms);
            else (void)timeout_ms, missing("lock_acquire");
            return ILANA_OK;
        });
    }
    static ilana_status lock_release(ilana_conn *h, const char *name, ilana_error *err) {
        return guarded(err, [&] {
            if (name == nullptr) throw DriverFailure(ILANA_ERR_INTERNAL, "lock release: NULL name");
            if constexpr (has_lock_release<C>::value) conn(h).lock_release(std::string_view(name));
            else missing("lock_release");
            return ILANA_OK;
        });
    }
    // "ilana.batch/1"
    static ilana_status execute_many(ilana_conn *h, const ilana_batch_statement *stmt, ilana_batch_outcome *out,
                                     ilana_error *err) {
        int64_t affected = 0;
        int64_t failed_row = -1;
        const ilana_status st = guarded(err, [&] {
            if (stmt == nullptr) throw DriverFailure(ILANA_ERR_INTERNAL, "execute_many: NULL statement", {}, 0, ILANA_ERRF_NOT_SENT);
            if (!ILANA_COVERS(stmt->struct_size, ilana_batch_statement, flags))
                throw DriverFailure(ILANA_ERR_INTERNAL, "execute_many: ilana_batch_statement.struct_size is too small for ilana.batch/1",
                                    {}, 0, ILANA_ERRF_NOT_SENT);
            C &c = conn(h);
            refuse_if_busy(c);
            BatchStatement b;
            if (stmt->sql != nullptr) b.sql = std::string_view(stmt->sql, static_cast<size_t>(stmt->sql_len));
            b.row_count = stmt->row_count;
            b.flags = stmt->flags;
            b.base_ = reinterpret_cast<const unsigned char *>(stmt->params);
            b.param_count_ = stmt->param_count;
            b.stride_ = stmt->value_size;
            if (b.row_count > 0 && b.param_count_ > 0 && (b.base_ == nullptr || b.stride_ < sizeof(ilana_value)))
                throw DriverFailure(ILANA_ERR_INTERNAL, "execute_many: NULL parameters or value_size too small", {}, 0,
                                    ILANA_ERRF_NOT_SENT);
            if constexpr (has_execute_many<C>::value) {
                try {
                    affected = static_cast<int64_t>(c.execute_many(b));
                } catch (const BatchRowFailure &f) {
                    failed_row = f.row();
                    throw;
                }
            } else {
                missing("execute_many");
            }
            return ILANA_OK;
        });
        if (out != nullptr) {
            if (ILANA_COVERS(out->struct_size, ilana_batch_outcome, affected_rows))
                out->affected_rows = st == ILANA_OK ? affected : 0;
            if (ILANA_COVERS(out->struct_size, ilana_batch_outcome, failed_row))
                out->failed_row = st == ILANA_OK ? -1 : failed_row;
        }
        return st;
    }
    // "ilana.namespace/1"
    // The template connection of a namespace call: nullptr when the host
    // gave none (ILANA_NAMESPACE_FILE), else not busy.
    static C *template_conn(ilana_conn *h) {
        if (h == nullptr) {
            if (namespace_isolation_of<D>() != ILANA_NAMESPACE_FILE)
                throw DriverFailure(ILANA_ERR_INTERNAL, "namespace call without a connection");
            return nullptr;
        }
        C &c = conn(h);
        refuse_if_busy(c);
        return &c;
    }
    static ilana_status namespace_create(ilana_conn *h, const char *name, ilana_error *err) {
        return guarded(err, [&] {
            if (name == nullptr) throw DriverFailure(ILANA_ERR_INTERNAL, "namespace create: NULL name");
            if constexpr (has_namespace_create<D>::value) D::namespace_create(template_conn(h), std::string_view(name));
            else missing("namespace_create");
            return ILANA_OK;
        });
    }
    static ilana_status namespace_drop(ilana_conn *h, const char *name, ilana_error *err) {
        return guarded(err, [&] {
            if (name == nullptr) throw DriverFailure(ILANA_ERR_INTERNAL, "namespace drop: NULL name");
            if constexpr (has_is_system_namespace<D>::value) {
                if (D::is_system_namespace(std::string_view(name)))
                    throw DriverFailure(ILANA_ERR_CONFIG, std::string("namespace '") + name +
                                                              "' belongs to the database itself: it is never dropped");
            }
            if constexpr (has_namespace_drop<D>::value) D::namespace_drop(template_conn(h), std::string_view(name));
            else missing("namespace_drop");
            return ILANA_OK;
        });
    }
    static ilana_status namespace_list(ilana_conn *h, const char *prefix, ilana_result **out, ilana_error *err) {
        if constexpr (has_namespace_list<C>::value) {
            return result_call(h, out, err, [&](C &c) { return c.namespace_list(opt(prefix)); });
        } else {
            (void)h, (void)prefix, (void)err;
            if (out != nullptr) *out = nullptr;
            return ILANA_UNSUPPORTED;
        }
    }
    static int32_t namespace_is_system(const char *name) {
        if (name == nullptr) return 0;
        try {
            if constexpr (has_is_system_namespace<D>::value) return D::is_system_namespace(std::string_view(name)) ? 1 : 0;
            else return 0;
        } catch (...) {
            return 1; // conservative: a name the driver could not judge is never a tenant's
        }
    }
    // "ilana.ddl/1"
    static ilana_status clone_namespace(ilana_conn *h, const char *source, const char *target, ilana_result **out,
                                        ilana_error *err) {
        return result_call(h, out, err, [&](C &c) {
            if (source == nullptr || target == nullptr)
                throw DriverFailure(ILANA_ERR_INTERNAL, "clone_namespace: NULL namespace name");
            if constexpr (has_clone_namespace<C>::value) return c.clone_namespace(std::string_view(source), std::string_view(target));
            else return missing("clone_namespace"), std::unique_ptr<Result>();
        });
    }
    // "ilana.session/1"
    static int32_t session_is_dirty(ilana_conn *h) {
        if (h == nullptr) return 0;
        if constexpr (has_is_dirty<C>::value) {
            try {
                return static_cast<const C &>(conn(h)).is_dirty() ? 1 : 0;
            } catch (...) {
                return 1; // when unsure, dirty (driver.h)
            }
        } else {
            return 0;
        }
    }
    static ilana_status session_reset(ilana_conn *h, ilana_error *err) {
        return guarded(err, [&] {
            C &c = conn(h);
            refuse_if_busy(c);
            if constexpr (has_reset_session<C>::value) c.reset_session();
            else missing("reset_session");
            return ILANA_OK;
        });
    }
};

template <class D> constexpr uint32_t lock_flags_of() noexcept {
    if constexpr (has_lock_flags<D>::value) return static_cast<uint32_t>(D::lock_flags);
    else return 0;
}

template <class D> constexpr uint32_t async_flags_of() noexcept {
    if constexpr (has_async_flags<D>::value) return static_cast<uint32_t>(D::async_flags);
    else return 0;
}

template <class D> constexpr uint32_t params_flags_of() noexcept {
    if constexpr (has_params_flags<D>::value) return static_cast<uint32_t>(D::params_flags);
    else return 0;
}
template <class D> constexpr ilana_params_api params_of() noexcept {
    if constexpr (has_params<D>::value) return params_table(D::params, params_flags_of<D>());
    else return ilana_params_api{sizeof(ilana_params_api), 0, nullptr, 0, sizeof(ilana_param_decl)};
}

// The static tables the exported entry points at.
template <class D> struct Exported {
    using C = typename D::connection_type;
    using T = Thunks<D>;

    static constexpr bool kIntrospect =
        has_tables<C>::value && has_columns<C>::value && has_indexes<C>::value;
    static constexpr bool kLock = has_lock_acquire<C>::value && has_lock_release<C>::value;
    static constexpr bool kTransactions = (D::capabilities & ILANA_CAP_TRANSACTIONS) != 0;
    static constexpr bool kCancel = (D::capabilities & ILANA_CAP_CANCEL) != 0;
    static constexpr bool kParams = has_params<D>::value;
    static constexpr bool kBatch = has_execute_many<C>::value;
    static constexpr bool kNamespace = has_namespace_create<D>::value && has_namespace_drop<D>::value;
    static constexpr bool kDdl = has_clone_namespace<C>::value;
    static constexpr bool kSession = has_is_dirty<C>::value && has_reset_session<C>::value;
    static constexpr bool kConnDialect = has_conn_dialect<C>::value;
    static constexpr bool kPrepare = has_prepare<C>::value;
    static constexpr bool kAsync = has_connect_start<D>::value && has_connect_step<C>::value &&
                                   has_async_submit<C, typename T::P>::value && has_async_poll<C>::value;

    static_assert(std::is_base_of_v<Connection, C>, "the connection class must derive from ilana::sdk::Connection");
    static_assert(non_empty(D::id), "the driver needs a non-empty static constexpr id (\"com.example.mydb\")");
    static_assert(non_empty(D::name), "the driver needs a non-empty static constexpr name");
    static_assert(non_empty(D::version), "the driver needs a non-empty static constexpr version (\"1.0.0\")");
    static_assert(clients_valid(D::clients),
                  "clients must list at least one name of lower-case letters, digits, '_', '-' or '.'");
    static_assert(!kTransactions || (has_begin<C>::value && has_commit<C>::value && has_rollback<C>::value),
                  "ILANA_CAP_TRANSACTIONS is claimed: the connection class needs begin(), commit() and rollback()");
    static_assert(!kCancel || has_cancel<C>::value,
                  "ILANA_CAP_CANCEL is claimed: the connection class needs a thread-safe cancel()");
    static_assert(has_tables<C>::value == has_columns<C>::value && has_columns<C>::value == has_indexes<C>::value,
                  "introspection needs all three of tables(schema), columns(schema, table), indexes(schema, table)");
    static_assert(has_namespace_create<D>::value == has_namespace_drop<D>::value,
                  "ilana.namespace/1 needs both static namespace_create(C*, name) and namespace_drop(C*, name)");
    static_assert(!has_namespace_list<C>::value || kNamespace,
                  "namespace_list is part of ilana.namespace/1: declare namespace_create and namespace_drop too");
    static_assert(!kNamespace || (has_namespace_isolation<D>::value && has_namespace_param_key<D>::value),
                  "ilana.namespace/1: the driver class declares namespace_isolation (ILANA_NAMESPACE_*) and "
                  "namespace_param_key");
    static_assert(has_is_dirty<C>::value == has_reset_session<C>::value,
                  "ilana.session/1 needs both is_dirty() const and reset_session()");
    static_assert(!kPrepare || std::is_base_of_v<PreparedStatement, typename T::P>,
                  "ilana.prepare/1: prepare(sql) returns a std::unique_ptr to a class derived from "
                  "ilana::sdk::PreparedStatement");
    static_assert(kAsync == (has_connect_start<D>::value || has_connect_step<C>::value ||
                             has_async_submit<C, typename T::P>::value || has_async_poll<C>::value),
                  "ilana.async/1 needs all four: the driver's static connect_start(ConnectParams&), and the "
                  "connection's connect_step(AsyncWait&, bool), async_submit(const Statement&, P*) (P: the "
                  "prepare() type, or PreparedStatement) and async_poll(std::unique_ptr<Result>&, AsyncWait&)");
    static_assert(!kPrepare || has_execute_prepared<C, typename T::P>::value,
                  "ilana.prepare/1: the connection class needs execute(P &prepared, const Statement &) beside "
                  "prepare(sql)");

    static constexpr auto clients = null_terminated(D::clients);
    static constexpr ilana_driver_descriptor descriptor = {
        sizeof(ilana_driver_descriptor),
        D::id,
        D::name,
        D::version,
        D::description,
        clients.data(),
        D::capabilities,
        D::thread_model,
        // The driver's own object: a non-const `static inline ilana_dialect
        // dialect` may be completed in on_init (limits of the library loaded).
        &D::dialect,
    };
    static constexpr ilana_driver_api api = {
        sizeof(ilana_driver_api),
        &T::connect,
        &T::close,
        &T::ping,
        &T::execute,
        &T::result_info,
        &T::fetch,
        &T::result_close,
        kTransactions ? &T::begin : nullptr,
        kTransactions ? &T::commit : nullptr,
        kTransactions ? &T::rollback : nullptr,
        kCancel ? &T::cancel : nullptr,
        &T::server_info,
    };
    static constexpr ilana_introspect_api introspect = {
        sizeof(ilana_introspect_api),
        kIntrospect ? &T::tables : nullptr,
        kIntrospect ? &T::columns : nullptr,
        kIntrospect ? &T::indexes : nullptr,
    };
    static constexpr ilana_lock_api lock = {
        sizeof(ilana_lock_api),
        lock_flags_of<D>(),
        kLock ? &T::lock_acquire : nullptr,
        kLock ? &T::lock_release : nullptr,
    };
    static constexpr ilana_params_api params = params_of<D>();
    static constexpr ilana_batch_api batch = {
        sizeof(ilana_batch_api),
        batch_method_of<D>(),
        kBatch ? &T::execute_many : nullptr,
    };
    static constexpr ilana_namespace_api namespaces = {
        sizeof(ilana_namespace_api),
        namespace_isolation_of<D>(),
        namespace_param_key_of<D>(),
        kNamespace ? &T::namespace_create : nullptr,
        kNamespace ? &T::namespace_drop : nullptr,
        kNamespace ? &T::namespace_list : nullptr,
        kNamespace && has_is_system_namespace<D>::value ? &T::namespace_is_system : nullptr,
    };
    static constexpr ilana_ddl_api ddl = {
        sizeof(ilana_ddl_api),
        kDdl ? &T::clone_namespace : nullptr,
    };
    static constexpr ilana_session_api session = {
        sizeof(ilana_session_api),
        0,
        kSession ? &T::session_is_dirty : nullptr,
        kSession ? &T::session_reset : nullptr,
    };
    static constexpr ilana_conn_dialect_api conn_dialect = {sizeof(ilana_conn_dialect_api), 0, &T::dialect_of};
    static constexpr ilana_prepare_api prepare = {
        sizeof(ilana_prepare_api),
        0,
        kPrepare ? &T::prepare : nullptr,
        kPrepare ? &T::execute_prepared : nullptr,
        kPrepare ? &T::release_prepared : nullptr,
    };

    static constexpr ilana_async_api async = {
        sizeof(ilana_async_api),
        async_flags_of<D>(),
        kAsync ? &T::async_connect_start : nullptr,
        kAsync ? &T::async_connect_continue : nullptr,
        kAsync ? &T::async_submit : nullptr,
        kAsync ? &T::async_poll : nullptr,
        kCancel ? &T::cancel : nullptr,
    };

    static const void *get_extension(const char *id) {
        if (id == nullptr) return nullptr;
        if (kIntrospect && std::strcmp(id, ILANA_EXT_INTROSPECT) == 0) return &introspect;
        if (kLock && std::strcmp(id, ILANA_EXT_LOCK) == 0) return &lock;
        if (kParams && std::strcmp(id, ILANA_EXT_PARAMS) == 0) return &params;
        if (kBatch && std::strcmp(id, ILANA_EXT_BATCH) == 0) return &batch;
        if (kNamespace && std::strcmp(id, ILANA_EXT_NAMESPACE) == 0) return &namespaces;
        if (kDdl && std::strcmp(id, ILANA_EXT_DDL) == 0) return &ddl;
        if (kSession && std::strcmp(id, ILANA_EXT_SESSION) == 0) return &session;
        if (kConnDialect && std::strcmp(id, ILANA_EXT_CONN_DIALECT) == 0) return &conn_dialect;
        if (kPrepare && std::strcmp(id, ILANA_EXT_PREPARE) == 0) return &prepare;
        if (kAsync && std::strcmp(id, ILANA_EXT_ASYNC) == 0) return &async;
        if constexpr (has_extension<D>::value) {
            try {
                return D::extension(id);
            } catch (...) {
                return nullptr;
            }
        }
        return nullptr;
    }

    static constexpr ilana_driver_entry entry = {
        sizeof(ilana_driver_entry),
        ILANA_DRIVER_MAGIC,
        ILANA_ABI_MAJOR,
        ILANA_ABI_MINOR,
        &T::init,
        &T::deinit,
        &descriptor,
        &api,
        &get_extension,
    };
};

} // namespace detail

// ---------------------------------------------------------------------------
// The base of the driver class

template <class D, class C, class R = Result> class Driver {
public:
    using connection_type = C;
    using result_type = R;

    // Defaults; the driver class declares its own to change them.
    static constexpr const char *description = nullptr;
    static constexpr uint64_t capabilities = 0;
    static constexpr int32_t thread_model = ILANA_THREADS_CONN_SERIALIZED;
    static constexpr ilana_dialect dialect = default_dialect();

    // Logs through the host, not tied to a connection. [thread-safe]
    static void log(ilana_log_level level, std::string_view message) noexcept {
        detail::State<D>::log(level, nullptr, message);
    }
    // The host's services (between the first init and the last deinit).
    static const ilana_host *host() noexcept { return detail::State<D>::host; }

    // For the driver's own extension tables: the connection behind a
    // handle, and a guarded call that returns a result handle.
    static C &connection(ilana_conn *h) { return detail::Thunks<D>::conn(h); }
    template <class Make> static ilana_status result_call(ilana_conn *h, ilana_result **out, ilana_error *err,
                                                          Make &&make) {
        return detail::Thunks<D>::result_call(h, out, err, std::forward<Make>(make));
    }

protected:
    Driver() = default;
};

} // namespace ilana::sdk

// Exports the driver: defines the one symbol a driver exports,
// `const ilana_driver_entry ilana_entry`. Use it once, at global scope, in
// one source file of the driver.
#define ILANA_SDK_EXPORT_DRIVER(DriverClass)                                                                 \
    extern "C" {                                                                                             \
    ILANA_DRIVER_EXPORT extern const ilana_driver_entry ilana_entry;                                         \
    const ilana_driver_entry ilana_entry = ::ilana::sdk::detail::Exported<DriverClass>::entry;              \
    }

#endif // ILANA_SDK_DRIVER_HPP
