/*
 * The state store's front: choosing the backend, otap's schema and its
 * upgrades, transactions, and the rows queries hand back.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/time.h>
#include <time.h>

#include "db/db.h"
#include "base/fileio.h"
#include "base/num.h"
#include "base/redact.h"
#include "state/store_impl.h"
#include "base/xalloc.h"
#include "base/banned.h"

/*
 * One entry per schema version, applied in order inside one exclusive
 * transaction. Only SQL both dialects accept; never edit a shipped
 * version, add the next one.
 */
static const char *const schema_v1[] = {
    "CREATE TABLE otap_artifacts (digest text PRIMARY KEY, version text UNIQUE, commit_id text, "
    "path text, kind text NOT NULL, registered_at text NOT NULL, registered_by text NOT NULL)",
    "CREATE TABLE otap_gate_results (id bigint PRIMARY KEY, gate text NOT NULL, digest text NOT "
    "NULL REFERENCES otap_artifacts (digest), result text NOT NULL CHECK (result IN ('pass', "
    "'fail')), url text, recorded_at text NOT NULL, recorded_by text NOT NULL)",
    "CREATE INDEX otap_gate_results_by_build ON otap_gate_results (digest, gate, id)",
    "CREATE TABLE otap_signoffs (id bigint PRIMARY KEY, env text NOT NULL, digest text NOT NULL "
    "REFERENCES otap_artifacts (digest), by_name text NOT NULL, note text, recorded_at text NOT "
    "NULL, recorded_by text NOT NULL)",
    "CREATE TABLE otap_deployments (id bigint PRIMARY KEY, env text NOT NULL, digest text NOT "
    "NULL REFERENCES otap_artifacts (digest), kind text NOT NULL, state text NOT NULL, "
    "previous_digest text, started_at text NOT NULL, finished_at text, actor text NOT NULL, "
    "reason text)",
    "CREATE INDEX otap_deployments_by_env ON otap_deployments (env, id)",
    "CREATE TABLE otap_env_locks (env text PRIMARY KEY, deployment_id bigint, host text NOT "
    "NULL, pid bigint NOT NULL, started text NOT NULL, since text NOT NULL, actor text NOT NULL)",
    "CREATE TABLE otap_ledger (seq bigint PRIMARY KEY, at text NOT NULL, actor text NOT NULL, "
    "action text NOT NULL, env text, subject text, details text NOT NULL, prev_hash text NOT "
    "NULL, hash text NOT NULL)",
    "INSERT INTO otap_state_meta (key, value) VALUES ('ledger_head_seq', '0'), "
    "('ledger_head_hash', '0000000000000000000000000000000000000000000000000000000000000000')",
    NULL,
};

/* v2: flag changes made without a deploy (otap flags enable|disable|rollout) */
static const char *const schema_v2[] = {
    "CREATE TABLE otap_flag_states (flag text NOT NULL, env text NOT NULL, enabled text NOT NULL "
    "CHECK (enabled IN ('true', 'false')), weights text, updated_at text NOT NULL, updated_by "
    "text NOT NULL, PRIMARY KEY (flag, env))",
    NULL,
};

/* v3: a flag's targeting rules per environment (otap flags set --rule); NULL: the manifest's */
static const char *const schema_v3[] = {
    "ALTER TABLE otap_flag_states ADD COLUMN rules text",
    NULL,
};

static const char *const *const schema_versions[STORE_SCHEMA_VERSION] = {schema_v1, schema_v2,
                                                                         schema_v3};

void store_rows_push(struct store_rows *r, size_t ncols, const char *const *cells)
{
    r->cells = xreallocarray(r->cells, (r->nrows + 1) * (ncols ? ncols : 1), sizeof(char *));
    for (size_t c = 0; c < ncols; c++)
        r->cells[r->nrows * ncols + c] = cells[c] ? xstrdup(cells[c]) : NULL;
    r->nrows++;
}

const char *store_cell(const struct store_rows *r, size_t row, size_t col)
{
    if (row >= r->nrows || col >= r->ncols)
        return NULL;
    return r->cells[row * r->ncols + col];
}

char *store_cell_dup(const struct store_rows *r, size_t row, size_t col)
{
    const char *v = store_cell(r, row, col);
    return v ? xstrdup(v) : NULL;
}

void store_rows_release(struct store_rows *r)
{
    if (!r)
        return;
    for (size_t i = 0; i < r->nrows * r->ncols; i++)
        free(r->cells[i]);
    free(r->cells);
    memset(r, 0, sizeof(*r));
}

void store_time_now(char out[32])
{
    struct timeval tv;
    gettimeofday(&tv, NULL);
    struct tm tm;
    gmtime_r(&tv.tv_sec, &tm);
    size_t n = strftime(out, 32, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(out + n, 32 - n, ".%03dZ", (int)(tv.tv_usec / 1000) % 1000);
}

int store_exec(struct store *s, const char *sql, const char *const *params, size_t nparams,
               struct store_rows *rows, struct otap_err *err)
{
    return s->ops->exec(s, sql, params, nparams, rows, err);
}

int store_begin(struct store *s, struct otap_err *err)
{
    int rc = s->ops->begin(s, err);
    if (rc == 0)
        s->in_tx = true;
    return rc;
}

int store_begin_snapshot(struct store *s, struct otap_err *err)
{
    int rc = store_exec(
        s, s->kind == STORE_POSTGRES ? "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY" : "BEGIN",
        NULL, 0, NULL, err);
    if (rc == 0)
        s->in_tx = true;
    return rc;
}

int store_commit(struct store *s, struct otap_err *err)
{
    int rc = s->ops->exec(s, "COMMIT", NULL, 0, NULL, err);
    if (rc < 0)
        store_rollback(s);
    s->in_tx = false;
    return rc;
}

int store_end(struct store *s, int rc, struct otap_err *err)
{
    if (rc < 0) {
        store_rollback(s);
        return rc;
    }
    return store_commit(s, err);
}

void store_rollback(struct store *s)
{
    if (!s->in_tx)
        return;
    struct otap_err ignored = OTAP_ERR_INIT;
    s->ops->exec(s, "ROLLBACK", NULL, 0, NULL, &ignored);
    otap_err_release(&ignored);
    s->in_tx = false;
}

bool store_in_transaction(const struct store *s)
{
    return s->in_tx;
}

int store_next_id(struct store *s, const char *table, long long *id, struct otap_err *err)
{
    char *q = xasprintf("SELECT COALESCE(MAX(id), 0) + 1 FROM %s", table);
    struct store_rows r;
    int rc = store_exec(s, q, NULL, 0, &r, err);
    free(q);
    if (rc < 0)
        return rc;
    const char *v = store_cell(&r, 0, 0);
    if (!v || num_parse_ll(v, id) < 0)
        rc = otap_err_set(err, OTAP_EEXTERNAL, "cannot number a row of %s", table);
    store_rows_release(&r);
    return rc;
}

enum store_kind store_kind_of(const struct store *s)
{
    return s->kind;
}

const char *store_describe(const struct store *s)
{
    return s->desc;
}

/* The schema version written in the store: 0 when it has none yet. */
static int schema_version(struct store *s, long long *out, struct otap_err *err)
{
    struct store_rows r;
    int rc = store_exec(s, "SELECT value FROM otap_state_meta WHERE key = 'schema_version'", NULL,
                        0, &r, err);
    if (rc < 0)
        return rc;
    *out = 0;
    const char *v = store_cell(&r, 0, 0);
    if (v && num_parse_ll(v, out) < 0)
        rc = otap_err_set(err, OTAP_EREFUSED,
                          "state store '%s' has an unreadable schema version '%s'", s->desc, v);
    store_rows_release(&r);
    return rc;
}

static int upgrade(struct store *s, struct otap_err *err)
{
    long long v = 0;
    struct otap_err probe = OTAP_ERR_INIT;
    int rc = schema_version(s, &v, &probe);
    otap_err_release(&probe);
    if (rc == 0 && v == STORE_SCHEMA_VERSION)
        return 0;
    if ((rc = store_begin(s, err)) < 0)
        return rc;
    rc = store_exec(s,
                    "CREATE TABLE IF NOT EXISTS otap_state_meta (key text PRIMARY KEY, value "
                    "text NOT NULL)",
                    NULL, 0, NULL, err);
    if (rc == 0)
        rc = schema_version(s, &v, err); /* again: another process may have upgraded it */
    if (rc == 0 && v > STORE_SCHEMA_VERSION)
        rc = otap_err_set(err, OTAP_EREFUSED,
                          "state store '%s' has schema version %lld, newer than this otap's %d: "
                          "upgrade otap",
                          s->desc, v, STORE_SCHEMA_VERSION);
    for (long long next = v + 1; rc == 0 && next <= STORE_SCHEMA_VERSION; next++) {
        for (const char *const *q = schema_versions[next - 1]; rc == 0 && *q; q++)
            rc = store_exec(s, *q, NULL, 0, NULL, err);
        char ver[24];
        snprintf(ver, sizeof(ver), "%lld", next);
        const char *p[] = {ver};
        if (rc == 0)
            rc = store_exec(s,
                            next == 1 ? "INSERT INTO otap_state_meta (key, value) VALUES "
                                        "('schema_version', $1)"
                                      : "UPDATE otap_state_meta SET value = $1 WHERE key = "
                                        "'schema_version'",
                            p, 1, NULL, err);
    }
    return store_end(s, rc, err);
}

static int open_sqlite(struct store *s, const char *root, struct otap_err *err)
{
    s->path = db_sqlite_path(s->url, root);
    if (!*s->path)
        return otap_err_set(err, OTAP_EINVALID, "'%s' names no file (write sqlite:PATH)", s->desc);
    return store_sqlite_open(s, err);
}

static int open_pg(struct store *s, const char *root, struct otap_err *err)
{
    (void)root;
    return store_pg_open(s, err);
}

/* Each backend, by the URL schemes it answers to (libpq wants them in lower case). */
static const struct store_backend {
    enum store_kind kind;
    const char *schemes[3];
    bool any_case;
    int (*open)(struct store *s, const char *root, struct otap_err *err);
} backends[] = {
    {STORE_SQLITE, {"sqlite:", "sqlite3:", NULL}, true, open_sqlite},
    {STORE_POSTGRES, {"postgresql://", "postgres://", NULL}, false, open_pg},
};

int store_open_url(struct store **out, const char *url, const char *root, struct otap_err *err)
{
    struct store *s = xcalloc(1, sizeof(*s));
    s->url = xstrdup(url);
    s->desc = redact_text(url);
    const struct store_backend *b = NULL;
    for (size_t i = 0; !b && i < sizeof(backends) / sizeof(backends[0]); i++)
        for (const char *const *sc = backends[i].schemes; *sc; sc++)
            if (!(backends[i].any_case ? strncasecmp : strncmp)(url, *sc, strlen(*sc)))
                b = &backends[i];
    int rc;
    if (b) {
        s->kind = b->kind;
        rc = b->open(s, root, err);
    } else {
        rc = otap_err_set(err, OTAP_EINVALID,
                          "OTAP_STATE_URL '%s' is neither postgresql://... nor sqlite:PATH",
                          s->desc);
    }
    if (rc == 0)
        rc = upgrade(s, err);
    if (rc < 0) {
        store_close(s);
        return rc;
    }
    *out = s;
    return 0;
}

int store_open(struct store **out, const char *root, struct otap_err *err)
{
    const char *url = getenv("OTAP_STATE_URL");
    if (url && *url)
        return store_open_url(out, url, root, err);
    char *dir = xasprintf("%s/.otap", root);
    int rc = fileio_mkdirs(dir, ".otap", err);
    free(dir);
    if (rc < 0)
        return rc;
    char *u = xasprintf("sqlite:%s/.otap/state.db", root);
    rc = store_open_url(out, u, root, err);
    free(u);
    return rc;
}

void store_set_redactor(struct store *s, const struct redactor *r)
{
    s->redact = r;
}

const struct redactor *store_redactor(const struct store *s)
{
    return s->redact;
}

void store_close(struct store *s)
{
    if (!s)
        return;
    if (s->ops) {
        store_rollback(s);
        s->ops->close(s);
    }
    if (s->url) {
        explicit_bzero(s->url, strlen(s->url));
        free(s->url);
    }
    free(s->desc);
    free(s->path);
    free(s);
}
