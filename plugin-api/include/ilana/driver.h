/*
 * ilana/driver.h — the ilana driver ABI, version 1.
 *
 * This header is the one contract between the ilana core (the host) and a
 * database driver (a shared object in plugins/). It is pure C99 and depends
 * on the C standard library only, so a driver may be written in C, in C++
 * with any compiler and standard library, or in any language with a C FFI.
 *
 * ---------------------------------------------------------------------------
 * How a driver is found and started
 * ---------------------------------------------------------------------------
 *   1. The host loads the shared object with RTLD_NOW from an absolute path.
 *   2. It resolves the one exported symbol ILANA_DRIVER_ENTRY_SYMBOL, a
 *      `const ilana_driver_entry`.
 *   3. It checks `magic`, `abi_major == ILANA_ABI_MAJOR` and that every
 *      struct's `struct_size` covers the v1.0 fields; it calls `init(host)`.
 *   4. It checks the descriptor's mandatory fields and the mandatory
 *      functions of `api`. On any failure it calls `deinit` (if `init`
 *      succeeded), unloads the library and records the reason.
 *
 * ---------------------------------------------------------------------------
 * Versioning (read before changing anything in this file)
 * ---------------------------------------------------------------------------
 *  - ILANA_ABI_MAJOR changes only for an incompatible change; the host
 *    refuses a driver of another major.
 *  - A minor version only APPENDS fields to the end of structs and values to
 *    enums. Every struct that crosses the boundary starts with
 *    `uint32_t struct_size`; each side reads only the fields the other's
 *    `struct_size` covers. A NULL function pointer means "unsupported".
 *  - Arrays of ilana_value and ilana_column are strided by an explicit
 *    `*_size` field in the struct that carries them (ilana_value is small and
 *    frequent, so it carries no struct_size of its own).
 *  - Layouts are pinned by tests/abi/abi_layout_test.cpp.
 *
 * ---------------------------------------------------------------------------
 * Thread rules (written on every function, CLAP style)
 * ---------------------------------------------------------------------------
 *  [any-thread]       may be called from any thread at any time.
 *  [thread-safe]      may be called concurrently with any other call,
 *                     including one running on the same connection.
 *  [exclusive]        the host guarantees no other call into the driver runs
 *                     at the same time (init / deinit).
 *  [conn-serialized]  the host guarantees one call at a time per connection
 *                     (and per result of that connection); a connection may
 *                     move between threads between calls.
 *
 * ---------------------------------------------------------------------------
 * Ownership
 * ---------------------------------------------------------------------------
 *  - Inputs are borrowed for the duration of the call only.
 *  - Outputs that point into driver memory are valid until the call named in
 *    the function's comment (usually the next fetch, or the destruction of
 *    the handle). The host copies what it keeps.
 *  - Handles (ilana_conn, ilana_result) are created and destroyed by the
 *    driver only, through the functions below.
 *  - Nothing is freed across the boundary except through its owner's own
 *    function (or the host allocator in ilana_host).
 *  - No exception, longjmp or signal ever crosses the boundary.
 *
 * ---------------------------------------------------------------------------
 * Errors
 * ---------------------------------------------------------------------------
 * Every fallible function returns an ilana_status and takes a host-provided
 * ilana_error. On ILANA_ERROR the driver fills the record; the host decides
 * retry and eviction from `error_class` and `flags` only, never from the
 * message text. Messages must never contain a password.
 */
#ifndef ILANA_DRIVER_H
#define ILANA_DRIVER_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ======================================================================== */
/* Versions and the entry symbol                                            */
/* ======================================================================== */

#define ILANA_ABI_MAJOR 1u
/* Minor versions (each only appends; see "Versioning" above):
 *   1.0  the first ABI.
 *   1.1  ilana_result_info.columns_id; ILANA_EXEC_WHOLE_RESULT.
 *   1.2  ilana_statement.timeout_ms (a statement timeout per execute);
 *        ilana_namespace_api.is_system; extensions "ilana.ddl/1" and
 *        "ilana.session/1" (session state reset between leases).
 *   1.3  ilana_error.condition and ilana_error.constraint_name; extension
 *        "ilana.conn_dialect/1" (a connection's own dialect, for drivers
 *        that reach more than one kind of server).
 *   1.4  extension "ilana.prepare/1" (prepared statements by handle).
 *   1.5  extension "ilana.async/1" (non-blocking connect and statements,
 *        pipelined where the protocol allows); status ILANA_PENDING. */
#define ILANA_ABI_MINOR 5u
/* "ILNA" read as a little-endian uint32. */
#define ILANA_DRIVER_MAGIC 0x414E4C49u
/* The one symbol a driver exports: `const ilana_driver_entry ilana_entry`. */
#define ILANA_DRIVER_ENTRY_SYMBOL "ilana_entry"

#if defined(_WIN32)
#define ILANA_DRIVER_EXPORT __declspec(dllexport)
#else
#define ILANA_DRIVER_EXPORT __attribute__((visibility("default")))
#endif

/* ======================================================================== */
/* Reading a struct the other side sized                                    */
/* ======================================================================== */

/* Nonzero when a struct of `size` bytes (the `struct_size` the other side
 * wrote) includes the whole of `field` of `type`: read or write the field
 * only then (see "Versioning" above). The one test every side uses, host
 * and drivers alike, so an appended field is read the same way everywhere:
 *
 *     if (ILANA_COVERS(out->struct_size, ilana_result_info, columns_id))
 *         out->columns_id = id;
 *
 * `size` is evaluated once; `type` and `field` only at compile time. A
 * macro, not a function: no ABI change, usable in C99 and constant
 * expressions. */
#ifdef __cplusplus /* the same test, without casts C++ warnings flag */
#define ILANA_COVERS(size, type, field) \
    (static_cast<size_t>(size) >= offsetof(type, field) + sizeof(static_cast<type *>(nullptr)->field))
#else
#define ILANA_COVERS(size, type, field) \
    ((size_t)(size) >= offsetof(type, field) + sizeof(((type *)0)->field))
#endif

/* ======================================================================== */
/* Status codes and error records                                           */
/* ======================================================================== */

typedef int32_t ilana_status;
#define ILANA_OK 0           /* success; for fetch: more rows may follow      */
#define ILANA_DONE 1         /* success; for fetch: this was the last batch   */
#define ILANA_ERROR (-1)     /* failure; the ilana_error record is filled     */
#define ILANA_UNSUPPORTED (-2) /* the driver does not do this (no error set)  */

/* Error classes: what kind of failure, from which the host decides. */
typedef int32_t ilana_error_class;
#define ILANA_ERR_NONE 0
#define ILANA_ERR_CONNECTION 1 /* cannot reach / lost the server            */
#define ILANA_ERR_TRANSIENT 2  /* try again may succeed: deadlock, busy,
                                  serialization failure, too many conns     */
#define ILANA_ERR_TIMEOUT 3    /* a timeout elapsed (connect, statement)     */
#define ILANA_ERR_AUTH 4       /* authentication failed                      */
#define ILANA_ERR_SYNTAX 5     /* bad SQL, unknown table or column           */
#define ILANA_ERR_CONSTRAINT 6 /* unique, foreign key, not null, check       */
#define ILANA_ERR_PERMISSION 7 /* authenticated but not allowed              */
#define ILANA_ERR_DATA 8       /* bad value: conversion, overflow, encoding  */
#define ILANA_ERR_CANCELED 9   /* canceled by ilana_driver_api.cancel        */
#define ILANA_ERR_INTERNAL 10  /* driver bug or API misuse                   */
#define ILANA_ERR_CONFIG 11    /* bad connection parameter (unknown sslmode) */

/* Error flags. */
/* The connection is unusable: the host must close it, never lend it again. */
#define ILANA_ERRF_CONN_BROKEN 0x1u
/* The current transaction is aborted; only ROLLBACK is possible. */
#define ILANA_ERRF_TXN_ABORTED 0x2u
/* The statement never reached the server: re-running it is always safe. */
#define ILANA_ERRF_NOT_SENT 0x4u

#define ILANA_ERROR_MESSAGE_CAPACITY 1024

/* What exactly was violated or conflicted (ilana_error.condition, ABI 1.3),
 * for a database whose SQLSTATE does not say: MySQL reports 23000 for every
 * integrity error and 40001 for a deadlock. The host types its exception
 * from it (a unique violation, a deadlock ...). ILANA_COND_NONE: the
 * SQLSTATE says (23505, 23503, 23502, 23514, 40001, 40P01) or nothing does. */
typedef int32_t ilana_error_condition;
#define ILANA_COND_NONE 0
#define ILANA_COND_UNIQUE 1        /* unique key or primary key        (23505) */
#define ILANA_COND_FOREIGN_KEY 2   /* foreign key, either side         (23503) */
#define ILANA_COND_NOT_NULL 3      /* NULL into a NOT NULL column      (23502) */
#define ILANA_COND_CHECK 4         /* CHECK constraint                 (23514) */
#define ILANA_COND_SERIALIZATION 5 /* transaction conflict, rolled back (40001) */
#define ILANA_COND_DEADLOCK 6      /* deadlock, transaction rolled back (40P01) */

#define ILANA_CONSTRAINT_NAME_CAPACITY 64

/* Filled by the driver on ILANA_ERROR. The host sets struct_size and
 * clears the header, sqlstate and the first byte of each string before
 * each call; a driver writes only the fields struct_size covers. The
 * message never contains the SQL: the host adds the statement's start
 * itself (Error::sql()), one way for every driver. */
typedef struct ilana_error {
    uint32_t struct_size;
    ilana_error_class error_class;
    uint32_t flags;               /* ILANA_ERRF_*                               */
    int32_t native_code;          /* e.g. MySQL errno, SQLite extended code     */
    char sqlstate[8];             /* five characters and NUL; "" if unknown     */
    /* UTF-8, NUL-terminated, truncated to fit. One line preferred. Never a
     * password or a bound parameter value. */
    char message[ILANA_ERROR_MESSAGE_CAPACITY];
    /* ABI 1.3 -------------------------------------------------------------- */
    ilana_error_condition condition; /* ILANA_COND_*; 0 when the SQLSTATE says */
    /* The constraint (or unique index) the server named, UTF-8, NUL-
     * terminated, truncated to fit; "" when it named none. A name, never a
     * value. */
    char constraint_name[ILANA_CONSTRAINT_NAME_CAPACITY];
} ilana_error;

/* ======================================================================== */
/* Host services, given to init                                             */
/* ======================================================================== */

typedef int32_t ilana_log_level;
#define ILANA_LOG_TRACE 0
#define ILANA_LOG_DEBUG 1
#define ILANA_LOG_INFO 2
#define ILANA_LOG_WARN 3
#define ILANA_LOG_ERROR 4

typedef struct ilana_host {
    uint32_t struct_size;
    uint32_t abi_major;  /* the host's ABI version */
    uint32_t abi_minor;
    const char *host_name;    /* "ilana", NUL-terminated, static */
    const char *host_version; /* e.g. "0.1.0", NUL-terminated, static */
    void *context;            /* passed back to every callback below */

    /* [thread-safe] Drivers never print; server notices and diagnostics go
     * here. `conn_context` is the host_context given to connect (NULL for
     * messages not tied to a connection). `message` is borrowed. */
    void (*log)(void *context, void *conn_context, ilana_log_level level,
                const char *message, size_t message_len);

    /* [thread-safe] The host allocator, for drivers that want it. Optional:
     * may be NULL. Memory from alloc is released with free only. */
    void *(*alloc)(void *context, size_t size);
    void (*free)(void *context, void *ptr);
} ilana_host;

/* ======================================================================== */
/* Values: parameters and result cells                                      */
/* ======================================================================== */

typedef int32_t ilana_type;
#define ILANA_TYPE_NULL 0      /* only as a parameter type: untyped NULL     */
#define ILANA_TYPE_BOOL 1      /* i64: 0 or 1                                */
#define ILANA_TYPE_INT64 2     /* i64                                        */
#define ILANA_TYPE_UINT64 3    /* u64 (MySQL BIGINT UNSIGNED)                */
#define ILANA_TYPE_DOUBLE 4    /* f64                                        */
#define ILANA_TYPE_TEXT 5      /* str: UTF-8                                 */
#define ILANA_TYPE_BLOB 6      /* str: raw bytes, may contain zero bytes     */
#define ILANA_TYPE_DECIMAL 7   /* str: exact decimal as text, "-12.3400"     */
#define ILANA_TYPE_DATE 8      /* i64: days since 1970-01-01                 */
#define ILANA_TYPE_TIME 9      /* i64: microseconds since midnight           */
#define ILANA_TYPE_TIMESTAMP 10 /* i64: microseconds since 1970-01-01 00:00,
                                   wall clock, no time zone                 */
#define ILANA_TYPE_TIMESTAMPTZ 11 /* i64: microseconds since the Unix epoch,
                                     an instant (UTC)                        */
#define ILANA_TYPE_UUID 12     /* str: canonical text, 36 characters         */
#define ILANA_TYPE_JSON 13     /* str: JSON text                             */
/* Column type only: cells of this column carry their own type per value
 * (SQLite's dynamic typing). */
#define ILANA_TYPE_ANY 14

/* One parameter or one result cell. Frozen for ABI v1 (16 + 16 bytes on
 * LP64); arrays of it are strided by the carrying struct's `value_size`. */
typedef struct ilana_value {
    ilana_type type;   /* ILANA_TYPE_*; never ILANA_TYPE_ANY in a cell       */
    int32_t is_null;   /* nonzero: SQL NULL, the union is unused             */
    union {
        int64_t i64;
        uint64_t u64;
        double f64;
        struct {
            const char *ptr; /* not NUL-terminated; may be NULL when len = 0 */
            uint64_t len;
        } str;
    } v;
} ilana_value;

/* ======================================================================== */
/* Opaque handles                                                           */
/* ======================================================================== */

typedef struct ilana_conn ilana_conn;     /* one database session            */
typedef struct ilana_result ilana_result; /* one executed statement's result */

/* ======================================================================== */
/* Connecting                                                               */
/* ======================================================================== */

/* One connection parameter: the flattened "connection" object of the config
 * ("host", "port", "ssl.rejectUnauthorized", ...). Both strings are UTF-8 and
 * NUL-terminated. Values are strings whatever their JSON type ("5432",
 * "true"). Durations: a key in snake_case ("connect_timeout") is in seconds,
 * as in libpq and the mysql client; a camelCase key of the JS seeds
 * ("connectTimeout") is in milliseconds, as in mysql2. A parameter named after
 * a server setting keeps that setting's unit (PostgreSQL statement_timeout:
 * milliseconds). The host also passes "ilana.config_dir" (the directory of the
 * config file, for resolving relative paths), "ilana.connection" (the
 * connection's name in the config, for messages) and "ilana.pool_id"
 * (digits naming the pool the session is for: the same for every session of
 * one pool, unique in the process; a driver whose database lives in the
 * process, as SQLite ":memory:", gives the sessions of one pool one database
 * and other pools others; older hosts do not pass it). A driver ignores keys it
 * does not know only when they start with "ilana."; any other unknown key is
 * an ILANA_ERR_CONFIG error naming the key, so typos are caught. */
typedef struct ilana_param {
    const char *key;
    const char *value;
} ilana_param;

typedef struct ilana_connect_params {
    uint32_t struct_size;
    const ilana_param *params;
    uint32_t param_count;
    /* Upper bound for establishing the session, in milliseconds; 0 = the
     * driver's default. A "connect_timeout" parameter, if given, wins. */
    int32_t timeout_ms;
    /* Stored by the driver and passed back in ilana_host.log. */
    void *host_context;
} ilana_connect_params;

/* ======================================================================== */
/* Executing                                                                */
/* ======================================================================== */

/* Statement flags (hints; a driver may ignore any). */
/* The host will run this SQL text again on this connection: a driver may
 * prepare it once and cache the prepared statement. */
#define ILANA_EXEC_CACHE 0x1u
/* The statement only reads (the host routes reads to replicas). */
#define ILANA_EXEC_READ_ONLY 0x2u
/* ABI 1.1. The host reads every row of this result right away, into memory
 * (Connection::query): a streaming driver may fetch the result whole in one
 * piece instead of row by row (libpq without single-row mode), which costs
 * less per statement. Without this flag the host may stream a large result
 * or close it early, so a driver keeps its memory bounded. A driver that
 * does not know the flag ignores it. */
#define ILANA_EXEC_WHOLE_RESULT 0x4u

typedef struct ilana_statement {
    uint32_t struct_size;
    /* SQL in the driver's placeholder style (descriptor.dialect). UTF-8,
     * `sql_len` bytes, not necessarily NUL-terminated. One statement. */
    const char *sql;
    uint64_t sql_len;
    /* Parameters in placeholder order; borrowed for the call. */
    const ilana_value *params;
    uint32_t param_count;
    uint32_t value_size; /* sizeof(ilana_value) as the host knows it */
    uint32_t flags;      /* ILANA_EXEC_* */
    /* ABI 1.2. The statement timeout in milliseconds; 0 = none. (At offset
     * 48: the 4 bytes after `flags` are padding that a v1.1 host's
     * struct_size covers, so a driver reads this field only when
     * struct_size >= offsetof(timeout_ms) + 8.) From execute until the
     * result's last row is fetched (or the result is closed) the statement
     * may run this long; then the server is asked to stop it and the call
     * that is waiting fails with ILANA_ERR_TIMEOUT, the message giving the
     * timeout; the session stays usable. A call must not block longer than
     * timeout_ms plus a grace of the driver's (the bundled drivers: 1 s)
     * even when the server does not answer at all (frozen, partitioned): the
     * driver then gives up on the session and fails with ILANA_ERR_TIMEOUT
     * and ILANA_ERRF_CONN_BROKEN. A negative value is ILANA_ERR_INTERNAL
     * (a host bug; nothing is sent). A v1.1 driver does not see the field:
     * the host refuses a timeout for it rather than ignore it. */
    int64_t timeout_ms;
} ilana_statement;

typedef struct ilana_column {
    uint32_t struct_size;
    const char *name;         /* UTF-8, NUL-terminated                       */
    /* Type of this column's cells, or ILANA_TYPE_ANY. A column the server
     * cannot type (SELECT NULL) is reported as ILANA_TYPE_TEXT. A NULL cell
     * has is_null set; its `type` is the column's type or ILANA_TYPE_NULL. */
    ilana_type type;
    const char *native_type;  /* the server's name: "int4", "VARCHAR"; NUL-terminated */
    int32_t nullable;         /* 1 yes, 0 no, -1 unknown                     */
} ilana_column;

/* What an executed statement produced. Pointers are driver memory valid until
 * the result is closed. */
typedef struct ilana_result_info {
    uint32_t struct_size;
    uint32_t column_count;    /* 0 for statements without a row set          */
    const ilana_column *columns;
    uint32_t column_size;     /* stride of `columns` (sizeof(ilana_column)) */
    /* -1 unknown / not applicable. For statements that return rows and
     * change data (INSERT ... RETURNING) the counts are final only once
     * fetch has returned ILANA_DONE: the host reads result_info again then. */
    int64_t affected_rows;
    /* Last generated id (MySQL AUTO_INCREMENT, SQLite rowid) when the
     * statement inserted; 0 when none or unknown. */
    int64_t last_insert_id;
    /* ABI 1.1. Names this result's column description on its connection.
     * When a later result of the same connection carries the same nonzero
     * id, its column_count and columns (name, type, native_type, nullable)
     * are exactly those of the earlier one, so the host may keep what it
     * built from them instead of reading `columns` again (a statement run
     * in a loop). The driver hands out a new id whenever a description may
     * differ and never reuses one on a connection; 0 promises nothing. The
     * host zeroes the field; a driver writes it only when struct_size
     * covers it (a v1.0 host's does not). */
    uint64_t columns_id;
} ilana_result_info;

/* One batch of rows, filled by fetch. The host sets struct_size and
 * max_rows (a hint: the driver may return fewer, never more). */
typedef struct ilana_batch {
    uint32_t struct_size;
    uint32_t max_rows;        /* >= 1; a driver treats 0 as "its default"     */
    uint32_t row_count;       /* rows in this batch, may be 0                */
    uint32_t column_count;
    uint32_t value_size;      /* stride of `cells` (sizeof(ilana_value))     */
    /* Row-major: cell (r, c) is at r * column_count + c. Cells and the bytes
     * their str members point to are valid until the next fetch or
     * result_close on this result. */
    const ilana_value *cells;
} ilana_batch;

/* ======================================================================== */
/* Server facts                                                             */
/* ======================================================================== */

typedef struct ilana_server_info {
    uint32_t struct_size;
    const char *product;       /* "PostgreSQL", "MariaDB", "SQLite"; NUL-terminated */
    const char *version;       /* "15.18", "10.11.6-MariaDB", "3.40.1"              */
    int64_t version_number;    /* 150018, 101106, 3040001; 0 unknown               */
    int64_t max_connections;   /* server's connection limit; -1 unknown/none       */
} ilana_server_info;

/* ======================================================================== */
/* Descriptor: who the driver is and the SQL dialect it speaks               */
/* ======================================================================== */

/* Capability flags. */
#define ILANA_CAP_TRANSACTIONS 0x1u   /* begin/commit/rollback work          */
#define ILANA_CAP_CANCEL 0x2u         /* cancel interrupts a running execute */
#define ILANA_CAP_LAST_INSERT_ID 0x4u /* result_info.last_insert_id is filled */
#define ILANA_CAP_STREAMING 0x8u      /* rows are streamed, not buffered whole */
#define ILANA_CAP_PREPARED_CACHE 0x10u /* honours ILANA_EXEC_CACHE            */
#define ILANA_CAP_TRANSACTIONAL_DDL 0x20u /* CREATE/ALTER roll back         */
#define ILANA_CAP_NETWORK 0x40u       /* talks to a server (vs an embedded file) */

/* Placeholder styles. */
#define ILANA_PLACEHOLDER_QUESTION 0 /* ?            (MySQL, SQLite)         */
#define ILANA_PLACEHOLDER_DOLLAR 1   /* $1, $2, ...  (PostgreSQL)            */

/* LIMIT forms. */
#define ILANA_LIMIT_LIMIT_OFFSET 0   /* LIMIT n OFFSET m                      */
#define ILANA_LIMIT_OFFSET_FETCH 1   /* OFFSET m ROWS FETCH NEXT n ROWS ONLY  */

/* Upsert forms. */
#define ILANA_UPSERT_NONE 0
#define ILANA_UPSERT_ON_CONFLICT 1       /* ON CONFLICT (k) DO UPDATE SET c = EXCLUDED.c */
#define ILANA_UPSERT_ON_DUPLICATE_KEY 2  /* ON DUPLICATE KEY UPDATE c = VALUES(c)         */

/* Thread models. */
/* A connection may be used from any thread, one call at a time. */
#define ILANA_THREADS_CONN_SERIALIZED 0

typedef struct ilana_dialect {
    uint32_t struct_size;
    int32_t placeholder;       /* ILANA_PLACEHOLDER_*                        */
    char identifier_quote;     /* '"' or '`'                                 */
    char reserved_[3];
    int32_t limit_form;        /* ILANA_LIMIT_*                              */
    int32_t upsert_form;       /* ILANA_UPSERT_*                             */
    int32_t supports_returning; /* INSERT ... RETURNING                      */
    uint32_t max_params;       /* bound parameters per statement             */
} ilana_dialect;

typedef struct ilana_driver_descriptor {
    uint32_t struct_size;
    /* Mandatory. Reverse-DNS-ish unique id: "org.ilana.postgres". */
    const char *id;
    const char *name;          /* mandatory: "PostgreSQL (libpq)"            */
    const char *version;       /* mandatory: the driver's version, "1.0.0"   */
    const char *description;   /* optional, may be NULL                      */
    /* Mandatory, non-empty, NULL-terminated array of lower-case client names
     * this driver serves: {"pg", "postgres", "postgresql", NULL}. */
    const char *const *clients;
    uint64_t capabilities;     /* ILANA_CAP_*                                */
    int32_t thread_model;      /* ILANA_THREADS_*                            */
    const ilana_dialect *dialect; /* mandatory                               */
} ilana_driver_descriptor;

/* ======================================================================== */
/* The function table                                                       */
/* ======================================================================== */

typedef struct ilana_driver_api {
    uint32_t struct_size;

    /* [any-thread] Opens a session. On ILANA_OK `*out` is a new connection
     * owned by the driver, to be released with `close`. On ILANA_ERROR
     * `*out` is NULL. Bad parameters are ILANA_ERR_CONFIG naming the key.
     * Honours params->timeout_ms (or the "connect_timeout" parameter). */
    ilana_status (*connect)(const ilana_connect_params *params, ilana_conn **out,
                            ilana_error *err);

    /* [conn-serialized] Closes the session and frees the handle; any open
     * result of it must have been closed first. Never fails; NULL is a
     * no-op. */
    void (*close)(ilana_conn *conn);

    /* [conn-serialized] Checks the session is alive with a round trip,
     * bounded by timeout_ms (0 = driver default). A server that accepts the
     * connection but never answers must not block past the timeout
     * (ILANA_ERR_TIMEOUT with ILANA_ERRF_CONN_BROKEN). */
    ilana_status (*ping)(ilana_conn *conn, int32_t timeout_ms, ilana_error *err);

    /* [conn-serialized] Runs one statement with bound parameters. On
     * ILANA_OK `*out` is a result handle (also for statements without rows)
     * to be closed with `result_close`. At most one result may be open per
     * connection: executing again before closing it is ILANA_ERR_INTERNAL. */
    ilana_status (*execute)(ilana_conn *conn, const ilana_statement *stmt,
                            ilana_result **out, ilana_error *err);

    /* [conn-serialized] Describes the result: columns, affected rows, last
     * insert id. Pointers live until result_close. Never fails. */
    void (*result_info)(ilana_result *result, ilana_result_info *out);

    /* [conn-serialized] Fills `batch` with up to batch->max_rows rows.
     * Returns ILANA_OK when more rows may follow, ILANA_DONE when this batch
     * is the last (it may hold rows, or none). Calling again after DONE
     * returns DONE with no rows. Cells live until the next fetch or
     * result_close. */
    ilana_status (*fetch)(ilana_result *result, ilana_batch *batch, ilana_error *err);

    /* [conn-serialized] Frees the result; unread rows are discarded (the
     * driver drains or cancels as its protocol needs). NULL is a no-op. */
    void (*result_close)(ilana_result *result);

    /* [conn-serialized] Transaction control. Nested transactions are the
     * host's business (it uses SAVEPOINT through execute). */
    ilana_status (*begin)(ilana_conn *conn, ilana_error *err);
    ilana_status (*commit)(ilana_conn *conn, ilana_error *err);
    ilana_status (*rollback)(ilana_conn *conn, ilana_error *err);

    /* [thread-safe] Asks the server to stop the statement now running on
     * `conn` (from execute or fetch in another thread); that call then fails
     * with ILANA_ERR_CANCELED (rows already buffered may still be delivered
     * first). Returns ILANA_OK also when nothing was running. Never called
     * concurrently with `close` of the same connection: the host keeps the
     * connection alive while a cancel may run. NULL when ILANA_CAP_CANCEL is
     * not set. */
    ilana_status (*cancel)(ilana_conn *conn, ilana_error *err);

    /* [conn-serialized] Server product, version and limits. Strings live
     * until close. */
    ilana_status (*server_info)(ilana_conn *conn, ilana_server_info *out,
                                ilana_error *err);
} ilana_driver_api;

/* ======================================================================== */
/* The entry                                                                */
/* ======================================================================== */

typedef struct ilana_driver_entry {
    uint32_t struct_size;
    uint32_t magic;       /* ILANA_DRIVER_MAGIC */
    uint32_t abi_major;   /* ILANA_ABI_MAJOR the driver was built against */
    uint32_t abi_minor;   /* ILANA_ABI_MINOR the driver was built against */

    /* [exclusive] Counted: the driver initialises its client library on the
     * first call (mysql_library_init belongs here) and returns ILANA_OK
     * again on later calls. `host` lives until the matching last deinit.
     * On failure fills `err`; the host then unloads without deinit. */
    ilana_status (*init)(const ilana_host *host, ilana_error *err);
    /* [exclusive] Counted: the last call releases what init acquired. */
    void (*deinit)(void);

    /* Valid between init and the last deinit. [any-thread] to read. */
    const ilana_driver_descriptor *descriptor;
    const ilana_driver_api *api;

    /* [any-thread] Optional capability tables by versioned id
     * ("ilana.introspect/1"); NULL when not provided. Third parties use
     * their own prefix ("com.example.bulk/1"). The pointer lives until the
     * last deinit. */
    const void *(*get_extension)(const char *id);
} ilana_driver_entry;

/* ======================================================================== */
/* Extension "ilana.introspect/1": tables, columns, indexes                 */
/* ======================================================================== */

#define ILANA_EXT_INTROSPECT "ilana.introspect/1"

/* Each function executes like `execute` and returns an open result whose
 * rows have exactly these columns (names and types fixed by this ABI):
 *
 *  tables:   schema TEXT, name TEXT, kind TEXT ("table" | "view")
 *  columns:  table_name TEXT, name TEXT, ordinal INT64 (1-based),
 *            data_type TEXT (the server's spelling, lower-case),
 *            nullable BOOL, default_value TEXT (NULL when none),
 *            primary_key BOOL
 *  indexes:  table_name TEXT, name TEXT, columns TEXT (comma-separated in
 *            index order), is_unique BOOL, is_primary BOOL
 *
 * `schema` (UTF-8, NUL-terminated) may be NULL for the connection's current
 * schema / database; `table` may be NULL for all tables. Rows are ordered by
 * table, then ordinal (columns) or name (tables, indexes). */
typedef struct ilana_introspect_api {
    uint32_t struct_size;
    ilana_status (*tables)(ilana_conn *conn, const char *schema,
                           ilana_result **out, ilana_error *err);
    ilana_status (*columns)(ilana_conn *conn, const char *schema, const char *table,
                            ilana_result **out, ilana_error *err);
    ilana_status (*indexes)(ilana_conn *conn, const char *schema, const char *table,
                            ilana_result **out, ilana_error *err);
} ilana_introspect_api;

/* ======================================================================== */
/* Extension "ilana.lock/1": a named lock for migrations                    */
/* ======================================================================== */

#define ILANA_EXT_LOCK "ilana.lock/1"

/* The lock is a transaction: acquire begins one (SQLite: BEGIN IMMEDIATE)
 * and the host does its work inside it; release commits. */
#define ILANA_LOCK_IS_TRANSACTION 0x1u

typedef struct ilana_lock_api {
    uint32_t struct_size;
    uint32_t flags; /* ILANA_LOCK_* */
    /* [conn-serialized] Takes the named lock (session-scoped: PostgreSQL
     * advisory lock, MySQL GET_LOCK), waiting at most timeout_ms; on timeout
     * ILANA_ERROR with ILANA_ERR_TIMEOUT. `name` is UTF-8, NUL-terminated. */
    ilana_status (*acquire)(ilana_conn *conn, const char *name, int32_t timeout_ms,
                            ilana_error *err);
    /* [conn-serialized] Releases a lock this connection holds. */
    ilana_status (*release)(ilana_conn *conn, const char *name, ilana_error *err);
} ilana_lock_api;

/* ======================================================================== */
/* Extension "ilana.namespace/1": tenant isolation                          */
/* ======================================================================== */

#define ILANA_EXT_NAMESPACE "ilana.namespace/1"

/* Isolation kinds. */
#define ILANA_NAMESPACE_SCHEMA 1   /* PostgreSQL schema (search_path)       */
#define ILANA_NAMESPACE_DATABASE 2 /* MySQL/MariaDB database                */
#define ILANA_NAMESPACE_FILE 3     /* SQLite file                           */

typedef struct ilana_namespace_api {
    uint32_t struct_size;
    int32_t isolation;         /* ILANA_NAMESPACE_*                          */
    /* The connection parameter that selects the namespace of a session
     * ("search_path", "database", "filename"); the host fills the tenant's
     * namespace into it to open a tenant's pool. NUL-terminated, static. */
    const char *param_key;
    /* [conn-serialized] Create / drop / test a namespace through a template
     * connection. `name` is UTF-8, NUL-terminated, already validated by the
     * host (letters, digits, '_', '-'); the driver quotes it. For
     * ILANA_NAMESPACE_FILE `name` is the file path and `conn` may be NULL.
     * create on an existing
     * namespace succeeds; drop of a missing one succeeds. */
    ilana_status (*create)(ilana_conn *conn, const char *name, ilana_error *err);
    ilana_status (*drop)(ilana_conn *conn, const char *name, ilana_error *err);
    /* Returns a result with one column `name TEXT` listing the namespaces
     * that start with `prefix` (NULL or "" for all), ordered by name. */
    ilana_status (*list)(ilana_conn *conn, const char *prefix, ilana_result **out,
                         ilana_error *err);
    /* 1.2. [any-thread] Nonzero when `name` (UTF-8, NUL-terminated) is one
     * of the database's own namespaces (PostgreSQL: pg_catalog, pg_toast,
     * pg_temp_N, information_schema, public; MariaDB: mysql,
     * information_schema, performance_schema, sys): the host never lists,
     * creates, migrates, seeds, clones or drops it as a tenant, whatever
     * the tenant prefix. Pure: no I/O. NULL (or a struct_size that does not
     * cover it): the driver has none. A driver's drop also refuses these
     * names (ILANA_ERR_CONFIG), for hosts that do not ask. */
    int32_t (*is_system)(const char *name);
} ilana_namespace_api;

/* ======================================================================== */
/* Extension "ilana.batch/1": one statement, many parameter rows            */
/* ======================================================================== */

#define ILANA_EXT_BATCH "ilana.batch/1"

/* How the driver sends the rows (ilana_batch_api.method), for diagnostics
 * and documentation only: the host's behaviour does not depend on it. */
#define ILANA_BATCH_PIPELINE 1  /* every row sent before the first answer is
                                   read (libpq pipeline mode)                */
#define ILANA_BATCH_BULK 2      /* rows travel in one command (MariaDB array
                                   binding / COM_STMT_BULK_EXECUTE)         */
#define ILANA_BATCH_LOOP 3      /* one prepared statement run per row inside
                                   one transaction (an embedded database)   */

/* One SQL statement with `row_count` rows of parameters. */
typedef struct ilana_batch_statement {
    uint32_t struct_size;
    /* SQL in the driver's placeholder style, as for execute. One statement;
     * rows it returns (INSERT ... RETURNING) are read and discarded. */
    const char *sql;
    uint64_t sql_len;
    /* Row-major: parameter p of row r is at
     * (r * param_count + p) * value_size bytes from `params`. Borrowed for
     * the call. Every row has `param_count` values. */
    const ilana_value *params;
    uint32_t param_count;
    uint32_t value_size; /* sizeof(ilana_value) as the host knows it */
    uint64_t row_count;  /* 0 is allowed: nothing runs, affected_rows 0 */
    uint32_t flags;      /* ILANA_EXEC_*, as for execute */
} ilana_batch_statement;

/* What a batch did. The host sets struct_size; the driver fills the fields
 * covered, also on ILANA_ERROR. */
typedef struct ilana_batch_outcome {
    uint32_t struct_size;
    uint32_t reserved_;
    /* Sum of the rows' affected counts; -1 when unknown. 0 on ILANA_ERROR
     * (nothing was applied, see execute_many). */
    int64_t affected_rows;
    /* On ILANA_ERROR: the 0-based parameter row that failed, or -1 when the
     * failure is not tied to one row (connection lost, prepare failed). */
    int64_t failed_row;
} ilana_batch_outcome;

typedef struct ilana_batch_api {
    uint32_t struct_size;
    int32_t method;        /* ILANA_BATCH_* */
    /* [conn-serialized] Runs `stmt` once per parameter row, sending rows
     * without waiting for each answer where the protocol allows.
     *
     * All or nothing: outside a transaction the rows run in one (the
     * driver's own, or the protocol's implicit one) and a failure applies
     * none of them. Inside the host's transaction a failure is what a
     * failed statement is there: on PostgreSQL the transaction is aborted
     * (ILANA_ERRF_TXN_ABORTED); elsewhere the batch's rows are undone and
     * the transaction goes on.
     *
     * No result may be open on `conn`, and none is left open. Errors are
     * classified as for execute; the message names the failing row (never
     * its values). A CONN_BROKEN failure means the outcome is unknown. */
    ilana_status (*execute_many)(ilana_conn *conn, const ilana_batch_statement *stmt,
                                 ilana_batch_outcome *out, ilana_error *err);
} ilana_batch_api;

/* ======================================================================== */
/* Extension "ilana.params/1": the connection parameters a driver accepts   */
/* ======================================================================== */

#define ILANA_EXT_PARAMS "ilana.params/1"

/* A driver that provides this table declares every connection parameter it
 * reads. The host then checks a connection's parameters before any connect
 * (at load, with the JSON path of the offending value in the message),
 * lists them (`ilana drivers --json`) and puts them in the config's JSON
 * schema for editors. The driver still reads its parameters from
 * ilana_connect_params as before and keeps checking what the table cannot
 * say (contradictions, files that must exist); the table only moves the
 * checks that it can say to load time. Without the extension the host
 * checks nothing and the driver alone reports bad parameters at connect.
 *
 * What the host accepts for each type (JSON value in the config):
 *   STRING  a string.
 *   INT     an integer, or a string holding one (a "${VAR}" reference
 *           yields a string), within [minimum, maximum] when flagged.
 *   NUMBER  a number, or a string holding one, within the bounds.
 *   BOOL    true or false; also the strings true/false/yes/no/on/off/1/0
 *           and the numbers 1 and 0 (what drivers have always accepted).
 *   ENUM    a string from `allowed` (ASCII case ignored when flagged).
 * The driver receives every value as text, as before ("5432", "true").
 * Keys starting with "ilana." are the host's own and are never declared. */
typedef int32_t ilana_param_type;
#define ILANA_PARAM_STRING 1
#define ILANA_PARAM_INT 2
#define ILANA_PARAM_NUMBER 3
#define ILANA_PARAM_BOOL 4
#define ILANA_PARAM_ENUM 5

/* Parameter flags. */
/* The connection is refused at load when the parameter is missing. */
#define ILANA_PARAMF_REQUIRED 0x1u
/* The value is a secret: the host never prints it (messages, logs, CLI
 * output show "***"), whatever the key is called. */
#define ILANA_PARAMF_SECRET 0x2u
/* ENUM: `allowed` is compared ignoring ASCII case. */
#define ILANA_PARAMF_CASE_INSENSITIVE 0x4u
/* INT / NUMBER: `minimum` applies (inclusive). */
#define ILANA_PARAMF_MINIMUM 0x8u
/* INT / NUMBER: `maximum` applies (inclusive). */
#define ILANA_PARAMF_MAXIMUM 0x10u

/* One declared parameter. Every pointer is static (lives until the last
 * deinit), UTF-8 and NUL-terminated. */
typedef struct ilana_param_decl {
    uint32_t struct_size;
    ilana_param_type type;      /* ILANA_PARAM_*                              */
    uint32_t flags;             /* ILANA_PARAMF_*                             */
    uint32_t reserved_;         /* zero                                       */
    /* The flattened key, as the driver receives it: nested objects joined
     * with '.' ("ssl.rejectUnauthorized"). Unique in the table. */
    const char *key;
    /* One line for people: what it does, its unit ("seconds"). Mandatory. */
    const char *description;
    /* The value used when the key is absent, as text ("5432"); NULL when
     * there is none or it is computed. For documentation only. */
    const char *default_value;
    /* ENUM: the allowed values, a NULL-terminated array with at least one
     * entry. NULL for other types. */
    const char *const *allowed;
    double minimum;             /* with ILANA_PARAMF_MINIMUM                  */
    double maximum;             /* with ILANA_PARAMF_MAXIMUM                  */
} ilana_param_decl;

/* Table flags. */
/* The table lists some of the driver's keys only: the host checks the
 * declared ones and leaves unknown keys to the driver (which still refuses
 * the ones it does not know at connect). Without this flag the table is
 * complete and an undeclared key is refused at load. */
#define ILANA_PARAMS_OPEN 0x1u

typedef struct ilana_params_api {
    uint32_t struct_size;
    uint32_t flags;             /* ILANA_PARAMS_*                             */
    /* The declarations, strided by `decl_size` (sizeof(ilana_param_decl) as
     * the driver knows it). Static: lives until the last deinit. */
    const ilana_param_decl *params;
    uint32_t param_count;
    uint32_t decl_size;
} ilana_params_api;

/* ======================================================================== */
/* Extension "ilana.ddl/1": the statements that recreate a namespace (1.2)  */
/* ======================================================================== */

#define ILANA_EXT_DDL "ilana.ddl/1"

/* When the host runs a statement (ilana_ddl_api.clone_namespace, column
 * `step`), relative to copying the rows of the tables. */
#define ILANA_DDL_BEFORE_DATA 1 /* sequences, then tables: columns, types,
                                   defaults, NOT NULL, identity            */
#define ILANA_DDL_AFTER_DATA 2  /* what is cheaper or only correct once the
                                   rows are in: keys, unique and check
                                   constraints, indexes, foreign keys,
                                   sequence ownership, views (in dependency
                                   order), triggers                         */
#define ILANA_DDL_DATA_STATE 3  /* the source's counters (sequence values,
                                   AUTO_INCREMENT): run only when the rows
                                   of `table_name` were copied (when it is
                                   NULL, only when all rows were), so a
                                   schema-only clone starts its ids afresh  */

typedef struct ilana_ddl_api {
    uint32_t struct_size;
    /* [conn-serialized] The statements that recreate every object of
     * namespace `source` (tables, sequences and identity columns, keys,
     * unique and check constraints, indexes, defaults, foreign keys, views)
     * in namespace `target`, which exists and is empty. `conn` is a
     * connection of the driver (for ILANA_NAMESPACE_FILE: to the source
     * file, whose path is `source`); the driver leaves its session settings
     * as it found them. Names are ILANA_NAMESPACE_* names, UTF-8,
     * NUL-terminated. On ILANA_OK `*out` is a result of `conn`, read and
     * closed (result_close) as one from `execute`; on ILANA_ERROR `*out` is
     * NULL. Its rows have exactly these columns, in the order the host runs
     * them:
     *
     *   step INT64       ILANA_DDL_BEFORE_DATA | _AFTER_DATA | _DATA_STATE
     *   kind TEXT        what the statement makes: "sequence", "table",
     *                    "constraint", "index", "foreign_key", "view",
     *                    "trigger", "sequence_value", ... ("table" rows of
     *                    step 1 name the tables whose rows the host copies,
     *                    in that order: referenced tables first where
     *                    foreign keys are created with the table)
     *   name TEXT        the object's name
     *   table_name TEXT  the table it belongs to; NULL when none
     *   sql TEXT         one statement
     *
     * The host runs them on a connection whose current namespace is
     * `target` (a tenant pool), as written (no placeholders). Objects of
     * `source` are named unqualified or qualified by `target`, never by
     * `source`; objects of other namespaces keep their qualification.
     * What the driver cannot recreate is ILANA_ERR_CONFIG naming the
     * object, never a silent omission. */
    ilana_status (*clone_namespace)(ilana_conn *conn, const char *source, const char *target,
                                    ilana_result **out, ilana_error *err);
} ilana_ddl_api;

/* ======================================================================== */
/* Extension "ilana.session/1": session state reset between leases (1.2)    */
/* ======================================================================== */

#define ILANA_EXT_SESSION "ilana.session/1"

/* The host lends one connection to one user after another (a pool). State a
 * user's statements leave in the server session (settings, the role, temp
 * tables, user variables, the user's own prepared statements, session
 * locks, an open transaction) would be seen by the next user. The driver,
 * which knows its protocol and SQL, notices when a statement may have
 * changed such state; the host asks on each release of a connection to the
 * pool and resets a dirty one before anyone else gets it.
 *
 * What counts as session state, and what a reset restores, is the driver's
 * to document (its README); the driver's own setup at connect (time zone,
 * date style, ...) is part of the fresh state and is restored too. */
typedef struct ilana_session_api {
    uint32_t struct_size;
    uint32_t reserved_;
    /* [conn-serialized] Nonzero when the session may hold state that a
     * fresh connection would not have: something run through this
     * connection since connect or the last reset may have changed it, or a
     * transaction is open. Conservative: when unsure, nonzero. No I/O: the
     * host calls this on every release, the hot path of a pool, so it must
     * cost no more than reading a flag. Never fails. */
    int32_t (*is_dirty)(ilana_conn *conn);
    /* [conn-serialized] Returns the session to the state connect left it in
     * (rolling back an open transaction first), so is_dirty is 0 after
     * ILANA_OK. The driver's own caches stay valid: what the reset destroys
     * on the server (prepared statements) the driver forgets or rebuilds.
     * Never called with a result open. On ILANA_ERROR the host discards the
     * connection (it never lends a session whose reset failed). */
    ilana_status (*reset)(ilana_conn *conn, ilana_error *err);
} ilana_session_api;

/* ======================================================================== */
/* Extension "ilana.conn_dialect/1": the dialect of the server a connection */
/* reaches (1.3)                                                            */
/* ======================================================================== */

#define ILANA_EXT_CONN_DIALECT "ilana.conn_dialect/1"

/* The descriptor's dialect is the driver's, which is right for a driver
 * that speaks to one kind of database. A bridge (ODBC-style, a proxy, a
 * driver for a family of servers) learns which database it talks to only
 * when it connects, and the SQL it passes on is that server's. Such a
 * driver provides this extension. The host asks each connection once, right
 * after connect, and from then on writes every piece of SQL it composes for
 * that connection in the dialect returned: the placeholders of execute and
 * execute_many, quoted identifiers, LIMIT, upsert and RETURNING forms and
 * parameters per statement (the query builder, the migrations table, tenant
 * copies).
 *
 * Without the extension, or when dialect_of returns NULL for a connection,
 * the descriptor's dialect holds. The descriptor keeps its mandatory
 * dialect: hosts before 1.3 use it, and it describes the driver where no
 * connection is at hand (`ilana drivers`); a bridge gives its most common
 * server's. Capabilities (ILANA_CAP_*, transactional DDL among them) stay
 * the descriptor's.
 *
 * An extension rather than a field of ilana_driver_api: a driver that speaks
 * one database has nothing to say here, and a NULL table costs the host
 * nothing per connection. */
typedef struct ilana_conn_dialect_api {
    uint32_t struct_size;
    uint32_t reserved_;
    /* [conn-serialized] The dialect of the server `conn` reaches, or NULL
     * for the descriptor's. No I/O: the driver learns what it needs while
     * connecting. The struct and the pointer stay valid and unchanged until
     * `close` of `conn`; the host copies what it keeps. Its struct_size
     * covers at least the v1.0 fields (through max_params) and placeholder
     * is an ILANA_PLACEHOLDER_*, or the host refuses the connection (closes
     * it and reports the driver bug, ILANA_ERR_INTERNAL), as it refuses
     * such a descriptor. Never fails. */
    const ilana_dialect *(*dialect_of)(ilana_conn *conn);
} ilana_conn_dialect_api;

/* ======================================================================== */
/* Extension "ilana.prepare/1": prepared statements by handle (1.4)         */
/* ======================================================================== */

#define ILANA_EXT_PREPARE "ilana.prepare/1"

/* A statement the driver prepared on one connection. Opaque to the host. */
typedef struct ilana_prepared ilana_prepared;

/* ILANA_EXEC_CACHE lets a driver keep statements it prepared, found again
 * by their SQL text: a lookup by text on every execute. An application that
 * runs one statement in a hot loop (a point select on an embedded database
 * costs a few microseconds) prepares it once and names it by handle
 * instead; the host keeps one handle per statement per connection and
 * prepares lazily on each connection the statement runs on.
 *
 * A handle belongs to its connection: valid until release or close of that
 * connection (close frees every handle not released), and across a session
 * reset ("ilana.session/1"): what a reset destroys on the server, the driver
 * prepares again without the host noticing. After a failed execute_prepared
 * the handle stays valid (the host may still release it, to prepare again:
 * the rule it follows after a schema change made the statement fail). */
typedef struct ilana_prepare_api {
    uint32_t struct_size;
    uint32_t reserved_;
    /* [conn-serialized] Prepares `sql` (the driver's placeholder style, one
     * statement, `sql_len` bytes, not necessarily NUL-terminated) on `conn`.
     * Runs nothing. On ILANA_OK, *out is the handle and *param_count the
     * number of parameters the statement takes. Errors are classified as
     * for execute (a syntax error, an unknown table: the server's class),
     * with ILANA_ERRF_NOT_SENT. No result may be open on `conn`. */
    ilana_status (*prepare)(ilana_conn *conn, const char *sql, uint64_t sql_len, ilana_prepared **out,
                            uint32_t *param_count, ilana_error *err);
    /* [conn-serialized] Runs a statement prepared on `conn`. `args` is read
     * as for execute (params, param_count, value_size, flags, timeout_ms);
     * its sql/sql_len repeat the text prepared (for messages; may be
     * ignored). param_count must equal the prepared one (ILANA_ERR_INTERNAL
     * with ILANA_ERRF_NOT_SENT otherwise: a host bug). The result is an
     * execute's: one open result per connection, closed with result_close.
     * A schema change the database does not absorb fails with the
     * database's own error. */
    ilana_status (*execute_prepared)(ilana_conn *conn, ilana_prepared *stmt, const ilana_statement *args,
                                     ilana_result **out, ilana_error *err);
    /* [conn-serialized] Frees `stmt` (a server-side deallocation may wait
     * for the connection's next call). Never fails; never called while a
     * result of `stmt` is open. */
    void (*release)(ilana_conn *conn, ilana_prepared *stmt);
} ilana_prepare_api;

/* ======================================================================== */
/* Extension "ilana.async/1": non-blocking connect and statements (1.5)     */
/* ======================================================================== */

#define ILANA_EXT_ASYNC "ilana.async/1"

/* Returned only by the functions of ilana_async_api: the step has not
 * finished. The driver filled the ilana_async_wait: the host waits for
 * those events on that socket (its own event loop: epoll, Asio, poll(2))
 * or for the timeout, then calls the step's continuation. */
#define ILANA_PENDING 2

/* ilana_async_wait.events */
#define ILANA_WAIT_READ 0x1u  /* the socket has bytes to read (or is closed) */
#define ILANA_WAIT_WRITE 0x2u /* the socket takes bytes to write            */

/* What an async step waits for. The host sets struct_size; the driver
 * fills the rest on every ILANA_PENDING (and only then). */
typedef struct ilana_async_wait {
    uint32_t struct_size;
    uint32_t events;    /* ILANA_WAIT_*, one or both; never 0 with fd >= 0 */
    /* The socket: a POSIX file descriptor (a Windows SOCKET). It may change
     * from one step of a connect to the next (libpq tries the hosts of a
     * list in turn): the host waits on the fd of the latest answer. It is
     * the driver's; the host never reads, writes or closes it. */
    int64_t fd;
    /* -1: no deadline of the driver's. >= 0: call the continuation after at
     * most this many milliseconds even when the socket is not ready (the
     * driver then fails the step with ILANA_ERR_TIMEOUT, a connect timeout,
     * or goes on). */
    int64_t timeout_ms;
} ilana_async_wait;

/* ilana_async_api.flags */
/* Statements submitted together travel to the server before the first
 * answer is read, on one connection (PostgreSQL pipeline mode). Without it
 * the driver sends the next statement when the previous one completed:
 * many statements on one connection are still correct but take a round
 * trip each, so a host spreads them over connections instead. */
#define ILANA_ASYNC_PIPELINE 0x1u

/* Why host-driven: a host running thousands of statements on a few
 * threads owns the event loop; the driver never blocks, never starts a
 * thread and never waits itself. Each step does the I/O the socket allows
 * now and says what it waits for next.
 *
 * Connecting. connect_start, then connect_continue each time the socket is
 * ready, until ILANA_OK. The connection that results is an ordinary one:
 * every function of ilana_driver_api and of the other extensions works on
 * it, blocking, whenever no async statement is in flight (see below).
 *
 * Statements. `submit` queues one statement (and sends what the socket
 * takes now); `poll` pumps: it sends what is queued, reads what arrived
 * and completes statements strictly in submission order, one per call:
 *
 *   ILANA_OK       the oldest statement succeeded: *out is its result, an
 *                  ordinary result (result_info, fetch, result_close) whose
 *                  rows are all in memory already: fetch never does I/O.
 *                  The host closes it before the next poll (one open
 *                  result per connection, as for execute).
 *   ILANA_ERROR    the oldest statement failed: `err` is its error,
 *                  classified as execute's. It is complete.
 *   ILANA_PENDING  none complete yet: wait as `wait` says, poll again.
 *   ILANA_DONE     nothing is in flight (*out is NULL).
 *
 * So the host counts: after n submits, n polls return OK or ERROR (among
 * PENDINGs), then poll returns DONE. It calls poll right after submitting
 * (bytes may still be queued in the driver) without waiting first.
 *
 * Statements in flight are independent, exactly as if they had been run
 * one by one with execute in the same order: a failed statement fails
 * alone and the ones after it run (each its own implicit transaction, as
 * in autocommit). Inside a transaction block (BEGIN submitted earlier),
 * the server's rule applies as it does one by one: after a failure
 * PostgreSQL refuses what follows until ROLLBACK (each fails with
 * ILANA_ERRF_TXN_ABORTED), MariaDB goes on.
 *
 * A CONN_BROKEN error ends the connection: the statement it completes and
 * every one still in flight fail, one per poll, with ILANA_ERR_CONNECTION
 * (or TIMEOUT) and ILANA_ERRF_CONN_BROKEN (whether they ran is unknown);
 * then poll returns DONE and the host closes the connection. Every other
 * error leaves the connection usable.
 *
 * While a statement is in flight (submitted and not yet completed by
 * poll), no function of ilana_driver_api or of another extension may be
 * called on the connection except `close` (which abandons what is in
 * flight), `cancel` and this table's functions: a driver refuses them with
 * ILANA_ERR_INTERNAL and ILANA_ERRF_NOT_SENT.
 *
 * Timeouts are the host's: it runs a timer beside the socket and, when a
 * statement outlives its timeout, calls `cancel`. `submit` refuses a
 * statement with timeout_ms > 0 (ILANA_ERR_INTERNAL, ILANA_ERRF_NOT_SENT)
 * rather than ignore it.
 *
 * Results are whole: a statement completes when all its rows have arrived
 * (read in the poll steps, with the socket ready), so a host streaming a
 * huge result uses execute and fetch on a worker thread instead. */
typedef struct ilana_async_api {
    uint32_t struct_size;
    uint32_t flags;     /* ILANA_ASYNC_* */
    /* [any-thread] Starts opening a session without blocking. Parameters
     * and their errors are connect's (ILANA_ERR_CONFIG naming the key),
     * checked here before any I/O; timeout_ms (or "connect_timeout")
     * bounds the whole connect: the driver reports what is left of it in
     * wait->timeout_ms, and a continuation after it fails with
     * ILANA_ERR_TIMEOUT. `params` is borrowed for this call only.
     * ILANA_PENDING: *out is the connection being opened (wait filled).
     * ILANA_OK: *out is connected. ILANA_ERROR: *out is NULL. */
    ilana_status (*connect_start)(const ilana_connect_params *params, ilana_conn **out,
                                  ilana_async_wait *wait, ilana_error *err);
    /* [conn-serialized] Goes on with a connect that returned
     * ILANA_PENDING, once the socket is ready or the timeout passed.
     * ILANA_PENDING: wait again (wait filled). ILANA_OK: connected.
     * ILANA_ERROR: the connect failed (classified as connect's); the host
     * closes `conn`, the only call it may still make on it. */
    ilana_status (*connect_continue)(ilana_conn *conn, ilana_async_wait *wait, ilana_error *err);
    /* [conn-serialized] Queues one statement on a connected `conn`: `args`
     * as for execute (sql in the driver's placeholder style, params,
     * flags; timeout_ms must be 0, see above), or, when `prepared` is not
     * NULL, a handle of `conn` from "ilana.prepare/1" run with `args` as
     * execute_prepared reads them. Everything is copied: the host may free
     * `args` and its values when submit returns. ILANA_OK: queued, it
     * completes through poll. ILANA_ERROR: not queued (a bad argument, a
     * broken connection), with ILANA_ERRF_NOT_SENT; nothing else changed.
     * Never blocks. May be called while earlier statements are in flight
     * and while a result from poll is open. A handle stays unreleased
     * while a statement of it is in flight. */
    ilana_status (*submit)(ilana_conn *conn, ilana_prepared *prepared, const ilana_statement *args,
                           ilana_error *err);
    /* [conn-serialized] The pump described above: ILANA_OK (*out set),
     * ILANA_ERROR (the oldest statement failed), ILANA_PENDING (`wait`
     * filled), ILANA_DONE (nothing in flight). *out is NULL unless
     * ILANA_OK. Called with a result of `conn` still open, it fails with
     * ILANA_ERR_INTERNAL and ILANA_ERRF_NOT_SENT and completes nothing. */
    ilana_status (*poll)(ilana_conn *conn, ilana_result **out, ilana_async_wait *wait, ilana_error *err);
    /* [thread-safe] Asks the server to stop the statement it is running
     * for `conn` now; that statement then completes through poll with
     * ILANA_ERR_CANCELED, the connection stays usable and the statements
     * after it run. A statement that finished before the request arrived
     * is not undone (it completes with its result), and one the server
     * has not started is not touched: to drop several, cancel again as
     * each one runs. ILANA_OK also when nothing was in flight. May block
     * for one round trip to the server on a connection of its own (the
     * protocols' cancel requests); never called concurrently with `close`
     * of the same connection. NULL when the driver cannot cancel
     * (ILANA_CAP_CANCEL not set). */
    ilana_status (*cancel)(ilana_conn *conn, ilana_error *err);
} ilana_async_api;

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* ILANA_DRIVER_H */
