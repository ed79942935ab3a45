/*
 * What differs between two environments besides their values
 * (parity.h): the rule behind 'otap env parity'.
 */
#include "config/parity.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "base/xalloc.h"
#include "base/banned.h"

/* The scheme of a URL value as written (RFC 3986: a letter, then letters, digits, + - .), or NULL.
 */
static char *scheme_of(const char *v)
{
    if (!v || !isalpha((unsigned char)v[0]))
        return NULL;
    size_t n = strspn(v, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789+-.");
    return v[n] == ':' ? xstrndup(v, n) : NULL;
}

/* Set in a file (or the process), not supplied by a default or by otap. */
static bool from_files(const struct contract_value *cv)
{
    return cv->value && cv->source && strcmp(cv->source, "default") && strcmp(cv->source, "otap");
}

static void differ(struct parity *p, const char *name, const char *kind, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void differ(struct parity *p, const char *name, const char *kind, const char *fmt, ...)
{
    struct parity_diff *d = XPUSH(&p->items, &p->n, &p->alloc);
    va_list ap;
    va_start(ap, fmt);
    d->message = xvasprintf(fmt, ap);
    va_end(ap);
    d->variable = xstrdup(name);
    d->kind = kind;
}

static void compare_contract(const struct contract_eval *ea, const struct contract_eval *eb,
                             struct parity *p)
{
    const char *a = ea->env->name, *b = eb->env->name;
    for (size_t i = 0; i < ea->nvalues; i++) {
        const struct contract_value *va = &ea->values[i], *vb = &eb->values[i];
        const struct contract_var *v = va->var;
        bool ra = manifest_var_required_in(v, a), rb = manifest_var_required_in(v, b);
        if (ra != rb)
            differ(p, v->name, "required", "'%s' is required in %s but not in %s", v->name,
                   ra ? a : b, ra ? b : a);
        bool fa = from_files(va), fb = from_files(vb);
        if (fa != fb) {
            const struct contract_value *set = fa ? va : vb;
            differ(p, v->name, "presence", "'%s' is set in %s (%s) but not in %s", v->name,
                   fa ? a : b, set->source, fa ? b : a);
            continue;
        }
        if (!fa)
            continue;
        const struct envvar *rawa = envset_find(&ea->set, va->alias ? va->alias : v->name);
        const struct envvar *rawb = envset_find(&eb->set, vb->alias ? vb->alias : v->name);
        bool url = v->type == CT_URL;
        char *sa = url ? scheme_of(rawa ? rawa->value : NULL) : NULL;
        char *sb = url ? scheme_of(rawb ? rawb->value : NULL) : NULL;
        if (sa && sb && strcmp(sa, sb))
            differ(p, v->name, "scheme", "'%s' uses %s:// in %s but %s:// in %s", v->name, sa, a,
                   sb, b);
        free(sa);
        free(sb);
        char *ca = contract_check_value(v, va->value), *cb = contract_check_value(v, vb->value);
        if (!ca != !cb)
            differ(p, v->name, "type", "'%s' is a valid %s in %s but not in %s", v->name,
                   contract_type_name(v->type), ca ? b : a, ca ? a : b);
        free(ca);
        free(cb);
    }
}

static bool is_alias(const struct contract_eval *ev, const char *key)
{
    for (size_t k = 0; k < ev->nvalues; k++)
        for (size_t q = 0; q < ev->values[k].var->naliases; q++)
            if (!strcmp(ev->values[k].var->aliases[q], key))
                return true;
    return false;
}

/* Names the contract does not know, set in one environment's files only. */
static void compare_unknown(const struct contract_eval *x, const struct contract_eval *y,
                            struct parity *p)
{
    for (int l = 0; l < CONTRACT_LAYERS; l++)
        for (size_t i = 0; i < x->layers[l].n; i++) {
            const char *key = x->layers[l].items[i].key;
            if (contract_value_of(x, key) || envset_find(&y->set, key) || is_alias(x, key))
                continue;
            differ(p, key, "presence", "'%s' is set in %s (%s:%d) but not in %s", key, x->env->name,
                   x->layers[l].file, x->layers[l].items[i].line, y->env->name);
        }
}

void parity_compare(const struct contract_eval *a, const struct contract_eval *b,
                    struct parity *out)
{
    memset(out, 0, sizeof(*out));
    compare_contract(a, b, out);
    compare_unknown(a, b, out);
    compare_unknown(b, a, out);
}

void parity_release(struct parity *p)
{
    for (size_t i = 0; i < p->n; i++) {
        free(p->items[i].variable);
        free(p->items[i].message);
    }
    free(p->items);
    memset(p, 0, sizeof(*p));
}
