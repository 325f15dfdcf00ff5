// call_hook: the one way the core runs a host's hook (ilana/hooks.hpp).
//
// A hook is the host's code running on one of the core's threads (an
// acquiring thread, the maintenance thread, a tenant worker). Whatever it
// throws must not break the pool, the query or the worker that called it, so
// the exception is logged with the hook's name (onError, onRetry, ...) and
// ignored. An empty std::function is no hook. `which` is the hook's name as
// the config and the docs spell it, so the log line says what to fix.
#pragma once

#include <ilana/logging.hpp>

#include <spdlog/spdlog.h>

#include <exception>
#include <utility>

namespace ilana::detail {

template <class Fn, class... Args> void call_hook(const Fn &fn, const char *which, Args &&...args) noexcept {
    if (!fn) return;
    try {
        fn(std::forward<Args>(args)...);
    } catch (const std::exception &e) {
        ilana::logger()->error("hook {} threw: {} (ignored)", which, e.what());
    } catch (...) {
        ilana::logger()->error("hook {} threw a non-exception (ignored)", which);
    }
}

} // namespace ilana::detail
