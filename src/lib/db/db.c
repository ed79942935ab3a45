/*
 * The db front: picks the backend from the URL and forwards each call,
 * so that migrate and marker never ask which database they talk to.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "db/db_impl.h"
#include "base/redact.h"
#include "base/xalloc.h"
#include "base/banned.h"

int db_schema_first_difference(const char *want, const char *live)
{
    int line = 1;
    for (size_t i = 0;; i++) {
        if (want[i] != live[i])
            return line;
        if (!want[i])
            return 0;
        if (want[i] == '\n')
            line++;
    }
}

bool db_ident_ok(const char *s)
{
    if (!s || !*s || strlen(s) > 63)
        return false;
    for (const char *p = s; *p; p++) {
        bool alpha = (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || *p == '_';
        if (!alpha && (p == s || !(*p >= '0' && *p <= '9')))
            return false;
    }
    return true;
}

char *db_marker_create_sql(const char *table)
{
    return xasprintf("CREATE TABLE IF NOT EXISTS %s (id integer PRIMARY KEY CHECK (id = 1), "
                     "env text NOT NULL CHECK (env <> ''))",
                     table);
}

char *db_marker_insert_sql(const char *table)
{
    return xasprintf("INSERT INTO %s (id, env) VALUES (1, $1)", table);
}

int db_marker_rows_error(const struct db *db, const char *table, int rows, struct otap_err *err)
{
    return otap_err_set(err, OTAP_EEXTERNAL,
                        "the marker table '%s' on '%s' must hold one row with id 1; it holds %d "
                        "row%s",
                        table, db->desc, rows, rows == 1 ? " with another id" : "s");
}

static void wipe_free(char *s)
{
    if (!s)
        return;
    explicit_bzero(s, strlen(s));
    free(s);
}

/* sqlite:PATH, sqlite://PATH, sqlite:///ABS (sqlite3: too); NULL when not SQLite. */
char *db_sqlite_path(const char *url, const char *root)
{
    const char *p;
    if (!strncasecmp(url, "sqlite3:", 8))
        p = url + 8;
    else if (!strncasecmp(url, "sqlite:", 7))
        p = url + 7;
    else
        return NULL;
    if (!strncmp(p, "//", 2))
        p += 2;
    if (!*p)
        return xstrdup("");
    if (*p == '/' || !root)
        return xstrdup(p);
    return xasprintf("%s/%s", root, p);
}

static int open_sqlite(struct db *db, const char *root, enum db_open_mode mode,
                       struct otap_err *err)
{
    db->path = db_sqlite_path(db->url, root);
    if (!*db->path)
        return otap_err_set(err, OTAP_EINVALID, "'%s' names no file (write sqlite:PATH)", db->desc);
    return db_sqlite_open(db, mode, err);
}

static int open_pg(struct db *db, const char *root, enum db_open_mode mode, struct otap_err *err)
{
    (void)root;
    (void)mode; /* a PostgreSQL database is never created by opening it */
    return db_pg_open(db, err);
}

/* Each backend, by the URL schemes it answers to (libpq wants them in lower case). */
static const struct db_backend {
    enum db_kind kind;
    const char *schemes[3];
    bool any_case;
    int (*open)(struct db *db, const char *root, enum db_open_mode mode, struct otap_err *err);
} backends[] = {
    {DB_SQLITE, {"sqlite:", "sqlite3:", NULL}, true, open_sqlite},
    {DB_POSTGRES, {"postgresql://", "postgres://", NULL}, false, open_pg},
};

static const struct db_backend *backend_for(const char *url)
{
    for (size_t i = 0; i < sizeof(backends) / sizeof(backends[0]); i++)
        for (const char *const *s = backends[i].schemes; *s; s++)
            if (!(backends[i].any_case ? strncasecmp : strncmp)(url, *s, strlen(*s)))
                return &backends[i];
    return NULL;
}

int db_open(struct db **out, const char *url, const char *root, enum db_open_mode mode,
            struct otap_err *err)
{
    struct db *db = xcalloc(1, sizeof(*db));
    db->url = xstrdup(url);
    db->desc = redact_text(url);
    db->lock_fd = -1;
    int rc;
    const struct db_backend *b = backend_for(url);
    if (b) {
        db->kind = b->kind;
        rc = b->open(db, root, mode, err);
    } else {
        const char *colon = strchr(url, ':');
        rc = otap_err_set(err, OTAP_EINVALID,
                          "unsupported database URL scheme '%.*s' (otap migrates "
                          "postgresql:// and sqlite: databases)",
                          colon ? (int)(colon - url) : 0, url);
    }
    if (rc < 0) {
        db_close(db);
        return rc;
    }
    *out = db;
    return 0;
}

void db_close(struct db *db)
{
    if (!db)
        return;
    if (db->ops) {
        if (db->locked)
            db->ops->unlock(db);
        db->ops->close(db);
    }
    wipe_free(db->url);
    free(db->desc);
    free(db->path);
    free(db);
}

enum db_kind db_kind_of(const struct db *db)
{
    return db->kind;
}

const char *db_describe(const struct db *db)
{
    return db->desc;
}

void db_set_notice(struct db *db, db_notice_fn fn, void *ctx)
{
    db->notice = fn;
    db->notice_ctx = ctx;
}

int db_lock(struct db *db, long wait_ms, struct otap_err *err)
{
    int rc = db->ops->lock(db, wait_ms, err);
    if (rc == 0)
        db->locked = true;
    return rc;
}

void db_unlock(struct db *db)
{
    if (db->locked)
        db->ops->unlock(db);
    db->locked = false;
}

int db_table_exists(struct db *db, const char *table, bool *exists, struct otap_err *err)
{
    return db->ops->table_exists(db, table, exists, err);
}

const char *db_object_kind_name(enum db_object_kind kind)
{
    static const char *const names[] = {"table", "index", "view", "sequence", "type", "column"};
    return names[kind];
}

/* "a"."b" or a.b as SQLite's catalog names it: the last part, quotes removed */
static char *sqlite_name(const char *name)
{
    const char *dot = strrchr(name, '.');
    const char *last = dot && dot[1] ? dot + 1 : name;
    size_t n = strlen(last);
    if (n >= 2 && (last[0] == '"' || last[0] == '`' || last[0] == '['))
        return xstrndup(last + 1, n - 2);
    return xstrdup(last);
}

/* A column as PostgreSQL's catalog holds it: quoted as written, else lower case. */
static char *pg_column(const char *column)
{
    size_t n = strlen(column);
    if (n >= 2 && column[0] == '"')
        return xstrndup(column + 1, n - 2);
    char *c = xstrdup(column);
    for (char *p = c; *p; p++)
        if (*p >= 'A' && *p <= 'Z')
            *p = (char)(*p - 'A' + 'a');
    return c;
}

int db_object_exists(struct db *db, enum db_object_kind kind, const char *name, const char *column,
                     bool *exists, struct otap_err *err)
{
    struct strvec rows = STRVEC_INIT;
    int rc;
    if (db->kind == DB_SQLITE) {
        if (kind == DB_OBJ_SEQUENCE || kind == DB_OBJ_TYPE) {
            *exists = true;
            return 0;
        }
        char *n = sqlite_name(name);
        char *c = column ? sqlite_name(column) : NULL;
        static const char *const types[] = {"table", "index", "view"};
        const char *p[] = {n, kind == DB_OBJ_COLUMN ? c : types[kind]};
        rc = db->ops->query_column(
            db,
            kind == DB_OBJ_COLUMN
                ? "SELECT 1 FROM pragma_table_info($1) WHERE name = $2 COLLATE NOCASE"
                : "SELECT 1 FROM sqlite_master WHERE name = $1 COLLATE NOCASE AND type = $2",
            2, p, &rows, err);
        free(n);
        free(c);
    } else if (kind == DB_OBJ_COLUMN) {
        char *c = pg_column(column);
        const char *p[] = {name, c};
        rc = db->ops->query_column(db,
                                   "SELECT 1 FROM pg_catalog.pg_attribute WHERE attrelid = "
                                   "to_regclass($1) AND attname = $2 AND attnum > 0 AND NOT "
                                   "attisdropped",
                                   2, p, &rows, err);
        free(c);
    } else {
        const char *p[] = {name};
        rc = db->ops->query_column(db,
                                   kind == DB_OBJ_TYPE
                                       ? "SELECT 1 WHERE to_regtype($1) IS NOT NULL"
                                       : "SELECT 1 WHERE to_regclass($1) IS NOT NULL",
                                   1, p, &rows, err);
    }
    if (rc == 0)
        *exists = rows.n > 0;
    strvec_release(&rows);
    return rc;
}

int db_dbmate_versions(struct db *db, struct strvec *out, bool *present, struct otap_err *err)
{
    int rc = db->ops->table_exists(db, "schema_migrations", present, err);
    if (rc < 0 || !*present)
        return rc;
    return db->ops->query_column(db, "SELECT version FROM schema_migrations ORDER BY version", 0,
                                 NULL, out, err);
}

int db_record_applied(struct db *db, const struct db_record *recs, size_t n, struct otap_err *err)
{
    int rc = db->ops->migrations_init(db, err);
    return rc < 0 ? rc : db->ops->record(db, recs, n, err);
}

int db_user_table_count(struct db *db, long *count, struct otap_err *err)
{
    return db->ops->user_table_count(db, count, err);
}

int db_marker_read(struct db *db, const char *table, char **value, struct otap_err *err)
{
    if (!db_ident_ok(table))
        return otap_err_set(err, OTAP_EINVALID, "'%s' is not a plain table name", table);
    return db->ops->marker_read(db, table, value, err);
}

int db_marker_write(struct db *db, const char *table, const char *value, struct otap_err *err)
{
    if (!db_ident_ok(table))
        return otap_err_set(err, OTAP_EINVALID, "'%s' is not a plain table name", table);
    return db->ops->marker_write(db, table, value, err);
}

int db_migrations_init(struct db *db, struct otap_err *err)
{
    return db->ops->migrations_init(db, err);
}

int db_migrations_applied(struct db *db, struct db_applied_list *out, struct otap_err *err)
{
    return db->ops->migrations_applied(db, out, err);
}

int db_apply(struct db *db, const struct db_stmt *stmts, size_t n, bool transaction,
             const struct db_record *rec, long long *duration_ms, struct db_failure *fail,
             struct otap_err *err)
{
    return db->ops->apply(db, stmts, n, transaction, rec, duration_ms, fail, err);
}

int db_unapply(struct db *db, const struct db_stmt *stmts, size_t n, bool transaction,
               const char *version, struct db_failure *fail, struct otap_err *err)
{
    return db->ops->unapply(db, stmts, n, transaction, version, fail, err);
}

int db_sync(struct db *db, struct otap_err *err)
{
    return db->ops->sync(db, err);
}

int db_dump_schema(struct db *db, char **out, struct otap_err *err)
{
    return db->ops->dump_schema(db, out, err);
}

void db_failure_release(struct db_failure *f)
{
    if (!f)
        return;
    free(f->message);
    free(f->sqlstate);
    free(f->detail);
    free(f->hint);
    memset(f, 0, sizeof(*f));
}

void db_applied_list_release(struct db_applied_list *l)
{
    if (!l)
        return;
    for (size_t i = 0; i < l->n; i++) {
        free(l->items[i].version);
        free(l->items[i].name);
        free(l->items[i].checksum);
        free(l->items[i].applied_at);
        free(l->items[i].applied_by);
    }
    free(l->items);
    memset(l, 0, sizeof(*l));
}

char *db_url_with_scheme(const char *url, const char *scheme)
{
    const char *sep = strstr(url, "://");
    if (!sep || sep == url)
        return NULL;
    return xasprintf("%s%s", scheme, sep);
}
