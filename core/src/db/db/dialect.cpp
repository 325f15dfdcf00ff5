// Connection::dialect and Session::dialect: which SQL the core writes for a
// pool and for one of its sessions.
#include "db/dialect.hpp"

#include "db/database_state.hpp"
#include "plugins/loaded_driver.hpp"
#include "plugins/native_connection.hpp"
#include "pool/pool.hpp"

#include <mutex>

namespace ilana {
namespace detail {

Dialect dialect_from(const ilana_dialect &d, const LoadedDriver &driver) {
    Dialect out;
    out.dollar_placeholders = d.placeholder == ILANA_PLACEHOLDER_DOLLAR;
    out.identifier_quote = d.identifier_quote;
    out.supports_returning = d.supports_returning != 0;
    out.upsert_form = d.upsert_form;
    out.limit_form = d.limit_form;
    out.max_params = d.max_params;
    out.transactional_ddl = driver.has(ILANA_CAP_TRANSACTIONAL_DDL);
    return out;
}

} // namespace detail

Dialect Session::dialect() const {
    const detail::NativeConnection &conn = *pc_->conn;
    return detail::dialect_from(conn.dialect(), conn.driver());
}

// Every session of one pool reaches one server (one set of connection
// parameters), so the first session's dialect is the pool's; it is learnt
// once, by opening a session when none was asked yet.
const Dialect &Connection::dialect() const {
    detail::ConnectionState &cs = *state_;
    if (!cs.dialect_per_session) return cs.dialect;
    if (cs.server_dialect_known.load(std::memory_order_acquire)) return cs.server_dialect;
    const Dialect first = lease_for_call().dialect();
    std::lock_guard<std::mutex> lock(cs.server_dialect_mu);
    if (!cs.server_dialect_known.load(std::memory_order_relaxed)) {
        cs.server_dialect = first;
        cs.server_dialect_known.store(true, std::memory_order_release);
    }
    return cs.server_dialect;
}

} // namespace ilana
