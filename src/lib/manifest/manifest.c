/*
 * Loading and validating otap.yaml.
 *
 * libfyaml builds the document; this file walks it against the schema and
 * fills struct manifest. The walk never stops at the first problem: every
 * mapping is checked key by key (unknown keys get a "did you mean"), every
 * value by type, and the cross-references (gates named by requires,
 * services named by depends_on, environments named by flags and the
 * contract) after the whole file is read. A manifest is handed out only
 * when no error was found, so commands never act on half a manifest.
 */
#include "manifest/manifest.h"

#include <ctype.h>
#include <errno.h>
#include <fnmatch.h>
#include <libfyaml.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <stdint.h>

#include "base/num.h"
#include "secrets/secrets_rules.h"
#include "base/strbuf.h"
#include "base/suggest.h"
#include "base/utf8.h"
#include "base/xalloc.h"
#include "base/banned.h"

struct ctx {
    struct diag_list *d;
    struct manifest *m;
    /* capacities of the manifest's arrays while they grow */
    size_t services_alloc, blocks_alloc, config_alloc, flags_alloc;
};

#define ERR(c, p, ...) diag_add((c)->d, DIAG_ERROR, (p).line, (p).col, __VA_ARGS__)
#define WARN(c, p, ...) diag_add((c)->d, DIAG_WARNING, (p).line, (p).col, __VA_ARGS__)

/* ---- positions and scalars ------------------------------------------- */

static struct manifest_pos node_pos(struct fy_node *n, struct manifest_pos fallback)
{
    struct manifest_pos p = fallback;
    if (!n)
        return p;
    struct fy_token *t = NULL;
    if (fy_node_get_type(n) == FYNT_SCALAR) {
        t = fy_node_get_scalar_token(n);
    } else if (fy_node_get_type(n) == FYNT_MAPPING) {
        void *it = NULL;
        struct fy_node_pair *pair = fy_node_mapping_iterate(n, &it);
        if (pair)
            return node_pos(fy_node_pair_key(pair), fallback);
    } else {
        void *it = NULL;
        struct fy_node *first = fy_node_sequence_iterate(n, &it);
        if (first)
            return node_pos(first, fallback);
    }
    if (t) {
        const struct fy_mark *mk = fy_token_start_mark(t);
        if (mk) {
            p.line = mk->line + 1;
            p.col = mk->column + 1;
        }
    }
    return p;
}

static const char *type_word(struct fy_node *n)
{
    switch (fy_node_get_type(n)) {
    case FYNT_MAPPING:
        return "a mapping";
    case FYNT_SEQUENCE:
        return "a list";
    default:
        return "a scalar";
    }
}

/*
 * The scalar's text, NUL-terminated and owned by the document, or NULL
 * (with an error) when the node is not a scalar or holds a NUL byte.
 */
static const char *scalar(struct ctx *c, struct fy_node *n, struct manifest_pos p,
                          const char *field)
{
    if (!n || fy_node_get_type(n) != FYNT_SCALAR) {
        ERR(c, node_pos(n, p), "'%s' must be a single value, not %s", field,
            n ? type_word(n) : "empty");
        return NULL;
    }
    size_t len = 0;
    const char *s = fy_node_get_scalar0(n);
    if (!s || (fy_node_get_scalar(n, &len), strlen(s) != len)) {
        ERR(c, node_pos(n, p), "'%s' contains a NUL byte", field);
        return NULL;
    }
    return s;
}

static bool is_plain(struct fy_node *n)
{
    return fy_node_get_style(n) == FYNS_PLAIN;
}

static bool is_null(struct fy_node *n)
{
    if (!n)
        return true;
    if (fy_node_get_type(n) != FYNT_SCALAR || !is_plain(n))
        return false;
    const char *s = fy_node_get_scalar0(n);
    return s && (!*s || !strcmp(s, "~") || !strcmp(s, "null"));
}

static char *get_str(struct ctx *c, struct fy_node *n, struct manifest_pos p, const char *field)
{
    if (is_null(n)) {
        ERR(c, node_pos(n, p), "'%s' must not be empty", field);
        return NULL;
    }
    const char *s = scalar(c, n, p, field);
    if (!s)
        return NULL;
    if (!*s) {
        ERR(c, node_pos(n, p), "'%s' must not be empty", field);
        return NULL;
    }
    return xstrdup(s);
}

static bool get_bool(struct ctx *c, struct fy_node *n, struct manifest_pos p, const char *field,
                     bool *out)
{
    const char *s = scalar(c, n, p, field);
    if (!s)
        return false;
    if (is_plain(n) && !strcmp(s, "true")) {
        *out = true;
        return true;
    }
    if (is_plain(n) && !strcmp(s, "false")) {
        *out = false;
        return true;
    }
    ERR(c, node_pos(n, p), "'%s' must be true or false, not '%s'", field, s);
    return false;
}

static bool get_int(struct ctx *c, struct fy_node *n, struct manifest_pos p, const char *field,
                    long long lo, long long hi, long long *out)
{
    const char *s = scalar(c, n, p, field);
    if (!s)
        return false;
    long long v;
    if (!is_plain(n) || num_parse_ll(s, &v) < 0) {
        ERR(c, node_pos(n, p), "'%s' must be a whole number, not '%s'", field, s);
        return false;
    }
    if (v < lo || v > hi) {
        ERR(c, node_pos(n, p), "'%s' must be between %lld and %lld, not %lld", field, lo, hi, v);
        return false;
    }
    *out = v;
    return true;
}

static bool get_double(struct ctx *c, struct fy_node *n, struct manifest_pos p, const char *field,
                       double lo, double hi, double *out)
{
    const char *s = scalar(c, n, p, field);
    if (!s)
        return false;
    double v;
    if (!is_plain(n) || num_parse_double(s, &v) < 0) {
        ERR(c, node_pos(n, p), "'%s' must be a number, not '%s'", field, s);
        return false;
    }
    if (v < lo || v > hi) {
        ERR(c, node_pos(n, p), "'%s' must be between %g and %g, not %g", field, lo, hi, v);
        return false;
    }
    *out = v;
    return true;
}

/* "300s", "5m", "1h", "90" (seconds). */
static bool get_duration(struct ctx *c, struct fy_node *n, struct manifest_pos p, const char *field,
                         long *out)
{
    const char *s = scalar(c, n, p, field);
    if (!s)
        return false;
    long long secs;
    if (num_parse_duration(s, &secs) < 0 || secs <= 0 || secs > 7 * 24 * 3600) {
        ERR(c, node_pos(n, p), "'%s' must be a duration such as 30s, 5m or 1h, not '%s'", field, s);
        return false;
    }
    *out = (long)secs;
    return true;
}

/* A list of strings; a single scalar counts as a list of one. */
static bool get_str_list(struct ctx *c, struct fy_node *n, struct manifest_pos p, const char *field,
                         char ***out, size_t *nout)
{
    char **v = NULL;
    size_t nv = 0, alloc = 0;
    bool ok = true;
    if (is_null(n)) {
        *out = NULL;
        *nout = 0;
        return true;
    }
    if (fy_node_get_type(n) == FYNT_SCALAR) {
        char *s = get_str(c, n, p, field);
        if (!s)
            return false;
        *XPUSH(&v, &nv, &alloc) = s;
    } else if (fy_node_get_type(n) == FYNT_SEQUENCE) {
        void *it = NULL;
        struct fy_node *item;
        while ((item = fy_node_sequence_iterate(n, &it))) {
            char *s = get_str(c, item, node_pos(n, p), field);
            if (!s) {
                ok = false;
                continue;
            }
            for (size_t i = 0; i < nv; i++) {
                if (!strcmp(v[i], s)) {
                    WARN(c, node_pos(item, p), "'%s' lists '%s' twice", field, s);
                    break;
                }
            }
            *XPUSH(&v, &nv, &alloc) = s;
        }
    } else {
        ERR(c, node_pos(n, p), "'%s' must be a list, not %s", field, type_word(n));
        return false;
    }
    if (!ok) {
        xfree_strv(v, nv);
        return false;
    }
    *out = v;
    *nout = nv;
    return true;
}

static bool valid_name(const char *s, bool upper)
{
    if (!*s)
        return false;
    for (const char *p = s; *p; p++) {
        unsigned char ch = (unsigned char)*p;
        if (upper) {
            if (!(isupper(ch) || ch == '_' || (p != s && isdigit(ch))))
                return false;
        } else if (!(islower(ch) || isdigit(ch) || ch == '-' || ch == '_' ||
                     (p != s && ch == '.'))) {
            return false;
        }
    }
    return true;
}

/*
 * Walks a mapping, checking each key against the allowed list. Calls back
 * with the index of the key in allowed; unknown keys are reported with a
 * suggestion and skipped. Returns false when n is not a mapping.
 */
typedef void (*field_fn)(struct ctx *c, void *obj, int idx, struct fy_node *key,
                         struct fy_node *val, struct manifest_pos kpos);

static bool walk_map(struct ctx *c, struct fy_node *n, struct manifest_pos p, const char *what,
                     const char *const *allowed, field_fn fn, void *obj)
{
    if (!n || fy_node_get_type(n) != FYNT_MAPPING) {
        ERR(c, node_pos(n, p), "%s must be a mapping, not %s", what,
            is_null(n) ? "empty" : type_word(n));
        return false;
    }
    void *it = NULL;
    struct fy_node_pair *pair;
    while ((pair = fy_node_mapping_iterate(n, &it))) {
        struct fy_node *k = fy_node_pair_key(pair);
        struct fy_node *v = fy_node_pair_value(pair);
        struct manifest_pos kp = node_pos(k, p);
        const char *key = scalar(c, k, p, "key");
        if (!key)
            continue;
        int idx = -1;
        for (int i = 0; allowed[i]; i++) {
            if (!strcmp(allowed[i], key)) {
                idx = i;
                break;
            }
        }
        if (idx < 0) {
            const char *s = suggest_closest(key, allowed);
            if (s)
                ERR(c, kp, "unknown key '%s' in %s (did you mean '%s'?)", key, what, s);
            else
                ERR(c, kp, "unknown key '%s' in %s", key, what);
            continue;
        }
        fn(c, obj, idx, k, v, kp);
    }
    return true;
}

/*
 * A mapping whose keys are names chosen by the user (services, config
 * variables, flags, blocks). Calls fn(name, value) for each.
 */
typedef void (*entry_fn)(struct ctx *c, const char *name, struct fy_node *val,
                         struct manifest_pos kpos);

static void walk_named(struct ctx *c, struct fy_node *n, struct manifest_pos p, const char *what,
                       entry_fn fn)
{
    if (is_null(n))
        return;
    if (fy_node_get_type(n) != FYNT_MAPPING) {
        ERR(c, node_pos(n, p), "'%s' must be a mapping of names, not %s", what, type_word(n));
        return;
    }
    void *it = NULL;
    struct fy_node_pair *pair;
    while ((pair = fy_node_mapping_iterate(n, &it))) {
        struct fy_node *k = fy_node_pair_key(pair);
        const char *name = scalar(c, k, p, "key");
        if (name)
            fn(c, name, fy_node_pair_value(pair), node_pos(k, p));
    }
}

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

static int stage_from_word(const char *w)
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

static void deploy_field(struct ctx *c, void *obj, int idx, struct fy_node *k, struct fy_node *v,
                         struct manifest_pos kp)
{
    struct manifest_deploy *d = obj;
    (void)k;
    switch (idx) {
    case DK_DRIVER: {
        char *s = get_str(c, v, kp, "driver");
        if (s && strcmp(s, "run") && strcmp(s, "local")) {
            ERR(c, node_pos(v, kp), "'driver' must be 'run' or 'local', not '%s'", s);
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
        d->run = get_str(c, v, kp, "run");
        break;
    case DK_TIMEOUT:
        get_duration(c, v, kp, "timeout", &d->timeout_s);
        break;
    case DK_SERVICE:
        free(d->service);
        d->service = get_str(c, v, kp, "service");
        d->service_pos = kp;
        break;
    }
}

static void env_field(struct ctx *c, void *obj, int idx, struct fy_node *k, struct fy_node *v,
                      struct manifest_pos kp)
{
    struct env_walk *w = obj;
    struct manifest_env *e = w->e;
    (void)k;
    switch (idx) {
    case EK_NAME:
        free(e->name);
        e->name = get_str(c, v, kp, "name");
        if (e->name && !valid_name(e->name, false))
            ERR(c, node_pos(v, kp), "environment name '%s' may hold only a-z, 0-9, '-' and '_'",
                e->name);
        if (e->name)
            e->pos = node_pos(v, kp);
        break;
    case EK_STAGE: {
        const char *s = scalar(c, v, kp, "stage");
        if (!s)
            break;
        int st = stage_from_word(s);
        if (st < 0)
            ERR(c, node_pos(v, kp), "'stage' must be one of O, T, A, P, not '%s'", s);
        w->stage = st;
        w->has_stage = true;
        break;
    }
    case EK_BRANCHES:
        get_str_list(c, v, kp, "branches", &e->branches, &e->nbranches);
        break;
    case EK_MARKER:
        free(e->marker);
        e->marker = get_str(c, v, kp, "marker");
        break;
    case EK_REQUIRES:
        e->requires_pos = node_pos(v, kp);
        get_str_list(c, v, kp, "requires", &e->requires, &e->nrequires);
        break;
    case EK_PROTECTED:
        if (get_bool(c, v, kp, "protected", &e->protected))
            w->has_protected = true;
        break;
    case EK_DEPLOY:
        e->deploy.pos = kp;
        if (walk_map(c, v, kp, "'deploy'", deploy_keys, deploy_field, &e->deploy)) {
            if (!e->deploy.driver)
                e->deploy.driver = xstrdup(e->deploy.run ? "run" : "local");
            if (!strcmp(e->deploy.driver, "run") && !e->deploy.run)
                ERR(c, kp, "'deploy' with driver 'run' needs a 'run' command");
        }
        break;
    }
}

static void env_release(struct manifest_env *e);

static void load_environments(struct ctx *c, struct fy_node *n, struct manifest_pos p)
{
    struct manifest *m = c->m;
    if (is_null(n) || fy_node_get_type(n) != FYNT_SEQUENCE) {
        ERR(c, node_pos(n, p), "'environments' must be a list of environments in promotion order");
        return;
    }
    size_t alloc = 0;
    void *it = NULL;
    struct fy_node *item;
    while ((item = fy_node_sequence_iterate(n, &it))) {
        struct manifest_pos ip = node_pos(item, p);
        struct manifest_env e = {0};
        e.deploy.timeout_s = 300;
        struct env_walk w = {&e, -1, false, false};
        e.pos = ip;
        if (!walk_map(c, item, ip, "an environment", env_keys, env_field, &w))
            continue;
        if (!e.name) {
            if (!is_null(item))
                ERR(c, ip, "environment needs a 'name'");
            env_release(&e);
            continue;
        }
        if (!w.has_stage) {
            w.stage = stage_from_word(e.name);
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
    if (!m->nenvs && !is_null(n))
        ERR(c, node_pos(n, p), "'environments' lists no environment");
}

static void check_environments(struct ctx *c)
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

    /* requires names gates, or the built-in sign-off */
    size_t ncand = m->ngates + 2;
    const char **cand = xcalloc(ncand, sizeof(*cand));
    for (size_t g = 0; g < m->ngates; g++)
        cand[g] = m->gates[g].name;
    cand[m->ngates] = MANIFEST_REQ_SIGNOFF;
    for (size_t i = 0; i < m->nenvs; i++) {
        struct manifest_env *e = &m->envs[i];
        for (size_t r = 0; r < e->nrequires; r++) {
            const char *req = e->requires[r];
            if (!strcmp(req, MANIFEST_REQ_SIGNOFF) || manifest_gate_find(m, req))
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

/* ---- services --------------------------------------------------------- */

static const char *const service_keys[] = {"port", "run", "health", "depends_on", "urls", NULL};
enum { SK_PORT, SK_RUN, SK_HEALTH, SK_DEPENDS_ON, SK_URLS };

/* urls: { staging: https://..., production: https://... }: where each environment runs it */
static void service_urls(struct ctx *c, struct manifest_service *s, struct fy_node *v,
                         struct manifest_pos kp)
{
    if (is_null(v))
        return;
    if (fy_node_get_type(v) != FYNT_MAPPING) {
        ERR(c, node_pos(v, kp), "'urls' must map environments to base URLs, not %s", type_word(v));
        return;
    }
    void *it = NULL;
    struct fy_node_pair *pair;
    size_t alloc = s->nurls;
    while ((pair = fy_node_mapping_iterate(v, &it))) {
        struct fy_node *k = fy_node_pair_key(pair);
        const char *env = scalar(c, k, kp, "key");
        if (!env)
            continue;
        struct manifest_pos vp = node_pos(fy_node_pair_value(pair), node_pos(k, kp));
        char *url = get_str(c, fy_node_pair_value(pair), vp, "url");
        if (!url)
            continue;
        if (strncmp(url, "http://", 7) && strncmp(url, "https://", 8)) {
            ERR(c, vp, "service URL '%s' must start with http:// or https://", url);
            free(url);
            continue;
        }
        size_t n = strlen(url);
        while (n > 8 && url[n - 1] == '/')
            url[--n] = '\0';
        struct manifest_service_url *u = XPUSH(&s->urls, &s->nurls, &alloc);
        u->env = xstrdup(env);
        u->url = url;
        u->pos = node_pos(k, kp);
    }
}
static const char *const health_keys[] = {"liveness", "health", "readiness", NULL};

static void health_field(struct ctx *c, void *obj, int idx, struct fy_node *k, struct fy_node *v,
                         struct manifest_pos kp)
{
    struct manifest_health *h = obj;
    char **slot = idx == 0 ? &h->liveness : idx == 1 ? &h->health : &h->readiness;
    (void)k;
    char *s = get_str(c, v, kp, health_keys[idx]);
    if (s && s[0] != '/') {
        ERR(c, node_pos(v, kp), "health path '%s' must start with '/'", s);
        free(s);
        return;
    }
    free(*slot);
    *slot = s;
}

static void service_field(struct ctx *c, void *obj, int idx, struct fy_node *k, struct fy_node *v,
                          struct manifest_pos kp)
{
    struct manifest_service *s = obj;
    (void)k;
    switch (idx) {
    case SK_PORT: {
        long long port;
        if (get_int(c, v, kp, "port", 1, 65535, &port)) {
            s->port = (int)port;
            s->port_pos = node_pos(v, kp);
        }
        break;
    }
    case SK_RUN:
        free(s->run);
        s->run = get_str(c, v, kp, "run");
        break;
    case SK_HEALTH:
        walk_map(c, v, kp, "'health'", health_keys, health_field, &s->health);
        break;
    case SK_DEPENDS_ON:
        s->depends_pos = node_pos(v, kp);
        get_str_list(c, v, kp, "depends_on", &s->depends_on, &s->ndepends_on);
        break;
    case SK_URLS:
        service_urls(c, s, v, kp);
        break;
    }
}

static void service_entry(struct ctx *c, const char *name, struct fy_node *v,
                          struct manifest_pos kp)
{
    struct manifest *m = c->m;
    if (!valid_name(name, false)) {
        ERR(c, kp, "service name '%s' may hold only a-z, 0-9, '-' and '_'", name);
        return;
    }
    struct manifest_service s = {0};
    s.name = xstrdup(name);
    s.pos = kp;
    if (!is_null(v))
        walk_map(c, v, kp, "a service", service_keys, service_field, &s);
    *XPUSH(&m->services, &m->nservices, &c->services_alloc) = s;
}

static void check_service_cycles(struct ctx *c)
{
    struct manifest *m = c->m;
    size_t n = m->nservices;
    /* 0 unvisited, 1 on the current path, 2 done */
    int *state = xcalloc(n ? n : 1, sizeof(int));
    size_t *stack = xcalloc(n ? n : 1, sizeof(size_t));
    size_t *next = xcalloc(n ? n : 1, sizeof(size_t));
    for (size_t root = 0; root < n; root++) {
        if (state[root])
            continue;
        size_t depth = 0;
        stack[depth++] = root;
        state[root] = 1;
        next[root] = 0;
        while (depth) {
            size_t cur = stack[depth - 1];
            const struct manifest_service *s = &m->services[cur];
            if (next[cur] >= s->ndepends_on) {
                state[cur] = 2;
                depth--;
                continue;
            }
            const struct manifest_service *dep =
                manifest_service_find(m, s->depends_on[next[cur]++]);
            if (!dep)
                continue;
            size_t di = (size_t)(dep - m->services);
            if (state[di] == 1) {
                struct strbuf path = STRBUF_INIT;
                size_t start = 0;
                while (stack[start] != di)
                    start++;
                for (size_t i = start; i < depth; i++)
                    strbuf_addf(&path, "%s → ", m->services[stack[i]].name);
                strbuf_addstr(&path, dep->name);
                ERR(c, dep->pos, "services depend on each other in a cycle: %s", path.buf);
                strbuf_release(&path);
            } else if (state[di] == 0) {
                state[di] = 1;
                next[di] = 0;
                stack[depth++] = di;
            }
        }
    }
    free(state);
    free(stack);
    free(next);
}

static void check_services(struct ctx *c)
{
    struct manifest *m = c->m;
    const char **names = xcalloc(m->nservices + 1, sizeof(*names));
    for (size_t i = 0; i < m->nservices; i++)
        names[i] = m->services[i].name;
    for (size_t i = 0; i < m->nservices; i++) {
        struct manifest_service *s = &m->services[i];
        for (size_t u = 0; u < s->nurls; u++) {
            const struct manifest_env *e = manifest_env_find(m, s->urls[u].env);
            if (!e)
                ERR(c, s->urls[u].pos, "service '%s' has a URL for '%s', which is no environment",
                    s->name, s->urls[u].env);
            for (size_t w = 0; w < u && e; w++)
                if (manifest_env_find(m, s->urls[w].env) == e)
                    ERR(c, s->urls[u].pos, "service '%s' has two URLs for environment '%s'",
                        s->name, e->name);
        }
        for (size_t d = 0; d < s->ndepends_on; d++) {
            const char *dep = s->depends_on[d];
            if (!strcmp(dep, s->name)) {
                ERR(c, s->depends_pos, "service '%s' depends on itself", s->name);
            } else if (!manifest_service_find(m, dep)) {
                const char *sug = suggest_closest(dep, names);
                if (sug)
                    ERR(c, s->depends_pos,
                        "service '%s' depends on unknown service '%s' (did you mean "
                        "'%s'?)",
                        s->name, dep, sug);
                else
                    ERR(c, s->depends_pos, "service '%s' depends on unknown service '%s'", s->name,
                        dep);
            }
        }
    }
    free(names);
    check_service_cycles(c);

    /* the local driver runs one service of the manifest */
    for (size_t i = 0; i < m->nenvs; i++) {
        const struct manifest_deploy *d = &m->envs[i].deploy;
        if (d->service && !manifest_service_find(m, d->service))
            ERR(c, d->service_pos, "environment '%s' deploys unknown service '%s'", m->envs[i].name,
                d->service);
        else if (d->service && d->driver && strcmp(d->driver, "local"))
            ERR(c, d->service_pos,
                "'service' belongs to the local driver; the run driver's command deploys "
                "whatever it deploys");
    }
}

/* ---- ports ------------------------------------------------------------ */

static const char *const ports_keys[] = {"range", "blocks", NULL};
static const char *const block_keys[] = {"range", "within", "purpose", NULL};

/* "9000-9099" or "9020" */
static bool parse_range(const char *s, int *lo, int *hi)
{
    const char *dash = strchr(s, '-');
    long long a, b;
    if (!dash) {
        if (num_parse_ll(s, &a) < 0)
            return false;
        b = a;
    } else {
        char *left = xstrndup(s, (size_t)(dash - s));
        int r = num_parse_ll(left, &a);
        free(left);
        if (r < 0 || num_parse_ll(dash + 1, &b) < 0)
            return false;
    }
    if (a < 1 || b > 65535 || a > b)
        return false;
    *lo = (int)a;
    *hi = (int)b;
    return true;
}

static bool get_range(struct ctx *c, struct fy_node *n, struct manifest_pos p, const char *field,
                      int *lo, int *hi)
{
    const char *s = scalar(c, n, p, field);
    if (!s)
        return false;
    if (!parse_range(s, lo, hi)) {
        ERR(c, node_pos(n, p),
            "'%s' must be a port range LOW-HIGH within 1-65535 with LOW <= HIGH, not '%s'", field,
            s);
        return false;
    }
    return true;
}

static void block_field(struct ctx *c, void *obj, int idx, struct fy_node *k, struct fy_node *v,
                        struct manifest_pos kp)
{
    struct manifest_block *b = obj;
    (void)k;
    if (idx == 0) {
        if (!get_range(c, v, kp, "range", &b->lo, &b->hi))
            b->lo = b->hi = -1;
    } else if (idx == 1) {
        free(b->within);
        b->within = get_str(c, v, kp, "within");
    } else {
        free(b->purpose);
        b->purpose = get_str(c, v, kp, "purpose");
    }
}

static void block_entry(struct ctx *c, const char *name, struct fy_node *v, struct manifest_pos kp)
{
    struct manifest_ports *ports = &c->m->ports;
    struct manifest_block b = {0};
    b.lo = b.hi = 0;
    if (fy_node_get_type(v) == FYNT_MAPPING) {
        walk_map(c, v, kp, "a port block", block_keys, block_field, &b);
        if (b.lo == 0 && b.hi == 0) {
            ERR(c, kp, "port block '%s' needs a 'range'", name);
            b.lo = b.hi = -1;
        }
    } else if (!get_range(c, v, kp, name, &b.lo, &b.hi)) {
        b.lo = b.hi = -1;
    }
    for (size_t i = 0; i < ports->nblocks; i++)
        if (!strcmp(ports->blocks[i].name, name))
            ERR(c, kp, "duplicate port block '%s'", name);
    b.name = xstrdup(name);
    b.pos = kp;
    *XPUSH(&ports->blocks, &ports->nblocks, &c->blocks_alloc) = b;
}

static void ports_field(struct ctx *c, void *obj, int idx, struct fy_node *k, struct fy_node *v,
                        struct manifest_pos kp)
{
    struct manifest_ports *ports = obj;
    (void)k;
    if (idx == 0) {
        ports->range_pos = node_pos(v, kp);
        ports->has_range = get_range(c, v, kp, "range", &ports->lo, &ports->hi);
    } else {
        walk_named(c, v, kp, "blocks", block_entry);
    }
}

static void check_blocks(struct ctx *c)
{
    struct manifest_ports *ports = &c->m->ports;
    const char **names = xcalloc(ports->nblocks + 1, sizeof(*names));
    for (size_t i = 0; i < ports->nblocks; i++)
        names[i] = ports->blocks[i].name;
    for (size_t i = 0; i < ports->nblocks; i++) {
        struct manifest_block *b = &ports->blocks[i];
        if (!b->within)
            continue;
        bool found = false;
        for (size_t j = 0; j < ports->nblocks; j++)
            found |= j != i && !strcmp(ports->blocks[j].name, b->within);
        if (found)
            continue;
        const char *s = suggest_closest(b->within, names);
        if (!strcmp(b->within, b->name))
            ERR(c, b->pos, "port block '%s' cannot be within itself", b->name);
        else if (s && strcmp(s, b->name))
            ERR(c, b->pos, "port block '%s' is within unknown block '%s' (did you mean '%s'?)",
                b->name, b->within, s);
        else
            ERR(c, b->pos, "port block '%s' is within unknown block '%s'", b->name, b->within);
    }
    free(names);
}

/* ---- config contract -------------------------------------------------- */

static const char *const type_names[] = {"string", "int",      "bool", "enum",   "url",
                                         "csv",    "duration", "port", "secret", NULL};

const char *contract_type_name(enum contract_type t)
{
    return (size_t)t < sizeof(type_names) / sizeof(type_names[0]) - 1 ? type_names[t] : "?";
}

static const char *const var_keys[] = {"type",    "required",   "default", "aliases", "description",
                                       "example", "values",     "schemes", "items",   "min",
                                       "max",     "min_length", "one_of",  NULL};
enum {
    VK_TYPE,
    VK_REQUIRED,
    VK_DEFAULT,
    VK_ALIASES,
    VK_DESCRIPTION,
    VK_EXAMPLE,
    VK_VALUES,
    VK_SCHEMES,
    VK_ITEMS,
    VK_MIN,
    VK_MAX,
    VK_MIN_LENGTH,
    VK_ONE_OF,
};

struct var_walk {
    struct contract_var *v;
    struct manifest_pos key_pos[VK_ONE_OF + 1];
    bool seen[VK_ONE_OF + 1];
    struct manifest_pos required_pos;
};

static bool get_type(struct ctx *c, struct fy_node *n, struct manifest_pos p, const char *field,
                     enum contract_type *out)
{
    const char *s = scalar(c, n, p, field);
    if (!s)
        return false;
    for (int i = 0; type_names[i]; i++) {
        if (!strcmp(type_names[i], s)) {
            *out = (enum contract_type)i;
            return true;
        }
    }
    const char *sug = suggest_closest(s, type_names);
    if (sug)
        ERR(c, node_pos(n, p), "unknown type '%s' (did you mean '%s'?)", s, sug);
    else
        ERR(c, node_pos(n, p),
            "unknown type '%s'; known types: string, int, bool, enum, url, "
            "csv, duration, port, secret",
            s);
    return false;
}

static void var_field(struct ctx *c, void *obj, int idx, struct fy_node *k, struct fy_node *v,
                      struct manifest_pos kp)
{
    struct var_walk *w = obj;
    struct contract_var *cv = w->v;
    long long num;
    (void)k;
    w->seen[idx] = true;
    w->key_pos[idx] = kp;
    switch (idx) {
    case VK_TYPE:
        get_type(c, v, kp, "type", &cv->type);
        break;
    case VK_REQUIRED:
        w->required_pos = node_pos(v, kp);
        if (fy_node_get_type(v) == FYNT_SCALAR && is_plain(v))
            get_bool(c, v, kp, "required", &cv->required_always);
        else
            get_str_list(c, v, kp, "required", &cv->required_envs, &cv->nrequired_envs);
        break;
    case VK_DEFAULT: {
        const char *s = scalar(c, v, kp, "default");
        if (s) {
            free(cv->default_value);
            cv->default_value = xstrdup(s);
        }
        break;
    }
    case VK_ALIASES:
        get_str_list(c, v, kp, "aliases", &cv->aliases, &cv->naliases);
        for (size_t i = 0; i < cv->naliases; i++)
            if (!valid_name(cv->aliases[i], true))
                ERR(c, node_pos(v, kp), "alias '%s' is not a valid variable name (A-Z, 0-9, _)",
                    cv->aliases[i]);
        break;
    case VK_DESCRIPTION:
        free(cv->description);
        cv->description = get_str(c, v, kp, "description");
        break;
    case VK_EXAMPLE:
        free(cv->example);
        cv->example = get_str(c, v, kp, "example");
        break;
    case VK_VALUES:
        get_str_list(c, v, kp, "values", &cv->values, &cv->nvalues);
        break;
    case VK_SCHEMES:
        get_str_list(c, v, kp, "schemes", &cv->schemes, &cv->nschemes);
        break;
    case VK_ITEMS:
        get_type(c, v, kp, "items", &cv->item_type);
        break;
    case VK_MIN:
        if (get_int(c, v, kp, "min", LLONG_MIN, LLONG_MAX, &num)) {
            cv->has_min = true;
            cv->min = num;
        }
        break;
    case VK_MAX:
        if (get_int(c, v, kp, "max", LLONG_MIN, LLONG_MAX, &num)) {
            cv->has_max = true;
            cv->max = num;
        }
        break;
    case VK_MIN_LENGTH:
        if (get_int(c, v, kp, "min_length", 0, 65536, &num))
            cv->min_length = (long)num;
        break;
    case VK_ONE_OF:
        free(cv->one_of);
        cv->one_of = get_str(c, v, kp, "one_of");
        break;
    }
}

/* Keys that only make sense for some types. */
static void check_var_keys(struct ctx *c, struct var_walk *w)
{
    struct contract_var *v = w->v;
    static const struct {
        int key;
        const char *name;
        unsigned types; /* bit per contract_type */
    } only[] = {
        {VK_VALUES, "values", 1u << CT_ENUM},
        {VK_SCHEMES, "schemes", 1u << CT_URL},
        {VK_ITEMS, "items", 1u << CT_CSV},
        {VK_MIN, "min", (1u << CT_INT) | (1u << CT_PORT) | (1u << CT_DURATION)},
        {VK_MAX, "max", (1u << CT_INT) | (1u << CT_PORT) | (1u << CT_DURATION)},
        {VK_MIN_LENGTH, "min_length", (1u << CT_SECRET) | (1u << CT_STRING)},
    };
    for (size_t i = 0; i < sizeof(only) / sizeof(only[0]); i++)
        if (w->seen[only[i].key] && !(only[i].types & (1u << v->type)))
            ERR(c, w->key_pos[only[i].key], "'%s' does not apply to variable '%s' of type '%s'",
                only[i].name, v->name, contract_type_name(v->type));
    if (v->type == CT_ENUM && !v->nvalues)
        ERR(c, v->pos, "variable '%s' of type 'enum' needs 'values'", v->name);
    if (v->has_min && v->has_max && v->min > v->max)
        ERR(c, w->key_pos[VK_MAX], "variable '%s' has 'max' below 'min'", v->name);
    if (v->type == CT_SECRET && v->default_value)
        ERR(c, w->key_pos[VK_DEFAULT],
            "secret '%s' cannot have a default; secrets come only from the environment", v->name);
    if (v->type == CT_SECRET && v->example)
        ERR(c, w->key_pos[VK_EXAMPLE],
            "secret '%s' cannot have an example value; .env.example gets a placeholder", v->name);
    if (v->type == CT_ENUM && v->default_value) {
        bool ok = false;
        for (size_t i = 0; i < v->nvalues; i++)
            ok |= !strcmp(v->values[i], v->default_value);
        if (!ok)
            ERR(c, w->key_pos[VK_DEFAULT], "default '%s' of '%s' is not one of its values",
                v->default_value, v->name);
    }
    if ((v->type == CT_INT || v->type == CT_PORT) && v->default_value) {
        long long n;
        if (num_parse_ll(v->default_value, &n) < 0)
            ERR(c, w->key_pos[VK_DEFAULT], "default '%s' of '%s' is not a whole number",
                v->default_value, v->name);
    }
}

static void var_entry(struct ctx *c, const char *name, struct fy_node *val, struct manifest_pos kp)
{
    struct manifest *m = c->m;
    if (!valid_name(name, true)) {
        ERR(c, kp, "config variable '%s' must be an upper-case name (A-Z, 0-9, _)", name);
        return;
    }
    struct contract_var v = {0};
    struct var_walk w = {0};
    v.name = xstrdup(name);
    v.pos = kp;
    v.type = CT_STRING;
    v.item_type = CT_STRING;
    w.v = &v;
    if (!is_null(val) && walk_map(c, val, kp, "a config variable", var_keys, var_field, &w))
        check_var_keys(c, &w);
    *XPUSH(&m->config, &m->nconfig, &c->config_alloc) = v;
}

static void check_config(struct ctx *c)
{
    struct manifest *m = c->m;
    const char **envs = xcalloc(m->nenvs + 1, sizeof(*envs));
    for (size_t i = 0; i < m->nenvs; i++)
        envs[i] = m->envs[i].name;
    for (size_t i = 0; i < m->nconfig; i++) {
        struct contract_var *v = &m->config[i];
        for (size_t r = 0; r < v->nrequired_envs; r++) {
            if (manifest_env_find(m, v->required_envs[r]))
                continue;
            const char *s = suggest_closest(v->required_envs[r], envs);
            if (s)
                ERR(c, v->pos,
                    "'%s' is required in unknown environment '%s' (did you mean "
                    "'%s'?)",
                    v->name, v->required_envs[r], s);
            else
                ERR(c, v->pos, "'%s' is required in unknown environment '%s'", v->name,
                    v->required_envs[r]);
        }
        for (size_t a = 0; a < v->naliases; a++) {
            const char *al = v->aliases[a];
            if (!strcmp(al, v->name))
                ERR(c, v->pos, "'%s' lists itself as an alias", v->name);
            for (size_t j = 0; j < m->nconfig; j++) {
                if (j != i && !strcmp(m->config[j].name, al))
                    ERR(c, v->pos, "alias '%s' of '%s' is itself a canonical variable", al,
                        v->name);
                for (size_t b = 0; j < i && b < m->config[j].naliases; b++)
                    if (!strcmp(m->config[j].aliases[b], al))
                        ERR(c, v->pos, "alias '%s' is claimed by both '%s' and '%s'", al,
                            m->config[j].name, v->name);
            }
        }
    }
    free(envs);
}

/* ---- database, slo, release, gates, flags ----------------------------- */

static const char *const db_keys[] = {"url", "migrations", "schema", "marker_table", NULL};

/* The marker table's name is spliced into SQL: a plain identifier only. */
static bool plain_identifier(const char *s)
{
    if (!*s || strlen(s) > 63)
        return false;
    for (const char *p = s; *p; p++) {
        bool alpha = (*p >= 'a' && *p <= 'z') || *p == '_';
        if (!alpha && (p == s || !(*p >= '0' && *p <= '9')))
            return false;
    }
    return true;
}

static void db_field(struct ctx *c, void *obj, int idx, struct fy_node *k, struct fy_node *v,
                     struct manifest_pos kp)
{
    struct manifest_database *db = obj;
    char **slot = idx == 0   ? &db->url_var
                  : idx == 1 ? &db->migrations
                  : idx == 2 ? &db->schema
                             : &db->marker_table;
    (void)k;
    free(*slot);
    *slot = get_str(c, v, kp, db_keys[idx]);
    if (idx == 0)
        db->pos = node_pos(v, kp);
    if (idx == 3 && *slot && !plain_identifier(*slot)) {
        ERR(c, node_pos(v, kp),
            "'marker_table' must be a plain lower-case table name ([a-z_][a-z0-9_]*), "
            "not '%s'",
            *slot);
    }
}

static const char *const slo_keys[] = {"p95_ms", "error_rate", NULL};

static void slo_field(struct ctx *c, void *obj, int idx, struct fy_node *k, struct fy_node *v,
                      struct manifest_pos kp)
{
    struct manifest *m = obj;
    (void)k;
    if (idx == 0)
        get_double(c, v, kp, "p95_ms", 0.001, 3600000, &m->slo_p95_ms);
    else
        get_double(c, v, kp, "error_rate", 0, 1, &m->slo_error_rate);
}

static const char *const release_keys[] = {"version_file", "changelog", "tag_prefix", NULL};

static void release_field(struct ctx *c, void *obj, int idx, struct fy_node *k, struct fy_node *v,
                          struct manifest_pos kp)
{
    struct manifest_release *r = obj;
    char **slot = idx == 0 ? &r->version_file : idx == 1 ? &r->changelog : &r->tag_prefix;
    (void)k;
    if (idx == 2) {
        /* an empty prefix is legitimate: tags without "v" */
        const char *s = scalar(c, v, kp, "tag_prefix");
        if (s) {
            free(*slot);
            *slot = xstrdup(s);
        }
        return;
    }
    char *s = get_str(c, v, kp, release_keys[idx]);
    if (s) {
        free(*slot);
        *slot = s;
    }
}

static const char *const gate_keys[] = {"name", "run", "timeout", NULL};

static void gate_field(struct ctx *c, void *obj, int idx, struct fy_node *k, struct fy_node *v,
                       struct manifest_pos kp)
{
    struct manifest_gate *g = obj;
    (void)k;
    if (idx == 0) {
        free(g->name);
        g->name = get_str(c, v, kp, "name");
        if (g->name && !valid_name(g->name, false))
            ERR(c, node_pos(v, kp), "gate name '%s' may hold only a-z, 0-9, '-' and '_'", g->name);
        if (g->name && !strcmp(g->name, MANIFEST_REQ_SIGNOFF))
            ERR(c, node_pos(v, kp),
                "'%s' is built in (an acceptance sign-off) and cannot be a "
                "gate",
                g->name);
        g->pos = node_pos(v, kp);
    } else if (idx == 1) {
        free(g->run);
        g->run = get_str(c, v, kp, "run");
    } else {
        get_duration(c, v, kp, "timeout", &g->timeout_s);
    }
}

static void load_gates(struct ctx *c, struct fy_node *n, struct manifest_pos p)
{
    struct manifest *m = c->m;
    if (is_null(n))
        return;
    if (fy_node_get_type(n) != FYNT_SEQUENCE) {
        ERR(c, node_pos(n, p), "'gates' must be a list of steps (name and run), not %s",
            type_word(n));
        return;
    }
    size_t alloc = 0;
    void *it = NULL;
    struct fy_node *item;
    while ((item = fy_node_sequence_iterate(n, &it))) {
        struct manifest_pos ip = node_pos(item, p);
        struct manifest_gate g = {0};
        g.timeout_s = 3600;
        g.pos = ip;
        if (!walk_map(c, item, ip, "a gate", gate_keys, gate_field, &g))
            continue;
        if (!g.name || !g.run) {
            if (g.name)
                ERR(c, ip, "gate '%s' needs a 'run' command", g.name);
            else if (g.run)
                ERR(c, ip, "gate '%s' needs a 'name'", g.run);
            else
                ERR(c, ip, "gate needs a 'name' and a 'run' command");
            free(g.name);
            free(g.run);
            continue;
        }
        for (size_t i = 0; i < m->ngates; i++)
            if (!strcmp(m->gates[i].name, g.name))
                ERR(c, g.pos, "duplicate gate '%s' (first defined at line %d)", g.name,
                    m->gates[i].pos.line);
        *XPUSH(&m->gates, &m->ngates, &alloc) = g;
    }
}

/* ---- secrets ----------------------------------------------------------- */

/*
 * Regexes are compiled here, once, so that a bad one is reported at its
 * line like any other manifest error; the scanner compiles them again.
 */
static bool check_regex(struct ctx *c, const char *re, struct manifest_pos p, const char *field,
                        uint32_t *captures)
{
    int code;
    PCRE2_SIZE off;
    pcre2_code *rx =
        pcre2_compile((PCRE2_SPTR)re, PCRE2_ZERO_TERMINATED, PCRE2_MULTILINE, &code, &off, NULL);
    if (!rx) {
        PCRE2_UCHAR msg[160];
        pcre2_get_error_message(code, msg, sizeof msg);
        ERR(c, p, "'%s' is not a valid regular expression: %s at offset %zu", field,
            (const char *)msg, (size_t)off);
        return false;
    }
    if (captures)
        pcre2_pattern_info(rx, PCRE2_INFO_CAPTURECOUNT, captures);
    pcre2_code_free(rx);
    return true;
}

static const char *const secret_rule_keys[] = {"id",      "description",  "pattern", "keywords",
                                               "entropy", "secret_group", NULL};

static void secret_rule_field(struct ctx *c, void *obj, int idx, struct fy_node *k,
                              struct fy_node *v, struct manifest_pos kp)
{
    struct manifest_secret_rule *r = obj;
    (void)k;
    switch (idx) {
    case 0:
        free(r->id);
        r->id = get_str(c, v, kp, "id");
        if (r->id && !valid_name(r->id, false))
            ERR(c, node_pos(v, kp), "rule id '%s' may hold only a-z, 0-9, '-', '_' and '.'", r->id);
        r->pos = node_pos(v, kp);
        break;
    case 1:
        free(r->description);
        r->description = get_str(c, v, kp, "description");
        break;
    case 2:
        free(r->pattern);
        r->pattern = get_str(c, v, kp, "pattern");
        r->pattern_pos = node_pos(v, kp);
        break;
    case 3:
        xfree_strv(r->keywords, r->nkeywords);
        r->keywords = NULL;
        r->nkeywords = 0;
        get_str_list(c, v, kp, "keywords", &r->keywords, &r->nkeywords);
        break;
    case 4:
        get_double(c, v, kp, "entropy", 0, 8, &r->entropy);
        break;
    default: {
        long long g;
        if (get_int(c, v, kp, "secret_group", 0, 99, &g))
            r->group = (int)g;
    }
    }
}

static void secret_rule_release(struct manifest_secret_rule *r)
{
    free(r->id);
    free(r->description);
    free(r->pattern);
    xfree_strv(r->keywords, r->nkeywords);
}

static void load_secret_rules(struct ctx *c, struct manifest_secrets *s, struct fy_node *n,
                              struct manifest_pos p)
{
    if (is_null(n))
        return;
    if (fy_node_get_type(n) != FYNT_SEQUENCE) {
        ERR(c, node_pos(n, p), "'secrets.rules' must be a list of rules, not %s", type_word(n));
        return;
    }
    size_t alloc = 0;
    void *it = NULL;
    struct fy_node *item;
    while ((item = fy_node_sequence_iterate(n, &it))) {
        struct manifest_pos ip = node_pos(item, p);
        struct manifest_secret_rule r = {.group = -1, .pos = ip, .pattern_pos = ip};
        if (!walk_map(c, item, ip, "a secret rule", secret_rule_keys, secret_rule_field, &r))
            continue;
        bool ok = true;
        if (!r.id || !r.pattern) {
            ERR(c, ip, "a secret rule needs an 'id' and a 'pattern'");
            ok = false;
        }
        uint32_t captures = 0;
        if (r.pattern && !check_regex(c, r.pattern, r.pattern_pos, "pattern", &captures))
            ok = false;
        else if (r.pattern && r.group > (int)captures) {
            ERR(c, r.pattern_pos, "'secret_group' is %d but the pattern has %u group%s", r.group,
                captures, captures == 1 ? "" : "s");
            ok = false;
        }
        for (size_t i = 0; ok && i < s->nrules; i++) {
            if (!strcmp(s->rules[i].id, r.id)) {
                ERR(c, r.pos, "duplicate secret rule '%s' (first defined at line %d)", r.id,
                    s->rules[i].pos.line);
                ok = false;
            }
        }
        if (!ok) {
            secret_rule_release(&r);
            continue;
        }
        *XPUSH(&s->rules, &s->nrules, &alloc) = r;
    }
}

static void load_regex_list(struct ctx *c, struct fy_node *n, struct manifest_pos p,
                            const char *field, struct manifest_regex **out, size_t *nout)
{
    char **v = NULL;
    size_t nv = 0;
    if (!get_str_list(c, n, p, field, &v, &nv))
        return;
    size_t alloc = 0;
    void *it = NULL;
    for (size_t i = 0; i < nv; i++) {
        struct fy_node *item =
            fy_node_get_type(n) == FYNT_SEQUENCE ? fy_node_sequence_iterate(n, &it) : n;
        struct manifest_pos ip = node_pos(item, p);
        if (!check_regex(c, v[i], ip, field, NULL)) {
            free(v[i]);
            continue;
        }
        *XPUSH(out, nout, &alloc) = (struct manifest_regex){v[i], ip};
    }
    free(v);
}

static const char *const allowlist_keys[] = {"paths", "patterns", "stopwords", NULL};

static void allowlist_field(struct ctx *c, void *obj, int idx, struct fy_node *k, struct fy_node *v,
                            struct manifest_pos kp)
{
    struct manifest_secrets *s = obj;
    (void)k;
    if (idx == 0)
        load_regex_list(c, v, kp, "paths", &s->allow_paths, &s->nallow_paths);
    else if (idx == 1)
        load_regex_list(c, v, kp, "patterns", &s->allow_patterns, &s->nallow_patterns);
    else
        get_str_list(c, v, kp, "stopwords", &s->stopwords, &s->nstopwords);
}

static const char *const secrets_keys[] = {"rules",    "disable",       "allowlist",
                                           "baseline", "max_file_size", NULL};

static void secrets_field(struct ctx *c, void *obj, int idx, struct fy_node *k, struct fy_node *v,
                          struct manifest_pos kp)
{
    struct manifest_secrets *s = obj;
    (void)k;
    switch (idx) {
    case 0:
        load_secret_rules(c, s, v, kp);
        break;
    case 1:
        if (!get_str_list(c, v, kp, "disable", &s->disable, &s->ndisable))
            break;
        for (size_t i = 0; i < s->ndisable; i++) {
            bool known = false;
            for (size_t r = 0; r < secret_builtin_nrules && !known; r++)
                known = !strcmp(secret_builtin_rules[r].id, s->disable[i]);
            if (!known)
                ERR(c, node_pos(v, kp),
                    "'disable' names '%s', which is not a built-in rule "
                    "('otap secrets rules' lists them)",
                    s->disable[i]);
        }
        break;
    case 2:
        if (!is_null(v))
            walk_map(c, v, kp, "'secrets.allowlist'", allowlist_keys, allowlist_field, s);
        break;
    case 3:
        free(s->baseline);
        s->baseline = get_str(c, v, kp, "baseline");
        break;
    default:
        get_int(c, v, kp, "max_file_size", 1, (long long)1 << 40, &s->max_file_size);
    }
}

static const char *const flag_keys[] = {"owner",   "expires",     "default", "on",
                                        "rollout", "description", NULL};
enum { FK_OWNER, FK_EXPIRES, FK_DEFAULT, FK_ON, FK_ROLLOUT, FK_DESCRIPTION };

static bool valid_date(const char *s)
{
    struct tm tm = {0};
    const char *end = strptime(s, "%Y-%m-%d", &tm);
    if (!end || *end || strlen(s) != 10)
        return false;
    /* reject 2026-02-30: normalising must not move the date */
    struct tm norm = tm;
    norm.tm_isdst = 0;
    if (timegm(&norm) == (time_t)-1)
        return false;
    return norm.tm_mday == tm.tm_mday && norm.tm_mon == tm.tm_mon;
}

struct flag_walk {
    struct manifest_flag *f;
    bool seen[FK_DESCRIPTION + 1];
};

static void flag_field(struct ctx *c, void *obj, int idx, struct fy_node *k, struct fy_node *v,
                       struct manifest_pos kp)
{
    struct flag_walk *w = obj;
    struct manifest_flag *f = w->f;
    long long num;
    (void)k;
    w->seen[idx] = true;
    switch (idx) {
    case FK_OWNER:
        free(f->owner);
        f->owner = get_str(c, v, kp, "owner");
        break;
    case FK_EXPIRES: {
        const char *s = scalar(c, v, kp, "expires");
        if (!s)
            break;
        if (!valid_date(s)) {
            ERR(c, node_pos(v, kp), "'expires' must be a date YYYY-MM-DD, not '%s'", s);
            break;
        }
        free(f->expires);
        f->expires = xstrdup(s);
        break;
    }
    case FK_DEFAULT:
        if (get_bool(c, v, kp, "default", &f->default_on) && f->default_on)
            ERR(c, node_pos(v, kp),
                "flag '%s' must default off; turn it on per environment with 'on'", f->name);
        break;
    case FK_ON:
        get_str_list(c, v, kp, "on", &f->on, &f->non);
        break;
    case FK_ROLLOUT:
        if (get_int(c, v, kp, "rollout", 0, 100, &num))
            f->rollout = (int)num;
        break;
    case FK_DESCRIPTION:
        free(f->description);
        f->description = get_str(c, v, kp, "description");
        break;
    }
}

static void flag_entry(struct ctx *c, const char *name, struct fy_node *val, struct manifest_pos kp)
{
    struct manifest *m = c->m;
    if (!valid_name(name, false)) {
        ERR(c, kp, "flag name '%s' may hold only a-z, 0-9, '-', '_' and '.'", name);
        return;
    }
    struct manifest_flag f = {0};
    f.name = xstrdup(name);
    f.pos = kp;
    f.rollout = -1;
    struct flag_walk w = {.f = &f};
    if (walk_map(c, val, kp, "a flag", flag_keys, flag_field, &w)) {
        if (!w.seen[FK_OWNER])
            ERR(c, kp, "flag '%s' needs an 'owner'", name);
        if (!w.seen[FK_EXPIRES])
            ERR(c, kp, "flag '%s' needs an 'expires' date (flags are removed within 30 days)",
                name);
    }
    *XPUSH(&m->flags, &m->nflags, &c->flags_alloc) = f;
}

static void check_flags(struct ctx *c)
{
    struct manifest *m = c->m;
    for (size_t i = 0; i < m->nflags; i++)
        for (size_t e = 0; e < m->flags[i].non; e++)
            if (!manifest_env_find(m, m->flags[i].on[e]))
                ERR(c, m->flags[i].pos, "flag '%s' is on in unknown environment '%s'",
                    m->flags[i].name, m->flags[i].on[e]);
}

static void check_database(struct ctx *c)
{
    struct manifest *m = c->m;
    if (!m->database.url_var)
        return;
    for (size_t i = 0; i < m->nconfig; i++)
        if (!strcmp(m->config[i].name, m->database.url_var))
            return;
    const char **names = xcalloc(m->nconfig + 1, sizeof(*names));
    for (size_t i = 0; i < m->nconfig; i++)
        names[i] = m->config[i].name;
    const char *s = suggest_closest(m->database.url_var, names);
    if (s)
        ERR(c, m->database.pos,
            "database 'url' names '%s', which is not in the config contract (did you mean "
            "'%s'?)",
            m->database.url_var, s);
    else
        ERR(c, m->database.pos, "database 'url' names '%s', which is not in the config contract",
            m->database.url_var);
    free(names);
}

/* ---- top level -------------------------------------------------------- */

static const char *const top_keys[] = {"project",  "environments", "services", "ports",   "config",
                                       "database", "slo",          "flags",    "release", "gates",
                                       "docs",     "secrets",      NULL};
enum {
    TK_PROJECT,
    TK_ENVIRONMENTS,
    TK_SERVICES,
    TK_PORTS,
    TK_CONFIG,
    TK_DATABASE,
    TK_SLO,
    TK_FLAGS,
    TK_RELEASE,
    TK_GATES,
    TK_DOCS,
    TK_SECRETS,
};

struct top_walk {
    struct fy_node *val[TK_SECRETS + 1];
    struct manifest_pos pos[TK_SECRETS + 1];
};

static const char *const docs_keys[] = {"config", NULL};

static void docs_field(struct ctx *c, void *obj, int idx, struct fy_node *k, struct fy_node *v,
                       struct manifest_pos kp)
{
    struct manifest *m = obj;
    (void)k;
    (void)idx;
    free(m->config_docs);
    m->config_docs = get_str(c, v, kp, "config");
}

static void top_field(struct ctx *c, void *obj, int idx, struct fy_node *k, struct fy_node *v,
                      struct manifest_pos kp)
{
    struct top_walk *w = obj;
    (void)c;
    (void)k;
    w->val[idx] = v;
    w->pos[idx] = kp;
}

/* Aliases would let one node stand in many places; otap reads values written out. */
static bool reject_aliases(struct ctx *c, struct fy_node *n, int depth)
{
    if (!n)
        return true;
    if (depth > 64) {
        ERR(c, node_pos(n, (struct manifest_pos){0, 0}),
            "the manifest nests deeper than 64 levels");
        return false;
    }
    bool ok = true;
    switch (fy_node_get_type(n)) {
    case FYNT_SCALAR:
        if (fy_node_get_style(n) == FYNS_ALIAS) {
            ERR(c, node_pos(n, (struct manifest_pos){0, 0}),
                "YAML aliases (*%s) are not supported in otap.yaml; write the value out",
                fy_node_get_scalar0(n) ? fy_node_get_scalar0(n) : "");
            return false;
        }
        return true;
    case FYNT_SEQUENCE: {
        void *it = NULL;
        struct fy_node *item;
        while ((item = fy_node_sequence_iterate(n, &it)))
            ok &= reject_aliases(c, item, depth + 1);
        return ok;
    }
    case FYNT_MAPPING: {
        void *it = NULL;
        struct fy_node_pair *pair;
        while ((pair = fy_node_mapping_iterate(n, &it))) {
            ok &= reject_aliases(c, fy_node_pair_key(pair), depth + 1);
            ok &= reject_aliases(c, fy_node_pair_value(pair), depth + 1);
        }
        return ok;
    }
    }
    return ok;
}

static void build(struct ctx *c, struct fy_node *root)
{
    struct manifest *m = c->m;
    struct manifest_pos top = {1, 1};
    struct top_walk w = {0};

    if (!reject_aliases(c, root, 0))
        return;
    if (!root || is_null(root)) {
        ERR(c, top, "the manifest is empty; 'otap init' writes a starter otap.yaml");
        return;
    }
    if (!walk_map(c, root, top, "the manifest", top_keys, top_field, &w))
        return;

    if (!w.val[TK_PROJECT] && !w.pos[TK_PROJECT].line)
        ERR(c, top, "missing 'project' (the project's name)");
    else if ((m->project = get_str(c, w.val[TK_PROJECT], w.pos[TK_PROJECT], "project")) &&
             !valid_name(m->project, false))
        ERR(c, node_pos(w.val[TK_PROJECT], w.pos[TK_PROJECT]),
            "project name '%s' may hold only a-z, 0-9, '-', '_' and '.'", m->project);

    if (w.val[TK_GATES])
        load_gates(c, w.val[TK_GATES], w.pos[TK_GATES]);
    if (!w.pos[TK_ENVIRONMENTS].line)
        ERR(c, top, "missing 'environments' (the OTAP stages in promotion order)");
    else
        load_environments(c, w.val[TK_ENVIRONMENTS], w.pos[TK_ENVIRONMENTS]);
    if (w.pos[TK_SERVICES].line)
        walk_named(c, w.val[TK_SERVICES], w.pos[TK_SERVICES], "services", service_entry);
    if (w.pos[TK_PORTS].line && !is_null(w.val[TK_PORTS]))
        walk_map(c, w.val[TK_PORTS], w.pos[TK_PORTS], "'ports'", ports_keys, ports_field,
                 &m->ports);
    if (w.pos[TK_CONFIG].line)
        walk_named(c, w.val[TK_CONFIG], w.pos[TK_CONFIG], "config", var_entry);
    if (w.pos[TK_DATABASE].line) {
        m->database.pos = w.pos[TK_DATABASE];
        walk_map(c, w.val[TK_DATABASE], w.pos[TK_DATABASE], "'database'", db_keys, db_field,
                 &m->database);
        if (!m->database.url_var)
            ERR(c, w.pos[TK_DATABASE],
                "'database' needs 'url': the config variable that holds "
                "the database URL");
    }
    if (w.pos[TK_SLO].line) {
        m->has_slo = true;
        m->slo_p95_ms = 1000;
        m->slo_error_rate = 0.01;
        walk_map(c, w.val[TK_SLO], w.pos[TK_SLO], "'slo'", slo_keys, slo_field, m);
    }
    if (w.pos[TK_FLAGS].line)
        walk_named(c, w.val[TK_FLAGS], w.pos[TK_FLAGS], "flags", flag_entry);
    if (w.pos[TK_RELEASE].line)
        walk_map(c, w.val[TK_RELEASE], w.pos[TK_RELEASE], "'release'", release_keys, release_field,
                 &m->release);
    if (w.pos[TK_DOCS].line)
        walk_map(c, w.val[TK_DOCS], w.pos[TK_DOCS], "'docs'", docs_keys, docs_field, m);

    if (w.pos[TK_SECRETS].line && !is_null(w.val[TK_SECRETS]))
        walk_map(c, w.val[TK_SECRETS], w.pos[TK_SECRETS], "'secrets'", secrets_keys, secrets_field,
                 &m->secrets);

    if (m->database.url_var && !m->database.migrations)
        m->database.migrations = xstrdup("db/migrations");
    if (m->database.url_var && !m->database.marker_table)
        m->database.marker_table = xstrdup("bk_env_marker");
    if (!m->release.version_file)
        m->release.version_file = xstrdup("VERSION");
    if (!m->release.changelog)
        m->release.changelog = xstrdup("CHANGELOG.md");
    if (!m->release.tag_prefix)
        m->release.tag_prefix = xstrdup("v");

    check_environments(c);
    check_services(c);
    check_blocks(c);
    check_config(c);
    check_database(c);
    check_flags(c);
}

/* ---- entry points ----------------------------------------------------- */

static struct manifest *load(const char *data, size_t len, struct diag_list *diags)
{
    struct manifest *m = xcalloc(1, sizeof(*m));
    struct ctx c = {.d = diags, .m = m};
    struct fy_diag_cfg dcfg;
    fy_diag_cfg_default(&dcfg);
    dcfg.fp = NULL;
    dcfg.output_fn = NULL;
    dcfg.colorize = false;
    struct fy_diag *fyd = fy_diag_create(&dcfg);
    struct fy_document *doc = NULL;
    size_t before = diag_count(diags, DIAG_ERROR);

    if (!fyd) {
        diag_add(diags, DIAG_ERROR, 0, 0, "cannot set up the YAML parser");
        goto out;
    }
    fy_diag_set_collect_errors(fyd, true);
    if (memchr(data, '\0', len)) {
        diag_add(diags, DIAG_ERROR, 0, 0, "the manifest holds a NUL byte; is it a binary file?");
        goto out;
    }
    size_t bad;
    if (!utf8_valid(data, len, &bad)) {
        int line, col;
        utf8_position(data, bad, &line, &col);
        diag_add(diags, DIAG_ERROR, line, col,
                 "invalid UTF-8 (byte 0x%02x); the manifest must be UTF-8 text",
                 (unsigned char)data[bad]);
        goto out;
    }
    struct fy_parse_cfg pcfg = {0};
    pcfg.flags = FYPCF_QUIET | FYPCF_COLLECT_DIAG | FYPCF_JSON_NONE;
    pcfg.diag = fyd;
    doc = fy_document_build_from_string(&pcfg, data, len);
    void *it = NULL;
    struct fy_diag_error *e;
    bool parse_failed = !doc;
    while ((e = fy_diag_errors_iterate(fyd, &it))) {
        if (e->type < FYET_WARNING)
            continue;
        diag_add(diags, e->type == FYET_WARNING ? DIAG_WARNING : DIAG_ERROR,
                 e->line > 0 ? e->line : 0, e->column > 0 ? e->column : 0, "%s",
                 e->msg ? e->msg : "YAML syntax error");
        parse_failed |= e->type >= FYET_ERROR;
    }
    if (parse_failed) {
        /* libfyaml builds no document, and reports nothing, for an empty stream */
        if (diag_count(diags, DIAG_ERROR) == before)
            diag_add(diags, DIAG_ERROR, 1, 1,
                     "the manifest is empty; 'otap init' writes a starter otap.yaml");
        goto out;
    }
    build(&c, fy_document_root(doc));

out:
    if (doc)
        fy_document_destroy(doc);
    if (fyd)
        fy_diag_destroy(fyd);
    diag_sort(diags);
    if (diag_count(diags, DIAG_ERROR) > before) {
        manifest_free(m);
        return NULL;
    }
    return m;
}

struct manifest *manifest_load_buffer(const char *data, size_t len, const char *name,
                                      struct diag_list *diags)
{
    if (len > MANIFEST_MAX_BYTES) {
        diag_add(diags, DIAG_ERROR, 0, 0, "the manifest is larger than %u bytes",
                 MANIFEST_MAX_BYTES);
        return NULL;
    }
    struct manifest *m = load(data, len, diags);
    if (m) {
        m->path = xstrdup(name);
        m->dir = xstrdup(".");
    }
    return m;
}

static char *dir_of(const char *path)
{
    const char *slash = strrchr(path, '/');
    if (!slash)
        return xstrdup(".");
    if (slash == path)
        return xstrdup("/");
    return xstrndup(path, (size_t)(slash - path));
}

struct manifest *manifest_load_file(const char *path, struct diag_list *diags)
{
    struct strbuf sb = STRBUF_INIT;
    struct manifest *m = NULL;
    struct stat st;
    if (stat(path, &st) == 0 && S_ISDIR(st.st_mode)) {
        diag_add(diags, DIAG_ERROR, 0, 0, "is a directory, not a manifest file");
        goto out;
    }
    if (strbuf_read_file(&sb, path, MANIFEST_MAX_BYTES) < 0) {
        if (errno == EFBIG)
            diag_add(diags, DIAG_ERROR, 0, 0, "the manifest is larger than %u bytes",
                     MANIFEST_MAX_BYTES);
        else
            diag_add(diags, DIAG_ERROR, 0, 0, "cannot read: %s", strerror(errno));
        goto out;
    }
    m = load(sb.buf, sb.len, diags);
    if (m) {
        m->path = xstrdup(path);
        m->dir = dir_of(path);
    }
out:
    strbuf_release(&sb);
    return m;
}

char *manifest_find(const char *dir)
{
    char *cur = realpath(dir, NULL);
    if (!cur)
        return NULL;
    for (;;) {
        char *candidate = xasprintf("%s%sotap.yaml", cur, strcmp(cur, "/") ? "/" : "");
        struct stat st;
        if (stat(candidate, &st) == 0 && S_ISREG(st.st_mode)) {
            free(cur);
            return candidate;
        }
        free(candidate);
        if (!strcmp(cur, "/"))
            break;
        char *up = dir_of(cur);
        free(cur);
        cur = up;
    }
    free(cur);
    return NULL;
}

static void env_release(struct manifest_env *e)
{
    free(e->name);
    xfree_strv(e->branches, e->nbranches);
    free(e->marker);
    xfree_strv(e->requires, e->nrequires);
    free(e->deploy.driver);
    free(e->deploy.run);
    free(e->deploy.service);
}

void manifest_free(struct manifest *m)
{
    if (!m)
        return;
    free(m->path);
    free(m->dir);
    free(m->project);
    for (size_t i = 0; i < m->nenvs; i++)
        env_release(&m->envs[i]);
    free(m->envs);
    for (size_t i = 0; i < m->nservices; i++) {
        struct manifest_service *s = &m->services[i];
        free(s->name);
        free(s->run);
        free(s->health.liveness);
        free(s->health.health);
        free(s->health.readiness);
        xfree_strv(s->depends_on, s->ndepends_on);
        for (size_t u = 0; u < s->nurls; u++) {
            free(s->urls[u].env);
            free(s->urls[u].url);
        }
        free(s->urls);
    }
    free(m->services);
    for (size_t i = 0; i < m->ports.nblocks; i++) {
        free(m->ports.blocks[i].name);
        free(m->ports.blocks[i].within);
        free(m->ports.blocks[i].purpose);
    }
    free(m->ports.blocks);
    for (size_t i = 0; i < m->nconfig; i++) {
        struct contract_var *v = &m->config[i];
        free(v->name);
        xfree_strv(v->required_envs, v->nrequired_envs);
        free(v->default_value);
        xfree_strv(v->aliases, v->naliases);
        free(v->description);
        free(v->example);
        xfree_strv(v->values, v->nvalues);
        xfree_strv(v->schemes, v->nschemes);
        free(v->one_of);
    }
    free(m->config);
    for (size_t i = 0; i < m->secrets.nrules; i++)
        secret_rule_release(&m->secrets.rules[i]);
    free(m->secrets.rules);
    xfree_strv(m->secrets.disable, m->secrets.ndisable);
    for (size_t i = 0; i < m->secrets.nallow_paths; i++)
        free(m->secrets.allow_paths[i].re);
    free(m->secrets.allow_paths);
    for (size_t i = 0; i < m->secrets.nallow_patterns; i++)
        free(m->secrets.allow_patterns[i].re);
    free(m->secrets.allow_patterns);
    xfree_strv(m->secrets.stopwords, m->secrets.nstopwords);
    free(m->secrets.baseline);
    free(m->database.url_var);
    free(m->database.migrations);
    free(m->database.schema);
    free(m->database.marker_table);
    for (size_t i = 0; i < m->nflags; i++) {
        free(m->flags[i].name);
        free(m->flags[i].owner);
        free(m->flags[i].expires);
        xfree_strv(m->flags[i].on, m->flags[i].non);
        free(m->flags[i].description);
    }
    free(m->flags);
    free(m->release.version_file);
    free(m->release.changelog);
    free(m->release.tag_prefix);
    free(m->config_docs);
    for (size_t i = 0; i < m->ngates; i++) {
        free(m->gates[i].name);
        free(m->gates[i].run);
    }
    free(m->gates);
    free(m);
}

/* ---- lookups ---------------------------------------------------------- */

const struct manifest_env *manifest_env_find(const struct manifest *m, const char *name)
{
    for (size_t i = 0; i < m->nenvs; i++)
        if (!strcmp(m->envs[i].name, name))
            return &m->envs[i];
    int st = stage_from_word(name);
    if (st < 0)
        return NULL;
    for (size_t i = 0; i < m->nenvs; i++)
        if ((int)m->envs[i].stage == st)
            return &m->envs[i];
    return NULL;
}

const struct manifest_env *manifest_env_for_branch(const struct manifest *m, const char *branch,
                                                   const char **matched_glob)
{
    /* an exact name wins over a glob, whatever the order */
    for (int pass = 0; pass < 2; pass++) {
        for (size_t i = 0; i < m->nenvs; i++) {
            for (size_t b = 0; b < m->envs[i].nbranches; b++) {
                const char *g = m->envs[i].branches[b];
                bool hit = pass == 0 ? !strcmp(g, branch) : fnmatch(g, branch, 0) == 0;
                if (hit) {
                    if (matched_glob)
                        *matched_glob = g;
                    return &m->envs[i];
                }
            }
        }
    }
    return NULL;
}

const struct manifest_service *manifest_service_find(const struct manifest *m, const char *name)
{
    for (size_t i = 0; i < m->nservices; i++)
        if (!strcmp(m->services[i].name, name))
            return &m->services[i];
    return NULL;
}

const struct manifest_gate *manifest_gate_find(const struct manifest *m, const char *name)
{
    for (size_t i = 0; i < m->ngates; i++)
        if (!strcmp(m->gates[i].name, name))
            return &m->gates[i];
    return NULL;
}

bool manifest_var_required_in(const struct contract_var *v, const char *env)
{
    if (v->required_always)
        return true;
    for (size_t i = 0; i < v->nrequired_envs; i++)
        if (!strcmp(v->required_envs[i], env))
            return true;
    return false;
}

char *manifest_service_url(const struct manifest *m, const struct manifest_service *s,
                           const struct manifest_env *env)
{
    for (size_t u = 0; u < s->nurls; u++)
        if (manifest_env_find(m, s->urls[u].env) == env)
            return xstrdup(s->urls[u].url);
    /* development and test run on this machine, on the registry's port */
    if (s->port && env->stage <= STAGE_T)
        return xasprintf("http://127.0.0.1:%d", s->port);
    return NULL;
}
