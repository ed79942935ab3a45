/*
 * The files of a repository a check looks at (otap policy check): every
 * tracked file, or those that changed since a revision (committed, staged
 * or not), deleted ones left out.
 */
#ifndef OTAP_VCS_FILES_H
#define OTAP_VCS_FILES_H

#include <stddef.h>

#include "base/err.h"

/*
 * Paths relative to the working tree's root, sorted; since NULL: every
 * file in the index. OTAP_EUSAGE for no repository or a revision that
 * names nothing.
 */
int vcs_files(const char *dir, const char *since, char ***files, size_t *n, struct otap_err *err);

#endif
