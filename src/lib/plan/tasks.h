/*
 * A task list, as seed 003's method writes one: every task with an id, a
 * title, its work package, impact and risk (H, M, L), the ids it depends
 * on, its size in lines of review (loc), a deliverable and a test
 * strategy. Read from YAML (tasks: a list of mappings) or CSV with the same
 * column names in a header row.
 *
 * Every problem is reported at once, with its line: a missing or
 * duplicate id, an impact or risk that is not H, M or L, a loc that is not
 * a count, an unknown column or key. Dependencies are checked by the plan
 * (plan.h), which knows every id.
 */
#ifndef OTAP_PLAN_TASKS_H
#define OTAP_PLAN_TASKS_H

#include <stddef.h>

#include "base/diag.h"

struct plan_task {
    char *id, *title, *package, *deliverable, *tests;
    int impact, risk; /* 0 H, 1 M, 2 L; 1 when not given */
    char **depends;
    size_t ndepends;
    int *depends_line; /* the line each dependency is written on */
    long loc;          /* 0 when not given */
    int line;
};

struct plan_tasks {
    struct plan_task *items;
    size_t n, alloc;
};

/* Largest task list read; a larger one is refused, not parsed. */
#define PLAN_TASKS_MAX_BYTES (64u << 20)

/*
 * Reads a task list; name (for messages) ending in .csv means CSV, else
 * YAML. Problems go to diags with lines; returns the number of errors.
 */
size_t plan_tasks_read(const char *data, size_t len, const char *name, struct plan_tasks *out,
                       struct diag_list *diags);
void plan_tasks_release(struct plan_tasks *t);

/* "H", "M", "L" */
const char *plan_level_name(int level);

#endif
