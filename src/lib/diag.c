/*
 * Diagnostics collected during validation and formatted one way
 * everywhere: FILE:LINE:COL: message, the form editors and CI annotate.
 */
#include "diag.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "strbuf.h"
#include "xalloc.h"
#include "banned.h"

void diag_list_init(struct diag_list *dl, const char *file)
{
    memset(dl, 0, sizeof(*dl));
    dl->file = xstrdup(file ? file : "<input>");
}

void diag_list_release(struct diag_list *dl)
{
    for (size_t i = 0; i < dl->n; i++)
        free(dl->items[i].msg);
    free(dl->items);
    free(dl->file);
    memset(dl, 0, sizeof(*dl));
}

void diag_add(struct diag_list *dl, enum diag_severity sev, int line, int col, const char *fmt, ...)
{
    struct diag *d = XPUSH(&dl->items, &dl->n, &dl->alloc);
    va_list ap;
    va_start(ap, fmt);
    d->msg = xvasprintf(fmt, ap);
    va_end(ap);
    d->severity = sev;
    d->line = line;
    d->col = col;
}

size_t diag_count(const struct diag_list *dl, enum diag_severity sev)
{
    size_t c = 0;
    for (size_t i = 0; i < dl->n; i++)
        c += dl->items[i].severity == sev;
    return c;
}

void diag_sort(struct diag_list *dl)
{
    /* insertion sort: lists are short and the order of equal keys matters */
    for (size_t i = 1; i < dl->n; i++) {
        struct diag d = dl->items[i];
        size_t j = i;
        while (j > 0 && (dl->items[j - 1].line > d.line ||
                         (dl->items[j - 1].line == d.line && dl->items[j - 1].col > d.col))) {
            dl->items[j] = dl->items[j - 1];
            j--;
        }
        dl->items[j] = d;
    }
}

char *diag_format(const struct diag_list *dl, const struct diag *d)
{
    struct strbuf sb = STRBUF_INIT;
    strbuf_addstr(&sb, dl->file);
    if (d->line > 0) {
        strbuf_addf(&sb, ":%d", d->line);
        if (d->col > 0)
            strbuf_addf(&sb, ":%d", d->col);
    }
    strbuf_addf(&sb, ": %s%s", d->severity == DIAG_WARNING ? "warning: " : "", d->msg);
    return strbuf_detach(&sb, NULL);
}
