// libFuzzer target for the config loader: Config::parse on arbitrary bytes.
// Any ilana::Error is an expected outcome; any other exception, crash, leak
// or sanitizer report is a finding.
#include <ilana/config.hpp>
#include <ilana/error.hpp>

#include <cstddef>
#include <cstdint>
#include <string>

namespace {

void exercise(const std::string &text, const std::string &environment) {
    try {
        const ilana::Config cfg = ilana::Config::parse(text, "fuzz.json", "", environment);
        // Touch what callers use, so inconsistent results show up here.
        const std::string names = cfg.connection_names();
        if (cfg.find(cfg.default_connection()) == nullptr) __builtin_trap();
        for (const auto &c : cfg.connections()) {
            if (cfg.find(c.name) != &c) __builtin_trap();
            for (const auto &[key, value] : c.params) (void)cfg.redact(key + "=" + value);
            if (c.pool.min > c.pool.max) __builtin_trap();
        }
        (void)cfg.redact(names);
    } catch (const ilana::Error &e) {
        // Messages are built from user input: make sure they stay usable.
        (void)std::string(e.what()).size();
    }
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    const std::string text(reinterpret_cast<const char *>(data), size);
    exercise(text, "");           // implicit "development"
    exercise(text, "production"); // an explicit environment
    return 0;
}
