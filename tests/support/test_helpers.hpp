// Small helpers the integration tests share: unique names for server
// objects, cleanup at scope exit, reading a file, counting occurrences,
// waiting for a condition.
#pragma once

#include <catch2/catch.hpp>

#include <unistd.h>

#include <chrono>
#include <cstddef>
#include <exception>
#include <fstream>
#include <functional>
#include <random>
#include <sstream>
#include <string>
#include <thread>

namespace ilana_test {

// "<pid in hex>_<random>": unique per run, for schemas, databases, tables.
inline std::string unique_suffix() {
    std::random_device rd;
    std::ostringstream s;
    s << std::hex << getpid() << "_" << (rd() & 0xffffffu);
    return s.str();
}

// Runs `fn` at scope exit, ignoring its errors (cleanup of server objects).
struct Cleanup {
    std::function<void()> fn;
    ~Cleanup() {
        try {
            if (fn) fn();
        } catch (const std::exception &e) {
            WARN("cleanup failed: " << e.what());
        }
    }
};

inline std::string read_file(const std::string &path) {
    std::ifstream in(path, std::ios::binary);
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
}

inline bool contains(const std::string &haystack, const std::string &needle) {
    return haystack.find(needle) != std::string::npos;
}

// How many times `needle` occurs in `haystack`, not overlapping.
inline size_t count_of(const std::string &haystack, const std::string &needle) {
    size_t n = 0;
    for (size_t p = haystack.find(needle); p != std::string::npos; p = haystack.find(needle, p + needle.size())) ++n;
    return n;
}

// Whether `condition` holds within `within`, asked every `every` (and once
// more at the end): for state that a pool's or a manager's own threads
// reach in their time.
template <class Condition>
bool eventually(Condition condition, std::chrono::milliseconds within = std::chrono::seconds(5),
                std::chrono::milliseconds every = std::chrono::milliseconds(10)) {
    const auto end = std::chrono::steady_clock::now() + within;
    while (std::chrono::steady_clock::now() < end) {
        if (condition()) return true;
        std::this_thread::sleep_for(every);
    }
    return condition();
}

} // namespace ilana_test
