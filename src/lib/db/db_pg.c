/*
 * The PostgreSQL backend (libpq).
 *
 * Speed comes from round trips, not from the server: a transactional
 * migration is sent as one pipeline (BEGIN, its statements, otap's record
 * row, Sync) and committed with a second message, so that applying a
 * thousand small migrations costs two thousand round trips instead of
 * five thousand. Each migration commits with synchronous_commit off and
 * db_sync() ends the run with one synchronous commit: a server crash can
 * only lose whole migrations (each with its record row), never half of
 * one, and once otap reports success all of them are on disk.
 *
 * COMMIT travels separately on purpose: if otap dies (kill -9) while a
 * statement runs, the server finds no COMMIT and rolls the migration back.
 */
#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "db/db_impl.h"
#include "base/monotime.h"
#include "base/proc.h"
#include "db/pgconn.h"
#include "base/redact.h"
#include "base/strbuf.h"
#include "base/xalloc.h"
#include "base/banned.h"

/* "otapmigr" as a big-endian integer: the advisory lock every otap run shares */
#define PG_LOCK_KEY "8031151171008292722"
/* statements per pipeline round trip; bounded so neither side's buffers fill up */
#define PG_PIPELINE_CHUNK 128

static PGconn *conn_of(struct db *db)
{
    return db->conn;
}

static void pg_notice(void *arg, const char *message)
{
    struct db *db = arg;
    if (!db->notice)
        return;
    char *m = xstrdup(message);
    size_t n = strlen(m);
    while (n && (m[n - 1] == '\n' || m[n - 1] == ' '))
        m[--n] = '\0';
    db->notice(db->notice_ctx, m);
    free(m);
}

static int pg_fail(struct db *db, const PGresult *r, const char *what, struct otap_err *err)
{
    char *m = pgconn_message(conn_of(db), r);
    int rc = otap_err_set(err, OTAP_EEXTERNAL, "%s on '%s': %s", what, db->desc, m);
    free(m);
    return rc;
}

/* Runs one command of otap's own; *res (when given) receives a TUPLES_OK result. */
static int pg_exec(struct db *db, const char *sql, int nparams, const char *const *params,
                   PGresult **res, const char *what, struct otap_err *err)
{
    PGresult *r = PQexecParams(conn_of(db), sql, nparams, NULL, params, NULL, NULL, 0);
    ExecStatusType st = PQresultStatus(r);
    if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
        int rc = pg_fail(db, r, what, err);
        PQclear(r);
        return rc;
    }
    if (res)
        *res = r;
    else
        PQclear(r);
    return 0;
}

static int pg_lock(struct db *db, long wait_ms, struct otap_err *err)
{
    char timeout[32];
    snprintf(timeout, sizeof(timeout), "%ldms", wait_ms > 0 ? wait_ms : 1);
    const char *p[] = {timeout};
    int rc = pg_exec(db, "SELECT set_config('lock_timeout', $1, false)", 1, p, NULL,
                     "cannot set lock_timeout", err);
    if (rc < 0)
        return rc;
    PGresult *r = PQexec(conn_of(db), "SELECT pg_advisory_lock(" PG_LOCK_KEY ")");
    if (PQresultStatus(r) != PGRES_TUPLES_OK) {
        const char *state = PQresultErrorField(r, PG_DIAG_SQLSTATE);
        if (state && !strcmp(state, "55P03"))
            rc = otap_err_set(err, OTAP_EEXTERNAL,
                              "another otap run holds the migration lock on '%s'; gave up "
                              "after %.1fs (--lock-wait sets how long to wait)",
                              db->desc, wait_ms / 1000.0);
        else
            rc = pg_fail(db, r, "cannot take the migration lock", err);
        PQclear(r);
        return rc;
    }
    PQclear(r);
    return pg_exec(db, "RESET lock_timeout", 0, NULL, NULL, "cannot reset lock_timeout", err);
}

static void pg_unlock(struct db *db)
{
    PQclear(PQexec(conn_of(db), "SELECT pg_advisory_unlock(" PG_LOCK_KEY ")"));
}

static int pg_table_exists(struct db *db, const char *table, bool *exists, struct otap_err *err)
{
    PGresult *r;
    const char *p[] = {table};
    int rc =
        pg_exec(db, "SELECT to_regclass($1) IS NOT NULL", 1, p, &r, "cannot look for a table", err);
    if (rc < 0)
        return rc;
    *exists = !strcmp(PQgetvalue(r, 0, 0), "t");
    PQclear(r);
    return 0;
}

static int pg_user_table_count(struct db *db, long *count, struct otap_err *err)
{
    PGresult *r;
    int rc = pg_exec(db,
                     "SELECT count(*) FROM pg_catalog.pg_class c "
                     "JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace "
                     "WHERE c.relkind IN ('r', 'p', 'v', 'm', 'f') "
                     "AND n.nspname NOT IN ('pg_catalog', 'information_schema') "
                     "AND n.nspname NOT LIKE 'pg\\_toast%' AND n.nspname NOT LIKE 'pg\\_temp%'",
                     0, NULL, &r, "cannot count tables", err);
    if (rc < 0)
        return rc;
    *count = strtol(PQgetvalue(r, 0, 0), NULL, 10);
    PQclear(r);
    return 0;
}

static int pg_marker_read(struct db *db, const char *table, char **value, struct otap_err *err)
{
    char *sql = xasprintf("SELECT id::text, env FROM %s ORDER BY id", table);
    PGresult *r;
    int rc = pg_exec(db, sql, 0, NULL, &r, "cannot read the marker", err);
    free(sql);
    if (rc < 0)
        return rc;
    int n = PQntuples(r);
    if (n > 1 || (n == 1 && strcmp(PQgetvalue(r, 0, 0), "1")))
        rc = db_marker_rows_error(db, table, n, err);
    else
        *value = n == 1 && !PQgetisnull(r, 0, 1) ? xstrdup(PQgetvalue(r, 0, 1)) : NULL;
    PQclear(r);
    return rc;
}

static int pg_marker_write(struct db *db, const char *table, const char *value,
                           struct otap_err *err)
{
    char *create = db_marker_create_sql(table);
    char *insert = db_marker_insert_sql(table);
    const char *p[] = {value};
    int rc = pg_exec(db, "BEGIN", 0, NULL, NULL, "cannot write the marker", err);
    if (rc == 0)
        rc = pg_exec(db, create, 0, NULL, NULL, "cannot create the marker table", err);
    if (rc == 0)
        rc = pg_exec(db, insert, 1, p, NULL, "cannot write the marker", err);
    if (rc == 0)
        rc = pg_exec(db, "COMMIT", 0, NULL, NULL, "cannot write the marker", err);
    else
        PQclear(PQexec(conn_of(db), "ROLLBACK"));
    free(create);
    free(insert);
    return rc;
}

static int pg_migrations_init(struct db *db, struct otap_err *err)
{
    bool exists;
    int rc = pg_table_exists(db, DB_MIGRATIONS_TABLE, &exists, err);
    if (rc < 0 || exists)
        return rc;
    return pg_exec(db,
                   "CREATE TABLE IF NOT EXISTS " DB_MIGRATIONS_TABLE " ("
                   "version text PRIMARY KEY, name text NOT NULL, checksum text NOT NULL, "
                   "applied_at timestamptz NOT NULL DEFAULT now(), applied_by text NOT NULL, "
                   "duration_ms bigint NOT NULL)",
                   0, NULL, NULL, "cannot create " DB_MIGRATIONS_TABLE, err);
}

static int pg_migrations_applied(struct db *db, struct db_applied_list *out, struct otap_err *err)
{
    bool exists;
    int rc = pg_table_exists(db, DB_MIGRATIONS_TABLE, &exists, err);
    if (rc < 0)
        return rc;
    memset(out, 0, sizeof(*out));
    if (!exists)
        return 0;
    PGresult *r;
    rc = pg_exec(db,
                 "SELECT version, name, checksum, "
                 "to_char(applied_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'), "
                 "applied_by, duration_ms FROM " DB_MIGRATIONS_TABLE " ORDER BY version",
                 0, NULL, &r, "cannot read " DB_MIGRATIONS_TABLE, err);
    if (rc < 0)
        return rc;
    for (int i = 0; i < PQntuples(r); i++) {
        struct db_applied *a = XPUSH(&out->items, &out->n, &out->alloc);
        a->version = xstrdup(PQgetvalue(r, i, 0));
        a->name = xstrdup(PQgetvalue(r, i, 1));
        a->checksum = xstrdup(PQgetvalue(r, i, 2));
        a->applied_at = xstrdup(PQgetvalue(r, i, 3));
        a->applied_by = xstrdup(PQgetvalue(r, i, 4));
        a->duration_ms = strtoll(PQgetvalue(r, i, 5), NULL, 10);
    }
    PQclear(r);
    return 0;
}

static int pg_query_column(struct db *db, const char *sql, int nparams, const char *const *params,
                           struct strvec *out, struct otap_err *err)
{
    PGresult *r;
    int rc = pg_exec(db, sql, nparams, params, &r, "cannot read the schema", err);
    if (rc < 0)
        return rc;
    for (int i = 0; i < PQntuples(r); i++)
        strvec_push(out, PQgetisnull(r, i, 0) ? "" : PQgetvalue(r, i, 0));
    PQclear(r);
    return 0;
}

static int pg_record(struct db *db, const struct db_record *recs, size_t n, struct otap_err *err)
{
    int rc = pg_exec(db, "BEGIN", 0, NULL, NULL, "cannot begin", err);
    for (size_t i = 0; rc == 0 && i < n; i++) {
        const char *p[] = {recs[i].version, recs[i].name, recs[i].checksum, recs[i].actor};
        rc = pg_exec(
            db,
            "INSERT INTO " DB_MIGRATIONS_TABLE
            " (version, name, checksum, applied_by, duration_ms) VALUES ($1, $2, $3, $4, 0)",
            4, p, NULL, "cannot record the migration", err);
    }
    if (rc == 0)
        return pg_exec(db, "COMMIT", 0, NULL, NULL, "cannot commit", err);
    PQclear(PQexec(conn_of(db), "ROLLBACK"));
    return rc;
}

/* PostgreSQL counts the error position in characters; otap in bytes. */
static long char_to_byte(const struct db_stmt *st, long chars)
{
    long seen = 0;
    for (size_t i = 0; i < st->len; i++) {
        if (((unsigned char)st->sql[i] & 0xC0) != 0x80 && ++seen == chars)
            return (long)i;
    }
    return -1;
}

static void fill_failure(struct db_failure *fail, PGconn *c, const PGresult *r, size_t idx,
                         const struct db_stmt *st)
{
    fail->stmt = idx;
    fail->message = pgconn_message(c, r);
    const char *f = PQresultErrorField(r, PG_DIAG_SQLSTATE);
    fail->sqlstate = f ? xstrdup(f) : NULL;
    f = PQresultErrorField(r, PG_DIAG_MESSAGE_DETAIL);
    fail->detail = f ? redact_text(f) : NULL;
    f = PQresultErrorField(r, PG_DIAG_MESSAGE_HINT);
    fail->hint = f ? redact_text(f) : NULL;
    f = PQresultErrorField(r, PG_DIAG_STATEMENT_POSITION);
    fail->offset = f && st ? char_to_byte(st, strtol(f, NULL, 10)) : -1;
}

/*
 * One pipeline: the queries of a chunk, then Sync, then every result.
 * sqls[i] NULL means the record query with params. Returns 0; OTAP_EFOUND
 * with fail (failed_at set to the query's index); OTAP_EEXTERNAL.
 */
struct pg_query {
    const char *sql;
    int nparams;
    const char *const *params;
    const struct db_stmt *stmt; /* a user statement (for its error position), or NULL */
    size_t index;               /* its index among the user statements */
};

static int pg_pipeline(struct db *db, const struct pg_query *q, size_t n, struct db_failure *fail,
                       struct otap_err *err)
{
    PGconn *c = conn_of(db);
    if (!PQenterPipelineMode(c))
        return pg_fail(db, NULL, "cannot start a pipeline", err);
    int rc = 0;
    size_t sent = 0;
    for (; sent < n; sent++)
        if (!PQsendQueryParams(c, q[sent].sql, q[sent].nparams, NULL, q[sent].params, NULL, NULL,
                               0))
            break;
    if (sent < n || !PQpipelineSync(c)) {
        rc = pg_fail(db, NULL, "cannot send a migration", err);
        sent = sent < n ? sent : n;
    }
    bool failed = false;
    /* every sent query yields its result(s) then NULL; the Sync yields PIPELINE_SYNC */
    for (size_t i = 0; i <= sent; i++) {
        PGresult *r;
        bool synced = false;
        while ((r = PQgetResult(c))) {
            ExecStatusType st = PQresultStatus(r);
            if (st == PGRES_PIPELINE_SYNC) {
                synced = true;
                PQclear(r);
                break;
            }
            if (st == PGRES_FATAL_ERROR && !failed && rc == 0) {
                failed = true;
                if (i < n)
                    fill_failure(fail, c, r, q[i].stmt ? q[i].index : (size_t)-1, q[i].stmt);
                else
                    fill_failure(fail, c, r, (size_t)-1, NULL);
            }
            PQclear(r);
        }
        if (synced)
            break;
        if (PQstatus(c) == CONNECTION_BAD) {
            rc = pg_fail(db, NULL, "lost the connection", err);
            break;
        }
    }
    if (!PQexitPipelineMode(c) && rc == 0)
        rc = pg_fail(db, NULL, "cannot leave the pipeline", err);
    if (rc == 0 && failed)
        rc = OTAP_EFOUND;
    return rc;
}

/* Statements (NUL-terminated copies) and the closing record query, in chunks. */
static int pg_run(struct db *db, const struct db_stmt *stmts, size_t n, bool transaction,
                  const char *record_sql, int nparams, const char *const *params,
                  struct db_failure *fail, struct otap_err *err)
{
    size_t total = n + 1 + (transaction ? 2 : 0);
    struct pg_query *q = xcalloc(total, sizeof(*q));
    char **copies = xcalloc(n ? n : 1, sizeof(*copies));
    size_t k = 0;
    if (transaction) {
        q[k++].sql = "BEGIN";
        q[k++].sql = "SET LOCAL synchronous_commit TO off";
    }
    for (size_t i = 0; i < n; i++) {
        copies[i] = xstrndup(stmts[i].sql, stmts[i].len);
        q[k++] = (struct pg_query){copies[i], 0, NULL, &stmts[i], i};
    }
    q[k++] = (struct pg_query){record_sql, nparams, params, NULL, 0};

    int rc = 0;
    if (transaction) {
        for (size_t at = 0; at < total && rc == 0; at += PG_PIPELINE_CHUNK) {
            size_t m = total - at < PG_PIPELINE_CHUNK ? total - at : PG_PIPELINE_CHUNK;
            rc = pg_pipeline(db, q + at, m, fail, err);
        }
        if (rc == 0) {
            /* deferred constraints are checked here: their failure is the migration's */
            PGresult *r = PQexec(conn_of(db), "COMMIT");
            if (PQresultStatus(r) != PGRES_COMMAND_OK) {
                if (PQstatus(conn_of(db)) == CONNECTION_OK) {
                    fill_failure(fail, conn_of(db), r, (size_t)-1, NULL);
                    rc = OTAP_EFOUND;
                } else {
                    rc = pg_fail(db, r, "lost the connection while committing", err);
                }
            }
            PQclear(r);
        } else if (PQstatus(conn_of(db)) == CONNECTION_OK)
            PQclear(PQexec(conn_of(db), "ROLLBACK"));
    } else {
        /* outside a transaction each statement commits on its own, in order */
        for (size_t i = 0; i < total && rc == 0; i++) {
            PGresult *r =
                PQexecParams(conn_of(db), q[i].sql, q[i].nparams, NULL, q[i].params, NULL, NULL, 0);
            ExecStatusType st = PQresultStatus(r);
            if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
                if (PQstatus(conn_of(db)) != CONNECTION_OK) {
                    rc = pg_fail(db, r, "lost the connection", err);
                } else {
                    fill_failure(fail, conn_of(db), r, q[i].stmt ? q[i].index : (size_t)-1,
                                 q[i].stmt);
                    rc = OTAP_EFOUND;
                }
            }
            PQclear(r);
        }
    }
    for (size_t i = 0; i < n; i++)
        free(copies[i]);
    free(copies);
    free(q);
    return rc;
}

static int pg_apply(struct db *db, const struct db_stmt *stmts, size_t n, bool transaction,
                    const struct db_record *rec, long long *duration_ms, struct db_failure *fail,
                    struct otap_err *err)
{
    long long t0 = monotime_ms();
    int rc;
    if (transaction) {
        /* the duration is measured by the server: from BEGIN to the record row */
        const char *p[] = {rec->version, rec->name, rec->checksum, rec->actor};
        rc = pg_run(db, stmts, n, true,
                    "INSERT INTO " DB_MIGRATIONS_TABLE
                    " (version, name, checksum, applied_by, duration_ms) VALUES ($1, $2, $3, "
                    "$4, (extract(epoch FROM clock_timestamp() - now()) * 1000)::bigint)",
                    4, p, fail, err);
    } else {
        /* the record is the last step, so the duration must be known before it: two passes */
        rc = pg_run(db, stmts, n, false, "SELECT 1", 0, NULL, fail, err);
        if (rc == 0) {
            char ms[32];
            snprintf(ms, sizeof(ms), "%lld", monotime_ms() - t0);
            const char *p[] = {rec->version, rec->name, rec->checksum, rec->actor, ms};
            rc = pg_exec(db,
                         "INSERT INTO " DB_MIGRATIONS_TABLE
                         " (version, name, checksum, applied_by, duration_ms) VALUES ($1, $2, "
                         "$3, $4, $5::bigint)",
                         5, p, NULL, "cannot record the migration", err);
        }
    }
    if (rc == 0)
        *duration_ms = monotime_ms() - t0;
    return rc;
}

static int pg_unapply(struct db *db, const struct db_stmt *stmts, size_t n, bool transaction,
                      const char *version, struct db_failure *fail, struct otap_err *err)
{
    const char *p[] = {version};
    return pg_run(db, stmts, n, transaction,
                  "DELETE FROM " DB_MIGRATIONS_TABLE " WHERE version = $1", 1, p, fail, err);
}

static int pg_sync(struct db *db, struct otap_err *err)
{
    /* a transaction with an id writes a commit record; committing it synchronously
       flushes the WAL up to here, and so every asynchronous commit before it */
    PGresult *r = PQexec(conn_of(db), "BEGIN; SELECT txid_current(); COMMIT");
    int rc = PQresultStatus(r) == PGRES_COMMAND_OK
                 ? 0
                 : pg_fail(db, r, "cannot make the migrations durable", err);
    PQclear(r);
    return rc;
}

/* pg_dump's output minus the lines that change from one pg_dump or run to the next. */
static char *normalise_dump(const char *s)
{
    struct strbuf sb = STRBUF_INIT;
    while (*s) {
        const char *nl = strchr(s, '\n');
        size_t len = nl ? (size_t)(nl - s) + 1 : strlen(s);
        bool drop = !strncmp(s, "-- Dumped from", 14) || !strncmp(s, "-- Dumped by", 12) ||
                    !strncmp(s, "\\restrict", 9) || !strncmp(s, "\\unrestrict", 11);
        if (!drop)
            strbuf_add(&sb, s, len);
        s += len;
    }
    return strbuf_detach(&sb, NULL);
}

static int pg_dump_schema(struct db *db, char **out, struct otap_err *err)
{
    /* the connection's settings go to pg_dump as PG* variables, never as arguments */
    char **env = pgconn_env(conn_of(db));
    if (!env)
        return otap_err_set(err, OTAP_EEXTERNAL, "cannot read the connection settings");

    char *argv[] = {"pg_dump", "--schema-only", "--no-owner", "--no-privileges", NULL};
    struct strbuf sout, serr;
    strbuf_init(&sout, 1u << 30);
    strbuf_init(&serr, 1u << 16);
    int status = 0;
    int rc = proc_capture(argv, env, &sout, &serr, &status, err);
    if (rc == 0 && !(WIFEXITED(status) && WEXITSTATUS(status) == 0)) {
        char *m = redact_text(serr.len ? serr.buf : "no message");
        size_t ml = strlen(m);
        while (ml && m[ml - 1] == '\n')
            m[--ml] = '\0';
        rc = otap_err_set(err, OTAP_EEXTERNAL, "pg_dump failed on '%s': %s", db->desc, m);
        free(m);
    }
    if (rc == 0)
        *out = normalise_dump(sout.buf);
    strbuf_release(&sout);
    strbuf_release(&serr);
    pgconn_env_free(env);
    return rc;
}

static void pg_close(struct db *db)
{
    if (db->conn)
        PQfinish(conn_of(db));
    db->conn = NULL;
}

static const struct db_ops pg_ops = {
    .lock = pg_lock,
    .unlock = pg_unlock,
    .table_exists = pg_table_exists,
    .query_column = pg_query_column,
    .record = pg_record,
    .user_table_count = pg_user_table_count,
    .marker_read = pg_marker_read,
    .marker_write = pg_marker_write,
    .migrations_init = pg_migrations_init,
    .migrations_applied = pg_migrations_applied,
    .apply = pg_apply,
    .unapply = pg_unapply,
    .sync = pg_sync,
    .dump_schema = pg_dump_schema,
    .close = pg_close,
};

int db_pg_open(struct db *db, struct otap_err *err)
{
    db->ops = &pg_ops;
    PGconn *c = NULL;
    int rc = pgconn_open(&c, db->url, "", db->desc, err);
    if (rc < 0)
        return rc;
    db->conn = c;
    PQsetNoticeProcessor(c, pg_notice, db);
    if (PQserverVersion(c) >= 140000) {
        /* a backend whose otap died notices within a second and rolls back */
        PGresult *r = PQexec(c, "SET client_connection_check_interval = '1s'");
        PQclear(r);
    }
    return 0;
}
