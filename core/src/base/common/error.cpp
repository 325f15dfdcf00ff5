// Out-of-line members of ilana::Error and ilana::ConfigError.
#include <ilana/driver.h>
#include <ilana/error.hpp>

#include <utility>

namespace ilana {

namespace {
// Error flags and classes are the ABI's numbers, passed through unchanged.
constexpr uint32_t kConnBroken = ILANA_ERRF_CONN_BROKEN;
constexpr uint32_t kTxnAborted = ILANA_ERRF_TXN_ABORTED;
constexpr uint32_t kNotSent = ILANA_ERRF_NOT_SENT;
static_assert(static_cast<int>(ErrorClass::connection) == ILANA_ERR_CONNECTION);
static_assert(static_cast<int>(ErrorClass::timeout) == ILANA_ERR_TIMEOUT);
static_assert(static_cast<int>(ErrorClass::internal) == ILANA_ERR_INTERNAL);
static_assert(static_cast<int>(ErrorClass::config) == ILANA_ERR_CONFIG);
} // namespace

const char *to_string(ErrorClass cls) noexcept {
    switch (cls) {
    case ErrorClass::none: return "none";
    case ErrorClass::connection: return "connection";
    case ErrorClass::transient: return "transient";
    case ErrorClass::timeout: return "timeout";
    case ErrorClass::auth: return "auth";
    case ErrorClass::syntax: return "syntax";
    case ErrorClass::constraint: return "constraint";
    case ErrorClass::permission: return "permission";
    case ErrorClass::data: return "data";
    case ErrorClass::canceled: return "canceled";
    case ErrorClass::internal: return "internal";
    case ErrorClass::config: return "config";
    }
    return "unknown";
}

Error::Error(const std::string &message, ErrorClass cls, std::string connection, std::string sqlstate,
             int32_t native_code, uint32_t flags)
    : std::runtime_error(message), message_(message), what_(message), class_(cls),
      connection_(std::move(connection)), sqlstate_(std::move(sqlstate)), native_code_(native_code),
      flags_(flags) {}

void Error::compose() {
    what_ = message_;
    if (!sql_.empty()) {
        what_ += " [SQL: ";
        what_ += sql_;
        what_ += ']';
    }
}

void Error::add_context(const std::string &before, const std::string &after) {
    message_ = before + message_ + after;
    compose();
}

void Error::set_sql(std::string_view sql) {
    if (!sql_.empty()) return; // the innermost statement is the one that failed
    // One line, blanks collapsed, at most kMax bytes cut on a UTF-8
    // boundary: enough to recognise the statement, short enough for a log
    // line. Only the text: bound values never reach it.
    constexpr size_t kMax = 120;
    std::string out;
    bool space = false, cut = false;
    for (char c : sql) {
        if (c == ' ' || c == '\n' || c == '\r' || c == '\t') {
            space = !out.empty();
            continue;
        }
        if (out.size() + (space ? 1 : 0) >= kMax) {
            cut = true;
            break;
        }
        if (space) out += ' ';
        space = false;
        out += c;
    }
    if (cut) {
        size_t n = out.size();
        // Drop the last character if it may be incomplete (its continuation
        // bytes, then its lead byte), so the excerpt stays valid UTF-8.
        while (n > 0 && (static_cast<unsigned char>(out[n - 1]) & 0xC0u) == 0x80u) --n;
        if (n > 0 && (static_cast<unsigned char>(out[n - 1]) & 0xC0u) == 0xC0u) --n;
        out.resize(n);
        out += "...";
    }
    sql_ = std::move(out);
    compose();
}

bool Error::poisons_connection() const noexcept { return (flags_ & kConnBroken) != 0; }
bool Error::aborted_transaction() const noexcept { return (flags_ & kTxnAborted) != 0; }
bool Error::not_sent() const noexcept { return (flags_ & kNotSent) != 0; }

bool Error::is_transient() const noexcept {
    return class_ == ErrorClass::connection || class_ == ErrorClass::transient ||
           class_ == ErrorClass::timeout;
}

namespace {

// True when `message` names `file` as a word of its own ("not found: <file> (").
bool names_file(const std::string &message, const std::string &file) {
    for (auto pos = message.find(file); pos != std::string::npos; pos = message.find(file, pos + 1)) {
        const auto end = pos + file.size();
        const bool starts = pos == 0 || message[pos - 1] == ' ';
        const bool ends = end == message.size() || std::string(" :;,)").find(message[end]) != std::string::npos;
        if (starts && ends) return true;
    }
    return false;
}

// "<file>: <json path>: <message>", with two conventions so every config
// message reads naturally:
//  - a message that already names the file (e.g. "config file not found:
//    /abs/path ...") gets no file prefix;
//  - a message starting with ':' is a position glued to the file name
//    ("ilana.config.json:3:7: invalid JSON: ...").
std::string build_config_message(const std::string &message, const std::string &file,
                                 const std::string &json_path) {
    std::string out;
    if (!file.empty() && !names_file(message, file)) {
        out = file;
        if (message.empty() || message.front() != ':') out += ": ";
    }
    if (!json_path.empty() && message.compare(0, json_path.size(), json_path) != 0) {
        out += json_path;
        out += ": ";
    }
    out += message;
    return out;
}

} // namespace

ConfigError::ConfigError(const std::string &message, std::string file, std::string json_path)
    : Error(build_config_message(message, file, json_path), ErrorClass::config), file_(std::move(file)),
      json_path_(std::move(json_path)) {}

} // namespace ilana
