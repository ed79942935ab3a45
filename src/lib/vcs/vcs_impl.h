/*
 * What the vcs modules share, and nothing outside vcs/ includes: opening
 * the repository that contains a directory, and turning libgit2's last
 * error into an otap_err.
 */
#ifndef OTAP_VCS_IMPL_H
#define OTAP_VCS_IMPL_H

#include <git2.h>

#include "base/err.h"

/* The repository containing dir (searching upwards); OTAP_EUSAGE when there is none. */
int vcs_open(const char *dir, git_repository **repo, struct otap_err *err);
/* code, with "what: libgit2's message" in err. */
int vcs_git_fail(struct otap_err *err, int code, const char *what);

#endif
