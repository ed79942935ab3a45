/*
 * Where backups are kept: a directory (dir:PATH) or an S3-compatible
 * bucket (s3://BUCKET/PREFIX: Cloudflare R2, MinIO, AWS). One interface
 * for both, so creating, listing, verifying, pruning and restoring never
 * ask which it is.
 *
 * Objects are written as streams (bk_put_*): a directory gets a file
 * written in place; S3 gets one PUT for a small object and a multipart
 * upload for a large one, each part retried. Nothing is ever copied whole
 * into memory or a temporary file. An object is read back as a stream
 * too (bk_get), handed to a callback chunk by chunk.
 *
 * S3 requests are signed by libcurl's own AWS SigV4 (CURLOPT_AWS_SIGV4);
 * S3's XML answers are read with libxml2.
 */
#ifndef OTAP_BACKUP_TARGET_H
#define OTAP_BACKUP_TARGET_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "base/err.h"

struct bk_target_cfg {
    const char *target;   /* dir:PATH or s3://BUCKET/PREFIX */
    const char *root;     /* the project's directory: dir: paths are relative to it */
    const char *endpoint; /* S3 endpoint URL (https://ACCOUNT.r2.cloudflarestorage.com), or NULL */
    const char *region;   /* "auto" when NULL */
    const char *access_key, *secret_key; /* values: never shown */
    size_t part_size;                    /* multipart part size; 0: 8 MiB */
};

struct bk_target;

int bk_target_open(struct bk_target **out, const struct bk_target_cfg *cfg, struct otap_err *err);
void bk_target_close(struct bk_target *t);
/* The target as messages show it: dir:PATH or s3://BUCKET/PREFIX (no credentials). */
const char *bk_target_name(const struct bk_target *t);

struct bk_object {
    char *name; /* relative to the target's prefix */
    long long size;
    time_t mtime;
    bool partial; /* an upload that never completed (S3 multipart) */
    char *upload_id;
};

struct bk_objects {
    struct bk_object *items;
    size_t n, alloc;
};

void bk_objects_release(struct bk_objects *o);

/* Every object (and every unfinished upload) under the target. */
int bk_list(struct bk_target *t, struct bk_objects *out, struct otap_err *err);
/* Removes an object, or aborts an unfinished upload (o->partial). */
int bk_delete(struct bk_target *t, const struct bk_object *o, struct otap_err *err);
int bk_delete_name(struct bk_target *t, const char *name, struct otap_err *err);

/* A small object, whole (at most 16 MiB). OTAP_ENOTFOUND when it does not exist. */
int bk_get_small(struct bk_target *t, const char *name, char **data, size_t *len,
                 struct otap_err *err);
int bk_put_small(struct bk_target *t, const char *name, const void *data, size_t len,
                 struct otap_err *err);

/*
 * Streams an object to fn, chunk by chunk. fn returns 0 to go on, 1 to
 * stop early (not an error), or a negative code that is returned.
 * *size gets the bytes read.
 */
typedef int (*bk_chunk_fn)(void *ctx, const unsigned char *data, size_t len);
int bk_get(struct bk_target *t, const char *name, bk_chunk_fn fn, void *ctx, long long *size,
           struct otap_err *err);

/* A stream being written. */
struct bk_put;
int bk_put_begin(struct bk_target *t, const char *name, struct bk_put **out, struct otap_err *err);
int bk_put_write(struct bk_put *p, const void *data, size_t len, struct otap_err *err);
/* Completes the object; the put is freed either way. */
int bk_put_finish(struct bk_put *p, struct otap_err *err);
/* Gives up: a partial file is removed, a multipart upload aborted; the put is freed. */
void bk_put_abort(struct bk_put *p);

#endif
