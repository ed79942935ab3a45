/*
 * otap probe: is every service of an environment live, healthy and ready,
 * right now? Each check reports pass or fail with its reason and latency;
 * one failure fails the run (exit 1).
 */
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "base/num.h"
#include "health/probe.h"
#include "probe_out.h"
#include "base/xalloc.h"
#include "base/banned.h"

json_t *probe_results_json(struct probe *p, size_t n)
{
    json_t *a = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(a, json_pack("{s:s?, s:s, s:s, s:b, s:i, s:f, s:i, s:s?}", "service",
                                           p[i].service, "check", probe_check_name(p[i].check),
                                           "url", p[i].url, "ok", p[i].ok, "status",
                                           (int)p[i].status, "latency_ms", p[i].latency_ms,
                                           "attempts", p[i].attempts, "reason", p[i].reason));
    return a;
}

void probe_render_rows(struct cli *cli, json_t *rows, FILE *out)
{
    size_t i;
    json_t *r;
    json_array_foreach(rows, i, r)
    {
        bool ok = json_is_true(json_object_get(r, "ok"));
        if (ok && cli->quiet)
            continue;
        const char *svc = json_string_value(json_object_get(r, "service"));
        const char *why = json_string_value(json_object_get(r, "reason"));
        fprintf(out, "%-10s %-9s %s%-4s%s %6.1f ms  %s%s%s\n", svc ? svc : "-",
                json_string_value(json_object_get(r, "check")), ok ? cli_green(cli) : cli_red(cli),
                ok ? "ok" : "FAIL", cli_reset(cli),
                json_real_value(json_object_get(r, "latency_ms")),
                json_string_value(json_object_get(r, "url")), why ? "  " : "", why ? why : "");
    }
}

static void render(struct cli *cli, json_t *doc, FILE *out)
{
    json_t *rows = json_object_get(doc, "probes");
    probe_render_rows(cli, rows, out);
    int failed = (int)json_integer_value(json_object_get(doc, "failed"));
    int total = (int)json_array_size(rows);
    if (failed)
        fprintf(out, "%d of %d probe%s failed\n", failed, total, total == 1 ? "" : "s");
    else if (!cli->quiet)
        fprintf(out, "%sall %d probe%s passed%s\n", cli_green(cli), total, total == 1 ? "" : "s",
                cli_reset(cli));
}

static int run(struct cli *cli, const struct cli_args *args)
{
    struct probe_opts po = PROBE_OPTS_DEFAULT;
    const char *env_name = cli_opt(args, "env"), *timeout = cli_opt(args, "timeout"),
               *retries = cli_opt(args, "retries");
    long long v;
    if (timeout) {
        if (num_parse_duration(timeout, &v) < 0 || v < 1 || v > 3600)
            return cli_usage_error(cli, "--timeout '%s' is not a duration (e.g. 5s)", timeout);
        po.timeout_ms = (long)v * 1000;
    }
    if (retries) {
        if (num_parse_ll(retries, &v) < 0 || v < 0 || v > 100)
            return cli_usage_error(cli, "--retries '%s' is not a number 0-100", retries);
        po.retries = (int)v;
    }
    int argc = args->argc;
    char **argv = args->argv;
    char **names = NULL, **urls = NULL;
    size_t nnames = 0, nurls = 0, an = 0, au = 0;
    for (int i = 1; i < argc; i++) {
        if (!strncmp(argv[i], "http://", 7) || !strncmp(argv[i], "https://", 8))
            *XPUSH(&urls, &nurls, &au) = argv[i];
        else
            *XPUSH(&names, &nnames, &an) = argv[i];
    }
    int rc = 0;
    struct probe *p = NULL;
    size_t n = 0;
    const struct manifest_env *env = NULL;
    if (!env_name && (nnames || !nurls)) {
        rc = cli_usage_error(cli, "which environment? give --env NAME (or only URLs)");
        goto out;
    }
    if (env_name && !(env = manifest_env_find(cli->m, env_name))) {
        rc = cli_usage_error(cli, "no environment '%s' in the manifest", env_name);
        goto out;
    }
    if (env && (nnames || !nurls)) {
        struct otap_err err = OTAP_ERR_INIT;
        if (probe_plan(cli->m, env, names, nnames, 7u, &p, &n, &err) < 0) {
            rc = cli_usage_error(cli, "%s", err.msg);
            otap_err_release(&err);
            goto out;
        }
        po.environment = env->name;
    }
    size_t alloc = n;
    for (size_t i = 0; i < nurls; i++) {
        struct probe *u = XPUSH(&p, &n, &alloc);
        memset(u, 0, sizeof(*u));
        u->check = PROBE_URL;
        u->url = xstrdup(urls[i]);
    }
    if (!n) {
        rc = cli_error(cli, OTAP_EFOUND, "%s: no service declares a health endpoint to probe",
                       env->name);
        goto out;
    }
    struct otap_err err = OTAP_ERR_INIT;
    if (probe_run(p, n, &po, &err) < 0) {
        rc = cli_error(cli, err.code, "%s", err.msg);
        otap_err_release(&err);
        goto out;
    }
    size_t failed = 0;
    for (size_t i = 0; i < n; i++)
        failed += !p[i].ok;
    cli_emit(cli,
             json_pack("{s:b, s:s?, s:i, s:o}", "ok", failed == 0, "environment",
                       env ? env->name : NULL, "failed", (int)failed, "probes",
                       probe_results_json(p, n)),
             render);
    rc = failed ? OTAP_EFOUND : 0;
out:
    for (size_t i = 0; i < n; i++)
        probe_release(&p[i]);
    free(p);
    free(names);
    free(urls);
    return rc;
}

const struct cmd cmd_probe = {
    .name = "probe",
    .summary = "check the liveness, health and readiness contract of services, now",
    .synopsis = "--env ENV [--timeout DURATION] [--retries N] [SERVICE...] [URL...]\n"
                "URL...",
    .opts =
        (const struct cli_opt[]){
            {"env", 'e', "ENV", "the environment whose services to probe"},
            {"timeout", 0, "DURATION", "each attempt's time limit (default 5s)"},
            {"retries", 0, "N", "retries of a failed check, with backoff (default 2)"},
            {0},
        },
    .about = "Probes every service of ENV (or the SERVICEs named) on each health path it\n"
             "declares, all at once:\n"
             "  liveness   200\n"
             "  health     200 and a JSON body whose \"environment\" is ENV and whose\n"
             "             \"timestamp\" is ISO-8601 and at most 120 s old\n"
             "  readiness  200 and a JSON body whose database status is \"connected\"\n"
             "  URL        200\n"
             "Services of development and test run on 127.0.0.1 at their registry port;\n"
             "other environments need 'urls: { ENV: https://... }' on the service.\n"
             "A failed check is retried (--retries, default 2) with backoff; each attempt\n"
             "times out after --timeout (default 5s). Every check prints pass or fail,\n"
             "its latency and the reason: the status, the body field, a timeout,\n"
             "connection refused.\n",
    .exits = "0 every check passed, 1 one failed, 2 usage, 3 invalid manifest",
    .flags = CMD_NEEDS_MANIFEST | CMD_REPORTS_JSON,
    .run = run,
};
