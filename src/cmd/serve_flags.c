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
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "serve.h"
#include "base/monotime.h"
#include "base/sha256.h"
#include "base/xalloc.h"
#include "base/actor.h"
#include "flags/flag_change.h"
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
 * The flags as they stand in each environment, shared by every request:
 * opening the state store on each evaluation would cost more than the
 * evaluation. Every change appends to the ledger, and the watcher
 * (serve_watch.c) moves the generation when it sees one: with PostgreSQL
 * it hears the ledger's NOTIFY, so a change made anywhere is served at
 * once and REFRESH_MS is only a safety net; with SQLite (or the
 * connection lost) a snapshot also lives at most CACHE_MS. Each snapshot is counted so that a
 * request keeps the one it began with while a newer one replaces it.
 */
#define CACHE_MS 250
#define REFRESH_MS 30000

struct snapshot {
    long long loaded_ms;
    long gen;              /* the generation it was loaded in */
    struct flag_def *defs; /* by the manifest's order */
    size_t n;
    char config[SHA256_HEX_LEN + 1]; /* a hash of every flag's state, for the ETag */
    int refs;
};

static pthread_mutex_t cache_lock = PTHREAD_MUTEX_INITIALIZER;
static struct snapshot **cache; /* by the manifest's environment order */
static size_t ncache;

static void snapshot_free(struct snapshot *sn)
{
    for (size_t i = 0; i < sn->n; i++)
        flag_def_release(&sn->defs[i]);
    free(sn->defs);
    free(sn);
}

static struct snapshot *snapshot_load(const struct serve_app *app, const char *env, long gen)
{
    struct store *s = NULL;
    struct otap_err err = OTAP_ERR_INIT;
    if (store_open(&s, app->m->dir, &err) < 0) {
        otap_err_release(&err);
        return NULL;
    }
    struct snapshot *sn = xcalloc(1, sizeof(*sn));
    sn->gen = gen;
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

static bool fresh_enough(const struct snapshot *sn)
{
    long long age = monotime_ms() - sn->loaded_ms;
    if (serve_watch_listening())
        return sn->gen == serve_generation() && age < REFRESH_MS;
    return sn->gen == serve_generation() && age < CACHE_MS;
}

/* The snapshot of env (an index into the manifest's environments); release it after. */
static struct snapshot *snapshot_get(const struct serve_app *app, size_t env)
{
    pthread_mutex_lock(&cache_lock);
    if (!cache) {
        ncache = app->m->nenvs;
        cache = xcalloc(ncache ? ncache : 1, sizeof(*cache));
    }
    struct snapshot *sn = cache[env];
    if (!sn || !fresh_enough(sn)) {
        /* the generation is read before the store: a change heard meanwhile reloads again */
        struct snapshot *fresh = snapshot_load(app, app->m->envs[env].name, serve_generation());
        if (fresh) {
            if (cache[env] && --cache[env]->refs == 0)
                snapshot_free(cache[env]);
            fresh->refs = 1; /* the cache's own */
            cache[env] = fresh;
        }
        sn = cache[env];
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

void serve_flags_stop(void)
{
    pthread_mutex_lock(&cache_lock);
    for (size_t i = 0; i < ncache; i++)
        if (cache[i] && --cache[i]->refs == 0)
            snapshot_free(cache[i]);
    free(cache);
    cache = NULL;
    ncache = 0;
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

/*
 * The environment a request is answered for: the token's scope when it has
 * one, else the one 'otap serve --env' serves. -1 after answering.
 */
static long served_env(const struct http_request *rq, struct http_response *rs, const char *key)
{
    const struct serve_app *app = rq->app;
    const char *name = rq->scope ? rq->scope : app->env ? app->env->name : NULL;
    if (!name) {
        ofrep_error(rs, 400, key, "GENERAL",
                    "this otap serve serves no environment: start it with --env ENV");
        return -1;
    }
    const struct manifest_env *env = manifest_env_find(app->m, name);
    if (!env) {
        char *why = xasprintf("the token's environment '%s' is not in the manifest", name);
        rs->status = 403;
        rs->json =
            json_pack("{s:s?, s:s, s:s}", "key", key, "errorCode", "GENERAL", "errorDetails", why);
        free(why);
        return -1;
    }
    return env - app->m->envs;
}

void api_ofrep_flag(const struct http_request *rq, struct http_response *rs)
{
    const struct serve_app *app = rq->app;
    const char *key = http_param(rq, "key");
    long e = served_env(rq, rs, key);
    if (e < 0)
        return;
    const char *env = app->m->envs[e].name;
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
    struct snapshot *sn = snapshot_get(app, (size_t)e);
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
    long e = served_env(rq, rs, NULL);
    if (e < 0)
        return;
    const char *env = app->m->envs[e].name;
    json_t *ctx = context_of(rq, rs, NULL);
    if (!ctx)
        return;
    struct snapshot *sn = snapshot_get(app, (size_t)e);
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

/* ---- the flags' state over the API --------------------------------------------------------- */

void api_flags_list(const struct http_request *rq, struct http_response *rs)
{
    const struct serve_app *app = rq->app;
    struct store *s = serve_store(rq, rs);
    if (!s)
        return;
    long long head = serve_store_version(s);
    if (serve_cache_get(rq, rs, head))
        return;
    struct otap_err err = OTAP_ERR_INIT;
    json_t *flags = json_array();
    for (size_t i = 0; i < app->m->nflags; i++) {
        json_t *f = flags_json(s, app->m, &app->m->flags[i], rq->scope, &err);
        if (!f) {
            http_error(rs, 500, "store", "%s", err.msg ? err.msg : "the store failed");
            otap_err_release(&err);
            json_decref(flags);
            return;
        }
        json_array_append_new(flags, f);
    }
    rs->json = json_pack("{s:b, s:o}", "ok", 1, "flags", flags);
    serve_cache_put(rq, rs, head);
}

/*
 * POST /api/v2/flags/{key} {"env": E, "action": "enable" | "disable" |
 * "rollout" (with "percent": N or "weights": "on=10,off=90") | "set"
 * (with "rules": "ATTR OP VALUE -> on; ..." or null for the manifest's)}.
 * A protected environment needs an admin token; a scoped token acts only
 * on its environment.
 */
void api_flag_change(const struct http_request *rq, struct http_response *rs)
{
    const struct serve_app *app = rq->app;
    const char *key = http_param(rq, "key");
    const struct manifest_flag *f = find(app->m, key);
    if (!f) {
        http_error(rs, 404, "not_found", "otap.yaml defines no flag '%s'", key);
        return;
    }
    json_t *body = http_body_json(rq, rs);
    if (!body)
        return;
    const char *env_name = json_string_value(json_object_get(body, "env"));
    const char *action = json_string_value(json_object_get(body, "action"));
    if (!env_name)
        env_name = rq->scope ? rq->scope : app->env ? app->env->name : NULL;
    const struct manifest_env *env = env_name ? manifest_env_find(app->m, env_name) : NULL;
    struct flag_change ch = {.enabled = -1};
    char *weights = NULL, *rules = NULL;
    struct otap_err err = OTAP_ERR_INIT;
    json_t *pct = json_object_get(body, "percent"), *spec = json_object_get(body, "weights");
    json_t *rj = json_object_get(body, "rules");
    if (!env) {
        http_error(rs, env_name ? 404 : 400, env_name ? "not_found" : "bad_request",
                   env_name ? "no environment '%s'" : "give {\"env\": ENV, \"action\": ...}%s",
                   env_name ? env_name : "");
        goto out;
    }
    if (rq->scope && strcmp(rq->scope, env->name)) {
        http_error(rs, 403, "forbidden", "this token acts only on %s", rq->scope);
        goto out;
    }
    if (env->protected && rq->role < ROLE_ADMIN) {
        http_error(rs, 403, "forbidden", "%s is protected: changing a flag needs an admin token",
                   env->name);
        goto out;
    }
    if (action && (!strcmp(action, "enable") || !strcmp(action, "disable"))) {
        ch.enabled = !strcmp(action, "enable");
        ch.set_weights = true;
    } else if (action && !strcmp(action, "rollout")) {
        if (!!json_is_integer(pct) == !!json_is_string(spec) || (pct && !json_is_integer(pct))) {
            http_error(rs, 400, "bad_request",
                       "a rollout gives \"percent\": N or \"weights\": \"on=10,off=90\"");
            goto out;
        }
        json_int_t n = json_is_integer(pct) ? json_integer_value(pct) : -1;
        if (pct && (n < 0 || n > 100)) {
            http_error(rs, 400, "bad_request", "\"percent\" is 0 to 100");
            goto out;
        }
        if (flag_weights(json_string_value(spec), (int)n, &weights, &err) < 0) {
            http_error(rs, 400, "bad_request", "%s", err.msg);
            goto out;
        }
        ch.enabled = 1;
        ch.set_weights = true;
        ch.weights = weights;
    } else if (action && !strcmp(action, "set")) {
        if (!json_is_string(rj) && !json_is_null(rj)) {
            http_error(rs, 400, "bad_request",
                       "\"set\" gives \"rules\": \"ATTR OP VALUE -> on|off; ...\", or null for "
                       "the manifest's");
            goto out;
        }
        if (json_is_string(rj) && flag_rules_parse(json_string_value(rj), &rules, &err) < 0) {
            http_error(rs, 400, "bad_request", "%s", err.msg);
            goto out;
        }
        ch.set_rules = true;
        ch.rules = rules;
    } else {
        http_error(rs, 400, "bad_request",
                   "\"action\" is enable, disable, rollout or set, not %s%s%s", action ? "'" : "",
                   action ? action : "missing", action ? "'" : "");
        goto out;
    }
    struct store *s = serve_store(rq, rs);
    if (!s)
        goto out;
    json_t *after = NULL;
    long long seq = 0;
    char *actor = xasprintf("%s (api)", rq->actor);
    int rc = flag_change_apply(s, f, env->name, &ch, actor, NULL, &after, &seq, &err);
    free(actor);
    if (rc < 0) {
        http_error(rs, 500, "store", "%s", err.msg ? err.msg : "the store failed");
        goto out;
    }
    serve_watch_bump(); /* this server serves the change at once */
    rs->json = json_pack("{s:b, s:s, s:s, s:o, s:I}", "ok", 1, "flag", f->name, "env", env->name,
                         "after", after, "ledger_seq", (json_int_t)seq);
out:
    otap_err_release(&err);
    free(weights);
    free(rules);
    json_decref(body);
}
