/*
 * The server around libmicrohttpd: per-request state, routing, auth,
 * limits, logging and metrics, so that a handler only answers.
 *
 * libmicrohttpd calls the access handler several times per request: once
 * with the headers, then with each piece of the body, then once more to
 * ask for the answer. The body is collected up to max_body; beyond it the
 * rest is drained and the answer is 413, without the handler being run.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <pthread.h>
#include <math.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "server/http_server.h"
#include "base/monotime.h"
#include "base/strbuf.h"
#include "base/xalloc.h"
#include "base/banned.h"

struct stream;

struct http_server {
    struct MHD_Daemon *d;
    struct http_server_opts o;
    atomic_int in_flight;
    atomic_int open_conns;
    int port;
    atomic_bool closing;
    atomic_ulong wakes;          /* http_server_wake calls so far */
    pthread_mutex_t parked_lock; /* the streams waiting for news */
    struct stream *parked;
};

/* An answer produced while it is sent, and the connection it goes to. */
struct stream {
    struct http_server *s;
    struct MHD_Connection *c;
    http_stream_fn fn;
    void *ctx;
    void (*free_ctx)(void *ctx);
    bool parked;
    struct stream *next;
};

struct req_state {
    long long start_ns;
    struct strbuf body;
    bool too_large;
    bool answered;
    char request_id[72];
    unsigned status;
    const char *route; /* the pattern, for logs and metrics */
    const char *actor;
    const char *scope; /* the token's environment, or NULL */
    enum role role;
    size_t bytes_out;
    char method[16];
    char *path;
    size_t received; /* body bytes seen, kept or not */
};

#define HTTP_DRAIN_BYTES (1u << 20)

/* ---- helpers for handlers ---------------------------------------------- */

void http_time_now(char out[40])
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    struct tm tm;
    gmtime_r(&ts.tv_sec, &tm);
    char base[24];
    strftime(base, sizeof(base), "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(out, 40, "%s.%03dZ", base, (int)(ts.tv_nsec / 1000000) % 1000);
}

void http_log_line(FILE *log, json_t *line)
{
    if (!log) {
        json_decref(line);
        return;
    }
    char now[40];
    http_time_now(now);
    json_t *full = json_pack("{s:s}", "time", now);
    json_object_update(full, line);
    json_decref(line);
    char *text = json_dumps(full, JSON_COMPACT | JSON_PRESERVE_ORDER);
    flockfile(log);
    fputs(text, log);
    fputc('\n', log);
    fflush(log);
    funlockfile(log);
    free(text);
    json_decref(full);
}

const char *http_query(const struct http_request *rq, const char *name)
{
    return rq->conn ? MHD_lookup_connection_value(rq->conn, MHD_GET_ARGUMENT_KIND, name) : NULL;
}

static enum MHD_Result add_arg(void *cls, enum MHD_ValueKind kind, const char *key,
                               const char *value)
{
    (void)kind;
    struct strbuf *sb = cls;
    /* NUL between arguments, '=' inside: sorted below, so order never matters */
    strbuf_addf(sb, "%s=%s", key, value ? value : "");
    strbuf_addch(sb, '\0');
    return MHD_YES;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

char *http_query_string(const struct http_request *rq)
{
    if (!rq->conn)
        return NULL;
    struct strbuf sb = STRBUF_INIT;
    int n = MHD_get_connection_values(rq->conn, MHD_GET_ARGUMENT_KIND, add_arg, &sb);
    if (n <= 0) {
        strbuf_release(&sb);
        return NULL;
    }
    char **parts = xcalloc((size_t)n, sizeof(char *));
    size_t k = 0;
    for (size_t off = 0; off < sb.len && k < (size_t)n; off += strlen(sb.buf + off) + 1)
        parts[k++] = sb.buf + off;
    qsort(parts, k, sizeof(char *), cmp_str);
    struct strbuf out = STRBUF_INIT;
    for (size_t i = 0; i < k; i++)
        strbuf_addf(&out, "%s%s", i ? "&" : "", parts[i]);
    free(parts);
    strbuf_release(&sb);
    return strbuf_detach(&out, NULL);
}

const char *http_header(const struct http_request *rq, const char *name)
{
    return rq->conn ? MHD_lookup_connection_value(rq->conn, MHD_HEADER_KIND, name) : NULL;
}

const char *http_param(const struct http_request *rq, const char *name)
{
    for (size_t i = 0; i < rq->nparams; i++)
        if (!strcmp(rq->param_names[i], name))
            return rq->param_values[i];
    return NULL;
}

void http_error(struct http_response *rs, unsigned status, const char *code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *msg = xvasprintf(fmt, ap);
    va_end(ap);
    json_decref(rs->json);
    rs->status = status;
    rs->json = json_pack("{s:b, s:{s:s, s:s}}", "ok", 0, "error", "code", code, "message", msg);
    free(msg);
}

json_t *http_body_json(const struct http_request *rq, struct http_response *rs)
{
    if (!rq->body_len) {
        http_error(rs, 400, "bad_request", "this endpoint wants a JSON object as its body");
        return NULL;
    }
    json_error_t e;
    json_t *doc = json_loadb(rq->body, rq->body_len, JSON_REJECT_DUPLICATES, &e);
    if (!doc) {
        http_error(rs, 400, "bad_json", "malformed JSON at line %d, column %d: %s", e.line,
                   e.column, e.text);
        return NULL;
    }
    if (!json_is_object(doc)) {
        json_decref(doc);
        http_error(rs, 400, "bad_json", "the body must be a JSON object");
        return NULL;
    }
    return doc;
}

bool http_route_match(const char *pattern, const char *path, char **names, char **values, size_t *n)
{
    *n = 0;
    const char *p = pattern, *s = path;
    while (*p && *s) {
        if (*p == '{') {
            const char *close = strchr(p, '}');
            if (!close || *n >= HTTP_MAX_PARAMS)
                goto fail;
            const char *end = strchr(s, '/');
            size_t len = end ? (size_t)(end - s) : strlen(s);
            if (!len)
                goto fail;
            names[*n] = xstrndup(p + 1, (size_t)(close - p - 1));
            values[*n] = xstrndup(s, len);
            (*n)++;
            p = close + 1;
            s += len;
            continue;
        }
        if (*p != *s)
            goto fail;
        p++;
        s++;
    }
    if (!*p && !*s)
        return true;
fail:
    for (size_t i = 0; i < *n; i++) {
        free(names[i]);
        free(values[i]);
    }
    *n = 0;
    return false;
}

/* ---- per request ---------------------------------------------------------- */

static bool request_id_ok(const char *s)
{
    size_t n = strlen(s);
    if (!n || n > 64)
        return false;
    for (const char *p = s; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
              *p == '-' || *p == '_' || *p == '.' || *p == ':'))
            return false;
    return true;
}

static void new_request_id(char out[72])
{
    unsigned char raw[8];
    if (getrandom(raw, sizeof(raw), 0) != (ssize_t)sizeof(raw)) {
        /* no entropy: the clock still tells requests apart in the log */
        long long t = monotime_ns();
        memcpy(raw, &t, sizeof(raw));
    }
    static const char hex[] = "0123456789abcdef";
    for (size_t i = 0; i < sizeof(raw); i++) {
        out[2 * i] = hex[raw[i] >> 4];
        out[2 * i + 1] = hex[raw[i] & 15];
    }
    out[16] = '\0';
}

/* Takes a stream off the parked list (the caller holds the lock). */
static void unpark(struct stream *sm)
{
    for (struct stream **p = &sm->s->parked; *p; p = &(*p)->next)
        if (*p == sm) {
            *p = sm->next;
            break;
        }
    sm->parked = false;
    sm->next = NULL;
}

static ssize_t stream_read(void *cls, uint64_t pos, char *buf, size_t max)
{
    (void)pos;
    struct stream *sm = cls;
    if (atomic_load(&sm->s->closing))
        return MHD_CONTENT_READER_END_OF_STREAM;
    unsigned long before = atomic_load(&sm->s->wakes);
    long n = sm->fn(sm->ctx, buf, max);
    if (n < 0)
        return MHD_CONTENT_READER_END_OF_STREAM;
    if (n == 0) {
        /* nothing now: parked until http_server_wake(), as microhttpd.h prescribes */
        pthread_mutex_lock(&sm->s->parked_lock);
        /* a wake while fn looked would be lost if the stream parked now: look again instead */
        if (!sm->parked && !atomic_load(&sm->s->closing) && atomic_load(&sm->s->wakes) == before) {
            sm->parked = true;
            sm->next = sm->s->parked;
            sm->s->parked = sm;
            MHD_suspend_connection(sm->c);
        }
        pthread_mutex_unlock(&sm->s->parked_lock);
        return 0;
    }
    return (ssize_t)n;
}

static void stream_done(void *cls)
{
    struct stream *sm = cls;
    pthread_mutex_lock(&sm->s->parked_lock);
    if (sm->parked)
        unpark(sm);
    pthread_mutex_unlock(&sm->s->parked_lock);
    if (sm->free_ctx)
        sm->free_ctx(sm->ctx);
    free(sm);
}

void http_server_wake(struct http_server *s)
{
    pthread_mutex_lock(&s->parked_lock);
    atomic_fetch_add(&s->wakes, 1);
    while (s->parked) {
        struct stream *sm = s->parked;
        unpark(sm);
        MHD_resume_connection(sm->c);
    }
    pthread_mutex_unlock(&s->parked_lock);
}

static enum MHD_Result respond(const struct http_server *s, struct MHD_Connection *c,
                               struct req_state *st, struct http_response *rs)
{
    char *body;
    size_t len;
    const char *type;
    struct MHD_Response *r = NULL;
    if (rs->stream && rs->status == 200) {
        struct stream *sm = xcalloc(1, sizeof(*sm));
        *sm = (struct stream){(struct http_server *)s, c,     rs->stream, rs->stream_ctx,
                              rs->stream_free,         false, NULL};
        r = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 16384, stream_read, sm,
                                              stream_done);
        type = rs->content_type ? rs->content_type : "text/event-stream";
        len = 0;
    } else if (rs->bytes && rs->status == 200) {
        /* otap's own files: nothing of the store's in them to redact */
        r = MHD_create_response_from_buffer(rs->nbytes, (void *)rs->bytes, MHD_RESPMEM_PERSISTENT);
        type = rs->content_type ? rs->content_type : "application/octet-stream";
        len = rs->nbytes;
    }
    if (r)
        goto headers;
    if (rs->stream && rs->stream_free) /* not started: give its context back */
        rs->stream_free(rs->stream_ctx);
    if (rs->status == 304) {
        body = xstrdup(""); /* Not Modified carries no body */
        type = "application/json";
        json_decref(rs->json);
        rs->json = NULL;
        len = 0;
    } else if (rs->json) {
        body = json_dumps(rs->json, JSON_COMPACT | JSON_PRESERVE_ORDER);
        len = strlen(body);
        type = "application/json";
    } else {
        body = rs->text ? rs->text : xstrdup("");
        rs->text = NULL;
        len = strlen(body);
        type = rs->content_type ? rs->content_type : "text/plain; charset=utf-8";
    }
    /* what the API says passes the same redaction as what the CLI prints (once: a cached
     * answer was redacted when it was cached) */
    if (!rs->redacted || rs->json) {
        size_t safe_len = 0;
        char *safe = redactor_apply(s->o.redact, body, len, &safe_len);
        explicit_bzero(body, len);
        free(body);
        body = safe;
        len = safe_len;
    }
    r = MHD_create_response_from_buffer(len, body, MHD_RESPMEM_MUST_FREE);
headers:
    MHD_add_response_header(r, "Content-Type", type);
    /* the page (web/) and the API: nothing but otap's own files, no sniffing, no referrer */
    MHD_add_response_header(r, "Content-Security-Policy",
                            "default-src 'self'; frame-ancestors 'none'; base-uri 'none'; "
                            "form-action 'none'");
    MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
    MHD_add_response_header(r, "Referrer-Policy", "no-referrer");
    if (rs->stream)
        MHD_add_response_header(r, "X-Accel-Buffering", "no");
    MHD_add_response_header(r, "X-Request-Id", st->request_id);
    MHD_add_response_header(r, "Cache-Control", "no-store");
    if (rs->status == 401)
        MHD_add_response_header(r, "WWW-Authenticate", "Bearer realm=\"otap\"");
    if (rs->etag)
        MHD_add_response_header(r, "ETag", rs->etag);
    st->status = rs->status;
    st->bytes_out = len;
    st->answered = true;
    enum MHD_Result ret = MHD_queue_response(c, rs->status, r);
    MHD_destroy_response(r);
    json_decref(rs->json);
    free(rs->text);
    free(rs->etag);
    return ret;
}

/* Who is calling: the role of the bearer token, or ROLE_NONE. */
static enum role authenticate(const struct http_server *s, struct MHD_Connection *c,
                              struct req_state *st, bool *bad_token)
{
    const char *auth = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Authorization");
    *bad_token = false;
    st->actor = "anonymous";
    st->scope = NULL;
    if (!auth)
        return ROLE_NONE;
    if (strncasecmp(auth, "Bearer ", 7)) {
        *bad_token = true;
        return ROLE_NONE;
    }
    const struct token *t = s->o.tokens ? tokens_verify(s->o.tokens, auth + 7) : NULL;
    if (!t) {
        *bad_token = true;
        return ROLE_NONE;
    }
    st->actor = t->name;
    st->scope = t->env;
    return t->role;
}

static enum MHD_Result dispatch(struct http_server *s, struct MHD_Connection *c,
                                struct req_state *st, const char *url, const char *method)
{
    struct http_response rs = {0};
    const struct http_route *route = NULL;
    bool path_known = false;
    struct http_request rq = {0};
    for (size_t i = 0; i < s->o.nroutes && !route; i++) {
        const struct http_route *r = &s->o.routes[i];
        size_t n;
        if (!http_route_match(r->pattern, url, rq.param_names, rq.param_values, &n))
            continue;
        path_known = true;
        rq.nparams = n;
        if (strcmp(r->method, method)) {
            for (size_t k = 0; k < n; k++) {
                free(rq.param_names[k]);
                free(rq.param_values[k]);
            }
            rq.nparams = 0;
            continue;
        }
        route = r;
    }
    if (!route) {
        st->route = path_known ? "method_not_allowed" : "not_found";
        if (path_known)
            http_error(&rs, 405, "method_not_allowed", "%s is not allowed on %s", method, url);
        else
            http_error(&rs, 404, "not_found", "no such endpoint: %s", url);
        return respond(s, c, st, &rs);
    }
    st->route = route->pattern;
    if (st->too_large) {
        for (size_t k = 0; k < rq.nparams; k++) {
            free(rq.param_names[k]);
            free(rq.param_values[k]);
        }
        http_error(&rs, 413, "too_large", "the body is larger than %zu bytes", s->o.max_body);
        return respond(s, c, st, &rs);
    }

    bool bad_token;
    enum role role = authenticate(s, c, st, &bad_token);
    st->role = role;
    enum role need = route->role;
    if (need == ROLE_VIEWER && s->o.anonymous_read && role == ROLE_NONE && !bad_token)
        need = ROLE_NONE;
    if (need != ROLE_NONE && role == ROLE_NONE) {
        http_error(&rs, 401, "unauthorized",
                   bad_token ? "the bearer token is not valid"
                             : "this endpoint needs a bearer token (Authorization: Bearer ...)");
    } else if (role < need) {
        http_error(&rs, 403, "forbidden", "this endpoint needs the %s role; '%s' has %s",
                   role_name(need), st->actor, role_name(role));
    } else {
        rq.conn = c;
        rq.method = method;
        rq.path = url;
        rq.body = st->body.buf;
        rq.body_len = st->body.len;
        rq.role = role;
        rq.actor = st->actor;
        rq.scope = st->scope;
        rq.request_id = st->request_id;
        rq.app = s->o.app;
        rs.status = 200;
        route->handler(&rq, &rs);
        if (!rs.json && !rs.text && !rs.bytes && !rs.stream && rs.status != 304)
            http_error(&rs, 500, "internal", "the handler gave no answer");
    }
    for (size_t k = 0; k < rq.nparams; k++) {
        free(rq.param_names[k]);
        free(rq.param_values[k]);
    }
    return respond(s, c, st, &rs);
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
                                  const char *method, const char *version, const char *upload,
                                  size_t *upload_size, void **con_cls)
{
    (void)version;
    struct http_server *s = cls;
    struct req_state *st = *con_cls;
    if (!st) {
        st = xcalloc(1, sizeof(*st));
        st->start_ns = monotime_ns();
        strbuf_init(&st->body, s->o.max_body + 1);
        st->route = "not_found";
        st->actor = "anonymous";
        snprintf(st->method, sizeof(st->method), "%s", method);
        st->path = xstrndup(url, 512);
        const char *rid = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "X-Request-Id");
        if (rid && request_id_ok(rid))
            snprintf(st->request_id, sizeof(st->request_id), "%s", rid);
        else
            new_request_id(st->request_id);
        *con_cls = st;
        atomic_fetch_add(&s->in_flight, 1);
        metrics_gauge_add(s->o.metrics, "otap_http_requests_in_flight", "Requests being served now",
                          NULL, 1);
        const char *cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Content-Length");
        if (cl && strtoull(cl, NULL, 10) > s->o.max_body)
            st->too_large = true; /* answered below, without reading the body */
        if (!st->too_large)
            return MHD_YES;
    }
    if (*upload_size) {
        st->received += *upload_size;
        if (!st->too_large && strbuf_add(&st->body, upload, *upload_size) < 0)
            st->too_large = true;
        *upload_size = 0;
        /* drain a modest excess so the client reads its 413; beyond that, answer and close */
        if (!st->too_large || st->received <= s->o.max_body + HTTP_DRAIN_BYTES)
            return MHD_YES;
    }
    if (st->answered)
        return MHD_YES;
    return dispatch(s, c, st, url, method);
}

static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    struct http_server *s = cls;
    struct req_state *st = *con_cls;
    if (!st)
        return;
    double secs = (double)(monotime_ns() - st->start_ns) / 1e9;
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    char remote[INET6_ADDRSTRLEN] = "-";
    if (ci && ci->client_addr) {
        const struct sockaddr *sa = ci->client_addr;
        if (sa->sa_family == AF_INET)
            inet_ntop(AF_INET, &((const struct sockaddr_in *)(const void *)sa)->sin_addr, remote,
                      sizeof(remote));
        else if (sa->sa_family == AF_INET6)
            inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr, remote,
                      sizeof(remote));
    }
    const union MHD_ConnectionInfo *mi =
        MHD_get_connection_info(c, MHD_CONNECTION_INFO_HTTP_STATUS);
    unsigned status = st->status ? st->status : (mi ? mi->http_status : 0);

    char *route = metrics_escape(st->route);
    char labels[512];
    snprintf(labels, sizeof(labels), "route=\"%s\",status=\"%u\"", route, status);
    metrics_counter_add(s->o.metrics, "otap_http_requests_total", "Requests by route and status",
                        labels, 1);
    snprintf(labels, sizeof(labels), "route=\"%s\"", route);
    metrics_observe(s->o.metrics, "otap_http_request_duration_seconds",
                    "Time from the request's first byte to the last byte of the answer", labels,
                    secs);
    metrics_gauge_add(s->o.metrics, "otap_http_requests_in_flight", "Requests being served now",
                      NULL, -1);
    free(route);

    if (s->o.log) {
        json_t *line = json_pack("{s:s, s:s, s:s, s:s, s:i, s:f, s:I, s:s, s:s, s:s}", "request_id",
                                 st->request_id, "method", st->method, "path", st->path, "route",
                                 st->route, "status", (int)status, "duration_ms",
                                 round(secs * 1e6) / 1e3, "bytes", (json_int_t)st->bytes_out,
                                 "actor", st->actor, "role", role_name(st->role), "remote", remote);
        if (toe != MHD_REQUEST_TERMINATED_COMPLETED_OK)
            json_object_set_new(
                line, "terminated",
                json_string(toe == MHD_REQUEST_TERMINATED_TIMEOUT_REACHED   ? "timeout"
                            : toe == MHD_REQUEST_TERMINATED_CLIENT_ABORT    ? "client_abort"
                            : toe == MHD_REQUEST_TERMINATED_DAEMON_SHUTDOWN ? "shutdown"
                                                                            : "error"));
        http_log_line(s->o.log, line);
    }
    strbuf_release(&st->body);
    free(st->path);
    free(st);
    *con_cls = NULL;
    atomic_fetch_sub(&s->in_flight, 1);
}

/* libmicrohttpd's own complaints, as JSON lines like everything else on the log */
__attribute__((format(printf, 2, 0))) static void on_mhd_log(void *cls, const char *fmt, va_list ap)
{
    struct http_server *s = cls;
    if (!s->o.log)
        return;
    char *msg = xvasprintf(fmt, ap);
    size_t n = strlen(msg);
    while (n && (msg[n - 1] == '\n' || msg[n - 1] == ' '))
        msg[--n] = '\0';
    http_log_line(s->o.log, json_pack("{s:s, s:s}", "event", "http_error", "message", msg));
    free(msg);
}

static void on_connection(void *cls, struct MHD_Connection *c, void **socket_ctx,
                          enum MHD_ConnectionNotificationCode code)
{
    (void)c, (void)socket_ctx;
    struct http_server *s = cls;
    int delta = code == MHD_CONNECTION_NOTIFY_STARTED ? 1 : -1;
    atomic_fetch_add(&s->open_conns, delta);
    metrics_gauge_add(s->o.metrics, "otap_http_connections_open", "Open client connections", NULL,
                      delta);
}

int http_server_start(struct http_server **out, const struct http_server_opts *o,
                      struct otap_err *err)
{
    struct sockaddr_storage ss = {0};
    unsigned flags =
        MHD_USE_EPOLL_INTERNAL_THREAD | MHD_USE_ITC | MHD_USE_ERROR_LOG | MHD_ALLOW_SUSPEND_RESUME;
    if (strchr(o->host, ':')) {
        struct sockaddr_in6 *a = (struct sockaddr_in6 *)&ss;
        a->sin6_family = AF_INET6;
        a->sin6_port = htons((uint16_t)o->port);
        if (inet_pton(AF_INET6, o->host, &a->sin6_addr) != 1)
            return otap_err_set(err, OTAP_EUSAGE, "'%s' is not an IP address", o->host);
        flags |= MHD_USE_IPv6;
    } else {
        struct sockaddr_in *a = (struct sockaddr_in *)&ss;
        a->sin_family = AF_INET;
        a->sin_port = htons((uint16_t)o->port);
        if (inet_pton(AF_INET, o->host, &a->sin_addr) != 1)
            return otap_err_set(err, OTAP_EUSAGE, "'%s' is not an IP address", o->host);
    }
    struct http_server *s = xcalloc(1, sizeof(*s));
    pthread_mutex_init(&s->parked_lock, NULL);
    s->o = *o;
    atomic_init(&s->in_flight, 0);
    atomic_init(&s->open_conns, 0);
    /* the logger comes first, so that libmicrohttpd's complaints about the rest reach it */
    s->d = MHD_start_daemon(
        flags, 0, NULL, NULL, on_request, s, MHD_OPTION_EXTERNAL_LOGGER, on_mhd_log, s,
        MHD_OPTION_SOCK_ADDR, &ss, MHD_OPTION_THREAD_POOL_SIZE, o->threads ? o->threads : 2,
        MHD_OPTION_CONNECTION_LIMIT, o->max_conns, MHD_OPTION_CONNECTION_TIMEOUT, o->idle_timeout,
        MHD_OPTION_CONNECTION_MEMORY_LIMIT, o->max_header, MHD_OPTION_NOTIFY_COMPLETED,
        on_completed, s, MHD_OPTION_NOTIFY_CONNECTION, on_connection, s,
        MHD_OPTION_LISTENING_ADDRESS_REUSE, 1U, MHD_OPTION_END);
    if (!s->d) {
        int e = errno;
        free(s);
        return otap_err_set(err, OTAP_EEXTERNAL, "cannot listen on %s:%d: %s", o->host, o->port,
                            e ? strerror(e) : "libmicrohttpd refused the options");
    }
    const union MHD_DaemonInfo *di = MHD_get_daemon_info(s->d, MHD_DAEMON_INFO_BIND_PORT);
    s->port = di ? di->port : o->port;
    *out = s;
    return 0;
}

int http_server_port(const struct http_server *s)
{
    return s->port;
}

void http_server_stop(struct http_server *s, unsigned grace_ms)
{
    if (!s)
        return;
    /* streams end, parked ones too: a suspended connection would hold the daemon */
    atomic_store(&s->closing, true);
    http_server_wake(s);
    MHD_socket lfd = MHD_quiesce_daemon(s->d);
    if (lfd != MHD_INVALID_SOCKET)
        close(lfd);
    long long deadline = monotime_ns() + (long long)grace_ms * 1000000LL;
    while (atomic_load(&s->in_flight) > 0 && monotime_ns() < deadline)
        nanosleep(&(struct timespec){0, 10 * 1000 * 1000}, NULL);
    http_server_wake(s);
    MHD_stop_daemon(s->d);
    pthread_mutex_destroy(&s->parked_lock);
    free(s);
}
