/*
 * otap plan [FILE] [--budget N] [--format table|markdown|csv]: a task list
 * (YAML or CSV, seed 003's columns) in dependency order, in batches under a
 * review budget, with its critical path (src/lib/plan/).
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "base/num.h"
#include "base/strbuf.h"
#include "base/xalloc.h"
#include "plan/plan.h"
#include "base/banned.h"

static json_t *task_json(const struct plan_task *x, const struct plan *p, size_t idx,
                         const struct plan_tasks *t)
{
    json_t *deps = json_array();
    for (size_t k = 0; k < p->ndeps[idx]; k++)
        json_array_append_new(deps, json_string(t->items[p->deps[idx][k]].id));
    return json_pack("{s:s, s:s?, s:s?, s:s, s:s, s:o, s:I, s:s?, s:s?, s:i}", "id", x->id, "title",
                     x->title, "package", x->package, "impact", plan_level_name(x->impact), "risk",
                     plan_level_name(x->risk), "depends", deps, "loc", (json_int_t)x->loc,
                     "deliverable", x->deliverable, "tests", x->tests, "line", x->line);
}

/* a CSV field, quoted when it must be */
static void csv_field(struct strbuf *sb, const char *s)
{
    s = s ? s : "";
    if (!strpbrk(s, ",\"\n\r")) {
        strbuf_addstr(sb, s);
        return;
    }
    strbuf_addch(sb, '"');
    for (; *s; s++) {
        if (*s == '"')
            strbuf_addch(sb, '"');
        strbuf_addch(sb, *s);
    }
    strbuf_addch(sb, '"');
}

/* a Markdown table cell: pipes escaped, lines joined */
static void md_cell(FILE *out, const char *s)
{
    for (s = s ? s : ""; *s; s++)
        if (*s == '|')
            fputs("\\|", out);
        else if (*s == '\n' || *s == '\r')
            fputc(' ', out);
        else
            fputc(*s, out);
}

/* The dependencies of task idx, by id, separated by sep. */
static void deps_text(struct strbuf *sb, const struct plan_tasks *t, const struct plan *p,
                      size_t idx, const char *sep)
{
    for (size_t k = 0; k < p->ndeps[idx]; k++)
        strbuf_addf(sb, "%s%s", k ? sep : "", t->items[p->deps[idx][k]].id);
}

/* The plan as text, Markdown or CSV, straight from the plan (10,000 tasks print in a blink). */
static void print_plan(struct cli *cli, const struct plan_tasks *t, const struct plan *p,
                       const char *fmt, FILE *out)
{
    struct strbuf sb = STRBUF_INIT, deps = STRBUF_INIT;
    bool md = !strcmp(fmt, "markdown"), csv = !strcmp(fmt, "csv");
    if (csv)
        strbuf_addstr(&sb,
                      "order,batch,id,title,package,impact,risk,depends,loc,deliverable,tests\n");
    size_t order = 0;
    for (size_t bi = 0; bi < p->nbatches; bi++) {
        const struct plan_batch *b = &p->batches[bi];
        if (md)
            strbuf_addf(&sb,
                        "%s### Batch %zu (%ld lines)\n\n| # | id | title | impact | risk | "
                        "depends | loc |\n| --- | --- | --- | --- | --- | --- | --- |\n",
                        bi ? "\n" : "", bi + 1, b->loc);
        else if (!csv)
            strbuf_addf(&sb, "%s%sbatch %zu%s  %ld lines%s\n", bi ? "\n" : "", cli_bold(cli),
                        bi + 1, cli_reset(cli), b->loc,
                        b->oversize ? " (one task over the budget)" : "");
        for (size_t i = b->first; i < b->first + b->n; i++) {
            size_t idx = p->order[i];
            const struct plan_task *x = &t->items[idx];
            strbuf_reset(&deps);
            ++order;
            if (csv) {
                strbuf_addf(&sb, "%zu,%zu,", order, bi + 1);
                const char *f[] = {x->id, x->title, x->package, plan_level_name(x->impact),
                                   plan_level_name(x->risk)};
                for (size_t k = 0; k < 5; k++) {
                    csv_field(&sb, f[k]);
                    strbuf_addch(&sb, ',');
                }
                deps_text(&deps, t, p, idx, ";");
                csv_field(&sb, deps.len ? deps.buf : "");
                strbuf_addf(&sb, ",%ld,", x->loc);
                csv_field(&sb, x->deliverable);
                strbuf_addch(&sb, ',');
                csv_field(&sb, x->tests);
                strbuf_addch(&sb, '\n');
            } else if (md) {
                deps_text(&deps, t, p, idx, ", ");
                fputs(sb.buf ? sb.buf : "", out);
                strbuf_reset(&sb);
                fprintf(out, "| %zu | ", order);
                md_cell(out, x->id);
                fputs(" | ", out);
                md_cell(out, x->title);
                fprintf(out, " | %s | %s | ", plan_level_name(x->impact), plan_level_name(x->risk));
                md_cell(out, deps.len ? deps.buf : "-");
                fprintf(out, " | %ld |\n", x->loc);
            } else {
                deps_text(&deps, t, p, idx, ", ");
                strbuf_addf(&sb, "  %4zu  %-14s %s/%s %6ld  %s%s%s\n", order, x->id,
                            plan_level_name(x->impact), plan_level_name(x->risk), x->loc,
                            x->title ? x->title : "", deps.len ? "  <- " : "",
                            deps.len ? deps.buf : "");
            }
        }
    }
    if (!csv) {
        strbuf_addf(&sb, "\n%scritical path%s (%ld lines, %zu tasks): ", md ? "**" : "",
                    md ? "**" : "", p->critical_loc, p->ncritical);
        for (size_t i = 0; i < p->ncritical; i++)
            strbuf_addf(&sb, "%s%s", i ? " -> " : "", t->items[p->critical[i]].id);
        strbuf_addstr(&sb, p->ncritical ? "\n" : "none\n");
    }
    fputs(sb.buf ? sb.buf : "", out);
    strbuf_release(&sb);
    strbuf_release(&deps);
}

static int run(struct cli *cli, const struct cli_args *args)
{
    int rc = cli_operands_at_most(cli, args, 1);
    if (rc)
        return rc;
    const char *file = args->argc > 1 ? args->argv[1] : NULL;
    if (!file)
        file = access("tasks.yaml", R_OK) == 0 ? "tasks.yaml" : "tasks.csv";
    const char *fmt = cli_opt(args, "format");
    if (!fmt)
        fmt = "table";
    if (strcmp(fmt, "table") && strcmp(fmt, "markdown") && strcmp(fmt, "csv"))
        return cli_usage_error(cli, "--format '%s' is table, markdown or csv", fmt);
    long long budget = 400;
    const char *bv = cli_opt(args, "budget");
    if (bv && (num_parse_ll(bv, &budget) < 0 || budget < 0 || budget > 100000000))
        return cli_usage_error(cli, "--budget '%s' is not a number of lines", bv);
    struct strbuf sb = STRBUF_INIT;
    if (strbuf_read_file(&sb, file, PLAN_TASKS_MAX_BYTES + 1) < 0) {
        strbuf_release(&sb);
        return cli_error(cli, OTAP_EUSAGE, "cannot read the task list '%s'", file);
    }
    struct diag_list dl;
    diag_list_init(&dl, file);
    struct plan_tasks t;
    plan_tasks_read(sb.buf ? sb.buf : "", sb.len, file, &t, &dl);
    strbuf_release(&sb);
    struct plan p;
    /* the list's own problems and the plan's, all at once */
    plan_make(&t, (long)budget, file, &p, &dl);
    diag_sort(&dl);
    size_t errors = diag_count(&dl, DIAG_ERROR);
    if (errors) {
        if (cli->json) {
            cli_emit(cli,
                     json_pack("{s:b, s:{s:s, s:s}, s:o}", "ok", 0, "error", "code", "invalid",
                               "message", "the task list has problems", "diagnostics",
                               cli_diags_json(&dl)),
                     NULL);
        } else {
            cli_print_diags(cli, &dl, stderr);
            fprintf(stderr, "%serror:%s %zu problem%s in %s; nothing was planned\n", cli_red(cli),
                    cli_reset(cli), errors, errors == 1 ? "" : "s", file);
        }
        plan_release(&p, t.n);
        plan_tasks_release(&t);
        diag_list_release(&dl);
        return OTAP_EINVALID;
    }
    if (!cli->json && !cli->quiet)
        cli_print_diags(cli, &dl, stderr);
    if (!cli->json) {
        print_plan(cli, &t, &p, fmt, stdout);
    } else {
        json_t *batches = json_array();
        for (size_t bi = 0; bi < p.nbatches; bi++) {
            const struct plan_batch *b = &p.batches[bi];
            json_t *tasks = json_array();
            for (size_t i = b->first; i < b->first + b->n; i++)
                json_array_append_new(tasks, task_json(&t.items[p.order[i]], &p, p.order[i], &t));
            json_array_append_new(batches, json_pack("{s:I, s:b, s:o}", "loc", (json_int_t)b->loc,
                                                     "oversize", b->oversize, "tasks", tasks));
        }
        json_t *crit = json_array();
        for (size_t i = 0; i < p.ncritical; i++)
            json_array_append_new(crit, json_string(t.items[p.critical[i]].id));
        cli_emit(cli,
                 json_pack("{s:b, s:s, s:I, s:I, s:o, s:{s:o, s:I}, s:o}", "ok", 1, "file", file,
                           "budget", (json_int_t)budget, "tasks", (json_int_t)t.n, "batches",
                           batches, "critical_path", "tasks", crit, "loc",
                           (json_int_t)p.critical_loc, "warnings", cli_diags_json(&dl)),
                 NULL);
    }
    plan_release(&p, t.n);
    plan_tasks_release(&t);
    diag_list_release(&dl);
    return 0;
}

const struct cmd cmd_plan = {
    .name = "plan",
    .summary = "a task list in dependency order, in batches under a review budget",
    .synopsis = "[FILE] [--budget LINES] [--format table|markdown|csv]",
    .opts =
        (const struct cli_opt[]){
            {"budget", 0, "LINES", "lines of review per batch (default 400; 0: one batch)"},
            {"format", 0, "FORMAT", "table (default), markdown or csv; --json for JSON"},
            {0},
        },
    .about = "FILE is YAML (tasks: a list of { id, title, package, impact: H|M|L, risk: H|M|L,\n"
             "depends: [ids], loc, deliverable, tests }) or CSV with those columns; default\n"
             "tasks.yaml, else tasks.csv. Every problem is reported at once with its line:\n"
             "duplicate ids, unknown dependencies, cycles with their path. Among the tasks\n"
             "that may go next, higher impact goes first, then higher risk, then the id.\n"
             "A task over the budget is a batch of its own, with a warning.\n",
    .exits = "0 planned, 2 usage or an unreadable file, 3 the task list has problems",
    .flags = CMD_REPORTS_JSON,
    .run = run,
};
