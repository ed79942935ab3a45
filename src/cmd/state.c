/*
 * What the state commands (artifact, gate, signoff, promote, rollback,
 * status, history, ledger) share: opening the store, and refusals.
 */
#include <stdio.h>
#include <stdlib.h>

#include "base/actor.h"
#include "cli.h"
#include "state/deploys.h"
#include "state/store.h"
#include "base/banned.h"

const char *cli_manifest_name(const struct cli *cli)
{
    return cli->warnings.file ? cli->warnings.file : cli->m->path;
}

int cli_refused(struct cli *cli, const char *what, char *const *items, size_t n, json_t *extra)
{
    if (cli->json) {
        json_t *a = json_array();
        for (size_t i = 0; i < n; i++)
            json_array_append_new(a, json_string(items[i]));
        json_t *doc = json_pack("{s:b, s:{s:s, s:s+}, s:o}", "ok", 0, "error", "code", "refused",
                                "message", "refusing to ", what, "refusals", a);
        if (extra)
            json_object_update(doc, extra);
        cli_emit(cli, doc, NULL);
    } else {
        fprintf(stderr, "%serror:%s refusing to %s: %zu condition%s not met\n", cli_red(cli),
                cli_reset(cli), what, n, n == 1 ? " is" : "s are");
        for (size_t i = 0; i < n; i++)
            fprintf(stderr, "  - %s\n", items[i]);
    }
    json_decref(extra);
    return OTAP_EREFUSED;
}

int cli_store_open(struct cli *cli, struct store **out)
{
    struct otap_err err = OTAP_ERR_INIT;
    int rc = store_open(out, cli->m->dir, &err);
    if (rc < 0) {
        rc = cli_error(cli, rc, "%s", err.msg);
        otap_err_release(&err);
        return rc;
    }
    store_set_redactor(*out, &cli->redact);
    char *actor = actor_name();
    size_t n = 0;
    rc = deploy_recover(*out, actor, &n, &err);
    free(actor);
    if (rc < 0) {
        store_close(*out);
        *out = NULL;
        rc = cli_error(cli, rc, "%s", err.msg);
        otap_err_release(&err);
        return rc;
    }
    if (n && !cli->json)
        fprintf(stderr,
                "%snote:%s %zu promotion%s stopped midway (its otap died) and %s marked "
                "interrupted; 'otap history' shows %s\n",
                cli_yellow(cli), cli_reset(cli), n, n == 1 ? "" : "s", n == 1 ? "is" : "are",
                n == 1 ? "it" : "them");
    return 0;
}
