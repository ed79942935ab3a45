/*
 * The secrets section: custom rules (each regex compiled as it loads, so
 * a bad one is reported at its line), disabled rules, allowlists, the
 * baseline and the largest file scanned.
 */
#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
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
#include "secrets/secrets_rules.h"
#include "base/num.h"
#include "base/strbuf.h"
#include "base/suggest.h"
#include "base/utf8.h"
#include "base/xalloc.h"
#include "base/banned.h"

/* ---- secrets ----------------------------------------------------------- */

/*
 * Regexes are compiled here, once, so that a bad one is reported at its
 * line like any other manifest error; the scanner compiles them again.
 */
bool mf_check_regex(struct mf_ctx *c, const char *re, struct manifest_pos p, const char *field,
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

static void secret_rule_field(struct mf_ctx *c, void *obj, int idx, struct fy_node *k,
                              struct fy_node *v, struct manifest_pos kp)
{
    struct manifest_secret_rule *r = obj;
    (void)k;
    switch (idx) {
    case 0:
        free(r->id);
        r->id = mf_get_str(c, v, kp, "id");
        if (r->id && !mf_valid_name(r->id, false))
            ERR(c, mf_node_pos(v, kp), "rule id '%s' may hold only a-z, 0-9, '-', '_' and '.'",
                r->id);
        r->pos = mf_node_pos(v, kp);
        break;
    case 1:
        free(r->description);
        r->description = mf_get_str(c, v, kp, "description");
        break;
    case 2:
        free(r->pattern);
        r->pattern = mf_get_str(c, v, kp, "pattern");
        r->pattern_pos = mf_node_pos(v, kp);
        break;
    case 3:
        xfree_strv(r->keywords, r->nkeywords);
        r->keywords = NULL;
        r->nkeywords = 0;
        mf_get_str_list(c, v, kp, "keywords", &r->keywords, &r->nkeywords);
        break;
    case 4:
        mf_get_double(c, v, kp, "entropy", 0, 8, &r->entropy);
        break;
    default: {
        long long g;
        if (mf_get_int(c, v, kp, "secret_group", 0, 99, &g))
            r->group = (int)g;
    }
    }
}

void mf_secret_rule_release(struct manifest_secret_rule *r)
{
    free(r->id);
    free(r->description);
    free(r->pattern);
    xfree_strv(r->keywords, r->nkeywords);
}

static void load_secret_rules(struct mf_ctx *c, struct manifest_secrets *s, struct fy_node *n,
                              struct manifest_pos p)
{
    if (mf_is_null(n))
        return;
    if (fy_node_get_type(n) != FYNT_SEQUENCE) {
        ERR(c, mf_node_pos(n, p), "'secrets.rules' must be a list of rules, not %s",
            mf_type_word(n));
        return;
    }
    size_t alloc = 0;
    void *it = NULL;
    struct fy_node *item;
    while ((item = fy_node_sequence_iterate(n, &it))) {
        struct manifest_pos ip = mf_node_pos(item, p);
        struct manifest_secret_rule r = {.group = -1, .pos = ip, .pattern_pos = ip};
        if (!mf_walk_map(c, item, ip, "a secret rule", secret_rule_keys, secret_rule_field, &r))
            continue;
        bool ok = true;
        if (!r.id || !r.pattern) {
            ERR(c, ip, "a secret rule needs an 'id' and a 'pattern'");
            ok = false;
        }
        uint32_t captures = 0;
        if (r.pattern && !mf_check_regex(c, r.pattern, r.pattern_pos, "pattern", &captures))
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
            mf_secret_rule_release(&r);
            continue;
        }
        *XPUSH(&s->rules, &s->nrules, &alloc) = r;
    }
}

static void load_regex_list(struct mf_ctx *c, struct fy_node *n, struct manifest_pos p,
                            const char *field, struct manifest_regex **out, size_t *nout)
{
    char **v = NULL;
    size_t nv = 0;
    if (!mf_get_str_list(c, n, p, field, &v, &nv))
        return;
    size_t alloc = 0;
    void *it = NULL;
    for (size_t i = 0; i < nv; i++) {
        struct fy_node *item =
            fy_node_get_type(n) == FYNT_SEQUENCE ? fy_node_sequence_iterate(n, &it) : n;
        struct manifest_pos ip = mf_node_pos(item, p);
        if (!mf_check_regex(c, v[i], ip, field, NULL)) {
            free(v[i]);
            continue;
        }
        *XPUSH(out, nout, &alloc) = (struct manifest_regex){v[i], ip};
    }
    free(v);
}

static const char *const allowlist_keys[] = {"paths", "patterns", "stopwords", NULL};

static void allowlist_field(struct mf_ctx *c, void *obj, int idx, struct fy_node *k,
                            struct fy_node *v, struct manifest_pos kp)
{
    struct manifest_secrets *s = obj;
    (void)k;
    if (idx == 0)
        load_regex_list(c, v, kp, "paths", &s->allow_paths, &s->nallow_paths);
    else if (idx == 1)
        load_regex_list(c, v, kp, "patterns", &s->allow_patterns, &s->nallow_patterns);
    else
        mf_get_str_list(c, v, kp, "stopwords", &s->stopwords, &s->nstopwords);
}

const char *const mf_secrets_keys[] = {"rules",    "disable",       "allowlist",
                                       "baseline", "max_file_size", NULL};

void mf_secrets_field(struct mf_ctx *c, void *obj, int idx, struct fy_node *k, struct fy_node *v,
                      struct manifest_pos kp)
{
    struct manifest_secrets *s = obj;
    (void)k;
    switch (idx) {
    case 0:
        load_secret_rules(c, s, v, kp);
        break;
    case 1:
        if (!mf_get_str_list(c, v, kp, "disable", &s->disable, &s->ndisable))
            break;
        for (size_t i = 0; i < s->ndisable; i++) {
            bool known = false;
            for (size_t r = 0; r < secret_builtin_nrules && !known; r++)
                known = !strcmp(secret_builtin_rules[r].id, s->disable[i]);
            if (!known)
                ERR(c, mf_node_pos(v, kp),
                    "'disable' names '%s', which is not a built-in rule "
                    "('otap secrets rules' lists them)",
                    s->disable[i]);
        }
        break;
    case 2:
        if (!mf_is_null(v))
            mf_walk_map(c, v, kp, "'secrets.allowlist'", allowlist_keys, allowlist_field, s);
        break;
    case 3:
        free(s->baseline);
        s->baseline = mf_get_str(c, v, kp, "baseline");
        break;
    default:
        mf_get_int(c, v, kp, "max_file_size", 1, (long long)1 << 40, &s->max_file_size);
    }
}
