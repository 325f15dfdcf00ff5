// ilana/sdk/error_table.hpp — a driver's error policy as one table.
//
// The host decides retry and eviction from an error's class and flags only
// (driver.h), so what each server code means is a driver's whole error
// policy. libpqxx keeps it in one table (result.cxx, ThrowSQLError); so does
// every bundled driver, with these two lookups:
//
//   SqlstateTable   SQLSTATE -> class and flags. A rule's code is a prefix of
//                   1 to 5 characters: "23505" exactly, "23" the whole class,
//                   "HYT" a subclass. The longest matching prefix wins, so an
//                   exact code overrides its class wherever it is listed.
//
//     constexpr ilana::sdk::SqlstateRule kRules[] = {
//         {"40P01", ILANA_ERR_TRANSIENT, 0},                     // deadlock
//         {"08", ILANA_ERR_CONNECTION, ILANA_ERRF_CONN_BROKEN},  // class 08
//     };
//     constexpr ilana::sdk::SqlstateTable kSqlstates{kRules};
//     ilana::sdk::ErrorKind k = kSqlstates.classify("40P01");
//
//   NativeCodeTable native error numbers (MySQL's 1062, SQLite's extended
//                   result codes) -> class and flags (and whatever else the
//                   driver's rule struct carries). Exact numbers; find()
//                   returns nullptr for the rest, so the driver chooses its
//                   fallback (a primary code, the server's SQLSTATE through a
//                   SqlstateTable).
//
// Both are constexpr views over the driver's own static array: no copy, no
// allocation, nothing to initialise. Lookup is a linear scan (tables hold a
// few dozen to a hundred rows and are consulted only on failure).
// duplicates() lets a driver static_assert that no code is listed twice.
//
// Header-only; depends on <ilana/driver.h> and the C++17 standard library.
#ifndef ILANA_SDK_ERROR_TABLE_HPP
#define ILANA_SDK_ERROR_TABLE_HPP

#include <ilana/driver.h>

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace ilana::sdk {

// What an error means to the host.
struct ErrorKind {
    ilana_error_class cls = ILANA_ERR_INTERNAL;
    uint32_t flags = 0; // ILANA_ERRF_*
};

struct SqlstateRule {
    const char *code; // a prefix of 1 to 5 characters of a SQLSTATE
    ilana_error_class cls;
    uint32_t flags;
};

// True for five characters of [0-9A-Z] (a SQLSTATE's alphabet).
constexpr bool is_sqlstate(std::string_view s) noexcept {
    if (s.size() != 5) return false;
    for (char c : s)
        if (!((c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z'))) return false;
    return true;
}

class SqlstateTable {
public:
    template <size_t N>
    constexpr SqlstateTable(const SqlstateRule (&rules)[N], ErrorKind fallback = {}) noexcept
        : rules_(rules), count_(N), fallback_(fallback) {}

    // The kind of the longest rule that is a prefix of `sqlstate`; the
    // fallback (ILANA_ERR_INTERNAL by default) when none is, or when
    // `sqlstate` is not a SQLSTATE at all.
    constexpr ErrorKind classify(std::string_view sqlstate) const noexcept {
        if (!is_sqlstate(sqlstate)) return fallback_;
        const SqlstateRule *best = nullptr;
        size_t best_len = 0;
        for (size_t i = 0; i < count_; ++i) {
            const std::string_view code(rules_[i].code);
            if (code.size() > best_len && sqlstate.substr(0, code.size()) == code) {
                best = &rules_[i];
                best_len = code.size();
            }
        }
        return best != nullptr ? ErrorKind{best->cls, best->flags} : fallback_;
    }
    // Whether some code is listed twice (a table bug: only one can win).
    constexpr bool duplicates() const noexcept {
        for (size_t i = 0; i < count_; ++i)
            for (size_t j = i + 1; j < count_; ++j)
                if (std::string_view(rules_[i].code) == std::string_view(rules_[j].code)) return true;
        return false;
    }

private:
    const SqlstateRule *rules_;
    size_t count_;
    ErrorKind fallback_;
};

// A native error number and what it means. A driver that needs more per
// number (the SQLSTATE to report, where the error happened) declares its own
// rule struct with an integer member `code` and uses the same table.
struct NativeCodeRule {
    int64_t code; // the native error number
    ilana_error_class cls;
    uint32_t flags;
};

template <class Rule = NativeCodeRule> class NativeCodeTable {
public:
    template <size_t N> constexpr NativeCodeTable(const Rule (&rules)[N]) noexcept : rules_(rules), count_(N) {}

    // The first rule for exactly `code`, or nullptr.
    constexpr const Rule *find(int64_t code) const noexcept {
        return find(code, [](const Rule &) { return true; });
    }
    // The first rule for exactly `code` that `applies` (a condition of the
    // driver's own, such as where the error happened), or nullptr.
    template <class Applies> constexpr const Rule *find(int64_t code, Applies &&applies) const {
        for (size_t i = 0; i < count_; ++i)
            if (static_cast<int64_t>(rules_[i].code) == code && applies(rules_[i])) return &rules_[i];
        return nullptr;
    }
    // Whether some code is listed twice (a table bug, unless the driver's
    // find condition tells the rows apart).
    constexpr bool duplicates() const noexcept {
        for (size_t i = 0; i < count_; ++i)
            for (size_t j = i + 1; j < count_; ++j)
                if (rules_[i].code == rules_[j].code) return true;
        return false;
    }
    constexpr const Rule *begin() const noexcept { return rules_; }
    constexpr const Rule *end() const noexcept { return rules_ + count_; }

private:
    const Rule *rules_;
    size_t count_;
};

} // namespace ilana::sdk

#endif // ILANA_SDK_ERROR_TABLE_HPP
