/*
 * Naming the actor from what the machine knows, most explicit first.
 */
#include <git2.h>
#include <pwd.h>
#include <stdlib.h>
#include <unistd.h>

#include "base/actor.h"
#include "base/xalloc.h"
#include "base/banned.h"

static char *git_user(void)
{
    char *out = NULL;
    git_config *cfg = NULL;
    git_libgit2_init();
    if (git_config_open_default(&cfg) == 0) {
        git_buf name = GIT_BUF_INIT, email = GIT_BUF_INIT;
        int has_name = git_config_get_string_buf(&name, cfg, "user.name") == 0 && name.size;
        int has_email = git_config_get_string_buf(&email, cfg, "user.email") == 0 && email.size;
        if (has_name && has_email)
            out = xasprintf("%s <%s>", name.ptr, email.ptr);
        else if (has_name)
            out = xstrdup(name.ptr);
        else if (has_email)
            out = xstrdup(email.ptr);
        git_buf_dispose(&name);
        git_buf_dispose(&email);
        git_config_free(cfg);
    }
    git_libgit2_shutdown();
    return out;
}

char *actor_name(void)
{
    const char *env = getenv("OTAP_ACTOR");
    if (env && *env)
        return xstrdup(env);
    char *g = git_user();
    if (g)
        return g;
    struct passwd *pw = getpwuid(getuid());
    if (pw && pw->pw_name && *pw->pw_name)
        return xstrdup(pw->pw_name);
    return xasprintf("uid %ld", (long)getuid());
}
