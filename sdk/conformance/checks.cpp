// checks.cpp — the standard checks, each against driver.h's contract.
//
// A check throws Fail (the driver broke the contract) or Skip (the driver
// does not claim the feature, or the connection JSON gives no probe for it)
// and otherwise returns a short note. Checks run in order and share one
// plugin; those after a failed load, init or connect are skipped.
#include "kit.hpp"

#include <ilana/sdk/params.hpp>

#include <algorithm>
#include <cctype>
#include <cstddef>
#include <cstring>
#include <future>
#include <map>
#include <thread>
#include <poll.h>
#include <unistd.h>

namespace kit {

using ilana::sdk::Cell;
using Clock = std::chrono::steady_clock;

namespace {

double ms_since(Clock::time_point t0) {
    return std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
}

// A parameterless, uncached statement over `sql` (which must outlive it).
ilana_statement plain_statement(const std::string &sql) {
    ilana_statement st{};
    st.struct_size = sizeof st;
    st.sql = sql.data();
    st.sql_len = sql.size();
    st.value_size = sizeof(ilana_value);
    return st;
}

std::string replace_all(std::string s, const std::string &from, const std::string &to) {
    for (size_t at = s.find(from); at != std::string::npos; at = s.find(from, at + to.size())) s.replace(at, from.size(), to);
    return s;
}

// A cell that means the number n: INT64, UINT64, DOUBLE, BOOL, or text.
bool is_number(const Cell &c, int64_t n) {
    if (c.null) return false;
    switch (c.type) {
    case ILANA_TYPE_INT64: return c.i64 == n;
    case ILANA_TYPE_BOOL: return c.i64 == n;
    case ILANA_TYPE_UINT64: return n >= 0 && c.u64 == static_cast<uint64_t>(n);
    case ILANA_TYPE_DOUBLE: return c.f64 == static_cast<double>(n);
    case ILANA_TYPE_TEXT:
    case ILANA_TYPE_DECIMAL: {
        int64_t v = 0;
        return ilana::sdk::Param::parse_int64(c.bytes, v) && v == n;
    }
    default: return false;
    }
}

std::optional<int64_t> as_number(const Cell &c) {
    if (c.null) return std::nullopt;
    switch (c.type) {
    case ILANA_TYPE_INT64:
    case ILANA_TYPE_BOOL: return c.i64;
    case ILANA_TYPE_UINT64: return static_cast<int64_t>(c.u64);
    case ILANA_TYPE_DOUBLE: return static_cast<int64_t>(c.f64);
    case ILANA_TYPE_TEXT:
    case ILANA_TYPE_DECIMAL: {
        int64_t v = 0;
        if (ilana::sdk::Param::parse_int64(c.bytes, v)) return v;
        return std::nullopt;
    }
    default: return std::nullopt;
    }
}

constexpr uint32_t kMinEntry = offsetof(ilana_driver_entry, get_extension) + sizeof(void *);
constexpr uint32_t kMinDescriptor = offsetof(ilana_driver_descriptor, dialect) + sizeof(void *);
constexpr uint32_t kMinApi = offsetof(ilana_driver_api, server_info) + sizeof(void *);
constexpr uint32_t kMinDialect = offsetof(ilana_dialect, max_params) + sizeof(uint32_t);
constexpr uint64_t kKnownCaps = ILANA_CAP_TRANSACTIONS | ILANA_CAP_CANCEL | ILANA_CAP_LAST_INSERT_ID |
                                ILANA_CAP_STREAMING | ILANA_CAP_PREPARED_CACHE | ILANA_CAP_TRANSACTIONAL_DDL |
                                ILANA_CAP_NETWORK;

} // namespace

std::string capability_names(uint64_t caps) {
    static const std::pair<uint64_t, const char *> names[] = {
        {ILANA_CAP_TRANSACTIONS, "TRANSACTIONS"}, {ILANA_CAP_CANCEL, "CANCEL"},
        {ILANA_CAP_LAST_INSERT_ID, "LAST_INSERT_ID"}, {ILANA_CAP_STREAMING, "STREAMING"},
        {ILANA_CAP_PREPARED_CACHE, "PREPARED_CACHE"}, {ILANA_CAP_TRANSACTIONAL_DDL, "TRANSACTIONAL_DDL"},
        {ILANA_CAP_NETWORK, "NETWORK"}};
    std::string out;
    for (const auto &n : names)
        if (caps & n.first) out += (out.empty() ? "" : "|") + std::string(n.second);
    if (caps & ~kKnownCaps) out += (out.empty() ? "" : "|") + std::string("unknown bits");
    return out.empty() ? "none" : out;
}

enum class Needs { Nothing, Plugin, Init, Connection };

struct Suite::State {
    std::string plugin_path;
    Config cfg;
    std::unique_ptr<Plugin> plugin;
    bool init_ok = false;
    bool connect_ok = false;
    std::unique_ptr<Conn> main; // shared by the single-connection checks
    std::string table;          // the scratch table, once created
    bool table_created = false;

    struct Def {
        std::string name;
        std::string what;
        Needs needs;
        std::function<std::string()> run;
    };
    std::vector<Def> defs;

    Plugin &p() { return *plugin; }
    const ilana_driver_api &api() { return plugin->api(); }
    Conn &conn() {
        if (!main) main = std::make_unique<Conn>(*plugin, cfg);
        return *main;
    }
    std::string t(const std::string &sql) const { return replace_all(sql, "{table}", table); }
    void need_table() {
        if (!cfg.table) skip("no probe.table in the connection JSON (the driver is read-only, or give create/insert/"
                             "select/count/drop statements)");
        if (!table_created) fail("the scratch table could not be created (see check table)");
    }
    int64_t count_rows() {
        Rows r = conn().query(t(cfg.table->count));
        require(r.rows.size() == 1 && !r.rows[0].empty(), "probe.table.count returned no row");
        auto n = as_number(r.rows[0][0]);
        require(n.has_value(), "probe.table.count returned " + show(r.rows[0][0]) + ", not a number");
        return *n;
    }

    void define();
    // The individual checks.
    std::string load();
    std::string entry();
    std::string exports();
    std::string init();
    std::string descriptor();
    std::string dialect();
    std::string dialect_facts(const ilana_dialect *d, const std::string &whose);
    std::string connection_dialect();
    std::string api_table();
    std::string extensions();
    std::string params_declared();
    std::string connect();
    std::string connect_unknown_param();
    std::string ping();
    std::string server_info();
    std::string select_one();
    std::string select_one_on(Conn &c);
    Rows introspect(const std::string &fn, const char *schema, const char *table);
    void drop_table();
    bool entry_ok = false;
    bool descriptor_ok = false;
    bool api_ok = false;
    std::string max_rows_zero();
    std::string one_open_result();
    std::string columns_id();
    std::string errors_syntax();
    std::string errors_unknown_table();
    std::string params_count_mismatch();
    std::string params_value_size();
    std::string type_round_trip(const TypeSpec &spec);
    std::string streaming();
    std::string streaming_close_early();
    std::string table_ddl_dml();
    std::string errors_constraint();
    std::string transactions();
    std::string session_reset();
    std::string prepared();
    std::string async_ext();
    std::string cancel_idle();
    std::string cancel_running();
    std::string statement_timeout();
    std::string introspect_tables();
    std::string introspect_columns();
    std::string introspect_indexes();
    std::string threads();
    std::string deinit();
};

// --------------------------------------------------------------- loading

std::string Suite::State::load() {
    plugin = std::make_unique<Plugin>(plugin_path);
    return "dlopen(RTLD_NOW | RTLD_LOCAL) by absolute path, '" ILANA_DRIVER_ENTRY_SYMBOL "' resolved";
}

std::string Suite::State::entry() {
    const ilana_driver_entry &e = p().entry();
    require(e.struct_size >= 16, "entry struct_size " + std::to_string(e.struct_size) + " is too small");
    require(e.magic == ILANA_DRIVER_MAGIC, "wrong magic in the entry");
    require(e.abi_major == ILANA_ABI_MAJOR, "built for ABI v" + std::to_string(e.abi_major) + "." +
                                                std::to_string(e.abi_minor) + "; this kit speaks v" +
                                                std::to_string(ILANA_ABI_MAJOR));
    require(e.struct_size >= kMinEntry, "entry struct_size " + std::to_string(e.struct_size) +
                                            " is smaller than ABI v1.0's " + std::to_string(kMinEntry));
    require(e.init != nullptr && e.deinit != nullptr, "init and deinit are mandatory");
    entry_ok = true;
    std::string note = "magic, ABI v" + std::to_string(e.abi_major) + "." + std::to_string(e.abi_minor) +
                       ", struct_size " + std::to_string(e.struct_size);
    if (e.abi_minor > ILANA_ABI_MINOR)
        note += " (newer minor than this kit's v1." + std::to_string(ILANA_ABI_MINOR) + ": fine, the host reads "
                "what it knows)";
    return note;
}

std::string Suite::State::exports() {
    const auto syms = exported_symbols(p().path());
    std::string others;
    size_t n_others = 0;
    bool found = false;
    for (const auto &s : syms) {
        if (s.name == ILANA_DRIVER_ENTRY_SYMBOL) {
            found = true;
            require(s.object, "'ilana_entry' is exported but is not a data object (it must be the const "
                              "ilana_driver_entry struct, not a function)");
            require(s.size >= kMinEntry, "'ilana_entry' is " + std::to_string(s.size) + " bytes, ABI v1's entry is " +
                                             std::to_string(kMinEntry));
            continue;
        }
        if (++n_others <= 8) others += (others.empty() ? "" : ", ") + s.name;
    }
    require(found, "'ilana_entry' is not in the dynamic symbol table");
    if (n_others > 0)
        fail("exports " + std::to_string(n_others) + " symbol(s) besides ilana_entry (" + others +
             (n_others > 8 ? ", ..." : "") +
             "): build with hidden visibility and an export map so they cannot interpose with the host's "
             "(ilana_add_driver() does both)");
    return "only 'ilana_entry' (a data object) is exported";
}

std::string Suite::State::init() {
    if (!entry_ok) fail("not called: the entry is invalid (see check entry)");
    ilana_error err = new_error();
    const ilana_status st = p().init(&err);
    require(st == ILANA_OK, "init returned " + status_name(st) + ": " + describe(err));
    init_ok = true;
    err = new_error();
    const ilana_status again = p().init(&err);
    require(again == ILANA_OK, "a second init (counted, driver.h) returned " + status_name(again) + ": " +
                                   describe(err));
    return "init twice: ILANA_OK both times (counted)";
}

std::string Suite::State::descriptor() {
    const ilana_driver_descriptor *d = p().entry().descriptor;
    require(d != nullptr, "the entry has no descriptor");
    require(d->struct_size >= kMinDescriptor, "descriptor struct_size " + std::to_string(d->struct_size) +
                                                  " is smaller than ABI v1.0's " + std::to_string(kMinDescriptor));
    require(d->id && *d->id, "descriptor id is mandatory");
    require(d->name && *d->name, "descriptor name is mandatory");
    require(d->version && *d->version, "descriptor version is mandatory");
    require(d->clients != nullptr && d->clients[0] != nullptr, "descriptor declares no client names");
    std::string clients;
    for (const char *const *c = d->clients; *c != nullptr; ++c) {
        const std::string name = *c;
        require(!name.empty() && std::all_of(name.begin(), name.end(),
                                             [](char ch) {
                                                 return (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') ||
                                                        ch == '_' || ch == '-' || ch == '.';
                                             }),
                "client name '" + name + "' is not lower-case letters, digits, '_', '-' or '.'");
        clients += (clients.empty() ? "" : ", ") + name;
    }
    require(d->thread_model == ILANA_THREADS_CONN_SERIALIZED,
            "thread_model " + std::to_string(d->thread_model) + " is not one ABI v1 defines");
    descriptor_ok = true;
    std::string note = std::string(d->id) + " \"" + d->name + "\" " + d->version + "; clients " + clients +
                       "; capabilities " + capability_names(d->capabilities);
    if (d->capabilities & ~kKnownCaps) note += " (bits this kit does not know: a newer minor version?)";
    return note;
}

std::string Suite::State::dialect() {
    if (p().entry().descriptor == nullptr) fail("not checked: the entry has no descriptor");
    const ilana_dialect *d = p().descriptor().dialect;
    require(d != nullptr, "descriptor has no dialect; it is mandatory");
    return dialect_facts(d, "dialect");
}

// The rules every dialect follows, the descriptor's or a connection's
// (`whose` starts the messages); returns a summary of the facts.
std::string Suite::State::dialect_facts(const ilana_dialect *d, const std::string &whose) {
    require(d->struct_size >= kMinDialect, whose + " struct_size " + std::to_string(d->struct_size) +
                                               " is smaller than ABI v1.0's " + std::to_string(kMinDialect));
    require(d->placeholder == ILANA_PLACEHOLDER_QUESTION || d->placeholder == ILANA_PLACEHOLDER_DOLLAR,
            whose + ": unknown placeholder style " + std::to_string(d->placeholder));
    require(d->identifier_quote == '"' || d->identifier_quote == '`' || d->identifier_quote == '[',
            whose + ": identifier_quote '" + d->identifier_quote + "' is not '\"' or '`'");
    require(d->limit_form == ILANA_LIMIT_LIMIT_OFFSET || d->limit_form == ILANA_LIMIT_OFFSET_FETCH,
            whose + ": unknown limit_form " + std::to_string(d->limit_form));
    require(d->upsert_form >= ILANA_UPSERT_NONE && d->upsert_form <= ILANA_UPSERT_ON_DUPLICATE_KEY,
            whose + ": unknown upsert_form " + std::to_string(d->upsert_form));
    require(d->supports_returning == 0 || d->supports_returning == 1,
            whose + ": supports_returning is " + std::to_string(d->supports_returning) + " (0 or 1)");
    require(d->max_params >= 1, whose + ": max_params is 0: a driver binds at least one parameter");
    return std::string("placeholders ") + (d->placeholder == ILANA_PLACEHOLDER_DOLLAR ? "$n" : "?") + ", quote " +
           d->identifier_quote + ", max_params " + std::to_string(d->max_params);
}

// ilana.conn_dialect/1 (ABI 1.3): a connection's own dialect follows the
// descriptor's rules, and stays the same pointer with the same facts while
// the connection lives (the host reads it once, after connect).
std::string Suite::State::connection_dialect() {
    auto get = p().entry().get_extension;
    const auto *x =
        get != nullptr ? static_cast<const ilana_conn_dialect_api *>(get(ILANA_EXT_CONN_DIALECT)) : nullptr;
    if (x == nullptr) skip("ilana.conn_dialect/1 is not provided");
    require(x->struct_size >= offsetof(ilana_conn_dialect_api, dialect_of) + sizeof(void *),
            "ilana.conn_dialect/1 struct_size " + std::to_string(x->struct_size) + " is too small");
    require(x->dialect_of != nullptr, "ilana.conn_dialect/1 has a NULL dialect_of");
    Conn c(p(), cfg);
    const ilana_dialect *d = x->dialect_of(c.handle());
    if (d == nullptr) {
        select_one_on(c);
        return "NULL for this connection: it speaks the descriptor's dialect";
    }
    const std::string facts = dialect_facts(d, "the connection's dialect");
    ilana_dialect before{};
    const size_t size = std::min<size_t>(d->struct_size, sizeof before);
    std::memcpy(&before, d, size);
    select_one_on(c);
    require(x->dialect_of(c.handle()) == d,
            "dialect_of returned another pointer for the same connection after a statement (driver.h: valid and "
            "unchanged until close)");
    require(std::memcmp(&before, d, size) == 0, "the connection's dialect changed after a statement");
    return "this connection's: " + facts;
}

std::string Suite::State::api_table() {
    const ilana_driver_api *a = p().entry().api;
    require(a != nullptr, "the entry has no api table");
    require(a->struct_size >= kMinApi, "api struct_size " + std::to_string(a->struct_size) +
                                           " is smaller than ABI v1.0's " + std::to_string(kMinApi));
    const std::pair<const void *, const char *> mandatory[] = {
        {reinterpret_cast<const void *>(a->connect), "connect"},
        {reinterpret_cast<const void *>(a->close), "close"},
        {reinterpret_cast<const void *>(a->ping), "ping"},
        {reinterpret_cast<const void *>(a->execute), "execute"},
        {reinterpret_cast<const void *>(a->result_info), "result_info"},
        {reinterpret_cast<const void *>(a->fetch), "fetch"},
        {reinterpret_cast<const void *>(a->result_close), "result_close"}};
    for (const auto &m : mandatory) require(m.first != nullptr, std::string(m.second) + " is NULL; it is mandatory");
    if (p().entry().descriptor == nullptr) fail("capabilities not checked: the entry has no descriptor");
    const bool tx_fns = a->begin && a->commit && a->rollback;
    if (p().claims(ILANA_CAP_TRANSACTIONS))
        require(tx_fns, "claims ILANA_CAP_TRANSACTIONS but begin/commit/rollback is NULL");
    if (p().claims(ILANA_CAP_CANCEL)) require(a->cancel != nullptr, "claims ILANA_CAP_CANCEL but cancel is NULL");
    else require(a->cancel == nullptr, "cancel is set but ILANA_CAP_CANCEL is not claimed (driver.h: NULL when "
                                       "the capability is not set)");
    api_ok = true;
    std::string note = "mandatory functions present";
    if (!p().claims(ILANA_CAP_TRANSACTIONS) && tx_fns) note += "; begin/commit/rollback present but not claimed";
    if (a->server_info == nullptr) note += "; server_info is NULL";
    return note;
}

std::string Suite::State::extensions() {
    auto get = p().entry().get_extension;
    if (get == nullptr) return "get_extension is NULL: no extensions";
    require(get("com.example.ilana-conformance.unknown/1") == nullptr, "get_extension returns non-NULL for an unknown id");
    std::string found;
    if (const auto *x = static_cast<const ilana_introspect_api *>(get(ILANA_EXT_INTROSPECT))) {
        require(ILANA_COVERS(x->struct_size, ilana_introspect_api, indexes),
                "ilana.introspect/1 struct_size " + std::to_string(x->struct_size) + " is too small");
        require(x->tables && x->columns && x->indexes, "ilana.introspect/1 has a NULL function");
        found += ILANA_EXT_INTROSPECT;
    }
    if (const auto *x = static_cast<const ilana_lock_api *>(get(ILANA_EXT_LOCK))) {
        require(ILANA_COVERS(x->struct_size, ilana_lock_api, release),
                "ilana.lock/1 struct_size " + std::to_string(x->struct_size) + " is too small");
        require(x->acquire && x->release, "ilana.lock/1 has a NULL function");
        found += std::string(found.empty() ? "" : ", ") + ILANA_EXT_LOCK;
    }
    if (const auto *x = static_cast<const ilana_namespace_api *>(get(ILANA_EXT_NAMESPACE))) {
        require(ILANA_COVERS(x->struct_size, ilana_namespace_api, list),
                "ilana.namespace/1 struct_size " + std::to_string(x->struct_size) + " is too small");
        require(x->param_key && *x->param_key, "ilana.namespace/1 has no param_key");
        require(x->create && x->drop, "ilana.namespace/1 has a NULL create or drop");
        // ABI 1.2: is_system is pure and must not call a tenant-like name a
        // system namespace (the host would refuse every tenant).
        if (ILANA_COVERS(x->struct_size, ilana_namespace_api, is_system) && x->is_system != nullptr)
            require(x->is_system("tenant_ilana_conformance") == 0,
                    "ilana.namespace/1 is_system calls \"tenant_ilana_conformance\" a system namespace");
        found += std::string(found.empty() ? "" : ", ") + ILANA_EXT_NAMESPACE;
    }
    if (const auto *x = static_cast<const ilana_ddl_api *>(get(ILANA_EXT_DDL))) {
        require(ILANA_COVERS(x->struct_size, ilana_ddl_api, clone_namespace),
                "ilana.ddl/1 struct_size " + std::to_string(x->struct_size) + " is too small");
        require(x->clone_namespace != nullptr, "ilana.ddl/1 has a NULL clone_namespace");
        require(get(ILANA_EXT_NAMESPACE) != nullptr,
                "ilana.ddl/1 without ilana.namespace/1: the host clones namespaces only");
        found += std::string(found.empty() ? "" : ", ") + ILANA_EXT_DDL;
    }
    if (const auto *x = static_cast<const ilana_session_api *>(get(ILANA_EXT_SESSION))) {
        require(ILANA_COVERS(x->struct_size, ilana_session_api, reset),
                "ilana.session/1 struct_size " + std::to_string(x->struct_size) + " is too small");
        require(x->is_dirty && x->reset, "ilana.session/1 has a NULL function");
        found += std::string(found.empty() ? "" : ", ") + ILANA_EXT_SESSION;
    }
    if (get(ILANA_EXT_CONN_DIALECT) != nullptr) found += std::string(found.empty() ? "" : ", ") + ILANA_EXT_CONN_DIALECT;
    return "unknown id -> NULL; provides " + (found.empty() ? std::string("no standard extension") : found);
}

// "ilana.params/1": a table the host can rely on, and one that covers the
// keys this connection JSON connects with (the host would refuse them at
// load otherwise).
std::string Suite::State::params_declared() {
    auto get = p().entry().get_extension;
    const auto *x = get != nullptr ? static_cast<const ilana_params_api *>(get(ILANA_EXT_PARAMS)) : nullptr;
    if (x == nullptr)
        skip("no ilana.params/1 table: the host cannot check this driver's parameters before connecting");
    const std::string what = ILANA_EXT_PARAMS;
    require(ILANA_COVERS(x->struct_size, ilana_params_api, decl_size),
            what + " struct_size " + std::to_string(x->struct_size) + " is too small");
    require((x->flags & ~ILANA_PARAMS_OPEN) == 0, what + " has unknown flags");
    require(x->param_count == 0 || x->params != nullptr, what + " has param_count > 0 and params NULL");
    require(x->param_count == 0 || x->decl_size >= sizeof(ilana_param_decl),
            what + " decl_size " + std::to_string(x->decl_size) + " is smaller than ilana_param_decl");
    constexpr uint32_t kKnownFlags = ILANA_PARAMF_REQUIRED | ILANA_PARAMF_SECRET | ILANA_PARAMF_CASE_INSENSITIVE |
                                     ILANA_PARAMF_MINIMUM | ILANA_PARAMF_MAXIMUM;
    std::vector<std::string> keys;
    const auto *base = reinterpret_cast<const unsigned char *>(x->params);
    for (uint32_t i = 0; i < x->param_count; ++i) {
        const auto &d = *reinterpret_cast<const ilana_param_decl *>(base + static_cast<size_t>(i) * x->decl_size);
        const std::string at = what + " entry " + std::to_string(i);
        require(d.struct_size >= sizeof(ilana_param_decl), at + ": struct_size is too small");
        require(d.key != nullptr && *d.key != '\0', at + ": no key");
        const std::string key = d.key;
        const std::string named = at + " ('" + key + "')";
        require(key.rfind("ilana.", 0) != 0, named + ": \"ilana.*\" keys are the host's");
        require(std::find(keys.begin(), keys.end(), key) == keys.end(), named + ": declared twice");
        keys.push_back(key);
        require(d.type >= ILANA_PARAM_STRING && d.type <= ILANA_PARAM_ENUM, named + ": unknown type");
        require(d.description != nullptr && *d.description != '\0', named + ": no description");
        require((d.flags & ~kKnownFlags) == 0, named + ": unknown flags");
        const bool numeric = d.type == ILANA_PARAM_INT || d.type == ILANA_PARAM_NUMBER;
        require(numeric || (d.flags & (ILANA_PARAMF_MINIMUM | ILANA_PARAMF_MAXIMUM)) == 0,
                named + ": bounds on a type without them");
        if ((d.flags & ILANA_PARAMF_MINIMUM) && (d.flags & ILANA_PARAMF_MAXIMUM))
            require(d.minimum <= d.maximum, named + ": minimum above maximum");
        require((d.type == ILANA_PARAM_ENUM) == (d.allowed != nullptr),
                named + ": `allowed` is for enums, and an enum needs it");
        if (d.type == ILANA_PARAM_ENUM) require(d.allowed[0] != nullptr, named + ": an enum without values");
        if (d.type == ILANA_PARAM_INT && d.default_value != nullptr) {
            int64_t v = 0;
            require(ilana::sdk::Param::parse_int64(d.default_value, v), named + ": default is not an integer");
            require(!(d.flags & ILANA_PARAMF_MINIMUM) || static_cast<double>(v) >= d.minimum,
                    named + ": default below minimum");
            require(!(d.flags & ILANA_PARAMF_MAXIMUM) || static_cast<double>(v) <= d.maximum,
                    named + ": default above maximum");
        }
        if (d.type == ILANA_PARAM_ENUM && d.default_value != nullptr)
            require(ilana::sdk::is_allowed(d, d.default_value), named + ": default is not one of the allowed values");
    }
    if ((x->flags & ILANA_PARAMS_OPEN) == 0)
        for (const auto &kv : cfg.params)
            if (kv.first.rfind("ilana.", 0) != 0)
                require(std::find(keys.begin(), keys.end(), kv.first) != keys.end(),
                        "the connection JSON's key '" + kv.first + "' connects but is not declared: the host would "
                        "refuse it at load (declare it, or set ILANA_PARAMS_OPEN)");
    return std::to_string(keys.size()) + " parameter(s) declared" +
           ((x->flags & ILANA_PARAMS_OPEN) ? " (a partial list)" : ", the list complete");
}

// --------------------------------------------------------------- connecting

std::string Suite::State::connect() {
    if (!descriptor_ok || !api_ok)
        fail("not attempted: the host would refuse this plugin (see checks descriptor and api)");
    const auto t0 = Clock::now();
    conn();
    connect_ok = true;
    return "connected in " + std::to_string(static_cast<int>(ms_since(t0))) + " ms" +
           (cfg.setup.empty() ? "" : ", " + std::to_string(cfg.setup.size()) + " setup statement(s) run") +
           "; an unknown \"ilana.*\" key was ignored";
}

std::string Suite::State::connect_unknown_param() {
    std::vector<ilana_param> params;
    for (const auto &kv : cfg.params) params.push_back({kv.first.c_str(), kv.second.c_str()});
    params.push_back({"ilana.config_dir", cfg.config_dir.c_str()});
    params.push_back({"ilana_conformance_bogus_key", "1"});
    ilana_connect_params cp{};
    cp.struct_size = sizeof cp;
    cp.params = params.data();
    cp.param_count = static_cast<uint32_t>(params.size());
    cp.timeout_ms = cfg.timeout_ms;
    ilana_error err = new_error();
    ilana_conn *h = reinterpret_cast<ilana_conn *>(&err); // must be reset to NULL
    const ilana_status st = api().connect(&cp, &h, &err);
    if (st == ILANA_OK) {
        if (h != nullptr) api().close(h);
        fail("an unknown connection parameter 'ilana_conformance_bogus_key' was accepted (driver.h: "
             "ILANA_ERR_CONFIG naming the key, so typos are caught)");
    }
    require(h == nullptr, "connect failed but did not set *out to NULL");
    require(err.error_class == ILANA_ERR_CONFIG, "expected ILANA_ERR_CONFIG, got " + describe(err));
    require(std::strstr(err.message, "ilana_conformance_bogus_key") != nullptr,
            "the message does not name the unknown key: " + describe(err));
    return "ILANA_ERR_CONFIG naming the key";
}

std::string Suite::State::ping() {
    ilana_error err = new_error();
    const ilana_status st = api().ping(conn().handle(), 2000, &err);
    require(st == ILANA_OK, "ping returned " + status_name(st) + ": " + describe(err));
    return "ILANA_OK";
}

std::string Suite::State::server_info() {
    if (api().server_info == nullptr) skip("server_info is NULL");
    ilana_server_info si;
    std::memset(&si, 0, sizeof si);
    si.struct_size = sizeof si;
    ilana_error err = new_error();
    const ilana_status st = api().server_info(conn().handle(), &si, &err);
    if (st == ILANA_UNSUPPORTED) skip("server_info returned ILANA_UNSUPPORTED");
    require(st == ILANA_OK, "server_info returned " + status_name(st) + ": " + describe(err));
    require(si.product != nullptr && *si.product, "server_info product is NULL or empty");
    require(si.version != nullptr, "server_info version is NULL");
    require(si.max_connections >= -1, "max_connections " + std::to_string(si.max_connections) + " (-1 for unknown)");
    return std::string(si.product) + " " + si.version + " (" + std::to_string(si.version_number) +
           "), max_connections " + std::to_string(si.max_connections);
}

// --------------------------------------------------------------- statements

std::string Suite::State::select_one() { return select_one_on(conn()); }

std::string Suite::State::select_one_on(Conn &c) {
    Rows r = c.query(cfg.select_one, {}, 16);
    require(r.columns.size() == 1, "probe.select_one returned " + std::to_string(r.columns.size()) +
                                       " columns, expected 1: " + cfg.select_one);
    require(r.rows.size() == 1, "probe.select_one returned " + std::to_string(r.rows.size()) + " rows, expected 1");
    require(is_number(r.rows[0][0], 1), "probe.select_one returned " + show(r.rows[0][0]) + ", expected 1");
    return "1 row, column '" + r.columns[0].name + "' " + type_label(r.columns[0].type) + " (" +
           r.columns[0].native_type + "), " + std::to_string(r.batches) + " fetch(es), DONE then DONE again";
}

std::string Suite::State::max_rows_zero() {
    Outcome o = conn().run(cfg.select_one, {}, 0);
    require(o.ok(), "with max_rows 0: " + describe(o.error));
    require(o.rows.rows.size() == 1, "with max_rows 0 (driver.h: the driver's default) " +
                                         std::to_string(o.rows.rows.size()) + " rows came back, expected 1");
    return "max_rows 0 is the driver's default batch";
}

std::string Suite::State::one_open_result() {
    Conn &c = conn();
    ilana_statement st = plain_statement(cfg.select_one);
    ilana_error err = new_error();
    ilana_result *first = nullptr;
    ilana_status s = api().execute(c.handle(), &st, &first, &err);
    require(s == ILANA_OK && first != nullptr, "execute: " + describe(err));
    ilana_result *second = nullptr;
    ilana_error err2 = new_error();
    s = api().execute(c.handle(), &st, &second, &err2);
    if (s == ILANA_OK) {
        api().result_close(second);
        api().result_close(first);
        fail("a second execute while a result is open succeeded (driver.h: at most one open result; "
             "ILANA_ERR_INTERNAL)");
    }
    api().result_close(first);
    require(second == nullptr, "the refused execute did not set *out to NULL");
    require(err2.error_class == ILANA_ERR_INTERNAL, "expected ILANA_ERR_INTERNAL, got " + describe(err2));
    require(!(err2.flags & ILANA_ERRF_CONN_BROKEN), "the refusal marked the connection broken: " + describe(err2));
    select_one();
    return "refused with ILANA_ERR_INTERNAL; the connection works after closing the first";
}

// ABI 1.1: a result's columns_id names its column description on its
// connection. Whatever the driver's policy (one id per description, per
// statement, or 0 for "no promise"), two results of one connection carrying
// the same nonzero id must have equal columns, and one result keeps its id
// from execute to DONE. The statements are the JSON's probes, each run
// twice in a row, then in turns, uncached and (when claimed) through the
// prepared cache: "SELECT ?" of every declared type gives one statement
// several column types on some drivers.
std::string Suite::State::columns_id() {
    // A v1.0 host's result_info ends before columns_id: nothing may be
    // written there (driver.h: a driver writes it only when struct_size
    // covers it).
    {
        Conn c(p(), cfg);
        ilana_statement st = plain_statement(cfg.select_one);
        ilana_error err = new_error();
        ilana_result *res = nullptr;
        require(api().execute(c.handle(), &st, &res, &err) == ILANA_OK && res != nullptr,
                "probe.select_one: " + describe(err));
        struct Guarded {
            ilana_result_info info;
            unsigned char canary[64];
        } g;
        std::memset(&g, 0xA5, sizeof g);
        constexpr size_t kV10 = offsetof(ilana_result_info, columns_id);
        g.info.struct_size = static_cast<uint32_t>(kV10);
        api().result_info(res, &g.info);
        const auto *bytes = reinterpret_cast<const unsigned char *>(&g);
        bool untouched = true;
        for (size_t i = kV10; i < sizeof g; ++i) untouched = untouched && bytes[i] == 0xA5;
        Outcome o;
        drain(api(), res, 16, o);
        require(untouched, "result_info wrote past a v1.0 struct_size (" + std::to_string(kV10) +
                               " bytes): columns_id is ABI 1.1, written only when struct_size covers it");
    }

    Conn c(p(), cfg); // ids are per connection: a fresh one
    struct Probe {
        std::string what, sql;
        std::vector<Cell> params;
    };
    std::vector<Probe> probes;
    probes.push_back({"probe.select_one", cfg.select_one, {}});
    for (const TypeSpec &spec : cfg.types) {
        if (!spec.values.empty()) probes.push_back({"types." + spec.name, spec.sql, {spec.values[0]}});
        if (spec.null) probes.push_back({"types." + spec.name + " NULL", spec.sql, {Cell::make_null(spec.type)}});
    }
    if (!cfg.many_rows_sql.empty())
        probes.push_back({"probe.many_rows (3)", replace_all(cfg.many_rows_sql, "{rows}", "3"), {}});
    if (table_created) {
        probes.push_back({"probe.table.select", t(cfg.table->select), {Cell::int64(1)}});
        probes.push_back({"probe.table.count", t(cfg.table->count), {}});
    }
    const bool cache = p().claims(ILANA_CAP_PREPARED_CACHE);

    struct Seen {
        std::vector<Column> columns;
        std::string first; // the statement that got the id first
    };
    std::map<uint64_t, Seen> seen;
    size_t results = 0, repeats = 0;
    auto same_columns = [](const std::vector<Column> &a, const std::vector<Column> &b) {
        if (a.size() != b.size()) return false;
        for (size_t i = 0; i < a.size(); ++i)
            if (a[i].name != b[i].name || a[i].type != b[i].type || a[i].native_type != b[i].native_type ||
                a[i].nullable != b[i].nullable)
                return false;
        return true;
    };
    auto shape = [](const std::vector<Column> &cols) {
        std::string out = std::to_string(cols.size()) + " column(s)";
        for (const Column &col : cols)
            out += " '" + col.name + "' " + type_label(col.type) + " (" + col.native_type + ", nullable " +
                   std::to_string(col.nullable) + ")";
        return out;
    };
    auto record = [&](const std::string &what, const Outcome &o) {
        ++results;
        const uint64_t id = o.rows.columns_id;
        if (o.status == ILANA_DONE && o.rows.columns_id_at_done != id)
            fail(what + ": columns_id " + std::to_string(id) + " before the first fetch, " +
                 std::to_string(o.rows.columns_id_at_done) + " after DONE (it names the result's columns)");
        if (id == 0) return;
        auto it = seen.find(id);
        if (it == seen.end()) {
            seen.emplace(id, Seen{o.rows.columns, what});
            return;
        }
        ++repeats;
        if (!same_columns(it->second.columns, o.rows.columns))
            fail("columns_id " + std::to_string(id) + " was given to " + it->second.first + " with " +
                 shape(it->second.columns) + ", and again to " + what + " with " + shape(o.rows.columns) +
                 " (driver.h: the same nonzero id promises the same columns on a connection)");
    };
    auto run = [&](const std::string &what, const std::string &sql, const std::vector<Cell> &params,
                   uint32_t flags) {
        const std::string label = what + (flags & ILANA_EXEC_CACHE ? " (cached)" : "") + ": " + sql;
        Outcome o = c.run(sql, Bound(params), 256, sizeof(ilana_value), flags);
        require(o.ok(), label + ": " + describe(o.error));
        record(label, o);
    };
    std::vector<uint32_t> modes{0u};
    if (cache) modes.push_back(ILANA_EXEC_CACHE);
    // Each statement twice in a row (the repeat a driver may name with the
    // same id), uncached and cached.
    for (const Probe &pr : probes)
        for (uint32_t flags : modes)
            for (int k = 0; k < 2; ++k) run(pr.what, pr.sql, pr.params, flags);
    // In turns: every statement's result follows another one's.
    for (uint32_t flags : modes)
        for (size_t i = 0; i < probes.size(); ++i) {
            const Probe &a = probes[i];
            const Probe &b = probes[(i + 1) % probes.size()];
            run(a.what, a.sql, a.params, flags);
            run(b.what, b.sql, b.params, flags);
            run(a.what, a.sql, a.params, flags);
        }
    // A table of the probe's shape created, read, dropped and created again
    // (a cached statement whose table was replaced), and statements without
    // a row set in between.
    if (cfg.table) {
        const std::string other = table.empty() ? "ilana_conformance_" + std::to_string(::getpid()) + "_cid"
                                                : table + "_cid";
        auto on_other = [&](const std::string &sql) { return replace_all(sql, "{table}", other); };
        c.run(on_other(cfg.table->drop)); // a leftover of a crashed run
        struct DropAtEnd { // also when a requirement fails below
            Conn &c;
            std::string sql;
            bool armed = true;
            ~DropAtEnd() {
                if (!armed) return;
                try {
                    c.run(sql);
                } catch (...) {
                }
            }
        } drop_at_end{c, on_other(cfg.table->drop)};
        for (int round = 0; round < 2; ++round) {
            Outcome created = c.run(on_other(cfg.table->create));
            require(created.ok(), "probe.table.create: " + describe(created.error));
            record("probe.table.create", created);
            Outcome ins = c.run(on_other(cfg.table->insert),
                                Bound(std::vector<Cell>{Cell::int64(1), Cell::text("one")}));
            require(ins.ok(), "probe.table.insert: " + describe(ins.error));
            record("probe.table.insert", ins);
            for (uint32_t flags : modes)
                for (int k = 0; k < 2; ++k) run("probe.table.select (table created again)", on_other(cfg.table->select),
                                                {Cell::int64(1)}, flags);
            for (const Probe &pr : probes) run(pr.what, pr.sql, pr.params, modes.back());
            Outcome dropped = c.run(on_other(cfg.table->drop));
            require(dropped.ok(), "probe.table.drop: " + describe(dropped.error));
            record("probe.table.drop", dropped);
        }
        drop_at_end.armed = false;
    }
    if (seen.empty())
        skip("no result carried a nonzero columns_id (0 promises nothing; " + std::to_string(results) +
             " results read); a v1.0-sized result_info was left alone");
    return std::to_string(results) + " results, " + std::to_string(seen.size()) + " distinct nonzero ids, " +
           std::to_string(repeats) + " repeated with the same columns" + (cache ? " (uncached and cached)" : "");
}

std::string Suite::State::errors_syntax() {
    // The record sits in a larger buffer: nothing may be written past it.
    struct Guarded {
        ilana_error e;
        unsigned char canary[64];
    } g;
    std::memset(&g, 0, sizeof g);
    std::memset(g.canary, 0xCD, sizeof g.canary);
    g.e.struct_size = sizeof g.e;
    ilana_statement st = plain_statement(cfg.syntax_error);
    ilana_result *res = reinterpret_cast<ilana_result *>(&g); // must be reset to NULL
    ilana_status s = api().execute(conn().handle(), &st, &res, &g.e);
    std::string where = "execute";
    if (s == ILANA_OK) {
        Outcome o;
        require(res != nullptr, "execute returned ILANA_OK and a NULL result");
        if (drain(api(), res, 16, o) != ILANA_ERROR)
            fail("bad SQL succeeded: " + cfg.syntax_error);
        g.e = o.error;
        where = "the first fetch";
    } else {
        require(s == ILANA_ERROR, "execute returned " + status_name(s));
        require(res == nullptr, "execute failed but did not set *out to NULL");
    }
    for (unsigned char c : g.canary) require(c == 0xCD, "the driver wrote past the end of the ilana_error record");
    require(std::memchr(g.e.message, 0, sizeof g.e.message) != nullptr, "the message is not NUL-terminated");
    require(std::memchr(g.e.sqlstate, 0, 6) != nullptr, "the SQLSTATE is longer than 5 characters");
    require(g.e.message[0] != '\0', "the error has no message");
    require(g.e.error_class == ILANA_ERR_SYNTAX, "bad SQL must be ILANA_ERR_SYNTAX, got " + describe(g.e));
    require(!(g.e.flags & ILANA_ERRF_CONN_BROKEN), "bad SQL marked the connection broken: " + describe(g.e));
    select_one(); // still usable
    return "from " + where + ": " + describe(g.e) + "; the connection works after it";
}

std::string Suite::State::errors_unknown_table() {
    Outcome o = conn().run(cfg.unknown_table);
    require(!o.ok(), "a statement on a table that does not exist succeeded: " + cfg.unknown_table);
    require(o.error.error_class == ILANA_ERR_SYNTAX,
            "an unknown table must be ILANA_ERR_SYNTAX, got " + describe(o.error));
    require(!(o.error.flags & ILANA_ERRF_CONN_BROKEN), "marked the connection broken: " + describe(o.error));
    select_one();
    return describe(o.error);
}

std::string Suite::State::params_count_mismatch() {
    if (cfg.types.empty()) skip("no types in the connection JSON (a statement with a placeholder is needed)");
    const TypeSpec &spec = cfg.types.front();
    Outcome o = conn().run(spec.sql);
    require(!o.ok(), "'" + spec.sql + "' ran with no parameter bound for its placeholder");
    require(!(o.error.flags & ILANA_ERRF_CONN_BROKEN), "a missing parameter marked the connection broken: " +
                                                            describe(o.error));
    require(o.error.error_class != ILANA_ERR_NONE, "ILANA_ERROR with error_class NONE");
    select_one();
    return "refused: " + describe(o.error);
}

std::string Suite::State::params_value_size() {
    if (cfg.types.empty()) skip("no types in the connection JSON");
    const TypeSpec &spec = cfg.types.front();
    Bound b(std::vector<Cell>{spec.values.front()});
    // A host of a later minor version may send larger values: 48-byte stride.
    Outcome o = conn().run(spec.sql, b, 16, 48);
    require(o.ok(), "with value_size 48: " + describe(o.error));
    require(o.rows.rows.size() == 1 && !o.rows.rows[0].empty(), "with value_size 48 the statement returned " +
                                                                   std::to_string(o.rows.rows.size()) + " rows");
    require(same_cell(o.rows.rows[0][0], spec.expect.front()),
            "with value_size 48 the parameter came back as " + show(o.rows.rows[0][0]) + ", expected " +
                show(spec.expect.front()) + " (parameters must be strided by ilana_statement.value_size)");
    return "parameters read with the host's value_size (48)";
}

std::string Suite::State::type_round_trip(const TypeSpec &spec) {
    Conn &c = conn();
    for (size_t i = 0; i < spec.values.size(); ++i) {
        Bound b(std::vector<Cell>{spec.values[i]});
        Outcome o = c.run(spec.sql, b);
        require(o.ok(), "sample " + std::to_string(i + 1) + " (" + show(spec.values[i]) + "): " + describe(o.error));
        require(o.rows.rows.size() == 1, "sample " + std::to_string(i + 1) + " (" + show(spec.values[i]) +
                                             "): " + std::to_string(o.rows.rows.size()) + " rows, expected 1");
        const Column &col = o.rows.columns[0];
        require(col.type == spec.returns || col.type == ILANA_TYPE_ANY,
                "column '" + col.name + "' is " + type_label(col.type) + " (" + col.native_type + "), expected " +
                    type_label(spec.returns) + " or ANY");
        const Cell &got = o.rows.rows[0][0];
        require(same_cell(got, spec.expect[i]), "sample " + std::to_string(i + 1) + ": sent " + show(spec.values[i]) +
                                                    ", got " + show(got) + ", expected " + show(spec.expect[i]));
    }
    if (spec.null) {
        Bound b(std::vector<Cell>{Cell::make_null(spec.type)});
        Outcome o = c.run(spec.sql, b);
        require(o.ok(), "NULL: " + describe(o.error));
        require(o.rows.rows.size() == 1 && o.rows.rows[0][0].null,
                "a NULL " + spec.name + " did not come back as one NULL cell");
    }
    return std::to_string(spec.values.size()) + " value(s)" + (spec.null ? " and NULL" : "") + " as " +
           type_label(spec.returns);
}

std::string Suite::State::streaming() {
    if (cfg.many_rows_sql.empty()) skip("no probe.many_rows in the connection JSON");
    const std::string sql = replace_all(cfg.many_rows_sql, "{rows}", std::to_string(cfg.many_rows));
    const auto t0 = Clock::now();
    Outcome o = conn().run(sql, {}, 1000);
    const double ms = ms_since(t0);
    require(o.ok(), "probe.many_rows: " + describe(o.error));
    require(static_cast<int64_t>(o.rows.rows.size()) == cfg.many_rows,
            std::to_string(o.rows.rows.size()) + " rows, expected " + std::to_string(cfg.many_rows));
    for (size_t i = 0; i < o.rows.rows.size(); ++i)
        require(is_number(o.rows.rows[i][0], static_cast<int64_t>(i + 1)),
                "row " + std::to_string(i + 1) + " has " + show(o.rows.rows[i][0]) + " in its first column, expected " +
                    std::to_string(i + 1) + " (probe.many_rows returns 1..N in order)");
    if (cfg.many_rows > 1000)
        require(o.rows.batches >= static_cast<size_t>(cfg.many_rows / 1000),
                "only " + std::to_string(o.rows.batches) + " batches for " + std::to_string(cfg.many_rows) +
                    " rows with max_rows 1000");
    select_one();
    return std::to_string(cfg.many_rows) + " rows in order, " + std::to_string(o.rows.batches) +
           " batches of <= 1000, " + std::to_string(static_cast<int>(ms)) + " ms";
}

std::string Suite::State::streaming_close_early() {
    if (cfg.many_rows_sql.empty()) skip("no probe.many_rows in the connection JSON");
    const std::string sql = replace_all(cfg.many_rows_sql, "{rows}", std::to_string(cfg.many_rows));
    ilana_statement st = plain_statement(sql);
    ilana_error err = new_error();
    ilana_result *res = nullptr;
    require(api().execute(conn().handle(), &st, &res, &err) == ILANA_OK, "execute: " + describe(err));
    Outcome o;
    const auto t0 = Clock::now();
    drain(api(), res, 100, o, 1); // one batch, then result_close
    const double ms = ms_since(t0);
    require(o.status != ILANA_ERROR, "the first batch failed: " + describe(o.error));
    require(!o.rows.rows.empty(), "the first batch had no rows");
    select_one();
    return "closed after one batch of " + std::to_string(o.rows.rows.size()) + " rows in " +
           std::to_string(static_cast<int>(ms)) + " ms; the connection works after it";
}

// --------------------------------------------------------------- the scratch table

std::string Suite::State::table_ddl_dml() {
    if (!cfg.table) skip("no probe.table in the connection JSON (a read-only driver)");
    table = "ilana_conformance_" + std::to_string(::getpid());
    Conn &c = conn();
    c.run(t(cfg.table->drop)); // a leftover of a crashed run
    Outcome created = c.run(t(cfg.table->create));
    require(created.ok(), "probe.table.create: " + describe(created.error));
    table_created = true;
    require(created.rows.columns.empty(), "CREATE returned " + std::to_string(created.rows.columns.size()) +
                                              " columns (a statement without rows has column_count 0)");
    require(created.rows.rows.empty(), "CREATE returned rows");
    Outcome ins = c.run(t(cfg.table->insert), Bound(std::vector<Cell>{Cell::int64(1), Cell::text("one")}));
    require(ins.ok(), "probe.table.insert: " + describe(ins.error));
    require(ins.rows.affected_rows == 1 || ins.rows.affected_rows == -1,
            "INSERT of one row reports affected_rows " + std::to_string(ins.rows.affected_rows));
    Outcome ins2 = c.run(t(cfg.table->insert), Bound(std::vector<Cell>{Cell::int64(2), Cell::make_null(ILANA_TYPE_TEXT)}));
    require(ins2.ok(), "probe.table.insert with a NULL: " + describe(ins2.error));
    Rows r = c.query(t(cfg.table->select), Bound(std::vector<Cell>{Cell::int64(1)}));
    require(r.rows.size() == 1, "probe.table.select for k = 1 returned " + std::to_string(r.rows.size()) + " rows");
    require(r.columns.size() >= 2, "probe.table.select must return k and v");
    require(is_number(r.rows[0][0], 1), "k came back as " + show(r.rows[0][0]));
    require(!r.rows[0][1].null && r.rows[0][1].bytes == "one", "v came back as " + show(r.rows[0][1]));
    Rows none = c.query(t(cfg.table->select), Bound(std::vector<Cell>{Cell::int64(3)}));
    require(none.rows.empty(), "probe.table.select for a missing key returned rows");
    require(count_rows() == 2, "probe.table.count is not 2 after two inserts");
    return "CREATE (no columns, no rows), INSERT affected_rows " + std::to_string(ins.rows.affected_rows) +
           ", SELECT by bound key, COUNT";
}

std::string Suite::State::errors_constraint() {
    need_table();
    Outcome o = conn().run(t(cfg.table->insert), Bound(std::vector<Cell>{Cell::int64(1), Cell::text("duplicate")}));
    require(!o.ok(), "a duplicate primary key was accepted (probe.table.create must make k the primary key)");
    require(o.error.error_class == ILANA_ERR_CONSTRAINT,
            "a duplicate key must be ILANA_ERR_CONSTRAINT, got " + describe(o.error));
    require(!(o.error.flags & ILANA_ERRF_CONN_BROKEN), "marked the connection broken: " + describe(o.error));
    select_one();
    return describe(o.error);
}

std::string Suite::State::transactions() {
    if (!p().claims(ILANA_CAP_TRANSACTIONS)) skip("ILANA_CAP_TRANSACTIONS is not claimed");
    Conn &c = conn();
    auto call = [&](ilana_status (*fn)(ilana_conn *, ilana_error *), const char *what) {
        ilana_error err = new_error();
        const ilana_status st = fn(c.handle(), &err);
        require(st == ILANA_OK, std::string(what) + " returned " + status_name(st) + ": " + describe(err));
    };
    if (!cfg.table) {
        call(api().begin, "begin");
        select_one();
        call(api().commit, "commit");
        call(api().begin, "begin");
        call(api().rollback, "rollback");
        return "begin/commit and begin/rollback succeed (no probe.table: effects not checked)";
    }
    need_table();
    const int64_t before = count_rows();
    call(api().begin, "begin");
    Outcome ins = c.run(t(cfg.table->insert), Bound(std::vector<Cell>{Cell::int64(100), Cell::text("rolled back")}));
    require(ins.ok(), "insert inside a transaction: " + describe(ins.error));
    require(count_rows() == before + 1, "the transaction does not see its own insert");
    call(api().rollback, "rollback");
    require(count_rows() == before, "rollback did not undo the insert");
    call(api().begin, "begin");
    Outcome ins2 = c.run(t(cfg.table->insert), Bound(std::vector<Cell>{Cell::int64(101), Cell::text("committed")}));
    require(ins2.ok(), "insert inside a transaction: " + describe(ins2.error));
    call(api().commit, "commit");
    require(count_rows() == before + 1, "commit did not keep the insert");
    // Another connection sees the committed row.
    Conn other(p(), cfg);
    Rows r = other.query(t(cfg.table->count));
    require(!r.rows.empty() && as_number(r.rows[0][0]) == before + 1, "another connection does not see the commit");
    return "rollback undoes, commit keeps (seen from a second connection)";
}

// --------------------------------------------------------------- session

// ilana.session/1 (ABI 1.2): the host calls is_dirty on every release of a
// pooled session, so a plain read must leave the session clean (or every
// lease pays a reset); a reset must succeed, also with a transaction left
// open, leave the session clean and usable, cached statements included.
std::string Suite::State::session_reset() {
    auto get = p().entry().get_extension;
    const auto *x = get != nullptr ? static_cast<const ilana_session_api *>(get(ILANA_EXT_SESSION)) : nullptr;
    if (x == nullptr) skip("ilana.session/1 is not provided");
    Conn c(p(), cfg);
    auto reset = [&](const char *when) {
        ilana_error err = new_error();
        const ilana_status st = x->reset(c.handle(), &err);
        require(st == ILANA_OK, std::string("reset ") + when + " returned " + status_name(st) + ": " + describe(err));
        require(x->is_dirty(c.handle()) == 0, std::string("is_dirty is nonzero right after a reset ") + when);
    };
    reset("of a fresh connection"); // the kit's setup statements may have changed state
    select_one_on(c);
    require(x->is_dirty(c.handle()) == 0,
            "probe.select_one made the session dirty: every pooled lease would pay a reset");
    Outcome cached = c.run(cfg.select_one, {}, 16, sizeof(ilana_value), ILANA_EXEC_CACHE);
    require(cached.ok(), "probe.select_one with ILANA_EXEC_CACHE: " + describe(cached.error));
    require(x->is_dirty(c.handle()) == 0, "a cached probe.select_one made the session dirty");
    std::string txn = "no transactions claimed";
    if (p().claims(ILANA_CAP_TRANSACTIONS)) {
        ilana_error err = new_error();
        require(api().begin(c.handle(), &err) == ILANA_OK, "begin: " + describe(err));
        select_one_on(c);
        reset("with a transaction open");
        txn = "a transaction left open is rolled back";
    }
    select_one_on(c);
    Outcome again = c.run(cfg.select_one, {}, 16, sizeof(ilana_value), ILANA_EXEC_CACHE);
    require(again.ok(), "the cached probe.select_one after a reset: " + describe(again.error));
    return "a read leaves the session clean; reset succeeds and leaves it clean and usable (" + txn + ")";
}

// --------------------------------------------------------------- prepared

// ilana.prepare/1 (ABI 1.4): a handle runs its statement again and again
// with new parameters, reports the parameter count, refuses another count
// without sending anything, fails at prepare for SQL the database refuses,
// survives a failed execute and a session reset, and is freed by release or
// by close (a handle left at close must not crash or leak into the next
// connection).
std::string Suite::State::prepared() {
    auto get = p().entry().get_extension;
    const auto *x = get != nullptr ? static_cast<const ilana_prepare_api *>(get(ILANA_EXT_PREPARE)) : nullptr;
    if (x == nullptr) skip("ilana.prepare/1 is not provided");
    require(x->struct_size >= offsetof(ilana_prepare_api, release) + sizeof x->release && x->prepare != nullptr &&
                x->execute_prepared != nullptr && x->release != nullptr,
            "ilana.prepare/1: a table too short, or a NULL function");
    Conn c(p(), cfg);
    auto prepare = [&](const std::string &sql, uint32_t &count, ilana_error &err) {
        ilana_prepared *h = nullptr;
        err = new_error();
        const ilana_status st = x->prepare(c.handle(), sql.data(), sql.size(), &h, &count, &err);
        if (st != ILANA_OK) {
            require(st == ILANA_ERROR, "prepare returned " + status_name(st));
            require(h == nullptr, "prepare failed and still returned a handle");
            return static_cast<ilana_prepared *>(nullptr);
        }
        require(h != nullptr, "prepare returned ILANA_OK and a NULL handle for: " + sql);
        return h;
    };
    uint32_t count = 99;
    ilana_error err = new_error();
    ilana_prepared *one = prepare(cfg.select_one, count, err);
    require(one != nullptr, "prepare of probe.select_one: " + describe(err));
    require(count == 0, "probe.select_one has no parameters, prepare counted " + std::to_string(count));
    for (int i = 0; i < 3; ++i) {
        Outcome o = c.run_prepared(*x, one, cfg.select_one);
        require(o.ok(), "execute_prepared of probe.select_one (run " + std::to_string(i + 1) + "): " + describe(o.error));
        require(o.rows.rows.size() == 1 && is_number(o.rows.rows[0][0], 1),
                "execute_prepared of probe.select_one did not return one row with 1");
    }
    // Another parameter count: refused, nothing sent, the handle still works.
    Outcome wrong = c.run_prepared(*x, one, cfg.select_one, Bound(std::vector<Cell>{Cell::int64(1)}));
    require(!wrong.ok() && wrong.error.error_class == ILANA_ERR_INTERNAL && (wrong.error.flags & ILANA_ERRF_NOT_SENT),
            "one parameter for a statement without any: expected ILANA_ERR_INTERNAL with ILANA_ERRF_NOT_SENT, got " +
                describe(wrong.error));
    require(c.run_prepared(*x, one, cfg.select_one).ok(), "the handle failed after a refused parameter count");
    // SQL the database refuses fails at prepare.
    uint32_t bad_count = 0;
    ilana_error bad = new_error();
    ilana_prepared *broken = prepare("SELEC 1 FRM nowhere", bad_count, bad);
    if (broken != nullptr) x->release(c.handle(), broken);
    require(broken == nullptr, "prepare accepted 'SELEC 1 FRM nowhere'");
    require(bad.error_class == ILANA_ERR_SYNTAX, "prepare of bad SQL: expected ILANA_ERR_SYNTAX, got " + describe(bad));
    require(c.run_prepared(*x, one, cfg.select_one).ok(), "the handle failed after a refused prepare");
    std::string with_table = "no probe.table";
    if (cfg.table && table_created) {
        uint32_t n_ins = 0, n_sel = 0;
        ilana_prepared *ins = prepare(t(cfg.table->insert), n_ins, err);
        require(ins != nullptr, "prepare of probe.table.insert: " + describe(err));
        ilana_prepared *sel = prepare(t(cfg.table->select), n_sel, err);
        require(sel != nullptr, "prepare of probe.table.select: " + describe(err));
        require(n_ins == 2 && n_sel == 1, "parameter counts of probe.table.insert/select: " + std::to_string(n_ins) +
                                              "/" + std::to_string(n_sel) + ", expected 2/1");
        for (int64_t k = 300; k < 305; ++k) {
            Outcome o = c.run_prepared(*x, ins, t(cfg.table->insert),
                                       Bound(std::vector<Cell>{Cell::int64(k), Cell::text("p" + std::to_string(k))}));
            require(o.ok(), "execute_prepared of probe.table.insert: " + describe(o.error));
        }
        // A failed execute (a duplicate key) leaves the handle usable.
        Outcome dup = c.run_prepared(*x, ins, t(cfg.table->insert),
                                     Bound(std::vector<Cell>{Cell::int64(300), Cell::text("again")}));
        require(!dup.ok() && dup.error.error_class == ILANA_ERR_CONSTRAINT,
                "a duplicate key through a prepared insert: expected ILANA_ERR_CONSTRAINT, got " + describe(dup.error));
        for (int64_t k = 300; k < 305; ++k) {
            Outcome o = c.run_prepared(*x, sel, t(cfg.table->select), Bound(std::vector<Cell>{Cell::int64(k)}));
            require(o.ok() && o.rows.rows.size() == 1 && o.rows.rows[0].size() >= 2 &&
                        o.rows.rows[0][1].bytes == "p" + std::to_string(k),
                    "the prepared select did not find key " + std::to_string(k) + ": " + describe(o.error));
        }
        x->release(c.handle(), ins);
        // Left unreleased on purpose: close frees it.
        (void)sel;
        with_table = "insert and select by handle, a duplicate key leaves the handle usable";
    }
    std::string reset = "no ilana.session/1";
    const auto *sx = get(ILANA_EXT_SESSION) != nullptr ? static_cast<const ilana_session_api *>(get(ILANA_EXT_SESSION))
                                                       : nullptr;
    if (sx != nullptr) {
        ilana_error rerr = new_error();
        require(sx->reset(c.handle(), &rerr) == ILANA_OK, "session reset: " + describe(rerr));
        Outcome o = c.run_prepared(*x, one, cfg.select_one);
        require(o.ok() && o.rows.rows.size() == 1, "a handle after a session reset: " + describe(o.error));
        reset = "the handle survives a session reset";
    }
    x->release(c.handle(), one);
    return "probe.select_one by handle, parameter counts checked, bad SQL fails at prepare; " + with_table + "; " +
           reset;
}

// --------------------------------------------------------------- cancel

std::string Suite::State::cancel_idle() {
    if (!p().claims(ILANA_CAP_CANCEL)) skip("ILANA_CAP_CANCEL is not claimed");
    ilana_error err = new_error();
    const ilana_status st = api().cancel(conn().handle(), &err);
    require(st == ILANA_OK, "cancel with nothing running returned " + status_name(st) + ": " + describe(err));
    select_one();
    return "ILANA_OK with nothing running; the next statement is not affected";
}

// ilana.async/1 (ABI 1.5), driven as a host's event loop would: poll(2)
// on the socket the driver names, the continuation when it is ready.
namespace {
struct AsyncDriver {
    const ilana_driver_api &api;
    const ilana_async_api &x;
    ilana_conn *conn = nullptr;
    int waits = 0;
    ~AsyncDriver() {
        if (conn != nullptr) api.close(conn);
    }
    static void wait_for(const ilana_async_wait &w) {
        require(w.fd >= 0 && (w.events & (ILANA_WAIT_READ | ILANA_WAIT_WRITE)) != 0,
                "ILANA_PENDING without a socket and events to wait for (fd " + std::to_string(w.fd) + ", events " +
                    std::to_string(w.events) + ")");
        pollfd p{static_cast<int>(w.fd), 0, 0};
        if (w.events & ILANA_WAIT_READ) p.events |= POLLIN;
        if (w.events & ILANA_WAIT_WRITE) p.events |= POLLOUT;
        const int timeout = w.timeout_ms >= 0 && w.timeout_ms < 20000 ? static_cast<int>(w.timeout_ms) : 20000;
        (void)::poll(&p, 1, timeout);
    }
    // connect_start + connect_continue; the status and the error.
    ilana_status connect(const Config &cfg, const std::vector<std::pair<std::string, std::string>> &kv,
                         ilana_error &err) {
        std::vector<ilana_param> params;
        for (const auto &p : kv) params.push_back({p.first.c_str(), p.second.c_str()});
        params.push_back({"ilana.config_dir", cfg.config_dir.c_str()});
        ilana_connect_params cp{};
        cp.struct_size = sizeof cp;
        cp.params = params.data();
        cp.param_count = static_cast<uint32_t>(params.size());
        cp.timeout_ms = cfg.timeout_ms;
        ilana_async_wait w{};
        w.struct_size = sizeof w;
        err = new_error();
        ilana_status st = x.connect_start(&cp, &conn, &w, &err);
        if (st == ILANA_ERROR) require(conn == nullptr, "connect_start failed and still returned a connection");
        else require(conn != nullptr, "connect_start returned " + status_name(st) + " and a NULL connection");
        const auto t0 = Clock::now();
        while (st == ILANA_PENDING) {
            require(ms_since(t0) < 60000, "connect_continue still ILANA_PENDING after 60 s");
            wait_for(w);
            err = new_error();
            st = x.connect_continue(conn, &w, &err);
        }
        require(st == ILANA_OK || st == ILANA_ERROR, "connect_continue returned " + status_name(st));
        if (st == ILANA_ERROR && conn != nullptr) {
            api.close(conn);
            conn = nullptr;
        }
        return st;
    }
    void submit(const std::string &sql, const Bound &b = {}) {
        ilana_statement st{};
        st.struct_size = sizeof st;
        st.sql = sql.data();
        st.sql_len = sql.size();
        st.params = b.values.empty() ? nullptr : b.values.data();
        st.param_count = static_cast<uint32_t>(b.values.size());
        st.value_size = sizeof(ilana_value);
        ilana_error err = new_error();
        const ilana_status s = x.submit(conn, nullptr, &st, &err);
        require(s == ILANA_OK, "submit of '" + sql + "': " + status_name(s) + " " + describe(err));
    }
    // The next completion, rows read; false at ILANA_DONE.
    bool next(Outcome &out) {
        out = Outcome{};
        const auto t0 = Clock::now();
        for (;;) {
            require(ms_since(t0) < 60000, "poll still ILANA_PENDING after 60 s");
            ilana_async_wait w{};
            w.struct_size = sizeof w;
            ilana_result *res = nullptr;
            out.error = new_error();
            const ilana_status st = x.poll(conn, &res, &w, &out.error);
            if (st == ILANA_PENDING) {
                require(res == nullptr, "poll returned ILANA_PENDING and a result");
                ++waits;
                wait_for(w);
                continue;
            }
            if (st == ILANA_DONE) {
                require(res == nullptr, "poll returned ILANA_DONE and a result");
                return false;
            }
            out.status = st;
            if (st == ILANA_ERROR) {
                require(res == nullptr, "poll returned ILANA_ERROR and a result");
                require(out.error.error_class != ILANA_ERR_NONE, "poll returned ILANA_ERROR without an error class");
                return true;
            }
            require(st == ILANA_OK && res != nullptr, "poll returned " + status_name(st) + (res ? "" : " without a result"));
            const ilana_status fs = drain(api, res, 64, out);
            out.status = fs == ILANA_DONE ? ILANA_OK : fs;
            return true;
        }
    }
    std::vector<Outcome> all() {
        std::vector<Outcome> v;
        Outcome o;
        while (next(o)) v.push_back(std::move(o));
        return v;
    }
};
} // namespace

std::string Suite::State::async_ext() {
    auto get = p().entry().get_extension;
    const auto *x = get != nullptr ? static_cast<const ilana_async_api *>(get(ILANA_EXT_ASYNC)) : nullptr;
    if (x == nullptr) skip("ilana.async/1 is not provided (the core runs the driver on a worker pool)");
    require(x->struct_size >= offsetof(ilana_async_api, cancel) + sizeof x->cancel && x->connect_start != nullptr &&
                x->connect_continue != nullptr && x->submit != nullptr && x->poll != nullptr,
            "ilana.async/1: a table too short, or a NULL function");
    require(p().claims(ILANA_CAP_NETWORK), "ilana.async/1 from a driver without ILANA_CAP_NETWORK: there is no socket to wait on");
    AsyncDriver a{api(), *x};
    ilana_error err = new_error();
    require(a.connect(cfg, cfg.params, err) == ILANA_OK, "async connect: " + describe(err));
    for (const auto &sql : cfg.setup) a.submit(sql);
    for (const Outcome &o : a.all()) require(o.ok(), "setup statement through submit: " + describe(o.error));

    // Many in flight: in order and right. With an int64 probe each result
    // carries its own number; else every one is probe.select_one's 1.
    const TypeSpec *ints = nullptr;
    for (const TypeSpec &spec : cfg.types)
        if (spec.type == ILANA_TYPE_INT64 && spec.returns == ILANA_TYPE_INT64) ints = &spec;
    constexpr int kInFlight = 200;
    std::vector<std::unique_ptr<Bound>> args;
    for (int k = 0; k < kInFlight; ++k) {
        if (ints != nullptr) {
            args.push_back(std::make_unique<Bound>(std::vector<Cell>{Cell::int64(1000 + k)}));
            a.submit(ints->sql, *args.back());
        } else {
            a.submit(cfg.select_one);
        }
    }
    args.clear(); // submit copied them (driver.h): freed before the first poll
    std::vector<Outcome> outs = a.all();
    require(outs.size() == kInFlight, std::to_string(kInFlight) + " statements submitted, " +
                                          std::to_string(outs.size()) + " completed before ILANA_DONE");
    for (int k = 0; k < kInFlight; ++k) {
        const Outcome &o = outs[static_cast<size_t>(k)];
        require(o.ok(), "statement " + std::to_string(k) + " of " + std::to_string(kInFlight) + ": " + describe(o.error));
        require(o.rows.rows.size() == 1 && !o.rows.rows[0].empty() &&
                    is_number(o.rows.rows[0][0], ints != nullptr ? 1000 + k : 1),
                "statement " + std::to_string(k) + " in flight came back with the wrong row (out of order?)");
    }

    // A failure in the middle fails alone (outside a transaction).
    a.submit(cfg.select_one);
    a.submit(cfg.syntax_error);
    a.submit(cfg.select_one);
    outs = a.all();
    require(outs.size() == 3, "3 statements submitted, " + std::to_string(outs.size()) + " completed");
    require(outs[0].ok() && !outs[1].ok() && outs[2].ok(),
            "select / bad SQL / select in flight: expected ok, error, ok; the statement after a failure must run as "
            "it would one by one (" + describe(outs[1].error) + ")");
    require(outs[1].error.error_class == ILANA_ERR_SYNTAX && !(outs[1].error.flags & ILANA_ERRF_CONN_BROKEN),
            "bad SQL in flight: expected ILANA_ERR_SYNTAX without CONN_BROKEN, got " + describe(outs[1].error));

    // Blocking calls are refused while a statement is in flight.
    a.submit(cfg.select_one);
    {
        ilana_statement st{};
        st.struct_size = sizeof st;
        st.sql = cfg.select_one.data();
        st.sql_len = cfg.select_one.size();
        st.value_size = sizeof(ilana_value);
        ilana_result *res = nullptr;
        ilana_error e = new_error();
        const ilana_status s = api().execute(a.conn, &st, &res, &e);
        if (res != nullptr) api().result_close(res);
        require(s == ILANA_ERROR && e.error_class == ILANA_ERR_INTERNAL && (e.flags & ILANA_ERRF_NOT_SENT),
                "execute with a statement in flight: expected ILANA_ERR_INTERNAL with NOT_SENT, got " +
                    status_name(s) + " " + describe(e));
    }
    outs = a.all();
    require(outs.size() == 1 && outs[0].ok(), "the statement in flight beside a refused execute failed");
    // ... and work again once nothing is.
    {
        ilana_statement st{};
        st.struct_size = sizeof st;
        st.sql = cfg.select_one.data();
        st.sql_len = cfg.select_one.size();
        st.value_size = sizeof(ilana_value);
        ilana_result *res = nullptr;
        ilana_error e = new_error();
        require(api().execute(a.conn, &st, &res, &e) == ILANA_OK, "execute after ILANA_DONE: " + describe(e));
        api().result_close(res);
    }

    // Cancel: the running statement fails CANCELED, the next one runs.
    std::string cancel_note = "cancel not checked (no probe.sleep or no cancel)";
    if (x->cancel != nullptr && !cfg.sleep.empty()) {
        a.submit(cfg.sleep);
        a.submit(cfg.select_one);
        const auto t0 = Clock::now();
        Outcome first;
        bool got_first = false, canceled = false;
        // Pump for a while, cancel, pump until the sleep completes.
        while (!got_first && ms_since(t0) < 15000) {
            ilana_async_wait w{};
            w.struct_size = sizeof w;
            ilana_result *res = nullptr;
            first.error = new_error();
            const ilana_status st = x->poll(a.conn, &res, &w, &first.error);
            if (st == ILANA_PENDING) {
                w.timeout_ms = 100;
                AsyncDriver::wait_for(w);
                // Once, when the statement surely runs: a second request
                // could stop the statement after it.
                if (!canceled && ms_since(t0) > 300) {
                    ilana_error ce = new_error();
                    require(x->cancel(a.conn, &ce) == ILANA_OK, "cancel: " + describe(ce));
                    canceled = true;
                }
                continue;
            }
            require(st != ILANA_DONE, "poll returned ILANA_DONE with two statements in flight");
            first.status = st;
            if (st == ILANA_OK) drain(api(), res, 64, first);
            got_first = true;
        }
        require(got_first, "probe.sleep did not complete within 15 s of cancel");
        require(first.status == ILANA_ERROR && first.error.error_class == ILANA_ERR_CANCELED,
                "probe.sleep canceled in flight: expected ILANA_ERR_CANCELED, got " + status_name(first.status) + " " +
                    describe(first.error));
        outs = a.all();
        require(outs.size() == 1 && outs[0].ok(), "the statement after a canceled one did not run");
        cancel_note = "cancel stopped probe.sleep after " + std::to_string(static_cast<int>(ms_since(t0))) + " ms";
    }

    // A bad connect fails through the same steps, with the driver's class.
    AsyncDriver bad{api(), *x};
    ilana_error berr = new_error();
    auto kv = cfg.params;
    kv.emplace_back("ilana_conformance_no_such_param", "1");
    require(bad.connect(cfg, kv, berr) == ILANA_ERROR && berr.error_class == ILANA_ERR_CONFIG &&
                std::string(berr.message).find("ilana_conformance_no_such_param") != std::string::npos,
            "async connect with an unknown parameter: expected ILANA_ERR_CONFIG naming it, got " + describe(berr));

    // A closed connection: closing with statements in flight abandons them.
    a.submit(cfg.select_one);
    a.submit(cfg.select_one);
    api().close(a.conn);
    a.conn = nullptr;
    return std::to_string(kInFlight) + " statements in flight in order (" +
           ((x->flags & ILANA_ASYNC_PIPELINE) ? "pipelined" : "one at a time on the wire") + ", " +
           std::to_string(a.waits) + " waits); a failure in the middle fails alone; " + cancel_note +
           "; close with statements in flight";
}

std::string Suite::State::cancel_running() {
    if (!p().claims(ILANA_CAP_CANCEL)) skip("ILANA_CAP_CANCEL is not claimed");
    if (cfg.sleep.empty()) skip("no probe.sleep in the connection JSON (a statement running >= 10 s)");
    Conn c(p(), cfg);
    std::atomic<bool> finished{false};
    Outcome o;
    std::string thread_failure;
    const auto t0 = Clock::now();
    std::thread worker([&] {
        try {
            o = c.run(cfg.sleep, {}, 64);
        } catch (const std::exception &e) {
            thread_failure = e.what();
        }
        finished = true;
    });
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    int cancels = 0;
    ilana_status cancel_status = ILANA_OK;
    ilana_error cancel_err = new_error();
    // Repeated until the statement stops: a cancel that arrives before the
    // statement started is allowed to be a no-op.
    while (!finished && ms_since(t0) < 15000) {
        cancel_err = new_error();
        cancel_status = api().cancel(c.handle(), &cancel_err);
        ++cancels;
        if (cancel_status != ILANA_OK) break;
        for (int i = 0; i < 20 && !finished; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(25));
    }
    worker.join();
    const double ms = ms_since(t0);
    require(cancel_status == ILANA_OK, "cancel returned " + status_name(cancel_status) + ": " + describe(cancel_err));
    if (!thread_failure.empty()) fail(thread_failure);
    require(!o.ok(), "the statement finished normally after " + std::to_string(static_cast<int>(ms)) +
                         " ms despite cancel (probe.sleep must run >= 10 s)");
    require(o.error.error_class == ILANA_ERR_CANCELED, "expected ILANA_ERR_CANCELED, got " + describe(o.error));
    require(ms < 8000, "the statement stopped only after " + std::to_string(static_cast<int>(ms)) + " ms");
    select_one_on(c);
    return "stopped after " + std::to_string(static_cast<int>(ms)) + " ms with " + describe(o.error) + " (" +
           std::to_string(cancels) + " cancel call(s), from " + (o.failed_in_fetch ? "fetch" : "execute") +
           "); the connection works after it";
}

std::string Suite::State::statement_timeout() {
    if (p().entry().abi_minor < 2) skip("built against ABI 1." + std::to_string(p().entry().abi_minor) +
                                        ": ilana_statement.timeout_ms is ABI 1.2");
    if (cfg.sleep.empty()) skip("no probe.sleep in the connection JSON (a statement running >= 10 s)");
    Conn c(p(), cfg);
    const auto t0 = Clock::now();
    Outcome o = c.run(cfg.sleep, {}, 64, sizeof(ilana_value), 0, 500);
    const double ms = ms_since(t0);
    require(!o.ok(), "probe.sleep finished normally after " + std::to_string(static_cast<int>(ms)) +
                         " ms despite timeout_ms = 500");
    require(o.error.error_class == ILANA_ERR_TIMEOUT, "expected ILANA_ERR_TIMEOUT, got " + describe(o.error));
    require(ms < 4000, "the statement stopped only after " + std::to_string(static_cast<int>(ms)) +
                           " ms (timeout 500 ms; a call may take at most a grace longer)");
    require((o.error.flags & ILANA_ERRF_CONN_BROKEN) == 0,
            "a server that answered broke the connection: " + describe(o.error));
    select_one_on(c);
    return "stopped after " + std::to_string(static_cast<int>(ms)) + " ms with " + describe(o.error) +
           "; the connection works after it";
}

// --------------------------------------------------------------- introspection

namespace {
void expect_shape(const Rows &r, const std::vector<std::pair<const char *, ilana_type>> &shape, const char *fn) {
    std::string want, got;
    for (const auto &s : shape) want += (want.empty() ? "" : ", ") + std::string(s.first) + " " + type_label(s.second);
    for (const auto &c : r.columns) got += (got.empty() ? "" : ", ") + c.name + " " + type_label(c.type);
    require(want == got, std::string(fn) + " columns are (" + got + "), driver.h says (" + want + ")");
}
} // namespace

Rows Suite::State::introspect(const std::string &fn, const char *schema, const char *table_name) {
    auto get = p().entry().get_extension;
    const auto *x = static_cast<const ilana_introspect_api *>(get ? get(ILANA_EXT_INTROSPECT) : nullptr);
    if (x == nullptr) skip("the driver has no ilana.introspect/1");
    ilana_error err = new_error();
    ilana_result *res = nullptr;
    ilana_status st = ILANA_ERROR;
    if (fn == "tables") st = x->tables(conn().handle(), schema, &res, &err);
    else if (fn == "columns") st = x->columns(conn().handle(), schema, table_name, &res, &err);
    else st = x->indexes(conn().handle(), schema, table_name, &res, &err);
    require(st == ILANA_OK, fn + " returned " + status_name(st) + ": " + describe(err));
    require(res != nullptr, fn + " returned ILANA_OK and a NULL result");
    Outcome o;
    if (drain(api(), res, 100, o) == ILANA_ERROR) fail(fn + " failed in fetch: " + describe(o.error));
    return std::move(o.rows);
}

std::string Suite::State::introspect_tables() {
    Rows r = introspect("tables", nullptr, nullptr);
    expect_shape(r, {{"schema", ILANA_TYPE_TEXT}, {"name", ILANA_TYPE_TEXT}, {"kind", ILANA_TYPE_TEXT}}, "tables");
    for (const auto &row : r.rows) {
        require(!row[1].null && !row[1].bytes.empty(), "a table without a name");
        require(!row[2].null && (row[2].bytes == "table" || row[2].bytes == "view"),
                "kind of '" + row[1].bytes + "' is " + show(row[2]) + " (\"table\" or \"view\")");
    }
    const std::string target = table_created ? table : cfg.introspect_table;
    if (!target.empty()) {
        const bool found = std::any_of(r.rows.begin(), r.rows.end(), [&](const std::vector<Cell> &row) {
            return row[1].bytes == target;
        });
        require(found, "tables() does not list '" + target + "'");
    }
    return std::to_string(r.rows.size()) + " table(s), exact columns" +
           (target.empty() ? "" : ", '" + target + "' listed");
}

std::string Suite::State::introspect_columns() {
    const std::string target = table_created ? table : cfg.introspect_table;
    Rows r = introspect("columns", nullptr, target.empty() ? nullptr : target.c_str());
    expect_shape(r,
                 {{"table_name", ILANA_TYPE_TEXT}, {"name", ILANA_TYPE_TEXT}, {"ordinal", ILANA_TYPE_INT64},
                  {"data_type", ILANA_TYPE_TEXT}, {"nullable", ILANA_TYPE_BOOL}, {"default_value", ILANA_TYPE_TEXT},
                  {"primary_key", ILANA_TYPE_BOOL}},
                 "columns");
    std::map<std::string, int64_t> last_ordinal;
    for (const auto &row : r.rows) {
        require(!row[0].null && !row[1].null && !row[2].null && !row[3].null && !row[4].null && !row[6].null,
                "only default_value may be NULL in columns()");
        int64_t &last = last_ordinal[row[0].bytes];
        require(row[2].i64 == last + 1, "ordinals of '" + row[0].bytes + "' are not 1, 2, 3, ... in order (got " +
                                            std::to_string(row[2].i64) + " after " + std::to_string(last) + ")");
        last = row[2].i64;
        const std::string &dt = row[3].bytes;
        require(std::none_of(dt.begin(), dt.end(), [](char ch) { return ch >= 'A' && ch <= 'Z'; }),
                "data_type '" + dt + "' is not lower-case");
    }
    if (target.empty()) return std::to_string(r.rows.size()) + " column(s), exact columns, ordinals in order";
    std::vector<std::string> want = table_created ? std::vector<std::string>{"k", "v"} : cfg.introspect_columns;
    std::vector<std::string> got;
    for (const auto &row : r.rows) {
        require(row[0].bytes == target, "columns(table = '" + target + "') returned a row of '" + row[0].bytes + "'");
        got.push_back(row[1].bytes);
    }
    if (!want.empty()) {
        std::string w, g;
        for (const auto &s : want) w += (w.empty() ? "" : ", ") + s;
        for (const auto &s : got) g += (g.empty() ? "" : ", ") + s;
        require(w == g, "columns of '" + target + "' are (" + g + "), expected (" + w + ")");
    }
    if (table_created) {
        require(r.rows[0][6].i64 == 1, "k is the primary key but primary_key is false");
        require(r.rows[1][6].i64 == 0, "v is not a primary key but primary_key is true");
        require(r.rows[1][4].i64 == 1, "v is nullable but nullable is false");
    }
    return "'" + target + "': " + std::to_string(got.size()) + " column(s) with ordinals, types " +
           (r.rows.empty() ? "" : "'" + r.rows[0][3].bytes + "', ...");
}

std::string Suite::State::introspect_indexes() {
    const std::string target = table_created ? table : cfg.introspect_table;
    Rows r = introspect("indexes", nullptr, target.empty() ? nullptr : target.c_str());
    expect_shape(r,
                 {{"table_name", ILANA_TYPE_TEXT}, {"name", ILANA_TYPE_TEXT}, {"columns", ILANA_TYPE_TEXT},
                  {"is_unique", ILANA_TYPE_BOOL}, {"is_primary", ILANA_TYPE_BOOL}},
                 "indexes");
    for (const auto &row : r.rows) {
        for (const auto &cell : row) require(!cell.null, "indexes() has a NULL cell");
        if (!target.empty())
            require(row[0].bytes == target, "indexes(table = '" + target + "') returned a row of '" + row[0].bytes + "'");
        require(!row[2].bytes.empty(), "index '" + row[1].bytes + "' lists no columns");
        if (row[4].i64 == 1) require(row[3].i64 == 1, "index '" + row[1].bytes + "' is primary but not unique");
    }
    return std::to_string(r.rows.size()) + " index(es), exact columns";
}

// --------------------------------------------------------------- threads

std::string Suite::State::threads() {
    const int n = cfg.threads;
    std::mutex mu;
    std::vector<std::string> failures;
    std::atomic<int> statements{0};
    const TypeSpec *spec = cfg.types.empty() ? nullptr : &cfg.types.front();
    const std::string stream_sql =
        cfg.many_rows_sql.empty() ? "" : replace_all(cfg.many_rows_sql, "{rows}", std::to_string(std::min<int64_t>(
                                                                                       cfg.many_rows, 5000)));
    const int64_t stream_rows = std::min<int64_t>(cfg.many_rows, 5000);
    auto work = [&](Conn &c, int rounds) {
        for (int i = 0; i < rounds; ++i) {
            Rows r = c.query(cfg.select_one);
            require(r.rows.size() == 1 && is_number(r.rows[0][0], 1), "select_one gave a wrong answer");
            ++statements;
            if (spec != nullptr) {
                const size_t k = static_cast<size_t>(i) % spec->values.size();
                Outcome o = c.run(spec->sql, Bound(std::vector<Cell>{spec->values[k]}));
                require(o.ok() && o.rows.rows.size() == 1 && same_cell(o.rows.rows[0][0], spec->expect[k]),
                        "types." + spec->name + " gave a wrong answer: " + (o.ok() ? "" : describe(o.error)));
                ++statements;
            }
        }
        if (!stream_sql.empty()) {
            Rows r = c.query(stream_sql, {}, 500);
            require(static_cast<int64_t>(r.rows.size()) == stream_rows, "a stream returned a wrong row count");
            ++statements;
        }
    };
    std::vector<std::thread> pool;
    for (int i = 0; i < n; ++i)
        pool.emplace_back([&, i] {
            try {
                Conn c(p(), cfg);
                work(c, 50);
            } catch (const std::exception &e) {
                std::lock_guard<std::mutex> lock(mu);
                failures.push_back("thread " + std::to_string(i + 1) + ": " + e.what());
            }
        });
    for (auto &t : pool) t.join();
    // One connection used by two threads in turn (driver.h: connections
    // move between threads between calls).
    {
        Conn moved(p(), cfg);
        for (int hop = 0; hop < 2; ++hop) {
            std::thread t([&] {
                try {
                    work(moved, 10);
                } catch (const std::exception &e) {
                    std::lock_guard<std::mutex> lock(mu);
                    failures.push_back(std::string("connection moved between threads: ") + e.what());
                }
            });
            t.join();
        }
    }
    if (!failures.empty()) fail(failures.front() + (failures.size() > 1 ? " (+" + std::to_string(failures.size() - 1) +
                                                                              " more)"
                                                                        : ""));
    return std::to_string(n) + " threads on their own connections and one connection moved between threads: " +
           std::to_string(statements.load()) + " statements";
}

// --------------------------------------------------------------- deinit

void Suite::State::drop_table() {
    if (!table_created) return;
    table_created = false;
    conn().run(t(cfg.table->drop));
}

std::string Suite::State::deinit() {
    drop_table();
    main.reset();
    require(p().init_count() == 2, "expected two inits to undo");
    auto works = [&](const char *when) {
        if (!connect_ok) return; // nothing to try: the connect check failed
        Conn c(p(), cfg);
        Rows r = c.query(cfg.select_one);
        require(r.rows.size() == 1, std::string(when) + " the driver does not work");
    };
    p().deinit();
    works("after one of two deinits");
    p().deinit();
    ilana_error err = new_error();
    const ilana_status st = p().init(&err);
    require(st == ILANA_OK, "init after the last deinit returned " + status_name(st) + ": " + describe(err));
    works("after deinit and a new init");
    p().deinit();
    return connect_ok ? "counted: works after one of two deinits; init again after the last deinit works"
                      : "counted: deinit twice, init again and deinit (no connection tried)";
}

// --------------------------------------------------------------- the list

void Suite::State::define() {
    auto add = [&](std::string name, std::string what, Needs needs, std::function<std::string()> fn) {
        defs.push_back({std::move(name), std::move(what), needs, std::move(fn)});
    };
    add("load", "dlopen by absolute path with RTLD_NOW, resolve ilana_entry", Needs::Nothing, [this] { return load(); });
    add("entry", "magic, ABI major 1, struct_size, init/deinit", Needs::Plugin, [this] { return entry(); });
    add("exports", "only ilana_entry is exported (ELF dynamic symbols)", Needs::Plugin, [this] { return exports(); });
    add("init", "init succeeds and is counted", Needs::Plugin, [this] { return init(); });
    add("descriptor", "id, name, version, clients, thread model, capabilities", Needs::Init,
        [this] { return descriptor(); });
    add("dialect", "dialect facts are valid", Needs::Init, [this] { return dialect(); });
    add("api", "mandatory functions; claimed capabilities have their functions", Needs::Init,
        [this] { return api_table(); });
    add("extensions", "get_extension: unknown ids NULL, standard tables complete", Needs::Init,
        [this] { return extensions(); });
    add("params.declared", "ilana.params/1: a well-formed table covering the JSON's params (when provided)",
        Needs::Init, [this] { return params_declared(); });
    add("connect", "connect with the JSON's params (an unknown ilana.* key ignored)", Needs::Init,
        [this] { return connect(); });
    add("connect.unknown_param", "an unknown parameter is ILANA_ERR_CONFIG naming it", Needs::Connection,
        [this] { return connect_unknown_param(); });
    add("ping", "ping succeeds", Needs::Connection, [this] { return ping(); });
    add("server_info", "product and version", Needs::Connection, [this] { return server_info(); });
    add("select_one", "probe.select_one: one row, one column, 1; DONE twice", Needs::Connection,
        [this] { return select_one(); });
    add("fetch.max_rows_zero", "max_rows 0 means the driver's default", Needs::Connection,
        [this] { return max_rows_zero(); });
    add("results.one_open", "a second execute while a result is open is ILANA_ERR_INTERNAL", Needs::Connection,
        [this] { return one_open_result(); });
    add("errors.syntax", "bad SQL is ILANA_ERR_SYNTAX, a well-formed record, the connection survives",
        Needs::Connection, [this] { return errors_syntax(); });
    add("errors.unknown_table", "an unknown table is ILANA_ERR_SYNTAX", Needs::Connection,
        [this] { return errors_unknown_table(); });
    add("params.count_mismatch", "a missing parameter is an error, not a crash", Needs::Connection,
        [this] { return params_count_mismatch(); });
    add("params.value_size", "parameters are strided by the host's value_size", Needs::Connection,
        [this] { return params_value_size(); });
    for (const TypeSpec &spec : cfg.types)
        add("types." + spec.name, "round trip of " + spec.name + " values through: " + spec.sql, Needs::Connection,
            [this, &spec] { return type_round_trip(spec); });
    add("streaming", "probe.many_rows: every row, in order, in batches <= max_rows", Needs::Connection,
        [this] { return streaming(); });
    add("streaming.close_early", "closing a result after one batch leaves the connection usable", Needs::Connection,
        [this] { return streaming_close_early(); });
    add("table", "probe.table: CREATE, INSERT (bound, NULL), SELECT, COUNT", Needs::Connection,
        [this] { return table_ddl_dml(); });
    add("errors.constraint", "a duplicate key is ILANA_ERR_CONSTRAINT", Needs::Connection,
        [this] { return errors_constraint(); });
    add("results.columns_id",
        "ABI 1.1: a repeated nonzero columns_id comes with the same columns on a connection (skipped while "
        "the driver reports 0)",
        Needs::Connection, [this] { return columns_id(); });
    add("transactions", "rollback undoes, commit keeps (when claimed)", Needs::Connection,
        [this] { return transactions(); });
    add("session.reset",
        "ABI 1.2 ilana.session/1: a read leaves the session clean; reset works, also in a transaction "
        "(skipped without the extension)",
        Needs::Connection, [this] { return session_reset(); });
    add("prepare",
        "ilana.prepare/1: handles run again with new parameters, counts checked, bad SQL fails at prepare, "
        "a handle survives a failed execute and a session reset",
        Needs::Connection, [this] { return prepared(); });
    add("async",
        "ABI 1.5 ilana.async/1 in a poll(2) loop: connect, 200 statements in flight complete in order and right, "
        "a failure in the middle fails alone, blocking calls refused meanwhile, cancel, a bad connect "
        "(skipped without the extension)",
        Needs::Connection, [this] { return async_ext(); });
    add("dialect.connection",
        "ABI 1.3 ilana.conn_dialect/1: a connection's dialect is valid and stable (skipped without the extension)",
        Needs::Connection, [this] { return connection_dialect(); });
    add("cancel.idle", "cancel with nothing running is ILANA_OK (when claimed)", Needs::Connection,
        [this] { return cancel_idle(); });
    add("cancel.running", "cancel from another thread stops probe.sleep with ILANA_ERR_CANCELED (when claimed)",
        Needs::Connection, [this] { return cancel_running(); });
    add("statement.timeout",
        "ABI 1.2: probe.sleep with timeout_ms = 500 fails with ILANA_ERR_TIMEOUT in time; the connection works",
        Needs::Connection, [this] { return statement_timeout(); });
    add("introspect.tables", "ilana.introspect/1 tables(): exact columns, kinds", Needs::Connection,
        [this] { return introspect_tables(); });
    add("introspect.columns", "ilana.introspect/1 columns(): exact columns, ordinals, names", Needs::Connection,
        [this] { return introspect_columns(); });
    add("introspect.indexes", "ilana.introspect/1 indexes(): exact columns", Needs::Connection,
        [this] { return introspect_indexes(); });
    add("threads", "several threads on their own connections; a connection moved between threads",
        Needs::Connection, [this] { return threads(); });
    add("deinit", "deinit is counted; init after the last deinit works", Needs::Init, [this] { return deinit(); });
}

// --------------------------------------------------------------- Suite

Suite::Suite(std::string plugin_path, Config cfg) : s_(std::make_unique<State>()) {
    s_->plugin_path = std::move(plugin_path);
    s_->cfg = std::move(cfg);
    s_->define();
}

Suite::~Suite() {
    try {
        if (s_->plugin && s_->p().init_count() > 0) s_->drop_table();
    } catch (...) {
    }
    s_->main.reset();
}

std::vector<CheckInfo> Suite::list() const {
    std::vector<CheckInfo> out;
    for (const auto &d : s_->defs) out.push_back({d.name, d.what});
    return out;
}

void Suite::run(const std::vector<std::string> &only, const std::function<void(const std::string &)> &before,
                 const std::function<void(const CheckResult &)> &after) {
    for (const auto &d : s_->defs) {
        const bool wanted = only.empty() || std::any_of(only.begin(), only.end(), [&](const std::string &o) {
                                return d.name == o || d.name.rfind(o + ".", 0) == 0;
                            });
        // Prerequisites run even when not selected, silently.
        const bool prerequisite = d.name == "load" || d.name == "entry" || d.name == "init" || d.name == "descriptor" ||
                                  d.name == "api" || d.name == "connect";
        if (!wanted && !prerequisite) continue;
        CheckResult r;
        r.name = d.name;
        const auto t0 = Clock::now();
        if ((d.needs >= Needs::Plugin && !s_->plugin) || (d.needs >= Needs::Init && !s_->init_ok) ||
            (d.needs >= Needs::Connection && !s_->connect_ok)) {
            r.status = CheckResult::Skip;
            r.message = !s_->plugin ? "the plugin did not load" : !s_->init_ok ? "init failed" : "connect failed";
        } else {
            if (before) before(d.name);
            try {
                r.message = d.run();
                r.status = CheckResult::Pass;
            } catch (const Skip &e) {
                r.status = CheckResult::Skip;
                r.message = e.what();
            } catch (const std::exception &e) {
                r.status = CheckResult::Fail;
                r.message = e.what();
            }
        }
        r.ms = ms_since(t0);
        if (wanted || r.status == CheckResult::Fail) after(r);
    }
}

std::string Suite::driver_line() const {
    const DriverFacts f = facts();
    if (!f.loaded) return "(not loaded)";
    std::string clients;
    for (const auto &c : f.clients) clients += (clients.empty() ? "" : ", ") + c;
    return f.id + " \"" + f.name + "\" " + f.version + ", ABI v" + std::to_string(f.abi_major) + "." +
           std::to_string(f.abi_minor) + ", clients " + clients + ", capabilities " + capability_names(f.capabilities);
}

Suite::DriverFacts Suite::facts() const {
    DriverFacts f;
    if (!s_->plugin) return f;
    const ilana_driver_entry &e = s_->p().entry();
    f.abi_major = e.abi_major;
    f.abi_minor = e.abi_minor;
    if (!s_->init_ok || e.descriptor == nullptr) return f;
    const ilana_driver_descriptor &d = *e.descriptor;
    f.loaded = true;
    f.id = d.id ? d.id : "";
    f.name = d.name ? d.name : "";
    f.version = d.version ? d.version : "";
    for (const char *const *c = d.clients; c && *c; ++c) f.clients.push_back(*c);
    f.capabilities = d.capabilities;
    return f;
}

} // namespace kit
