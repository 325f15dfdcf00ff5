// driver_state.hpp — the little global state a driver has: the host's log.
#pragma once

#include <ilana/sdk/driver_support.hpp>

namespace ilana::drivers::postgres {

// The host's log callback, attached by the first init and detached by the
// last deinit (driver_entry.cpp). Thread-safe to call.
const ilana::sdk::HostLog &host_log() noexcept;

} // namespace ilana::drivers::postgres
