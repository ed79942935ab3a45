/*
 * The probe engine: one curl multi handle, a schedule of attempts, and
 * the judge that knows what a healthy answer looks like.
 *
 * Reasons are written for the person reading a failed deploy: the status
 * and the body field that was wrong, "connection refused", "timed out
 * after 5000 ms"; never only "failed".
 */
#include <curl/curl.h>
#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "health/probe.h"
#include "base/monotime.h"
#include "base/strbuf.h"
#include "base/xalloc.h"
#include "base/banned.h"

#define PROBE_MAX_BODY (1u << 20)

const char *probe_check_name(enum probe_check c)
{
    static const char *const names[] = {"liveness", "health", "readiness", "url"};
    return names[c];
}

static bool digits(const char *s, int n)
{
    for (int i = 0; i < n; i++)
        if (s[i] < '0' || s[i] > '9')
            return false;
    return true;
}

static int num(const char *s, int n)
{
    int v = 0;
    for (int i = 0; i < n; i++)
        v = v * 10 + (s[i] - '0');
    return v;
}

int probe_parse_time(const char *s, time_t *out)
{
    /* YYYY-MM-DDTHH:MM:SS[.frac][Z|+HH:MM|-HH:MM|+HHMM] */
    if (strlen(s) < 19 || !digits(s, 4) || s[4] != '-' || !digits(s + 5, 2) || s[7] != '-' ||
        !digits(s + 8, 2) || (s[10] != 'T' && s[10] != 't' && s[10] != ' ') || !digits(s + 11, 2) ||
        s[13] != ':' || !digits(s + 14, 2) || s[16] != ':' || !digits(s + 17, 2))
        return -1;
    struct tm tm = {0};
    tm.tm_year = num(s, 4) - 1900;
    tm.tm_mon = num(s + 5, 2) - 1;
    tm.tm_mday = num(s + 8, 2);
    tm.tm_hour = num(s + 11, 2);
    tm.tm_min = num(s + 14, 2);
    tm.tm_sec = num(s + 17, 2);
    if (tm.tm_mon < 0 || tm.tm_mon > 11 || tm.tm_mday < 1 || tm.tm_mday > 31 || tm.tm_hour > 23 ||
        tm.tm_min > 59 || tm.tm_sec > 60)
        return -1;
    const char *p = s + 19;
    if (*p == '.' || *p == ',') {
        p++;
        if (*p < '0' || *p > '9')
            return -1;
        while (*p >= '0' && *p <= '9')
            p++;
    }
    long offset = 0;
    if (*p == 'Z' || *p == 'z') {
        p++;
    } else if (*p == '+' || *p == '-') {
        int sign = *p == '-' ? -1 : 1;
        p++;
        if (!digits(p, 2))
            return -1;
        int hh = num(p, 2), mm = 0;
        p += 2;
        if (*p == ':')
            p++;
        if (digits(p, 2)) {
            mm = num(p, 2);
            p += 2;
        }
        if (hh > 23 || mm > 59)
            return -1;
        offset = sign * (hh * 3600L + mm * 60L);
    }
    if (*p)
        return -1;
    *out = timegm(&tm) - offset;
    return 0;
}

/* A string field, or "status" inside an object field (database: {status: ...}). */
static const char *field_status(json_t *obj, const char *key)
{
    json_t *v = json_object_get(obj, key);
    if (json_is_object(v))
        v = json_object_get(v, "status");
    return json_string_value(v);
}

static char *judge_body(enum probe_check check, const char *body, size_t len,
                        const struct probe_opts *o, time_t now)
{
    json_error_t jerr;
    json_t *doc = json_loadb(body, len, 0, &jerr);
    if (!json_is_object(doc)) {
        json_decref(doc);
        return doc ? xstrdup("body is JSON but not an object")
                   : xasprintf("body is not JSON (%s)", jerr.text);
    }
    char *why = NULL;
    if (check == PROBE_HEALTH) {
        const char *env = json_string_value(json_object_get(doc, "environment"));
        const char *ts = json_string_value(json_object_get(doc, "timestamp"));
        time_t t;
        if (!env)
            why = xstrdup("body has no \"environment\"");
        else if (o->environment && strcmp(env, o->environment))
            why = xasprintf("environment is '%s', want '%s'", env, o->environment);
        else if (!ts)
            why = xstrdup("body has no \"timestamp\"");
        else if (probe_parse_time(ts, &t) < 0)
            why = xasprintf("timestamp '%s' is not ISO-8601", ts);
        else if (now - t > o->max_age_s)
            why = xasprintf("timestamp '%s' is %lld s old (at most %ld s)", ts,
                            (long long)(now - t), o->max_age_s);
        else if (t - now > o->max_age_s)
            why = xasprintf("timestamp '%s' is %lld s in the future", ts, (long long)(t - now));
    } else if (check == PROBE_READINESS) {
        const char *db = field_status(doc, "database");
        if (!db) {
            json_t *checks = json_object_get(doc, "checks");
            db = json_is_object(checks) ? field_status(checks, "database") : NULL;
        }
        if (!db)
            why = xstrdup("body has no database status");
        else if (strcmp(db, "connected"))
            why = xasprintf("database is '%s', not connected", db);
    }
    json_decref(doc);
    return why;
}

char *probe_judge(enum probe_check check, long status, const char *body, size_t len,
                  const struct probe_opts *o, time_t now)
{
    if (status != 200) {
        /* a 503 from readiness usually says why: show it */
        char *detail = NULL;
        if (check == PROBE_READINESS && len) {
            json_t *doc = json_loadb(body, len, 0, NULL);
            const char *db = json_is_object(doc) ? field_status(doc, "database") : NULL;
            if (db)
                detail = xasprintf(" (database: %s)", db);
            json_decref(doc);
        }
        char *why = xasprintf("status %ld, want 200%s", status, detail ? detail : "");
        free(detail);
        return why;
    }
    if (check == PROBE_LIVENESS || check == PROBE_URL)
        return NULL;
    return judge_body(check, body, len, o, now);
}

/* ---- the engine -------------------------------------------------------- */

struct slot {
    CURL *easy;
    struct strbuf body;
    long long due_ms; /* when the next attempt may start; -1 done */
    bool active;
};

static size_t on_body(char *data, size_t size, size_t nmemb, void *ctx)
{
    struct strbuf *sb = ctx;
    size_t n = size * nmemb;
    return strbuf_add(sb, data, n) < 0 ? 0 : n;
}

static char *curl_reason(CURLcode code, long timeout_ms)
{
    switch (code) {
    case CURLE_COULDNT_CONNECT:
        return xstrdup("connection refused");
    case CURLE_OPERATION_TIMEDOUT:
        return xasprintf("timed out after %ld ms", timeout_ms);
    case CURLE_COULDNT_RESOLVE_HOST:
        return xstrdup("host not found");
    case CURLE_WRITE_ERROR:
        return xstrdup("body larger than 1 MiB");
    case CURLE_GOT_NOTHING:
        return xstrdup("the server closed the connection without an answer");
    default:
        return xstrdup(curl_easy_strerror(code));
    }
}

static void set_reason(struct probe *p, char *why)
{
    free(p->reason);
    p->reason = why;
}

int probe_run(struct probe *p, size_t n, const struct probe_opts *o, struct otap_err *err)
{
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
        return otap_err_set(err, OTAP_EEXTERNAL, "cannot initialise libcurl");
    CURLM *multi = curl_multi_init();
    if (!multi) {
        curl_global_cleanup();
        return otap_err_set(err, OTAP_EEXTERNAL, "cannot initialise libcurl");
    }
    struct slot *slots = xcalloc(n ? n : 1, sizeof(*slots));
    long long start = monotime_ms();
    long long deadline = o->deadline_ms > 0 ? start + o->deadline_ms : 0;
    size_t left = n, active = 0;
    for (size_t i = 0; i < n; i++) {
        strbuf_init(&slots[i].body, PROBE_MAX_BODY);
        p[i].ok = false;
        p[i].attempts = 0;
        if (p[i].no_url) {
            slots[i].due_ms = -1;
            left--;
            continue;
        }
        set_reason(&p[i], xstrdup("not probed"));
    }
    while (left > 0) {
        long long now = monotime_ms();
        if (deadline && now >= deadline)
            break;
        /* start the attempts that are due */
        for (size_t i = 0; i < n && active < o->max_parallel; i++) {
            struct slot *s = &slots[i];
            if (s->active || s->due_ms < 0 || s->due_ms > now)
                continue;
            long timeout = o->timeout_ms;
            if (deadline && deadline - now < timeout)
                timeout = (long)(deadline - now);
            if (timeout < 1)
                timeout = 1;
            if (!s->easy)
                s->easy = curl_easy_init();
            CURL *e = s->easy;
            curl_easy_reset(e);
            strbuf_reset(&s->body);
            curl_easy_setopt(e, CURLOPT_URL, p[i].url);
            curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
            curl_easy_setopt(e, CURLOPT_WRITEDATA, &s->body);
            curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, timeout);
            curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
            curl_easy_setopt(e, CURLOPT_USERAGENT, "otap-probe");
            curl_easy_setopt(e, CURLOPT_PRIVATE, (void *)(uintptr_t)i);
            curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
            curl_multi_add_handle(multi, e);
            s->active = true;
            p[i].attempts++;
            active++;
        }
        int running = 0;
        curl_multi_perform(multi, &running);
        CURLMsg *msg;
        int queued;
        while ((msg = curl_multi_info_read(multi, &queued))) {
            if (msg->msg != CURLMSG_DONE)
                continue;
            void *priv = NULL;
            curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, &priv);
            size_t i = (size_t)(uintptr_t)priv;
            struct slot *s = &slots[i];
            curl_off_t us = 0;
            curl_easy_getinfo(msg->easy_handle, CURLINFO_TOTAL_TIME_T, &us);
            p[i].latency_ms = (double)us / 1000.0;
            long status = 0;
            curl_easy_getinfo(msg->easy_handle, CURLINFO_RESPONSE_CODE, &status);
            p[i].status = status;
            char *why = msg->data.result != CURLE_OK ? curl_reason(msg->data.result, o->timeout_ms)
                                                     : probe_judge(p[i].check, status, s->body.buf,
                                                                   s->body.len, o, time(NULL));
            curl_multi_remove_handle(multi, msg->easy_handle);
            s->active = false;
            active--;
            p[i].ok = why == NULL;
            set_reason(&p[i], why);
            long long t = monotime_ms();
            int failures = p[i].attempts;
            long backoff = o->backoff_ms;
            for (int k = 1; k < failures && backoff < 2000; k++)
                backoff *= 2;
            if (backoff > 2000)
                backoff = 2000;
            long long due = t + backoff;
            /* one last try shortly before the deadline beats giving up early */
            if (deadline && due >= deadline && deadline - t > 200)
                due = deadline - 100;
            bool again = !p[i].ok && (o->until_pass || p[i].attempts <= o->retries) &&
                         (!deadline || due < deadline);
            if (again) {
                s->due_ms = due;
            } else {
                s->due_ms = -1;
                left--;
            }
        }
        if (left == 0)
            break;
        /* sleep until a transfer moves or the next attempt is due */
        long long next = -1;
        for (size_t i = 0; i < n; i++)
            if (!slots[i].active && slots[i].due_ms >= 0 && (next < 0 || slots[i].due_ms < next))
                next = slots[i].due_ms;
        long long now2 = monotime_ms();
        long wait = 100;
        if (next >= 0 && active < o->max_parallel)
            wait = next <= now2 ? 0 : (long)(next - now2 < 100 ? next - now2 : 100);
        if (deadline && deadline - now2 < wait)
            wait = deadline > now2 ? (long)(deadline - now2) : 0;
        curl_multi_poll(multi, NULL, 0, (int)wait, NULL);
    }
    /* the deadline came: transfers still running count as failed */
    for (size_t i = 0; i < n; i++) {
        if (slots[i].active) {
            curl_multi_remove_handle(multi, slots[i].easy);
            p[i].ok = false;
            set_reason(&p[i], xasprintf("no answer before the deadline (%ld ms)", o->deadline_ms));
        }
        if (slots[i].easy)
            curl_easy_cleanup(slots[i].easy);
        strbuf_release(&slots[i].body);
    }
    free(slots);
    curl_multi_cleanup(multi);
    curl_global_cleanup();
    return 0;
}

void probe_release(struct probe *p)
{
    if (!p)
        return;
    free(p->service);
    free(p->url);
    free(p->reason);
    memset(p, 0, sizeof(*p));
}

/* ---- probes from the manifest ------------------------------------------ */

static void add_probe(struct probe **v, size_t *n, size_t *alloc, const char *service,
                      enum probe_check check, const char *base, const char *path)
{
    struct probe *p = XPUSH(v, n, alloc);
    memset(p, 0, sizeof(*p));
    p->service = xstrdup(service);
    p->check = check;
    p->url = xasprintf("%s%s", base, path);
}

int probe_plan(const struct manifest *m, const struct manifest_env *env, char *const *names,
               size_t nnames, unsigned checks, struct probe **out, size_t *nout,
               struct otap_err *err)
{
    struct probe *v = NULL;
    size_t n = 0, alloc = 0;
    for (size_t k = 0; k < nnames; k++)
        if (!manifest_service_find(m, names[k]))
            return otap_err_set(err, OTAP_ENOTFOUND, "no service '%s' in the manifest", names[k]);
    for (size_t i = 0; i < m->nservices; i++) {
        const struct manifest_service *s = &m->services[i];
        bool named = false;
        for (size_t k = 0; k < nnames; k++)
            named |= !strcmp(names[k], s->name);
        if (nnames && !named)
            continue;
        const struct manifest_health *h = &s->health;
        const char *paths[] = {h->liveness, h->health, h->readiness};
        bool any = false;
        for (int c = 0; c < 3; c++)
            any |= paths[c] && (checks & (1u << c));
        if (!any) {
            if (named) {
                for (size_t j = 0; j < n; j++)
                    probe_release(&v[j]);
                free(v);
                return otap_err_set(err, OTAP_EUSAGE,
                                    "service '%s' declares no health endpoint to probe", s->name);
            }
            continue;
        }
        char *base = manifest_service_url(m, s, env);
        for (int c = 0; c < 3; c++) {
            if (!paths[c] || !(checks & (1u << c)))
                continue;
            if (base) {
                add_probe(&v, &n, &alloc, s->name, (enum probe_check)c, base, paths[c]);
            } else {
                /* not probed, and says why: a missing URL must not pass silently */
                add_probe(&v, &n, &alloc, s->name, (enum probe_check)c, "", paths[c]);
                v[n - 1].no_url = true;
                v[n - 1].reason = xasprintf("no URL for %s (add urls: { %s: https://... } to "
                                            "the service)",
                                            env->name, env->name);
            }
        }
        free(base);
    }
    *out = v;
    *nout = n;
    return 0;
}
