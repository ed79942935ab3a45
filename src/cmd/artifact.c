/*
 * otap artifact register | list | show: builds, known by their digest.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/actor.h"
#include "state/artifact.h"
#include "cli.h"
#include "base/semver.h"
#include "state/deploys.h"
#include "state/store.h"
#include "base/xalloc.h"
#include "base/banned.h"

static json_t *artifact_json(const struct artifact *a)
{
    return json_pack("{s:s, s:s?, s:s?, s:s?, s:s, s:s?, s:s?}", "digest", a->digest, "version",
                     a->version, "commit", a->commit, "path", a->path, "kind", a->kind,
                     "registered_at", a->registered_at, "registered_by", a->registered_by);
}

static void render_register(struct cli *cli, json_t *doc, FILE *out)
{
    json_t *a = json_object_get(doc, "artifact");
    const char *v = json_string_value(json_object_get(a, "version"));
    fprintf(out, "%s%s%s %s%s%s\n",
            json_is_true(json_object_get(doc, "created")) ? cli_green(cli) : "",
            json_is_true(json_object_get(doc, "created")) ? "registered" : "already registered",
            cli_reset(cli), json_string_value(json_object_get(a, "digest")), v ? " as " : "",
            v ? v : "");
}

static bool valid_commit(const char *s)
{
    size_t n = strspn(s, "0123456789abcdef");
    return s[n] == '\0' && n >= 7 && n <= 64;
}

static int run_register(struct cli *cli, const struct cli_args *args)
{
    const char *version = cli_opt(args, "version"), *commit = cli_opt(args, "commit"),
               *digest = cli_opt(args, "digest");
    const char *path = args->argc > 1 ? args->argv[1] : NULL;
    int orc = cli_operands_at_most(cli, args, 1);
    if (orc)
        return orc;
    if (!path == !digest)
        return cli_usage_error(cli, "give the build: a FILE or DIR, or --digest sha256:HEX");
    if (version && !semver_valid(version))
        return cli_usage_error(cli, "--version '%s' is not SemVer (MAJOR.MINOR.PATCH, e.g. 1.4.0)",
                               version);
    if (commit && !valid_commit(commit))
        return cli_usage_error(cli, "--commit '%s' is not a commit id (7 to 64 hex digits)",
                               commit);
    struct artifact a = {0};
    struct otap_err err = OTAP_ERR_INIT;
    int rc = 0;
    if (digest) {
        const char *hex = !strncmp(digest, "sha256:", 7) ? digest + 7 : NULL;
        if (!hex || strlen(hex) != SHA256_HEX_LEN ||
            strspn(hex, "0123456789abcdef") != SHA256_HEX_LEN)
            return cli_usage_error(cli, "--digest '%s' is not sha256: and 64 lower-case hex digits",
                                   digest);
        a.digest = xstrdup(digest);
        a.kind = xstrdup("digest");
    } else {
        const char *kind;
        if ((rc = artifact_digest_path(path, &a.digest, &kind, &err)) < 0) {
            rc = cli_error(cli, rc, "%s", err.msg);
            otap_err_release(&err);
            return rc;
        }
        a.kind = xstrdup(kind);
        char real[PATH_MAX];
        a.path = xstrdup(realpath(path, real) ? real : path);
    }
    a.version = version ? xstrdup(version + (*version == 'v')) : NULL;
    a.commit = commit ? xstrdup(commit) : NULL;

    struct store *s;
    if ((rc = cli_store_open(cli, &s)) < 0) {
        artifact_release(&a);
        return rc;
    }
    char *actor = actor_name();
    bool created = false;
    rc = artifact_register(s, &a, actor, &created, &err);
    if (rc == OTAP_EREFUSED)
        rc = cli_refused(cli, "register this build", &err.msg, 1, NULL);
    else if (rc < 0)
        rc = cli_error(cli, rc, "%s", err.msg);
    else
        cli_emit(cli,
                 json_pack("{s:b, s:b, s:o}", "ok", 1, "created", created, "artifact",
                           artifact_json(&a)),
                 render_register);
    otap_err_release(&err);
    free(actor);
    store_close(s);
    artifact_release(&a);
    return rc;
}

static void render_list(struct cli *cli, json_t *doc, FILE *out)
{
    size_t i;
    json_t *a;
    json_array_foreach(json_object_get(doc, "artifacts"), i, a)
    {
        const char *v = json_string_value(json_object_get(a, "version"));
        const char *live = json_string_value(json_object_get(a, "live_in"));
        fprintf(out, "%s%-12s%s %.19s  %-6s %s%s%s\n", cli_bold(cli), v ? v : "-", cli_reset(cli),
                json_string_value(json_object_get(a, "digest")) + 7,
                json_string_value(json_object_get(a, "kind")),
                json_string_value(json_object_get(a, "registered_at")),
                live && *live ? "  live in " : "", live ? live : "");
    }
    if (!i && !cli->quiet)
        fprintf(out, "no builds registered yet ('otap artifact register FILE --version X')\n");
}

static int run_list(struct cli *cli, const struct cli_args *args)
{
    if (args->argc > 1)
        return cli_usage_error(cli, "unexpected argument '%s'", args->argv[1]);
    struct store *s;
    int rc = cli_store_open(cli, &s);
    if (rc < 0)
        return rc;
    struct otap_err err = OTAP_ERR_INIT;
    struct artifact *list = NULL;
    size_t n = 0;
    if ((rc = artifact_list(s, &list, &n, &err)) < 0) {
        rc = cli_error(cli, rc, "%s", err.msg);
        otap_err_release(&err);
        store_close(s);
        return rc;
    }
    json_t *arr = json_array();
    for (size_t i = 0; i < n; i++) {
        json_t *o = artifact_json(&list[i]);
        char *live = NULL;
        size_t len = 0;
        for (size_t e = 0; e < cli->m->nenvs; e++) {
            struct deployment d;
            bool found = false;
            if (deploy_live(s, cli->m->envs[e].name, &d, &found, &err) == 0 && found &&
                !strcmp(d.digest, list[i].digest)) {
                char *next =
                    xasprintf("%s%s%s", live ? live : "", len ? ", " : "", cli->m->envs[e].name);
                free(live);
                live = next;
                len++;
            }
            deployment_release(&d);
        }
        json_object_set_new(o, "live_in", json_string(live ? live : ""));
        free(live);
        json_array_append_new(arr, o);
        artifact_release(&list[i]);
    }
    free(list);
    otap_err_release(&err);
    store_close(s);
    cli_emit(cli, json_pack("{s:b, s:o}", "ok", 1, "artifacts", arr), render_list);
    return 0;
}

static const struct cmd verbs[] = {
    {
        .name = "register",
        .summary = "register a build by its content digest",
        .synopsis = "FILE|DIR [--version SEMVER] [--commit SHA]\n"
                    "--digest sha256:HEX [--version SEMVER] [--commit SHA]",
        .opts =
            (const struct cli_opt[]){
                {"version", 0, "SEMVER", "the build's release (MAJOR.MINOR.PATCH)"},
                {"commit", 0, "SHA", "the commit it was built from"},
                {"digest", 0, "sha256:HEX", "a build known by its digest alone"},
                {0},
            },
        .run = run_register,
    },
    {
        .name = "list",
        .summary = "the registered builds and where each is live",
        .synopsis = "",
        .run = run_list,
    },
    {0},
};

const struct cmd cmd_artifact = {
    .name = "artifact",
    .summary = "register builds by their content digest; list them",
    .about = "A build is known by its content: a file by the SHA-256 of its bytes (what\n"
             "sha256sum prints), a directory by a canonical walk (sorted paths, their\n"
             "permission bits and contents). Registering the same build again is a\n"
             "no-op; one build carries one version, and a version names one build.\n"
             "Promote, gate and signoff take a build as its version, its digest, or a\n"
             "unique prefix of the digest (7 digits or more).\n",
    .exits = "0 ok, 2 usage, 4 refused (the digest or version is taken),\n"
             "      5 the store failed",
    .flags = CMD_NEEDS_MANIFEST | CMD_REPORTS_JSON,
    .verbs = verbs,
};
