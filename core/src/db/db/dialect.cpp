// Connection::dialect and Session::dialect: which SQL the core writes for a
// pool and for one of its sessions.
#include "db/dialect.hpp"

#include "db/database_state.hpp"
#include "plugins/loaded_driver.hpp"
#include "plugins/native_connection.hpp"
#include "pool/pool.hpp"

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

void PoolDialect::note(const NativeConnection &conn) {
    if (known_.load(std::memory_order_acquire)) return;
    std::lock_guard<std::mutex> lock(mu_);
    if (known_.load(std::memory_order_relaxed)) return;
    dialect_ = dialect_from(conn.dialect(), conn.driver());
    known_.store(true, std::memory_order_release);
}

} // namespace detail

Dialect Session::dialect() const {
    const detail::NativeConnection &conn = *pc_->conn;
    return detail::dialect_from(conn.dialect(), conn.driver());
}

const Dialect &Connection::dialect() const {
    detail::ConnectionState &cs = state_->live();
    if (!cs.server_dialect) return cs.dialect;
    if (const Dialect *known = cs.server_dialect->get()) return *known;
    // No session was opened yet: open one (noted by the pool's connect
    // already; noting it here too leaves no doubt whose it is).
    Session first = lease_for_call();
    cs.server_dialect->note(detail::InternalAccess::native(first));
    return *cs.server_dialect->get();
}

} // namespace ilana
