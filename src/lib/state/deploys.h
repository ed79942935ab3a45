/*
 * Deployments and the per-environment promotion lock.
 *
 * A deployment row is written when a promotion or rollback starts
 * (state "running") and finished as "live" (the one before it becomes
 * "superseded"), "failed", "rolled_back" or, when the otap running it
 * died, "interrupted". The live build of an environment is its newest
 * "live" row.
 *
 * The lock is a row in otap_env_locks naming the holder's host, pid and
 * process start time (so a recycled pid is not mistaken for the holder).
 * A holder on this host that is gone is found by deploy_recover(), which
 * every command that opens the store runs: its deployment is marked
 * interrupted, with a ledger entry, and the lock is freed. A holder on
 * another host cannot be proven dead and keeps its lock.
 */
#ifndef OTAP_DEPLOYS_H
#define OTAP_DEPLOYS_H

#include <stdbool.h>
#include <stddef.h>

#include "base/err.h"
#include "state/store.h"

struct deployment {
    long long id;
    char *env, *digest, *version, *kind, *state, *previous_digest;
    char *started_at, *finished_at, *actor, *reason;
};

void deployment_release(struct deployment *d);
void deployment_list_release(struct deployment *d, size_t n);

/* The live deployment of env; *found false when nothing is live. */
int deploy_live(struct store *s, const char *env, struct deployment *out, bool *found,
                struct otap_err *err);

/* Deployments of env (every environment when NULL), newest first; limit 0: all. */
int deploy_list(struct store *s, const char *env, long long limit, struct deployment **out,
                size_t *n, struct otap_err *err);

/* Has digest ever been live in env? (live or superseded since) */
int deploy_was_live(struct store *s, const char *env, const char *digest, bool *was,
                    struct otap_err *err);

/* Inside a write transaction: a new running deployment. */
int deploy_start(struct store *s, const char *env, const char *digest, const char *kind,
                 const char *previous_digest, const char *actor, long long *id,
                 struct otap_err *err);
/* Inside a write transaction: finishes it; "live" supersedes the env's other live rows. */
int deploy_finish(struct store *s, long long id, const char *env, const char *state,
                  const char *reason, struct otap_err *err);

struct deploy_holder {
    char *host, *since, *actor;
    long long pid;
};
void deploy_holder_release(struct deploy_holder *h);

/*
 * Takes env's promotion lock, waiting up to wait_ms for another holder
 * (0: refuse at once). OTAP_EREFUSED with the holder described when it
 * stays taken.
 */
int deploy_lock(struct store *s, const char *env, const char *actor, long wait_ms,
                struct otap_err *err);
/* Inside a write transaction: ties the lock to its deployment (for recovery). */
int deploy_lock_attach(struct store *s, const char *env, long long deployment_id,
                       struct otap_err *err);
int deploy_unlock(struct store *s, const char *env, struct otap_err *err);
/* Who holds env's lock; *held false when nobody. */
int deploy_lock_holder(struct store *s, const char *env, struct deploy_holder *h, bool *held,
                       struct otap_err *err);

/* How many deployments of each environment and kind ended how ("success": live or superseded). */
struct deploy_outcome {
    char *env, *kind, *result;
    long long count;
};
/* When each environment's last successful deploy finished. */
struct deploy_last {
    char *env, *finished_at;
};
int deploy_outcomes(struct store *s, struct deploy_outcome **out, size_t *n, struct otap_err *err);
void deploy_outcomes_release(struct deploy_outcome *o, size_t n);
int deploy_last_success(struct store *s, struct deploy_last **out, size_t *n, struct otap_err *err);
void deploy_last_release(struct deploy_last *l, size_t n);

/* Marks promotions whose otap died; *recovered counts them. */
int deploy_recover(struct store *s, const char *actor, size_t *recovered, struct otap_err *err);

#endif
