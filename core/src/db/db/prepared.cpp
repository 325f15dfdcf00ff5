// Statement: a statement prepared once for a connection's whole pool
// (Connection::prepare, Session::prepare).
//
// A statement is a slot and an id in its pool (ConnectionState): each
// session keeps the driver's handle for it in that slot
// (NativeConnection::prepared) and prepares it the first time the statement
// runs there, so the per-call path finds the handle by index, without
// hashing the SQL text. A lost session takes its handles with it; a failed
// call releases the handle on its session (a schema change the database
// does not absorb fails once, and the next call prepares the statement
// again against the new schema). A driver without "ilana.prepare/1" runs
// the same calls through its statement cache (ILANA_EXEC_CACHE).
#include <ilana/database.hpp>

#include "common/sql_kind.hpp"
#include "db/database_state.hpp"
#include "db/placeholders.hpp"
#include "db/prepared_state.hpp"
#include "db/statement_events.hpp"
#include "db/statement_retry.hpp"
#include "db/statement_run.hpp"
#include "plugins/native_connection.hpp"

#include <atomic>
#include <mutex>

namespace ilana {
namespace detail {

uint32_t ConnectionState::take_prepared_slot() {
    std::lock_guard<std::mutex> lock(prepared_slots_mu_);
    if (!free_prepared_slots_.empty()) {
        const uint32_t slot = free_prepared_slots_.back();
        free_prepared_slots_.pop_back();
        return slot;
    }
    return prepared_slot_count_++;
}

void ConnectionState::give_back_prepared_slot(uint32_t slot) noexcept {
    std::lock_guard<std::mutex> lock(prepared_slots_mu_);
    try {
        free_prepared_slots_.push_back(slot);
    } catch (...) {
        // out of memory: the slot is not reused, a new one is taken instead
    }
}

namespace {

// Ids are never reused: a session tells a handle of a statement gone from
// one of the statement that took its slot since.
std::atomic<uint64_t> g_next_statement_id{1};

std::shared_ptr<PreparedState> make_prepared(const std::shared_ptr<ConnectionState> &cs, std::string_view sql) {
    auto ps = std::make_shared<PreparedState>(cs);
    ps->sql.assign(sql.data(), sql.size());
    ps->param_count = rewrite_placeholders(sql, ILANA_PLACEHOLDER_QUESTION, ps->text[0]);
    rewrite_placeholders(sql, ILANA_PLACEHOLDER_DOLLAR, ps->text[1]);
    ps->read_only = is_read_only(sql);
    ps->id = g_next_statement_id.fetch_add(1, std::memory_order_relaxed);
    ps->slot = cs->take_prepared_slot();
    ps->has_slot = true;
    return ps;
}

} // namespace

const PreparedState &PreparedState::follow() const {
    const PreparedState *at;
    {
        std::lock_guard<std::mutex> lock(next_mu);
        if (!next) next = make_prepared(ConnectionState::live_shared(cs), sql); // ConfigError when removed
        at = next.get();
    }
    return at->live();
}

namespace {

// The driver's handle on `conn`, prepared there now if it has none.
ilana_prepared *handle_on(const PreparedState &ps, NativeConnection &conn) {
    return conn.prepared(ps.slot, ps.id, ps.text_for(conn), ps.param_count, ps.sql);
}

const PreparedState &require(const std::shared_ptr<PreparedState> &state) {
    if (!state)
        throw Error("this ilana::Statement is empty (default-constructed or moved from): make one with "
                    "Connection::prepare or Session::prepare",
                    ErrorClass::config);
    return state->live();
}

// The statement for a call on `held`: the one of the pool the session was
// leased from, which after reloads may be an older one than live() (a held
// Session keeps its pool until it is released).
const PreparedState &require_for(const std::shared_ptr<PreparedState> &state, const Session &held) {
    if (state) {
        const ConnectionState *scs = &InternalAccess::state(held);
        for (const PreparedState *p = state.get(); p != nullptr;) {
            if (p->cs.get() == scs) return *p;
            std::lock_guard<std::mutex> lock(p->next_mu);
            p = p->next.get();
        }
    }
    return require(state);
}

// Runs `ps` on a leased native connection and hands the open result to
// `consume`, timed and reported as any statement.
template <class Consume>
void run_prepared(const PreparedState &ps, NativeConnection &conn, const Value *params, size_t n, uint32_t flags,
                  int64_t timeout_ms, Consume &&consume) {
    ConnectionState &cs = *ps.cs;
    in_statement_frame(cs, conn, ps.sql, timeout_ms, [&] {
        if (n != ps.param_count) throw_parameter_count(cs, ps.param_count, n);
        if (conn.prepares_by_handle()) {
            ilana_prepared *handle = handle_on(ps, conn);
            try {
                auto res = conn.execute_prepared(handle, ps.text_for(conn), ps.sql, params, n, flags, timeout_ms);
                consume(res);
            } catch (const Error &) {
                // Prepared again on the next call (a schema change makes
                // the old plan fail; the new one sees the new schema).
                if (!conn.broken()) conn.forget_prepared(ps.slot);
                throw;
            }
        } else {
            auto res = conn.execute_values(ps.text_for(conn), params, n, ILANA_EXEC_CACHE | flags, timeout_ms,
                                           ps.sql);
            consume(res);
        }
    });
}

// The session a call runs on: `session` when given (checked to be one of
// the statement's pool), else one leased for the call.
void require_own_session(const PreparedState &ps, Session &session) {
    const ConnectionState &scs = InternalAccess::state(session);
    if (&scs != ps.cs.get())
        throw Error("[" + ps.cs->name + "] a statement prepared on connection '" + ps.cs->name +
                        "' was given a session of '" + scs.name + "': prepare it on that connection (" + scs.name +
                        ".prepare) to run it there",
                    ErrorClass::config, ps.cs->name);
}

// Runs `body(session)` on `held` or, without one, on a session leased for
// the call, retried as Connection::query's calls are (the statement's SQL
// decides what is safe to run again).
template <class Body, class Delivered = NothingDelivered>
auto on_session(const PreparedState &ps, Session *held, Body &&body, Delivered &&nothing_delivered = {}) {
    if (held != nullptr) {
        require_own_session(ps, *held);
        return body(*held);
    }
    ConnectionState &cs = *ps.cs;
    note_if_write(cs, !ps.read_only);
    return with_statement_retry(cs, ps.sql, [&] { return InternalAccess::lease_for_call(ps.conn); }, body,
                                nothing_delivered);
}

Result query_prepared(const PreparedState &ps, Session *held, const Value *params, size_t n,
                      const StatementOptions *options) {
    const int64_t timeout_ms = timeout_of(*ps.cs, options);
    return on_session(ps, held, [&](Session &s) {
        Result out;
        run_prepared(ps, InternalAccess::native(s), params, n, ILANA_EXEC_WHOLE_RESULT, timeout_ms,
                     [&](NativeResult &r) { r.read_all(out); });
        return out;
    });
}

ExecResult execute_prepared(const PreparedState &ps, Session *held, const Value *params, size_t n,
                            const StatementOptions *options) {
    const int64_t timeout_ms = timeout_of(*ps.cs, options);
    return on_session(ps, held, [&](Session &s) {
        ExecResult out;
        run_prepared(ps, InternalAccess::native(s), params, n, 0, timeout_ms,
                     [&](NativeResult &r) { out = counts_of(r, ps.sql, timeout_ms); });
        return out;
    });
}

} // namespace

// Connection::prepare and Session::prepare: the statement is prepared on
// `session` right away, so a statement the database refuses (a syntax
// error, an unknown table) fails here, with the database's error.
Statement prepare_on(const std::shared_ptr<ConnectionState> &cs, Session &session, std::string_view sql) {
    std::shared_ptr<PreparedState> ps = make_prepared(cs, sql);
    NativeConnection &conn = InternalAccess::native(session);
    if (conn.prepares_by_handle()) {
        try {
            handle_on(*ps, conn);
        } catch (Error &e) {
            conn.set_statement(e, ps->sql);
            report_error(*cs, e);
            throw;
        }
    }
    return InternalAccess::make_statement(std::move(ps));
}

} // namespace detail

using detail::InternalAccess;
using detail::PreparedState;

const std::string &Statement::sql() const { return detail::require(state_).sql; }
const std::string &Statement::connection_name() const { return detail::require(state_).cs->name; }
size_t Statement::param_count() const { return detail::require(state_).param_count; }

Result Statement::query(std::initializer_list<Value> params) const {
    return detail::query_prepared(detail::require(state_), nullptr, params.begin(), params.size(), nullptr);
}
Result Statement::query(const Params &params) const {
    return detail::query_prepared(detail::require(state_), nullptr, params.data(), params.size(), nullptr);
}
Result Statement::query(const Params &params, const StatementOptions &options) const {
    return detail::query_prepared(detail::require(state_), nullptr, params.data(), params.size(), &options);
}
Result Statement::query(Session &session, std::initializer_list<Value> params) const {
    return detail::query_prepared(detail::require_for(state_, session), &session, params.begin(), params.size(), nullptr);
}
Result Statement::query(Session &session, const Params &params) const {
    return detail::query_prepared(detail::require_for(state_, session), &session, params.data(), params.size(), nullptr);
}
Result Statement::query(Session &session, const Params &params, const StatementOptions &options) const {
    return detail::query_prepared(detail::require_for(state_, session), &session, params.data(), params.size(), &options);
}

ExecResult Statement::execute(std::initializer_list<Value> params) const {
    return detail::execute_prepared(detail::require(state_), nullptr, params.begin(), params.size(), nullptr);
}
ExecResult Statement::execute(const Params &params) const {
    return detail::execute_prepared(detail::require(state_), nullptr, params.data(), params.size(), nullptr);
}
ExecResult Statement::execute(const Params &params, const StatementOptions &options) const {
    return detail::execute_prepared(detail::require(state_), nullptr, params.data(), params.size(), &options);
}
ExecResult Statement::execute(Session &session, std::initializer_list<Value> params) const {
    return detail::execute_prepared(detail::require_for(state_, session), &session, params.begin(), params.size(), nullptr);
}
ExecResult Statement::execute(Session &session, const Params &params) const {
    return detail::execute_prepared(detail::require_for(state_, session), &session, params.data(), params.size(), nullptr);
}
ExecResult Statement::execute(Session &session, const Params &params, const StatementOptions &options) const {
    return detail::execute_prepared(detail::require_for(state_, session), &session, params.data(), params.size(), &options);
}

size_t Statement::visit(Session *session, const Value *params, size_t count, RowSink sink, bool first_only,
                        const StatementOptions *options) const {
    const PreparedState &ps = session != nullptr ? detail::require_for(state_, *session) : detail::require(state_);
    const int64_t timeout_ms = detail::timeout_of(*ps.cs, options);
    size_t passed = 0; // rows the caller has seen, over every attempt
    auto body = [&](Session &s) {
        size_t rows = 0;
        detail::run_prepared(ps, InternalAccess::native(s), params, count, 0, timeout_ms, [&](detail::NativeResult &r) {
            rows = r.for_each_row(
                [&](const Row &row) {
                    ++passed;
                    return sink.call(sink.context, row);
                },
                first_only ? 1u : 1024u);
        });
        return rows;
    };
    // Per call, retried as a query is only while no row reached the
    // caller: a second run would hand over the same rows again.
    return detail::on_session(ps, session, body, [&] { return passed == 0; });
}

size_t Statement::stream(const Params &params, const std::function<void(const Row &)> &on_row) const {
    return for_each(params, on_row);
}
size_t Statement::stream(Session &session, const Params &params,
                         const std::function<void(const Row &)> &on_row) const {
    return for_each(session, params, on_row);
}
size_t Statement::stream(const Params &params, const std::function<void(const Row &)> &on_row,
                         const StatementOptions &options) const {
    return for_each(params, on_row, options);
}
size_t Statement::stream(Session &session, const Params &params, const std::function<void(const Row &)> &on_row,
                         const StatementOptions &options) const {
    return for_each(session, params, on_row, options);
}

Statement Connection::prepare(std::string_view sql) const {
    std::shared_ptr<detail::ConnectionState> live = detail::ConnectionState::live_shared(state_);
    Session session = lease_for_call(*live);
    return detail::prepare_on(live, session, sql);
}

Statement Session::prepare(std::string_view sql) { return detail::prepare_on(state_, *this, sql); }

} // namespace ilana
