/*
 * Atomic file writes shared by every command that writes a file the user
 * keeps (otap init, otap env sync): none of them may leave half a file.
 */
#include "base/fileio.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/xalloc.h"
#include "base/banned.h"

int fileio_write(const char *path, const char *data, size_t len, bool no_clobber, int mode,
                 struct otap_err *err)
{
    char *tmp = xasprintf("%s.tmp.%ld", path, (long)getpid());
    int rc = 0;
    struct stat st;
    if (!no_clobber && stat(path, &st) == 0)
        mode = (int)(st.st_mode & 07777); /* a rewrite keeps the file's mode */
    int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
    if (fd < 0) {
        rc = otap_err_set(err, OTAP_EEXTERNAL, "cannot create '%s': %s", path, strerror(errno));
        goto out;
    }
    size_t off = 0;
    while (off < len) {
        ssize_t n = write(fd, data + off, len - off);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            rc = otap_err_set(err, OTAP_EEXTERNAL, "cannot write '%s': %s", path,
                              strerror(n < 0 ? errno : EIO));
            break;
        }
        off += (size_t)n;
    }
    if (!rc && fsync(fd) < 0)
        rc = otap_err_set(err, OTAP_EEXTERNAL, "cannot write '%s': %s", path, strerror(errno));
    if (close(fd) < 0 && !rc)
        rc = otap_err_set(err, OTAP_EEXTERNAL, "cannot write '%s': %s", path, strerror(errno));
    if (!rc && no_clobber && link(tmp, path) < 0) {
        if (errno == EEXIST)
            rc = otap_err_set(err, OTAP_EREFUSED, "'%s' already exists; it is never overwritten",
                              path);
        else
            rc = otap_err_set(err, OTAP_EEXTERNAL, "cannot create '%s': %s", path, strerror(errno));
    } else if (!rc && !no_clobber && rename(tmp, path) < 0) {
        rc = otap_err_set(err, OTAP_EEXTERNAL, "cannot replace '%s': %s", path, strerror(errno));
    }
    unlink(tmp);
out:
    free(tmp);
    return rc;
}

int fileio_mkdirs(const char *path, const char *shown, struct otap_err *err)
{
    char *p = xstrdup(path);
    int rc = 0;
    for (char *s = p + 1;; s++) {
        if (*s != '/' && *s != '\0')
            continue;
        char c = *s;
        *s = '\0';
        if (mkdir(p, 0777) < 0 && errno != EEXIST) {
            rc =
                otap_err_set(err, OTAP_EEXTERNAL, "cannot create '%s': %s", shown, strerror(errno));
            break;
        }
        *s = c;
        if (!c)
            break;
    }
    free(p);
    return rc;
}

static int by_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static char *join(const char *dir, const char *name)
{
    if (!*dir || !strcmp(dir, "."))
        return xstrdup(name);
    size_t n = strlen(dir);
    return xasprintf("%s%s%s", dir, dir[n - 1] == '/' ? "" : "/", name);
}

/* A problem with path: the caller's to note, or the end of the walk. */
static int walk_problem(const struct fileio_walk *w, const char *what, const char *path, int e,
                        struct otap_err *err)
{
    if (w->error) {
        w->error(w->ctx, path, e);
        return 0;
    }
    return otap_err_set(err, OTAP_EEXTERNAL, "cannot %s '%s': %s", what, path, strerror(e));
}

static int walk_dir(const char *path, const char *rel, int depth, const struct fileio_walk *w,
                    struct otap_err *err)
{
    DIR *d = opendir(path);
    if (!d)
        return walk_problem(w, "list", path, errno, err);
    char **names = NULL;
    size_t n = 0, alloc = 0;
    struct dirent *de;
    while ((de = readdir(d)))
        if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
            *XPUSH(&names, &n, &alloc) = xstrdup(de->d_name);
    closedir(d);
    if (n)
        qsort(names, n, sizeof(char *), by_name);
    int rc = 0;
    for (size_t i = 0; rc >= 0 && i < n; i++) {
        char *child = join(path, names[i]);
        char *crel = *rel ? xasprintf("%s/%s", rel, names[i]) : xstrdup(names[i]);
        struct stat st;
        if (lstat(child, &st) < 0) {
            rc = walk_problem(w, "stat", child, errno, err);
        } else {
            rc = w->visit(w->ctx, child, crel, &st);
            if (rc == 0 && S_ISDIR(st.st_mode) && depth < (w->max_depth ? w->max_depth : 256))
                rc = walk_dir(child, crel, depth + 1, w, err);
        }
        free(crel);
        free(child);
    }
    xfree_strv(names, n);
    return rc < 0 ? rc : 0;
}

int fileio_walk(const char *root, const struct fileio_walk *w, struct otap_err *err)
{
    return walk_dir(root, "", 1, w, err);
}

bool fileio_not_source_dir(const char *name)
{
    static const char *const dirs[] = {".git",        "node_modules", ".venv",  "venv",
                                       "__pycache__", ".otap",        "dist",   "target",
                                       "vendor",      "third_party",  ".cache", NULL};
    if (!strncmp(name, "build", 5))
        return true;
    for (int i = 0; dirs[i]; i++)
        if (!strcmp(name, dirs[i]))
            return true;
    return false;
}
