/*
 * The dashboard's side of otap serve:
 *
 *   GET /, /app.js, /app.css                      the page (web/, built into the binary)
 *   GET /api/v2/events                            the ledger as Server-Sent Events
 *   GET /api/v2/check?env=E&artifact=B            what promoting B to E needs, judged now
 *   GET /api/v2/environments/{name}/health        liveness, health and readiness, probed now
 *
 * Events carry the ledger's sequence numbers as their ids: a client that
 * reconnects with Last-Event-ID gets every entry after it, none twice.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "serve.h"
#include "base/monotime.h"
#include "base/num.h"
#include "base/redact.h"
#include "base/strbuf.h"
#include "base/strvec.h"
#include "base/xalloc.h"
#include "deploy/promote.h"
#include "health/probe.h"
#include "state/ledger.h"
#include "state/store.h"
#include "web/web.h"
#include "base/banned.h"

extern char **environ;

void web_page(const struct http_request *rq, struct http_response *rs)
{
    const struct web_asset *a = web_asset_find(rq->path);
    if (!a) {
        http_error(rs, 404, "not_found", "no such file: %s", rq->path);
        return;
    }
    rs->bytes = a->data;
    rs->nbytes = a->len;
    rs->content_type = a->type;
}

/* ---- events ------------------------------------------------------------------------------------
 */

#define KEEPALIVE_MS 15000
#define BATCH 200

struct events {
    const struct serve_app *app;
    long long after; /* the last sequence number sent */
    struct strbuf out;
    size_t sent;
    long long last_write_ms;
    bool hello;
};

static void events_free(void *ctx)
{
    struct events *ev = ctx;
    strbuf_release(&ev->out);
    free(ev);
}

/* The entries after ev->after, as events, into ev->out; -1 when the store cannot be read. */
static int fill(struct events *ev)
{
    struct store *s = serve_store(&(struct http_request){.app = (void *)ev->app}, NULL);
    if (!s)
        return -1;
    struct ledger_list l;
    struct ledger_filter f = {.after = ev->after, .limit = BATCH};
    struct otap_err err = OTAP_ERR_INIT;
    if (ledger_read(s, &f, &l, &err) < 0) {
        otap_err_release(&err);
        serve_store_broken(s);
        return -1;
    }
    for (size_t i = 0; i < l.n; i++) {
        json_t *o = ledger_entry_json(&l.items[i]);
        json_object_del(o, "details_text");
        char *data = json_dumps(o, JSON_COMPACT);
        json_decref(o);
        /* the store's text passes the server's redaction, as every answer does */
        size_t safe_len;
        char *safe = redactor_apply(ev->app->redact, data, strlen(data), &safe_len);
        strbuf_addf(&ev->out, "id: %lld\nevent: ledger\ndata: %s\n\n", l.items[i].seq, safe);
        free(safe);
        free(data);
        ev->after = l.items[i].seq;
    }
    ledger_list_release(&l);
    return 0;
}

static long events_next(void *ctx, char *buf, size_t max)
{
    struct events *ev = ctx;
    if (ev->sent == ev->out.len) {
        strbuf_reset(&ev->out);
        ev->sent = 0;
        if (!ev->hello) {
            /* a browser retries after 2 s; the first line opens the stream at once */
            strbuf_addf(&ev->out, "retry: 2000\n: otap ledger events after %lld\n\n", ev->after);
            ev->hello = true;
        } else if (fill(ev) < 0) {
            return -1;
        }
        if (!ev->out.len && monotime_ms() - ev->last_write_ms >= KEEPALIVE_MS)
            strbuf_addstr(&ev->out, ": keep-alive\n\n");
        if (!ev->out.len)
            return 0; /* parked until the watcher sees a change */
    }
    size_t n = ev->out.len - ev->sent < max ? ev->out.len - ev->sent : max;
    memcpy(buf, ev->out.buf + ev->sent, n);
    ev->sent += n;
    ev->last_write_ms = monotime_ms();
    return (long)n;
}

void api_events(const struct http_request *rq, struct http_response *rs)
{
    const struct serve_app *app = rq->app;
    long long after = -1;
    const char *last = http_header(rq, "Last-Event-ID");
    if (last && *last && (num_parse_ll(last, &after) < 0 || after < 0)) {
        http_error(rs, 400, "bad_request", "Last-Event-ID '%s' is not a sequence number", last);
        return;
    }
    if (after < 0) {
        /* a new client starts at the head: it reads the past from /api/v2/ledger */
        struct store *s = serve_store(rq, rs);
        if (!s)
            return;
        after = serve_ledger_head(s);
        if (after < 0) {
            http_error(rs, 503, "store_unavailable", "the ledger's head cannot be read");
            return;
        }
    }
    struct events *ev = xcalloc(1, sizeof(*ev));
    ev->app = app;
    ev->after = after;
    strbuf_init(&ev->out, 0);
    ev->last_write_ms = monotime_ms();
    rs->stream = events_next;
    rs->stream_ctx = ev;
    rs->stream_free = events_free;
    rs->content_type = "text/event-stream; charset=utf-8";
}

/* ---- check: what a promotion needs -------------------------------------------------------------
 */

void api_check(const struct http_request *rq, struct http_response *rs)
{
    const struct serve_app *app = rq->app;
    const char *env_name = http_query(rq, "env"), *ref = http_query(rq, "artifact");
    const struct manifest_env *env = env_name ? manifest_env_find(app->m, env_name) : NULL;
    if (!env_name || !ref) {
        http_error(rs, 400, "bad_request", "give ?env=ENV&artifact=BUILD");
        return;
    }
    if (!env) {
        http_error(rs, 404, "not_found", "no environment '%s'", env_name);
        return;
    }
    struct store *s = serve_store(rq, rs);
    if (!s)
        return;
    struct promote_request prq = {
        .m = app->m,
        .manifest_name = app->manifest_name,
        .store = s,
        .env = env->name,
        .artifact = ref,
        .check_only = true,
        .actor = rq->actor,
        .process_env = environ,
    };
    struct promote_result res;
    struct otap_err err = OTAP_ERR_INIT;
    int rc = promote_run(&prq, &res, &err);
    if (rc == 0 || rc == OTAP_EREFUSED) {
        json_t *unmet = json_array(), *conditions = json_array();
        for (size_t i = 0; i < res.nrefusals; i++)
            json_array_append_new(unmet, json_string(res.refusals[i]));
        struct strvec cv = STRVEC_INIT;
        promote_conditions_for(app->m, env, &cv);
        for (size_t i = 0; i < cv.n; i++)
            json_array_append_new(conditions, json_string(cv.items[i]));
        strvec_release(&cv);
        rs->json = json_pack("{s:b, s:s, s:s, s:b, s:b, s:b, s:o, s:o}", "ok", 1, "env", env->name,
                             "artifact", ref, "safe", rc == 0, "already_live", res.already_live,
                             "protected", env->protected, "unmet", unmet, "conditions", conditions);
    } else {
        http_error(rs, rc == OTAP_EUSAGE ? 404 : 500, rc == OTAP_EUSAGE ? "not_found" : "store",
                   "%s", err.msg ? err.msg : "the check failed");
        if (rc == OTAP_EEXTERNAL)
            serve_store_broken(s);
    }
    promote_result_release(&res);
    otap_err_release(&err);
}

/* ---- health, probed now ------------------------------------------------------------------------
 */

void api_env_health(const struct http_request *rq, struct http_response *rs)
{
    const struct serve_app *app = rq->app;
    const char *name = http_param(rq, "name");
    const struct manifest_env *env = manifest_env_find(app->m, name);
    if (!env) {
        http_error(rs, 404, "not_found", "no environment '%s'", name);
        return;
    }
    struct probe *p = NULL;
    size_t n = 0;
    struct otap_err err = OTAP_ERR_INIT;
    unsigned checks = 1u << PROBE_LIVENESS | 1u << PROBE_HEALTH | 1u << PROBE_READINESS;
    if (probe_plan(app->m, env, NULL, 0, checks, &p, &n, &err) < 0) {
        rs->json = json_pack("{s:b, s:s, s:s, s:s}", "ok", 1, "env", env->name, "state", "unknown",
                             "reason", err.msg);
        otap_err_release(&err);
        return;
    }
    struct probe_opts o = PROBE_OPTS_DEFAULT;
    o.environment = env->name;
    o.retries = 0;
    o.timeout_ms = 1500;
    size_t probed = 0, failed = 0;
    for (size_t i = 0; i < n; i++)
        probed += !p[i].no_url;
    if (probed && probe_run(p, n, &o, &err) < 0)
        otap_err_release(&err);
    json_t *checks_json = json_array();
    for (size_t i = 0; i < n; i++) {
        if (p[i].no_url)
            continue;
        failed += !p[i].ok;
        json_array_append_new(checks_json,
                              json_pack("{s:s?, s:s, s:b, s:I, s:f, s:s?}", "service", p[i].service,
                                        "check", probe_check_name(p[i].check), "ok", p[i].ok,
                                        "status", (json_int_t)p[i].status, "latency_ms",
                                        p[i].latency_ms, "reason", p[i].reason));
    }
    const char *state = !probed ? "unknown" : failed ? "unhealthy" : "healthy";
    rs->json = json_pack("{s:b, s:s, s:s, s:o}", "ok", 1, "env", env->name, "state", state,
                         "checks", checks_json);
    if (!probed)
        json_object_set_new(rs->json, "reason",
                            json_string(n ? "no service has a URL in this environment"
                                          : "no service declares a health path"));
    for (size_t i = 0; i < n; i++)
        probe_release(&p[i]);
    free(p);
}
