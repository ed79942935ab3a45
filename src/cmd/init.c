/*
 * otap init: writes a starter otap.yaml modelled on the DataBiz OTAP
 * blueprint (seed 000): four stages with their branches, the 9000-9099
 * port registry, the canonical config contract with its aliases and the
 * health contract. It never overwrites: an existing file is refused, and
 * the new one appears whole or not at all (written aside, then linked
 * into place, which fails if the name was taken meanwhile).
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "config/adopt.h"
#include "base/err.h"
#include "base/fileio.h"
#include "base/strbuf.h"
#include "base/xalloc.h"
#include "base/banned.h"

static const char template_head[] = "# otap.yaml: the single source of truth for ";

static const char template_body[] =
    "\n"
    "# Written by 'otap init'. 'otap check' validates it; 'otap explain' reads it back.\n"
    "\n"
    "# The fixed promotion order: O -> T -> A -> P. Fewer stages are fine; the\n"
    "# order of those present is not negotiable.\n"
    "environments:\n"
    "  - name: development            # O: local, disposable\n"
    "    branches: [\"feature/*\", \"fix/*\", \"chore/*\", \"hotfix/*\"]\n"
    "    marker: dev\n"
    "  - name: test                   # T: CI, the automatic gatekeeper\n"
    "    branches: [dev]\n"
    "    marker: dev\n"
    "    requires: [ci]\n"
    "  - name: staging                # A: acceptance, the release candidate\n"
    "    branches: [staging]\n"
    "    marker: dev\n"
    "    requires: [ci]\n"
    "    deploy: { run: \"railway up --service backend\", timeout: 300s }\n"
    "  - name: production             # P: stakeholders and users\n"
    "    branches: [main]\n"
    "    marker: prod\n"
    "    requires: [ci, signoff]\n"
    "    protected: true\n"
    "    deploy: { run: \"railway up --service backend\", timeout: 300s }\n"
    "\n"
    "# CI steps, in order. 'requires' above names them; 'signoff' is built in.\n"
    "gates:\n"
    "  - name: ci\n"
    "    run: \"make check\"\n"
    "\n"
    "services:\n"
    "  backend:\n"
    "    port: 9000\n"
    "    run: \"./build/backend\"\n"
    "    depends_on: [db]\n"
    "    health: { liveness: /health, health: /api/v2/health, readiness: /api/v2/ready }\n"
    "  frontend:\n"
    "    port: 9003\n"
    "    depends_on: [backend]\n"
    "  db:\n"
    "    port: 9020\n"
    "  storage:\n"
    "    port: 9022\n"
    "\n"
    "# Port discipline: every port inside the range, every service port in a block.\n"
    "ports:\n"
    "  range: 9000-9099\n"
    "  blocks:\n"
    "    core: { range: 9000-9005, purpose: \"backend and frontend\" }\n"
    "    database: { range: 9020-9029, purpose: \"PostgreSQL, Redis\" }\n"
    "    storage: { range: 9022-9023, within: database, purpose: \"MinIO API and console\" }\n"
    "    tools: { range: 9040-9049, purpose: \"admin, docs, Storybook\" }\n"
    "    testing: { range: 9060-9069, purpose: \"E2E, mock APIs\" }\n"
    "    background: { range: 9080-9089, purpose: \"queues, workers\" }\n"
    "\n"
    "# The single config contract: canonical names, a few backwards-compatible\n"
    "# aliases, secrets only in the environment.\n"
    "config:\n"
    "  ENVIRONMENT:\n"
    "    type: enum\n"
    "    values: [development, test, staging, production]\n"
    "    aliases: [PYTHON_ENV]\n"
    "    required: true\n"
    "    description: \"Which OTAP stage this process runs in\"\n"
    "  DATABASE_URL:\n"
    "    type: url\n"
    "    schemes: [postgresql, postgres]\n"
    "    required: true\n"
    "    one_of: \"database:url\"\n"
    "    description: \"PostgreSQL connection URL (cloud)\"\n"
    "  POSTGRES_USER: { type: string, one_of: \"database:parts\" }\n"
    "  POSTGRES_PASSWORD: { type: secret, one_of: \"database:parts\" }\n"
    "  POSTGRES_DB: { type: string, one_of: \"database:parts\" }\n"
    "  POSTGRES_HOST: { type: string, one_of: \"database:parts\", default: localhost }\n"
    "  POSTGRES_PORT: { type: port, one_of: \"database:parts\", default: \"9020\" }\n"
    "  SECRET_KEY:\n"
    "    type: secret\n"
    "    min_length: 32\n"
    "    aliases: [JWT_SECRET]\n"
    "    required: [staging, production]\n"
    "    description: \"Signs tokens; a different one per environment\"\n"
    "  ALGORITHM: { type: string, aliases: [JWT_ALGORITHM], default: HS256 }\n"
    "  ACCESS_TOKEN_EXPIRE_MINUTES: { type: int, min: 1, max: 10080, default: \"30\" }\n"
    "  CORS_ORIGINS:\n"
    "    type: csv\n"
    "    items: url\n"
    "    aliases: [ALLOWED_ORIGINS]\n"
    "    description: \"Origins allowed to call the API\"\n"
    "\n"
    "database:\n"
    "  url: DATABASE_URL\n"
    "  migrations: db/migrations\n"
    "\n"
    "slo:\n"
    "  p95_ms: 1000\n"
    "  error_rate: 0.01\n"
    "\n"
    "release:\n"
    "  version_file: VERSION\n"
    "  changelog: CHANGELOG.md\n"
    "  tag_prefix: v\n";

/* The directory's name, made into a valid project name. */
static char *default_project(void)
{
    char *cwd = getcwd(NULL, 0);
    const char *base = cwd ? strrchr(cwd, '/') : NULL;
    base = base && base[1] ? base + 1 : "project";
    struct strbuf sb = STRBUF_INIT;
    for (const char *p = base; *p; p++) {
        unsigned char ch = (unsigned char)tolower((unsigned char)*p);
        strbuf_addch(&sb, isalnum(ch) || ch == '-' || ch == '_' ? ch : '-');
    }
    free(cwd);
    if (!sb.len || !isalnum((unsigned char)sb.buf[0])) {
        strbuf_release(&sb);
        return xstrdup("project");
    }
    return strbuf_detach(&sb, NULL);
}

static bool valid_project(const char *s)
{
    if (!*s || !(islower((unsigned char)*s) || isdigit((unsigned char)*s)))
        return false;
    for (; *s; s++)
        if (!(islower((unsigned char)*s) || isdigit((unsigned char)*s) || *s == '-' || *s == '_' ||
              *s == '.'))
            return false;
    return true;
}

static void render(struct cli *cli, json_t *doc, FILE *out)
{
    if (cli->quiet)
        return;
    fprintf(out, "wrote %s for project '%s'%s\nnext: otap check && otap explain\n",
            json_string_value(json_object_get(doc, "path")),
            json_string_value(json_object_get(doc, "project")),
            strcmp(json_string_value(json_object_get(doc, "from")), "repository")
                ? ""
                : " from what the repository has (review each guess)");
}

static int run(struct cli *cli, const struct cli_args *a)
{
    int rc = cli_operands_at_most(cli, a, 0);
    if (rc)
        return rc;
    char *project = cli_opt(a, "project") ? xstrdup(cli_opt(a, "project")) : default_project();
    if (!valid_project(project)) {
        rc = cli_usage_error(cli, "project name '%s' may hold only a-z, 0-9, '-', '_' and '.'",
                             project);
        free(project);
        return rc;
    }
    const char *path = cli->manifest_path ? cli->manifest_path : "otap.yaml";
    if (access(path, F_OK) == 0) {
        rc = cli_error(cli, OTAP_EREFUSED, "'%s' already exists; otap init never overwrites", path);
        free(project);
        return rc;
    }
    /* a repository that already has its tools: read them, else the blueprint */
    struct adopt ad;
    struct diag_list dl;
    diag_list_init(&dl, "");
    struct otap_err err = OTAP_ERR_INIT;
    char *slash = strrchr(path, '/');
    char *dir = slash ? xstrndup(path, (size_t)(slash - path)) : xstrdup(".");
    int found = cli_flag(a, "template") ? 0 : adopt_read(*dir ? dir : "/", &ad, &dl, &err);
    free(dir);
    if (found < 0) {
        rc = cli_fail(cli, found, &err);
        diag_list_release(&dl);
        free(project);
        return rc;
    }
    if (!cli->json && !cli->quiet)
        cli_print_diags(cli, &dl, stderr);
    diag_list_release(&dl);
    struct strbuf sb = STRBUF_INIT;
    if (found) {
        adopt_manifest(&ad, project, &sb);
        adopt_release(&ad);
    } else {
        if (!cli_flag(a, "template"))
            adopt_release(&ad);
        strbuf_addf(&sb, "%s%s\nproject: %s\n%s", template_head, project, project, template_body);
    }
    rc = fileio_write(path, sb.buf, sb.len, true, 0644, &err);
    strbuf_release(&sb);
    if (rc) {
        cli_error(cli, rc, "%s", err.msg);
    } else {
        cli_emit(cli,
                 json_pack("{s:b, s:s, s:s, s:s}", "ok", 1, "path", path, "project", project,
                           "from", found ? "repository" : "template"),
                 render);
    }
    otap_err_release(&err);
    free(project);
    return rc;
}

const struct cmd cmd_init = {
    .name = "init",
    .summary = "write a starter otap.yaml (never overwrites)",
    .synopsis = "[--project NAME] [--manifest FILE] [--json]",
    .opts =
        (const struct cli_opt[]){
            {"project", 'p', "NAME", "the project's name (default: the directory's)"},
            {"template", 0, NULL, "write the blueprint even where the repository has its tools"},
            {0},
        },
    .about = "In a repository that already has its tools, reads them and writes what they\n"
             "say, each guess with a comment naming its source: the variables of .env.example\n"
             "and .env (types guessed; secrets by name, a shipped placeholder allowed in\n"
             "development), the services of compose.yml or docker-compose.yml (ports,\n"
             "depends_on, healthcheck paths; ${X:?} makes X required), PORT_REGISTRY.yaml's\n"
             "range and blocks, the migration folders\n"
             "(dbmate, Alembic, Prisma, Flyway), package.json scripts as gates, and the\n"
             "workflows. Otherwise (or with --template) writes the DataBiz OTAP blueprint: four\n"
             "stages and their branches, the 9000-9099 port registry, the canonical config\n"
             "contract with its aliases, and the health contract.\n",
    .exits = "0 written, 2 bad project name, 4 the file exists (never overwritten),\n"
             "      5 the file cannot be written",
    .flags = CMD_REPORTS_JSON,
    .run = run,
};
