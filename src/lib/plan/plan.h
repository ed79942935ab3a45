/*
 * A plan from a task list (seed 003's method): the tasks in an order that
 * puts every task after what it depends on, bundled into batches under a
 * review budget in lines, and the critical path.
 *
 * The order is stable: among the tasks that may go next, higher impact
 * first, then higher risk, then the id in natural order (Y1-A.9 before
 * Y1-A.10). Batches follow the order, so a dependency is never in a later
 * batch than a task needing it; a task larger than the budget goes alone
 * into its own batch, with a warning. The critical path is the chain of
 * dependencies with the most lines (the most tasks when no task gives loc).
 */
#ifndef OTAP_PLAN_H
#define OTAP_PLAN_H

#include <stdbool.h>
#include <stddef.h>

#include "base/diag.h"
#include "plan/tasks.h"

struct plan_batch {
    size_t first, n; /* a slice of plan.order */
    long loc;
    bool oversize; /* one task larger than the budget */
};

struct plan {
    size_t *order; /* indexes into the task list */
    size_t n;
    struct plan_batch *batches;
    size_t nbatches;
    size_t *critical; /* indexes, first to last */
    size_t ncritical;
    long critical_loc;
    size_t **deps; /* per task: the indexes of what it depends on */
    size_t *ndeps;
};

/*
 * Checks the list (duplicate ids, unknown dependencies, cycles with their
 * path, each with its line, every one at once) and plans it with budget
 * lines per batch (0: one batch). Returns the number of errors; the plan
 * is made only when there are none.
 */
size_t plan_make(const struct plan_tasks *t, long budget, const char *name, struct plan *out,
                 struct diag_list *diags);
void plan_release(struct plan *p, size_t ntasks);

/* Natural order of ids: digit runs compare as numbers. */
int plan_id_cmp(const char *a, const char *b);

#endif
