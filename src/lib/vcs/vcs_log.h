/*
 * Walking a git history for its commit messages (otap commit lint --from
 * --to): the commits reachable from one revision and not from another,
 * oldest first, without reading a single diff.
 */
#ifndef OTAP_VCS_LOG_H
#define OTAP_VCS_LOG_H

#include <stdbool.h>
#include <stddef.h>

#include "base/err.h"

/* One commit: its short id (7 characters), its full id and its message. */
typedef int (*vcs_commit_fn)(void *ctx, const char *short_id, const char *id, const char *message);

/*
 * Calls fn for each commit reachable from to (NULL: HEAD) and not from
 * from (NULL: none), oldest first, in the repository containing dir. A
 * non-zero return from fn stops the walk and is returned. OTAP_EUSAGE for
 * no repository or a revision that names nothing; OTAP_EEXTERNAL when git
 * data cannot be read.
 */
int vcs_each_commit(const char *dir, const char *from, const char *to, vcs_commit_fn fn, void *ctx,
                    struct otap_err *err);
/* The same, newest first when newest_first (a changelog streams its releases that way). */
int vcs_each_commit_ordered(const char *dir, const char *from, const char *to, bool newest_first,
                            vcs_commit_fn fn, void *ctx, struct otap_err *err);

#endif
