/*
 * Builds: digests, SemVer, and their rows in the store.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "state/artifact.h"
#include "base/fileio.h"
#include "state/ledger.h"
#include "base/xalloc.h"
#include "base/banned.h"

#define SHORT_DIGEST 12

void artifact_release(struct artifact *a)
{
    free(a->digest);
    free(a->version);
    free(a->commit);
    free(a->path);
    free(a->kind);
    free(a->registered_at);
    free(a->registered_by);
    memset(a, 0, sizeof(*a));
}

static int hash_file(const char *path, char out[SHA256_HEX_LEN + 1], struct otap_err *err)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return otap_err_set(err, OTAP_EEXTERNAL, "cannot read '%s': %s", path, strerror(errno));
    struct sha256 h;
    sha256_init(&h);
    /* on the heap: the server hashes builds on many threads at once */
    enum { CHUNK = 1 << 16 };
    char *buf = xmalloc(CHUNK);
    ssize_t n;
    while ((n = read(fd, buf, CHUNK)) > 0)
        sha256_update(&h, buf, (size_t)n);
    int e = errno;
    free(buf);
    close(fd);
    sha256_final_hex(&h, out);
    if (n < 0)
        return otap_err_set(err, OTAP_EEXTERNAL, "cannot read '%s': %s", path, strerror(e));
    return 0;
}

struct walk {
    char **paths; /* relative to the root */
    size_t n, alloc;
};

static int collect_one(void *ctx, const char *path, const char *rel, const struct stat *st)
{
    (void)path;
    (void)st;
    struct walk *w = ctx;
    *XPUSH(&w->paths, &w->n, &w->alloc) = xstrdup(rel);
    return 0;
}

/* Every path below root; any that cannot be listed or stat'ed fails the digest. */
static int collect(const char *root, struct walk *w, struct otap_err *err)
{
    struct fileio_walk fw = {.visit = collect_one, .ctx = w};
    return fileio_walk(root, &fw, err);
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int hash_dir(const char *root, char out[SHA256_HEX_LEN + 1], struct otap_err *err)
{
    struct walk w = {0};
    int rc = collect(root, &w, err);
    if (rc == 0)
        qsort(w.paths, w.n, sizeof(*w.paths), cmp_str);
    struct sha256 h;
    sha256_init(&h);
    for (size_t i = 0; rc == 0 && i < w.n; i++) {
        char *full = xasprintf("%s/%s", root, w.paths[i]);
        struct stat st;
        char content[SHA256_HEX_LEN + 1] = "";
        char type = '?';
        if (lstat(full, &st) < 0) {
            rc = otap_err_set(err, OTAP_EEXTERNAL, "cannot stat '%s': %s", full, strerror(errno));
        } else if (S_ISREG(st.st_mode)) {
            type = 'f';
            rc = hash_file(full, content, err);
        } else if (S_ISLNK(st.st_mode)) {
            type = 'l';
            char target[PATH_MAX];
            ssize_t n = readlink(full, target, sizeof(target));
            if (n < 0)
                rc = otap_err_set(err, OTAP_EEXTERNAL, "cannot read link '%s': %s", full,
                                  strerror(errno));
            else
                sha256_hex(target, (size_t)n, content);
        } else if (S_ISDIR(st.st_mode)) {
            type = 'd';
        } else {
            rc = otap_err_set(err, OTAP_EINVALID,
                              "'%s' is neither a file, a directory nor a link: a build holds "
                              "only those",
                              full);
        }
        if (rc == 0) {
            char head[16];
            int len = snprintf(head, sizeof(head), "%c%c%04o%c", type, 0,
                               (unsigned)(st.st_mode & 07777), 0);
            sha256_update(&h, head, (size_t)len);
            sha256_update(&h, content, strlen(content) + 1);
            sha256_update(&h, w.paths[i], strlen(w.paths[i]) + 1);
        }
        free(full);
    }
    sha256_final_hex(&h, out);
    xfree_strv(w.paths, w.n);
    return rc;
}

int artifact_digest_path(const char *path, char **digest, const char **kind, struct otap_err *err)
{
    struct stat st;
    if (stat(path, &st) < 0)
        return otap_err_set(err, errno == ENOENT ? OTAP_ENOTFOUND : OTAP_EEXTERNAL,
                            "cannot read build '%s': %s", path, strerror(errno));
    char hex[SHA256_HEX_LEN + 1];
    int rc;
    if (S_ISDIR(st.st_mode)) {
        *kind = "dir";
        rc = hash_dir(path, hex, err);
    } else if (S_ISREG(st.st_mode)) {
        *kind = "file";
        rc = hash_file(path, hex, err);
    } else {
        return otap_err_set(err, OTAP_EUSAGE, "build '%s' is neither a file nor a directory", path);
    }
    if (rc == 0)
        *digest = xasprintf("sha256:%s", hex);
    return rc;
}

char *artifact_label(const struct artifact *a)
{
    const char *hex = strncmp(a->digest, "sha256:", 7) ? a->digest : a->digest + 7;
    if (a->version)
        return xasprintf("%s (sha256:%.*s)", a->version, SHORT_DIGEST, hex);
    return xasprintf("sha256:%.*s", SHORT_DIGEST, hex);
}

#define ARTIFACT_COLS "digest, version, commit_id, path, kind, registered_at, registered_by"

static void from_row(const struct store_rows *r, size_t i, struct artifact *a)
{
    a->digest = store_cell_dup(r, i, 0);
    a->version = store_cell_dup(r, i, 1);
    a->commit = store_cell_dup(r, i, 2);
    a->path = store_cell_dup(r, i, 3);
    a->kind = store_cell_dup(r, i, 4);
    a->registered_at = store_cell_dup(r, i, 5);
    a->registered_by = store_cell_dup(r, i, 6);
}

static bool is_hex(const char *s, size_t min)
{
    size_t n = strspn(s, "0123456789abcdef");
    return n >= min && s[n] == '\0';
}

int artifact_find(struct store *s, const char *ref, struct artifact *out, struct otap_err *err)
{
    memset(out, 0, sizeof(*out));
    const char *hex = !strncmp(ref, "sha256:", 7) ? ref + 7 : ref;
    struct store_rows r;
    int rc;
    if (is_hex(hex, 7) && hex[0]) {
        char *like = xasprintf("sha256:%s%%", hex);
        const char *p[] = {like};
        rc = store_exec(s, "SELECT " ARTIFACT_COLS " FROM otap_artifacts WHERE digest LIKE $1", p,
                        1, &r, err);
        free(like);
    } else {
        const char *v = *ref == 'v' ? ref + 1 : ref;
        const char *p[] = {v};
        rc = store_exec(s, "SELECT " ARTIFACT_COLS " FROM otap_artifacts WHERE version = $1", p, 1,
                        &r, err);
    }
    if (rc < 0)
        return rc;
    if (r.nrows == 0 && strlen(hex) == 40 && is_hex(hex, 40)) {
        /* a full commit id: the build CI registered for that commit (otap gen github) */
        store_rows_release(&r);
        const char *p[] = {hex};
        rc = store_exec(s, "SELECT " ARTIFACT_COLS " FROM otap_artifacts WHERE commit_id = $1", p,
                        1, &r, err);
        if (rc < 0)
            return rc;
    }
    if (r.nrows == 1)
        from_row(&r, 0, out);
    else if (r.nrows == 0)
        rc = otap_err_set(err, OTAP_ENOTFOUND,
                          "no registered build is '%s' ('otap artifact list' shows them)", ref);
    else
        rc = otap_err_set(err, OTAP_EUSAGE,
                          "'%s' matches %zu builds: give more digits of the digest (or the "
                          "version)",
                          ref, r.nrows);
    store_rows_release(&r);
    return rc;
}

int artifact_list(struct store *s, struct artifact **out, size_t *n, struct otap_err *err)
{
    struct store_rows r;
    int rc = store_exec(
        s, "SELECT " ARTIFACT_COLS " FROM otap_artifacts ORDER BY registered_at DESC, digest", NULL,
        0, &r, err);
    if (rc < 0)
        return rc;
    *out = xcalloc(r.nrows ? r.nrows : 1, sizeof(**out));
    *n = r.nrows;
    for (size_t i = 0; i < r.nrows; i++)
        from_row(&r, i, &(*out)[i]);
    store_rows_release(&r);
    return 0;
}

int artifact_register(struct store *s, const struct artifact *a, const char *actor, bool *created,
                      struct otap_err *err)
{
    *created = false;
    int rc = store_begin(s, err);
    if (rc < 0)
        return rc;
    struct store_rows r = {0};
    const char *p[] = {a->digest, a->version};
    rc = store_exec(s,
                    "SELECT digest, version FROM otap_artifacts WHERE digest = $1 OR version = "
                    "CAST($2 AS text)",
                    p, 2, &r, err);
    for (size_t i = 0; rc == 0 && i < r.nrows; i++) {
        const char *d = store_cell(&r, i, 0), *v = store_cell(&r, i, 1);
        if (!strcmp(d, a->digest)) {
            if ((v == NULL) != (a->version == NULL) || (v && strcmp(v, a->version)))
                rc = otap_err_set(err, OTAP_EREFUSED,
                                  "build %s is already registered as version %s: one build, "
                                  "one version",
                                  a->digest, v ? v : "(none)");
        } else {
            rc = otap_err_set(err, OTAP_EREFUSED,
                              "version %s is already build %s: a version names one build",
                              a->version, d);
        }
    }
    bool exists = r.nrows > 0;
    store_rows_release(&r);
    if (rc == 0 && !exists) {
        char at[32];
        store_time_now(at);
        const char *q[] = {a->digest, a->version, a->commit, a->path, a->kind, at, actor};
        rc = store_exec(
            s, "INSERT INTO otap_artifacts (" ARTIFACT_COLS ") VALUES ($1, $2, $3, $4, $5, $6, $7)",
            q, 7, NULL, err);
        if (rc == 0)
            rc = ledger_append(s, actor, "artifact.register", NULL, a->digest,
                               json_pack("{s:s?, s:s?, s:s?, s:s}", "version", a->version, "commit",
                                         a->commit, "path", a->path, "kind", a->kind),
                               NULL, err);
        *created = rc == 0;
    }
    rc = store_end(s, rc, err);
    if (rc < 0)
        *created = false;
    return rc;
}
