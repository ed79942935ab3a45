/*
 * libFuzzer target for the task-list reader (otap plan): the bytes as CSV
 * or YAML (the first byte chooses), then planned. Never a crash, a leak or
 * a hang; a plan without errors puts every task after its dependencies.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "plan/plan.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!size)
        return 0;
    const char *name = data[0] & 1 ? "tasks.csv" : "tasks.yaml";
    struct diag_list d;
    diag_list_init(&d, name);
    struct plan_tasks t;
    plan_tasks_read((const char *)data + 1, size - 1, name, &t, &d);
    struct plan p;
    size_t errors = plan_make(&t, (long)(data[0] >> 1) * 10, name, &p, &d);
    if (!errors && diag_count(&d, DIAG_ERROR) == 0) {
        size_t *pos = calloc(t.n ? t.n : 1, sizeof(size_t));
        for (size_t i = 0; i < p.n; i++)
            pos[p.order[i]] = i;
        for (size_t i = 0; i < t.n; i++)
            for (size_t k = 0; k < p.ndeps[i]; k++)
                if (pos[p.deps[i][k]] >= pos[i])
                    abort();
        free(pos);
    }
    plan_release(&p, t.n);
    plan_tasks_release(&t);
    diag_list_release(&d);
    return 0;
}
