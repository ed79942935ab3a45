/*
 * otap version: the release from the VERSION file and, when built from a
 * git checkout, the commit, so a bug report names the exact build.
 */
#include "cli.h"
#include "base/err.h"
#include "version.h"
#include "base/banned.h"

static void render(struct cli *cli, json_t *doc, FILE *out)
{
    (void)cli;
    const char *commit = json_string_value(json_object_get(doc, "commit"));
    fprintf(out, "otap %s%s%s%s\n", json_string_value(json_object_get(doc, "version")),
            commit ? " (" : "", commit ? commit : "", commit ? ")" : "");
}

static int run(struct cli *cli, const struct cli_args *a)
{
    if (a->argc > 1)
        return cli_usage_error(cli, "'otap version' takes no arguments");
    json_t *doc = json_pack("{s:s}", "version", OTAP_VERSION);
    if (OTAP_GIT_COMMIT[0])
        json_object_set_new(doc, "commit", json_string(OTAP_GIT_COMMIT));
    cli_emit(cli, doc, render);
    return OTAP_OK;
}

const struct cmd cmd_version = {
    .name = "version",
    .summary = "print otap's version and the commit it was built from",
    .synopsis = "[--json]\n--version",
    .exits = "0 ok, 2 usage",
    .flags = CMD_REPORTS_JSON,
    .run = run,
};
