/*
 * Environment reads in source files, found with one JIT-compiled PCRE2
 * pattern over whole files (read once, no per-line work), so linting a
 * tree costs about as much as reading it.
 */
#include "config/envlint.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <errno.h>
#include <pcre2.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "base/fileio.h"
#include "base/strbuf.h"
#include "base/xalloc.h"
#include "base/banned.h"

#define NAME "([A-Za-z_][A-Za-z0-9_]*)"
#define Q "['\"]"

/* (?| ... ) numbers the name group 1 in every alternative */
static const char pattern[] =
    "(?|"
    "\\b(?:secure_getenv|getenv|os\\.Getenv|os\\.LookupEnv|Getenv|LookupEnv)\\s*\\(\\s*\"" NAME "\""
    "|\\bos\\.environ\\s*\\[\\s*" Q NAME Q "\\s*\\]"
    "|\\bos\\.environ\\.get\\s*\\(\\s*" Q NAME Q "|\\bos\\.getenv\\s*\\(\\s*" Q NAME Q
    "|\\bprocess\\.env\\.([A-Za-z_][A-Za-z0-9_]*)"
    "|\\bprocess\\.env\\s*\\[\\s*" Q NAME Q "\\s*\\]"
    "|\\bimport\\.meta\\.env\\.([A-Za-z_][A-Za-z0-9_]*)"
    "|\\bENV\\s*\\[\\s*" Q NAME Q "\\s*\\]"
    "|\\bENV\\.fetch\\s*\\(\\s*" Q NAME Q ")";

#define MAX_FILE (8u << 20)

static const char *const skip_dirs[] = {".git",        "node_modules", ".venv",  "venv",
                                        "__pycache__", ".otap",        "dist",   "target",
                                        "vendor",      "third_party",  ".cache", NULL};

static const char *const system_vars[] = {"PATH",   "HOME",     "USER",     "LOGNAME", "PWD",
                                          "SHELL",  "TERM",     "LANG",     "LC_ALL",  "TZ",
                                          "TMPDIR", "HOSTNAME", "NO_COLOR", "CI",      NULL};

int envlint_is_system_var(const char *name)
{
    for (int i = 0; system_vars[i]; i++)
        if (!strcmp(system_vars[i], name))
            return 1;
    return 0;
}

struct matcher {
    pcre2_code *re;
    pcre2_match_data *md;
};

static int matcher_init(struct matcher *mt)
{
    int errcode;
    PCRE2_SIZE erroff;
    mt->re = pcre2_compile((PCRE2_SPTR)pattern, PCRE2_ZERO_TERMINATED, 0, &errcode, &erroff, NULL);
    if (!mt->re)
        return -1;
    pcre2_jit_compile(mt->re, PCRE2_JIT_COMPLETE); /* falls back to the interpreter */
    mt->md = pcre2_match_data_create_from_pattern(mt->re, NULL);
    return 0;
}

static void matcher_release(struct matcher *mt)
{
    pcre2_match_data_free(mt->md);
    pcre2_code_free(mt->re);
}

static void scan_with(struct matcher *mt, const char *data, size_t len, const char *file,
                      struct envlint *out)
{
    PCRE2_SIZE start = 0;
    int line = 1;
    size_t line_start = 0, counted = 0;
    while (start <= len) {
        int rc = pcre2_match(mt->re, (PCRE2_SPTR)data, len, start, 0, mt->md, NULL);
        if (rc < 0)
            break;
        PCRE2_SIZE *ov = pcre2_get_ovector_pointer(mt->md);
        for (; counted < ov[0]; counted++)
            if (data[counted] == '\n') {
                line++;
                line_start = counted + 1;
            }
        struct envlint_hit *h = XPUSH(&out->items, &out->n, &out->alloc);
        h->file = xstrdup(file);
        h->line = line;
        h->col = (int)(ov[0] - line_start) + 1;
        h->name = xstrndup(data + ov[2], ov[3] - ov[2]);
        start = ov[1] > ov[0] ? ov[1] : ov[0] + 1;
    }
}

void envlint_scan_buffer(const char *data, size_t len, const char *file, struct envlint *out)
{
    struct matcher mt;
    if (matcher_init(&mt) < 0)
        return;
    scan_with(&mt, data, len, file, out);
    matcher_release(&mt);
}

/* One file: skipped when too large or binary; -1 when it cannot be read. */
static int scan_file(struct matcher *mt, const char *path, const struct stat *st,
                     struct envlint *out)
{
    if ((size_t)st->st_size > MAX_FILE) {
        out->skipped++;
        return 0;
    }
    struct strbuf sb = STRBUF_INIT;
    if (strbuf_read_file(&sb, path, MAX_FILE) < 0) {
        strbuf_release(&sb);
        return -1;
    }
    if (memchr(sb.buf, '\0', sb.len < 8192 ? sb.len : 8192)) {
        out->skipped++; /* binary */
    } else {
        out->files++;
        scan_with(mt, sb.buf, sb.len, path, out);
    }
    strbuf_release(&sb);
    return 0;
}

struct tree {
    struct matcher *mt;
    struct envlint *out;
    const char *root;
    int root_errno; /* the root itself could not be listed */
};

static int tree_visit(void *ctx, const char *path, const char *rel, const struct stat *st)
{
    struct tree *t = ctx;
    const char *name = strrchr(rel, '/');
    name = name ? name + 1 : rel;
    if (S_ISDIR(st->st_mode)) {
        bool skip = !strncmp(name, "build", 5);
        for (int i = 0; skip_dirs[i]; i++)
            skip |= !strcmp(name, skip_dirs[i]);
        return skip ? FILEIO_WALK_PRUNE : 0;
    }
    /* links may loop or leave the tree; below the root an unreadable file is passed over */
    if (S_ISREG(st->st_mode))
        scan_file(t->mt, path, st, t->out);
    return 0;
}

static void tree_error(void *ctx, const char *path, int errnum)
{
    struct tree *t = ctx;
    if (!strcmp(path, t->root))
        t->root_errno = errnum;
}

/* A path the user named: a file, or a tree walked in byte order. -1 (errno) when unreadable. */
static int scan_path(struct matcher *mt, const char *path, struct envlint *out)
{
    struct stat st;
    if (lstat(path, &st) < 0)
        return -1;
    if (S_ISLNK(st.st_mode))
        return 0;
    if (S_ISREG(st.st_mode))
        return scan_file(mt, path, &st, out);
    if (!S_ISDIR(st.st_mode))
        return 0;
    struct tree t = {mt, out, path, 0};
    struct fileio_walk fw = {.visit = tree_visit, .error = tree_error, .ctx = &t, .max_depth = 64};
    fileio_walk(path, &fw, NULL);
    if (t.root_errno) {
        errno = t.root_errno;
        return -1;
    }
    return 0;
}

int envlint_scan(const char *const *paths, size_t npaths, struct envlint *out, struct otap_err *err)
{
    struct matcher mt;
    if (matcher_init(&mt) < 0)
        return otap_err_set(err, OTAP_EEXTERNAL, "cannot compile the environment-read pattern");
    int rc = 0;
    for (size_t i = 0; i < npaths && !rc; i++)
        if (scan_path(&mt, paths[i], out) < 0)
            rc = otap_err_set(err, OTAP_EEXTERNAL, "cannot read '%s': %s", paths[i],
                              strerror(errno));
    matcher_release(&mt);
    return rc;
}

void envlint_release(struct envlint *l)
{
    for (size_t i = 0; i < l->n; i++) {
        free(l->items[i].file);
        free(l->items[i].name);
    }
    free(l->items);
    memset(l, 0, sizeof(*l));
}
