/* A minimal driver in plain C99, compiled once per registry test case with
 * one FIXTURE_* define that breaks exactly one rule of the ABI. Without any
 * define it is a valid (if useless) driver serving the client "fixture".
 * FIXTURE_SLOW_CLOSE=MS breaks no rule: it connects, and its close takes MS
 * milliseconds (a session to a frozen server). */
#ifdef FIXTURE_SLOW_CLOSE
#define _POSIX_C_SOURCE 200809L /* nanosleep */
#endif
#include <ilana/driver.h>

#include <string.h>
#ifdef FIXTURE_SLOW_CLOSE
#include <time.h>
#endif

#ifndef FIXTURE_CLIENT
#define FIXTURE_CLIENT "fixture"
#endif

#ifdef FIXTURE_SLOW_CLOSE
/* Connects (to nothing), and closing takes FIXTURE_SLOW_CLOSE milliseconds (0: none):
 * a session to a frozen server, for the pool's destroyTimeoutMillis. */
static char fx_session;
static ilana_status fx_connect(const ilana_connect_params *p, ilana_conn **out, ilana_error *err) {
    (void)p;
    (void)err;
    *out = (ilana_conn *)&fx_session;
    return ILANA_OK;
}
static void fx_close(ilana_conn *c) {
    struct timespec ts;
    (void)c;
    ts.tv_sec = FIXTURE_SLOW_CLOSE / 1000;
    ts.tv_nsec = (long)(FIXTURE_SLOW_CLOSE % 1000) * 1000000L;
    while (nanosleep(&ts, &ts) != 0) {
    }
}
#else
static ilana_status fx_connect(const ilana_connect_params *p, ilana_conn **out, ilana_error *err) {
    (void)p;
    *out = NULL;
    err->error_class = ILANA_ERR_CONNECTION;
    strcpy(err->message, "the fixture driver never connects");
    return ILANA_ERROR;
}
static void fx_close(ilana_conn *c) { (void)c; }
#endif
static ilana_status fx_ping(ilana_conn *c, int32_t t, ilana_error *e) { (void)c; (void)t; (void)e; return ILANA_OK; }
#ifndef FIXTURE_NO_EXECUTE
static ilana_status fx_execute(ilana_conn *c, const ilana_statement *s, ilana_result **o, ilana_error *e) {
    (void)c; (void)s; (void)o; (void)e;
    return ILANA_UNSUPPORTED;
}
#endif
static void fx_result_info(ilana_result *r, ilana_result_info *i) { (void)r; (void)i; }
static ilana_status fx_fetch(ilana_result *r, ilana_batch *b, ilana_error *e) { (void)r; (void)b; (void)e; return ILANA_DONE; }
static void fx_result_close(ilana_result *r) { (void)r; }

static ilana_status fx_init(const ilana_host *h, ilana_error *err) {
    (void)h;
#ifdef FIXTURE_INIT_FAILS
    err->error_class = ILANA_ERR_INTERNAL;
    strcpy(err->message, "fixture init refuses to start");
    return ILANA_ERROR;
#else
    (void)err;
    return ILANA_OK;
#endif
}
static void fx_deinit(void) {}

static const char *const fx_clients[] = {
#ifndef FIXTURE_NO_CLIENTS
    FIXTURE_CLIENT,
#endif
    NULL};

static const ilana_dialect fx_dialect = {sizeof(ilana_dialect), ILANA_PLACEHOLDER_QUESTION, '"', {0, 0, 0},
                                         ILANA_LIMIT_LIMIT_OFFSET, ILANA_UPSERT_NONE, 0, 999};

static const ilana_driver_descriptor fx_descriptor = {
#ifdef FIXTURE_SMALL_DESCRIPTOR
    8,
#else
    sizeof(ilana_driver_descriptor),
#endif
    "org.ilana.test." FIXTURE_CLIENT, "Fixture driver", "0.0.1", "registry test fixture", fx_clients, 0,
    ILANA_THREADS_CONN_SERIALIZED, &fx_dialect};

static const ilana_driver_api fx_api = {sizeof(ilana_driver_api), fx_connect, fx_close, fx_ping,
#ifdef FIXTURE_NO_EXECUTE
                                        NULL,
#else
                                        fx_execute,
#endif
                                        fx_result_info, fx_fetch, fx_result_close, NULL, NULL, NULL, NULL, NULL};

#ifdef FIXTURE_BAD_PARAMS
/* An "ilana.params/1" table with an enum that lists no values: the host
 * must refuse the driver rather than check configs against it. */
static const char *const fx_no_values[] = {NULL};
static const ilana_param_decl fx_params[] = {
    {sizeof(ilana_param_decl), ILANA_PARAM_STRING, 0, 0, "path", "a file", NULL, NULL, 0, 0},
    {sizeof(ilana_param_decl), ILANA_PARAM_ENUM, 0, 0, "mode", "a mode", NULL, fx_no_values, 0, 0},
};
static const ilana_params_api fx_params_api = {sizeof(ilana_params_api), 0, fx_params, 2,
                                               sizeof(ilana_param_decl)};
static const void *fx_get_extension(const char *id) {
    return (id != NULL && strcmp(id, ILANA_EXT_PARAMS) == 0) ? &fx_params_api : NULL;
}
#else
static const void *fx_get_extension(const char *id) { (void)id; return NULL; }
#endif

#ifndef FIXTURE_NO_ENTRY
ILANA_DRIVER_EXPORT const ilana_driver_entry ilana_entry = {
    sizeof(ilana_driver_entry),
#ifdef FIXTURE_WRONG_MAGIC
    0xDEADBEEFu,
#else
    ILANA_DRIVER_MAGIC,
#endif
#ifdef FIXTURE_ABI_MAJOR
    FIXTURE_ABI_MAJOR,
#else
    ILANA_ABI_MAJOR,
#endif
    ILANA_ABI_MINOR, fx_init, fx_deinit, &fx_descriptor, &fx_api, fx_get_extension};
#else
/* A whole driver exported under another name: the host must find no
 * ilana_entry, however complete the rest is. */
ILANA_DRIVER_EXPORT const ilana_driver_entry not_the_entry = {
    sizeof(ilana_driver_entry), ILANA_DRIVER_MAGIC, ILANA_ABI_MAJOR, ILANA_ABI_MINOR,
    fx_init, fx_deinit, &fx_descriptor, &fx_api, fx_get_extension};
#endif
