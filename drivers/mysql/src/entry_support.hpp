// entry_support.hpp — what every entry point does first.
#pragma once

#include "connection.hpp"
#include "result.hpp"
#include "runtime.hpp"

namespace ilana::drivers::mysql {

inline Connection &conn_of(ilana_conn *c) {
    if (c == nullptr) throw misuse("connection handle is NULL");
    ensure_thread();
    return *reinterpret_cast<Connection *>(c);
}

inline ilana_conn *to_handle(Connection *c) { return reinterpret_cast<ilana_conn *>(c); }

// Hands a driver-built result to the host.
inline ilana_status hand_out(std::unique_ptr<Result> r, ilana_result **out) {
    *out = to_handle(r.release());
    return ILANA_OK;
}

} // namespace ilana::drivers::mysql
