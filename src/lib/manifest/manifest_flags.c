/*
 * The flags section: owner, expiry, default (off) and the environments a
 * flag is on in.
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

static const char *const flag_keys[] = {"owner",   "expires",           "default",      "on",
                                        "rollout", "description",       "kind",         "variants",
                                        "rules",   "enable_on_promote", "max_fully_on", NULL};
enum {
    FK_OWNER,
    FK_EXPIRES,
    FK_DEFAULT,
    FK_ON,
    FK_ROLLOUT,
    FK_DESCRIPTION,
    FK_KIND,
    FK_VARIANTS,
    FK_RULES,
    FK_ENABLE_ON_PROMOTE,
    FK_MAX_FULLY_ON
};

const char *const manifest_flag_kinds[] = {"release",     "experiment", "operational",
                                           "kill-switch", "permission", NULL};
/* the rule operators, in enum flag_op's order */
const char *const manifest_flag_rule_ops[] = {"equals",     "in",        "starts_with", "ends_with",
                                              "semver_gte", "semver_lt", NULL};

static void value_of(struct mf_ctx *c, struct fy_node *v, struct manifest_pos kp,
                     struct manifest_flag_value *out)
{
    const char *s = mf_scalar(c, v, kp, "variants");
    if (!s)
        return;
    long long n;
    double d;
    bool plain = mf_is_plain(v);
    free(out->text);
    out->text = xstrdup(s);
    out->type = plain && (!strcmp(s, "true") || !strcmp(s, "false")) ? FLAG_VALUE_BOOL
                : plain && (num_parse_ll(s, &n) == 0 || num_parse_double(s, &d) == 0)
                    ? FLAG_VALUE_NUMBER
                    : FLAG_VALUE_STRING;
}

static void variants_field(struct mf_ctx *c, struct manifest_flag *f, struct fy_node *v,
                           struct manifest_pos kp)
{
    if (!v || fy_node_get_type(v) != FYNT_MAPPING) {
        ERR(c, mf_node_pos(v, kp), "flag '%s': 'variants' is { on: VALUE, off: VALUE }", f->name);
        return;
    }
    void *it = NULL;
    struct fy_node_pair *pair;
    bool on = false, off = false;
    while ((pair = fy_node_mapping_iterate(v, &it))) {
        const char *k = mf_scalar(c, fy_node_pair_key(pair), kp, "variants");
        if (k && !strcmp(k, "on")) {
            value_of(c, fy_node_pair_value(pair), kp, &f->on_value);
            on = true;
        } else if (k && !strcmp(k, "off")) {
            value_of(c, fy_node_pair_value(pair), kp, &f->off_value);
            off = true;
        } else {
            ERR(c, mf_node_pos(fy_node_pair_key(pair), kp),
                "flag '%s': a variant is 'on' or 'off' (off is the default), not '%s'", f->name,
                k ? k : "?");
        }
    }
    if (!on || !off)
        ERR(c, mf_node_pos(v, kp), "flag '%s': 'variants' needs both 'on' and 'off'", f->name);
    else if (f->on_value.type != f->off_value.type)
        ERR(c, mf_node_pos(v, kp), "flag '%s': 'on' and 'off' must be of one type", f->name);
}

/* rules: [{ attr: user.email, ends_with: "@databiz.nl", variant: on }] */
static void rules_field(struct mf_ctx *c, struct manifest_flag *f, struct fy_node *v,
                        struct manifest_pos kp)
{
    if (!v || fy_node_get_type(v) != FYNT_SEQUENCE) {
        ERR(c, mf_node_pos(v, kp), "flag '%s': 'rules' is a list", f->name);
        return;
    }
    size_t alloc = 0;
    void *it = NULL;
    struct fy_node *item;
    while ((item = fy_node_sequence_iterate(v, &it))) {
        struct manifest_pos ip = mf_node_pos(item, kp);
        if (fy_node_get_type(item) != FYNT_MAPPING) {
            ERR(c, ip, "flag '%s': a rule is { attr, OPERATOR: VALUE, variant }", f->name);
            continue;
        }
        struct manifest_flag_rule r = {.op = -1};
        void *it2 = NULL;
        struct fy_node_pair *pair;
        while ((pair = fy_node_mapping_iterate(item, &it2))) {
            const char *k = mf_scalar(c, fy_node_pair_key(pair), ip, "rules");
            struct fy_node *val = fy_node_pair_value(pair);
            if (!k)
                continue;
            if (!strcmp(k, "attr")) {
                free(r.attr);
                r.attr = mf_get_str(c, val, ip, "attr");
                continue;
            }
            if (!strcmp(k, "variant")) {
                free(r.variant);
                r.variant = mf_get_str(c, val, ip, "variant");
                continue;
            }
            int op = -1;
            for (int o = 0; manifest_flag_rule_ops[o]; o++)
                if (!strcmp(manifest_flag_rule_ops[o], k))
                    op = o;
            if (op < 0) {
                const char *sug = suggest_closest(k, manifest_flag_rule_ops);
                ERR(c, mf_node_pos(fy_node_pair_key(pair), ip),
                    "flag '%s': unknown rule key '%s'%s%s%s", f->name, k,
                    sug ? " (did you mean '" : "", sug ? sug : "", sug ? "'?)" : "");
                continue;
            }
            r.op = op;
            mf_get_str_list(c, val, ip, k, &r.values, &r.nvalues);
        }
        if (!r.attr || r.op < 0 || !r.nvalues || !r.variant ||
            (strcmp(r.variant, "on") && strcmp(r.variant, "off"))) {
            ERR(c, ip, "flag '%s': a rule needs attr, one operator (%s...) and variant: on or off",
                f->name, manifest_flag_rule_ops[0]);
            free(r.attr);
            free(r.variant);
            xfree_strv(r.values, r.nvalues);
            continue;
        }
        *XPUSH(&f->rules, &f->nrules, &alloc) = r;
    }
}

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
    bool seen[FK_MAX_FULLY_ON + 1];
};

static void flag_field(struct mf_ctx *c, void *obj, int idx, struct fy_node *k, struct fy_node *v,
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
        f->owner = mf_get_str(c, v, kp, "owner");
        break;
    case FK_EXPIRES: {
        const char *s = mf_scalar(c, v, kp, "expires");
        if (!s)
            break;
        if (!valid_date(s)) {
            ERR(c, mf_node_pos(v, kp), "'expires' must be a date YYYY-MM-DD, not '%s'", s);
            break;
        }
        free(f->expires);
        f->expires = xstrdup(s);
        break;
    }
    case FK_DEFAULT:
        if (mf_get_bool(c, v, kp, "default", &f->default_on) && f->default_on)
            ERR(c, mf_node_pos(v, kp),
                "flag '%s' must default off; turn it on per environment with 'on'", f->name);
        break;
    case FK_ON:
        mf_get_str_list(c, v, kp, "on", &f->on, &f->non);
        break;
    case FK_ROLLOUT:
        if (mf_get_int(c, v, kp, "rollout", 0, 100, &num))
            f->rollout = (int)num;
        break;
    case FK_DESCRIPTION:
        free(f->description);
        f->description = mf_get_str(c, v, kp, "description");
        break;
    case FK_KIND: {
        const char *kind = mf_scalar(c, v, kp, "kind");
        bool known = false;
        for (size_t i = 0; kind && manifest_flag_kinds[i]; i++)
            known |= !strcmp(manifest_flag_kinds[i], kind);
        if (kind && !known)
            ERR(c, mf_node_pos(v, kp),
                "flag '%s': 'kind' is release, experiment, operational, kill-switch or "
                "permission, not '%s'",
                f->name, kind);
        else if (kind) {
            free(f->kind);
            f->kind = xstrdup(kind);
        }
        break;
    }
    case FK_VARIANTS:
        variants_field(c, f, v, kp);
        break;
    case FK_RULES:
        rules_field(c, f, v, kp);
        break;
    case FK_ENABLE_ON_PROMOTE:
        mf_get_str_list(c, v, kp, "enable_on_promote", &f->enable_on_promote,
                        &f->nenable_on_promote);
        break;
    case FK_MAX_FULLY_ON:
        mf_get_long_duration(c, v, kp, "max_fully_on", &f->max_fully_on_s);
        break;
    }
}

void mf_flag_entry(struct mf_ctx *c, const char *name, struct fy_node *val, struct manifest_pos kp)
{
    struct manifest *m = c->m;
    if (!mf_valid_name(name, false)) {
        ERR(c, kp, "flag name '%s' may hold only a-z, 0-9, '-', '_' and '.'", name);
        return;
    }
    struct manifest_flag f = {0};
    f.name = xstrdup(name);
    f.pos = kp;
    f.rollout = -1;
    f.max_fully_on_s = -1;
    f.on_value = (struct manifest_flag_value){FLAG_VALUE_BOOL, xstrdup("true")};
    f.off_value = (struct manifest_flag_value){FLAG_VALUE_BOOL, xstrdup("false")};
    struct flag_walk w = {.f = &f};
    if (mf_walk_map(c, val, kp, "a flag", flag_keys, flag_field, &w)) {
        if (!w.seen[FK_OWNER])
            ERR(c, kp, "flag '%s' needs an 'owner'", name);
        if (!w.seen[FK_EXPIRES])
            ERR(c, kp, "flag '%s' needs an 'expires' date (flags are removed within 30 days)",
                name);
    }
    *XPUSH(&m->flags, &m->nflags, &c->flags_alloc) = f;
}

void mf_check_flags(struct mf_ctx *c)
{
    struct manifest *m = c->m;
    for (size_t i = 0; i < m->nflags; i++)
        for (size_t e = 0; e < m->flags[i].non; e++)
            if (!manifest_env_find(m, m->flags[i].on[e]))
                ERR(c, m->flags[i].pos, "flag '%s' is on in unknown environment '%s'",
                    m->flags[i].name, m->flags[i].on[e]);
    for (size_t i = 0; i < m->nflags; i++)
        for (size_t e = 0; e < m->flags[i].nenable_on_promote; e++)
            if (!manifest_env_find(m, m->flags[i].enable_on_promote[e]))
                ERR(c, m->flags[i].pos,
                    "flag '%s': enable_on_promote names unknown environment '%s'", m->flags[i].name,
                    m->flags[i].enable_on_promote[e]);
}
