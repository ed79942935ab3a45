/*
 * The walker under every section of the manifest loader: positions,
 * typed scalars with their errors, and the two kinds of mapping (fixed
 * keys with a "did you mean", and names the user chooses).
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

/* ---- positions and scalars ------------------------------------------- */

struct manifest_pos mf_node_pos(struct fy_node *n, struct manifest_pos fallback)
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
            return mf_node_pos(fy_node_pair_key(pair), fallback);
    } else {
        void *it = NULL;
        struct fy_node *first = fy_node_sequence_iterate(n, &it);
        if (first)
            return mf_node_pos(first, fallback);
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

const char *mf_type_word(struct fy_node *n)
{
    switch (fy_node_get_type(n)) {
    case FYNT_MAPPING:
        return "a mapping";
    case FYNT_SEQUENCE:
        return "a list";
    default:
        return "a mf_scalar";
    }
}

/*
 * The mf_scalar's text, NUL-terminated and owned by the document, or NULL
 * (with an error) when the node is not a mf_scalar or holds a NUL byte.
 */
const char *mf_scalar(struct mf_ctx *c, struct fy_node *n, struct manifest_pos p, const char *field)
{
    if (!n || fy_node_get_type(n) != FYNT_SCALAR) {
        ERR(c, mf_node_pos(n, p), "'%s' must be a single value, not %s", field,
            n ? mf_type_word(n) : "empty");
        return NULL;
    }
    size_t len = 0;
    const char *s = fy_node_get_scalar0(n);
    if (!s || (fy_node_get_scalar(n, &len), strlen(s) != len)) {
        ERR(c, mf_node_pos(n, p), "'%s' contains a NUL byte", field);
        return NULL;
    }
    return s;
}

bool mf_is_plain(struct fy_node *n)
{
    return fy_node_get_style(n) == FYNS_PLAIN;
}

bool mf_is_null(struct fy_node *n)
{
    if (!n)
        return true;
    if (fy_node_get_type(n) != FYNT_SCALAR || !mf_is_plain(n))
        return false;
    const char *s = fy_node_get_scalar0(n);
    return s && (!*s || !strcmp(s, "~") || !strcmp(s, "null"));
}

char *mf_get_str(struct mf_ctx *c, struct fy_node *n, struct manifest_pos p, const char *field)
{
    if (mf_is_null(n)) {
        ERR(c, mf_node_pos(n, p), "'%s' must not be empty", field);
        return NULL;
    }
    const char *s = mf_scalar(c, n, p, field);
    if (!s)
        return NULL;
    if (!*s) {
        ERR(c, mf_node_pos(n, p), "'%s' must not be empty", field);
        return NULL;
    }
    return xstrdup(s);
}

bool mf_get_bool(struct mf_ctx *c, struct fy_node *n, struct manifest_pos p, const char *field,
                 bool *out)
{
    const char *s = mf_scalar(c, n, p, field);
    if (!s)
        return false;
    if (mf_is_plain(n) && !strcmp(s, "true")) {
        *out = true;
        return true;
    }
    if (mf_is_plain(n) && !strcmp(s, "false")) {
        *out = false;
        return true;
    }
    ERR(c, mf_node_pos(n, p), "'%s' must be true or false, not '%s'", field, s);
    return false;
}

bool mf_get_int(struct mf_ctx *c, struct fy_node *n, struct manifest_pos p, const char *field,
                long long lo, long long hi, long long *out)
{
    const char *s = mf_scalar(c, n, p, field);
    if (!s)
        return false;
    long long v;
    if (!mf_is_plain(n) || num_parse_ll(s, &v) < 0) {
        ERR(c, mf_node_pos(n, p), "'%s' must be a whole number, not '%s'", field, s);
        return false;
    }
    if (v < lo || v > hi) {
        ERR(c, mf_node_pos(n, p), "'%s' must be between %lld and %lld, not %lld", field, lo, hi, v);
        return false;
    }
    *out = v;
    return true;
}

bool mf_get_double(struct mf_ctx *c, struct fy_node *n, struct manifest_pos p, const char *field,
                   double lo, double hi, double *out)
{
    const char *s = mf_scalar(c, n, p, field);
    if (!s)
        return false;
    double v;
    if (!mf_is_plain(n) || num_parse_double(s, &v) < 0) {
        ERR(c, mf_node_pos(n, p), "'%s' must be a number, not '%s'", field, s);
        return false;
    }
    if (v < lo || v > hi) {
        ERR(c, mf_node_pos(n, p), "'%s' must be between %g and %g, not %g", field, lo, hi, v);
        return false;
    }
    *out = v;
    return true;
}

/* "300s", "5m", "1h", "90" (seconds). */
static bool duration_upto(struct mf_ctx *c, struct fy_node *n, struct manifest_pos p,
                          const char *field, long long max, const char *example, long *out)
{
    const char *s = mf_scalar(c, n, p, field);
    if (!s)
        return false;
    long long secs;
    if (num_parse_duration(s, &secs) < 0 || secs <= 0 || secs > max) {
        ERR(c, mf_node_pos(n, p), "'%s' must be a duration such as %s, not '%s'", field, example,
            s);
        return false;
    }
    *out = (long)secs;
    return true;
}

bool mf_get_duration(struct mf_ctx *c, struct fy_node *n, struct manifest_pos p, const char *field,
                     long *out)
{
    return duration_upto(c, n, p, field, 7 * 24 * 3600, "30s, 5m or 1h", out);
}

bool mf_get_long_duration(struct mf_ctx *c, struct fy_node *n, struct manifest_pos p,
                          const char *field, long *out)
{
    return duration_upto(c, n, p, field, 366LL * 24 * 3600, "14d or 90d (at most 366d)", out);
}

/* A list of strings; a single mf_scalar counts as a list of one. */
bool mf_get_str_list(struct mf_ctx *c, struct fy_node *n, struct manifest_pos p, const char *field,
                     char ***out, size_t *nout)
{
    char **v = NULL;
    size_t nv = 0, alloc = 0;
    bool ok = true;
    if (mf_is_null(n)) {
        *out = NULL;
        *nout = 0;
        return true;
    }
    if (fy_node_get_type(n) == FYNT_SCALAR) {
        char *s = mf_get_str(c, n, p, field);
        if (!s)
            return false;
        *XPUSH(&v, &nv, &alloc) = s;
    } else if (fy_node_get_type(n) == FYNT_SEQUENCE) {
        void *it = NULL;
        struct fy_node *item;
        while ((item = fy_node_sequence_iterate(n, &it))) {
            char *s = mf_get_str(c, item, mf_node_pos(n, p), field);
            if (!s) {
                ok = false;
                continue;
            }
            for (size_t i = 0; i < nv; i++) {
                if (!strcmp(v[i], s)) {
                    WARN(c, mf_node_pos(item, p), "'%s' lists '%s' twice", field, s);
                    break;
                }
            }
            *XPUSH(&v, &nv, &alloc) = s;
        }
    } else {
        ERR(c, mf_node_pos(n, p), "'%s' must be a list, not %s", field, mf_type_word(n));
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

bool mf_valid_name(const char *s, bool upper)
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

bool mf_walk_map(struct mf_ctx *c, struct fy_node *n, struct manifest_pos p, const char *what,
                 const char *const *allowed, mf_field_fn fn, void *obj)
{
    if (!n || fy_node_get_type(n) != FYNT_MAPPING) {
        ERR(c, mf_node_pos(n, p), "%s must be a mapping, not %s", what,
            mf_is_null(n) ? "empty" : mf_type_word(n));
        return false;
    }
    void *it = NULL;
    struct fy_node_pair *pair;
    while ((pair = fy_node_mapping_iterate(n, &it))) {
        struct fy_node *k = fy_node_pair_key(pair);
        struct fy_node *v = fy_node_pair_value(pair);
        struct manifest_pos kp = mf_node_pos(k, p);
        const char *key = mf_scalar(c, k, p, "key");
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

void mf_walk_named(struct mf_ctx *c, struct fy_node *n, struct manifest_pos p, const char *what,
                   mf_entry_fn fn)
{
    if (mf_is_null(n))
        return;
    if (fy_node_get_type(n) != FYNT_MAPPING) {
        ERR(c, mf_node_pos(n, p), "'%s' must be a mapping of names, not %s", what, mf_type_word(n));
        return;
    }
    void *it = NULL;
    struct fy_node_pair *pair;
    while ((pair = fy_node_mapping_iterate(n, &it))) {
        struct fy_node *k = fy_node_pair_key(pair);
        const char *name = mf_scalar(c, k, p, "key");
        if (name)
            fn(c, name, fy_node_pair_value(pair), mf_node_pos(k, p));
    }
}
