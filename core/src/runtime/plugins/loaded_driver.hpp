// A validated, initialised driver plugin. The library stays loaded for as
// long as any shared_ptr to this object lives: every connection holds one.
// This and native_connection.* are the only places the core touches the raw
// C ABI.
#pragma once

#include <ilana/driver.h>

#include <boost/dll/shared_library.hpp>

#include <atomic>
#include <string>
#include <vector>

namespace ilana::detail {

// Why a dialect (the descriptor's or a connection's) cannot be used, or ""
// when it can: its struct_size must cover ABI v1.0's fields and its
// placeholder style be one the host writes.
std::string dialect_problem(const ilana_dialect &dialect);

// The services table given to a driver library's init. Several Databases
// load one library (each its LoadedDriver, each an init), and a driver
// built with the SDK keeps the table of its first init for as long as the
// library stays loaded: a table owned by one LoadedDriver would go with its
// Database while the driver still logs through it for the others. So there
// is one table per library path, for the life of the process
// (host_table_for, never freed).
struct HostTable {
    ilana_host host{};
    // The driver's id for log lines, once a load validated it (host.context
    // points at this table). Written once; never freed.
    std::atomic<const std::string *> id{nullptr};
};
HostTable &host_table_for(const std::string &path);
// How many driver libraries this process loaded so far (host_table_for
// made a table): the async runtime's exit gate registers its exit handler
// again after one (async_runtime.cpp).
uint64_t driver_libraries_loaded() noexcept;

class LoadedDriver {
public:
    LoadedDriver(boost::dll::shared_library lib, std::string path, const ilana_driver_entry *entry);
    ~LoadedDriver();
    LoadedDriver(const LoadedDriver &) = delete;
    LoadedDriver &operator=(const LoadedDriver &) = delete;

    const std::string &path() const noexcept { return path_; }
    const ilana_driver_entry &entry() const noexcept { return *entry_; }
    const ilana_driver_descriptor &descriptor() const noexcept { return *entry_->descriptor; }
    const ilana_driver_api &api() const noexcept { return *entry_->api; }
    // The descriptor's dialect: the driver's, and every connection's unless
    // the connection reports its own (reports_connection_dialect).
    const ilana_dialect &dialect() const noexcept { return *entry_->descriptor->dialect; }
    // The driver has "ilana.conn_dialect/1" (ABI 1.3): each connection may
    // speak the dialect of the server it reached, known only once one is open.
    bool reports_connection_dialect() const noexcept { return connection_dialect_api() != nullptr; }
    // That extension's table, or nullptr (none, too short, no function).
    const ilana_conn_dialect_api *connection_dialect_api() const noexcept;
    // "ilana.prepare/1" (ABI 1.4): prepared statements by handle; nullptr
    // when the driver has none (or a table too short or missing a function).
    const ilana_prepare_api *prepare_api() const noexcept;
    // "ilana.async/1" (ABI 1.5): non-blocking connect and statements;
    // nullptr when the driver has none (the async API then runs its calls
    // on worker threads).
    const ilana_async_api *async_api() const noexcept;
    bool has(uint64_t cap) const noexcept { return (entry_->descriptor->capabilities & cap) != 0; }
    // Built against ABI 1.2 or later: it reads ilana_statement.timeout_ms.
    // An older driver would silently ignore a statement timeout.
    bool enforces_statement_timeout() const noexcept { return entry_->abi_minor >= 2; }
    const std::string &id() const noexcept { return id_; }
    const std::vector<std::string> &clients() const noexcept { return clients_; }

    // A capability table by id, or nullptr; `min_size` guards against a
    // table older than the fields the caller reads.
    const void *extension(const char *id, uint32_t min_size) const noexcept;
    template <class T> const T *extension(const char *id) const noexcept {
        return static_cast<const T *>(extension(id, sizeof(uint32_t)));
    }

    // Marks init as done (so the destructor calls deinit).
    void set_initialised() noexcept { initialised_ = true; }
    // After validation: records id and served clients; log lines from now on
    // carry the id (the library's HostTable gets it once).
    void set_identity(std::string id, std::vector<std::string> clients);
    // The services table given to init: the library's, for the process's life.
    HostTable &host_table() const noexcept { return *host_table_; }

private:
    boost::dll::shared_library lib_;
    std::string path_;
    const ilana_driver_entry *entry_;
    std::string id_;
    std::vector<std::string> clients_;
    bool initialised_ = false;
    HostTable *host_table_;
};

} // namespace ilana::detail
