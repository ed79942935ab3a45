/*
 * The state store in PostgreSQL (libpq): the team's shared truth.
 *
 * Every write transaction first takes one transaction-level advisory
 * lock, so writers from every runner and replica queue up and each
 * ledger entry is chained to the one committed before it. Readers never
 * take it.
 */
#include <libpq-fe.h>
#include <stdlib.h>
#include <string.h>

#include "db/pgconn.h"
#include "base/redact.h"
#include "state/store_impl.h"
#include "base/xalloc.h"
#include "base/banned.h"

/* "otapledg" as a big-endian integer; distinct from the migration run lock */
#define STORE_PG_LOCK "SELECT pg_advisory_xact_lock(8031151170991252583)"

static int pg_exec(struct store *s, const char *sql, const char *const *params, size_t nparams,
                   struct store_rows *rows, struct otap_err *err)
{
    PGresult *r = PQexecParams(s->conn, sql, (int)nparams, NULL, params, NULL, NULL, 0);
    ExecStatusType st = PQresultStatus(r);
    if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
        char *m = pgconn_message(s->conn, r);
        int rc =
            otap_err_set(err, OTAP_EEXTERNAL, "query failed on state store '%s': %s", s->desc, m);
        free(m);
        PQclear(r);
        return rc;
    }
    if (rows) {
        size_t ncols = (size_t)PQnfields(r), n = (size_t)PQntuples(r);
        *rows = (struct store_rows){0, ncols, NULL};
        const char **cells = ncols ? xcalloc(ncols, sizeof(*cells)) : NULL;
        for (size_t i = 0; i < n; i++) {
            for (size_t c = 0; c < ncols; c++)
                cells[c] = PQgetisnull(r, (int)i, (int)c) ? NULL : PQgetvalue(r, (int)i, (int)c);
            store_rows_push(rows, ncols, cells);
        }
        free(cells);
    }
    PQclear(r);
    return 0;
}

static int pg_begin(struct store *s, struct otap_err *err)
{
    int rc = pg_exec(s, "BEGIN", NULL, 0, NULL, err);
    if (rc == 0 && (rc = pg_exec(s, STORE_PG_LOCK, NULL, 0, NULL, err)) < 0) {
        struct otap_err ignored = OTAP_ERR_INIT;
        pg_exec(s, "ROLLBACK", NULL, 0, NULL, &ignored);
        otap_err_release(&ignored);
    }
    return rc;
}

static void pg_close(struct store *s)
{
    PQfinish(s->conn);
}

static const struct store_ops pg_ops = {
    .exec = pg_exec,
    .begin = pg_begin,
    .close = pg_close,
};

int store_pg_open(struct store *s, struct otap_err *err)
{
    s->ops = &pg_ops;
    PGconn *c = NULL;
    int rc = pgconn_open(&c, s->url, "state store ", s->desc, err);
    if (rc < 0)
        return rc;
    s->conn = c;
    /* the store's tables carry otap_ names; keep notices about IF NOT EXISTS quiet */
    return pg_exec(s, "SET client_min_messages = warning", NULL, 0, NULL, err);
}

int store_pg_socket(struct store *s)
{
    return s->kind == STORE_POSTGRES ? PQsocket(s->conn) : -1;
}

int store_pg_notifications(struct store *s)
{
    if (s->kind != STORE_POSTGRES)
        return 0;
    if (!PQconsumeInput(s->conn) || PQstatus(s->conn) != CONNECTION_OK)
        return -1;
    int n = 0;
    PGnotify *note;
    while ((note = PQnotifies(s->conn))) {
        PQfreemem(note);
        n++;
    }
    return n;
}
