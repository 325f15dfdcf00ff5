// session.cpp — "ilana.session/1": what a statement may leave behind in the
// server session, and the reset that clears it before the pool lends the
// connection to someone else.
//
// Two sources, either one makes the session dirty:
//  - the server's own word: with session_track_state_change = ON (set at
//    connect) every statement that changes session state — system or user
//    variables, the current database, temporary tables, prepared
//    statements, also inside a stored procedure — ends with
//    SERVER_SESSION_STATE_CHANGED in its status. The status of each
//    command is read before the next one replaces it (ensure_ready) and
//    once more at release (is_dirty); an open transaction shows as
//    SERVER_STATUS_IN_TRANS. Reading a status word costs nothing.
//  - the statement's text, for what the tracker does not report and for a
//    server without it: SET (SET ROLE, SET @x, SET SESSION ...), PREPARE,
//    LOCK TABLES, USE, HANDLER, XA, CALL, DO, CREATE ... TEMPORARY, and
//    SELECT / WITH / VALUES naming GET_LOCK or a user variable (@). A
//    cached statement is classified once, when prepared.
//
// The reset is mysql_reset_connection (COM_RESET_CONNECTION: rolls back,
// drops temporary tables, unlocks tables, releases GET_LOCK locks, clears
// user variables and prepared statements, and sets session variables back
// to the global values), then one SET: ROLE NONE (MariaDB 10.11's reset
// keeps the role), the driver's own setup (time zone, collation) and state
// tracking; and the configured database if the session left it. The reset closes every prepared statement on the server, so the
// driver's statement cache goes with it (Connector/C has invalidated the
// handles: freeing them sends nothing).
#include "connection.hpp"
#include "runtime.hpp"

#include <ilana/sdk/driver_support.hpp>
#include <ilana/sdk/sql_text.hpp>

#include <cstring>

namespace ilana::drivers::mysql {

using ilana::sdk::ContainsNoCase;

namespace {
constexpr unsigned int kDirtyStatus = SERVER_SESSION_STATE_CHANGED | SERVER_STATUS_IN_TRANS;
} // namespace

bool changes_session(std::string_view sql) noexcept {
    const ilana::sdk::LeadingKeyword k(sql, /*hash_comments=*/true);
    if (k.is_any({"set", "prepare", "lock", "use", "handler", "xa", "call", "do"})) return true;
    if (k.is("create")) return ContainsNoCase(sql, "temporary");
    // A user variable assigned (`:=`, `INTO @x`): MariaDB does not report
    // that at the end of a result set. Reading one (`SELECT @x`, `@@var`)
    // changes nothing.
    if (k.is_any({"select", "with", "values"}))
        return ContainsNoCase(sql, "get_lock") ||
               (sql.find('@') != std::string_view::npos &&
                (sql.find(":=") != std::string_view::npos || ContainsNoCase(sql, "into")));
    return false;
}

void Connection::note_statement(std::string_view sql) noexcept {
    if (!session_changed_ && changes_session(sql)) session_changed_ = true;
}

void Connection::note_server_status() noexcept {
    if (m_ != nullptr && (m_->server_status & SERVER_SESSION_STATE_CHANGED) != 0) session_changed_ = true;
}

bool Connection::is_dirty() const noexcept {
    return session_changed_ || (m_ != nullptr && (m_->server_status & kDirtyStatus) != 0);
}

void Connection::drop_statement_cache() noexcept {
    for (auto &c : lru_) mysql_stmt_close(c.stmt);
    lru_.clear();
    cache_index_.clear();
    borrowed_cached_ = nullptr;
}

void Connection::reset_session() {
    ensure_ready();
    if (mysql_reset_connection(m_) != 0) fail(conn_failure(m_, Phase::Session, "session reset"));
    drop_statement_cache();
    ++statement_generation_; // statements prepared by handle: prepared again on their next run
    // MariaDB's reset keeps the current role; the session variables are the
    // global ones again, so the connection's own setup and the tracking go
    // back on. One SET statement takes them all: one round trip.
    // (MySQL has no ROLE item in a SET list.)
    std::string items = mariadb_ ? "ROLE NONE" : "";
    auto add = [&](std::string_view item) { items += (items.empty() ? "" : ", ") + std::string(item); };
    for (const auto &[sql, key] : session_setup(cfg_)) add(std::string_view(sql).substr(4)); // "SET x" -> "x"
    if (tracks_state_) add(std::string_view(kTrackStateChange).substr(4));
    if (!items.empty()) simple_query("SET " + items, Phase::Session, "session reset");
    // USE by the lease: Connector/C follows the current database from the
    // server's schema tracking (mysql->db).
    if (cfg_.database && (m_->db == nullptr || *cfg_.database != m_->db)) {
        if (mysql_select_db(m_, cfg_.database->c_str()) != 0) fail(conn_failure(m_, Phase::Session, "session reset"));
    }
    m_->server_status &= ~static_cast<unsigned int>(SERVER_SESSION_STATE_CHANGED);
    session_changed_ = false;
}

} // namespace ilana::drivers::mysql
