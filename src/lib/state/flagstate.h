/*
 * Flag changes made without a deploy (otap flags enable|disable|rollout):
 * one row per flag and environment, over what the manifest says. Every
 * change is written with its ledger entry (flag.changed: actor, before,
 * after) in one transaction.
 */
#ifndef OTAP_FLAGSTATE_H
#define OTAP_FLAGSTATE_H

#include <jansson.h>
#include <stdbool.h>

#include "base/err.h"
#include "state/store.h"

struct flag_state {
    bool enabled;
    char *weights; /* JSON [["on", 10], ["off", 90]], or NULL: no split */
    char *updated_at, *updated_by;
};

void flag_state_release(struct flag_state *s);

/* The stored state of flag in env; *found false when the manifest's defaults hold. */
int flagstate_get(struct store *s, const char *flag, const char *env, struct flag_state *out,
                  bool *found, struct otap_err *err);

/* Stores the state and appends flag.changed (before: the state that held, as JSON). */
int flagstate_set(struct store *s, const char *flag, const char *env, bool enabled,
                  const char *weights, json_t *before, const char *actor, long long *seq,
                  struct otap_err *err);

#endif
