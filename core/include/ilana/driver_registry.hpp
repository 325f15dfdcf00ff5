// ilana/driver_registry.hpp — finding, validating and loading driver plugins.
//
// The registry scans plugin directories in order: the config's
// "plugins.paths", then $ILANA_PLUGIN_PATH (colon-separated), then the
// defaults beside the running binary (../plugins and ../lib/ilana/plugins).
// Every *.so is loaded by absolute path with RTLD_NOW and validated
// (magic, ABI major, struct sizes, init, descriptor, mandatory functions);
// a file that fails is refused with a one-line reason naming the file and
// the fix, and the registry goes on with the others. Each client alias maps
// to the first driver in search order that declares it; later claims are
// reported as conflicts.
//
// Thread safety: loading is not thread-safe; once loaded, every const member
// may be called from any thread.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace ilana {
namespace detail {
class LoadedDriver;
}

// One connection parameter a driver declares ("ilana.params/1").
struct DriverParam {
    std::string key;          // flattened: "port", "ssl.rejectUnauthorized"
    std::string type;         // "string", "integer", "number", "boolean", "enum"
    std::string description;  // one line
    std::optional<std::string> default_value; // as text, documentation only
    std::vector<std::string> allowed;         // "enum": the values
    std::optional<double> minimum, maximum;   // "integer", "number": inclusive
    bool required = false;
    bool secret = false;           // never printed
    bool case_insensitive = false; // "enum": ASCII case ignored
};

// What a driver declares about its connection parameters.
struct DriverParams {
    bool declared = false; // the driver provides "ilana.params/1"
    bool open = false;     // the list is partial: undeclared keys are left to the driver
    std::vector<DriverParam> list; // in the driver's order
    // The declaration of `key`, or nullptr.
    const DriverParam *find(const std::string &key) const noexcept;
};

struct DriverInfo {
    std::string id;          // "org.ilana.postgres"
    std::string name;        // "PostgreSQL (libpq)"
    std::string version;     // driver version
    std::string description;
    std::string path;        // absolute path of the shared object
    std::vector<std::string> clients; // aliases it serves
    uint32_t abi_major = 0, abi_minor = 0;
    uint64_t capabilities = 0; // ILANA_CAP_*
    DriverParams params;       // its connection parameters, when declared
};

struct RefusedPlugin {
    std::string path;
    std::string reason; // one line: what is wrong and what to do
};

class DriverRegistry {
public:
    DriverRegistry();
    ~DriverRegistry();
    DriverRegistry(DriverRegistry &&) noexcept;
    DriverRegistry &operator=(DriverRegistry &&) noexcept;

    // The search order: `config_paths`, then $ILANA_PLUGIN_PATH, then the
    // defaults beside the binary; absolute directories only (relative
    // entries are left out here and refused by load_search_path).
    static std::vector<std::string> search_path(const std::vector<std::string> &config_paths = {});

    // Scans every directory of that search order. A relative entry (from
    // `config_paths` or $ILANA_PLUGIN_PATH, "." included) is refused, never
    // resolved against the current directory (DESIGN rule 11: absolute paths
    // only). A missing or unreadable directory given by the user is refused;
    // a missing default directory is not (one of the two usually is).
    void load_search_path(const std::vector<std::string> &config_paths = {});
    // Scans one directory: every entry named *.so is loaded when it is a
    // regular file (or a link to one) and otherwise refused with its reason
    // (a directory, a dangling link, a link loop, a FIFO or device). A
    // missing directory is refused too.
    void load_directory(const std::string &dir);
    // Loads one file. Returns false (and records why) when refused.
    bool load_file(const std::string &path);

    const std::vector<DriverInfo> &drivers() const noexcept;
    const std::vector<RefusedPlugin> &refused() const noexcept;
    // "client 'pg' of /a/x.so is already served by /b/y.so; the first one wins"
    const std::vector<std::string> &conflicts() const noexcept;
    const std::vector<std::string> &searched_directories() const noexcept;
    // Every client alias served, sorted.
    std::vector<std::string> clients() const;

    // The driver for a client name (case-insensitive), or nullptr.
    std::shared_ptr<detail::LoadedDriver> find(const std::string &client) const;
    // The description of the driver serving `client`, or nullptr.
    const DriverInfo *info(const std::string &client) const;
    // Like find, but throws ConfigError listing the available clients and
    // the directories searched.
    std::shared_ptr<detail::LoadedDriver> require(const std::string &client,
                                                  const std::string &where) const;

private:
    void scan_directory(const std::string &dir, bool report_missing);
    void refuse_entry(const std::string &path, const std::string &why);

    struct State;
    std::unique_ptr<State> state_;
};

} // namespace ilana
