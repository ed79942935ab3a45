/*
 * otap serve's state API: environments and what is live, builds, gate
 * results, sign-offs, deployments, the ledger paged by sequence, and the
 * writes (a gate, a sign-off, a promotion, a rollback). The writes call
 * the same functions as the CLI, so the ledger records them the same
 * way, with the token's name as the actor.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "state/artifact.h"
#include "state/deploys.h"
#include "state/evidence.h"
#include "state/ledger.h"
#include "base/num.h"
#include "health/probe.h"
#include "deploy/promote.h"
#include "serve.h"
#include "backup/backup.h"
#include "state/store.h"
#include "base/xalloc.h"
#include "base/banned.h"

extern char **environ;

#define PAGE_DEFAULT 100
#define PAGE_MAX 1000

/* The thread's own connection (serve_store.c): never closed by a handler. */
static struct store *open_store(const struct http_request *rq, struct http_response *rs)
{
    return serve_store(rq, rs);
}

/*
 * For a read: the store, or NULL when rs is answered already (from the
 * cache, while the ledger has not moved, or with 503). *head is the
 * ledger's head the answer is cached under (serve_cache_put).
 */
static struct store *open_read(const struct http_request *rq, struct http_response *rs,
                               long long *head)
{
    struct store *s = open_store(rq, rs);
    if (!s)
        return NULL;
    *head = serve_store_version(s);
    if (*head < 0 && !(s = open_store(rq, rs))) /* the connection was lost: once more */
        return NULL;
    if (*head < 0)
        *head = serve_store_version(s);
    return serve_cache_get(rq, rs, *head) ? NULL : s;
}

static void store_failed(struct http_response *rs, struct otap_err *err)
{
    int code = err->code;
    if (code == OTAP_EEXTERNAL)
        serve_store_broken(NULL); /* the connection may be gone: the next request opens one */
    http_error(rs,
               code == OTAP_ENOTFOUND  ? 404
               : code == OTAP_EUSAGE   ? 400
               : code == OTAP_EREFUSED ? 409
                                       : 500,
               code == OTAP_ENOTFOUND  ? "not_found"
               : code == OTAP_EUSAGE   ? "bad_request"
               : code == OTAP_EREFUSED ? "refused"
                                       : "store",
               "%s", err->msg ? err->msg : "the store failed");
    otap_err_release(err);
}

/* ?limit=N, bounded; -1 (and a 400) when malformed */
static long long page_limit(const struct http_request *rq, struct http_response *rs)
{
    const char *v = http_query(rq, "limit");
    long long n = PAGE_DEFAULT;
    if (v && (num_parse_ll(v, &n) < 0 || n < 1)) {
        http_error(rs, 400, "bad_request", "limit '%s' is not a count", v);
        return -1;
    }
    return n > PAGE_MAX ? PAGE_MAX : n;
}

static json_t *deployment_json(const struct deployment *d)
{
    return json_pack("{s:I, s:s, s:s, s:s?, s:s, s:s, s:s?, s:s, s:s?, s:s, s:s?}", "id",
                     (json_int_t)d->id, "environment", d->env, "digest", d->digest, "version",
                     d->version, "kind", d->kind, "state", d->state, "previous", d->previous_digest,
                     "started_at", d->started_at, "finished_at", d->finished_at, "actor", d->actor,
                     "reason", d->reason);
}

void api_environments(const struct http_request *rq, struct http_response *rs)
{
    const struct serve_app *app = rq->app;
    long long head;
    struct store *s = open_read(rq, rs, &head);
    if (!s)
        return;
    struct otap_err err = OTAP_ERR_INIT;
    json_t *a = json_array();
    const char *only = http_param(rq, "name");
    const struct manifest_env *one = only ? manifest_env_find(app->m, only) : NULL;
    if (only && !one) {
        http_error(rs, 404, "not_found", "no environment '%s'", only);
        json_decref(a);
        return;
    }
    for (size_t i = 0; i < app->m->nenvs; i++) {
        const struct manifest_env *e = &app->m->envs[i];
        if (one && e != one)
            continue;
        json_t *requires = json_array();
        for (size_t r = 0; r < e->nrequires; r++)
            json_array_append_new(requires, json_string(e->requires[r]));
        json_t *o = json_pack("{s:s, s:s, s:s?, s:b, s:o, s:s?}", "name", e->name, "stage",
                              manifest_stage_letter(e->stage), "marker", e->marker, "protected",
                              e->protected, "requires", requires, "driver", e->deploy.driver);
        struct deployment d;
        bool found = false;
        if (deploy_live(s, e->name, &d, &found, &err) < 0) {
            json_decref(o);
            json_decref(a);
            store_failed(rs, &err);
            return;
        }
        json_object_set_new(o, "live", found ? deployment_json(&d) : json_null());
        deployment_release(&d);
        json_t *bk = NULL, *drill = NULL;
        if (bk_last(s, e->name, &bk, &drill, &err) < 0) {
            json_decref(o);
            json_decref(a);
            store_failed(rs, &err);
            return;
        }
        if (bk || drill)
            json_object_set_new(o, "backup",
                                json_pack("{s:o, s:o}", "last", bk ? bk : json_null(), "drill",
                                          drill ? drill : json_null()));
        json_array_append_new(a, o);
    }
    if (one) {
        rs->json = json_pack("{s:b, s:O}", "ok", 1, "environment", json_array_get(a, 0));
        json_decref(a);
    } else {
        rs->json = json_pack("{s:b, s:o}", "ok", 1, "environments", a);
    }
    serve_cache_put(rq, rs, head);
}

void api_builds(const struct http_request *rq, struct http_response *rs)
{
    long long head;
    struct store *s = open_read(rq, rs, &head);
    if (!s)
        return;
    struct otap_err err = OTAP_ERR_INIT;
    struct artifact *list = NULL;
    size_t n = 0;
    if (artifact_list(s, &list, &n, &err) < 0) {
        store_failed(rs, &err);
        return;
    }
    json_t *a = json_array();
    for (size_t i = 0; i < n; i++) {
        const struct artifact *b = &list[i];
        json_array_append_new(a, json_pack("{s:s, s:s?, s:s?, s:s, s:s?, s:s?}", "digest",
                                           b->digest, "version", b->version, "commit", b->commit,
                                           "kind", b->kind, "registered_at", b->registered_at,
                                           "registered_by", b->registered_by));
        artifact_release(&list[i]);
    }
    free(list);
    rs->json = json_pack("{s:b, s:o}", "ok", 1, "builds", a);
    serve_cache_put(rq, rs, head);
}

/* One of the evidence lists, paged by limit and filtered by ?build=. */
static void evidence_json(const struct http_request *rq, struct http_response *rs,
                          int (*list)(struct store *, const char *, long long, json_t **,
                                      struct otap_err *),
                          const char *key)
{
    long long limit = page_limit(rq, rs);
    if (limit < 0)
        return;
    long long head;
    struct store *s = open_read(rq, rs, &head);
    if (!s)
        return;
    json_t *a = NULL;
    struct otap_err err = OTAP_ERR_INIT;
    if (list(s, http_query(rq, "build"), limit, &a, &err) < 0)
        store_failed(rs, &err);
    else
        rs->json = json_pack("{s:b, s:o}", "ok", 1, key, a);
    serve_cache_put(rq, rs, head);
}

void api_gates(const struct http_request *rq, struct http_response *rs)
{
    evidence_json(rq, rs, gate_list, "gates");
}

void api_signoffs(const struct http_request *rq, struct http_response *rs)
{
    evidence_json(rq, rs, signoff_list, "signoffs");
}

void api_deployments(const struct http_request *rq, struct http_response *rs)
{
    const struct serve_app *app = rq->app;
    long long limit = page_limit(rq, rs);
    if (limit < 0)
        return;
    const char *env_name = http_query(rq, "env");
    const struct manifest_env *env = env_name ? manifest_env_find(app->m, env_name) : NULL;
    if (env_name && !env) {
        http_error(rs, 404, "not_found", "no environment '%s'", env_name);
        return;
    }
    long long head;
    struct store *s = open_read(rq, rs, &head);
    if (!s)
        return;
    struct otap_err err = OTAP_ERR_INIT;
    struct deployment *list = NULL;
    size_t n = 0;
    if (deploy_list(s, env ? env->name : NULL, limit, &list, &n, &err) < 0) {
        store_failed(rs, &err);
        return;
    }
    json_t *a = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(a, deployment_json(&list[i]));
    deployment_list_release(list, n);
    rs->json = json_pack("{s:b, s:o}", "ok", 1, "deployments", a);
    serve_cache_put(rq, rs, head);
}

void api_ledger(const struct http_request *rq, struct http_response *rs)
{
    const struct serve_app *app = rq->app;
    long long limit = page_limit(rq, rs), after = 0;
    if (limit < 0)
        return;
    const char *a = http_query(rq, "after");
    if (a && (num_parse_ll(a, &after) < 0 || after < 0)) {
        http_error(rs, 400, "bad_request", "after '%s' is not a sequence number", a);
        return;
    }
    const char *env_name = http_query(rq, "env");
    const struct manifest_env *env = env_name ? manifest_env_find(app->m, env_name) : NULL;
    if (env_name && !env) {
        http_error(rs, 404, "not_found", "no environment '%s'", env_name);
        return;
    }
    long long head;
    struct store *s = open_read(rq, rs, &head);
    if (!s)
        return;
    struct otap_err err = OTAP_ERR_INIT;
    struct ledger_list l;
    struct ledger_filter f = {env ? env->name : NULL, http_query(rq, "since"), after, limit};
    if (ledger_read(s, &f, &l, &err) < 0) {
        store_failed(rs, &err);
        return;
    }
    /* ?verify=1: each entry's details as hashed, so a client can check the chain itself */
    const char *v = http_query(rq, "verify");
    bool text = v && !strcmp(v, "1");
    json_t *arr = json_array();
    for (size_t i = 0; i < l.n; i++) {
        json_t *o = ledger_entry_json(&l.items[i]);
        if (!text)
            json_object_del(o, "details_text");
        json_array_append_new(arr, o);
    }
    rs->json = json_pack("{s:b, s:o}", "ok", 1, "entries", arr);
    /* the next page starts after the last entry of this one */
    if (l.n == (size_t)limit)
        json_object_set_new(rs->json, "next_after", json_integer(l.items[l.n - 1].seq));
    ledger_list_release(&l);
    serve_cache_put(rq, rs, head);
}

static const char *body_str(json_t *body, const char *key)
{
    return json_string_value(json_object_get(body, key));
}

void api_record_gate(const struct http_request *rq, struct http_response *rs)
{
    const struct serve_app *app = rq->app;
    json_t *body = http_body_json(rq, rs);
    if (!body)
        return;
    const char *gate = body_str(body, "gate"), *ref = body_str(body, "artifact");
    const char *result = body_str(body, "result"), *url = body_str(body, "url");
    if (!gate || !ref || !result || (strcmp(result, "pass") && strcmp(result, "fail"))) {
        http_error(rs, 400, "bad_request",
                   "give {\"gate\": NAME, \"artifact\": BUILD, \"result\": \"pass\"|\"fail\"}");
    } else if (!manifest_gate_find(app->m, gate)) {
        http_error(rs, 400, "bad_request", "the manifest has no gate '%s'", gate);
    } else if (url && strncmp(url, "https://", 8) && strncmp(url, "http://", 7)) {
        http_error(rs, 400, "bad_request", "url '%s' is not an http(s) URL", url);
    } else {
        struct store *s = open_store(rq, rs);
        struct otap_err err = OTAP_ERR_INIT;
        struct artifact a;
        long long id = 0;
        if (s && artifact_find(s, ref, &a, &err) == 0 &&
            gate_record(s, &a, gate, !strcmp(result, "pass"), url, rq->actor, &id, &err) == 0) {
            rs->status = 201;
            serve_watch_bump(); /* this server's caches and streams see it at once */
            rs->json =
                json_pack("{s:b, s:I, s:s, s:s, s:s, s:s}", "ok", 1, "id", (json_int_t)id, "gate",
                          gate, "digest", a.digest, "result", result, "by", rq->actor);
        } else if (s) {
            store_failed(rs, &err);
        }
        if (s)
            artifact_release(&a);
    }
    json_decref(body);
}

void api_record_signoff(const struct http_request *rq, struct http_response *rs)
{
    const struct serve_app *app = rq->app;
    json_t *body = http_body_json(rq, rs);
    if (!body)
        return;
    const char *env_name = body_str(body, "env"), *ref = body_str(body, "artifact");
    const char *by = body_str(body, "by"), *note = body_str(body, "note");
    const struct manifest_env *env = env_name ? manifest_env_find(app->m, env_name) : NULL;
    if (!env_name || !ref || !by || !*by) {
        http_error(rs, 400, "bad_request",
                   "give {\"env\": ENV, \"artifact\": BUILD, \"by\": NAME, \"note\": TEXT}");
    } else if (!env) {
        http_error(rs, 404, "not_found", "no environment '%s'", env_name);
    } else {
        struct store *s = open_store(rq, rs);
        struct otap_err err = OTAP_ERR_INIT;
        struct artifact a;
        struct deployment live = {0};
        bool found = false;
        long long id = 0;
        int rc = s ? artifact_find(s, ref, &a, &err) : -1;
        if (rc == 0)
            rc = deploy_live(s, env->name, &live, &found, &err);
        if (rc == 0 && (!found || strcmp(live.digest, a.digest)))
            rc = otap_err_set(&err, OTAP_EREFUSED,
                              "%s is not live in %s: sign off a build where it runs", a.digest,
                              env->name);
        if (rc == 0)
            rc = signoff_record(s, &a, env->name, by, note, rq->actor, &id, &err);
        if (rc == 0) {
            rs->status = 201;
            serve_watch_bump(); /* this server's caches and streams see it at once */
            rs->json = json_pack("{s:b, s:I, s:s, s:s, s:s}", "ok", 1, "id", (json_int_t)id,
                                 "environment", env->name, "digest", a.digest, "by", by);
        } else if (s) {
            store_failed(rs, &err);
        }
        deployment_release(&live);
        if (s)
            artifact_release(&a);
    }
    json_decref(body);
}

static json_t *promote_json(const struct promote_result *res)
{
    json_t *steps = json_array();
    for (size_t i = 0; i < res->nsteps; i++)
        json_array_append_new(steps,
                              json_pack("{s:s, s:b, s:I, s:s?}", "step", res->steps[i].name, "ok",
                                        res->steps[i].ok, "ms", (json_int_t)res->steps[i].ms,
                                        "detail", res->steps[i].detail));
    json_t *doc =
        json_pack("{s:s?, s:s?, s:b, s:o}", "digest", res->have_build ? res->build.digest : NULL,
                  "version", res->have_build ? res->build.version : NULL, "already_live",
                  res->already_live, "steps", steps);
    if (res->failed_step)
        json_object_set_new(doc, "failure",
                            json_pack("{s:s, s:s, s:b, s:s?}", "step", res->failed_step, "reason",
                                      res->failure, "rolled_back", res->rollback_ok, "rollback",
                                      res->rollback_detail));
    return doc;
}

static void deploy_api(const struct http_request *rq, struct http_response *rs, bool rollback)
{
    const struct serve_app *app = rq->app;
    json_t *body = http_body_json(rq, rs);
    if (!body)
        return;
    const char *env_name = body_str(body, "env");
    const char *ref = body_str(body, rollback ? "to" : "artifact");
    const struct manifest_env *env = env_name ? manifest_env_find(app->m, env_name) : NULL;
    if (!env_name || (!rollback && !ref)) {
        http_error(rs, 400, "bad_request",
                   rollback ? "give {\"env\": ENV, \"to\": BUILD (optional)}"
                            : "give {\"artifact\": BUILD, \"env\": ENV}");
        json_decref(body);
        return;
    }
    if (!env) {
        http_error(rs, 404, "not_found", "no environment '%s'", env_name);
        json_decref(body);
        return;
    }
    if (rq->scope && strcmp(rq->scope, env->name)) {
        http_error(rs, 403, "forbidden", "this token acts only on %s", rq->scope);
        json_decref(body);
        return;
    }
    if (env->protected && rq->role < ROLE_ADMIN) {
        http_error(rs, 403, "forbidden", "%s is protected: %s needs an admin token", env->name,
                   rollback ? "a rollback" : "a promotion");
        json_decref(body);
        return;
    }
    struct store *s = open_store(rq, rs);
    if (!s) {
        json_decref(body);
        return;
    }
    struct promote_request prq = {
        .m = app->m,
        .manifest_name = app->manifest_name,
        .store = s,
        .env = env->name,
        .artifact = ref,
        .rollback = rollback,
        .lock_wait_ms = 0,
        .ready_timeout_ms = 60000,
        .actor = rq->actor,
        .process_env = environ,
    };
    json_t *rt = json_object_get(body, "ready_timeout_s");
    if (json_is_integer(rt) && json_integer_value(rt) > 0 && json_integer_value(rt) <= 3600)
        prq.ready_timeout_ms = (long)json_integer_value(rt) * 1000;
    struct promote_result res;
    struct otap_err err = OTAP_ERR_INIT;
    int rc = promote_run(&prq, &res, &err);
    serve_watch_bump(); /* whatever it recorded: this server sees it at once */
    json_t *doc = promote_json(&res);
    json_object_set_new(doc, "environment", json_string(env->name));
    if (rc == 0) {
        json_object_set_new(doc, "ok", json_true());
        rs->json = doc;
    } else {
        json_t *refusals = json_array();
        for (size_t i = 0; i < res.nrefusals; i++)
            json_array_append_new(refusals, json_string(res.refusals[i]));
        if (!res.nrefusals && rc == OTAP_EREFUSED && err.msg)
            json_array_append_new(refusals, json_string(err.msg));
        const char *code = rc == OTAP_EREFUSED    ? "refused"
                           : rc == OTAP_ENOTFOUND ? "not_found"
                           : rc == OTAP_EUSAGE    ? "bad_request"
                           : rc == OTAP_EFOUND    ? "failed"
                                                  : "external";
        json_object_set_new(doc, "ok", json_false());
        json_object_set_new(doc, "error",
                            json_pack("{s:s, s:s}", "code", code, "message",
                                      err.msg       ? err.msg
                                      : res.failure ? res.failure
                                                    : "refused: conditions are not met"));
        json_object_set_new(doc, "refusals", refusals);
        rs->status = rc == OTAP_EREFUSED    ? 409
                     : rc == OTAP_ENOTFOUND ? 404
                     : rc == OTAP_EUSAGE    ? 400
                     : rc == OTAP_EFOUND    ? 422
                                            : 502;
        rs->json = doc;
    }
    promote_result_release(&res);
    otap_err_release(&err);
    json_decref(body);
}

void api_promote(const struct http_request *rq, struct http_response *rs)
{
    deploy_api(rq, rs, false);
}

void api_rollback(const struct http_request *rq, struct http_response *rs)
{
    deploy_api(rq, rs, true);
}

char *api_store_check(const struct serve_app *app)
{
    struct store *s = NULL;
    struct otap_err err = OTAP_ERR_INIT;
    long long head;
    char hash[SHA256_HEX_LEN + 1];
    int rc = store_open(&s, app->m->dir, &err);
    if (rc == 0)
        rc = ledger_head(s, &head, hash, &err);
    store_close(s);
    char *out = rc == 0 ? xstrdup("ok") : xstrdup(err.msg ? err.msg : "unavailable");
    otap_err_release(&err);
    return out;
}

int api_verify_ledger(const struct serve_app *app)
{
    struct store *s = NULL;
    struct otap_err err = OTAP_ERR_INIT;
    struct ledger_list l = {0};
    long long head = 0;
    char hash[SHA256_HEX_LEN + 1];
    int rc = store_open(&s, app->m->dir, &err);
    if (rc == 0)
        rc = store_begin_snapshot(s, &err);
    if (rc == 0)
        rc = ledger_head(s, &head, hash, &err);
    if (rc == 0)
        rc = ledger_read(s, &(struct ledger_filter){0}, &l, &err);
    int verdict = -1;
    if (rc == 0) {
        struct ledger_problem p;
        verdict = ledger_verify(&l, head, hash, &p) ? 1 : 0;
        ledger_problem_release(&p);
    }
    ledger_list_release(&l);
    otap_err_release(&err);
    store_close(s);
    return verdict;
}

void api_collect_metrics(struct metrics *mx, void *ctx)
{
    const struct serve_app *app = ctx;
    metrics_gauge_set(mx, "otap_ledger_verified",
                      "1 when the ledger's chain verified at start-up, 0 when it did not, -1 "
                      "when it could not be read",
                      NULL, app->ledger_verified);
    struct store *s = NULL;
    struct otap_err err = OTAP_ERR_INIT;
    if (store_open(&s, app->m->dir, &err) < 0) {
        metrics_gauge_set(mx, "otap_state_store_up", "1 when the state store answers", NULL, 0);
        otap_err_release(&err);
        return;
    }
    metrics_gauge_set(mx, "otap_state_store_up", "1 when the state store answers", NULL, 1);
    long long head = 0;
    char hash[SHA256_HEX_LEN + 1];
    if (ledger_head(s, &head, hash, &err) == 0)
        metrics_gauge_set(mx, "otap_ledger_entries", "Entries in the ledger", NULL, (double)head);
    struct deploy_outcome *o = NULL;
    size_t n = 0;
    if (deploy_outcomes(s, &o, &n, &err) == 0) {
        for (size_t i = 0; i < n; i++) {
            char *e = metrics_escape(o[i].env);
            char *labels = xasprintf("environment=\"%s\",kind=\"%s\",result=\"%s\"", e, o[i].kind,
                                     o[i].result);
            metrics_gauge_set(mx, "otap_promotions",
                              "Promotions and rollbacks recorded in the state store, by "
                              "environment, kind and result",
                              labels, (double)o[i].count);
            free(labels);
            free(e);
        }
        deploy_outcomes_release(o, n);
    }
    struct deploy_last *last = NULL;
    if (deploy_last_success(s, &last, &n, &err) == 0) {
        for (size_t i = 0; i < n; i++) {
            time_t t;
            if (!last[i].finished_at || probe_parse_time(last[i].finished_at, &t) < 0)
                continue;
            char *e = metrics_escape(last[i].env);
            char *labels = xasprintf("environment=\"%s\"", e);
            metrics_gauge_set(mx, "otap_last_deploy_timestamp_seconds",
                              "When the environment's last successful deploy finished (Unix time)",
                              labels, (double)t);
            free(labels);
            free(e);
        }
        deploy_last_release(last, n);
    }
    otap_err_release(&err);
    store_close(s);
}
