/*
 * otap flags: feature flags, default off, owned and expiring.
 *
 *   list, show KEY                  the manifest's flags and their state per environment
 *   enable|disable KEY --env E      a change with no deploy, in the store and the ledger
 *   rollout KEY --env E --percent N | --weights on=10,off=90
 *   eval KEY --env E [--context J]  what a client with that context gets, and why
 *   lint                            flags past their expiry date
 *
 * The evaluator is src/lib/flags/flag.c; stored changes src/lib/state/flagstate.c.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "base/actor.h"
#include "base/num.h"
#include "base/xalloc.h"
#include "flags/flag_manifest.h"
#include "state/flagstate.h"
#include "state/store.h"
#include "base/banned.h"

static const struct manifest_flag *find_flag(const struct manifest *m, const char *key)
{
    for (size_t i = 0; i < m->nflags; i++)
        if (!strcmp(m->flags[i].name, key))
            return &m->flags[i];
    return NULL;
}

/* The flag named by the operand, or a usage error. */
static int flag_operand(struct cli *cli, const struct cli_args *args,
                        const struct manifest_flag **out)
{
    if (args->argc < 2)
        return cli_usage_error(cli, "which flag? give its KEY");
    int rc = cli_operands_at_most(cli, args, 1);
    if (rc)
        return rc;
    *out = find_flag(cli->m, args->argv[1]);
    if (!*out)
        return cli_error(cli, OTAP_ENOTFOUND, "otap.yaml defines no flag '%s'", args->argv[1]);
    return 0;
}

/* One environment's state of a flag: the store's change, else the manifest's. */
static json_t *state_json(struct store *s, const struct manifest_flag *f, const char *env,
                          struct otap_err *err)
{
    struct flag_def def;
    json_t *st = NULL;
    if (flags_resolve(s, f, env, &def, &st, err) < 0)
        return NULL;
    flag_def_release(&def);
    return st;
}

static json_t *flag_json(struct store *s, const struct manifest *m, const struct manifest_flag *f,
                         struct otap_err *err)
{
    json_t *envs = json_array();
    for (size_t e = 0; e < m->nenvs; e++) {
        json_t *st = state_json(s, f, m->envs[e].name, err);
        if (!st) {
            json_decref(envs);
            return NULL;
        }
        json_array_append_new(envs, st);
    }
    return json_pack("{s:s, s:s?, s:s?, s:s?, s:o}", "key", f->name, "owner", f->owner, "expires",
                     f->expires, "description", f->description, "environments", envs);
}

static void render_flags(struct cli *cli, json_t *doc, FILE *out)
{
    size_t i;
    json_t *f;
    json_array_foreach(json_object_get(doc, "flags"), i, f)
    {
        fprintf(out, "%s%s%s  owner %s, expires %s\n", cli_bold(cli),
                json_string_value(json_object_get(f, "key")), cli_reset(cli),
                json_string_value(json_object_get(f, "owner")),
                json_string_value(json_object_get(f, "expires")));
        size_t k;
        json_t *e;
        json_array_foreach(json_object_get(f, "environments"), k, e)
        {
            bool on = json_is_true(json_object_get(e, "enabled"));
            json_t *w = json_object_get(e, "weights");
            char *ws = json_is_array(w) ? json_dumps(w, JSON_COMPACT) : NULL;
            fprintf(out, "  %-12s %s%-3s%s %s%s(%s%s%s)\n",
                    json_string_value(json_object_get(e, "env")), on ? cli_green(cli) : "",
                    on ? "on" : "off", cli_reset(cli), ws ? ws : "", ws ? " " : "",
                    json_string_value(json_object_get(e, "source")),
                    json_is_string(json_object_get(e, "changed_by")) ? ", by " : "",
                    json_is_string(json_object_get(e, "changed_by"))
                        ? json_string_value(json_object_get(e, "changed_by"))
                        : "");
            free(ws);
        }
    }
}

/* The store when there is one to read: flags are readable before anything was stored. */
static struct store *maybe_store(struct cli *cli)
{
    struct store *s = NULL;
    if (cli_store_open(cli, &s) < 0)
        return NULL;
    return s;
}

static int verb_list(struct cli *cli, const struct cli_args *args)
{
    int rc = cli_operands_at_most(cli, args, 0);
    if (rc)
        return rc;
    struct store *s = maybe_store(cli);
    if (!s)
        return OTAP_EEXTERNAL;
    struct otap_err err = OTAP_ERR_INIT;
    json_t *flags = json_array();
    for (size_t i = 0; i < cli->m->nflags && rc == 0; i++) {
        json_t *f = flag_json(s, cli->m, &cli->m->flags[i], &err);
        if (!f)
            rc = cli_fail(cli, err.code, &err);
        else
            json_array_append_new(flags, f);
    }
    store_close(s);
    if (rc < 0) {
        json_decref(flags);
        return rc;
    }
    cli_emit(cli, json_pack("{s:b, s:o}", "ok", 1, "flags", flags), render_flags);
    return 0;
}

static int verb_show(struct cli *cli, const struct cli_args *args)
{
    const struct manifest_flag *f;
    int rc = flag_operand(cli, args, &f);
    if (rc)
        return rc;
    struct store *s = maybe_store(cli);
    if (!s)
        return OTAP_EEXTERNAL;
    struct otap_err err = OTAP_ERR_INIT;
    json_t *j = flag_json(s, cli->m, f, &err);
    store_close(s);
    if (!j)
        return cli_fail(cli, err.code, &err);
    cli_emit(cli, json_pack("{s:b, s:[o]}", "ok", 1, "flags", j), render_flags);
    return 0;
}

static void render_change(struct cli *cli, json_t *doc, FILE *out)
{
    (void)cli;
    json_t *after = json_object_get(doc, "after");
    json_t *w = json_object_get(after, "weights");
    char *ws = json_is_array(w) ? json_dumps(w, JSON_COMPACT) : NULL;
    fprintf(out, "flag %s in %s: %s%s%s (ledger #%lld)\n",
            json_string_value(json_object_get(doc, "flag")),
            json_string_value(json_object_get(doc, "env")),
            json_is_true(json_object_get(after, "enabled")) ? "on" : "off", ws ? " " : "",
            ws ? ws : "", (long long)json_integer_value(json_object_get(doc, "ledger_seq")));
    free(ws);
}

/* enable, disable, rollout: one change, refused for a protected environment without the lock. */
static int change(struct cli *cli, const struct cli_args *args, int enable)
{
    const struct manifest_flag *f;
    int rc = flag_operand(cli, args, &f);
    if (rc)
        return rc;
    const char *envname = cli_opt(args, "env");
    if (!envname)
        return cli_usage_error(cli, "which environment? give --env ENV");
    const struct manifest_env *env = manifest_env_find(cli->m, envname);
    if (!env)
        return cli_error(cli, OTAP_ENOTFOUND, "no environment '%s'", envname);
    char *weights = NULL;
    struct otap_err err = OTAP_ERR_INIT;
    if (enable == 2) {
        const char *pct = cli_opt(args, "percent"), *spec = cli_opt(args, "weights");
        long long n = -1;
        if (!!pct == !!spec)
            return cli_usage_error(cli, "give --percent N or --weights on=N,off=M");
        if (pct && num_parse_ll(pct, &n) < 0)
            return cli_usage_error(cli, "--percent '%s' is not a number", pct);
        if (flag_weights(spec, (int)n, &weights, &err) < 0)
            return cli_fail(cli, err.code, &err);
    }
    /* a protected environment: the hard lock's confirmation, as for its database */
    const char *confirm = getenv("CONFIRM_PROD_MIGRATE");
    if (env->protected && (!confirm || strcmp(confirm, "YES"))) {
        free(weights);
        char *why = xasprintf("%s is protected: set CONFIRM_PROD_MIGRATE=YES for this one command",
                              env->name);
        rc = cli_refused(cli, "change a flag", &why, 1, NULL);
        free(why);
        return rc;
    }
    struct store *s;
    if ((rc = cli_store_open(cli, &s)) < 0) {
        free(weights);
        return rc;
    }
    json_t *before = state_json(s, f, env->name, &err);
    char *actor = actor_name();
    long long seq = 0;
    rc = before
             ? flagstate_set(s, f->name, env->name, enable != 0, weights, before, actor, &seq, &err)
             : err.code;
    store_close(s);
    free(actor);
    if (rc < 0) {
        free(weights);
        return cli_fail(cli, rc, &err);
    }
    json_t *w = weights ? json_loads(weights, 0, NULL) : json_null();
    cli_emit(cli,
             json_pack("{s:b, s:s, s:s, s:{s:b, s:o}, s:I}", "ok", 1, "flag", f->name, "env",
                       env->name, "after", "enabled", enable != 0, "weights", w, "ledger_seq",
                       (json_int_t)seq),
             render_change);
    free(weights);
    return 0;
}

static int verb_enable(struct cli *cli, const struct cli_args *args)
{
    return change(cli, args, 1);
}

static int verb_disable(struct cli *cli, const struct cli_args *args)
{
    return change(cli, args, 0);
}

static int verb_rollout(struct cli *cli, const struct cli_args *args)
{
    return change(cli, args, 2);
}

static void render_eval(struct cli *cli, json_t *doc, FILE *out)
{
    (void)cli;
    char *v = json_dumps(json_object_get(doc, "value"), JSON_ENCODE_ANY | JSON_COMPACT);
    const char *code = json_string_value(json_object_get(doc, "errorCode"));
    fprintf(out, "%s = %s (variant %s, reason %s%s%s)\n",
            json_string_value(json_object_get(doc, "key")), v ? v : "null",
            json_string_value(json_object_get(doc, "variant")),
            json_string_value(json_object_get(doc, "reason")), code ? ", " : "", code ? code : "");
    free(v);
}

static int verb_eval(struct cli *cli, const struct cli_args *args)
{
    const struct manifest_flag *f;
    int rc = flag_operand(cli, args, &f);
    if (rc)
        return rc;
    const char *envname = cli_opt(args, "env"), *context = cli_opt(args, "context");
    if (!envname)
        return cli_usage_error(cli, "which environment? give --env ENV");
    const struct manifest_env *env = manifest_env_find(cli->m, envname);
    if (!env)
        return cli_error(cli, OTAP_ENOTFOUND, "no environment '%s'", envname);
    json_error_t je;
    json_t *ctx = context ? json_loads(context, 0, &je) : json_object();
    if (!json_is_object(ctx)) {
        json_decref(ctx);
        return cli_usage_error(cli, "--context is not a JSON object%s%s", context ? ": " : "",
                               context ? je.text : "");
    }
    struct store *s = maybe_store(cli);
    if (!s) {
        json_decref(ctx);
        return OTAP_EEXTERNAL;
    }
    struct otap_err err = OTAP_ERR_INIT;
    struct flag_def def;
    rc = flags_resolve(s, f, env->name, &def, NULL, &err);
    store_close(s);
    if (rc < 0) {
        json_decref(ctx);
        return cli_fail(cli, rc, &err);
    }
    struct flag_result r;
    flag_eval(&def, ctx, &r);
    cli_emit(cli,
             json_pack("{s:b, s:s, s:s, s:O?, s:s?, s:s, s:s?}", "ok", 1, "key", f->name, "env",
                       env->name, "value", r.value, "variant", r.variant, "reason", r.reason,
                       "errorCode", r.error_code),
             render_eval);
    flag_def_release(&def);
    json_decref(ctx);
    return 0;
}

static void render_lint(struct cli *cli, json_t *doc, FILE *out)
{
    size_t i;
    json_t *p;
    json_array_foreach(json_object_get(doc, "problems"), i, p)
        fprintf(out, "%s:%lld: %serror:%s %s\n", json_string_value(json_object_get(doc, "file")),
                (long long)json_integer_value(json_object_get(p, "line")), cli_red(cli),
                cli_reset(cli), json_string_value(json_object_get(p, "message")));
    if (!json_array_size(json_object_get(doc, "problems")) && !cli->quiet)
        fprintf(out, "%s%zu flag%s, none expired%s\n", cli_green(cli),
                (size_t)json_integer_value(json_object_get(doc, "flags")),
                json_integer_value(json_object_get(doc, "flags")) == 1 ? "" : "s", cli_reset(cli));
}

static int verb_lint(struct cli *cli, const struct cli_args *args)
{
    int rc = cli_operands_at_most(cli, args, 0);
    if (rc)
        return rc;
    char today[16];
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(today, sizeof today, "%Y-%m-%d", &tm);
    json_t *problems = json_array();
    for (size_t i = 0; i < cli->m->nflags; i++) {
        const struct manifest_flag *f = &cli->m->flags[i];
        /* ISO dates compare as text */
        if (f->expires && strcmp(f->expires, today) < 0) {
            char *msg = xasprintf("flag '%s' expired on %s: remove it from the code and otap.yaml "
                                  "(owner: %s)",
                                  f->name, f->expires, f->owner ? f->owner : "none");
            json_array_append_new(problems, json_pack("{s:s, s:i, s:s}", "flag", f->name, "line",
                                                      f->pos.line, "message", msg));
            free(msg);
        }
        /* release and experiment flags live 30 days (seed 004 §1.3); the others as long as needed
         */
        const char *kind = f->kind ? f->kind : "release";
        struct tm exp = {0};
        if (f->expires && (!strcmp(kind, "release") || !strcmp(kind, "experiment")) &&
            strptime(f->expires, "%Y-%m-%d", &exp)) {
            long long days = ((long long)timegm(&exp) - (long long)now) / 86400;
            if (days > 30) {
                char *msg = xasprintf("%s flag '%s' expires in %lld days: a %s flag lives at most "
                                      "30 days",
                                      kind, f->name, days, kind);
                json_array_append_new(problems, json_pack("{s:s, s:i, s:s}", "flag", f->name,
                                                          "line", f->pos.line, "message", msg));
                free(msg);
            }
        }
    }
    size_t n = json_array_size(problems);
    cli_emit(cli,
             json_pack("{s:b, s:s, s:I, s:o}", "ok", n == 0, "file", cli_manifest_name(cli),
                       "flags", (json_int_t)cli->m->nflags, "problems", problems),
             render_lint);
    return n ? OTAP_EFOUND : 0;
}

static const struct cli_opt env_opt[] = {
    {"env", 'e', "ENV", "the environment"},
    {0},
};

static const struct cmd verbs[] = {
    {.name = "list", .summary = "every flag and its state in each environment", .run = verb_list},
    {.name = "show",
     .summary = "one flag: per environment, on or off, split, and from where",
     .synopsis = "KEY",
     .run = verb_show},
    {.name = "enable",
     .summary = "turn a flag on in one environment (no deploy)",
     .synopsis = "KEY --env ENV",
     .opts = env_opt,
     .run = verb_enable},
    {.name = "disable",
     .summary = "turn a flag off in one environment (no deploy)",
     .synopsis = "KEY --env ENV",
     .opts = env_opt,
     .run = verb_disable},
    {
        .name = "rollout",
        .summary = "turn a flag on for a share of users: a split by the targeting key",
        .synopsis = "KEY --env ENV (--percent N | --weights on=10,off=90)",
        .opts =
            (const struct cli_opt[]){
                {"env", 'e', "ENV", "the environment"},
                {"percent", 0, "N", "on for N % of targeting keys (on=N,off=100-N)"},
                {"weights", 0, "SPEC", "variants and weights, in this order: on=10,off=90"},
                {0},
            },
        .about = "Buckets are flagd's: MurmurHash3 x86_32 (seed 0) of the flag key followed by\n"
                 "the targeting key, bucket = (hash x total weight) >> 32, variants in the\n"
                 "order written. The same user stays in the same bucket.\n",
        .run = verb_rollout,
    },
    {
        .name = "eval",
        .summary = "what a client with this context gets, and why",
        .synopsis = "KEY --env ENV [--context JSON]",
        .opts =
            (const struct cli_opt[]){
                {"env", 'e', "ENV", "the environment"},
                {"context", 0, "JSON", "the evaluation context ({\"targetingKey\": \"u1\"})"},
                {0},
            },
        .run = verb_eval,
    },
    {.name = "lint",
     .summary = "flags past their expiry date, or set to outlive their kind (release: 30 days)",
     .run = verb_lint},
    {0},
};

const struct cmd cmd_flags = {
    .name = "flags",
    .summary = "feature flags: default off, owned, expiring, rolled out by percentage",
    .about = "A flag in otap.yaml is off everywhere but the environments its 'on' lists, for\n"
             "the 'rollout' share of users when it has one. enable, disable and rollout change\n"
             "an environment's state in the state store with no deploy, each change in the\n"
             "ledger (before and after); a protected environment needs CONFIRM_PROD_MIGRATE=YES.\n",
    .exits = "0 ok, 1 lint found problems, 2 usage or an unknown flag or environment, 3 invalid\n"
             "      manifest, 4 refused (a protected environment), 5 the store failed",
    .flags = CMD_NEEDS_MANIFEST | CMD_REPORTS_JSON,
    .verbs = verbs,
};
