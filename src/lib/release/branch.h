/*
 * Trunk-based branch policy (otap branch check): the trunk and the
 * environments' literal branches live long; every other branch is short
 * lived, named after an allowed pattern, and younger than
 * release.max_branch_age (its oldest commit not on the trunk, by author
 * time).
 */
#ifndef OTAP_RELEASE_BRANCH_H
#define OTAP_RELEASE_BRANCH_H

#include <stddef.h>

#include "base/err.h"
#include "base/strvec.h"
#include "manifest/manifest.h"

/* The short-lived branch patterns when release.branches is not set (seeds 000 and 004). */
extern const char *const branch_default_patterns[];

struct branch_verdict {
    char *branch;
    const char *kind;    /* "trunk", "environment", "short-lived" or "unknown" */
    char *reason;        /* why it is that kind */
    const char *pattern; /* the pattern it matched, or NULL */
    char *first_commit;  /* its oldest own commit, or NULL */
    long long age_s, max_age_s;
    size_t commits;         /* its own commits */
    struct strvec problems; /* exit 1 */
    struct strvec unproven; /* exit 4: the age could not be measured */
};

/*
 * Judges branch (NULL: the current one, or CI's) in the repository at dir,
 * at time now. OTAP_EUSAGE when no branch can be named, OTAP_ENOTFOUND when
 * it does not exist.
 */
int branch_check(const char *dir, const struct manifest *m, const char *branch, long long now,
                 struct branch_verdict *v, struct otap_err *err);
void branch_verdict_release(struct branch_verdict *v);

#endif
