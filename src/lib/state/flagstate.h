/*
 * Flag changes made without a deploy (otap flags enable|disable|rollout|
 * set, the API, enable_on_promote): one row per flag and environment, over
 * what the manifest says. Every change is written with its ledger entry
 * (flag.changed: actor, before, after) in one transaction.
 *
 * Its ledger entry is how every otap serve sharing a PostgreSQL store
 * hears of the change (ledger_listen).
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
    char *rules;   /* JSON [{attr, op, values, variant}], or NULL: the manifest's */
    char *updated_at, *updated_by;
};

void flag_state_release(struct flag_state *s);

/* The stored state of flag in env; *found false when the manifest's defaults hold. */
int flagstate_get(struct store *s, const char *flag, const char *env, struct flag_state *out,
                  bool *found, struct otap_err *err);

/*
 * Stores next (enabled, weights, rules; NULL: remove the row, so the
 * manifest holds again) and appends flag.changed with details
 * {before, after} plus extra's members (why: a promotion, a rollback).
 * before, after and extra (may be NULL) are stolen.
 */
int flagstate_write(struct store *s, const char *flag, const char *env,
                    const struct flag_state *next, json_t *before, json_t *after, json_t *extra,
                    const char *actor, long long *seq, struct otap_err *err);

#endif
