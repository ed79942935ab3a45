/*
 * Backups and drills (backup.h).
 */
#include "backup/backup.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "backup/codec.h"
#include "backup/facts.h"
#include "backup/pgtool.h"
#include "base/monotime.h"
#include "base/proc.h"
#include "base/xalloc.h"
#include "db/db.h"
#include "db/marker.h"
#include "db/pgconn.h"
#include "state/ledger.h"
#include "base/banned.h"

#define CHUNK (1u << 20)

static void now_iso(char out[32])
{
    store_time_now(out);
}

static int ledger(const struct bk_ctx *c, const char *action, const char *subject, json_t *details,
                  struct otap_err *err)
{
    if (!c->store) {
        json_decref(details);
        return 0;
    }
    int rc = store_begin(c->store, err);
    if (rc == 0)
        rc = ledger_append(c->store, c->actor, action, c->env->name, subject, details, NULL, err);
    else
        json_decref(details);
    return store_end(c->store, rc, err);
}

static const char *marker_table(const struct bk_ctx *c)
{
    return c->m->database.marker_table ? c->m->database.marker_table : MARKER_DEFAULT_TABLE;
}

/* ---- create ---------------------------------------------------------------------------------- */

struct facts_job {
    PGconn *conn;
    const char *table;
    json_t *facts;
    struct otap_err err;
    int rc;
};

static void *facts_thread(void *arg)
{
    struct facts_job *j = arg;
    j->rc = bk_facts_collect(j->conn, j->table, &j->facts, &j->err);
    return NULL;
}

/* The marker must say this environment: proven before anything is read. */
int bk_prove_marker(const struct bk_ctx *c, const char *url, const char *what, struct otap_err *err)
{
    struct db *db = NULL;
    int rc = db_open(&db, url, c->m->dir, DB_READ, err);
    if (rc < 0)
        return rc;
    struct marker_status st;
    marker_inspect(db, marker_table(c), c->env->marker, &st);
    if (st.state != MARKER_MATCH) {
        char *why = marker_refusal(&st, c->env->name);
        rc = otap_err_set(err, OTAP_EREFUSED, "%s%s%s", what ? what : "", what ? ": " : "",
                          why ? why
                          : st.state == MARKER_FRESH
                              ? "the database has no marker and no table: nothing proves "
                                "it is this environment's"
                              : "its marker does not prove it is this environment's");
        free(why);
    }
    marker_status_release(&st);
    db_close(db);
    return rc;
}

static char *make_id(const char *env)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    struct tm tm;
    gmtime_r(&ts.tv_sec, &tm);
    char stamp[32];
    strftime(stamp, sizeof stamp, "%Y%m%dT%H%M%S", &tm);
    return xasprintf("%s-%s%03ldZ", env, stamp, ts.tv_nsec / 1000000);
}

int bk_create(const struct bk_ctx *c, json_t **entry, struct otap_err *err)
{
    *entry = NULL;
    int rc = bk_prove_marker(c, c->db_url, NULL, err);
    if (rc < 0)
        return rc;
    char *id = make_id(c->env->name);
    char *object = xasprintf("%s.dump.zst%s", id, c->key ? ".enc" : "");
    char *running_name = xasprintf("%s.running", id);
    char host[256] = "";
    gethostname(host, sizeof host - 1);
    char started[32];
    now_iso(started);
    long long t0 = monotime_ms();

    /* who is writing, so prune can tell a crash from a backup under way */
    json_t *running = json_pack("{s:s, s:I, s:s, s:s}", "host", host, "pid", (json_int_t)getpid(),
                                "start", "", "started", started);
    char *st = proc_start_time((long long)getpid());
    json_object_set_new(running, "start", json_string(st));
    free(st);
    char *rtext = json_dumps(running, JSON_COMPACT);
    json_decref(running);
    rc = bk_put_small(c->target, running_name, rtext, strlen(rtext), err);
    free(rtext);

    PGconn *snap = NULL;
    char *snapshot = NULL;
    char *desc = xstrdup("the database");
    if (rc == 0)
        rc = bk_snapshot_open(&snap, c->db_url, desc, &snapshot, err);
    char **env = snap ? pgconn_env(snap) : NULL;
    struct pgtool dump = {.pid = -1, .fd = -1, .err_fd = -1, .out_fd = -1};
    if (rc == 0) {
        char *snaparg = xasprintf("--snapshot=%s", snapshot);
        char *argv[] = {"pg_dump",       "--format=custom", "--compress=0",
                        "--no-password", snaparg,           NULL};
        rc = pgtool_start(&dump, argv, env, false, err);
        free(snaparg);
    }
    /* the facts, in the same snapshot, while pg_dump streams */
    struct facts_job job = {.conn = snap, .table = marker_table(c), .err = OTAP_ERR_INIT};
    pthread_t th;
    bool thread = false;
    if (rc == 0)
        thread = pthread_create(&th, NULL, facts_thread, &job) == 0;
    if (rc == 0 && !thread)
        rc = otap_err_set(err, OTAP_EEXTERNAL, "cannot start a thread");

    struct bk_put *put = NULL;
    struct bk_writer *w = NULL;
    if (rc == 0)
        rc = bk_put_begin(c->target, object, &put, err);
    if (rc == 0) {
        long n = sysconf(_SC_NPROCESSORS_ONLN);
        rc = bk_writer_open(&w, put, c->cfg->zstd_level > 0 ? c->cfg->zstd_level : 3,
                            n > 1 ? (int)n : 0, c->key, err);
    }
    unsigned char *buf = xmalloc(CHUNK);
    long long last = monotime_ms();
    while (rc == 0) {
        ssize_t n = read(dump.fd, buf, CHUNK);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            rc = otap_err_set(err, OTAP_EEXTERNAL, "cannot read pg_dump's output: %s",
                              strerror(errno));
            break;
        }
        if (n == 0)
            break;
        rc = bk_writer_write(w, buf, (size_t)n, err);
        if (c->progress && monotime_ms() - last >= 500) {
            last = monotime_ms();
            c->progress(c->progress_ctx, bk_writer_raw(w), 0, (double)(last - t0) / 1000, false);
        }
    }
    free(buf);
    if (rc == 0)
        rc = pgtool_wait(&dump, "pg_dump", err);
    else
        pgtool_kill(&dump);
    if (thread) {
        pthread_join(th, NULL);
        if (rc == 0 && job.rc < 0) {
            rc = job.rc;
            otap_err_set(err, job.rc, "%s", job.err.msg ? job.err.msg : "cannot read the facts");
        }
    }
    otap_err_release(&job.err);
    char sha[SHA256_HEX_LEN + 1] = "";
    long long raw = 0, stored = 0;
    if (rc == 0) {
        rc = bk_writer_finish(w, sha, &raw, &stored, err);
        w = NULL;
    }
    bk_writer_free(w);
    if (rc == 0) {
        rc = bk_put_finish(put, err);
        put = NULL;
    }
    if (put)
        bk_put_abort(put);
    if (snap) {
        PQclear(PQexec(snap, "COMMIT"));
        PQfinish(snap);
    }
    pgconn_env_free(env);
    free(snapshot);
    free(desc);

    json_t *e = NULL;
    if (rc == 0) {
        char finished[32];
        now_iso(finished);
        e = job.facts;
        job.facts = NULL;
        json_t *base = json_pack(
            "{s:s, s:s, s:s, s:s, s:I, s:I, s:s, s:s, s:s, s:i, s:b, s:s, s:s, s:I, s:s, s:s}",
            "id", id, "env", c->env->name, "object", object, "target", bk_target_name(c->target),
            "size", (json_int_t)stored, "raw_size", (json_int_t)raw, "sha256", sha, "format",
            "pg_dump custom", "compression", "zstd", "zstd_level",
            c->cfg->zstd_level > 0 ? c->cfg->zstd_level : 3, "encrypted", c->key != NULL, "started",
            started, "finished", finished, "duration_ms", (json_int_t)(monotime_ms() - t0), "host",
            host, "otap_version", c->otap_version ? c->otap_version : "");
        json_object_update(base, e);
        json_decref(e);
        e = base;
        /* the entry last: until it is there, the backup does not exist */
        char *text = json_dumps(e, JSON_INDENT(2) | JSON_SORT_KEYS);
        char *name = xasprintf("%s.json", id);
        rc = bk_put_small(c->target, name, text, strlen(text), err);
        free(name);
        free(text);
        if (rc < 0) {
            struct otap_err e2 = OTAP_ERR_INIT;
            bk_delete_name(c->target, object, &e2);
            otap_err_release(&e2);
        }
    }
    json_decref(job.facts);
    struct otap_err e3 = OTAP_ERR_INIT;
    bk_delete_name(c->target, running_name, &e3);
    otap_err_release(&e3);
    if (c->progress && rc == 0)
        c->progress(c->progress_ctx, raw, stored, (double)(monotime_ms() - t0) / 1000, true);
    if (rc == 0)
        rc = ledger(
            c, "backup.created", id,
            json_pack("{s:s, s:s, s:O, s:O, s:O, s:O, s:O, s:o}", "id", id, "target",
                      bk_target_name(c->target), "size", json_object_get(e, "size"), "sha256",
                      json_object_get(e, "sha256"), "duration_ms",
                      json_object_get(e, "duration_ms"), "finished", json_object_get(e, "finished"),
                      "encrypted", json_object_get(e, "encrypted"), "tables",
                      json_integer((json_int_t)json_object_size(json_object_get(e, "tables")))),
            err);
    free(id);
    free(object);
    free(running_name);
    if (rc < 0) {
        json_decref(e);
        return rc;
    }
    *entry = e;
    return 0;
}

/* ---- the catalog ----------------------------------------------------------------------------- */

/* "ID.json" -> ID; NULL when name is not ID plus suffix */
static char *id_of(const char *name, const char *suffix)
{
    size_t n = strlen(name), s = strlen(suffix);
    return n > s && !strcmp(name + n - s, suffix) ? xstrndup(name, n - s) : NULL;
}

static int by_id_desc(const void *a, const void *b)
{
    json_t *const *x = a, *const *y = b;
    return strcmp(json_string_value(json_object_get(*y, "id")),
                  json_string_value(json_object_get(*x, "id")));
}

/* Is the writer of a running marker still at work? */
static bool writer_alive(json_t *running, time_t mtime)
{
    char host[256] = "";
    gethostname(host, sizeof host - 1);
    const char *h = json_string_value(json_object_get(running, "host"));
    long long pid = json_integer_value(json_object_get(running, "pid"));
    if (h && !strcmp(h, host)) {
        if (pid <= 0 || (kill((pid_t)pid, 0) < 0 && errno == ESRCH))
            return false;
        char *st = proc_start_time(pid);
        const char *want = json_string_value(json_object_get(running, "start"));
        bool same = st && *st && want && !strcmp(st, want);
        free(st);
        return same;
    }
    /* another machine's: trusted for a day */
    return time(NULL) - mtime < 24 * 3600;
}

int bk_catalog_read(struct bk_target *t, const char *env, struct bk_catalog *out,
                    struct otap_err *err)
{
    out->entries = json_array();
    out->partials = json_array();
    struct bk_objects objs;
    int rc = bk_list(t, &objs, err);
    if (rc < 0)
        return rc;
    size_t pl = strlen(env);
    /* entries first */
    for (size_t i = 0; i < objs.n && rc == 0; i++) {
        char *id = id_of(objs.items[i].name, ".json");
        if (!id)
            continue;
        if (strncmp(id, env, pl) || id[pl] != '-') {
            free(id);
            continue;
        }
        char *data = NULL;
        size_t len = 0;
        rc = bk_get_small(t, objs.items[i].name, &data, &len, err);
        if (rc == 0) {
            json_error_t je;
            json_t *e = json_loadb(data, len, 0, &je);
            if (!json_is_object(e) || !json_is_string(json_object_get(e, "object")))
                rc = otap_err_set(err, OTAP_EINVALID, "%s/%s is not a catalog entry: %s",
                                  bk_target_name(t), objs.items[i].name,
                                  e ? "fields are missing" : je.text);
            else
                json_array_append(out->entries, e);
            json_decref(e);
        }
        free(data);
        free(id);
    }
    /* then what belongs to no entry: a backup that never finished */
    for (size_t i = 0; i < objs.n && rc == 0; i++) {
        const struct bk_object *o = &objs.items[i];
        if (strncmp(o->name, env, pl) || o->name[pl] != '-')
            continue;
        size_t idl = strcspn(o->name, ".");
        char *id = xstrndup(o->name, idl);
        bool owned = false;
        size_t k;
        json_t *e;
        json_array_foreach(out->entries, k, e) owned |=
            !strcmp(json_string_value(json_object_get(e, "id")), id);
        if (!owned) {
            json_t *p = NULL;
            json_array_foreach(out->partials, k,
                               e) if (!strcmp(json_string_value(json_object_get(e, "id")), id)) p =
                e;
            if (!p) {
                p = json_pack("{s:s, s:[], s:n, s:b}", "id", id, "objects", "running",
                              "in_progress", 0);
                json_array_append_new(out->partials, p);
            }
            json_array_append_new(json_object_get(p, "objects"),
                                  json_pack("{s:s, s:I, s:s?}", "name", o->name, "size",
                                            (json_int_t)o->size, "upload_id", o->upload_id));
            char *rid = id_of(o->name, ".running");
            if (rid) {
                char *data = NULL;
                size_t len = 0;
                struct otap_err e2 = OTAP_ERR_INIT;
                if (bk_get_small(t, o->name, &data, &len, &e2) == 0) {
                    json_t *r = json_loadb(data, len, 0, NULL);
                    json_object_set_new(p, "in_progress", json_boolean(writer_alive(r, o->mtime)));
                    json_object_set_new(p, "running", r ? r : json_null());
                }
                otap_err_release(&e2);
                free(data);
                free(rid);
            }
        }
        free(id);
    }
    bk_objects_release(&objs);
    if (rc < 0) {
        bk_catalog_release(out);
        return rc;
    }
    /* ids sort by time */
    size_t n = json_array_size(out->entries);
    json_t **v = xcalloc(n ? n : 1, sizeof(json_t *));
    for (size_t i = 0; i < n; i++)
        v[i] = json_incref(json_array_get(out->entries, i));
    qsort(v, n, sizeof(json_t *), by_id_desc);
    json_array_clear(out->entries);
    for (size_t i = 0; i < n; i++)
        json_array_append_new(out->entries, v[i]);
    free(v);
    return 0;
}

void bk_catalog_release(struct bk_catalog *c)
{
    json_decref(c->entries);
    json_decref(c->partials);
    c->entries = c->partials = NULL;
}

json_t *bk_catalog_find(const struct bk_catalog *cat, const char *id)
{
    if (!id)
        return json_array_get(cat->entries, 0);
    size_t i;
    json_t *e;
    json_array_foreach(cat->entries, i,
                       e) if (!strcmp(json_string_value(json_object_get(e, "id")), id)) return e;
    return NULL;
}

/* ---- reading an object back ------------------------------------------------------------------ */

/* The reader's output: to a tool's stdin until it stops reading. */
static int to_tool(void *ctx, const unsigned char *data, size_t len)
{
    struct pgtool *t = ctx;
    return pgtool_write(t, data, len) < 0 ? 1 : 0;
}

/* Streams entry's object through a reader into tool (already started); checks the stream. */
static int stream_into(const struct bk_ctx *c, json_t *entry, struct pgtool *tool, bool stop_early,
                       char sha[SHA256_HEX_LEN + 1], long long *size, struct otap_err *err)
{
    struct bk_reader *r;
    bk_reader_open(&r, c->key, to_tool, tool, stop_early, err);
    const char *object = json_string_value(json_object_get(entry, "object"));
    int rc = bk_get(c->target, object, bk_reader_push, r, size, err);
    if (rc == 0 && stop_early) {
        bk_reader_free(r); /* the rest was never read: nothing to check */
        return 0;
    }
    /* a fault of the stream itself gets its message here */
    char ignored[SHA256_HEX_LEN + 1];
    int frc = bk_reader_finish(r, sha ? sha : ignored, NULL, err);
    return rc < 0 ? rc : frc;
}

static bool encrypted(json_t *entry)
{
    return json_is_true(json_object_get(entry, "encrypted"));
}

static int need_key(const struct bk_ctx *c, json_t *entry, struct otap_err *err)
{
    if (encrypted(entry) && !c->key)
        return otap_err_set(err, OTAP_EREFUSED,
                            "backup %s is encrypted, and no key is configured (encrypt_with)",
                            json_string_value(json_object_get(entry, "id")));
    return 0;
}

int bk_verify(const struct bk_ctx *c, json_t *entry, json_t **problems, struct otap_err *err)
{
    *problems = json_array();
    const char *id = json_string_value(json_object_get(entry, "id"));
    int rc = need_key(c, entry, err);
    if (rc < 0)
        return rc;
    struct pgtool t;
    char *argv[] = {"pg_restore", "--list", NULL};
    rc = pgtool_start(&t, argv, NULL, true, err);
    if (rc < 0)
        return rc;
    char sha[SHA256_HEX_LEN + 1] = "";
    long long size = 0;
    struct otap_err serr = OTAP_ERR_INIT;
    int src = stream_into(c, entry, &t, false, sha, &size, &serr);
    if (src == OTAP_EEXTERNAL || src == OTAP_ENOTFOUND) {
        /* the object could not be read at all */
        pgtool_kill(&t);
        json_decref(*problems);
        *problems = NULL;
        otap_err_set(err, src, "%s", serr.msg);
        otap_err_release(&serr);
        return src;
    }
    if (src < 0)
        json_array_append_new(*problems, json_string(serr.msg ? serr.msg : "unreadable"));
    otap_err_release(&serr);
    long long want = json_integer_value(json_object_get(entry, "size"));
    if (size != want) {
        char *m = xasprintf("the object is %lld bytes, the catalog says %lld", size, want);
        json_array_append_new(*problems, json_string(m));
        free(m);
    }
    const char *wsha = json_string_value(json_object_get(entry, "sha256"));
    if (!wsha || strcmp(wsha, sha)) {
        char *m = xasprintf("the object's SHA-256 is %.16s..., the catalog says %.16s...", sha,
                            wsha ? wsha : "none");
        json_array_append_new(*problems, json_string(m));
        free(m);
    }
    struct otap_err terr = OTAP_ERR_INIT;
    int trc = pgtool_wait(&t, "pg_restore --list", &terr);
    char *listing = pgtool_stdout(&t);
    if (trc < 0)
        json_array_append_new(*problems, json_string(terr.msg));
    else if (!strstr(listing, "TABLE") && !strstr(listing, "SCHEMA"))
        json_array_append_new(*problems, json_string("pg_restore --list finds nothing in it"));
    free(listing);
    otap_err_release(&terr);
    bool ok = json_array_size(*problems) == 0;
    rc = ledger(c, "backup.verified", id,
                json_pack("{s:s, s:b, s:O}", "id", id, "ok", ok, "problems", *problems), err);
    if (rc < 0)
        return rc;
    return ok ? 0 : OTAP_EFOUND;
}

/* ---- retention ------------------------------------------------------------------------------- */

/* The ids that passed a verify or a drill, from the ledger. */
static int proven_ids(const struct bk_ctx *c, json_t **ids, struct otap_err *err)
{
    *ids = json_object();
    if (!c->store)
        return 0;
    const char *p[] = {c->env->name};
    struct store_rows r;
    int rc = store_exec(c->store,
                        "SELECT subject, details FROM otap_ledger WHERE env = $1 AND action IN "
                        "('backup.verified', 'backup.drill') ORDER BY seq",
                        p, 1, &r, err);
    if (rc < 0)
        return rc;
    for (size_t i = 0; i < r.nrows; i++) {
        json_t *d = json_loads(store_cell(&r, i, 1), 0, NULL);
        const char *id = store_cell(&r, i, 0);
        if (id)
            json_object_set_new(*ids, id, json_boolean(json_is_true(json_object_get(d, "ok"))));
        json_decref(d);
    }
    store_rows_release(&r);
    return 0;
}

static time_t iso_seconds(const char *s)
{
    struct tm tm = {0};
    if (!s || !strptime(s, "%Y-%m-%dT%H:%M:%S", &tm))
        return 0;
    return timegm(&tm);
}

int bk_prune(const struct bk_ctx *c, bool apply, json_t **result, struct otap_err *err)
{
    *result = NULL;
    struct bk_catalog cat;
    int rc = bk_catalog_read(c->target, c->env->name, &cat, err);
    if (rc < 0)
        return rc;
    json_t *proven = NULL;
    if ((rc = proven_ids(c, &proven, err)) < 0) {
        bk_catalog_release(&cat);
        return rc;
    }
    /* the newest backup a verify or drill passed, last word per id */
    const char *keep_proven = NULL;
    size_t i;
    json_t *e;
    json_array_foreach(cat.entries, i, e)
    {
        const char *id = json_string_value(json_object_get(e, "id"));
        if (json_is_true(json_object_get(proven, id))) {
            keep_proven = id;
            break;
        }
    }
    time_t now = time(NULL);
    json_t *del = json_array(), *keep = json_array(), *partial = json_array();
    json_array_foreach(cat.entries, i, e)
    {
        const char *id = json_string_value(json_object_get(e, "id"));
        time_t at = iso_seconds(json_string_value(json_object_get(e, "finished")));
        bool by_count = c->cfg->keep_last < 0 || (long)i < c->cfg->keep_last;
        bool by_age = c->cfg->keep_days < 0 || now - at < (time_t)c->cfg->keep_days * 86400;
        const char *why = NULL;
        if (keep_proven && !strcmp(id, keep_proven))
            why = "the newest backup a verify or drill proved";
        else if (by_count && c->cfg->keep_last >= 0)
            why = "among the newest keep_last";
        else if (by_age && c->cfg->keep_days >= 0)
            why = "younger than keep_days";
        else if (c->cfg->keep_last < 0 && c->cfg->keep_days < 0)
            why = "no retention is set";
        if (why)
            json_array_append_new(keep, json_pack("{s:s, s:s}", "id", id, "why", why));
        else
            json_array_append_new(del, json_pack("{s:s, s:s, s:O}", "id", id, "finished",
                                                 json_string_value(json_object_get(e, "finished")),
                                                 "size", json_object_get(e, "size")));
    }
    json_array_foreach(cat.partials, i, e)
    {
        if (json_is_true(json_object_get(e, "in_progress")))
            json_array_append_new(keep, json_pack("{s:O, s:s}", "id", json_object_get(e, "id"),
                                                  "why", "a backup under way"));
        else
            json_array_append(partial, e);
    }
    if (apply) {
        json_array_foreach(del, i, e)
        {
            json_t *entry = bk_catalog_find(&cat, json_string_value(json_object_get(e, "id")));
            const char *object = json_string_value(json_object_get(entry, "object"));
            char *cname = xasprintf("%s.json", json_string_value(json_object_get(e, "id")));
            /* the entry first: a backup without its data must never look complete */
            if ((rc = bk_delete_name(c->target, cname, err)) == 0)
                rc = bk_delete_name(c->target, object, err);
            free(cname);
            if (rc < 0)
                break;
        }
        json_array_foreach(partial, i, e)
        {
            size_t k;
            json_t *o;
            json_array_foreach(json_object_get(e, "objects"), k, o)
            {
                struct bk_object obj = {
                    .name = (char *)json_string_value(json_object_get(o, "name")),
                    .upload_id = (char *)json_string_value(json_object_get(o, "upload_id"))};
                if (rc == 0)
                    rc = bk_delete(c->target, &obj, err);
            }
        }
    }
    json_decref(proven);
    bk_catalog_release(&cat);
    *result = json_pack("{s:b, s:o, s:o, s:o}", "applied", apply, "delete", del, "keep", keep,
                        "partial", partial);
    if (rc == 0 && apply && (json_array_size(del) || json_array_size(partial)))
        rc = ledger(c, "backup.pruned", NULL,
                    json_pack("{s:O, s:O}", "deleted", json_object_get(*result, "delete"),
                              "partial", json_object_get(*result, "partial")),
                    err);
    return rc;
}

/* ---- restore --------------------------------------------------------------------------------- */

/* A connection to another database on the server c is connected to. */
static int connect_to(PGconn *like, const char *dbname, PGconn **out, struct otap_err *err)
{
    PQconninfoOption *opts = PQconninfo(like);
    if (!opts)
        return otap_err_set(err, OTAP_EEXTERNAL, "cannot read the connection settings");
    size_t n = 0;
    for (PQconninfoOption *o = opts; o->keyword; o++)
        n++;
    const char **keys = xcalloc(n + 1, sizeof(char *)), **vals = xcalloc(n + 1, sizeof(char *));
    size_t k = 0;
    for (PQconninfoOption *o = opts; o->keyword; o++) {
        if (!o->val || !*o->val)
            continue;
        keys[k] = o->keyword;
        vals[k] = !strcmp(o->keyword, "dbname") ? dbname : o->val;
        k++;
    }
    *out = PQconnectdbParams(keys, vals, 0);
    free(keys);
    free(vals);
    PQconninfoFree(opts);
    if (PQstatus(*out) != CONNECTION_OK) {
        char *m = pgconn_message(*out, NULL);
        int rc = otap_err_set(err, OTAP_EEXTERNAL, "cannot connect to database %s: %s", dbname, m);
        free(m);
        PQfinish(*out);
        *out = NULL;
        return rc;
    }
    return 0;
}

/* Restores into the database conn is connected to; the connection's settings reach pg_restore. */
static int restore_conn(const struct bk_ctx *c, json_t *entry, PGconn *conn, const char *marker,
                        bool clean, long long *ms, struct otap_err *err)
{
    long long t0 = monotime_ms();
    char **env = pgconn_env(conn);
    if (!env)
        return otap_err_set(err, OTAP_EEXTERNAL, "cannot read the connection settings");
    /* pass 1: the archive's table of contents, without the marker table's rows */
    struct pgtool t;
    char *list_argv[] = {"pg_restore", "--list", NULL};
    int rc = pgtool_start(&t, list_argv, NULL, true, err);
    char sha[SHA256_HEX_LEN + 1];
    if (rc == 0) {
        rc = stream_into(c, entry, &t, true, sha, NULL, err);
        struct otap_err e2 = OTAP_ERR_INIT;
        int w = pgtool_wait(&t, "pg_restore --list", rc < 0 ? &e2 : err);
        otap_err_release(&e2);
        if (rc == 0)
            rc = w;
    }
    char *listing = rc == 0 ? pgtool_stdout(&t) : NULL;
    if (rc < 0)
        pgtool_kill(&t);
    char listpath[] = "/tmp/otap-restore-list-XXXXXX";
    int lf = -1;
    if (rc == 0) {
        char *needle = xasprintf(" TABLE DATA public %s ", marker_table(c));
        struct strbuf kept = STRBUF_INIT;
        for (char *line = listing, *nl; line && *line; line = nl ? nl + 1 : NULL) {
            nl = strchr(line, '\n');
            size_t len = nl ? (size_t)(nl - line) : strlen(line);
            char *l = xstrndup(line, len);
            if (!strstr(l, needle))
                strbuf_addf(&kept, "%s\n", l);
            free(l);
            if (!nl)
                break;
        }
        free(needle);
        lf = mkstemp(listpath);
        if (lf < 0 || write(lf, kept.buf ? kept.buf : "", kept.len) != (ssize_t)kept.len)
            rc = otap_err_set(err, OTAP_EEXTERNAL, "cannot write the restore list: %s",
                              strerror(errno));
        strbuf_release(&kept);
    }
    free(listing);
    /* pass 2: everything else */
    if (rc == 0) {
        char *larg = xasprintf("--use-list=%s", listpath);
        /* pg_restore insists on a database name; the rest (password too) is in PG* */
        char *darg = xasprintf("--dbname=%s", PQdb(conn));
        char *argv[] = {"pg_restore",
                        "--no-owner",
                        "--no-privileges",
                        "--exit-on-error",
                        "--no-password",
                        larg,
                        darg,
                        clean ? "--clean" : NULL,
                        "--if-exists",
                        NULL};
        rc = pgtool_start(&t, argv, env, true, err);
        if (rc == 0) {
            struct otap_err serr = OTAP_ERR_INIT;
            int src = stream_into(c, entry, &t, false, sha, NULL, &serr);
            int w = pgtool_wait(&t, "pg_restore", err);
            free(pgtool_stdout(&t));
            if (src < 0) {
                rc = otap_err_set(err, src, "%s", serr.msg ? serr.msg : "the backup is damaged");
            } else {
                rc = w;
                const char *want = json_string_value(json_object_get(entry, "sha256"));
                if (rc == 0 && (!want || strcmp(want, sha)))
                    rc = otap_err_set(err, OTAP_EFOUND,
                                      "the backup's SHA-256 is not the catalog's: it changed "
                                      "since it was made");
            }
            otap_err_release(&serr);
        }
        free(larg);
        free(darg);
    }
    if (lf >= 0) {
        close(lf);
        unlink(listpath);
    }
    pgconn_env_free(env);
    /* the marker: never the backup's own */
    if (rc == 0) {
        char *qt = PQescapeIdentifier(conn, marker_table(c), strlen(marker_table(c)));
        char *qv = PQescapeLiteral(conn, marker, strlen(marker));
        char *sql = xasprintf("SET client_min_messages = warning; CREATE TABLE IF NOT EXISTS "
                              "public.%s (id integer PRIMARY KEY CHECK "
                              "(id = 1), env text NOT NULL CHECK (env <> '')); DELETE FROM "
                              "public.%s; INSERT INTO public.%s (id, env) VALUES (1, %s)",
                              qt, qt, qt, qv);
        PQfreemem(qv);
        PGresult *r = PQexec(conn, sql);
        if (PQresultStatus(r) != PGRES_COMMAND_OK) {
            char *m = pgconn_message(conn, r);
            rc = otap_err_set(err, OTAP_EEXTERNAL, "cannot write the marker '%s': %s", marker, m);
            free(m);
        }
        PQclear(r);
        free(sql);
        PQfreemem(qt);
    }
    *ms = monotime_ms() - t0;
    return rc;
}

int bk_restore_into(const struct bk_ctx *c, json_t *entry, const char *url, const char *marker,
                    bool clean, long long *ms, struct otap_err *err)
{
    *ms = 0;
    int rc = need_key(c, entry, err);
    if (rc < 0)
        return rc;
    PGconn *conn;
    if ((rc = pgconn_open(&conn, url, "", "the target database", err)) < 0)
        return rc;
    rc = restore_conn(c, entry, conn, marker, clean, ms, err);
    PQfinish(conn);
    const char *id = json_string_value(json_object_get(entry, "id"));
    if (rc == 0)
        rc = ledger(c, "backup.restored", id,
                    json_pack("{s:s, s:b, s:I, s:s}", "id", id, "clean", clean, "ms",
                              (json_int_t)*ms, "marker", marker),
                    err);
    return rc;
}

/* ---- drills ---------------------------------------------------------------------------------- */

static int exec_sql(PGconn *c, const char *sql, struct otap_err *err)
{
    PGresult *r = PQexec(c, sql);
    int rc = 0;
    if (PQresultStatus(r) != PGRES_COMMAND_OK) {
        char *m = pgconn_message(c, r);
        rc = otap_err_set(err, OTAP_EEXTERNAL, "%s", m);
        free(m);
    }
    PQclear(r);
    return rc;
}

/* pg_amcheck over the drill's copy: {ran, ok, message} */
static json_t *amcheck(PGconn *conn)
{
    if (!pgtool_exists("pg_amcheck"))
        return json_pack("{s:b, s:s}", "ran", 0, "message", "pg_amcheck is not installed");
    char **env = pgconn_env(conn);
    char *argv[] = {"pg_amcheck", "--install-missing", "--no-password", NULL};
    struct pgtool t;
    struct otap_err err = OTAP_ERR_INIT;
    json_t *out;
    if (pgtool_start(&t, argv, env, true, &err) < 0) {
        out = json_pack("{s:b, s:s}", "ran", 0, "message", err.msg);
    } else {
        int rc = pgtool_wait(&t, "pg_amcheck", &err);
        char *so = pgtool_stdout(&t);
        out = json_pack("{s:b, s:b, s:s}", "ran", 1, "ok", rc == 0, "message",
                        rc == 0 ? "no corruption found" : err.msg);
        free(so);
    }
    otap_err_release(&err);
    pgconn_env_free(env);
    return out;
}

int bk_drill(const struct bk_ctx *c, json_t *entry, const char *into_url, json_t **result,
             struct otap_err *err)
{
    *result = NULL;
    int rc = need_key(c, entry, err);
    if (rc < 0)
        return rc;
    const char *id = json_string_value(json_object_get(entry, "id"));
    PGconn *admin = NULL, *scratch = NULL;
    char *dbname = NULL;
    if (into_url) {
        rc = pgconn_open(&scratch, into_url, "", "the drill's database", err);
    } else {
        rc = pgconn_open(&admin, c->db_url, "", "the environment's database server", err);
        if (rc == 0) {
            dbname = xasprintf("otap_drill_%ld_%d", (long)time(NULL), (int)getpid());
            char *sql = xasprintf("CREATE DATABASE %s", dbname);
            rc = exec_sql(admin, sql, err);
            free(sql);
            if (rc < 0) {
                free(dbname);
                dbname = NULL;
            }
        }
        if (rc == 0)
            rc = connect_to(admin, dbname, &scratch, err);
    }
    long long ms = 0;
    json_t *facts = NULL, *diffs = json_array(), *check = NULL;
    bool started = rc == 0;
    if (rc == 0)
        rc = restore_conn(c, entry, scratch, "drill", into_url != NULL, &ms, err);
    if (rc == 0)
        rc = bk_facts_collect(scratch, marker_table(c), &facts, err);
    if (rc == 0) {
        bk_facts_compare(entry, facts, diffs);
        check = amcheck(scratch);
        if (json_is_true(json_object_get(check, "ran")) &&
            !json_is_true(json_object_get(check, "ok"))) {
            char *m =
                xasprintf("pg_amcheck: %s", json_string_value(json_object_get(check, "message")));
            json_array_append_new(diffs, json_string(m));
            free(m);
        }
    }
    if (scratch)
        PQfinish(scratch);
    if (admin && dbname) {
        char *sql = xasprintf("DROP DATABASE IF EXISTS %s WITH (FORCE)", dbname);
        struct otap_err e2 = OTAP_ERR_INIT;
        exec_sql(admin, sql, &e2);
        otap_err_release(&e2);
        free(sql);
    }
    if (admin)
        PQfinish(admin);
    time_t made = iso_seconds(json_string_value(json_object_get(entry, "finished")));
    long long rpo = made ? (long long)(time(NULL) - made) : -1;
    bool ok = rc == 0 && json_array_size(diffs) == 0;
    if (rc < 0) {
        char *m = xasprintf("the restore failed: %s", err->msg ? err->msg : "unknown");
        json_array_append_new(diffs, json_string(m));
        free(m);
    }
    *result = json_pack("{s:s, s:b, s:I, s:I, s:o, s:o, s:s, s:s}", "id", id, "ok", ok, "rto_ms",
                        (json_int_t)ms, "rpo_s", (json_int_t)rpo, "differences", diffs, "amcheck",
                        check ? check : json_null(), "database",
                        into_url ? "the one given (--into)"
                        : dbname ? dbname
                                 : "none",
                        "marker", "drill");
    json_decref(facts);
    free(dbname);
    if (!started) /* no scratch database to restore into: nothing was drilled */
        return rc;
    /* the receipt: pass or fail, it is recorded */
    struct otap_err lerr = OTAP_ERR_INIT;
    int lrc = ledger(c, "backup.drill", id, json_deep_copy(*result), &lerr);
    if (lrc < 0) {
        otap_err_release(err);
        otap_err_set(err, lrc, "%s", lerr.msg);
        otap_err_release(&lerr);
        return lrc;
    }
    otap_err_release(&lerr);
    return ok ? 0 : OTAP_EFOUND;
}

int bk_last(struct store *s, const char *env, json_t **backup, json_t **drill, struct otap_err *err)
{
    *backup = *drill = NULL;
    const char *actions[] = {"backup.created", "backup.drill"};
    json_t **outs[] = {backup, drill};
    for (size_t i = 0; i < 2; i++) {
        const char *p[] = {env, actions[i]};
        struct store_rows r;
        int rc = store_exec(s,
                            "SELECT details, at FROM otap_ledger WHERE env = $1 AND action = $2 "
                            "ORDER BY seq DESC LIMIT 1",
                            p, 2, &r, err);
        if (rc < 0) {
            json_decref(*backup);
            *backup = NULL;
            return rc;
        }
        if (r.nrows) {
            json_t *d = json_loads(store_cell(&r, 0, 0), 0, NULL);
            if (json_is_object(d))
                json_object_set_new(d, "at", json_string(store_cell(&r, 0, 1)));
            *outs[i] = d;
        }
        store_rows_release(&r);
    }
    return 0;
}
