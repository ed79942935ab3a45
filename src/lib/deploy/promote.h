/*
 * Promotion: the same build through O -> T -> A -> P, gated, recorded,
 * reversible. The CLI, the server and 'otap explain' call these.
 *
 * What a promotion of build B to environment E needs is one table in
 * promote.c (promote_condition_at() reads it): B live in the stage before,
 * E's gates passed for B itself and its sign-off, E's config contract,
 * a driver that can deploy B, a readiness probe that can prove E ready,
 * and E's database marker (on a protected E, the hard lock). Every unmet
 * one is listed, and nothing happens. A rollback asks all but the gates.
 *
 * Then, under E's promotion lock, each step recorded in the ledger:
 * migrate, deploy, ready (readiness probes until they pass or the ready
 * timeout), smoke (health contract and a burst against the slo), live.
 * When deploy, ready or smoke fails, E goes back to its previous live
 * build by itself, and both the failure and the rollback are recorded.
 */
#ifndef OTAP_PROMOTE_H
#define OTAP_PROMOTE_H

#include <stdbool.h>
#include <stddef.h>

#include "base/strvec.h"
#include "state/artifact.h"
#include "base/err.h"
#include "manifest/manifest.h"
#include "state/store.h"

typedef void (*promote_log_fn)(void *ctx, const char *line);

struct promote_request {
    const struct manifest *m;
    const char *manifest_name;
    struct store *store;
    const char *env;      /* a name, stage letter or synonym */
    const char *artifact; /* the build (digest, prefix or version); for a rollback: --to or NULL */
    bool rollback;
    bool check_only;   /* judge the preconditions, change nothing */
    long lock_wait_ms; /* 0: refuse at once when E is being deployed */
    long ready_timeout_ms;
    const char *actor;
    char *const *process_env;
    promote_log_fn log;
    void *log_ctx;
};

struct promote_step {
    char *name;
    bool ok;
    long long ms;
    char *detail;
};

struct promote_result {
    const struct manifest_env *env;
    struct artifact build;
    bool have_build;
    struct artifact previous; /* what was live before */
    bool have_previous;
    bool already_live;
    char **refusals;
    size_t nrefusals, refusals_alloc;
    struct promote_step *steps;
    size_t nsteps, steps_alloc;
    long long deployment_id;
    char *failed_step, *failure;
    bool rolled_back, rollback_ok;
    char *rollback_detail;
    double p95_ms, error_rate;
    size_t smoke_requests;
};

/*
 * Returns 0 (live, or already live, or with check_only: it may go);
 * OTAP_EREFUSED with refusals; OTAP_EUSAGE for an unknown environment or
 * build; OTAP_EFOUND when the service failed its readiness or smoke check
 * (and E was rolled back); OTAP_EEXTERNAL when a migration, the deploy or
 * the store failed.
 */
int promote_run(const struct promote_request *rq, struct promote_result *res, struct otap_err *err);
void promote_result_release(struct promote_result *res);

/* One precondition of a promotion, in words. */
struct promote_condition {
    const char *id;      /* stage, gates, contract, driver, readiness, database */
    const char *summary; /* for any environment ("ENV" stands for it) */
    bool rollback;       /* asked of a rollback too */
};

/* The i-th precondition in the order they are judged, or NULL past the last. */
const struct promote_condition *promote_condition_at(size_t i);
/* What the preconditions ask of a promotion into env, one line each, appended to out. */
void promote_conditions_for(const struct manifest *m, const struct manifest_env *env,
                            struct strvec *out);

/* The environment a rollback of E without --to goes back to: the live build before. */
int promote_rollback_target(struct store *s, const char *env, const char *current_digest,
                            char **digest, struct otap_err *err);

#endif
