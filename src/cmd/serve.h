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
/* The flags' listener (team mode with a PostgreSQL store) and snapshot cache: start, stop. */
void serve_flags_start(const struct serve_app *app);
void serve_flags_stop(void);

/* "ok", or why the store cannot be used (for /api/v2/ready); caller frees. */
char *api_store_check(const struct serve_app *app);
/* Verifies the ledger once, for the otap_ledger_verified gauge. */
int api_verify_ledger(const struct serve_app *app);
/* Adds the store's figures to /metrics at each scrape. */
void api_collect_metrics(struct metrics *mx, void *ctx);

#endif
