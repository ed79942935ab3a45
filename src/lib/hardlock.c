/*
 * The hard lock's conditions, checked all at once so that an operator
 * fixes them in one pass instead of one refusal at a time.
 */
#include <string.h>

#include "hardlock.h"
#include "xalloc.h"
#include "banned.h"

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
