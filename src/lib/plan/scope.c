/*
 * Scope fences (scope.h).
 */
#include "plan/scope.h"

#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/glob.h"
#include "base/strbuf.h"
#include "base/xalloc.h"
#include "config/envlint.h"
#include "vcs/vcs_worktree.h"
#include "base/banned.h"

#define MAX_FILE (8u << 20)

bool scope_allowed(const char *path, char *const *allow, size_t nallow)
{
    for (size_t i = 0; i < nallow; i++) {
        const char *g = allow[i];
        size_t n = strlen(g);
        if (n && g[n - 1] == '/') {
            char *deep = xasprintf("%s**", g);
            bool ok = glob_match(deep, path);
            free(deep);
            if (ok)
                return true;
        } else if (glob_match(g, path)) {
            return true;
        }
    }
    return false;
}

static void violation(struct scope_result *r, const char *file, int line, char *msg)
{
    struct scope_violation *v = XPUSH(&r->items, &r->n, &r->alloc);
    v->file = xstrdup(file);
    v->line = line;
    v->message = msg;
}

static bool in_contract(const struct manifest *m, const char *name)
{
    for (size_t k = 0; k < m->nconfig; k++) {
        if (!strcmp(m->config[k].name, name))
            return true;
        for (size_t a = 0; a < m->config[k].naliases; a++)
            if (!strcmp(m->config[k].aliases[a], name))
                return true;
    }
    return envlint_is_system_var(name) != 0;
}

/* New environment reads in one changed file: names read now, not then, not in the contract. */
static void new_reads(const struct manifest *m, struct envlint_matcher *mt, const char *root,
                      const char *path, const char *merge_base, struct scope_result *r)
{
    /* one open and one fstat: the walk over a large change is system calls, not scanning */
    char *full = xasprintf("%s/%s", root, path);
    int fd = open(full, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    free(full);
    struct stat st;
    char *now = NULL;
    size_t len = 0;
    if (fd >= 0 && fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && (size_t)st.st_size <= MAX_FILE) {
        now = xmalloc((size_t)st.st_size + 1);
        ssize_t got = read(fd, now, (size_t)st.st_size);
        len = got > 0 ? (size_t)got : 0;
        now[len] = '\0';
        if (got < 0 || memchr(now, '\0', len < 8192 ? len : 8192)) { /* unreadable, or binary */
            free(now);
            now = NULL;
        }
    }
    if (fd >= 0)
        close(fd);
    if (!now)
        return;
    struct envlint after = {0}, before = {0};
    envlint_scan_with(mt, now, len, path, &after);
    free(now);
    bool any = false;
    for (size_t i = 0; i < after.n && !any; i++)
        any = !in_contract(m, after.items[i].name);
    if (any) {
        char *old = NULL;
        size_t olen = 0;
        bool found = false;
        struct otap_err err = OTAP_ERR_INIT;
        if (vcs_blob_at(root, merge_base, path, &old, &olen, &found, &err) == 0 && found)
            envlint_scan_with(mt, old, olen, path, &before);
        otap_err_release(&err);
        free(old);
        for (size_t i = 0; i < after.n; i++) {
            const char *name = after.items[i].name;
            if (in_contract(m, name))
                continue;
            bool had = false;
            for (size_t k = 0; k < before.n && !had; k++)
                had = !strcmp(before.items[k].name, name);
            if (!had)
                violation(r, path, after.items[i].line,
                          xasprintf("reads '%s', which the config contract does not name: a new "
                                    "environment variable needs review (add it to otap.yaml's "
                                    "config, or leave it out)",
                                    name));
        }
    }
    envlint_release(&after);
    envlint_release(&before);
}

/* Is each line that differs between then and now a "status: ..." line? */
static bool only_status_changed(const char *then, const char *now)
{
    for (;;) {
        size_t a = strcspn(then, "\n"), b = strcspn(now, "\n");
        if (a != b || memcmp(then, now, a)) {
            const char *x = then + strspn(then, " \t"), *y = now + strspn(now, " \t");
            if (strncmp(x, "status:", 7) || strncmp(y, "status:", 7))
                return false;
        }
        if (!then[a] || !now[b])
            return !then[a] && !now[b];
        then += a + 1;
        now += b + 1;
    }
}

static bool status_only(const char *root, const char *path, const char *merge_base)
{
    char *full = xasprintf("%s/%s", root, path), *old = NULL;
    struct strbuf now = STRBUF_INIT;
    size_t len = 0;
    bool found = false, same = false;
    struct otap_err err = OTAP_ERR_INIT;
    if (strbuf_read_file(&now, full, MAX_FILE) == 0 &&
        vcs_blob_at(root, merge_base, path, &old, &len, &found, &err) == 0 && found)
        same = only_status_changed(old, now.buf ? now.buf : "");
    otap_err_release(&err);
    strbuf_release(&now);
    free(old);
    free(full);
    return same;
}

int scope_check(const struct manifest *m, const char *base, char *const *allow, size_t nallow,
                struct scope_result *out, struct otap_err *err)
{
    return scope_check_registry(m, base, allow, nallow, NULL, out, err);
}

int scope_check_registry(const struct manifest *m, const char *base, char *const *allow,
                         size_t nallow, const char *registry, struct scope_result *out,
                         struct otap_err *err)
{
    memset(out, 0, sizeof(*out));
    char *root = NULL;
    int rc = vcs_root(m->dir, &root, err);
    if (rc < 0)
        return rc;
    struct vcs_change *ch = NULL;
    size_t n = 0;
    rc = vcs_changes(root, base, &out->merge_base, &ch, &n, err);
    if (rc < 0) {
        free(root);
        return rc;
    }
    out->changed = n;
    struct envlint_matcher *mt = envlint_matcher_new();
    if (!mt) {
        vcs_changes_release(ch, n);
        free(root);
        return otap_err_set(err, OTAP_EEXTERNAL, "cannot compile env lint's patterns");
    }
    for (size_t i = 0; i < n; i++) {
        if (!scope_allowed(ch[i].path, allow, nallow) &&
            !(registry && ch[i].status == 'M' && !strcmp(ch[i].path, registry) &&
              status_only(root, ch[i].path, out->merge_base)))
            violation(out, ch[i].path, 0,
                      xasprintf("%s outside the allowed paths", ch[i].status == 'D'   ? "deleted"
                                                                : ch[i].status == 'A' ? "added"
                                                                                      : "changed"));
        if (ch[i].status != 'D')
            new_reads(m, mt, root, ch[i].path, out->merge_base, out);
    }
    envlint_matcher_free(mt);
    vcs_changes_release(ch, n);
    free(root);
    return 0;
}

void scope_result_release(struct scope_result *r)
{
    for (size_t i = 0; i < r->n; i++) {
        free(r->items[i].file);
        free(r->items[i].message);
    }
    free(r->items);
    free(r->merge_base);
    memset(r, 0, sizeof(*r));
}
