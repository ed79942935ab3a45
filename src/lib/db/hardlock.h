/*
 * The production hard lock (seed 004 §6.4.2): on a protected environment
 * a migration goes ahead only when every one of these holds, and a
 * refusal names every one that does not:
 *
 *   - CONFIRM_PROD_MIGRATE=YES in the process environment (a dotenv file
 *     does not count: confirming is an act, not a setting)
 *   - the database URL is set
 *   - ENVIRONMENT (or an alias of it) was set, not supplied by otap, and
 *     names this environment; NODE_ENV, when present, is "production"
 *   - VERCEL_ENV, when present, is "production"
 *   - the database marker says what the manifest expects (e.g. prod)
 *
 * Pure logic over values the caller gathered, so it can be tested alone.
 */
#ifndef OTAP_HARDLOCK_H
#define OTAP_HARDLOCK_H

#include <stdbool.h>
#include <stddef.h>

#include "config/contract.h"
#include "manifest/manifest.h"

struct hardlock_input {
    const struct manifest *m;
    const struct manifest_env *env;
    const char *confirm; /* CONFIRM_PROD_MIGRATE from the process, or NULL */
    const char *url_var; /* the database URL's variable name */
    bool url_set;
    const char *environment;      /* ENVIRONMENT as set by the user, or NULL */
    const char *environment_from; /* the name it was read from (ENVIRONMENT or an alias) */
    const char *node_env;         /* NULL when absent */
    const char *vercel_env;       /* NULL when absent */
    bool check_marker;            /* false for 'marker init', which writes it */
    const char *marker_problem;   /* why the marker does not prove the environment, or NULL */
};

/*
 * Fills in the inputs found in an evaluated contract (ENVIRONMENT as the
 * user set it, NODE_ENV, VERCEL_ENV, the URL) and CONFIRM_PROD_MIGRATE
 * from the process environment ev was evaluated with (not from a file, and
 * not from otap's own environ). in borrows from ev.
 */
void hardlock_gather(struct hardlock_input *in, const struct contract_eval *ev, const char *url);

/* Appends one message per unmet condition to *unmet; returns how many. */
size_t hardlock_check(const struct hardlock_input *in, char ***unmet, size_t *n, size_t *alloc);

#endif
