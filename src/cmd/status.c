/*
 * otap status: every environment, what is live there, since when, by
 * whom, whether a promotion is under way, and its health right now.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "backup/backup.h"
#include "state/evidence.h"
#include "state/deploys.h"
#include "health/probe.h"
#include "state/store.h"
#include "base/xalloc.h"
#include "base/banned.h"

/* "healthy", "unhealthy: why", or "unknown: why" for env, probed now. */
static json_t *health_now(const struct manifest *m, const struct manifest_env *env)
{
    struct probe *p = NULL;
    size_t n = 0;
    struct otap_err err = OTAP_ERR_INIT;
    unsigned checks = 1u << PROBE_HEALTH | 1u << PROBE_READINESS;
    json_t *out;
    if (probe_plan(m, env, NULL, 0, checks, &p, &n, &err) < 0) {
        out = json_pack("{s:s, s:s}", "state", "unknown", "reason", err.msg);
        otap_err_release(&err);
        return out;
    }
    struct probe_opts o = PROBE_OPTS_DEFAULT;
    o.environment = env->name;
    o.retries = 0;
    o.timeout_ms = 2000;
    size_t probed = 0, failed = 0;
    char *reason = NULL;
    for (size_t i = 0; i < n; i++)
        probed += !p[i].no_url;
    if (probed && probe_run(p, n, &o, &err) < 0) {
        reason = xstrdup(err.msg);
        otap_err_release(&err);
    }
    for (size_t i = 0; i < n && !reason; i++) {
        if (p[i].no_url || p[i].ok)
            continue;
        failed++;
        reason = xasprintf("%s %s: %s", p[i].service, probe_check_name(p[i].check), p[i].reason);
    }
    if (!probed)
        out = json_pack("{s:s, s:s}", "state", "unknown", "reason",
                        n ? "no service has a URL in this environment"
                          : "no service declares a health or readiness path");
    else if (failed || reason)
        out = json_pack("{s:s, s:s}", "state", "unhealthy", "reason", reason ? reason : "?");
    else
        out = json_pack("{s:s, s:I}", "state", "healthy", "probes", (json_int_t)probed);
    free(reason);
    for (size_t i = 0; i < n; i++)
        probe_release(&p[i]);
    free(p);
    return out;
}

/* The live build's last CI result per gate, on one line. */
static void render_ci(struct cli *cli, json_t *ci, FILE *out)
{
    if (!json_object_size(ci))
        return;
    fprintf(out, "%12s ci:", "");
    const char *key;
    json_t *g;
    const char *url = NULL;
    json_object_foreach(ci, key, g)
    {
        bool pass = !strcmp(json_string_value(json_object_get(g, "result")), "pass");
        fprintf(out, " %s %s%s%s", key, pass ? cli_green(cli) : cli_red(cli),
                pass ? "pass" : "fail", cli_reset(cli));
        if (json_is_string(json_object_get(g, "url")))
            url = json_string_value(json_object_get(g, "url"));
    }
    if (url)
        fprintf(out, " (%s)", url);
    fputc('\n', out);
}

const char *cli_bytes(char buf[32], long long n)
{
    if (n < 1024)
        snprintf(buf, 32, "%lld B", n);
    else if (n < (1LL << 20))
        snprintf(buf, 32, "%.1f KiB", (double)n / 1024);
    else if (n < (1LL << 30))
        snprintf(buf, 32, "%.1f MiB", (double)n / (1 << 20));
    else
        snprintf(buf, 32, "%.2f GiB", (double)n / (1LL << 30));
    return buf;
}

void cli_render_backup(struct cli *cli, json_t *b, FILE *out)
{
    char sz[32];
    json_t *last = json_object_get(b, "last"), *drill = json_object_get(b, "drill");
    if (!json_is_object(last) && !json_is_object(drill))
        return;
    fprintf(out, "%12s backup:", "");
    if (json_is_object(last))
        fprintf(out, " last %s (%s)", json_string_value(json_object_get(last, "finished")),
                cli_bytes(sz, json_integer_value(json_object_get(last, "size"))));
    else
        fprintf(out, " none");
    if (json_is_object(drill)) {
        bool ok = json_is_true(json_object_get(drill, "ok"));
        fprintf(out, "; drill %s%s%s %s (RTO %.1f s)", ok ? cli_green(cli) : cli_red(cli),
                ok ? "passed" : "failed", cli_reset(cli),
                json_string_value(json_object_get(drill, "at")),
                (double)json_integer_value(json_object_get(drill, "rto_ms")) / 1000);
    } else {
        fprintf(out, "; never drilled");
    }
    fputc('\n', out);
}

static void render(struct cli *cli, json_t *doc, FILE *out)
{
    size_t i;
    json_t *e;
    json_array_foreach(json_object_get(doc, "environments"), i, e)
    {
        json_t *live = json_object_get(e, "live");
        json_t *h = json_object_get(e, "health");
        json_t *lock = json_object_get(e, "promoting");
        fprintf(out, "%s%-12s%s ", cli_bold(cli), json_string_value(json_object_get(e, "name")),
                cli_reset(cli));
        if (live) {
            const char *v = json_string_value(json_object_get(live, "version"));
            fprintf(out, "%s %.19s  since %s by %s", v ? v : "-",
                    json_string_value(json_object_get(live, "digest")),
                    json_string_value(json_object_get(live, "since")),
                    json_string_value(json_object_get(live, "by")));
        } else {
            fprintf(out, "nothing live");
        }
        if (h) {
            const char *st = json_string_value(json_object_get(h, "state"));
            const char *col = !strcmp(st, "healthy")     ? cli_green(cli)
                              : !strcmp(st, "unhealthy") ? cli_red(cli)
                                                         : cli_yellow(cli);
            const char *why = json_string_value(json_object_get(h, "reason"));
            fprintf(out, "  %s%s%s%s%s", col, st, cli_reset(cli), why ? ": " : "", why ? why : "");
        }
        fputc('\n', out);
        render_ci(cli, json_object_get(live, "ci"), out);
        cli_render_backup(cli, json_object_get(e, "backup"), out);
        if (lock)
            fprintf(out, "%12s being promoted by %s since %s (pid %lld on %s)\n", "",
                    json_string_value(json_object_get(lock, "by")),
                    json_string_value(json_object_get(lock, "since")),
                    (long long)json_integer_value(json_object_get(lock, "pid")),
                    json_string_value(json_object_get(lock, "host")));
    }
}

static int run(struct cli *cli, const struct cli_args *args)
{
    bool probe = !cli_flag(args, "no-probe");
    int orc = cli_operands_at_most(cli, args, 0);
    if (orc)
        return orc;
    struct store *s;
    int rc = cli_store_open(cli, &s);
    if (rc < 0)
        return rc;
    struct otap_err err = OTAP_ERR_INIT;
    json_t *envs = json_array();
    for (size_t i = 0; rc == 0 && i < cli->m->nenvs; i++) {
        const struct manifest_env *env = &cli->m->envs[i];
        json_t *e = json_pack("{s:s, s:s, s:b}", "name", env->name, "stage",
                              manifest_stage_letter(env->stage), "protected", env->protected);
        struct deployment d;
        bool found = false;
        rc = deploy_live(s, env->name, &d, &found, &err);
        json_t *ci = NULL;
        if (rc == 0 && found)
            rc = gate_results_latest(s, d.digest, &ci, &err);
        if (rc == 0 && found)
            json_object_set_new(e, "live",
                                json_pack("{s:s, s:s?, s:s, s:s, s:I, s:o}", "digest", d.digest,
                                          "version", d.version, "since",
                                          d.finished_at ? d.finished_at : d.started_at, "by",
                                          d.actor, "deployment", (json_int_t)d.id, "ci", ci));
        else
            json_decref(ci);
        deployment_release(&d);
        struct deploy_holder h;
        bool held = false;
        if (rc == 0)
            rc = deploy_lock_holder(s, env->name, &h, &held, &err);
        if (rc == 0 && held)
            json_object_set_new(e, "promoting",
                                json_pack("{s:s, s:s, s:s, s:I}", "by", h.actor, "since", h.since,
                                          "host", h.host, "pid", (json_int_t)h.pid));
        deploy_holder_release(&h);
        json_t *bk = NULL, *drill = NULL;
        if (rc == 0)
            rc = bk_last(s, env->name, &bk, &drill, &err);
        if (bk || drill)
            json_object_set_new(e, "backup",
                                json_pack("{s:o, s:o}", "last", bk ? bk : json_null(), "drill",
                                          drill ? drill : json_null()));
        if (probe)
            json_object_set_new(e, "health", health_now(cli->m, env));
        json_array_append_new(envs, e);
    }
    if (rc < 0) {
        json_decref(envs);
        rc = cli_error(cli, rc, "%s", err.msg);
        otap_err_release(&err);
    } else {
        cli_emit(
            cli,
            json_pack("{s:b, s:s, s:o}", "ok", 1, "store", store_describe(s), "environments", envs),
            render);
    }
    store_close(s);
    return rc;
}

const struct cmd cmd_status = {
    .name = "status",
    .summary = "what is live in every environment, since when, by whom, healthy now",
    .opts =
        (const struct cli_opt[]){
            {"no-probe", 0, NULL, "do not probe the services' health now"},
            {0},
        },
    .about = "For each environment in promotion order: the live build (version and\n"
             "digest), since when and who promoted it, a promotion under way, and its\n"
             "health right now (the health and readiness probes of its services).\n",
    .exits = "0 ok, 2 usage, 5 the store failed",
    .flags = CMD_NEEDS_MANIFEST | CMD_REPORTS_JSON,
    .run = run,
};
