/*
 * The config section: the config contract's variables, their types,
 * aliases, defaults, groups and the environments that require them.
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

/* ---- config contract -------------------------------------------------- */

static const char *const type_names[] = {"string", "int",      "bool", "enum",   "url",
                                         "csv",    "duration", "port", "secret", NULL};

const char *contract_type_name(enum contract_type t)
{
    return (size_t)t < sizeof(type_names) / sizeof(type_names[0]) - 1 ? type_names[t] : "?";
}

static const char *const var_keys[] = {
    "type",    "required",   "default", "aliases",         "description",
    "example", "values",     "schemes", "items",           "min",
    "max",     "min_length", "one_of",  "placeholders_in", NULL};
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
    VK_PLACEHOLDERS_IN,
};

struct var_walk {
    struct contract_var *v;
    struct manifest_pos key_pos[VK_PLACEHOLDERS_IN + 1];
    bool seen[VK_PLACEHOLDERS_IN + 1];
    struct manifest_pos required_pos;
};

static bool get_type(struct mf_ctx *c, struct fy_node *n, struct manifest_pos p, const char *field,
                     enum contract_type *out)
{
    const char *s = mf_scalar(c, n, p, field);
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
        ERR(c, mf_node_pos(n, p), "unknown type '%s' (did you mean '%s'?)", s, sug);
    else
        ERR(c, mf_node_pos(n, p),
            "unknown type '%s'; known types: string, int, bool, enum, url, "
            "csv, duration, port, secret",
            s);
    return false;
}

static void var_field(struct mf_ctx *c, void *obj, int idx, struct fy_node *k, struct fy_node *v,
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
        w->required_pos = mf_node_pos(v, kp);
        if (fy_node_get_type(v) == FYNT_SCALAR && mf_is_plain(v))
            mf_get_bool(c, v, kp, "required", &cv->required_always);
        else
            mf_get_str_list(c, v, kp, "required", &cv->required_envs, &cv->nrequired_envs);
        break;
    case VK_DEFAULT: {
        const char *s = mf_scalar(c, v, kp, "default");
        if (s) {
            free(cv->default_value);
            cv->default_value = xstrdup(s);
        }
        break;
    }
    case VK_ALIASES:
        mf_get_str_list(c, v, kp, "aliases", &cv->aliases, &cv->naliases);
        for (size_t i = 0; i < cv->naliases; i++)
            if (!mf_valid_name(cv->aliases[i], true))
                ERR(c, mf_node_pos(v, kp), "alias '%s' is not a valid variable name (A-Z, 0-9, _)",
                    cv->aliases[i]);
        break;
    case VK_DESCRIPTION:
        free(cv->description);
        cv->description = mf_get_str(c, v, kp, "description");
        break;
    case VK_EXAMPLE:
        free(cv->example);
        cv->example = mf_get_str(c, v, kp, "example");
        break;
    case VK_VALUES:
        mf_get_str_list(c, v, kp, "values", &cv->values, &cv->nvalues);
        break;
    case VK_SCHEMES:
        mf_get_str_list(c, v, kp, "schemes", &cv->schemes, &cv->nschemes);
        break;
    case VK_ITEMS:
        get_type(c, v, kp, "items", &cv->item_type);
        break;
    case VK_MIN:
        if (mf_get_int(c, v, kp, "min", LLONG_MIN, LLONG_MAX, &num)) {
            cv->has_min = true;
            cv->min = num;
        }
        break;
    case VK_MAX:
        if (mf_get_int(c, v, kp, "max", LLONG_MIN, LLONG_MAX, &num)) {
            cv->has_max = true;
            cv->max = num;
        }
        break;
    case VK_MIN_LENGTH:
        if (mf_get_int(c, v, kp, "min_length", 0, 65536, &num))
            cv->min_length = (long)num;
        break;
    case VK_ONE_OF:
        free(cv->one_of);
        cv->one_of = mf_get_str(c, v, kp, "one_of");
        break;
    case VK_PLACEHOLDERS_IN:
        mf_get_str_list(c, v, kp, "placeholders_in", &cv->placeholder_envs, &cv->nplaceholder_envs);
        break;
    }
}

/* Keys that only make sense for some types. */
static void check_var_keys(struct mf_ctx *c, struct var_walk *w)
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
        {VK_PLACEHOLDERS_IN, "placeholders_in", 1u << CT_SECRET},
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

void mf_var_entry(struct mf_ctx *c, const char *name, struct fy_node *val, struct manifest_pos kp)
{
    struct manifest *m = c->m;
    if (!mf_valid_name(name, true)) {
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
    if (!mf_is_null(val) && mf_walk_map(c, val, kp, "a config variable", var_keys, var_field, &w))
        check_var_keys(c, &w);
    *XPUSH(&m->config, &m->nconfig, &c->config_alloc) = v;
}

void mf_check_config(struct mf_ctx *c)
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
        /* a template's placeholder may stand in a local stage, never in a protected one */
        for (size_t r = 0; r < v->nplaceholder_envs; r++) {
            const struct manifest_env *e = manifest_env_find(m, v->placeholder_envs[r]);
            if (!e)
                ERR(c, v->pos, "'%s' allows placeholders in unknown environment '%s'", v->name,
                    v->placeholder_envs[r]);
            else if (e->protected || e->stage == STAGE_A || e->stage == STAGE_P)
                ERR(c, v->pos,
                    "'%s' cannot allow placeholders in %s: acceptance and production need a "
                    "real secret",
                    v->name, e->name);
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
