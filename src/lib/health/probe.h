/*
 * Health probes: the seeds' liveness / health / readiness contract,
 * checked over HTTP for many endpoints at once.
 *
 *   liveness   200
 *   health     200, a JSON body whose "environment" is the one expected
 *              and whose "timestamp" is ISO-8601 and recent
 *   readiness  200, a JSON body whose database status says "connected"
 *   url        200 (any endpoint named on the command line)
 *
 * All probes share one libcurl multi handle: hundreds of endpoints cost
 * one thread and a poll loop. A failed probe is retried with exponential
 * backoff while retries remain and the deadline allows; with until_pass
 * (otap wait) it is retried until it passes or the deadline comes.
 */
#ifndef OTAP_PROBE_H
#define OTAP_PROBE_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "base/err.h"
#include "manifest/manifest.h"

enum probe_check { PROBE_LIVENESS, PROBE_HEALTH, PROBE_READINESS, PROBE_URL };

struct probe {
    /* in */
    char *service; /* NULL for a bare URL */
    enum probe_check check;
    char *url;
    bool no_url; /* the manifest gives no URL: fails with its reason, unprobed */
    /* out */
    bool ok;
    long status;       /* the last HTTP status, 0 when none came */
    double latency_ms; /* of the last attempt */
    int attempts;
    char *reason; /* why it failed; NULL when it passed */
};

struct probe_opts {
    const char *environment; /* what health bodies must say, or NULL */
    long timeout_ms;         /* per attempt */
    int retries;             /* extra attempts after a failure */
    long backoff_ms;         /* the first wait; doubles up to 2 s */
    long deadline_ms;        /* for the whole run; 0: none */
    bool until_pass;         /* retry failures until the deadline */
    long max_age_s;          /* how old a health timestamp may be */
    size_t max_parallel;     /* transfers at once */
};

#define PROBE_OPTS_DEFAULT                                                                         \
    {                                                                                              \
        NULL, 5000, 2, 200, 0, false, 120, 256                                                     \
    }

/* Runs every probe; each gets ok, status, latency, attempts and reason. */
int probe_run(struct probe *p, size_t n, const struct probe_opts *o, struct otap_err *err);
void probe_release(struct probe *p);

/*
 * The contract for one answer: NULL when status and body pass check,
 * else the reason (caller frees). now is the time to judge freshness by.
 */
char *probe_judge(enum probe_check check, long status, const char *body, size_t len,
                  const struct probe_opts *o, time_t now);

/* ISO-8601 date and time (a missing zone means UTC) to a time_t; -1 when malformed. */
int probe_parse_time(const char *s, time_t *out);

const char *probe_check_name(enum probe_check c);

/*
 * The probes for env's services (all of them, or those named), one per
 * health path the service declares and checks selects (bit 1 << check).
 * A service with no URL in env gets probes marked no_url whose reason
 * says so; probe_run() leaves them failed.
 */
int probe_plan(const struct manifest *m, const struct manifest_env *env, char *const *names,
               size_t nnames, unsigned checks, struct probe **out, size_t *nout,
               struct otap_err *err);

#endif
