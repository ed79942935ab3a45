/*
 * The manifest's backups: section, per environment (issue 20):
 *
 *   backups:
 *     development: { target: "dir:.otap/backups", keep_days: 7, keep_last: 3 }
 *     production:  { target: "s3://bucket/prefix", endpoint: S3_ENDPOINT, region: auto,
 *                    access_key: S3_ACCESS_KEY, secret_key: S3_SECRET_KEY,
 *                    keep_days: 90, keep_last: 30, encrypt_with: BACKUP_KEY,
 *                    drill_every: 90d, zstd_level: 3 }
 *
 * Credentials and the key are named, never given: endpoint, access_key,
 * secret_key and encrypt_with are contract variables whose values the
 * environment's config holds.
 */
#include <stdlib.h>
#include <string.h>

#include "manifest/manifest_impl.h"
#include "base/xalloc.h"
#include "base/banned.h"

static const char *const backup_keys[] = {"target",      "endpoint",   "region",    "access_key",
                                          "secret_key",  "keep_days",  "keep_last", "encrypt_with",
                                          "drill_every", "zstd_level", NULL};
enum {
    BK_TARGET,
    BK_ENDPOINT,
    BK_REGION,
    BK_ACCESS,
    BK_SECRET,
    BK_KEEP_DAYS,
    BK_KEEP_LAST,
    BK_ENCRYPT,
    BK_DRILL,
    BK_LEVEL
};

static void backup_field(struct mf_ctx *c, void *obj, int idx, struct fy_node *k, struct fy_node *v,
                         struct manifest_pos kp)
{
    struct manifest_backup *b = obj;
    long long n;
    (void)k;
    char **strs[] = {[BK_TARGET] = &b->target,         [BK_ENDPOINT] = &b->endpoint_var,
                     [BK_REGION] = &b->region,         [BK_ACCESS] = &b->access_key_var,
                     [BK_SECRET] = &b->secret_key_var, [BK_ENCRYPT] = &b->encrypt_var};
    switch (idx) {
    case BK_KEEP_DAYS:
        if (mf_get_int(c, v, kp, "keep_days", 0, 36500, &n))
            b->keep_days = (int)n;
        return;
    case BK_KEEP_LAST:
        if (mf_get_int(c, v, kp, "keep_last", 0, 100000, &n))
            b->keep_last = (int)n;
        return;
    case BK_LEVEL:
        if (mf_get_int(c, v, kp, "zstd_level", 1, 19, &n))
            b->zstd_level = (int)n;
        return;
    case BK_DRILL:
        mf_get_long_duration(c, v, kp, "drill_every", &b->drill_every_s);
        return;
    default:
        break;
    }
    char *s = mf_get_str(c, v, kp, backup_keys[idx]);
    if (!s)
        return;
    free(*strs[idx]);
    *strs[idx] = s;
}

void mf_backup_entry(struct mf_ctx *c, const char *name, struct fy_node *val,
                     struct manifest_pos kp)
{
    struct manifest *m = c->m;
    struct manifest_backup b = {
        .keep_days = -1, .keep_last = -1, .drill_every_s = -1, .zstd_level = 3, .pos = kp};
    b.env = xstrdup(name);
    if (!mf_walk_map(c, val, kp, "a backup", backup_keys, backup_field, &b)) {
        manifest_backup_release(&b);
        return;
    }
    if (!b.target)
        ERR(c, kp, "backups.%s needs a 'target': dir:PATH or s3://BUCKET/PREFIX", name);
    else if (strncmp(b.target, "dir:", 4) && strncmp(b.target, "s3://", 5))
        ERR(c, kp, "backups.%s: target '%s' is neither dir:PATH nor s3://BUCKET/PREFIX", name,
            b.target);
    else if (!strncmp(b.target, "dir:", 4) && !b.target[4])
        ERR(c, kp, "backups.%s: target 'dir:' names no directory", name);
    else if (!strncmp(b.target, "s3://", 5)) {
        const char *bucket = b.target + 5;
        if (!*bucket || *bucket == '/')
            ERR(c, kp, "backups.%s: target '%s' names no bucket", name, b.target);
        if (!b.access_key_var || !b.secret_key_var)
            ERR(c, kp,
                "backups.%s: an s3:// target needs 'access_key' and 'secret_key': the names of "
                "the config variables that hold them",
                name);
    }
    size_t alloc = m->nbackups;
    *XPUSH(&m->backups, &m->nbackups, &alloc) = b;
}

void mf_check_backups(struct mf_ctx *c)
{
    struct manifest *m = c->m;
    for (size_t i = 0; i < m->nbackups; i++) {
        const struct manifest_backup *b = &m->backups[i];
        if (!manifest_env_find(m, b->env))
            ERR(c, b->pos, "backups: no environment '%s'", b->env);
        const char *vars[] = {b->endpoint_var, b->access_key_var, b->secret_key_var,
                              b->encrypt_var};
        const char *what[] = {"endpoint", "access_key", "secret_key", "encrypt_with"};
        for (size_t k = 0; k < 4; k++) {
            if (!vars[k])
                continue;
            bool known = false;
            for (size_t v = 0; v < m->nconfig && !known; v++)
                known = !strcmp(m->config[v].name, vars[k]);
            if (!known)
                ERR(c, b->pos,
                    "backups.%s: %s names '%s', which the config contract does not define", b->env,
                    what[k], vars[k]);
        }
    }
}

void manifest_backup_release(struct manifest_backup *b)
{
    free(b->env);
    free(b->target);
    free(b->endpoint_var);
    free(b->region);
    free(b->access_key_var);
    free(b->secret_key_var);
    free(b->encrypt_var);
    memset(b, 0, sizeof(*b));
}

const struct manifest_backup *manifest_backup_for(const struct manifest *m, const char *env)
{
    for (size_t i = 0; i < m->nbackups; i++)
        if (!strcmp(m->backups[i].env, env))
            return &m->backups[i];
    return NULL;
}
