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
}
