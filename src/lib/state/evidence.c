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

/* The newest row's two cells of a query on (digest, key): *a and *b new strings or NULL. */
static int newest_pair(struct store *s, const char *sql, const char *digest, const char *key,
                       char **a, char **b, struct otap_err *err)
{
    const char *p[] = {digest, key};
    struct store_rows r;
    int rc = store_exec(s, sql, p, 2, &r, err);
    if (rc < 0)
        return rc;
    *a = store_cell_dup(&r, 0, 0);
    if (b)
        *b = store_cell_dup(&r, 0, 1);
    store_rows_release(&r);
    return 0;
}

int gate_latest(struct store *s, const char *digest, const char *gate, char **result, char **at,
                struct otap_err *err)
{
    return newest_pair(s,
                       "SELECT result, recorded_at FROM otap_gate_results WHERE digest = $1 AND "
                       "gate = $2 ORDER BY id DESC LIMIT 1",
                       digest, gate, result, at, err);
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

/* Rows of a query, $1 the build (or NULL) and $2 the limit, as JSON objects named by cols. */
static int list_json(struct store *s, const char *sql, const char *build, long long limit,
                     const char *const *cols, size_t ncols, json_t **out, struct otap_err *err)
{
    char lim[24];
    snprintf(lim, sizeof(lim), "%lld", limit);
    const char *p[] = {build, lim};
    struct store_rows r;
    int rc = store_exec(s, sql, p, 2, &r, err);
    if (rc < 0)
        return rc;
    json_t *a = json_array();
    for (size_t i = 0; i < r.nrows; i++) {
        json_t *o = json_object();
        for (size_t c = 0; c < ncols; c++) {
            const char *v = store_cell(&r, i, c);
            json_object_set_new(o, cols[c], v ? json_string(v) : json_null());
        }
        json_array_append_new(a, o);
    }
    store_rows_release(&r);
    *out = a;
    return 0;
}

int gate_list(struct store *s, const char *build, long long limit, json_t **out,
              struct otap_err *err)
{
    static const char *const cols[] = {"id",     "gate", "digest",      "version",
                                       "result", "url",  "recorded_at", "recorded_by"};
    return list_json(s,
                     "SELECT g.id, g.gate, g.digest, a.version, g.result, g.url, g.recorded_at, "
                     "g.recorded_by FROM otap_gate_results g JOIN otap_artifacts a ON a.digest = "
                     "g.digest WHERE CAST($1 AS text) IS NULL OR g.digest = $1 OR a.version = $1 "
                     "ORDER BY g.id DESC LIMIT CAST($2 AS bigint)",
                     build, limit, cols, 8, out, err);
}

int signoff_list(struct store *s, const char *build, long long limit, json_t **out,
                 struct otap_err *err)
{
    static const char *const cols[] = {"id", "environment", "digest",      "version",
                                       "by", "note",        "recorded_at", "recorded_by"};
    return list_json(s,
                     "SELECT s.id, s.env, s.digest, a.version, s.by_name, s.note, s.recorded_at, "
                     "s.recorded_by FROM otap_signoffs s JOIN otap_artifacts a ON a.digest = "
                     "s.digest WHERE CAST($1 AS text) IS NULL OR s.digest = $1 OR a.version = $1 "
                     "ORDER BY s.id DESC LIMIT CAST($2 AS bigint)",
                     build, limit, cols, 8, out, err);
}

int signoff_find(struct store *s, const char *digest, const char *env, char **by, char **at,
                 struct otap_err *err)
{
    return newest_pair(s,
                       "SELECT by_name, recorded_at FROM otap_signoffs WHERE digest = $1 AND env "
                       "= $2 ORDER BY id DESC LIMIT 1",
                       digest, env, by, at, err);
}

int gate_results_latest(struct store *s, const char *digest, json_t **out, struct otap_err *err)
{
    json_t *all = NULL;
    *out = NULL;
    int rc = gate_list(s, digest, 0, &all, err);
    if (rc < 0)
        return rc;
    /* newest first: the first result of each gate is its latest */
    json_t *latest = json_object();
    size_t i;
    json_t *g;
    json_array_foreach(all, i, g)
    {
        const char *name = json_string_value(json_object_get(g, "gate"));
        if (!name || json_object_get(latest, name))
            continue;
        json_object_set_new(latest, name,
                            json_pack("{s:O, s:O, s:O}", "result", json_object_get(g, "result"),
                                      "url", json_object_get(g, "url"), "recorded_at",
                                      json_object_get(g, "recorded_at")));
    }
    json_decref(all);
    *out = latest;
    return 0;
}
