/*
 * The environment marker: one row in one table of the database itself
 * (bk_env_marker by default, seed 004 §6.0) that says which environment
 * the database belongs to. It is the only proof that DATABASE_URL points
 * where the operator thinks it does, so every write is gated on it.
 *
 * marker_inspect() never fails: a database that cannot be read is a
 * state (MARKER_UNREADABLE) like any other, and only MARKER_MATCH, or a
 * missing marker on a database without any table, allow writing.
 */
#ifndef OTAP_MARKER_H
#define OTAP_MARKER_H

#include <stdbool.h>

#include "db/db.h"

#define MARKER_DEFAULT_TABLE "bk_env_marker"

enum marker_state {
    MARKER_MATCH,      /* the row says what the manifest expects */
    MARKER_MISMATCH,   /* the row says something else */
    MARKER_FRESH,      /* no marker table, and no table at all: a new database */
    MARKER_ABSENT,     /* no marker table on a database that has tables */
    MARKER_EMPTY,      /* the table exists without its row */
    MARKER_UNREADABLE, /* the table or the database could not be read */
    MARKER_UNDECLARED, /* the manifest gives this environment no marker */
};

struct marker_status {
    enum marker_state state;
    const char *table;
    const char *expected; /* the manifest's marker, or NULL */
    char *found;          /* the row's value, or NULL */
    long tables;          /* tables on the database, when counted */
    char *why;            /* MARKER_UNREADABLE: what failed */
};

void marker_inspect(struct db *db, const char *table, const char *expected,
                    struct marker_status *out);
void marker_status_release(struct marker_status *st);

/* May a write go ahead? (MATCH, or FRESH: the write creates the marker first.) */
bool marker_allows_write(const struct marker_status *st);
/* Why not, in one line naming the table and both values; NULL when it may. */
char *marker_refusal(const struct marker_status *st, const char *env_name);
/* "match", "mismatch", "fresh", "absent", "empty", "unreadable", "undeclared" */
const char *marker_state_name(enum marker_state s);

#endif
