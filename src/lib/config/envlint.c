/*
 * Environment reads in source files, found with one JIT-compiled PCRE2
 * pattern over whole files (read once, no per-line work), so linting a
 * tree costs about as much as reading it.
 */
#include "config/envlint.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <ctype.h>
#include <errno.h>
#include <pcre2.h>
#include <stdbool.h>
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
    /* os.environ or a bare environ (from os import environ) */
    "|\\b(?:os\\.)?environ\\s*\\[\\s*" Q NAME Q "\\s*\\]"
    "|\\b(?:os\\.)?environ\\.(?:get|setdefault|pop)\\s*\\(\\s*" Q NAME Q "|" Q NAME Q
    "\\s+(?:not\\s+)?in\\s+(?:os\\.)?environ\\b"
    "|\\bos\\.getenv\\s*\\(\\s*" Q NAME Q "|\\bprocess\\.env\\.([A-Za-z_][A-Za-z0-9_]*)"
    "|\\bprocess\\.env\\s*\\[\\s*" Q NAME Q "\\s*\\]"
    "|\\bimport\\.meta\\.env\\.([A-Za-z_][A-Za-z0-9_]*)"
    "|\\bENV\\s*\\[\\s*" Q NAME Q "\\s*\\]"
    "|\\bENV\\.fetch\\s*\\(\\s*" Q NAME Q ")";

/*
 * Reads whose name is computed (os.environ.get(name), process.env[key]):
 * otap cannot tell which variable they read, and says so rather than
 * vouch for them. A C declaration (getenv(const char *)) is not a read.
 */
static const char unresolved_pattern[] =
    "\\b(?:os\\.)?environ(?:\\.(?:get|setdefault|pop))?\\s*[\\[(]\\s*(?![\\s'\")\\]])"
    "|\\bos\\.getenv\\s*\\(\\s*(?![\\s'\")])"
    "|\\b(?:getenv|os\\.Getenv|os\\.LookupEnv)\\s*\\(\\s*(?![\\s\")]|const\\b|char\\b)"
    "|\\bprocess\\.env\\s*\\[\\s*(?![\\s'\"`\\]])"
    "|\\bENV(?:\\.fetch\\s*\\(|\\s*\\[)\\s*(?![\\s'\"\\])])";

/* const { A, B: b, C = 1 } = process.env: every name in the braces */
static const char destructure_pattern[] =
    "\\b(?:const|let|var)\\s*\\{([^{}]{1,2000})\\}\\s*=\\s*process\\.env\\b";

#define MAX_FILE (8u << 20)

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

/* "from os import environ" (or getenv): only then is a bare environ the process's */
static const char imports_pattern[] = "^\\s*from\\s+os\\s+import\\s+[^\\n]*\\benviron\\b";

struct matcher {
    pcre2_code *re, *unresolved, *destructure, *imports;
    pcre2_match_data *md;
};

static pcre2_code *compile(const char *pat, uint32_t flags)
{
    int errcode;
    PCRE2_SIZE erroff;
    pcre2_code *re =
        pcre2_compile((PCRE2_SPTR)pat, PCRE2_ZERO_TERMINATED, flags, &errcode, &erroff, NULL);
    if (re)
        pcre2_jit_compile(re, PCRE2_JIT_COMPLETE); /* falls back to the interpreter */
    return re;
}

static void matcher_release(struct matcher *mt)
{
    pcre2_match_data_free(mt->md);
    pcre2_code_free(mt->re);
    pcre2_code_free(mt->unresolved);
    pcre2_code_free(mt->destructure);
    pcre2_code_free(mt->imports);
}

static int matcher_init(struct matcher *mt)
{
    memset(mt, 0, sizeof(*mt));
    mt->re = compile(pattern, 0);
    mt->unresolved = compile(unresolved_pattern, 0);
    mt->destructure = compile(destructure_pattern, 0);
    mt->imports = compile(imports_pattern, PCRE2_MULTILINE);
    mt->md = pcre2_match_data_create(16, NULL);
    if (!mt->re || !mt->unresolved || !mt->destructure || !mt->imports || !mt->md) {
        matcher_release(mt);
        return -1;
    }
    return 0;
}

/* Line and column (1-based) of offset off, counting from a known position. */
struct cursor {
    const char *data;
    size_t at, line_start;
    int line;
};

static void cursor_to(struct cursor *c, size_t off)
{
    if (off < c->at) { /* patterns run one after another: start over */
        c->at = 0;
        c->line = 1;
        c->line_start = 0;
    }
    for (; c->at < off; c->at++)
        if (c->data[c->at] == '\n') {
            c->line++;
            c->line_start = c->at + 1;
        }
}

static void push(struct envlint_hit **items, size_t *n, size_t *alloc, const char *file,
                 struct cursor *c, size_t off, char *name)
{
    cursor_to(c, off);
    struct envlint_hit *h = XPUSH(items, n, alloc);
    h->file = xstrdup(file);
    h->line = c->line;
    h->col = (int)(off - c->line_start) + 1;
    h->name = name;
}

/* Calls fn for every match of re in data. */
static void each_match(struct matcher *mt, pcre2_code *re, const char *data, size_t len,
                       void (*fn)(void *ctx, const PCRE2_SIZE *ov), void *ctx)
{
    PCRE2_SIZE start = 0;
    while (start <= len) {
        if (pcre2_match(re, (PCRE2_SPTR)data, len, start, 0, mt->md, NULL) < 0)
            break;
        PCRE2_SIZE *ov = pcre2_get_ovector_pointer(mt->md);
        fn(ctx, ov);
        start = ov[1] > ov[0] ? ov[1] : ov[0] + 1;
    }
}

struct scan {
    const char *data, *file;
    size_t len;
    bool bare_environ; /* the file imports environ from os */
    struct cursor cur;
    struct envlint *out;
};

/* a bare "environ" (not os.environ) is the process's only where os's is imported */
static bool bare_environ_read(const struct scan *sc, size_t off)
{
    return !strncmp(sc->data + off, "environ", 7) && !sc->bare_environ;
}

static void on_read(void *ctx, const PCRE2_SIZE *ov)
{
    struct scan *sc = ctx;
    if (bare_environ_read(sc, ov[0]))
        return;
    push(&sc->out->items, &sc->out->n, &sc->out->alloc, sc->file, &sc->cur, ov[0],
         xstrndup(sc->data + ov[2], ov[3] - ov[2]));
}

static void on_unresolved(void *ctx, const PCRE2_SIZE *ov)
{
    struct scan *sc = ctx;
    if (bare_environ_read(sc, ov[0]))
        return;
    /* the read as written, up to its closing bracket or the line's end, for the message */
    size_t end = ov[1];
    while (end < sc->len && end - ov[0] < 80 && !strchr(")]\n", sc->data[end]))
        end++;
    if (end < sc->len && strchr(")]", sc->data[end]))
        end++;
    push(&sc->out->unresolved, &sc->out->nunresolved, &sc->out->unresolved_alloc, sc->file,
         &sc->cur, ov[0], xstrndup(sc->data + ov[0], end - ov[0]));
}

static void on_destructure(void *ctx, const PCRE2_SIZE *ov)
{
    struct scan *sc = ctx;
    /* A, B: b, C = 1, ...rest: the names before ':' or '=' */
    size_t i = ov[2];
    while (i < ov[3]) {
        while (i < ov[3] && strchr(" \t\r\n,", sc->data[i]))
            i++;
        size_t from = i;
        while (i < ov[3] && (isalnum((unsigned char)sc->data[i]) || sc->data[i] == '_'))
            i++;
        if (i > from && !isdigit((unsigned char)sc->data[from]))
            push(&sc->out->items, &sc->out->n, &sc->out->alloc, sc->file, &sc->cur, from,
                 xstrndup(sc->data + from, i - from));
        while (i < ov[3] && sc->data[i] != ',')
            i++;
    }
}

static bool has_suffix(const char *s, const char *suffix)
{
    size_t n = strlen(s), k = strlen(suffix);
    return n >= k && !strcmp(s + n - k, suffix);
}

static void scan_with(struct matcher *mt, const char *data, size_t len, const char *file,
                      struct envlint *out)
{
    struct scan sc = {data, file, len, false, {data, 0, 0, 1}, out};
    sc.bare_environ = pcre2_match(mt->imports, (PCRE2_SPTR)data, len, 0, 0, mt->md, NULL) >= 0;
    each_match(mt, mt->re, data, len, on_read, &sc);
    each_match(mt, mt->unresolved, data, len, on_unresolved, &sc);
    each_match(mt, mt->destructure, data, len, on_destructure, &sc);
    if (has_suffix(file, ".py"))
        envlint_pydantic(data, len, file, out);
}

void envlint_scan_buffer(const char *data, size_t len, const char *file, struct envlint *out)
{
    struct matcher mt;
    if (matcher_init(&mt) < 0)
        return;
    scan_with(&mt, data, len, file, out);
    matcher_release(&mt);
}

struct envlint_matcher {
    struct matcher mt;
};

struct envlint_matcher *envlint_matcher_new(void)
{
    struct envlint_matcher *m = xcalloc(1, sizeof(*m));
    if (matcher_init(&m->mt) < 0) {
        free(m);
        return NULL;
    }
    return m;
}

void envlint_scan_with(struct envlint_matcher *m, const char *data, size_t len, const char *file,
                       struct envlint *out)
{
    scan_with(&m->mt, data, len, file, out);
}

void envlint_matcher_free(struct envlint_matcher *m)
{
    if (!m)
        return;
    matcher_release(&m->mt);
    free(m);
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
        return fileio_not_source_dir(name) ? FILEIO_WALK_PRUNE : 0;
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
    for (size_t i = 0; i < l->nunresolved; i++) {
        free(l->unresolved[i].file);
        free(l->unresolved[i].name);
    }
    free(l->unresolved);
    memset(l, 0, sizeof(*l));
}
