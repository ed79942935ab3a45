/*
 * The post-deploy smoke check: the health contract, then a burst.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "health/probe.h"
#include "health/smoke.h"
#include "base/xalloc.h"
#include "base/banned.h"

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

double smoke_p95(double *v, size_t n)
{
    if (!n)
        return 0;
    qsort(v, n, sizeof(*v), cmp_double);
    size_t rank = (size_t)ceil(0.95 * (double)n);
    return v[rank ? rank - 1 : 0];
}

static void problem(struct smoke_result *res, char *msg)
{
    *XPUSH(&res->problems, &res->nproblems, &res->alloc) = msg;
}

int smoke_run(const struct manifest *m, const struct manifest_env *env, const char *service,
              struct smoke_result *res, struct otap_err *err)
{
    memset(res, 0, sizeof(*res));
    char *names[1] = {(char *)service};
    struct probe *p = NULL;
    size_t n = 0;
    unsigned all = 1u << PROBE_LIVENESS | 1u << PROBE_HEALTH | 1u << PROBE_READINESS;
    int rc = probe_plan(m, env, service ? names : NULL, service ? 1 : 0, all, &p, &n, err);
    if (rc < 0)
        return rc;
    struct probe_opts o = PROBE_OPTS_DEFAULT;
    o.environment = env->name;
    o.retries = 1;
    rc = probe_run(p, n, &o, err);
    for (size_t i = 0; rc == 0 && i < n; i++)
        if (!p[i].ok)
            problem(res, xasprintf("%s %s: %s", p[i].service ? p[i].service : p[i].url,
                                   probe_check_name(p[i].check), p[i].reason));

    /* the burst: the liveness endpoints, many times, no retries */
    size_t nlive = 0;
    for (size_t i = 0; i < n; i++)
        nlive += p[i].check == PROBE_LIVENESS && !p[i].no_url;
    struct probe *b = xcalloc(nlive * SMOKE_BURST + 1, sizeof(*b));
    size_t nb = 0;
    for (size_t i = 0; i < n; i++) {
        if (p[i].check != PROBE_LIVENESS || p[i].no_url)
            continue;
        for (size_t k = 0; k < SMOKE_BURST; k++) {
            b[nb].service = p[i].service ? xstrdup(p[i].service) : NULL;
            b[nb].check = PROBE_LIVENESS;
            b[nb].url = xstrdup(p[i].url);
            nb++;
        }
    }
    if (rc == 0 && nb) {
        struct probe_opts bo = PROBE_OPTS_DEFAULT;
        bo.retries = 0;
        bo.max_parallel = 8;
        rc = probe_run(b, nb, &bo, err);
    }
    if (rc == 0) {
        double *lat = xcalloc(nb + 1, sizeof(*lat));
        for (size_t i = 0; i < nb; i++) {
            lat[i] = b[i].latency_ms;
            res->errors += !b[i].ok;
        }
        res->requests = nb;
        res->p95_ms = smoke_p95(lat, nb);
        res->error_rate = nb ? (double)res->errors / (double)nb : 0;
        free(lat);
        if (!nb && !res->nproblems)
            problem(res,
                    xasprintf("no service of %s declares a liveness path to measure", env->name));
        if (m->has_slo && nb && res->p95_ms > m->slo_p95_ms)
            problem(res, xasprintf("p95 latency %.1f ms is over the slo's %.0f ms", res->p95_ms,
                                   m->slo_p95_ms));
        double max_rate = m->has_slo ? m->slo_error_rate : 0;
        if (nb && res->error_rate > max_rate)
            problem(res, xasprintf("error rate %.1f%% (%zu of %zu requests) is over the %s %.1f%%",
                                   res->error_rate * 100, res->errors, nb,
                                   m->has_slo ? "slo's" : "allowed", max_rate * 100));
        res->ok = res->nproblems == 0;
    }
    for (size_t i = 0; i < nb; i++)
        probe_release(&b[i]);
    free(b);
    for (size_t i = 0; i < n; i++)
        probe_release(&p[i]);
    free(p);
    return rc;
}

void smoke_result_release(struct smoke_result *res)
{
    xfree_strv(res->problems, res->nproblems);
    memset(res, 0, sizeof(*res));
}
