/*
 * The migration runner: checks first, all of them, then writes.
 *
 * The order matters. The marker is read under the run lock, so that no
 * other runner can change the database between the proof and the write;
 * refusals are collected before anything is written, so a refused run
 * leaves the database exactly as it was.
 */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "db/migrate.h"
#include "db/baseline.h"
#include "base/monotime.h"
#include "base/xalloc.h"
#include "base/banned.h"

const char *migrate_state_name(enum migrate_state s)
{
    static const char *const names[] = {"applied", "pending", "changed", "missing", "out_of_order"};
    return s < MIGRATE_STATE_COUNT ? names[s] : "unknown";
}

void migrate_plan_build(struct migrate_plan *p, const struct migration_set *set,
                        const struct db_applied_list *applied)
{
    memset(p, 0, sizeof(*p));
    const char *newest = applied->n ? applied->items[applied->n - 1].version : NULL;
    size_t i = 0, j = 0;
    /* both lists are sorted by version: merge them */
    while (i < set->n || j < applied->n) {
        int cmp = i >= set->n       ? 1
                  : j >= applied->n ? -1
                                    : strcmp(set->items[i].version, applied->items[j].version);
        struct migrate_entry *e = XPUSH(&p->items, &p->n, &p->alloc);
        memset(e, 0, sizeof(*e));
        if (cmp == 0) {
            e->file = &set->items[i++];
            e->applied = &applied->items[j++];
            e->version = e->file->version;
            e->state =
                strcmp(e->file->checksum, e->applied->checksum) ? MIGRATE_CHANGED : MIGRATE_APPLIED;
        } else if (cmp < 0) {
            e->file = &set->items[i++];
            e->version = e->file->version;
            e->state =
                newest && strcmp(e->version, newest) < 0 ? MIGRATE_OUT_OF_ORDER : MIGRATE_PENDING;
        } else {
            e->applied = &applied->items[j++];
            e->version = e->applied->version;
            e->state = MIGRATE_MISSING;
        }
        p->counts[e->state]++;
    }
}

void migrate_plan_release(struct migrate_plan *p)
{
    if (!p)
        return;
    free(p->items);
    memset(p, 0, sizeof(*p));
}

size_t migrate_plan_drift(const struct migrate_plan *p)
{
    return p->counts[MIGRATE_CHANGED] + p->counts[MIGRATE_MISSING] +
           p->counts[MIGRATE_OUT_OF_ORDER];
}

char *migrate_drift_message(const struct migrate_entry *e)
{
    switch (e->state) {
    case MIGRATE_CHANGED:
        return xasprintf("%s was changed after it was applied on %s (checksum %.12s, applied "
                         "%.12s): write a new migration instead",
                         e->file->path, e->applied->applied_at, e->file->checksum,
                         e->applied->checksum);
    case MIGRATE_MISSING:
        return xasprintf("migration %s%s%s was applied on %s but its file is gone", e->version,
                         *e->applied->name ? "_" : "", e->applied->name, e->applied->applied_at);
    case MIGRATE_OUT_OF_ORDER:
        return xasprintf("%s is not applied but is older than the newest applied migration: "
                         "give it a newer version",
                         e->file->path);
    default:
        return NULL;
    }
}

static void refuse(struct migrate_result *res, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void refuse(struct migrate_result *res, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    *XPUSH(&res->refusals, &res->nrefusals, &res->refusals_alloc) = xvasprintf(fmt, ap);
    va_end(ap);
}

static void take_refusal(struct migrate_result *res, char *msg)
{
    if (msg)
        *XPUSH(&res->refusals, &res->nrefusals, &res->refusals_alloc) = msg;
}

/* Marker and hard lock, both into res->refusals. */
static void check_safety(const struct migrate_request *rq, struct migrate_result *res,
                         bool hardlock_marker)
{
    marker_inspect(rq->db, rq->marker_table, rq->env->marker, &res->marker);
    char *why = marker_refusal(&res->marker, rq->env->name);
    if (rq->env->protected && rq->hardlock) {
        rq->hardlock->check_marker = hardlock_marker;
        /* a fresh database proves nothing: production must already say prod */
        char *strict = why ? NULL
                       : res->marker.state == MARKER_FRESH
                           ? xasprintf("the database has no marker %s yet: a protected "
                                       "environment's marker is written by 'otap db "
                                       "marker init --env %s', never implied",
                                       rq->marker_table, rq->env->name)
                           : NULL;
        rq->hardlock->marker_problem = why ? why : strict;
        hardlock_check(rq->hardlock, &res->refusals, &res->nrefusals, &res->refusals_alloc);
        rq->hardlock->marker_problem = NULL;
        free(strict);
        if (!hardlock_marker)
            take_refusal(res, why);
        else
            free(why);
    } else if (rq->env->protected) {
        refuse(res, "%s is protected and the hard lock's conditions were not given", rq->env->name);
        take_refusal(res, why);
    } else {
        take_refusal(res, why);
    }
}

static int load_plan(const struct migrate_request *rq, struct migrate_result *res,
                     struct otap_err *err)
{
    int rc = db_migrations_applied(rq->db, &res->applied, err);
    if (rc < 0)
        return rc;
    migrate_plan_build(&res->plan, rq->set, &res->applied);
    return 0;
}

/* Where in the file the database's error points. */
static void locate(const struct migration *mg, size_t stmt_index, long offset, int *line, int *col)
{
    const struct sql_stmt *st = &mg->script.stmts[stmt_index];
    *line = st->line;
    *col = st->col;
    if (offset < 0 || (size_t)offset > st->len)
        return;
    for (long i = 0; i < offset; i++) {
        if (mg->text[st->off + (size_t)i] == '\n') {
            (*line)++;
            *col = 1;
        } else {
            (*col)++;
        }
    }
}

static struct db_stmt *section_stmts(const struct migration *mg,
                                     const struct migration_section *sec)
{
    struct db_stmt *v = xcalloc(sec->n ? sec->n : 1, sizeof(*v));
    for (size_t k = 0; k < sec->n; k++) {
        const struct sql_stmt *st = &mg->script.stmts[sec->first + k];
        v[k].sql = mg->text + st->off;
        v[k].len = st->len;
    }
    return v;
}

static int record_failure(struct migrate_result *res, const struct migration *mg,
                          const struct migration_section *sec, struct db_failure *f, bool down,
                          struct otap_err *err)
{
    res->failed = true;
    res->failure.mg = mg;
    res->failure.db = *f;
    res->failure.transaction = sec->transaction;
    res->failure.down = down;
    if (f->stmt != (size_t)-1 && f->stmt < sec->n) {
        locate(mg, sec->first + f->stmt, f->offset, &res->failure.line, &res->failure.col);
    } else {
        res->failure.line = sec->line;
        res->failure.col = 1;
    }
    return otap_err_set(err, OTAP_EEXTERNAL, "%s:%d:%d: %s", mg->path, res->failure.line,
                        res->failure.col, f->message ? f->message : "failed");
}

static int unlock_return(const struct migrate_request *rq, int rc)
{
    db_unlock(rq->db);
    return rc;
}

/*
 * What migrate and baseline do before they look at the files: --to names
 * a file, the run lock (not on a dry run), the marker and hard lock, the
 * plan. Returns 0 with the lock held, or the result to return (unlocked).
 */
static int checked_start(const struct migrate_request *rq, struct migrate_result *res,
                         struct otap_err *err)
{
    memset(res, 0, sizeof(*res));
    if (rq->to && !migration_set_find(rq->set, rq->to))
        return otap_err_set(err, OTAP_ENOTFOUND, "--to %s names no migration in the folder",
                            rq->to);
    int rc = rq->dry_run ? 0 : db_lock(rq->db, rq->lock_wait_ms, err);
    if (rc < 0)
        return rc;
    check_safety(rq, res, true);
    if (res->marker.state == MARKER_UNREADABLE)
        return unlock_return(rq, OTAP_EREFUSED);
    rc = load_plan(rq, res, err);
    return rc < 0 ? unlock_return(rq, rc) : 0;
}

int migrate_up(const struct migrate_request *rq, struct migrate_result *res, struct otap_err *err)
{
    int rc = checked_start(rq, res, err);
    if (rc < 0)
        return rc;
    for (size_t i = 0; i < res->plan.n; i++)
        take_refusal(res, migrate_drift_message(&res->plan.items[i]));

    for (size_t i = 0; i < res->plan.n; i++) {
        const struct migrate_entry *e = &res->plan.items[i];
        if (e->state == MIGRATE_APPLIED && rq->env->protected) {
            /* what applied migrations proved (a validated NOT NULL check) counts for the
             * pending ones; their own findings were dealt with when they ran */
            size_t keep = res->lint.n;
            dblint_migration(e->file, &res->lint);
            for (size_t k = keep; k < res->lint.n; k++) {
                free(res->lint.items[k].message);
                free(res->lint.items[k].reason);
            }
            res->lint.n = keep;
        }
        if (e->state != MIGRATE_PENDING)
            continue;
        if (rq->to && strcmp(e->version, rq->to) > 0)
            break;
        struct migrate_step *s = XPUSH(&res->steps, &res->nsteps, &res->steps_alloc);
        s->mg = e->file;
        s->duration_ms = 0;
        if (rq->env->protected)
            dblint_migration(e->file, &res->lint);
    }
    size_t unack = dblint_unacknowledged(&res->lint);
    if (unack)
        refuse(res,
               "%zu unacknowledged lint finding%s in the pending migrations ('otap db "
               "lint' lists them; acknowledge each with '-- otap:allow RULE REASON')",
               unack, unack == 1 ? "" : "s");
    if (res->nrefusals)
        return unlock_return(rq, OTAP_EREFUSED);
    if (rq->dry_run)
        return 0;

    if (res->marker.state == MARKER_FRESH) {
        rc = db_marker_write(rq->db, rq->marker_table, rq->env->marker, err);
        if (rc < 0)
            return unlock_return(rq, rc);
        res->marker_written = true;
    }
    if (res->nsteps) {
        rc = db_migrations_init(rq->db, err);
        if (rc < 0)
            return unlock_return(rq, rc);
    }
    size_t done = 0;
    for (; done < res->nsteps; done++) {
        struct migrate_step *s = &res->steps[done];
        const struct migration *mg = s->mg;
        if (rq->progress)
            rq->progress(rq->progress_ctx, mg, false, 0);
        struct db_stmt *stmts = section_stmts(mg, &mg->up);
        struct db_record rec = {mg->version, mg->name, mg->checksum, rq->actor};
        struct db_failure f = {0};
        rc = db_apply(rq->db, stmts, mg->up.n, mg->up.transaction, &rec, &s->duration_ms, &f, err);
        free(stmts);
        if (rc == OTAP_EFOUND)
            rc = record_failure(res, mg, &mg->up, &f, false, err);
        if (rc < 0)
            break;
        if (rq->progress)
            rq->progress(rq->progress_ctx, mg, true, s->duration_ms);
    }
    res->nsteps = done;
    /* durable before success is reported, and also for what a failed run did apply */
    int sync_rc = done ? db_sync(rq->db, rc < 0 ? NULL : err) : 0;
    if (rc == 0)
        rc = sync_rc;
    return unlock_return(rq, rc);
}

int migrate_down(const struct migrate_request *rq, struct migrate_result *res, struct otap_err *err)
{
    memset(res, 0, sizeof(*res));
    if (rq->env->protected)
        return otap_err_set(err, OTAP_EREFUSED,
                            "%s is protected: roll forward with a new migration instead "
                            "(forward fixes only)",
                            rq->env->name);
    int rc = rq->dry_run ? 0 : db_lock(rq->db, rq->lock_wait_ms, err);
    if (rc < 0)
        return rc;
    check_safety(rq, res, true);
    if (res->marker.state == MARKER_FRESH)
        refuse(res, "the database has no marker and nothing to roll back");
    if (res->marker.state == MARKER_UNREADABLE)
        return unlock_return(rq, OTAP_EREFUSED);
    rc = load_plan(rq, res, err);
    if (rc < 0)
        return unlock_return(rq, rc);
    const struct migrate_entry *last = NULL;
    for (size_t i = res->plan.n; i-- > 0;)
        if (res->plan.items[i].applied) {
            last = &res->plan.items[i];
            break;
        }
    if (!last && !res->nrefusals)
        return unlock_return(rq, otap_err_set(err, OTAP_EFOUND, "no migration is applied"));
    if (last) {
        if (last->state == MIGRATE_MISSING || last->state == MIGRATE_CHANGED)
            take_refusal(res, migrate_drift_message(last));
        else if (!last->file->down.present)
            refuse(res, "%s has no '-- migrate:down' section: nothing says how to undo it",
                   last->file->path);
    }
    if (res->nrefusals)
        return unlock_return(rq, OTAP_EREFUSED);
    struct migrate_step *s = XPUSH(&res->steps, &res->nsteps, &res->steps_alloc);
    s->mg = last->file;
    s->duration_ms = 0;
    if (rq->dry_run)
        return 0;
    const struct migration *mg = last->file;
    if (rq->progress)
        rq->progress(rq->progress_ctx, mg, false, 0);
    long long t0 = monotime_ms();
    struct db_stmt *stmts = section_stmts(mg, &mg->down);
    struct db_failure f = {0};
    rc = db_unapply(rq->db, stmts, mg->down.n, mg->down.transaction, mg->version, &f, err);
    free(stmts);
    if (rc == OTAP_EFOUND)
        rc = record_failure(res, mg, &mg->down, &f, true, err);
    if (rc == 0) {
        s->duration_ms = monotime_ms() - t0;
        rc = db_sync(rq->db, err);
        if (rq->progress)
            rq->progress(rq->progress_ctx, mg, true, s->duration_ms);
    } else {
        res->nsteps = 0;
    }
    return unlock_return(rq, rc);
}

int migrate_inspect(const struct migrate_request *rq, struct migrate_result *res,
                    struct otap_err *err)
{
    memset(res, 0, sizeof(*res));
    marker_inspect(rq->db, rq->marker_table, rq->env->marker, &res->marker);
    return load_plan(rq, res, err);
}

int migrate_marker_init(const struct migrate_request *rq, struct migrate_result *res,
                        struct otap_err *err)
{
    memset(res, 0, sizeof(*res));
    int rc = db_lock(rq->db, rq->lock_wait_ms, err);
    if (rc < 0)
        return rc;
    check_safety(rq, res, false);
    /* the marker init exists to mark databases that have no marker yet */
    enum marker_state st = res->marker.state;
    if (st == MARKER_FRESH || st == MARKER_ABSENT || st == MARKER_EMPTY) {
        for (size_t i = 0; i < res->nrefusals; i++)
            free(res->refusals[i]);
        res->nrefusals = 0;
        if (rq->env->protected && rq->hardlock)
            hardlock_check(rq->hardlock, &res->refusals, &res->nrefusals, &res->refusals_alloc);
    }
    if (res->nrefusals)
        return unlock_return(rq, OTAP_EREFUSED);
    if (st == MARKER_MATCH)
        return unlock_return(rq, 0);
    rc = db_marker_write(rq->db, rq->marker_table, rq->env->marker, err);
    if (rc == 0)
        res->marker_written = true;
    return unlock_return(rq, rc);
}

int migrate_guard_begin(const struct migrate_request *rq, struct migrate_result *res,
                        struct otap_err *err)
{
    memset(res, 0, sizeof(*res));
    int rc = db_lock(rq->db, rq->lock_wait_ms, err);
    if (rc < 0)
        return rc;
    check_safety(rq, res, true);
    if (res->nrefusals || res->marker.state == MARKER_UNREADABLE)
        return unlock_return(rq, OTAP_EREFUSED);
    /* a new, empty database becomes this environment's, as on 'db migrate''s first run */
    if (res->marker.state == MARKER_FRESH) {
        rc = db_marker_write(rq->db, rq->marker_table, rq->env->marker, err);
        if (rc < 0)
            return unlock_return(rq, rc);
        res->marker_written = true;
    }
    return 0;
}

void migrate_guard_end(const struct migrate_request *rq)
{
    db_unlock(rq->db);
}

/* The files a baseline records: dbmate's versions when it kept any, else all; up to rq->to. */
static int baseline_pick(const struct migrate_request *rq, struct migrate_result *res,
                         bool *from_dbmate, struct otap_err *err)
{
    struct strvec dbmate = STRVEC_INIT;
    int rc = db_dbmate_versions(rq->db, &dbmate, from_dbmate, err);
    if (rc < 0)
        return rc;
    for (size_t i = 0; i < dbmate.n; i++)
        if (!migration_set_find(rq->set, dbmate.items[i]))
            refuse(res,
                   "dbmate's schema_migrations holds version %s, which no file in the "
                   "migrations folder has",
                   dbmate.items[i]);
    for (size_t i = 0; i < res->plan.n; i++) {
        const struct migrate_entry *e = &res->plan.items[i];
        if (e->state != MIGRATE_PENDING && e->state != MIGRATE_OUT_OF_ORDER)
            continue;
        if (rq->to && strcmp(e->version, rq->to) > 0)
            continue;
        bool wanted = !*from_dbmate;
        for (size_t k = 0; k < dbmate.n && !wanted; k++)
            wanted = !strcmp(dbmate.items[k], e->version);
        if (wanted)
            XPUSH(&res->steps, &res->nsteps, &res->steps_alloc)->mg = e->file;
    }
    strvec_release(&dbmate);
    return 0;
}

int migrate_baseline(const struct migrate_request *rq, struct migrate_result *res,
                     bool *from_dbmate, size_t *objects_checked, struct otap_err *err)
{
    *objects_checked = 0;
    int rc = checked_start(rq, res, err);
    if (rc < 0)
        return rc;
    if ((rc = baseline_pick(rq, res, from_dbmate, err)) < 0)
        return unlock_return(rq, rc);
    if (!res->nsteps && !res->nrefusals)
        refuse(res, "no migration file is left to baseline%s",
               *from_dbmate ? " among the versions dbmate's schema_migrations holds" : "");

    /* the database must hold what the files leave behind */
    const struct migration **mgs = xcalloc(res->nsteps ? res->nsteps : 1, sizeof(*mgs));
    for (size_t i = 0; i < res->nsteps; i++)
        mgs[i] = res->steps[i].mg;
    struct baseline_objects objs;
    baseline_objects_of(mgs, res->nsteps, &objs);
    free(mgs);
    for (size_t i = 0; i < objs.n && rc == 0; i++) {
        const struct baseline_object *o = &objs.items[i];
        bool exists = false;
        rc = db_object_exists(rq->db, o->kind, o->name, o->column, &exists, err);
        if (rc == 0 && !exists) {
            if (o->kind == DB_OBJ_COLUMN)
                refuse(res, "%s:%d adds column %s to %s, which the database does not have",
                       o->mg->path, o->line, o->column, o->name);
            else
                refuse(res, "%s:%d creates %s %s, which the database does not have", o->mg->path,
                       o->line, db_object_kind_name(o->kind), o->name);
        }
    }
    *objects_checked = objs.n;
    baseline_objects_release(&objs);
    if (rc < 0)
        return unlock_return(rq, rc);
    if (res->nrefusals)
        return unlock_return(rq, OTAP_EREFUSED);
    if (rq->dry_run)
        return 0;

    struct db_record *recs = xcalloc(res->nsteps, sizeof(*recs));
    for (size_t i = 0; i < res->nsteps; i++) {
        const struct migration *mg = res->steps[i].mg;
        recs[i] = (struct db_record){mg->version, mg->name, mg->checksum, "baseline"};
    }
    rc = db_record_applied(rq->db, recs, res->nsteps, err);
    free(recs);
    if (rc == 0)
        rc = db_sync(rq->db, err);
    return unlock_return(rq, rc);
}

void migrate_result_release(struct migrate_result *res)
{
    if (!res)
        return;
    marker_status_release(&res->marker);
    xfree_strv(res->refusals, res->nrefusals);
    dblint_report_release(&res->lint);
    migrate_plan_release(&res->plan);
    db_applied_list_release(&res->applied);
    free(res->steps);
    db_failure_release(&res->failure.db);
    memset(res, 0, sizeof(*res));
}
