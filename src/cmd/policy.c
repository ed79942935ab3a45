/*
 * otap policy check: the manifest's policies over the project's files
 * (src/lib/ci/policy.c); each broken rule as file:line, exit 1.
 */
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "ci/policy.h"
#include "base/banned.h"

static void render(struct cli *cli, json_t *doc, FILE *out)
{
    size_t i;
    json_t *f;
    json_array_foreach(json_object_get(doc, "findings"), i, f)
    {
        const char *excerpt = json_string_value(json_object_get(f, "excerpt"));
        fprintf(out, "%s:%lld: %serror:%s %s: %s\n", json_string_value(json_object_get(f, "file")),
                (long long)json_integer_value(json_object_get(f, "line")), cli_red(cli),
                cli_reset(cli), json_string_value(json_object_get(f, "policy")),
                json_string_value(json_object_get(f, "message")));
        if (excerpt)
            fprintf(out, "    %s\n", excerpt);
    }
    long long n = (long long)json_array_size(json_object_get(doc, "findings"));
    long long files = json_integer_value(json_object_get(doc, "files_checked"));
    long long rules = json_integer_value(json_object_get(doc, "policies"));
    if (n)
        fprintf(out, "%lld problem%s in %lld file%s checked\n", n, n == 1 ? "" : "s", files,
                files == 1 ? "" : "s");
    else if (!cli->quiet)
        fprintf(out, "%s%lld polic%s hold%s over %lld file%s%s\n", cli_green(cli), rules,
                rules == 1 ? "y" : "ies", rules == 1 ? "s" : "", files, files == 1 ? "" : "s",
                cli_reset(cli));
}

static int run_check(struct cli *cli, const struct cli_args *args)
{
    int rc = cli_operands_at_most(cli, args, 0);
    if (rc)
        return rc;
    const char *since = cli_opt(args, "changed-since");
    struct policy_report r;
    struct otap_err err = OTAP_ERR_INIT;
    rc = policy_check(cli->m, ".", since, &r, &err);
    if (rc < 0)
        return cli_fail(cli, rc, &err);
    json_t *findings = json_array();
    for (size_t i = 0; i < r.n; i++) {
        const struct policy_finding *f = &r.items[i];
        char *msg = f->rule->message
                        ? strdup(f->rule->message)
                        : (f->rule->must_not ? strdup("the file holds what the policy forbids")
                                             : strdup("the file lacks what the policy requires"));
        json_array_append_new(findings,
                              json_pack("{s:s, s:i, s:s, s:s, s:s, s:s?}", "file", f->file, "line",
                                        f->line, "policy", f->rule->name, "kind",
                                        f->rule->must_not ? "must_not_contain" : "must_contain",
                                        "message", msg, "excerpt", f->excerpt));
        free(msg);
    }
    cli_emit(cli,
             json_pack("{s:b, s:I, s:I, s:o}", "ok", r.n == 0, "policies",
                       (json_int_t)cli->m->npolicies, "files_checked", (json_int_t)r.files_checked,
                       "findings", findings),
             render);
    rc = r.n ? OTAP_EFOUND : 0;
    policy_report_release(&r);
    return rc;
}

static const struct cmd verbs[] = {
    {
        .name = "check",
        .summary = "check the manifest's policies over the project's files",
        .opts =
            (const struct cli_opt[]){
                {"changed-since", 0, "REV", "only the files changed since REV (and uncommitted)"},
                {0},
            },
        .about = "Policies ('policies:' in otap.yaml) are { name, files: GLOB, must_contain:\n"
                 "REGEX } or { name, files: GLOB, must_not_contain: REGEX }, each with a\n"
                 "message. A file matching files that lacks must_contain is reported at line 1;\n"
                 "each line where must_not_contain matches is reported. Tracked files only in a\n"
                 "git repository; files over 4 MiB and binary files are not read.\n",
        .run = run_check,
    },
    {0},
};

const struct cmd cmd_policy = {
    .name = "policy",
    .summary = "rules over the project's files: what must and must not be in them",
    .exits = "0 every policy holds, 1 a file breaks one, 2 usage (an unknown revision),\n"
             "      3 invalid manifest, 5 a file or git cannot be read",
    .flags = CMD_NEEDS_MANIFEST | CMD_REPORTS_JSON,
    .verbs = verbs,
};
