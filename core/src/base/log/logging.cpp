#include <ilana/logging.hpp>

#include "log/log_events.hpp"
#include "log/timestamps.hpp"

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <mutex>

namespace ilana {
namespace {
std::mutex g_mu;
std::shared_ptr<spdlog::logger> g_logger;
std::shared_ptr<const LogRecordSink> g_record_sink;

spdlog::level::level_enum to_spdlog(LogLevel level) {
    switch (level) {
    case LogLevel::trace: return spdlog::level::trace;
    case LogLevel::debug: return spdlog::level::debug;
    case LogLevel::info: return spdlog::level::info;
    case LogLevel::warn: return spdlog::level::warn;
    case LogLevel::error: return spdlog::level::err;
    }
    return spdlog::level::info;
}
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

void set_log_record_sink(LogRecordSink sink) {
    auto shared = sink ? std::make_shared<const LogRecordSink>(std::move(sink)) : nullptr;
    std::lock_guard<std::mutex> lock(g_mu);
    g_record_sink = std::move(shared);
}

const char *to_string(LogLevel level) noexcept {
    switch (level) {
    case LogLevel::trace: return "trace";
    case LogLevel::debug: return "debug";
    case LogLevel::info: return "info";
    case LogLevel::warn: return "warn";
    case LogLevel::error: return "error";
    }
    return "info";
}

std::string LogRecord::to_json() const {
    rapidjson::StringBuffer buf;
    rapidjson::Writer<rapidjson::StringBuffer> w(buf);
    auto text = [&](const char *key, const std::string &v) {
        if (v.empty()) return;
        w.Key(key);
        w.String(v.c_str(), static_cast<rapidjson::SizeType>(v.size()));
    };
    w.StartObject();
    text("timestamp", timestamp);
    w.Key("level");
    w.String(to_string(level));
    text("type", type);
    text("connection", connection);
    text("tenant", tenant);
    text("schema", schema);
    if (duration_ms) {
        w.Key("durationMs");
        w.Double(*duration_ms);
    }
    if (type == "QUERY" || type == "SLOW_QUERY") {
        text("sql", sql);
        w.Key("ok");
        w.Bool(ok);
    }
    if (type == "CONNECTION_RETRY") {
        w.Key("attempt");
        w.Int(attempt);
        w.Key("maxAttempts");
        w.Int(max_attempts);
        w.Key("delayMs");
        w.Int64(delay_ms);
    }
    text("error", error);
    text("reason", reason);
    if (type == "POOL_CREATED") {
        text("client", client);
        w.Key("min");
        w.Int(pool_min);
        w.Key("max");
        w.Int(pool_max);
    }
    text("message", message);
    w.EndObject();
    return std::string(buf.GetString(), buf.GetSize());
}

namespace detail {

void emit_log(LogRecord &&r) noexcept {
    try {
        std::shared_ptr<spdlog::logger> log = ilana::logger();
        const auto level = to_spdlog(r.level);
        if (!log->should_log(level)) return;
        log->log(level, "{}", r.message);
        std::shared_ptr<const LogRecordSink> sink;
        {
            std::lock_guard<std::mutex> lock(g_mu);
            sink = g_record_sink;
        }
        if (!sink) return;
        r.timestamp = iso8601_now();
        (*sink)(r);
    } catch (...) {
        // A sink that throws (or a record that cannot be built) is ignored:
        // logging never fails the operation it reports.
    }
}

LogRecord pool_record(LogLevel level, const char *type, const std::string &pool_name) {
    LogRecord r;
    r.level = level;
    r.type = type;
    const auto at = pool_name.find('@');
    r.connection = pool_name.substr(0, at);
    if (at != std::string::npos) r.tenant = pool_name.substr(at + 1);
    return r;
}

void log_connection_retry(const std::string &pool_name, int attempt, int max_attempts, int64_t delay_ms,
                          const std::string &error, LogLevel level) noexcept {
    try {
        LogRecord r = pool_record(level, "CONNECTION_RETRY", pool_name);
        r.attempt = attempt;
        r.max_attempts = max_attempts;
        r.delay_ms = delay_ms;
        r.error = error;
        r.message = fmt::format("{}CONNECTION_RETRY attempt={}/{} delay={}ms error=\"{}\"",
                                pool_name.empty() ? std::string() : "conn=" + pool_name + " ", attempt, max_attempts,
                                delay_ms, error);
        emit_log(std::move(r));
    } catch (...) {
    }
}

std::string sql_start(std::string_view sql) {
    constexpr size_t kMax = 200;
    std::string out;
    out.reserve(std::min(sql.size(), kMax + 4));
    bool space = false;
    for (char c : sql) {
        if (c == ' ' || c == '\n' || c == '\r' || c == '\t') {
            space = !out.empty();
            continue;
        }
        if (space) out += ' ';
        space = false;
        out += c;
        if (out.size() > kMax) break;
    }
    if (out.size() > kMax) {
        out.resize(kMax);
        // Do not end inside a UTF-8 sequence (drops at most one character).
        while (!out.empty() && (static_cast<unsigned char>(out.back()) & 0xC0) == 0x80) out.pop_back();
        if (!out.empty() && (static_cast<unsigned char>(out.back()) & 0x80) != 0) out.pop_back();
        out += "...";
    }
    return out;
}

} // namespace detail
} // namespace ilana
