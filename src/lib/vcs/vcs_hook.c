/*
 * Installing otap's git hooks (vcs_hook.h) through libgit2, so that the
 * hooks directory is the one git itself would run (core.hooksPath
 * honoured, worktrees included).
 */
#include "vcs/vcs_hook.h"

#include <errno.h>
#include <git2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "base/fileio.h"
#include "base/strbuf.h"
#include "base/xalloc.h"
#include "base/banned.h"

/* The directory git runs hooks from, for the repository at repo. Caller frees. */
static char *hooks_dir(git_repository *repo)
{
    git_config *cfg = NULL;
    git_buf hooks = {0};
    const char *wd = git_repository_workdir(repo);
    char *dir;
    if (git_repository_config_snapshot(&cfg, repo) == 0 &&
        git_config_get_path(&hooks, cfg, "core.hooksPath") == 0 && hooks.ptr)
        dir = hooks.ptr[0] == '/' || !wd ? xstrdup(hooks.ptr) : xasprintf("%s%s", wd, hooks.ptr);
    else
        dir = xasprintf("%shooks", git_repository_path(repo));
    git_buf_dispose(&hooks);
    git_config_free(cfg);
    return dir;
}

/* Is the hook at path someone else's (it exists and does not carry mark)? */
static bool foreign(const char *path, const char *mark)
{
    struct strbuf sb = STRBUF_INIT;
    bool theirs = strbuf_read_file(&sb, path, 1u << 20) == 0 && !strstr(sb.buf, mark);
    strbuf_release(&sb);
    return theirs;
}

int vcs_hook_install(const char *dir, const char *name, const char *script, const char *mark,
                     bool force, char **path, struct otap_err *err)
{
    git_libgit2_init();
    git_repository *repo = NULL;
    char *hdir = NULL, *hook = NULL;
    int rc = 0;
    if (git_repository_open_ext(&repo, dir, 0, NULL) < 0) {
        rc =
            otap_err_set(err, OTAP_EUSAGE, "not in a git repository; run this where the hook goes");
        goto out;
    }
    hdir = hooks_dir(repo);
    hook = xasprintf("%s/%s", hdir, name);
    if (!force && foreign(hook, mark)) {
        rc = otap_err_set(err, OTAP_EREFUSED,
                          "%s exists and is not otap's; add 'otap %s' to it, or replace it with "
                          "--force",
                          hook, mark);
        goto out;
    }
    if ((rc = fileio_mkdirs(hdir, hdir, err)) < 0 ||
        (rc = fileio_write(hook, script, strlen(script), false, 0755, err)) < 0)
        goto out;
    /* fileio_write keeps an existing file's mode: a hook must be executable */
    if (chmod(hook, 0755) < 0)
        rc = otap_err_set(err, OTAP_EEXTERNAL, "cannot make %s executable: %s", hook,
                          strerror(errno));
out:
    if (rc == 0)
        *path = hook;
    else
        free(hook);
    free(hdir);
    git_repository_free(repo);
    git_libgit2_shutdown();
    return rc;
}
