/*
 * Which gates run, in which order, and what the built-in ones run (ci.h).
 */
#include <stdlib.h>
#include <string.h>

#include "ci/ci.h"
#include "base/strbuf.h"
#include "base/xalloc.h"
#include "vcs/vcs_tags.h"
#include "base/banned.h"

const char *ci_status_name(enum ci_status s)
{
    static const char *const names[] = {"pass", "fail", "skipped"};
    return names[s];
}

/* s in single quotes for sh, any ' closed and escaped. */
static void shell_quote(struct strbuf *sb, const char *s)
{
    strbuf_addch(sb, '\'');
    for (; *s; s++)
        if (*s == '\'')
            strbuf_addstr(sb, "'\\''");
        else
            strbuf_addch(sb, *s);
    strbuf_addch(sb, '\'');
}

/* One otap call in a built-in gate: every call runs, and any failure fails the gate. */
static void otap_call(struct strbuf *sb, const char *otap, const char *args)
{
    shell_quote(sb, otap);
    strbuf_addf(sb, " %s || s=1; ", args);
}

/* The revision a branch's commits start after: the trunk, when HEAD is on another branch. */
static char *branch_base(const struct manifest *m, const char *dir)
{
    struct otap_err err = OTAP_ERR_INIT;
    char *branch = NULL, *ref = NULL;
    const char *trunk = manifest_trunk(m);
    vcs_current_branch(dir, &branch, &err);
    if (branch && strcmp(branch, trunk))
        vcs_branch_ref(dir, trunk, &ref, &err);
    otap_err_release(&err);
    free(branch);
    return ref;
}

static const struct manifest_env *default_env(const struct manifest *m)
{
    for (size_t i = 0; i < m->nenvs; i++)
        if (m->envs[i].stage == STAGE_T)
            return &m->envs[i];
    return m->nenvs ? &m->envs[0] : NULL;
}

/* The shell command of a built-in gate, or NULL for one CI does not run. */
static char *builtin_command(const struct manifest *m, const char *name, const char *otap,
                             const char *dir, const struct manifest_env *env)
{
    struct strbuf sb = STRBUF_INIT;
    strbuf_addstr(&sb, "s=0; ");
    char *base = NULL;
    if (!strcmp(name, "secrets")) {
        /* on a branch: what its commits add; on the trunk: the tree */
        base = branch_base(m, dir);
        if (base) {
            struct strbuf a = STRBUF_INIT;
            strbuf_addstr(&a, "secrets scan --git --since ");
            shell_quote(&a, base);
            otap_call(&sb, otap, a.buf);
            strbuf_release(&a);
        } else {
            otap_call(&sb, otap, "secrets scan");
        }
    } else if (!strcmp(name, "contract")) {
        for (size_t i = 0; i < m->nenvs; i++) {
            char *a = xasprintf("env check --env %s", m->envs[i].name);
            otap_call(&sb, otap, a);
            free(a);
        }
        otap_call(&sb, otap, "env sync --check");
    } else if (!strcmp(name, "migrations")) {
        otap_call(&sb, otap, "db lint");
        char *a = xasprintf("db verify --env %s", env->name);
        otap_call(&sb, otap, a);
        free(a);
    } else if (!strcmp(name, "commits")) {
        /* on a branch: its own commits; on the trunk: the last one */
        base = branch_base(m, dir);
        struct strbuf a = STRBUF_INIT;
        strbuf_addstr(&a, "commit lint --from ");
        shell_quote(&a, base ? base : "HEAD^");
        otap_call(&sb, otap, a.buf);
        strbuf_release(&a);
    } else if (!strcmp(name, "branch")) {
        otap_call(&sb, otap, "branch check");
    } else if (!strcmp(name, "policy")) {
        otap_call(&sb, otap, "policy check");
    } else if (!strcmp(name, "flags")) {
        otap_call(&sb, otap, "flags lint");
    } else if (!strcmp(name, "scope")) {
        otap_call(&sb, otap, "scope check");
    } else {
        strbuf_release(&sb);
        return NULL;
    }
    strbuf_addstr(&sb, "exit $s");
    free(base);
    return strbuf_detach(&sb, NULL);
}

static bool planned(const struct ci_plan *p, const char *name)
{
    for (size_t i = 0; i < p->n; i++)
        if (!strcmp(p->steps[i].name, name))
            return true;
    return false;
}

/* Adds name after everything it needs; depth guards a cycle the manifest let through. */
static int add(struct ci_plan *p, const struct manifest *m, const char *name, const char *otap,
               const char *dir, int depth, struct otap_err *err)
{
    if (planned(p, name))
        return 0;
    if (depth > 64)
        return otap_err_set(err, OTAP_EINVALID, "gates need each other in a circle at '%s'", name);
    const struct manifest_gate *g = manifest_gate_find(m, name);
    if (!g && manifest_gate_at_promotion(name))
        return otap_err_set(err, OTAP_EUSAGE,
                            "'%s' is judged when promoting ('otap promote', 'otap explain'), not "
                            "run in CI",
                            name);
    if (!g && !manifest_gate_is_builtin(name))
        return otap_err_set(err, OTAP_EUSAGE, "the manifest has no gate '%s'", name);
    for (size_t i = 0; g && i < g->nneeds; i++) {
        int rc = add(p, m, g->needs[i], otap, dir, depth + 1, err);
        if (rc < 0)
            return rc;
    }
    const struct manifest_env *env = g && g->env ? manifest_env_find(m, g->env) : default_env(m);
    if (!env)
        return otap_err_set(err, OTAP_EINVALID, "the manifest has no environment to run '%s' in",
                            name);
    struct ci_step *s = XPUSH(&p->steps, &p->n, &p->alloc);
    memset(s, 0, sizeof(*s));
    s->name = xstrdup(name);
    s->gate = g;
    s->env = env;
    s->timeout_s = g ? g->timeout_s : 600;
    s->command = g ? xstrdup(g->run) : builtin_command(m, name, otap, dir, env);
    strbuf_init(&s->tail, 0);
    return 0;
}

int ci_plan_make(const struct manifest *m, char *const *names, size_t nnames, const char *otap,
                 const char *dir, struct ci_plan *out, struct otap_err *err)
{
    memset(out, 0, sizeof(*out));
    int rc = 0;
    if (nnames) {
        for (size_t i = 0; rc == 0 && i < nnames; i++)
            rc = add(out, m, names[i], otap, dir, 0, err);
    } else {
        /* every gate the manifest defines, then the built-ins environments require */
        for (size_t i = 0; rc == 0 && i < m->ngates; i++)
            rc = add(out, m, m->gates[i].name, otap, dir, 0, err);
        for (size_t e = 0; rc == 0 && e < m->nenvs; e++)
            for (size_t r = 0; rc == 0 && r < m->envs[e].nrequires; r++) {
                const char *req = m->envs[e].requires[r];
                if (!manifest_gate_at_promotion(req))
                    rc = add(out, m, req, otap, dir, 0, err);
            }
    }
    if (rc < 0)
        ci_plan_release(out);
    return rc;
}

void ci_plan_release(struct ci_plan *p)
{
    for (size_t i = 0; i < p->n; i++) {
        free(p->steps[i].name);
        free(p->steps[i].command);
        free(p->steps[i].reason);
        strbuf_release(&p->steps[i].tail);
    }
    free(p->steps);
    memset(p, 0, sizeof(*p));
}
