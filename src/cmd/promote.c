/*
 * otap promote and otap rollback: one build through O -> T -> A -> P, and
 * back. Both go through promote_run(), which the server calls too.
 */
#include <getopt.h>
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

static int parse(struct cli *cli, int argc, char **argv, bool rollback, struct opts *o)
{
    static const struct option opts[] = {
        {"to", required_argument, NULL, 't'},
        {"env", required_argument, NULL, 'e'},
        {"wait", required_argument, NULL, 'w'},
        {"ready-timeout", required_argument, NULL, 'r'},
        {NULL, 0, NULL, 0},
    };
    memset(o, 0, sizeof(*o));
    o->ready_ms = 60000;
    int c;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "e:", opts, NULL)) != -1) {
        if (c == 't') {
            *(rollback ? &o->artifact : &o->env) = optarg;
        } else if (c == 'e' && rollback) {
            o->env = optarg;
        } else if (c == 'w' || c == 'r') {
            long long sec;
            if (num_parse_duration(optarg, &sec) < 0 || sec < 0 || sec > 86400)
                return cli_usage_error(cli, "--%s '%s' is not a duration (e.g. 60s)",
                                       c == 'w' ? "wait" : "ready-timeout", optarg);
            *(c == 'w' ? &o->wait_ms : &o->ready_ms) = (long)sec * 1000;
        } else {
            return cli_usage_error(cli, "unknown option '%s'", argv[optind - 1]);
        }
    }
    if (!rollback) {
        if (optind >= argc)
            return cli_usage_error(cli, "which build? give its version or digest");
        o->artifact = argv[optind++];
    }
    if (optind < argc)
        return cli_usage_error(cli, "unexpected argument '%s'", argv[optind]);
    if (!o->env)
        return cli_usage_error(cli, rollback ? "which environment? give --env ENV"
                                             : "to which environment? give --to ENV");
    return 0;
}

static int go(struct cli *cli, int argc, char **argv, bool rollback)
{
    struct opts o;
    int rc = parse(cli, argc, argv, rollback, &o);
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
    } else if (rc == OTAP_EREFUSED || rc == OTAP_EUSAGE || (rc < 0 && !res.nsteps)) {
        rc = rc == OTAP_EUSAGE ? cli_usage_error(cli, "%s", err.msg)
             : rc == OTAP_EREFUSED
                 ? cli_refused(cli, rollback ? "roll back" : "promote", &err.msg, 1, NULL)
                 : cli_error(cli, rc, "%s", err.msg);
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

static int run_promote(struct cli *cli, int argc, char **argv)
{
    return go(cli, argc, argv, false);
}

static int run_rollback(struct cli *cli, int argc, char **argv)
{
    return go(cli, argc, argv, true);
}

const struct cmd cmd_promote = {
    .name = "promote",
    .summary = "promote one build to the next stage: gated, recorded, rolled back on failure",
    .usage = "usage: otap promote BUILD --to ENV [--wait DURATION] [--ready-timeout DURATION]\n"
             "\n"
             "BUILD (a version, digest or digest prefix) goes to ENV only when every\n"
             "condition holds; otherwise nothing happens and each unmet one is listed:\n"
             "  - it is live in the stage before ENV (any build may enter the first)\n"
             "  - each gate ENV requires passed for this build ('otap gate record');\n"
             "    'signoff': it was signed off in the stage before ('otap signoff')\n"
             "  - ENV's config contract holds ('otap env check --env ENV')\n"
             "  - ENV's driver can deploy it, and a readiness probe can prove it\n"
             "  - the database marker says ENV's, and on a protected ENV the hard lock\n"
             "    holds (CONFIRM_PROD_MIGRATE=YES...) and the migrations lint clean\n"
             "Then, each step in the ledger: migrate, deploy, ready (readiness until\n"
             "it passes or --ready-timeout, default 60s), smoke (health contract and\n"
             "a burst against slo.p95_ms and slo.error_rate), live. When deploy, ready\n"
             "or smoke fails, ENV goes back to its previous live build by itself.\n"
             "\n"
             "One promotion per environment at a time: another one refuses at once, or\n"
             "waits up to --wait. A promotion whose otap died is marked interrupted by\n"
             "the next otap command.\n"
             "\n"
             "exit: 0 live, 1 the service failed ready or smoke (rolled back), 2 usage,\n"
             "      4 refused (every unmet condition listed), 5 migrate, deploy or the\n"
             "      store failed\n",
    .flags = CMD_NEEDS_MANIFEST | CMD_REPORTS_JSON,
    .run = run_promote,
};

const struct cmd cmd_rollback = {
    .name = "rollback",
    .summary = "redeploy an earlier live build of an environment",
    .usage = "usage: otap rollback --env ENV [--to BUILD] [--wait DURATION]\n"
             "                     [--ready-timeout DURATION]\n"
             "\n"
             "Redeploys the build that was live in ENV before the current one, or\n"
             "BUILD (a version or digest that was live in ENV before): the seeds'\n"
             "\"redeploy the previous tag\". Gates are not asked again (the build passed\n"
             "them to get there); migrations are not run (they only go forward). The\n"
             "config contract, the driver, the readiness probe and the database marker\n"
             "must hold, and the same steps (deploy, ready, smoke, live) are recorded.\n"
             "\n"
             "exit: 0 live, 1 the service failed ready or smoke, 2 usage, 4 refused,\n"
             "      5 deploy or the store failed\n",
    .flags = CMD_NEEDS_MANIFEST | CMD_REPORTS_JSON,
    .run = run_rollback,
};
