/*
 * otap history: the deployments of an environment, newest first.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "state/deploys.h"
#include "base/num.h"
#include "state/store.h"
#include "base/banned.h"

static void render(struct cli *cli, json_t *doc, FILE *out)
{
    size_t i;
    json_t *d;
    json_array_foreach(json_object_get(doc, "deployments"), i, d)
    {
        const char *state = json_string_value(json_object_get(d, "state"));
        const char *v = json_string_value(json_object_get(d, "version"));
        const char *reason = json_string_value(json_object_get(d, "reason"));
        const char *col = !strcmp(state, "live")         ? cli_green(cli)
                          : !strcmp(state, "superseded") ? ""
                                                         : cli_red(cli);
        fprintf(out, "#%-4lld %-10s %s %-11s%s %-8s %-12s %.19s  by %s\n",
                (long long)json_integer_value(json_object_get(d, "id")),
                json_string_value(json_object_get(d, "environment")), col, state, cli_reset(cli),
                json_string_value(json_object_get(d, "kind")), v ? v : "-",
                json_string_value(json_object_get(d, "digest")),
                json_string_value(json_object_get(d, "actor")));
        fprintf(out, "      %s%s%s%s\n", json_string_value(json_object_get(d, "started_at")),
                json_is_string(json_object_get(d, "finished_at")) ? " .. " : "",
                json_is_string(json_object_get(d, "finished_at"))
                    ? json_string_value(json_object_get(d, "finished_at"))
                    : "",
                "");
        if (reason)
            fprintf(out, "      %s\n", reason);
    }
    if (!i && !cli->quiet)
        fprintf(out, "no deployments yet\n");
}

static int run(struct cli *cli, const struct cli_args *args)
{
    const char *env_name = cli_opt(args, "env"), *limit_arg = cli_opt(args, "limit");
    long long limit = 0;
    if (limit_arg && (num_parse_ll(limit_arg, &limit) < 0 || limit < 1))
        return cli_usage_error(cli, "--limit '%s' is not a count", limit_arg);
    int orc = cli_operands_at_most(cli, args, 0);
    if (orc)
        return orc;
    const struct manifest_env *env = NULL;
    if (env_name && !(env = manifest_env_find(cli->m, env_name)))
        return cli_usage_error(cli, "no environment '%s' in the manifest", env_name);
    struct store *s;
    int rc = cli_store_open(cli, &s);
    if (rc < 0)
        return rc;
    struct otap_err err = OTAP_ERR_INIT;
    struct deployment *list = NULL;
    size_t n = 0;
    rc = deploy_list(s, env ? env->name : NULL, limit, &list, &n, &err);
    if (rc < 0) {
        rc = cli_error(cli, rc, "%s", err.msg);
        otap_err_release(&err);
    } else {
        json_t *a = json_array();
        for (size_t i = 0; i < n; i++) {
            const struct deployment *d = &list[i];
            json_array_append_new(
                a, json_pack("{s:I, s:s, s:s, s:s?, s:s, s:s, s:s?, s:s, s:s?, s:s, s:s?}", "id",
                             (json_int_t)d->id, "environment", d->env, "digest", d->digest,
                             "version", d->version, "kind", d->kind, "state", d->state, "previous",
                             d->previous_digest, "started_at", d->started_at, "finished_at",
                             d->finished_at, "actor", d->actor, "reason", d->reason));
        }
        cli_emit(cli,
                 json_pack("{s:b, s:s?, s:o}", "ok", 1, "environment", env ? env->name : NULL,
                           "deployments", a),
                 render);
    }
    deployment_list_release(list, n);
    store_close(s);
    return rc;
}

const struct cmd cmd_history = {
    .name = "history",
    .summary = "the deployments of an environment (or all), newest first",
    .opts =
        (const struct cli_opt[]){
            {"env", 'e', "ENV", "only this environment's deployments"},
            {"limit", 0, "N", "at most N, newest first"},
            {0},
        },
    .about = "Each promotion and rollback: build, state (live, superseded, failed,\n"
             "rolled_back, interrupted, running), who, when, and why it ended as it did.\n"
             "The ledger holds every step ('otap ledger show --env ENV').\n",
    .exits = "0 ok, 2 usage, 5 the store failed",
    .flags = CMD_NEEDS_MANIFEST | CMD_REPORTS_JSON,
    .run = run,
};
