/*
 * Slices and scope fences (seed 000 §7, §11-§12; src/lib/plan/):
 *
 *   otap slice list | show ID | done ID
 *   otap scope check [--slice ID | --allow GLOB...] [--base REV]
 *   otap scope hook install [--force]        the pre-push hook
 *   otap worktree add DOMAIN FEATURE [--slice ID] | list
 */
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "base/xalloc.h"
#include "ci/ci.h"
#include "plan/scope.h"
#include "plan/slices.h"
#include "vcs/vcs_hook.h"
#include "vcs/vcs_tags.h"
#include "vcs/vcs_worktree.h"
#include "base/banned.h"

extern char **environ;

#define SCOPE_HOOK_MARK "scope check --hook"

/* The registry, or an error already reported (invalid: exit 3). */
static const struct manifest_slices *registry(struct cli *cli, struct manifest_slices *storage,
                                              int *rc)
{
    struct diag_list dl;
    diag_list_init(&dl, cli->m->slices.file ? cli->m->slices.file : cli_manifest_name(cli));
    const struct manifest_slices *reg = plan_slices(cli->m, storage, &dl);
    *rc = 0;
    if (!reg) {
        cli_print_diags(cli, &dl, stderr);
        *rc = cli_error(cli, OTAP_EINVALID, "the slice registry %s has problems",
                        cli->m->slices.file);
    }
    diag_list_release(&dl);
    return reg;
}

static json_t *strv_json(char *const *v, size_t n)
{
    json_t *a = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(a, json_string(v[i]));
    return a;
}

static json_t *slice_json(const struct manifest_slice *s)
{
    return json_pack("{s:s, s:s?, s:s?, s:s?, s:s, s:o, s:o, s:o, s:o, s:i}", "id", s->id, "domain",
                     s->domain, "feature", s->feature, "objective", s->objective, "status",
                     s->status, "allowed", strv_json(s->allowed, s->nallowed), "non_goals",
                     strv_json(s->non_goals, s->nnon_goals), "done", strv_json(s->done, s->ndone),
                     "gates", strv_json(s->gates, s->ngates), "line", s->line);
}

/* ---- slice
 * ----------------------------------------------------------------------------------------- */

static void render_slices(struct cli *cli, json_t *doc, FILE *out)
{
    size_t i;
    json_t *s;
    if (!json_array_size(json_object_get(doc, "slices")))
        fprintf(out, "no slices: add slices: to %s\n", cli_manifest_name(cli));
    json_array_foreach(json_object_get(doc, "slices"), i, s)
    {
        const char *st = json_string_value(json_object_get(s, "status"));
        fprintf(out, "%-24s %s%-11s%s %s\n", json_string_value(json_object_get(s, "id")),
                !strcmp(st, "done") ? cli_green(cli) : "", st, cli_reset(cli),
                json_string_value(json_object_get(s, "objective")));
    }
}

static int slice_list(struct cli *cli, const struct cli_args *args)
{
    int rc = cli_operands_at_most(cli, args, 0);
    if (rc)
        return rc;
    struct manifest_slices storage;
    const struct manifest_slices *reg = registry(cli, &storage, &rc);
    if (!reg)
        return rc;
    json_t *a = json_array();
    for (size_t i = 0; i < reg->n; i++)
        json_array_append_new(a, slice_json(&reg->items[i]));
    cli_emit(cli, json_pack("{s:b, s:o}", "ok", 1, "slices", a), render_slices);
    manifest_slices_release(&storage);
    return 0;
}

/* The slice the operand names, or an error. */
static const struct manifest_slice *slice_operand(struct cli *cli, const struct cli_args *args,
                                                  const struct manifest_slices *reg, int *rc)
{
    *rc = 0;
    if (args->argc != 2) {
        *rc = cli_usage_error(cli, "which slice? give its ID");
        return NULL;
    }
    const struct manifest_slice *s = manifest_slice_find(reg, args->argv[1]);
    if (!s)
        *rc = cli_error(cli, OTAP_ENOTFOUND, "no slice '%s' in the registry", args->argv[1]);
    return s;
}

static void render_prompt(struct cli *cli, json_t *doc, FILE *out)
{
    (void)cli;
    fputs(json_string_value(json_object_get(doc, "prompt")), out);
}

static int slice_show(struct cli *cli, const struct cli_args *args)
{
    struct manifest_slices storage;
    int rc;
    const struct manifest_slices *reg = registry(cli, &storage, &rc);
    if (!reg)
        return rc;
    const struct manifest_slice *s = slice_operand(cli, args, reg, &rc);
    if (s) {
        char *prompt = plan_slice_prompt(cli->m, s);
        json_t *doc = slice_json(s);
        json_object_set_new(doc, "ok", json_true());
        json_object_set_new(doc, "prompt", json_string(prompt));
        cli_emit(cli, doc, render_prompt);
        free(prompt);
    }
    manifest_slices_release(&storage);
    return rc;
}

/* ---- scope check
 * ----------------------------------------------------------------------------------- */

/*
 * The slice a check is for when none is named: OTAP_SLICE, this
 * worktree's (otap worktree add --slice), or one whose id the branch's
 * name holds (feature/PLT-DEL-OTAP-001-short).
 */
static const struct manifest_slice *implied_slice(struct cli *cli,
                                                  const struct manifest_slices *reg)
{
    const char *env = getenv("OTAP_SLICE");
    if (env && *env)
        return manifest_slice_find(reg, env);
    struct vcs_worktree *ws = NULL;
    size_t n = 0;
    struct otap_err err = OTAP_ERR_INIT;
    char *root = NULL;
    const struct manifest_slice *found = NULL;
    if (vcs_root(cli->m->dir, &root, &err) == 0 && vcs_worktrees(cli->m->dir, &ws, &n, &err) == 0)
        for (size_t i = 0; i < n && !found; i++)
            if (ws[i].slice && !strcmp(ws[i].path, root))
                found = manifest_slice_find(reg, ws[i].slice);
    vcs_worktrees_release(ws, n);
    free(root);
    char *branch = NULL;
    if (!found && vcs_current_branch(cli->m->dir, &branch, &err) == 0 && branch)
        for (size_t i = 0; i < reg->n && !found; i++)
            if (strstr(branch, reg->items[i].id))
                found = &reg->items[i];
    free(branch);
    otap_err_release(&err);
    return found;
}

struct scope_args {
    char **allow;
    size_t nallow;
    const struct manifest_slice *slice;
    const struct manifest_slices *reg;
};

/* The registry file's path from the repository's root (where a slice's status is written). */
static char *registry_rel(const struct manifest *m, const struct manifest_slices *reg)
{
    char *file = reg && reg->file ? (reg->file[0] == '/' ? xstrdup(reg->file)
                                                         : xasprintf("%s/%s", m->dir, reg->file))
                                  : xstrdup(m->path);
    char *abs = realpath(file, NULL), *root = NULL, *rootabs = NULL, *out = NULL;
    struct otap_err err = OTAP_ERR_INIT;
    if (abs && vcs_root(m->dir, &root, &err) == 0 && (rootabs = realpath(root, NULL))) {
        size_t n = strlen(rootabs);
        if (!strncmp(abs, rootabs, n) && abs[n] == '/')
            out = xstrdup(abs + n + 1);
    }
    otap_err_release(&err);
    free(file);
    free(abs);
    free(root);
    free(rootabs);
    return out;
}

static void render_scope(struct cli *cli, json_t *doc, FILE *out)
{
    size_t i;
    json_t *v;
    json_array_foreach(json_object_get(doc, "violations"), i, v)
    {
        long long line = json_integer_value(json_object_get(v, "line"));
        fprintf(out, "%s", json_string_value(json_object_get(v, "file")));
        if (line)
            fprintf(out, ":%lld", line);
        fprintf(out, ": %serror:%s %s\n", cli_red(cli), cli_reset(cli),
                json_string_value(json_object_get(v, "message")));
    }
    size_t nv = json_array_size(json_object_get(doc, "violations"));
    const char *slice = json_string_value(json_object_get(doc, "slice"));
    if (!cli->quiet || nv)
        fprintf(
            out, "%s%zu file%s changed since %.12s%s%s: %s%s\n", nv ? cli_red(cli) : cli_green(cli),
            (size_t)json_integer_value(json_object_get(doc, "changed")),
            json_integer_value(json_object_get(doc, "changed")) == 1 ? "" : "s",
            json_string_value(json_object_get(doc, "merge_base")), slice ? ", slice " : "",
            slice ? slice : "",
            nv ? "outside the fence" : "inside the fence, no new environment read", cli_reset(cli));
}

/* Runs the check; emits unless quietly; returns 0, OTAP_EFOUND, or an error. */
static int check(struct cli *cli, const struct scope_args *sa, const char *base, bool emit)
{
    struct scope_result r;
    struct otap_err err = OTAP_ERR_INIT;
    char *registry = sa->slice ? registry_rel(cli->m, sa->reg) : NULL;
    int rc = scope_check_registry(cli->m, base, sa->allow, sa->nallow, registry, &r, &err);
    free(registry);
    if (rc < 0)
        return cli_fail(cli, rc, &err);
    json_t *vs = json_array();
    for (size_t i = 0; i < r.n; i++)
        json_array_append_new(vs, json_pack("{s:s, s:i, s:s}", "file", r.items[i].file, "line",
                                            r.items[i].line, "message", r.items[i].message));
    size_t nv = r.n;
    if (emit)
        cli_emit(cli,
                 json_pack("{s:b, s:s?, s:s, s:s, s:o, s:I, s:o}", "ok", nv == 0, "slice",
                           sa->slice ? sa->slice->id : NULL, "base", base, "merge_base",
                           r.merge_base, "allowed", strv_json(sa->allow, sa->nallow), "changed",
                           (json_int_t)r.changed, "violations", vs),
                 render_scope);
    else
        json_decref(vs);
    scope_result_release(&r);
    return nv ? OTAP_EFOUND : 0;
}

static int scope_check_cmd(struct cli *cli, const struct cli_args *args)
{
    int rc = cli_operands_at_most(cli, args, 0);
    if (rc)
        return rc;
    const char *base = cli_opt(args, "base");
    if (!base)
        base = manifest_trunk(cli->m);
    struct manifest_slices storage;
    const struct manifest_slices *reg = registry(cli, &storage, &rc);
    if (!reg)
        return rc;
    struct scope_args sa = {.reg = reg};
    const char *id = cli_opt(args, "slice"), *allow = cli_opt(args, "allow");
    if (id && allow) {
        manifest_slices_release(&storage);
        return cli_usage_error(cli, "give --slice ID or --allow GLOBS, not both");
    }
    char **own = NULL;
    size_t nown = 0;
    if (allow) {
        /* comma-separated globs */
        char *copy = xstrdup(allow), *save = NULL;
        size_t alloc = 0;
        for (char *g = strtok_r(copy, ",", &save); g; g = strtok_r(NULL, ",", &save))
            if (*g)
                *XPUSH(&own, &nown, &alloc) = xstrdup(g);
        free(copy);
        sa.allow = own;
        sa.nallow = nown;
    } else {
        sa.slice = id ? manifest_slice_find(reg, id) : implied_slice(cli, reg);
        if (!sa.slice) {
            manifest_slices_release(&storage);
            return id ? cli_error(cli, OTAP_ENOTFOUND, "no slice '%s' in the registry", id)
                      : cli_usage_error(cli, "which scope? give --slice ID or --allow GLOBS (or "
                                             "work in a worktree made with --slice, or on a "
                                             "branch named after a slice)");
        }
        sa.allow = sa.slice->allowed;
        sa.nallow = sa.slice->nallowed;
    }
    rc = check(cli, &sa, base, true);
    xfree_strv(own, nown);
    manifest_slices_release(&storage);
    return rc;
}

static int scope_hook(struct cli *cli, const struct cli_args *args)
{
    int rc = cli_operands_at_most(cli, args, 0);
    if (rc)
        return rc;
    char *exe = realpath("/proc/self/exe", NULL);
    char *script = xasprintf(
        "#!/bin/sh\n"
        "# Installed by 'otap scope hook install': a push whose change leaves its slice's\n"
        "# allowed paths, or adds an environment read the contract does not name, is\n"
        "# refused. Skipping the check once: git push --no-verify\n"
        "otap='%s'\n"
        "[ -x \"$otap\" ] || otap=otap\n"
        "exec \"$otap\" " SCOPE_HOOK_MARK "\n",
        exe ? exe : "otap");
    free(exe);
    struct otap_err err = OTAP_ERR_INIT;
    char *path = NULL;
    rc = vcs_hook_install(cli->m->dir, "pre-push", script, SCOPE_HOOK_MARK, cli_flag(args, "force"),
                          &path, &err);
    free(script);
    if (rc < 0)
        return cli_fail(cli, rc, &err);
    if (!cli->quiet)
        fprintf(cli->json ? stderr : stdout, "installed %s\n", path);
    if (cli->json)
        cli_emit(cli, json_pack("{s:b, s:s}", "ok", 1, "hook", path), NULL);
    free(path);
    return 0;
}

/* ---- slice done
 * ------------------------------------------------------------------------------------ */

static void gate_line(void *ctx, const struct ci_step *s, bool from_stderr, const char *line,
                      size_t len)
{
    (void)ctx;
    (void)from_stderr;
    fprintf(stderr, "[%s] %.*s\n", s->name, (int)len, line);
}

static int slice_done(struct cli *cli, const struct cli_args *args)
{
    struct manifest_slices storage;
    int rc;
    const struct manifest_slices *reg = registry(cli, &storage, &rc);
    if (!reg)
        return rc;
    const struct manifest_slice *s = slice_operand(cli, args, reg, &rc);
    if (!s) {
        manifest_slices_release(&storage);
        return rc;
    }
    const char *base = cli_opt(args, "base");
    if (!base)
        base = manifest_trunk(cli->m);
    char *unmet[3];
    size_t nunmet = 0;
    /* the fence first: the change stays inside the slice */
    struct scope_args sa = {s->allowed, s->nallowed, s, reg};
    rc = check(cli, &sa, base, !cli->json);
    if (rc == OTAP_EFOUND)
        unmet[nunmet++] =
            xasprintf("the scope check of %s fails ('otap scope check --slice %s')", s->id, s->id);
    else if (rc < 0) {
        manifest_slices_release(&storage);
        return rc;
    }
    /* then the slice's gates, run as CI runs them */
    if (s->ngates) {
        struct ci_plan plan;
        struct otap_err err = OTAP_ERR_INIT;
        char *exe = realpath("/proc/self/exe", NULL);
        rc =
            ci_plan_make(cli->m, s->gates, s->ngates, exe ? exe : "otap", cli->m->dir, &plan, &err);
        free(exe);
        if (rc < 0) {
            manifest_slices_release(&storage);
            for (size_t i = 0; i < nunmet; i++)
                free(unmet[i]);
            return cli_fail(cli, rc, &err);
        }
        struct ci_run_opts o = {.m = cli->m,
                                .manifest_name = cli_manifest_name(cli),
                                .dir = cli->m->dir,
                                .process_env = environ,
                                .redact = &cli->redact,
                                .hooks = {.line = cli->json ? NULL : gate_line}};
        rc = ci_run(&plan, &o, &err);
        if (rc == OTAP_EFOUND)
            unmet[nunmet++] =
                xasprintf("a gate of %s fails ('otap ci run %s')", s->id, s->gates[0]);
        otap_err_release(&err);
        ci_plan_release(&plan);
    }
    if (nunmet) {
        char *what = xasprintf("mark slice %s done", s->id);
        rc = cli_refused(cli, what, unmet, nunmet, NULL);
        free(what);
        for (size_t i = 0; i < nunmet; i++)
            free(unmet[i]);
        manifest_slices_release(&storage);
        return rc;
    }
    struct otap_err err = OTAP_ERR_INIT;
    rc = plan_slice_set_status(cli->m, reg, s, "done", &err);
    if (rc < 0) {
        manifest_slices_release(&storage);
        return cli_fail(cli, rc, &err);
    }
    if (cli->json)
        cli_emit(cli, json_pack("{s:b, s:s, s:s}", "ok", 1, "slice", s->id, "status", "done"),
                 NULL);
    else if (!cli->quiet)
        printf("%sslice %s is done%s (its status in %s, and nothing else, changed)\n",
               cli_green(cli), s->id, cli_reset(cli),
               reg->file ? reg->file : cli_manifest_name(cli));
    manifest_slices_release(&storage);
    return 0;
}

/* ---- worktrees
 * ------------------------------------------------------------------------------------- */

static bool name_part_ok(const char *s)
{
    if (!*s || *s == '-' || *s == '.')
        return false;
    for (; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') || *s == '-' || *s == '_' ||
              *s == '.'))
            return false;
    return true;
}

static int worktree_add(struct cli *cli, const struct cli_args *args)
{
    if (args->argc != 3)
        return cli_usage_error(cli,
                               "give DOMAIN and FEATURE (otap worktree add imports file-intake)");
    const char *domain = args->argv[1], *feature = args->argv[2], *slice = cli_opt(args, "slice");
    if (!name_part_ok(domain) || !name_part_ok(feature))
        return cli_usage_error(cli,
                               "DOMAIN and FEATURE are lower-case names (a-z, 0-9, '-', "
                               "'_', '.'): '%s', '%s'",
                               domain, feature);
    int rc;
    struct manifest_slices storage;
    if (slice) {
        const struct manifest_slices *reg = registry(cli, &storage, &rc);
        if (!reg)
            return rc;
        bool known = manifest_slice_find(reg, slice) != NULL;
        manifest_slices_release(&storage);
        if (!known)
            return cli_error(cli, OTAP_ENOTFOUND, "no slice '%s' in the registry", slice);
    }
    char *root = NULL;
    struct otap_err err = OTAP_ERR_INIT;
    if ((rc = vcs_root(cli->m->dir, &root, &err)) < 0)
        return cli_fail(cli, rc, &err);
    /* seed 000 §11: ../<project>__<domain>__<feature> on feature/<feature> */
    char *parent = xstrdup(root);
    char *slash = strrchr(parent, '/');
    if (slash && slash != parent)
        *slash = '\0';
    char *path = xasprintf("%s/%s__%s__%s", parent, cli->m->project, domain, feature);
    char *name = xasprintf("%s__%s", domain, feature);
    char *branch = xasprintf("feature/%s", feature);
    rc = vcs_worktree_add(root, name, path, branch, slice, &err);
    if (rc == OTAP_EREFUSED) {
        char *why = xstrdup(err.msg);
        otap_err_release(&err);
        rc = cli_refused(cli, "add the worktree", &why, 1, NULL);
        free(why);
    } else if (rc < 0) {
        rc = cli_fail(cli, rc, &err);
    } else {
        cli_emit(cli,
                 json_pack("{s:b, s:s, s:s, s:s?}", "ok", 1, "path", path, "branch", branch,
                           "slice", slice),
                 NULL);
        if (!cli->json && !cli->quiet)
            printf("worktree %s on %s%s%s\n", path, branch, slice ? ", slice " : "",
                   slice ? slice : "");
    }
    free(root);
    free(parent);
    free(path);
    free(name);
    free(branch);
    return rc;
}

static void render_worktrees(struct cli *cli, json_t *doc, FILE *out)
{
    size_t i;
    json_t *w;
    json_array_foreach(json_object_get(doc, "worktrees"), i, w)
    {
        const char *slice = json_string_value(json_object_get(w, "slice"));
        json_t *age = json_object_get(w, "age_days");
        json_t *scope = json_object_get(w, "scope_ok");
        fprintf(out, "%s\n    branch %s", json_string_value(json_object_get(w, "path")),
                json_is_string(json_object_get(w, "branch"))
                    ? json_string_value(json_object_get(w, "branch"))
                    : "(detached)");
        if (json_is_number(age))
            fprintf(out, ", %.1f days old%s%s%s", json_number_value(age),
                    json_is_true(json_object_get(w, "too_old")) ? " (" : "",
                    json_is_true(json_object_get(w, "too_old")) ? cli_red(cli) : "",
                    json_is_true(json_object_get(w, "too_old")) ? "older than the branch policy)"
                                                                : "");
        fprintf(out, "%s", cli_reset(cli));
        if (slice)
            fprintf(out, ", slice %s: scope %s%s%s", slice,
                    json_is_true(scope) ? cli_green(cli) : cli_red(cli),
                    json_is_true(scope)    ? "passes"
                    : json_is_false(scope) ? "fails"
                                           : "unknown",
                    cli_reset(cli));
        fputc('\n', out);
    }
}

static int worktree_list(struct cli *cli, const struct cli_args *args)
{
    int rc = cli_operands_at_most(cli, args, 0);
    if (rc)
        return rc;
    struct vcs_worktree *ws = NULL;
    size_t n = 0;
    struct otap_err err = OTAP_ERR_INIT;
    if ((rc = vcs_worktrees(cli->m->dir, &ws, &n, &err)) < 0)
        return cli_fail(cli, rc, &err);
    struct manifest_slices storage;
    int rrc;
    const struct manifest_slices *reg = registry(cli, &storage, &rrc);
    const char *trunk = manifest_trunk(cli->m);
    json_t *a = json_array();
    for (size_t i = 0; i < n; i++) {
        json_t *o = json_pack("{s:s, s:s, s:s?, s:s?, s:b}", "name", ws[i].name, "path", ws[i].path,
                              "branch", ws[i].branch, "slice", ws[i].slice, "main", ws[i].main);
        /* the branch's age, by the branch policy (otap branch check) */
        char *first = NULL;
        long long when = 0;
        size_t count = 0;
        struct otap_err e2 = OTAP_ERR_INIT;
        if (ws[i].branch && strcmp(ws[i].branch, trunk) &&
            vcs_branch_first_commit(ws[i].path, ws[i].branch, trunk, &first, &when, &count, &e2) ==
                0 &&
            when) {
            double days = (double)(time(NULL) - when) / 86400;
            json_object_set_new(o, "age_days", json_real(days));
            json_object_set_new(
                o, "too_old",
                json_boolean(days * 86400 > (double)cli->m->release.max_branch_age_s));
        }
        free(first);
        otap_err_release(&e2);
        /* its slice's fence, checked in that worktree */
        const struct manifest_slice *s =
            reg && ws[i].slice ? manifest_slice_find(reg, ws[i].slice) : NULL;
        if (s) {
            struct manifest view = *cli->m;
            view.dir = ws[i].path;
            struct scope_result r;
            struct otap_err e3 = OTAP_ERR_INIT;
            char *registry = registry_rel(cli->m, reg);
            int src =
                scope_check_registry(&view, trunk, s->allowed, s->nallowed, registry, &r, &e3);
            free(registry);
            if (src == 0) {
                json_object_set_new(o, "scope_ok", json_boolean(r.n == 0));
                json_object_set_new(o, "violations", json_integer((json_int_t)r.n));
                scope_result_release(&r);
            }
            otap_err_release(&e3);
        }
        json_array_append_new(a, o);
    }
    vcs_worktrees_release(ws, n);
    if (reg)
        manifest_slices_release(&storage);
    cli_emit(cli, json_pack("{s:b, s:o}", "ok", 1, "worktrees", a), render_worktrees);
    return 0;
}

/* ---- the commands
 * ---------------------------------------------------------------------------------- */

static const struct cmd slice_verbs[] = {
    {.name = "list", .summary = "the slices and their status", .run = slice_list},
    {.name = "show",
     .summary = "a slice's scope fence, as a prompt to paste into an agent's prompt or a PR",
     .synopsis = "ID",
     .run = slice_show},
    {.name = "done",
     .summary = "mark a slice done: refused while its scope check or its gates fail",
     .synopsis = "ID [--base REV]",
     .opts = (const struct cli_opt[]){{"base", 0, "REV",
                                       "what the change is measured from "
                                       "(default: the trunk)"},
                                      {0}},
     .run = slice_done},
    {0},
};

const struct cmd cmd_slice = {
    .name = "slice",
    .summary = "slices of a capability, each with its scope fence and status",
    .about = "The registry is otap.yaml's slices: (or the file it names): per slice an\n"
             "objective, allowed paths (globs), non-goals, a definition of done, gates and\n"
             "a status (planned, in-progress, done). 'done' changes that status alone.\n",
    .exits = "0 ok, 1 -, 2 usage or an unknown slice, 3 an invalid registry, 4 refused (done:\n"
             "      the scope check or a gate fails)",
    .flags = CMD_NEEDS_MANIFEST | CMD_REPORTS_JSON,
    .verbs = slice_verbs,
};

static const struct cmd scope_hook_verbs[] = {
    {.name = "install",
     .summary = "a pre-push hook that runs 'otap scope check'",
     .opts = (const struct cli_opt[]){{"force", 0, NULL, "replace a hook otap did not write"}, {0}},
     .run = scope_hook},
    {0},
};

static const struct cmd scope_verbs[] = {
    {.name = "check",
     .summary = "the change since its base stays inside the allowed paths, with no new env read",
     .synopsis = "[--slice ID | --allow GLOB,...] [--base REV]",
     .opts =
         (const struct cli_opt[]){
             {"slice", 0, "ID", "the slice whose allowed paths fence the change"},
             {"allow", 0, "GLOBS", "the allowed paths, comma-separated ('src/imports/**,docs/')"},
             {"base", 0, "REV",
              "the change is everything since the merge base with REV "
              "(default: the trunk)"},
             {"hook", 0, NULL, "(the pre-push hook's way of calling it)"},
             {0},
         },
     .about = "The change: files changed since the merge base (committed, staged, unstaged,\n"
              "untracked, deleted). Each outside every allowed glob is a violation, and so is\n"
              "each new environment read the config contract does not name, with its line.\n"
              "Without --slice or --allow: OTAP_SLICE, this worktree's slice, or the slice the\n"
              "branch is named after.\n",
     .run = scope_check_cmd},
    {.name = "hook", .summary = "install the pre-push hook", .verbs = scope_hook_verbs},
    {0},
};

const struct cmd cmd_scope = {
    .name = "scope",
    .summary = "scope fences: a change stays inside its slice's allowed paths",
    .exits = "0 inside the fence, 1 violations, 2 usage or no such revision, 3 an invalid "
             "registry",
    .flags = CMD_NEEDS_MANIFEST | CMD_REPORTS_JSON,
    .verbs = scope_verbs,
};

static const struct cmd worktree_verbs[] = {
    {.name = "add",
     .summary = "a worktree per feature: ../<project>__<domain>__<feature> on feature/<feature>",
     .synopsis = "DOMAIN FEATURE [--slice ID]",
     .opts = (const struct cli_opt[]){{"slice", 0, "ID",
                                       "the slice it works on (for scope "
                                       "check and worktree list)"},
                                      {0}},
     .about = "Refused when the path exists or the branch is checked out elsewhere. The\n"
              "branch is made from HEAD when it does not exist (seed 000 §11's naming).\n",
     .run = worktree_add},
    {.name = "list",
     .summary = "each worktree: branch, slice, age against the branch policy, scope check",
     .run = worktree_list},
    {0},
};

const struct cmd cmd_worktree = {
    .name = "worktree",
    .summary = "worktrees per feature, with fixed naming and their slices",
    .exits = "0 ok, 2 usage or an unknown slice, 4 refused (path exists, branch in use), 5 git "
             "failed",
    .flags = CMD_NEEDS_MANIFEST | CMD_REPORTS_JSON,
    .verbs = worktree_verbs,
};
