// ilana/sdk/driver_support.hpp — C++ helpers for writing an ilana driver.
//
// A driver implements the C ABI of <ilana/driver.h>. These helpers take the
// repetitive, easy-to-get-wrong parts off its hands:
//
//   - DriverFailure: throw it anywhere inside a driver entry point; guarded()
//     turns it (and any other C++ exception) into the ABI error record, so
//     no exception ever crosses the boundary.
//   - ParamReader: typed lookup of connect parameters, and a check that every
//     key the user wrote was understood (typos become ILANA_ERR_CONFIG).
//   - HostLog: the host's log callback, kept after init.
//   - InitCounter: counted, idempotent init/deinit.
//
// Header-only, depends on <ilana/driver.h> and the C++17 standard library;
// never on the ilana core.
#ifndef ILANA_SDK_DRIVER_SUPPORT_HPP
#define ILANA_SDK_DRIVER_SUPPORT_HPP

#include <ilana/driver.h>

#include <algorithm>
#include <cerrno>
#include <cstddef>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <mutex>
#include <new>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace ilana::sdk {

// Copies `text` into a fixed char field: truncated on a UTF-8 boundary,
// NUL-terminated.
template <size_t N>
inline void copy_error_text(char (&field)[N], std::string_view text) noexcept {
    size_t n = std::min(text.size(), N - 1);
    // Do not cut a multi-byte UTF-8 sequence in half.
    while (n > 0 && n < text.size() && (static_cast<unsigned char>(text[n]) & 0xC0u) == 0x80u) --n;
    if (n > 0) std::memcpy(field, text.data(), n); // an empty view may have no data
    field[n] = '\0';
}

// ABI 1.3: which constraint or conflict failed (ILANA_COND_*) and the
// constraint's name, written only where the host's record has the fields
// (its struct_size covers them).
inline void set_error_condition(ilana_error *err, ilana_error_condition condition,
                                std::string_view constraint_name = {}) noexcept {
    if (err == nullptr) return;
    if (err->struct_size >= offsetof(ilana_error, condition) + sizeof err->condition) err->condition = condition;
    if (err->struct_size >= offsetof(ilana_error, constraint_name) + sizeof err->constraint_name)
        copy_error_text(err->constraint_name, constraint_name);
}

// Writes a complete error record. Safe with err == nullptr. The message is
// truncated to the record's capacity (on a UTF-8 boundary) and NUL-terminated.
// The message never carries the SQL: the host shows the statement itself.
inline void set_error(ilana_error *err, ilana_error_class cls, std::string_view message,
                      const char *sqlstate = nullptr, int32_t native_code = 0,
                      uint32_t flags = 0) noexcept {
    if (err == nullptr) return;
    err->error_class = cls;
    err->flags = flags;
    err->native_code = native_code;
    std::memset(err->sqlstate, 0, sizeof err->sqlstate);
    if (sqlstate != nullptr) std::strncpy(err->sqlstate, sqlstate, 5);
    copy_error_text(err->message, message);
    set_error_condition(err, ILANA_COND_NONE);
}

// The exception a driver throws to fail an entry point with a classified error.
class DriverFailure : public std::exception {
public:
    DriverFailure(ilana_error_class cls, std::string message, std::string sqlstate = {},
                  int32_t native_code = 0, uint32_t flags = 0)
        : cls_(cls), message_(std::move(message)), sqlstate_(std::move(sqlstate)),
          native_code_(native_code), flags_(flags) {}
    const char *what() const noexcept override { return message_.c_str(); }
    ilana_error_class error_class() const noexcept { return cls_; }
    const std::string &sqlstate() const noexcept { return sqlstate_; }
    int32_t native_code() const noexcept { return native_code_; }
    uint32_t flags() const noexcept { return flags_; }
    // ABI 1.3: the violated constraint's kind and name (set_error_condition).
    DriverFailure &with_condition(ilana_error_condition condition, std::string constraint_name = {}) {
        condition_ = condition;
        constraint_name_ = std::move(constraint_name);
        return *this;
    }
    ilana_error_condition condition() const noexcept { return condition_; }
    const std::string &constraint_name() const noexcept { return constraint_name_; }
    void fill(ilana_error *err) const noexcept {
        set_error(err, cls_, message_, sqlstate_.empty() ? nullptr : sqlstate_.c_str(),
                  native_code_, flags_);
        set_error_condition(err, condition_, constraint_name_);
    }

private:
    ilana_error_class cls_;
    std::string message_;
    std::string sqlstate_;
    int32_t native_code_;
    uint32_t flags_;
    ilana_error_condition condition_ = ILANA_COND_NONE;
    std::string constraint_name_;
};

// Runs `body` (returning ilana_status) and converts every exception into
// ILANA_ERROR with a filled record. Use it as the whole body of each entry
// point:  return guarded(err, [&] { ...; return ILANA_OK; });
// Inlined into the entry point (GCC, Clang): the statement path calls
// three entry points per statement, and a call layer each is measurable.
template <class Body>
#if defined(__GNUC__) || defined(__clang__)
__attribute__((always_inline))
#endif
inline ilana_status guarded(ilana_error *err, Body &&body) noexcept {
    try {
        return body();
    } catch (const DriverFailure &f) {
        f.fill(err);
    } catch (const std::bad_alloc &) {
        set_error(err, ILANA_ERR_INTERNAL, "out of memory in driver");
    } catch (const std::exception &e) {
        set_error(err, ILANA_ERR_INTERNAL, std::string("driver internal error: ") + e.what());
    } catch (...) {
        set_error(err, ILANA_ERR_INTERNAL, "driver internal error: unknown exception");
    }
    return ILANA_ERROR;
}

// ilana_statement.timeout_ms (ABI 1.2) as execute reads it: 0 (none) when
// the host's struct_size ends before the field (a v1.1 host: those bytes
// are padding, not a timeout). A negative value is a broken host:
// ILANA_ERR_INTERNAL before anything is sent.
inline int64_t statement_timeout_ms(const ilana_statement &st) {
    if (!ILANA_COVERS(st.struct_size, ilana_statement, timeout_ms)) return 0;
    if (st.timeout_ms < 0)
        throw DriverFailure(ILANA_ERR_INTERNAL, "execute: timeout_ms is negative (" + std::to_string(st.timeout_ms) + ")",
                            {}, 0, ILANA_ERRF_NOT_SENT);
    return st.timeout_ms;
}

// Reads connect parameters by key. Every lookup marks the key as understood;
// finish() then rejects keys nobody asked for (except "ilana.*"), naming them.
class ParamReader {
public:
    explicit ParamReader(const ilana_connect_params *params) {
        if (params == nullptr) return;
        for (uint32_t i = 0; i < params->param_count; ++i) {
            const ilana_param &p = params->params[i];
            if (p.key != nullptr && p.value != nullptr) entries_.push_back({p.key, p.value, false});
        }
    }

    // The value of the first of `keys` present, or nullopt.
    std::optional<std::string> get(std::initializer_list<const char *> keys) {
        for (const char *k : keys)
            for (auto &e : entries_)
                if (e.key == k) {
                    e.used = true;
                    return e.value;
                }
        return std::nullopt;
    }
    std::optional<std::string> get(const char *key) { return get({key}); }

    std::string get_or(const char *key, std::string fallback) {
        auto v = get(key);
        return v ? *v : std::move(fallback);
    }

    // Integer parameter; a non-integer value is ILANA_ERR_CONFIG naming the key.
    std::optional<long long> get_int(std::initializer_list<const char *> keys) {
        for (const char *k : keys) {
            auto v = get({k});
            if (!v) continue;
            errno = 0;
            char *end = nullptr;
            long long n = std::strtoll(v->c_str(), &end, 10);
            if (v->empty() || *end != '\0' || errno != 0)
                throw DriverFailure(ILANA_ERR_CONFIG, "connection parameter '" + std::string(k) +
                                                          "' must be an integer, got '" + *v + "'");
            return n;
        }
        return std::nullopt;
    }
    std::optional<long long> get_int(const char *key) { return get_int({key}); }

    // Boolean parameter: true/false/1/0/yes/no/on/off.
    std::optional<bool> get_bool(std::initializer_list<const char *> keys) {
        for (const char *k : keys) {
            auto v = get({k});
            if (!v) continue;
            std::string s = *v;
            std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
            if (s == "true" || s == "1" || s == "yes" || s == "on") return true;
            if (s == "false" || s == "0" || s == "no" || s == "off") return false;
            throw DriverFailure(ILANA_ERR_CONFIG, "connection parameter '" + std::string(k) +
                                                      "' must be true or false, got '" + *v + "'");
        }
        return std::nullopt;
    }
    std::optional<bool> get_bool(const char *key) { return get_bool({key}); }

    // Marks keys as understood without reading them (e.g. seed options that
    // do not apply to this driver but are harmless).
    void accept(std::initializer_list<const char *> keys) {
        for (const char *k : keys)
            for (auto &e : entries_)
                if (e.key == k) e.used = true;
    }

    // Every parameter given, in order, keys and values as given: to connect
    // again with the same ones (a session reset opening a fresh handle).
    std::vector<std::pair<std::string, std::string>> all() const {
        std::vector<std::pair<std::string, std::string>> out;
        out.reserve(entries_.size());
        for (const auto &e : entries_) out.emplace_back(e.key, e.value);
        return out;
    }

    // Throws ILANA_ERR_CONFIG listing the keys never looked up.
    void finish(std::string_view driver_name) const {
        std::string unknown;
        for (const auto &e : entries_) {
            if (e.used || e.key.rfind("ilana.", 0) == 0) continue;
            if (!unknown.empty()) unknown += ", ";
            unknown += "'" + e.key + "'";
        }
        if (!unknown.empty())
            throw DriverFailure(ILANA_ERR_CONFIG, "unknown connection parameter " + unknown + " for " +
                                                      std::string(driver_name) +
                                                      ": remove it or check its spelling");
    }

private:
    struct Entry {
        std::string key;
        std::string value;
        bool used;
    };
    std::vector<Entry> entries_;
};

// The host's services, kept by the driver between init and deinit.
class HostLog {
public:
    void attach(const ilana_host *host) noexcept { host_ = host; }
    void detach() noexcept { host_ = nullptr; }
    void operator()(ilana_log_level level, void *conn_context, std::string_view message) const noexcept {
        if (host_ != nullptr && host_->log != nullptr)
            host_->log(host_->context, conn_context, level, message.data(), message.size());
    }

private:
    const ilana_host *host_ = nullptr;
};

// Counted init/deinit: `first` runs on the first init, `last` on the last
// deinit. init/deinit are [exclusive] by contract; the mutex makes a misuse
// harmless anyway.
class InitCounter {
public:
    template <class First>
    ilana_status init(ilana_error *err, First &&first) noexcept {
        std::lock_guard<std::mutex> lock(mu_);
        if (count_ > 0) {
            ++count_;
            return ILANA_OK;
        }
        ilana_status st = guarded(err, std::forward<First>(first));
        if (st == ILANA_OK) count_ = 1;
        return st;
    }
    template <class Last>
    void deinit(Last &&last) noexcept {
        std::lock_guard<std::mutex> lock(mu_);
        if (count_ == 0) return;
        if (--count_ == 0) {
            try {
                last();
            } catch (...) {
            }
        }
    }

private:
    std::mutex mu_;
    int count_ = 0;
};

// Days since 1970-01-01 for a proleptic Gregorian civil date (H. Hinnant's
// algorithm), and back. Drivers use these to convert DATE/TIMESTAMP cells.
constexpr int64_t days_from_civil(int64_t y, unsigned m, unsigned d) noexcept {
    y -= m <= 2;
    const int64_t era = (y >= 0 ? y : y - 399) / 400;
    const unsigned yoe = static_cast<unsigned>(y - era * 400);
    const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

struct CivilDate {
    int64_t year;
    unsigned month;
    unsigned day;
};

constexpr CivilDate civil_from_days(int64_t z) noexcept {
    z += 719468;
    const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    const unsigned doe = static_cast<unsigned>(z - era * 146097);
    const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    const int64_t y = static_cast<int64_t>(yoe) + era * 400;
    const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    const unsigned mp = (5 * doy + 2) / 153;
    const unsigned d = doy - (153 * mp + 2) / 5 + 1;
    const unsigned m = mp < 10 ? mp + 3 : mp - 9;
    return {y + (m <= 2), m, d};
}

} // namespace ilana::sdk

#endif // ILANA_SDK_DRIVER_SUPPORT_HPP
