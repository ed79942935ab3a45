/*
 * Gate results and sign-offs in the store.
 */
#include <stdlib.h>
#include <string.h>

#include "state/evidence.h"
#include "state/ledger.h"
#include "base/xalloc.h"
#include "base/banned.h"

/*
 * Inserts one row with a fresh id into table (params[0] is set to the id)
 * and appends its ledger entry, in one transaction. Takes details.
 */
static int insert_recorded(struct store *s, const char *table, const char *sql, const char **params,
                           size_t nparams, const char *actor, const char *action, const char *env,
                           const char *subject, json_t *details, long long *id,
                           struct otap_err *err)
{
    long long next = 0;
    char ids[24];
    int rc = store_begin(s, err);
    if (rc < 0) {
        json_decref(details);
        return rc;
    }
    rc = store_next_id(s, table, &next, err);
    if (rc == 0) {
        snprintf(ids, sizeof(ids), "%lld", next);
        params[0] = ids;
        rc = store_exec(s, sql, params, nparams, NULL, err);
    }
    if (rc == 0) {
        rc = ledger_append(s, actor, action, env, subject, details, NULL, err);
        details = NULL;
    }
    json_decref(details);
    rc = store_end(s, rc, err);
    if (rc == 0)
        *id = next;
    return rc;
}

int gate_record(struct store *s, const struct artifact *a, const char *gate, bool pass,
                const char *url, const char *actor, long long *id, struct otap_err *err)
{
    char at[32];
    store_time_now(at);
    const char *result = pass ? "pass" : "fail";
    const char *p[] = {NULL, gate, a->digest, result, url, at, actor};
    return insert_recorded(s, "otap_gate_results",
                           "INSERT INTO otap_gate_results (id, gate, digest, result, url, "
                           "recorded_at, recorded_by) VALUES ($1, $2, $3, $4, $5, $6, $7)",
                           p, 7, actor, "gate.record", NULL, a->digest,
                           json_pack("{s:s, s:s, s:s?, s:s?}", "gate", gate, "result", result,
                                     "url", url, "version", a->version),
                           id, err);
}

int gate_latest(struct store *s, const char *digest, const char *gate, char **result, char **at,
                struct otap_err *err)
{
    const char *p[] = {digest, gate};
    struct store_rows r;
    int rc = store_exec(s,
                        "SELECT result, recorded_at FROM otap_gate_results WHERE digest = $1 AND "
                        "gate = $2 ORDER BY id DESC LIMIT 1",
                        p, 2, &r, err);
    if (rc < 0)
        return rc;
    *result = store_cell_dup(&r, 0, 0);
    if (at)
        *at = store_cell_dup(&r, 0, 1);
    store_rows_release(&r);
    return 0;
}

int signoff_record(struct store *s, const struct artifact *a, const char *env, const char *by,
                   const char *note, const char *actor, long long *id, struct otap_err *err)
{
    char at[32];
    store_time_now(at);
    const char *p[] = {NULL, env, a->digest, by, note, at, actor};
    return insert_recorded(
        s, "otap_signoffs",
        "INSERT INTO otap_signoffs (id, env, digest, by_name, note, recorded_at, "
        "recorded_by) VALUES ($1, $2, $3, $4, $5, $6, $7)",
        p, 7, actor, "signoff", env, a->digest,
        json_pack("{s:s, s:s?, s:s?}", "by", by, "note", note, "version", a->version), id, err);
}

int signoff_find(struct store *s, const char *digest, const char *env, char **by, char **at,
                 struct otap_err *err)
{
    const char *p[] = {digest, env};
    struct store_rows r;
    int rc = store_exec(s,
                        "SELECT by_name, recorded_at FROM otap_signoffs WHERE digest = $1 AND env "
                        "= $2 ORDER BY id DESC LIMIT 1",
                        p, 2, &r, err);
    if (rc < 0)
        return rc;
    *by = store_cell_dup(&r, 0, 0);
    if (at)
        *at = store_cell_dup(&r, 0, 1);
    store_rows_release(&r);
    return 0;
}
