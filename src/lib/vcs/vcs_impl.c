/*
 * The vcs modules' shared helpers (vcs_impl.h).
 */
#include "vcs/vcs_impl.h"

#include "base/banned.h"

int vcs_open(const char *dir, git_repository **repo, struct otap_err *err)
{
    git_libgit2_init();
    *repo = NULL;
    if (git_repository_open_ext(repo, dir, 0, NULL) < 0)
        return otap_err_set(err, OTAP_EUSAGE, "'%s' is in no git repository", dir);
    return 0;
}

int vcs_git_fail(struct otap_err *err, int code, const char *what)
{
    const git_error *e = git_error_last();
    return otap_err_set(err, code, "%s: %s", what, e && e->message ? e->message : "git failed");
}
