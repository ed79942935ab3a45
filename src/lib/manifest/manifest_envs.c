/*
 * The environments section: stages O, T, A, P in their fixed order, the
 * branches each takes, markers, required gates, protection and deploys.
 */
#include <ctype.h>
#include <errno.h>
#include <fnmatch.h>
#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "manifest/manifest_impl.h"
#include "base/num.h"
#include "base/strbuf.h"
#include "base/suggest.h"
#include "base/utf8.h"
#include "base/xalloc.h"
#include "base/banned.h"

/* ---- stages ------------------------------------------------------------ */

static const char *const stage_letters[] = {"O", "T", "A", "P"};

const char *manifest_stage_letter(enum otap_stage s)
{
    return s < STAGE_COUNT ? stage_letters[s] : "?";
}

static const struct {
    const char *word;
    enum otap_stage stage;
} stage_words[] = {
    {"o", STAGE_O},
    {"development", STAGE_O},
    {"dev", STAGE_O},
    {"local", STAGE_O},
    {"ontwikkeling", STAGE_O},
    {"t", STAGE_T},
    {"test", STAGE_T},
    {"testing", STAGE_T},
    {"ci", STAGE_T},
    {"a", STAGE_A},
    {"acceptance", STAGE_A},
    {"acceptatie", STAGE_A},
    {"staging", STAGE_A},
    {"p", STAGE_P},
    {"production", STAGE_P},
    {"prod", STAGE_P},
    {"productie", STAGE_P},
};

int mf_stage_from_word(const char *w)
{
    for (size_t i = 0; i < sizeof(stage_words) / sizeof(stage_words[0]); i++)
        if (!strcasecmp(stage_words[i].word, w))
            return (int)stage_words[i].stage;
    return -1;
}

/* ---- environments ----------------------------------------------------- */

static const char *const env_keys[] = {"name",     "stage",     "branches", "marker",
                                       "requires", "protected", "deploy",   NULL};
enum { EK_NAME, EK_STAGE, EK_BRANCHES, EK_MARKER, EK_REQUIRES, EK_PROTECTED, EK_DEPLOY };

static const char *const deploy_keys[] = {"driver", "run", "timeout", "service", NULL};
enum { DK_DRIVER, DK_RUN, DK_TIMEOUT, DK_SERVICE };

struct env_walk {
    struct manifest_env *e;
    int stage; /* -1: not given, or not valid */
    bool has_stage;
    bool has_protected;
};

static void deploy_field(struct mf_ctx *c, void *obj, int idx, struct fy_node *k, struct fy_node *v,
                         struct manifest_pos kp)
{
    struct manifest_deploy *d = obj;
    (void)k;
    switch (idx) {
    case DK_DRIVER: {
        char *s = mf_get_str(c, v, kp, "driver");
        if (s && strcmp(s, "run") && strcmp(s, "local")) {
            ERR(c, mf_node_pos(v, kp), "'driver' must be 'run' or 'local', not '%s'", s);
            free(s);
            s = NULL;
        }
        if (s) {
            free(d->driver);
            d->driver = s;
        }
        break;
    }
    case DK_RUN:
        free(d->run);
        d->run = mf_get_str(c, v, kp, "run");
        break;
    case DK_TIMEOUT:
        mf_get_duration(c, v, kp, "timeout", &d->timeout_s);
        break;
    case DK_SERVICE:
        free(d->service);
        d->service = mf_get_str(c, v, kp, "service");
        d->service_pos = kp;
        break;
    }
}

static void env_field(struct mf_ctx *c, void *obj, int idx, struct fy_node *k, struct fy_node *v,
                      struct manifest_pos kp)
{
    struct env_walk *w = obj;
    struct manifest_env *e = w->e;
    (void)k;
    switch (idx) {
    case EK_NAME:
        free(e->name);
        e->name = mf_get_str(c, v, kp, "name");
        if (e->name && !mf_valid_name(e->name, false))
            ERR(c, mf_node_pos(v, kp), "environment name '%s' may hold only a-z, 0-9, '-' and '_'",
                e->name);
        if (e->name)
            e->pos = mf_node_pos(v, kp);
        break;
    case EK_STAGE: {
        const char *s = mf_scalar(c, v, kp, "stage");
        if (!s)
            break;
        int st = mf_stage_from_word(s);
        if (st < 0)
            ERR(c, mf_node_pos(v, kp), "'stage' must be one of O, T, A, P, not '%s'", s);
        w->stage = st;
        w->has_stage = true;
        break;
    }
    case EK_BRANCHES:
        mf_get_str_list(c, v, kp, "branches", &e->branches, &e->nbranches);
        break;
    case EK_MARKER:
        free(e->marker);
        e->marker = mf_get_str(c, v, kp, "marker");
        break;
    case EK_REQUIRES:
        e->requires_pos = mf_node_pos(v, kp);
        mf_get_str_list(c, v, kp, "requires", &e->requires, &e->nrequires);
        break;
    case EK_PROTECTED:
        if (mf_get_bool(c, v, kp, "protected", &e->protected))
            w->has_protected = true;
        break;
    case EK_DEPLOY:
        e->deploy.pos = kp;
        if (mf_walk_map(c, v, kp, "'deploy'", deploy_keys, deploy_field, &e->deploy)) {
            if (!e->deploy.driver)
                e->deploy.driver = xstrdup(e->deploy.run ? "run" : "local");
            if (!strcmp(e->deploy.driver, "run") && !e->deploy.run)
                ERR(c, kp, "'deploy' with driver 'run' needs a 'run' command");
        }
        break;
    }
}

void mf_load_environments(struct mf_ctx *c, struct fy_node *n, struct manifest_pos p)
{
    struct manifest *m = c->m;
    if (mf_is_null(n) || fy_node_get_type(n) != FYNT_SEQUENCE) {
        ERR(c, mf_node_pos(n, p),
            "'environments' must be a list of environments in promotion order");
        return;
    }
    size_t alloc = 0;
    void *it = NULL;
    struct fy_node *item;
    while ((item = fy_node_sequence_iterate(n, &it))) {
        struct manifest_pos ip = mf_node_pos(item, p);
        struct manifest_env e = {0};
        e.deploy.timeout_s = 300;
        struct env_walk w = {&e, -1, false, false};
        e.pos = ip;
        if (!mf_walk_map(c, item, ip, "an environment", env_keys, env_field, &w))
            continue;
        if (!e.name) {
            if (!mf_is_null(item))
                ERR(c, ip, "environment needs a 'name'");
            mf_env_release(&e);
            continue;
        }
        if (!w.has_stage) {
            w.stage = mf_stage_from_word(e.name);
            if (w.stage < 0)
                ERR(c, e.pos,
                    "cannot tell which OTAP stage environment '%s' is; add 'stage: O', 'T', 'A' "
                    "or 'P'",
                    e.name);
        }
        e.stage = w.stage < 0 ? STAGE_COUNT : (enum otap_stage)w.stage;
        if (!w.has_protected)
            e.protected = e.stage == STAGE_P;
        else if (e.stage == STAGE_P && !e.protected)
            WARN(c, e.pos, "production environment '%s' is not protected", e.name);
        if (!e.marker)
            e.marker = xstrdup(e.stage == STAGE_P ? "prod" : "dev");
        *XPUSH(&m->envs, &m->nenvs, &alloc) = e;
    }
    if (!m->nenvs && !mf_is_null(n))
        ERR(c, mf_node_pos(n, p), "'environments' lists no environment");
}

void mf_check_environments(struct mf_ctx *c)
{
    struct manifest *m = c->m;
    int last_stage = -1;
    const struct manifest_env *last = NULL;
    for (size_t i = 0; i < m->nenvs; i++) {
        struct manifest_env *e = &m->envs[i];
        for (size_t j = 0; j < i; j++) {
            if (!strcmp(m->envs[j].name, e->name)) {
                ERR(c, e->pos, "duplicate environment '%s' (first defined at line %d)", e->name,
                    m->envs[j].pos.line);
            } else if (e->stage != STAGE_COUNT && e->stage == m->envs[j].stage) {
                ERR(c, e->pos,
                    "environment '%s' is stage %s, which '%s' (line %d) already is; OTAP has "
                    "one environment per stage",
                    e->name, manifest_stage_letter(e->stage), m->envs[j].name, m->envs[j].pos.line);
            }
        }
        if (e->stage == STAGE_COUNT)
            continue;
        if (last && (int)e->stage < last_stage)
            ERR(c, e->pos,
                "environment '%s' (%s) comes after '%s' (%s); the order is fixed: O → T → A "
                "→ P",
                e->name, manifest_stage_letter(e->stage), last->name,
                manifest_stage_letter(last->stage));
        if ((int)e->stage > last_stage) {
            last_stage = (int)e->stage;
            last = e;
        }
    }

    /* a branch deploys to exactly one environment */
    for (size_t i = 0; i < m->nenvs; i++) {
        for (size_t b = 0; b < m->envs[i].nbranches; b++) {
            const char *gb = m->envs[i].branches[b];
            for (size_t j = 0; j < i; j++) {
                for (size_t a = 0; a < m->envs[j].nbranches; a++) {
                    const char *ga = m->envs[j].branches[a];
                    bool clash = !strcmp(ga, gb);
                    if (!clash && !strpbrk(gb, "*?["))
                        clash = fnmatch(ga, gb, 0) == 0;
                    if (!clash && !strpbrk(ga, "*?["))
                        clash = fnmatch(gb, ga, 0) == 0;
                    if (clash)
                        ERR(c, m->envs[i].pos,
                            "branch '%s' of environment '%s' is also claimed by '%s' of "
                            "environment '%s' (line %d)",
                            gb, m->envs[i].name, ga, m->envs[j].name, m->envs[j].pos.line);
                }
            }
        }
    }

    /* a protected environment's marker must tell its database apart from every other */
    for (size_t i = 0; i < m->nenvs; i++) {
        const struct manifest_env *p = &m->envs[i];
        if (!p->protected || !p->marker)
            continue;
        for (size_t j = 0; j < m->nenvs; j++) {
            const struct manifest_env *o = &m->envs[j];
            if (j != i && !o->protected && o->marker && !strcmp(o->marker, p->marker))
                ERR(c, o->pos,
                    "environment '%s' has the marker '%s' of the protected environment '%s' "
                    "(line %d): the marker could not tell their databases apart",
                    o->name, o->marker, p->name, p->pos.line);
        }
    }

    /* requires names gates, or the built-in ones */
    const char **cand = mf_gate_names(m);
    for (size_t i = 0; i < m->nenvs; i++) {
        struct manifest_env *e = &m->envs[i];
        for (size_t r = 0; r < e->nrequires; r++) {
            const char *req = e->requires[r];
            if (manifest_gate_is_builtin(req) || manifest_gate_find(m, req))
                continue;
            const char *s = suggest_closest(req, cand);
            if (s)
                ERR(c, e->requires_pos,
                    "environment '%s' requires unknown gate '%s' (did you mean '%s'?)", e->name,
                    req, s);
            else if (!m->ngates)
                ERR(c, e->requires_pos,
                    "environment '%s' requires unknown gate '%s' (no gates are defined; add it "
                    "under 'gates')",
                    e->name, req);
            else
                ERR(c, e->requires_pos, "environment '%s' requires unknown gate '%s'", e->name,
                    req);
        }
    }
    free(cand);
}
