/*
 * Backups of an environment's PostgreSQL database (seed 001 §7, seed 004
 * §8), and the drills that prove they restore.
 *
 * A backup is two objects at the target: ID.dump.zst (or .zst.enc), the
 * pg_dump custom-format archive streamed through zstd (and AES-256-GCM),
 * and ID.json, its catalog entry, written last: a backup without its
 * entry never happened. While one is being made, ID.running says by whom
 * (host and pid), so prune can tell a crashed backup from a running one.
 *
 * The catalog entry holds what a restore must give back, read in the very
 * snapshot pg_dump dumped (facts.h). A drill restores into a scratch
 * database, stamps its marker 'drill' (the marker table's rows are never
 * restored: a copy never carries the environment's marker), and compares.
 *
 * Every act is in the ledger: backup.created, backup.verified,
 * backup.pruned, backup.restored, backup.drill (with RTO and RPO).
 */
#ifndef OTAP_BACKUP_H
#define OTAP_BACKUP_H

#include <jansson.h>
#include <stdbool.h>

#include "backup/target.h"
#include "base/err.h"
#include "manifest/manifest.h"
#include "state/store.h"

typedef void (*bk_progress_fn)(void *ctx, long long raw, long long stored, double seconds,
                               bool done);

struct bk_ctx {
    const struct manifest *m;
    const struct manifest_env *env;
    const struct manifest_backup *cfg;
    const char *db_url; /* the environment's database (create, restore) */
    struct bk_target *target;
    const unsigned char *key; /* 32 bytes, or NULL: not encrypted */
    struct store *store;      /* for the ledger */
    const char *actor;
    const char *otap_version; /* recorded in each catalog entry */
    bk_progress_fn progress;  /* may be NULL */
    void *progress_ctx;
};

/*
 * Does the database at url carry the environment's marker? 0, or
 * OTAP_EREFUSED "what: why" ("why" alone when what is NULL; naming the
 * table and both values), or the failure to read it.
 */
int bk_prove_marker(const struct bk_ctx *c, const char *url, const char *what,
                    struct otap_err *err);

/*
 * Makes a backup of the environment's database. OTAP_EREFUSED when its
 * marker is not the environment's (the message names both). *entry gets
 * the catalog entry.
 */
int bk_create(const struct bk_ctx *c, json_t **entry, struct otap_err *err);

/* The catalog: entries newest first, and partial backups (data without an entry). */
struct bk_catalog {
    json_t *entries;  /* array of catalog entries */
    json_t *partials; /* array of {id, objects: [...], running: {...} or null, in_progress} */
};
int bk_catalog_read(struct bk_target *t, const char *env, struct bk_catalog *out,
                    struct otap_err *err);
void bk_catalog_release(struct bk_catalog *c);
/* The entry with this id (or the newest when id is NULL), borrowed from cat; NULL if none. */
json_t *bk_catalog_find(const struct bk_catalog *cat, const char *id);

/*
 * Reads the object again: its size and SHA-256 against the entry, the
 * stream decrypted and decompressed whole, and pg_restore --list over the
 * archive. *problems (array) lists what failed; 0 when none did, else
 * OTAP_EFOUND. Recorded as backup.verified.
 */
int bk_verify(const struct bk_ctx *c, json_t *entry, json_t **problems, struct otap_err *err);

/*
 * Retention: an entry is kept while it is among the newest keep_last or
 * younger than keep_days (either keeps it); the newest backup that passed
 * a verify or a drill is always kept. Partial backups whose writer is gone
 * are removed. apply false: only says. *result: {delete: [...], keep:
 * [...], partial: [...]}.
 */
int bk_prune(const struct bk_ctx *c, bool apply, json_t **result, struct otap_err *err);

/*
 * Restores entry into the database at url (its marker table's rows left
 * out), then writes marker into it. clean: drop what the archive holds
 * first (pg_restore --clean). *ms: how long it took.
 */
int bk_restore_into(const struct bk_ctx *c, json_t *entry, const char *url, const char *marker,
                    bool clean, long long *ms, struct otap_err *err);

/*
 * A drill: restores entry into a scratch database (created on the
 * environment's server and dropped after) or into into_url, stamps it
 * 'drill', compares it with the catalog, runs pg_amcheck when there is
 * one. *result: {id, ok, rto_ms, rpo_s, differences, amcheck, database}.
 * 0 when it matched, OTAP_EFOUND when it did not.
 */
int bk_drill(const struct bk_ctx *c, json_t *entry, const char *into_url, json_t **result,
             struct otap_err *err);

/* The last backup.created and the last backup.drill of env (details with "at"), or NULL. */
int bk_last(struct store *s, const char *env, json_t **backup, json_t **drill,
            struct otap_err *err);

#endif
