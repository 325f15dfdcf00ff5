// Captures ilana's log lines for the life of the object (then restores the
// previous logger); RecordCapture does the same for the structured records.
#pragma once

#include <ilana/logging.hpp>

#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>

#include <mutex>
#include <sstream>
#include <string>
#include <vector>

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

// Records given to the structured sink while alive.
struct RecordCapture {
    std::mutex mu;
    std::vector<ilana::LogRecord> records;
    RecordCapture() {
        ilana::set_log_record_sink([this](const ilana::LogRecord &r) {
            std::lock_guard<std::mutex> lock(mu);
            records.push_back(r);
        });
    }
    ~RecordCapture() { ilana::set_log_record_sink({}); }
    std::vector<ilana::LogRecord> of(const std::string &type) {
        std::lock_guard<std::mutex> lock(mu);
        std::vector<ilana::LogRecord> out;
        for (const auto &r : records)
            if (r.type == type) out.push_back(r);
        return out;
    }
};

} // namespace ilana_test
