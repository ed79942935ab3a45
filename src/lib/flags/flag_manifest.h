/*
 * A manifest flag (flags: in otap.yaml) as the evaluator's model, for one
 * environment: a boolean with variants on (true) and off (false), off by
 * default; on in the environments its 'on' lists; a 'rollout' percentage
 * becomes a split on=N, off=100-N by the flag key and the targeting key.
 * A stored change (otap flags enable|disable|rollout) overrides both.
 */
#ifndef OTAP_FLAG_MANIFEST_H
#define OTAP_FLAG_MANIFEST_H

#include <stdbool.h>

#include "base/err.h"
#include "flags/flag.h"
#include "manifest/manifest.h"

/* enabled: -1 the manifest decides, else 0 or 1; weights: stored JSON, or NULL. */
void flag_from_manifest(const struct manifest_flag *mf, const char *env, int enabled,
                        const char *weights, struct flag_def *out);

/* Is the flag on in env by the manifest alone? */
bool flag_manifest_on(const struct manifest_flag *mf, const char *env);

/*
 * "on=10,off=90" (variants in the order written, as flagd's fractional
 * list) as JSON [["on",10],["off",90]]; percent N (>= 0) gives on=N,off=100-N.
 * OTAP_EUSAGE naming what is wrong.
 */
int flag_weights(const char *spec, int percent, char **json, struct otap_err *err);

struct store;
/*
 * The flag as it stands in env: the stored change (otap flags enable,
 * disable, rollout) when there is one, else the manifest's (s may be
 * NULL). *state (may be NULL) gets {env, enabled, weights, source...}.
 */
int flags_resolve(struct store *s, const struct manifest_flag *mf, const char *env,
                  struct flag_def *out, json_t **state, struct otap_err *err);

#endif
