/*
 * The smoke check after a deploy: every service's health contract once,
 * then a short burst of requests to each liveness endpoint, measuring p95
 * latency and the error rate against the manifest's slo (p95_ms,
 * error_rate). Without an slo the figures are measured and reported, and
 * only errors fail.
 */
#ifndef OTAP_SMOKE_H
#define OTAP_SMOKE_H

#include <stdbool.h>
#include <stddef.h>

#include "base/err.h"
#include "manifest/manifest.h"

#define SMOKE_BURST 50

struct smoke_result {
    bool ok;
    size_t requests, errors;
    double p95_ms, error_rate;
    char **problems; /* why it failed, one line each */
    size_t nproblems, alloc;
};

/*
 * Runs the check against env's services (only the one named, when
 * service is not NULL).
 */
int smoke_run(const struct manifest *m, const struct manifest_env *env, const char *service,
              struct smoke_result *res, struct otap_err *err);
void smoke_result_release(struct smoke_result *res);

/* The 95th percentile (nearest rank) of v[0..n); sorts v. 0 when n is 0. */
double smoke_p95(double *v, size_t n);

#endif
