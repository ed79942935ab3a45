/*
 * otap branch check: trunk-based branches. A branch is the trunk, an
 * environment's long-lived branch, or a short-lived one whose name matches
 * the allowed patterns and whose first own commit is younger than
 * release.max_branch_age. Usable as a gate.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "release/branch.h"
#include "base/xalloc.h"
#include "base/banned.h"

static void render(struct cli *cli, json_t *doc, FILE *out)
{
    const char *branch = json_string_value(json_object_get(doc, "branch"));
    const char *why = json_string_value(json_object_get(doc, "kind_reason"));
    json_t *problems = json_object_get(doc, "problems");
    size_t i;
    json_t *p;
    json_array_foreach(problems, i, p)
        fprintf(out, "%serror:%s %s\n", cli_red(cli), cli_reset(cli), json_string_value(p));
    if (!json_array_size(problems) && !cli->quiet)
        fprintf(out, "%sbranch '%s' is fine%s: %s\n", cli_green(cli), branch, cli_reset(cli), why);
}

static int run_check(struct cli *cli, const struct cli_args *args)
{
    int rc = cli_operands_at_most(cli, args, 1);
    if (rc)
        return rc;
    const char *name = args->argc > 1 ? args->argv[1] : NULL;
    struct branch_verdict v;
    struct otap_err err = OTAP_ERR_INIT;
    rc = branch_check(".", cli->m, name, (long long)time(NULL), &v, &err);
    if (rc < 0)
        return cli_fail(cli, rc, &err);
    if (v.unproven.n) {
        rc = cli_refused(cli, "judge the branch", v.unproven.items, v.unproven.n, NULL);
        branch_verdict_release(&v);
        return rc;
    }
    json_t *problems = json_array();
    for (size_t i = 0; i < v.problems.n; i++)
        json_array_append_new(problems, json_string(v.problems.items[i]));
    cli_emit(cli,
             json_pack("{s:b, s:s, s:s, s:s, s:s?, s:s?, s:I, s:I, s:I, s:o}", "ok",
                       v.problems.n == 0, "branch", v.branch, "kind", v.kind, "kind_reason",
                       v.reason, "pattern", v.pattern, "first_commit", v.first_commit,
                       "age_seconds", (json_int_t)v.age_s, "max_age_seconds",
                       (json_int_t)v.max_age_s, "commits", (json_int_t)v.commits, "problems",
                       problems),
             render);
    rc = v.problems.n ? OTAP_EFOUND : 0;
    branch_verdict_release(&v);
    return rc;
}

static const struct cmd verbs[] = {
    {
        .name = "check",
        .summary = "the branch's name is allowed and it is younger than release.max_branch_age",
        .synopsis = "[BRANCH]",
        .about = "BRANCH defaults to the current branch (in CI with a detached HEAD:\n"
                 "GITHUB_HEAD_REF, then GITHUB_REF_NAME). The trunk and environments' literal\n"
                 "branches are long-lived. Any other name must match release.branches (default\n"
                 "feat/*, feature/*, fix/*, chore/*, hotfix/*) or an environment's pattern,\n"
                 "and its life (its oldest commit not on the trunk, by author time) must be\n"
                 "under release.max_branch_age (default 2d).\n",
        .run = run_check,
    },
    {0},
};

const struct cmd cmd_branch = {
    .name = "branch",
    .summary = "trunk-based branches: allowed names, short lives",
    .exits = "0 the branch is fine, 1 its name or age is not, 2 usage or no such branch,\n"
             "      4 its age cannot be proven (the trunk is not here), 5 git cannot be read",
    .flags = CMD_NEEDS_MANIFEST | CMD_REPORTS_JSON,
    .verbs = verbs,
};
