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
                        "SELECT enabled, weights, updated_at, updated_by FROM otap_flag_states "
                        "WHERE flag = $1 AND env = $2",
                        p, 2, &r, err);
    if (rc < 0)
        return rc;
    if (r.nrows) {
        *found = true;
        out->enabled = !strcmp(store_cell(&r, 0, 0), "true");
        out->weights = store_cell_dup(&r, 0, 1);
        out->updated_at = store_cell_dup(&r, 0, 2);
        out->updated_by = store_cell_dup(&r, 0, 3);
    }
    store_rows_release(&r);
    return 0;
}

int flagstate_set(struct store *s, const char *flag, const char *env, bool enabled,
                  const char *weights, json_t *before, const char *actor, long long *seq,
                  struct otap_err *err)
{
    char now[32];
    store_time_now(now);
    int rc = store_begin(s, err);
    if (rc < 0) {
        json_decref(before);
        return rc;
    }
    const char *p[] = {flag, env};
    rc =
        store_exec(s, "DELETE FROM otap_flag_states WHERE flag = $1 AND env = $2", p, 2, NULL, err);
    const char *q[] = {flag, env, enabled ? "true" : "false", weights, now, actor};
    if (rc == 0)
        rc = store_exec(s,
                        "INSERT INTO otap_flag_states (flag, env, enabled, weights, updated_at, "
                        "updated_by) VALUES ($1, $2, $3, $4, $5, $6)",
                        q, 6, NULL, err);
    json_t *w = weights ? json_loads(weights, 0, NULL) : NULL;
    json_t *after = json_pack("{s:b, s:o}", "enabled", enabled, "weights", w ? w : json_null());
    if (rc == 0)
        rc = ledger_append(s, actor, "flag.changed", env, flag,
                           json_pack("{s:o, s:o}", "before", before, "after", after), seq, err);
    else {
        json_decref(before);
        json_decref(after);
    }
    return store_end(s, rc, err);
}
