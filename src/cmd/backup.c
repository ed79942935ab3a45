/*
 * otap backup: backups of an environment's database, and the drills that
 * prove they restore (src/lib/backup/, docs/backup.md).
 *
 *   create --env E              pg_dump | zstd [| AES-256-GCM] | SHA-256, streamed to the target
 *   list --env E                the catalog, newest first, and unfinished backups
 *   verify --env E [--id ID]    read it back whole: size, checksum, pg_restore --list
 *   prune --env E [--apply]     retention (keep_days, keep_last); a dry run without --apply
 *   restore --env E --from ID   into E's own database; its marker must be E's
 *   drill --env E [--from ID] [--into URL] | drill --due
 *
 * The target's credentials and the encryption key are contract variables
 * the manifest names; their values come from the environment's config and
 * never appear in output, logs or the ledger.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "backup/backup.h"
#include "backup/codec.h"
#include "base/actor.h"
#include "base/xalloc.h"
#include "config/contract.h"
#include "db/hardlock.h"
#include "state/store.h"
#include "version.h"
#include "base/banned.h"

extern char **environ;

/* Everything one environment's backups need, resolved from the manifest and its config. */
struct setup {
    struct bk_ctx c;
    struct contract_eval ev;
    bool have_ev;
    struct bk_target *target;
    struct store *store;
    unsigned char key[BK_KEY_LEN];
    char *actor;
};

static void setup_release(struct setup *s)
{
    bk_target_close(s->target);
    if (s->store)
        store_close(s->store);
    if (s->have_ev)
        contract_eval_release(&s->ev);
    explicit_bzero(s->key, sizeof s->key);
    free(s->actor);
    memset(s, 0, sizeof(*s));
}

static const char *value_of(struct setup *s, const char *var)
{
    if (!var)
        return NULL;
    const struct contract_value *v = contract_value_of(&s->ev, var);
    return v && v->value && *v->value ? v->value : NULL;
}

static void progress(void *ctx, long long raw, long long stored, double secs, bool done)
{
    struct cli *cli = ctx;
    if (cli->quiet || cli->json || !isatty(2))
        return;
    double mib = (double)raw / (1 << 20);
    char a[32], b[32];
    if (done)
        fprintf(stderr, "\r\033[Kbackup: %s dumped, %s stored, %.1f s\n", cli_bytes(a, raw),
                cli_bytes(b, stored), secs);
    else
        fprintf(stderr, "\r\033[Kbackup: %s dumped, %.1f MiB/s, %.1f s", cli_bytes(a, raw),
                secs > 0 ? mib / secs : 0, secs);
}

/*
 * Resolves --env: its backups: section, its config (the credentials and
 * key it names; the database URL when needs_db), the target and the store.
 */
static int setup_env(struct cli *cli, const struct cli_args *args, bool needs_db, struct setup *s)
{
    memset(s, 0, sizeof(*s));
    const char *envname = cli_opt(args, "env");
    if (!envname)
        return cli_usage_error(cli, "which environment? give --env ENV");
    struct otap_err err = OTAP_ERR_INIT;
    int rc = contract_eval(&s->ev, cli->m, cli_manifest_name(cli), envname, environ, &err);
    if (rc < 0)
        return cli_fail(cli, rc, &err);
    s->have_ev = true;
    const struct manifest_env *env = s->ev.env;
    const struct manifest_backup *cfg = manifest_backup_for(cli->m, env->name);
    if (!cfg) {
        setup_release(s);
        return cli_error(cli, OTAP_EINVALID,
                         "%s has no backups for %s: add backups: { %s: { target: ... } }",
                         cli_manifest_name(cli), env->name, env->name);
    }
    /* what is needed and missing, all of it */
    char *missing[6];
    size_t nmissing = 0;
    const char *needed[] = {cfg->access_key_var, cfg->secret_key_var, cfg->encrypt_var,
                            needs_db ? cli->m->database.url_var : NULL};
    for (size_t i = 0; i < sizeof needed / sizeof needed[0]; i++)
        if (needed[i] && !value_of(s, needed[i]))
            missing[nmissing++] = xasprintf("%s is not set for %s", needed[i], env->name);
    if (needs_db && !cli->m->database.url_var)
        missing[nmissing++] = xasprintf("%s has no database section", cli_manifest_name(cli));
    if (nmissing) {
        rc = cli_refused(cli, "use the backups", missing, nmissing, NULL);
        for (size_t i = 0; i < nmissing; i++)
            free(missing[i]);
        setup_release(s);
        return rc;
    }
    if (cfg->encrypt_var &&
        bk_key_parse(value_of(s, cfg->encrypt_var), s->key, cfg->encrypt_var, &err) < 0) {
        setup_release(s);
        return cli_fail(cli, err.code, &err);
    }
    struct bk_target_cfg tc = {
        .target = cfg->target,
        .root = cli->m->dir,
        .endpoint = value_of(s, cfg->endpoint_var),
        .region = cfg->region,
        .access_key = value_of(s, cfg->access_key_var),
        .secret_key = value_of(s, cfg->secret_key_var),
    };
    if ((rc = bk_target_open(&s->target, &tc, &err)) < 0) {
        setup_release(s);
        return cli_fail(cli, rc, &err);
    }
    if ((rc = cli_store_open(cli, &s->store)) < 0) {
        setup_release(s);
        return rc;
    }
    s->actor = actor_name();
    s->c = (struct bk_ctx){
        .m = cli->m,
        .env = env,
        .cfg = cfg,
        .db_url = needs_db ? value_of(s, cli->m->database.url_var) : NULL,
        .target = s->target,
        .key = cfg->encrypt_var ? s->key : NULL,
        .store = s->store,
        .actor = s->actor,
        .otap_version = OTAP_VERSION,
        .progress = progress,
        .progress_ctx = cli,
    };
    return 0;
}

/* A failure of the library as the command's: a refusal lists itself. */
static int fail(struct cli *cli, int rc, struct otap_err *err, const char *what)
{
    if (rc == OTAP_EREFUSED) {
        char *why = xstrdup(err->msg ? err->msg : "refused");
        otap_err_release(err);
        rc = cli_refused(cli, what, &why, 1, NULL);
        free(why);
        return rc;
    }
    return cli_fail(cli, rc, err);
}

/* ---- create ---------------------------------------------------------------------------------- */

static void render_created(struct cli *cli, json_t *doc, FILE *out)
{
    json_t *e = json_object_get(doc, "backup");
    char raw[32], size[32];
    size_t nt = json_object_size(json_object_get(e, "tables"));
    fprintf(out, "%sbackup %s%s: %s dumped, %s stored (%s), %zu table%s, %.1f s\n", cli_green(cli),
            json_string_value(json_object_get(e, "id")), cli_reset(cli),
            cli_bytes(raw, json_integer_value(json_object_get(e, "raw_size"))),
            cli_bytes(size, json_integer_value(json_object_get(e, "size"))),
            json_is_true(json_object_get(e, "encrypted")) ? "zstd, AES-256-GCM" : "zstd", nt,
            nt == 1 ? "" : "s",
            (double)json_integer_value(json_object_get(e, "duration_ms")) / 1000);
    fprintf(out, "  at %s/%s, sha256 %.16s...\n", json_string_value(json_object_get(e, "target")),
            json_string_value(json_object_get(e, "object")),
            json_string_value(json_object_get(e, "sha256")));
}

static int verb_create(struct cli *cli, const struct cli_args *args)
{
    int rc = cli_operands_at_most(cli, args, 0);
    if (rc)
        return rc;
    struct setup s;
    if ((rc = setup_env(cli, args, true, &s)))
        return rc;
    struct otap_err err = OTAP_ERR_INIT;
    json_t *entry = NULL;
    rc = bk_create(&s.c, &entry, &err);
    setup_release(&s);
    if (rc < 0)
        return fail(cli, rc, &err, "back up this database");
    cli_emit(cli, json_pack("{s:b, s:o}", "ok", 1, "backup", entry), render_created);
    return 0;
}

/* ---- list ------------------------------------------------------------------------------------ */

static void render_list(struct cli *cli, json_t *doc, FILE *out)
{
    size_t i;
    json_t *e;
    if (!json_array_size(json_object_get(doc, "backups")))
        fprintf(out, "no backups of %s at %s\n", json_string_value(json_object_get(doc, "env")),
                json_string_value(json_object_get(doc, "target")));
    char sz[32];
    json_array_foreach(json_object_get(doc, "backups"), i, e)
    {
        size_t nt = json_object_size(json_object_get(e, "tables"));
        fprintf(out, "%s%s%s  %s  %s%s  %zu table%s  PostgreSQL %s\n", cli_bold(cli),
                json_string_value(json_object_get(e, "id")), cli_reset(cli),
                json_string_value(json_object_get(e, "finished")),
                cli_bytes(sz, json_integer_value(json_object_get(e, "size"))),
                json_is_true(json_object_get(e, "encrypted")) ? " encrypted" : "", nt,
                nt == 1 ? "" : "s", json_string_value(json_object_get(e, "pg_version")));
    }
    json_array_foreach(json_object_get(doc, "partial"), i, e) fprintf(
        out, "%s%s  unfinished%s%s\n", cli_yellow(cli), json_string_value(json_object_get(e, "id")),
        json_is_true(json_object_get(e, "in_progress")) ? " (under way)" : " (prune removes it)",
        cli_reset(cli));
}

static int verb_list(struct cli *cli, const struct cli_args *args)
{
    int rc = cli_operands_at_most(cli, args, 0);
    if (rc)
        return rc;
    struct setup s;
    if ((rc = setup_env(cli, args, false, &s)))
        return rc;
    struct otap_err err = OTAP_ERR_INIT;
    struct bk_catalog cat;
    rc = bk_catalog_read(s.target, s.c.env->name, &cat, &err);
    if (rc < 0) {
        setup_release(&s);
        return cli_fail(cli, rc, &err);
    }
    cli_emit(cli,
             json_pack("{s:b, s:s, s:s, s:O, s:O}", "ok", 1, "env", s.c.env->name, "target",
                       bk_target_name(s.target), "backups", cat.entries, "partial", cat.partials),
             render_list);
    bk_catalog_release(&cat);
    setup_release(&s);
    return 0;
}

/* The entry --from or --id names (the newest when none), or an error. */
static int pick(struct cli *cli, struct setup *s, const char *id, struct bk_catalog *cat,
                json_t **entry)
{
    struct otap_err err = OTAP_ERR_INIT;
    int rc = bk_catalog_read(s->target, s->c.env->name, cat, &err);
    if (rc < 0)
        return cli_fail(cli, rc, &err);
    *entry = bk_catalog_find(cat, id);
    if (!*entry) {
        bk_catalog_release(cat);
        return id ? cli_error(cli, OTAP_ENOTFOUND, "no backup '%s' of %s at %s", id, s->c.env->name,
                              bk_target_name(s->target))
                  : cli_error(cli, OTAP_ENOTFOUND, "no backup of %s at %s yet", s->c.env->name,
                              bk_target_name(s->target));
    }
    return 0;
}

/* ---- verify ---------------------------------------------------------------------------------- */

static void render_verify(struct cli *cli, json_t *doc, FILE *out)
{
    const char *id = json_string_value(json_object_get(doc, "id"));
    json_t *p = json_object_get(doc, "problems");
    if (!json_array_size(p)) {
        fprintf(out, "%sbackup %s verified%s: size, SHA-256, the stream whole, pg_restore --list\n",
                cli_green(cli), id, cli_reset(cli));
        return;
    }
    size_t i;
    json_t *x;
    json_array_foreach(p, i, x) fprintf(out, "%serror:%s backup %s: %s\n", cli_red(cli),
                                        cli_reset(cli), id, json_string_value(x));
}

static int verb_verify(struct cli *cli, const struct cli_args *args)
{
    int rc = cli_operands_at_most(cli, args, 0);
    if (rc)
        return rc;
    struct setup s;
    if ((rc = setup_env(cli, args, false, &s)))
        return rc;
    struct bk_catalog cat;
    json_t *entry;
    if ((rc = pick(cli, &s, cli_opt(args, "id"), &cat, &entry))) {
        setup_release(&s);
        return rc;
    }
    struct otap_err err = OTAP_ERR_INIT;
    json_t *problems = NULL;
    rc = bk_verify(&s.c, entry, &problems, &err);
    if (rc < 0 && rc != OTAP_EFOUND) {
        json_decref(problems);
        bk_catalog_release(&cat);
        setup_release(&s);
        return fail(cli, rc, &err, "verify the backup");
    }
    cli_emit(cli,
             json_pack("{s:b, s:O, s:o}", "ok", rc == 0, "id", json_object_get(entry, "id"),
                       "problems", problems),
             render_verify);
    bk_catalog_release(&cat);
    setup_release(&s);
    return rc;
}

/* ---- prune ----------------------------------------------------------------------------------- */

static void render_prune(struct cli *cli, json_t *doc, FILE *out)
{
    bool applied = json_is_true(json_object_get(doc, "applied"));
    size_t i;
    json_t *e;
    json_array_foreach(json_object_get(doc, "delete"), i, e)
        fprintf(out, "%s %s (%s)\n", applied ? "deleted" : "would delete",
                json_string_value(json_object_get(e, "id")),
                json_string_value(json_object_get(e, "finished")));
    json_array_foreach(json_object_get(doc, "partial"), i, e)
        fprintf(out, "%s %s (unfinished)\n", applied ? "removed" : "would remove",
                json_string_value(json_object_get(e, "id")));
    json_array_foreach(json_object_get(doc, "keep"), i, e)
        fprintf(out, "keep %s: %s\n", json_string_value(json_object_get(e, "id")),
                json_string_value(json_object_get(e, "why")));
    if (!applied && (json_array_size(json_object_get(doc, "delete")) ||
                     json_array_size(json_object_get(doc, "partial"))))
        fprintf(out, "%sa dry run: give --apply to delete%s\n", cli_yellow(cli), cli_reset(cli));
}

static int verb_prune(struct cli *cli, const struct cli_args *args)
{
    int rc = cli_operands_at_most(cli, args, 0);
    if (rc)
        return rc;
    struct setup s;
    if ((rc = setup_env(cli, args, false, &s)))
        return rc;
    struct otap_err err = OTAP_ERR_INIT;
    json_t *result = NULL;
    rc = bk_prune(&s.c, cli_flag(args, "apply"), &result, &err);
    setup_release(&s);
    if (rc < 0) {
        json_decref(result);
        return cli_fail(cli, rc, &err);
    }
    json_object_set_new(result, "ok", json_true());
    cli_emit(cli, result, render_prune);
    return 0;
}

/* ---- restore --------------------------------------------------------------------------------- */

static void render_restore(struct cli *cli, json_t *doc, FILE *out)
{
    fprintf(out, "%srestored %s into %s%s in %.1f s; its marker is %s\n", cli_green(cli),
            json_string_value(json_object_get(doc, "id")),
            json_string_value(json_object_get(doc, "env")), cli_reset(cli),
            (double)json_integer_value(json_object_get(doc, "ms")) / 1000,
            json_string_value(json_object_get(doc, "marker")));
}

static int verb_restore(struct cli *cli, const struct cli_args *args)
{
    int rc = cli_operands_at_most(cli, args, 0);
    if (rc)
        return rc;
    const char *from = cli_opt(args, "from");
    if (!from)
        return cli_usage_error(cli, "which backup? give --from ID ('otap backup list')");
    struct setup s;
    if ((rc = setup_env(cli, args, true, &s)))
        return rc;
    /* every unmet condition, listed: the marker, and for a protected environment the lock */
    struct otap_err err = OTAP_ERR_INIT;
    char **unmet = NULL;
    size_t n = 0, alloc = 0;
    int mrc = bk_prove_marker(&s.c, s.c.db_url, "the target database", &err);
    if (mrc < 0 && mrc != OTAP_EREFUSED) {
        setup_release(&s);
        return cli_fail(cli, mrc, &err);
    }
    if (s.c.env->protected) {
        struct hardlock_input hl;
        hardlock_gather(&hl, &s.ev, s.c.db_url);
        hl.marker_problem = mrc < 0 ? err.msg : NULL;
        hardlock_check(&hl, &unmet, &n, &alloc);
    } else if (mrc < 0) {
        *XPUSH(&unmet, &n, &alloc) = xstrdup(err.msg);
    }
    otap_err_release(&err);
    if (n) {
        rc = cli_refused(cli, "restore into this database", unmet, n, NULL);
        for (size_t i = 0; i < n; i++)
            free(unmet[i]);
        free(unmet);
        setup_release(&s);
        return rc;
    }
    free(unmet);
    struct bk_catalog cat;
    json_t *entry;
    if ((rc = pick(cli, &s, from, &cat, &entry))) {
        setup_release(&s);
        return rc;
    }
    long long ms = 0;
    rc = bk_restore_into(&s.c, entry, s.c.db_url, s.c.env->marker, true, &ms, &err);
    if (rc == 0)
        cli_emit(cli,
                 json_pack("{s:b, s:O, s:s, s:I, s:s}", "ok", 1, "id", json_object_get(entry, "id"),
                           "env", s.c.env->name, "ms", (json_int_t)ms, "marker", s.c.env->marker),
                 render_restore);
    bk_catalog_release(&cat);
    setup_release(&s);
    return rc < 0 ? fail(cli, rc, &err, "restore the backup") : 0;
}

/* ---- drill ----------------------------------------------------------------------------------- */

static void render_drill(struct cli *cli, json_t *doc, FILE *out)
{
    json_t *r = json_object_get(doc, "drill");
    bool ok = json_is_true(json_object_get(r, "ok"));
    fprintf(out, "%sdrill of %s %s%s: restored in %.1f s (RTO), the backup was %lld s old (RPO)\n",
            ok ? cli_green(cli) : cli_red(cli), json_string_value(json_object_get(r, "id")),
            ok ? "passed" : "FAILED", cli_reset(cli),
            (double)json_integer_value(json_object_get(r, "rto_ms")) / 1000,
            (long long)json_integer_value(json_object_get(r, "rpo_s")));
    json_t *am = json_object_get(r, "amcheck");
    if (json_is_object(am))
        fprintf(out, "  pg_amcheck: %s\n", json_string_value(json_object_get(am, "message")));
    size_t i;
    json_t *d;
    json_array_foreach(json_object_get(r, "differences"), i, d)
        fprintf(out, "  %sdifference:%s %s\n", cli_red(cli), cli_reset(cli), json_string_value(d));
}

static void render_due(struct cli *cli, json_t *doc, FILE *out)
{
    size_t i;
    json_t *e;
    json_array_foreach(json_object_get(doc, "environments"), i, e)
    {
        bool due = json_is_true(json_object_get(e, "due"));
        const char *last = json_string_value(json_object_get(e, "last_drill"));
        fprintf(out, "%s%-12s%s %s (every %lld days; last passing drill: %s)\n",
                due ? cli_red(cli) : cli_green(cli), json_string_value(json_object_get(e, "env")),
                cli_reset(cli), due ? "drill due" : "ok",
                (long long)json_integer_value(json_object_get(e, "every_days")),
                last ? last : "never");
    }
}

/* Environments whose last passing drill is older than drill_every: exit 1 when any is. */
static int drill_due(struct cli *cli)
{
    struct store *st;
    int rc = cli_store_open(cli, &st);
    if (rc < 0)
        return rc;
    json_t *envs = json_array();
    bool any = false;
    time_t now = time(NULL);
    for (size_t i = 0; i < cli->m->nbackups; i++) {
        const struct manifest_backup *b = &cli->m->backups[i];
        if (b->drill_every_s < 0)
            continue;
        const char *p[] = {b->env};
        struct store_rows r;
        struct otap_err err = OTAP_ERR_INIT;
        rc = store_exec(st,
                        "SELECT at, details FROM otap_ledger WHERE env = $1 AND action = "
                        "'backup.drill' ORDER BY seq DESC",
                        p, 1, &r, &err);
        if (rc < 0) {
            store_close(st);
            json_decref(envs);
            return cli_fail(cli, rc, &err);
        }
        const char *last = NULL;
        for (size_t k = 0; k < r.nrows && !last; k++) {
            json_t *d = json_loads(store_cell(&r, k, 1), 0, NULL);
            if (json_is_true(json_object_get(d, "ok")))
                last = store_cell(&r, k, 0);
            json_decref(d);
        }
        struct tm tm = {0};
        bool due = !last || !strptime(last, "%Y-%m-%dT%H:%M:%S", &tm) ||
                   now - timegm(&tm) > (time_t)b->drill_every_s;
        any |= due;
        json_array_append_new(envs, json_pack("{s:s, s:b, s:s?, s:I}", "env", b->env, "due", due,
                                              "last_drill", last, "every_days",
                                              (json_int_t)(b->drill_every_s / 86400)));
        store_rows_release(&r);
    }
    store_close(st);
    cli_emit(cli, json_pack("{s:b, s:o}", "ok", !any, "environments", envs), render_due);
    return any ? OTAP_EFOUND : 0;
}

static int verb_drill(struct cli *cli, const struct cli_args *args)
{
    int rc = cli_operands_at_most(cli, args, 0);
    if (rc)
        return rc;
    if (cli_flag(args, "due"))
        return drill_due(cli);
    struct setup s;
    if ((rc = setup_env(cli, args, true, &s)))
        return rc;
    struct bk_catalog cat;
    json_t *entry;
    if ((rc = pick(cli, &s, cli_opt(args, "from"), &cat, &entry))) {
        setup_release(&s);
        return rc;
    }
    struct otap_err err = OTAP_ERR_INIT;
    json_t *result = NULL;
    rc = bk_drill(&s.c, entry, cli_opt(args, "into"), &result, &err);
    bk_catalog_release(&cat);
    setup_release(&s);
    if (rc < 0 && rc != OTAP_EFOUND) {
        json_decref(result);
        return fail(cli, rc, &err, "drill the backup");
    }
    otap_err_release(&err);
    cli_emit(cli, json_pack("{s:b, s:o}", "ok", rc == 0, "drill", result), render_drill);
    return rc;
}

/* ---- the command ----------------------------------------------------------------------------- */

#define ENV_OPT                                                                                    \
    {                                                                                              \
        "env", 'e', "ENV", "the environment"                                                       \
    }

static const struct cmd verbs[] = {
    {.name = "create",
     .summary = "back up the environment's database to its target",
     .synopsis = "--env ENV",
     .opts = (const struct cli_opt[]){ENV_OPT, {0}},
     .run = verb_create},
    {.name = "list",
     .summary = "the environment's backups, newest first, and unfinished ones",
     .synopsis = "--env ENV",
     .opts = (const struct cli_opt[]){ENV_OPT, {0}},
     .run = verb_list},
    {.name = "verify",
     .summary = "read a backup back whole: size, SHA-256, decompression, pg_restore --list",
     .synopsis = "--env ENV [--id ID]",
     .opts =
         (const struct cli_opt[]){ENV_OPT, {"id", 0, "ID", "the backup (default: newest)"}, {0}},
     .run = verb_verify},
    {.name = "prune",
     .summary = "apply retention (keep_days, keep_last); a dry run unless --apply",
     .synopsis = "--env ENV [--apply]",
     .opts = (const struct cli_opt[]){ENV_OPT, {"apply", 0, NULL, "delete, not just say"}, {0}},
     .about = "A backup is kept while it is among the newest keep_last or younger than\n"
              "keep_days. The newest backup a verify or a drill proved is always kept.\n"
              "Unfinished backups whose writer is gone are removed.\n",
     .run = verb_prune},
    {.name = "restore",
     .summary = "restore a backup into the environment's own database",
     .synopsis = "--env ENV --from ID",
     .opts = (const struct cli_opt[]){ENV_OPT, {"from", 0, "ID", "the backup"}, {0}},
     .about = "Refused unless the database's marker is the environment's; a protected\n"
              "environment needs the whole hard lock (CONFIRM_PROD_MIGRATE=YES, ENVIRONMENT).\n"
              "The marker table's rows are never restored: the database keeps its own.\n",
     .run = verb_restore},
    {.name = "drill",
     .summary = "restore a backup into a scratch database and compare it with its catalog",
     .synopsis = "--env ENV [--from ID] [--into URL] | --due",
     .opts =
         (const struct cli_opt[]){
             ENV_OPT,
             {"from", 0, "ID", "the backup (default: newest)"},
             {"into", 0, "URL", "restore into this database instead of a scratch one"},
             {"due", 0, NULL, "list environments whose last passing drill is too old"},
             {0},
         },
     .about = "The copy's marker becomes 'drill'. Compared: the schema's hash, the applied\n"
              "migrations, every table's row count; pg_amcheck runs when installed. The result,\n"
              "the restore time (RTO) and the backup's age (RPO) go to the ledger.\n",
     .run = verb_drill},
    {0},
};

const struct cmd cmd_backup = {
    .name = "backup",
    .summary = "backups streamed to a directory or S3, and restore drills that prove them",
    .about =
        "Each environment's backups: in otap.yaml say where (dir:PATH or s3://BUCKET/PREFIX),\n"
        "which config variables hold the credentials and the key, and how long to keep\n"
        "them. pg_dump streams through zstd (and AES-256-GCM) straight to the target.\n",
    .exits = "0 ok, 1 a verify or drill found differences (or a drill is due), 2 usage,\n"
             "      3 invalid manifest or key, 4 refused (marker, hard lock, missing config),\n"
             "      5 the database, the target or the store failed",
    .flags = CMD_NEEDS_MANIFEST | CMD_REPORTS_JSON,
    .verbs = verbs,
};
