/*
 * What a scope fence and a worktree need from git: the files a change
 * touches since it left its base, a file as it was at a revision, and
 * worktrees (git worktree add/list) with the slice each works on.
 */
#ifndef OTAP_VCS_WORKTREE_H
#define OTAP_VCS_WORKTREE_H

#include <stdbool.h>
#include <stddef.h>

#include "base/err.h"

struct vcs_change {
    char *path;
    char status; /* 'A' added (untracked too), 'M' modified, 'D' deleted, 'T' type changed */
};

/*
 * Every file changed between the merge base of HEAD and base and the
 * working tree: committed, staged, unstaged and untracked (not ignored),
 * deletions too, sorted by path. *merge_base gets its commit id.
 * OTAP_EUSAGE for no repository, a base that names nothing, or no common
 * history.
 */
int vcs_changes(const char *dir, const char *base, char **merge_base, struct vcs_change **out,
                size_t *n, struct otap_err *err);
void vcs_changes_release(struct vcs_change *c, size_t n);

/* The working tree's root of the repository containing dir (no trailing slash). */
int vcs_root(const char *dir, char **root, struct otap_err *err);

/* The file at path in rev's tree; *found false when it is not there. */
int vcs_blob_at(const char *dir, const char *rev, const char *path, char **data, size_t *len,
                bool *found, struct otap_err *err);

struct vcs_worktree {
    char *name, *path, *branch; /* branch: NULL when detached */
    char *slice;                /* the slice it works on (otap.worktree.NAME.slice), or NULL */
    bool main;
};

/*
 * A new worktree at path on branch (made from HEAD when it does not exist).
 * OTAP_EREFUSED when path exists or the branch is checked out elsewhere
 * (the message says where). slice (may be NULL) is remembered in the
 * repository's config.
 */
int vcs_worktree_add(const char *dir, const char *name, const char *path, const char *branch,
                     const char *slice, struct otap_err *err);
/* The main working tree first, then each added one. */
int vcs_worktrees(const char *dir, struct vcs_worktree **out, size_t *n, struct otap_err *err);
void vcs_worktrees_release(struct vcs_worktree *w, size_t n);

#endif
