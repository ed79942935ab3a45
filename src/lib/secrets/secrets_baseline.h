/*
 * The secrets baseline: findings a team accepted, so that only new ones
 * fail. A JSON file ({"version": 1, "tool": "otap", "findings": [...]})
 * whose findings carry their fingerprint, rule, file, line and masked
 * excerpt; only the fingerprints count when a scan is compared with it.
 */
#ifndef OTAP_SECRETS_BASELINE_H
#define OTAP_SECRETS_BASELINE_H

#include <stdbool.h>
#include <stddef.h>

#include "base/err.h"
#include "manifest/manifest.h"
#include "secrets/secrets_scan.h"

#define SECRETS_BASELINE_DEFAULT ".otap-secrets-baseline.json"

struct secrets_baseline {
    char **fps; /* sorted */
    size_t n;
};

/*
 * Where the baseline of a project lives: secrets.baseline in m, else
 * .otap-secrets-baseline.json beside it; without a manifest, in the
 * current directory. Caller frees.
 */
char *secrets_baseline_path(const struct manifest *m);

/*
 * Reads a baseline. A missing file is an empty baseline unless named
 * (the user asked for that very file). OTAP_EINVALID names the file and
 * what is wrong with it.
 */
int secrets_baseline_load(struct secrets_baseline *b, const char *path, bool named,
                          struct otap_err *err);
bool secrets_baseline_has(const struct secrets_baseline *b, const char *fingerprint);
void secrets_baseline_release(struct secrets_baseline *b);

/* Writes every finding of run as the baseline at path (replacing it). */
int secrets_baseline_write(const char *path, const struct secrets_run *run, struct otap_err *err);

#endif
