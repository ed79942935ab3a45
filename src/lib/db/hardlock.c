/*
 * The hard lock's conditions, checked all at once so that an operator
 * fixes them in one pass instead of one refusal at a time.
 */
#include <stdlib.h>
#include <string.h>

#include "db/hardlock.h"
#include "base/xalloc.h"
#include "base/banned.h"

#define UNMET(...) (*XPUSH(unmet, n, alloc) = xasprintf(__VA_ARGS__), count++)

size_t hardlock_check(const struct hardlock_input *in, char ***unmet, size_t *n, size_t *alloc)
{
    size_t count = 0;
    const char *env = in->env->name;
    if (!in->confirm)
        UNMET("CONFIRM_PROD_MIGRATE is not set in the process environment (set "
              "CONFIRM_PROD_MIGRATE=YES for this one command)");
    else if (strcmp(in->confirm, "YES"))
        UNMET("CONFIRM_PROD_MIGRATE must be exactly YES");
    if (!in->url_set)
        UNMET("%s is not set", in->url_var ? in->url_var : "the database URL");
    if (!in->environment)
        UNMET("ENVIRONMENT is not set (otap does not assume %s: set ENVIRONMENT=%s)", env, env);
    else if (manifest_env_find(in->m, in->environment) != in->env)
        UNMET("%s is '%s', not %s", in->environment_from ? in->environment_from : "ENVIRONMENT",
              in->environment, env);
    if (in->node_env && strcmp(in->node_env, "production"))
        UNMET("NODE_ENV is '%s', not production", in->node_env);
    if (in->vercel_env && strcmp(in->vercel_env, "production"))
        UNMET("VERCEL_ENV is '%s', not production", in->vercel_env);
    if (in->check_marker && in->marker_problem)
        UNMET("%s", in->marker_problem);
    return count;
}

void hardlock_gather(struct hardlock_input *in, const struct contract_eval *ev, const char *url)
{
    const struct manifest *m = ev->m;
    memset(in, 0, sizeof(*in));
    in->m = m;
    in->env = ev->env;
    /* from the process environment the contract was evaluated with, never
     * from a dotenv file: confirming is an act, not a setting */
    const struct envvar *confirm = envset_find(&ev->set, "CONFIRM_PROD_MIGRATE");
    in->confirm = confirm && confirm->origin == ORIGIN_PROCESS ? confirm->value : NULL;
    in->url_var = m->database.url_var;
    in->url_set = url != NULL;
    in->check_marker = true;
    const struct contract_value *cv = contract_value_of(ev, "ENVIRONMENT");
    if (cv) {
        /* a value otap filled in proves nothing about where this runs */
        if (cv->value && cv->source && strcmp(cv->source, "otap")) {
            in->environment = cv->value;
            in->environment_from = cv->alias ? cv->alias : "ENVIRONMENT";
        }
    } else {
        const struct envvar *v = envset_find(&ev->set, "ENVIRONMENT");
        in->environment = v ? v->value : NULL;
        in->environment_from = "ENVIRONMENT";
    }
    const struct envvar *node = envset_find(&ev->set, "NODE_ENV");
    in->node_env = node ? node->value : NULL;
    const struct envvar *vercel = envset_find(&ev->set, "VERCEL_ENV");
    in->vercel_env = vercel ? vercel->value : NULL;
}
