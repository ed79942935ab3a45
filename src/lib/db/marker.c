/*
 * Reading the environment marker and deciding what it allows.
 */
#include <stdlib.h>
#include <string.h>

#include "db/marker.h"
#include "base/xalloc.h"
#include "base/banned.h"

void marker_inspect(struct db *db, const char *table, const char *expected,
                    struct marker_status *out)
{
    memset(out, 0, sizeof(*out));
    out->table = table;
    out->expected = expected;
    out->tables = -1;
    struct otap_err err = OTAP_ERR_INIT;
    bool exists = false;
    if (db_table_exists(db, table, &exists, &err) < 0)
        goto unreadable;
    if (!exists) {
        if (db_user_table_count(db, &out->tables, &err) < 0)
            goto unreadable;
        out->state = out->tables == 0 ? MARKER_FRESH : MARKER_ABSENT;
    } else if (db_marker_read(db, table, &out->found, &err) < 0) {
        goto unreadable;
    } else if (!out->found) {
        out->state = MARKER_EMPTY;
    } else {
        out->state = expected && !strcmp(out->found, expected) ? MARKER_MATCH : MARKER_MISMATCH;
    }
    if (!expected)
        out->state = MARKER_UNDECLARED;
    return;
unreadable:
    out->state = MARKER_UNREADABLE;
    out->why = xstrdup(err.msg ? err.msg : "unknown error");
    otap_err_release(&err);
}

void marker_status_release(struct marker_status *st)
{
    if (!st)
        return;
    free(st->found);
    free(st->why);
    memset(st, 0, sizeof(*st));
}

bool marker_allows_write(const struct marker_status *st)
{
    return st->state == MARKER_MATCH || st->state == MARKER_FRESH;
}

char *marker_refusal(const struct marker_status *st, const char *env_name)
{
    switch (st->state) {
    case MARKER_MATCH:
    case MARKER_FRESH:
        return NULL;
    case MARKER_MISMATCH:
        return xasprintf("the database marker %s says '%s', but %s expects '%s': this is not "
                         "%s's database",
                         st->table, st->found, env_name, st->expected, env_name);
    case MARKER_ABSENT:
        return xasprintf("the database has %ld table%s but no marker table %s: prove it "
                         "belongs to %s with 'otap db marker init --env %s'",
                         st->tables, st->tables == 1 ? "" : "s", st->table, env_name, env_name);
    case MARKER_EMPTY:
        return xasprintf("the marker table %s has no row: prove the database belongs to %s "
                         "with 'otap db marker init --env %s'",
                         st->table, env_name, env_name);
    case MARKER_UNREADABLE:
        return xasprintf("the database marker %s cannot be read: %s", st->table, st->why);
    case MARKER_UNDECLARED:
        return xasprintf("otap.yaml gives %s no marker (add 'marker: ...' to the "
                         "environment), so its database cannot be proven",
                         env_name);
    }
    return xstrdup("unknown marker state");
}

const char *marker_state_name(enum marker_state s)
{
    static const char *const names[] = {"match", "mismatch",   "fresh",     "absent",
                                        "empty", "unreadable", "undeclared"};
    return names[s];
}
