/*
 * otap's HTTP server: libmicrohttpd (epoll, a thread pool) behind one
 * routing table.
 *
 * A route is data: method, path pattern ("/api/v2/environments/{name}"),
 * the least role that may call it, and a handler that fills a response.
 * Everything else is done once, here, for every route: bearer-token
 * authentication (401 without a valid token, 403 with too weak a role;
 * a route with ROLE_NONE is open to all), the request id (X-Request-Id
 * when the client sent a sane one, otherwise generated; always returned),
 * body size limits (413), 404 and 405, JSON error bodies, one JSON access
 * log line per request on the log stream (never a token), and the request
 * metrics: otap_http_requests_total{route,method,status},
 * otap_http_request_duration_seconds{route}, otap_http_connections_open,
 * otap_http_requests_in_flight.
 *
 * http_server_stop() stops accepting, lets requests in flight finish
 * (within a grace period), then closes everything.
 */
#ifndef OTAP_HTTP_SERVER_H
#define OTAP_HTTP_SERVER_H

#include <jansson.h>

#include "base/redact.h"
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "base/err.h"
#include "server/metrics.h"
#include "server/tokens.h"

#define HTTP_MAX_PARAMS 4

struct http_request {
    const char *method;
    const char *path;
    char *param_names[HTTP_MAX_PARAMS];
    char *param_values[HTTP_MAX_PARAMS];
    size_t nparams;
    const char *body;
    size_t body_len;
    enum role role;
    const char *actor; /* the token's name, or "anonymous" */
    const char *scope; /* the token's one environment, or NULL: any */
    const char *request_id;
    void *app;
    void *conn; /* libmicrohttpd's connection, for http_query() */
};

/*
 * A body produced while it is sent (Server-Sent Events): called whenever
 * the connection can take more; returns the bytes put in buf (> 0), 0 when
 * it has nothing now (the connection is parked until http_server_wake()),
 * or -1 to end the answer.
 */
typedef long (*http_stream_fn)(void *ctx, char *buf, size_t max);

struct http_response {
    unsigned status;
    json_t *json;      /* a JSON body (owned), or */
    char *text;        /* a text body (owned), or */
    bool redacted;     /* text passed the server's redactor already (a cached answer) */
    const void *bytes; /* otap's own bytes (a built-in file), sent as they are, or */
    size_t nbytes;
    http_stream_fn stream; /* a stream, with its context (freed by stream_free) */
    void *stream_ctx;
    void (*stream_free)(void *ctx);
    const char *content_type; /* for text, bytes and streams; default text/plain */
    char *etag;               /* an ETag header (owned), or NULL; a 304 has no body */
};

typedef void (*http_handler)(const struct http_request *rq, struct http_response *rs);

struct http_route {
    const char *method;
    const char *pattern;
    enum role role; /* ROLE_NONE: anyone */
    http_handler handler;
    const char *summary; /* what it answers, for help and docs */
};

struct http_server_opts {
    const char *host; /* an IPv4 or IPv6 address */
    int port;
    unsigned threads;
    size_t max_body;       /* bytes */
    size_t max_header;     /* bytes of request line and headers */
    unsigned idle_timeout; /* seconds without progress before a connection is cut */
    unsigned max_conns;
    bool anonymous_read; /* viewer routes without a token */
    const struct http_route *routes;
    size_t nroutes;
    void *app;
    const struct tokens *tokens;
    struct metrics *metrics;
    FILE *log; /* access log, one JSON line per request; NULL: none */
    /* every answer's body passes through it (NULL: the generic rules only) */
    const struct redactor *redact;
};

struct http_server;

int http_server_start(struct http_server **out, const struct http_server_opts *o,
                      struct otap_err *err);
/* Stops accepting, waits up to grace_ms for requests in flight, then stops. */
void http_server_stop(struct http_server *s, unsigned grace_ms);
/* Hands every parked stream another turn (there may be news for it). Any thread. */
void http_server_wake(struct http_server *s);
/* The port actually bound (when opts.port was 0). */
int http_server_port(const struct http_server *s);

/* Now in UTC as ISO-8601 with milliseconds: 2026-11-21T10:00:00.123Z. */
void http_time_now(char out[40]);
/*
 * Writes line (taking ownership) to log as one JSON line, with "time"
 * put first; whole lines only, whatever the threads. log NULL: dropped.
 */
void http_log_line(FILE *log, json_t *line);

/* The value of query-string argument name (?name=value), or NULL. */
const char *http_query(const struct http_request *rq, const char *name);

/* The value of request header name (If-None-Match), or NULL. */
const char *http_header(const struct http_request *rq, const char *name);
/* Every query argument, sorted, "a=1&b=2" (not escaped: for keys, not URLs); NULL when none. */
char *http_query_string(const struct http_request *rq);

/* The value of path parameter name, or NULL. */
const char *http_param(const struct http_request *rq, const char *name);
/* Fills rs with {"ok": false, "error": {"code": ..., "message": ...}}. */
void http_error(struct http_response *rs, unsigned status, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/*
 * The request body as a JSON object; NULL after filling rs with a 400
 * that names the line and column of the problem.
 */
json_t *http_body_json(const struct http_request *rq, struct http_response *rs);

/* Does path match pattern? Fills names and values (new strings) of {param} segments. */
bool http_route_match(const char *pattern, const char *path, char **names, char **values,
                      size_t *n);

#endif
