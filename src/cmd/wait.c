/*
 * otap wait: block until every service of an environment is live (or,
 * with --ready, ready), and say what was still failing when the deadline
 * came. Deploy steps and the demo use it instead of sleeping.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "base/monotime.h"
#include "base/num.h"
#include "health/probe.h"
#include "probe_out.h"
#include "base/xalloc.h"
#include "base/banned.h"

static void render(struct cli *cli, json_t *doc, FILE *out)
{
    const char *env = json_string_value(json_object_get(doc, "environment"));
    const char *what = json_string_value(json_object_get(doc, "waited_for"));
    double secs = json_real_value(json_object_get(doc, "seconds"));
    if (json_is_true(json_object_get(doc, "ok"))) {
        if (!cli->quiet)
            fprintf(out, "%s%s: every service is %s (%.1f s)%s\n", cli_green(cli), env, what, secs,
                    cli_reset(cli));
        return;
    }
    probe_render_rows(cli, json_object_get(doc, "probes"), out);
    fprintf(out, "%s: not %s after %.1f s\n", env, what, secs);
}

static int run(struct cli *cli, const struct cli_args *args)
{
    const char *env_name = cli_opt(args, "env"), *timeout = cli_opt(args, "timeout");
    bool ready = cli_flag(args, "ready");
    long long timeout_s = 60;
    if (timeout &&
        (num_parse_duration(timeout, &timeout_s) < 0 || timeout_s < 1 || timeout_s > 86400))
        return cli_usage_error(cli, "--timeout '%s' is not a duration (e.g. 60s)", timeout);
    if (!env_name)
        return cli_usage_error(cli, "which environment? give --env NAME");
    const struct manifest_env *env = manifest_env_find(cli->m, env_name);
    if (!env)
        return cli_usage_error(cli, "no environment '%s' in the manifest", env_name);

    struct probe *p = NULL;
    size_t n = 0;
    struct otap_err err = OTAP_ERR_INIT;
    unsigned checks = (1u << PROBE_LIVENESS) | (ready ? 1u << PROBE_READINESS : 0);
    if (probe_plan(cli->m, env, args->argv + 1, (size_t)(args->argc - 1), checks, &p, &n, &err) <
        0) {
        int rc = cli_usage_error(cli, "%s", err.msg);
        otap_err_release(&err);
        return rc;
    }
    /* with --ready, a service's readiness stands for its liveness too */
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        bool covered = false;
        if (ready && p[i].check == PROBE_LIVENESS)
            for (size_t j = 0; j < n; j++)
                covered |= p[j].check == PROBE_READINESS && !strcmp(p[j].service, p[i].service);
        if (covered)
            probe_release(&p[i]);
        else
            p[k++] = p[i];
    }
    n = k;
    int rc = 0;
    if (!n) {
        rc = cli_error(cli, OTAP_EFOUND, "%s: no service declares a health endpoint to wait for",
                       env->name);
        goto out;
    }
    struct probe_opts po = PROBE_OPTS_DEFAULT;
    po.environment = env->name;
    po.until_pass = true;
    po.deadline_ms = (long)timeout_s * 1000;
    po.backoff_ms = 100;
    po.timeout_ms = 2000;
    long long t0 = monotime_ns();
    if (probe_run(p, n, &po, &err) < 0) {
        rc = cli_error(cli, err.code, "%s", err.msg);
        otap_err_release(&err);
        goto out;
    }
    double secs = monotime_seconds_since(t0);
    size_t failed = 0;
    for (size_t i = 0; i < n; i++)
        failed += !p[i].ok;
    cli_emit(cli,
             json_pack("{s:b, s:s, s:s, s:f, s:o}", "ok", failed == 0, "environment", env->name,
                       "waited_for", ready ? "ready" : "live", "seconds", secs, "probes",
                       probe_results_json(p, n)),
             render);
    rc = failed ? OTAP_EFOUND : 0;
out:
    for (size_t i = 0; i < n; i++)
        probe_release(&p[i]);
    free(p);
    return rc;
}

const struct cmd cmd_wait = {
    .name = "wait",
    .summary = "wait until every service of an environment is live, or ready",
    .synopsis = "--env ENV [--ready] [--timeout DURATION] [SERVICE...]",
    .opts =
        (const struct cli_opt[]){
            {"env", 'e', "ENV", "the environment whose services to wait for"},
            {"ready", 0, NULL, "wait for readiness, not only liveness"},
            {"timeout", 0, "DURATION", "give up after this long (default 60s)"},
            {0},
        },
    .about = "Probes the services of ENV (or the SERVICEs named) until each passes:\n"
             "liveness, or with --ready the readiness check (200 and the database\n"
             "connected). Returns as soon as all pass; at the deadline (--timeout,\n"
             "default 60s) it lists what was still failing and why.\n",
    .exits = "0 all passed, 1 the deadline came first, 2 usage, 3 invalid manifest",
    .flags = CMD_NEEDS_MANIFEST | CMD_REPORTS_JSON,
    .run = run,
};
