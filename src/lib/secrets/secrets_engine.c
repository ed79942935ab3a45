/*
 * The secret scanner's engine (see secrets_engine.h).
 */
#include "secrets/secrets_engine.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <hs/hs.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include "base/monotime.h"
#include "base/entropy.h"
#include "base/placeholder.h"
#include "base/fileio.h"
#include "base/utf8.h"
#include "secrets/secrets_rules.h"
#include "base/sha256.h"
#include "base/strbuf.h"
#include "base/xalloc.h"
#include "base/banned.h"

/* How far a confirmation window reaches around a hit. */
#define WINDOW_BACK 1024
#define WINDOW_FORWARD 1024
#define WINDOW_MULTILINE (64 * 1024)
/* An excerpt longer than this is cut around the secret. */
#define EXCERPT_MAX 200

/* ---- small helpers ------------------------------------------------------ */

double secrets_entropy(const char *s, size_t len)
{
    return entropy_per_byte(s, len);
}

static bool ci_contains(const char *hay, size_t hlen, const char *needle)
{
    size_t nlen = strlen(needle);
    if (!nlen)
        return true;
    if (nlen > hlen)
        return false;
    unsigned char first = (unsigned char)tolower((unsigned char)needle[0]);
    for (size_t i = 0; i + nlen <= hlen; i++) {
        if (tolower((unsigned char)hay[i]) != first)
            continue;
        size_t k = 1;
        while (k < nlen && tolower((unsigned char)hay[i + k]) == (unsigned char)needle[k])
            k++;
        if (k == nlen)
            return true;
    }
    return false;
}

char *secrets_printable(const char *s, size_t len)
{
    struct strbuf sb = STRBUF_INIT;
    const unsigned char *u = (const unsigned char *)s;
    for (size_t i = 0; i < len;) {
        size_t n = utf8_seq_len(s + i, len - i);
        if (!n) {
            strbuf_addch(&sb, '?');
            i++;
        } else if (n == 1 && (u[i] < 0x20 || u[i] == 0x7f)) {
            strbuf_addch(&sb, u[i] == '\t' ? ' ' : '?');
            i++;
        } else {
            strbuf_add(&sb, s + i, n);
            i += n;
        }
    }
    return strbuf_detach(&sb, NULL);
}

/* ---- building ----------------------------------------------------------- */

static void rule_release(struct secrets_rule *r)
{
    free(r->id);
    free(r->description);
    free(r->pattern);
    free(r->confirm);
    xfree_strv(r->keywords, r->nkeywords);
    pcre2_code_free(r->re);
}

static char **split_keywords(const char *csv, size_t *n)
{
    char **v = NULL;
    size_t alloc = 0;
    *n = 0;
    if (!csv)
        return NULL;
    for (const char *p = csv; *p;) {
        const char *comma = strchr(p, ',');
        size_t len = comma ? (size_t)(comma - p) : strlen(p);
        if (len)
            *XPUSH(&v, n, &alloc) = xstrndup(p, len);
        p += len + (comma != NULL);
    }
    return v;
}

static pcre2_code *compile_re(const char *pattern, char **why)
{
    int code;
    PCRE2_SIZE off;
    pcre2_code *re = pcre2_compile((PCRE2_SPTR)pattern, PCRE2_ZERO_TERMINATED, PCRE2_MULTILINE,
                                   &code, &off, NULL);
    if (!re) {
        PCRE2_UCHAR msg[160];
        pcre2_get_error_message(code, msg, sizeof msg);
        *why = xasprintf("%s at offset %zu", (const char *)msg, (size_t)off);
        return NULL;
    }
    /* JIT is an accelerator: without it (no executable memory) PCRE2 interprets */
    pcre2_jit_compile(re, PCRE2_JIT_COMPLETE);
    return re;
}

static bool disabled(const struct manifest_secrets *cfg, const char *id)
{
    for (size_t i = 0; cfg && i < cfg->ndisable; i++)
        if (!strcmp(cfg->disable[i], id))
            return true;
    return false;
}

static void add_rules(struct secrets_engine *e, const struct manifest_secrets *cfg, bool builtins)
{
    size_t alloc = 0;
    for (size_t i = 0; builtins && i < secret_builtin_nrules; i++) {
        const struct secret_rule_def *d = &secret_builtin_rules[i];
        if (disabled(cfg, d->id))
            continue;
        struct secrets_rule r = {
            .id = xstrdup(d->id),
            .description = xstrdup(d->description),
            .pattern = xstrdup(d->pattern),
            .confirm = d->confirm ? xstrdup(d->confirm) : NULL,
            .entropy = d->entropy,
            .group = d->group,
            .flags = d->flags,
            .known = d->known,
        };
        r.keywords = split_keywords(d->keywords, &r.nkeywords);
        *XPUSH(&e->rules, &e->nrules, &alloc) = r;
    }
    for (size_t i = 0; cfg && i < cfg->nrules; i++) {
        const struct manifest_secret_rule *c = &cfg->rules[i];
        struct secrets_rule r = {
            .id = xstrdup(c->id),
            .description = xstrdup(c->description ? c->description : c->id),
            .pattern = xstrdup(c->pattern),
            .entropy = c->entropy,
            .group = c->group,
            .custom = true,
        };
        r.keywords = xcalloc(c->nkeywords + 1, sizeof(char *));
        for (size_t k = 0; k < c->nkeywords; k++)
            r.keywords[k] = xstrdup(c->keywords[k]);
        r.nkeywords = c->nkeywords;
        /* a custom rule with a built-in's id replaces it */
        size_t slot = e->nrules;
        for (size_t k = 0; k < e->nrules; k++)
            if (!strcmp(e->rules[k].id, r.id))
                slot = k;
        if (slot < e->nrules) {
            rule_release(&e->rules[slot]);
            e->rules[slot] = r;
        } else {
            *XPUSH(&e->rules, &e->nrules, &alloc) = r;
        }
    }
}

static char *cache_dir(void)
{
    const char *d = getenv("OTAP_CACHE_DIR");
    if (d && !strcmp(d, "none"))
        return NULL;
    if (d && *d)
        return xstrdup(d);
    d = getenv("XDG_CACHE_HOME");
    if (d && *d == '/')
        return xasprintf("%s/otap", d);
    d = getenv("HOME");
    if (d && *d == '/')
        return xasprintf("%s/.cache/otap", d);
    return NULL;
}

static char *cache_path(const struct secrets_engine *e, const unsigned *flags)
{
    char *dir = cache_dir();
    if (!dir)
        return NULL;
    struct sha256 h;
    sha256_init(&h);
    const char *tag = "otap-secrets-hsdb/1";
    sha256_update(&h, tag, strlen(tag) + 1);
    const char *ver = hs_version();
    sha256_update(&h, ver, strlen(ver) + 1);
    for (size_t i = 0; i < e->nrules; i++) {
        sha256_update(&h, e->rules[i].pattern, strlen(e->rules[i].pattern) + 1);
        sha256_update(&h, &flags[i], sizeof flags[i]);
    }
    char hex[SHA256_HEX_LEN + 1];
    sha256_final_hex(&h, hex);
    hex[32] = '\0';
    char *p = xasprintf("%s/secrets-%s.hsdb", dir, hex);
    free(dir);
    return p;
}

static hs_database_t *cache_load(const char *path)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return NULL;
    struct stat st;
    hs_database_t *db = NULL;
    if (fstat(fd, &st) == 0 && st.st_size > 0 && st.st_size < (64 << 20)) {
        char *buf = xmalloc((size_t)st.st_size);
        if (read(fd, buf, (size_t)st.st_size) == st.st_size &&
            hs_deserialize_database(buf, (size_t)st.st_size, &db) != HS_SUCCESS)
            db = NULL;
        free(buf);
    }
    close(fd);
    return db;
}

static void cache_store(const char *path, const hs_database_t *db)
{
    char *bytes = NULL;
    size_t len = 0;
    if (hs_serialize_database(db, &bytes, &len) != HS_SUCCESS)
        return;
    char *dir = xstrdup(path);
    char *slash = strrchr(dir, '/');
    if (slash)
        *slash = '\0';
    /* the cache only saves time: failing to write it is not an error */
    struct otap_err ignored = OTAP_ERR_INIT;
    if (fileio_mkdirs(dir, dir, &ignored) == 0)
        fileio_write(path, bytes, len, false, 0644, &ignored);
    otap_err_release(&ignored);
    free(dir);
    free(bytes);
}

static const struct manifest_secret_rule *custom_rule(const struct manifest_secrets *cfg,
                                                      const char *id)
{
    for (size_t i = 0; cfg && i < cfg->nrules; i++)
        if (!strcmp(cfg->rules[i].id, id))
            return &cfg->rules[i];
    return NULL;
}

static int compile_db(struct secrets_engine *e, const struct manifest_secrets *cfg,
                      struct otap_err *err)
{
    if (!e->nrules)
        return otap_err_set(err, OTAP_EINVALID, "no secret rules are enabled");
    const char **patterns = xcalloc(e->nrules, sizeof(char *));
    unsigned *flags = xcalloc(e->nrules, sizeof(unsigned));
    unsigned *ids = xcalloc(e->nrules, sizeof(unsigned));
    for (size_t i = 0; i < e->nrules; i++) {
        patterns[i] = e->rules[i].pattern;
        /* prefilter: any PCRE construct compiles, and PCRE2 decides */
        flags[i] = HS_FLAG_PREFILTER | HS_FLAG_MULTILINE;
        ids[i] = (unsigned)i;
    }
    int rc = 0;
    long long t0 = monotime_ns();
    char *cpath = cache_path(e, flags);
    hs_database_t *db = cpath ? cache_load(cpath) : NULL;
    e->cache_hit = db != NULL;
    if (!db) {
        hs_compile_error_t *cerr = NULL;
        if (hs_compile_multi(patterns, flags, ids, (unsigned)e->nrules, HS_MODE_BLOCK, NULL, &db,
                             &cerr) != HS_SUCCESS) {
            int bad = cerr ? cerr->expression : -1;
            const char *msg = cerr && cerr->message ? cerr->message : "unknown error";
            if (bad >= 0 && (size_t)bad < e->nrules && e->rules[bad].custom) {
                const struct manifest_secret_rule *c = custom_rule(cfg, e->rules[bad].id);
                rc =
                    otap_err_set(err, OTAP_EINVALID,
                                 "line %d: secret rule '%s': Vectorscan cannot use its pattern: %s",
                                 c ? c->pattern_pos.line : 0, e->rules[bad].id, msg);
            } else {
                rc =
                    otap_err_set(err, OTAP_EEXTERNAL, "Vectorscan cannot compile rule '%s': %s",
                                 bad >= 0 && (size_t)bad < e->nrules ? e->rules[bad].id : "?", msg);
            }
            hs_free_compile_error(cerr);
            db = NULL;
        } else if (cpath) {
            cache_store(cpath, db);
        }
    }
    e->compile_seconds = monotime_seconds_since(t0);
    free(cpath);
    free(patterns);
    free(flags);
    free(ids);
    if (rc < 0)
        return rc;
    e->db = db;
    hs_scratch_t *scratch = NULL;
    if (hs_alloc_scratch(db, &scratch) != HS_SUCCESS)
        return otap_err_set(err, OTAP_EEXTERNAL, "cannot allocate Vectorscan scratch space");
    e->scratch = scratch;
    return 0;
}

int secrets_engine_build(struct secrets_engine *e, const struct manifest_secrets *cfg,
                         bool builtins, struct otap_err *err)
{
    memset(e, 0, sizeof(*e));
    add_rules(e, cfg, builtins);
    for (size_t i = 0; i < e->nrules; i++) {
        struct secrets_rule *r = &e->rules[i];
        char *why = NULL;
        r->re = compile_re(r->confirm ? r->confirm : r->pattern, &why);
        if (!r->re) {
            const struct manifest_secret_rule *c = r->custom ? custom_rule(cfg, r->id) : NULL;
            int rc = otap_err_set(err, r->custom ? OTAP_EINVALID : OTAP_EEXTERNAL,
                                  "line %d: secret rule '%s': %s", c ? c->pattern_pos.line : 0,
                                  r->id, why);
            free(why);
            secrets_engine_release(e);
            return rc;
        }
        uint32_t captures = 0;
        pcre2_pattern_info(r->re, PCRE2_INFO_CAPTURECOUNT, &captures);
        if (r->group < 0)
            r->group = captures > 0 ? 1 : 0;
        if ((uint32_t)r->group > captures)
            r->group = 0;
    }
    size_t alloc = 0;
    for (size_t i = 0; cfg && i < cfg->nallow_paths; i++) {
        char *why = NULL;
        pcre2_code *re = compile_re(cfg->allow_paths[i].re, &why);
        free(why); /* the manifest checked it */
        if (re)
            *XPUSH(&e->allow_paths, &e->nallow_paths, &alloc) = re;
    }
    alloc = 0;
    for (size_t i = 0; cfg && i < cfg->nallow_patterns; i++) {
        char *why = NULL;
        pcre2_code *re = compile_re(cfg->allow_patterns[i].re, &why);
        free(why);
        if (re)
            *XPUSH(&e->allow_patterns, &e->nallow_patterns, &alloc) = re;
    }
    alloc = 0;
    for (size_t i = 0; cfg && i < cfg->nstopwords; i++) {
        char *w = xstrdup(cfg->stopwords[i]);
        for (char *p = w; *p; p++)
            *p = (char)tolower((unsigned char)*p);
        *XPUSH(&e->stopwords, &e->nstopwords, &alloc) = w;
    }
    int rc = compile_db(e, cfg, err);
    if (rc < 0)
        secrets_engine_release(e);
    return rc;
}

void secrets_engine_release(struct secrets_engine *e)
{
    for (size_t i = 0; i < e->nrules; i++)
        rule_release(&e->rules[i]);
    free(e->rules);
    hs_free_scratch(e->scratch);
    hs_free_database(e->db);
    for (size_t i = 0; i < e->nallow_paths; i++)
        pcre2_code_free(e->allow_paths[i]);
    free(e->allow_paths);
    for (size_t i = 0; i < e->nallow_patterns; i++)
        pcre2_code_free(e->allow_patterns[i]);
    free(e->allow_patterns);
    xfree_strv(e->stopwords, e->nstopwords);
    memset(e, 0, sizeof(*e));
}

static bool re_matches(void *re, const char *s, size_t len)
{
    pcre2_match_data *md = pcre2_match_data_create_from_pattern(re, NULL);
    int rc = pcre2_match(re, (PCRE2_SPTR)s, len, 0, 0, md, NULL);
    pcre2_match_data_free(md);
    return rc >= 0;
}

bool secrets_path_allowed(const struct secrets_engine *e, const char *path)
{
    for (size_t i = 0; i < e->nallow_paths; i++)
        if (re_matches(e->allow_paths[i], path, strlen(path)))
            return true;
    return false;
}

/* ---- workers ------------------------------------------------------------ */

int secrets_worker_init(struct secrets_worker *w, const struct secrets_engine *e,
                        struct otap_err *err)
{
    memset(w, 0, sizeof(*w));
    w->e = e;
    hs_scratch_t *s = NULL;
    if (hs_clone_scratch(e->scratch, &s) != HS_SUCCESS)
        return otap_err_set(err, OTAP_EEXTERNAL, "cannot allocate Vectorscan scratch space");
    w->scratch = s;
    w->md = pcre2_match_data_create(100, NULL);
    w->covered = xcalloc(e->nrules, sizeof(size_t));
    w->emitted = xcalloc(e->nrules, sizeof(size_t));
    return 0;
}

void secrets_worker_release(struct secrets_worker *w)
{
    hs_free_scratch(w->scratch);
    pcre2_match_data_free(w->md);
    free(w->covered);
    free(w->emitted);
    free(w->pending.items);
    memset(w, 0, sizeof(*w));
}

void secret_findings_release(struct secret_findings *f)
{
    for (size_t i = 0; i < f->n; i++)
        free(f->items[i].excerpt);
    free(f->items);
    memset(f, 0, sizeof(*f));
}

/* ---- scanning ----------------------------------------------------------- */

struct scan_ctx {
    struct secrets_worker *w;
    const char *buf;
    size_t len;
    bool code; /* source code, where a value must be quoted to be a literal: code_path() */
};

/*
 * Source code, by its extension: there an unquoted right-hand side is an
 * identifier, a call or an expression, never a literal. Everywhere else
 * (dotenv, YAML, INI, shell, notes) an unquoted value is a value.
 */
static bool code_path(const char *path)
{
    static const char *const exts[] = {
        "py",   "pyi", "js",     "mjs",   "cjs",    "jsx",    "ts",    "tsx", "go",
        "java", "kt",  "kts",    "scala", "groovy", "gradle", "rb",    "php", "c",
        "h",    "cc",  "cpp",    "hpp",   "cs",     "rs",     "swift", "m",   "mm",
        "dart", "lua", "pl",     "pm",    "r",      "ex",     "exs",   "erl", "hs",
        "clj",  "vue", "svelte", "elm",   "fs",     "jl",     "nim",   "zig", NULL};
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    const char *dot = strrchr(base, '.');
    if (!dot || dot == base)
        return false;
    for (int i = 0; exts[i]; i++)
        if (!strcasecmp(dot + 1, exts[i]))
            return true;
    return false;
}

/*
 * A name, not a secret: new_password, passwordConfirmation,
 * CreateAPITokenRequestBody, rbac.kargo.akuity.io/api-token. Words split at
 * separators and where a lower-case letter meets an upper-case one; each
 * word has two lower-case letters or more (Api, token), or is an acronym
 * (API). No digits. A random string of letters fails at once: one of its
 * words is a lone letter or a capital with one small letter (kXvQ...).
 */
static bool identifier_like(const char *s, size_t len)
{
    bool any = false;
    for (size_t i = 0; i < len;) {
        unsigned char c = (unsigned char)s[i];
        if (c == '_' || c == '-' || c == '.' || c == '/') {
            i++;
            continue;
        }
        if (!isalpha(c))
            return false;
        size_t up = 0, low = 0;
        while (i < len && isupper((unsigned char)s[i]))
            up++, i++;
        while (i < len && islower((unsigned char)s[i]))
            low++, i++;
        if (low < 2 && !(low == 0 && up >= 2))
            return false;
        any = true;
    }
    return any;
}

/* The name on the left of a generic match ("hashed_password", "secretName"), from the buffer. */
static void key_of(const char *buf, const char *m, const char **k, size_t *klen)
{
    const char *a = m;
    while (a > buf && (isalnum((unsigned char)a[-1]) || a[-1] == '_' || a[-1] == '-'))
        a--;
    const char *b = m;
    while (isalnum((unsigned char)*b) || *b == '_' || *b == '-' || *b == '.')
        b++;
    *k = a;
    *klen = (size_t)(b - a);
}

/* Keys that name a secret's whereabouts or shape, not the secret: secretName, token_url. */
static bool key_is_metadata(const char *k, size_t n)
{
    static const char *const tails[] = {
        "name",  "ref",     "file",   "path",   "id",      "url",    "uri",    "type", "length",
        "len",   "field",   "header", "env",    "var",     "prefix", "policy", "hint", "label",
        "regex", "pattern", "format", "expiry", "expires", "ttl",    NULL};
    for (int i = 0; tails[i]; i++) {
        size_t t = strlen(tails[i]);
        if (n > t && !strncasecmp(k + n - t, tails[i], t))
            return true;
    }
    return false;
}

/*
 * A generic rule's value must be a literal: quoted and closed by the same
 * quote, or unquoted outside source code; and not a name. What it rejects is
 * what real code is full of: password = random_password(), const token =
 * getToken(), "new_password": new_password, secretName: app-secret.
 */
static bool generic_literal(const struct scan_ctx *c, const char *m, const char *s, size_t slen)
{
    const char *end = s + slen;
    /* the value on the name's own line: PASSWORD= with nothing after it is no assignment */
    if (memchr(m, '\n', (size_t)(s - m)))
        return false;
    char before = s > c->buf ? s[-1] : 0;
    bool quoted = before == '"' || before == '\'' || before == '`';
    if (quoted && !(end < c->buf + c->len && *end == before))
        return false; /* "abc" + x, or a string cut by an escape: not one literal */
    if (!quoted && c->code)
        return false;
    if (!quoted && end < c->buf + c->len && *end == '(')
        return false; /* a call, also in a config file's templating */
    const char *k;
    size_t klen;
    key_of(c->buf, m, &k, &klen);
    /* ${DB_PASSWORD:?not set}, ${TOKEN:-x}, "$PWD":/w: the name of a variable, in a reference */
    if ((k >= c->buf + 2 && k[-1] == '{' && k[-2] == '$') || (k > c->buf && k[-1] == '$'))
        return false;
    /* the word itself in the value: password1, my-secret-token, tokenValue */
    static const char *const words[] = {"password", "passwd", "secret", "token", NULL};
    for (int i = 0; words[i]; i++)
        if (ci_contains(s, slen, words[i]))
            return false;
    if (key_is_metadata(k, klen))
        return false;
    return !identifier_like(s, slen);
}

/* A generic value that is a reference or a template, not a value. */
static bool looks_like_reference(const char *s, size_t len)
{
    if (s[0] == '$' || s[0] == '%' || s[0] == '<' || s[0] == '@')
        return true;
    /* {password} in an f-string or a format string, {0}, {{ .Values.x }} */
    if (s[0] == '{' && s[len - 1] == '}')
        return true;
    for (size_t i = 0; i + 1 < len; i++)
        if ((s[i] == '$' && s[i + 1] == '{') || (s[i] == '{' && s[i + 1] == '{'))
            return true;
    /* settings.SECRET_KEY, os.environ, process.env.TOKEN: dotted identifiers */
    bool dotted = false, seg_start = true;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '.') {
            if (seg_start)
                return false;
            dotted = true;
            seg_start = true;
        } else if (isalpha(c) || c == '_') {
            seg_start = false;
        } else if (isdigit(c) && !seg_start) {
            continue;
        } else {
            return false;
        }
    }
    return dotted && !seg_start;
}

static bool mixes_classes(const char *s, size_t len)
{
    bool upper = false, lower = false, digit = false;
    for (size_t i = 0; i < len; i++) {
        upper |= isupper((unsigned char)s[i]) != 0;
        lower |= islower((unsigned char)s[i]) != 0;
        digit |= isdigit((unsigned char)s[i]) != 0;
    }
    return upper && lower && digit;
}

static bool accept(const struct scan_ctx *c, const struct secrets_rule *r, const char *m,
                   size_t mlen, const char *s, size_t slen, double *entropy)
{
    const struct secrets_engine *e = c->w->e;
    if (!slen)
        return false;
    if (r->nkeywords) {
        bool any = false;
        for (size_t k = 0; k < r->nkeywords && !any; k++)
            any = ci_contains(m, mlen, r->keywords[k]);
        if (!any)
            return false;
    }
    *entropy = secrets_entropy(s, slen);
    if (r->entropy > 0 && *entropy < r->entropy)
        return false;
    for (size_t i = 0; i < e->nstopwords; i++)
        if (ci_contains(s, slen, e->stopwords[i]))
            return false;
    /* the one placeholder list (base/placeholder): changethis is no leak */
    if (placeholder_value(s, slen))
        return false;
    /* a published example is nobody's secret, whichever rule finds it */
    for (size_t k = 0; k < e->nrules; k++)
        for (size_t i = 0; e->rules[k].known && e->rules[k].known[i]; i++)
            if (strlen(e->rules[k].known[i]) == slen && !memcmp(e->rules[k].known[i], s, slen))
                return false;
    if ((r->flags & SR_GENERIC) && looks_like_reference(s, slen))
        return false;
    if ((r->flags & SR_MIXED) && !mixes_classes(s, slen))
        return false;
    if ((r->flags & SR_ASSIGNMENT) && !generic_literal(c, m, s, slen))
        return false;
    for (size_t i = 0; i < e->nallow_patterns; i++)
        if (re_matches(e->allow_patterns[i], s, slen))
            return false;
    return true;
}

static size_t line_start(const char *buf, size_t pos, size_t limit)
{
    while (pos > limit && buf[pos - 1] != '\n')
        pos--;
    return pos;
}

static size_t line_end(const char *buf, size_t len, size_t pos, size_t limit)
{
    const char *nl = memchr(buf + pos, '\n', (limit < len ? limit : len) - pos);
    return nl ? (size_t)(nl - buf) : (limit < len ? limit : len);
}

static void confirm(struct scan_ctx *c, unsigned rule, size_t to)
{
    struct secrets_worker *w = c->w;
    const struct secrets_rule *r = &w->e->rules[rule];
    if (to <= w->covered[rule])
        return;
    size_t end_pos = to ? to - 1 : 0;
    /* from the start of the line before, so a match may wrap onto the next */
    size_t back = end_pos > WINDOW_BACK ? end_pos - WINDOW_BACK : 0;
    size_t ws = line_start(c->buf, end_pos, back);
    if (ws > back)
        ws = line_start(c->buf, ws - 1, back);
    size_t we = (r->flags & SR_MULTILINE)
                    ? (c->len - to > WINDOW_MULTILINE ? to + WINDOW_MULTILINE : c->len)
                    : line_end(c->buf, c->len, end_pos, to + WINDOW_FORWARD);
    size_t last_end = to;
    size_t off = ws;
    while (off < we) {
        int rc = pcre2_match(r->re, (PCRE2_SPTR)c->buf, we, off, 0, w->md, NULL);
        if (rc <= 0)
            break;
        PCRE2_SIZE *ov = pcre2_get_ovector_pointer(w->md);
        size_t ms = ov[0], me = ov[1];
        if (me <= ms) {
            off = ms + 1;
            continue;
        }
        off = me;
        if (ms < w->emitted[rule])
            continue;
        int g = r->group < rc ? r->group : -1;
        if (g < 0 || ov[2 * g] == PCRE2_UNSET)
            continue;
        size_t ss = ov[2 * g], se = ov[2 * g + 1];
        double entropy = 0;
        if (!accept(c, r, c->buf + ms, me - ms, c->buf + ss, se - ss, &entropy))
            continue;
        w->emitted[rule] = me;
        if (me > last_end)
            last_end = me;
        *XPUSH(&w->pending.items, &w->pending.n, &w->pending.alloc) = (struct secret_finding){
            .rule = (int)rule,
            .start = ms,
            .end = me,
            .sstart = ss,
            .send = se,
            .entropy = entropy,
        };
    }
    w->covered[rule] = (r->flags & SR_MULTILINE) ? last_end : we;
}

static int on_hit(unsigned id, unsigned long long from, unsigned long long to, unsigned flags,
                  void *ctx)
{
    (void)from;
    (void)flags;
    confirm(ctx, id, (size_t)to);
    return 0;
}

static int by_secret(const void *a, const void *b)
{
    const struct secret_finding *x = a, *y = b;
    if (x->sstart != y->sstart)
        return x->sstart < y->sstart ? -1 : 1;
    return x->rule - y->rule;
}

static bool overlaps(const struct secret_finding *a, const struct secret_finding *b)
{
    return a->sstart < b->send && b->sstart < a->send;
}

/* how specific a rule is: a format of its own, a service named in the key, a generic form */
static int specificity(const struct secrets_rule *r)
{
    return (r->flags & SR_GENERIC) ? 0 : (r->flags & SR_KEYED) ? 1 : 2;
}

/*
 * Keeps one finding per secret: the more specific rule wins (a format over
 * a keyed rule over a generic one), and of two equally specific rules on
 * the very same secret the first in the rule set.
 */
static void dedupe(const struct secrets_engine *e, struct secret_findings *p)
{
    qsort(p->items, p->n, sizeof(p->items[0]), by_secret);
    bool *drop = xcalloc(p->n ? p->n : 1, sizeof(bool));
    for (size_t i = 0; i < p->n; i++) {
        for (size_t j = i + 1; j < p->n && p->items[j].sstart < p->items[i].send; j++) {
            struct secret_finding *a = &p->items[i], *b = &p->items[j];
            if (!overlaps(a, b))
                continue;
            int sa = specificity(&e->rules[a->rule]), sb = specificity(&e->rules[b->rule]);
            if (sa < sb)
                drop[i] = true;
            else if (sb < sa)
                drop[j] = true;
            else if (a->rule == b->rule || (a->sstart == b->sstart && a->send == b->send))
                drop[j] = true;
        }
    }
    size_t k = 0;
    for (size_t i = 0; i < p->n; i++)
        if (!drop[i])
            p->items[k++] = p->items[i];
    p->n = k;
    free(drop);
}

/* Advances a (line, col) cursor from offset *at to pos (pos >= *at). */
static void advance(const char *buf, size_t *at, int *line, size_t *ls, size_t pos)
{
    while (*at < pos) {
        const char *nl = memchr(buf + *at, '\n', pos - *at);
        if (!nl) {
            *at = pos;
            break;
        }
        (*line)++;
        *at = (size_t)(nl - buf) + 1;
        *ls = *at;
    }
}

static bool has_allow_comment(const char *line, size_t len)
{
    return ci_contains(line, len, "otap:allow") || ci_contains(line, len, "gitleaks:allow");
}

struct span {
    size_t a, b;
};

static int by_span(const void *x, const void *y)
{
    const struct span *p = x, *q = y;
    return p->a < q->a ? -1 : p->a > q->a ? 1 : 0;
}

/*
 * The line at [ls, le), cut around ss, with every secret masked: the
 * spans of all findings in the input, and any other place in the excerpt
 * where one of those secrets is written out again.
 */
static char *excerpt(const struct secret_findings *all, const char *buf, size_t ls, size_t le,
                     size_t ss)
{
    size_t xs = ls, xe = le;
    if (le - ls > EXCERPT_MAX) {
        xs = ss > ls + EXCERPT_MAX / 3 ? ss - EXCERPT_MAX / 3 : ls;
        xe = xs + EXCERPT_MAX < le ? xs + EXCERPT_MAX : le;
    }
    struct span *sp = NULL;
    size_t nsp = 0, alloc = 0;
    for (size_t i = 0; i < all->n; i++) {
        const struct secret_finding *f = &all->items[i];
        if (f->sstart < xe && f->send > xs)
            *XPUSH(&sp, &nsp, &alloc) = (struct span){f->sstart, f->send};
        size_t slen = f->send - f->sstart;
        if (slen < 4)
            continue;
        for (size_t at = xs; at + slen <= xe;) {
            const char *hit = memmem(buf + at, xe - at, buf + f->sstart, slen);
            if (!hit)
                break;
            size_t a = (size_t)(hit - buf);
            *XPUSH(&sp, &nsp, &alloc) = (struct span){a, a + slen};
            at = a + 1;
        }
    }
    if (nsp)
        qsort(sp, nsp, sizeof(*sp), by_span);
    struct strbuf sb = STRBUF_INIT;
    if (xs > ls)
        strbuf_addstr(&sb, "...");
    size_t pos = xs;
    for (size_t i = 0; i <= nsp; i++) {
        size_t a = i < nsp ? sp[i].a : xe, b = i < nsp ? sp[i].b : xe;
        if (a < pos)
            a = pos;
        if (a > xe)
            a = xe;
        if (a > pos) {
            char *p = secrets_printable(buf + pos, a - pos);
            strbuf_addstr(&sb, p);
            free(p);
            pos = a;
        }
        if (i == nsp || b <= pos)
            continue;
        /* a long secret keeps a few leading characters, which name its kind */
        size_t slen = sp[i].b - sp[i].a;
        size_t show = slen >= 20 ? 4 : slen >= 12 ? 2 : 0;
        if (pos == sp[i].a && show) {
            char *p = secrets_printable(buf + pos, show);
            strbuf_addstr(&sb, p);
            free(p);
        }
        strbuf_addstr(&sb, "*****");
        pos = b;
    }
    if (xe < le)
        strbuf_addstr(&sb, "...");
    free(sp);
    return strbuf_detach(&sb, NULL);
}

static void fingerprint(const char *id, const char *path, const char *s, size_t len, char out[33])
{
    struct sha256 h;
    char hex[SHA256_HEX_LEN + 1];
    sha256_init(&h);
    sha256_update(&h, "otap-secret/1", 14);
    sha256_update(&h, id, strlen(id) + 1);
    sha256_update(&h, path, strlen(path) + 1);
    sha256_update(&h, s, len);
    sha256_final_hex(&h, hex);
    memcpy(out, hex, 32);
    out[32] = '\0';
}

static void secret_key(const char *id, const char *s, size_t len, char out[33])
{
    struct sha256 h;
    char hex[SHA256_HEX_LEN + 1];
    sha256_init(&h);
    sha256_update(&h, "otap-secret-value/1", 20);
    sha256_update(&h, id, strlen(id) + 1);
    sha256_update(&h, s, len);
    sha256_final_hex(&h, hex);
    memcpy(out, hex, 32);
    out[32] = '\0';
}

static int by_start(const void *a, const void *b)
{
    const struct secret_finding *x = a, *y = b;
    if (x->start != y->start)
        return x->start < y->start ? -1 : 1;
    return x->rule - y->rule;
}

int secrets_scan_buffer(struct secrets_worker *w, const char *path, size_t source, const char *buf,
                        size_t len, struct secret_findings *out, struct secrets_counts *counts)
{
    const struct secrets_engine *e = w->e;
    counts->bytes += len;
    if (!len)
        return 0;
    if (len > 0xffffffffu)
        return OTAP_EEXTERNAL;
    memset(w->covered, 0, e->nrules * sizeof(size_t));
    memset(w->emitted, 0, e->nrules * sizeof(size_t));
    w->pending.n = 0;
    struct scan_ctx c = {w, buf, len, code_path(path)};
    hs_error_t rc = hs_scan(e->db, buf, (unsigned)len, 0, w->scratch, on_hit, &c);
    if (rc != HS_SUCCESS)
        return OTAP_EEXTERNAL;
    if (!w->pending.n)
        return 0;
    dedupe(e, &w->pending);
    struct secret_findings *p = &w->pending;
    /* secrets ordered for masking; findings walked in order of their start */
    struct secret_finding *order = xmalloc(p->n * sizeof(*order));
    memcpy(order, p->items, p->n * sizeof(*order));
    qsort(order, p->n, sizeof(*order), by_start);
    size_t at = 0, ls = 0;
    int line = 1;
    for (size_t i = 0; i < p->n; i++) {
        struct secret_finding f = order[i];
        const struct secrets_rule *r = &e->rules[f.rule];
        advance(buf, &at, &line, &ls, f.start);
        f.line = line;
        f.col = (int)(f.start - ls) + 1;
        size_t le = line_end(buf, len, f.start, len);
        size_t sls = line_start(buf, f.sstart, 0);
        size_t sle = line_end(buf, len, f.sstart, len);
        if (has_allow_comment(buf + ls, le - ls) || has_allow_comment(buf + sls, sle - sls)) {
            counts->inline_allowed++;
            continue;
        }
        /* the end position: count on from the start without moving the cursor */
        size_t at2 = at, ls2 = ls;
        int line2 = line;
        advance(buf, &at2, &line2, &ls2, f.end - 1);
        f.end_line = line2;
        f.end_col = (int)(f.end - 1 - ls2) + 1;
        f.excerpt = excerpt(p, buf, ls, le, f.sstart);
        fingerprint(r->id, path, buf + f.sstart, f.send - f.sstart, f.fingerprint);
        secret_key(r->id, buf + f.sstart, f.send - f.sstart, f.secret_key);
        f.occurrences = 1;
        f.source = source;
        *XPUSH(&out->items, &out->n, &out->alloc) = f;
    }
    free(order);
    return 0;
}
