/*
 * The flag evaluator (flag.h).
 */
#include "flags/flag.h"

#include <stdlib.h>
#include <string.h>

#include "base/murmur3.h"
#include "base/semver.h"
#include "base/strbuf.h"
#include "base/xalloc.h"
#include "base/banned.h"

/* A context attribute by its dotted path; NULL when absent. */
static json_t *attr_of(json_t *ctx, const char *path)
{
    json_t *cur = ctx;
    const char *p = path;
    while (cur && *p) {
        size_t n = strcspn(p, ".");
        char *part = xstrndup(p, n);
        cur = json_is_object(cur) ? json_object_get(cur, part) : NULL;
        free(part);
        p += n + (p[n] == '.');
    }
    return cur;
}

/* The attribute as text for comparison: strings as they are, numbers and booleans printed. */
static char *attr_text(json_t *v)
{
    if (json_is_string(v))
        return xstrdup(json_string_value(v));
    if (json_is_integer(v))
        return xasprintf("%lld", (long long)json_integer_value(v));
    if (json_is_real(v))
        return xasprintf("%g", json_real_value(v));
    if (json_is_boolean(v))
        return xstrdup(json_is_true(v) ? "true" : "false");
    return NULL;
}

static bool rule_matches(const struct flag_rule *r, json_t *ctx)
{
    char *have = attr_text(attr_of(ctx, r->attr));
    if (!have)
        return false;
    bool ok = false;
    const char *want = json_string_value(r->value);
    size_t hl = strlen(have), wl = want ? strlen(want) : 0;
    switch (r->op) {
    case FLAG_OP_EQ:
        ok = want && !strcmp(have, want);
        break;
    case FLAG_OP_IN: {
        size_t i;
        json_t *v;
        json_array_foreach(r->value, i, v) ok |=
            json_is_string(v) && !strcmp(have, json_string_value(v));
        break;
    }
    case FLAG_OP_STARTS:
        ok = want && hl >= wl && !strncmp(have, want, wl);
        break;
    case FLAG_OP_ENDS:
        ok = want && hl >= wl && !strcmp(have + hl - wl, want);
        break;
    case FLAG_OP_SEMVER_GE:
    case FLAG_OP_SEMVER_LT:
        if (want && semver_valid(have) && semver_valid(want)) {
            int c = semver_cmp(have, want);
            ok = r->op == FLAG_OP_SEMVER_GE ? c >= 0 : c < 0;
        }
        break;
    }
    free(have);
    return ok;
}

int flag_bucket(const char *key, size_t len, const long long *weights, size_t n)
{
    uint64_t total = 0;
    for (size_t i = 0; i < n; i++)
        total += weights[i] > 0 ? (uint64_t)weights[i] : 0;
    if (!total)
        return -1;
    uint64_t bucket = ((uint64_t)murmur3_32(key, len, 0) * total) >> 32;
    uint64_t cum = 0;
    for (size_t i = 0; i < n; i++) {
        cum += weights[i] > 0 ? (uint64_t)weights[i] : 0;
        if (bucket < cum)
            return (int)i;
    }
    return (int)n - 1;
}

bool flag_unleash_rollout(const char *group, const char *id, int percent)
{
    char *key = xasprintf("%s:%s", group, id);
    uint32_t h = murmur3_32(key, strlen(key), 0);
    free(key);
    return (int)(h % 100 + 1) <= percent;
}

static json_t *variant_value(const struct flag_def *f, const char *name)
{
    for (size_t i = 0; i < f->nvariants; i++)
        if (!strcmp(f->variant_names[i], name))
            return f->variant_values[i];
    return NULL;
}

static void answer(const struct flag_def *f, const char *variant, const char *reason,
                   struct flag_result *out)
{
    out->variant = variant;
    out->value = variant_value(f, variant);
    out->reason = reason;
    out->error_code = out->value ? NULL : "GENERAL";
    if (!out->value)
        out->reason = "ERROR";
}

void flag_eval(const struct flag_def *f, json_t *ctx, struct flag_result *out)
{
    memset(out, 0, sizeof(*out));
    if (!f->enabled) {
        answer(f, f->default_variant, "DISABLED", out);
        return;
    }
    for (size_t i = 0; i < f->nrules; i++)
        if (rule_matches(&f->rules[i], ctx)) {
            answer(f, f->rules[i].variant, "TARGETING_MATCH", out);
            return;
        }
    if (f->split.n) {
        struct strbuf key = STRBUF_INIT;
        bool missing = false;
        if (!f->split.nby) {
            json_t *tk = json_object_get(ctx, "targetingKey");
            if (!json_is_string(tk)) {
                out->reason = "ERROR";
                out->error_code = "TARGETING_KEY_MISSING";
                strbuf_release(&key);
                return;
            }
            strbuf_addstr(&key, f->key);
            strbuf_addstr(&key, json_string_value(tk));
        }
        for (size_t i = 0; i < f->split.nby && !missing; i++) {
            const struct flag_part *p = &f->split.by[i];
            if (p->kind == FLAG_PART_LITERAL) {
                strbuf_addstr(&key, p->text);
            } else if (p->kind == FLAG_PART_FLAG_KEY) {
                strbuf_addstr(&key, f->key);
            } else {
                char *t = attr_text(attr_of(ctx, p->text));
                missing = !t;
                if (t)
                    strbuf_addstr(&key, t);
                free(t);
            }
        }
        int b = missing ? -1 : flag_bucket(key.buf, key.len, f->split.weights, f->split.n);
        strbuf_release(&key);
        if (b >= 0) {
            answer(f, f->split.variants[b], "SPLIT", out);
            return;
        }
        answer(f, f->default_variant, "DEFAULT", out);
        return;
    }
    answer(f, f->default_variant, f->nrules ? "DEFAULT" : "STATIC", out);
}

void flag_def_release(struct flag_def *f)
{
    free(f->key);
    for (size_t i = 0; i < f->nvariants; i++) {
        free(f->variant_names[i]);
        json_decref(f->variant_values[i]);
    }
    free(f->variant_names);
    free(f->variant_values);
    free(f->default_variant);
    for (size_t i = 0; i < f->nrules; i++) {
        free(f->rules[i].attr);
        json_decref(f->rules[i].value);
        free(f->rules[i].variant);
    }
    free(f->rules);
    for (size_t i = 0; i < f->split.n; i++)
        free(f->split.variants[i]);
    free(f->split.variants);
    free(f->split.weights);
    for (size_t i = 0; i < f->split.nby; i++)
        free(f->split.by[i].text);
    free(f->split.by);
    memset(f, 0, sizeof(*f));
}
