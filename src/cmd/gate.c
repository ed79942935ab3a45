/*
 * otap gate record: CI reports a gate's result for one build.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/actor.h"
#include "state/artifact.h"
#include "cli.h"
#include "state/evidence.h"
#include "state/store.h"
#include "base/banned.h"

static void render(struct cli *cli, json_t *doc, FILE *out)
{
    bool pass = !strcmp(json_string_value(json_object_get(doc, "result")), "pass");
    fprintf(out, "gate %s: %s%s%s for %s (#%lld)\n",
            json_string_value(json_object_get(doc, "gate")), pass ? cli_green(cli) : cli_red(cli),
            pass ? "pass" : "fail", cli_reset(cli),
            json_string_value(json_object_get(doc, "build")),
            (long long)json_integer_value(json_object_get(doc, "id")));
}

static int run_record(struct cli *cli, const struct cli_args *args)
{
    const char *ref = cli_opt(args, "artifact"), *result = cli_opt(args, "result"),
               *url = cli_opt(args, "url");
    if (args->argc < 2)
        return cli_usage_error(cli, "which gate? give its NAME");
    const char *gate = args->argv[1];
    int orc = cli_operands_at_most(cli, args, 1);
    if (orc)
        return orc;
    if (!ref)
        return cli_usage_error(cli, "which build? give --artifact VERSION|DIGEST");
    if (!result || (strcmp(result, "pass") && strcmp(result, "fail")))
        return cli_usage_error(cli, "give --result pass or --result fail");
    /* the manifest's gates and the built-ins CI runs; signoff, tag, drill are no CI results */
    bool ci_builtin = manifest_gate_is_builtin(gate) && !manifest_gate_at_promotion(gate);
    if (!manifest_gate_find(cli->m, gate) && !ci_builtin)
        return cli_usage_error(
            cli, "the manifest has no gate '%s'%s", gate,
            !strcmp(gate, MANIFEST_REQ_SIGNOFF) ? " (a sign-off is recorded with 'otap signoff')"
            : manifest_gate_at_promotion(gate)  ? " (that gate is judged when promoting)"
                                                : "");
    if (url && strncmp(url, "https://", 8) && strncmp(url, "http://", 7))
        return cli_usage_error(cli, "--url '%s' is not an http(s) URL", url);
    struct store *s;
    int rc = cli_store_open(cli, &s);
    if (rc < 0)
        return rc;
    struct otap_err err = OTAP_ERR_INIT;
    struct artifact a;
    char *actor = actor_name();
    long long id = 0;
    rc = artifact_find(s, ref, &a, &err);
    if (rc == 0)
        rc = gate_record(s, &a, gate, !strcmp(result, "pass"), url, actor, &id, &err);
    if (rc < 0) {
        rc = cli_fail(cli, rc, &err);
    } else {
        char *label = artifact_label(&a);
        cli_emit(cli,
                 json_pack("{s:b, s:I, s:s, s:s, s:s, s:s, s:s?}", "ok", 1, "id", (json_int_t)id,
                           "gate", gate, "result", result, "digest", a.digest, "build", label,
                           "url", url),
                 render);
        free(label);
    }
    artifact_release(&a);
    otap_err_release(&err);
    free(actor);
    store_close(s);
    return rc;
}

static const struct cmd verbs[] = {
    {
        .name = "record",
        .summary = "record a gate's result for one build",
        .synopsis = "NAME --artifact BUILD --result pass|fail [--url URL]",
        .opts =
            (const struct cli_opt[]){
                {"artifact", 0, "BUILD", "the build CI tested: its version, digest or a prefix"},
                {"result", 0, "RESULT", "pass or fail"},
                {"url", 0, "URL", "the CI run (http or https)"},
                {0},
            },
        .run = run_record,
    },
    {0},
};

const struct cmd cmd_gate = {
    .name = "gate",
    .summary = "record a gate's result (CI green or red) for one build",
    .about = "CI reports a gate of the manifest ('gates:') for the build it tested; an\n"
             "environment that 'requires' the gate takes only a pass recorded for the\n"
             "very build being promoted, the latest result for it counting.\n",
    .exits = "0 recorded, 2 usage (unknown gate or build), 5 the store failed",
    .flags = CMD_NEEDS_MANIFEST | CMD_REPORTS_JSON,
    .verbs = verbs,
};
