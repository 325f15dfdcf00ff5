// sdk_memory_driver.cpp — a test driver written with the SDK that claims
// everything the CSV example does not (transactions, cancel, the lock
// extension), so the conformance kit and sdk_driver_test.cpp exercise every
// path of <ilana/sdk/driver.hpp>. Client "sdk-memory". Not an example to
// copy: its "SQL" is a handful of fixed statement shapes.
//
//   SELECT 1                                one row, INT64 1
//   SELECT ?                                the parameter back (its own type)
//   SELECT SERIES n                         rows (n, 'row n') for 1..n, streamed
//                                           through the SDK's zero-cost path (a
//                                           recycled result, rows written in place)
//   SELECT SERIES n OWN                     the same rows, the labels in a buffer of the
//                                           result's own that grows while a batch fills:
//                                           offsets fixed up at its end (Batch::cells())
//   SELECT SERIES n ENDED                   the same rows, the statement ended in execute
//                                           (Result::end_timeout: a later fetch is not
//                                           failed by the statement timeout)
//   SLEEP ms                                waits; cancel() stops it (CANCELED), so does
//                                           the statement timeout (TIMEOUT)
//   CREATE TABLE t | DROP TABLE t           tables of (k INT64 primary key, v TEXT)
//   INSERT INTO t VALUES (?, ?)             duplicate k: CONSTRAINT
//   SELECT k, v FROM t WHERE k = ?  |  SELECT COUNT(*) FROM t
//   SET name                                changes "session state" (ilana.session/1:
//                                           is_dirty until reset_session)
//   THROW std | THROW alloc | THROW int     exceptions the SDK must contain
//   BUG cells | BUG type | BUG rows | BUG fast_rows | BUG late_column
//                                           driver bugs the SDK must catch
//
// ilana.batch/1: INSERT INTO t VALUES (?, ?) with many rows, all or
// nothing (a duplicate names its row). SELECT k, v FROM t WHERE k = ?
// reports a columns_id (ABI 1.1) that repeats on the connection.
// ilana.namespace/1 (schema isolation, parameter "namespace"; "memory" is
// the system namespace) keeps a set of names; ilana.ddl/1 clones one by
// listing a CREATE TABLE per table of the store.
//
// Tables live in one process-wide store; a transaction works on a private
// copy that commit publishes (last writer wins: enough for the tests).
#include <ilana/sdk/driver.hpp>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <chrono>
#include <condition_variable>
#include <map>
#include <mutex>
#include <new>
#include <optional>
#include <set>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

namespace memory {

using ilana::sdk::DriverFailure;
using Table = std::map<int64_t, std::optional<std::string>>;
using Store = std::map<std::string, Table>;

std::mutex g_mu;
Store g_store;
std::condition_variable g_lock_cv;
std::set<std::string> g_locks;
std::set<std::string> g_namespaces;

std::vector<std::string> words(std::string_view sql) {
    std::vector<std::string> out;
    std::string cur;
    for (char c : sql) {
        if (std::isspace(static_cast<unsigned char>(c)) || c == ',' || c == '(' || c == ')' || c == ';') {
            if (!cur.empty()) out.push_back(cur);
            cur.clear();
            if (c == '(' || c == ')' || c == ',') out.emplace_back(1, c);
        } else {
            cur += c;
        }
    }
    if (!cur.empty()) out.push_back(cur);
    return out;
}

std::string upper(std::string s) {
    std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
    return s;
}

// The zero-cost path: kept by the connection between statements (its
// columns and columns_id with it), rows written in place.
class SeriesResult : public ilana::sdk::Result {
public:
    explicit SeriesResult(uint64_t columns_id) {
        add_column("n", ILANA_TYPE_INT64, "bigint", 0);
        add_column("label", ILANA_TYPE_TEXT, "text", 0);
        set_columns_id(columns_id);
    }
    void start(int64_t n, bool own_bytes) noexcept {
        n_ = n;
        next_ = 1;
        own_bytes_ = own_bytes;
    }

protected:
    bool fetch(ilana::sdk::Batch &out) override {
        if (own_bytes_) return fetch_own(out);
        while (next_ <= n_ && !out.full()) {
            ilana_value *row = out.add_row();
            row[0].type = ILANA_TYPE_INT64;
            row[0].is_null = 0;
            row[0].v.i64 = next_;
            const std::string label = "row " + std::to_string(next_);
            out.put_bytes(row[1], ILANA_TYPE_TEXT, label.data(), label.size());
            ++next_;
        }
        return next_ > n_;
    }
    bool recycle() noexcept override { return true; }

private:
    // The labels go into own_ (which moves as it grows): each cell holds its
    // offset until the batch is complete, then one pass over out.cells().
    bool fetch_own(ilana::sdk::Batch &out) {
        own_.clear();
        own_.shrink_to_fit(); // so that it really moves while this batch fills
        while (next_ <= n_ && !out.full()) {
            ilana_value *row = out.add_row();
            row[0].type = ILANA_TYPE_INT64;
            row[0].is_null = 0;
            row[0].v.i64 = next_;
            const std::string label = "row " + std::to_string(next_);
            row[1].type = ILANA_TYPE_TEXT;
            row[1].is_null = 0;
            row[1].v.str.ptr = reinterpret_cast<const char *>(static_cast<uintptr_t>(own_.size()));
            row[1].v.str.len = label.size();
            own_ += label;
            ++next_;
        }
        ilana_value *cells = out.cells();
        for (uint32_t i = 0; i < out.rows(); ++i) {
            ilana_value &label = cells[i * out.column_count() + 1];
            label.v.str.ptr = own_.data() + reinterpret_cast<uintptr_t>(label.v.str.ptr);
        }
        return next_ > n_;
    }

    int64_t n_ = 0;
    int64_t next_ = 1;
    bool own_bytes_ = false;
    std::string own_;
};

// Rows a test asks to be malformed.
class BuggyResult : public ilana::sdk::Result {
public:
    explicit BuggyResult(std::string bug) : bug_(std::move(bug)) { add_column("x", ILANA_TYPE_INT64, "bigint", 0); }

protected:
    bool fetch(ilana::sdk::Batch &out) override {
        if (bug_ == "CELLS") {
            out.int64(1);
            out.int64(2); // one column, two cells
        } else if (bug_ == "TYPE") {
            out.text("not an int");
        } else if (bug_ == "ROWS") {
            for (uint32_t i = 0; i <= out.max_rows(); ++i) {
                out.int64(i);
                out.end_row();
            }
        } else if (bug_ == "FAST_ROWS") {
            for (uint32_t i = 0; i <= out.max_rows(); ++i) {
                ilana_value *row = out.add_row();
                row[0].type = ILANA_TYPE_INT64;
                row[0].is_null = 0;
                row[0].v.i64 = i;
            }
            return true;
        } else if (bug_ == "LATE_COLUMN") {
            add_column("too_late", ILANA_TYPE_TEXT);
        }
        out.end_row();
        return true;
    }

private:
    std::string bug_;
};

class MemoryConnection : public ilana::sdk::Connection {
public:
    std::unique_ptr<ilana::sdk::Result> execute(const ilana::sdk::Statement &stmt) {
        const std::vector<std::string> w = words(stmt.sql);
        std::vector<std::string> u;
        for (const auto &x : w) u.push_back(upper(x));
        auto is = [&](std::initializer_list<const char *> shape) {
            if (u.size() != shape.size()) return false;
            size_t i = 0;
            for (const char *s : shape) {
                if (std::string(s) != "*" && u[i] != s) return false;
                ++i;
            }
            return true;
        };
        auto expect_params = [&](uint32_t n) {
            if (stmt.params.size() != n)
                throw DriverFailure(ILANA_ERR_SYNTAX, "the statement has " + std::to_string(n) + " placeholder(s), " +
                                                          std::to_string(stmt.params.size()) + " parameter(s) given",
                                    "07001", 0, ILANA_ERRF_NOT_SENT);
        };

        if (is({"SELECT", "1"})) {
            expect_params(0);
            auto r = std::make_unique<ilana::sdk::RowsResult>();
            r->add_column("1", ILANA_TYPE_INT64, "bigint", 0);
            r->add_row({ilana::sdk::Cell::int64(1)});
            return r;
        }
        if (is({"SELECT", "?"})) {
            expect_params(1);
            const ilana::sdk::Param p = stmt.params[0];
            const ilana_type t = p.type() == ILANA_TYPE_NULL ? ILANA_TYPE_TEXT : p.type();
            auto r = std::make_unique<ilana::sdk::RowsResult>();
            r->add_column("?", t, ilana::sdk::type_name(t), 1);
            ilana::sdk::Cell c;
            if (p.is_null()) c = ilana::sdk::Cell::make_null(t);
            else if (ilana::sdk::is_string_type(t)) c = ilana::sdk::Cell::string(t, std::string(p.bytes()));
            else if (t == ILANA_TYPE_UINT64) c = ilana::sdk::Cell::uint64(p.raw().v.u64);
            else if (t == ILANA_TYPE_DOUBLE) c = ilana::sdk::Cell::real(p.raw().v.f64);
            else c = ilana::sdk::Cell::temporal(t, p.raw().v.i64);
            r->add_row({c});
            return r;
        }
        if (is({"SELECT", "SERIES", "*"}) || is({"SELECT", "SERIES", "*", "OWN"}) ||
            is({"SELECT", "SERIES", "*", "ENDED"})) {
            std::unique_ptr<SeriesResult> r = reuse_result<SeriesResult>();
            if (!r) r = std::make_unique<SeriesResult>(next_columns_id());
            r->start(std::stoll(w[2]), u.size() == 4 && u[3] == "OWN");
            if (u.size() == 4 && u[3] == "ENDED") r->end_timeout();
            return r;
        }
        if (is({"SLEEP", "*"})) {
            sleep(std::stoll(w[1]), stmt.timeout_ms);
            return nullptr; // no rows
        }
        if (is({"THROW", "*"})) {
            if (u[1] == "STD") throw std::runtime_error("a std::runtime_error from the driver");
            if (u[1] == "ALLOC") throw std::bad_alloc();
            throw 42;
        }
        if (is({"BUG", "*"})) return std::make_unique<BuggyResult>(u[1]);
        if (is({"CREATE", "TABLE", "*"})) {
            write([&](Store &s) { s.emplace(w[2], Table{}); });
            return nullptr;
        }
        if (is({"DROP", "TABLE", "*"})) {
            write([&](Store &s) { s.erase(w[2]); });
            return nullptr;
        }
        if (is({"INSERT", "INTO", "*", "VALUES", "(", "?", ",", "?", ")"})) {
            expect_params(2);
            const int64_t k = stmt.params[0].as_int64();
            std::optional<std::string> v;
            if (!stmt.params[1].is_null()) v = stmt.params[1].to_text();
            write([&](Store &s) {
                Table &t = table(s, w[2]);
                if (!t.emplace(k, v).second)
                    throw DriverFailure(ILANA_ERR_CONSTRAINT, "duplicate key k = " + std::to_string(k) + " in " + w[2],
                                        "23505");
            });
            auto r = std::make_unique<ilana::sdk::Result>();
            r->set_affected_rows(1);
            return r;
        }
        if (is({"SET", "*"})) {
            session_changed_ = true;
            return nullptr;
        }
        if (is({"SELECT", "K", ",", "V", "FROM", "*", "WHERE", "K", "=", "?"})) {
            expect_params(1);
            const int64_t k = stmt.params[0].as_int64();
            auto r = std::make_unique<ilana::sdk::RowsResult>();
            // The same two columns every time: one id for the connection.
            if (kv_columns_id_ == 0) kv_columns_id_ = next_columns_id();
            r->set_columns_id(kv_columns_id_);
            r->add_column("k", ILANA_TYPE_INT64, "bigint", 0);
            r->add_column("v", ILANA_TYPE_TEXT, "text", 1);
            read([&](const Store &s) {
                const Table &t = table(s, w[5]);
                auto it = t.find(k);
                if (it != t.end())
                    r->add_row({ilana::sdk::Cell::int64(k), it->second ? ilana::sdk::Cell::text(*it->second)
                                                                        : ilana::sdk::Cell::make_null(ILANA_TYPE_TEXT)});
            });
            return r;
        }
        if (is({"SELECT", "COUNT", "(", "*", ")", "FROM", "*"})) {
            auto r = std::make_unique<ilana::sdk::RowsResult>();
            r->add_column("count", ILANA_TYPE_INT64, "bigint", 0);
            read([&](const Store &s) {
                r->add_row({ilana::sdk::Cell::int64(static_cast<int64_t>(table(s, w[6]).size()))});
            });
            return r;
        }
        throw DriverFailure(ILANA_ERR_SYNTAX, "sdk-memory does not understand: " + std::string(stmt.sql), "42601", 0,
                            ILANA_ERRF_NOT_SENT);
    }

    // "ilana.batch/1": the rows go into a copy that is published only when
    // every row was inserted.
    int64_t execute_many(const ilana::sdk::BatchStatement &b) {
        const std::vector<std::string> w = words(b.sql);
        if (w.size() != 9 || upper(w[0]) != "INSERT" || b.param_count() != 2)
            throw DriverFailure(ILANA_ERR_SYNTAX, "sdk-memory batches only INSERT INTO t VALUES (?, ?)", "42601", 0,
                                ILANA_ERRF_NOT_SENT);
        int64_t n = 0;
        write([&](Store &s) {
            Table copy = table(s, w[2]);
            for (uint64_t r = 0; r < b.row_count; ++r) {
                const ilana::sdk::Params p = b.row(r);
                const int64_t k = p[0].as_int64();
                std::optional<std::string> v;
                if (!p[1].is_null()) v = p[1].to_text();
                if (!copy.emplace(k, v).second)
                    throw ilana::sdk::BatchRowFailure(
                        static_cast<int64_t>(r),
                        DriverFailure(ILANA_ERR_CONSTRAINT, "row " + std::to_string(r) + ": duplicate key in " + w[2],
                                      "23505"));
                ++n;
            }
            table(s, w[2]) = std::move(copy);
        });
        return n;
    }

    std::unique_ptr<ilana::sdk::Result> namespace_list(std::optional<std::string_view> prefix) {
        auto r = std::make_unique<ilana::sdk::RowsResult>();
        r->add_column("name", ILANA_TYPE_TEXT, "text", 0);
        std::lock_guard<std::mutex> lock(g_mu);
        for (const auto &n : g_namespaces) // a std::set: ordered by name
            if (!prefix || n.compare(0, prefix->size(), *prefix) == 0) r->add_row({ilana::sdk::Cell::text(n)});
        return r;
    }
    // "ilana.ddl/1": one CREATE TABLE per table, before the rows.
    std::unique_ptr<ilana::sdk::Result> clone_namespace(std::string_view source, std::string_view target) {
        auto r = std::make_unique<ilana::sdk::RowsResult>();
        r->add_column("step", ILANA_TYPE_INT64, "bigint", 0);
        r->add_column("kind", ILANA_TYPE_TEXT, "text", 0);
        r->add_column("name", ILANA_TYPE_TEXT, "text", 0);
        r->add_column("table_name", ILANA_TYPE_TEXT, "text", 1);
        r->add_column("sql", ILANA_TYPE_TEXT, "text", 0);
        std::lock_guard<std::mutex> lock(g_mu);
        if (g_namespaces.count(std::string(source)) == 0 || g_namespaces.count(std::string(target)) == 0)
            throw DriverFailure(ILANA_ERR_CONFIG, "clone: namespace '" + std::string(source) + "' or '" +
                                                      std::string(target) + "' does not exist");
        for (const auto &kv : g_store)
            r->add_row({ilana::sdk::Cell::int64(ILANA_DDL_BEFORE_DATA), ilana::sdk::Cell::text("table"),
                        ilana::sdk::Cell::text(kv.first), ilana::sdk::Cell::make_null(ILANA_TYPE_TEXT),
                        ilana::sdk::Cell::text("CREATE TABLE " + kv.first)});
        return r;
    }

    // "ilana.session/1"
    bool is_dirty() const noexcept { return session_changed_ || tx_.has_value(); }
    void reset_session() {
        tx_.reset();
        session_changed_ = false;
    }

    void begin() {
        if (tx_) throw DriverFailure(ILANA_ERR_INTERNAL, "a transaction is already open", "25001");
        std::lock_guard<std::mutex> lock(g_mu);
        tx_ = g_store;
    }
    void commit() {
        if (!tx_) throw DriverFailure(ILANA_ERR_INTERNAL, "no transaction is open", "25000");
        std::lock_guard<std::mutex> lock(g_mu);
        g_store = std::move(*tx_);
        tx_.reset();
    }
    void rollback() { tx_.reset(); }

    // [thread-safe]: only the flag and the condition variable are shared.
    void cancel() {
        std::lock_guard<std::mutex> lock(sleep_mu_);
        canceled_ = true;
        sleep_cv_.notify_all();
    }

    std::unique_ptr<ilana::sdk::Result> tables(std::optional<std::string_view> schema) {
        auto r = std::make_unique<ilana::sdk::TablesResult>();
        if (schema && !schema->empty()) return r;
        read([&](const Store &s) {
            for (const auto &kv : s) r->add(std::string("memory"), kv.first, "table");
        });
        return r;
    }
    std::unique_ptr<ilana::sdk::Result> columns(std::optional<std::string_view>, std::optional<std::string_view> t) {
        auto r = std::make_unique<ilana::sdk::ColumnsResult>();
        read([&](const Store &s) {
            for (const auto &kv : s) {
                if (t && kv.first != *t) continue;
                r->add(kv.first, "k", 1, "bigint", false, std::nullopt, true);
                r->add(kv.first, "v", 2, "text", true);
            }
        });
        return r;
    }
    std::unique_ptr<ilana::sdk::Result> indexes(std::optional<std::string_view>, std::optional<std::string_view> t) {
        auto r = std::make_unique<ilana::sdk::IndexesResult>();
        read([&](const Store &s) {
            for (const auto &kv : s)
                if (!t || kv.first == *t) r->add(kv.first, kv.first + "_pkey", {"k"}, true, true);
        });
        return r;
    }

    void lock_acquire(std::string_view name, int32_t timeout_ms) {
        std::unique_lock<std::mutex> lock(g_mu);
        const auto free = [&] { return g_locks.count(std::string(name)) == 0; };
        if (!g_lock_cv.wait_for(lock, std::chrono::milliseconds(std::max(timeout_ms, 0)), free))
            throw DriverFailure(ILANA_ERR_TIMEOUT, "lock '" + std::string(name) + "' is held elsewhere", "55P03");
        g_locks.insert(std::string(name));
    }
    void lock_release(std::string_view name) {
        std::lock_guard<std::mutex> lock(g_mu);
        g_locks.erase(std::string(name));
        g_lock_cv.notify_all();
    }

private:
    static Table &table(Store &s, const std::string &name) {
        auto it = s.find(name);
        if (it == s.end()) throw DriverFailure(ILANA_ERR_SYNTAX, "no table " + name, "42P01", 0, ILANA_ERRF_NOT_SENT);
        return it->second;
    }
    static const Table &table(const Store &s, const std::string &name) { return table(const_cast<Store &>(s), name); }
    template <class F> void read(F &&f) {
        if (tx_) return f(static_cast<const Store &>(*tx_));
        std::lock_guard<std::mutex> lock(g_mu);
        f(static_cast<const Store &>(g_store));
    }
    template <class F> void write(F &&f) {
        if (tx_) return f(*tx_);
        std::lock_guard<std::mutex> lock(g_mu);
        f(g_store);
    }
    // Waits `ms`, or until canceled, or until the statement timeout
    // (`timeout_ms` > 0, ABI 1.2) passes.
    void sleep(int64_t ms, int64_t timeout_ms) {
        std::unique_lock<std::mutex> lock(sleep_mu_);
        canceled_ = false;
        const bool timed = timeout_ms > 0 && timeout_ms < ms;
        if (sleep_cv_.wait_for(lock, std::chrono::milliseconds(timed ? timeout_ms : ms), [&] { return canceled_; }))
            throw DriverFailure(ILANA_ERR_CANCELED, "canceled by request", "57014");
        if (timed)
            throw DriverFailure(ILANA_ERR_TIMEOUT, "statement timeout of " + std::to_string(timeout_ms) + " ms elapsed",
                                "57014");
    }

    std::optional<Store> tx_;
    bool session_changed_ = false;
    uint64_t kv_columns_id_ = 0;
    std::mutex sleep_mu_;
    std::condition_variable sleep_cv_;
    bool canceled_ = false;
};

struct MemoryDriver : ilana::sdk::Driver<MemoryDriver, MemoryConnection> {
    static constexpr const char *id = "org.ilana.test.sdk-memory";
    static constexpr const char *name = "SDK memory test driver";
    static constexpr const char *version = "0.0.1";
    static constexpr const char *clients[] = {"sdk-memory"};
    static constexpr uint64_t capabilities = ILANA_CAP_TRANSACTIONS | ILANA_CAP_CANCEL | ILANA_CAP_STREAMING;
    static constexpr uint32_t lock_flags = 0;

    // "ilana.namespace/1"
    static constexpr int32_t namespace_isolation = ILANA_NAMESPACE_SCHEMA;
    static constexpr const char *namespace_param_key = "namespace";
    static void namespace_create(MemoryConnection *, std::string_view ns) {
        std::lock_guard<std::mutex> lock(g_mu);
        g_namespaces.emplace(ns);
    }
    static void namespace_drop(MemoryConnection *, std::string_view ns) {
        std::lock_guard<std::mutex> lock(g_mu);
        g_namespaces.erase(std::string(ns));
    }
    static bool is_system_namespace(std::string_view ns) { return ns == "memory"; }

    static inline std::atomic<int> inits{0};
    static void on_init(const ilana_host &) { ++inits; }
    static void on_deinit() { --inits; }

    // A third-party driver's declarations ("ilana.params/1" through the
    // SDK): the host checks them at load. `accessCode` is secret by
    // declaration only (its name is none of the host's secret words).
    static constexpr const char *kTiers[] = {"gold", "silver", nullptr};
    static constexpr ilana_param_decl params[] = {
        ilana::sdk::param_bool("fail", "refuse every connect (for tests)", "false"),
        ilana::sdk::secret(ilana::sdk::param_string("accessCode", "a code the driver never prints")),
        ilana::sdk::param_enum("tier", "a choice of two", kTiers, "silver"),
        ilana::sdk::param_int("capacity", "a bounded integer", 1, 1000),
        ilana::sdk::param_string("namespace", "the session's namespace (ilana.namespace/1)"),
    };

    static std::unique_ptr<MemoryConnection> connect(ilana::sdk::ConnectParams &settings) {
        settings.accept({"accessCode", "tier", "namespace"});
        (void)settings.get_int("capacity");
        if (settings.get_bool("fail").value_or(false))
            throw DriverFailure(ILANA_ERR_AUTH, "refused as asked (fail=true)", "28000", 0, ILANA_ERRF_NOT_SENT);
        return std::make_unique<MemoryConnection>();
    }
};

} // namespace memory

ILANA_SDK_EXPORT_DRIVER(memory::MemoryDriver)
