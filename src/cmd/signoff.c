/*
 * otap signoff: someone accepts a build as it runs in an environment.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/actor.h"
#include "state/artifact.h"
#include "cli.h"
#include "state/deploys.h"
#include "state/evidence.h"
#include "state/store.h"
#include "base/xalloc.h"
#include "base/banned.h"

static void render(struct cli *cli, json_t *doc, FILE *out)
{
    fprintf(out, "%ssigned off%s %s in %s by %s\n", cli_green(cli), cli_reset(cli),
            json_string_value(json_object_get(doc, "build")),
            json_string_value(json_object_get(doc, "environment")),
            json_string_value(json_object_get(doc, "by")));
}

static int run(struct cli *cli, const struct cli_args *args)
{
    const char *env_name = cli_opt(args, "env"), *ref = cli_opt(args, "artifact"),
               *by = cli_opt(args, "by"), *note = cli_opt(args, "note");
    int orc = cli_operands_at_most(cli, args, 0);
    if (orc)
        return orc;
    if (!env_name || !ref || !by || !*by)
        return cli_usage_error(cli, "give --env ENV, --artifact BUILD and --by NAME");
    const struct manifest_env *env = manifest_env_find(cli->m, env_name);
    if (!env)
        return cli_usage_error(cli, "no environment '%s' in the manifest", env_name);
    struct store *s;
    int rc = cli_store_open(cli, &s);
    if (rc < 0)
        return rc;
    struct otap_err err = OTAP_ERR_INIT;
    struct artifact a;
    struct deployment live = {0};
    bool found = false;
    char *actor = actor_name();
    long long id = 0;
    rc = artifact_find(s, ref, &a, &err);
    if (rc == 0)
        rc = deploy_live(s, env->name, &live, &found, &err);
    if (rc == 0 && (!found || strcmp(live.digest, a.digest))) {
        /* a sign-off accepts what someone saw running, nothing else */
        char *label = artifact_label(&a);
        char *why =
            xasprintf("%s is not live in %s: sign off a build where it runs", label, env->name);
        rc = cli_refused(cli, "record the sign-off", &why, 1, NULL);
        free(why);
        free(label);
        goto out;
    }
    if (rc == 0)
        rc = signoff_record(s, &a, env->name, by, note, actor, &id, &err);
    if (rc < 0) {
        rc = cli_fail(cli, rc, &err);
    } else {
        char *label = artifact_label(&a);
        cli_emit(cli,
                 json_pack("{s:b, s:I, s:s, s:s, s:s, s:s, s:s?}", "ok", 1, "id", (json_int_t)id,
                           "environment", env->name, "digest", a.digest, "build", label, "by", by,
                           "note", note),
                 render);
        free(label);
    }
out:
    deployment_release(&live);
    artifact_release(&a);
    otap_err_release(&err);
    free(actor);
    store_close(s);
    return rc;
}

const struct cmd cmd_signoff = {
    .name = "signoff",
    .summary = "record an acceptance sign-off of a build live in an environment",
    .synopsis = "--env ENV --artifact BUILD --by NAME [--note TEXT]",
    .opts =
        (const struct cli_opt[]){
            {"env", 'e', "ENV", "where the build runs and was accepted"},
            {"artifact", 0, "BUILD", "the build: its version, digest or a prefix"},
            {"by", 0, "NAME", "who accepted it"},
            {"note", 0, "TEXT", "what they said"},
            {0},
        },
    .about = "Records that NAME accepted BUILD as it runs in ENV (it must be live\n"
             "there). An environment that requires 'signoff' takes a sign-off of the\n"
             "build in the stage before it: production's comes from staging.\n",
    .exits = "0 recorded, 2 usage, 4 refused (the build is not live in ENV),\n"
             "      5 the store failed",
    .flags = CMD_NEEDS_MANIFEST | CMD_REPORTS_JSON,
    .run = run,
};
