/*
 * Where the source reads flags: the lint's search over the tree (as env
 * lint reads env names). A read is a call the common SDKs make with a
 * literal key: OpenFeature's getBooleanValue("k") / get_boolean_value /
 * BooleanValue(ctx, "k"), ...Details, Unleash's isEnabled("k") /
 * is_enabled, getVariant, LaunchDarkly's variation/boolVariation. A
 * project with its own wrapper gives its own PCRE2 pattern whose first
 * group is the key.
 *
 * A defined flag counts as used when its key appears quoted ("k", 'k' or
 * `k`) anywhere in the files searched, even outside a recognised call.
 */
#ifndef OTAP_FLAG_REFS_H
#define OTAP_FLAG_REFS_H

#include <stdbool.h>
#include <stddef.h>

#include "base/err.h"

struct flag_ref {
    char *file;
    int line;
    char *key;
};

struct flag_refs {
    struct flag_ref *items; /* every read, in file and line order */
    size_t n, alloc;
    bool *used; /* per key given to flag_refs_scan */
    size_t files;
};

/* The pattern used when none is given. */
extern const char flag_refs_default_pattern[];

/*
 * Searches each path (a file or a tree; .git, node_modules, .otap and
 * other build or vendored folders left out, binaries and files over
 * 8 MiB passed over) for reads and for the keys. skip (may be NULL) is
 * a file left out: the manifest, where every key is written.
 * OTAP_EUSAGE for a pattern that does not compile or has no group;
 * OTAP_EEXTERNAL for a path that cannot be read.
 */
int flag_refs_scan(const char *const *paths, size_t npaths, const char *pattern,
                   const char *const *keys, size_t nkeys, const char *skip, struct flag_refs *out,
                   struct otap_err *err);
/* The same over one buffer, as the file named. */
int flag_refs_scan_buffer(const char *data, size_t len, const char *file, const char *pattern,
                          const char *const *keys, size_t nkeys, struct flag_refs *out,
                          struct otap_err *err);
void flag_refs_release(struct flag_refs *r);

#endif
