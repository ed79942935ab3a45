/*
 * Deploy drivers: how a build reaches an environment.
 *
 *   run    the environment's deploy command (/bin/sh -c), given the
 *          build's digest, version and path and the canonical config of
 *          the environment in its environment; Railway, Vercel or any
 *          CLI. Exit status 0 means deployed; the deploy timeout bounds it.
 *   local  otap runs the build's service itself on the environment's
 *          port under a small supervisor (restarts with backoff, output
 *          to .otap/logs/ENV.log, pid in .otap/run/ENV.pid). A file build
 *          is executed; a directory build runs the service's 'run'
 *          command inside it. The previous build is stopped first.
 *
 * Both hand the program these besides the environment's config:
 * OTAP_ENVIRONMENT, OTAP_ARTIFACT_DIGEST, OTAP_ARTIFACT_VERSION,
 * OTAP_ARTIFACT_PATH, OTAP_ARTIFACT_COMMIT.
 */
#ifndef OTAP_DRIVER_H
#define OTAP_DRIVER_H

#include "state/artifact.h"
#include "base/err.h"
#include "manifest/manifest.h"

typedef void (*driver_log_fn)(void *ctx, const char *line);

struct driver_request {
    const struct manifest *m;
    const struct manifest_env *env;
    const struct artifact *a;
    char *const *config_env; /* "K=V" (the canonical config), NULL-terminated */
    driver_log_fn log;
    void *log_ctx;
};

/*
 * Why this build cannot go to env through its driver, or NULL when it
 * can (caller frees): no deploy configured, a local build without files,
 * no local URL for the service...
 */
char *driver_refusal(const struct manifest *m, const struct manifest_env *env,
                     const struct artifact *a);

/* The service the local driver runs for env, or NULL. */
const struct manifest_service *driver_local_service(const struct manifest *m,
                                                    const struct manifest_env *env);

/* Deploys; OTAP_EEXTERNAL with the reason when it failed. */
int driver_deploy(const struct driver_request *rq, struct otap_err *err);

/* Stops what the local driver runs for env (nothing when it runs nothing). */
int driver_local_stop(const struct manifest *m, const char *env, struct otap_err *err);

#endif
