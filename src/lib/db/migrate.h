/*
 * Running migrations: the plan (what is applied, pending, changed,
 * missing or out of order), and up and down runs with every safety check
 * in front of them.
 *
 * A run that writes goes, in this order: take the run lock; inspect the
 * marker; on a protected environment check the hard lock and lint the
 * pending migrations; refuse on drift (an applied file changed or gone,
 * a pending file older than the newest applied one). Every failed check
 * is collected in result->refusals and the run returns OTAP_EREFUSED
 * having written nothing. Only then: write the marker on a fresh database,
 * create otap's table, apply each pending migration with its record row
 * (stopping at the first failure), and make it all durable.
 *
 * The caller opens the database and loads the files; the server and
 * 'otap promote' call the same functions as 'otap db'.
 */
#ifndef OTAP_MIGRATE_H
#define OTAP_MIGRATE_H

#include <stdbool.h>
#include <stddef.h>

#include "db/db.h"
#include "db/dblint.h"
#include "db/hardlock.h"
#include "db/marker.h"
#include "db/migration.h"

enum migrate_state {
    MIGRATE_APPLIED,
    MIGRATE_PENDING,
    MIGRATE_CHANGED,      /* applied, and the file's checksum differs now */
    MIGRATE_MISSING,      /* applied, and the file is gone */
    MIGRATE_OUT_OF_ORDER, /* pending, but older than the newest applied migration */
    MIGRATE_STATE_COUNT,
};

struct migrate_entry {
    const char *version;
    const struct migration *file;     /* NULL when missing */
    const struct db_applied *applied; /* NULL when not applied */
    enum migrate_state state;
};

struct migrate_plan {
    struct migrate_entry *items; /* by version */
    size_t n, alloc;
    size_t counts[MIGRATE_STATE_COUNT];
};

/* Both inputs must outlive the plan. */
void migrate_plan_build(struct migrate_plan *p, const struct migration_set *set,
                        const struct db_applied_list *applied);
void migrate_plan_release(struct migrate_plan *p);
/* Changed, missing and out-of-order entries. */
size_t migrate_plan_drift(const struct migrate_plan *p);
const char *migrate_state_name(enum migrate_state s);
/* One line about a drifted entry (NULL for applied and pending). */
char *migrate_drift_message(const struct migrate_entry *e);

struct migrate_step {
    const struct migration *mg;
    long long duration_ms;
};

struct migrate_failure {
    const struct migration *mg;
    int line, col; /* of the failing statement's error in the file */
    struct db_failure db;
    bool transaction; /* false: statements before the failing one stay applied */
    bool down;        /* it was a down section */
};

typedef void (*migrate_progress_fn)(void *ctx, const struct migration *mg, bool done,
                                    long long duration_ms);

struct migrate_request {
    struct db *db;
    const struct migration_set *set;
    const struct manifest_env *env;
    const char *marker_table;
    const char *to; /* apply up to and including this version; NULL: all */
    bool dry_run;   /* check and plan; write nothing */
    long lock_wait_ms;
    const char *actor;
    /* for a protected environment: the hard lock's inputs, marker excepted */
    struct hardlock_input *hardlock;
    migrate_progress_fn progress;
    void *progress_ctx;
};

struct migrate_result {
    struct marker_status marker;
    char **refusals;
    size_t nrefusals, refusals_alloc;
    struct dblint_report lint; /* a protected environment's pending migrations */
    struct db_applied_list applied;
    struct migrate_plan plan;
    struct migrate_step *steps; /* applied by this run (to be applied, on a dry run) */
    size_t nsteps, steps_alloc;
    bool marker_written;
    bool failed;
    struct migrate_failure failure;
};

/*
 * Applies pending migrations. Returns 0; OTAP_EREFUSED with refusals;
 * OTAP_EUSAGE when --to names no migration; OTAP_EEXTERNAL with err and,
 * when a migration failed, result->failure.
 */
int migrate_up(const struct migrate_request *rq, struct migrate_result *res, struct otap_err *err);
/* Runs the last applied migration's down section (refused on protected environments). */
int migrate_down(const struct migrate_request *rq, struct migrate_result *res,
                 struct otap_err *err);
/* Reads the marker, applied rows and plan without writing or locking. */
int migrate_inspect(const struct migrate_request *rq, struct migrate_result *res,
                    struct otap_err *err);
/*
 * Writes the marker (under the run lock): a no-op when it already says
 * the expected value; refused when it says another, when the manifest
 * gives none, or, on a protected environment, when the hard lock's other
 * conditions do not hold.
 */
int migrate_marker_init(const struct migrate_request *rq, struct migrate_result *res,
                        struct otap_err *err);
/*
 * The checks 'db migrate' makes before it writes, for a migration tool
 * otap does not run itself (otap db guard): takes the run lock, proves the
 * marker (a new empty database is marked, as by migrate), and on a
 * protected environment checks the whole hard lock. Returns 0 with the
 * lock held until migrate_guard_end(); OTAP_EREFUSED with res->refusals
 * (every unmet condition) and the lock released; OTAP_EEXTERNAL.
 */
int migrate_guard_begin(const struct migrate_request *rq, struct migrate_result *res,
                        struct otap_err *err);
void migrate_guard_end(const struct migrate_request *rq);
/*
 * Takes over a database another tool migrated: records the migration
 * files as applied (by "baseline", with their checksums), without running
 * them. Which files: those whose versions dbmate's schema_migrations
 * holds when the database has that table, else every file; with rq->to,
 * only up to it. Under the run lock, after the checks 'db migrate' makes
 * (marker, hard lock), and only when every table, index, view, sequence,
 * type and added column those files leave behind exists; every missing
 * one is a refusal. res->steps are the migrations recorded (to be
 * recorded, on a dry run); *from_dbmate says where the versions came from.
 */
int migrate_baseline(const struct migrate_request *rq, struct migrate_result *res,
                     bool *from_dbmate, size_t *objects_checked, struct otap_err *err);
void migrate_result_release(struct migrate_result *res);

#endif
