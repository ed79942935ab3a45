/*
 * Lint for unsafe migrations (seed 004 §6.2): statements that lock a busy
 * table for long, rewrite it, or break the running release.
 *
 * Each finding names its rule, the file, line and column of the statement
 * and a one-line fix. A finding is acknowledged by a comment on the
 * statement or in the comments just before it:
 *
 *     -- otap:allow drop-column the column was unused since 1.4
 *     ALTER TABLE users DROP COLUMN legacy_name;
 *
 * The reason is required. A table created in the same migration is new,
 * so rules about existing tables (indexes, NOT NULL, constraints) do not
 * apply to it. Only the up section is linted: it is what migrate runs.
 */
#ifndef OTAP_DBLINT_H
#define OTAP_DBLINT_H

#include <stdbool.h>
#include <stddef.h>

#include "db/migration.h"

struct dblint_rule {
    const char *id;
    const char *summary;
    const char *fix;
};

/* Every rule, sorted by id; terminated by an entry with id NULL. */
extern const struct dblint_rule dblint_rules[];
const struct dblint_rule *dblint_rule_find(const char *id);

struct dblint_finding {
    const struct dblint_rule *rule;
    const char *path; /* borrowed from the migration */
    int line, col;
    char *message;
    bool acknowledged;
    char *reason; /* the acknowledgement's reason, when acknowledged */
};

struct dblint_report {
    struct dblint_finding *items;
    size_t n, alloc;
    /* what earlier migrations of the same run proved, for the later ones:
     * "table\tcolumn" a validated CHECK (column IS NOT NULL) covers, and
     * "constraint\ttable\tcolumn" such checks added NOT VALID, not yet validated */
    char **not_null_proven;
    size_t nproven, proven_alloc;
    char **not_null_pending;
    size_t npending, pending_alloc;
};

/*
 * Appends the findings of mg's up section to out, in file order. Lint the
 * migrations of a folder in order into one report: a CHECK validated in
 * one lets a later SET NOT NULL pass.
 */
void dblint_migration(const struct migration *mg, struct dblint_report *out);
void dblint_report_release(struct dblint_report *r);
size_t dblint_unacknowledged(const struct dblint_report *r);

#endif
