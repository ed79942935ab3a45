/*
 * The CI side of the manifest: the gates' needs, services and
 * environment (checked once every section is loaded), and policies, the
 * file rules otap policy check enforces.
 */
#include <stdlib.h>
#include <string.h>

#include "manifest/manifest_impl.h"
#include "base/strbuf.h"
#include "base/suggest.h"
#include "base/xalloc.h"
#include "base/banned.h"

const char *const manifest_builtin_gates[] = {
    MANIFEST_REQ_SIGNOFF,
    MANIFEST_REQ_TAG,
    MANIFEST_REQ_DRILL,
    "secrets",
    "contract",
    "migrations",
    "commits",
    "branch",
    "policy",
    "flags",
    "scope",
    NULL,
};

bool manifest_gate_at_promotion(const char *name)
{
    return !strcmp(name, MANIFEST_REQ_SIGNOFF) || !strcmp(name, MANIFEST_REQ_TAG) ||
           !strcmp(name, MANIFEST_REQ_DRILL);
}

bool manifest_gate_is_builtin(const char *name)
{
    for (size_t i = 0; manifest_builtin_gates[i]; i++)
        if (!strcmp(manifest_builtin_gates[i], name))
            return true;
    return false;
}

/* Depth-first search for a cycle through needs; state 1 on the path, 2 done. */
static bool cycle_from(const struct manifest *m, size_t i, int *state, size_t *path, size_t depth,
                       size_t *len)
{
    state[i] = 1;
    path[depth] = i;
    const struct manifest_gate *g = &m->gates[i];
    for (size_t k = 0; k < g->nneeds; k++) {
        const struct manifest_gate *n = manifest_gate_find(m, g->needs[k]);
        if (!n)
            continue;
        size_t j = (size_t)(n - m->gates);
        if (state[j] == 1) {
            /* the cycle is the path from j to here */
            size_t from = 0;
            while (path[from] != j)
                from++;
            memmove(path, path + from, (depth - from + 1) * sizeof(*path));
            *len = depth - from + 1;
            return true;
        }
        if (state[j] == 0 && cycle_from(m, j, state, path, depth + 1, len))
            return true;
    }
    state[i] = 2;
    return false;
}

const char **mf_gate_names(const struct manifest *m)
{
    size_t nb = 0;
    while (manifest_builtin_gates[nb])
        nb++;
    const char **cand = xcalloc(m->ngates + nb + 1, sizeof(*cand));
    size_t k = 0;
    for (size_t g = 0; g < m->ngates; g++)
        cand[k++] = m->gates[g].name;
    for (size_t b = 0; b < nb; b++)
        cand[k++] = manifest_builtin_gates[b];
    return cand;
}

void mf_check_gates(struct mf_ctx *c)
{
    struct manifest *m = c->m;
    const char **cand = mf_gate_names(m);
    for (size_t i = 0; i < m->ngates; i++) {
        const struct manifest_gate *g = &m->gates[i];
        for (size_t n = 0; n < g->nneeds; n++) {
            const char *need = g->needs[n];
            if (manifest_gate_at_promotion(need))
                ERR(c, g->pos, "gate '%s' needs '%s', which is judged when promoting, not in CI",
                    g->name, need);
            else if (!manifest_gate_find(m, need) && !manifest_gate_is_builtin(need)) {
                const char *s = suggest_closest(need, cand);
                ERR(c, g->pos, "gate '%s' needs unknown gate '%s'%s%s%s", g->name, need,
                    s ? " (did you mean '" : "", s ? s : "", s ? "'?)" : "");
            } else if (!strcmp(need, g->name))
                ERR(c, g->pos, "gate '%s' needs itself", g->name);
        }
        for (size_t s = 0; s < g->nservices; s++)
            if (!manifest_service_find(m, g->services[s]))
                ERR(c, g->pos, "gate '%s' names unknown service '%s' in 'services'", g->name,
                    g->services[s]);
        if (g->env && !manifest_env_find(m, g->env))
            ERR(c, g->pos, "gate '%s' runs in unknown environment '%s'", g->name, g->env);
    }
    free(cand);
    /* needs must not go round in a circle: the run order would not exist */
    int *state = xcalloc(m->ngates + 1, sizeof(*state));
    size_t *path = xcalloc(m->ngates + 1, sizeof(*path));
    for (size_t i = 0; i < m->ngates; i++) {
        size_t len = 0;
        if (state[i] == 0 && cycle_from(m, i, state, path, 0, &len)) {
            struct strbuf sb = STRBUF_INIT;
            for (size_t p = 0; p < len; p++)
                strbuf_addf(&sb, "%s -> ", m->gates[path[p]].name);
            strbuf_addstr(&sb, m->gates[path[0]].name);
            ERR(c, m->gates[path[0]].pos, "gates need each other in a circle: %s", sb.buf);
            strbuf_release(&sb);
            break;
        }
    }
    free(state);
    free(path);
}

/* ---- policies ------------------------------------------------------------- */

static const char *const policy_keys[] = {
    "name", "files", "must_contain", "message", "must_not_contain", NULL};

static void policy_field(struct mf_ctx *c, void *obj, int idx, struct fy_node *k, struct fy_node *v,
                         struct manifest_pos kp)
{
    struct manifest_policy *p = obj;
    (void)k;
    char *s = mf_get_str(c, v, kp, policy_keys[idx]);
    if (!s)
        return;
    if (idx == 2 || idx == 4) {
        if (p->pattern) {
            ERR(c, kp, "policy '%s' has both must_contain and must_not_contain: make two",
                p->name ? p->name : "?");
            free(s);
            return;
        }
        mf_check_regex(c, s, mf_node_pos(v, kp), policy_keys[idx], NULL);
        p->must_not = idx == 4;
    }
    char **slot = idx == 0 ? &p->name : idx == 1 ? &p->files : idx == 3 ? &p->message : &p->pattern;
    free(*slot);
    *slot = s;
}

void mf_load_policies(struct mf_ctx *c, struct fy_node *n, struct manifest_pos p)
{
    struct manifest *m = c->m;
    if (mf_is_null(n))
        return;
    if (fy_node_get_type(n) != FYNT_SEQUENCE) {
        ERR(c, mf_node_pos(n, p),
            "'policies' must be a list of rules ({ name, files, must_contain or "
            "must_not_contain, message }), not %s",
            mf_type_word(n));
        return;
    }
    size_t alloc = 0;
    void *it = NULL;
    struct fy_node *item;
    while ((item = fy_node_sequence_iterate(n, &it))) {
        struct manifest_pos ip = mf_node_pos(item, p);
        struct manifest_policy r = {.pos = ip};
        if (!mf_walk_map(c, item, ip, "a policy", policy_keys, policy_field, &r))
            continue;
        if (!r.name || !r.files || !r.pattern) {
            ERR(c, ip, "policy '%s' needs %s", r.name ? r.name : "?",
                !r.name    ? "a 'name'"
                : !r.files ? "'files' (a glob)"
                           : "'must_contain' or 'must_not_contain' (a regular expression)");
        } else {
            for (size_t i = 0; i < m->npolicies; i++)
                if (!strcmp(m->policies[i].name, r.name))
                    ERR(c, ip, "duplicate policy '%s' (first defined at line %d)", r.name,
                        m->policies[i].pos.line);
            *XPUSH(&m->policies, &m->npolicies, &alloc) = r;
            continue;
        }
        free(r.name);
        free(r.files);
        free(r.pattern);
        free(r.message);
    }
}

/* ---- ci: how CI gets otap and the build ------------------------------------ */

const char *const mf_ci_keys[] = {"install", "build", "artifact", "runner", "postgres", NULL};

void mf_ci_field(struct mf_ctx *c, void *obj, int idx, struct fy_node *k, struct fy_node *v,
                 struct manifest_pos kp)
{
    struct manifest_ci *ci = obj;
    (void)k;
    char **slot[] = {&ci->install, &ci->build, &ci->artifact, &ci->runner, &ci->postgres};
    char *s = mf_get_str(c, v, kp, mf_ci_keys[idx]);
    if (s) {
        free(*slot[idx]);
        *slot[idx] = s;
    }
}
