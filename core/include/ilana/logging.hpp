// ilana/logging.hpp — where ilana's log lines go.
//
// ilana logs through one spdlog logger (default: named "ilana", to stderr,
// level "warn"; the config's "debug": {"enabled": true} lowers it to debug).
// A host replaces it with its own logger or sinks with set_logger(). Log
// lines never contain passwords or bound parameter values.
//
// Thread safety: logger() and set_logger() may be called from any thread.
#pragma once

#include <memory>

namespace spdlog {
class logger;
}

namespace ilana {

std::shared_ptr<spdlog::logger> logger();
void set_logger(std::shared_ptr<spdlog::logger> logger);

} // namespace ilana
