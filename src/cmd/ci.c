/*
 * otap ci run: the manifest's gates (and the built-in ones) run here as
 * in CI: in the order their needs give, each with its environment's
 * canonical config, output streamed with the gate's name in front, a JUnit
 * report, and each result recorded for the build (--record), as 'otap gate
 * record' would. The rules live in src/lib/ci/.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "base/actor.h"
#include "base/fileio.h"
#include "base/xalloc.h"
#include "ci/ci.h"
#include "ci/junit.h"
#include "state/artifact.h"
#include "state/evidence.h"
#include "state/store.h"
#include "base/banned.h"

extern char **environ;

struct ci_out {
    struct cli *cli;
    FILE *stream; /* stdout, or stderr when stdout carries the JSON document */
};

static void on_line(void *ctx, const struct ci_step *s, bool from_stderr, const char *line,
                    size_t len)
{
    struct ci_out *o = ctx;
    (void)from_stderr;
    fprintf(o->stream, "%s[%s]%s %.*s\n", cli_bold(o->cli), s->name, cli_reset(o->cli), (int)len,
            line);
}

static void on_step(void *ctx, const struct ci_step *s, bool done)
{
    struct ci_out *o = ctx;
    struct cli *cli = o->cli;
    if (cli->quiet)
        return;
    if (!done) {
        fprintf(o->stream, "%s==> %s%s (%s%s)\n", cli_bold(cli), s->name, cli_reset(cli),
                s->gate ? "in " : "built in, ", s->gate ? s->env->name : "otap");
        fflush(o->stream);
        return;
    }
    const char *colour = s->status == CI_PASS   ? cli_green(cli)
                         : s->status == CI_FAIL ? cli_red(cli)
                                                : cli_yellow(cli);
    fprintf(o->stream, "%s: %s%s%s (%.2f s)%s%s\n", s->name, colour, ci_status_name(s->status),
            cli_reset(cli), s->seconds, s->reason ? ": " : "", s->reason ? s->reason : "");
    fflush(o->stream);
}

static void render(struct cli *cli, json_t *doc, FILE *out)
{
    size_t i;
    json_t *g;
    size_t n = 0, bad = 0;
    json_array_foreach(json_object_get(doc, "gates"), i, g)
    {
        n++;
        bad += strcmp(json_string_value(json_object_get(g, "status")), "pass") != 0;
    }
    const char *junit = json_string_value(json_object_get(doc, "junit"));
    if (bad)
        fprintf(out, "%s%zu of %zu gates did not pass%s", cli_red(cli), bad, n, cli_reset(cli));
    else
        fprintf(out, "%s%zu gate%s passed%s", cli_green(cli), n, n == 1 ? "" : "s", cli_reset(cli));
    json_t *rec = json_object_get(doc, "recorded_for");
    if (json_is_string(rec))
        fprintf(out, "; recorded for %s", json_string_value(rec));
    if (junit)
        fprintf(out, "; JUnit report: %s", junit);
    fputc('\n', out);
}

/* The CI run's page: GitHub Actions' variables when they are there. */
static char *ci_run_url(void)
{
    const char *server = getenv("GITHUB_SERVER_URL"), *repo = getenv("GITHUB_REPOSITORY"),
               *run = getenv("GITHUB_RUN_ID");
    if (server && *server && repo && *repo && run && *run)
        return xasprintf("%s/%s/actions/runs/%s", server, repo, run);
    return NULL;
}

static char *utc_now(void)
{
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    char buf[32];
    strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
    return xstrdup(buf);
}

static int run_ci(struct cli *cli, const struct cli_args *args)
{
    const char *ref = cli_opt(args, "artifact"), *junit = cli_opt(args, "junit");
    bool record = cli_flag(args, "record"), keep_going = cli_flag(args, "keep-going");
    if (record && !ref)
        return cli_usage_error(cli, "--record needs the build: give --artifact VERSION|DIGEST");
    char *exe = realpath("/proc/self/exe", NULL);
    struct otap_err err = OTAP_ERR_INIT;
    struct ci_plan plan;
    int rc = ci_plan_make(cli->m, args->argv + 1, (size_t)(args->argc - 1), exe ? exe : "otap", ".",
                          &plan, &err);
    free(exe);
    if (rc < 0)
        return cli_fail(cli, rc, &err);
    /* the build first: a run that cannot be recorded should not start */
    struct store *s = NULL;
    struct artifact a = {0};
    if (ref) {
        rc = cli_store_open(cli, &s);
        if (rc == 0 && (rc = artifact_find(s, ref, &a, &err)) < 0)
            rc = cli_fail(cli, rc, &err);
        if (rc < 0) {
            store_close(s);
            ci_plan_release(&plan);
            return rc;
        }
    }
    char *started = utc_now();
    struct ci_out out = {cli, cli->json ? stderr : stdout};
    struct ci_run_opts o = {.m = cli->m,
                            .manifest_name = cli_manifest_name(cli),
                            .dir = ".",
                            .process_env = environ,
                            .redact = &cli->redact,
                            .keep_going = keep_going,
                            .hooks = {on_line, on_step, &out}};
    int run_rc = ci_run(&plan, &o, &err);
    /* the results, recorded and reported */
    json_t *gates = json_array();
    char *url = ci_run_url();
    char *actor = actor_name();
    for (size_t i = 0; i < plan.n; i++) {
        const struct ci_step *st = &plan.steps[i];
        bool recorded = false;
        if (record && st->status != CI_SKIPPED) {
            long long id = 0;
            struct otap_err e = OTAP_ERR_INIT;
            if (gate_record(s, &a, st->name, st->status == CI_PASS, url, actor, &id, &e) == 0)
                recorded = true;
            else
                fprintf(stderr, "%swarning:%s gate %s was not recorded: %s\n", cli_yellow(cli),
                        cli_reset(cli), st->name, e.msg);
            otap_err_release(&e);
        }
        json_array_append_new(gates,
                              json_pack("{s:s, s:b, s:s, s:s, s:i, s:b, s:f, s:s?, s:b}", "name",
                                        st->name, "builtin", st->gate == NULL, "env", st->env->name,
                                        "status", ci_status_name(st->status), "exit", st->exit_code,
                                        "timed_out", st->timed_out, "seconds", st->seconds,
                                        "reason", st->reason, "recorded", recorded));
    }
    if (junit) {
        struct strbuf x = STRBUF_INIT;
        ci_junit(&x, &plan, cli->m->project ? cli->m->project : "otap", started);
        struct otap_err e = OTAP_ERR_INIT;
        if (fileio_write(junit, x.buf, x.len, false, 0644, &e) < 0) {
            fprintf(stderr, "otap: cannot write the JUnit report: %s\n", e.msg);
            run_rc = OTAP_EEXTERNAL;
        }
        otap_err_release(&e);
        strbuf_release(&x);
    }
    char *label = ref ? artifact_label(&a) : NULL;
    cli_emit(cli,
             json_pack("{s:b, s:o, s:s?, s:s?, s:s?}", "ok", run_rc == 0, "gates", gates, "junit",
                       junit, "recorded_for", record ? label : NULL, "url", url),
             render);
    free(label);
    free(url);
    free(actor);
    free(started);
    artifact_release(&a);
    store_close(s);
    ci_plan_release(&plan);
    otap_err_release(&err);
    return run_rc;
}

static const struct cmd verbs[] = {
    {
        .name = "run",
        .summary = "run the gates in the order their needs give, as CI does",
        .synopsis = "[GATE...] [--artifact BUILD] [--record] [--junit FILE] [--keep-going]",
        .opts =
            (const struct cli_opt[]){
                {"artifact", 0, "BUILD", "the build the gates test: its version or digest"},
                {"record", 0, NULL, "record each result for that build (otap gate record)"},
                {"junit", 0, "FILE", "write a JUnit XML report there"},
                {"keep-going", 'k', NULL, "run the other gates after one fails"},
                {0},
            },
        .about =
            "Without GATE: every gate in otap.yaml and the built-in gates environments\n"
            "require. A gate's needs run first; it runs 'sh -c RUN' in its own process group,\n"
            "in the project root, with the canonical config of its env (default: the T\n"
            "stage's), after the services it names answer on their ports (started from\n"
            "their 'run' when they do not). A timeout stops its whole process group. A\n"
            "failing gate stops the run unless --keep-going; the gates that need it are\n"
            "skipped either way. Built-in gates: secrets, contract, migrations, commits,\n"
            "branch, policy (docs/ci.md). --record takes the CI run's URL from\n"
            "GITHUB_SERVER_URL, GITHUB_REPOSITORY and GITHUB_RUN_ID when they are set.\n",
        .run = run_ci,
    },
    {0},
};

const struct cmd cmd_ci = {
    .name = "ci",
    .summary = "run the gates locally or in CI: needs, config, JUnit, recorded results",
    .exits = "0 every gate passed, 1 a gate failed, 2 usage (an unknown gate or build),\n"
             "      3 invalid manifest, 5 the store or the report could not be written",
    .flags = CMD_NEEDS_MANIFEST | CMD_REPORTS_JSON,
    .verbs = verbs,
};
