/*
 * The SQLite backend: the embedded default for small projects and the
 * demo. The run lock is an flock() on the database file itself, which
 * SQLite's own (fcntl) locks never see, so it cannot interfere with them.
 */
#include <errno.h>
#include <fcntl.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <time.h>
#include <unistd.h>

#include "db/db_impl.h"
#include "base/monotime.h"
#include "base/strbuf.h"
#include "base/xalloc.h"
#include "base/banned.h"

static sqlite3 *conn_of(struct db *db)
{
    return db->conn;
}

static int sq_fail(struct db *db, const char *what, struct otap_err *err)
{
    return otap_err_set(err, OTAP_EEXTERNAL, "%s on '%s': %s", what, db->desc,
                        sqlite3_errmsg(conn_of(db)));
}

static int sq_exec(struct db *db, const char *sql, const char *what, struct otap_err *err)
{
    if (sqlite3_exec(conn_of(db), sql, NULL, NULL, NULL) != SQLITE_OK)
        return sq_fail(db, what, err);
    return 0;
}

/* Prepares sql and binds text parameters $1..$n. */
static int sq_prepare(struct db *db, const char *sql, const char *const *params, int n,
                      sqlite3_stmt **out, const char *what, struct otap_err *err)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(conn_of(db), sql, -1, &st, NULL) != SQLITE_OK)
        return sq_fail(db, what, err);
    for (int i = 0; i < n; i++)
        sqlite3_bind_text(st, i + 1, params[i], -1, SQLITE_TRANSIENT);
    *out = st;
    return 0;
}

static int sq_lock(struct db *db, long wait_ms, struct otap_err *err)
{
    int fd = open(db->path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return otap_err_set(err, OTAP_EEXTERNAL, "cannot open '%s': %s", db->path, strerror(errno));
    long long deadline = monotime_ms() + wait_ms;
    while (flock(fd, LOCK_EX | LOCK_NB) < 0) {
        if (errno != EWOULDBLOCK && errno != EINTR) {
            int e = errno;
            close(fd);
            return otap_err_set(err, OTAP_EEXTERNAL, "cannot lock '%s': %s", db->path, strerror(e));
        }
        if (monotime_ms() >= deadline) {
            close(fd);
            return otap_err_set(err, OTAP_EEXTERNAL,
                                "another otap run holds the migration lock on '%s'; gave up "
                                "after %.1fs (--lock-wait sets how long to wait)",
                                db->desc, wait_ms / 1000.0);
        }
        nanosleep(&(struct timespec){0, 20 * 1000 * 1000}, NULL);
    }
    db->lock_fd = fd;
    return 0;
}

static void sq_unlock(struct db *db)
{
    if (db->lock_fd >= 0)
        close(db->lock_fd);
    db->lock_fd = -1;
}

static int sq_table_exists(struct db *db, const char *table, bool *exists, struct otap_err *err)
{
    sqlite3_stmt *st = NULL;
    const char *p[] = {table};
    int rc = sq_prepare(db, "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = $1", p, 1,
                        &st, "cannot look for a table", err);
    if (rc < 0)
        return rc;
    int s = sqlite3_step(st);
    if (s == SQLITE_ROW || s == SQLITE_DONE)
        *exists = s == SQLITE_ROW;
    else
        rc = sq_fail(db, "cannot look for a table", err);
    sqlite3_finalize(st);
    return rc;
}

static int sq_user_table_count(struct db *db, long *count, struct otap_err *err)
{
    sqlite3_stmt *st = NULL;
    int rc = sq_prepare(db,
                        "SELECT count(*) FROM sqlite_master WHERE type IN ('table', 'view') "
                        "AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\'",
                        NULL, 0, &st, "cannot count tables", err);
    if (rc < 0)
        return rc;
    if (sqlite3_step(st) == SQLITE_ROW)
        *count = (long)sqlite3_column_int64(st, 0);
    else
        rc = sq_fail(db, "cannot count tables", err);
    sqlite3_finalize(st);
    return rc;
}

static int sq_marker_read(struct db *db, const char *table, char **value, struct otap_err *err)
{
    char *sql = xasprintf("SELECT id, env FROM %s ORDER BY id", table);
    sqlite3_stmt *st = NULL;
    int rc = sq_prepare(db, sql, NULL, 0, &st, "cannot read the marker", err);
    free(sql);
    if (rc < 0)
        return rc;
    int rows = 0, s;
    char *v = NULL;
    bool id_ok = true;
    while ((s = sqlite3_step(st)) == SQLITE_ROW) {
        if (rows++ == 0) {
            id_ok = sqlite3_column_int64(st, 0) == 1;
            const unsigned char *t = sqlite3_column_text(st, 1);
            v = t ? xstrdup((const char *)t) : NULL;
        }
    }
    if (s != SQLITE_DONE)
        rc = sq_fail(db, "cannot read the marker", err);
    else if (rows > 1 || !id_ok)
        rc = db_marker_rows_error(db, table, rows, err);
    sqlite3_finalize(st);
    if (rc == 0)
        *value = v;
    else
        free(v);
    return rc;
}

static int sq_marker_write(struct db *db, const char *table, const char *value,
                           struct otap_err *err)
{
    char *create = db_marker_create_sql(table);
    char *insert = db_marker_insert_sql(table);
    const char *p[] = {value};
    sqlite3_stmt *st = NULL;
    int rc = sq_exec(db, "BEGIN IMMEDIATE", "cannot write the marker", err);
    if (rc == 0)
        rc = sq_exec(db, create, "cannot create the marker table", err);
    if (rc == 0)
        rc = sq_prepare(db, insert, p, 1, &st, "cannot write the marker", err);
    if (rc == 0 && sqlite3_step(st) != SQLITE_DONE)
        rc = sq_fail(db, "cannot write the marker", err);
    sqlite3_finalize(st);
    if (rc == 0)
        rc = sq_exec(db, "COMMIT", "cannot write the marker", err);
    if (rc < 0)
        sqlite3_exec(conn_of(db), "ROLLBACK", NULL, NULL, NULL);
    free(create);
    free(insert);
    return rc;
}

static int sq_migrations_init(struct db *db, struct otap_err *err)
{
    return sq_exec(db,
                   "CREATE TABLE IF NOT EXISTS " DB_MIGRATIONS_TABLE " ("
                   "version text PRIMARY KEY, name text NOT NULL, checksum text NOT NULL, "
                   "applied_at text NOT NULL, applied_by text NOT NULL, "
                   "duration_ms integer NOT NULL)",
                   "cannot create " DB_MIGRATIONS_TABLE, err);
}

static int sq_migrations_applied(struct db *db, struct db_applied_list *out, struct otap_err *err)
{
    bool exists;
    int rc = sq_table_exists(db, DB_MIGRATIONS_TABLE, &exists, err);
    if (rc < 0)
        return rc;
    memset(out, 0, sizeof(*out));
    if (!exists)
        return 0;
    sqlite3_stmt *st = NULL;
    rc = sq_prepare(db,
                    "SELECT version, name, checksum, applied_at, applied_by, duration_ms "
                    "FROM " DB_MIGRATIONS_TABLE " ORDER BY version",
                    NULL, 0, &st, "cannot read " DB_MIGRATIONS_TABLE, err);
    if (rc < 0)
        return rc;
    int s;
    while ((s = sqlite3_step(st)) == SQLITE_ROW) {
        struct db_applied *a = XPUSH(&out->items, &out->n, &out->alloc);
        const char *cols[5];
        for (int i = 0; i < 5; i++) {
            const unsigned char *t = sqlite3_column_text(st, i);
            cols[i] = t ? (const char *)t : "";
        }
        a->version = xstrdup(cols[0]);
        a->name = xstrdup(cols[1]);
        a->checksum = xstrdup(cols[2]);
        a->applied_at = xstrdup(cols[3]);
        a->applied_by = xstrdup(cols[4]);
        a->duration_ms = sqlite3_column_int64(st, 5);
    }
    if (s != SQLITE_DONE) {
        rc = sq_fail(db, "cannot read " DB_MIGRATIONS_TABLE, err);
        db_applied_list_release(out);
    }
    sqlite3_finalize(st);
    return rc;
}

static int sq_query_column(struct db *db, const char *sql, int nparams, const char *const *params,
                           struct strvec *out, struct otap_err *err)
{
    sqlite3_stmt *st = NULL;
    int rc = sq_prepare(db, sql, params, nparams, &st, "cannot read the schema", err);
    if (rc < 0)
        return rc;
    int s;
    while ((s = sqlite3_step(st)) == SQLITE_ROW) {
        const unsigned char *t = sqlite3_column_text(st, 0);
        strvec_push(out, t ? (const char *)t : "");
    }
    if (s != SQLITE_DONE)
        rc = sq_fail(db, "cannot read the schema", err);
    sqlite3_finalize(st);
    return rc;
}

static int sq_record(struct db *db, const struct db_record *recs, size_t n, struct otap_err *err)
{
    int rc = sq_exec(db, "BEGIN IMMEDIATE", "cannot begin", err);
    for (size_t i = 0; rc == 0 && i < n; i++) {
        sqlite3_stmt *st = NULL;
        const char *p[] = {recs[i].version, recs[i].name, recs[i].checksum, recs[i].actor};
        rc = sq_prepare(db,
                        "INSERT INTO " DB_MIGRATIONS_TABLE
                        " (version, name, checksum, applied_at, applied_by, duration_ms) "
                        "VALUES ($1, $2, $3, strftime('%Y-%m-%dT%H:%M:%SZ', 'now'), $4, 0)",
                        p, 4, &st, "cannot record the migration", err);
        if (rc == 0 && sqlite3_step(st) != SQLITE_DONE)
            rc = sq_fail(db, "cannot record the migration", err);
        sqlite3_finalize(st);
    }
    if (rc == 0)
        return sq_exec(db, "COMMIT", "cannot commit", err);
    sqlite3_exec(conn_of(db), "ROLLBACK", NULL, NULL, NULL);
    return rc;
}

static void fill_failure(struct db *db, struct db_failure *fail, size_t idx, const char *base,
                         const char *at)
{
    fail->stmt = idx;
    fail->message = xstrdup(sqlite3_errmsg(conn_of(db)));
    int off = sqlite3_error_offset(conn_of(db));
    fail->offset = off >= 0 ? (long)(at - base) + off : -1;
}

/* Runs one user statement (which SQLite may see as several). */
static int sq_run_one(struct db *db, const struct db_stmt *s, size_t idx, struct db_failure *fail)
{
    char *sql = xstrndup(s->sql, s->len);
    const char *at = sql;
    int rc = 0;
    while (*at && rc == 0) {
        sqlite3_stmt *st = NULL;
        const char *tail = NULL;
        if (sqlite3_prepare_v2(conn_of(db), at, -1, &st, &tail) != SQLITE_OK) {
            fill_failure(db, fail, idx, sql, at);
            rc = OTAP_EFOUND;
            break;
        }
        if (st) {
            int r;
            while ((r = sqlite3_step(st)) == SQLITE_ROW)
                ;
            if (r != SQLITE_DONE) {
                fill_failure(db, fail, idx, sql, at);
                fail->offset = -1;
                rc = OTAP_EFOUND;
            }
            sqlite3_finalize(st);
        }
        if (!tail || tail == at)
            break;
        at = tail;
    }
    free(sql);
    return rc;
}

static int sq_run(struct db *db, const struct db_stmt *stmts, size_t n, bool transaction,
                  const char *record_sql, const char *const *params, int nparams,
                  struct db_failure *fail, struct otap_err *err)
{
    int rc = transaction ? sq_exec(db, "BEGIN IMMEDIATE", "cannot begin", err) : 0;
    for (size_t i = 0; i < n && rc == 0; i++)
        rc = sq_run_one(db, &stmts[i], i, fail);
    if (rc == 0) {
        sqlite3_stmt *st = NULL;
        rc = sq_prepare(db, record_sql, params, nparams, &st, "cannot record the migration", err);
        if (rc == 0) {
            if (sqlite3_step(st) != SQLITE_DONE)
                rc = sq_fail(db, "cannot record the migration", err);
            sqlite3_finalize(st);
        }
    }
    if (transaction) {
        if (rc == 0)
            rc = sq_exec(db, "COMMIT", "cannot commit", err);
        if (rc < 0 && !sqlite3_get_autocommit(conn_of(db)))
            sqlite3_exec(conn_of(db), "ROLLBACK", NULL, NULL, NULL);
    }
    return rc;
}

static int sq_apply(struct db *db, const struct db_stmt *stmts, size_t n, bool transaction,
                    const struct db_record *rec, long long *duration_ms, struct db_failure *fail,
                    struct otap_err *err)
{
    long long t0 = monotime_ms();
    struct timespec wall;
    clock_gettime(CLOCK_REALTIME, &wall);
    char wall_ms[32];
    snprintf(wall_ms, sizeof(wall_ms), "%lld",
             (long long)wall.tv_sec * 1000 + wall.tv_nsec / 1000000);
    /* the duration comes from SQLite's clock: the record is its last statement */
    const char *p[] = {rec->version, rec->name, rec->checksum, rec->actor, wall_ms};
    int rc = sq_run(db, stmts, n, transaction,
                    "INSERT INTO " DB_MIGRATIONS_TABLE
                    " (version, name, checksum, applied_at, applied_by, duration_ms) VALUES ($1, "
                    "$2, $3, strftime('%Y-%m-%dT%H:%M:%SZ', 'now'), $4, "
                    "max(0, CAST(round((julianday('now') - 2440587.5) * 86400000.0) AS integer) - "
                    "CAST($5 AS integer)))",
                    p, 5, fail, err);
    if (rc == 0)
        *duration_ms = monotime_ms() - t0;
    return rc;
}

static int sq_unapply(struct db *db, const struct db_stmt *stmts, size_t n, bool transaction,
                      const char *version, struct db_failure *fail, struct otap_err *err)
{
    const char *p[] = {version};
    return sq_run(db, stmts, n, transaction,
                  "DELETE FROM " DB_MIGRATIONS_TABLE " WHERE version = $1", p, 1, fail, err);
}

static int sq_sync(struct db *db, struct otap_err *err)
{
    (void)db;
    (void)err;
    return 0; /* every SQLite commit is already durable */
}

static int sq_dump_schema(struct db *db, char **out, struct otap_err *err)
{
    sqlite3_stmt *st = NULL;
    int rc = sq_prepare(db,
                        "SELECT sql FROM sqlite_master WHERE sql IS NOT NULL AND name NOT LIKE "
                        "'sqlite\\_%' ESCAPE '\\' ORDER BY type DESC, name",
                        NULL, 0, &st, "cannot read the schema", err);
    if (rc < 0)
        return rc;
    struct strbuf sb = STRBUF_INIT;
    int s;
    while ((s = sqlite3_step(st)) == SQLITE_ROW)
        strbuf_addf(&sb, "%s;\n\n", (const char *)sqlite3_column_text(st, 0));
    if (s != SQLITE_DONE)
        rc = sq_fail(db, "cannot read the schema", err);
    sqlite3_finalize(st);
    if (rc == 0)
        *out = strbuf_detach(&sb, NULL);
    strbuf_release(&sb);
    return rc;
}

static void sq_close(struct db *db)
{
    sq_unlock(db);
    if (db->conn)
        sqlite3_close(conn_of(db));
    db->conn = NULL;
}

static const struct db_ops sqlite_ops = {
    .lock = sq_lock,
    .unlock = sq_unlock,
    .table_exists = sq_table_exists,
    .query_column = sq_query_column,
    .record = sq_record,
    .user_table_count = sq_user_table_count,
    .marker_read = sq_marker_read,
    .marker_write = sq_marker_write,
    .migrations_init = sq_migrations_init,
    .migrations_applied = sq_migrations_applied,
    .apply = sq_apply,
    .unapply = sq_unapply,
    .sync = sq_sync,
    .dump_schema = sq_dump_schema,
    .close = sq_close,
};

int db_sqlite_open(struct db *db, enum db_open_mode mode, struct otap_err *err)
{
    db->ops = &sqlite_ops;
    int flags =
        mode == DB_WRITE ? SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE : SQLITE_OPEN_READONLY;
    const char *file = db->path;
    if (mode == DB_READ && access(db->path, F_OK) < 0) {
        if (errno != ENOENT)
            return otap_err_set(err, OTAP_EEXTERNAL, "cannot open '%s': %s", db->desc,
                                strerror(errno));
        /* not created yet: read it as the empty database its first migrate will find, without
         * creating the file (status and --dry-run write nothing) */
        file = ":memory:";
        flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_MEMORY;
        char *desc = xasprintf("%s (no database yet)", db->desc);
        free(db->desc);
        db->desc = desc;
    }
    sqlite3 *c = NULL;
    int r = sqlite3_open_v2(file, &c, flags | SQLITE_OPEN_NOMUTEX, NULL);
    db->conn = c;
    if (r != SQLITE_OK)
        return sq_fail(db, "cannot open", err);
    sqlite3_busy_timeout(c, 10000);
    sqlite3_extended_result_codes(c, 1);
    return 0;
}
