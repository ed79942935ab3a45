/*
 * Promotion and rollback: preconditions, then the recorded steps.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "config/contract.h"
#include "db/db.h"
#include "state/deploys.h"
#include "deploy/driver.h"
#include "flags/flag_change.h"
#include "state/evidence.h"
#include "db/hardlock.h"
#include "state/ledger.h"
#include "db/migrate.h"
#include "health/probe.h"
#include "deploy/promote.h"
#include "health/smoke.h"
#include "base/monotime.h"
#include "base/strbuf.h"
#include "base/strvec.h"
#include "base/xalloc.h"
#include "vcs/vcs_tags.h"
#include "base/banned.h"

struct run {
    const struct promote_request *rq;
    struct promote_result *res;
    const struct manifest *m;
    const struct manifest_env *env;
    struct contract_eval ev;
    bool have_ev;
    char **config_env;
    const char *db_url; /* borrowed from ev */
    struct migration_set set;
    bool have_set;
    bool locked;
};

static void say(struct run *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void say(struct run *r, const char *fmt, ...)
{
    if (!r->rq->log)
        return;
    va_list ap;
    va_start(ap, fmt);
    char *s = xvasprintf(fmt, ap);
    va_end(ap);
    r->rq->log(r->rq->log_ctx, s);
    free(s);
}

static void refuse(struct run *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void refuse(struct run *r, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    struct promote_result *res = r->res;
    *XPUSH(&res->refusals, &res->nrefusals, &res->refusals_alloc) = xvasprintf(fmt, ap);
    va_end(ap);
}

static void take_refusal(struct run *r, char *msg)
{
    struct promote_result *res = r->res;
    if (msg)
        *XPUSH(&res->refusals, &res->nrefusals, &res->refusals_alloc) = msg;
}

static void driver_say(void *ctx, const char *line)
{
    say(ctx, "  %s", line);
}

/* ---- preconditions ----------------------------------------------------- */

static int check_stage(struct run *r, struct otap_err *err)
{
    struct promote_result *res = r->res;
    size_t idx = (size_t)(r->env - r->m->envs);
    char *label = artifact_label(&res->build);
    int rc = 0;
    if (r->rq->rollback) {
        bool was = false;
        rc = deploy_was_live(r->rq->store, r->env->name, res->build.digest, &was, err);
        if (rc == 0 && !was)
            refuse(r, "%s was never live in %s: a rollback goes back to a build that was", label,
                   r->env->name);
    } else if (idx > 0) {
        const struct manifest_env *prev = &r->m->envs[idx - 1];
        struct deployment d;
        bool found = false;
        rc = deploy_live(r->rq->store, prev->name, &d, &found, err);
        if (rc == 0 && (!found || strcmp(d.digest, res->build.digest))) {
            char *there = NULL;
            if (found) {
                struct artifact other = {.digest = d.digest, .version = d.version};
                there = artifact_label(&other);
            }
            refuse(r, "%s is not live in %s, the stage before %s (%s%s): promote it there first",
                   label, prev->name, r->env->name, found ? "it runs " : "nothing is live there",
                   found ? there : "");
            free(there);
        }
        deployment_release(&d);
    }
    free(label);
    return rc;
}

/* A pass recorded for another build: worth naming, because it does not count. */
static char *other_pass(struct run *r, const char *gate, struct otap_err *err)
{
    const char *p[] = {gate, r->res->build.digest};
    struct store_rows rows;
    if (store_exec(r->rq->store,
                   "SELECT a.version, a.digest FROM otap_gate_results g JOIN otap_artifacts a ON "
                   "a.digest = g.digest WHERE g.gate = $1 AND g.result = 'pass' AND g.digest <> "
                   "$2 ORDER BY g.id DESC LIMIT 1",
                   p, 2, &rows, err) < 0)
        return NULL;
    char *s = NULL;
    if (rows.nrows) {
        struct artifact other = {.version = (char *)store_cell(&rows, 0, 0),
                                 .digest = (char *)store_cell(&rows, 0, 1)};
        s = artifact_label(&other);
    }
    store_rows_release(&rows);
    return s;
}

/* The directory otap.yaml is in: the repository whose tags name releases. */
static char *manifest_dir(const char *manifest_name)
{
    const char *slash = manifest_name ? strrchr(manifest_name, '/') : NULL;
    return slash ? xstrndup(manifest_name, (size_t)(slash - manifest_name) + 1) : xstrdup(".");
}

/* The built-in tag gate: the build is the release vX.Y.Z, made from the commit that tag names. */
static int check_tag(struct run *r, const char *label, struct otap_err *err)
{
    const struct artifact *b = &r->res->build;
    const char *prefix = r->m->release.tag_prefix;
    if (!b->version || !b->commit) {
        refuse(r,
               "gate 'tag': %s has no %s%s%s; a release build is registered with both ('otap "
               "artifact register PATH --version X.Y.Z --commit SHA')",
               label, !b->version ? "version" : "", !b->version && !b->commit ? " and no " : "",
               !b->commit ? "commit" : "");
        return 0;
    }
    char *tag = xasprintf("%s%s", prefix, b->version), *dir = manifest_dir(r->rq->manifest_name);
    char *message = NULL, *commit = NULL;
    struct otap_err e = OTAP_ERR_INIT;
    int rc = vcs_tag_read(dir, tag, &message, &commit, &e);
    size_t bl = strlen(b->commit);
    if (rc == OTAP_ENOTFOUND)
        refuse(r, "gate 'tag': no tag '%s' for %s: cut the release first ('otap release create')",
               tag, label);
    else if (rc < 0)
        refuse(r, "gate 'tag': the tags cannot be read: %s", e.msg);
    else if (bl < 7 || strncasecmp(commit, b->commit, bl))
        refuse(r, "gate 'tag': tag '%s' is on commit %.7s, but %s was built from %.7s", tag, commit,
               label, b->commit);
    otap_err_release(&e);
    free(message);
    free(commit);
    free(dir);
    free(tag);
    (void)err;
    return 0;
}

/*
 * The built-in drill gate: the environment's backups passed a restore
 * drill (otap backup drill) within their drill_every, as the ledger says.
 */
static int check_drill(struct run *r, struct otap_err *err)
{
    const struct manifest_backup *b = manifest_backup_for(r->m, r->env->name);
    if (!b || b->drill_every_s < 0) {
        refuse(r, "gate 'drill': %s has no backups with a drill_every in %s", r->env->name,
               r->rq->manifest_name);
        return 0;
    }
    const char *p[] = {r->env->name};
    struct store_rows rows;
    int rc = store_exec(r->rq->store,
                        "SELECT at, details FROM otap_ledger WHERE env = $1 AND action = "
                        "'backup.drill' ORDER BY seq DESC",
                        p, 1, &rows, err);
    if (rc < 0)
        return rc;
    const char *last = NULL;
    for (size_t i = 0; i < rows.nrows && !last; i++) {
        json_t *d = json_loads(store_cell(&rows, i, 1), 0, NULL);
        if (json_is_true(json_object_get(d, "ok")))
            last = store_cell(&rows, i, 0);
        json_decref(d);
    }
    struct tm tm = {0};
    long days = b->drill_every_s / 86400;
    if (!last)
        refuse(r,
               "gate 'drill': no restore drill of %s's backups has passed ('otap backup drill "
               "--env %s')",
               r->env->name, r->env->name);
    else if (!strptime(last, "%Y-%m-%dT%H:%M:%S", &tm) ||
             time(NULL) - timegm(&tm) > (time_t)b->drill_every_s)
        refuse(r,
               "gate 'drill': the last passing drill of %s's backups (%.10s) is older than %ld "
               "days ('otap backup drill --env %s')",
               r->env->name, last, days, r->env->name);
    store_rows_release(&rows);
    return 0;
}

static int check_gates(struct run *r, struct otap_err *err)
{
    struct promote_result *res = r->res;
    size_t idx = (size_t)(r->env - r->m->envs);
    char *label = artifact_label(&res->build);
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < r->env->nrequires; i++) {
        const char *req = r->env->requires[i];
        if (!strcmp(req, MANIFEST_REQ_SIGNOFF)) {
            const char *where = idx > 0 ? r->m->envs[idx - 1].name : r->env->name;
            char *by = NULL;
            rc = signoff_find(r->rq->store, res->build.digest, where, &by, NULL, err);
            if (rc == 0 && !by)
                refuse(r,
                       "%s has no sign-off in %s ('otap signoff --env %s --artifact %s --by "
                       "NAME')",
                       label, where, where,
                       res->build.version ? res->build.version : res->build.digest);
            free(by);
            continue;
        }
        if (!strcmp(req, MANIFEST_REQ_TAG)) {
            rc = check_tag(r, label, err);
            continue;
        }
        if (!strcmp(req, MANIFEST_REQ_DRILL)) {
            rc = check_drill(r, err);
            continue;
        }
        char *result = NULL, *at = NULL;
        rc = gate_latest(r->rq->store, res->build.digest, req, &result, &at, err);
        if (rc == 0 && !result) {
            char *other = other_pass(r, req, err);
            refuse(r, "gate '%s' has no result for %s%s%s%s", req, label,
                   other ? " (the pass recorded for " : "", other ? other : "",
                   other ? " is another build's and does not count)" : "");
            free(other);
        } else if (rc == 0 && strcmp(result, "pass")) {
            refuse(r, "gate '%s' failed for %s (recorded %s)", req, label, at);
        }
        free(result);
        free(at);
    }
    free(label);
    return rc;
}

static int check_contract(struct run *r, struct otap_err *err)
{
    int rc =
        contract_eval(&r->ev, r->m, r->rq->manifest_name, r->env->name, r->rq->process_env, err);
    if (rc < 0)
        return rc;
    r->have_ev = true;
    for (size_t i = 0; i < r->ev.diags.n; i++) {
        const struct diag *d = &r->ev.diags.items[i];
        if (d->severity != DIAG_ERROR)
            continue;
        char *f = diag_format(&r->ev.diags, d);
        refuse(r, "config of %s: %s", r->env->name, f);
        free(f);
    }
    r->config_env = contract_child_env(&r->ev, r->rq->process_env);
    if (r->m->database.url_var) {
        const struct contract_value *cv = contract_value_of(&r->ev, r->m->database.url_var);
        r->db_url = cv && cv->value && *cv->value ? cv->value : NULL;
    }
    return 0;
}

static const char *local_service_name(struct run *r)
{
    if (!r->env->deploy.driver || strcmp(r->env->deploy.driver, "local"))
        return NULL;
    const struct manifest_service *svc = driver_local_service(r->m, r->env);
    return svc ? svc->name : NULL;
}

static int check_readiness_provable(struct run *r, struct otap_err *err)
{
    const char *svc = local_service_name(r);
    char *names[1] = {(char *)svc};
    struct probe *p = NULL;
    size_t n = 0;
    int rc = probe_plan(r->m, r->env, svc ? names : NULL, svc ? 1 : 0, 1u << PROBE_READINESS, &p,
                        &n, err);
    if (rc < 0)
        return rc;
    if (!n)
        refuse(r, "nothing proves %s ready: no service%s declares a readiness path", r->env->name,
               svc ? " it runs" : "");
    for (size_t i = 0; i < n; i++) {
        if (p[i].no_url)
            refuse(r, "cannot prove %s ready in %s: %s", p[i].service, r->env->name, p[i].reason);
        probe_release(&p[i]);
    }
    free(p);
    return 0;
}

static struct migrate_request migrate_request(struct run *r, struct db *db,
                                              struct hardlock_input *hl, bool dry_run)
{
    return (struct migrate_request){
        .db = db,
        .set = &r->set,
        .env = r->env,
        .marker_table = r->m->database.marker_table,
        .dry_run = dry_run,
        .lock_wait_ms = 60000,
        .actor = r->rq->actor,
        .hardlock = r->env->protected ? hl : NULL,
    };
}

/* Judging only reads: explain and the preconditions never create an SQLite file. */
static int open_database(struct run *r, struct db **db, enum db_open_mode mode,
                         struct otap_err *err)
{
    return db_open(db, r->db_url, r->m->dir, mode, err);
}

/* The database: marker, and for a promotion the migrate dry run's every check. */
static int check_database(struct run *r, struct otap_err *unused)
{
    (void)unused; /* what the database says is a refusal, never a failure of otap */
    const struct manifest *m = r->m;
    if (!m->database.url_var)
        return 0;
    if (!r->db_url) {
        refuse(r, "%s is not set for %s: its database marker cannot be checked",
               m->database.url_var, r->env->name);
        return 0;
    }
    /* a malformed URL is not handed to a client: it would connect elsewhere and quote
     * pieces of the password in its errors */
    const struct contract_value *cv = contract_value_of(&r->ev, m->database.url_var);
    char *bad = cv && cv->var ? contract_check_value(cv->var, r->db_url) : NULL;
    if (bad) {
        refuse(r, "cannot check the database marker of %s: %s", r->env->name, bad);
        free(bad);
        return 0;
    }
    struct otap_err err = OTAP_ERR_INIT;
    struct db *db = NULL;
    if (open_database(r, &db, DB_READ, &err) < 0) {
        refuse(r, "cannot check the database marker of %s: %s", r->env->name, err.msg);
        otap_err_release(&err);
        return 0;
    }
    char *dir = xasprintf("%s/%s", m->dir, m->database.migrations);
    struct diag_list dl;
    diag_list_init(&dl, m->database.migrations);
    int rc = migration_set_load(&r->set, dir, m->database.migrations, &dl, &err);
    r->have_set = true;
    free(dir);
    if (rc < 0) {
        size_t n = diag_count(&dl, DIAG_ERROR);
        if (rc == OTAP_EEXTERNAL)
            refuse(r, "%s", err.msg);
        else
            refuse(r, "%s has %zu problem%s ('otap db lint' lists them)", m->database.migrations, n,
                   n == 1 ? "" : "s");
        otap_err_release(&err);
        diag_list_release(&dl);
        db_close(db);
        return 0;
    }
    diag_list_release(&dl);
    struct hardlock_input hl;
    hardlock_gather(&hl, &r->ev, r->db_url);
    struct migrate_result res;
    if (r->rq->rollback) {
        /* a rollback migrates nothing: the marker alone must say this environment */
        struct migrate_request mrq = migrate_request(r, db, &hl, true);
        rc = migrate_inspect(&mrq, &res, &err);
        if (rc == 0 && res.marker.state != MARKER_MATCH) {
            char *why = marker_refusal(&res.marker, r->env->name);
            take_refusal(r, why ? why
                                : xasprintf("the database of %s is not marked as %s's",
                                            r->env->name, r->env->name));
        }
    } else {
        struct migrate_request mrq = migrate_request(r, db, &hl, true);
        rc = migrate_up(&mrq, &res, &err);
        for (size_t i = 0; i < res.nrefusals; i++)
            refuse(r, "database: %s", res.refusals[i]);
    }
    if (rc < 0 && rc != OTAP_EREFUSED)
        refuse(r, "cannot check the database of %s: %s", r->env->name, err.msg);
    migrate_result_release(&res);
    otap_err_release(&err);
    db_close(db);
    return 0;
}

static int check_driver(struct run *r, struct otap_err *err)
{
    (void)err;
    take_refusal(r, driver_refusal(r->m, r->env, &r->res->build));
    return 0;
}

/* ---- the preconditions, as one table ----------------------------------- */

static void describe_stage(const struct manifest *m, const struct manifest_env *e,
                           struct strvec *out)
{
    size_t idx = (size_t)(e - m->envs);
    if (idx == 0)
        strvec_pushf(out, "the build is registered (first stage: any registered build may enter)");
    else
        strvec_pushf(out, "the same build is live in %s (%s)", m->envs[idx - 1].name,
                     manifest_stage_letter(m->envs[idx - 1].stage));
}

static void describe_gates(const struct manifest *m, const struct manifest_env *e,
                           struct strvec *out)
{
    size_t idx = (size_t)(e - m->envs);
    for (size_t i = 0; i < e->nrequires; i++) {
        const struct manifest_gate *g = manifest_gate_find(m, e->requires[i]);
        if (g)
            strvec_pushf(out, "gate '%s' passed for this build (%s)", g->name, g->run);
        else if (!strcmp(e->requires[i], MANIFEST_REQ_DRILL))
            strvec_pushf(out,
                         "a restore drill of %s's backups passed within their drill_every ('otap "
                         "backup drill')",
                         e->name);
        else if (!strcmp(e->requires[i], MANIFEST_REQ_TAG))
            strvec_pushf(out,
                         "the build is a release: its commit carries the tag %sX.Y.Z of its "
                         "version X.Y.Z ('otap release create')",
                         m->release.tag_prefix);
        else
            strvec_pushf(out, "this build was signed off in %s",
                         idx > 0 ? m->envs[idx - 1].name : e->name);
    }
}

static void describe_contract(const struct manifest *m, const struct manifest_env *e,
                              struct strvec *out)
{
    (void)m;
    strvec_pushf(out, "the config contract holds for %s", e->name);
}

static void describe_driver(const struct manifest *m, const struct manifest_env *e,
                            struct strvec *out)
{
    (void)m;
    if (e->deploy.driver)
        strvec_pushf(out, "the '%s' driver can deploy the build", e->deploy.driver);
    else
        strvec_pushf(out, "a deploy is declared for %s (it has none yet)", e->name);
}

static void describe_readiness(const struct manifest *m, const struct manifest_env *e,
                               struct strvec *out)
{
    (void)m;
    strvec_pushf(out, "a readiness probe with a URL can prove %s ready", e->name);
}

static void describe_database(const struct manifest *m, const struct manifest_env *e,
                              struct strvec *out)
{
    if (!m->database.url_var)
        return;
    strvec_pushf(out, "the database marker reads '%s'", e->marker);
    if (e->protected)
        strvec_pushf(out,
                     "protected: CONFIRM_PROD_MIGRATE=YES, ENVIRONMENT saying %s, the "
                     "pending migrations lint clean and nothing drifted; no rollback of "
                     "migrations, forward fixes only",
                     e->name);
}

/*
 * Every precondition, in the order promote_run() judges them. The help of
 * 'otap promote', 'otap explain' and the API all read this table, so what
 * is checked and what is said can no longer drift apart.
 */
static const struct condition {
    struct promote_condition c;
    int (*check)(struct run *r, struct otap_err *err);
    void (*describe)(const struct manifest *m, const struct manifest_env *e, struct strvec *out);
} conditions[] = {
    {{"stage",
      "it is live in the stage before ENV (any registered build may enter the first); for a "
      "rollback, it was live in ENV before",
      true},
     check_stage,
     describe_stage},
    {{"gates",
      "each gate ENV requires passed for this build ('otap gate record'); 'signoff': it was "
      "signed off in the stage before ('otap signoff'); 'tag': its commit carries the release "
      "tag of its version ('otap release create')",
      false},
     check_gates,
     describe_gates},
    {{"contract", "ENV's config contract holds ('otap env check --env ENV')", true},
     check_contract,
     describe_contract},
    {{"driver", "ENV's driver can deploy it", true}, check_driver, describe_driver},
    {{"readiness", "a readiness probe with a URL can prove ENV ready", true},
     check_readiness_provable,
     describe_readiness},
    {{"database",
      "the database marker says ENV's; on a protected ENV the hard lock holds "
      "(CONFIRM_PROD_MIGRATE=YES...), the pending migrations lint clean and nothing drifted",
      true},
     check_database,
     describe_database},
};

const struct promote_condition *promote_condition_at(size_t i)
{
    return i < sizeof(conditions) / sizeof(conditions[0]) ? &conditions[i].c : NULL;
}

void promote_conditions_for(const struct manifest *m, const struct manifest_env *env,
                            struct strvec *out)
{
    for (size_t i = 0; i < sizeof(conditions) / sizeof(conditions[0]); i++)
        conditions[i].describe(m, env, out);
}

/* ---- steps -------------------------------------------------------------- */

static struct promote_step *step_begin(struct run *r, const char *name)
{
    struct promote_result *res = r->res;
    struct promote_step *s = XPUSH(&res->steps, &res->nsteps, &res->steps_alloc);
    memset(s, 0, sizeof(*s));
    s->name = xstrdup(name);
    s->ms = monotime_ms();
    say(r, "%s: %s", r->env->name, name);
    return s;
}

/* Ends a step and records it; a failure to record is the store failing. */
static int step_end(struct run *r, struct promote_step *s, bool ok, char *detail,
                    struct otap_err *err)
{
    s->ok = ok;
    s->ms = monotime_ms() - s->ms;
    s->detail = detail;
    say(r, "%s: %s %s (%lld ms)%s%s", r->env->name, s->name, ok ? "ok" : "FAILED", s->ms,
        detail ? ": " : "", detail ? detail : "");
    struct store *st = r->rq->store;
    int rc = store_begin(st, err);
    if (rc == 0)
        rc = ledger_append(st, r->rq->actor, "deploy.step", r->env->name, r->res->build.digest,
                           json_pack("{s:I, s:s, s:b, s:I, s:s?}", "deployment",
                                     (json_int_t)r->res->deployment_id, "step", s->name, "ok", ok,
                                     "ms", (json_int_t)s->ms, "detail", detail),
                           NULL, err);
    return store_end(st, rc, err);
}

static int wait_ready(struct run *r, const struct manifest_env *env, char **why,
                      struct otap_err *err)
{
    const char *svc = local_service_name(r);
    char *names[1] = {(char *)svc};
    struct probe *p = NULL;
    size_t n = 0;
    int rc =
        probe_plan(r->m, env, svc ? names : NULL, svc ? 1 : 0, 1u << PROBE_READINESS, &p, &n, err);
    if (rc < 0)
        return rc;
    struct probe_opts o = PROBE_OPTS_DEFAULT;
    o.environment = env->name;
    o.until_pass = true;
    o.deadline_ms = r->rq->ready_timeout_ms > 0 ? r->rq->ready_timeout_ms : 60000;
    o.timeout_ms = o.deadline_ms < 5000 ? o.deadline_ms : 5000;
    rc = probe_run(p, n, &o, err);
    struct strbuf sb = STRBUF_INIT;
    for (size_t i = 0; i < n; i++) {
        if (rc == 0 && !p[i].ok)
            strbuf_addf(&sb, "%s%s readiness: %s", sb.len ? "; " : "", p[i].service, p[i].reason);
        probe_release(&p[i]);
    }
    free(p);
    *why = sb.len ? strbuf_detach(&sb, NULL) : NULL;
    strbuf_release(&sb);
    return rc;
}

static int record(struct run *r, const char *action, json_t *details, struct otap_err *err)
{
    struct store *st = r->rq->store;
    int rc = store_begin(st, err);
    if (rc == 0)
        rc = ledger_append(st, r->rq->actor, action, r->env->name, r->res->build.digest, details,
                           NULL, err);
    else
        json_decref(details);
    return store_end(st, rc, err);
}

static int finish(struct run *r, const char *state, const char *action, const char *reason,
                  json_t *details, struct otap_err *err)
{
    struct store *st = r->rq->store;
    int rc = store_begin(st, err);
    if (rc == 0)
        rc = deploy_finish(st, r->res->deployment_id, r->env->name, state, reason, err);
    if (rc == 0)
        rc = ledger_append(st, r->rq->actor, action, r->env->name, r->res->build.digest, details,
                           NULL, err);
    else
        json_decref(details);
    return store_end(st, rc, err);
}

/*
 * The flags that say enable_on_promote for this environment: on after a
 * promotion went live, back as they were after a rollback. The build is
 * live either way; a flag that cannot be changed is the command's failure.
 */
static int flags_after_live(struct run *r, struct otap_err *err)
{
    json_t *changed = NULL;
    int rc = r->rq->rollback
                 ? flags_after_rollback(r->rq->store, r->m, r->env->name, r->res->deployment_id,
                                        r->rq->actor, &changed, err)
                 : flags_after_promote(r->rq->store, r->m, r->env->name, r->res->deployment_id,
                                       r->rq->actor, &changed, err);
    size_t i;
    json_t *k;
    json_array_foreach(changed, i, k)
        say(r, "%s: flag %s %s (enable_on_promote)", r->env->name, json_string_value(k),
            r->rq->rollback ? "put back as it was before the promotion" : "turned on");
    json_decref(changed);
    if (rc < 0)
        say(r, "%s is live, but its enable_on_promote flags could not be changed", r->env->name);
    return rc;
}

/* After a failed deploy, ready or smoke step: back to the build that was live. */
static int roll_back(struct run *r, struct otap_err *err)
{
    struct promote_result *res = r->res;
    res->rolled_back = true;
    if (!res->have_previous) {
        /* nothing earlier to go back to: at least stop running a broken build ourselves */
        if (!strcmp(r->env->deploy.driver, "local")) {
            struct otap_err e = OTAP_ERR_INIT;
            driver_local_stop(r->m, r->env->name, &e);
            otap_err_release(&e);
        }
        res->rollback_detail = xasprintf(
            "no earlier build was live in %s%s", r->env->name,
            !strcmp(r->env->deploy.driver, "local") ? "; the failed build was stopped" : "");
        return record(r, "rollback.auto",
                      json_pack("{s:b, s:s}", "ok", 0, "detail", res->rollback_detail), err);
    }
    char *label = artifact_label(&res->previous);
    say(r, "%s: rolling back to %s", r->env->name, label);
    struct driver_request drq = {r->m, r->env, &res->previous, r->config_env, driver_say, r};
    struct otap_err derr = OTAP_ERR_INIT;
    char *why = NULL;
    int rc = driver_deploy(&drq, &derr);
    if (rc == 0)
        rc = wait_ready(r, r->env, &why, &derr);
    if (rc < 0)
        why = xstrdup(derr.msg ? derr.msg : "the redeploy failed");
    res->rollback_ok = !why;
    res->rollback_detail = why ? xasprintf("the rollback to %s failed: %s", label, why)
                               : xasprintf("%s is live again", label);
    say(r, "%s: %s", r->env->name, res->rollback_detail);
    otap_err_release(&derr);
    rc = record(r, "rollback.auto",
                json_pack("{s:b, s:s, s:s?, s:s}", "ok", res->rollback_ok, "to",
                          res->previous.digest, "version", res->previous.version, "detail",
                          res->rollback_detail),
                err);
    free(why);
    free(label);
    return rc;
}

/* A step failed after the deploy began: record it, roll back, hand back code. */
static int fail_and_roll_back(struct run *r, const char *step, char *why, int code,
                              struct otap_err *err)
{
    struct promote_result *res = r->res;
    res->failed_step = xstrdup(step);
    res->failure = why;
    int rc = roll_back(r, err);
    const char *state = res->rollback_ok || !res->have_previous ? "rolled_back" : "failed";
    if (rc == 0)
        rc = finish(r, state, r->rq->rollback ? "rollback.failed" : "promote.failed", why,
                    json_pack("{s:s, s:s, s:b}", "step", step, "reason", why, "rolled_back",
                              res->rollback_ok),
                    err);
    return rc < 0 ? rc : code;
}

static int run_steps(struct run *r, struct otap_err *err)
{
    struct promote_result *res = r->res;
    const struct promote_request *rq = r->rq;
    struct store *st = rq->store;
    const char *kind = rq->rollback ? "rollback" : "promote";

    int rc = store_begin(st, err);
    if (rc == 0)
        rc = deploy_start(st, r->env->name, res->build.digest, kind,
                          res->have_previous ? res->previous.digest : NULL, rq->actor,
                          &res->deployment_id, err);
    if (rc == 0)
        rc = deploy_lock_attach(st, r->env->name, res->deployment_id, err);
    if (rc == 0)
        rc = ledger_append(st, rq->actor, rq->rollback ? "rollback.start" : "promote.start",
                           r->env->name, res->build.digest,
                           json_pack("{s:I, s:s?, s:s?}", "deployment",
                                     (json_int_t)res->deployment_id, "version", res->build.version,
                                     "previous", res->have_previous ? res->previous.digest : NULL),
                           NULL, err);
    if ((rc = store_end(st, rc, err)) < 0)
        return rc;

    /* migrate: forward only, so a rollback never runs it */
    if (!rq->rollback && r->m->database.url_var && r->db_url) {
        struct promote_step *s = step_begin(r, "migrate");
        struct otap_err merr = OTAP_ERR_INIT;
        struct db *db = NULL;
        struct hardlock_input hl;
        hardlock_gather(&hl, &r->ev, r->db_url);
        struct migrate_result mres;
        memset(&mres, 0, sizeof(mres));
        int mrc = open_database(r, &db, DB_WRITE, &merr);
        if (mrc == 0) {
            struct migrate_request mrq = migrate_request(r, db, &hl, false);
            mrc = migrate_up(&mrq, &mres, &merr);
        }
        char *detail = mrc == 0         ? xasprintf("%zu migration%s applied", mres.nsteps,
                                            mres.nsteps == 1 ? "" : "s")
                       : mres.nrefusals ? xasprintf("refused: %s", mres.refusals[0])
                                        : xstrdup(merr.msg ? merr.msg : "failed");
        migrate_result_release(&mres);
        db_close(db);
        otap_err_release(&merr);
        if ((rc = step_end(r, s, mrc == 0, detail, err)) < 0)
            return rc;
        if (mrc < 0) {
            res->failed_step = xstrdup("migrate");
            res->failure = xstrdup(detail);
            rc = finish(
                r, "failed", "promote.failed", detail,
                json_pack("{s:s, s:s, s:b}", "step", "migrate", "reason", detail, "rolled_back", 0),
                err);
            return rc < 0 ? rc : mrc == OTAP_EREFUSED ? OTAP_EREFUSED : OTAP_EEXTERNAL;
        }
    }

    /* deploy */
    struct promote_step *s = step_begin(r, "deploy");
    struct driver_request drq = {r->m, r->env, &res->build, r->config_env, driver_say, r};
    struct otap_err derr = OTAP_ERR_INIT;
    int drc = driver_deploy(&drq, &derr);
    char *why = drc < 0 ? xstrdup(derr.msg) : NULL;
    otap_err_release(&derr);
    if ((rc = step_end(r, s, drc == 0, why ? xstrdup(why) : NULL, err)) < 0) {
        free(why);
        return rc;
    }
    if (drc < 0)
        return fail_and_roll_back(r, "deploy", why, OTAP_EEXTERNAL, err);

    /* ready */
    s = step_begin(r, "ready");
    rc = wait_ready(r, r->env, &why, err);
    if (rc < 0)
        return rc;
    if ((rc = step_end(r, s, !why, why ? xstrdup(why) : NULL, err)) < 0) {
        free(why);
        return rc;
    }
    if (why)
        return fail_and_roll_back(r, "ready", why, OTAP_EFOUND, err);

    /* smoke */
    s = step_begin(r, "smoke");
    struct smoke_result sm;
    rc = smoke_run(r->m, r->env, local_service_name(r), &sm, err);
    if (rc < 0)
        return rc;
    res->p95_ms = sm.p95_ms;
    res->error_rate = sm.error_rate;
    res->smoke_requests = sm.requests;
    struct strbuf sb = STRBUF_INIT;
    strbuf_addf(&sb, "%zu requests, p95 %.1f ms, error rate %.1f%%", sm.requests, sm.p95_ms,
                sm.error_rate * 100);
    for (size_t i = 0; i < sm.nproblems; i++)
        strbuf_addf(&sb, "; %s", sm.problems[i]);
    bool smoke_ok = sm.ok;
    smoke_result_release(&sm);
    char *detail = strbuf_detach(&sb, NULL);
    strbuf_release(&sb);
    if ((rc = step_end(r, s, smoke_ok, xstrdup(detail), err)) < 0) {
        free(detail);
        return rc;
    }
    if (!smoke_ok)
        return fail_and_roll_back(r, "smoke", detail, OTAP_EFOUND, err);
    free(detail);

    /* live */
    rc = finish(r, "live", rq->rollback ? "rollback.live" : "promote.live", NULL,
                json_pack("{s:I, s:s?, s:s?, s:f, s:f}", "deployment",
                          (json_int_t)res->deployment_id, "version", res->build.version, "previous",
                          res->have_previous ? res->previous.digest : NULL, "p95_ms", res->p95_ms,
                          "error_rate", res->error_rate),
                err);
    return rc < 0 ? rc : flags_after_live(r, err);
}

int promote_rollback_target(struct store *s, const char *env, const char *current_digest,
                            char **digest, struct otap_err *err)
{
    const char *p[] = {env, current_digest};
    struct store_rows rows;
    int rc = store_exec(s,
                        "SELECT digest FROM otap_deployments WHERE env = $1 AND state = "
                        "'superseded' AND digest <> CAST($2 AS text) ORDER BY id DESC LIMIT 1",
                        p, 2, &rows, err);
    if (rc < 0)
        return rc;
    const char *d = store_cell(&rows, 0, 0);
    *digest = d ? xstrdup(d) : NULL;
    store_rows_release(&rows);
    return 0;
}

static int resolve_build(struct run *r, struct otap_err *err)
{
    const struct promote_request *rq = r->rq;
    struct promote_result *res = r->res;
    struct deployment live;
    bool found = false;
    int rc = deploy_live(rq->store, r->env->name, &live, &found, err);
    if (rc < 0)
        return rc;
    if (found) {
        rc = artifact_find(rq->store, live.digest, &res->previous, err);
        res->have_previous = rc == 0;
    }
    char *target = NULL;
    if (rc == 0 && rq->rollback && !rq->artifact) {
        rc = promote_rollback_target(rq->store, r->env->name, found ? live.digest : NULL, &target,
                                     err);
        if (rc == 0 && !target)
            rc = otap_err_set(err, OTAP_EREFUSED, "%s has no earlier live build to roll back to",
                              r->env->name);
    }
    deployment_release(&live);
    if (rc < 0)
        return rc;
    const char *ref = target ? target : rq->artifact;
    rc = artifact_find(rq->store, ref, &res->build, err);
    free(target);
    res->have_build = rc == 0;
    if (rc == 0 && res->have_previous && !strcmp(res->previous.digest, res->build.digest))
        res->already_live = true;
    return rc;
}

int promote_run(const struct promote_request *rq, struct promote_result *res, struct otap_err *err)
{
    memset(res, 0, sizeof(*res));
    struct run r = {.rq = rq, .res = res, .m = rq->m};
    r.env = manifest_env_find(rq->m, rq->env);
    if (!r.env)
        return otap_err_set(err, OTAP_ENOTFOUND, "no environment '%s' in the manifest", rq->env);
    res->env = r.env;

    int rc = 0;
    if (!rq->check_only) {
        rc = deploy_lock(rq->store, r.env->name, rq->actor, rq->lock_wait_ms, err);
        if (rc < 0)
            return rc;
        r.locked = true;
    }
    rc = resolve_build(&r, err);
    if (rc == 0 && res->already_live) {
        say(&r, "%s: %s is live already; nothing to do", r.env->name, res->build.digest);
        goto out;
    }
    /* a rollback skips the gates: the build passed them to get there */
    for (size_t i = 0; rc == 0 && i < sizeof(conditions) / sizeof(conditions[0]); i++)
        if (!rq->rollback || conditions[i].c.rollback)
            rc = conditions[i].check(&r, err);
    if (rc == 0 && res->nrefusals)
        rc = OTAP_EREFUSED;
    if (rc == 0 && !rq->check_only)
        rc = run_steps(&r, err);
out:
    if (r.locked) {
        struct otap_err uerr = OTAP_ERR_INIT;
        int urc = deploy_unlock(rq->store, r.env->name, &uerr);
        if (urc < 0 && rc == 0)
            rc = otap_err_set(err, urc, "%s", uerr.msg);
        otap_err_release(&uerr);
    }
    if (r.have_ev)
        contract_eval_release(&r.ev);
    contract_child_env_free(r.config_env);
    if (r.have_set)
        migration_set_release(&r.set);
    return rc;
}

void promote_result_release(struct promote_result *res)
{
    artifact_release(&res->build);
    artifact_release(&res->previous);
    xfree_strv(res->refusals, res->nrefusals);
    for (size_t i = 0; i < res->nsteps; i++) {
        free(res->steps[i].name);
        free(res->steps[i].detail);
    }
    free(res->steps);
    free(res->failed_step);
    free(res->failure);
    free(res->rollback_detail);
    memset(res, 0, sizeof(*res));
}
