/*
 * otap check: is the manifest valid, and does the port registry follow
 * its rules? Loading already proved the schema (main.c refuses an invalid
 * manifest with exit 3); this adds the registry's rules and reports a
 * summary a user can trust at a glance.
 */
#include <string.h>

#include "cli.h"
#include "base/err.h"
#include "host/ports.h"
#include "base/banned.h"

static void render(struct cli *cli, json_t *doc, FILE *out)
{
    cli_render_diags(cli, json_object_get(doc, "diagnostics"), out);
    json_t *counts = json_object_get(doc, "counts");
    const char *file = json_string_value(json_object_get(doc, "manifest"));
    if (json_is_true(json_object_get(doc, "ok"))) {
        if (cli->quiet)
            return;
        static const struct {
            const char *key, *one, *many;
        } parts[] = {
            {"environments", "environment", "environments"},
            {"services", "service", "services"},
            {"port_blocks", "port block", "port blocks"},
            {"config", "config variable", "config variables"},
            {"gates", "gate", "gates"},
            {"flags", "flag", "flags"},
        };
        fprintf(out, "%s%s: ok%s (", cli_green(cli), file, cli_reset(cli));
        for (size_t p = 0; p < sizeof(parts) / sizeof(parts[0]); p++) {
            int n = (int)json_integer_value(json_object_get(counts, parts[p].key));
            fprintf(out, "%s%d %s", p ? ", " : "", n, n == 1 ? parts[p].one : parts[p].many);
        }
        fprintf(out, ")\n");
    } else {
        int n = (int)json_integer_value(json_object_get(doc, "errors"));
        fprintf(out, "%s: %d problem%s\n", file, n, n == 1 ? "" : "s");
    }
}

static int run(struct cli *cli, const struct cli_args *a)
{
    if (a->argc > 1)
        return cli_usage_error(cli, "'otap check' takes no arguments");
    const struct manifest *m = cli->m;
    struct diag_list dl = cli->warnings;
    memset(&cli->warnings, 0, sizeof(cli->warnings));
    ports_check_registry(m, &dl);
    diag_sort(&dl);
    size_t errors = diag_count(&dl, DIAG_ERROR);
    json_t *doc =
        json_pack("{s:b, s:s, s:i, s:o, s:{s:i, s:i, s:i, s:i, s:i, s:i}}", "ok", errors == 0,
                  "manifest", dl.file, "errors", (int)errors, "diagnostics", cli_diags_json(&dl),
                  "counts", "environments", (int)m->nenvs, "services", (int)m->nservices,
                  "port_blocks", (int)m->ports.nblocks, "config", (int)m->nconfig, "gates",
                  (int)m->ngates, "flags", (int)m->nflags);
    diag_list_release(&dl);
    cli_emit(cli, doc, render);
    return errors ? OTAP_EFOUND : OTAP_OK;
}

const struct cmd cmd_check = {
    .name = "check",
    .summary = "validate otap.yaml and its port registry",
    .synopsis = "[--json]",
    .about = "Validates the manifest (every problem at once, as FILE:LINE:COL: message) and\n"
             "the port registry: ports outside the allowed range, two services on one port,\n"
             "a service port in no block, overlapping blocks (a block nested on purpose says\n"
             "so with 'within: BLOCK').\n",
    .exits = "0 valid, 1 the registry breaks a rule, 3 the manifest is invalid",
    .flags = CMD_NEEDS_MANIFEST | CMD_REPORTS_JSON | CMD_OWNS_WARNINGS,
    .run = run,
};
