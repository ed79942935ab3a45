/*
 * Deployments, the promotion lock, and finding promotions whose otap died.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "state/deploys.h"
#include "state/ledger.h"
#include "base/monotime.h"
#include "base/num.h"
#include "base/proc.h"
#include "base/strbuf.h"
#include "base/xalloc.h"
#include "base/banned.h"

#define DEPLOY_COLS                                                                                \
    "d.id, d.env, d.digest, a.version, d.kind, d.state, d.previous_digest, d.started_at, "         \
    "d.finished_at, d.actor, d.reason"
#define DEPLOY_FROM "otap_deployments d JOIN otap_artifacts a ON a.digest = d.digest"

void deployment_release(struct deployment *d)
{
    free(d->env);
    free(d->digest);
    free(d->version);
    free(d->kind);
    free(d->state);
    free(d->previous_digest);
    free(d->started_at);
    free(d->finished_at);
    free(d->actor);
    free(d->reason);
    memset(d, 0, sizeof(*d));
}

void deployment_list_release(struct deployment *d, size_t n)
{
    for (size_t i = 0; i < n; i++)
        deployment_release(&d[i]);
    free(d);
}

static void from_row(const struct store_rows *r, size_t i, struct deployment *d)
{
    if (num_parse_ll(store_cell(r, i, 0), &d->id) < 0)
        d->id = -1;
    d->env = store_cell_dup(r, i, 1);
    d->digest = store_cell_dup(r, i, 2);
    d->version = store_cell_dup(r, i, 3);
    d->kind = store_cell_dup(r, i, 4);
    d->state = store_cell_dup(r, i, 5);
    d->previous_digest = store_cell_dup(r, i, 6);
    d->started_at = store_cell_dup(r, i, 7);
    d->finished_at = store_cell_dup(r, i, 8);
    d->actor = store_cell_dup(r, i, 9);
    d->reason = store_cell_dup(r, i, 10);
}

int deploy_live(struct store *s, const char *env, struct deployment *out, bool *found,
                struct otap_err *err)
{
    memset(out, 0, sizeof(*out));
    const char *p[] = {env};
    struct store_rows r;
    int rc = store_exec(s,
                        "SELECT " DEPLOY_COLS " FROM " DEPLOY_FROM
                        " WHERE d.env = $1 AND d.state = 'live' ORDER BY d.id DESC LIMIT 1",
                        p, 1, &r, err);
    if (rc < 0)
        return rc;
    *found = r.nrows > 0;
    if (*found)
        from_row(&r, 0, out);
    store_rows_release(&r);
    return 0;
}

int deploy_list(struct store *s, const char *env, long long limit, struct deployment **out,
                size_t *n, struct otap_err *err)
{
    char lim[24];
    snprintf(lim, sizeof(lim), "%lld", limit > 0 ? limit : (long long)1 << 62);
    const char *p[] = {env, lim};
    struct store_rows r;
    int rc = store_exec(s,
                        "SELECT " DEPLOY_COLS " FROM " DEPLOY_FROM
                        " WHERE CAST($1 AS text) IS NULL OR d.env = $1 ORDER BY d.id DESC LIMIT "
                        "CAST($2 AS bigint)",
                        p, 2, &r, err);
    if (rc < 0)
        return rc;
    *out = xcalloc(r.nrows ? r.nrows : 1, sizeof(**out));
    *n = r.nrows;
    for (size_t i = 0; i < r.nrows; i++)
        from_row(&r, i, &(*out)[i]);
    store_rows_release(&r);
    return 0;
}

int deploy_was_live(struct store *s, const char *env, const char *digest, bool *was,
                    struct otap_err *err)
{
    const char *p[] = {env, digest};
    struct store_rows r;
    int rc = store_exec(s,
                        "SELECT 1 FROM otap_deployments WHERE env = $1 AND digest = $2 AND state "
                        "IN ('live', 'superseded') LIMIT 1",
                        p, 2, &r, err);
    if (rc < 0)
        return rc;
    *was = r.nrows > 0;
    store_rows_release(&r);
    return 0;
}

int deploy_start(struct store *s, const char *env, const char *digest, const char *kind,
                 const char *previous_digest, const char *actor, long long *id,
                 struct otap_err *err)
{
    int rc = store_next_id(s, "otap_deployments", id, err);
    if (rc < 0)
        return rc;
    char ids[24], at[32];
    snprintf(ids, sizeof(ids), "%lld", *id);
    store_time_now(at);
    const char *p[] = {ids, env, digest, kind, previous_digest, at, actor};
    return store_exec(s,
                      "INSERT INTO otap_deployments (id, env, digest, kind, state, "
                      "previous_digest, started_at, actor) VALUES ($1, $2, $3, $4, 'running', $5, "
                      "$6, $7)",
                      p, 7, NULL, err);
}

int deploy_finish(struct store *s, long long id, const char *env, const char *state,
                  const char *reason, struct otap_err *err)
{
    char ids[24], at[32];
    snprintf(ids, sizeof(ids), "%lld", id);
    store_time_now(at);
    int rc = 0;
    if (!strcmp(state, "live")) {
        const char *q[] = {env, ids};
        rc = store_exec(s,
                        "UPDATE otap_deployments SET state = 'superseded' WHERE env = $1 AND "
                        "state = 'live' AND id <> CAST($2 AS bigint)",
                        q, 2, NULL, err);
    }
    const char *p[] = {ids, state, at, reason};
    if (rc == 0)
        rc = store_exec(s,
                        "UPDATE otap_deployments SET state = $2, finished_at = $3, reason = $4 "
                        "WHERE id = CAST($1 AS bigint)",
                        p, 4, NULL, err);
    return rc;
}

void deploy_holder_release(struct deploy_holder *h)
{
    free(h->host);
    free(h->since);
    free(h->actor);
    memset(h, 0, sizeof(*h));
}

static char *hostname(void)
{
    char h[256];
    if (gethostname(h, sizeof(h)) < 0)
        return xstrdup("unknown");
    h[sizeof(h) - 1] = '\0';
    return xstrdup(h);
}

int deploy_lock_holder(struct store *s, const char *env, struct deploy_holder *h, bool *held,
                       struct otap_err *err)
{
    memset(h, 0, sizeof(*h));
    const char *p[] = {env};
    struct store_rows r;
    int rc = store_exec(s, "SELECT host, pid, since, actor FROM otap_env_locks WHERE env = $1", p,
                        1, &r, err);
    if (rc < 0)
        return rc;
    *held = r.nrows > 0;
    if (*held) {
        h->host = store_cell_dup(&r, 0, 0);
        if (num_parse_ll(store_cell(&r, 0, 1), &h->pid) < 0)
            h->pid = 0;
        h->since = store_cell_dup(&r, 0, 2);
        h->actor = store_cell_dup(&r, 0, 3);
    }
    store_rows_release(&r);
    return 0;
}

static int try_lock(struct store *s, const char *env, const char *actor, bool *taken,
                    struct otap_err *err)
{
    int rc = store_begin(s, err);
    if (rc < 0)
        return rc;
    struct deploy_holder h;
    bool held;
    rc = deploy_lock_holder(s, env, &h, &held, err);
    deploy_holder_release(&h);
    *taken = false;
    if (rc == 0 && !held) {
        char *host = hostname(), *started = proc_start_time(getpid());
        char pid[24], at[32];
        snprintf(pid, sizeof(pid), "%lld", (long long)getpid());
        store_time_now(at);
        const char *p[] = {env, host, pid, started, at, actor};
        rc = store_exec(s,
                        "INSERT INTO otap_env_locks (env, host, pid, started, since, actor) "
                        "VALUES ($1, $2, $3, $4, $5, $6)",
                        p, 6, NULL, err);
        free(host);
        free(started);
        *taken = rc == 0;
    }
    return store_end(s, rc, err);
}

int deploy_lock(struct store *s, const char *env, const char *actor, long wait_ms,
                struct otap_err *err)
{
    long long start = monotime_ms();
    for (;;) {
        size_t recovered;
        int rc = deploy_recover(s, actor, &recovered, err);
        bool taken = false;
        if (rc == 0)
            rc = try_lock(s, env, actor, &taken, err);
        if (rc < 0 || taken)
            return rc;
        long waited = (long)(monotime_ms() - start);
        if (waited >= wait_ms) {
            struct deploy_holder h;
            bool held = false;
            rc = deploy_lock_holder(s, env, &h, &held, err);
            if (rc == 0)
                rc = otap_err_set(err, OTAP_EREFUSED,
                                  "%s is being deployed by %s (otap pid %lld on %s) since %s%s",
                                  env, held ? h.actor : "?", held ? h.pid : 0LL,
                                  held ? h.host : "?", held ? h.since : "?",
                                  wait_ms ? "; gave up waiting" : "; give --wait to queue");
            deploy_holder_release(&h);
            return rc;
        }
        struct timespec nap = {0, 200 * 1000000L};
        nanosleep(&nap, NULL);
    }
}

int deploy_lock_attach(struct store *s, const char *env, long long deployment_id,
                       struct otap_err *err)
{
    char id[24];
    snprintf(id, sizeof(id), "%lld", deployment_id);
    const char *p[] = {env, id};
    return store_exec(s, "UPDATE otap_env_locks SET deployment_id = $2 WHERE env = $1", p, 2, NULL,
                      err);
}

int deploy_unlock(struct store *s, const char *env, struct otap_err *err)
{
    int rc = store_begin(s, err);
    if (rc < 0)
        return rc;
    const char *p[] = {env};
    rc = store_exec(s, "DELETE FROM otap_env_locks WHERE env = $1", p, 1, NULL, err);
    return store_end(s, rc, err);
}

/* Is the holder recorded on this host gone (or its pid now someone else)? */
static bool holder_gone(const char *pid_s, const char *started)
{
    long long pid;
    if (num_parse_ll(pid_s, &pid) < 0 || pid <= 0)
        return true;
    if (kill((pid_t)pid, 0) < 0 && errno == ESRCH)
        return true;
    char *now = proc_start_time(pid);
    bool gone = !*now || strcmp(now, started ? started : "");
    free(now);
    return gone;
}

int deploy_recover(struct store *s, const char *actor, size_t *recovered, struct otap_err *err)
{
    *recovered = 0;
    char *host = hostname();
    const char *p[] = {host};
    struct store_rows r;
    int rc = store_exec(s, "SELECT env, pid, started FROM otap_env_locks WHERE host = $1", p, 1, &r,
                        err);
    bool any = false;
    for (size_t i = 0; rc == 0 && i < r.nrows; i++)
        any |= holder_gone(store_cell(&r, i, 1), store_cell(&r, i, 2));
    store_rows_release(&r);
    if (rc < 0 || !any) {
        free(host);
        return rc;
    }
    /* again under the write lock: another otap may be recovering them too */
    if ((rc = store_begin(s, err)) < 0) {
        free(host);
        return rc;
    }
    rc = store_exec(s,
                    "SELECT env, pid, started, deployment_id, since FROM otap_env_locks WHERE "
                    "host = $1",
                    p, 1, &r, err);
    for (size_t i = 0; rc == 0 && i < r.nrows; i++) {
        const char *env = store_cell(&r, i, 0), *pid = store_cell(&r, i, 1);
        const char *dep = store_cell(&r, i, 3);
        if (!holder_gone(pid, store_cell(&r, i, 2)))
            continue;
        char *why = xasprintf("otap (pid %s on %s) stopped in the middle of it", pid, host);
        long long id = -1;
        if (dep && num_parse_ll(dep, &id) == 0) {
            const char *q[] = {dep, why};
            rc = store_exec(s,
                            "UPDATE otap_deployments SET state = 'interrupted', reason = $2 WHERE "
                            "id = CAST($1 AS bigint) AND state = 'running'",
                            q, 2, NULL, err);
        }
        if (rc == 0)
            rc = ledger_append(s, actor, "deploy.interrupted", env, NULL,
                               json_pack("{s:s, s:I, s:s?}", "reason", why, "deployment",
                                         (json_int_t)id, "locked_since", store_cell(&r, i, 4)),
                               NULL, err);
        const char *q[] = {env};
        if (rc == 0)
            rc = store_exec(s, "DELETE FROM otap_env_locks WHERE env = $1", q, 1, NULL, err);
        free(why);
        if (rc == 0)
            (*recovered)++;
    }
    store_rows_release(&r);
    free(host);
    rc = store_end(s, rc, err);
    if (rc < 0)
        *recovered = 0;
    return rc;
}

int deploy_outcomes(struct store *s, struct deploy_outcome **out, size_t *n, struct otap_err *err)
{
    struct store_rows r;
    /* a superseded deployment was live: it counts as a success */
    int rc = store_exec(s,
                        "SELECT env, kind, CASE WHEN state IN ('live', 'superseded') THEN "
                        "'success' ELSE state END, count(*) FROM otap_deployments GROUP BY 1, 2, 3 "
                        "ORDER BY 1, 2, 3",
                        NULL, 0, &r, err);
    if (rc < 0)
        return rc;
    struct deploy_outcome *o = xcalloc(r.nrows + 1, sizeof(*o));
    size_t k = 0;
    for (size_t i = 0; i < r.nrows; i++) {
        if (num_parse_ll(store_cell(&r, i, 3), &o[k].count) < 0)
            continue;
        o[k].env = store_cell_dup(&r, i, 0);
        o[k].kind = store_cell_dup(&r, i, 1);
        o[k].result = store_cell_dup(&r, i, 2);
        k++;
    }
    store_rows_release(&r);
    *out = o;
    *n = k;
    return 0;
}

void deploy_outcomes_release(struct deploy_outcome *o, size_t n)
{
    for (size_t i = 0; o && i < n; i++) {
        free(o[i].env);
        free(o[i].kind);
        free(o[i].result);
    }
    free(o);
}

int deploy_last_success(struct store *s, struct deploy_last **out, size_t *n, struct otap_err *err)
{
    struct store_rows r;
    int rc = store_exec(s,
                        "SELECT env, max(finished_at) FROM otap_deployments WHERE state IN "
                        "('live', 'superseded') GROUP BY env ORDER BY env",
                        NULL, 0, &r, err);
    if (rc < 0)
        return rc;
    struct deploy_last *l = xcalloc(r.nrows + 1, sizeof(*l));
    for (size_t i = 0; i < r.nrows; i++) {
        l[i].env = store_cell_dup(&r, i, 0);
        l[i].finished_at = store_cell_dup(&r, i, 1);
    }
    *out = l;
    *n = r.nrows;
    store_rows_release(&r);
    return 0;
}

void deploy_last_release(struct deploy_last *l, size_t n)
{
    for (size_t i = 0; l && i < n; i++) {
        free(l[i].env);
        free(l[i].finished_at);
    }
    free(l);
}
