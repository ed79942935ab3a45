/*
 * Flag reads in source code (flag_refs.h).
 */
#define PCRE2_CODE_UNIT_WIDTH 8
#include "flags/flag_refs.h"

#include <errno.h>
#include <pcre2.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "base/fileio.h"
#include "base/strbuf.h"
#include "base/xalloc.h"
#include "base/banned.h"

const char flag_refs_default_pattern[] =
    "(?:\\b(?:get)?(?:Boolean|String|Number|Integer|Int|Float|Double|Object)(?:Value|Details)"
    "|\\bget_(?:boolean|string|integer|float|object)_(?:value|details)"
    "|\\bis_?[Ee]nabled|\\bget_?[Vv]ariant"
    "|\\b(?:bool|boolean|string|json|int|float)?[Vv]ariation)"
    "\\s*\\(\\s*(?:[A-Za-z_][\\w.]*\\s*,\\s*)?[\"'`]([A-Za-z0-9_.-]+)[\"'`]";

#define MAX_FILE (8u << 20)

struct scan {
    pcre2_code *re;
    pcre2_match_data *md;
    const char *const *keys;
    size_t nkeys;
    dev_t skip_dev; /* the file left out, by identity: paths to it can be spelt many ways */
    ino_t skip_ino;
    bool have_skip;
    struct flag_refs *out;
    const char *root;
    int root_errno;
};

static int scan_init(struct scan *sc, const char *pattern, struct otap_err *err)
{
    int code;
    PCRE2_SIZE off;
    sc->re = pcre2_compile((PCRE2_SPTR)(pattern ? pattern : flag_refs_default_pattern),
                           PCRE2_ZERO_TERMINATED, 0, &code, &off, NULL);
    if (!sc->re) {
        PCRE2_UCHAR msg[256];
        pcre2_get_error_message(code, msg, sizeof msg);
        return otap_err_set(err, OTAP_EUSAGE, "--pattern does not compile at offset %zu: %s",
                            (size_t)off, (const char *)msg);
    }
    uint32_t groups = 0;
    pcre2_pattern_info(sc->re, PCRE2_INFO_CAPTURECOUNT, &groups);
    if (groups < 1) {
        pcre2_code_free(sc->re);
        sc->re = NULL;
        return otap_err_set(err, OTAP_EUSAGE,
                            "--pattern has no group: its first group must capture the flag key");
    }
    pcre2_jit_compile(sc->re, PCRE2_JIT_COMPLETE); /* falls back to the interpreter */
    sc->md = pcre2_match_data_create_from_pattern(sc->re, NULL);
    return 0;
}

static void scan_release(struct scan *sc)
{
    pcre2_match_data_free(sc->md);
    pcre2_code_free(sc->re);
}

/* Is key written quoted somewhere in data? */
static bool quoted(const char *data, size_t len, const char *key)
{
    size_t kl = strlen(key);
    const char *p = data, *end = data + len;
    while (p + kl + 2 <= end) {
        const char *hit = memmem(p, (size_t)(end - p), key, kl);
        if (!hit)
            return false;
        if (hit > data && hit + kl < end) {
            char q = hit[-1];
            if ((q == '"' || q == '\'' || q == '`') && hit[kl] == q)
                return true;
        }
        p = hit + 1;
    }
    return false;
}

static void scan_data(struct scan *sc, const char *data, size_t len, const char *file)
{
    struct flag_refs *out = sc->out;
    out->files++;
    for (size_t k = 0; k < sc->nkeys; k++)
        if (!out->used[k] && quoted(data, len, sc->keys[k]))
            out->used[k] = true;
    PCRE2_SIZE start = 0;
    size_t line_at = 0;
    int line = 1;
    while (start <= len) {
        int rc = pcre2_match(sc->re, (PCRE2_SPTR)data, len, start, 0, sc->md, NULL);
        if (rc < 2)
            break;
        PCRE2_SIZE *ov = pcre2_get_ovector_pointer(sc->md);
        if (ov[2] != PCRE2_UNSET) {
            for (; line_at < ov[2]; line_at++)
                line += data[line_at] == '\n';
            struct flag_ref *r = XPUSH(&out->items, &out->n, &out->alloc);
            r->file = xstrdup(file);
            r->line = line;
            r->key = xstrndup(data + ov[2], ov[3] - ov[2]);
            for (size_t k = 0; k < sc->nkeys; k++)
                if (!strcmp(sc->keys[k], r->key))
                    out->used[k] = true;
        }
        start = ov[1] > ov[0] ? ov[1] : ov[0] + 1;
    }
}

static void scan_file(struct scan *sc, const char *path, const struct stat *st)
{
    if ((size_t)st->st_size > MAX_FILE ||
        (sc->have_skip && st->st_dev == sc->skip_dev && st->st_ino == sc->skip_ino))
        return;
    struct strbuf sb = STRBUF_INIT;
    if (strbuf_read_file(&sb, path, MAX_FILE) == 0 &&
        !memchr(sb.buf, '\0', sb.len < 8192 ? sb.len : 8192))
        scan_data(sc, sb.buf, sb.len, path);
    strbuf_release(&sb);
}

static int visit(void *ctx, const char *path, const char *rel, const struct stat *st)
{
    struct scan *sc = ctx;
    const char *name = strrchr(rel, '/');
    name = name ? name + 1 : rel;
    if (S_ISDIR(st->st_mode)) {
        return fileio_not_source_dir(name) ? FILEIO_WALK_PRUNE : 0;
    }
    if (S_ISREG(st->st_mode))
        scan_file(sc, path, st);
    return 0;
}

static void visit_error(void *ctx, const char *path, int errnum)
{
    struct scan *sc = ctx;
    if (!strcmp(path, sc->root))
        sc->root_errno = errnum;
}

int flag_refs_scan(const char *const *paths, size_t npaths, const char *pattern,
                   const char *const *keys, size_t nkeys, const char *skip, struct flag_refs *out,
                   struct otap_err *err)
{
    memset(out, 0, sizeof(*out));
    out->used = xcalloc(nkeys ? nkeys : 1, sizeof(bool));
    struct scan sc = {.keys = keys, .nkeys = nkeys, .out = out};
    struct stat sk;
    if (skip && stat(skip, &sk) == 0) {
        sc.have_skip = true;
        sc.skip_dev = sk.st_dev;
        sc.skip_ino = sk.st_ino;
    }
    int rc = scan_init(&sc, pattern, err);
    for (size_t i = 0; rc == 0 && i < npaths; i++) {
        struct stat st;
        if (lstat(paths[i], &st) < 0) {
            rc = otap_err_set(err, OTAP_EEXTERNAL, "cannot read %s: %s", paths[i], strerror(errno));
            break;
        }
        if (S_ISREG(st.st_mode)) {
            scan_file(&sc, paths[i], &st);
            continue;
        }
        if (!S_ISDIR(st.st_mode))
            continue;
        sc.root = paths[i];
        sc.root_errno = 0;
        struct fileio_walk w = {.visit = visit, .error = visit_error, .ctx = &sc};
        rc = fileio_walk(paths[i], &w, err);
        if (rc == 0 && sc.root_errno)
            rc = otap_err_set(err, OTAP_EEXTERNAL, "cannot read %s: %s", paths[i],
                              strerror(sc.root_errno));
    }
    scan_release(&sc);
    return rc;
}

int flag_refs_scan_buffer(const char *data, size_t len, const char *file, const char *pattern,
                          const char *const *keys, size_t nkeys, struct flag_refs *out,
                          struct otap_err *err)
{
    memset(out, 0, sizeof(*out));
    out->used = xcalloc(nkeys ? nkeys : 1, sizeof(bool));
    struct scan sc = {.keys = keys, .nkeys = nkeys, .out = out};
    int rc = scan_init(&sc, pattern, err);
    if (rc == 0)
        scan_data(&sc, data, len, file);
    scan_release(&sc);
    return rc;
}

void flag_refs_release(struct flag_refs *r)
{
    for (size_t i = 0; i < r->n; i++) {
        free(r->items[i].file);
        free(r->items[i].key);
    }
    free(r->items);
    free(r->used);
    memset(r, 0, sizeof(*r));
}
