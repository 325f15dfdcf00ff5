#include <ilana/logging.hpp>

#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <atomic>
#include <mutex>

namespace ilana {
namespace {
std::mutex g_mu;
std::shared_ptr<spdlog::logger> g_logger;
} // namespace

std::shared_ptr<spdlog::logger> logger() {
    std::lock_guard<std::mutex> lock(g_mu);
    if (!g_logger) {
        g_logger = std::make_shared<spdlog::logger>("ilana", std::make_shared<spdlog::sinks::stderr_color_sink_mt>());
        g_logger->set_pattern("[%Y-%m-%d %H:%M:%S.%e] [ilana] [%l] %v");
        g_logger->set_level(spdlog::level::warn);
    }
    return g_logger;
}

void set_logger(std::shared_ptr<spdlog::logger> l) {
    std::lock_guard<std::mutex> lock(g_mu);
    g_logger = std::move(l);
}

} // namespace ilana
