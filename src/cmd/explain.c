/*
 * otap explain: the seeds' agent playbook, answered from the manifest.
 *
 *   1. Where does this deploy?       (--branch B: the environment that claims it)
 *   2. Which config?                 (the contract's names and aliases, never values)
 *   3. Is it safe to promote?        (what a promotion into the environment requires)
 *   4. Is it ok?                     (the endpoints that prove health and readiness)
 *
 * Later issues add live state (what is deployed, gate results); this
 * file answers from the manifest alone, so it works on a fresh clone.
 */
#include <stdlib.h>
#include <string.h>

#include "base/actor.h"
#include "state/artifact.h"
#include "cli.h"
#include "backup/backup.h"
#include "base/err.h"
#include "manifest/manifest.h"
#include "deploy/promote.h"
#include "state/evidence.h"
#include "state/store.h"
#include "base/strbuf.h"
#include "base/suggest.h"
#include "base/xalloc.h"
#include "base/banned.h"

extern char **environ;

static json_t *strv_json(char **v, size_t n)
{
    json_t *a = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(a, json_string(v[i]));
    return a;
}

static json_t *config_json(const struct manifest *m, const struct manifest_env *e)
{
    json_t *a = json_array();
    for (size_t i = 0; i < m->nconfig; i++) {
        const struct contract_var *v = &m->config[i];
        json_t *o =
            json_pack("{s:s, s:s, s:b, s:o}", "name", v->name, "type", contract_type_name(v->type),
                      "required", manifest_var_required_in(v, e->name), "aliases",
                      strv_json(v->aliases, v->naliases));
        if (v->one_of)
            json_object_set_new(o, "one_of", json_string(v->one_of));
        if (v->description)
            json_object_set_new(o, "description", json_string(v->description));
        json_array_append_new(a, o);
    }
    return a;
}

static json_t *promotion_json(const struct manifest *m, const struct manifest_env *e)
{
    size_t idx = (size_t)(e - m->envs);
    json_t *o = json_object();
    json_object_set_new(o, "after", idx ? json_string(m->envs[idx - 1].name) : json_null());
    json_t *gates = json_array();
    for (size_t r = 0; r < e->nrequires; r++) {
        const struct manifest_gate *g = manifest_gate_find(m, e->requires[r]);
        json_array_append_new(gates, g ? json_pack("{s:s, s:s}", "name", g->name, "run", g->run)
                                       : json_pack("{s:s}", "name", e->requires[r]));
    }
    json_object_set_new(o, "requires", gates);
    /* the same table promote judges by (deploy/promote.c) */
    struct strvec conds = STRVEC_INIT;
    promote_conditions_for(m, e, &conds);
    json_t *a = json_array();
    for (size_t i = 0; i < conds.n; i++)
        json_array_append_new(a, json_string(conds.items[i]));
    strvec_release(&conds);
    json_object_set_new(o, "conditions", a);
    return o;
}

static json_t *endpoints_json(const struct manifest *m, const struct manifest_env *e)
{
    json_t *a = json_array();
    for (size_t i = 0; i < m->nservices; i++) {
        const struct manifest_service *s = &m->services[i];
        const struct {
            const char *kind, *path, *expect;
        } probes[] = {
            {"liveness", s->health.liveness, "200"},
            {"health", s->health.health, "200 with 'environment' and a recent 'timestamp'"},
            {"readiness", s->health.readiness, "200 with the database connected"},
        };
        for (size_t p = 0; p < 3; p++) {
            if (!probes[p].path)
                continue;
            json_t *o =
                json_pack("{s:s, s:s, s:s, s:s}", "service", s->name, "kind", probes[p].kind,
                          "path", probes[p].path, "expect", probes[p].expect);
            /* only the local stage has a host otap knows; others are deployed elsewhere */
            if (e->stage == STAGE_O && s->port)
                json_object_set_new(o, "url",
                                    json_sprintf("http://127.0.0.1:%d%s", s->port, probes[p].path));
            json_array_append_new(a, o);
        }
    }
    return a;
}

static json_t *env_json(const struct manifest *m, const struct manifest_env *e)
{
    json_t *o =
        json_pack("{s:s, s:s, s:o, s:s, s:b}", "name", e->name, "stage",
                  manifest_stage_letter(e->stage), "branches", strv_json(e->branches, e->nbranches),
                  "marker", e->marker, "protected", e->protected);
    if (e->deploy.driver) {
        json_t *d = json_pack("{s:s, s:i}", "driver", e->deploy.driver, "timeout_s",
                              (int)e->deploy.timeout_s);
        if (e->deploy.run)
            json_object_set_new(d, "run", json_string(e->deploy.run));
        json_object_set_new(o, "deploy", d);
    } else {
        json_object_set_new(o, "deploy", json_null());
    }
    json_object_set_new(o, "config", config_json(m, e));
    json_object_set_new(o, "promotion", promotion_json(m, e));
    json_object_set_new(o, "endpoints", endpoints_json(m, e));
    return o;
}

static void render_env(struct cli *cli, json_t *e, FILE *out)
{
    size_t i;
    json_t *x;
    fprintf(out, "%s%s (%s)%s", cli_bold(cli), json_string_value(json_object_get(e, "name")),
            json_string_value(json_object_get(e, "stage")), cli_reset(cli));
    fprintf(out, "  marker '%s'%s\n", json_string_value(json_object_get(e, "marker")),
            json_is_true(json_object_get(e, "protected")) ? ", protected" : "");

    fprintf(out, "  where:    branches ");
    json_t *br = json_object_get(e, "branches");
    if (!json_array_size(br))
        fprintf(out, "(none)");
    json_array_foreach(br, i, x) fprintf(out, "%s%s", i ? ", " : "", json_string_value(x));
    json_t *dep = json_object_get(e, "deploy");
    if (json_is_object(dep)) {
        const char *run = json_string_value(json_object_get(dep, "run"));
        fprintf(out, "; deploys with driver '%s'%s%s%s",
                json_string_value(json_object_get(dep, "driver")), run ? " (" : "", run ? run : "",
                run ? ")" : "");
    }
    fputc('\n', out);

    fprintf(out, "  config:   ");
    json_t *cfg = json_object_get(e, "config");
    if (!json_array_size(cfg))
        fprintf(out, "(no contract)\n");
    json_array_foreach(cfg, i, x)
    {
        if (i)
            fprintf(out, "            ");
        fprintf(out, "%s", json_string_value(json_object_get(x, "name")));
        json_t *al = json_object_get(x, "aliases");
        size_t j;
        json_t *y;
        json_array_foreach(al, j, y)
            fprintf(out, "%s%s", j ? ", " : " (alias ", json_string_value(y));
        if (json_array_size(al))
            fputc(')', out);
        const char *group = json_string_value(json_object_get(x, "one_of"));
        fprintf(out, " [%s%s%s%s]\n", json_string_value(json_object_get(x, "type")),
                json_is_true(json_object_get(x, "required")) ? ", required" : "",
                group ? ", or group " : "", group ? group : "");
    }

    fprintf(out, "  promote:  ");
    json_array_foreach(json_object_get(json_object_get(e, "promotion"), "conditions"), i, x)
        fprintf(out, "%s%s\n", i ? "            " : "", json_string_value(x));

    fprintf(out, "  healthy:  ");
    json_t *eps = json_object_get(e, "endpoints");
    if (!json_array_size(eps))
        fprintf(out, "(no service declares health endpoints)\n");
    json_array_foreach(eps, i, x)
    {
        const char *url = json_string_value(json_object_get(x, "url"));
        fprintf(out, "%s%-9s %s GET %s -> %s\n", i ? "            " : "",
                json_string_value(json_object_get(x, "kind")),
                json_string_value(json_object_get(x, "service")),
                url ? url : json_string_value(json_object_get(x, "path")),
                json_string_value(json_object_get(x, "expect")));
    }
}

/* The live answer: may this build go to this environment now, and if not, why not. */
static json_t *promotion_verdict(struct cli *cli, const struct manifest_env *env, const char *ref,
                                 int *rc)
{
    struct store *s;
    if ((*rc = cli_store_open(cli, &s)) < 0)
        return NULL;
    char *actor = actor_name();
    struct promote_request rq = {
        .m = cli->m,
        .manifest_name = cli_manifest_name(cli),
        .store = s,
        .env = env->name,
        .artifact = ref,
        .check_only = true,
        .actor = actor,
        .process_env = environ,
    };
    struct promote_result res;
    struct otap_err err = OTAP_ERR_INIT;
    int prc = promote_run(&rq, &res, &err);
    json_t *v = NULL;
    if (prc == 0 || prc == OTAP_EREFUSED) {
        json_t *why = json_array();
        for (size_t i = 0; i < res.nrefusals; i++)
            json_array_append_new(why, json_string(res.refusals[i]));
        char *label = res.have_build ? artifact_label(&res.build) : xstrdup(ref);
        json_t *ci = NULL;
        struct otap_err e = OTAP_ERR_INIT;
        if (res.have_build)
            gate_results_latest(s, res.build.digest, &ci, &e);
        otap_err_release(&e);
        json_t *bk = NULL, *drill = NULL;
        bk_last(s, env->name, &bk, &drill, &e);
        otap_err_release(&e);
        v = json_pack("{s:s, s:s, s:b, s:b, s:o, s:o, s:{s:o, s:o}}", "build", label, "environment",
                      env->name, "safe", prc == 0, "already_live", res.already_live, "unmet", why,
                      "ci", ci ? ci : json_object(), "backup", "last", bk ? bk : json_null(),
                      "drill", drill ? drill : json_null());
        free(label);
        /* an unsafe promotion is an answer, not a failure of explain */
        *rc = prc == 0 ? OTAP_OK : OTAP_EFOUND;
    } else {
        *rc = cli_fail(cli, prc, &err);
    }
    promote_result_release(&res);
    otap_err_release(&err);
    free(actor);
    store_close(s);
    return v;
}

static void render_verdict(struct cli *cli, json_t *v, FILE *out)
{
    const char *build = json_string_value(json_object_get(v, "build"));
    const char *env = json_string_value(json_object_get(v, "environment"));
    if (json_is_true(json_object_get(v, "already_live"))) {
        fprintf(out, "%s is live in %s already\n\n", build, env);
    } else if (json_is_true(json_object_get(v, "safe"))) {
        fprintf(out, "%ssafe to promote%s %s to %s: every condition holds now\n\n", cli_green(cli),
                cli_reset(cli), build, env);
    } else {
        size_t n = json_array_size(json_object_get(v, "unmet"));
        fprintf(out, "%snot safe to promote%s %s to %s: %zu condition%s not met\n", cli_red(cli),
                cli_reset(cli), build, env, n, n == 1 ? " is" : "s are");
        size_t i;
        json_t *u;
        json_array_foreach(json_object_get(v, "unmet"), i, u)
            fprintf(out, "  - %s\n", json_string_value(u));
        fputc('\n', out);
    }
    const char *key;
    json_t *g;
    json_object_foreach(json_object_get(v, "ci"), key, g)
    {
        const char *url = json_string_value(json_object_get(g, "url"));
        fprintf(
            out, "  ci: %s %s at %s%s%s\n", key, json_string_value(json_object_get(g, "result")),
            json_string_value(json_object_get(g, "recorded_at")), url ? " " : "", url ? url : "");
    }
    cli_render_backup(cli, json_object_get(v, "backup"), out);
    if (json_object_size(json_object_get(v, "ci")))
        fputc('\n', out);
}

static void render(struct cli *cli, json_t *doc, FILE *out)
{
    json_t *verdict = json_object_get(doc, "promotion");
    if (verdict)
        render_verdict(cli, verdict, out);
    json_t *b = json_object_get(doc, "branch");
    if (b) {
        json_t *env = json_object_get(b, "environment");
        if (json_is_string(env))
            fprintf(out, "branch '%s' deploys to %s, matched by '%s'\n\n",
                    json_string_value(json_object_get(b, "name")), json_string_value(env),
                    json_string_value(json_object_get(b, "matched")));
        else
            fprintf(out, "branch '%s' deploys nowhere: no environment claims it\n",
                    json_string_value(json_object_get(b, "name")));
    }
    size_t i;
    json_t *e;
    json_array_foreach(json_object_get(doc, "environments"), i, e)
    {
        if (i)
            fputc('\n', out);
        render_env(cli, e, out);
    }
}

static int run(struct cli *cli, const struct cli_args *args)
{
    const char *branch = cli_opt(args, "branch"), *envname = cli_opt(args, "env"),
               *artifact = cli_opt(args, "artifact");
    int orc = cli_operands_at_most(cli, args, 0);
    if (orc)
        return orc;

    const struct manifest *m = cli->m;
    const struct manifest_env *only = NULL;
    if (envname) {
        only = manifest_env_find(m, envname);
        if (!only) {
            const char **names = xcalloc(m->nenvs + 1, sizeof(*names));
            for (size_t i = 0; i < m->nenvs; i++)
                names[i] = m->envs[i].name;
            const char *s = suggest_closest(envname, names);
            struct strbuf known = STRBUF_INIT;
            for (size_t i = 0; i < m->nenvs; i++)
                strbuf_addf(&known, "%s%s", i ? ", " : "", names[i]);
            int rc =
                s ? cli_usage_error(cli, "no environment '%s' (did you mean '%s'?)", envname, s)
                  : cli_usage_error(cli, "no environment '%s'; the manifest has: %s", envname,
                                    known.buf);
            strbuf_release(&known);
            free(names);
            return rc;
        }
    }
    if (artifact && !only)
        return cli_usage_error(cli, "--artifact asks about one environment: give --env ENV too");
    json_t *doc = json_pack("{s:s}", "project", m->project);
    int rc = OTAP_OK;
    if (artifact) {
        json_t *v = promotion_verdict(cli, only, artifact, &rc);
        if (!v) {
            json_decref(doc);
            return rc;
        }
        json_object_set_new(doc, "promotion", v);
    }
    if (branch) {
        const char *glob = NULL;
        const struct manifest_env *be = manifest_env_for_branch(m, branch, &glob);
        json_t *b = json_pack("{s:s}", "name", branch);
        if (be) {
            json_object_set_new(b, "environment", json_string(be->name));
            json_object_set_new(b, "stage", json_string(manifest_stage_letter(be->stage)));
            json_object_set_new(b, "matched", json_string(glob));
            if (!only)
                only = be;
        } else {
            json_object_set_new(b, "environment", json_null());
            rc = OTAP_EFOUND;
        }
        json_object_set_new(doc, "branch", b);
    }
    json_t *envs = json_array();
    for (size_t i = 0; i < m->nenvs; i++)
        if ((!only && !(branch && rc)) || only == &m->envs[i])
            json_array_append_new(envs, env_json(m, &m->envs[i]));
    json_object_set_new(doc, "environments", envs);
    cli_emit(cli, doc, render);
    return rc;
}

const struct cmd cmd_explain = {
    .name = "explain",
    .summary = "explain where a branch deploys, its config, promotion and health checks",
    .opts =
        (const struct cli_opt[]){
            {"branch", 'b', "BRANCH", "where this branch deploys"},
            {"env", 'e', "ENV", "only this environment: a name, stage letter or synonym"},
            {"artifact", 0, "BUILD", "with --env: may this build be promoted there now?"},
            {0},
        },
    .about = "Answers from the manifest: where a branch deploys, which config variables an\n"
             "environment needs (names and aliases, never values), what a promotion into it\n"
             "requires, and which endpoints prove it healthy and ready. With no option, every\n"
             "environment in promotion order. ENV may be a name, a stage letter (O, T, A, P)\n"
             "or a synonym (dev, acceptance, prod).\n"
             "\n"
             "With --env and --artifact, the live answer from the state store: is this build\n"
             "safe to promote to ENV now, and if not, every condition that is not met (the\n"
             "same judgement 'otap promote' makes, changing nothing).\n",
    .exits = "0 answered (and the build is safe to promote), 1 the branch deploys\n"
             "      nowhere or the build is not safe to promote, 2 unknown environment or\n"
             "      build, 5 the state store failed",
    .flags = CMD_NEEDS_MANIFEST | CMD_REPORTS_JSON,
    .run = run,
};
