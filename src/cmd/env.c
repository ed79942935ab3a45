/*
 * otap env: the single config contract at the command line.
 *
 *   check   every problem of one environment's config at once
 *   show    the resolved set with the source of each value, secrets hidden
 *   example .env.example as the contract generates it
 *   sync    write .env.example (and the docs table), or --check that they match
 *   parity  what differs between two environments besides values
 *   lint    environment reads in source code that the contract does not name
 *   leaks   dotenv files with secret values that git tracks
 *
 * Values shown pass through redaction; a secret's value is never shown,
 * not even in part, unless --reveal is given on a terminal.
 */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "config/contract.h"
#include "config/envdoc.h"
#include "config/envleaks.h"
#include "config/envlint.h"
#include "config/parity.h"
#include "base/err.h"
#include "base/fileio.h"
#include "base/redact.h"
#include "base/strbuf.h"
#include "base/xalloc.h"
#include "base/banned.h"

extern char **environ;

/* ---- shared ----------------------------------------------------------- */

static const char *env_manifest_name(const struct cli *cli)
{
    return cli->warnings.file ? cli->warnings.file : cli->m->path;
}

static int env_eval(struct cli *cli, const char *env, char *const *process,
                    struct contract_eval *ev)
{
    struct otap_err err = OTAP_ERR_INIT;
    int rc = contract_eval(ev, cli->m, env_manifest_name(cli), env, process, &err);
    if (rc < 0)
        cli_fail(cli, rc, &err);
    return rc;
}

/* --env E is required, and no operand is taken. */
static int parse_env_opt(struct cli *cli, const struct cli_args *args, const char **env)
{
    int rc = cli_operands_at_most(cli, args, 0);
    if (rc)
        return rc;
    *env = cli_opt(args, "env");
    if (!*env)
        return cli_usage_error(cli, "which environment? give --env NAME");
    return 0;
}

static json_t *files_json(const struct contract_eval *ev)
{
    json_t *a = json_array();
    for (int i = 0; i < CONTRACT_LAYERS; i++)
        json_array_append_new(a, json_pack("{s:s, s:b}", "path", ev->layer_paths[i], "present",
                                           ev->layer_present[i]));
    return a;
}

/* ---- check ------------------------------------------------------------ */

static void render_check(struct cli *cli, json_t *doc, FILE *out)
{
    cli_render_diags(cli, json_object_get(doc, "diagnostics"), out);
    const char *env = json_string_value(json_object_get(doc, "environment"));
    int errors = (int)json_integer_value(json_object_get(doc, "errors"));
    if (errors) {
        fprintf(out, "%s: %d problem%s with the config contract\n", env, errors,
                errors == 1 ? "" : "s");
        return;
    }
    if (cli->quiet)
        return;
    fprintf(out, "%s%s: the config contract holds%s (%d variables set; files:", cli_green(cli), env,
            cli_reset(cli), (int)json_integer_value(json_object_get(doc, "set")));
    size_t i;
    json_t *f;
    int shown = 0;
    json_array_foreach(json_object_get(doc, "files"), i, f)
    {
        if (json_is_true(json_object_get(f, "present"))) {
            fprintf(out, " %s", json_string_value(json_object_get(f, "path")));
            shown++;
        }
    }
    fprintf(out, "%s)\n", shown ? "" : " none");
}

static int verb_check(struct cli *cli, const struct cli_args *args)
{
    const char *env;
    int rc = parse_env_opt(cli, args, &env);
    if (rc)
        return rc;
    struct contract_eval ev;
    if (env_eval(cli, env, environ, &ev) < 0)
        return OTAP_EUSAGE;
    size_t errors = diag_count(&ev.diags, DIAG_ERROR);
    int set = 0;
    for (size_t i = 0; i < ev.nvalues; i++)
        set += ev.values[i].value != NULL;
    json_t *doc = json_pack("{s:b, s:s, s:i, s:i, s:o, s:o}", "ok", errors == 0, "environment",
                            ev.env->name, "errors", (int)errors, "set", set, "files",
                            files_json(&ev), "diagnostics", cli_diags_json(&ev.diags));
    contract_eval_release(&ev);
    cli_emit(cli, doc, render_check);
    return errors ? OTAP_EFOUND : OTAP_OK;
}

/* ---- show ------------------------------------------------------------- */

static void render_show(struct cli *cli, json_t *doc, FILE *out)
{
    size_t i;
    json_t *v;
    /* the columns as wide as their longest entry, so long names and values stay aligned */
    int wname = (int)strlen("VARIABLE"), wvalue = (int)strlen("(not set)");
    json_array_foreach(json_object_get(doc, "variables"), i, v)
    {
        json_t *value = json_object_get(v, "value");
        int n = (int)strlen(json_string_value(json_object_get(v, "name")));
        int l = json_is_string(value) ? (int)strlen(json_string_value(value)) : 0;
        wname = n > wname ? n : wname;
        wvalue = l > wvalue && l <= 60 ? l : wvalue;
    }
    fprintf(out, "%-*s  %-*s  %s\n", wname, "VARIABLE", wvalue, "VALUE", "SOURCE");
    json_array_foreach(json_object_get(doc, "variables"), i, v)
    {
        json_t *value = json_object_get(v, "value");
        const char *alias = json_string_value(json_object_get(v, "alias"));
        const char *note = json_string_value(json_object_get(v, "note"));
        const char *source = json_string_value(json_object_get(v, "source"));
        fprintf(out, "%-*s  %-*s  %s%s%s%s%s\n", wname,
                json_string_value(json_object_get(v, "name")), wvalue,
                json_is_string(value) ? json_string_value(value) : "(not set)",
                source ? source : "-", alias ? " via " : "", alias ? alias : "", note ? "; " : "",
                note ? note : "");
    }
    FILE *err = cli->json ? out : stderr;
    cli_render_diags(cli, json_object_get(doc, "diagnostics"), err);
}

static int verb_show(struct cli *cli, const struct cli_args *args)
{
    const char *env;
    bool reveal = false;
    int rc = parse_env_opt(cli, args, &env);
    reveal = cli_flag(args, "reveal");
    if (rc)
        return rc;
    /* secrets reach a screen a person reads, never a pipe, a log or a file */
    if (reveal && (cli->json || !isatty(STDOUT_FILENO)))
        return cli_usage_error(cli, "--reveal shows secrets only on a terminal, not in --json "
                                    "or a pipe");
    if (reveal)
        cli_reveal_stdout(cli);
    struct contract_eval ev;
    if (env_eval(cli, env, environ, &ev) < 0)
        return OTAP_EUSAGE;
    json_t *vars = json_array();
    for (size_t i = 0; i < ev.nvalues; i++) {
        const struct contract_value *cv = &ev.values[i];
        bool secret = contract_is_secret(cv->var, cv->var->name);
        json_t *o = json_pack("{s:s, s:s, s:b}", "name", cv->var->name, "type",
                              contract_type_name(cv->var->type), "secret", secret);
        if (!cv->value) {
            json_object_set_new(o, "value", json_null());
        } else if (secret && !reveal) {
            json_object_set_new(o, "value", json_string(REDACTED));
        } else {
            char *shown = reveal ? xstrdup(cv->value) : redact_text(cv->value);
            json_object_set_new(o, "value", json_string(shown));
            free(shown);
        }
        json_object_set_new(o, "source", cv->source ? json_string(cv->source) : json_null());
        json_object_set_new(o, "alias", cv->alias ? json_string(cv->alias) : json_null());
        json_object_set_new(o, "note", cv->note ? json_string(cv->note) : json_null());
        json_array_append_new(vars, o);
    }
    json_t *doc = json_pack("{s:s, s:o, s:o}", "environment", ev.env->name, "variables", vars,
                            "diagnostics", cli_diags_json(&ev.diags));
    contract_eval_release(&ev);
    cli_emit(cli, doc, render_show);
    return OTAP_OK;
}

/* ---- example and sync ------------------------------------------------- */

static void render_text(struct cli *cli, json_t *doc, FILE *out)
{
    (void)cli;
    fputs(json_string_value(json_object_get(doc, "text")), out);
}

static int verb_example(struct cli *cli, const struct cli_args *args)
{
    if (args->argc > 1)
        return cli_usage_error(cli, "'otap env example' takes no arguments");
    char *text = envdoc_example(cli->m);
    cli_emit(cli, json_pack("{s:s}", "text", text), render_text);
    free(text);
    return OTAP_OK;
}

static char *project_path(const struct cli *cli, const char *rel)
{
    return strcmp(cli->m->dir, ".") ? xasprintf("%s/%s", cli->m->dir, rel) : xstrdup(rel);
}

struct sync_target {
    const char *name;
    char *path;
    char *want; /* what the contract generates; NULL when the file cannot be synced */
    char *have; /* what is there; NULL when missing */
    const char *problem;
};

static void render_sync(struct cli *cli, json_t *doc, FILE *out)
{
    size_t i;
    json_t *f;
    json_array_foreach(json_object_get(doc, "files"), i, f)
    {
        const char *state = json_string_value(json_object_get(f, "state"));
        if (cli->quiet && !strcmp(state, "in sync"))
            continue;
        fprintf(out, "%s: %s\n", json_string_value(json_object_get(f, "path")), state);
    }
}

static int verb_sync(struct cli *cli, const struct cli_args *args)
{
    bool check = cli_flag(args, "check");
    int orc = cli_operands_at_most(cli, args, 0);
    if (orc)
        return orc;

    struct sync_target t[2] = {{0}};
    size_t nt = 1;
    t[0].name = ".env.example";
    t[0].path = project_path(cli, ".env.example");
    t[0].want = envdoc_example(cli->m);
    if (cli->m->config_docs) {
        t[1].name = cli->m->config_docs;
        t[1].path = project_path(cli, cli->m->config_docs);
        nt = 2;
    }
    int rc = OTAP_OK;
    json_t *files = json_array();
    for (size_t i = 0; i < nt; i++) {
        struct strbuf sb = STRBUF_INIT;
        if (strbuf_read_file(&sb, t[i].path, 16u << 20) == 0)
            t[i].have = strbuf_detach(&sb, NULL);
        strbuf_release(&sb);
        if (i == 1) {
            char *table = envdoc_table(cli->m);
            t[i].want = t[i].have ? envdoc_splice(t[i].have, table) : NULL;
            free(table);
            if (!t[i].have)
                t[i].problem =
                    "missing (it must hold the markers " ENVDOC_BEGIN " and " ENVDOC_END ")";
            else if (!t[i].want)
                t[i].problem = "has no " ENVDOC_BEGIN " ... " ENVDOC_END " markers";
        }
        const char *state;
        if (t[i].problem) {
            state = t[i].problem;
            rc = check ? OTAP_EFOUND : OTAP_EINVALID;
        } else if (t[i].have && !strcmp(t[i].have, t[i].want)) {
            state = "in sync";
        } else if (check) {
            state = t[i].have ? "differs from what the contract generates; run 'otap env sync'"
                              : "missing; run 'otap env sync'";
            rc = OTAP_EFOUND;
        } else {
            struct otap_err err = OTAP_ERR_INIT;
            if (fileio_write(t[i].path, t[i].want, strlen(t[i].want), false, 0644, &err) < 0) {
                json_decref(files);
                for (size_t k = 0; k < nt; k++) {
                    free(t[k].path);
                    free(t[k].want);
                    free(t[k].have);
                }
                rc = cli_error(cli, err.code, "%s", err.msg);
                otap_err_release(&err);
                return rc;
            }
            state = t[i].have ? "updated" : "written";
        }
        json_array_append_new(files, json_pack("{s:s, s:s}", "path", t[i].name, "state", state));
    }
    for (size_t k = 0; k < nt; k++) {
        free(t[k].path);
        free(t[k].want);
        free(t[k].have);
    }
    cli_emit(cli, json_pack("{s:b, s:b, s:o}", "ok", rc == OTAP_OK, "check", check, "files", files),
             render_sync);
    return rc;
}

/* ---- parity ----------------------------------------------------------- */

static void render_parity(struct cli *cli, json_t *doc, FILE *out)
{
    size_t i;
    json_t *d;
    json_t *diffs = json_object_get(doc, "differences");
    json_array_foreach(diffs, i, d)
        fprintf(out, "%s\n", json_string_value(json_object_get(d, "message")));
    const char *a = json_string_value(json_object_get(doc, "a"));
    const char *b = json_string_value(json_object_get(doc, "b"));
    if (json_array_size(diffs))
        fprintf(out, "%s and %s differ in %zu way%s besides values\n", a, b, json_array_size(diffs),
                json_array_size(diffs) == 1 ? "" : "s");
    else if (!cli->quiet)
        fprintf(out, "%s%s and %s differ only in values%s\n", cli_green(cli), a, b, cli_reset(cli));
}

static int verb_parity(struct cli *cli, const struct cli_args *args)
{
    int argc = args->argc;
    char **argv = args->argv;
    if (argc != 3)
        return cli_usage_error(cli, "'otap env parity' takes two environments: parity A B");
    struct contract_eval ea, eb;
    /* files only: the process environment is the same for both and says nothing */
    if (env_eval(cli, argv[1], NULL, &ea) < 0)
        return OTAP_EUSAGE;
    if (env_eval(cli, argv[2], NULL, &eb) < 0) {
        contract_eval_release(&ea);
        return OTAP_EUSAGE;
    }
    const char *a = ea.env->name, *b = eb.env->name;
    struct parity p;
    parity_compare(&ea, &eb, &p);
    json_t *diffs = json_array();
    for (size_t i = 0; i < p.n; i++)
        json_array_append_new(diffs,
                              json_pack("{s:s, s:s, s:s}", "variable", p.items[i].variable, "kind",
                                        p.items[i].kind, "message", p.items[i].message));
    parity_release(&p);
    json_t *doc = json_pack("{s:b, s:s, s:s, s:o}", "ok", json_array_size(diffs) == 0, "a", a, "b",
                            b, "differences", diffs);
    contract_eval_release(&ea);
    contract_eval_release(&eb);
    bool same = json_array_size(diffs) == 0;
    cli_emit(cli, doc, render_parity);
    return same ? OTAP_OK : OTAP_EFOUND;
}

/* ---- lint ------------------------------------------------------------- */

static void render_lint(struct cli *cli, json_t *doc, FILE *out)
{
    size_t i;
    json_t *f;
    json_array_foreach(json_object_get(doc, "findings"), i, f)
        fprintf(out, "%s:%d:%d: %s\n", json_string_value(json_object_get(f, "file")),
                (int)json_integer_value(json_object_get(f, "line")),
                (int)json_integer_value(json_object_get(f, "column")),
                json_string_value(json_object_get(f, "message")));
    json_array_foreach(json_object_get(doc, "unresolved"), i, f)
        fprintf(out,
                "%s:%d:%d: %s reads a variable whose name is computed: otap cannot check it "
                "against the contract\n",
                json_string_value(json_object_get(f, "file")),
                (int)json_integer_value(json_object_get(f, "line")),
                (int)json_integer_value(json_object_get(f, "column")),
                json_string_value(json_object_get(f, "read")));
    size_t n = json_array_size(json_object_get(doc, "findings"));
    size_t u = json_array_size(json_object_get(doc, "unresolved"));
    int files = (int)json_integer_value(json_object_get(doc, "files"));
    int reads = (int)json_integer_value(json_object_get(doc, "reads"));
    if (n)
        fprintf(out, "%zu environment read%s outside the contract%s (%d files, %d reads)\n", n,
                n == 1 ? "" : "s", u ? ", and reads otap cannot resolve" : "", files, reads);
    else if (u)
        fprintf(out,
                "%zu read%s otap cannot resolve; every read it can name is in the contract "
                "(%d files, %d reads)\n",
                u, u == 1 ? "" : "s", files, reads);
    else if (!cli->quiet)
        fprintf(out, "%severy environment read is in the contract%s (%d files, %d reads)\n",
                cli_green(cli), cli_reset(cli), files, reads);
}

static int verb_lint(struct cli *cli, const struct cli_args *args)
{
    int argc = args->argc;
    char **argv = args->argv;
    const struct manifest *m = cli->m;
    /* the project root, named as the user would type it from here */
    char *cwd = getcwd(NULL, 0);
    size_t cl = cwd ? strlen(cwd) : 0;
    const char *rootdir = m->dir;
    if (cwd && !strcmp(m->dir, cwd))
        rootdir = ".";
    else if (cwd && !strncmp(m->dir, cwd, cl) && m->dir[cl] == '/')
        rootdir = m->dir + cl + 1;
    const char *root[] = {rootdir};
    const char *const *paths = argc > 1 ? (const char *const *)argv + 1 : root;
    size_t npaths = argc > 1 ? (size_t)argc - 1 : 1;
    struct envlint l = {0};
    struct otap_err err = OTAP_ERR_INIT;
    int scanned = envlint_scan(paths, npaths, &l, &err);
    free(cwd);
    if (scanned < 0) {
        int rc = cli_error(cli, err.code, "%s", err.msg);
        otap_err_release(&err);
        envlint_release(&l);
        return rc;
    }
    json_t *findings = json_array();
    for (size_t i = 0; i < l.n; i++) {
        const struct envlint_hit *h = &l.items[i];
        const struct contract_var *alias_of = NULL;
        bool known = false;
        for (size_t k = 0; k < m->nconfig; k++) {
            known |= !strcmp(m->config[k].name, h->name);
            for (size_t a = 0; a < m->config[k].naliases; a++)
                if (!strcmp(m->config[k].aliases[a], h->name))
                    alias_of = &m->config[k];
        }
        if (known || envlint_is_system_var(h->name))
            continue;
        char *msg =
            alias_of
                ? xasprintf("reads '%s', a deprecated alias; read '%s'", h->name, alias_of->name)
                : xasprintf("reads '%s', which the config contract does not name", h->name);
        json_array_append_new(findings, json_pack("{s:s, s:i, s:i, s:s, s:s}", "file", h->file,
                                                  "line", h->line, "column", h->col, "variable",
                                                  h->name, "message", msg));
        free(msg);
    }
    json_t *unresolved = json_array();
    for (size_t i = 0; i < l.nunresolved; i++)
        json_array_append_new(unresolved,
                              json_pack("{s:s, s:i, s:i, s:s}", "file", l.unresolved[i].file,
                                        "line", l.unresolved[i].line, "column", l.unresolved[i].col,
                                        "read", l.unresolved[i].name));
    /* a read otap cannot name is not vouched for: the lint is not clean */
    bool clean = json_array_size(findings) == 0 && l.nunresolved == 0;
    json_t *doc = json_pack("{s:b, s:i, s:i, s:i, s:o, s:o}", "ok", clean, "files", (int)l.files,
                            "skipped", (int)l.skipped, "reads", (int)l.n, "findings", findings,
                            "unresolved", unresolved);
    envlint_release(&l);
    cli_emit(cli, doc, render_lint);
    return clean ? OTAP_OK : OTAP_EFOUND;
}

/* ---- leaks ------------------------------------------------------------ */

static void render_leaks(struct cli *cli, json_t *doc, FILE *out)
{
    size_t i;
    json_t *f;
    json_array_foreach(json_object_get(doc, "leaks"), i, f)
        fprintf(out,
                "%s:%d: '%s' holds a secret in a file git tracks; remove the value, "
                "untrack the file (git rm --cached) and rotate the secret\n",
                json_string_value(json_object_get(f, "path")),
                (int)json_integer_value(json_object_get(f, "line")),
                json_string_value(json_object_get(f, "variable")));
    size_t n = json_array_size(json_object_get(doc, "leaks"));
    int files = (int)json_integer_value(json_object_get(doc, "files"));
    if (n)
        fprintf(out, "%zu secret%s in tracked dotenv files\n", n, n == 1 ? "" : "s");
    else if (!cli->quiet)
        fprintf(out, "%sno secret in a tracked dotenv file%s (%d tracked dotenv file%s)\n",
                cli_green(cli), cli_reset(cli), files, files == 1 ? "" : "s");
}

static int verb_leaks(struct cli *cli, const struct cli_args *args)
{
    if (args->argc > 1)
        return cli_usage_error(cli, "'otap env leaks' takes no arguments");
    struct envleaks l = {0};
    struct otap_err err = OTAP_ERR_INIT;
    if (envleaks_scan(cli->m, cli->m->dir, &l, &err) < 0) {
        int rc = cli_error(cli, err.code, "%s", err.msg);
        otap_err_release(&err);
        envleaks_release(&l);
        return rc;
    }
    json_t *leaks = json_array();
    for (size_t i = 0; i < l.n; i++)
        json_array_append_new(leaks, json_pack("{s:s, s:i, s:s}", "path", l.items[i].path, "line",
                                               l.items[i].line, "variable", l.items[i].name));
    json_t *doc =
        json_pack("{s:b, s:i, s:o}", "ok", l.n == 0, "files", (int)l.files, "leaks", leaks);
    bool clean = l.n == 0;
    envleaks_release(&l);
    cli_emit(cli, doc, render_leaks);
    return clean ? OTAP_OK : OTAP_EFOUND;
}

/* ---- dispatch --------------------------------------------------------- */

#define ENV_OPT                                                                                    \
    {                                                                                              \
        "env", 'e', "ENV", "the environment: a name, stage letter or synonym"                      \
    }

static const struct cmd verbs[] = {
    {
        .name = "check",
        .summary = "every problem with ENV's config at once",
        .about = "Missing variables, wrong types, alias misuse, weak or shared secrets,\n"
                 "variables in dotenv files that the contract does not name.\n",
        .synopsis = "--env ENV [--json]",
        .opts = (const struct cli_opt[]){ENV_OPT, {0}},
        .run = verb_check,
    },
    {
        .name = "show",
        .summary = "the resolved set and where each value came from; never a secret",
        .synopsis = "--env ENV [--reveal] [--json]",
        .opts =
            (const struct cli_opt[]){
                ENV_OPT,
                {"reveal", 0, NULL, "show secrets too, on a terminal only"},
                {0},
            },
        .run = verb_show,
    },
    {
        .name = "example",
        .summary = ".env.example as the contract generates it",
        .synopsis = "",
        .run = verb_example,
    },
    {
        .name = "sync",
        .summary = "write .env.example and the docs table (docs.config in otap.yaml)",
        .opts =
            (const struct cli_opt[]){
                {"check", 0, NULL, "only report whether they match"},
                {0},
            },
        .run = verb_sync,
    },
    {
        .name = "parity",
        .summary = "what differs between two environments besides values",
        .about = "Variables set in one only, required in one only, URL schemes, values\n"
                 "valid in one only.\n",
        .synopsis = "ENV_A ENV_B [--json]",
        .run = verb_parity,
    },
    {
        .name = "lint",
        .summary = "reads of environment variables in code that the contract does not name",
        .synopsis = "[PATH...] [--json]",
        .about = "Finds getenv, os.Getenv, os.environ, os.getenv, process.env,\n"
                 "import.meta.env and ENV[]; PATH, HOME and a few system variables are allowed.\n",
        .run = verb_lint,
    },
    {
        .name = "leaks",
        .summary = "dotenv files that git tracks and that hold a secret's value",
        .synopsis = "[--json]",
        .run = verb_leaks,
    },
    {0},
};

const struct cmd cmd_env = {
    .name = "env",
    .summary = "check, show and generate config against the single config contract",
    .about = "The config of ENV is layered, strongest first: the process environment,\n"
             ".env.ENV.local, .env.ENV, .env.local, .env (in the project root). Aliases\n"
             "resolve to their canonical name with a warning; defaults apply; the database\n"
             "URL is normalised to postgresql:// or built from the POSTGRES_* parts.\n",
    .exits = "0 ok, 1 problems found, 2 usage, 3 invalid manifest, 5 a file cannot be\n"
             "      written or git cannot be read",
    .flags = CMD_NEEDS_MANIFEST | CMD_REPORTS_JSON,
    .verbs = verbs,
};
