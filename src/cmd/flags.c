/*
 * otap flags: feature flags, default off, owned and expiring.
 *
 *   list, show KEY                  the manifest's flags and their state per environment
 *   enable|disable KEY --env E      a change with no deploy, in the store and the ledger
 *   rollout KEY --env E --percent N | --weights on=10,off=90
 *   eval KEY --env E [--context J]  what a client with that context gets, and why
 *   set KEY --env E --rule R        targeting rules for one environment
 *   lint [PATH...]                  expired, too long fully on, unknown or unread in the code
 *
 * The evaluator is src/lib/flags/flag.c; stored changes src/lib/state/flagstate.c.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "base/actor.h"
#include "base/num.h"
#include "base/xalloc.h"
#include "flags/flag_change.h"
#include "flags/flag_manifest.h"
#include "flags/flag_refs.h"
#include "state/deploys.h"
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
            size_t nr = json_array_size(json_object_get(e, "rules"));
            fprintf(out, "  %-12s %s%-3s%s %s%s", json_string_value(json_object_get(e, "env")),
                    on ? cli_green(cli) : "", on ? "on" : "off", cli_reset(cli), ws ? ws : "",
                    ws ? " " : "");
            if (nr)
                fprintf(out, "%zu rule%s (%s) ", nr, nr == 1 ? "" : "s",
                        json_string_value(json_object_get(e, "rules_source")));
            fprintf(out, "(%s%s%s)\n", json_string_value(json_object_get(e, "source")),
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
        json_t *f = flags_json(s, cli->m, &cli->m->flags[i], NULL, &err);
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
    json_t *j = flags_json(s, cli->m, f, NULL, &err);
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
    size_t nr = json_array_size(json_object_get(after, "rules"));
    fprintf(out, "flag %s in %s: %s%s%s, %zu rule%s from the %s (ledger #%lld)\n",
            json_string_value(json_object_get(doc, "flag")),
            json_string_value(json_object_get(doc, "env")),
            json_is_true(json_object_get(after, "enabled")) ? "on" : "off", ws ? " " : "",
            ws ? ws : "", nr, nr == 1 ? "" : "s",
            json_string_value(json_object_get(after, "rules_source")),
            (long long)json_integer_value(json_object_get(doc, "ledger_seq")));
    free(ws);
}

/* The environment --env names, or a usage error. */
static int env_option(struct cli *cli, const struct cli_args *args, const struct manifest_env **out)
{
    const char *envname = cli_opt(args, "env");
    if (!envname)
        return cli_usage_error(cli, "which environment? give --env ENV");
    *out = manifest_env_find(cli->m, envname);
    if (!*out)
        return cli_error(cli, OTAP_ENOTFOUND, "no environment '%s'", envname);
    return 0;
}

/* One change, refused for a protected environment without the hard lock's confirmation. */
static int change(struct cli *cli, const struct manifest_flag *f, const struct manifest_env *env,
                  const struct flag_change *ch)
{
    const char *confirm = getenv("CONFIRM_PROD_MIGRATE");
    if (env->protected && (!confirm || strcmp(confirm, "YES"))) {
        char *why = xasprintf("%s is protected: set CONFIRM_PROD_MIGRATE=YES for this one command",
                              env->name);
        int rc = cli_refused(cli, "change a flag", &why, 1, NULL);
        free(why);
        return rc;
    }
    struct store *s;
    int rc = cli_store_open(cli, &s);
    if (rc < 0)
        return rc;
    struct otap_err err = OTAP_ERR_INIT;
    char *actor = actor_name();
    long long seq = 0;
    json_t *after = NULL;
    rc = flag_change_apply(s, f, env->name, ch, actor, NULL, &after, &seq, &err);
    store_close(s);
    free(actor);
    if (rc < 0)
        return cli_fail(cli, rc, &err);
    cli_emit(cli,
             json_pack("{s:b, s:s, s:s, s:o, s:I}", "ok", 1, "flag", f->name, "env", env->name,
                       "after", after, "ledger_seq", (json_int_t)seq),
             render_change);
    return 0;
}

static int enable_or_disable(struct cli *cli, const struct cli_args *args, int on)
{
    const struct manifest_flag *f;
    const struct manifest_env *env;
    int rc = flag_operand(cli, args, &f);
    if (rc || (rc = env_option(cli, args, &env)))
        return rc;
    /* on or off for everyone: a split no longer applies; targeting rules stay */
    struct flag_change ch = {.enabled = on, .set_weights = true};
    return change(cli, f, env, &ch);
}

static int verb_enable(struct cli *cli, const struct cli_args *args)
{
    return enable_or_disable(cli, args, 1);
}

static int verb_disable(struct cli *cli, const struct cli_args *args)
{
    return enable_or_disable(cli, args, 0);
}

static int verb_rollout(struct cli *cli, const struct cli_args *args)
{
    const struct manifest_flag *f;
    const struct manifest_env *env;
    int rc = flag_operand(cli, args, &f);
    if (rc || (rc = env_option(cli, args, &env)))
        return rc;
    const char *pct = cli_opt(args, "percent"), *spec = cli_opt(args, "weights");
    long long n = -1;
    if (!!pct == !!spec)
        return cli_usage_error(cli, "give --percent N or --weights on=N,off=M");
    if (pct && (num_parse_ll(pct, &n) < 0 || n < 0 || n > 100))
        return cli_usage_error(cli, "--percent '%s' is not a number 0 to 100", pct);
    char *weights = NULL;
    struct otap_err err = OTAP_ERR_INIT;
    if (flag_weights(spec, (int)n, &weights, &err) < 0)
        return cli_fail(cli, err.code, &err);
    struct flag_change ch = {.enabled = 1, .set_weights = true, .weights = weights};
    rc = change(cli, f, env, &ch);
    free(weights);
    return rc;
}

static int verb_set(struct cli *cli, const struct cli_args *args)
{
    const struct manifest_flag *f;
    const struct manifest_env *env;
    int rc = flag_operand(cli, args, &f);
    if (rc || (rc = env_option(cli, args, &env)))
        return rc;
    const char *spec = cli_opt(args, "rule");
    bool back = cli_flag(args, "manifest-rules");
    if (!!spec == back)
        return cli_usage_error(cli, "give --rule 'ATTR OP VALUE -> on|off' or --manifest-rules");
    char *rules = NULL;
    struct otap_err err = OTAP_ERR_INIT;
    if (spec && flag_rules_parse(spec, &rules, &err) < 0)
        return cli_fail(cli, err.code, &err);
    struct flag_change ch = {.enabled = -1, .set_rules = true, .rules = rules};
    rc = change(cli, f, env, &ch);
    free(rules);
    return rc;
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
        fprintf(out, "%s:%lld: %serror:%s %s\n", json_string_value(json_object_get(p, "file")),
                (long long)json_integer_value(json_object_get(p, "line")), cli_red(cli),
                cli_reset(cli), json_string_value(json_object_get(p, "message")));
    if (!json_array_size(json_object_get(doc, "problems")) && !cli->quiet)
        fprintf(out, "%s%zu flag%s, none expired, each read in the code (%lld files)%s\n",
                cli_green(cli), (size_t)json_integer_value(json_object_get(doc, "flags")),
                json_integer_value(json_object_get(doc, "flags")) == 1 ? "" : "s",
                (long long)json_integer_value(json_object_get(doc, "files")), cli_reset(cli));
}

static void problem(json_t *problems, const char *file, int line, const char *flag, char *msg)
{
    json_array_append_new(problems, json_pack("{s:s?, s:s, s:i, s:s}", "flag", flag, "file", file,
                                              "line", line, "message", msg));
    free(msg);
}

static bool kind_is_temporary(const struct manifest_flag *f)
{
    const char *kind = f->kind ? f->kind : "release";
    return !strcmp(kind, "release") || !strcmp(kind, "experiment");
}

/* ISO-8601 UTC (2026-11-30T10:00:00.000Z, or a date) as seconds, or -1. */
static long long iso_seconds(const char *s)
{
    struct tm tm = {0};
    if (!s || (!strptime(s, "%Y-%m-%dT%H:%M:%S", &tm) && !strptime(s, "%Y-%m-%d", &tm)))
        return -1;
    return (long long)timegm(&tm);
}

/*
 * Flags fully on in a protected environment for longer than allowed: the
 * release is done, the flag should leave the code. Since when: the stored
 * change's time, else the live deployment's (the manifest said on at least
 * since that build went live).
 */
static int lint_fully_on(struct cli *cli, struct store *s, long long now, json_t *problems,
                         struct otap_err *err)
{
    const struct manifest *m = cli->m;
    for (size_t e = 0; e < m->nenvs; e++) {
        if (!m->envs[e].protected)
            continue;
        const char *env = m->envs[e].name;
        struct deployment live;
        bool have_live = false;
        if (deploy_live(s, env, &live, &have_live, err) < 0)
            return err->code;
        for (size_t i = 0; i < m->nflags; i++) {
            const struct manifest_flag *f = &m->flags[i];
            long limit = f->max_fully_on_s >= 0 ? f->max_fully_on_s
                         : kind_is_temporary(f) ? 14L * 86400
                                                : -1;
            if (limit < 0)
                continue;
            json_t *st = flags_state(s, f, env, err);
            if (!st) {
                if (have_live)
                    deployment_release(&live);
                return err->code;
            }
            bool full = flags_state_fully_on(st);
            const char *since = json_string_value(json_object_get(st, "changed_at"));
            if (!since && have_live)
                since = live.finished_at ? live.finished_at : live.started_at;
            long long t = iso_seconds(since);
            if (full && t >= 0 && now - t > limit)
                problem(problems, cli_manifest_name(cli), f->pos.line, f->name,
                        xasprintf("flag '%s' has been fully on in %s since %.10s (over %ld days): "
                                  "remove it from the code and otap.yaml (owner: %s)",
                                  f->name, env, since, limit / 86400,
                                  f->owner ? f->owner : "none"));
            json_decref(st);
        }
        if (have_live)
            deployment_release(&live);
    }
    return 0;
}

static int verb_lint(struct cli *cli, const struct cli_args *args)
{
    const struct manifest *m = cli->m;
    const char *file = cli_manifest_name(cli);
    char today[16];
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(today, sizeof today, "%Y-%m-%d", &tm);
    json_t *problems = json_array();
    for (size_t i = 0; i < m->nflags; i++) {
        const struct manifest_flag *f = &m->flags[i];
        /* ISO dates compare as text */
        if (f->expires && strcmp(f->expires, today) < 0)
            problem(problems, file, f->pos.line, f->name,
                    xasprintf("flag '%s' expired on %s: remove it from the code and otap.yaml "
                              "(owner: %s)",
                              f->name, f->expires, f->owner ? f->owner : "none"));
        /* release and experiment flags live 30 days (seed 004 §1.3); the others as long as needed
         */
        struct tm exp = {0};
        if (f->expires && kind_is_temporary(f) && strptime(f->expires, "%Y-%m-%d", &exp)) {
            long long days = ((long long)timegm(&exp) - (long long)now) / 86400;
            const char *kind = f->kind ? f->kind : "release";
            if (days > 30)
                problem(problems, file, f->pos.line, f->name,
                        xasprintf("%s flag '%s' expires in %lld days: a %s flag lives at most "
                                  "30 days",
                                  kind, f->name, days, kind));
        }
    }

    /* the code: reads of flags the manifest does not define, flags nothing reads */
    /* the project root, named as the user would type it from here */
    char *cwd = getcwd(NULL, 0);
    size_t cl = cwd ? strlen(cwd) : 0;
    const char *root = m->dir;
    if (cwd && !strcmp(m->dir, cwd))
        root = ".";
    else if (cwd && !strncmp(m->dir, cwd, cl) && m->dir[cl] == '/')
        root = m->dir + cl + 1;
    const char *const *paths = args->argc > 1 ? (const char *const *)args->argv + 1 : &root;
    size_t npaths = args->argc > 1 ? (size_t)args->argc - 1 : 1;
    const char **keys = xcalloc(m->nflags ? m->nflags : 1, sizeof(char *));
    for (size_t i = 0; i < m->nflags; i++)
        keys[i] = m->flags[i].name;
    const char *manifest_path = m->path;
    struct flag_refs refs;
    struct otap_err err = OTAP_ERR_INIT;
    int rc = flag_refs_scan(paths, npaths, cli_opt(args, "pattern"), keys, m->nflags, manifest_path,
                            &refs, &err);
    free(keys);
    free(cwd);
    if (rc < 0) {
        json_decref(problems);
        flag_refs_release(&refs);
        return cli_fail(cli, rc, &err);
    }
    for (size_t i = 0; i < refs.n; i++) {
        bool known = false;
        for (size_t k = 0; k < m->nflags && !known; k++)
            known = !strcmp(m->flags[k].name, refs.items[i].key);
        if (!known)
            problem(
                problems, refs.items[i].file, refs.items[i].line, NULL,
                xasprintf("reads flag '%s', which %s does not define", refs.items[i].key, file));
    }
    for (size_t k = 0; k < m->nflags; k++)
        if (!refs.used[k])
            problem(problems, file, m->flags[k].pos.line, m->flags[k].name,
                    xasprintf("flag '%s' is defined but no code reads it: remove it from %s",
                              m->flags[k].name, file));
    size_t files = refs.files;
    flag_refs_release(&refs);

    struct store *s = NULL;
    if (m->nflags && !(s = maybe_store(cli))) {
        json_decref(problems);
        return OTAP_EEXTERNAL;
    }
    if (s) {
        rc = lint_fully_on(cli, s, (long long)now, problems, &err);
        store_close(s);
        if (rc < 0) {
            json_decref(problems);
            return cli_fail(cli, rc, &err);
        }
    }
    size_t n = json_array_size(problems);
    cli_emit(cli,
             json_pack("{s:b, s:s, s:I, s:I, s:o}", "ok", n == 0, "file", file, "flags",
                       (json_int_t)m->nflags, "files", (json_int_t)files, "problems", problems),
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
    {
        .name = "set",
        .summary = "targeting rules for one environment (no deploy)",
        .synopsis = "KEY --env ENV (--rule 'ATTR OP VALUE -> on|off[; ...]' | --manifest-rules)",
        .opts =
            (const struct cli_opt[]){
                {"env", 'e', "ENV", "the environment"},
                {"rule", 0, "RULES",
                 "rules in order, ';' between them: 'email ends_with @databiz.nl -> on'"},
                {"manifest-rules", 0, NULL, "back to the rules otap.yaml gives"},
                {0},
            },
        .about = "Operators: equals, in (values separated by ','), starts_with, ends_with,\n"
                 "semver_gte, semver_lt. The first rule that matches decides; an empty --rule ''\n"
                 "means no rules in that environment.\n",
        .run = verb_set,
    },
    {
        .name = "lint",
        .summary =
            "expired flags, flags fully on too long, flags the code reads but nobody defined",
        .synopsis = "[PATH...] [--pattern PCRE2]",
        .opts =
            (const struct cli_opt[]){
                {"pattern", 0, "PCRE2",
                 "how the code reads a flag; the first group is the key (default: OpenFeature, "
                 "Unleash and LaunchDarkly calls)"},
                {0},
            },
        .about = "Problems: a flag past 'expires'; a release or experiment flag set to live\n"
                 "over 30 days; a flag fully on in a protected environment longer than its\n"
                 "max_fully_on (release, experiment: 14 days); a flag key the code reads that\n"
                 "otap.yaml does not define; a defined flag no code mentions. The code is the\n"
                 "project's tree (or the PATHs), without .git, node_modules, build output.\n",
        .run = verb_lint,
    },
    {0},
};

const struct cmd cmd_flags = {
    .name = "flags",
    .summary = "feature flags: default off, owned, expiring, rolled out by percentage",
    .about = "A flag in otap.yaml is off everywhere but the environments its 'on' lists, for\n"
             "the 'rollout' share of users when it has one. enable, disable, rollout and set\n"
             "change an environment's state in the state store with no deploy, each change in\n"
             "the ledger (before and after); a protected environment needs\n"
             "CONFIRM_PROD_MIGRATE=YES. A flag with enable_on_promote is turned on when a\n"
             "promotion there goes live, and put back when it is rolled back.\n",
    .exits = "0 ok, 1 lint found problems, 2 usage or an unknown flag or environment, 3 invalid\n"
             "      manifest, 4 refused (a protected environment), 5 the store failed",
    .flags = CMD_NEEDS_MANIFEST | CMD_REPORTS_JSON,
    .verbs = verbs,
};
