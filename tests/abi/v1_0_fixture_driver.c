/* A tiny driver compiled against the FROZEN v1.0 header only
 * (tests/abi/v1.0/ilana/driver.h, nothing of the current tree): it stands
 * for a third-party plugin built when v1.0 was released. The current host
 * must keep loading and running it.
 *
 * Client "abi-v1-0". Every statement returns one row: answer INT64 42 and
 * the SQL text echoed back as TEXT. */
#include <ilana/driver.h>

#include <stdlib.h>
#include <string.h>

struct ilana_conn {
    int open_result;
};
struct ilana_result {
    struct ilana_conn *conn;
    int fetched;
    char *sql;
    ilana_value cells[2];
};

static const ilana_column v10_columns[2] = {
    {sizeof(ilana_column), "answer", ILANA_TYPE_INT64, "int8", 0},
    {sizeof(ilana_column), "sql", ILANA_TYPE_TEXT, "text", 0},
};

static void set_err(ilana_error *err, ilana_error_class cls, const char *msg) {
    err->error_class = cls;
    strncpy(err->message, msg, sizeof err->message - 1);
}

static ilana_status v10_connect(const ilana_connect_params *p, ilana_conn **out, ilana_error *err) {
    uint32_t i;
    *out = NULL;
    for (i = 0; i < p->param_count; ++i)
        if (strncmp(p->params[i].key, "ilana.", 6) != 0) {
            set_err(err, ILANA_ERR_CONFIG, "the v1.0 fixture takes no connection parameters");
            return ILANA_ERROR;
        }
    *out = calloc(1, sizeof(ilana_conn));
    if (*out == NULL) {
        set_err(err, ILANA_ERR_INTERNAL, "out of memory");
        return ILANA_ERROR;
    }
    return ILANA_OK;
}
static void v10_close(ilana_conn *c) { free(c); }
static ilana_status v10_ping(ilana_conn *c, int32_t t, ilana_error *e) { (void)c; (void)t; (void)e; return ILANA_OK; }
static ilana_status v10_execute(ilana_conn *c, const ilana_statement *s, ilana_result **out, ilana_error *err) {
    ilana_result *r;
    *out = NULL;
    if (c->open_result) {
        set_err(err, ILANA_ERR_INTERNAL, "a result is still open");
        return ILANA_ERROR;
    }
    r = calloc(1, sizeof *r);
    if (r == NULL || (r->sql = malloc(s->sql_len + 1)) == NULL) {
        free(r);
        set_err(err, ILANA_ERR_INTERNAL, "out of memory");
        return ILANA_ERROR;
    }
    memcpy(r->sql, s->sql, s->sql_len);
    r->sql[s->sql_len] = '\0';
    r->conn = c;
    r->cells[0].type = ILANA_TYPE_INT64;
    r->cells[0].v.i64 = 42;
    r->cells[1].type = ILANA_TYPE_TEXT;
    r->cells[1].v.str.ptr = r->sql;
    r->cells[1].v.str.len = s->sql_len;
    c->open_result = 1;
    *out = r;
    return ILANA_OK;
}
static void v10_result_info(ilana_result *r, ilana_result_info *info) {
    (void)r;
    info->column_count = 2;
    info->columns = v10_columns;
    info->column_size = sizeof(ilana_column);
    info->affected_rows = -1;
    info->last_insert_id = 0;
}
static ilana_status v10_fetch(ilana_result *r, ilana_batch *b, ilana_error *e) {
    (void)e;
    b->column_count = 2;
    b->value_size = sizeof(ilana_value);
    b->row_count = r->fetched ? 0 : 1;
    b->cells = r->cells;
    r->fetched = 1;
    return ILANA_DONE;
}
static void v10_result_close(ilana_result *r) {
    if (r == NULL) return;
    r->conn->open_result = 0;
    free(r->sql);
    free(r);
}

static int v10_inits = 0;
static ilana_status v10_init(const ilana_host *h, ilana_error *e) {
    (void)h;
    (void)e;
    ++v10_inits;
    return ILANA_OK;
}
static void v10_deinit(void) {
    if (v10_inits > 0) --v10_inits;
}
static const void *v10_get_extension(const char *id) {
    (void)id;
    return NULL;
}

static const char *const v10_clients[] = {"abi-v1-0", NULL};
static const ilana_dialect v10_dialect = {sizeof(ilana_dialect), ILANA_PLACEHOLDER_QUESTION, '"', {0, 0, 0},
                                          ILANA_LIMIT_LIMIT_OFFSET, ILANA_UPSERT_NONE, 0, 999};
static const ilana_driver_descriptor v10_descriptor = {
    sizeof(ilana_driver_descriptor), "org.ilana.test.abi-v1-0", "ABI v1.0 fixture", "1.0.0",
    "built against the frozen v1.0 header", v10_clients, 0, ILANA_THREADS_CONN_SERIALIZED, &v10_dialect};
static const ilana_driver_api v10_api = {sizeof(ilana_driver_api), v10_connect, v10_close, v10_ping,
                                         v10_execute, v10_result_info, v10_fetch, v10_result_close,
                                         NULL, NULL, NULL, NULL, NULL};

ILANA_DRIVER_EXPORT const ilana_driver_entry ilana_entry = {
    sizeof(ilana_driver_entry), ILANA_DRIVER_MAGIC, ILANA_ABI_MAJOR, ILANA_ABI_MINOR,
    v10_init, v10_deinit, &v10_descriptor, &v10_api, v10_get_extension};
