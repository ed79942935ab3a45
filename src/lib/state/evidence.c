/*
 * Gate results and sign-offs in the store.
 */
#include <stdlib.h>
#include <string.h>

#include "state/evidence.h"
#include "state/ledger.h"
#include "base/xalloc.h"
#include "base/banned.h"

int gate_record(struct store *s, const struct artifact *a, const char *gate, bool pass,
                const char *url, const char *actor, long long *id, struct otap_err *err)
{
    int rc = store_begin(s, err);
    if (rc < 0)
        return rc;
    rc = store_next_id(s, "otap_gate_results", id, err);
    char at[32], ids[24];
    store_time_now(at);
    snprintf(ids, sizeof(ids), "%lld", *id);
    const char *result = pass ? "pass" : "fail";
    const char *p[] = {ids, gate, a->digest, result, url, at, actor};
    if (rc == 0)
        rc = store_exec(s,
                        "INSERT INTO otap_gate_results (id, gate, digest, result, url, "
                        "recorded_at, recorded_by) VALUES ($1, $2, $3, $4, $5, $6, $7)",
                        p, 7, NULL, err);
    if (rc == 0)
        rc = ledger_append(s, actor, "gate.record", NULL, a->digest,
                           json_pack("{s:s, s:s, s:s?, s:s?}", "gate", gate, "result", result,
                                     "url", url, "version", a->version),
                           NULL, err);
    if (rc < 0) {
        store_rollback(s);
        return rc;
    }
    return store_commit(s, err);
}

static char *dup_cell(const struct store_rows *r, size_t c)
{
    const char *v = store_cell(r, 0, c);
    return v ? xstrdup(v) : NULL;
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
    *result = dup_cell(&r, 0);
    if (at)
        *at = dup_cell(&r, 1);
    store_rows_release(&r);
    return 0;
}

int signoff_record(struct store *s, const struct artifact *a, const char *env, const char *by,
                   const char *note, const char *actor, long long *id, struct otap_err *err)
{
    int rc = store_begin(s, err);
    if (rc < 0)
        return rc;
    rc = store_next_id(s, "otap_signoffs", id, err);
    char at[32], ids[24];
    store_time_now(at);
    snprintf(ids, sizeof(ids), "%lld", *id);
    const char *p[] = {ids, env, a->digest, by, note, at, actor};
    if (rc == 0)
        rc = store_exec(s,
                        "INSERT INTO otap_signoffs (id, env, digest, by_name, note, recorded_at, "
                        "recorded_by) VALUES ($1, $2, $3, $4, $5, $6, $7)",
                        p, 7, NULL, err);
    if (rc == 0)
        rc = ledger_append(
            s, actor, "signoff", env, a->digest,
            json_pack("{s:s, s:s?, s:s?}", "by", by, "note", note, "version", a->version), NULL,
            err);
    if (rc < 0) {
        store_rollback(s);
        return rc;
    }
    return store_commit(s, err);
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
    *by = dup_cell(&r, 0);
    if (at)
        *at = dup_cell(&r, 1);
    store_rows_release(&r);
    return 0;
}
