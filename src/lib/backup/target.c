/*
 * Backup targets (target.h): the front, and the directory kind.
 */
#include "backup/target_impl.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/fileio.h"
#include "base/strbuf.h"
#include "base/xalloc.h"
#include "base/banned.h"

#define SMALL_MAX (16u << 20)

struct bk_object *bk_objects_push(struct bk_objects *o)
{
    struct bk_object *x = XPUSH(&o->items, &o->n, &o->alloc);
    memset(x, 0, sizeof(*x));
    return x;
}

void bk_objects_release(struct bk_objects *o)
{
    for (size_t i = 0; i < o->n; i++) {
        free(o->items[i].name);
        free(o->items[i].upload_id);
    }
    free(o->items);
    memset(o, 0, sizeof(*o));
}

/* ---- dir: ------------------------------------------------------------------------------------ */

/* A name a target accepts: no path of its own, nothing hidden. */
static bool name_ok(const char *name)
{
    return *name && *name != '.' && !strchr(name, '/');
}

static int dir_list(struct bk_target *t, struct bk_objects *out, struct otap_err *err)
{
    DIR *d = opendir(t->path);
    if (!d) {
        if (errno == ENOENT)
            return 0; /* no backup yet */
        return otap_err_set(err, OTAP_EEXTERNAL, "cannot list %s: %s", t->name, strerror(errno));
    }
    struct dirent *e;
    while ((e = readdir(d))) {
        if (!name_ok(e->d_name))
            continue;
        char *p = xasprintf("%s/%s", t->path, e->d_name);
        struct stat st;
        if (stat(p, &st) == 0 && S_ISREG(st.st_mode)) {
            struct bk_object *o = bk_objects_push(out);
            o->name = xstrdup(e->d_name);
            o->size = (long long)st.st_size;
            o->mtime = st.st_mtime;
        }
        free(p);
    }
    closedir(d);
    return 0;
}

static int dir_remove(struct bk_target *t, const struct bk_object *o, struct otap_err *err)
{
    if (!name_ok(o->name))
        return otap_err_set(err, OTAP_EUSAGE, "'%s' is not a backup object", o->name);
    char *p = xasprintf("%s/%s", t->path, o->name);
    int rc = 0;
    if (unlink(p) < 0 && errno != ENOENT)
        rc = otap_err_set(err, OTAP_EEXTERNAL, "cannot remove %s: %s", p, strerror(errno));
    free(p);
    return rc;
}

static int dir_get(struct bk_target *t, const char *name, bk_chunk_fn fn, void *ctx,
                   long long *size, struct otap_err *err)
{
    *size = 0;
    if (!name_ok(name))
        return otap_err_set(err, OTAP_EUSAGE, "'%s' is not a backup object", name);
    char *p = xasprintf("%s/%s", t->path, name);
    int fd = open(p, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        int e = errno;
        int rc = otap_err_set(err, e == ENOENT ? OTAP_ENOTFOUND : OTAP_EEXTERNAL,
                              "cannot read %s: %s", p, strerror(e));
        free(p);
        return rc;
    }
    free(p);
    unsigned char *buf = xmalloc(1u << 20);
    int rc = 0;
    for (;;) {
        ssize_t n = read(fd, buf, 1u << 20);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            rc = otap_err_set(err, OTAP_EEXTERNAL, "cannot read %s/%s: %s", t->name, name,
                              strerror(errno));
            break;
        }
        if (n == 0)
            break;
        *size += n;
        int r = fn(ctx, buf, (size_t)n);
        if (r) {
            rc = r < 0 ? r : 0;
            break;
        }
    }
    free(buf);
    close(fd);
    return rc;
}

static int dir_put_begin(struct bk_target *t, const char *name, struct bk_put **out,
                         struct otap_err *err)
{
    if (!name_ok(name))
        return otap_err_set(err, OTAP_EUSAGE, "'%s' is not a backup object", name);
    int rc = fileio_mkdirs(t->path, t->name, err);
    if (rc < 0)
        return rc;
    char *p = xasprintf("%s/%s", t->path, name);
    /* 0600: a dump holds the whole database */
    int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) {
        rc = otap_err_set(err, OTAP_EEXTERNAL, "cannot write %s: %s", p, strerror(errno));
        free(p);
        return rc;
    }
    free(p);
    struct bk_put *put = xcalloc(1, sizeof(*put));
    put->t = t;
    put->name = xstrdup(name);
    put->fd = fd;
    *out = put;
    return 0;
}

static int dir_put_write(struct bk_put *p, const void *data, size_t len, struct otap_err *err)
{
    const char *d = data;
    while (len) {
        ssize_t n = write(p->fd, d, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return otap_err_set(err, OTAP_EEXTERNAL, "cannot write %s/%s: %s", p->t->name, p->name,
                                strerror(errno));
        d += n;
        len -= (size_t)n;
    }
    return 0;
}

static void put_free(struct bk_put *p)
{
    free(p->name);
    free(p);
}

static int dir_put_finish(struct bk_put *p, struct otap_err *err)
{
    int rc = 0;
    /* on disk before the catalog says it is there */
    if (fsync(p->fd) < 0 || close(p->fd) < 0)
        rc = otap_err_set(err, OTAP_EEXTERNAL, "cannot write %s/%s: %s", p->t->name, p->name,
                          strerror(errno));
    put_free(p);
    return rc;
}

static void dir_put_abort(struct bk_put *p)
{
    close(p->fd);
    struct bk_object o = {.name = p->name};
    struct otap_err err = OTAP_ERR_INIT;
    dir_remove(p->t, &o, &err);
    otap_err_release(&err);
    put_free(p);
}

static void dir_close(struct bk_target *t)
{
    (void)t;
}

static const struct bk_target_ops dir_ops = {
    .list = dir_list,
    .remove = dir_remove,
    .get = dir_get,
    .put_begin = dir_put_begin,
    .put_write = dir_put_write,
    .put_finish = dir_put_finish,
    .put_abort = dir_put_abort,
    .close = dir_close,
};

/* ---- the front ------------------------------------------------------------------------------- */

int bk_target_open(struct bk_target **out, const struct bk_target_cfg *cfg, struct otap_err *err)
{
    *out = NULL;
    struct bk_target *t = xcalloc(1, sizeof(*t));
    t->part_size = cfg->part_size ? cfg->part_size : 8u << 20;
    int rc = 0;
    if (!strncmp(cfg->target, "dir:", 4) && cfg->target[4]) {
        const char *p = cfg->target + 4;
        t->path = p[0] == '/' ? xstrdup(p) : xasprintf("%s/%s", cfg->root, p);
        t->name = xstrdup(cfg->target);
        t->ops = &dir_ops;
    } else if (!strncmp(cfg->target, "s3://", 5)) {
        rc = bk_s3_open(t, cfg, err);
    } else {
        rc = otap_err_set(err, OTAP_EINVALID,
                          "backup target '%s' is neither dir:PATH nor s3://BUCKET/PREFIX",
                          cfg->target);
    }
    if (rc < 0) {
        bk_target_close(t);
        return rc;
    }
    *out = t;
    return 0;
}

void bk_target_close(struct bk_target *t)
{
    if (!t)
        return;
    if (t->ops)
        t->ops->close(t);
    free(t->name);
    free(t->path);
    free(t);
}

const char *bk_target_name(const struct bk_target *t)
{
    return t->name;
}

int bk_list(struct bk_target *t, struct bk_objects *out, struct otap_err *err)
{
    memset(out, 0, sizeof(*out));
    return t->ops->list(t, out, err);
}

int bk_delete(struct bk_target *t, const struct bk_object *o, struct otap_err *err)
{
    return t->ops->remove(t, o, err);
}

int bk_delete_name(struct bk_target *t, const char *name, struct otap_err *err)
{
    struct bk_object o = {.name = (char *)name};
    return t->ops->remove(t, &o, err);
}

int bk_get(struct bk_target *t, const char *name, bk_chunk_fn fn, void *ctx, long long *size,
           struct otap_err *err)
{
    long long ignored;
    return t->ops->get(t, name, fn, ctx, size ? size : &ignored, err);
}

static int gather(void *ctx, const unsigned char *data, size_t len)
{
    struct strbuf *sb = ctx;
    if (sb->len + len > SMALL_MAX)
        return OTAP_EINVALID;
    strbuf_add(sb, data, len);
    return 0;
}

int bk_get_small(struct bk_target *t, const char *name, char **data, size_t *len,
                 struct otap_err *err)
{
    struct strbuf sb = STRBUF_INIT;
    int rc = bk_get(t, name, gather, &sb, NULL, err);
    if (rc == OTAP_EINVALID)
        rc = otap_err_set(err, rc, "%s/%s is larger than 16 MiB", t->name, name);
    if (rc < 0) {
        strbuf_release(&sb);
        return rc;
    }
    *data = strbuf_detach(&sb, len);
    return 0;
}

int bk_put_small(struct bk_target *t, const char *name, const void *data, size_t len,
                 struct otap_err *err)
{
    struct bk_put *p;
    int rc = bk_put_begin(t, name, &p, err);
    if (rc < 0)
        return rc;
    if ((rc = bk_put_write(p, data, len, err)) < 0) {
        bk_put_abort(p);
        return rc;
    }
    return bk_put_finish(p, err);
}

int bk_put_begin(struct bk_target *t, const char *name, struct bk_put **out, struct otap_err *err)
{
    return t->ops->put_begin(t, name, out, err);
}

int bk_put_write(struct bk_put *p, const void *data, size_t len, struct otap_err *err)
{
    return p->t->ops->put_write(p, data, len, err);
}

int bk_put_finish(struct bk_put *p, struct otap_err *err)
{
    return p->t->ops->put_finish(p, err);
}

void bk_put_abort(struct bk_put *p)
{
    p->t->ops->put_abort(p);
}
