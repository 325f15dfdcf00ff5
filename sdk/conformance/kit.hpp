// kit.hpp — the driver conformance kit's pieces (see sdk/README.md,
// "Conformance kit").
//
//   config.cpp   the connection JSON: params, probes, declared types
//   plugin.cpp   the driver loaded through the raw ABI (dlopen by absolute
//                path, RTLD_NOW, `ilana_entry`), RAII connection and result
//                wrappers that check every batch against driver.h
//   elf.cpp      the dynamic symbols a shared object exports
//   checks.cpp   the checks
//   main.cpp     command line, watchdog, report
//
// The kit never links the ilana core: it is a host of its own, written
// against <ilana/driver.h> only (plus the SDK's value formatting).
#pragma once

#include <ilana/driver.h>
#include <ilana/sdk/values.hpp>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace kit {

// ---------------------------------------------------------------- config

// One declared type: how to round-trip it (see README "types").
struct TypeSpec {
    std::string name;          // "int64", "date", ...
    ilana_type type = 0;       // what is bound
    ilana_type returns = 0;    // what the cell must be
    std::string sql;           // one placeholder: the sample
    std::vector<ilana::sdk::Cell> values;  // samples (bound as `type`)
    std::vector<ilana::sdk::Cell> expect;  // expected cells (of type `returns`)
    bool null = true;          // also round-trip a NULL
};

struct TableProbe {
    std::string create, insert, select, count, drop; // with {table}
};

struct Config {
    std::string path;                 // of the JSON file
    std::vector<std::pair<std::string, std::string>> params;
    std::string config_dir;
    int32_t timeout_ms = 10000;
    std::vector<std::string> setup;   // run after every connect
    std::string select_one;
    std::string syntax_error = "THIS IS NOT SQL";
    std::string unknown_table = "SELECT * FROM ilana_conformance_no_such_table";
    std::string many_rows_sql;        // {rows} replaced
    int64_t many_rows = 0;
    std::string sleep;
    std::optional<TableProbe> table;
    std::string introspect_table;     // default: the scratch table
    std::vector<std::string> introspect_columns;
    std::vector<TypeSpec> types;
    int threads = 4;
};

// Parses the file; throws std::runtime_error naming the JSON path.
Config load_config(const std::string &path);
// "int64" -> ILANA_TYPE_INT64; 0 when unknown.
ilana_type type_from_name(const std::string &name);
std::string type_label(ilana_type t);

// ---------------------------------------------------------------- outcomes

struct Skip : std::runtime_error {
    using std::runtime_error::runtime_error;
};
struct Fail : std::runtime_error {
    using std::runtime_error::runtime_error;
};

[[noreturn]] inline void fail(const std::string &m) { throw Fail(m); }
[[noreturn]] inline void skip(const std::string &m) { throw Skip(m); }
inline void require(bool ok, const std::string &m) {
    if (!ok) fail(m);
}

// ---------------------------------------------------------------- plugin

struct LogLine {
    ilana_log_level level;
    std::string message;
};

class Plugin {
public:
    // Loads and validates nothing but the symbol: the checks do the rest.
    // Throws Fail when dlopen or the symbol fails.
    explicit Plugin(const std::string &path);
    ~Plugin();

    const std::string &path() const noexcept { return path_; }
    const ilana_driver_entry &entry() const noexcept { return *entry_; }
    const ilana_driver_api &api() const noexcept { return *entry_->api; }
    const ilana_driver_descriptor &descriptor() const noexcept { return *entry_->descriptor; }
    const ilana_host *host() const noexcept { return &host_; }
    bool claims(uint64_t cap) const noexcept { return (entry_->descriptor->capabilities & cap) != 0; }

    ilana_status init(ilana_error *err);
    void deinit();
    int init_count() const noexcept { return inits_; }

    std::vector<LogLine> logs() const;

private:
    static void log_cb(void *ctx, void *conn_ctx, ilana_log_level level, const char *msg, size_t len);
    std::string path_;
    void *handle_ = nullptr;
    const ilana_driver_entry *entry_ = nullptr;
    ilana_host host_{};
    int inits_ = 0;
    mutable std::mutex log_mu_;
    std::vector<LogLine> logs_;
};

// A fresh error record (zeroed, struct_size set).
ilana_error new_error();
std::string describe(const ilana_error &e); // "SYNTAX 42601: message"
std::string class_name(ilana_error_class c);
std::string status_name(ilana_status s);

// A fetched result, copied out of driver memory.
struct Column {
    std::string name;
    ilana_type type = 0;
    std::string native_type;
    int32_t nullable = -1;
};
struct Rows {
    std::vector<Column> columns;
    std::vector<std::vector<ilana::sdk::Cell>> rows;
    int64_t affected_rows = -1;
    int64_t last_insert_id = 0;
    // ABI 1.1 result_info.columns_id: as read with the columns (before the
    // first fetch) and as read again after ILANA_DONE (0 when not read).
    uint64_t columns_id = 0;
    uint64_t columns_id_at_done = 0;
    size_t batches = 0;
};

// What an execute (+ fetch to the end) produced.
struct Outcome {
    ilana_status status = ILANA_OK; // of execute, or of the failing fetch
    ilana_error error{};
    bool failed_in_fetch = false;
    Rows rows;
    bool ok() const noexcept { return status == ILANA_OK || status == ILANA_DONE; }
};

// Parameters for a statement: cells kept alive alongside their ilana_value.
struct Bound {
    std::vector<ilana::sdk::Cell> cells;
    std::vector<ilana_value> values;
    Bound() = default;
    explicit Bound(std::vector<ilana::sdk::Cell> c);
    Bound(const Bound &) = delete;
    Bound &operator=(const Bound &) = delete;
};
ilana_value to_value(const ilana::sdk::Cell &c);

class Conn {
public:
    Conn(Plugin &p, const Config &cfg, bool run_setup = true);
    ~Conn();
    Conn(const Conn &) = delete;
    Conn &operator=(const Conn &) = delete;
    ilana_conn *handle() const noexcept { return h_; }
    Plugin &plugin() const noexcept { return *p_; }

    // Executes and fetches everything (max_rows per batch), checking every
    // batch against driver.h; a contract violation throws Fail.
    // `flags`: ilana_statement.flags (ILANA_EXEC_CACHE, ...);
    // `timeout_ms`: ilana_statement.timeout_ms (ABI 1.2).
    Outcome run(const std::string &sql, const Bound &params = {}, uint32_t max_rows = 256,
                uint32_t value_size = sizeof(ilana_value), uint32_t flags = 0, int64_t timeout_ms = 0);
    // Runs a statement prepared on this connection ("ilana.prepare/1") as run does.
    Outcome run_prepared(const ilana_prepare_api &api, ilana_prepared *stmt, const std::string &sql,
                         const Bound &params = {}, uint32_t max_rows = 256);
    // Like run, but an error fails the check with the statement in the message.
    Rows query(const std::string &sql, const Bound &params = {}, uint32_t max_rows = 256);

private:
    template <class Call>
    Outcome finish(const char *what, const std::string &sql, uint32_t max_rows, Call &&call);
    Plugin *p_;
    ilana_conn *h_ = nullptr;
};

// Reads an open result to the end (or to `limit` batches), checking it.
// Closes it. Fills `out`; returns the final status.
ilana_status drain(const ilana_driver_api &api, ilana_result *res, uint32_t max_rows, Outcome &out,
                   size_t batch_limit = SIZE_MAX);

// A cell's text for messages: 42, "abc", NULL, 0x00ff..
std::string show(const ilana::sdk::Cell &c);
bool same_cell(const ilana::sdk::Cell &got, const ilana::sdk::Cell &want);

// ---------------------------------------------------------------- elf

// Defined dynamic symbols with global or weak binding. Throws Fail when the
// file is not a 64-bit ELF object it can read.
struct ElfSymbol {
    std::string name;
    bool object = false; // STT_OBJECT (vs function, ...)
    uint64_t size = 0;
};
std::vector<ElfSymbol> exported_symbols(const std::string &path);

// ---------------------------------------------------------------- checks

struct CheckResult {
    enum Status { Pass, Fail, Skip } status = Pass;
    std::string name;
    std::string message;
    double ms = 0;
};

struct CheckInfo {
    std::string name;
    std::string what;
};

// Runs the checks, in order, against one plugin with one connection JSON.
class Suite {
public:
    Suite(std::string plugin_path, Config cfg);
    ~Suite();
    Suite(const Suite &) = delete;
    Suite &operator=(const Suite &) = delete;

    // The checks in order (types.* expanded from the config).
    std::vector<CheckInfo> list() const;
    // Runs the checks whose name starts with one of `only` (all when
    // empty); `before` is called with each name before it runs (for the
    // watchdog and crash messages), `after` with its result.
    void run(const std::vector<std::string> &only, const std::function<void(const std::string &)> &before,
             const std::function<void(const CheckResult &)> &after);

    // "org.ilana.sqlite "SQLite3" 1.0.0, ABI v1.0, clients ..." once loaded.
    std::string driver_line() const;
    struct DriverFacts {
        bool loaded = false;
        std::string id, name, version;
        uint32_t abi_major = 0, abi_minor = 0;
        std::vector<std::string> clients;
        uint64_t capabilities = 0;
    };
    DriverFacts facts() const;

private:
    struct State;
    std::unique_ptr<State> s_;
};

std::string capability_names(uint64_t caps);

} // namespace kit
