/*
 * OFREP, the OpenFeature Remote Evaluation Protocol, in otap serve:
 *
 *   POST /ofrep/v1/evaluate/flags/{key}   one flag for a context
 *   POST /ofrep/v1/evaluate/flags         every flag, with an ETag
 *
 * The environment is the one 'otap serve --env E' serves. Flags are the
 * manifest's, with the changes in the state store (src/lib/flags/).
 * Errors are the protocol's: 400 PARSE_ERROR, INVALID_CONTEXT,
 * TARGETING_KEY_MISSING; 404 FLAG_NOT_FOUND; 500 GENERAL.
 */
#include <stdbool.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "serve.h"
#include "base/monotime.h"
#include "base/sha256.h"
#include "base/xalloc.h"
#include "flags/flag_manifest.h"
#include "state/store.h"
#include "base/banned.h"

static void ofrep_error(struct http_response *rs, unsigned status, const char *key,
                        const char *code, const char *details)
{
    rs->status = status;
    rs->json =
        json_pack("{s:s?, s:s, s:s}", "key", key, "errorCode", code, "errorDetails", details);
}

/* The request's context, or NULL after answering 400. */
static json_t *context_of(const struct http_request *rq, struct http_response *rs, const char *key)
{
    json_error_t je;
    json_t *body = rq->body_len ? json_loadb(rq->body, rq->body_len, 0, &je) : NULL;
    if (!body) {
        char *why = xasprintf("the body is not JSON%s%s", rq->body_len ? ": " : "",
                              rq->body_len ? je.text : "");
        ofrep_error(rs, 400, key, "PARSE_ERROR", why);
        free(why);
        return NULL;
    }
    json_t *ctx = json_object_get(body, "context");
    if (!json_is_object(ctx)) {
        json_decref(body);
        ofrep_error(rs, 400, key, "INVALID_CONTEXT", "the body has no 'context' object");
        return NULL;
    }
    json_incref(ctx);
    json_decref(body);
    return ctx;
}

static const struct manifest_flag *find(const struct manifest *m, const char *key)
{
    for (size_t i = 0; i < m->nflags; i++)
        if (!strcmp(m->flags[i].name, key))
            return &m->flags[i];
    return NULL;
}

/*
 * The flags as they stand, shared by every request for CACHE_MS: opening
 * the state store on each evaluation would cost more than the evaluation.
 * A change made elsewhere (the CLI, another server) is served within
 * CACHE_MS. Each snapshot is counted so that a request keeps the one it
 * began with while a newer one replaces it.
 */
#define CACHE_MS 250

struct snapshot {
    long long loaded_ms;
    struct flag_def *defs; /* by the manifest's order */
    size_t n;
    char config[SHA256_HEX_LEN + 1]; /* a hash of every flag's state, for the ETag */
    int refs;
};

static pthread_mutex_t cache_lock = PTHREAD_MUTEX_INITIALIZER;
static struct snapshot *current;

static void snapshot_free(struct snapshot *sn)
{
    for (size_t i = 0; i < sn->n; i++)
        flag_def_release(&sn->defs[i]);
    free(sn->defs);
    free(sn);
}

static struct snapshot *snapshot_load(const struct serve_app *app, const char *env)
{
    struct store *s = NULL;
    struct otap_err err = OTAP_ERR_INIT;
    if (store_open(&s, app->m->dir, &err) < 0) {
        otap_err_release(&err);
        return NULL;
    }
    struct snapshot *sn = xcalloc(1, sizeof(*sn));
    sn->defs = xcalloc(app->m->nflags ? app->m->nflags : 1, sizeof(*sn->defs));
    struct sha256 h;
    sha256_init(&h);
    bool ok = true;
    for (size_t i = 0; i < app->m->nflags && ok; i++) {
        const struct manifest_flag *f = &app->m->flags[i];
        json_t *state = NULL;
        if (flags_resolve(s, f, env, &sn->defs[i], &state, &err) < 0) {
            ok = false;
            break;
        }
        sn->n++;
        json_object_del(state, "changed_at");
        json_object_del(state, "changed_by");
        char *st = json_dumps(state, JSON_COMPACT | JSON_SORT_KEYS);
        sha256_update(&h, f->name, strlen(f->name) + 1);
        sha256_update(&h, st, strlen(st) + 1);
        free(st);
        json_decref(state);
    }
    store_close(s);
    otap_err_release(&err);
    if (!ok) {
        snapshot_free(sn);
        return NULL;
    }
    sha256_final_hex(&h, sn->config);
    sn->loaded_ms = monotime_ms();
    return sn;
}

/* The snapshot to answer with, or NULL when the store cannot be read; release it after. */
static struct snapshot *snapshot_get(const struct serve_app *app, const char *env)
{
    pthread_mutex_lock(&cache_lock);
    struct snapshot *sn = current;
    if (!sn || monotime_ms() - sn->loaded_ms >= CACHE_MS) {
        struct snapshot *fresh = snapshot_load(app, env);
        if (fresh) {
            if (current && --current->refs == 0)
                snapshot_free(current);
            fresh->refs = 1; /* the cache's own */
            current = fresh;
        }
        sn = current;
    }
    if (sn)
        sn->refs++;
    pthread_mutex_unlock(&cache_lock);
    return sn;
}

static void snapshot_put(struct snapshot *sn)
{
    pthread_mutex_lock(&cache_lock);
    if (--sn->refs == 0)
        snapshot_free(sn);
    pthread_mutex_unlock(&cache_lock);
}

/* One evaluation as OFREP's success or failure object; *status the HTTP status alone. */
static json_t *evaluate(const struct flag_def *def, const struct manifest_flag *f, const char *env,
                        json_t *ctx, unsigned *status)
{
    *status = 200;
    struct flag_result r;
    flag_eval(def, ctx, &r);
    if (r.error_code) {
        *status = 400;
        return json_pack("{s:s, s:s, s:s}", "key", f->name, "errorCode", r.error_code,
                         "errorDetails",
                         !strcmp(r.error_code, "TARGETING_KEY_MISSING")
                             ? "this flag splits by the context's targetingKey, which is missing"
                             : "the flag could not be evaluated");
    }
    return json_pack("{s:s, s:O, s:s, s:s, s:{s:s, s:s?}}", "key", f->name, "value", r.value,
                     "reason", r.reason, "variant", r.variant, "metadata", "environment", env,
                     "owner", f->owner);
}

static const char *served_env(const struct http_request *rq, struct http_response *rs,
                              const char *key)
{
    const struct serve_app *app = rq->app;
    if (!app->env) {
        ofrep_error(rs, 400, key, "GENERAL",
                    "this otap serve serves no environment: start it with --env ENV");
        return NULL;
    }
    return app->env->name;
}

void api_ofrep_flag(const struct http_request *rq, struct http_response *rs)
{
    const struct serve_app *app = rq->app;
    const char *key = http_param(rq, "key");
    const char *env = served_env(rq, rs, key);
    if (!env)
        return;
    json_t *ctx = context_of(rq, rs, key);
    if (!ctx)
        return;
    const struct manifest_flag *f = find(app->m, key);
    if (!f) {
        char *why = xasprintf("flag '%s' was not found", key);
        ofrep_error(rs, 404, key, "FLAG_NOT_FOUND", why);
        free(why);
        json_decref(ctx);
        return;
    }
    struct snapshot *sn = snapshot_get(app, env);
    if (!sn)
        ofrep_error(rs, 500, key, "GENERAL", "the state store could not be read");
    else
        rs->json = evaluate(&sn->defs[f - app->m->flags], f, env, ctx, &rs->status);
    if (sn)
        snapshot_put(sn);
    json_decref(ctx);
}

/*
 * Does If-None-Match name etag? A list of tags, each maybe weak (W/), with
 * white space around them, or "*" (RFC 9110 13.1.2).
 */
static bool etag_matches(const char *inm, const char *etag)
{
    if (!inm)
        return false;
    size_t el = strlen(etag);
    for (const char *p = inm; *p;) {
        p += strspn(p, " \t\r\n,");
        if (!*p)
            break;
        size_t n = strcspn(p, ",");
        const char *tag = p;
        size_t tl = n;
        while (tl && strchr(" \t\r\n", tag[tl - 1]))
            tl--;
        if (tl >= 2 && !strncmp(tag, "W/", 2))
            tag += 2, tl -= 2;
        if ((tl == 1 && *tag == '*') || (tl == el && !strncmp(tag, etag, el)))
            return true;
        p += n;
    }
    return false;
}

void api_ofrep_bulk(const struct http_request *rq, struct http_response *rs)
{
    const struct serve_app *app = rq->app;
    const char *env = served_env(rq, rs, NULL);
    if (!env)
        return;
    json_t *ctx = context_of(rq, rs, NULL);
    if (!ctx)
        return;
    struct snapshot *sn = snapshot_get(app, env);
    if (!sn) {
        json_decref(ctx);
        ofrep_error(rs, 500, NULL, "GENERAL", "the state store could not be read");
        return;
    }
    /* the ETag covers the environment, every flag's configuration and the canonical context:
     * a changed context never gets a stale 304 */
    struct sha256 h;
    sha256_init(&h);
    char *canon = json_dumps(ctx, JSON_COMPACT | JSON_SORT_KEYS);
    sha256_update(&h, env, strlen(env) + 1);
    sha256_update(&h, sn->config, sizeof sn->config);
    sha256_update(&h, canon, strlen(canon) + 1);
    free(canon);
    char hex[SHA256_HEX_LEN + 1];
    sha256_final_hex(&h, hex);
    rs->etag = xasprintf("\"%.32s\"", hex);
    if (etag_matches(http_header(rq, "If-None-Match"), rs->etag)) {
        snapshot_put(sn);
        json_decref(ctx);
        rs->status = 304;
        return;
    }
    json_t *flags = json_array();
    for (size_t i = 0; i < sn->n; i++) {
        unsigned status;
        json_array_append_new(flags, evaluate(&sn->defs[i], &app->m->flags[i], env, ctx, &status));
    }
    snapshot_put(sn);
    json_decref(ctx);
    rs->json = json_pack("{s:o, s:{s:s}}", "flags", flags, "metadata", "environment", env);
}
