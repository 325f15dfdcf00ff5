// Loading and validating driver plugins (DESIGN.md, ABI rule 11): load with
// RTLD_NOW from an absolute path, resolve the entry, check magic, major and
// minimum struct sizes, call init, check the descriptor and the mandatory
// functions; on any failure unload and record one line naming file and fix.
#include <ilana/driver_registry.hpp>
#include <ilana/error.hpp>
#include <ilana/logging.hpp>

#include "plugins/loaded_driver.hpp"

#include <boost/dll/runtime_symbol_info.hpp>
#include <boost/dll/shared_library.hpp>
#include <boost/filesystem.hpp>
#include <spdlog/spdlog.h>

#include <dlfcn.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cctype>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <map>
#include <memory>
#include <mutex>

#ifndef ILANA_VERSION
#define ILANA_VERSION "0.0.0"
#endif

namespace fs = boost::filesystem;

namespace {
std::string strip_trailing_slash(std::string p) {
    while (p.size() > 1 && p.back() == '/') p.pop_back();
    return p;
}
} // namespace

namespace ilana {
namespace detail {

// Smallest struct sizes of ABI v1.0: a driver's structs must cover them.
constexpr uint32_t kMinEntrySize = offsetof(ilana_driver_entry, get_extension) + sizeof(void *);
constexpr uint32_t kMinDescriptorSize = offsetof(ilana_driver_descriptor, dialect) + sizeof(void *);
constexpr uint32_t kMinApiSize = offsetof(ilana_driver_api, server_info) + sizeof(void *);
constexpr uint32_t kMinDialectSize = offsetof(ilana_dialect, max_params) + sizeof(uint32_t);

LoadedDriver::LoadedDriver(boost::dll::shared_library lib, std::string path, const ilana_driver_entry *entry)
    : lib_(std::move(lib)), path_(std::move(path)), entry_(entry), host_table_(&host_table_for(path_)) {}

void LoadedDriver::set_identity(std::string id, std::vector<std::string> clients) {
    id_ = std::move(id);
    clients_ = std::move(clients);
    const std::string *none = nullptr;
    auto *named = new std::string(id_);
    if (!host_table_->id.compare_exchange_strong(none, named, std::memory_order_acq_rel)) delete named;
}

LoadedDriver::~LoadedDriver() {
    if (initialised_ && entry_->deinit != nullptr) entry_->deinit();
    // lib_ unloads after this body, once nothing of the driver runs any more.
}

std::string dialect_problem(const ilana_dialect &dialect) {
    if (dialect.struct_size < kMinDialectSize)
        return "dialect struct_size " + std::to_string(dialect.struct_size) + " is smaller than ABI v1.0's " +
               std::to_string(kMinDialectSize);
    if (dialect.placeholder != ILANA_PLACEHOLDER_QUESTION && dialect.placeholder != ILANA_PLACEHOLDER_DOLLAR)
        return "dialect placeholder " + std::to_string(dialect.placeholder) +
               " is not an ILANA_PLACEHOLDER_* style (0 '?', 1 '$1')";
    return {};
}

const ilana_conn_dialect_api *LoadedDriver::connection_dialect_api() const noexcept {
    const auto *api = static_cast<const ilana_conn_dialect_api *>(extension(
        ILANA_EXT_CONN_DIALECT, offsetof(ilana_conn_dialect_api, dialect_of) + sizeof(ilana_conn_dialect_api::dialect_of)));
    return api != nullptr && api->dialect_of != nullptr ? api : nullptr;
}

const ilana_prepare_api *LoadedDriver::prepare_api() const noexcept {
    const auto *api = static_cast<const ilana_prepare_api *>(
        extension(ILANA_EXT_PREPARE, offsetof(ilana_prepare_api, release) + sizeof(ilana_prepare_api::release)));
    if (api == nullptr || api->prepare == nullptr || api->execute_prepared == nullptr || api->release == nullptr)
        return nullptr;
    return api;
}

const ilana_async_api *LoadedDriver::async_api() const noexcept {
    const auto *api = static_cast<const ilana_async_api *>(
        extension(ILANA_EXT_ASYNC, offsetof(ilana_async_api, cancel) + sizeof(ilana_async_api::cancel)));
    if (api == nullptr || api->submit == nullptr || api->poll == nullptr) return nullptr;
    return api;
}

const void *LoadedDriver::extension(const char *id, uint32_t min_size) const noexcept {
    if (entry_->get_extension == nullptr) return nullptr;
    const void *ext = entry_->get_extension(id);
    if (ext == nullptr) return nullptr;
    if (*static_cast<const uint32_t *>(ext) < min_size) return nullptr;
    return ext;
}

namespace {

// Driver log lines go to the ilana logger, tagged with the driver id and,
// when tied to a connection, its name (conn_context points to a std::string).
void host_log(void *context, void *conn_context, ilana_log_level level, const char *message, size_t len) {
    const std::string *driver_id =
        context != nullptr ? static_cast<const HostTable *>(context)->id.load(std::memory_order_acquire) : nullptr;
    auto *conn = static_cast<const std::string *>(conn_context);
    spdlog::level::level_enum lvl = spdlog::level::info;
    switch (level) {
    case ILANA_LOG_TRACE: lvl = spdlog::level::trace; break;
    case ILANA_LOG_DEBUG: lvl = spdlog::level::debug; break;
    case ILANA_LOG_INFO: lvl = spdlog::level::info; break;
    case ILANA_LOG_WARN: lvl = spdlog::level::warn; break;
    default: lvl = spdlog::level::err; break;
    }
    auto log = ilana::logger();
    if (!log->should_log(lvl)) return;
    std::string_view msg(message != nullptr ? message : "", message != nullptr ? len : 0);
    if (conn != nullptr)
        log->log(lvl, "driver={} conn={} {}", driver_id ? *driver_id : "?", *conn, msg);
    else
        log->log(lvl, "driver={} {}", driver_id ? *driver_id : "?", msg);
}

void *host_alloc(void *, size_t size) { return std::malloc(size); }
void host_free(void *, void *p) { std::free(p); }

// Counted by host_table_for (one table per library path).
std::atomic<uint64_t> g_libraries_loaded{0};

} // namespace

uint64_t driver_libraries_loaded() noexcept { return g_libraries_loaded.load(std::memory_order_acquire); }

HostTable &host_table_for(const std::string &path) {
    static std::mutex mu;
    // Never destroyed: a driver may log while the process exits.
    static auto *tables = new std::map<std::string, std::unique_ptr<HostTable>>();
    std::lock_guard<std::mutex> lock(mu);
    std::unique_ptr<HostTable> &t = (*tables)[path];
    if (!t) {
        t = std::make_unique<HostTable>();
        t->host.struct_size = sizeof(ilana_host);
        t->host.abi_major = ILANA_ABI_MAJOR;
        t->host.abi_minor = ILANA_ABI_MINOR;
        t->host.host_name = "ilana";
        t->host.host_version = ILANA_VERSION;
        t->host.log = &host_log;
        t->host.alloc = &host_alloc;
        t->host.free = &host_free;
        t->host.context = t.get();
        g_libraries_loaded.fetch_add(1, std::memory_order_acq_rel);
    }
    return *t;
}

namespace {

bool is_lower_client(const char *s) {
    if (s == nullptr || *s == '\0') return false;
    for (const char *p = s; *p; ++p)
        if (!(std::islower(static_cast<unsigned char>(*p)) || std::isdigit(static_cast<unsigned char>(*p)) ||
              *p == '_' || *p == '-' || *p == '.'))
            return false;
    return true;
}

std::string lower(std::string s) {
    std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
    return s;
}

constexpr uint32_t kMinParamsApiSize = offsetof(ilana_params_api, decl_size) + sizeof(uint32_t);
constexpr uint32_t kMinParamDeclSize = offsetof(ilana_param_decl, maximum) + sizeof(double);

const char *param_type_name(ilana_param_type t) {
    switch (t) {
    case ILANA_PARAM_STRING: return "string";
    case ILANA_PARAM_INT: return "integer";
    case ILANA_PARAM_NUMBER: return "number";
    case ILANA_PARAM_BOOL: return "boolean";
    case ILANA_PARAM_ENUM: return "enum";
    default: return nullptr;
    }
}

// Reads "ilana.params/1" into `out`. A malformed table refuses the driver
// (rule 11: fail closed): the host would otherwise check connections
// against a list the driver did not mean. Returns the reason, or "".
std::string read_param_table(const LoadedDriver &driver, DriverParams &out) {
    const auto *api = static_cast<const ilana_params_api *>(driver.extension(ILANA_EXT_PARAMS, sizeof(uint32_t)));
    if (api == nullptr) return {};
    const std::string what = "its " ILANA_EXT_PARAMS " table";
    if (api->struct_size < kMinParamsApiSize)
        return what + " has struct_size " + std::to_string(api->struct_size) + ", smaller than " +
               std::to_string(kMinParamsApiSize);
    if (api->param_count > 0 && api->params == nullptr) return what + " has param_count > 0 but params is NULL";
    if (api->param_count > 0 && api->decl_size < kMinParamDeclSize)
        return what + " has decl_size " + std::to_string(api->decl_size) + ", smaller than ilana_param_decl's " +
               std::to_string(kMinParamDeclSize);
    out.declared = true;
    out.open = (api->flags & ILANA_PARAMS_OPEN) != 0;
    const auto *base = reinterpret_cast<const unsigned char *>(api->params);
    for (uint32_t i = 0; i < api->param_count; ++i) {
        const auto &d = *reinterpret_cast<const ilana_param_decl *>(base + static_cast<size_t>(i) * api->decl_size);
        const std::string entry = what + ", entry " + std::to_string(i);
        if (d.struct_size < kMinParamDeclSize)
            return entry + ": struct_size " + std::to_string(d.struct_size) + " is smaller than " +
                   std::to_string(kMinParamDeclSize);
        if (d.key == nullptr || *d.key == '\0') return entry + ": no key";
        DriverParam p;
        p.key = d.key;
        const std::string named = entry + " ('" + p.key + "')";
        if (p.key.rfind("ilana.", 0) == 0) return named + ": keys starting with \"ilana.\" are the host's";
        if (out.find(p.key) != nullptr) return named + ": declared twice";
        const char *type = param_type_name(d.type);
        if (type == nullptr) return named + ": unknown type " + std::to_string(d.type);
        p.type = type;
        if (d.description == nullptr || *d.description == '\0') return named + ": no description";
        p.description = d.description;
        if (d.default_value != nullptr) p.default_value = std::string(d.default_value);
        if (d.type == ILANA_PARAM_ENUM) {
            if (d.allowed == nullptr || d.allowed[0] == nullptr) return named + ": an enum without allowed values";
            for (const char *const *a = d.allowed; *a != nullptr; ++a) p.allowed.emplace_back(*a);
        }
        const bool numeric = d.type == ILANA_PARAM_INT || d.type == ILANA_PARAM_NUMBER;
        if (numeric && (d.flags & ILANA_PARAMF_MINIMUM) != 0) p.minimum = d.minimum;
        if (numeric && (d.flags & ILANA_PARAMF_MAXIMUM) != 0) p.maximum = d.maximum;
        if (p.minimum && p.maximum && *p.minimum > *p.maximum) return named + ": minimum is above maximum";
        p.required = (d.flags & ILANA_PARAMF_REQUIRED) != 0;
        p.secret = (d.flags & ILANA_PARAMF_SECRET) != 0;
        p.case_insensitive = (d.flags & ILANA_PARAMF_CASE_INSENSITIVE) != 0;
        out.list.push_back(std::move(p));
    }
    return {};
}

// Reads the first bytes to tell "not a shared object" from a loader error.
bool looks_like_elf(const std::string &path) {
    std::ifstream f(path, std::ios::binary);
    char magic[4] = {};
    f.read(magic, 4);
    return f.gcount() == 4 && std::memcmp(magic, "\x7f" "ELF", 4) == 0;
}

} // namespace
} // namespace detail

struct DriverRegistry::State {
    std::vector<std::shared_ptr<detail::LoadedDriver>> loaded;
    std::vector<DriverInfo> infos;
    std::vector<RefusedPlugin> refused;
    std::vector<std::string> conflicts;
    std::vector<std::string> searched;
    // Who serves a client name: the driver and its description.
    struct Served {
        std::shared_ptr<detail::LoadedDriver> driver;
        size_t info; // index into infos
    };
    std::map<std::string, Served> by_client;
};

DriverRegistry::DriverRegistry() : state_(std::make_unique<State>()) {}
DriverRegistry::~DriverRegistry() = default;
DriverRegistry::DriverRegistry(DriverRegistry &&) noexcept = default;
DriverRegistry &DriverRegistry::operator=(DriverRegistry &&) noexcept = default;

namespace {

// One directory to scan and where it came from (named when it is refused).
struct SearchEntry {
    std::string dir;
    const char *source;
    bool explicit_dir; // given by the user: missing is reported, not silent
};

// The search order with each entry's source. Relative entries are kept as
// written here; load_search_path refuses them.
std::vector<SearchEntry> search_entries(const std::vector<std::string> &config_paths) {
    std::vector<SearchEntry> entries;
    for (const auto &p : config_paths) entries.push_back({p, "the config's plugins.paths or OpenOptions::plugin_paths", true});
    if (const char *env = std::getenv("ILANA_PLUGIN_PATH"); env != nullptr && *env != '\0') {
        std::string s(env);
        size_t start = 0;
        while (start <= s.size()) {
            size_t colon = s.find(':', start);
            std::string part = s.substr(start, colon == std::string::npos ? std::string::npos : colon - start);
            // An empty entry means the current directory to a shell's PATH;
            // here it means nothing (never the current directory).
            if (!part.empty()) entries.push_back({part, "ILANA_PLUGIN_PATH", true});
            if (colon == std::string::npos) break;
            start = colon + 1;
        }
    }
    // Beside the running binary: build/bin/../plugins (build tree) and
    // PREFIX/bin/../lib/ilana/plugins (installed). Usually one of the two
    // does not exist, which is no news.
    boost::system::error_code ec;
    fs::path exe_dir = boost::dll::program_location(ec).parent_path();
    if (!ec) {
        entries.push_back({(exe_dir / ".." / "plugins").lexically_normal().string(), "the default", false});
        entries.push_back({(exe_dir / ".." / "lib" / "ilana" / "plugins").lexically_normal().string(), "the default", false});
    }
    std::vector<SearchEntry> unique;
    for (auto &e : entries) {
        if (fs::path(e.dir).is_absolute()) e.dir = strip_trailing_slash(fs::path(e.dir).lexically_normal().string());
        if (std::none_of(unique.begin(), unique.end(), [&](const SearchEntry &u) { return u.dir == e.dir; }))
            unique.push_back(e);
    }
    return unique;
}

} // namespace

std::vector<std::string> DriverRegistry::search_path(const std::vector<std::string> &config_paths) {
    std::vector<std::string> dirs;
    for (const auto &e : search_entries(config_paths))
        if (fs::path(e.dir).is_absolute()) dirs.push_back(e.dir);
    return dirs;
}

void DriverRegistry::load_search_path(const std::vector<std::string> &config_paths) {
    for (const auto &e : search_entries(config_paths)) {
        // Rule 11: plugins load from absolute paths only. A relative
        // directory would be resolved against whatever directory the program
        // was started from, and any *.so there would run.
        if (!fs::path(e.dir).is_absolute()) {
            refuse_entry(e.dir, std::string("relative plugin directory (from ") + e.source +
                                    ") refused: it would load whatever *.so the current directory holds; give "
                                    "an absolute path");
            continue;
        }
        scan_directory(e.dir, e.explicit_dir);
    }
}

void DriverRegistry::load_directory(const std::string &dir) { scan_directory(dir, true); }

void DriverRegistry::refuse_entry(const std::string &path, const std::string &why) {
    state_->refused.push_back({path, why});
    ilana::logger()->warn("plugin refused: {}: {}", path, why);
}

void DriverRegistry::scan_directory(const std::string &dir, bool report_missing) {
    state_->searched.push_back(dir);
    boost::system::error_code ec;
    const fs::file_status st = fs::status(dir, ec);
    if (!fs::exists(st)) {
        if (report_missing) refuse_entry(dir, "plugin directory does not exist; create it or remove it from the search path");
        return;
    }
    if (!fs::is_directory(st)) {
        refuse_entry(dir, "plugin directory is not a directory; name the directory that holds the *.so files");
        return;
    }
    std::vector<std::string> files;
    fs::directory_iterator it(dir, ec), end;
    if (ec) {
        refuse_entry(dir, "cannot list the plugin directory: " + ec.message());
        return;
    }
    for (; it != end; it.increment(ec)) {
        if (ec) {
            refuse_entry(dir, "cannot list the plugin directory: " + ec.message());
            break;
        }
        const fs::path &p = it->path();
        if (p.extension() != ".so") continue;
        // Every *.so entry is either loaded or listed with its reason.
        boost::system::error_code link_ec, target_ec;
        const fs::file_status own = fs::symlink_status(p, link_ec);
        const fs::file_status target = fs::status(p, target_ec);
        if (fs::is_regular_file(target)) {
            files.push_back(p.string());
        } else if (fs::is_symlink(own) && target_ec.value() == ELOOP) {
            refuse_entry(p.string(), "a symbolic link loop; remove it from the plugin directory");
        } else if (fs::is_symlink(own) && !fs::exists(target)) {
            refuse_entry(p.string(), "a symbolic link to a missing file; remove it or fix its target");
        } else if (fs::is_directory(target)) {
            refuse_entry(p.string(), "a directory, not a shared object; remove it from the plugin directory");
        } else if (target_ec) {
            refuse_entry(p.string(), "cannot inspect it: " + target_ec.message());
        } else {
            refuse_entry(p.string(), "not a regular file (a FIFO, socket or device); remove it from the plugin directory");
        }
    }
    std::sort(files.begin(), files.end());
    for (const auto &f : files) load_file(f);
}

bool DriverRegistry::load_file(const std::string &path_in) {
    using namespace detail;
    if (!fs::path(path_in).is_absolute()) {
        refuse_entry(path_in, "relative plugin path refused: it would be resolved against the current directory; "
                              "give an absolute path");
        return false;
    }
    const std::string path = fs::path(path_in).lexically_normal().string();
    auto refuse = [&](const std::string &why) {
        refuse_entry(path, why);
        return false;
    };

    if (!looks_like_elf(path))
        return refuse("not a shared object (no ELF header); remove it from the plugin directory");

    boost::dll::shared_library lib;
    try {
        lib.load(fs::path(path), boost::dll::load_mode::rtld_now | boost::dll::load_mode::rtld_local);
    } catch (const std::exception &e) {
        return refuse(std::string("cannot be loaded: ") + e.what() +
                      "; check that the client libraries it needs are installed (ldd shows which)");
    }
    if (!lib.has(ILANA_DRIVER_ENTRY_SYMBOL))
        return refuse("no '" ILANA_DRIVER_ENTRY_SYMBOL "' symbol: not an ilana driver, or built without "
                      "ILANA_DRIVER_EXPORT on the entry; rebuild it with the ilana SDK");
    const auto *entry = &lib.get<const ilana_driver_entry>(ILANA_DRIVER_ENTRY_SYMBOL);

    if (entry->struct_size < sizeof(uint32_t) * 4)
        return refuse("entry struct_size " + std::to_string(entry->struct_size) + " is too small to be an ilana entry");
    if (entry->magic != ILANA_DRIVER_MAGIC)
        return refuse("wrong magic in the entry (not an ilana driver, or a corrupt build); rebuild it with the ilana SDK");
    if (entry->abi_major != ILANA_ABI_MAJOR)
        return refuse("built for driver ABI v" + std::to_string(entry->abi_major) + "." +
                      std::to_string(entry->abi_minor) + ", this ilana speaks v" + std::to_string(ILANA_ABI_MAJOR) +
                      "; rebuild the driver against this ilana's SDK or use a matching ilana");
    if (entry->struct_size < kMinEntrySize)
        return refuse("entry struct_size " + std::to_string(entry->struct_size) + " is smaller than ABI v1.0's " +
                      std::to_string(kMinEntrySize) + "; rebuild it with the ilana SDK");
    if (entry->init == nullptr || entry->deinit == nullptr)
        return refuse("entry has no init or deinit function; both are mandatory");

    auto driver = std::make_shared<LoadedDriver>(std::move(lib), path, entry);
    ilana_error err{};
    err.struct_size = sizeof err;
    if (entry->init(&driver->host_table().host, &err) != ILANA_OK)
        return refuse(std::string("init failed: ") + (err.message[0] ? err.message : "no message") +
                      "; see the driver's documentation");
    driver->set_initialised();

    const ilana_driver_descriptor *d = entry->descriptor;
    const ilana_driver_api *api = entry->api;
    if (d == nullptr) return refuse("entry has no descriptor; it is mandatory");
    if (d->struct_size < kMinDescriptorSize)
        return refuse("descriptor struct_size " + std::to_string(d->struct_size) + " is smaller than ABI v1.0's " +
                      std::to_string(kMinDescriptorSize));
    if (d->id == nullptr || *d->id == '\0') return refuse("descriptor has no id; it is mandatory");
    if (d->name == nullptr || *d->name == '\0') return refuse("descriptor has no name; it is mandatory");
    if (d->version == nullptr || *d->version == '\0') return refuse("descriptor has no version; it is mandatory");
    if (d->clients == nullptr || d->clients[0] == nullptr)
        return refuse("descriptor declares no client names; list at least one (e.g. {\"csv\", NULL})");
    for (const char *const *c = d->clients; *c != nullptr; ++c)
        if (!is_lower_client(*c))
            return refuse(std::string("client name '") + (*c ? *c : "") +
                          "' is not lower-case letters, digits, '_', '-' or '.'");
    if (d->dialect == nullptr) return refuse("descriptor has no dialect; it is mandatory");
    if (std::string problem = dialect_problem(*d->dialect); !problem.empty()) return refuse(problem);
    if (api == nullptr) return refuse("entry has no api table; it is mandatory");
    if (api->struct_size < kMinApiSize)
        return refuse("api struct_size " + std::to_string(api->struct_size) + " is smaller than ABI v1.0's " +
                      std::to_string(kMinApiSize));
    struct Required {
        const void *fn;
        const char *name;
    };
    const Required required[] = {
        {reinterpret_cast<const void *>(api->connect), "connect"},
        {reinterpret_cast<const void *>(api->close), "close"},
        {reinterpret_cast<const void *>(api->ping), "ping"},
        {reinterpret_cast<const void *>(api->execute), "execute"},
        {reinterpret_cast<const void *>(api->result_info), "result_info"},
        {reinterpret_cast<const void *>(api->fetch), "fetch"},
        {reinterpret_cast<const void *>(api->result_close), "result_close"},
    };
    for (const auto &r : required)
        if (r.fn == nullptr) return refuse(std::string("api function '") + r.name + "' is NULL; it is mandatory");
    if ((d->capabilities & ILANA_CAP_TRANSACTIONS) &&
        (api->begin == nullptr || api->commit == nullptr || api->rollback == nullptr))
        return refuse("declares ILANA_CAP_TRANSACTIONS but begin/commit/rollback is NULL");
    if ((d->capabilities & ILANA_CAP_CANCEL) && api->cancel == nullptr)
        return refuse("declares ILANA_CAP_CANCEL but cancel is NULL");

    // Same driver id twice (e.g. one .so copied into two directories).
    for (const auto &other : state_->infos)
        if (other.id == d->id) {
            state_->conflicts.push_back("driver '" + std::string(d->id) + "' at " + path + " is already loaded from " +
                                        other.path + "; the first one wins");
            return false;
        }

    DriverInfo info;
    if (const std::string why = read_param_table(*driver, info.params); !why.empty())
        return refuse(why + "; fix the driver's declarations (the conformance kit checks them)");
    info.id = d->id;
    info.name = d->name;
    info.version = d->version;
    info.description = d->description != nullptr ? d->description : "";
    info.path = path;
    info.abi_major = entry->abi_major;
    info.abi_minor = entry->abi_minor;
    info.capabilities = d->capabilities;
    for (const char *const *c = d->clients; *c != nullptr; ++c) {
        std::string client = *c;
        auto it = state_->by_client.find(client);
        if (it != state_->by_client.end()) {
            state_->conflicts.push_back("client '" + client + "' of " + path + " is already served by " +
                                        it->second.driver->path() + "; the first one wins");
            continue;
        }
        state_->by_client[client] = State::Served{driver, state_->infos.size()};
        info.clients.push_back(client);
    }
    // Accepted: from now on the library stays mapped until the process
    // exits, even after the last handle is gone. Client libraries (libpq,
    // OpenSSL, libmariadb) register exit handlers and thread-local
    // destructors that must not outlive their code. RTLD_NOLOAD only
    // promotes the handle we already hold; refused files above were unloaded.
    if (void *pin = ::dlopen(path.c_str(), RTLD_NOW | RTLD_NOLOAD | RTLD_NODELETE)) ::dlclose(pin);
    driver->set_identity(info.id, info.clients);
    state_->infos.push_back(info);
    state_->loaded.push_back(driver);
    return true;
}

const std::vector<DriverInfo> &DriverRegistry::drivers() const noexcept { return state_->infos; }
const std::vector<RefusedPlugin> &DriverRegistry::refused() const noexcept { return state_->refused; }
const std::vector<std::string> &DriverRegistry::conflicts() const noexcept { return state_->conflicts; }
const std::vector<std::string> &DriverRegistry::searched_directories() const noexcept { return state_->searched; }

std::vector<std::string> DriverRegistry::clients() const {
    std::vector<std::string> out;
    for (const auto &kv : state_->by_client) out.push_back(kv.first);
    return out;
}

std::shared_ptr<detail::LoadedDriver> DriverRegistry::find(const std::string &client) const {
    auto it = state_->by_client.find(detail::lower(client));
    return it == state_->by_client.end() ? nullptr : it->second.driver;
}

const DriverInfo *DriverRegistry::info(const std::string &client) const {
    auto it = state_->by_client.find(detail::lower(client));
    return it == state_->by_client.end() ? nullptr : &state_->infos[it->second.info];
}

const DriverParam *DriverParams::find(const std::string &key) const noexcept {
    for (const auto &p : list)
        if (p.key == key) return &p;
    return nullptr;
}

std::shared_ptr<detail::LoadedDriver> DriverRegistry::require(const std::string &client,
                                                              const std::string &where) const {
    if (auto d = find(client)) return d;
    std::string available, dirs;
    for (const auto &c : clients()) available += (available.empty() ? "" : ", ") + c;
    for (const auto &s : state_->searched) dirs += (dirs.empty() ? "" : ", ") + s;
    throw ConfigError(where + ": unknown client '" + client + "'; available clients: " +
                          (available.empty() ? "(none: no driver plugin was loaded)" : available) +
                          "; plugin directories searched: " + (dirs.empty() ? "(none)" : dirs) +
                          " (add a directory with \"plugins\": {\"paths\": [...]} or ILANA_PLUGIN_PATH)",
                      "", where);
}

} // namespace ilana
