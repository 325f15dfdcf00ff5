// session.cpp — "ilana.session/1": what a statement may leave behind in the
// server session, and the reset that clears it before the pool lends the
// connection to someone else.
//
// Detection is by statement text, cheap and conservative: the first keyword
// (ilana::sdk::LeadingKeyword) and, for a few keywords, one scan for a word
// (CREATE ... TEMP, SELECT ... set_config / advisory_lock / INTO TEMP).
// A cached statement is classified once, when it is prepared; only
// uncached statements pay the scan on every run. An open transaction is
// read from libpq's transaction status at release, without I/O.
//
// Not seen: state changed inside a server-side function called from a
// SELECT (a PL/pgSQL function running SET), and sequence state left by
// nextval() (currval/lastval). DO and CALL are taken as dirty as a whole.
// Whatever ran, a reset clears all of it.
//
// The reset is DISCARD ALL minus DEALLOCATE ALL (the driver's prepared
// statements stay valid: a statement cached under another search_path is
// re-parsed by the server, PREPARE's documented behaviour since 9.3) plus
// DEALLOCATE ALL only when the lease ran a PREPARE of its own (the driver
// then forgets its cache with it). DISCARD PLANS is left out too: plans do
// not carry session state the next user could see. One simple-protocol
// round trip; ROLLBACK first when a transaction is still open.
#include "connection.hpp"

#include <ilana/sdk/driver_support.hpp>
#include <ilana/sdk/sql_text.hpp>

namespace ilana::drivers::postgres {

using ilana::sdk::ContainsNoCase;

SessionEffect session_effect(std::string_view sql) noexcept {
    const ilana::sdk::LeadingKeyword k(sql);
    if (k.is("prepare")) return SessionEffect::prepares;
    // SET / RESET (incl. SET ROLE, SET SESSION AUTHORIZATION; SET LOCAL is
    // counted too: conservative), LISTEN, DECLARE (a cursor WITH HOLD
    // outlives the transaction), LOAD (a library stays loaded: the reset
    // cannot undo it, but it is reported), DO and CALL (any of the above
    // inside).
    if (k.is_any({"set", "reset", "listen", "declare", "load", "do", "call"})) return SessionEffect::changes;
    if (k.is("create")) return ContainsNoCase(sql, "temp") ? SessionEffect::changes : SessionEffect::none;
    if (k.is_any({"select", "with", "values"})) {
        if (ContainsNoCase(sql, "set_config") || ContainsNoCase(sql, "advisory_lock") ||
            (ContainsNoCase(sql, "into") && ContainsNoCase(sql, "temp")))
            return SessionEffect::changes;
    }
    return SessionEffect::none;
}

bool Connection::is_dirty() const noexcept {
    return session_changed_ || PQtransactionStatus(pg_) != PQTRANS_IDLE;
}

void Connection::reset_session() {
    ensure_usable();
    std::string sql;
    if (PQtransactionStatus(pg_) != PQTRANS_IDLE) sql = "ROLLBACK; ";
    sql += "CLOSE ALL; SET SESSION AUTHORIZATION DEFAULT; RESET ALL; UNLISTEN *; "
           "SELECT pg_catalog.pg_advisory_unlock_all(); DISCARD TEMP; DISCARD SEQUENCES";
    // Through PgBouncer the driver prepares nothing, and DEALLOCATE ALL
    // would reach whichever server connection the bouncer picked.
    const bool deallocate = user_prepared_ && !cfg_.pgbouncer;
    if (deallocate) sql += "; DEALLOCATE ALL";
    // RESET ALL brings back the server's DateStyle; the driver parses ISO.
    if (set_date_style_) sql += "; SET DateStyle = ISO";
    exec_simple(sql.c_str());
    if (deallocate) {
        cache_.clear();
        pending_deallocate_.clear();
    }
    user_prepared_ = false;
    session_changed_ = false;
}

} // namespace ilana::drivers::postgres
