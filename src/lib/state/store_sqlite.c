/*
 * The state store in SQLite: one file, WAL so readers (otap serve) never
 * wait for a writer, and a busy timeout so two otap processes queue
 * instead of failing.
 *
 * synchronous=NORMAL in WAL mode keeps the file consistent through any
 * crash; only a power loss can drop the last commits, and then whole
 * transactions (each state change together with its ledger entry), never
 * half of one, so the chain still verifies.
 */
#include <errno.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>

#include "state/store_impl.h"
#include "base/strbuf.h"
#include "base/xalloc.h"
#include "base/banned.h"

static int sq_fail(struct store *s, const char *what, struct otap_err *err)
{
    return otap_err_set(err, OTAP_EEXTERNAL, "%s on state store '%s': %s", what, s->desc,
                        s->conn ? sqlite3_errmsg(s->conn) : "out of memory");
}

/* $N (PostgreSQL's numbered parameters) becomes ?N, which SQLite numbers the same way. */
static char *sq_translate(const char *sql)
{
    char *t = xstrdup(sql);
    for (char *p = t; *p; p++)
        if (*p == '$' && p[1] >= '1' && p[1] <= '9')
            *p = '?';
    return t;
}

/*
 * Prepared statements, kept by their SQL text: otap runs the same few
 * queries over and over (a ledger append is five), and preparing costs
 * as much as running them.
 */
#define SQ_CACHE 32
struct sq_cache {
    char *sql[SQ_CACHE];
    sqlite3_stmt *st[SQ_CACHE];
    size_t next; /* the slot to reuse next, round robin */
};

static sqlite3_stmt *sq_prepare(struct store *s, const char *sql)
{
    struct sq_cache *c = s->impl;
    for (size_t i = 0; i < SQ_CACHE; i++)
        if (c->sql[i] && !strcmp(c->sql[i], sql))
            return c->st[i];
    char *t = sq_translate(sql);
    sqlite3_stmt *st = NULL;
    int r = sqlite3_prepare_v2(s->conn, t, -1, &st, NULL);
    free(t);
    if (r != SQLITE_OK)
        return NULL;
    size_t i = c->next++ % SQ_CACHE;
    sqlite3_finalize(c->st[i]);
    free(c->sql[i]);
    c->sql[i] = xstrdup(sql);
    c->st[i] = st;
    return st;
}

static int sq_exec(struct store *s, const char *sql, const char *const *params, size_t nparams,
                   struct store_rows *rows, struct otap_err *err)
{
    sqlite3_stmt *st = sq_prepare(s, sql);
    if (!st)
        return sq_fail(s, "cannot prepare a query", err);
    int r;
    for (size_t i = 0; i < nparams; i++) {
        r = params[i] ? sqlite3_bind_text(st, (int)i + 1, params[i], -1, SQLITE_STATIC)
                      : sqlite3_bind_null(st, (int)i + 1);
        if (r != SQLITE_OK) {
            sqlite3_reset(st);
            sqlite3_clear_bindings(st);
            return sq_fail(s, "cannot bind a parameter", err);
        }
    }
    size_t ncols = (size_t)sqlite3_column_count(st);
    if (rows)
        *rows = (struct store_rows){0, ncols, NULL};
    const char **cells = ncols ? xcalloc(ncols, sizeof(*cells)) : NULL;
    while ((r = sqlite3_step(st)) == SQLITE_ROW) {
        if (!rows)
            continue;
        for (size_t c = 0; c < ncols; c++)
            cells[c] = (const char *)sqlite3_column_text(st, (int)c);
        store_rows_push(rows, ncols, cells);
    }
    free(cells);
    int rc = r == SQLITE_DONE ? 0 : sq_fail(s, "query failed", err);
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    if (rc < 0 && rows)
        store_rows_release(rows);
    return rc;
}

static int sq_begin(struct store *s, struct otap_err *err)
{
    return sq_exec(s, "BEGIN IMMEDIATE", NULL, 0, NULL, err);
}

static void sq_close(struct store *s)
{
    struct sq_cache *c = s->impl;
    for (size_t i = 0; c && i < SQ_CACHE; i++) {
        sqlite3_finalize(c->st[i]);
        free(c->sql[i]);
    }
    free(c);
    sqlite3_close(s->conn);
}

static const struct store_ops sqlite_ops = {
    .exec = sq_exec,
    .begin = sq_begin,
    .close = sq_close,
};

int store_sqlite_open(struct store *s, struct otap_err *err)
{
    s->ops = &sqlite_ops;
    s->impl = xcalloc(1, sizeof(struct sq_cache));
    sqlite3 *c = NULL;
    int r = sqlite3_open_v2(s->path, &c,
                            SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL);
    s->conn = c;
    if (r != SQLITE_OK)
        return sq_fail(s, "cannot open", err);
    sqlite3_busy_timeout(c, 30000);
    sqlite3_extended_result_codes(c, 1);
    static const char *const pragmas[] = {
        "PRAGMA journal_mode = WAL", "PRAGMA synchronous = NORMAL", "PRAGMA foreign_keys = ON"};
    for (size_t i = 0; i < sizeof(pragmas) / sizeof(pragmas[0]); i++) {
        struct store_rows rows;
        int rc = sq_exec(s, pragmas[i], NULL, 0, &rows, err);
        if (rc < 0)
            return rc;
        store_rows_release(&rows);
    }
    return 0;
}
