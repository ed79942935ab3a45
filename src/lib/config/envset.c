/*
 * Layered variable sets: the one place that decides which value wins
 * (process, then .env.<env>.local, .env.<env>, .env.local, .env) and how
 * ${NAME} references are resolved across layers.
 */
#include "config/envset.h"

#include <stdlib.h>
#include <string.h>

#include "base/strbuf.h"
#include "base/xalloc.h"
#include "base/banned.h"

struct envvar *envset_find(const struct envset *s, const char *name)
{
    for (size_t i = 0; i < s->n; i++)
        if (!strcmp(s->items[i].name, name))
            return &s->items[i];
    return NULL;
}

static void var_clear(struct envvar *v)
{
    free(v->value);
    free(v->file);
    v->value = v->file = NULL;
    v->entry = NULL;
    v->line = 0;
    v->state = 2;
}

struct envvar *envset_put(struct envset *s, const char *name, const char *value,
                          enum envvar_origin origin, const char *file, int line)
{
    struct envvar *v = envset_find(s, name);
    if (v) {
        var_clear(v);
    } else {
        v = XPUSH(&s->items, &s->n, &s->alloc);
        memset(v, 0, sizeof(*v));
        v->name = xstrdup(name);
    }
    v->value = value ? xstrdup(value) : NULL;
    v->origin = origin;
    v->file = file ? xstrdup(file) : NULL;
    v->line = line;
    v->state = 2;
    return v;
}

void envset_remove(struct envset *s, const char *name)
{
    struct envvar *v = envset_find(s, name);
    if (!v)
        return;
    var_clear(v);
    free(v->name);
    size_t i = (size_t)(v - s->items);
    memmove(&s->items[i], &s->items[i + 1], (s->n - i - 1) * sizeof(*v));
    s->n--;
}

struct resolve {
    struct envset *set;
    struct diag_list *diags;
    const char *cycle_at; /* set by lookup when a reference loops back */
};

static void resolve_var(struct resolve *r, struct envvar *v);

static const char *lookup(const char *name, void *ctx)
{
    struct resolve *r = ctx;
    struct envvar *v = envset_find(r->set, name);
    if (!v)
        return NULL;
    if (v->state == 1) {
        r->cycle_at = v->name;
        return NULL;
    }
    if (v->state == 0)
        resolve_var(r, v);
    return v->value;
}

static void resolve_var(struct resolve *r, struct envvar *v)
{
    v->state = 1;
    const char *missing = NULL;
    const char *saved_cycle = r->cycle_at;
    r->cycle_at = NULL;
    char *value = dotenv_expand(v->entry, lookup, r, &missing);
    if (!value) {
        if (r->cycle_at)
            diag_add_at(r->diags, DIAG_ERROR, v->file, v->line, 0,
                        "'%s' refers to ${%s}, which refers back to it (a cycle)", v->name,
                        missing);
        else if (envset_find(r->set, missing))
            diag_add_at(r->diags, DIAG_ERROR, v->file, v->line, 0,
                        "'%s' refers to ${%s}, which could not be resolved", v->name, missing);
        else
            diag_add_at(r->diags, DIAG_ERROR, v->file, v->line, 0,
                        "'%s' refers to ${%s}, which is not set (give a default with "
                        "${%s:-VALUE})",
                        v->name, missing, missing);
    }
    r->cycle_at = saved_cycle;
    free(v->value);
    v->value = value;
    v->entry = NULL;
    v->state = 2;
}

void envset_build(struct envset *out, struct dotenv *const *layers, size_t nlayers,
                  char *const *process, struct diag_list *diags)
{
    memset(out, 0, sizeof(*out));
    /* weakest first, so stronger layers overwrite */
    for (size_t l = nlayers; l-- > 0;) {
        const struct dotenv *d = layers[l];
        for (size_t i = 0; i < d->n; i++) {
            const struct dotenv_entry *e = &d->items[i];
            struct envvar *v = envset_put(out, e->key, NULL, ORIGIN_FILE, d->file, e->line);
            v->entry = e;
            v->state = 0;
        }
    }
    for (size_t i = 0; process && process[i]; i++) {
        const char *eq = strchr(process[i], '=');
        if (!eq || eq == process[i])
            continue;
        char *name = xstrndup(process[i], (size_t)(eq - process[i]));
        envset_put(out, name, eq + 1, ORIGIN_PROCESS, NULL, 0);
        free(name);
    }
    struct resolve r = {out, diags, NULL};
    for (size_t i = 0; i < out->n; i++)
        if (out->items[i].state == 0)
            resolve_var(&r, &out->items[i]);
}

void envset_release(struct envset *s)
{
    for (size_t i = 0; i < s->n; i++) {
        var_clear(&s->items[i]);
        free(s->items[i].name);
    }
    free(s->items);
    memset(s, 0, sizeof(*s));
}

char *envvar_source(const struct envvar *v)
{
    switch (v->origin) {
    case ORIGIN_PROCESS:
        return xstrdup("process");
    case ORIGIN_FILE:
        return xasprintf("%s:%d", v->file, v->line);
    case ORIGIN_DEFAULT:
        return xstrdup("default");
    case ORIGIN_BUILT:
        return xstrdup("otap");
    }
    return xstrdup("?");
}
