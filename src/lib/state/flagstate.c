/*
 * Flag states in the store (flagstate.h).
 */
#include "state/flagstate.h"

#include <stdlib.h>
#include <string.h>

#include "base/xalloc.h"
#include "state/ledger.h"
#include "base/banned.h"

void flag_state_release(struct flag_state *s)
{
    free(s->weights);
    free(s->rules);
    free(s->updated_at);
    free(s->updated_by);
    memset(s, 0, sizeof(*s));
}

int flagstate_get(struct store *s, const char *flag, const char *env, struct flag_state *out,
                  bool *found, struct otap_err *err)
{
    memset(out, 0, sizeof(*out));
    *found = false;
    const char *p[] = {flag, env};
    struct store_rows r;
    int rc = store_exec(s,
                        "SELECT enabled, weights, rules, updated_at, updated_by FROM "
                        "otap_flag_states WHERE flag = $1 AND env = $2",
                        p, 2, &r, err);
    if (rc < 0)
        return rc;
    if (r.nrows) {
        *found = true;
        out->enabled = !strcmp(store_cell(&r, 0, 0), "true");
        out->weights = store_cell_dup(&r, 0, 1);
        out->rules = store_cell_dup(&r, 0, 2);
        out->updated_at = store_cell_dup(&r, 0, 3);
        out->updated_by = store_cell_dup(&r, 0, 4);
    }
    store_rows_release(&r);
    return 0;
}

int flagstate_write(struct store *s, const char *flag, const char *env,
                    const struct flag_state *next, json_t *before, json_t *after, json_t *extra,
                    const char *actor, long long *seq, struct otap_err *err)
{
    char now[32];
    store_time_now(now);
    json_t *details = json_pack("{s:o, s:o}", "before", before, "after", after);
    if (extra)
        json_object_update(details, extra);
    json_decref(extra);
    int rc = store_begin(s, err);
    if (rc < 0) {
        json_decref(details);
        return rc;
    }
    const char *p[] = {flag, env};
    rc =
        store_exec(s, "DELETE FROM otap_flag_states WHERE flag = $1 AND env = $2", p, 2, NULL, err);
    if (rc == 0 && next) {
        const char *q[] = {flag,  env,        next->enabled ? "true" : "false", next->weights, now,
                           actor, next->rules};
        rc = store_exec(s,
                        "INSERT INTO otap_flag_states (flag, env, enabled, weights, updated_at, "
                        "updated_by, rules) VALUES ($1, $2, $3, $4, $5, $6, $7)",
                        q, 7, NULL, err);
    }
    if (rc == 0)
        rc = ledger_append(s, actor, "flag.changed", env, flag, details, seq, err);
    else
        json_decref(details);
    return store_end(s, rc, err);
}
