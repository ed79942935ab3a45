/*
 * The services and ports sections: each service's port, command, health
 * paths, dependencies and URLs, and the port registry's range and blocks.
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

/* ---- services --------------------------------------------------------- */

static const char *const service_keys[] = {
    "port",         "run",   "health",        "depends_on", "urls", "restart",
    "max_restarts", "ready", "start_timeout", "kind",       NULL};
enum {
    SK_PORT,
    SK_RUN,
    SK_HEALTH,
    SK_DEPENDS_ON,
    SK_URLS,
    SK_RESTART,
    SK_MAX_RESTARTS,
    SK_READY,
    SK_START_TIMEOUT,
    SK_KIND
};

/* depends_on: [a, b] or { a: healthy, seed: completed, cache: started } */
static void depends_on(struct mf_ctx *c, struct manifest_service *s, struct fy_node *v,
                       struct manifest_pos kp)
{
    s->depends_pos = mf_node_pos(v, kp);
    if (!v || fy_node_get_type(v) != FYNT_MAPPING) {
        mf_get_str_list(c, v, kp, "depends_on", &s->depends_on, &s->ndepends_on);
        s->depends_cond = xcalloc(s->ndepends_on ? s->ndepends_on : 1, sizeof(*s->depends_cond));
        return;
    }
    size_t alloc = 0;
    void *it = NULL;
    struct fy_node_pair *pair;
    while ((pair = fy_node_mapping_iterate(v, &it))) {
        struct manifest_pos p = mf_node_pos(fy_node_pair_key(pair), kp);
        const char *name = mf_scalar(c, fy_node_pair_key(pair), p, "depends_on");
        const char *cond = mf_scalar(c, fy_node_pair_value(pair), p, "depends_on");
        if (!name || !cond)
            continue;
        enum service_dep_cond dc = !strcmp(cond, "healthy")     ? DEP_HEALTHY
                                   : !strcmp(cond, "started")   ? DEP_STARTED
                                   : !strcmp(cond, "completed") ? DEP_COMPLETED
                                                                : DEP_DEFAULT;
        if (dc == DEP_DEFAULT) {
            ERR(c, mf_node_pos(fy_node_pair_value(pair), p),
                "depends_on '%s': '%s' is none of started, healthy, completed", name, cond);
            continue;
        }
        *XPUSH(&s->depends_on, &s->ndepends_on, &alloc) = xstrdup(name);
        size_t k = s->ndepends_on - 1;
        s->depends_cond = xrealloc(s->depends_cond, (k + 1) * sizeof(*s->depends_cond));
        s->depends_cond[k] = dc;
    }
}

/* ready: { http: /path } | { tcp: PORT } | { exec: CMD } | { log: REGEX } */
static void ready_field(struct mf_ctx *c, struct manifest_service *s, struct fy_node *v,
                        struct manifest_pos kp)
{
    static const char *const kinds[] = {"http", "tcp", "exec", "log", NULL};
    if (!v || fy_node_get_type(v) != FYNT_MAPPING || fy_node_mapping_item_count(v) != 1) {
        ERR(c, mf_node_pos(v, kp),
            "'ready' must be one of { http: /path }, { tcp: PORT }, { exec: COMMAND }, "
            "{ log: REGEX }");
        return;
    }
    void *it = NULL;
    struct fy_node_pair *pair = fy_node_mapping_iterate(v, &it);
    const char *k = mf_scalar(c, fy_node_pair_key(pair), kp, "ready");
    struct fy_node *val = fy_node_pair_value(pair);
    int idx = -1;
    for (int i = 0; k && kinds[i]; i++)
        if (!strcmp(kinds[i], k))
            idx = i;
    if (idx < 0) {
        ERR(c, mf_node_pos(v, kp), "'ready' takes http, tcp, exec or log, not '%s'", k ? k : "?");
        return;
    }
    s->ready.kind = (enum service_ready_kind)(idx + 1);
    if (s->ready.kind == READY_TCP) {
        long long port;
        if (mf_get_int(c, val, kp, "ready.tcp", 1, 65535, &port))
            s->ready.port = (int)port;
        return;
    }
    free(s->ready.what);
    s->ready.what = mf_get_str(c, val, kp, "ready");
    if (s->ready.what && s->ready.kind == READY_HTTP && s->ready.what[0] != '/')
        ERR(c, mf_node_pos(val, kp), "'ready.http' is a path starting with '/', not '%s'",
            s->ready.what);
    if (s->ready.what && s->ready.kind == READY_LOG)
        mf_check_regex(c, s->ready.what, mf_node_pos(val, kp), "ready.log", NULL);
}

/* urls: { staging: https://..., production: https://... }: where each environment runs it */
static void service_urls(struct mf_ctx *c, struct manifest_service *s, struct fy_node *v,
                         struct manifest_pos kp)
{
    if (mf_is_null(v))
        return;
    if (fy_node_get_type(v) != FYNT_MAPPING) {
        ERR(c, mf_node_pos(v, kp), "'urls' must map environments to base URLs, not %s",
            mf_type_word(v));
        return;
    }
    void *it = NULL;
    struct fy_node_pair *pair;
    size_t alloc = s->nurls;
    while ((pair = fy_node_mapping_iterate(v, &it))) {
        struct fy_node *k = fy_node_pair_key(pair);
        const char *env = mf_scalar(c, k, kp, "key");
        if (!env)
            continue;
        struct manifest_pos vp = mf_node_pos(fy_node_pair_value(pair), mf_node_pos(k, kp));
        char *url = mf_get_str(c, fy_node_pair_value(pair), vp, "url");
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
        u->pos = mf_node_pos(k, kp);
    }
}
static const char *const health_keys[] = {"liveness", "health", "readiness", NULL};

static void health_field(struct mf_ctx *c, void *obj, int idx, struct fy_node *k, struct fy_node *v,
                         struct manifest_pos kp)
{
    struct manifest_health *h = obj;
    char **slot = idx == 0 ? &h->liveness : idx == 1 ? &h->health : &h->readiness;
    (void)k;
    char *s = mf_get_str(c, v, kp, health_keys[idx]);
    if (s && s[0] != '/') {
        ERR(c, mf_node_pos(v, kp), "health path '%s' must start with '/'", s);
        free(s);
        return;
    }
    free(*slot);
    *slot = s;
}

static void service_field(struct mf_ctx *c, void *obj, int idx, struct fy_node *k,
                          struct fy_node *v, struct manifest_pos kp)
{
    struct manifest_service *s = obj;
    (void)k;
    switch (idx) {
    case SK_PORT: {
        long long port;
        if (mf_get_int(c, v, kp, "port", 1, 65535, &port)) {
            s->port = (int)port;
            s->port_pos = mf_node_pos(v, kp);
        }
        break;
    }
    case SK_RUN:
        free(s->run);
        s->run = mf_get_str(c, v, kp, "run");
        break;
    case SK_HEALTH:
        mf_walk_map(c, v, kp, "'health'", health_keys, health_field, &s->health);
        break;
    case SK_DEPENDS_ON:
        depends_on(c, s, v, kp);
        break;
    case SK_READY:
        ready_field(c, s, v, kp);
        break;
    case SK_START_TIMEOUT:
        mf_get_duration(c, v, kp, "start_timeout", &s->start_timeout_s);
        break;
    case SK_KIND: {
        const char *kind = mf_scalar(c, v, kp, "kind");
        if (kind && strcmp(kind, "postgres"))
            ERR(c, mf_node_pos(v, kp),
                "'kind' is postgres (otap runs Debian's PostgreSQL) or absent (the run "
                "command), not '%s'",
                kind);
        else if (kind) {
            free(s->kind);
            s->kind = xstrdup(kind);
        }
        break;
    }
    case SK_URLS:
        service_urls(c, s, v, kp);
        break;
    case SK_RESTART: {
        const char *r = mf_scalar(c, v, kp, "restart");
        if (r && strcmp(r, "no") && strcmp(r, "on-failure") && strcmp(r, "always"))
            ERR(c, mf_node_pos(v, kp), "'restart' must be no, on-failure or always, not '%s'", r);
        else if (r)
            s->restart = !strcmp(r, "no")       ? SERVICE_RESTART_NO
                         : !strcmp(r, "always") ? SERVICE_RESTART_ALWAYS
                                                : SERVICE_RESTART_ON_FAILURE;
        break;
    }
    case SK_MAX_RESTARTS: {
        long long n;
        if (mf_get_int(c, v, kp, "max_restarts", 0, 1000, &n))
            s->max_restarts = (int)n;
        break;
    }
    }
}

void mf_service_entry(struct mf_ctx *c, const char *name, struct fy_node *v, struct manifest_pos kp)
{
    struct manifest *m = c->m;
    if (!mf_valid_name(name, false)) {
        ERR(c, kp, "service name '%s' may hold only a-z, 0-9, '-' and '_'", name);
        return;
    }
    struct manifest_service s = {0};
    s.restart = SERVICE_RESTART_ON_FAILURE; /* seed 001 §2.2: ON_FAILURE, 3 retries */
    s.max_restarts = 3;
    s.start_timeout_s = 60;
    s.name = xstrdup(name);
    s.pos = kp;
    if (!mf_is_null(v))
        mf_walk_map(c, v, kp, "a service", service_keys, service_field, &s);
    *XPUSH(&m->services, &m->nservices, &c->services_alloc) = s;
}

static void check_service_cycles(struct mf_ctx *c)
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

void mf_check_services(struct mf_ctx *c)
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

const char *const mf_ports_keys[] = {"range", "blocks", NULL};
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

static bool get_range(struct mf_ctx *c, struct fy_node *n, struct manifest_pos p, const char *field,
                      int *lo, int *hi)
{
    const char *s = mf_scalar(c, n, p, field);
    if (!s)
        return false;
    if (!parse_range(s, lo, hi)) {
        ERR(c, mf_node_pos(n, p),
            "'%s' must be a port range LOW-HIGH within 1-65535 with LOW <= HIGH, not '%s'", field,
            s);
        return false;
    }
    return true;
}

static void block_field(struct mf_ctx *c, void *obj, int idx, struct fy_node *k, struct fy_node *v,
                        struct manifest_pos kp)
{
    struct manifest_block *b = obj;
    (void)k;
    if (idx == 0) {
        if (!get_range(c, v, kp, "range", &b->lo, &b->hi))
            b->lo = b->hi = -1;
    } else if (idx == 1) {
        free(b->within);
        b->within = mf_get_str(c, v, kp, "within");
    } else {
        free(b->purpose);
        b->purpose = mf_get_str(c, v, kp, "purpose");
    }
}

static void block_entry(struct mf_ctx *c, const char *name, struct fy_node *v,
                        struct manifest_pos kp)
{
    struct manifest_ports *ports = &c->m->ports;
    struct manifest_block b = {0};
    b.lo = b.hi = 0;
    if (fy_node_get_type(v) == FYNT_MAPPING) {
        mf_walk_map(c, v, kp, "a port block", block_keys, block_field, &b);
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

void mf_ports_field(struct mf_ctx *c, void *obj, int idx, struct fy_node *k, struct fy_node *v,
                    struct manifest_pos kp)
{
    struct manifest_ports *ports = obj;
    (void)k;
    if (idx == 0) {
        ports->range_pos = mf_node_pos(v, kp);
        ports->has_range = get_range(c, v, kp, "range", &ports->lo, &ports->hi);
    } else {
        mf_walk_named(c, v, kp, "blocks", block_entry);
    }
}

void mf_check_blocks(struct mf_ctx *c)
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
