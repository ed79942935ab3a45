/*
 * Inside the backup targets: what each kind provides. Only target.c and
 * the kinds (target_dir in target.c, s3.c) include this.
 */
#ifndef OTAP_BACKUP_TARGET_IMPL_H
#define OTAP_BACKUP_TARGET_IMPL_H

#include "backup/target.h"

struct bk_target_ops {
    int (*list)(struct bk_target *t, struct bk_objects *out, struct otap_err *err);
    int (*remove)(struct bk_target *t, const struct bk_object *o, struct otap_err *err);
    int (*get)(struct bk_target *t, const char *name, bk_chunk_fn fn, void *ctx, long long *size,
               struct otap_err *err);
    int (*put_begin)(struct bk_target *t, const char *name, struct bk_put **out,
                     struct otap_err *err);
    int (*put_write)(struct bk_put *p, const void *data, size_t len, struct otap_err *err);
    int (*put_finish)(struct bk_put *p, struct otap_err *err);
    void (*put_abort)(struct bk_put *p);
    void (*close)(struct bk_target *t);
};

struct bk_target {
    const struct bk_target_ops *ops;
    char *name; /* as shown */
    char *path; /* dir: the directory */
    void *impl; /* s3: its own state */
    size_t part_size;
};

/* A stream being written: the kinds share its head. */
struct bk_put {
    struct bk_target *t;
    char *name;
    int fd;     /* dir: the file */
    void *impl; /* s3: its upload */
};

struct bk_object *bk_objects_push(struct bk_objects *o);

int bk_s3_open(struct bk_target *t, const struct bk_target_cfg *cfg, struct otap_err *err);

#endif
