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

/*
 * enabled: -1 the manifest decides, else 0 or 1; weights: stored JSON, or
 * NULL; rules: stored JSON (flag_manifest_rules' shape), or NULL for the
 * manifest's.
 */
void flag_from_manifest(const struct manifest_flag *mf, const char *env, int enabled,
                        const char *weights, const char *rules, struct flag_def *out);

/* The manifest's rules as JSON: [{attr, op, values: [...], variant}]. */
json_t *flag_manifest_rules(const struct manifest_flag *mf);

/*
 * Rules as written on the command line: "ATTR OP VALUE -> VARIANT", more
 * than one separated by ';', for 'in' the values separated by ','
 * ("user.email ends_with @databiz.nl -> on; tenant in acme,globex -> on").
 * The empty string is no rules. OTAP_EUSAGE naming the rule that is wrong.
 */
int flag_rules_parse(const char *spec, char **json, struct otap_err *err);

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

/* flags_resolve's *state alone: {env, enabled, weights, rules, source...}; NULL on failure. */
json_t *flags_state(struct store *s, const struct manifest_flag *mf, const char *env,
                    struct otap_err *err);

/* A flag and its state per environment (only_env's alone when not NULL), for list and the API. */
json_t *flags_json(struct store *s, const struct manifest *m, const struct manifest_flag *mf,
                   const char *only_env, struct otap_err *err);

/* Is a state (flags_state's) on for everyone: no share of a split and no rule gives off? */
bool flags_state_fully_on(json_t *state);

#endif
