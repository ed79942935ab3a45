/*
 * The commits between two revisions (vcs_log.h), with libgit2's revwalk:
 * push the tip, hide the base, walk in reverse topological order.
 */
#include "vcs/vcs_log.h"

#include <git2.h>
#include <string.h>

#include "base/banned.h"

static int git_fail(struct otap_err *err, int code, const char *what)
{
    const git_error *e = git_error_last();
    return otap_err_set(err, code, "%s: %s", what, e && e->message ? e->message : "git failed");
}

int vcs_each_commit(const char *dir, const char *from, const char *to, vcs_commit_fn fn, void *ctx,
                    struct otap_err *err)
{
    git_libgit2_init();
    git_repository *repo = NULL;
    git_revwalk *walk = NULL;
    int rc = 0;
    if (git_repository_open_ext(&repo, dir, 0, NULL) < 0) {
        rc = otap_err_set(err, OTAP_EUSAGE, "'%s' is in no git repository", dir);
        goto out;
    }
    git_object *tip = NULL, *base = NULL;
    if (git_revparse_single(&tip, repo, to ? to : "HEAD") < 0) {
        rc = otap_err_set(err, OTAP_EUSAGE, "'%s' names no commit", to ? to : "HEAD");
        goto out;
    }
    if (from && git_revparse_single(&base, repo, from) < 0) {
        git_object_free(tip);
        rc = otap_err_set(err, OTAP_EUSAGE, "'%s' names no commit", from);
        goto out;
    }
    if (git_revwalk_new(&walk, repo) < 0 ||
        git_revwalk_sorting(walk, GIT_SORT_TOPOLOGICAL | GIT_SORT_REVERSE) < 0 ||
        git_revwalk_push(walk, git_object_id(tip)) < 0 ||
        (base && git_revwalk_hide(walk, git_object_id(base)) < 0)) {
        git_object_free(tip);
        git_object_free(base);
        rc = git_fail(err, OTAP_EEXTERNAL, "cannot walk the history");
        goto out;
    }
    git_object_free(tip);
    git_object_free(base);
    git_oid oid;
    while (rc == 0 && git_revwalk_next(&oid, walk) == 0) {
        git_commit *c = NULL;
        if (git_commit_lookup(&c, repo, &oid) < 0) {
            rc = git_fail(err, OTAP_EEXTERNAL, "cannot read a commit");
            break;
        }
        char id[GIT_OID_HEXSZ + 1];
        git_oid_tostr(id, sizeof id, &oid);
        char short_id[8];
        memcpy(short_id, id, 7);
        short_id[7] = '\0';
        const char *msg = git_commit_message(c);
        rc = fn(ctx, short_id, id, msg ? msg : "");
        git_commit_free(c);
    }
out:
    git_revwalk_free(walk);
    git_repository_free(repo);
    return rc;
}
