/*
 * A scope fence, checked (seed 000 §12): a change stays inside the paths
 * its slice allows, and adds no environment read the config contract does
 * not name ("no new env vars without architect review").
 *
 * The change is everything since it left its base: the files changed
 * between the merge base of HEAD and the base revision and the working
 * tree (committed, staged, unstaged, untracked, deleted). A file outside
 * every allowed glob is a violation. In each changed file that is still
 * there, an environment read (env lint's search) of a name the contract
 * does not name, and that the file did not read at the merge base, is a
 * violation at its line.
 */
#ifndef OTAP_PLAN_SCOPE_H
#define OTAP_PLAN_SCOPE_H

#include <stddef.h>

#include "base/err.h"
#include "manifest/manifest.h"

struct scope_violation {
    char *file;
    int line; /* 0: the file as a whole */
    char *message;
};

struct scope_result {
    struct scope_violation *items;
    size_t n, alloc;
    size_t changed;   /* files in the change */
    char *merge_base; /* the commit the change is measured from */
};

/*
 * Checks the repository containing m's project against allow (globs, as
 * policies write them; "dir/" means everything below dir) since base.
 * OTAP_EUSAGE for no repository or a base that names nothing.
 */
int scope_check(const struct manifest *m, const char *base, char *const *allow, size_t nallow,
                struct scope_result *out, struct otap_err *err);
/*
 * The same, where the slice registry (registry: its path from the
 * repository's root, NULL for none) may change outside the fence in its
 * status lines alone: finishing a slice writes its status there.
 */
int scope_check_registry(const struct manifest *m, const char *base, char *const *allow,
                         size_t nallow, const char *registry, struct scope_result *out,
                         struct otap_err *err);
void scope_result_release(struct scope_result *r);

/* Does path match any of the globs ("dir/" matching everything below dir)? */
bool scope_allowed(const char *path, char *const *allow, size_t nallow);

#endif
