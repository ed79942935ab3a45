/*
 * What otap serve's handlers share: the application, and the state
 * store's part of the API (serve_api.c).
 */
#ifndef OTAP_SERVE_H
#define OTAP_SERVE_H

#include <stdbool.h>

#include "server/http_server.h"
#include "manifest/manifest.h"
#include "server/metrics.h"
#include "server/tokens.h"

struct store;

struct serve_app {
    const struct manifest *m;
    const char *manifest_name;
    const struct manifest_env *env;
    const struct tokens *tokens;
    const char *tokens_path;
    struct metrics *metrics;
    int ledger_verified;           /* at start-up: 1 verified, 0 broken, -1 could not be read */
    const struct redactor *redact; /* the project's secrets: answers and the ledger pass it */
};

/* Each request opens its own store connection: handlers run on many threads. */
void api_environments(const struct http_request *rq, struct http_response *rs);
void api_builds(const struct http_request *rq, struct http_response *rs);
void api_gates(const struct http_request *rq, struct http_response *rs);
void api_signoffs(const struct http_request *rq, struct http_response *rs);
void api_deployments(const struct http_request *rq, struct http_response *rs);
void api_ledger(const struct http_request *rq, struct http_response *rs);
void api_record_gate(const struct http_request *rq, struct http_response *rs);
void api_record_signoff(const struct http_request *rq, struct http_response *rs);
void api_promote(const struct http_request *rq, struct http_response *rs);
void api_rollback(const struct http_request *rq, struct http_response *rs);
/* OFREP (serve_flags.c) */
void api_ofrep_flag(const struct http_request *rq, struct http_response *rs);
void api_ofrep_bulk(const struct http_request *rq, struct http_response *rs);
void api_flags_list(const struct http_request *rq, struct http_response *rs);
void api_flag_change(const struct http_request *rq, struct http_response *rs);
/* Frees the flags' snapshots when the server stops. */
void serve_flags_stop(void);

/*
 * The watcher (serve_watch.c): a thread that sees every change to the
 * store (the ledger's NOTIFY with PostgreSQL, its head every 200 ms with
 * SQLite), moves the generation and wakes the event streams.
 */
void serve_watch_start(const struct serve_app *app, struct http_server *srv);
void serve_watch_stop(void);
long serve_generation(void);
/* Are changes heard as they commit (a PostgreSQL listener is connected)? */
bool serve_watch_listening(void);
/* A change made by this server: caches reload, streams wake. */
void serve_watch_bump(void);

/* The dashboard's files, the event stream, and what the page asks (serve_web.c). */
void web_page(const struct http_request *rq, struct http_response *rs);
void api_events(const struct http_request *rq, struct http_response *rs);
void api_check(const struct http_request *rq, struct http_response *rs);
void api_env_health(const struct http_request *rq, struct http_response *rs);

/*
 * The state store for a handler (serve_store.c): the thread's own
 * connection, opened once and kept; NULL after answering 503 (rs may be
 * NULL: nothing is answered). A handler
 * never closes it; after a failure that may have lost the connection,
 * serve_store_broken(NULL) drops it so the next request opens another.
 */
struct store *serve_store(const struct http_request *rq, struct http_response *rs);
void serve_store_broken(struct store *s);
/* The ledger's head; -1 when it cannot be read (the connection is dropped). */
long long serve_ledger_head(struct store *s);
/*
 * The store's version for the cache: the ledger's head, or, while the
 * watcher hears every change (PostgreSQL's NOTIFY), its generation,
 * which needs no round trip. -1 when unknown.
 */
long long serve_store_version(struct store *s);
/* A read answer from the cache while the ledger stands at head; true when rs was filled. */
bool serve_cache_get(const struct http_request *rq, struct http_response *rs, long long head);
void serve_cache_put(const struct http_request *rq, const struct http_response *rs, long long head);
void serve_cache_clear(void);

/* "ok", or why the store cannot be used (for /api/v2/ready); caller frees. */
char *api_store_check(const struct serve_app *app);
/* Verifies the ledger once, for the otap_ledger_verified gauge. */
int api_verify_ledger(const struct serve_app *app);
/* Adds the store's figures to /metrics at each scrape. */
void api_collect_metrics(struct metrics *mx, void *ctx);

#endif
