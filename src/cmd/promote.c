/*
 * otap promote and otap rollback: one build through O -> T -> A -> P, and
 * back. Both go through promote_run(), which the server calls too.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/actor.h"
#include "cli.h"
#include "base/num.h"
#include "deploy/promote.h"
#include "state/store.h"
#include "base/xalloc.h"
#include "base/banned.h"

extern char **environ;

static void progress(void *ctx, const char *line)
{
    struct cli *cli = ctx;
    if (!cli->quiet)
        fprintf(stderr, "%s\n", line);
}

static json_t *result_json(const struct promote_result *res)
{
    json_t *steps = json_array();
    for (size_t i = 0; i < res->nsteps; i++) {
        const struct promote_step *s = &res->steps[i];
        json_array_append_new(steps,
                              json_pack("{s:s, s:b, s:I, s:s?}", "step", s->name, "ok", s->ok, "ms",
                                        (json_int_t)s->ms, "detail", s->detail));
    }
    json_t *doc = json_pack("{s:s, s:s?, s:s?, s:s?, s:b, s:o}", "environment",
                            res->env ? res->env->name : "", "digest",
                            res->have_build ? res->build.digest : NULL, "version",
                            res->have_build ? res->build.version : NULL, "previous",
                            res->have_previous ? res->previous.digest : NULL, "already_live",
                            res->already_live, "steps", steps);
    if (res->deployment_id)
        json_object_set_new(doc, "deployment", json_integer(res->deployment_id));
    if (res->failed_step)
        json_object_set_new(doc, "failure",
                            json_pack("{s:s, s:s, s:b, s:b, s:s?}", "step", res->failed_step,
                                      "reason", res->failure, "rolled_back", res->rolled_back,
                                      "rollback_ok", res->rollback_ok, "rollback",
                                      res->rollback_detail));
    if (res->smoke_requests)
        json_object_set_new(doc, "smoke",
                            json_pack("{s:I, s:f, s:f}", "requests",
                                      (json_int_t)res->smoke_requests, "p95_ms", res->p95_ms,
                                      "error_rate", res->error_rate));
    return doc;
}

static void render(struct cli *cli, json_t *doc, FILE *out)
{
    const char *env = json_string_value(json_object_get(doc, "environment"));
    const char *v = json_string_value(json_object_get(doc, "version"));
    const char *d = json_string_value(json_object_get(doc, "digest"));
    if (json_is_true(json_object_get(doc, "already_live"))) {
        fprintf(out, "%s is live in %s already; nothing to do\n", v ? v : d, env);
        return;
    }
    json_t *f = json_object_get(doc, "failure");
    if (!f) {
        fprintf(out, "%s%s is live in %s%s (%s)\n", cli_green(cli), v ? v : d, env, cli_reset(cli),
                d);
        return;
    }
    fprintf(out, "%s%s failed in %s at %s:%s %s\n", cli_red(cli), v ? v : d, env,
            json_string_value(json_object_get(f, "step")), cli_reset(cli),
            json_string_value(json_object_get(f, "reason")));
    const char *rb = json_string_value(json_object_get(f, "rollback"));
    if (rb)
        fprintf(out, "%srolled back:%s %s\n",
                json_is_true(json_object_get(f, "rollback_ok")) ? cli_yellow(cli) : cli_red(cli),
                cli_reset(cli), rb);
}

struct opts {
    const char *env, *artifact;
    long wait_ms, ready_ms;
};

static int parse(struct cli *cli, const struct cli_args *args, bool rollback, struct opts *o)
{
    memset(o, 0, sizeof(*o));
    o->ready_ms = 60000;
    if (rollback) {
        o->env = cli_opt(args, "env");
        o->artifact = cli_opt(args, "to");
    } else {
        o->env = cli_opt(args, "to");
    }
    const char *names[] = {"wait", "ready-timeout"};
    long *slots[] = {&o->wait_ms, &o->ready_ms};
    for (size_t i = 0; i < 2; i++) {
        const char *v = cli_opt(args, names[i]);
        long long sec;
        if (!v)
            continue;
        if (num_parse_duration(v, &sec) < 0 || sec < 0 || sec > 86400)
            return cli_usage_error(cli, "--%s '%s' is not a duration (e.g. 60s)", names[i], v);
        *slots[i] = (long)sec * 1000;
    }
    if (!rollback) {
        if (args->argc < 2)
            return cli_usage_error(cli, "which build? give its version or digest");
        o->artifact = args->argv[1];
    }
    int rc = cli_operands_at_most(cli, args, rollback ? 0 : 1);
    if (rc)
        return rc;
    if (!o->env)
        return cli_usage_error(cli, rollback ? "which environment? give --env ENV"
                                             : "to which environment? give --to ENV");
    return 0;
}

static int go(struct cli *cli, const struct cli_args *args, bool rollback)
{
    struct opts o;
    int rc = parse(cli, args, rollback, &o);
    if (rc < 0)
        return rc;
    if (!manifest_env_find(cli->m, o.env))
        return cli_usage_error(cli, "no environment '%s' in the manifest", o.env);
    struct store *s;
    if ((rc = cli_store_open(cli, &s)) < 0)
        return rc;
    char *actor = actor_name();
    struct promote_request rq = {
        .m = cli->m,
        .manifest_name = cli_manifest_name(cli),
        .store = s,
        .env = o.env,
        .artifact = o.artifact,
        .rollback = rollback,
        .lock_wait_ms = o.wait_ms,
        .ready_timeout_ms = o.ready_ms,
        .actor = actor,
        .process_env = environ,
        .log = progress,
        .log_ctx = cli,
    };
    struct promote_result res;
    struct otap_err err = OTAP_ERR_INIT;
    rc = promote_run(&rq, &res, &err);
    const struct manifest_env *env = manifest_env_find(cli->m, o.env);
    if (rc == OTAP_EREFUSED && res.nrefusals) {
        char *what = rollback ? xasprintf("roll %s back", env->name)
                              : xasprintf("promote %s to %s", o.artifact, env->name);
        rc = cli_refused(cli, what, res.refusals, res.nrefusals, result_json(&res));
        free(what);
    } else if (rc == OTAP_EREFUSED || rc == OTAP_EUSAGE || rc == OTAP_ENOTFOUND ||
               (rc < 0 && !res.nsteps)) {
        rc = rc == OTAP_EREFUSED
                 ? cli_refused(cli, rollback ? "roll back" : "promote", &err.msg, 1, NULL)
                 : cli_fail(cli, rc, &err);
    } else {
        json_t *doc = result_json(&res);
        json_object_set_new(doc, "ok", json_boolean(rc == 0));
        if (rc < 0 && err.msg)
            json_object_set_new(doc, "error", json_pack("{s:s}", "message", err.msg));
        cli_emit(cli, doc, render);
    }
    promote_result_release(&res);
    otap_err_release(&err);
    free(actor);
    store_close(s);
    return rc;
}

/* The preconditions, from the table promote judges by. */
static void conditions_help(FILE *out)
{
    fputs("\npreconditions, in the order they are judged:\n", out);
    const struct promote_condition *c;
    for (size_t i = 0; (c = promote_condition_at(i)); i++) {
        char *text = xasprintf("%s%s", c->summary, c->rollback ? "" : " (not for a rollback)");
        fprintf(out, "  %-10s ", c->id);
        cli_print_wrapped(out, 13, 13, text);
        free(text);
    }
}

static int run_promote(struct cli *cli, const struct cli_args *args)
{
    return go(cli, args, false);
}

static int run_rollback(struct cli *cli, const struct cli_args *args)
{
    return go(cli, args, true);
}

#define WAIT_OPTS                                                                                  \
    {"wait", 0, "DURATION", "wait this long for a promotion under way (default: refuse at once)"}, \
    {                                                                                              \
        "ready-timeout", 0, "DURATION", "how long the service may take to be ready (default 60s)"  \
    }

const struct cmd cmd_promote = {
    .name = "promote",
    .summary = "promote one build to the next stage: gated, recorded, rolled back on failure",
    .synopsis = "BUILD --to ENV [--wait DURATION] [--ready-timeout DURATION]",
    .opts =
        (const struct cli_opt[]){
            {"to", 0, "ENV", "the environment to promote to"},
            WAIT_OPTS,
            {0},
        },
    .about = "BUILD (a version, digest or digest prefix) goes to ENV only when every\n"
             "condition below holds; otherwise nothing happens and each unmet one is listed.\n"
             "Then, each step in the ledger: migrate, deploy, ready (readiness until\n"
             "it passes or --ready-timeout, default 60s), smoke (health contract and\n"
             "a burst against slo.p95_ms and slo.error_rate), live. When deploy, ready\n"
             "or smoke fails, ENV goes back to its previous live build by itself.\n"
             "\n"
             "One promotion per environment at a time: another one refuses at once, or\n"
             "waits up to --wait. A promotion whose otap died is marked interrupted by\n"
             "the next otap command.\n",
    .exits = "0 live, 1 the service failed ready or smoke (rolled back), 2 usage,\n"
             "      4 refused (every unmet condition listed), 5 migrate, deploy or the\n"
             "      store failed",
    .more_help = conditions_help,
    .flags = CMD_NEEDS_MANIFEST | CMD_REPORTS_JSON,
    .run = run_promote,
};

const struct cmd cmd_rollback = {
    .name = "rollback",
    .summary = "redeploy an earlier live build of an environment",
    .opts =
        (const struct cli_opt[]){
            {"env", 'e', "ENV", "the environment to roll back"},
            {"to", 0, "BUILD", "the build to go back to (default: the one live before)"},
            WAIT_OPTS,
            {0},
        },
    .about = "Redeploys the build that was live in ENV before the current one, or\n"
             "BUILD (a version or digest that was live in ENV before): \"redeploy the\n"
             "previous tag\". Gates are not asked again (the build passed\n"
             "them to get there); migrations are not run (they only go forward). The\n"
             "config contract, the driver, the readiness probe and the database marker\n"
             "must hold, and the same steps (deploy, ready, smoke, live) are recorded.\n",
    .exits = "0 live, 1 the service failed ready or smoke, 2 usage, 4 refused,\n"
             "      5 deploy or the store failed",
    .more_help = conditions_help,
    .flags = CMD_NEEDS_MANIFEST | CMD_REPORTS_JSON,
    .run = run_rollback,
};
