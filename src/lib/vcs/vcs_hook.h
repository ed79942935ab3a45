/*
 * Git hooks that otap installs (the pre-commit secret scan, later the
 * commit-msg lint): found where git looks for them (core.hooksPath, else
 * .git/hooks), never written over someone else's hook unless forced.
 */
#ifndef OTAP_VCS_HOOK_H
#define OTAP_VCS_HOOK_H

#include <stdbool.h>

#include "base/err.h"

/*
 * Writes hook `name` (pre-commit, commit-msg...) with the body script in
 * the repository that contains dir. A hook there that does not contain
 * mark (otap's command, "secrets scan --staged") is someone else's:
 * OTAP_EREFUSED unless force. OTAP_EUSAGE when dir is in no git
 * repository; OTAP_EEXTERNAL when it cannot be written. On success *path
 * is where the hook is (caller frees).
 */
int vcs_hook_install(const char *dir, const char *name, const char *script, const char *mark,
                     bool force, char **path, struct otap_err *err);

#endif
