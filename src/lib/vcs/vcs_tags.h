/*
 * Release tags and the repository facts a release needs: the tags that
 * carry a version, the nearest one behind a revision, the branch HEAD is
 * on, whether the tree is clean, the remote's web address, and a commit's
 * first appearance off the trunk (otap branch check).
 */
#ifndef OTAP_VCS_TAGS_H
#define OTAP_VCS_TAGS_H

#include <stdbool.h>
#include <stddef.h>

#include "base/err.h"

struct vcs_tag {
    char *name;     /* "v1.2.3" */
    char *version;  /* "1.2.3": the name without the prefix */
    char *commit;   /* the commit it points at (peeled), 40 hex */
    long long time; /* the tagger's time for an annotated tag, else the commit's */
    bool annotated;
};

struct vcs_tags {
    struct vcs_tag *items; /* by SemVer precedence, lowest first */
    size_t n, alloc;
};

/* Every tag named prefix + SemVer (v1.2.3, v1.3.0-rc.1). Other tags are not releases. */
int vcs_release_tags(const char *dir, const char *prefix, struct vcs_tags *out,
                     struct otap_err *err);
void vcs_tags_release(struct vcs_tags *t);
/* The tag on commit id that is a release (a final one when final_only), or NULL. */
const struct vcs_tag *vcs_tags_on(const struct vcs_tags *t, const char *commit, bool final_only);
const struct vcs_tag *vcs_tags_find(const struct vcs_tags *t, const char *name);

/*
 * The newest commit reachable from rev (NULL: HEAD) that carries a final
 * release tag in tags, by commit time: *tag is it, or NULL when none is.
 */
int vcs_nearest_release(const char *dir, const char *rev, const struct vcs_tags *tags,
                        const struct vcs_tag **tag, struct otap_err *err);

/* The tag's message (annotated) and commit; OTAP_ENOTFOUND when no tag has that name. */
int vcs_tag_read(const char *dir, const char *name, char **message, char **commit,
                 struct otap_err *err);

/* The commit rev names, in full (40 hex). */
int vcs_resolve(const char *dir, const char *rev, char **commit, struct otap_err *err);

/* The branch HEAD is on ("main"), or NULL when HEAD is detached. */
int vcs_current_branch(const char *dir, char **branch, struct otap_err *err);

/* The tracked files with changes not committed (staged or not), at most max of them. */
int vcs_dirty_files(const char *dir, size_t max, char ***files, size_t *n, struct otap_err *err);

/*
 * The web address of the remote "origin" (https://github.com/o/r from
 * git@github.com:o/r.git), or NULL when there is none or it is not http(s)
 * or scp-like.
 */
int vcs_remote_web_url(const char *dir, char **url, struct otap_err *err);

/*
 * The oldest commit on branch that is not on base, and its committer time
 * (*time 0 and *count 0 when the branch has no commit of its own).
 */
int vcs_branch_first_commit(const char *dir, const char *branch, const char *base, char **commit,
                            long long *time, size_t *count, struct otap_err *err);

/* Does a branch (local, or origin/...) of that name exist? Its full ref name in *ref. */
int vcs_branch_ref(const char *dir, const char *name, char **ref, struct otap_err *err);

#endif
