/*
 * Policies over files (policy.h), each pattern compiled once with PCRE2
 * (multi-line, so ^ and $ are lines) and run over whole files.
 */
#define PCRE2_CODE_UNIT_WIDTH 8
#include "ci/policy.h"

#include <errno.h>
#include <pcre2.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "base/fileio.h"
#include "base/glob.h"
#include "base/strbuf.h"
#include "base/xalloc.h"
#include "vcs/vcs_files.h"
#include "base/banned.h"

/* Files larger than this are not read: policies are about source. */
#define POLICY_MAX_FILE (4u << 20)

struct files {
    char **items;
    size_t n, alloc;
};

static int visit(void *ctx, const char *path, const char *rel, const struct stat *st)
{
    (void)path;
    struct files *f = ctx;
    const char *base = strrchr(rel, '/');
    base = base ? base + 1 : rel;
    if (S_ISDIR(st->st_mode))
        return base[0] == '.' || !strcmp(base, "node_modules") ? FILEIO_WALK_PRUNE : 0;
    if (S_ISREG(st->st_mode))
        *XPUSH(&f->items, &f->n, &f->alloc) = xstrdup(rel);
    return 0;
}

static int line_of(const char *text, size_t at)
{
    int line = 1;
    for (size_t i = 0; i < at; i++)
        line += text[i] == '\n';
    return line;
}

static void add(struct policy_report *r, const struct manifest_policy *p, const char *file,
                int line, const char *excerpt, size_t elen)
{
    struct policy_finding *f = XPUSH(&r->items, &r->n, &r->alloc);
    f->rule = p;
    f->file = xstrdup(file);
    f->line = line;
    f->excerpt = excerpt ? xstrndup(excerpt, elen > 120 ? 120 : elen) : NULL;
}

static void check_file(struct policy_report *r, const struct manifest_policy *p, pcre2_code *rx,
                       pcre2_match_data *md, const char *file, const char *text, size_t len)
{
    if (!p->must_not) {
        if (pcre2_match(rx, (PCRE2_SPTR)text, len, 0, 0, md, NULL) < 0)
            add(r, p, file, 1, NULL, 0);
        return;
    }
    PCRE2_SIZE at = 0;
    int last_line = 0;
    while (at <= len && pcre2_match(rx, (PCRE2_SPTR)text, len, at, 0, md, NULL) >= 0) {
        PCRE2_SIZE *ov = pcre2_get_ovector_pointer(md);
        int line = line_of(text, ov[0]);
        if (line != last_line) {
            /* one finding per line, with the line itself */
            size_t s = ov[0];
            while (s > 0 && text[s - 1] != '\n')
                s--;
            size_t e = ov[0];
            while (e < len && text[e] != '\n')
                e++;
            add(r, p, file, line, text + s, e - s);
            last_line = line;
        }
        at = ov[1] > ov[0] ? ov[1] : ov[0] + 1;
    }
}

int policy_check(const struct manifest *m, const char *dir, const char *since,
                 struct policy_report *out, struct otap_err *err)
{
    memset(out, 0, sizeof(*out));
    struct files f = {0};
    struct otap_err e = OTAP_ERR_INIT;
    int rc = vcs_files(dir, since, &f.items, &f.n, &e);
    if (rc < 0 && since) {
        otap_err_set(err, e.code, "%s", e.msg);
        otap_err_release(&e);
        return rc;
    }
    if (rc < 0) {
        /* no repository: the files on disk */
        struct fileio_walk w = {.visit = visit, .ctx = &f};
        rc = fileio_walk(dir, &w, err);
        if (rc < 0) {
            otap_err_release(&e);
            xfree_strv(f.items, f.n);
            return rc;
        }
    }
    otap_err_release(&e);
    pcre2_match_data *md = pcre2_match_data_create(16, NULL);
    bool *read = xcalloc(f.n ? f.n : 1, sizeof(*read)); /* files counted once */
    for (size_t i = 0; i < m->npolicies; i++) {
        const struct manifest_policy *p = &m->policies[i];
        int code;
        PCRE2_SIZE off;
        pcre2_code *rx = pcre2_compile((PCRE2_SPTR)p->pattern, PCRE2_ZERO_TERMINATED,
                                       PCRE2_MULTILINE, &code, &off, NULL);
        if (!rx)
            continue; /* the manifest refused it already */
        for (size_t k = 0; k < f.n; k++) {
            if (!glob_match(p->files, f.items[k]))
                continue;
            char *path =
                !strcmp(dir, ".") ? xstrdup(f.items[k]) : xasprintf("%s/%s", dir, f.items[k]);
            struct strbuf sb = STRBUF_INIT;
            if (strbuf_read_file(&sb, path, POLICY_MAX_FILE) == 0 &&
                !memchr(sb.buf, '\0', sb.len < 8192 ? sb.len : 8192)) {
                out->files_checked += !read[k];
                read[k] = true;
                check_file(out, p, rx, md, f.items[k], sb.buf, sb.len);
            }
            strbuf_release(&sb);
            free(path);
        }
        pcre2_code_free(rx);
    }
    pcre2_match_data_free(md);
    free(read);
    xfree_strv(f.items, f.n);
    return 0;
}

void policy_report_release(struct policy_report *r)
{
    for (size_t i = 0; i < r->n; i++) {
        free(r->items[i].file);
        free(r->items[i].excerpt);
    }
    free(r->items);
    memset(r, 0, sizeof(*r));
}
