/*
 * Builds, known by the SHA-256 of their content.
 *
 * A file's digest is the SHA-256 of its bytes (what sha256sum prints). A
 * directory's is the SHA-256 of a canonical walk: every entry below it in
 * byte order of its relative path, each as type, permission bits, content
 * hash (a symlink: its target) and path, NUL-separated; so the same tree
 * has the same digest on every machine, whatever order the file system
 * lists it in or when its files were touched.
 */
#ifndef OTAP_ARTIFACT_H
#define OTAP_ARTIFACT_H

#include <stdbool.h>

#include "base/err.h"
#include "base/sha256.h"
#include "state/store.h"

struct artifact {
    char *digest;  /* "sha256:<64 hex>" */
    char *version; /* SemVer without a leading v, or NULL */
    char *commit;  /* or NULL */
    char *path;    /* absolute, or NULL when registered by digest */
    char *kind;    /* "file", "dir" or "digest" */
    char *registered_at, *registered_by;
};

void artifact_release(struct artifact *a);

/* The digest of a file or directory ("sha256:..."); *kind is "file" or "dir". */
int artifact_digest_path(const char *path, char **digest, const char **kind, struct otap_err *err);

/*
 * Registers a build: a no-op (*created false) when this digest is
 * registered already with the same version; refused when the digest
 * carries another version or the version names another build.
 */
int artifact_register(struct store *s, const struct artifact *a, const char *actor, bool *created,
                      struct otap_err *err);

/*
 * Finds a build by "sha256:HEX", a unique hex prefix (at least 7 digits,
 * with or without sha256:), a version, or a full commit id that no digest
 * starts with (the one build registered for that commit). OTAP_EUSAGE when
 * more than one build matches, OTAP_ENOTFOUND when none does.
 */
int artifact_find(struct store *s, const char *ref, struct artifact *out, struct otap_err *err);

/* Every build, newest first. */
int artifact_list(struct store *s, struct artifact **out, size_t *n, struct otap_err *err);

/* "1.2.0 (sha256:abcdef123456)" or the short digest alone; caller frees. */
char *artifact_label(const struct artifact *a);

#endif
