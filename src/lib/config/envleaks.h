/*
 * Secrets committed in dotenv files. Every file git tracks whose name is
 * a dotenv name (.env, .env.local, .env.production, name.env...) is read
 * from the index (what is tracked, not what the working tree says) and
 * parsed; a value for a secret is a leak. A secret is a variable of type
 * secret in the contract (or one of its aliases), or, for names the
 * contract does not know, a name that says it is one (PASSWORD, TOKEN,
 * SECRET, KEY...). .env.example may be tracked, but only with empty or
 * placeholder secrets.
 */
#ifndef OTAP_ENVLEAKS_H
#define OTAP_ENVLEAKS_H

#include <stdbool.h>
#include <stddef.h>

#include "base/err.h"
#include "manifest/manifest.h"

struct envleak {
    char *path; /* relative to the repository root */
    int line;
    char *name;
};

struct envleaks {
    struct envleak *items;
    size_t n, alloc;
    size_t files; /* tracked dotenv files read */
};

/* Is this file name a dotenv file? */
bool envleaks_is_dotenv_name(const char *path);

/*
 * Scans the git repository that contains dir. Returns 0, or
 * OTAP_EEXTERNAL when there is no repository or it cannot be read.
 */
int envleaks_scan(const struct manifest *m, const char *dir, struct envleaks *out,
                  struct otap_err *err);
void envleaks_release(struct envleaks *l);

#endif
