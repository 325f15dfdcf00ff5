// session.cpp — "ilana.session/1" for SQLite: what a pooled connection may
// carry from one lease to the next, and the reset.
//
// SQLite's session state is the connection's own: PRAGMA settings
// (foreign_keys, case_sensitive_like, recursive_triggers, ...), the TEMP
// schema (temp tables, views, triggers), ATTACHed databases, and an open
// transaction. A statement starting with PRAGMA, ATTACH or DETACH, or a
// CREATE naming TEMP, marks the connection; such statements are never
// cached, so a cached statement (the hot path) is never looked at. An open
// transaction is sqlite3_get_autocommit, a field read.
//
// Resetting opens the same file again with the same connect parameters and
// closes the old handle (an embedded database: no round trip, the cost of
// an open and the setup PRAGMAs, and a cold statement cache). That is the
// only way to get every PRAGMA back to what open() set or SQLite's default,
// including ones ilana knows nothing of. An in-memory database is its
// handle, and opening it again would lose its content: there a reset only
// rolls back a transaction left open, and the rest stays (README, "Pools").
#include "sqlite_driver.hpp"

#include <ilana/sdk/sql_text.hpp>

namespace ilana::drivers::sqlite {

bool changes_session(std::string_view sql) noexcept {
    const sdk::LeadingKeyword k(sql);
    if (k.is_any({"pragma", "attach", "detach"})) return true;
    return k.is("create") && sdk::ContainsNoCase(sql, "temp");
}

void Connection::note_statement(std::string_view sql) noexcept {
    if (!session_changed_ && changes_session(sql)) session_changed_ = true;
}

bool Connection::in_memory() const noexcept {
    // "vfs=memdb": the one database a pool's sessions share for ":memory:"
    // (g_memory_anchors), treated like any other in-memory database.
    return path_ == ":memory:" || path_.empty() || sdk::ContainsNoCase(path_, "mode=memory") ||
           sdk::ContainsNoCase(path_, "vfs=memdb") || path_.rfind("file::memory:", 0) == 0;
}

bool Connection::is_dirty() const noexcept {
    if (db_ == nullptr) return false;
    if (sqlite3_get_autocommit(db_) == 0) return true;
    return session_changed_ && !in_memory();
}

void Connection::reset_session() {
    require_open();
    if (in_memory()) { // see the top: never emptied behind the host's back
        if (sqlite3_get_autocommit(db_) == 0) run("ROLLBACK", Stage::control, "session reset");
        session_changed_ = false;
        return;
    }
    std::vector<ilana_param> params;
    params.reserve(connect_params_.size());
    for (const auto &kv : connect_params_) params.push_back({kv.first.c_str(), kv.second.c_str()});
    ilana_connect_params cp{};
    cp.struct_size = sizeof cp;
    cp.params = params.data();
    cp.param_count = static_cast<uint32_t>(params.size());
    cp.timeout_ms = connect_timeout_ms_;
    cp.host_context = host_context();
    sdk::ConnectParams again(&cp);
    again.log_as(*this);
    std::unique_ptr<Connection> fresh = open(again);
    // This handle takes the fresh database; `fresh` closes the old one (and
    // its cached statements go first: they belong to the old handle).
    cache_.clear();
    {
        std::lock_guard<std::mutex> lock(interrupt_mu_);
        std::swap(db_, fresh->db_);
    }
    session_changed_ = false;
    ++db_generation_; // statements prepared by handle compile again on the new one
}

} // namespace ilana::drivers::sqlite
