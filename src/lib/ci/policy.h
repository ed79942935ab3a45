/*
 * Policies (otap policy check): rules a team states over its files, such
 * as "every route file wraps its handler in the guard" (seed 004 §4.3).
 * A must_contain rule is broken by a matching file without the pattern
 * (reported at line 1), a must_not_contain rule by each place the pattern
 * matches (reported at its line).
 */
#ifndef OTAP_CI_POLICY_H
#define OTAP_CI_POLICY_H

#include <stddef.h>

#include "base/err.h"
#include "manifest/manifest.h"

struct policy_finding {
    const struct manifest_policy *rule;
    char *file;
    int line;
    char *excerpt; /* the matching line for must_not_contain (at most 120 bytes), or NULL */
};

struct policy_report {
    struct policy_finding *items;
    size_t n, alloc;
    size_t files_checked;
};

/*
 * Checks every policy of m over the files in dir: the tracked ones (or
 * those changed since since) in a repository, else every file below dir
 * but dot-directories. OTAP_EUSAGE for a revision that names nothing.
 */
int policy_check(const struct manifest *m, const char *dir, const char *since,
                 struct policy_report *out, struct otap_err *err);
void policy_report_release(struct policy_report *r);

#endif
