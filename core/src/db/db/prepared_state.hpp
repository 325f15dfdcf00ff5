// PreparedState: what every copy of one Statement shares (db/prepared.cpp
// runs it; the async calls, db/async, run it too).
#pragma once

#ifndef ILANA_CORE_LAYER_DB
#error "db/prepared_state.hpp is the db layer's own"
#endif

#include <ilana/database.hpp>

#include "db/database_state.hpp"
#include "plugins/native_connection.hpp"

#include <memory>
#include <mutex>
#include <string>

namespace ilana {
namespace detail {

// What every copy of one Statement shares.
struct PreparedState {
    explicit PreparedState(const std::shared_ptr<ConnectionState> &state)
        : cs(state), conn(InternalAccess::make_connection(state)) {}
    std::shared_ptr<ConnectionState> cs;
    Connection conn;      // for leases per call
    std::string sql;    // as written, with ?
    std::string text[2]; // in each placeholder style (ILANA_PLACEHOLDER_QUESTION, _DOLLAR)
    size_t param_count = 0;
    bool read_only = true; // a SELECT (or the like): no read-your-writes pin per call
    uint32_t slot = 0;
    uint64_t id = 0;
    bool has_slot = false;

    // After a reload replaced the connection: the statement of the new
    // pool (same SQL, prepared there as each of its sessions first runs it),
    // made on the first call that finds cs retired. Set once, so a thread
    // using it is never left with a freed one; a later reload chains on.
    mutable std::mutex next_mu;
    mutable std::shared_ptr<PreparedState> next;

    // The statement calls without a Session run: this one, or its live
    // successor's (one acquire load when nothing was reloaded).
    const PreparedState &live() const {
        if (cs->forward.load(std::memory_order_acquire) == nullptr) return *this;
        return follow();
    }
    const PreparedState &follow() const;

    PreparedState(const PreparedState &) = delete;
    PreparedState &operator=(const PreparedState &) = delete;
    ~PreparedState() {
        if (has_slot) cs->give_back_prepared_slot(slot);
    }
    const std::string &text_for(const NativeConnection &conn) const noexcept {
        return text[conn.placeholder_style() == ILANA_PLACEHOLDER_DOLLAR ? 1 : 0];
    }
};

} // namespace detail
} // namespace ilana
