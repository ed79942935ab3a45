/*
 * Environment reads in source files, found with one JIT-compiled PCRE2
 * pattern over whole files (read once, no per-line work), so linting a
 * tree costs about as much as reading it.
 */
#include "config/envlint.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <dirent.h>
#include <errno.h>
#include <pcre2.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

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

static int scan_path(struct matcher *mt, const char *path, struct envlint *out, int depth)
{
    struct stat st;
    if (lstat(path, &st) < 0)
        return -1;
    if (S_ISLNK(st.st_mode))
        return 0; /* links may loop or leave the tree */
    if (S_ISDIR(st.st_mode)) {
        if (depth > 64)
            return 0;
        DIR *d = opendir(path);
        if (!d)
            return depth ? 0 : -1;
        struct dirent *de;
        char **names = NULL;
        size_t n = 0, alloc = 0;
        while ((de = readdir(d))) {
            if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
                continue;
            bool skip = false;
            for (int i = 0; skip_dirs[i]; i++)
                skip |= !strcmp(de->d_name, skip_dirs[i]);
            skip |= !strncmp(de->d_name, "build", 5);
            if (!skip)
                *XPUSH(&names, &n, &alloc) = xstrdup(de->d_name);
        }
        closedir(d);
        /* sorted, so the report is the same on every machine */
        for (size_t i = 1; i < n; i++)
            for (size_t j = i; j > 0 && strcmp(names[j - 1], names[j]) > 0; j--) {
                char *t = names[j];
                names[j] = names[j - 1];
                names[j - 1] = t;
            }
        for (size_t i = 0; i < n; i++) {
            char *child =
                strcmp(path, ".") ? xasprintf("%s/%s", path, names[i]) : xstrdup(names[i]);
            scan_path(mt, child, out, depth + 1);
            free(child);
        }
        xfree_strv(names, n);
        return 0;
    }
    if (!S_ISREG(st.st_mode))
        return 0;
    if ((size_t)st.st_size > MAX_FILE) {
        out->skipped++;
        return 0;
    }
    struct strbuf sb = STRBUF_INIT;
    if (strbuf_read_file(&sb, path, MAX_FILE) < 0) {
        strbuf_release(&sb);
        return depth ? 0 : -1;
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

int envlint_scan(const char *const *paths, size_t npaths, struct envlint *out, struct otap_err *err)
{
    struct matcher mt;
    if (matcher_init(&mt) < 0)
        return otap_err_set(err, OTAP_EEXTERNAL, "cannot compile the environment-read pattern");
    int rc = 0;
    for (size_t i = 0; i < npaths && !rc; i++)
        if (scan_path(&mt, paths[i], out, 0) < 0)
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
