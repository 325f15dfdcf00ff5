// Captures ilana's log lines for the life of the object (then restores the
// previous logger).
#pragma once

#include <ilana/logging.hpp>

#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>

#include <mutex>
#include <sstream>
#include <string>

namespace ilana_test {

class LogCapture {
public:
    LogCapture() : previous_(ilana::logger()) {
        auto sink = std::make_shared<spdlog::sinks::ostream_sink_mt>(stream_);
        auto logger = std::make_shared<spdlog::logger>("ilana-test", sink);
        logger->set_pattern("[ilana] [%l] %v");
        logger->set_level(spdlog::level::trace);
        ilana::set_logger(logger);
    }
    ~LogCapture() { ilana::set_logger(previous_); }
    std::string text() {
        ilana::logger()->flush();
        return stream_.str();
    }
    bool contains(const std::string &s) { return text().find(s) != std::string::npos; }

private:
    std::ostringstream stream_;
    std::shared_ptr<spdlog::logger> previous_;
};

} // namespace ilana_test
