/*
 * otap db: migrations that can never touch the wrong database.
 *
 *   new          create the next migration file
 *   migrate      apply pending migrations (marker, hard lock, lint, drift first)
 *   rollback     run the last applied migration's down section
 *   status       every migration and its state, and the marker
 *   verify       the drift gate; --schema compares the live schema too
 *   dump-schema  write the live schema to the manifest's schema file
 *   marker       init or check the environment marker
 *   lint         unsafe statements in migration files
 *   baseline     record the files another tool already applied, once their objects exist
 *   guard        run the team's own migration tool behind the same checks
 *
 * Commands that write take the environment's whole config contract as a
 * precondition, as 'otap run' does; commands that read only need the
 * database URL. The URL is a secret: it is only ever shown redacted.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/wait.h>
#include <time.h>

#include "base/actor.h"
#include "cli.h"
#include "config/contract.h"
#include "db/db.h"
#include "db/dblint.h"
#include "base/err.h"
#include "base/fileio.h"
#include "base/monotime.h"
#include "base/proc.h"
#include "db/hardlock.h"
#include "db/marker.h"
#include "db/migrate.h"
#include "db/migration.h"
#include "base/num.h"
#include "base/strbuf.h"
#include "base/xalloc.h"
#include "state/ledger.h"
#include "state/store.h"
#include "base/banned.h"

extern char **environ;

struct db_opts {
    const char *env;
    const char *to;
    const char *output;
    bool dry_run;
    bool schema;
    long lock_wait_ms;
};

enum {
    OPT_ENV = 1 << 0,
    OPT_DRY_RUN = 1 << 1,
    OPT_TO = 1 << 2,
    OPT_LOCK_WAIT = 1 << 3,
    OPT_SCHEMA = 1 << 4,
    OPT_OUTPUT = 1 << 5,
};

/* Reads the options a verb declares (allowed says which) into o. */
static int parse_opts(struct cli *cli, const struct cli_args *args, unsigned allowed,
                      struct db_opts *o)
{
    memset(o, 0, sizeof(*o));
    o->lock_wait_ms = 60000;
    if (allowed & OPT_ENV)
        o->env = cli_opt(args, "env");
    if (allowed & OPT_DRY_RUN)
        o->dry_run = cli_flag(args, "dry-run");
    if (allowed & OPT_TO)
        o->to = cli_opt(args, "to");
    if (allowed & OPT_SCHEMA)
        o->schema = cli_flag(args, "schema");
    if (allowed & OPT_OUTPUT)
        o->output = cli_opt(args, "output");
    const char *wait = allowed & OPT_LOCK_WAIT ? cli_opt(args, "lock-wait") : NULL;
    if (wait) {
        long long s;
        if (num_parse_duration(wait, &s) < 0 || s > 86400)
            return cli_usage_error(cli, "--lock-wait '%s' is not a duration (e.g. 60s)", wait);
        o->lock_wait_ms = (long)(s * 1000);
    }
    if ((allowed & OPT_ENV) && !o->env)
        return cli_usage_error(cli, "which environment? give --env NAME");
    return 0;
}

/* ---- the target: environment, URL, files, connection ----------------- */

struct target {
    struct contract_eval ev;
    bool have_ev;
    const struct manifest_env *env;
    const char *url; /* borrowed from ev */
    struct migration_set set;
    bool have_set;
    struct db *db;
    struct hardlock_input hl;
    char *actor;
    char *dir;     /* the migrations folder */
    char *display; /* as messages show it */
    /* with target_files(..., true): the files that could not be read or parsed */
    struct diag_list file_problems;
    bool have_problems;
};

static void target_release(struct target *t)
{
    db_close(t->db);
    migration_set_release(&t->set);
    if (t->have_ev)
        contract_eval_release(&t->ev);
    free(t->actor);
    free(t->dir);
    free(t->display);
    if (t->have_problems)
        diag_list_release(&t->file_problems);
    memset(t, 0, sizeof(*t));
}

static int refused(struct cli *cli, const char *what, char **items, size_t n, json_t *extra)
{
    return cli_refused(cli, what, items, n, extra);
}

static const char *manifest_name(const struct cli *cli)
{
    return cli_manifest_name(cli);
}

/*
 * Resolves --env and its database URL. writes: the whole contract must
 * hold (a write is as much a deploy of config as 'otap run').
 */
static int target_env(struct cli *cli, const char *env, bool writes, struct target *t)
{
    const struct manifest *m = cli->m;
    if (!m->database.url_var)
        return cli_error(cli, OTAP_EINVALID,
                         "%s has no 'database' section: add database: { url: DATABASE_URL }",
                         manifest_name(cli));
    struct otap_err err = OTAP_ERR_INIT;
    int erc = contract_eval(&t->ev, m, manifest_name(cli), env, environ, &err);
    if (erc < 0)
        return cli_fail(cli, erc, &err);
    t->have_ev = true;
    t->env = t->ev.env;
    const struct contract_value *cv = contract_value_of(&t->ev, m->database.url_var);
    t->url = cv && cv->value && *cv->value ? cv->value : NULL;

    size_t errors = diag_count(&t->ev.diags, DIAG_ERROR);
    /* a malformed URL is never handed to a client, not even to read: it would connect
     * somewhere else, and quote the password's pieces in its errors */
    char *bad_url = t->url && cv->var ? contract_check_value(cv->var, t->url) : NULL;
    if (bad_url && !(writes && errors)) {
        /* invalid config, as an unsupported scheme always was (exit 3) */
        if (!cli->json)
            cli_print_diags(cli, &t->ev.diags, stderr);
        int rc = cli_error(cli, OTAP_EINVALID, "the database URL of %s cannot be used: %s",
                           t->env->name, bad_url);
        free(bad_url);
        return rc;
    }
    free(bad_url);
    if ((writes && errors) || !t->url) {
        if (!cli->json)
            cli_print_diags(cli, &t->ev.diags, stderr);
        char *why = !t->url ? xasprintf("%s is not set for %s", m->database.url_var, t->env->name)
                            : xasprintf("the config contract for %s has %zu problem%s ('otap "
                                        "env check --env %s' lists them)",
                                        t->env->name, errors, errors == 1 ? "" : "s", t->env->name);
        char *what = xasprintf("touch the database of %s", t->env->name);
        int rc = refused(cli, what, &why, 1,
                         json_pack("{s:o}", "diagnostics", cli_diags_json(&t->ev.diags)));
        free(why);
        free(what);
        return rc;
    }
    if (!cli->quiet && !cli->json)
        cli_print_diags(cli, &t->ev.diags, stderr);

    /* the hard lock's inputs, gathered here and judged in hardlock.c */
    hardlock_gather(&t->hl, &t->ev, t->url);
    t->actor = actor_name();
    return 0;
}

/*
 * Loads the migration files. A file that cannot be read or parsed fails
 * the command (nothing is run), unless tolerate: then the set holds the
 * files that parsed and t->file_problems the rest, for status and lint to
 * list with everything else.
 */
static int target_files(struct cli *cli, struct target *t, bool tolerate)
{
    const struct manifest *m = cli->m;
    t->dir = xasprintf("%s/%s", m->dir, m->database.migrations);
    t->display = xstrdup(m->database.migrations);
    struct diag_list dl;
    diag_list_init(&dl, t->display);
    struct otap_err err = OTAP_ERR_INIT;
    int rc = migration_set_load(&t->set, t->dir, t->display, &dl, &err);
    t->have_set = true;
    if (rc == OTAP_EEXTERNAL) {
        rc = cli_error(cli, rc, "%s", err.msg);
    } else if (rc < 0 && tolerate) {
        diag_sort(&dl);
        t->file_problems = dl;
        t->have_problems = true;
        otap_err_release(&err);
        return 0;
    } else if (rc < 0) {
        size_t n = diag_count(&dl, DIAG_ERROR);
        diag_sort(&dl);
        if (cli->json) {
            cli_emit(cli,
                     json_pack("{s:b, s:{s:s, s:s}, s:o}", "ok", 0, "error", "code", "invalid",
                               "message", "invalid migration files", "diagnostics",
                               cli_diags_json(&dl)),
                     NULL);
        } else {
            cli_print_diags(cli, &dl, stderr);
            fprintf(stderr, "%serror:%s %zu problem%s in the migration files; nothing was run\n",
                    cli_red(cli), cli_reset(cli), n, n == 1 ? "" : "s");
        }
        rc = OTAP_EINVALID;
    } else if (!cli->quiet && !cli->json) {
        cli_print_diags(cli, &dl, stderr);
    }
    otap_err_release(&err);
    diag_list_release(&dl);
    return rc;
}

/* How many files the tolerated problems name (a file may have several). */
static size_t problem_files(const struct target *t)
{
    size_t n = 0;
    for (size_t i = 0; t->have_problems && i < t->file_problems.n; i++) {
        const struct diag *d = &t->file_problems.items[i];
        if (d->severity != DIAG_ERROR)
            continue;
        bool seen = false;
        for (size_t k = 0; k < i && !seen; k++)
            seen = t->file_problems.items[k].severity == DIAG_ERROR &&
                   !strcmp(diag_file(&t->file_problems, &t->file_problems.items[k]),
                           diag_file(&t->file_problems, d));
        n += !seen;
    }
    return n;
}

static void print_notice(void *ctx, const char *message)
{
    struct cli *cli = ctx;
    if (!cli->quiet && !cli->json)
        fprintf(stderr, "notice: %s\n", message);
}

static int target_open(struct cli *cli, struct target *t, enum db_open_mode mode)
{
    struct otap_err err = OTAP_ERR_INIT;
    int rc = db_open(&t->db, t->url, cli->m->dir, mode, &err);
    if (rc < 0) {
        rc = cli_error(cli, rc, "%s", err.msg);
        otap_err_release(&err);
        return rc;
    }
    db_set_notice(t->db, print_notice, cli);
    return 0;
}

/* For a command that writes: the whole contract, every file parsed, the database open
 * (read-only on a dry run). Releases t on failure. */
static int target_for_write(struct cli *cli, const struct db_opts *o, struct target *t)
{
    int rc;
    if ((rc = target_env(cli, o->env, true, t)) || (rc = target_files(cli, t, false)) ||
        (rc = target_open(cli, t, o->dry_run ? DB_READ : DB_WRITE)))
        target_release(t);
    return rc;
}

static struct migrate_request request_for(struct cli *cli, struct target *t,
                                          const struct db_opts *o)
{
    return (struct migrate_request){
        .db = t->db,
        .set = &t->set,
        .env = t->env,
        .marker_table = cli->m->database.marker_table,
        .to = o->to,
        .dry_run = o->dry_run,
        .lock_wait_ms = o->lock_wait_ms,
        .actor = t->actor,
        .hardlock = t->env->protected ? &t->hl : NULL,
    };
}

/* ---- shared JSON pieces ----------------------------------------------- */

static json_t *marker_json(const struct marker_status *st)
{
    return json_pack("{s:s, s:s?, s:s?, s:s}", "table", st->table, "expected", st->expected,
                     "found", st->found, "state", marker_state_name(st->state));
}

static json_t *lint_json(const struct dblint_report *r)
{
    json_t *a = json_array();
    for (size_t i = 0; i < r->n; i++) {
        const struct dblint_finding *f = &r->items[i];
        json_array_append_new(a, json_pack("{s:s, s:s, s:i, s:i, s:s, s:s, s:b, s:s?}", "rule",
                                           f->rule->id, "file", f->path, "line", f->line, "column",
                                           f->col, "message", f->message, "fix", f->rule->fix,
                                           "acknowledged", f->acknowledged, "reason", f->reason));
    }
    return a;
}

static void render_lint_findings(struct cli *cli, json_t *findings, FILE *out)
{
    size_t i;
    json_t *f;
    json_array_foreach(findings, i, f)
    {
        bool ack = json_is_true(json_object_get(f, "acknowledged"));
        if (ack && cli->quiet)
            continue;
        fprintf(out, "%s:%d:%d: %s%s%s: %s%s\n", json_string_value(json_object_get(f, "file")),
                (int)json_integer_value(json_object_get(f, "line")),
                (int)json_integer_value(json_object_get(f, "column")), ack ? "" : cli_red(cli),
                json_string_value(json_object_get(f, "rule")), ack ? "" : cli_reset(cli),
                json_string_value(json_object_get(f, "message")), ack ? " (acknowledged)" : "");
        if (ack)
            fprintf(out, "    reason: %s\n", json_string_value(json_object_get(f, "reason")));
        else
            fprintf(out, "    fix: %s\n", json_string_value(json_object_get(f, "fix")));
    }
}

static json_t *failure_json(const struct migrate_failure *f)
{
    return json_pack("{s:s, s:i, s:i, s:s, s:s?, s:s?, s:s?, s:b, s:b}", "file", f->mg->path,
                     "line", f->line, "column", f->col, "message",
                     f->db.message ? f->db.message : "failed", "sqlstate", f->db.sqlstate, "detail",
                     f->db.detail, "hint", f->db.hint, "transaction", f->transaction, "down",
                     f->down);
}

static json_t *steps_json(const struct migrate_result *res)
{
    json_t *a = json_array();
    for (size_t i = 0; i < res->nsteps; i++) {
        const struct migrate_step *s = &res->steps[i];
        json_array_append_new(a, json_pack("{s:s, s:s, s:s, s:I}", "version", s->mg->version,
                                           "name", s->mg->name, "file", s->mg->path, "duration_ms",
                                           (json_int_t)s->duration_ms));
    }
    return a;
}

/* Reports a migration that failed in the database; returns 5. */
static int report_failure(struct cli *cli, const struct migrate_result *res, json_t *doc,
                          const char *errmsg)
{
    const struct migrate_failure *f = &res->failure;
    size_t earlier = res->nsteps;
    if (cli->json) {
        json_object_set_new(doc, "ok", json_false());
        json_object_set_new(doc, "error",
                            json_pack("{s:s, s:s}", "code", "external", "message", errmsg));
        json_object_set_new(doc, "failure", failure_json(f));
        cli_emit(cli, doc, NULL);
        return OTAP_EEXTERNAL;
    }
    json_decref(doc);
    if (!cli->quiet)
        fputs(" failed\n", stderr); /* ends the progress line */
    fprintf(stderr, "%serror:%s %s\n", cli_red(cli), cli_reset(cli), errmsg);
    if (f->db.detail)
        fprintf(stderr, "  detail: %s\n", f->db.detail);
    if (f->db.hint)
        fprintf(stderr, "  hint: %s\n", f->db.hint);
    if (f->transaction)
        fprintf(stderr, "  %s was rolled back: nothing of it was applied\n", f->mg->path);
    else
        fprintf(stderr,
                "  %s runs outside a transaction: the statements before line %d stay applied, "
                "and it is not recorded; make them safe to run again (IF NOT EXISTS) and rerun\n",
                f->mg->path, f->line);
    if (!f->down && earlier)
        fprintf(stderr, "  %zu earlier migration%s of this run %s applied and recorded\n", earlier,
                earlier == 1 ? "" : "s", earlier == 1 ? "was" : "were");
    return OTAP_EEXTERNAL;
}

/* ---- new -------------------------------------------------------------- */

static void render_new(struct cli *cli, json_t *doc, FILE *out)
{
    (void)cli;
    fprintf(out, "%s\n", json_string_value(json_object_get(doc, "file")));
}

static int verb_new(struct cli *cli, const struct cli_args *args)
{
    int rc;
    if (args->argc != 2)
        return cli_usage_error(cli, "give one NAME: otap db new add_users_table");
    const struct manifest *m = cli->m;
    if (!m->database.url_var)
        return cli_error(cli, OTAP_EINVALID,
                         "%s has no 'database' section: add database: { url: DATABASE_URL }",
                         manifest_name(cli));
    char *name = migration_name_from(args->argv[1]);
    if (!name)
        return cli_usage_error(cli, "'%s' is not a migration name: use letters, digits and '_'",
                               args->argv[1]);
    struct target t = {0};
    rc = target_files(cli, &t, false);
    if (rc) {
        free(name);
        target_release(&t);
        return rc;
    }
    char version[MIGRATION_VERSION_LEN + 1];
    migration_next_version(&t.set, time(NULL), version);

    char *path = xasprintf("%s/%s_%s.sql", t.dir, version, name);
    char *shown = xasprintf("%s/%s_%s.sql", t.display, version, name);
    struct otap_err err = OTAP_ERR_INIT;
    if (fileio_mkdirs(t.dir, t.display, &err) < 0)
        rc = cli_error(cli, err.code, "%s", err.msg);
    else if (fileio_write(path, migration_template, strlen(migration_template), true, 0644, &err) <
             0)
        rc = cli_error(cli, err.code, "%s", err.msg);
    else
        cli_emit(cli, json_pack("{s:b, s:s, s:s}", "ok", 1, "file", shown, "version", version),
                 render_new);
    otap_err_release(&err);
    free(path);
    free(shown);
    free(name);
    target_release(&t);
    return rc;
}

/* ---- migrate and rollback --------------------------------------------- */

static void progress(void *ctx, const struct migration *mg, bool done, long long ms)
{
    struct cli *cli = ctx;
    if (cli->quiet || cli->json)
        return;
    if (done)
        fprintf(stderr, " %lld ms\n", ms);
    else
        fprintf(stderr, "  %s%s%s ...", mg->version, *mg->name ? "_" : "", mg->name);
}

static void render_migrate(struct cli *cli, json_t *doc, FILE *out)
{
    const char *env = json_string_value(json_object_get(doc, "environment"));
    const char *verb = json_string_value(json_object_get(doc, "verb"));
    bool dry = json_is_true(json_object_get(doc, "dry_run"));
    json_t *steps = json_object_get(doc, "steps");
    size_t n = json_array_size(steps);
    if (json_is_true(json_object_get(doc, "marker_written")))
        fprintf(out, "marked the new database as %s's (%s)\n", env,
                json_string_value(json_object_get(json_object_get(doc, "marker"), "expected")));
    if (dry) {
        size_t i;
        json_t *s;
        json_array_foreach(steps, i, s)
            fprintf(out, "would %s %s\n", verb, json_string_value(json_object_get(s, "file")));
    }
    long long total = 0;
    size_t i;
    json_t *s;
    json_array_foreach(steps, i, s) total += json_integer_value(json_object_get(s, "duration_ms"));
    const char *db = json_string_value(json_object_get(doc, "database"));
    if (!n)
        fprintf(out, "%s: nothing to %s on %s (%d applied)\n", env, verb, db,
                (int)json_integer_value(json_object_get(doc, "applied")));
    else if (dry)
        fprintf(out, "%s: %zu migration%s to %s on %s (dry run: nothing written)\n", env, n,
                n == 1 ? "" : "s", verb, db);
    else
        fprintf(out, "%s%s: %zu migration%s %s on %s in %lld ms%s\n", cli_green(cli), env, n,
                n == 1 ? "" : "s", !strcmp(verb, "apply") ? "applied" : "rolled back", db, total,
                cli_reset(cli));
}

static int run_migrate(struct cli *cli, const struct cli_args *args, bool down)
{
    struct db_opts o;
    unsigned allowed = OPT_ENV | OPT_DRY_RUN | OPT_LOCK_WAIT | (down ? 0 : OPT_TO);
    int rc = parse_opts(cli, args, allowed, &o);
    if (rc || (rc = cli_operands_at_most(cli, args, 0)))
        return rc;
    struct target t = {0};
    if ((rc = target_for_write(cli, &o, &t)))
        return rc;
    struct migrate_request rq = request_for(cli, &t, &o);
    rq.progress = progress;
    rq.progress_ctx = cli;
    struct migrate_result res;
    struct otap_err err = OTAP_ERR_INIT;
    rc = down ? migrate_down(&rq, &res, &err) : migrate_up(&rq, &res, &err);

    json_t *doc = json_pack("{s:b, s:s, s:s, s:s, s:b, s:o, s:b, s:i, s:o, s:o}", "ok", rc == 0,
                            "verb", down ? "roll back" : "apply", "environment", t.env->name,
                            "database", db_describe(t.db), "dry_run", o.dry_run, "marker",
                            marker_json(&res.marker), "marker_written", res.marker_written,
                            "applied", (int)res.plan.counts[MIGRATE_APPLIED], "steps",
                            steps_json(&res), "lint", lint_json(&res.lint));
    if (rc == OTAP_EREFUSED) {
        if (!cli->json)
            render_lint_findings(cli, json_object_get(doc, "lint"), stderr);
        char *what = xasprintf("%s %s", down ? "roll back" : "migrate", t.env->name);
        if (res.nrefusals) {
            json_object_del(doc, "ok");
            rc = refused(cli, what, res.refusals, res.nrefusals, doc);
        } else {
            json_decref(doc);
            rc = cli_error(cli, rc, "%s", err.msg ? err.msg : "refused");
        }
        free(what);
    } else if (rc < 0 && res.failed) {
        rc = report_failure(cli, &res, doc, err.msg);
    } else if (rc < 0) {
        json_decref(doc);
        rc = cli_error(cli, rc, "%s", err.msg);
    } else {
        cli_emit(cli, doc, render_migrate);
    }
    otap_err_release(&err);
    migrate_result_release(&res);
    target_release(&t);
    return rc;
}

static int verb_migrate(struct cli *cli, const struct cli_args *args)
{
    return run_migrate(cli, args, false);
}

static int verb_rollback(struct cli *cli, const struct cli_args *args)
{
    return run_migrate(cli, args, true);
}

/* ---- status and verify ------------------------------------------------ */

static json_t *plan_json(const struct migrate_plan *p)
{
    json_t *a = json_array();
    for (size_t i = 0; i < p->n; i++) {
        const struct migrate_entry *e = &p->items[i];
        const struct db_applied *ap = e->applied;
        json_array_append_new(
            a, json_pack("{s:s, s:s, s:s, s:s?, s:s?, s:s?, s:o?}", "version", e->version, "name",
                         e->file ? e->file->name : ap->name, "state", migrate_state_name(e->state),
                         "file", e->file ? e->file->path : NULL, "applied_at",
                         ap ? ap->applied_at : NULL, "applied_by", ap ? ap->applied_by : NULL,
                         "duration_ms", ap ? json_integer(ap->duration_ms) : NULL));
    }
    return a;
}

static int inspect(struct cli *cli, const char *env, struct target *t, struct migrate_result *res,
                   bool tolerate)
{
    int rc;
    if ((rc = target_env(cli, env, false, t)) || (rc = target_files(cli, t, tolerate)) ||
        (rc = target_open(cli, t, DB_READ)))
        return rc;
    struct db_opts o = {0};
    struct migrate_request rq = request_for(cli, t, &o);
    struct otap_err err = OTAP_ERR_INIT;
    rc = migrate_inspect(&rq, res, &err);
    if (rc < 0) {
        rc = cli_error(cli, rc, "%s", err.msg);
        otap_err_release(&err);
    }
    return rc;
}

static void render_status(struct cli *cli, json_t *doc, FILE *out)
{
    json_t *mk = json_object_get(doc, "marker");
    const char *found = json_string_value(json_object_get(mk, "found"));
    fprintf(out, "database  %s (%s)\n", json_string_value(json_object_get(doc, "database")),
            json_string_value(json_object_get(doc, "environment")));
    fprintf(out, "marker    %s = %s (%s; %s expects %s)\n",
            json_string_value(json_object_get(mk, "table")), found ? found : "none",
            json_string_value(json_object_get(mk, "state")),
            json_string_value(json_object_get(doc, "environment")),
            json_string_value(json_object_get(mk, "expected")));
    json_t *rows = json_object_get(doc, "migrations");
    if (json_array_size(rows))
        fprintf(out, "%-14s  %-12s  %-20s  %s\n", "VERSION", "STATE", "APPLIED AT", "NAME");
    size_t i;
    json_t *r;
    json_array_foreach(rows, i, r)
    {
        const char *st = json_string_value(json_object_get(r, "state"));
        const char *at = json_string_value(json_object_get(r, "applied_at"));
        bool bad = strcmp(st, "applied") && strcmp(st, "pending");
        fprintf(out, "%-14s  %s%-12s%s  %-20s  %s\n",
                json_string_value(json_object_get(r, "version")), bad ? cli_red(cli) : "", st,
                bad ? cli_reset(cli) : "", at ? at : "-",
                json_string_value(json_object_get(r, "name")));
    }
    json_t *diags = json_object_get(doc, "diagnostics");
    json_array_foreach(diags, i, r)
    {
        const char *sev = json_string_value(json_object_get(r, "severity"));
        long long line = json_integer_value(json_object_get(r, "line"));
        fprintf(out, "%s%-14s%s  %s", cli_red(cli), strcmp(sev, "error") ? sev : "invalid",
                cli_reset(cli), json_string_value(json_object_get(r, "file")));
        if (line)
            fprintf(out, ":%lld", line);
        fprintf(out, ": %s\n", json_string_value(json_object_get(r, "message")));
    }
    json_t *c = json_object_get(doc, "counts");
    fprintf(out, "%d applied, %d pending", (int)json_integer_value(json_object_get(c, "applied")),
            (int)json_integer_value(json_object_get(c, "pending")));
    long long bad = json_integer_value(json_object_get(doc, "invalid_files"));
    if (bad)
        fprintf(out, ", %s%lld invalid file%s%s", cli_red(cli), bad, bad == 1 ? "" : "s",
                cli_reset(cli));
    const char *extra[] = {"changed", "missing", "out_of_order"};
    for (int k = 0; k < 3; k++) {
        int v = (int)json_integer_value(json_object_get(c, extra[k]));
        if (v)
            fprintf(out, ", %s%d %s%s", cli_red(cli), v, extra[k], cli_reset(cli));
    }
    fputc('\n', out);
}

static json_t *counts_json(const struct migrate_plan *p)
{
    json_t *c = json_object();
    for (int s = 0; s < MIGRATE_STATE_COUNT; s++)
        json_object_set_new(c, migrate_state_name((enum migrate_state)s),
                            json_integer((json_int_t)p->counts[s]));
    return c;
}

static int verb_status(struct cli *cli, const struct cli_args *args)
{
    struct db_opts o;
    int rc = parse_opts(cli, args, OPT_ENV, &o);
    if (rc || (rc = cli_operands_at_most(cli, args, 0)))
        return rc;
    struct target t = {0};
    struct migrate_result res = {0};
    rc = inspect(cli, o.env, &t, &res, true);
    if (rc == 0) {
        /* a file that does not parse is listed with the rest, and the status is not ok */
        size_t bad = problem_files(&t);
        json_t *doc =
            json_pack("{s:b, s:s, s:s, s:o, s:o, s:o}", "ok", bad == 0, "environment", t.env->name,
                      "database", db_describe(t.db), "marker", marker_json(&res.marker), "counts",
                      counts_json(&res.plan), "migrations", plan_json(&res.plan));
        if (t.have_problems) {
            json_object_set_new(doc, "invalid_files", json_integer((json_int_t)bad));
            json_object_set_new(doc, "diagnostics", cli_diags_json(&t.file_problems));
        }
        cli_emit(cli, doc, render_status);
        rc = bad ? OTAP_EINVALID : 0;
    }
    migrate_result_release(&res);
    target_release(&t);
    return rc;
}

static void render_verify(struct cli *cli, json_t *doc, FILE *out)
{
    json_t *problems = json_object_get(doc, "problems");
    size_t i;
    json_t *p;
    json_array_foreach(problems, i, p)
        fprintf(out, "%sdrift:%s %s\n", cli_red(cli), cli_reset(cli), json_string_value(p));
    size_t n = json_array_size(problems);
    json_t *c = json_object_get(doc, "counts");
    if (n)
        fprintf(out, "%s: %zu problem%s; the drift gate is closed\n",
                json_string_value(json_object_get(doc, "environment")), n, n == 1 ? "" : "s");
    else if (!cli->quiet)
        fprintf(out, "%s%s: %d applied migration%s match their files, %d pending%s%s\n",
                cli_green(cli), json_string_value(json_object_get(doc, "environment")),
                (int)json_integer_value(json_object_get(c, "applied")),
                json_integer_value(json_object_get(c, "applied")) == 1 ? "" : "s",
                (int)json_integer_value(json_object_get(c, "pending")),
                json_is_true(json_object_get(doc, "schema_checked")) ? "; the schema matches" : "",
                cli_reset(cli));
}

static int verb_verify(struct cli *cli, const struct cli_args *args)
{
    struct db_opts o;
    int rc = parse_opts(cli, args, OPT_ENV | OPT_SCHEMA, &o);
    if (rc || (rc = cli_operands_at_most(cli, args, 0)))
        return rc;
    const struct manifest *m = cli->m;
    if (o.schema && !m->database.schema)
        return cli_error(cli, OTAP_EINVALID,
                         "%s names no schema file: add 'schema: db/schema.sql' to 'database'",
                         manifest_name(cli));
    struct target t = {0};
    struct migrate_result res = {0};
    rc = inspect(cli, o.env, &t, &res, false);
    if (rc) {
        migrate_result_release(&res);
        target_release(&t);
        return rc;
    }
    json_t *problems = json_array();
    for (size_t i = 0; i < res.plan.n; i++) {
        char *msg = migrate_drift_message(&res.plan.items[i]);
        if (msg)
            json_array_append_new(problems, json_string(msg));
        free(msg);
    }
    if (o.schema) {
        char *live = NULL;
        struct otap_err err = OTAP_ERR_INIT;
        struct strbuf want = STRBUF_INIT;
        char *path = xasprintf("%s/%s", m->dir, m->database.schema);
        if (db_dump_schema(t.db, &live, &err) < 0) {
            rc = cli_error(cli, err.code, "%s", err.msg);
        } else if (strbuf_read_file(&want, path, 1u << 30) < 0) {
            json_array_append_new(problems,
                                  json_sprintf("cannot read the schema file '%s': %s (write it "
                                               "with 'otap db dump-schema')",
                                               m->database.schema, strerror(errno)));
        } else {
            int line = db_schema_first_difference(want.buf, live);
            if (line)
                json_array_append_new(problems,
                                      json_sprintf("the live schema of %s differs from %s, "
                                                   "first at line %d",
                                                   t.env->name, m->database.schema, line));
        }
        free(live);
        free(path);
        strbuf_release(&want);
        otap_err_release(&err);
    }
    if (rc == 0) {
        bool ok = json_array_size(problems) == 0;
        cli_emit(cli,
                 json_pack("{s:b, s:s, s:s, s:b, s:o, s:O}", "ok", ok, "environment", t.env->name,
                           "database", db_describe(t.db), "schema_checked", o.schema, "counts",
                           counts_json(&res.plan), "problems", problems),
                 render_verify);
        rc = ok ? 0 : OTAP_EFOUND;
    }
    json_decref(problems);
    migrate_result_release(&res);
    target_release(&t);
    return rc;
}

/* ---- dump-schema ------------------------------------------------------ */

static void render_dump_schema(struct cli *cli, json_t *doc, FILE *out)
{
    if (!cli->quiet)
        fprintf(out, "wrote the schema of %s to %s\n",
                json_string_value(json_object_get(doc, "environment")),
                json_string_value(json_object_get(doc, "file")));
}

static int verb_dump_schema(struct cli *cli, const struct cli_args *args)
{
    struct db_opts o;
    int rc = parse_opts(cli, args, OPT_ENV | OPT_OUTPUT, &o);
    if (rc || (rc = cli_operands_at_most(cli, args, 0)))
        return rc;
    const struct manifest *m = cli->m;
    if (!o.output && !m->database.schema)
        return cli_error(cli, OTAP_EINVALID,
                         "%s names no schema file: add 'schema: db/schema.sql' to 'database' "
                         "or give --output FILE",
                         manifest_name(cli));
    struct target t = {0};
    if ((rc = target_env(cli, o.env, false, &t)) || (rc = target_open(cli, &t, DB_READ))) {
        target_release(&t);
        return rc;
    }
    char *live = NULL;
    struct otap_err err = OTAP_ERR_INIT;
    char *path = o.output ? xstrdup(o.output) : xasprintf("%s/%s", m->dir, m->database.schema);
    const char *shown = o.output ? o.output : m->database.schema;
    if (db_dump_schema(t.db, &live, &err) < 0 ||
        fileio_write(path, live, strlen(live), false, 0644, &err) < 0) {
        rc = cli_error(cli, err.code, "%s", err.msg);
    } else {
        cli_emit(cli,
                 json_pack("{s:b, s:s, s:s, s:I}", "ok", 1, "environment", t.env->name, "file",
                           shown, "bytes", (json_int_t)strlen(live)),
                 render_dump_schema);
    }
    otap_err_release(&err);
    free(live);
    free(path);
    target_release(&t);
    return rc;
}

/* ---- marker ----------------------------------------------------------- */

static void render_marker(struct cli *cli, json_t *doc, FILE *out)
{
    json_t *mk = json_object_get(doc, "marker");
    const char *env = json_string_value(json_object_get(doc, "environment"));
    const char *found = json_string_value(json_object_get(mk, "found"));
    if (json_is_true(json_object_get(doc, "written")))
        fprintf(out, "%s%s: wrote the marker %s = %s%s\n", cli_green(cli), env,
                json_string_value(json_object_get(mk, "table")),
                json_string_value(json_object_get(mk, "expected")), cli_reset(cli));
    else if (json_is_true(json_object_get(doc, "ok")))
        fprintf(out, "%s%s: the marker %s says %s, as expected%s\n", cli_green(cli), env,
                json_string_value(json_object_get(mk, "table")), found, cli_reset(cli));
    else
        fprintf(out, "%s: %s\n", env, json_string_value(json_object_get(doc, "problem")));
}

static int run_marker(struct cli *cli, const struct cli_args *args, bool init)
{
    struct db_opts o;
    int rc = parse_opts(cli, args, OPT_ENV | (init ? OPT_LOCK_WAIT : 0), &o);
    if (rc || (rc = cli_operands_at_most(cli, args, 0)))
        return rc;
    struct target t = {0};
    if ((rc = target_env(cli, o.env, init, &t)) ||
        (rc = target_open(cli, &t, init ? DB_WRITE : DB_READ))) {
        target_release(&t);
        return rc;
    }
    struct migrate_request rq = request_for(cli, &t, &o);
    struct migrate_result res = {0};
    struct otap_err err = OTAP_ERR_INIT;
    if (init) {
        rc = migrate_marker_init(&rq, &res, &err);
        json_t *doc = json_pack("{s:b, s:s, s:s, s:o, s:b}", "ok", rc == 0, "environment",
                                t.env->name, "database", db_describe(t.db), "marker",
                                marker_json(&res.marker), "written", res.marker_written);
        if (rc == OTAP_EREFUSED && res.nrefusals) {
            char *what = xasprintf("mark the database of %s", t.env->name);
            json_object_del(doc, "ok");
            rc = refused(cli, what, res.refusals, res.nrefusals, doc);
            free(what);
        } else if (rc < 0) {
            json_decref(doc);
            rc = cli_error(cli, rc, "%s", err.msg);
        } else {
            if (res.marker.state == MARKER_MATCH)
                json_object_set_new(doc, "written", json_false());
            cli_emit(cli, doc, render_marker);
        }
    } else {
        marker_inspect(t.db, cli->m->database.marker_table, t.env->marker, &res.marker);
        char *why = marker_refusal(&res.marker, t.env->name);
        if (res.marker.state == MARKER_FRESH) {
            free(why);
            why = xasprintf("the database has no marker table %s (it has no tables either: "
                            "'otap db migrate' or 'otap db marker init' will mark it)",
                            res.marker.table);
        }
        json_t *doc = json_pack("{s:b, s:s, s:s, s:o, s:s?}", "ok", why == NULL, "environment",
                                t.env->name, "database", db_describe(t.db), "marker",
                                marker_json(&res.marker), "problem", why);
        cli_emit(cli, doc, render_marker);
        /* a marker that cannot prove the environment refuses, like every write would */
        rc = why ? OTAP_EREFUSED : 0;
        free(why);
    }
    otap_err_release(&err);
    migrate_result_release(&res);
    target_release(&t);
    return rc;
}

/* ---- lint ------------------------------------------------------------- */

static void render_lint(struct cli *cli, json_t *doc, FILE *out)
{
    json_t *findings = json_object_get(doc, "findings");
    render_lint_findings(cli, findings, out);
    int files = (int)json_integer_value(json_object_get(doc, "files"));
    int open = (int)json_integer_value(json_object_get(doc, "unacknowledged"));
    int invalid = (int)json_integer_value(json_object_get(doc, "invalid_files"));
    json_t *skipped = json_object_get(doc, "skipped");
    int ack = (int)json_array_size(findings) - open;
    size_t i;
    json_t *sk;
    json_array_foreach(skipped, i, sk)
        fprintf(out, "skipped %s: not SQL (lint its SQL: 'alembic upgrade --sql' writes it)\n",
                json_string_value(sk));
    bool clean = !open && !invalid && !json_array_size(skipped);
    if (open)
        fprintf(out, "%d finding%s to fix or acknowledge in %d file%s", open, open == 1 ? "" : "s",
                files, files == 1 ? "" : "s");
    else if (clean && !cli->quiet)
        fprintf(out, "%s%d file%s: no unsafe statement%s", cli_green(cli), files,
                files == 1 ? "" : "s", cli_reset(cli));
    else if (!clean && !files)
        fprintf(out, "no file linted");
    else if (!clean)
        fprintf(out, "%d file%s linted: no unsafe statement", files, files == 1 ? "" : "s");
    if (invalid)
        fprintf(out, "; %s%d file%s could not be read or parsed%s", cli_red(cli), invalid,
                invalid == 1 ? "" : "s", cli_reset(cli));
    if (json_array_size(skipped))
        fprintf(out, "; %zu skipped", json_array_size(skipped));
    if (open || !clean || !cli->quiet)
        fprintf(out, ack ? " (%d acknowledged)\n" : "\n", ack);
}

/* Reads the files named on the command line: SQL ones parsed plain, others skipped. */
static void lint_read_given(int argc, char **argv, struct migration_set *given,
                            struct diag_list *dl, json_t *skipped)
{
    for (int i = 1; i < argc; i++) {
        size_t n = strlen(argv[i]);
        if (n < 4 || strcasecmp(argv[i] + n - 4, ".sql")) {
            json_array_append_new(skipped, json_string(argv[i]));
            continue;
        }
        struct strbuf sb = STRBUF_INIT;
        if (strbuf_read_file(&sb, argv[i], MIGRATION_MAX_BYTES) < 0) {
            diag_add_at(dl, DIAG_ERROR, argv[i], 0, 0, "cannot read: %s",
                        errno == EFBIG ? "larger than 64 MiB" : strerror(errno));
            strbuf_release(&sb);
            continue;
        }
        const char *base = strrchr(argv[i], '/');
        size_t len;
        char *text = strbuf_detach(&sb, &len);
        struct migration mg;
        if (migration_parse_plain_take(&mg, base ? base + 1 : argv[i], argv[i], text, len, dl) == 0)
            *XPUSH(&given->items, &given->n, &given->alloc) = mg;
        else
            migration_release(&mg);
    }
}

/*
 * Lints what parsed, and lists with it what did not and what was passed
 * over: exit 3 when a file could not be parsed, 4 when a file given was
 * skipped (lint cannot vouch for it), else 1 for findings.
 */
static int verb_lint(struct cli *cli, const struct cli_args *args)
{
    int rc = 0;
    struct target t = {0};
    struct diag_list dl;
    diag_list_init(&dl, "");
    struct migration_set given = {0};
    const struct migration_set *set;
    json_t *skipped = json_array();
    if (args->argc > 1) {
        lint_read_given(args->argc, args->argv, &given, &dl, skipped);
        set = &given;
    } else if (!cli->m || !cli->m->database.url_var) {
        diag_list_release(&dl);
        json_decref(skipped);
        return cli_error(cli, OTAP_EINVALID, "%s: name the files to lint",
                         cli->m ? "the manifest has no 'database' section"
                                : "no otap.yaml here or above");
    } else {
        if ((rc = target_files(cli, &t, true))) {
            diag_list_release(&dl);
            json_decref(skipped);
            target_release(&t);
            return rc;
        }
        set = &t.set;
        if (t.have_problems) {
            diag_list_release(&dl);
            dl = t.file_problems;
            t.have_problems = false;
        }
    }
    size_t invalid = 0;
    for (size_t i = 0; i < dl.n; i++) {
        bool seen = false;
        for (size_t k = 0; k < i && !seen; k++)
            seen = dl.items[k].severity == DIAG_ERROR &&
                   !strcmp(diag_file(&dl, &dl.items[k]), diag_file(&dl, &dl.items[i]));
        invalid += dl.items[i].severity == DIAG_ERROR && !seen;
    }
    if (!cli->json && (invalid || !cli->quiet))
        cli_print_diags(cli, &dl, stderr);
    struct dblint_report rep = {0};
    for (size_t i = 0; i < set->n; i++)
        dblint_migration(&set->items[i], &rep);
    size_t open = dblint_unacknowledged(&rep);
    size_t nskipped = json_array_size(skipped);
    cli_emit(cli,
             json_pack("{s:b, s:i, s:i, s:i, s:o, s:o, s:o}", "ok",
                       open == 0 && !invalid && !nskipped, "files", (int)set->n, "unacknowledged",
                       (int)open, "invalid_files", (int)invalid, "skipped", skipped, "findings",
                       lint_json(&rep), "diagnostics", cli_diags_json(&dl)),
             render_lint);
    rc = invalid ? OTAP_EINVALID : nskipped ? OTAP_EREFUSED : open ? OTAP_EFOUND : 0;
    dblint_report_release(&rep);
    migration_set_release(&given);
    diag_list_release(&dl);
    target_release(&t);
    return rc;
}

static int verb_marker_init(struct cli *cli, const struct cli_args *args)
{
    return run_marker(cli, args, true);
}

static int verb_marker_check(struct cli *cli, const struct cli_args *args)
{
    return run_marker(cli, args, false);
}

#define ENV_OPT                                                                                    \
    {                                                                                              \
        "env", 'e', "ENV", "the environment whose database this is"                                \
    }
#define LOCK_WAIT_OPT                                                                              \
    {                                                                                              \
        "lock-wait", 0, "DURATION", "wait this long for another runner's lock (default 60s)"       \
    }

/* ---- guard: the team's own migration tool, behind otap's checks --------- */

/* CMD's lines leave through otap's redacting streams; with --json its stdout goes to stderr */
static void guard_line(void *ctx, bool from_stderr, const char *line, size_t len)
{
    struct cli *cli = ctx;
    fprintf(from_stderr || cli->json ? stderr : stdout, "%.*s\n", (int)len, line);
}

/* The child's environment: the contract's, with the URL in the tool's own scheme. */
static char **guard_env(struct cli *cli, struct target *t)
{
    char **envp = contract_child_env(&t->ev, environ);
    const char *scheme = cli->m->database.tool_scheme;
    size_t klen = strlen(cli->m->database.url_var);
    for (char **e = envp; scheme && *e; e++) {
        if (strncmp(*e, cli->m->database.url_var, klen) || (*e)[klen] != '=')
            continue;
        char *url = db_url_with_scheme(*e + klen + 1, scheme);
        if (url) {
            free(*e);
            *e = xasprintf("%s=%s", cli->m->database.url_var, url);
            free(url);
        }
    }
    return envp;
}

/* Appends one ledger entry (details stolen); returns its sequence number, 0 when it failed. */
static long long ledger_note(struct cli *cli, struct target *t, const char *action,
                             const char *subject, json_t *details)
{
    struct store *s;
    if (cli_store_open(cli, &s) < 0) {
        json_decref(details);
        return 0;
    }
    struct otap_err err = OTAP_ERR_INIT;
    long long seq = 0;
    int rc = store_begin(s, &err);
    if (rc == 0)
        rc = ledger_append(s, t->actor, action, t->env->name, subject, details, &seq, &err);
    else
        json_decref(details);
    rc = store_end(s, rc, &err);
    if (rc < 0) {
        fprintf(stderr, "%swarning:%s the ledger did not record %s: %s\n", cli_yellow(cli),
                cli_reset(cli), action, err.msg ? err.msg : "store failed");
        seq = 0;
    }
    otap_err_release(&err);
    store_close(s);
    return seq;
}

/* The ledger's migrate.external entry; returns its sequence number, or 0 when it failed. */
static long long guard_record(struct cli *cli, struct target *t, char **cmd, int status,
                              long long ms)
{
    const char *slash = strrchr(cmd[0], '/');
    const char *tool = slash ? slash + 1 : cmd[0];
    json_t *argv = json_array();
    for (char **a = cmd + 1; *a; a++)
        json_array_append_new(argv, json_string(*a));
    json_t *details =
        json_pack("{s:s, s:o, s:s, s:I, s:s?}", "tool", tool, "args", argv, "database",
                  db_describe(t->db), "duration_ms", (json_int_t)ms, "marker", t->env->marker);
    if (WIFEXITED(status))
        json_object_set_new(details, "exit_status", json_integer(WEXITSTATUS(status)));
    else if (WIFSIGNALED(status))
        json_object_set_new(details, "signal", json_integer(WTERMSIG(status)));
    return ledger_note(cli, t, "migrate.external", tool, details);
}

static void render_guard(struct cli *cli, json_t *doc, FILE *out)
{
    const char *env = json_string_value(json_object_get(doc, "environment"));
    const char *tool = json_string_value(json_object_get(doc, "tool"));
    long long ms = json_integer_value(json_object_get(doc, "duration_ms"));
    json_t *code = json_object_get(doc, "exit_status");
    if (json_is_true(json_object_get(doc, "ok")))
        fprintf(out, "%s%s: %s finished in %lld ms (ledger #%lld)%s\n", cli_green(cli), env, tool,
                ms, (long long)json_integer_value(json_object_get(doc, "ledger_seq")),
                cli_reset(cli));
    else if (code)
        fprintf(out, "%s%s: %s failed with exit status %lld after %lld ms%s\n", cli_red(cli), env,
                tool, (long long)json_integer_value(code), ms, cli_reset(cli));
    else
        fprintf(out, "%s%s: %s was killed by signal %lld after %lld ms%s\n", cli_red(cli), env,
                tool, (long long)json_integer_value(json_object_get(doc, "signal")), ms,
                cli_reset(cli));
}

static int verb_guard(struct cli *cli, const struct cli_args *args)
{
    struct db_opts o;
    int rc = parse_opts(cli, args, OPT_ENV | OPT_LOCK_WAIT, &o);
    if (rc)
        return rc;
    /* without '--', otap's own options would be taken from CMD's arguments */
    if (args->argc > 1 && args->dashdash != 1)
        return cli_usage_error(cli, "put '--' before the command: otap db guard --env %s -- CMD",
                               o.env);
    if (args->argc < 2)
        return cli_usage_error(cli, "nothing to run: otap db guard --env %s -- CMD [ARGS...]",
                               o.env);
    char **cmd = args->argv + 1;
    struct target t = {0};
    if ((rc = target_env(cli, o.env, true, &t)) || (rc = target_open(cli, &t, DB_WRITE))) {
        target_release(&t);
        return rc;
    }
    struct migrate_request rq = request_for(cli, &t, &o);
    struct migrate_result res;
    struct otap_err err = OTAP_ERR_INIT;
    rc = migrate_guard_begin(&rq, &res, &err);
    if (rc == OTAP_EREFUSED) {
        char *what = xasprintf("run '%s' on the database of %s", cmd[0], t.env->name);
        rc = refused(cli, what, res.refusals, res.nrefusals,
                     json_pack("{s:o, s:s}", "marker", marker_json(&res.marker), "database",
                               db_describe(t.db)));
        free(what);
    } else if (rc < 0) {
        rc = cli_error(cli, rc, "%s", err.msg);
    } else {
        if (!cli->quiet && !cli->json)
            fprintf(stderr, "%s%s's database %s proven (marker %s); running %s under otap's lock\n",
                    res.marker_written ? "marked the new database; " : "", t.env->name,
                    db_describe(t.db), t.env->marker ? t.env->marker : "-", cmd[0]);
        char **envp = guard_env(cli, &t);
        long long t0 = monotime_ms();
        int status = 0;
        rc = proc_relay(cmd, envp, NULL, guard_line, cli, &status, &err);
        long long ms = monotime_ms() - t0;
        contract_child_env_free(envp);
        /* the lock is held until the tool is done, so no otap runner interleaves */
        migrate_guard_end(&rq);
        if (rc < 0) {
            rc = cli_error(cli, rc, "%s", err.msg);
        } else {
            long long seq = guard_record(cli, &t, cmd, status, ms);
            const char *slash = strrchr(cmd[0], '/');
            json_t *doc =
                json_pack("{s:b, s:s, s:s, s:s, s:I, s:I}", "ok",
                          WIFEXITED(status) && WEXITSTATUS(status) == 0, "environment", t.env->name,
                          "tool", slash ? slash + 1 : cmd[0], "database", db_describe(t.db),
                          "duration_ms", (json_int_t)ms, "ledger_seq", (json_int_t)seq);
            if (WIFEXITED(status))
                json_object_set_new(doc, "exit_status", json_integer(WEXITSTATUS(status)));
            else if (WIFSIGNALED(status))
                json_object_set_new(doc, "signal", json_integer(WTERMSIG(status)));
            json_object_set_new(doc, "marker_written", json_boolean(res.marker_written));
            cli_emit(cli, doc, render_guard);
            /* otap exits with the tool's own status, as a wrapper should */
            cli->child_exit = WIFEXITED(status)     ? WEXITSTATUS(status)
                              : WIFSIGNALED(status) ? 128 + WTERMSIG(status)
                                                    : 1;
        }
    }
    otap_err_release(&err);
    migrate_result_release(&res);
    target_release(&t);
    return rc;
}

/* ---- baseline: take over a database another tool migrated -------------- */

static void render_baseline(struct cli *cli, json_t *doc, FILE *out)
{
    const char *env = json_string_value(json_object_get(doc, "environment"));
    json_t *versions = json_object_get(doc, "versions");
    size_t n = json_array_size(versions);
    bool dry = json_is_true(json_object_get(doc, "dry_run"));
    long long checked = json_integer_value(json_object_get(doc, "objects_checked"));
    size_t i;
    json_t *v;
    json_array_foreach(versions, i, v) fprintf(out, "%s %s\n", dry ? "would record" : "recorded",
                                               json_string_value(json_object_get(v, "file")));
    fprintf(out, "%s%s: %zu migration%s %s as applied on %s (%s; %lld object%s found)%s%s\n",
            dry ? "" : cli_green(cli), env, n, n == 1 ? "" : "s", dry ? "to record" : "recorded",
            json_string_value(json_object_get(doc, "database")),
            json_is_true(json_object_get(doc, "from_dbmate"))
                ? "the versions dbmate's schema_migrations holds"
                : "the files in the folder",
            checked, checked == 1 ? "" : "s", dry ? " (dry run: nothing written)" : "",
            dry ? "" : cli_reset(cli));
}

static int verb_baseline(struct cli *cli, const struct cli_args *args)
{
    struct db_opts o;
    int rc = parse_opts(cli, args, OPT_ENV | OPT_DRY_RUN | OPT_TO | OPT_LOCK_WAIT, &o);
    if (rc || (rc = cli_operands_at_most(cli, args, 0)))
        return rc;
    struct target t = {0};
    if ((rc = target_for_write(cli, &o, &t)))
        return rc;
    struct migrate_request rq = request_for(cli, &t, &o);
    struct migrate_result res;
    struct otap_err err = OTAP_ERR_INIT;
    bool from_dbmate = false;
    size_t checked = 0;
    rc = migrate_baseline(&rq, &res, &from_dbmate, &checked, &err);
    if (rc == OTAP_EREFUSED) {
        char *what = xasprintf("baseline %s", t.env->name);
        rc = refused(cli, what, res.refusals, res.nrefusals,
                     json_pack("{s:o, s:b, s:I}", "marker", marker_json(&res.marker), "from_dbmate",
                               from_dbmate, "objects_checked", (json_int_t)checked));
        free(what);
    } else if (rc < 0) {
        rc = cli_error(cli, rc, "%s", err.msg);
    } else {
        json_t *versions = json_array();
        json_t *recorded = json_array();
        for (size_t i = 0; i < res.nsteps; i++) {
            const struct migration *mg = res.steps[i].mg;
            json_array_append_new(versions,
                                  json_pack("{s:s, s:s, s:s, s:s}", "version", mg->version, "name",
                                            mg->name, "file", mg->path, "checksum", mg->checksum));
            json_array_append_new(recorded, json_string(mg->version));
        }
        long long seq = 0;
        if (!o.dry_run)
            seq = ledger_note(cli, &t, "migrate.baseline", db_describe(t.db),
                              json_pack("{s:o, s:b, s:I}", "versions", recorded, "from_dbmate",
                                        from_dbmate, "objects_checked", (json_int_t)checked));
        else
            json_decref(recorded);
        cli_emit(cli,
                 json_pack("{s:b, s:s, s:s, s:b, s:b, s:I, s:o, s:I}", "ok", 1, "environment",
                           t.env->name, "database", db_describe(t.db), "dry_run", o.dry_run,
                           "from_dbmate", from_dbmate, "objects_checked", (json_int_t)checked,
                           "versions", versions, "ledger_seq", (json_int_t)seq),
                 render_baseline);
    }
    otap_err_release(&err);
    migrate_result_release(&res);
    target_release(&t);
    return rc;
}

static const struct cmd marker_verbs[] = {
    {
        .name = "init",
        .summary = "write ENV's marker into its database",
        .synopsis = "--env ENV [--lock-wait DURATION]",
        .opts = (const struct cli_opt[]){ENV_OPT, LOCK_WAIT_OPT, {0}},
        .run = verb_marker_init,
    },
    {
        .name = "check",
        .summary = "exit 4 unless the marker proves the database is ENV's",
        .synopsis = "--env ENV",
        .opts = (const struct cli_opt[]){ENV_OPT, {0}},
        .run = verb_marker_check,
    },
    {0},
};

static const struct cmd verbs[] = {
    {
        .name = "new",
        .summary = "create the next migration file (a UTC timestamp, after the newest)",
        .synopsis = "NAME",
        .run = verb_new,
    },
    {
        .name = "migrate",
        .summary = "apply pending migrations, in order, up to --to when given",
        .synopsis = "--env ENV [--dry-run] [--to VERSION] [--lock-wait DURATION]",
        .opts =
            (const struct cli_opt[]){
                ENV_OPT,
                {"dry-run", 'n', NULL, "check and list what would run; write nothing"},
                {"to", 0, "VERSION", "stop after this migration"},
                LOCK_WAIT_OPT,
                {0},
            },
        .run = verb_migrate,
    },
    {
        .name = "rollback",
        .summary = "run the down section of the last applied migration",
        .synopsis = "--env ENV [--dry-run] [--lock-wait DURATION]",
        .opts =
            (const struct cli_opt[]){
                ENV_OPT,
                {"dry-run", 'n', NULL, "check and say what would run; write nothing"},
                LOCK_WAIT_OPT,
                {0},
            },
        .run = verb_rollback,
    },
    {
        .name = "status",
        .summary = "every migration: applied, pending, changed, missing, out_of_order",
        .synopsis = "--env ENV",
        .opts = (const struct cli_opt[]){ENV_OPT, {0}},
        .run = verb_status,
    },
    {
        .name = "verify",
        .summary = "the drift gate: exit 1 on a changed, missing or out-of-order migration",
        .synopsis = "--env ENV [--schema]",
        .opts =
            (const struct cli_opt[]){
                ENV_OPT,
                {"schema", 0, NULL, "also compare the live schema with database.schema"},
                {0},
            },
        .run = verb_verify,
    },
    {
        .name = "dump-schema",
        .summary = "write the live schema (pg_dump --schema-only) to database.schema",
        .synopsis = "--env ENV [--output FILE]",
        .opts =
            (const struct cli_opt[]){
                ENV_OPT,
                {"output", 'o', "FILE", "write here instead of database.schema"},
                {0},
            },
        .run = verb_dump_schema,
    },
    {
        .name = "marker",
        .summary = "init: write ENV's marker; check: exit 4 unless it proves ENV",
        .verbs = marker_verbs,
    },
    {
        .name = "baseline",
        .summary = "take over a database another tool migrated: record its files as applied",
        .synopsis = "--env ENV [--to VERSION] [--dry-run] [--lock-wait DURATION]",
        .opts =
            (const struct cli_opt[]){
                ENV_OPT,
                {"to", 0, "VERSION", "record the files up to this version only"},
                {"dry-run", 'n', NULL, "check and list what would be recorded; write nothing"},
                LOCK_WAIT_OPT,
                {0},
            },
        .about = "Records migration files as applied (by 'baseline', with their checksums)\n"
                 "without running them: the versions dbmate's schema_migrations holds when the\n"
                 "database has that table, else every file up to --to. First the checks\n"
                 "'db migrate' makes (the marker: 'otap db marker init' marks a database\n"
                 "another tool created; the hard lock on a protected ENV), then every table,\n"
                 "index, view, sequence, type and added column those files leave behind must\n"
                 "exist. Anything missing: exit 4, each listed, nothing recorded. The ledger\n"
                 "records migrate.baseline.\n",
        .run = verb_baseline,
    },
    {
        .name = "guard",
        .summary = "run your own migration tool (alembic, dbmate, sqitch...) behind otap's checks",
        .synopsis = "--env ENV [--lock-wait DURATION] -- CMD [ARGS...]",
        .opts = (const struct cli_opt[]){ENV_OPT, LOCK_WAIT_OPT, {0}},
        .about = "Before CMD starts, what 'db migrate' checks before it writes: ENV's whole\n"
                 "config contract, the marker proving the database is ENV's, and on a\n"
                 "protected ENV the whole hard lock. Then otap holds its migration lock while\n"
                 "CMD runs with ENV's canonical config (the database URL in database.tool_scheme\n"
                 "when the manifest sets one: postgresql+asyncpg, postgres, db:pg), relays its\n"
                 "output through the redactor, and records migrate.external in the ledger\n"
                 "(tool, arguments, exit status, duration, actor).\n",
        .exits = "CMD's own status when it ran; 2 usage; 3 invalid manifest or URL; 4 a check\n"
                 "      failed and CMD was never started (every unmet condition listed);\n"
                 "      5 CMD cannot be executed or the database cannot be reached",
        .flags = CMD_OPTIONS_FIRST,
        .run = verb_guard,
    },
    {
        .name = "lint",
        .summary = "unsafe statements in the up sections (all migrations, or FILEs)",
        .synopsis = "[FILE...]",
        .flags = CMD_MANIFEST_OPTIONAL,
        .about = "FILEs need no otap.yaml: dbmate files, or any .sql file (Flyway's V1__x.sql,\n"
                 "sqitch's deploy/*.sql, 'alembic upgrade --sql' output), a file without\n"
                 "'-- migrate:' markers being one up section. Other files are skipped and\n"
                 "named (exit 4: lint cannot vouch for them); a file that does not parse is\n"
                 "listed with the rest (exit 3).\n"
                 "Acknowledge a finding with '-- otap:allow RULE REASON' on or before it.\n"
                 "Rules: add-column-not-null, alter-column-type, cluster,\n"
                 "concurrently-in-transaction, constraint-not-valid, drop-column,\n"
                 "drop-table, index-not-concurrent, lock-table, missing-lock-timeout,\n"
                 "rename-column, rename-table, set-not-null, vacuum-full\n",
        .run = verb_lint,
    },
    {0},
};

const struct cmd cmd_db = {
    .name = "db",
    .summary = "migrations, the environment marker, the drift gate and unsafe-migration lint",
    .about = "Migrations are database.migrations/YYYYMMDDHHMMSS_name.sql files with a\n"
             "'-- migrate:up' section and an optional '-- migrate:down' section (dbmate's\n"
             "format); 'transaction:false' after a marker runs that section outside a\n"
             "transaction (CREATE INDEX CONCURRENTLY). Each migration is applied with its\n"
             "record row (version, name, SHA-256, when, by whom, how long) in one transaction.\n"
             "\n"
             "Before migrate, rollback or marker init write anything, under an advisory lock:\n"
             "  - the config contract of ENV holds and the database URL is set\n"
             "  - the marker table (database.marker_table, default bk_env_marker) says ENV's\n"
             "    marker; a new database without any table is marked by the first migrate\n"
             "  - no applied migration changed or vanished, no pending one is older than\n"
             "    the newest applied one\n"
             "  - protected ENV: CONFIRM_PROD_MIGRATE=YES in the process environment,\n"
             "    ENVIRONMENT (or an alias) set to ENV, NODE_ENV and VERCEL_ENV production\n"
             "    when present, the marker already written, and no unacknowledged lint\n"
             "    finding in the pending migrations; rollback is refused (forward fixes only)\n"
             "Every condition that fails is listed, and nothing is written.\n"
             "\n"
             "Database URLs: postgresql://... or sqlite:PATH (relative to the project root).\n",
    .exits = "0 ok; 1 lint findings, drift, or nothing to roll back; 2 usage; 3 invalid\n"
             "      manifest or migration files; 4 refused (every unmet condition is listed);\n"
             "      5 the database failed (unreachable, lock wait over, or a statement failed:\n"
             "      its file and line are shown and the migration was rolled back)",
    .flags = CMD_NEEDS_MANIFEST | CMD_REPORTS_JSON,
    .verbs = verbs,
};
