/*
 * otap wait: block until every service of an environment is live (or,
 * with --ready, ready), and say what was still failing when the deadline
 * came. Deploy steps and the demo use it instead of sleeping.
 */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
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

static int run(struct cli *cli, int argc, char **argv)
{
    static const struct option opts[] = {
        {"env", required_argument, NULL, 'e'},
        {"ready", no_argument, NULL, 'r'},
        {"timeout", required_argument, NULL, 't'},
        {NULL, 0, NULL, 0},
    };
    const char *env_name = NULL;
    bool ready = false;
    long long timeout_s = 60;
    int c;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "e:", opts, NULL)) != -1) {
        if (c == 'e')
            env_name = optarg;
        else if (c == 'r')
            ready = true;
        else if (c == 't') {
            if (num_parse_duration(optarg, &timeout_s) < 0 || timeout_s < 1 || timeout_s > 86400)
                return cli_usage_error(cli, "--timeout '%s' is not a duration (e.g. 60s)", optarg);
        } else {
            return cli_usage_error(cli, "unknown option '%s'", argv[optind - 1]);
        }
    }
    if (!env_name)
        return cli_usage_error(cli, "which environment? give --env NAME");
    const struct manifest_env *env = manifest_env_find(cli->m, env_name);
    if (!env)
        return cli_usage_error(cli, "no environment '%s' in the manifest", env_name);

    struct probe *p = NULL;
    size_t n = 0;
    struct otap_err err = OTAP_ERR_INIT;
    unsigned checks = (1u << PROBE_LIVENESS) | (ready ? 1u << PROBE_READINESS : 0);
    if (probe_plan(cli->m, env, argv + optind, (size_t)(argc - optind), checks, &p, &n, &err) < 0) {
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
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    if (probe_run(p, n, &po, &err) < 0) {
        rc = cli_error(cli, err.code, "%s", err.msg);
        otap_err_release(&err);
        goto out;
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    size_t failed = 0;
    for (size_t i = 0; i < n; i++)
        failed += !p[i].ok;
    double secs = (double)(t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9;
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
    .usage = "usage: otap wait --env ENV [--ready] [--timeout DURATION] [SERVICE...]\n"
             "\n"
             "Probes the services of ENV (or the SERVICEs named) until each passes:\n"
             "liveness, or with --ready the readiness check (200 and the database\n"
             "connected). Returns as soon as all pass; at the deadline (--timeout,\n"
             "default 60s) it lists what was still failing and why.\n"
             "\n"
             "exit: 0 all passed, 1 the deadline came first, 2 usage, 3 invalid manifest\n",
    .flags = CMD_NEEDS_MANIFEST | CMD_REPORTS_JSON,
    .run = run,
};
