/*
 * What a run of migrations leaves in a database: the tables, indexes,
 * views, sequences, types and added columns their up sections create and
 * no later one drops or renames away. A baseline (otap db baseline) checks
 * each of them exists before it records the migrations as applied, so a
 * database another tool migrated is only taken over when it looks like
 * what the files say.
 */
#ifndef OTAP_BASELINE_H
#define OTAP_BASELINE_H

#include <stddef.h>

#include "db/db.h"
#include "db/migration.h"

struct baseline_object {
    enum db_object_kind kind;
    char *name;   /* as the SQL writes it; for a column, its table */
    char *column; /* DB_OBJ_COLUMN only */
    char *on;     /* DB_OBJ_INDEX: its table, which takes it along when dropped */
    const struct migration *mg;
    int line;
};

struct baseline_objects {
    struct baseline_object *items;
    size_t n, alloc;
};

/* Walks the up sections of mgs in order and keeps what is left at the end. */
void baseline_objects_of(const struct migration *const *mgs, size_t n,
                         struct baseline_objects *out);
void baseline_objects_release(struct baseline_objects *o);

#endif
