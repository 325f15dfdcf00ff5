// abi_layout_test.cpp — the driver ABI v1 must never change incompatibly.
//
// Compile-time pins (a change fails the build, not just the test run):
//   - every field of every v1.0 struct keeps its offset and size
//     (abi_v1_0_pins.inc, generated once from the frozen v1.0 header);
//   - every struct's current size (exact: update it when a minor version
//     APPENDS a field, together with that field's pin below the include);
//     ilana_value never grows (arrays of ilana_value are strided by
//     value_size); ilana_error grows only by appending (1.3), its message
//     capacity is fixed;
//   - every function pointer's exact type;
//   - the numeric value of every constant a driver compiles in.
// Run-time checks: the entry symbol's name, type and size in the built
// plugins, as the host resolves it.
//
// Platform: x86_64 LP64 (Linux). Other platforms need their own pins.
#include <catch2/catch.hpp>

#include <ilana/driver.h>

#include <dlfcn.h>
#include <link.h>

#include <cstddef>
#include <cstring>
#include <string>
#include <type_traits>
#include <utility>

static_assert(sizeof(void *) == 8 && sizeof(long) == 8, "these pins are for x86_64 LP64");

// ------------------------------------------------------------------ v1.0 fields
#define ILANA_PIN_SIZE(T, n) static_assert(sizeof(T) >= (n), #T " shrank below its v1.0 size");
#define ILANA_PIN_FIELD(T, f, off, n)                                                                        \
    static_assert(offsetof(T, f) == (off), #T "." #f " moved: ABI v1 offsets are frozen");                   \
    static_assert(sizeof(std::declval<T &>().f) == (n), #T "." #f " changed size: ABI v1 fields are frozen");
#include "abi_v1_0_pins.inc"
#undef ILANA_PIN_SIZE
#undef ILANA_PIN_FIELD

// ------------------------------------------------------------------ current sizes
// Exact. A minor version that appends a field updates the number here and
// pins the new field after the include above; nothing else may change.
static_assert(sizeof(ilana_error) == 1116); // 1.3 appended condition and constraint_name
static_assert(sizeof(ilana_value) == 24, "ilana_value never changes in v1 (strided arrays)");
static_assert(sizeof(ilana_host) == 64);
static_assert(sizeof(ilana_param) == 16, "ilana_param has no struct_size: frozen");
static_assert(sizeof(ilana_connect_params) == 32);
static_assert(sizeof(ilana_statement) == 56); // 1.2 appended timeout_ms
static_assert(sizeof(ilana_column) == 40);
static_assert(sizeof(ilana_result_info) == 48); // 1.1 appended columns_id
static_assert(sizeof(ilana_batch) == 32);
static_assert(sizeof(ilana_server_info) == 40);
static_assert(sizeof(ilana_dialect) == 28);
static_assert(sizeof(ilana_driver_descriptor) == 72);
static_assert(sizeof(ilana_driver_api) == 104);
static_assert(sizeof(ilana_driver_entry) == 56);
static_assert(sizeof(ilana_introspect_api) == 32);
static_assert(sizeof(ilana_lock_api) == 24);
static_assert(sizeof(ilana_namespace_api) == 48); // 1.2 appended is_system
// ABI 1.1: ilana_result_info.columns_id, appended after v1.0's last field.
static_assert(offsetof(ilana_result_info, columns_id) == 40 &&
              std::is_same_v<decltype(ilana_result_info::columns_id), uint64_t>);
// ABI 1.2: ilana_statement.timeout_ms, after the padding a v1.1 host's
// struct_size (48) covers, so a driver sees it only from a 1.2 host.
static_assert(offsetof(ilana_statement, timeout_ms) == 48 &&
              std::is_same_v<decltype(ilana_statement::timeout_ms), int64_t>);
// ABI 1.3: ilana_error.condition and constraint_name, after v1.0's message.
static_assert(offsetof(ilana_error, condition) == 1048 &&
              std::is_same_v<decltype(ilana_error::condition), int32_t>);
static_assert(offsetof(ilana_error, constraint_name) == 1052 && sizeof(ilana_error::constraint_name) == 64);
static_assert(ILANA_ERROR_MESSAGE_CAPACITY == 1024 && ILANA_CONSTRAINT_NAME_CAPACITY == 64);
static_assert(ILANA_COND_NONE == 0 && ILANA_COND_UNIQUE == 1 && ILANA_COND_FOREIGN_KEY == 2 &&
              ILANA_COND_NOT_NULL == 3 && ILANA_COND_CHECK == 4 && ILANA_COND_SERIALIZATION == 5 &&
              ILANA_COND_DEADLOCK == 6);
static_assert(ILANA_ABI_MINOR == 5u, "a new minor version: pin its fields above and update this");
// ABI 1.2: ilana_namespace_api.is_system, appended after v1.0's list.
static_assert(offsetof(ilana_namespace_api, is_system) == 40);
// ilana.ddl/1 (ABI 1.2).
static_assert(sizeof(ilana_ddl_api) == 16);
static_assert(offsetof(ilana_ddl_api, clone_namespace) == 8);
// ABI 1.2: the extension ilana.session/1.
static_assert(sizeof(ilana_session_api) == 24);
static_assert(offsetof(ilana_session_api, is_dirty) == 8 && offsetof(ilana_session_api, reset) == 16);
// ABI 1.3: the extension ilana.conn_dialect/1.
static_assert(sizeof(ilana_conn_dialect_api) == 16);
static_assert(offsetof(ilana_conn_dialect_api, dialect_of) == 8);
// ABI 1.4: the extension ilana.prepare/1.
static_assert(sizeof(ilana_prepare_api) == 32);
static_assert(offsetof(ilana_prepare_api, prepare) == 8);
static_assert(offsetof(ilana_prepare_api, execute_prepared) == 16);
static_assert(offsetof(ilana_prepare_api, release) == 24);
// ABI 1.5: the extension ilana.async/1 and its wait record.
static_assert(sizeof(ilana_async_wait) == 24);
static_assert(offsetof(ilana_async_wait, events) == 4 && offsetof(ilana_async_wait, fd) == 8 &&
              offsetof(ilana_async_wait, timeout_ms) == 16);
static_assert(std::is_same_v<decltype(ilana_async_wait::fd), int64_t> &&
              std::is_same_v<decltype(ilana_async_wait::timeout_ms), int64_t> &&
              std::is_same_v<decltype(ilana_async_wait::events), uint32_t>);
static_assert(sizeof(ilana_async_api) == 48);
static_assert(offsetof(ilana_async_api, flags) == 4 && offsetof(ilana_async_api, connect_start) == 8 &&
              offsetof(ilana_async_api, connect_continue) == 16 && offsetof(ilana_async_api, submit) == 24 &&
              offsetof(ilana_async_api, poll) == 32 && offsetof(ilana_async_api, cancel) == 40);
// ilana.batch/1 (an extension: the ABI itself stays 1.0).
static_assert(sizeof(ilana_batch_statement) == 56);
static_assert(sizeof(ilana_batch_outcome) == 24);
static_assert(sizeof(ilana_batch_api) == 16);
static_assert(offsetof(ilana_batch_statement, sql) == 8 && offsetof(ilana_batch_statement, sql_len) == 16 &&
              offsetof(ilana_batch_statement, params) == 24 && offsetof(ilana_batch_statement, param_count) == 32 &&
              offsetof(ilana_batch_statement, value_size) == 36 && offsetof(ilana_batch_statement, row_count) == 40 &&
              offsetof(ilana_batch_statement, flags) == 48);
static_assert(offsetof(ilana_batch_outcome, affected_rows) == 8 && offsetof(ilana_batch_outcome, failed_row) == 16);
static_assert(offsetof(ilana_batch_api, method) == 4 && offsetof(ilana_batch_api, execute_many) == 8);
// ilana.params/1 (an extension: the ABI itself stays 1.1).
static_assert(sizeof(ilana_param_decl) == 64);
static_assert(sizeof(ilana_params_api) == 24);
static_assert(offsetof(ilana_param_decl, type) == 4 && offsetof(ilana_param_decl, flags) == 8 &&
              offsetof(ilana_param_decl, reserved_) == 12 && offsetof(ilana_param_decl, key) == 16 &&
              offsetof(ilana_param_decl, description) == 24 && offsetof(ilana_param_decl, default_value) == 32 &&
              offsetof(ilana_param_decl, allowed) == 40 && offsetof(ilana_param_decl, minimum) == 48 &&
              offsetof(ilana_param_decl, maximum) == 56);
static_assert(offsetof(ilana_params_api, flags) == 4 && offsetof(ilana_params_api, params) == 8 &&
              offsetof(ilana_params_api, param_count) == 16 && offsetof(ilana_params_api, decl_size) == 20);
static_assert(std::is_same_v<decltype(ilana_param_decl::allowed), const char *const *> &&
              std::is_same_v<decltype(ilana_param_decl::minimum), double> &&
              std::is_same_v<decltype(ilana_params_api::params), const ilana_param_decl *>);

// Every struct that crosses starts with uint32_t struct_size (rule 2).
#define ILANA_STARTS_WITH_SIZE(T)                                                                            \
    static_assert(offsetof(T, struct_size) == 0 && std::is_same_v<decltype(T::struct_size), uint32_t>,       \
                  #T " must start with uint32_t struct_size");
ILANA_STARTS_WITH_SIZE(ilana_error)
ILANA_STARTS_WITH_SIZE(ilana_host)
ILANA_STARTS_WITH_SIZE(ilana_connect_params)
ILANA_STARTS_WITH_SIZE(ilana_statement)
ILANA_STARTS_WITH_SIZE(ilana_column)
ILANA_STARTS_WITH_SIZE(ilana_result_info)
ILANA_STARTS_WITH_SIZE(ilana_batch)
ILANA_STARTS_WITH_SIZE(ilana_server_info)
ILANA_STARTS_WITH_SIZE(ilana_dialect)
ILANA_STARTS_WITH_SIZE(ilana_driver_descriptor)
ILANA_STARTS_WITH_SIZE(ilana_driver_api)
ILANA_STARTS_WITH_SIZE(ilana_driver_entry)
ILANA_STARTS_WITH_SIZE(ilana_introspect_api)
ILANA_STARTS_WITH_SIZE(ilana_lock_api)
ILANA_STARTS_WITH_SIZE(ilana_namespace_api)
ILANA_STARTS_WITH_SIZE(ilana_batch_statement)
ILANA_STARTS_WITH_SIZE(ilana_batch_outcome)
ILANA_STARTS_WITH_SIZE(ilana_batch_api)
ILANA_STARTS_WITH_SIZE(ilana_param_decl)
ILANA_STARTS_WITH_SIZE(ilana_params_api)
ILANA_STARTS_WITH_SIZE(ilana_ddl_api)
ILANA_STARTS_WITH_SIZE(ilana_session_api)
ILANA_STARTS_WITH_SIZE(ilana_conn_dialect_api)
ILANA_STARTS_WITH_SIZE(ilana_prepare_api)
ILANA_STARTS_WITH_SIZE(ilana_async_wait)
ILANA_STARTS_WITH_SIZE(ilana_async_api)
#undef ILANA_STARTS_WITH_SIZE

// ------------------------------------------------------------------ scalar types
static_assert(std::is_same_v<ilana_status, int32_t>);
static_assert(std::is_same_v<ilana_error_class, int32_t>);
static_assert(std::is_same_v<ilana_log_level, int32_t>);
static_assert(std::is_same_v<ilana_type, int32_t>);
static_assert(std::is_trivially_copyable_v<ilana_value> && std::is_standard_layout_v<ilana_value>);

// ------------------------------------------------------------------ function types
#define ILANA_PIN_FN(T, f, ...)                                                                              \
    static_assert(std::is_same_v<decltype(T::f), __VA_ARGS__>, #T "." #f " changed its signature");
ILANA_PIN_FN(ilana_host, log, void (*)(void *, void *, ilana_log_level, const char *, size_t))
ILANA_PIN_FN(ilana_host, alloc, void *(*)(void *, size_t))
ILANA_PIN_FN(ilana_host, free, void (*)(void *, void *))
ILANA_PIN_FN(ilana_driver_api, connect, ilana_status (*)(const ilana_connect_params *, ilana_conn **, ilana_error *))
ILANA_PIN_FN(ilana_driver_api, close, void (*)(ilana_conn *))
ILANA_PIN_FN(ilana_driver_api, ping, ilana_status (*)(ilana_conn *, int32_t, ilana_error *))
ILANA_PIN_FN(ilana_driver_api, execute,
             ilana_status (*)(ilana_conn *, const ilana_statement *, ilana_result **, ilana_error *))
ILANA_PIN_FN(ilana_driver_api, result_info, void (*)(ilana_result *, ilana_result_info *))
ILANA_PIN_FN(ilana_driver_api, fetch, ilana_status (*)(ilana_result *, ilana_batch *, ilana_error *))
ILANA_PIN_FN(ilana_driver_api, result_close, void (*)(ilana_result *))
ILANA_PIN_FN(ilana_driver_api, begin, ilana_status (*)(ilana_conn *, ilana_error *))
ILANA_PIN_FN(ilana_driver_api, commit, ilana_status (*)(ilana_conn *, ilana_error *))
ILANA_PIN_FN(ilana_driver_api, rollback, ilana_status (*)(ilana_conn *, ilana_error *))
ILANA_PIN_FN(ilana_driver_api, cancel, ilana_status (*)(ilana_conn *, ilana_error *))
ILANA_PIN_FN(ilana_driver_api, server_info, ilana_status (*)(ilana_conn *, ilana_server_info *, ilana_error *))
ILANA_PIN_FN(ilana_driver_entry, init, ilana_status (*)(const ilana_host *, ilana_error *))
ILANA_PIN_FN(ilana_driver_entry, deinit, void (*)(void))
ILANA_PIN_FN(ilana_driver_entry, descriptor, const ilana_driver_descriptor *)
ILANA_PIN_FN(ilana_driver_entry, api, const ilana_driver_api *)
ILANA_PIN_FN(ilana_driver_entry, get_extension, const void *(*)(const char *))
ILANA_PIN_FN(ilana_driver_descriptor, clients, const char *const *)
ILANA_PIN_FN(ilana_driver_descriptor, dialect, const ilana_dialect *)
ILANA_PIN_FN(ilana_introspect_api, tables, ilana_status (*)(ilana_conn *, const char *, ilana_result **, ilana_error *))
ILANA_PIN_FN(ilana_introspect_api, columns,
             ilana_status (*)(ilana_conn *, const char *, const char *, ilana_result **, ilana_error *))
ILANA_PIN_FN(ilana_introspect_api, indexes,
             ilana_status (*)(ilana_conn *, const char *, const char *, ilana_result **, ilana_error *))
ILANA_PIN_FN(ilana_lock_api, acquire, ilana_status (*)(ilana_conn *, const char *, int32_t, ilana_error *))
ILANA_PIN_FN(ilana_lock_api, release, ilana_status (*)(ilana_conn *, const char *, ilana_error *))
ILANA_PIN_FN(ilana_namespace_api, create, ilana_status (*)(ilana_conn *, const char *, ilana_error *))
ILANA_PIN_FN(ilana_namespace_api, drop, ilana_status (*)(ilana_conn *, const char *, ilana_error *))
ILANA_PIN_FN(ilana_namespace_api, list, ilana_status (*)(ilana_conn *, const char *, ilana_result **, ilana_error *))
ILANA_PIN_FN(ilana_namespace_api, is_system, int32_t (*)(const char *))
ILANA_PIN_FN(ilana_ddl_api, clone_namespace,
             ilana_status (*)(ilana_conn *, const char *, const char *, ilana_result **, ilana_error *))
ILANA_PIN_FN(ilana_batch_api, execute_many,
             ilana_status (*)(ilana_conn *, const ilana_batch_statement *, ilana_batch_outcome *, ilana_error *))
ILANA_PIN_FN(ilana_session_api, is_dirty, int32_t (*)(ilana_conn *))
ILANA_PIN_FN(ilana_session_api, reset, ilana_status (*)(ilana_conn *, ilana_error *))
ILANA_PIN_FN(ilana_conn_dialect_api, dialect_of, const ilana_dialect *(*)(ilana_conn *))
ILANA_PIN_FN(ilana_prepare_api, prepare,
             ilana_status (*)(ilana_conn *, const char *, uint64_t, ilana_prepared **, uint32_t *, ilana_error *))
ILANA_PIN_FN(ilana_prepare_api, execute_prepared,
             ilana_status (*)(ilana_conn *, ilana_prepared *, const ilana_statement *, ilana_result **, ilana_error *))
ILANA_PIN_FN(ilana_prepare_api, release, void (*)(ilana_conn *, ilana_prepared *))
ILANA_PIN_FN(ilana_async_api, connect_start,
             ilana_status (*)(const ilana_connect_params *, ilana_conn **, ilana_async_wait *, ilana_error *))
ILANA_PIN_FN(ilana_async_api, connect_continue, ilana_status (*)(ilana_conn *, ilana_async_wait *, ilana_error *))
ILANA_PIN_FN(ilana_async_api, submit,
             ilana_status (*)(ilana_conn *, ilana_prepared *, const ilana_statement *, ilana_error *))
ILANA_PIN_FN(ilana_async_api, poll, ilana_status (*)(ilana_conn *, ilana_result **, ilana_async_wait *, ilana_error *))
ILANA_PIN_FN(ilana_async_api, cancel, ilana_status (*)(ilana_conn *, ilana_error *))
#undef ILANA_PIN_FN

// ------------------------------------------------------------------ constants
static_assert(ILANA_ABI_MAJOR == 1u, "a new major version is a new ABI: keep v1 loadable or refuse it clearly");
static_assert(ILANA_DRIVER_MAGIC == 0x414E4C49u, "\"ILNA\" little-endian");
static_assert(ILANA_OK == 0 && ILANA_DONE == 1 && ILANA_ERROR == -1 && ILANA_UNSUPPORTED == -2);
static_assert(ILANA_ERR_NONE == 0 && ILANA_ERR_CONNECTION == 1 && ILANA_ERR_TRANSIENT == 2 && ILANA_ERR_TIMEOUT == 3 &&
              ILANA_ERR_AUTH == 4 && ILANA_ERR_SYNTAX == 5 && ILANA_ERR_CONSTRAINT == 6 &&
              ILANA_ERR_PERMISSION == 7 && ILANA_ERR_DATA == 8 && ILANA_ERR_CANCELED == 9 &&
              ILANA_ERR_INTERNAL == 10 && ILANA_ERR_CONFIG == 11);
static_assert(ILANA_ERRF_CONN_BROKEN == 0x1u && ILANA_ERRF_TXN_ABORTED == 0x2u && ILANA_ERRF_NOT_SENT == 0x4u);
static_assert(ILANA_ERROR_MESSAGE_CAPACITY == 1024);
static_assert(ILANA_LOG_TRACE == 0 && ILANA_LOG_DEBUG == 1 && ILANA_LOG_INFO == 2 && ILANA_LOG_WARN == 3 &&
              ILANA_LOG_ERROR == 4);
static_assert(ILANA_TYPE_NULL == 0 && ILANA_TYPE_BOOL == 1 && ILANA_TYPE_INT64 == 2 && ILANA_TYPE_UINT64 == 3 &&
              ILANA_TYPE_DOUBLE == 4 && ILANA_TYPE_TEXT == 5 && ILANA_TYPE_BLOB == 6 && ILANA_TYPE_DECIMAL == 7 &&
              ILANA_TYPE_DATE == 8 && ILANA_TYPE_TIME == 9 && ILANA_TYPE_TIMESTAMP == 10 &&
              ILANA_TYPE_TIMESTAMPTZ == 11 && ILANA_TYPE_UUID == 12 && ILANA_TYPE_JSON == 13 && ILANA_TYPE_ANY == 14);
static_assert(ILANA_EXEC_CACHE == 0x1u && ILANA_EXEC_READ_ONLY == 0x2u);
static_assert(ILANA_EXEC_WHOLE_RESULT == 0x4u); // ABI 1.1
static_assert(ILANA_CAP_TRANSACTIONS == 0x1u && ILANA_CAP_CANCEL == 0x2u && ILANA_CAP_LAST_INSERT_ID == 0x4u &&
              ILANA_CAP_STREAMING == 0x8u && ILANA_CAP_PREPARED_CACHE == 0x10u &&
              ILANA_CAP_TRANSACTIONAL_DDL == 0x20u && ILANA_CAP_NETWORK == 0x40u);
static_assert(ILANA_PLACEHOLDER_QUESTION == 0 && ILANA_PLACEHOLDER_DOLLAR == 1);
static_assert(ILANA_LIMIT_LIMIT_OFFSET == 0 && ILANA_LIMIT_OFFSET_FETCH == 1);
static_assert(ILANA_UPSERT_NONE == 0 && ILANA_UPSERT_ON_CONFLICT == 1 && ILANA_UPSERT_ON_DUPLICATE_KEY == 2);
static_assert(ILANA_THREADS_CONN_SERIALIZED == 0);
static_assert(ILANA_LOCK_IS_TRANSACTION == 0x1u);
static_assert(ILANA_NAMESPACE_SCHEMA == 1 && ILANA_NAMESPACE_DATABASE == 2 && ILANA_NAMESPACE_FILE == 3);
static_assert(ILANA_BATCH_PIPELINE == 1 && ILANA_BATCH_BULK == 2 && ILANA_BATCH_LOOP == 3);
static_assert(ILANA_PARAM_STRING == 1 && ILANA_PARAM_INT == 2 && ILANA_PARAM_NUMBER == 3 && ILANA_PARAM_BOOL == 4 &&
              ILANA_PARAM_ENUM == 5);
static_assert(ILANA_PARAMF_REQUIRED == 0x1u && ILANA_PARAMF_SECRET == 0x2u && ILANA_PARAMF_CASE_INSENSITIVE == 0x4u &&
              ILANA_PARAMF_MINIMUM == 0x8u && ILANA_PARAMF_MAXIMUM == 0x10u);
static_assert(ILANA_PARAMS_OPEN == 0x1u);
static_assert(ILANA_DDL_BEFORE_DATA == 1 && ILANA_DDL_AFTER_DATA == 2 && ILANA_DDL_DATA_STATE == 3); // 1.2
static_assert(ILANA_PENDING == 2 && ILANA_WAIT_READ == 0x1u && ILANA_WAIT_WRITE == 0x2u &&
              ILANA_ASYNC_PIPELINE == 0x1u); // 1.5

// AddressSanitizer pads global objects with a redzone that the ELF symbol
// size includes: there the entry must be at least, not exactly, v1's size.
#if defined(__SANITIZE_ADDRESS__)
#define ILANA_TEST_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define ILANA_TEST_ASAN 1
#endif
#endif
static bool entry_symbol_size_ok(uint64_t size) {
#ifdef ILANA_TEST_ASAN
    return size >= sizeof(ilana_driver_entry);
#else
    return size == sizeof(ilana_driver_entry);
#endif
}

namespace {
constexpr bool same(const char *a, const char *b) {
    while (*a != '\0' && *a == *b) ++a, ++b;
    return *a == *b;
}
} // namespace
static_assert(same(ILANA_DRIVER_ENTRY_SYMBOL, "ilana_entry"), "the entry symbol's name is frozen");
static_assert(same(ILANA_EXT_INTROSPECT, "ilana.introspect/1"));
static_assert(same(ILANA_EXT_LOCK, "ilana.lock/1"));
static_assert(same(ILANA_EXT_DDL, "ilana.ddl/1"));
static_assert(same(ILANA_EXT_SESSION, "ilana.session/1"));
static_assert(same(ILANA_EXT_CONN_DIALECT, "ilana.conn_dialect/1")); // 1.3
static_assert(same(ILANA_EXT_PREPARE, "ilana.prepare/1"));            // 1.4
static_assert(same(ILANA_EXT_ASYNC, "ilana.async/1"));                // 1.5
static_assert(same(ILANA_EXT_NAMESPACE, "ilana.namespace/1"));
static_assert(same(ILANA_EXT_BATCH, "ilana.batch/1"));
static_assert(same(ILANA_EXT_PARAMS, "ilana.params/1"));

// ------------------------------------------------------------------ run time

namespace {

// The entry symbol of a built plugin, as the host resolves it, and its ELF
// symbol record (type, size).
struct EntrySymbol {
    bool found = false;
    bool object = false;
    size_t size = 0;
    const ilana_driver_entry *entry = nullptr;
};

EntrySymbol entry_symbol(const std::string &path) {
    EntrySymbol out;
    void *h = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
    INFO("dlopen " << path << ": " << (h == nullptr ? dlerror() : "ok"));
    REQUIRE(h != nullptr);
    void *sym = dlsym(h, ILANA_DRIVER_ENTRY_SYMBOL);
    if (sym == nullptr) return out;
    out.found = true;
    out.entry = static_cast<const ilana_driver_entry *>(sym);
    Dl_info info;
    void *extra = nullptr;
    if (dladdr1(sym, &info, &extra, RTLD_DL_SYMENT) != 0 && extra != nullptr) {
        const auto *elf = static_cast<const ElfW(Sym) *>(extra);
        out.object = ELF64_ST_TYPE(elf->st_info) == STT_OBJECT;
        out.size = elf->st_size;
    }
    // Left loaded: a driver's client library may not like being unloaded.
    return out;
}

} // namespace

// ILANA_COVERS: the one "does struct_size include this field" test. Pinned
// as a constant expression at the edges that matter: a field ends exactly
// at the size (covered), one byte short (not), and the padding a v1.1 host's
// struct_size covered before 1.2 appended ilana_statement.timeout_ms.
static_assert(ILANA_COVERS(sizeof(ilana_result_info), ilana_result_info, columns_id));
static_assert(ILANA_COVERS(48u, ilana_result_info, columns_id));
static_assert(!ILANA_COVERS(47u, ilana_result_info, columns_id));
static_assert(!ILANA_COVERS(40u, ilana_result_info, columns_id)); // a v1.0 host's info
static_assert(ILANA_COVERS(40u, ilana_result_info, last_insert_id));
static_assert(!ILANA_COVERS(48u, ilana_statement, timeout_ms));    // v1.1 host: padding
static_assert(ILANA_COVERS(56u, ilana_statement, timeout_ms));
static_assert(!ILANA_COVERS(0u, ilana_error, error_class));

TEST_CASE("ILANA_COVERS reads a struct_size as every side must", "[abi]") {
    // Run time, with sizes from variables (as struct_size arrives): `size`
    // is evaluated once, and a field straddling the end is not covered.
    uint32_t reads = 0;
    auto size = [&](uint32_t n) {
        ++reads;
        return n;
    };
    CHECK(ILANA_COVERS(size(sizeof(ilana_statement)), ilana_statement, timeout_ms));
    CHECK(reads == 1);
    for (uint32_t n = 0; n <= sizeof(ilana_server_info); ++n) {
        INFO(n);
        CHECK(ILANA_COVERS(n, ilana_server_info, max_connections) ==
              (n >= offsetof(ilana_server_info, max_connections) + sizeof(int64_t)));
    }
    CHECK_FALSE(ILANA_COVERS(offsetof(ilana_batch, cells) + sizeof(void *) - 1, ilana_batch, cells));
}

TEST_CASE("every struct keeps its v1.0 layout (also pinned at compile time)", "[abi]") {
    // The static_asserts above are the real test; these lines make the
    // numbers visible in a report.
    CHECK(sizeof(ilana_value) == 24);
    CHECK(offsetof(ilana_value, v) == 8);
    CHECK(offsetof(ilana_error, condition) == 1048); // v1.0's record ends where 1.3 appends
    CHECK(sizeof(ilana_error) == 1116);
    CHECK(offsetof(ilana_driver_entry, get_extension) == 48);
    CHECK(offsetof(ilana_driver_api, server_info) == 96);
}

TEST_CASE("bundled plugins export ilana_entry as a v1 data object", "[abi]") {
    for (const char *name : {"ilana_sqlite.so", "ilana_postgres.so", "ilana_mysql.so"}) {
        const std::string path = std::string(ILANA_TEST_PLUGIN_DIR) + "/" + name;
        INFO(path);
        const EntrySymbol s = entry_symbol(path);
        REQUIRE(s.found);
        CHECK(s.object);                       // a const struct, not a function
        CHECK(entry_symbol_size_ok(s.size));
        CHECK(s.entry->magic == ILANA_DRIVER_MAGIC);
        CHECK(s.entry->abi_major == ILANA_ABI_MAJOR);
        CHECK(s.entry->struct_size >= offsetof(ilana_driver_entry, get_extension) + sizeof(void *));
    }
}

#ifdef ILANA_ABI_CSV_PLUGIN
TEST_CASE("an SDK-built driver exports ilana_entry as a v1 data object", "[abi]") {
    const EntrySymbol s = entry_symbol(ILANA_ABI_CSV_PLUGIN);
    REQUIRE(s.found);
    CHECK(s.object);
    CHECK(entry_symbol_size_ok(s.size));
    CHECK(s.entry->struct_size == sizeof(ilana_driver_entry));
    CHECK(s.entry->abi_major == ILANA_ABI_MAJOR);
    CHECK(s.entry->abi_minor == ILANA_ABI_MINOR);
}
#endif
