/*
 * otap gen github|railway [--check]: CI workflows and railway.toml from
 * otap.yaml (src/lib/ci/gen.c). --check writes nothing and exits 1 when a
 * committed file differs from what would be written: the drift check.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "base/fileio.h"
#include "base/strbuf.h"
#include "ci/gen.h"
#include "base/banned.h"

static void render(struct cli *cli, json_t *doc, FILE *out)
{
    bool check = json_is_true(json_object_get(doc, "check"));
    size_t i;
    json_t *f;
    json_array_foreach(json_object_get(doc, "files"), i, f)
    {
        const char *path = json_string_value(json_object_get(f, "path"));
        const char *state = json_string_value(json_object_get(f, "state"));
        if (check && strcmp(state, "same"))
            fprintf(out, "%s%s%s: %s ('otap gen %s' to update it)\n", cli_red(cli), path,
                    cli_reset(cli),
                    !strcmp(state, "missing") ? "missing" : "differs from otap.yaml",
                    json_string_value(json_object_get(doc, "target")));
        else if (!check && !cli->quiet)
            fprintf(out, "%s: %s\n", path, !strcmp(state, "same") ? "up to date" : "written");
        else if (!cli->quiet)
            fprintf(out, "%s: up to date\n", path);
    }
}

static int run_target(struct cli *cli, const struct cli_args *args, const char *target)
{
    int rc = cli_operands_at_most(cli, args, 0);
    if (rc)
        return rc;
    bool check = cli_flag(args, "check");
    struct gen_file files[4];
    size_t n = 0;
    struct otap_err err = OTAP_ERR_INIT;
    rc = gen_files(cli->m, target, files, &n, &err);
    if (rc < 0)
        return cli_fail(cli, rc, &err);
    json_t *list = json_array();
    size_t stale = 0;
    for (size_t i = 0; i < n && rc == 0; i++) {
        struct strbuf sb = STRBUF_INIT;
        const char *state = "same";
        if (strbuf_read_file(&sb, files[i].path, 1u << 20) < 0)
            state = errno == ENOENT ? "missing" : "different";
        else if (strcmp(sb.buf, files[i].text))
            state = "different";
        strbuf_release(&sb);
        if (strcmp(state, "same")) {
            stale++;
            if (!check) {
                /* .github/workflows may not exist yet */
                char *dir = strdup(files[i].path);
                char *slash = strrchr(dir, '/');
                if (slash) {
                    *slash = '\0';
                    rc = fileio_mkdirs(dir, dir, &err);
                }
                free(dir);
                if (rc == 0)
                    rc = fileio_write(files[i].path, files[i].text, strlen(files[i].text), false,
                                      0644, &err);
            }
        }
        json_array_append_new(list, json_pack("{s:s, s:s}", "path", files[i].path, "state", state));
    }
    gen_files_release(files, n);
    if (rc < 0) {
        json_decref(list);
        return cli_fail(cli, rc, &err);
    }
    cli_emit(cli,
             json_pack("{s:b, s:s, s:b, s:o}", "ok", !check || !stale, "target", target, "check",
                       check, "files", list),
             render);
    return check && stale ? OTAP_EFOUND : 0;
}

static int run_github(struct cli *cli, const struct cli_args *args)
{
    return run_target(cli, args, "github");
}

static int run_compose(struct cli *cli, const struct cli_args *args)
{
    return run_target(cli, args, "compose");
}

static int run_railway(struct cli *cli, const struct cli_args *args)
{
    return run_target(cli, args, "railway");
}

static const struct cli_opt check_opt[] = {
    {"check", 0, NULL, "write nothing; exit 1 when a file differs from what otap.yaml gives"},
    {0},
};

static const struct cmd verbs[] = {
    {
        .name = "github",
        .summary = "write .github/workflows/test.yml and deploy.yml",
        .opts = check_opt,
        .about = "test.yml runs 'otap ci run --keep-going --junit' on pull requests to the test\n"
                 "environment's branches and pushes to every mapped branch, with a PostgreSQL\n"
                 "service container when the manifest has a database, and uploads the report;\n"
                 "with ci.artifact the build is registered and each result recorded for it.\n"
                 "deploy.yml promotes to the A stage on pushes to its branch, and to P on pushes\n"
                 "to its branch or, when production requires 'tag', on release tags. State goes\n"
                 "to OTAP_STATE_URL; contract secrets come from ${{ secrets.NAME }}, other\n"
                 "required variables from ${{ vars.NAME }}, never a value. otap itself comes\n"
                 "from ci.install, else the binary at the repository variable OTAP_URL.\n",
        .run = run_github,
    },
    {
        .name = "compose",
        .summary = "write docker-compose.yml: the stack for teams that use Docker",
        .opts = check_opt,
        .about = "The services otap up runs (a run command or kind: postgres), their ports from\n"
                 "the registry, healthchecks from the health contract (pg_isready for a\n"
                 "database), depends_on with conditions (service_healthy, _started,\n"
                 "_completed_successfully), the restart policy, the config as ${VAR:-default}\n"
                 "(a secret never has a default), a named volume per database.\n",
        .run = run_compose,
    },
    {
        .name = "railway",
        .summary = "write railway.toml: health check and restart policy",
        .opts = check_opt,
        .about = "healthcheckPath is production's service's readiness path (else health, else\n"
                 "liveness), healthcheckTimeout its deploy timeout, the restart policy the\n"
                 "service's 'restart' and 'max_restarts' (default on-failure, 3).\n",
        .run = run_railway,
    },
    {0},
};

const struct cmd cmd_gen = {
    .name = "gen",
    .summary = "generate CI workflows and platform config from otap.yaml, or check them",
    .exits = "0 written or up to date, 1 a file differs (--check), 2 usage, 3 invalid\n"
             "      manifest, 5 a file cannot be written",
    .flags = CMD_NEEDS_MANIFEST | CMD_REPORTS_JSON,
    .verbs = verbs,
};
