/*
 * Planning a task list (plan.h): a hash of ids, Kahn's order with a heap
 * for the ties, cycles found by a depth-first walk, batches, the longest
 * chain. Linear in tasks and dependencies, but for the heap's log.
 */
#include "plan/plan.h"

#include <ctype.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/strbuf.h"
#include "base/xalloc.h"
#include "base/banned.h"

int plan_id_cmp(const char *a, const char *b)
{
    while (*a && *b) {
        if (isdigit((unsigned char)*a) && isdigit((unsigned char)*b)) {
            while (*a == '0' && isdigit((unsigned char)a[1]))
                a++;
            while (*b == '0' && isdigit((unsigned char)b[1]))
                b++;
            size_t la = strspn(a, "0123456789"), lb = strspn(b, "0123456789");
            if (la != lb)
                return la < lb ? -1 : 1;
            int c = strncmp(a, b, la);
            if (c)
                return c;
            a += la;
            b += lb;
            continue;
        }
        if (*a != *b)
            return (unsigned char)*a < (unsigned char)*b ? -1 : 1;
        a++, b++;
    }
    return *a ? 1 : *b ? -1 : 0;
}

/* ---- ids
 * ------------------------------------------------------------------------------------------- */

struct ids {
    size_t *slot; /* index + 1; 0 empty */
    size_t cap;
    const struct plan_tasks *t;
};

static uint64_t hash(const char *s)
{
    uint64_t h = 1469598103934665603ULL;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ULL;
    return h;
}

/* The index of id, or (size_t)-1. */
static size_t ids_find(const struct ids *m, const char *id)
{
    for (size_t i = hash(id) & (m->cap - 1);; i = (i + 1) & (m->cap - 1)) {
        if (!m->slot[i])
            return (size_t)-1;
        if (!strcmp(m->t->items[m->slot[i] - 1].id, id))
            return m->slot[i] - 1;
    }
}

/* ---- the heap of tasks that may go next
 * ------------------------------------------------------------ */

struct heap {
    size_t *v;
    size_t n;
    const struct plan_tasks *t;
};

static bool before(const struct heap *h, size_t a, size_t b)
{
    const struct plan_task *x = &h->t->items[a], *y = &h->t->items[b];
    if (x->impact != y->impact)
        return x->impact < y->impact;
    if (x->risk != y->risk)
        return x->risk < y->risk;
    return plan_id_cmp(x->id ? x->id : "", y->id ? y->id : "") < 0;
}

static void heap_push(struct heap *h, size_t x)
{
    size_t i = h->n++;
    h->v[i] = x;
    while (i && before(h, h->v[i], h->v[(i - 1) / 2])) {
        size_t p = (i - 1) / 2, tmp = h->v[p];
        h->v[p] = h->v[i];
        h->v[i] = tmp;
        i = p;
    }
}

static size_t heap_pop(struct heap *h)
{
    size_t top = h->v[0];
    h->v[0] = h->v[--h->n];
    for (size_t i = 0;;) {
        size_t l = 2 * i + 1, r = l + 1, m = i;
        if (l < h->n && before(h, h->v[l], h->v[m]))
            m = l;
        if (r < h->n && before(h, h->v[r], h->v[m]))
            m = r;
        if (m == i)
            break;
        size_t tmp = h->v[m];
        h->v[m] = h->v[i];
        h->v[i] = tmp;
        i = m;
    }
    return top;
}

/* ---- cycles
 * ---------------------------------------------------------------------------------------- */

/* Reports each cycle among the tasks Kahn could not place, with its path (at most 20). */
static void report_cycles(const struct plan_tasks *t, struct plan *p, const size_t *indeg,
                          const char *name, struct diag_list *d)
{
    size_t n = t->n;
    unsigned char *color = xcalloc(n, 1); /* 0 new, 1 on the path, 2 done */
    size_t *stack = xmalloc(n * sizeof(size_t)), *edge = xmalloc(n * sizeof(size_t));
    size_t reported = 0;
    for (size_t s = 0; s < n && reported < 20; s++) {
        if (!indeg[s] || color[s])
            continue;
        size_t top = 0;
        stack[top] = s;
        edge[top] = 0;
        color[s] = 1;
        while (top != (size_t)-1 && reported < 20) {
            size_t v = stack[top];
            if (edge[top] < p->ndeps[v]) {
                size_t u = p->deps[v][edge[top]++];
                if (color[u] == 1) {
                    /* the path from u to v on the stack, then back to u */
                    struct strbuf sb = STRBUF_INIT;
                    size_t k = top;
                    while (stack[k] != u)
                        k--;
                    for (size_t j = k; j <= top; j++)
                        strbuf_addf(&sb, "%s -> ", t->items[stack[j]].id);
                    strbuf_addstr(&sb, t->items[u].id);
                    diag_add_at(d, DIAG_ERROR, name, t->items[u].line, 0,
                                "a cycle of dependencies: %s", sb.buf);
                    strbuf_release(&sb);
                    reported++;
                } else if (!color[u] && indeg[u]) {
                    color[u] = 1;
                    stack[++top] = u;
                    edge[top] = 0;
                }
            } else {
                color[v] = 2;
                top--;
            }
        }
    }
    free(color);
    free(stack);
    free(edge);
}

/* ---- the plan
 * -------------------------------------------------------------------------------------- */

size_t plan_make(const struct plan_tasks *t, long budget, const char *name, struct plan *p,
                 struct diag_list *d)
{
    memset(p, 0, sizeof(*p));
    size_t before_errors = diag_count(d, DIAG_ERROR), n = t->n;
    struct ids m = {.t = t, .cap = 16};
    while (m.cap < 2 * n + 2)
        m.cap <<= 1;
    m.slot = xcalloc(m.cap, sizeof(size_t));
    for (size_t i = 0; i < n; i++) {
        const char *id = t->items[i].id;
        if (!id || !*id)
            continue;
        size_t j = hash(id) & (m.cap - 1);
        for (; m.slot[j]; j = (j + 1) & (m.cap - 1))
            if (!strcmp(t->items[m.slot[j] - 1].id, id))
                break;
        if (m.slot[j])
            diag_add_at(d, DIAG_ERROR, name, t->items[i].line, 0,
                        "duplicate id '%s' (first on line %d)", id, t->items[m.slot[j] - 1].line);
        else
            m.slot[j] = i + 1;
    }
    /* what each task depends on, by index; unknown ones named with a suggestion */
    p->deps = xcalloc(n ? n : 1, sizeof(size_t *));
    p->ndeps = xcalloc(n ? n : 1, sizeof(size_t));
    size_t *indeg = xcalloc(n ? n : 1, sizeof(size_t));
    size_t nedges = 0;
    for (size_t i = 0; i < n; i++) {
        const struct plan_task *x = &t->items[i];
        p->deps[i] = xcalloc(x->ndepends ? x->ndepends : 1, sizeof(size_t));
        for (size_t k = 0; k < x->ndepends; k++) {
            size_t j = ids_find(&m, x->depends[k]);
            if (j == (size_t)-1) {
                diag_add_at(d, DIAG_ERROR, name, x->depends_line[k], 0,
                            "task '%s' depends on '%s', which no task is", x->id ? x->id : "?",
                            x->depends[k]);
                continue;
            }
            bool dup = false;
            for (size_t q = 0; q < p->ndeps[i] && !dup; q++)
                dup = p->deps[i][q] == j;
            if (dup)
                continue;
            p->deps[i][p->ndeps[i]++] = j;
            indeg[i]++;
            nedges++;
        }
    }
    /* who needs each task: the reverse edges, in one array */
    size_t *start = xcalloc(n + 1, sizeof(size_t)),
           *needed_by = xcalloc(nedges ? nedges : 1, sizeof(size_t));
    for (size_t i = 0; i < n; i++)
        for (size_t k = 0; k < p->ndeps[i]; k++)
            start[p->deps[i][k] + 1]++;
    for (size_t i = 0; i < n; i++)
        start[i + 1] += start[i];
    size_t *fill = xmalloc((n ? n : 1) * sizeof(size_t));
    memcpy(fill, start, n * sizeof(size_t));
    for (size_t i = 0; i < n; i++)
        for (size_t k = 0; k < p->ndeps[i]; k++)
            needed_by[fill[p->deps[i][k]]++] = i;
    free(fill);

    /* Kahn's order, ties by impact, risk, id */
    struct heap h = {xmalloc((n ? n : 1) * sizeof(size_t)), 0, t};
    for (size_t i = 0; i < n; i++)
        if (!indeg[i])
            heap_push(&h, i);
    p->order = xmalloc((n ? n : 1) * sizeof(size_t));
    while (h.n) {
        size_t v = heap_pop(&h);
        p->order[p->n++] = v;
        for (size_t k = start[v]; k < start[v + 1]; k++)
            if (--indeg[needed_by[k]] == 0)
                heap_push(&h, needed_by[k]);
    }
    free(h.v);
    if (p->n < n)
        report_cycles(t, p, indeg, name, d);
    free(indeg);
    free(start);
    free(needed_by);
    free(m.slot);
    size_t errors = diag_count(d, DIAG_ERROR) - before_errors;
    if (errors)
        return errors;

    /* batches under the budget, in order */
    p->batches = xcalloc(n ? n : 1, sizeof(*p->batches));
    for (size_t i = 0; i < p->n; i++) {
        const struct plan_task *x = &t->items[p->order[i]];
        struct plan_batch *b = p->nbatches ? &p->batches[p->nbatches - 1] : NULL;
        bool big = budget > 0 && x->loc > budget;
        if (!b || (budget > 0 && (b->oversize || big || b->loc + x->loc > budget))) {
            b = &p->batches[p->nbatches++];
            b->first = i;
        }
        b->n++;
        b->loc += x->loc;
        if (big) {
            b->oversize = true;
            diag_add_at(d, DIAG_WARNING, name, x->line, 0,
                        "task '%s' is %ld lines, over the budget of %ld: it is a batch of its own",
                        x->id, x->loc, budget);
        }
    }
    /* the critical path: the chain with the most lines (or tasks) */
    bool any_loc = false;
    for (size_t i = 0; i < n; i++)
        any_loc |= t->items[i].loc > 0;
    long *best = xcalloc(n ? n : 1, sizeof(long));
    size_t *prev = xmalloc((n ? n : 1) * sizeof(size_t));
    size_t end = (size_t)-1;
    for (size_t i = 0; i < p->n; i++) {
        size_t v = p->order[i];
        long w = any_loc ? t->items[v].loc : 1;
        best[v] = w;
        prev[v] = (size_t)-1;
        for (size_t k = 0; k < p->ndeps[v]; k++) {
            size_t u = p->deps[v][k];
            if (best[u] + w > best[v]) {
                best[v] = best[u] + w;
                prev[v] = u;
            }
        }
        if (end == (size_t)-1 || best[v] > best[end])
            end = v;
    }
    if (end != (size_t)-1) {
        size_t len = 0;
        for (size_t v = end; v != (size_t)-1; v = prev[v])
            len++;
        p->critical = xmalloc(len * sizeof(size_t));
        p->ncritical = len;
        for (size_t v = end, i = len; v != (size_t)-1; v = prev[v])
            p->critical[--i] = v;
        for (size_t i = 0; i < len; i++)
            p->critical_loc += t->items[p->critical[i]].loc;
    }
    free(best);
    free(prev);
    return 0;
}

void plan_release(struct plan *p, size_t ntasks)
{
    for (size_t i = 0; p->deps && i < ntasks; i++)
        free(p->deps[i]);
    free(p->deps);
    free(p->ndeps);
    free(p->order);
    free(p->batches);
    free(p->critical);
    memset(p, 0, sizeof(*p));
}
