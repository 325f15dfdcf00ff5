/* A driver that breaks the ABI 1.1 promises, built against the current
 * header: the host must fail with a clear error or stay correct, never read
 * a batch with the wrong stride.
 *
 * Client "liar". Every result claims columns_id 7 (the same id for every
 * description: a broken promise). The SQL text picks the shape:
 *   "one"      one column  (answer INT64 42)
 *   "two"      two columns (answer, sql TEXT echoing the statement)
 *   "mismatch" result_info says one column, the batch has two */
#include <ilana/driver.h>

#include <stdlib.h>
#include <string.h>

struct ilana_conn {
    int open_result;
};
struct ilana_result {
    struct ilana_conn *conn;
    int fetched;
    uint32_t described, delivered; /* column counts */
    char *sql;
    ilana_value cells[2];
};

static const ilana_column liar_columns[2] = {
    {sizeof(ilana_column), "answer", ILANA_TYPE_INT64, "int8", 0},
    {sizeof(ilana_column), "sql", ILANA_TYPE_TEXT, "text", 0},
};

static void set_err(ilana_error *err, ilana_error_class cls, const char *msg) {
    err->error_class = cls;
    strncpy(err->message, msg, sizeof err->message - 1);
}

static ilana_status liar_connect(const ilana_connect_params *p, ilana_conn **out, ilana_error *err) {
    (void)p;
    *out = calloc(1, sizeof(ilana_conn));
    if (*out == NULL) {
        set_err(err, ILANA_ERR_INTERNAL, "out of memory");
        return ILANA_ERROR;
    }
    return ILANA_OK;
}
static void liar_close(ilana_conn *c) { free(c); }
static ilana_status liar_ping(ilana_conn *c, int32_t t, ilana_error *e) { (void)c; (void)t; (void)e; return ILANA_OK; }
static ilana_status liar_execute(ilana_conn *c, const ilana_statement *s, ilana_result **out, ilana_error *err) {
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
    r->described = strcmp(r->sql, "two") == 0 ? 2 : 1;
    r->delivered = strcmp(r->sql, "one") == 0 ? 1 : 2;
    r->cells[0].type = ILANA_TYPE_INT64;
    r->cells[0].v.i64 = 42;
    r->cells[1].type = ILANA_TYPE_TEXT;
    r->cells[1].v.str.ptr = r->sql;
    r->cells[1].v.str.len = s->sql_len;
    c->open_result = 1;
    *out = r;
    return ILANA_OK;
}
static void liar_result_info(ilana_result *r, ilana_result_info *info) {
    info->column_count = r->described;
    info->columns = liar_columns;
    info->column_size = sizeof(ilana_column);
    info->affected_rows = -1;
    info->last_insert_id = 0;
    if (ILANA_COVERS(info->struct_size, ilana_result_info, columns_id))
        info->columns_id = 7;
}
static ilana_status liar_fetch(ilana_result *r, ilana_batch *b, ilana_error *e) {
    (void)e;
    b->column_count = r->delivered;
    b->value_size = sizeof(ilana_value);
    b->row_count = r->fetched ? 0 : 1;
    b->cells = r->cells;
    r->fetched = 1;
    return ILANA_DONE;
}
static void liar_result_close(ilana_result *r) {
    if (r == NULL) return;
    r->conn->open_result = 0;
    free(r->sql);
    free(r);
}

static ilana_status liar_init(const ilana_host *h, ilana_error *e) {
    (void)h;
    (void)e;
    return ILANA_OK;
}
static void liar_deinit(void) {}
static const void *liar_get_extension(const char *id) {
    (void)id;
    return NULL;
}

static const char *const liar_clients[] = {"liar", NULL};
static const ilana_dialect liar_dialect = {sizeof(ilana_dialect), ILANA_PLACEHOLDER_QUESTION, '"', {0, 0, 0},
                                           ILANA_LIMIT_LIMIT_OFFSET, ILANA_UPSERT_NONE, 0, 999};
static const ilana_driver_descriptor liar_descriptor = {
    sizeof(ilana_driver_descriptor), "org.ilana.test.liar", "Broken-promise fixture", "1.1.0",
    "reports one columns_id for every description, and a batch wider than its description", liar_clients, 0,
    ILANA_THREADS_CONN_SERIALIZED, &liar_dialect};
static const ilana_driver_api liar_api = {sizeof(ilana_driver_api), liar_connect, liar_close, liar_ping,
                                          liar_execute, liar_result_info, liar_fetch, liar_result_close,
                                          NULL, NULL, NULL, NULL, NULL};

ILANA_DRIVER_EXPORT const ilana_driver_entry ilana_entry = {
    sizeof(ilana_driver_entry), ILANA_DRIVER_MAGIC, ILANA_ABI_MAJOR, ILANA_ABI_MINOR,
    liar_init, liar_deinit, &liar_descriptor, &liar_api, liar_get_extension};
