// pipeline.cpp — "ilana.batch/1": one statement, many parameter rows, in
// libpq pipeline mode (libpq 14+).
//
// Every row is sent (Bind + Execute of one prepared statement) before the
// first answer is read, then one Sync: the rows cost one round trip, not one
// each. With one Sync the rows form one implicit transaction, so a failing
// row rolls back the rows before it and the server skips the rest
// (PGRES_PIPELINE_ABORTED) — all or nothing. Inside the host's transaction
// the failure aborts that transaction, as a failed statement would.
//
// The socket is non-blocking while the rows go out, and answers are read
// every kReadEvery rows, so neither side's buffers fill up and block the
// other (libpq's pipeline-mode advice). Every row is checked before
// anything is sent: a bad parameter (zero byte in text, unknown type) must
// not leave half a pipeline behind.
#include "connection.hpp"
#include "errors.hpp"

#include <ilana/sdk/driver_support.hpp>

#include <cerrno>
#include <charconv>
#include <cstring>
#include <limits>
#include <poll.h>

namespace ilana::drivers::postgres {

using ilana::sdk::DriverFailure;

namespace {

constexpr uint32_t kMaxParams = 65535;
// Answers are read (without waiting) after this many rows went out.
constexpr uint64_t kReadEvery = 256;
// More distinct parameter type signatures than this in one batch (NULLs
// of other types in other rows) and rows go unnamed instead of prepared.
constexpr size_t kMaxSignatures = 8;

bool is_string_type(ilana_type t) {
    return t == ILANA_TYPE_TEXT || t == ILANA_TYPE_BLOB || t == ILANA_TYPE_DECIMAL || t == ILANA_TYPE_UUID ||
           t == ILANA_TYPE_JSON;
}

const ilana_value &value_at(const sdk::BatchStatement &st, uint64_t row, uint32_t p) {
    const sdk::Params values = st.row(row);
    return *reinterpret_cast<const ilana_value *>(reinterpret_cast<const char *>(values.data()) +
                                                  static_cast<size_t>(p) * values.stride());
}

// What BoundParams::bind would refuse, checked for every row up front.
void check_row(const sdk::BatchStatement &st, uint64_t row) {
    for (uint32_t p = 0; p < st.param_count(); ++p) {
        const ilana_value &v = value_at(st, row, p);
        auto bad = [&](const std::string &why, ilana_error_class cls) {
            throw DriverFailure(cls,
                                "batch row " + std::to_string(row + 1) + ", parameter " + std::to_string(p + 1) +
                                    ": " + why,
                                "", 0, ILANA_ERRF_NOT_SENT);
        };
        if (v.type < ILANA_TYPE_NULL || v.type > ILANA_TYPE_JSON)
            bad(v.type == ILANA_TYPE_ANY ? "type ANY is for columns only" : "unknown ilana type " + std::to_string(v.type),
                ILANA_ERR_INTERNAL);
        if (v.is_null != 0 || !is_string_type(v.type)) continue;
        if (v.v.str.len > 0 && v.v.str.ptr == nullptr) bad("string pointer is NULL", ILANA_ERR_INTERNAL);
        if (v.v.str.len > static_cast<uint64_t>(std::numeric_limits<int>::max() - 1))
            bad("value larger than 2 GiB", ILANA_ERR_DATA);
        if (v.type != ILANA_TYPE_BLOB && v.v.str.len > 0 && std::memchr(v.v.str.ptr, 0, v.v.str.len) != nullptr)
            bad("text contains a zero byte (send binary data as BLOB)", ILANA_ERR_DATA);
    }
}

int64_t affected_of(const PGresult *res) {
    const char *t = PQcmdTuples(const_cast<PGresult *>(res));
    if (t == nullptr || *t == '\0') return 0;
    int64_t n = 0;
    auto r = std::from_chars(t, t + std::strlen(t), n);
    return r.ec == std::errc() ? n : 0;
}

// One prepared statement per distinct parameter type signature.
struct Plan {
    std::string signature;
    std::string name;
};

class Pipeline {
public:
    Pipeline(Connection &conn, const sdk::BatchStatement &st) : conn_(conn), pg_(conn.pg()), st_(st) {}

    // Runs the batch; returns the summed affected rows. On failure throws,
    // with failed_row() telling the row (or -1).
    int64_t run(bool use_cache) {
        plans_.clear();
        named_ = use_cache;
        if (named_) prepare_plans();
        if (PQenterPipelineMode(pg_) == 0) throw failure_from_conn(pg_);
        PQsetnonblocking(pg_, 1);
        in_pipeline_ = true;
        try {
            send_and_collect();
        } catch (const DriverFailure &f) {
            // The protocol state is unknown: the session must not be reused.
            // Closing it makes the server roll back the unsynced rows.
            conn_.mark_broken();
            throw DriverFailure(f.error_class(), f.what(), f.sqlstate(), f.native_code(),
                                f.flags() | ILANA_ERRF_CONN_BROKEN)
                .with_condition(f.condition(), f.constraint_name());
        } catch (const std::exception &e) {
            conn_.mark_broken();
            throw DriverFailure(ILANA_ERR_INTERNAL, std::string("batch: ") + e.what(), "", 0,
                                ILANA_ERRF_CONN_BROKEN);
        }
        PQexitPipelineMode(pg_);
        PQsetnonblocking(pg_, 0);
        in_pipeline_ = false;
        if (error_) {
            PgResultPtr err(error_);
            error_ = nullptr;
            DriverFailure f = failure_from_result(err.get(), pg_, ErrorContext{conn_.cancel_requested.load()});
            stale_plan_ = named_ && (f.sqlstate() == "26000" || f.sqlstate() == "0A000");
            throw DriverFailure(f.error_class(),
                                "batch row " + std::to_string(failed_row_ + 1) + " of " +
                                    std::to_string(st_.row_count) + ": " + f.what(),
                                f.sqlstate(), f.native_code(), f.flags())
                .with_condition(f.condition(), f.constraint_name());
        }
        return affected_;
    }

    ~Pipeline() {
        if (error_ != nullptr) PQclear(error_);
        if (in_pipeline_) PQsetnonblocking(pg_, 0);
    }

    int64_t failed_row() const noexcept { return failed_row_; }
    bool stale_plan() const noexcept { return stale_plan_; }
    void forget_plans() {
        for (const Plan &p : plans_) {
            conn_.bound.signature = p.signature;
            conn_.forget_prepared(conn_.sql_buf, conn_.bound, true);
        }
    }

private:
    void prepare_plans() {
        std::string sig;
        for (uint64_t r = 0; r < st_.row_count; ++r) {
            sig.clear();
            for (uint32_t p = 0; p < st_.param_count(); ++p)
                sig.push_back(static_cast<char>('a' + value_at(st_, r, p).type));
            if (find_plan(sig) != nullptr) continue;
            if (plans_.size() >= kMaxSignatures) {
                named_ = false; // too many shapes: unnamed statements for all
                plans_.clear();
                return;
            }
            bind_row(r);
            const CachedStatement *cs = conn_.prepared(conn_.sql_buf, conn_.bound); // may throw: nothing sent
            plans_.push_back({sig, cs->name});
        }
    }

    const Plan *find_plan(const std::string &sig) const {
        for (const Plan &p : plans_)
            if (p.signature == sig) return &p;
        return nullptr;
    }

    void bind_row(uint64_t r) {
        const sdk::Params row = st_.row(r);
        conn_.bound.bind(row.data(), row.size(), row.stride());
    }

    void send_row(uint64_t r) {
        bind_row(r);
        const BoundParams &bp = conn_.bound;
        int sent;
        if (named_) {
            const Plan *plan = plans_.size() == 1 ? &plans_[0] : find_plan(bp.signature);
            if (plan == nullptr)
                throw DriverFailure(ILANA_ERR_INTERNAL, "batch: no prepared statement for a row's parameter types");
            sent = PQsendQueryPrepared(pg_, plan->name.c_str(), bp.count, bp.values.data(), bp.lengths.data(),
                                       bp.formats.data(), 0);
        } else {
            sent = PQsendQueryParams(pg_, conn_.sql_buf.c_str(), bp.count, bp.types.data(), bp.values.data(),
                                     bp.lengths.data(), bp.formats.data(), 0);
        }
        if (sent == 0) throw failure_from_conn(pg_);
        ++sent_;
    }

    // Reads every answer already here, never waiting.
    void collect_ready() {
        for (;;) {
            if (received_ == sent_ && !synced_) return; // nothing outstanding
            if (PQisBusy(pg_) != 0) return;
            PGresult *r = PQgetResult(pg_);
            if (r == nullptr) {
                if (have_current_) {
                    have_current_ = false;
                    ++received_;
                    continue;
                }
                return;
            }
            switch (PQresultStatus(r)) {
            case PGRES_PIPELINE_SYNC:
                PQclear(r);
                sync_seen_ = true;
                return;
            case PGRES_COMMAND_OK:
            case PGRES_TUPLES_OK:
            case PGRES_EMPTY_QUERY:
                affected_ += affected_of(r);
                PQclear(r);
                break;
            case PGRES_PIPELINE_ABORTED:
                PQclear(r);
                break;
            case PGRES_COPY_IN:
            case PGRES_COPY_OUT:
            case PGRES_COPY_BOTH:
                PQclear(r);
                throw DriverFailure(ILANA_ERR_INTERNAL, "COPY is not supported in a batch", "", 0,
                                    ILANA_ERRF_CONN_BROKEN);
            default: // PGRES_FATAL_ERROR and anything unexpected
                if (error_ == nullptr) {
                    error_ = r;
                    failed_row_ = static_cast<int64_t>(received_);
                } else {
                    PQclear(r);
                }
                break;
            }
            have_current_ = true;
        }
    }

    // Waits for the socket: readable, and writable while output is pending.
    void wait(bool want_write) {
        for (;;) {
            pollfd p{PQsocket(pg_), static_cast<short>(POLLIN | (want_write ? POLLOUT : 0)), 0};
            int rc = ::poll(&p, 1, -1);
            if (rc > 0) break;
            if (rc < 0 && errno != EINTR)
                throw DriverFailure(ILANA_ERR_CONNECTION, std::string("poll() failed: ") + std::strerror(errno), "", 0,
                                    ILANA_ERRF_CONN_BROKEN);
        }
        if (PQconsumeInput(pg_) == 0) throw failure_from_conn(pg_);
    }

    void send_and_collect() {
        for (uint64_t r = 0; r < st_.row_count; ++r) {
            send_row(r);
            if ((r + 1) % kReadEvery == 0) {
                if (PQflush(pg_) < 0) throw failure_from_conn(pg_);
                if (PQconsumeInput(pg_) == 0) throw failure_from_conn(pg_);
                collect_ready();
            }
        }
        if (PQpipelineSync(pg_) == 0) throw failure_from_conn(pg_);
        synced_ = true;
        for (;;) {
            const int fr = PQflush(pg_);
            if (fr < 0) throw failure_from_conn(pg_);
            collect_ready();
            if (sync_seen_) break;
            wait(fr == 1);
        }
    }

    Connection &conn_;
    PGconn *pg_;
    const sdk::BatchStatement &st_;
    std::vector<Plan> plans_;
    bool named_ = false;
    bool in_pipeline_ = false;
    uint64_t sent_ = 0, received_ = 0;
    bool have_current_ = false;
    bool synced_ = false, sync_seen_ = false;
    int64_t affected_ = 0;
    PGresult *error_ = nullptr;
    int64_t failed_row_ = -1;
    bool stale_plan_ = false;
};

} // namespace

// Driver<> has checked the statement's struct, the parameter array and that
// no result is open; a BatchRowFailure names the row that failed.
int64_t Connection::execute_many(const sdk::BatchStatement &st) {
    const std::string_view sql = st.sql;
    if (sql.find('\0') != std::string_view::npos)
        throw DriverFailure(ILANA_ERR_SYNTAX, "the SQL text contains a zero byte", "", 0, ILANA_ERRF_NOT_SENT);
    if (st.param_count() > kMaxParams)
        throw DriverFailure(ILANA_ERR_INTERNAL, "too many parameters: " + std::to_string(st.param_count()) +
                                                    " (PostgreSQL allows 65535 per statement)");

    ensure_usable();
    if (st.row_count == 0) return 0;
    for (uint64_t r = 0; r < st.row_count; ++r) check_row(st, r);
    flush_deallocations();
    note_effect(session_effect(sql)); // once per batch, not per row
    sql_buf.assign(sql.data(), sql.size());
    cancel_requested.store(false);
    const bool use_cache = (st.flags & ILANA_EXEC_CACHE) != 0 && statement_cache_enabled();

    for (int attempt = 0;; ++attempt) {
        Pipeline p(*this, st);
        try {
            return p.run(use_cache);
        } catch (const DriverFailure &f) {
            // A prepared statement the server forgot (DEALLOCATE ALL) or
            // whose plan went stale after DDL: outside a transaction nothing
            // was applied, so prepare again and run once more.
            if (p.stale_plan() && attempt == 0 && PQstatus(pg_) == CONNECTION_OK &&
                PQtransactionStatus(pg_) == PQTRANS_IDLE) {
                p.forget_plans();
                continue;
            }
            if (p.failed_row() >= 0) throw sdk::BatchRowFailure(p.failed_row(), f);
            throw;
        }
    }
}

} // namespace ilana::drivers::postgres
