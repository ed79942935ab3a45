/*
 * Changing a flag's state in one environment with no deploy: the one path
 * for the CLI (otap flags enable|disable|rollout|set), the API (POST
 * /api/v2/flags/{key}) and promotion (enable_on_promote). Each change
 * stores the new state and appends flag.changed with the state before and
 * after, so it can be read back, audited and undone.
 *
 * Who may make a change (a protected environment's lock or the admin
 * role) is for the caller to decide; this module only makes it.
 */
#ifndef OTAP_FLAG_CHANGE_H
#define OTAP_FLAG_CHANGE_H

#include <jansson.h>
#include <stdbool.h>

#include "base/err.h"
#include "manifest/manifest.h"
#include "state/store.h"

struct flag_change {
    int enabled;         /* -1: as it is; 0 off; 1 on */
    bool set_weights;    /* weights replaces the split */
    const char *weights; /* JSON [["on",10],["off",90]], or NULL: no split */
    bool set_rules;      /* rules replaces the targeting rules */
    const char *rules;   /* JSON (flag_rules_parse), or NULL: the manifest's */
};

/*
 * Applies ch to mf in env. extra's members (stolen, may be NULL) join the
 * ledger entry's details. *after (may be NULL) gets the state after, in
 * flags_resolve's shape; *seq the ledger entry's number.
 */
int flag_change_apply(struct store *s, const struct manifest_flag *mf, const char *env,
                      const struct flag_change *ch, const char *actor, json_t *extra,
                      json_t **after, long long *seq, struct otap_err *err);

/*
 * After a promotion into env went live: every flag whose enable_on_promote
 * names env and is not fully on already is turned on, the ledger entry
 * naming the deployment. *changed (may be NULL) gets the keys turned on.
 */
int flags_after_promote(struct store *s, const struct manifest *m, const char *env,
                        long long deployment, const char *actor, json_t **changed,
                        struct otap_err *err);

/*
 * After a rollback of env went live: each flag a promotion turned on goes
 * back to the state before, unless someone changed it since (then the
 * person's change stands). *changed gets the keys put back.
 */
int flags_after_rollback(struct store *s, const struct manifest *m, const char *env,
                         long long deployment, const char *actor, json_t **changed,
                         struct otap_err *err);

#endif
