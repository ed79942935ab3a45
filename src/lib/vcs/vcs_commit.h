/*
 * One commit and one annotated tag, made whole or not at all (otap release
 * create): the files are written, committed on the branch HEAD is on and
 * tagged; any failure puts the files, the index, the branch and the tags
 * back as they were. vcs_commit_undo() does the same afterwards, when
 * something that had to follow (the ledger) failed.
 */
#ifndef OTAP_VCS_COMMIT_H
#define OTAP_VCS_COMMIT_H

#include <stdbool.h>
#include <stddef.h>

#include "base/err.h"

struct vcs_file {
    const char *path; /* relative to the working tree's root */
    const char *content;
    size_t len;
};

/* What to restore: owned, released by vcs_commit_undo() or vcs_commit_forget(). */
struct vcs_undo {
    char *workdir;
    char *branch_ref; /* refs/heads/main */
    char old_commit[41], new_commit[41];
    char *tag_ref;
    size_t nfiles;
    char **paths;
    char **old; /* the files' contents before, NULL when one did not exist */
    size_t *old_len;
};

/* Can a commit be signed here? The identity git would use, or a reason it has none. */
int vcs_identity(const char *dir, char **who, struct otap_err *err);

/* when: the commit's and tag's time (seconds since the epoch, UTC), or 0 for now. */
int vcs_commit_and_tag(const char *dir, const struct vcs_file *files, size_t nfiles,
                       const char *message, const char *tag, const char *tag_message,
                       long long when, struct vcs_undo *undo, struct otap_err *err);
int vcs_commit_undo(struct vcs_undo *undo, struct otap_err *err);
void vcs_commit_forget(struct vcs_undo *undo);

#endif
