/*
 * Diagnostics collected during validation and formatted one way
 * everywhere: FILE:LINE:COL: message, the form editors and CI annotate.
 */
#include "base/diag.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "base/strbuf.h"
#include "base/xalloc.h"
#include "base/banned.h"

void diag_list_init(struct diag_list *dl, const char *file)
{
    memset(dl, 0, sizeof(*dl));
    dl->file = xstrdup(file ? file : "<input>");
}

void diag_list_release(struct diag_list *dl)
{
    for (size_t i = 0; i < dl->n; i++) {
        free(dl->items[i].msg);
        free(dl->items[i].file);
    }
    free(dl->items);
    free(dl->file);
    memset(dl, 0, sizeof(*dl));
}

__attribute__((format(printf, 6, 0))) static void vadd(struct diag_list *dl, enum diag_severity sev,
                                                       const char *file, int line, int col,
                                                       const char *fmt, va_list ap)
{
    struct diag *d = XPUSH(&dl->items, &dl->n, &dl->alloc);
    d->msg = xvasprintf(fmt, ap);
    d->file = file ? xstrdup(file) : NULL;
    d->severity = sev;
    d->line = line;
    d->col = col;
}

void diag_add(struct diag_list *dl, enum diag_severity sev, int line, int col, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vadd(dl, sev, NULL, line, col, fmt, ap);
    va_end(ap);
}

void diag_add_at(struct diag_list *dl, enum diag_severity sev, const char *file, int line, int col,
                 const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vadd(dl, sev, file, line, col, fmt, ap);
    va_end(ap);
}

const char *diag_file(const struct diag_list *dl, const struct diag *d)
{
    return d->file ? d->file : dl->file;
}

size_t diag_count(const struct diag_list *dl, enum diag_severity sev)
{
    size_t c = 0;
    for (size_t i = 0; i < dl->n; i++)
        c += dl->items[i].severity == sev;
    return c;
}

static int cmp(const struct diag_list *dl, const struct diag *a, const struct diag *b)
{
    int f = strcmp(diag_file(dl, a), diag_file(dl, b));
    if (f)
        return f;
    if (a->line != b->line)
        return a->line < b->line ? -1 : 1;
    return a->col < b->col ? -1 : a->col > b->col;
}

void diag_sort(struct diag_list *dl)
{
    /* insertion sort: stable, and lists are short */
    for (size_t i = 1; i < dl->n; i++) {
        struct diag d = dl->items[i];
        size_t j = i;
        while (j > 0 && cmp(dl, &dl->items[j - 1], &d) > 0) {
            dl->items[j] = dl->items[j - 1];
            j--;
        }
        dl->items[j] = d;
    }
}

char *diag_format(const struct diag_list *dl, const struct diag *d)
{
    struct strbuf sb = STRBUF_INIT;
    strbuf_addstr(&sb, diag_file(dl, d));
    if (d->line > 0) {
        strbuf_addf(&sb, ":%d", d->line);
        if (d->col > 0)
            strbuf_addf(&sb, ":%d", d->col);
    }
    strbuf_addf(&sb, ": %s%s", d->severity == DIAG_WARNING ? "warning: " : "", d->msg);
    return strbuf_detach(&sb, NULL);
}
